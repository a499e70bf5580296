//! `explain`: one contact's replay, message by message.

use crate::billing::{Line, ModelResult, Price};
use crate::calendar::format_instant;
use crate::event::{Direction, Event};
use crate::input::Log;
use crate::report::display_amount;
use comfy_table::{presets::ASCII_MARKDOWN, Table};
use std::io::Write;

/// `accounts`: each line's times are shown in its account's zone (`--accounts` `tz`, else
/// `--tz`), the zone its months are cut in.
pub fn write(
    log: &Log,
    models: &[ModelResult],
    contact: u32,
    accounts: &crate::accounts::Accounts,
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
            let tz = accounts.tz_of(log.account_name(log.account_of(ev)));
            t.add_row(row(log, m, line, tz, &mut sum));
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
