//! `--source meta-webhook`: WhatsApp Cloud API webhook payloads, one JSON object per line, read
//! into the log's own fields (canonical CSV, as `export` writes it).
//!
//! `entry[].changes[].value` holds `messages[]` (the customer's: `from`, `id`, `timestamp`,
//! `referral`) and `statuses[]` (the business's: `id`, `status`, `timestamp`, `recipient_id`,
//! `pricing.category`); `metadata.display_phone_number` is the business number and `entry[].id`
//! the WhatsApp Business Account (the report's account). A business message is one message
//! however many statuses it has: timed by its earliest, with the status of its latest, its
//! category from `pricing.category` (`service` is a free-form message). Payloads are
//! documented at developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples.

use super::export::{renamed, Canonical, Normalised, Values};
use super::rows::N_FIELDS;
use super::{shown_bytes, Reject};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    entry: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow, default)]
    value: Value<'a>,
}

#[derive(Deserialize, Default)]
struct Value<'a> {
    #[serde(borrow, default)]
    metadata: Metadata<'a>,
    #[serde(borrow, default)]
    messages: Vec<Message<'a>>,
    #[serde(borrow, default)]
    statuses: Vec<Status<'a>>,
}

#[derive(Deserialize, Default)]
struct Metadata<'a> {
    #[serde(borrow, default)]
    display_phone_number: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    from: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    timestamp: Cow<'a, str>,
    #[serde(borrow, default)]
    referral: Option<Referral<'a>>,
}

#[derive(Deserialize)]
struct Referral<'a> {
    #[serde(borrow, default)]
    source_type: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    timestamp: Cow<'a, str>,
    #[serde(borrow, default)]
    recipient_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pricing: Option<Pricing<'a>>,
}

#[derive(Deserialize)]
struct Pricing<'a> {
    #[serde(borrow, default)]
    category: Cow<'a, str>,
}

/// The kind of a business message by its `pricing.category`: `service` (and the free
/// `referral_conversion` of an entry point) is free-form; the international authentication
/// rate and Marketing Messages Lite are their categories' (the engine prices them).
fn kind_of(category: &str) -> &str {
    match category {
        "service" | "referral_conversion" => "",
        "authentication_international" => "authentication",
        "marketing_lite" => "marketing",
        c => c,
    }
}

/// One message or status of a payload, borrowed from the file where it has no escapes.
struct Item<'a> {
    line: u64,
    inbound: bool,
    id: Cow<'a, str>,
    timestamp: Cow<'a, str>,
    /// The customer: `from` of a message, `recipient_id` of a status.
    contact: Cow<'a, str>,
    /// A status's word; a message's referral source ("" when none).
    status_or_referral: Cow<'a, str>,
    category: Cow<'a, str>,
    /// Index into `Parsed::sources`: the payload's account and business number.
    source: u32,
}

/// A part of the file, parsed: its items, the (account, business number) pairs they name, and
/// its first bad line if any.
#[derive(Default)]
struct Parsed<'a> {
    items: Vec<Item<'a>>,
    sources: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    rejects: Vec<Reject>,
    failed: Option<(u64, String)>,
}

