//! Models side by side in one currency: per country and in total, the cheapest marked.

use crate::billing::ModelResult;
use crate::error::{Error, Result};
use crate::event::Country;
use crate::rates::fx::{Conversion, FxTable};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One model's column, converted into the report currency.
#[derive(Clone, Debug)]
pub struct Column {
    pub model: String,
    pub channel: &'static str,
    /// The model's own currency and the conversion applied.
    pub conversion: Conversion,
    /// Message and session charges.
    pub messages: Decimal,
    pub fees: Decimal,
    pub total: Decimal,
    pub unpriced: u64,
    /// `total` minus the cheapest complete model's total.
    pub difference: Decimal,
}

impl Column {
    pub fn complete(&self) -> bool {
        self.unpriced == 0
    }
}

/// One country's cost per model: its charges plus its share of the monthly fees.
#[derive(Clone, Debug)]
pub struct CountryRow {
    pub country: Country,
    /// Per model: charges plus fee share.
    pub costs: Vec<Decimal>,
    /// Per model: the fee share alone (`costs` minus it is the message and session charges).
    pub fees: Vec<Decimal>,
    pub unpriced: Vec<u64>,
    /// The cheapest model with every message priced, and by how much it beats the next one.
    pub cheapest: Option<usize>,
    pub margin: Option<Decimal>,
    /// The cheapest model of the other channel, and how much more it costs than `cheapest`.
    pub other_channel: Option<(usize, Decimal)>,
}

pub struct Comparison {
    pub currency: String,
    pub columns: Vec<Column>,
    pub countries: Vec<CountryRow>,
    /// The complete model with the lowest total.
    pub cheapest: Option<usize>,
}

impl Comparison {
    /// The published rates used, each once.
    pub fn rates_used(&self) -> Vec<crate::rates::fx::FxRate> {
        let mut out: Vec<crate::rates::fx::FxRate> = Vec::new();
        for c in &self.columns {
            for r in &c.conversion.rates {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        out
    }
}

/// The conversion of every model's currency into `currency` (an error names what is missing).
pub fn conversions(
    models: &[(String, String)],
    currency: &str,
    fx: Option<&FxTable>,
    on: Option<NaiveDate>,
) -> Result<Vec<Conversion>> {
    models
        .iter()
        .map(|(name, from)| {
            let same = Conversion {
                from: from.clone(),
                to: currency.to_string(),
                mul: Decimal::ONE,
                div: Decimal::ONE,
                rates: Vec::new(),
            };
            if from == currency {
                return Ok(same);
            }
            fx.and_then(|t| t.conversion(from, currency, on))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--currency: no exchange rate from {from} to {currency} for model {name} ({})",
                        fx.map(|t| t.file.as_str()).unwrap_or("no fx.csv in the rate directory")
                    ))
                })
        })
        .collect()
}

/// The index of the smallest value among those allowed, with the gap to the next one.
fn cheapest_of(values: &[(usize, Decimal)]) -> Option<(usize, Option<Decimal>)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let first = *sorted.first()?;
    Some((first.0, sorted.get(1).map(|s| s.1 - first.1)))
}

/// Each account-month's fee shared among its countries by message count, each share rounded
/// half-even to 4 decimal places (the precision of the cards: a spreadsheet cell, not 28
/// digits), the last country taking the remainder, so the shares add up to the fee exactly. Every command that splits
/// fees by country uses these shares (replay's country rows, compare's), so a sheet's country
/// rows add up to its total row.
pub fn fee_shares(r: &ModelResult) -> Vec<(Country, Decimal)> {
    if r.fees.is_empty() {
        return Vec::new();
    }
    // Message counts per (account, month), each's countries in order: the cells are by
    // (account, country, month), and a stable sort on (account, month) keeps the countries'
    // order (a list, not a map of lists: a log of many accounts has cells by the 100,000).
    let mut all: Vec<((u32, i32), Country, u64)> = (r.cells.iter())
        .map(|((a, c, m), s)| ((*a, *m), *c, s.messages_in + s.messages_out))
        .collect();
    all.sort_by_key(|c| c.0);
    let mut out = Vec::new();
    for f in &r.fees {
        let key = (f.account, f.month);
        let from = all.partition_point(|c| c.0 < key);
        let to = from + all[from..].partition_point(|c| c.0 == key);
        let counts: Vec<(Country, u64)> = all[from..to].iter().map(|c| (c.1, c.2)).collect();
        if counts.is_empty() {
            continue;
        }
        let total: u64 = counts.iter().map(|c| c.1).sum();
        if total == 0 {
            continue;
        }
        let mut left = f.amount;
        for (j, (c, n)) in counts.iter().enumerate() {
            let share = if j + 1 == counts.len() {
                left
            } else {
                (f.amount * Decimal::from(*n) / Decimal::from(total))
                    .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointNearestEven)
            };
            left -= share;
            out.push((*c, share));
        }
    }
    out
}

/// Per model: a country's costs (charges plus fee share), unpriced counts and fee shares.
type CountryCosts = (Vec<Decimal>, Vec<u64>, Vec<Decimal>);

