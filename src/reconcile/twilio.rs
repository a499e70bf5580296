//! The `twilio` bill: a Twilio message export (the Console's CSV: `From,To,Body,Status,
//! SentDate,ApiVersion,NumSegments,ErrorCode,AccountSid,Sid,Direction,Price,PriceUnit`; the
//! API's `date_sent`/`price_unit` spellings too). `Price` is what Twilio charged for the
//! message, its own fee included, written as a negative number (the sign is dropped here);
//! `PriceUnit` its currency. Outbound rows (`Direction` `outbound-*`) are held against the
//! log's messages; inbound rows are customer messages Twilio charges. A WhatsApp address
//! (`whatsapp:+...`) is read as its number.

use super::{Bill, BillFormat, BillMessage};
use crate::error::Result;
use crate::input::{phone, shown};

/// The columns read, each with its accepted spellings (compared without case).
const COLUMNS: [(&str, &[&str]); 8] = [
    ("From", &["from"]),
    ("To", &["to"]),
    ("Status", &["status"]),
    (
        "SentDate",
        &["sentdate", "date_sent", "datesent", "date sent"],
    ),
    ("Sid", &["sid", "messagesid", "message_sid"]),
    ("Direction", &["direction"]),
    ("Price", &["price"]),
    ("PriceUnit", &["priceunit", "price_unit"]),
];

pub fn read(file: &str, text: &str) -> Result<Bill> {
    let mut bill = Bill::new(BillFormat::Twilio, file);
    let (header, records) = super::csv_bill(&bill, text)?;
    let mut at = [0usize; 8];
    for (k, (name, spellings)) in COLUMNS.iter().enumerate() {
        at[k] = (header.iter().position(|h| spellings.contains(&h.as_str())))
            .ok_or_else(|| bill.bad(1, format!("no {name} column (a Twilio message export)")))?;
    }
    let mut messages = Vec::new();
    for rec in records {
        let (rec, line) = super::csv_record(&bill, rec)?;
        messages.push(message(&mut bill, line, &rec, &at)?);
    }
    bill.messages = Some(messages);
    Ok(bill)
}

/// One row, its columns at `at` (in `COLUMNS` order).
fn message(
    bill: &mut Bill,
    line: u64,
    rec: &csv::StringRecord,
    at: &[usize; 8],
) -> Result<BillMessage> {
    let get = |k: usize| rec.get(at[k]).unwrap_or("").trim();
    let inbound = !get(5).to_ascii_lowercase().starts_with("outbound");
    // The customer: the recipient of an outbound message, the sender of an inbound one.
    let recipient = get(if inbound { 0 } else { 1 });
    let number = recipient.strip_prefix("whatsapp:").unwrap_or(recipient);
    let at = instant(get(3)).ok_or_else(|| {
        bill.bad(
            line,
            format!("SentDate is not a date and time ({})", shown(get(3))),
        )
    })?;
    let price = match get(6) {
        "" => None,
        p => Some(
            Bill::amount("Price", p)
                .map_err(|m| bill.bad(line, m))?
                .abs(),
        ),
    };
    bill.currency_of_row(line, get(7))?;
    let status = get(2).to_ascii_lowercase();
    Ok(BillMessage {
        id: get(4).to_string(),
        line,
        recipient: recipient.to_string(),
        contact: phone::number_key(number),
        at,
        category: inbound.then_some("inbound"),
        free: if price.is_none() {
            Some("no_price")
        } else {
            None
        },
        failed: matches!(status.as_str(), "failed" | "undelivered" | "canceled"),
        amount: Some(price.unwrap_or_default()),
    })
}

/// UTC microseconds of a Twilio date: RFC 3339, RFC 2822 (the API's), or `YYYY-MM-DD
/// HH:MM:SS` in UTC (with or without ` UTC`).
fn instant(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    let t = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .map(|d| d.timestamp_micros());
    t.ok().or_else(|| {
        let naive = s.strip_suffix(" UTC").unwrap_or(s);
        (NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S").ok())
            .map(|d| d.and_utc().timestamp_micros())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_twilios_spellings_and_prices_without_their_sign() {
        let micros = 1_772_442_000_000_000; // 2026-03-02T09:00:00Z
        assert_eq!(instant("2026-03-02T09:00:00Z"), Some(micros));
        assert_eq!(instant("2026-03-02T01:00:00-08:00"), Some(micros));
        assert_eq!(instant("Mon, 02 Mar 2026 09:00:00 +0000"), Some(micros));
        assert_eq!(instant("2026-03-02 09:00:00 UTC"), Some(micros));
        assert_eq!(instant("02/03/2026"), None);
        let text = "From,To,Body,Status,SentDate,Sid,Direction,Price,PriceUnit\n\
                    whatsapp:+15550783881,whatsapp:+5511987650001,hi,delivered,2026-03-02T09:00:00Z,SM1,outbound-api,-0.06875,USD\n\
                    whatsapp:+5511987650004,whatsapp:+15550783881,hey,received,2026-03-05T09:00:00Z,SM2,inbound,-0.005,USD\n";
        let bill = read("tw.csv", text).unwrap();
        let m = bill.messages.unwrap();
        assert_eq!(
            (m[0].contact, m[0].amount, m[0].category),
            (Some(5511987650001), Some("0.06875".parse().unwrap()), None)
        );
        assert_eq!(
            (m[1].contact, m[1].category),
            (Some(5511987650004), Some("inbound"))
        );
        let bad = read("tw.csv", "Sid,To,From,Status,SentDate,Direction,Price,PriceUnit\nSM1,x,y,sent,2026-03-02T09:00:00Z,outbound-api,abc,USD\n");
        assert_eq!(
            bad.unwrap_err().to_string(),
            "tw.csv:2: Price is not a decimal number (abc)"
        );
    }
}
