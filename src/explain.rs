//! `explain`: one contact's replay, message by message.

use crate::accounts::Accounts;
use crate::billing::{Line, ModelResult, Price};
use crate::calendar::format_instant;
use crate::event::{Direction, Event};
use crate::input::Log;
use crate::report::cell::text;
use crate::report::{display_amount, CsvDialect, Sheet};
use comfy_table::{presets::ASCII_MARKDOWN, Table};
use serde_json::{json, Map, Value};
use std::io::Write;

/// The columns of `explain --format csv` (and the keys of each JSON line).
pub const COLUMNS: [&str; 14] = [
    "model",
    "channel",
    "currency",
    "time",
    "line",
    "direction",
    "kind",
    "session",
    "open_until",
    "billed_as",
    "amount",
    "rate",
    "rate_from",
    "why",
];

/// One billed line as the CSV and JSON give it, in `COLUMNS` order. `amount` is empty for an
/// inbound or unpriced message (`why` says which), 0 for a free one.
fn record(log: &Log, m: &ModelResult, line: &Line, accounts: &Accounts) -> Vec<String> {
    let ev = &log.events[line.event as usize];
    let tz = zone_of(log, ev, accounts);
    let mut sum = rust_decimal::Decimal::ZERO;
    let r = row(log, m, line, tz, &mut sum);
    let rate = m.rate_ref(&line.price);
    let amount = match (&rate, line.price) {
        (Some(r), _) => r.amount.to_string(),
        (None, Price::Unpriced) => String::new(),
        (None, _) if ev.direction == Direction::Inbound => String::new(),
        (None, _) => "0".into(),
    };
    let [time, no, dir, kind, session, until, billed, cost, why] = r;
    let why = match &rate {
        Some(_) => why,
        None if cost.is_empty() => why,
        None => format!("{cost}; {why}"),
    };
    vec![
        text(m.name.as_str()).into_owned(),
        m.channel.to_string(),
        text(m.currency.as_str()).into_owned(),
        time,
        no,
        dir,
        kind,
        session,
        until,
        billed,
        amount,
        rate.as_ref()
            .map(|r| {
                if r.market.is_empty() {
                    r.country.clone()
                } else {
                    r.market.clone()
                }
            })
            .map(|r| text(r).into_owned())
            .unwrap_or_default(),
        rate.and_then(|r| r.from)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        text(why).into_owned(),
    ]
}

/// The contact's lines of every model, one CSV row each (`COLUMNS`).
pub fn write_csv(
    log: &Log,
    models: &[ModelResult],
    contact: u32,
    accounts: &Accounts,
    dialect: CsvDialect,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut w = Sheet::new(out, dialect, &COLUMNS)?;
    for m in models {
        for line in (m.lines.iter()).filter(|l| log.events[l.event as usize].contact == contact) {
            w.row(&record(log, m, line, accounts))?;
        }
    }
    w.flush()
}

/// The contact's lines of every model as JSON: per model its lines (`COLUMNS` as keys) and
/// the sum of their amounts.
pub fn write_json(
    log: &Log,
    models: &[ModelResult],
    contact: u32,
    accounts: &Accounts,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let models: Vec<Value> = models
        .iter()
        .map(|m| {
            let mut sum = rust_decimal::Decimal::ZERO;
            let lines: Vec<Value> = (m.lines.iter())
                .filter(|l| log.events[l.event as usize].contact == contact)
                .map(|l| {
                    sum += m.rate_ref(&l.price).map(|r| r.amount).unwrap_or_default();
                    let rec = record(log, m, l, accounts);
                    let map: Map<String, Value> = (COLUMNS.iter().zip(rec).skip(3))
                        .map(|(k, v)| (k.to_string(), Value::String(v)))
                        .collect();
                    Value::Object(map)
                })
                .collect();
            json!({"model": m.name, "channel": m.channel, "currency": m.currency,
                   "messages_cost": sum.to_string(), "lines": lines})
        })
        .collect();
    let doc = json!({"contact": log.contact_name(contact), "models": models});
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `accounts`: each line's times are shown in its account's zone (`--accounts` `tz`, else
/// `--tz`), the zone its months are cut in.
pub fn write(
    log: &Log,
    models: &[ModelResult],
    contact: u32,
    accounts: &Accounts,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "contact {}", log.contact_name(contact))?;
    for m in models {
        writeln!(out, "\n{} ({}, {})", m.name, m.channel, m.currency)?;
        let mut t = Table::new();
        t.load_preset(ASCII_MARKDOWN);
        t.set_header([
            "time",
            "line",
            "dir",
            "kind",
            "session",
            "open until",
            "billed as",
            "cost",
            "why",
        ]);
        let mut sum = rust_decimal::Decimal::ZERO;
        let lines = (m.lines.iter()).filter(|l| log.events[l.event as usize].contact == contact);
        for line in lines {
            let ev = &log.events[line.event as usize];
            t.add_row(row(log, m, line, zone_of(log, ev, accounts), &mut sum));
        }
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "messages of this contact: {} {} (monthly fees are per account, see replay)",
            display_amount(sum, true),
            m.currency
        )?;
    }
    Ok(())
}

/// One billed line of the contact as a table row; its amount is added to `sum`.
fn row(
    log: &Log,
    m: &ModelResult,
    line: &Line,
    tz: chrono_tz::Tz,
    sum: &mut rust_decimal::Decimal,
) -> [String; 9] {
    let ev = &log.events[line.event as usize];
    let o = &line.outcome;
    let (dir, kind) = match ev.direction {
        Direction::Inbound => ("in", "".to_string()),
        Direction::Outbound => ("out", ev.kind.name().to_string()),
    };
    let mut why = o.why.text();
    if o.assumed_category {
        if let Some(c) = line.category {
            why.push_str(&format!(" [no category given: priced as {}]", c.name()));
        }
    }
    [
        format_instant(ev.at, tz),
        ev.line.to_string(),
        dir.to_string(),
        kind,
        o.session.map(|s| s.to_string()).unwrap_or_default(),
        if o.until > 0 {
            format_instant(o.until, tz)
        } else {
            String::new()
        },
        if ev.direction == Direction::Inbound {
            String::new()
        } else {
            o.billed.name().to_string()
        },
        cost(m, line, ev, sum),
        why,
    ]
}

/// What a line cost and the rate row that priced it, or why it cost nothing.
fn cost(m: &ModelResult, line: &Line, ev: &Event, sum: &mut rust_decimal::Decimal) -> String {
    match (m.rate_ref(&line.price), line.price) {
        (Some(r), _) => {
            *sum += r.amount;
            format!(
                "{} (rate {} {}{})",
                r.amount,
                if r.market.is_empty() {
                    &r.country
                } else {
                    &r.market
                },
                r.from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "undated".into()),
                if r.carried_forward {
                    ", carried forward"
                } else {
                    ""
                }
            )
        }
        (None, Price::Allowance) => "0 (free allowance)".into(),
        (None, Price::FreeSession) => "0 (sessions free in this model)".into(),
        (None, Price::Unpriced) => format!("unpriced (no {} rate on the card)", ev.country),
        (None, _) if ev.direction == Direction::Inbound => String::new(),
        (None, _) => "0".into(),
    }
}

/// The zone an event's times are shown in: its account's (`--accounts` `tz`, else `--tz`), the
/// zone its months are cut in.
fn zone_of(log: &Log, ev: &Event, accounts: &Accounts) -> chrono_tz::Tz {
    accounts.tz_of(log.account_name(log.account_of(ev)))
}
