use super::{
    account_label, display_amount, display_price, rates_note, regions_text, scope_label,
    whole_volume, BreakevenReport, CardsReport, CompareReport, Decision, Exporter, Group, Report,
};
use crate::analysis::breakeven::{Pair, Scope};
use crate::analysis::cards::{SessionVsMessage, SAVING_AT};
use crate::analysis::compare::Comparison;
use crate::analysis::curve::Cheaper;
use crate::billing::{ModelResult, Stats, TierFrom};
use crate::event::month_label;
use crate::rates::FeeKind;
use comfy_table::{presets::ASCII_MARKDOWN, CellAlignment, Table};
use rust_decimal::Decimal;
use std::io::Write;

/// Human tables: one per model, a row per group, totals with fees, and notes.
pub struct TableExporter;

impl Exporter for TableExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let log = report.log;
        writeln!(
            out,
            "{}: {} rows, {} replayed, {} skipped{}; months cut in {}",
            log.file,
            log.rows,
            log.replayed(),
            log.rejects.len(),
            ambiguous_note(log),
            if report.accounts.zoned() {
                format!(
                    "{} (an account with a tz in the accounts file: its own)",
                    report.tz.name()
                )
            } else {
                report.tz.name().to_string()
            }
        )?;
        accounts_table(report, out)?;
        for m in report.models {
            writeln!(out)?;
            model_table(report, m, out)?;
        }
        Ok(())
    }

    fn compare(&self, r: &CompareReport, out: &mut dyn Write) -> std::io::Result<()> {
        heading(&r.d, out)?;
        comparison_table(&r.d, r.comparison, out)?;
        let names = names(&r.d);
        writeln!(
            out,
            "\nBreak-even (the log's traffic scaled up or down; `simcost breakeven` shows every pair):"
        )?;
        let (mut one_cheaper, mut equal) = (0, 0);
        for scope in r.scopes {
            for pair in &scope.pairs {
                if pair.regions.len() == 1 {
                    match pair.regions[0].cheaper {
                        Cheaper::Equal => equal += 1,
                        _ => one_cheaper += 1,
                    }
                    continue;
                }
                writeln!(
                    out,
                    "  {}: {} vs {}: {}",
                    scope_label(r.d.log, scope.account),
                    names[pair.a],
                    names[pair.b],
                    regions_text(scope, pair, &names)
                )?;
            }
        }
        if one_cheaper > 0 {
            writeln!(
                out,
                "  {one_cheaper} other pair(s): one model is cheaper at every volume"
            )?;
        }
        if equal > 0 {
            writeln!(out, "  {equal} pair(s): the same cost at every volume")?;
        }
        Ok(())
    }

    fn cards(&self, r: &CardsReport, out: &mut dyn Write) -> std::io::Result<()> {
        heading(&r.d, out)?;
        writeln!(
            out,
            "Card prices on {} (no allowance, free tier or monthly fee): a support conversation of {} business messages opened by the customer, and one business-initiated message (the model's default category).",
            r.date, r.messages_per_session
        )?;
        let names = names(&r.d);
        let mut t = new_table();
        let mut header = vec!["country".to_string()];
        header.extend(names.iter().map(|n| format!("{n}\nsupport")));
        header.extend(names.iter().map(|n| format!("{n}\ninitiated")));
        t.set_header(header);
        for row in r.rows {
            let mut cells = vec![row.country.to_string()];
            let mark = |v: &[Option<Decimal>]| -> Vec<String> {
                let best = v.iter().flatten().min().copied();
                v.iter()
                    .map(|x| match x {
                        None => "unpriced".to_string(),
                        Some(d) if Some(*d) == best => format!("{} *", display_price(*d)),
                        Some(d) => display_price(*d),
                    })
                    .collect()
            };
            cells.extend(mark(&row.support));
            cells.extend(mark(&row.initiated));
            t.add_row(cells);
        }
        right_align(&mut t);
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "* the cheapest model of the row (among the support prices, and among the initiated prices); amounts in {}",
            r.d.currency
        )?;
        if !r.sessions.is_empty() {
            writeln!(out)?;
            session_table(r.sessions, out)?;
        }
        Ok(())
    }

    fn breakeven(&self, r: &BreakevenReport, out: &mut dyn Write) -> std::io::Result<()> {
        heading(&r.d, out)?;
        let names = names(&r.d);
        if r.d.log.is_some() {
            writeln!(
                out,
                "(a) Commercial models: k is the log's volume multiplied (k = 1: the log as it is; k = 2: every contact twice, with the same messages at the same times), billed as replay bills it: month by month, allowances in time order, fees and minimum commitments per account and month."
            )?;
            let incomplete: Vec<&str> = r
                .channels
                .map(|c| {
                    c.columns
                        .iter()
                        .filter(|c| !c.complete())
                        .map(|c| c.model.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if !incomplete.is_empty() {
                writeln!(
                    out,
                    "Incomplete: {} (unpriced messages are left out of their curves).",
                    incomplete.join(", ")
                )?;
            }
            for scope in r.scopes {
                scope_table(&r.d, scope, &names, out)?;
            }
        }
        if !r.sessions.is_empty() {
            writeln!(out)?;
            session_table(r.sessions, out)?;
        }
        if let Some(c) = r.channels {
            writeln!(out, "\n(c) Channels: the cheapest model per country for the log's traffic (charges plus a share of monthly fees by message count)")?;
            channel_table(&r.d, c, out)?;
        }
        Ok(())
    }
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN);
    t
}

fn right_align(t: &mut Table) {
    for i in 1..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Local times a clock change made ambiguous, when there are any (docs/billing-rules.md §2).
fn ambiguous_note(log: &crate::input::Log) -> String {
    // Status rows of a message already read (rows sharing an id): neither replayed nor skipped.
    let merged = match log.rows_merged {
        0 => String::new(),
        n => format!(", {n} merged into the message of their id"),
    };
    match log.ambiguous_times {
        0 => merged,
        n => format!("{merged}, {n} ambiguous local times read as the earlier instant"),
    }
}

fn names(d: &Decision) -> Vec<String> {
    d.models.iter().map(|m| m.0.clone()).collect()
}

fn heading(d: &Decision, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(log) = d.log {
        writeln!(
            out,
            "{}: {} rows, {} replayed, {} skipped{}",
            log.file,
            log.rows,
            log.replayed(),
            log.rejects.len(),
            ambiguous_note(log)
        )?;
    }
    write!(out, "Amounts in {}", d.currency)?;
    let notes = rates_note(&d.rates_used);
    if notes.is_empty() {
        writeln!(out, ".")?;
    } else {
        writeln!(out, "; converted at {}.", notes.join("; "))?;
    }
    Ok(())
}

/// A pair's crossings as table cells, one line each: messages a month, sessions of each model,
/// k and the cost there ("none" when one model is cheaper, or they are equal, at every volume).
fn crossing_cells(d: &Decision, scope: &Scope, pair: &Pair) -> (String, String, String, String) {
    let crossings: Vec<_> = pair.regions.iter().filter_map(|r| r.to).collect();
    if crossings.is_empty() {
        return ("none".into(), String::new(), String::new(), String::new());
    }
    let (mut m, mut s, mut k, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for x in crossings {
        c.push(display_amount(scope.cost_at(pair.a, x), d.full_precision));
        let v = scope.volume_at(x);
        m.push(whole_volume(v.messages));
        s.push(format!(
            "{} / {}",
            whole_volume(v.sessions[pair.a]),
            whole_volume(v.sessions[pair.b])
        ));
        k.push(x.round_dp(4).normalize().to_string());
    }
    (m.join("\n"), s.join("\n"), k.join("\n"), c.join("\n"))
}

fn comparison_table(d: &Decision, c: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let amount = |x| display_amount(x, d.full_precision);
    let names = names(d);
    let mut t = new_table();
    let mut header = vec!["country".to_string()];
    header.extend(names.iter().cloned());
    header.extend(["cheapest".into(), "by".into()]);
    t.set_header(header);
    for row in &c.countries {
        let mut cells = vec![row.country.to_string()];
        for (i, cost) in row.costs.iter().enumerate() {
            let mut s = amount(*cost);
            if row.unpriced[i] > 0 {
                s = format!("{s} ({} unpriced)", row.unpriced[i]);
            } else if row.cheapest == Some(i) {
                s.push_str(" *");
            }
            cells.push(s);
        }
        cells.push(row.cheapest.map(|i| names[i].clone()).unwrap_or_default());
        cells.push(row.margin.map(amount).unwrap_or_default());
        t.add_row(cells);
    }
    let line = |label: &str, f: &dyn Fn(&crate::analysis::compare::Column) -> String| {
        let mut cells = vec![label.to_string()];
        cells.extend(c.columns.iter().map(f));
        cells.extend([String::new(), String::new()]);
        cells
    };
    t.add_row(line("messages", &|col| amount(col.messages)));
    t.add_row(line("fees", &|col| amount(col.fees)));
    t.add_row(line("TOTAL", &|col| {
        let mut s = amount(col.total);
        if !col.complete() {
            s.push_str(" (incomplete)");
        }
        s
    }));
    t.add_row(line("vs cheapest", &|col| {
        if c.cheapest.is_none() {
            return String::new();
        }
        // An incomplete model can come out below the cheapest complete one: a minus sign.
        match col.difference {
            d if d.is_zero() => "cheapest".into(),
            d if d < Decimal::ZERO => format!("-{}", amount(-d)),
            d => format!("+{}", amount(d)),
        }
    }));
    right_align(&mut t);
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "* cheapest model for the country (priced models only). A country's cost includes its share of each account's monthly fees, by message count; `messages` and `fees` split the total."
    )?;
    match c.cheapest {
        Some(i) => writeln!(
            out,
            "Cheapest in total: {} ({} {})",
            names[i],
            amount(c.columns[i].total),
            d.currency
        ),
        None => writeln!(
            out,
            "No model prices every message: no cheapest total is named."
        ),
    }
}

fn scope_table(
    d: &Decision,
    scope: &Scope,
    names: &[String],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let now = scope.volume_at(Decimal::ONE);
    writeln!(
        out,
        "\n{}: now (k = 1) {} messages a month over {} month(s), sessions {}; the log costs {}",
        scope_label(d.log, scope.account),
        whole_volume(now.messages),
        scope.months.round_dp(2).normalize(),
        names
            .iter()
            .zip(&now.sessions)
            .map(|(n, s)| format!("{n} {}", whole_volume(*s)))
            .collect::<Vec<_>>()
            .join(", "),
        (0..names.len())
            .map(|i| format!(
                "{} {}{}",
                names[i],
                display_amount(scope.cost_at(i, Decimal::ONE), d.full_precision),
                if scope.complete(i) {
                    ""
                } else {
                    " (incomplete)"
                }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    let mut t = new_table();
    t.set_header([
        "models",
        "break-even messages/month",
        "sessions/month",
        "k",
        "cost there",
        "cheaper",
    ]);
    let model = |i: usize| match scope.complete(i) {
        true => names[i].clone(),
        false => format!("{} (incomplete)", names[i]),
    };
    for pair in &scope.pairs {
        let (msgs, sess, ks, costs) = crossing_cells(d, scope, pair);
        t.add_row([
            format!("{} vs {}", model(pair.a), model(pair.b)),
            msgs,
            sess,
            ks,
            costs,
            regions_text(scope, pair, names),
        ]);
    }
    right_align(&mut t);
    writeln!(out, "{t}")?;
    Ok(())
}

fn session_table(rows: &[SessionVsMessage], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "(b) Session against per-message pricing: one session price against the transactional price for each business message of a conversation"
    )?;
    let mut t = new_table();
    let mut header = vec![
        "models".to_string(),
        "country".into(),
        "session".into(),
        "per message".into(),
        "session cheaper from (messages)".into(),
    ];
    header.extend(SAVING_AT.iter().map(|n| format!("saving at {n}")));
    t.set_header(header);
    for r in rows {
        let mut cells = vec![
            r.models.join(", "),
            r.country.to_string(),
            format!("{} {}", display_price(r.session), r.currency),
            display_price(r.message),
            r.from
                .map(|n| n.to_string())
                .unwrap_or_else(|| "never".into()),
        ];
        for &(n, saving) in &r.savings {
            cells.push(match r.percent(n, saving) {
                Some(p) => format!("{} ({}%)", display_price(saving), p.round_dp(1).normalize()),
                None => display_price(saving),
            });
        }
        t.add_row(cells);
    }
    right_align(&mut t);
    writeln!(out, "{t}")
}

fn channel_table(d: &Decision, c: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let amount = |x| display_amount(x, d.full_precision);
    let names = names(d);
    let mut t = new_table();
    t.set_header([
        "country",
        "cheapest",
        "channel",
        "cost",
        "next model by",
        "best other channel",
        "costs more by",
    ]);
    for row in &c.countries {
        let Some(best) = row.cheapest else {
            t.add_row([row.country.to_string(), "no model prices it all".into()]);
            continue;
        };
        let (other, more) = match row.other_channel {
            Some((o, m)) => (names[o].clone(), amount(m)),
            None => ("none priced".into(), String::new()),
        };
        t.add_row([
            row.country.to_string(),
            names[best].clone(),
            c.columns[best].channel.to_string(),
            amount(row.costs[best]),
            row.margin.map(amount).unwrap_or_default(),
            other,
            more,
        ]);
    }
    right_align(&mut t);
    writeln!(out, "{t}")
}

fn model_table(report: &Report, m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    let full = report.full_precision;
    let count = crate::channel::named(m.channel).and_then(|c| c.table_count);
    // The rows and the totals in one pass over the cells (a log of many accounts has
    // hundreds of thousands); a country's fee share is a CSV and JSON figure: the table keeps
    // its fees row.
    let (groups, totals) = super::groups_and_totals(m, report.by, report.log, false);
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
    let mut t = new_table();
    t.set_header(model_header(report, m, count));
    for g in groups {
        let with_fees =
            report.by != super::GroupBy::Country && g.fees.is_some_and(|f| !f.is_zero());
        let cost = if with_fees { g.total() } else { g.stats.cost };
        let mut r = group_row(&g, count, display_amount(cost, full));
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
    t.add_row(group_row(
        &messages,
        count,
        display_amount(messages.stats.cost, full),
    ));
    add_fees_and_total(&mut t, m, &totals, full);
    right_align(&mut t);
    writeln!(out, "{t}")?;
    notes(report, m, &totals, out)
}

/// A channel's own count in the table: its title and its value (src/channel).
type ChannelCount = crate::channel::TableCount;

/// The group column, the counts, and the cost in the model's currency; the channel's own
/// count after "BI free" (Viber: messages rejected in a session; WhatsApp: outside the window).
fn model_header(report: &Report, m: &ModelResult, count: ChannelCount) -> Vec<String> {
    let mut header = vec![
        report.by.name().to_string(),
        "in".into(),
        "out".into(),
        "sessions opened".into(),
        "sessions charged".into(),
        "BI charged".into(),
        "BI free".into(),
    ];
    header.extend(count.map(|(title, _)| title.to_string()));
    header.extend(["unpriced".into(), format!("cost {}", m.currency)]);
    header
}

/// A group's counts in [`model_header`]'s order, then `cost` as displayed.
fn group_row(g: &Group, count: ChannelCount, cost: String) -> Vec<String> {
    let s = &g.stats;
    let mut r = vec![
        g.key.clone(),
        s.messages_in.to_string(),
        s.messages_out.to_string(),
        s.sessions_opened.to_string(),
        s.sessions_charged.to_string(),
        s.business_initiated_charged.to_string(),
        s.business_initiated_free.to_string(),
    ];
    r.extend(count.map(|(_, of)| of(s).to_string()));
    r.push(s.unpriced.to_string());
    r.push(cost);
    r
}

/// The model's fees, then its total (marked incomplete when messages were left unpriced),
/// each in the last column.
fn add_fees_and_total(t: &mut Table, m: &ModelResult, totals: &Stats, full: bool) {
    let complete = totals.unpriced == 0;
    let n = t.column_count();
    let mut fees = vec![String::new(); n];
    fees[0] = "fees".into();
    fees[n - 1] = display_amount(m.fee_total(), full);
    t.add_row(fees);
    let mut total = vec![String::new(); n];
    total[0] = if complete {
        "TOTAL"
    } else {
        "TOTAL (incomplete)"
    }
    .into();
    // `ModelResult::total`, from the totals already summed
    total[n - 1] = display_amount(totals.cost + m.fee_total(), full);
    t.add_row(total);
}

/// `--accounts`: each account of the log, its properties and where each came from.
fn accounts_table(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let Some((rows, unused)) = super::account_props(report) else {
        return Ok(());
    };
    let file = report.accounts.file().unwrap_or_default();
    writeln!(
        out,
        "\nAccounts ({file}; each property from the file, a flag or the default):"
    )?;
    let mut t = Table::new();
    t.load_preset(ASCII_MARKDOWN);
    t.set_header([
        "account",
        "country",
        "registered",
        "tz",
        "currency",
        "portfolio",
    ]);
    let from = |v: String, o: crate::accounts::Origin| format!("{v} ({})", o.name());
    for (name, p) in &rows {
        let country = p.country.map_or("-".into(), |c| c.to_string());
        t.add_row([
            name.clone(),
            from(country, p.country_from),
            p.registered.map_or("-".into(), |d| d.to_string()),
            from(p.tz.name().to_string(), p.tz_from),
            from(p.currency.clone().unwrap_or("-".into()), p.currency_from),
            from(p.portfolio.clone().unwrap_or("-".into()), p.portfolio_from),
        ]);
    }
    writeln!(out, "{t}")?;
    let missing = rows.iter().filter(|(_, p)| !p.in_file).count();
    if missing > 0 {
        writeln!(
            out,
            "  {missing} accounts of the log are not in {file}: they take --tz, \
             --account-country or the defaults"
        )?;
    }
    if unused > 0 {
        writeln!(
            out,
            "  {unused} accounts of {file} do not appear in the log"
        )?;
    }
    Ok(())
}

fn notes(
    report: &Report,
    m: &ModelResult,
    totals: &Stats,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    // Only a model with unpriced messages has a list of them to make.
    let unpriced = match totals.unpriced {
        0 => Default::default(),
        _ => m.unpriced_by_country(),
    };
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
    if totals.blocked > 0 {
        writeln!(
            out,
            "  blocked: {} messages over the in-a-row limit were blocked by Viber, not billed",
            totals.blocked
        )?;
    }
    if totals.international > 0 {
        writeln!(
            out,
            "  international: {} messages outside the account's home country billed at the international price, with no session",
            totals.international
        )?;
    }
    if let Some(n) = m.assumed_domestic.filter(|n| *n > 0) {
        writeln!(
            out,
            "  domestic: {n} accounts have no registered date or country (--accounts): billed as domestic"
        )?;
    }
    if totals.not_delivered > 0 {
        writeln!(
            out,
            "  not delivered: {} messages not delivered (a failed, undelivered, rejected or expired status, or marketing to a country where Meta paused it), not billed",
            totals.not_delivered
        )?;
    }
    if totals.converted > 0 {
        writeln!(
            out,
            "  converted: {} charges priced from the USD card converted with fx.csv (no {} card for the market)",
            totals.converted, m.currency
        )?;
    }
    meta_notes(totals, m, out)?;
    fee_notes(report, m, out)
}

/// The whatsapp-meta counts of issue 20's last part: free entry point windows, free tiers taken
/// per account for want of a business number, local-currency cards.
fn meta_notes(totals: &Stats, m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    if totals.free_entry_point > 0 {
        writeln!(
            out,
            "  free entry point: {} messages free in a free entry point window (a reply within 24 h to a customer from an ad or a Page call-to-action)",
            totals.free_entry_point
        )?;
    }
    if totals.free_tier_per_account > 0 {
        writeln!(
            out,
            "  free tier per account: {} messages drew on their account's free tier, which Meta counts per business phone number: their rows name no business_number",
            totals.free_tier_per_account
        )?;
    }
    if totals.local_currency > 0 {
        writeln!(
            out,
            "  local currency: {} charges priced from the account's currency card (accounts file), converted into {} with fx.csv",
            totals.local_currency, m.currency
        )?;
    }
    Ok(())
}

/// One line per fee when there are few, else a summary.
fn fee_notes(report: &Report, m: &ModelResult, out: &mut dyn Write) -> std::io::Result<()> {
    if m.fees.len() <= 12 {
        for f in &m.fees {
            let tier = match (f.from, f.country) {
                (TierFrom::Given, Some(c)) => format!("account country {c} (--account-country)"),
                (TierFrom::File, Some(c)) => format!("account country {c} (accounts file)"),
                (TierFrom::HighestTier, Some(c)) => {
                    format!("account country {c} (highest tier of the month's countries)")
                }
                (_, None) => "default tier".to_string(),
            };
            let what = match (f.kind, f.before_minimum) {
                (_, Some(n)) => format!(
                    "minimum commitment {} not applied before the account's active month {} in \
                     the log: pays 0 (spend {} only)",
                    display_amount(f.tier, true),
                    n,
                    display_amount(f.spend, report.full_precision)
                ),
                (FeeKind::Flat, None) => format!("monthly fee {}", display_amount(f.tier, true)),
                (FeeKind::Minimum, None) => format!(
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
