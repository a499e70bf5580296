use super::{account_label, display_amount, groups, Exporter, Group, Report};
use crate::billing::{ModelResult, TierFrom};
use crate::event::month_label;
use crate::rates::FeeKind;
use comfy_table::{presets::ASCII_MARKDOWN, CellAlignment, Table};
use std::io::Write;

/// Human tables: one per model, a row per group, totals with fees, and notes.
pub struct TableExporter;

impl Exporter for TableExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let log = report.log;
        writeln!(
            out,
            "{}: {} rows, {} replayed, {} skipped; months cut in {}",
            log.file,
            log.rows,
            log.events.len(),
            log.rejects.len(),
            report.tz.name()
        )?;
        for m in report.models {
            writeln!(out)?;
            model_table(report, m, out)?;
        }
        Ok(())
    }
}

fn model_table(report: &Report, m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    let amount = |d| display_amount(d, report.full_precision);
    let viber = m.channel == "viber";
    let totals = m.totals();
    let complete = totals.unpriced == 0;
    writeln!(
        out,
        "{} ({}, {}){}",
        m.name,
        m.channel,
        m.currency,
        if complete {
            ""
        } else {
            "  [INCOMPLETE: unpriced messages left out]"
        }
    )?;
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN);
    let mut header = vec![
        report.by.name().to_string(),
        "in".into(),
        "out".into(),
        "sessions opened".into(),
        "sessions charged".into(),
        "BI charged".into(),
        "BI free".into(),
    ];
    header.push(if viber { "rejected" } else { "outside window" }.into());
    header.extend(["unpriced".into(), format!("cost {}", m.currency)]);
    t.set_header(header);
    let row = |g: &Group, fees_col: bool| -> Vec<String> {
        let s = &g.stats;
        let mut r = vec![
            g.key.clone(),
            s.messages_in.to_string(),
            s.messages_out.to_string(),
            s.sessions_opened.to_string(),
            s.sessions_charged.to_string(),
            s.business_initiated_charged.to_string(),
            s.business_initiated_free.to_string(),
            if viber {
                s.rejected_in_session
            } else {
                s.outside_window
            }
            .to_string(),
            s.unpriced.to_string(),
        ];
        r.push(amount(if fees_col { g.total() } else { g.stats.cost }));
        r
    };
    for g in groups(m, report.by, report.log) {
        let with_fees = g.fees.is_some_and(|f| !f.is_zero());
        let mut r = row(&g, with_fees);
        if with_fees {
            r[0] = format!("{} (incl. fees)", g.key);
        }
        t.add_row(r);
    }
    let messages = Group {
        key: "messages".into(),
        stats: totals.clone(),
        fees: None,
    };
    t.add_row(row(&messages, false));
    let n = t.column_count();
    let mut fees = vec![String::new(); n];
    fees[0] = "fees".into();
    fees[n - 1] = amount(m.fee_total());
    t.add_row(fees);
    let mut total = vec![String::new(); n];
    total[0] = if complete {
        "TOTAL"
    } else {
        "TOTAL (incomplete)"
    }
    .into();
    total[n - 1] = amount(m.total());
    t.add_row(total);
    for i in 1..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    writeln!(out, "{t}")?;
    notes(report, m, out)
}

fn notes(report: &Report, m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    let totals = m.totals();
    let unpriced = m.unpriced_by_country();
    if !unpriced.is_empty() {
        let list: Vec<String> = unpriced.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        writeln!(
            out,
            "  unpriced: {} messages have no price on the card ({}); the totals leave them out",
            totals.unpriced,
            list.join(", ")
        )?;
    }
    if totals.assumed_category > 0 {
        writeln!(
            out,
            "  assumed: {} business-initiated messages had no category and were priced as the model's default category",
            totals.assumed_category
        )?;
    }
    if totals.free_tier > 0 {
        writeln!(
            out,
            "  free tier: {} conversations or messages fell in a monthly free tier",
            totals.free_tier
        )?;
    }
    if totals.carried_forward > 0 {
        writeln!(
            out,
            "  carried forward: {} charges priced from a market's earlier card (the card in force lacks the market)",
            totals.carried_forward
        )?;
    }
    if totals.dropped > 0 {
        writeln!(
            out,
            "  dropped: {} messages over the in-a-row limit were dropped, not billed",
            totals.dropped
        )?;
    }
    // Fee lines: list them when few, else summarise.
    if m.fees.len() <= 12 {
        for f in &m.fees {
            let tier = match (f.from, f.country) {
                (TierFrom::Given, Some(c)) => format!("account country {c} (--account-country)"),
                (TierFrom::HighestTier, Some(c)) => {
                    format!("account country {c} (highest tier of the month's countries)")
                }
                (_, None) => "default tier".to_string(),
            };
            let what = match f.kind {
                FeeKind::Flat => format!("monthly fee {}", display_amount(f.tier, true)),
                FeeKind::Minimum => format!(
                    "minimum commitment {} against spend {}: pays {}",
                    display_amount(f.tier, true),
                    display_amount(f.spend, report.full_precision),
                    display_amount(f.amount, report.full_precision)
                ),
            };
            writeln!(
                out,
                "  fee: {} {}: {}; {}",
                account_label(report.log, f.account),
                month_label(f.month),
                what,
                tier
            )?;
        }
    } else {
        writeln!(
            out,
            "  fees: {} account-months, {} {}",
            m.fees.len(),
            display_amount(m.fee_total(), report.full_precision),
            m.currency
        )?;
    }
    Ok(())
}
