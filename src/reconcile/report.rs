//! The reconciliation's report: a table, CSV or JSON; and `--details`, one CSV row per
//! differing message. Amounts at full precision in CSV and JSON, rounded in the table.

use super::{Cause, Reconciliation, Row};
use crate::calendar::format_instant;
use crate::event::month_label;
use crate::report::cell::text;
use crate::report::display_amount;
use comfy_table::{presets::ASCII_MARKDOWN, Table};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::io::{self, Write};

pub fn table(r: &Reconciliation, out: &mut dyn Write) -> io::Result<()> {
    let a = |d: Decimal| display_amount(d, false);
    writeln!(
        out,
        "{} bill {} against model {} ({})",
        r.format.name(),
        r.bill_file,
        r.model,
        r.currency
    )?;
    writeln!(out, "billed    {}", a(r.billed()))?;
    writeln!(out, "replayed  {}", a(r.replayed()))?;
    writeln!(
        out,
        "difference {} (billed - replayed; {})",
        r.difference(),
        within(r)
    )?;
    writeln!(
        out,
        "explained {} by the causes below{}",
        r.explained(),
        r.share_explained()
            .map(|s| format!(" ({s}% of the difference)"))
            .unwrap_or_default()
    )?;
    for note in notes(r) {
        writeln!(out, "note: {note}")?;
    }
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN);
    t.set_header([
        "month",
        "country",
        "category",
        "billed qty",
        "billed",
        "replayed qty",
        "replayed",
        "difference",
    ]);
    for row in &r.rows {
        t.add_row([
            month_label(row.key.0),
            row.key.1.label().to_string(),
            row.key.2.to_string(),
            quantity(row.bill.quantity, row.bill.free),
            a(row.bill.amount),
            quantity(row.replay.quantity, row.replay.free),
            a(row.replay.amount),
            a(row.difference()),
        ]);
    }
    writeln!(out, "\n{t}")?;
    if r.causes.is_empty() {
        return writeln!(out, "\nno named cause");
    }
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN);
    t.set_header(["cause", "country", "category", "count", "amount", "markup"]);
    for c in &r.causes {
        t.add_row([
            c.kind.text(),
            c.place.label().to_string(),
            c.category.to_string(),
            c.count.to_string(),
            c.amount.to_string(),
            c.markup_percent()
                .map(|m| format!("{m}%"))
                .unwrap_or_default(),
        ]);
    }
    writeln!(out, "\n{t}")
}

/// `12 (+3 free)`: charged messages and the free ones.
fn quantity(n: u64, free: u64) -> String {
    if free == 0 {
        n.to_string()
    } else {
        format!("{n} (+{free} free)")
    }
}

fn within(r: &Reconciliation) -> String {
    let allowed = r.tolerance.allowed(r.billed());
    if r.within_tolerance() {
        format!("within --tolerance {} = {allowed}", r.tolerance.label())
    } else {
        format!("BEYOND --tolerance {} = {allowed}", r.tolerance.label())
    }
}

/// What was left out or assumed, said once in every format.
fn notes(r: &Reconciliation) -> Vec<String> {
    let mut n = Vec::new();
    if r.outside_bill_months > 0 {
        n.push(format!(
            "{} outbound log messages fall in months the bill does not cover: not compared",
            r.outside_bill_months
        ));
    }
    if r.unpriced_replay > 0 {
        n.push(format!(
            "{} replayed messages are unpriced: left out of the replayed total",
            r.unpriced_replay
        ));
    }
    if r.unpriced_bill > 0 {
        n.push(format!(
            "{} billed messages have no price on the model's card for the bill's category: counted at 0",
            r.unpriced_bill
        ));
    }
    if r.format == super::BillFormat::MetaWebhook {
        n.push("the webhook carries no prices: each charged message is priced at the model's card for Meta's category".into());
    }
    n
}

pub const CSV_HEADER: [&str; 13] = [
    "section",
    "month",
    "country",
    "category",
    "cause",
    "why",
    "count",
    "billed_quantity",
    "billed",
    "replayed_quantity",
    "replayed",
    "difference",
    "markup_percent",
];

