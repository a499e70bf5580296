//! The `meta-webhook` bill.

/// WhatsApp webhook payloads: an object with `entry`, `statuses` or a status.
pub fn looks_like(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    serde_json::from_str::<serde_json::Value>(first).is_ok_and(|v| {
        v.get("entry").is_some() || v.get("statuses").is_some() || v.get("status").is_some()
    })
}
