//! The advice in the three formats (table, CSV, JSON) and the `--details` file: the affected
//! messages with their ledger rows in both replays.

use super::Advice;
use crate::billing::ModelResult;
use crate::error::{Error, Result};
use crate::input::Log;
use crate::report::cell::text;
use crate::report::ledger;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;

/// Said under every report: each line is its own counterfactual.
pub const NOT_SUMMED: &str = "each saving is the model's total now minus its total in a replay of the log with that strategy applied; savings of different strategies overlap and are not added up";

fn pct(a: &Advice) -> String {
    a.share().map(|p| p.to_string()).unwrap_or_default()
}

fn listed(v: &[(String, Decimal)]) -> String {
    let items: Vec<String> = v.iter().map(|(n, d)| format!("{n} ({d})")).collect();
    items.join("; ")
}

/// An amount in the table: to 4 places (a converted amount has many; JSON and CSV keep them).
fn money(d: Decimal, currency: &str) -> String {
    format!("{} {currency}", d.round_dp(4))
}

pub fn table(advice: &[Advice], out: &mut dyn Write) -> std::io::Result<()> {
    let head = [
        "strategy",
        "model",
        "messages",
        "sessions",
        "contacts",
        "cost now",
        "cost after",
        "saving",
        "saving %",
        "top contacts",
    ];
    let rows: Vec<Vec<String>> = advice
        .iter()
        .map(|a| {
            vec![
                a.strategy.to_string(),
                a.model.clone(),
                a.messages.to_string(),
                a.sessions.to_string(),
                a.contacts.to_string(),
                money(a.cost_now, &a.currency),
                money(a.cost_after, &a.currency),
                money(a.saving(), &a.currency),
                pct(a),
                listed(&a.top_contacts),
            ]
        })
        .collect();
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>, out: &mut dyn Write| -> std::io::Result<()> {
        let padded: Vec<String> = (cells.iter().zip(&width))
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    };
    line(head.to_vec(), out)?;
    for r in &rows {
        line(r.iter().map(String::as_str).collect(), out)?;
    }
    writeln!(out)?;
    for a in advice
        .iter()
        .filter(|a| !a.note.is_empty() || a.not_allowed > 0)
    {
        writeln!(out, "{} ({}): {}", a.strategy, a.model, notes(a))?;
    }
    writeln!(
        out,
        "Note: {NOT_SUMMED}; amounts to 4 places (--format json: in full)."
    )
}

/// The line's note and the count of edits the channel's rules did not allow.
fn notes(a: &Advice) -> String {
    let mut n = a.note.clone();
    if a.not_allowed > 0 {
        if !n.is_empty() {
            n.push_str("; ");
        }
        n.push_str(&format!(
            "{} changes left out: the channel's rules would not allow them",
            a.not_allowed
        ));
    }
    n
}

pub const CSV_HEADER: [&str; 15] = [
    "strategy",
    "model",
    "currency",
    "messages",
    "sessions",
    "contacts",
    "cost_now",
    "cost_after",
    "saving",
    "saving_percent",
    "affected_cost_now",
    "not_allowed",
    "top_contacts",
    "top_accounts",
    "note",
];

pub fn csv(advice: &[Advice], out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let failed = csv_failed("writing the report");
    w.write_record(CSV_HEADER).map_err(failed)?;
    for a in advice {
        w.write_record([
            a.strategy.to_string(),
            text(a.model.as_str()).into_owned(),
            a.currency.clone(),
            a.messages.to_string(),
            a.sessions.to_string(),
            a.contacts.to_string(),
            a.cost_now.to_string(),
            a.cost_after.to_string(),
            a.saving().to_string(),
            pct(a),
            a.affected_cost_now.to_string(),
            a.not_allowed.to_string(),
            text(listed(&a.top_contacts)).into_owned(),
            text(listed(&a.top_accounts)).into_owned(),
            text(notes(a)).into_owned(),
        ])
        .map_err(failed)?;
    }
    w.flush().map_err(|e| Error::io("writing the report", e))
}

