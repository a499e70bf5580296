//! Break-even volumes between commercial models (docs/billing-rules.md §6): each account's average month,
//! scaled by k, priced by every model; the crossings of every pair.

use super::curve::{regions, Allowance, Curve, Part, Region, K_LIMIT};
use crate::billing::ModelResult;
use crate::error::{Error, Result};
use crate::rates::fx::Conversion;
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
    /// Months of the log with traffic (the mix is their average).
    pub months: u32,
    /// At k = 1: the average month's messages (both directions).
    pub messages: Decimal,
    /// At k = 1: sessions or conversations opened per month, per model.
    pub sessions: Vec<Decimal>,
    /// Per model, in the report currency.
    pub curves: Vec<Curve>,
    pub pairs: Vec<Pair>,
}

impl Scope {
    /// The volume at a scale factor: (messages, sessions per model).
    pub fn volume_at(&self, k: Decimal) -> (Decimal, Vec<Decimal>) {
        (
            self.messages * k,
            self.sessions.iter().map(|s| s * k).collect(),
        )
    }
}

/// One model's cost curve for one account: its average month, fees and allowances fixed.
fn part(r: &ModelResult, conv: &Conversion, account: u32) -> Result<(Part, u32, Decimal, Decimal)> {
    let months: Vec<_> = r
        .volumes
        .range((account, i32::MIN)..=(account, i32::MAX))
        .collect();
    let j = Decimal::from(months.len().max(1) as u64);
    let mut linear = Decimal::ZERO;
    let (mut messages, mut sessions) = (0u64, 0u64);
    // Per pool kind: (size, items, value) summed over months.
    let mut pools: BTreeMap<_, (u64, u64, Decimal)> = BTreeMap::new();
    for (_, v) in &months {
        linear += v.linear;
        messages += v.messages;
        sessions += v.sessions;
        for (kind, p) in &v.pools {
            let e = pools.entry(*kind).or_insert((0, 0, Decimal::ZERO));
            e.0 = e.0.max(p.size);
            e.1 += p.items;
            e.2 += p.value;
        }
    }
    let allowances = pools
        .into_values()
        .filter(|(_, items, _)| *items > 0)
        .map(|(size, items, value)| {
            // Free until k * items/month reaches the allowance, then every item at its
            // average price: slope = the month's value.
            Allowance::new(
                Decimal::from(size) * j,
                Decimal::from(items),
                conv.apply(value)? / j,
            )
            .ok_or_else(|| too_large(&r.name))
        })
        .collect::<Result<_>>()?;
    // The fee tier: the highest the account paid in any month of the log.
    // The fees are in (account, month) order: the account's are found by halving, not by a
    // scan per account (quadratic in the accounts of a large portfolio).
    let first = r.fees.partition_point(|f| f.account < account);
    let last = r.fees.partition_point(|f| f.account <= account);
    let fee = r.fees[first..last]
        .iter()
        .max_by_key(|f| f.tier)
        .map(|f| Ok((f.kind, conv.apply(f.tier)?)))
        .transpose()?;
    Ok((
        Part {
            fee,
            linear: conv.apply(linear / j)?,
            allowances,
        },
        months.len() as u32,
        Decimal::from(messages) / j,
        Decimal::from(sessions) / j,
    ))
}

/// The error when a model's costs are too large to solve for break-evens.
fn too_large(model: &str) -> Error {
    Error::Rates {
        file: model.to_string(),
        line: 0,
        msg: format!(
            "break-even: the monthly costs are too large to solve up to {K_LIMIT} times the \
             log's volume (see the price and FX ranges in rates/README.md)"
        ),
    }
}

/// Evaluating a curve or a volume at any k up to 2 x `K_LIMIT` cannot overflow: each term of
/// a curve (`fee`, `linear k`, `slope k - offset`) and each volume (`messages k`,
/// `sessions k`) is at most `bound x 2 K_LIMIT`, and their sum and any difference of two
/// curves at most `4 bound K_LIMIT`, which is checked here to fit. Real logs are far inside:
/// the bound allows monthly costs and volumes up to about 2e13.
fn check_scale(
    curves: &[Curve],
    messages: Decimal,
    sessions: &[Decimal],
    names: &[&str],
) -> Result<()> {
    let mut bound = Some(messages);
    for (i, c) in curves.iter().enumerate() {
        bound = bound.and_then(|b| b.checked_add(sessions[i]));
        for p in &c.parts {
            let fee = p.fee.map(|f| f.1).unwrap_or_default();
            bound = bound
                .and_then(|b| b.checked_add(fee))
                .and_then(|b| b.checked_add(p.linear));
            for a in &p.allowances {
                bound = bound
                    .and_then(|b| b.checked_add(a.slope))
                    .and_then(|b| b.checked_add(a.offset));
            }
        }
        let limit = bound.and_then(|b| b.checked_mul(K_LIMIT * Decimal::from(4)));
        if limit.is_none() {
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

/// Break-evens per account, then for every account together when there are several.
pub fn breakeven(results: &[ModelResult], conv: &[Conversion]) -> Result<Vec<Scope>> {
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    let mut accounts: Vec<u32> = results
        .iter()
        .flat_map(|r| r.volumes.keys().map(|(a, _)| *a))
        .collect();
    accounts.sort();
    accounts.dedup();
    let mut scopes = Vec::new();
    for &account in &accounts {
        let mut curves = Vec::new();
        let mut sessions = Vec::new();
        let (mut months, mut messages) = (0, Decimal::ZERO);
        for (r, c) in results.iter().zip(conv) {
            let (p, m, msgs, sess) = part(r, c, account)?;
            curves.push(Curve { parts: vec![p] });
            sessions.push(sess);
            (months, messages) = (m, msgs);
        }
        check_scale(&curves, messages, &sessions, &names)?;
        scopes.push(Scope {
            account: Some(account),
            months,
            messages,
            sessions,
            pairs: pairs(&curves),
            curves,
        });
    }
    if scopes.len() > 1 {
        let n = results.len();
        let mut all = Scope {
            account: None,
            months: scopes.iter().map(|s| s.months).max().unwrap_or(0),
            messages: scopes.iter().map(|s| s.messages).sum(),
            sessions: (0..n)
                .map(|i| scopes.iter().map(|s| s.sessions[i]).sum())
                .collect(),
            curves: (0..n)
                .map(|i| Curve {
                    parts: scopes
                        .iter()
                        .flat_map(|s| s.curves[i].parts.clone())
                        .collect(),
                })
                .collect(),
            pairs: Vec::new(),
        };
        check_scale(&all.curves, all.messages, &all.sessions, &names)?;
        all.pairs = pairs(&all.curves);
        scopes.push(all);
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(v: &str) -> Curve {
        Curve {
            parts: vec![Part {
                fee: None,
                linear: v.parse().unwrap(),
                allowances: Vec::new(),
            }],
        }
    }

    #[test]
    fn costs_too_large_to_solve_are_a_rates_error() {
        let one = [Decimal::ONE];
        // 1e13 + 1 (messages) + 1 (sessions), x 4e15 = 4e28: fits under 7.9e28.
        assert!(check_scale(&[linear("10000000000000")], Decimal::ONE, &one, &["m"]).is_ok());
        // 2e13 x 4e15 = 8e28: does not.
        let e = check_scale(&[linear("20000000000000")], Decimal::ONE, &one, &["m"])
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
        assert!(e
            .to_string()
            .starts_with("m: break-even: the monthly costs are too large"));
    }
}
