//! The `meta-webhook` bill: WhatsApp Cloud API webhook payloads, one JSON object a line (the
//! whole `{"object": ..., "entry": [{"changes": [{"value": {"statuses": [...]}}]}]}`, a
//! `value` with `statuses`, or one status). Each status names the message `id`, its `status`
//! (`sent`, `delivered`, `read`, `failed`), `timestamp` (Unix seconds), `recipient_id` and, once
//! Meta prices it, `pricing` {`billable`, `pricing_model`, `category`, `type`: `regular`,
//! `free_customer_service`, `free_entry_point`}. Statuses of one id are one message, timed by
//! its earliest, with its last status and last pricing. Inbound `messages` are not bill items.

use super::{category, Bill, BillFormat, BillMessage};
use crate::error::Result;
use crate::input::{phone, shown};
use serde_json::Value;
use std::collections::HashMap;

/// WhatsApp webhook payloads: an object with `entry`, `statuses` or a status.
pub fn looks_like(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str::<Value>(first).is_ok_and(|v| {
        v.get("entry").is_some() || v.get("statuses").is_some() || v.get("status").is_some()
    })
}

/// A message as its statuses so far describe it.
struct Seen {
    msg: BillMessage,
    /// The time of the status that set `failed`.
    last: i64,
}

pub fn read(file: &str, text: &str) -> Result<Bill> {
    let mut bill = Bill::new(BillFormat::MetaWebhook, file);
    let mut seen: Vec<Seen> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| bill.bad(n, format!("not a JSON object ({e})")))?;
        for status in statuses(&v) {
            let (id, at, s) = status_of(&bill, n, status)?;
            match by_id.get(&id) {
                Some(&k) => update(&bill, n, &mut seen[k], at, s, status)?,
                None => {
                    by_id.insert(id.clone(), seen.len());
                    let mut new = Seen {
                        msg: message(id, n, at, status),
                        last: i64::MIN,
                    };
                    update(&bill, n, &mut new, at, s, status)?;
                    seen.push(new);
                }
            }
        }
    }
    bill.messages = Some(seen.into_iter().map(|s| s.msg).collect());
    Ok(bill)
}

/// The statuses of one payload, whichever of the three shapes it has.
fn statuses(v: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for entry in v["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            out.extend(change["value"]["statuses"].as_array().into_iter().flatten());
        }
    }
    out.extend(v["statuses"].as_array().into_iter().flatten());
    if v.get("id").is_some() && v.get("status").is_some() {
        out.push(v);
    }
    out
}

/// A status's id, instant (UTC microseconds) and status word.
fn status_of<'v>(bill: &Bill, n: u64, s: &'v Value) -> Result<(String, i64, &'v str)> {
    let id = s["id"]
        .as_str()
        .ok_or_else(|| bill.bad(n, "a status without an id".into()))?;
    let t = &s["timestamp"];
    let secs = (t
        .as_i64()
        .or_else(|| t.as_str().and_then(|t| t.trim().parse().ok())))
    .filter(|s| (946_684_800..4_102_444_800).contains(s))
    .ok_or_else(|| {
        bill.bad(
            n,
            format!("timestamp is not Unix seconds ({})", shown(&t.to_string())),
        )
    })?;
    Ok((
        id.to_string(),
        secs * 1_000_000,
        s["status"].as_str().unwrap_or(""),
    ))
}

fn message(id: String, n: u64, at: i64, s: &Value) -> BillMessage {
    let recipient = s["recipient_id"].as_str().unwrap_or("").to_string();
    BillMessage {
        contact: phone::number_key(&recipient),
        recipient,
        id,
        line: n,
        at,
        category: None,
        free: Some("no_pricing"),
        failed: false,
        amount: None,
    }
}

/// One more status of a message: the earliest time, the latest status, the last pricing.
fn update(bill: &Bill, n: u64, seen: &mut Seen, at: i64, status: &str, s: &Value) -> Result<()> {
    let m = &mut seen.msg;
    m.at = m.at.min(at);
    if at >= seen.last {
        seen.last = at;
        m.failed = status.eq_ignore_ascii_case("failed");
    }
    let p = &s["pricing"];
    if p.is_null() {
        return Ok(());
    }
    let c = p["category"].as_str().unwrap_or("");
    m.category = Some(
        category(c)
            .ok_or_else(|| bill.bad(n, format!("unknown pricing category ({})", shown(c))))?,
    );
    let billable = p["billable"].as_bool().unwrap_or(true);
    m.free = match p["type"].as_str().unwrap_or("regular") {
        "regular" if billable => None,
        "regular" => Some("not_billable"),
        "free_customer_service" => Some("free_customer_service"),
        "free_entry_point" => Some("free_entry_point"),
        other => return Err(bill.bad(n, format!("unknown pricing type ({})", shown(other)))),
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_of_one_id_are_one_message() {
        let text = concat!(
            r#"{"entry":[{"changes":[{"value":{"statuses":[{"id":"w1","status":"sent","timestamp":"1772442005","recipient_id":"5511987650001"}]}}]}]}"#,
            "\n",
            r#"{"statuses":[{"id":"w1","status":"delivered","timestamp":"1772442001","recipient_id":"5511987650001","pricing":{"billable":true,"pricing_model":"PMP","category":"marketing","type":"regular"}}]}"#,
            "\n",
            "\n",
            r#"{"id":"w2","status":"failed","timestamp":1772442009,"recipient_id":"5511987650002"}"#,
            "\n",
        );
        let bill = read("wh.jsonl", text).unwrap();
        let m = bill.messages.unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].at, m[0].line, m[0].category, m[0].free),
            (1_772_442_001_000_000, 1, Some("marketing"), None)
        );
        assert!(!m[0].failed, "the latest status is delivered");
        assert!(m[1].failed);
        let bad = read(
            "wh.jsonl",
            r#"{"id":"w3","status":"sent","timestamp":"20260302"}"#,
        );
        assert_eq!(
            bad.unwrap_err().to_string(),
            "wh.jsonl:1: timestamp is not Unix seconds (\"20260302\")"
        );
    }
}