/// One table: a `total` row, a `cell` row per month x country x category, a `cause` row per
/// named cause.
pub fn csv(r: &Reconciliation, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    let s = |d: Decimal| d.to_string();
    let (bq, rq): (u64, u64) = (
        r.rows.iter().map(|x| x.bill.quantity).sum(),
        r.rows.iter().map(|x| x.replay.quantity).sum(),
    );
    w.write_record([
        "total",
        "",
        "",
        "",
        "",
        "",
        "",
        &bq.to_string(),
        &s(r.billed()),
        &rq.to_string(),
        &s(r.replayed()),
        &s(r.difference()),
        "",
    ])?;
    for row in &r.rows {
        w.write_record([
            "cell".to_string(),
            month_label(row.key.0),
            row.key.1.label().to_string(),
            row.key.2.to_string(),
            String::new(),
            String::new(),
            String::new(),
            row.bill.quantity.to_string(),
            s(row.bill.amount),
            row.replay.quantity.to_string(),
            s(row.replay.amount),
            s(row.difference()),
            String::new(),
        ])?;
    }
    for c in &r.causes {
        w.write_record([
            "cause".to_string(),
            String::new(),
            c.place.label().to_string(),
            c.category.to_string(),
            c.kind.name().to_string(),
            c.kind.detail(),
            c.count.to_string(),
            String::new(),
            s(c.billed),
            String::new(),
            s(c.replayed),
            s(c.amount),
            c.markup_percent().map(s).unwrap_or_default(),
        ])?;
    }
    w.flush()
}

fn tally(t: &super::Tally) -> Value {
    json!({
        "quantity": t.quantity,
        "amount": t.amount.to_string(),
        "free": t.free,
        "free_entry_point": t.free_entry_point,
        "free_tier": t.free_tier,
    })
}

fn row_json(row: &Row) -> Value {
    json!({
        "month": month_label(row.key.0),
        "country": row.key.1.label(),
        "category": row.key.2,
        "billed": tally(&row.bill),
        "replayed": tally(&row.replay),
        "difference": row.difference().to_string(),
    })
}

fn cause_json(c: &Cause) -> Value {
    json!({
        "cause": c.kind.name(),
        "why": c.kind.detail(),
        "text": c.kind.text(),
        "country": c.place.label(),
        "category": c.category,
        "count": c.count,
        "billed": c.billed.to_string(),
        "replayed": c.replayed.to_string(),
        "amount": c.amount.to_string(),
        "markup_percent": c.markup_percent().map(|m| m.to_string()),
    })
}

pub fn json(r: &Reconciliation, out: &mut dyn Write) -> io::Result<()> {
    let v = json!({
        "model": r.model,
        "currency": r.currency,
        "bill": {"file": r.bill_file, "format": r.format.name()},
        "summary": {
            "billed": r.billed().to_string(),
            "replayed": r.replayed().to_string(),
            "difference": r.difference().to_string(),
            "explained": r.explained().to_string(),
            "share_explained_percent": r.share_explained().map(|s| s.to_string()),
            "tolerance": r.tolerance.label(),
            "allowed": r.tolerance.allowed(r.billed()).to_string(),
            "within_tolerance": r.within_tolerance(),
        },
        "cells": r.rows.iter().map(row_json).collect::<Vec<_>>(),
        "causes": r.causes.iter().map(cause_json).collect::<Vec<_>>(),
        "messages_differing": r.messages.len(),
        "not_compared_outside_bill_months": r.outside_bill_months,
        "unpriced": {"replayed": r.unpriced_replay, "billed": r.unpriced_bill},
        "notes": notes(r),
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

pub const DETAILS_HEADER: [&str; 13] = [
    "timestamp",
    "contact",
    "bill_id",
    "log_line",
    "bill_line",
    "cause",
    "log_category",
    "bill_category",
    "replayed",
    "billed",
    "difference",
    "simcost_reason",
    "bill_reason",
];

/// `--details`: each differing message, text cells safe for spreadsheets.
pub fn details(r: &Reconciliation, tz: chrono_tz::Tz, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(DETAILS_HEADER)?;
    for m in &r.messages {
        let line = |n: u64| if n == 0 { String::new() } else { n.to_string() };
        w.write_record([
            format_instant(m.at, tz),
            text(m.contact.as_str()).into_owned(),
            text(m.bill_id.as_str()).into_owned(),
            line(m.log_line as u64),
            line(m.bill_line),
            m.kind.name().to_string(),
            m.log_category.clone(),
            m.bill_category.clone(),
            m.replayed.to_string(),
            m.billed.to_string(),
            (m.billed - m.replayed).to_string(),
            m.simcost_reason.clone(),
            m.bill_reason.clone(),
        ])?;
    }
    w.flush()
}