/// The payloads of `bytes` in canonical form; `values`: the value maps (`--map-value`).
/// Parsed on `threads` cores (0: every one), a part of the file each; the messages are then
/// made in file order on one.
pub fn canonical(
    bytes: &[u8],
    values: &Values,
    skip_invalid: bool,
    threads: usize,
) -> std::result::Result<Normalised, (u64, String)> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let parts = split_lines(bytes, threads.max(1));
    let parsed: Vec<Parsed> = std::thread::scope(|scope| {
        let handles: Vec<_> = (parts.into_iter())
            .map(|(first_line, part)| {
                scope.spawn(move || parse_part(part, first_line, skip_invalid))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut messages = Messages::default();
    let items: usize = parsed.iter().map(|p| p.items.len()).sum();
    messages.list.reserve(items / 2);
    messages.by_id.reserve(items / 2);
    let mut rejects = Vec::new();
    for p in parsed {
        if let Some(f) = p.failed {
            return Err(f);
        }
        messages.records += (p.items.len() + p.rejects.len()) as u64;
        rejects.extend(p.rejects);
        for item in p.items {
            let source = p.sources[item.source as usize].clone();
            messages.add(item, source);
        }
    }
    Ok(messages.canonical(values, rejects))
}

/// `bytes` cut into about `n` parts at line ends, each with the line number it starts at.
fn split_lines(bytes: &[u8], n: usize) -> Vec<(u64, &[u8])> {
    let mut parts = Vec::new();
    let (mut start, mut line) = (0, 1u64);
    for k in 1..=n {
        let mut end = if k == n {
            bytes.len()
        } else {
            bytes.len() * k / n
        };
        end = end.max(start);
        if end < bytes.len() {
            end = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i + 1);
        }
        parts.push((line, &bytes[start..end]));
        line += memchr::memchr_iter(b'\n', &bytes[start..end]).count() as u64;
        start = end;
    }
    parts
}

/// The items of one part of the file.
fn parse_part(part: &[u8], first_line: u64, skip_invalid: bool) -> Parsed<'_> {
    let mut out = Parsed::default();
    // About one item a line: sized once rather than grown (a copy and page faults each time).
    out.items
        .reserve(memchr::memchr_iter(b'\n', part).count() + 1);
    for (n, line) in part.split(|b| *b == b'\n').enumerate() {
        let line_no = first_line + n as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Payload>(line) {
            Ok(p) => add_payload(&mut out, line_no, p),
            Err(e) => {
                let reason = format!("not a webhook payload: {e} ({})", shown_bytes(line));
                if !skip_invalid {
                    out.failed = Some((line_no, reason));
                    return out;
                }
                out.rejects.push(Reject {
                    line: line_no,
                    reason,
                    fields: vec![line.to_vec()],
                });
            }
        }
    }
    out
}

/// A payload's messages and statuses, as items.
fn add_payload<'a>(out: &mut Parsed<'a>, line: u64, p: Payload<'a>) {
    for entry in p.entry {
        for change in entry.changes {
            let value = change.value;
            let source = (entry.id.clone(), value.metadata.display_phone_number);
            let s = match out.sources.last() {
                Some(last) if *last == source => out.sources.len() - 1,
                _ => {
                    out.sources.push(source);
                    out.sources.len() - 1
                }
            } as u32;
            for m in value.messages {
                let referral = m.referral.map(|r| match r.source_type {
                    Cow::Borrowed("") => Cow::Borrowed("referral"),
                    t => t,
                });
                out.items.push(Item {
                    line,
                    inbound: true,
                    id: m.id,
                    timestamp: m.timestamp,
                    contact: m.from,
                    status_or_referral: referral.unwrap_or_default(),
                    category: Cow::Borrowed(""),
                    source: s,
                });
            }
            for st in value.statuses {
                out.items.push(Item {
                    line,
                    inbound: false,
                    id: st.id,
                    timestamp: st.timestamp,
                    contact: st.recipient_id,
                    status_or_referral: st.status,
                    category: st.pricing.map(|p| p.category).unwrap_or_default(),
                    source: s,
                });
            }
        }
    }
}

/// A message being made from its items.
struct Made<'a> {
    first: Item<'a>,
    source: (Cow<'a, str>, Cow<'a, str>),
    at: Option<i64>,
    /// The status of the latest item, and its instant.
    status: (Cow<'a, str>, i64),
}

/// Items made messages: items sharing an id (and a direction) are one message, timed by its
/// earliest, with the status of its latest (ties: the later in the file); its category from
/// any that has one. An item without an id or a readable time is a message of its own.
#[derive(Default)]
struct Messages<'a> {
    list: Vec<Made<'a>>,
    by_id: FxHashMap<(bool, Cow<'a, str>), u32>,
    records: u64,
    merged: u64,
}

impl<'a> Messages<'a> {
    fn add(&mut self, item: Item<'a>, source: (Cow<'a, str>, Cow<'a, str>)) {
        let at = item.timestamp.trim().parse::<i64>().ok();
        let key = (item.inbound, item.id.clone());
        let existing = match at {
            Some(_) if !item.id.is_empty() => self.by_id.get(&key).copied(),
            _ => None,
        };
        let Some(i) = existing else {
            if at.is_some() && !item.id.is_empty() {
                self.by_id.insert(key, self.list.len() as u32);
            }
            let status = (item.status_or_referral.clone(), at.unwrap_or(i64::MIN));
            self.list.push(Made {
                first: item,
                source,
                at,
                status,
            });
            return;
        };
        self.merged += 1;
        let (m, at) = (&mut self.list[i as usize], at.unwrap_or(i64::MIN));
        if !item.inbound && !item.status_or_referral.is_empty() && at >= m.status.1 {
            m.status = (item.status_or_referral.clone(), at);
        }
        let category = std::mem::take(&mut m.first.category);
        if m.at.is_some_and(|first| at < first) {
            m.at = Some(at);
            m.first = item;
            if m.first.category.is_empty() {
                m.first.category = category;
            }
        } else {
            m.first.category = if category.is_empty() {
                item.category
            } else {
                category
            };
        }
    }

    /// The messages as canonical CSV, in the order of their first item.
    fn canonical(self, values: &Values, rejects: Vec<Reject>) -> Normalised {
        let mut out = Canonical::new();
        for m in &self.list {
            let f = &m.first;
            let (status, entry_point) = match f.inbound {
                true => ("", &*f.status_or_referral),
                false => (&*m.status.0, ""),
            };
            let direction = if f.inbound { "in" } else { "out" };
            let raw: [&str; N_FIELDS] = [
                &f.timestamp,
                &f.contact,
                direction,
                "",
                kind_of(&f.category),
                &m.source.0,
                status,
                &m.source.1,
                entry_point,
            ];
            let fields: [&str; N_FIELDS] = std::array::from_fn(|i| renamed(&values[i], raw[i]));
            out.push(f.line, &fields);
        }
        out.finish(rejects, self.records, self.merged)
    }
}
