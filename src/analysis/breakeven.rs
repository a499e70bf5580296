//! Break-even volumes between commercial models (docs/billing-rules.md §6): the log with every
//! contact copied k times, priced by every model exactly as replay bills it - month by month,
//! allowances in time order, fees and minimum commitments per account-month - and the
//! crossings of every pair.

use super::curve::{allowance_cost, regions, Curve, Line, Region, K_LIMIT};
use crate::billing::{FeeItem, ModelResult, Volume};
use crate::calendar::date_from_days;
use crate::error::{Error, Result};
use crate::input::Log;
use crate::rates::fx::Conversion;
use crate::rates::FeeKind;
use chrono::Datelike;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A pair of models and the volumes over which each is cheaper.
#[derive(Clone, Debug)]
pub struct Pair {
    pub a: usize,
    pub b: usize,
    pub regions: Vec<Region>,
}

/// One account's (or every account's) traffic and its break-evens.
#[derive(Clone, Debug)]
pub struct Scope {
    /// `None`: every account together.
    pub account: Option<u32>,
    /// The log's length in months: each calendar month it spans counted by the share of its
    /// days from the log's first to last day, at least 1 (a shorter log is one month's
    /// traffic). Volumes per month are the log's divided by it; costs are never divided.
    pub months: Decimal,
    /// In the whole log at k = 1: messages (both directions).
    pub messages: Decimal,
    /// Outbound (business) messages.
    pub business: Decimal,
    /// Sessions or conversations opened, per model.
    pub sessions: Vec<Decimal>,
    /// Per model: what replay bills for the whole log at k, in the report currency.
    pub curves: Vec<Curve>,
    /// Per model: messages the card could not price (left out of its curve).
    pub unpriced: Vec<u64>,
    pub pairs: Vec<Pair>,
}

/// Volumes a month at a scale factor.
#[derive(Clone, Debug, PartialEq)]
pub struct Monthly {
    pub messages: Decimal,
    pub business: Decimal,
    /// Per model.
    pub sessions: Vec<Decimal>,
}

impl Scope {
    /// The volume a month at k times the log.
    pub fn volume_at(&self, k: Decimal) -> Monthly {
        let per = |v: Decimal| v * k / self.months;
        Monthly {
            messages: per(self.messages),
            business: per(self.business),
            sessions: self.sessions.iter().map(|s| per(*s)).collect(),
        }
    }

    /// Model `i`'s cost of the log at k times its volume.
    pub fn cost_at(&self, i: usize, k: Decimal) -> Decimal {
        self.curves[i].eval(k)
    }

    pub fn complete(&self, i: usize) -> bool {
        self.unpriced[i] == 0
    }
}

/// The months a log spans (see `Scope::months`).
pub fn months_spanned(log: &Log) -> Decimal {
    let days = log.events.iter().map(|e| e.day);
    let (Some(first), Some(last)) = (days.clone().min(), days.max()) else {
        return Decimal::ONE;
    };
    let mut months = Decimal::ZERO;
    let mut day = first;
    while day <= last {
        let date = date_from_days(day);
        let in_month = days_in_month(date.year(), date.month());
        let left_in_month = in_month - date.day0() as i32;
        let covered = left_in_month.min(last - day + 1);
        months += Decimal::from(covered) / Decimal::from(in_month);
        day += left_in_month;
    }
    months.max(Decimal::ONE)
}

fn days_in_month(year: i32, month: u32) -> i32 {
    let next = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1);
    match (first, next) {
        (Some(f), Some(n)) => (n - f).num_days() as i32,
        _ => 31,
    }
}

/// One account-month's charges as replay bills them at k copies, before any fee.
fn month_variable(v: &Volume, conv: &Conversion, model: &str) -> Result<Curve> {
    let linear = Curve::linear(Line {
        a: Decimal::ZERO,
        b: conv.apply(v.linear)?,
    });
    let mut parts = vec![linear];
    for pool in v.pools.values() {
        let runs = pool
            .runs
            .iter()
            .map(|(p, n)| Ok((conv.apply(*p)?, *n)))
            .collect::<Result<Vec<_>>>()?;
        parts.push(allowance_cost(pool.size, &runs).ok_or_else(|| too_large(model))?);
    }
    Ok(Curve::sum(parts.iter().map(|c| (c, 1))))
}