/// The models side by side in `currency`. Converting can overflow (fx.rs `apply`), so every
/// converted sum is checked; a fee share cannot overflow: a fee (at most 1e6) times a message
/// count (under 2^64) is at most 1.9e25.
pub fn compare(results: &[ModelResult], conv: &[Conversion], currency: &str) -> Result<Comparison> {
    let mut columns = Vec::new();
    let mut by_country: BTreeMap<Country, CountryCosts> = BTreeMap::new();
    let n = results.len();
    for (i, (r, c)) in results.iter().zip(conv).enumerate() {
        let totals = r.totals();
        let messages = c.apply(totals.cost)?;
        let fees = c.apply(r.fee_total())?;
        columns.push(Column {
            model: r.name.clone(),
            channel: r.channel,
            conversion: c.clone(),
            messages,
            fees,
            total: add(messages, fees, c)?,
            unpriced: totals.unpriced,
            difference: Decimal::ZERO,
        });
        for ((_, country, _), s) in &r.cells {
            let row = by_country
                .entry(*country)
                .or_insert_with(|| (vec![Decimal::ZERO; n], vec![0; n], vec![Decimal::ZERO; n]));
            row.0[i] = add(row.0[i], c.apply(s.cost)?, c)?;
            row.1[i] += s.unpriced;
        }
        for (country, share) in fee_shares(r) {
            if let Some(row) = by_country.get_mut(&country) {
                let share = c.apply(share)?;
                row.0[i] = add(row.0[i], share, c)?;
                row.2[i] = add(row.2[i], share, c)?;
            }
        }
    }
    let complete: Vec<(usize, Decimal)> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.complete())
        .map(|(i, c)| (i, c.total))
        .collect();
    let cheapest = cheapest_of(&complete).map(|c| c.0);
    if let Some(best) = cheapest {
        let t = columns[best].total;
        for c in &mut columns {
            c.difference = c.total - t;
        }
    }
    let countries = by_country
        .into_iter()
        .map(|(country, (costs, unpriced, fees))| {
            let priced: Vec<(usize, Decimal)> = (0..n)
                .filter(|&i| unpriced[i] == 0)
                .map(|i| (i, costs[i]))
                .collect();
            let best = cheapest_of(&priced);
            let other_channel = best.and_then(|(b, _)| {
                let other: Vec<(usize, Decimal)> = priced
                    .iter()
                    .copied()
                    .filter(|(i, _)| columns[*i].channel != columns[b].channel)
                    .collect();
                cheapest_of(&other).map(|(o, _)| (o, costs[o] - costs[b]))
            });
            CountryRow {
                country,
                costs,
                fees,
                unpriced,
                cheapest: best.map(|b| b.0),
                margin: best.and_then(|b| b.1),
                other_channel,
            }
        })
        .collect();
    Ok(Comparison {
        currency: currency.to_string(),
        columns,
        countries,
        cheapest,
    })
}

/// A sum of converted amounts (each non-negative, so only a sum can overflow; a difference
/// of two cannot).
fn add(a: Decimal, b: Decimal, c: &Conversion) -> Result<Decimal> {
    let rate = c.rates.first();
    a.checked_add(b).ok_or_else(|| Error::Rates {
        file: rate
            .map(|r| r.file.clone())
            .unwrap_or_else(|| "fx.csv".into()),
        line: rate.map(|r| r.line).unwrap_or(0),
        msg: format!(
            "amounts converted from {} to {} add up beyond the largest amount simcost can hold",
            c.from, c.to
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::{CellTable, FeeItem, Stats, TierFrom};
    use crate::rates::FeeKind;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn fee(account: u32, month: i32, amount: &str) -> FeeItem {
        FeeItem {
            account,
            month,
            country: None,
            from: TierFrom::HighestTier,
            kind: FeeKind::Flat,
            tier: dec(amount),
            spend: Decimal::ZERO,
            amount: dec(amount),
            before_minimum: None,
        }
    }

    /// A model's result with these cells (messages in, by key) and fees.
    fn result(cells: &[((u32, &str, i32), u64)], fees: Vec<FeeItem>) -> ModelResult {
        let cells = cells.iter().map(|&((a, c, m), n)| {
            let s = Stats {
                messages_in: n,
                ..Stats::default()
            };
            ((a, Country::parse(c).unwrap(), m), s)
        });
        ModelResult {
            name: "m".into(),
            channel: "viber",
            currency: "EUR".into(),
            cells: CellTable::from_stats(cells),
            fees,
            lines: Vec::new(),
            markets: Vec::new(),
            volumes: BTreeMap::new(),
            assumed_domestic: None,
        }
    }

    /// Worked by hand. Account 1, month 100: fee 10 over DE 1 message and UA 2 (its month
    /// 101 cell of DE between them in key order): DE 10 x 1/3 = 3.3333, UA the rest 6.6667.
    /// Account 1, month 101: 2, all DE. Account 2, month 100: 5, all DE. Account 3 has a
    /// fee and no cell: no share.
    #[test]
    fn each_fee_is_shared_among_its_account_months_countries_by_messages() {
        let r = result(
            &[
                ((1, "DE", 100), 1),
                ((1, "DE", 101), 4),
                ((1, "UA", 100), 2),
                ((2, "DE", 100), 4),
            ],
            vec![
                fee(1, 100, "10"),
                fee(1, 101, "2"),
                fee(2, 100, "5"),
                fee(3, 100, "7"),
            ],
        );
        let got: Vec<_> = (fee_shares(&r).into_iter())
            .map(|(c, d)| (c.to_string(), d.to_string()))
            .collect();
        let want = [("DE", "3.3333"), ("UA", "6.6667"), ("DE", "2"), ("DE", "5")];
        let want: Vec<_> = (want.iter())
            .map(|(c, d)| (c.to_string(), d.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
