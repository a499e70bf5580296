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
use super::lines::{parse_chunks, CHUNK};
use super::rows::N_FIELDS;
use super::{shown_bytes, Reject};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::hash_map;

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

/// A string kept in a chunk's `text`: where it starts, and its length (a chunk is a few MB).
#[derive(Clone, Copy, Default)]
struct Span(u32, u32);

/// One message or status of a payload, its strings kept in its chunk's `text`.
struct Item {
    line: u64,
    inbound: bool,
    id: Span,
    timestamp: Span,
    /// The customer: `from` of a message, `recipient_id` of a status.
    contact: Span,
    /// A status's word; a message's referral source ("" when none).
    status_or_referral: Span,
    category: Span,
    /// Index into `Parsed::sources`: the payload's account and business number.
    source: u32,
}

/// A chunk of the file, parsed: its items, the (account, business number) pairs they name,
/// the strings of both, and its first bad line if any.
#[derive(Default)]
struct Parsed {
    text: String,
    items: Vec<Item>,
    sources: Vec<(Span, Span)>,
    rejects: Vec<Reject>,
    failed: Option<(u64, String)>,
}

impl Parsed {
    fn keep(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span(start as u32, s.len() as u32)
    }

    fn get(&self, s: Span) -> &str {
        &self.text[s.0 as usize..(s.0 + s.1) as usize]
    }
}

/// The payloads of `input` in canonical form; `values`: the value maps (`--map-value`).
/// Read a chunk at a time and parsed on `threads` cores (0: every one); the messages are
/// then made in file order on one. With `skip_invalid`, the input's bytes too (to give a
/// rejected payload back as it was); else an empty vector.
pub fn canonical(
    input: impl std::io::Read,
    values: &Values,
    skip_invalid: bool,
    threads: usize,
) -> std::result::Result<(Normalised, Vec<u8>), (u64, String)> {
    canonical_in(input, CHUNK, values, skip_invalid, threads)
}

/// `canonical` with chunks of `chunk` bytes.
fn canonical_in(
    input: impl std::io::Read,
    chunk: usize,
    values: &Values,
    skip_invalid: bool,
    threads: usize,
) -> std::result::Result<(Normalised, Vec<u8>), (u64, String)> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let parse = |part: &[u8], first_line| parse_part(part, first_line, skip_invalid);
    let (mut parsed, whole) = parse_chunks(input, chunk, threads, skip_invalid, parse)
        .map_err(|e| (0, format!("cannot read CSV ({e})")))?;
    if let Some(failed) = parsed.iter_mut().find_map(|p| p.failed.take()) {
        return Err(failed);
    }
    let mut rejects = Vec::new();
    let mut records = 0;
    for p in &mut parsed {
        records += (p.items.len() + p.rejects.len()) as u64;
        rejects.append(&mut p.rejects);
    }
    let mut messages = Messages {
        records,
        ..Messages::default()
    };
    let items: usize = parsed.iter().map(|p| p.items.len()).sum();
    messages.list.reserve(items / 2);
    messages.by_id.reserve(items / 2);
    for p in &parsed {
        for item in &p.items {
            let source = p.sources[item.source as usize];
            messages.add(Fields::of(p, item), (p.get(source.0), p.get(source.1)));
        }
    }
    Ok((messages.canonical(values, rejects), whole))
}

/// The items of one chunk of the file. A chunk that is UTF-8 (checked once, quickly) is
/// parsed as text: serde_json then does not check each string again (a tenth of the time).
fn parse_part(part: &[u8], first_line: u64, skip_invalid: bool) -> Parsed {
    let mut out = Parsed::default();
    // Lines are a few hundred bytes, each about one item with a few short strings: sized
    // once rather than grown.
    out.items.reserve(part.len() / 256 + 16);
    out.text.reserve(part.len() / 8);
    match std::str::from_utf8(part) {
        Ok(text) => {
            for (n, line) in text.split('\n').enumerate() {
                let payload = || serde_json::from_str::<Payload>(line);
                if !out.line(
                    first_line + n as u64,
                    line.as_bytes(),
                    payload,
                    skip_invalid,
                ) {
                    break;
                }
            }
        }
        Err(_) => {
            for (n, line) in part.split(|b| *b == b'\n').enumerate() {
                let payload = || serde_json::from_slice::<Payload>(line);
                if !out.line(first_line + n as u64, line, payload, skip_invalid) {
                    break;
                }
            }
        }
    }
    out
}

