//! The ledger: one row per outbound message and per fee, for every model.

use super::account_label;
use super::cell::text;
use crate::billing::{ModelResult, Price};
use crate::engine::{Billed, Charge};
use crate::error::{Error, Result};
use crate::event::{month_label, Direction};
use crate::input::timestamp::{format_instant, month_start};
use crate::input::Log;
use crate::rates::FeeKind;
use std::io::Write;

pub const HEADER: [&str; 17] = [
    "timestamp",
    "month",
    "account",
    "contact",
    "country",
    "model",
    "session",
    "billed_as",
    "category",
    "charge",
    "amount",
    "currency",
    "rate_country",
    "rate_effective_from",
    "market",
    "line",
    "note",
];

/// Text from the user's files (accounts, contacts, model names, currencies, card countries and
/// markets) goes through [`text`], so no cell is a formula; amounts stay numbers.
pub fn write(log: &Log, models: &[ModelResult], tz: chrono_tz::Tz, out: impl Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| Error::io("writing the ledger", std::io::Error::other(e));
    w.write_record(HEADER).map_err(io)?;
    for m in models {
        let (model, currency) = (text(m.name.as_str()), text(m.currency.as_str()));
        for line in &m.lines {
            let ev = &log.events[line.event as usize];
            if ev.direction == Direction::Inbound {
                continue;
            }
            let o = &line.outcome;
            let (amount, rate_country, rate_from, note) = match line.price {
                Price::Free if o.dropped => {
                    ("0".to_string(), String::new(), String::new(), "dropped")
                }
                Price::Free => ("0".to_string(), String::new(), String::new(), ""),
                Price::FreeSession => (
                    "0".to_string(),
                    String::new(),
                    String::new(),
                    "session free in this model",
                ),
                Price::Allowance => (
                    "0".to_string(),
                    String::new(),
                    String::new(),
                    "free allowance",
                ),
                Price::Unpriced => (String::new(), String::new(), String::new(), "unpriced"),
                Price::Priced { .. } => match m.rate_ref(&line.price) {
                    Some(r) => (
                        r.amount.to_string(),
                        text(r.country).into_owned(),
                        r.from.map(|d| d.to_string()).unwrap_or_default(),
                        if r.carried_forward {
                            "carried forward"
                        } else {
                            ""
                        },
                    ),
                    None => (String::new(), String::new(), String::new(), "unpriced"),
                },
            };
            let note = if o.assumed_category && note.is_empty() {
                "category assumed"
            } else {
                note
            };
            let charge = match o.charge {
                Charge::None => "",
                Charge::Session => "session",
                Charge::Message(_) => "message",
                Charge::Meta(mc) if mc.conversation => "conversation",
                Charge::Meta(_) => "message",
            };
            let category = match o.charge {
                Charge::Meta(mc) => mc.column.name(),
                _ => line.category.map(|c| c.name()).unwrap_or_default(),
            };
            w.write_record([
                format_instant(ev.at, tz),
                month_label(log.month_of(ev)),
                text(account_label(log, log.account_of(ev))).into_owned(),
                text(log.contact_name(ev.contact)).into_owned(),
                text(ev.country.to_string()).into_owned(),
                model.to_string(),
                o.session.map(|s| s.to_string()).unwrap_or_default(),
                if o.billed == Billed::Inbound {
                    ""
                } else {
                    o.billed.name()
                }
                .to_string(),
                category.to_string(),
                charge.to_string(),
                amount,
                currency.to_string(),
                rate_country,
                rate_from,
                m.rate_ref(&line.price)
                    .map(|r| text(r.market).into_owned())
                    .unwrap_or_default(),
                ev.line.to_string(),
                note.to_string(),
            ])
            .map_err(io)?;
        }
        for f in &m.fees {
            let kind = match f.kind {
                FeeKind::Flat => "monthly_fee",
                FeeKind::Minimum => "minimum_commitment",
            };
            w.write_record([
                month_start(f.month, tz)
                    .map(|t| format_instant(t, tz))
                    .unwrap_or_default(),
                month_label(f.month),
                text(account_label(log, f.account)).into_owned(),
                String::new(),
                f.country
                    .map(|c| text(c.to_string()).into_owned())
                    .unwrap_or_else(|| "*".into()),
                model.to_string(),
                String::new(),
                kind.to_string(),
                String::new(),
                "fee".to_string(),
                f.amount.to_string(),
                currency.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("tier {}; spend {}", f.tier, f.spend),
            ])
            .map_err(io)?;
        }
    }
    w.flush().map_err(|e| Error::io("writing the ledger", e))
}