/// The month's fee or minimum commitment applied to its charges.
fn with_fee(variable: Curve, fee: Option<&FeeItem>, conv: &Conversion) -> Result<Curve> {
    let Some(f) = fee else {
        return Ok(variable);
    };
    let tier = conv.apply(f.tier)?;
    Ok(match f.kind {
        // Waived (`minimum_from_month`): the month pays its spend only.
        FeeKind::Minimum if f.before_minimum.is_some() => variable,
        FeeKind::Minimum => variable.at_least(tier),
        FeeKind::Flat => Curve::sum([
            (&variable, 1),
            (
                &Curve::linear(Line {
                    a: tier,
                    b: Decimal::ZERO,
                }),
                1,
            ),
        ]),
    })
}

/// One model's cost of one account's traffic at k copies: the sum of its months.
fn account_curve(r: &ModelResult, conv: &Conversion, account: u32) -> Result<Curve> {
    // The fees are in (account, month) order: the account's are found by halving, not by a
    // scan per account (quadratic in the accounts of a large portfolio).
    let first = r.fees.partition_point(|f| f.account < account);
    let last = r.fees.partition_point(|f| f.account <= account);
    let fees = &r.fees[first..last];
    let mut months = Vec::new();
    for ((_, month), v) in r.volumes.range((account, i32::MIN)..=(account, i32::MAX)) {
        let fee = fees.iter().find(|f| f.month == *month);
        months.push(with_fee(month_variable(v, conv, &r.name)?, fee, conv)?);
    }
    Ok(Curve::sum(months.iter().map(|c| (c, 1))))
}

/// The error when a model's costs are too large to solve for break-evens.
fn too_large(model: &str) -> Error {
    Error::Rates {
        file: model.to_string(),
        line: 0,
        msg: format!(
            "break-even: the costs are too large to solve up to {K_LIMIT} times the log's \
             volume (see the price and FX ranges in rates/README.md)"
        ),
    }
}

/// Evaluating a curve or a volume at any k up to 2 x `K_LIMIT` cannot overflow: every line
/// `a + b k` of a curve and every volume, with |a| + |b| 4 `K_LIMIT` checked here to fit (the
/// difference of two curves stays within twice that). Real logs are far inside: the bound
/// allows costs and volumes up to about 2e13 per unit of k.
fn check_scale(scope: &Scope, names: &[&str]) -> Result<()> {
    let four = K_LIMIT * Decimal::from(4);
    let fits = |a: Decimal, b: Decimal| {
        b.abs()
            .checked_mul(four)
            .and_then(|x| x.checked_add(a.abs()))
            .and_then(|x| x.checked_mul(Decimal::TWO))
            .is_some()
    };
    for (i, c) in scope.curves.iter().enumerate() {
        let volumes = scope.messages + scope.sessions[i];
        if !fits(Decimal::ZERO, volumes) || !c.lines().iter().all(|l| fits(l.a, l.b)) {
            return Err(too_large(names[i]));
        }
    }
    Ok(())
}

fn pairs(curves: &[Curve]) -> Vec<Pair> {
    let mut out = Vec::new();
    for a in 0..curves.len() {
        for b in a + 1..curves.len() {
            out.push(Pair {
                a,
                b,
                regions: regions(&curves[a], &curves[b]),
            });
        }
    }
    out
}

/// Per account: outbound messages, and unpriced messages per model (one pass over the cells).
type CellCounts = BTreeMap<u32, (u64, Vec<u64>)>;

fn cell_counts(results: &[ModelResult]) -> CellCounts {
    let mut out: CellCounts = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        for ((account, _, _), s) in &r.cells {
            let e = out
                .entry(*account)
                .or_insert_with(|| (0, vec![0; results.len()]));
            if i == 0 {
                // Engine counts: the same for every model.
                e.0 += s.messages_out;
            }
            e.1[i] += s.unpriced;
        }
    }
    out
}