impl Parsed {
    /// A line's payload, `payload()`, added; false if it is not one and that ends the read.
    fn line<'a>(
        &mut self,
        line_no: u64,
        line: &'a [u8],
        payload: impl FnOnce() -> serde_json::Result<Payload<'a>>,
        skip_invalid: bool,
    ) -> bool {
        if line.iter().all(u8::is_ascii_whitespace) {
            return true;
        }
        match payload() {
            Ok(p) => add_payload(self, line_no, p),
            Err(e) => {
                let reason = format!("not a webhook payload: {e} ({})", shown_bytes(line));
                if !skip_invalid {
                    self.failed = Some((line_no, reason));
                    return false;
                }
                self.rejects.push(Reject {
                    line: line_no,
                    reason,
                    fields: vec![line.to_vec()],
                });
            }
        }
        true
    }
}

/// A payload's messages and statuses, as items.
fn add_payload(out: &mut Parsed, line: u64, p: Payload<'_>) {
    for entry in p.entry {
        for change in entry.changes {
            let value = change.value;
            let number = &value.metadata.display_phone_number;
            let s = match out.sources.last() {
                Some(&(a, b)) if out.get(a) == entry.id && out.get(b) == number => {
                    out.sources.len() - 1
                }
                _ => {
                    let source = (out.keep(&entry.id), out.keep(number));
                    out.sources.push(source);
                    out.sources.len() - 1
                }
            } as u32;
            for m in value.messages {
                let referral = match &m.referral {
                    Some(r) if r.source_type.is_empty() => "referral",
                    Some(r) => &r.source_type,
                    None => "",
                };
                let item = Item {
                    line,
                    inbound: true,
                    id: out.keep(&m.id),
                    timestamp: out.keep(&m.timestamp),
                    contact: out.keep(&m.from),
                    status_or_referral: out.keep(referral),
                    category: Span::default(),
                    source: s,
                };
                out.items.push(item);
            }
            for st in value.statuses {
                let category = st.pricing.map(|p| p.category).unwrap_or_default();
                let item = Item {
                    line,
                    inbound: false,
                    id: out.keep(&st.id),
                    timestamp: out.keep(&st.timestamp),
                    contact: out.keep(&st.recipient_id),
                    status_or_referral: out.keep(&st.status),
                    category: out.keep(&category),
                    source: s,
                };
                out.items.push(item);
            }
        }
    }
}

/// An item's fields, read from its chunk.
#[derive(Clone, Copy)]
struct Fields<'a> {
    line: u64,
    inbound: bool,
    id: &'a str,
    timestamp: &'a str,
    contact: &'a str,
    status_or_referral: &'a str,
    category: &'a str,
}

impl<'a> Fields<'a> {
    fn of(p: &'a Parsed, item: &Item) -> Fields<'a> {
        Fields {
            line: item.line,
            inbound: item.inbound,
            id: p.get(item.id),
            timestamp: p.get(item.timestamp),
            contact: p.get(item.contact),
            status_or_referral: p.get(item.status_or_referral),
            category: p.get(item.category),
        }
    }
}

/// A message being made from its items.
struct Made<'a> {
    first: Fields<'a>,
    source: (&'a str, &'a str),
    at: Option<i64>,
    /// The status of the latest item, and its instant.
    status: (&'a str, i64),
}

/// Items made messages: items sharing an id (and a direction) are one message, timed by its
/// earliest, with the status of its latest (ties: the later in the file); its category from
/// any that has one. An item without an id or a readable time is a message of its own.
#[derive(Default)]
struct Messages<'a> {
    list: Vec<Made<'a>>,
    by_id: FxHashMap<(bool, &'a str), u32>,
    records: u64,
    merged: u64,
}

impl<'a> Messages<'a> {
    fn add(&mut self, item: Fields<'a>, source: (&'a str, &'a str)) {
        let at = item.timestamp.trim().parse::<i64>().ok();
        // One look-up in the id table, a new id added where it was looked for (the table is
        // too large for the cache: each probe is a miss).
        let existing = match at {
            Some(_) if !item.id.is_empty() => match self.by_id.entry((item.inbound, item.id)) {
                hash_map::Entry::Occupied(e) => Some(*e.get()),
                hash_map::Entry::Vacant(e) => {
                    e.insert(self.list.len() as u32);
                    None
                }
            },
            _ => None,
        };
        let Some(i) = existing else {
            let status = (item.status_or_referral, at.unwrap_or(i64::MIN));
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
            m.status = (item.status_or_referral, at);
        }
        let category = m.first.category;
        if m.at.is_some_and(|first| at < first) {
            m.at = Some(at);
            m.first = item;
            if m.first.category.is_empty() {
                m.first.category = category;
            }
        } else if category.is_empty() {
            m.first.category = item.category;
        }
    }

