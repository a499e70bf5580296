//! Reports: aggregates of the billed models, exported as a table, CSV or JSON.

pub mod cell;
mod csv;
mod json;
pub mod ledger;
pub mod plot;
pub mod rejects;
mod table;

pub(crate) use self::csv::Sheet;
pub use self::csv::{CsvDialect, CsvExporter};
pub use json::JsonExporter;
pub use table::TableExporter;

use crate::accounts::AccountProps;
use crate::analysis::breakeven::{Pair, Scope};
use crate::analysis::cards::{CardRow, SessionVsMessage};
use crate::analysis::compare::Comparison;
use crate::analysis::curve::Cheaper;
use crate::billing::{ModelResult, Stats};
use crate::error::{Error, Result};
use crate::event::month_label;
use crate::input::Log;
use crate::rates::fx::FxRate;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::FxHashMap;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupBy {
    Country,
    Month,
    Account,
}

impl GroupBy {
    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Country => "country",
            GroupBy::Month => "month",
            GroupBy::Account => "account",
        }
    }
}

/// One row of a report: a country, month or account.
pub struct Group {
    pub key: String,
    pub stats: Stats,
    /// Fees charged to this group; `None` when fees do not split this way (by country).
    pub fees: Option<Decimal>,
}

impl Group {
    pub fn total(&self) -> Decimal {
        self.stats.cost + self.fees.unwrap_or_default()
    }
}

/// An account's name in reports; the default account's, `(default)`, is one no log can give
/// another account (the reader takes a `(default)` in a log for the default account).
pub fn account_label(log: &Log, id: u32) -> String {
    match log.account_name(id) {
        "" => "(default)".to_string(),
        n => n.to_string(),
    }
}

/// The rows of a model's report, grouped by `by`, in key order.
pub fn groups(result: &ModelResult, by: GroupBy, log: &Log) -> Vec<Group> {
    groups_and_totals(result, by, log, true).0
}

/// The rows of a model's report grouped by `by`, in key order, and the model's totals (the
/// sum of the rows, `ModelResult::totals`), in one pass over the cells. Rows by country carry
/// their fee shares only when `country_fees` (the table shows them as one fees row).
pub fn groups_and_totals(
    result: &ModelResult,
    by: GroupBy,
    log: &Log,
    country_fees: bool,
) -> (Vec<Group>, Stats) {
    // Grouped by id first and named once per group: a log of many accounts has a cell per
    // account, country and month, and a name made and looked up per cell cost more than billing.
    let id_of = |account: u32, country: &crate::event::Country, month: i32| match by {
        GroupBy::Country => country.index() as i64,
        GroupBy::Month => month as i64,
        GroupBy::Account => account as i64,
    };
    // Every row carries its fees: exact per month or account, a share by message count per
    // country (`compare::fee_shares`, as compare splits them), so the rows add up to the total.
    let mut rows: Vec<Group> = Vec::new();
    let mut index: FxHashMap<i64, usize> = FxHashMap::default();
    if by == GroupBy::Country {
        // Summed per country by the thread that finished the model, in the cells' order.
        for (country, s) in result.cells.by_country() {
            let id = id_of(0, country, 0);
            add_to_row((&mut rows, &mut index), id, &|| country.to_string(), s);
        }
    } else {
        // The cells come by account, then country: a row is often the previous cell's.
        let mut last: Option<(i64, usize)> = None;
        for ((account, country, month), s) in &result.cells {
            let id = id_of(*account, country, *month);
            match last {
                Some((l, i)) if l == id => rows[i].stats.add(&s),
                _ => {
                    let key = || match by {
                        GroupBy::Month => month_label(*month),
                        _ => account_label(log, *account),
                    };
                    last = Some((id, add_to_row((&mut rows, &mut index), id, &key, &s)));
                }
            }
        }
    }
    if by == GroupBy::Country {
        if country_fees {
            for (country, share) in crate::analysis::compare::fee_shares(result) {
                if let Some(&i) = index.get(&(country.index() as i64)) {
                    *rows[i].fees.get_or_insert(Decimal::ZERO) += share;
                }
            }
        }
    } else {
        for f in &result.fees {
            let id = match by {
                GroupBy::Month => f.month as i64,
                _ => f.account as i64,
            };
            if let Some(&i) = index.get(&id) {
                *rows[i].fees.get_or_insert(Decimal::ZERO) += f.amount;
            }
        }
    }
    let mut totals = Stats::default();
    for g in &rows {
        totals.add(&g.stats);
    }
    rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    (rows, totals)
}

/// Adds `s` to row `id` of `groups_and_totals` (made, named `key()`, if new); the row's place.
fn add_to_row(
    (rows, index): (&mut Vec<Group>, &mut FxHashMap<i64, usize>),
    id: i64,
    key: &dyn Fn() -> String,
    s: &Stats,
) -> usize {
    let i = *index.entry(id).or_insert_with(|| {
        rows.push(Group {
            key: key(),
            stats: Stats::default(),
            fees: Some(Decimal::ZERO),
        });
        rows.len() - 1
    });
    rows[i].stats.add(s);
    i
}