/// One account's scope: its traffic (counted once: engine counts agree across models).
fn account_scope(
    results: &[ModelResult],
    conv: &[Conversion],
    account: u32,
    months: Decimal,
    counts: &CellCounts,
) -> Result<Scope> {
    let in_account = |r: &ModelResult, f: fn(&Volume) -> u64| -> Decimal {
        let range = r.volumes.range((account, i32::MIN)..=(account, i32::MAX));
        Decimal::from(range.map(|(_, v)| f(v)).sum::<u64>())
    };
    let (business, unpriced) = counts
        .get(&account)
        .cloned()
        .unwrap_or_else(|| (0, vec![0; results.len()]));
    let mut scope = Scope {
        account: Some(account),
        months,
        messages: in_account(&results[0], |v| v.messages),
        business: Decimal::from(business),
        sessions: Vec::new(),
        curves: Vec::new(),
        unpriced,
        pairs: Vec::new(),
    };
    for (r, c) in results.iter().zip(conv) {
        scope.sessions.push(in_account(r, |v| v.sessions));
        scope.curves.push(account_curve(r, c, account)?);
    }
    Ok(scope)
}

/// Every account together: the sum of the accounts' cost functions and volumes.
fn all_accounts(scopes: &[Scope], n: usize, months: Decimal) -> Scope {
    Scope {
        account: None,
        months,
        messages: scopes.iter().map(|s| s.messages).sum(),
        business: scopes.iter().map(|s| s.business).sum(),
        sessions: (0..n)
            .map(|i| scopes.iter().map(|s| s.sessions[i]).sum())
            .collect(),
        curves: (0..n)
            .map(|i| Curve::sum(scopes.iter().map(|s| (&s.curves[i], 1))))
            .collect(),
        unpriced: (0..n)
            .map(|i| scopes.iter().map(|s| s.unpriced[i]).sum())
            .collect(),
        pairs: Vec::new(),
    }
}

/// Break-evens per account, then for every account together when there are several.
/// `results` must have been billed with `BillingOptions::pool_runs` (which also keeps their
/// `volumes`).
pub fn breakeven(log: &Log, results: &[ModelResult], conv: &[Conversion]) -> Result<Vec<Scope>> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    let months = months_spanned(log);
    let mut accounts: Vec<u32> = results
        .iter()
        .flat_map(|r| r.volumes.keys().map(|(a, _)| *a))
        .collect();
    accounts.sort();
    accounts.dedup();
    let counts = cell_counts(results);
    let mut scopes = Vec::new();
    for &account in &accounts {
        let mut scope = account_scope(results, conv, account, months, &counts)?;
        check_scale(&scope, &names)?;
        scope.pairs = pairs(&scope.curves);
        scopes.push(scope);
    }
    if scopes.len() > 1 {
        let mut all = all_accounts(&scopes, results.len(), months);
        check_scale(&all, &names)?;
        all.pairs = pairs(&all.curves);
        scopes.push(all);
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(b: &str) -> Scope {
        Scope {
            account: None,
            months: Decimal::ONE,
            messages: Decimal::ONE,
            business: Decimal::ONE,
            sessions: vec![Decimal::ONE],
            curves: vec![Curve::linear(Line {
                a: Decimal::ZERO,
                b: b.parse().unwrap(),
            })],
            unpriced: vec![0],
            pairs: Vec::new(),
        }
    }

    #[test]
    fn costs_too_large_to_solve_are_a_rates_error() {
        // 1e13 x 4e15 = 4e28, doubled 8e28: does not fit under 7.9e28; 9e12 does.
        assert!(check_scale(&scope("9000000000000"), &["m"]).is_ok());
        let e = check_scale(&scope("10000000000000"), &["m"]).err().unwrap();
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
        assert!(e
            .to_string()
            .starts_with("m: break-even: the costs are too large"));
    }
}