    /// The messages as canonical CSV, in the order of their first item.
    fn canonical(self, values: &Values, rejects: Vec<Reject>) -> Normalised {
        let mut out = Canonical::new();
        for m in &self.list {
            let f = &m.first;
            let (status, entry_point) = match f.inbound {
                true => ("", f.status_or_referral),
                false => (m.status.0, ""),
            };
            let direction = if f.inbound { "in" } else { "out" };
            let raw: [&str; N_FIELDS] = [
                f.timestamp,
                f.contact,
                direction,
                "",
                kind_of(f.category),
                m.source.0,
                status,
                m.source.1,
                entry_point,
            ];
            let fields: [&str; N_FIELDS] = std::array::from_fn(|i| renamed(&values[i], raw[i]));
            out.push(f.line, &fields);
        }
        out.finish(rejects, self.records, self.merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVERAL: &str = r#"{"entry":[{"id":"W","unknown":{"a":[1,2.5e3,{"b":null}]},"changes":[{"value":{"metadata":{"display_phone_number":"155"},"statuses":[{"id":"m1","status":"delivered","timestamp":"1772438702","recipient_id":"380501110001","new_field":true},{"id":"m2","status":"sent","timestamp":"1772438800","recipient_id":"380501110002","pricing":{"category":"utility","billable":true}}]}}]}]}

{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"statuses":[{"id":"m1","status":"sent","timestamp":"1772438700","recipient_id":"380501110001","pricing":{"category":"marketing"}}]}}]}]}
{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"messages":[{"from":"380501110003","id":"i1","timestamp":"1772438600","referral":{"headline":"x"}}]}}]}]}
"#;

    fn read(text: &str, chunk: usize, skip: bool) -> Result<(Normalised, Vec<u8>), (u64, String)> {
        read_bytes(text.as_bytes(), chunk, skip)
    }

    fn read_bytes(
        text: &[u8],
        chunk: usize,
        skip: bool,
    ) -> Result<(Normalised, Vec<u8>), (u64, String)> {
        canonical_in(text, chunk, &vec![Vec::new(); N_FIELDS], skip, 2)
    }

    #[test]
    fn several_statuses_a_line_unknown_fields_and_a_status_before_its_sent() {
        for chunk in [16, 300, CHUNK] {
            let (n, whole) = read(SEVERAL, chunk, false).unwrap();
            // m1: its delivered status (line 1) came before its sent (line 3): one message,
            // timed by sent (the earlier), status delivered (the later), the category sent's.
            assert_eq!(
                String::from_utf8(n.csv).unwrap(),
                "timestamp,contact,direction,country,kind,account,status,business_number,entry_point\n\
                 1772438700,380501110001,out,,marketing,W,delivered,155,\n\
                 1772438800,380501110002,out,,utility,W,sent,155,\n\
                 1772438600,380501110003,in,,,W,,155,referral\n",
                "chunks of {chunk} bytes"
            );
            assert_eq!(n.lines, [0, 1, 3, 1, 4]);
            assert_eq!((n.records, n.merged), (4, 1));
            assert!(whole.is_empty());
        }
    }

    #[test]
    fn a_bad_line_is_named_by_its_line_in_any_chunk() {
        let text = SEVERAL.replacen("\n\n", "\n{not json\n", 1);
        for chunk in [16, CHUNK] {
            let (line, why) = read(&text, chunk, false).err().unwrap();
            assert_eq!(line, 2);
            assert!(
                why.starts_with("not a webhook payload: key must be a string"),
                "{why}"
            );
            let (n, whole) = read(&text, chunk, true).unwrap();
            assert_eq!(n.rejects.len(), 1);
            assert_eq!((n.rejects[0].line, n.records), (2, 5));
            assert_eq!(n.rejects[0].fields, [b"{not json".to_vec()]);
            assert_eq!(whole, text.as_bytes(), "kept whole for --rejects");
        }
    }

    #[test]
    fn a_chunk_that_is_not_utf8_is_read_as_bytes() {
        // A byte that is not UTF-8 in a field simcost does not read: the payload is read as
        // before (serde_json checks only the strings it keeps).
        let mut bytes = SEVERAL.replacen(r#"{"b":null}"#, r#""@""#, 1).into_bytes();
        let at = bytes.iter().position(|b| *b == b'@').unwrap();
        bytes[at] = 0xff;
        let (n, _) = read_bytes(&bytes, CHUNK, false).unwrap();
        let (utf8, _) = read(SEVERAL, CHUNK, false).unwrap();
        assert_eq!(n.csv, utf8.csv);
        assert_eq!(n.lines, utf8.lines);
    }
}
