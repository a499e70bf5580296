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

use super::export::{renamed, Canonical, Ids, Normalised, Values};
use super::rows::N_FIELDS;
use super::{shown_bytes, Reject};
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

/// The payloads of `bytes` in canonical form; `values`: the value maps (`--map-value`).
pub fn canonical(
    bytes: &[u8],
    values: &Values,
    skip_invalid: bool,
) -> std::result::Result<Normalised, (u64, String)> {
    let mut ids = Ids::default();
    let mut rejects = Vec::new();
    let mut records = 0;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = n as u64 + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Payload>(line) {
            Ok(p) => records += add_payload(&mut ids, line_no, p, values),
            Err(e) => {
                let reason = format!("not a webhook payload: {e} ({})", shown_bytes(line));
                if !skip_invalid {
                    return Err((line_no, reason));
                }
                records += 1;
                rejects.push(Reject {
                    line: line_no,
                    reason,
                    fields: vec![line.to_vec()],
                });
            }
        }
    }
    let mut out = Canonical::new();
    let merged = ids.merged;
    for (line, fields) in ids.messages {
        out.push(line, &fields);
    }
    Ok(out.finish(rejects, records, merged))
}

/// Adds a payload's messages and statuses; how many there were.
fn add_payload(ids: &mut Ids, line: u64, p: Payload, values: &Values) -> u64 {
    let mut n = 0;
    let v = |field: usize, s: &str| renamed(&values[field], s).to_string();
    for entry in p.entry {
        for change in entry.changes {
            let value = change.value;
            let number = value.metadata.display_phone_number;
            for m in value.messages {
                n += 1;
                let entry_point = m.referral.map(|r| match r.source_type {
                    Cow::Borrowed("") => "referral".to_string(),
                    s => s.into_owned(),
                });
                let fields: [String; N_FIELDS] = [
                    v(0, &m.timestamp),
                    v(1, &m.from),
                    "in".into(),
                    String::new(),
                    String::new(),
                    entry.id.to_string(),
                    String::new(),
                    number.to_string(),
                    entry_point.unwrap_or_default(),
                ];
                // A payload Meta delivers again carries the same message id: one message.
                ids.add(line, fields, m.id.into_owned(), chrono_tz::UTC);
            }
            for s in value.statuses {
                n += 1;
                let category = s.pricing.map(|p| p.category).unwrap_or_default();
                let fields: [String; N_FIELDS] = [
                    v(0, &s.timestamp),
                    v(1, &s.recipient_id),
                    "out".into(),
                    String::new(),
                    v(4, kind_of(&category)),
                    entry.id.to_string(),
                    v(6, &s.status),
                    number.to_string(),
                    String::new(),
                ];
                ids.add(line, fields, s.id.into_owned(), chrono_tz::UTC);
            }
        }
    }
    n
}