/// Everything an exporter needs.
pub struct Report<'a> {
    pub log: &'a Log,
    pub models: &'a [ModelResult],
    pub by: GroupBy,
    /// Print amounts at full precision in the table (CSV and JSON always are).
    pub full_precision: bool,
    pub tz: chrono_tz::Tz,
    /// Each account's properties and where they came from (`--accounts`).
    pub accounts: &'a crate::accounts::Accounts,
}

/// The accounts of the log with their properties, in id order, when an accounts file was
/// given (`None` without one: `--tz` and `--account-country` then apply to every account, as
/// the table's first line and each fee item say); and how many of the file's accounts the
/// log never uses.
pub fn account_props(report: &Report) -> Option<(Vec<(String, AccountProps)>, usize)> {
    report.accounts.file()?;
    let log = report.log;
    // The reader always names the default account; list only accounts with messages.
    let mut used = vec![false; log.accounts.len()];
    for &(account, _) in &log.account_months {
        used[account as usize] = true;
    }
    let rows: Vec<(String, AccountProps)> = (0..log.accounts.len() as u32)
        .filter(|&id| used[id as usize])
        .map(|id| {
            (
                account_label(log, id),
                report.accounts.props(log.account_name(id)),
            )
        })
        .collect();
    let used = rows.iter().filter(|(_, p)| p.in_file).count();
    Some((rows, report.accounts.file_accounts().len() - used))
}

/// The models a decision report covers, in the report currency.
pub struct Decision<'a> {
    /// The log, or `None` when comparing the rate cards themselves.
    pub log: Option<&'a Log>,
    pub currency: &'a str,
    /// (name, channel, own currency) per model, in column order.
    pub models: Vec<(String, &'static str, String)>,
    pub rates_used: Vec<FxRate>,
    pub full_precision: bool,
}

/// `compare` on a log: per country and in total, with the break-even summary.
pub struct CompareReport<'a> {
    pub d: Decision<'a>,
    pub comparison: &'a Comparison,
    pub scopes: &'a [Scope],
}

/// `compare` without a log: the cards side by side.
pub struct CardsReport<'a> {
    pub d: Decision<'a>,
    pub date: NaiveDate,
    pub messages_per_session: u32,
    pub rows: &'a [CardRow],
    pub sessions: &'a [SessionVsMessage],
}

/// `breakeven`: (a) commercial models, (b) session against per message, (c) channels.
pub struct BreakevenReport<'a> {
    pub d: Decision<'a>,
    pub scopes: &'a [Scope],
    pub sessions: &'a [SessionVsMessage],
    pub channels: Option<&'a Comparison>,
}

/// One output format.
pub trait Exporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()>;
    fn compare(&self, report: &CompareReport, out: &mut dyn Write) -> std::io::Result<()>;
    fn cards(&self, report: &CardsReport, out: &mut dyn Write) -> std::io::Result<()>;
    fn breakeven(&self, report: &BreakevenReport, out: &mut dyn Write) -> std::io::Result<()>;
}

pub fn export(exporter: &dyn Exporter, report: &Report, out: &mut dyn Write) -> Result<()> {
    finish(exporter.write(report, out), out)
}

/// Flushes and names a failed write.
pub fn finish(r: std::io::Result<()>, out: &mut dyn Write) -> Result<()> {
    r.and_then(|_| out.flush())
        .map_err(|e| Error::io("writing the report", e))
}

/// The account a break-even scope covers.
pub fn scope_label(log: Option<&Log>, account: Option<u32>) -> String {
    match (log, account) {
        (Some(l), Some(a)) => account_label(l, a),
        _ => "all accounts".to_string(),
    }
}

/// A card price for display: four decimals, as published.
pub fn display_price(d: Decimal) -> String {
    let mut r = d.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven);
    r.rescale(4);
    r.to_string()
}

/// `1 EUR = 1.1761 USD (source, date)` for each rate used.
pub fn rates_note(rates: &[FxRate]) -> Vec<String> {
    rates
        .iter()
        .map(|r| {
            format!(
                "1 {} = {} {} ({}, {})",
                r.base, r.rate, r.quote, r.source, r.date
            )
        })
        .collect()
}

/// A volume for people: whole messages with thousands separators (`120,000`), `<1` for a
/// volume under one message.
pub fn whole_volume(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    if r.is_zero() && d > Decimal::ZERO {
        return "<1".into();
    }
    let digits = r.abs().normalize().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if r < Decimal::ZERO {
        out.insert(0, '-');
    }
    out
}

/// `120,000 messages a month (about 6,000 sessions)` at k, sessions as model `i` counts them.
fn volume_text(scope: &Scope, k: Decimal, i: usize) -> String {
    let v = scope.volume_at(k);
    let sessions = v.sessions[i];
    if sessions.is_zero() {
        format!("{} messages a month", whole_volume(v.messages))
    } else {
        format!(
            "{} messages a month (about {} sessions)",
            whole_volume(v.messages),
            whole_volume(sessions)
        )
    }
}