pub fn json(advice: &[Advice], out: &mut dyn Write) -> std::io::Result<()> {
    let named = |v: &[(String, Decimal)], key: &str| -> Vec<serde_json::Value> {
        v.iter()
            .map(|(n, d)| json!({ key: n, "saving": d.to_string() }))
            .collect()
    };
    let lines: Vec<serde_json::Value> = advice
        .iter()
        .map(|a| {
            json!({
                "strategy": a.strategy,
                "model": a.model,
                "currency": a.currency,
                "messages": a.messages,
                "sessions": a.sessions,
                "contacts": a.contacts,
                "cost_now": a.cost_now.to_string(),
                "cost_after": a.cost_after.to_string(),
                "saving": a.saving().to_string(),
                "saving_percent": a.share().map(|p| p.to_string()),
                "affected_cost_now": a.affected_cost_now.to_string(),
                "not_allowed": a.not_allowed,
                "top_contacts": named(&a.top_contacts, "contact"),
                "top_accounts": named(&a.top_accounts, "account"),
                "note": notes(a),
            })
        })
        .collect();
    let doc = json!({ "advice": lines, "note": NOT_SUMMED });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `--details`: for each line, the affected messages' ledger rows in the replay of the log as
/// it is (`replay` = `now`) and in the counterfactual's (`after`, with any message it adds).
pub fn details(log: &Log, advice: &[Advice], tz: chrono_tz::Tz, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::WriterBuilder::new().flexible(false).from_writer(out);
    let failed = csv_failed("writing --details");
    let mut header = vec!["strategy", "replay"];
    header.extend(ledger::HEADER);
    w.write_record(&header).map_err(failed)?;
    for a in advice {
        let Some((cf, after)) = &a.after else {
            continue;
        };
        let mut mine = vec![false; log.events.len()];
        for &e in &a.affected {
            mine[e as usize] = true;
        }
        let mut before = only(after, |_| false);
        before.lines = a.now_lines.clone();
        let later = only(after, |e| {
            cf.origin[e as usize].is_none_or(|o| mine[o as usize])
        });
        // channel: the cheaper models' rows too (every message of theirs moved).
        let moved = (a.moved.iter()).map(|p| (&p.after.log, only(&p.result, |_| true)));
        let replays = [(log, before), (&cf.log, later)].into_iter().chain(moved);
        for (i, (log, r)) in replays.enumerate() {
            let replay = if i == 0 { "now" } else { "after" };
            let mut buf = Vec::new();
            ledger::write(log, std::slice::from_ref(&r), tz, &mut buf)?;
            let mut rows = csv::Reader::from_reader(&buf[..]);
            for rec in rows.records() {
                let rec = rec.map_err(failed)?;
                let mut full = vec![a.strategy, replay];
                full.extend(rec.iter());
                w.write_record(&full).map_err(failed)?;
            }
        }
    }
    w.flush().map_err(|e| Error::io("writing --details", e))
}

/// `r` with only the lines of the events `keep` keeps, and no fees.
fn only(r: &ModelResult, keep: impl Fn(u32) -> bool) -> ModelResult {
    ModelResult {
        name: r.name.clone(),
        channel: r.channel,
        currency: r.currency.clone(),
        cells: Default::default(),
        fees: Vec::new(),
        lines: r.lines.iter().filter(|l| keep(l.event)).copied().collect(),
        markets: r.markets.clone(),
        volumes: BTreeMap::new(),
        assumed_domestic: r.assumed_domestic,
    }
}

/// A CSV writer's or reader's failure as the I/O error it is.
fn csv_failed(context: &'static str) -> impl Fn(csv::Error) -> Error + Copy {
    move |e| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(context, io),
        other => Error::io(context, std::io::Error::other(format!("{other:?}"))),
    }
}