/// Which model is cheaper over each range of volume, in words: `viber-legacy is cheaper
/// below 120,000 messages a month (about 6,000 sessions); viber-2024 above`.
pub fn regions_text(scope: &Scope, pair: &Pair, names: &[String]) -> String {
    let name = |c: Cheaper| match c {
        Cheaper::A => format!("{} is cheaper", names[pair.a]),
        Cheaper::B => format!("{} is cheaper", names[pair.b]),
        Cheaper::Equal => "they cost the same".to_string(),
    };
    if pair.regions.len() == 1 {
        return format!("{} at every volume", name(pair.regions[0].cheaper));
    }
    let mut parts = Vec::new();
    let mut prev: Option<Decimal> = None;
    for r in &pair.regions {
        // Later regions name the model alone: "viber-2024 above", "they cost the same above".
        let who = match (prev, r.cheaper) {
            (None, c) => name(c),
            (Some(_), Cheaper::A) => names[pair.a].clone(),
            (Some(_), Cheaper::B) => names[pair.b].clone(),
            (Some(_), Cheaper::Equal) => "they cost the same".into(),
        };
        parts.push(match (prev, r.to) {
            (None, Some(to)) => format!("{who} below {}", volume_text(scope, to, pair.a)),
            (Some(_), Some(to)) => format!("{who} up to {}", volume_text(scope, to, pair.a)),
            (_, None) => format!("{who} above"),
        });
        prev = r.to;
    }
    parts.join("; ")
}

/// An amount rounded half-even to the minor unit (2 places) for display.
pub fn display_amount(d: Decimal, full: bool) -> String {
    if full {
        return d.to_string();
    }
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
    r.rescale(2);
    r.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::CellTable;

    /// Cells (account, country, month 100) with `n` messages out at `cost` each; accounts
    /// 0 and 1 named `a` and `b`.
    fn model_and_log(cells: &[(u32, &str, u64, &str)]) -> (ModelResult, Log) {
        let cells = cells.iter().map(|&(a, c, n, cost)| {
            let s = Stats {
                messages_out: n,
                cost: cost.parse::<Decimal>().unwrap() * Decimal::from(n),
                ..Stats::default()
            };
            ((a, crate::event::Country::parse(c).unwrap(), 100), s)
        });
        let r = ModelResult {
            name: "m".into(),
            channel: "viber",
            currency: "EUR".into(),
            cells: CellTable::from_stats(cells),
            fees: Vec::new(),
            lines: Vec::new(),
            markets: Vec::new(),
            volumes: Default::default(),
            assumed_domestic: None,
        };
        let mut log = Log::new("log.csv".into(), Vec::new());
        log.accounts = vec!["a".into(), "b".into()];
        (r, log)
    }

    /// Worked by hand: DE = account a's 2 x 0.05 + account b's 3 x 0.05 = 5 out, 0.25;
    /// UA = a's 1 x 0.0125 = 0.0125; the total 6 out, 0.2625. By account: a = 0.1125, b = 0.15.
    #[test]
    fn rows_by_country_sum_a_country_over_its_accounts() {
        let (r, log) = model_and_log(&[
            (1, "DE", 3, "0.05"),
            (0, "UA", 1, "0.0125"),
            (0, "DE", 2, "0.05"),
        ]);
        let rows = |by| {
            let (groups, totals) = groups_and_totals(&r, by, &log, false);
            let rows: Vec<_> = (groups.iter())
                .map(|g| {
                    (
                        g.key.clone(),
                        g.stats.messages_out,
                        g.stats.cost.to_string(),
                    )
                })
                .collect();
            (rows, totals.messages_out, totals.cost.to_string())
        };
        let own = |v: &[(&str, u64, &str)]| -> Vec<_> {
            v.iter()
                .map(|(k, n, c)| (k.to_string(), *n, c.to_string()))
                .collect()
        };
        let want = own(&[("DE", 5, "0.25"), ("UA", 1, "0.0125")]);
        assert_eq!(rows(GroupBy::Country), (want, 6, "0.2625".into()));
        let want = own(&[("a", 3, "0.1125"), ("b", 3, "0.15")]);
        assert_eq!(rows(GroupBy::Account), (want, 6, "0.2625".into()));
        assert_eq!(r.totals().cost.to_string(), "0.2625");
    }

    #[test]
    fn whole_volumes_have_thousands_separators() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(whole_volume(d("120000")), "120,000");
        assert_eq!(whole_volume(d("60347.83")), "60,348");
        assert_eq!(whole_volume(d("2500.0")), "2,500");
        assert_eq!(whole_volume(d("999.5")), "1,000");
        assert_eq!(whole_volume(d("1234567")), "1,234,567");
        assert_eq!(whole_volume(d("0.4")), "<1");
        assert_eq!(whole_volume(d("0")), "0");
    }

    #[test]
    fn display_rounds_half_even_to_cents() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(display_amount(d("0.125"), false), "0.12");
        assert_eq!(display_amount(d("0.135"), false), "0.14");
        assert_eq!(display_amount(d("0.0247"), false), "0.02");
        assert_eq!(display_amount(d("100"), false), "100.00");
        assert_eq!(display_amount(d("0.0247"), true), "0.0247");
    }
}
