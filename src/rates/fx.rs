//! Currency conversion with the dated reference rates of `fx.csv` (RULES.md 5): every rate
//! is quoted against a base (the ECB's euro), so any pair converts through the base.

use super::table::{cell, RateCsv};
use crate::error::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One published rate: 1 `base` = `rate` `quote` on `date`.
#[derive(Clone, Debug, PartialEq)]
pub struct FxRate {
    pub date: NaiveDate,
    pub base: String,
    pub quote: String,
    pub rate: Decimal,
    pub source: String,
    pub line: u64,
}

pub struct FxTable {
    pub file: String,
    pub rates: Vec<FxRate>,
}

/// How one currency converts into another: the rates used (none for the same currency).
#[derive(Clone, Debug)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    /// An amount in `from` times `mul` divided by `div` is the amount in `to` (kept apart so
    /// that dividing by a published rate stays a single division).
    pub mul: Decimal,
    pub div: Decimal,
    /// The published rates behind `factor`.
    pub rates: Vec<FxRate>,
}

impl Conversion {
    pub fn apply(&self, amount: Decimal) -> Decimal {
        if self.div == Decimal::ONE {
            amount * self.mul
        } else {
            amount * self.mul / self.div
        }
    }

    /// One unit of `from` in `to`.
    pub fn factor(&self) -> Decimal {
        self.mul / self.div
    }
}

impl FxTable {
    pub fn parse(file: &str, text: &str) -> Result<FxTable> {
        let t = RateCsv::parse(file, text)?;
        let cols = ["date", "base", "quote", "rate", "source"]
            .map(|c| t.column(c))
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let mut rates = Vec::new();
        for (line, rec) in &t.rows {
            let line = *line;
            let date = cell(rec, cols[0]);
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| t.err(line, format!("date is not a YYYY-MM-DD date ({date})")))?;
            let code = |i: usize, name: &str| {
                let c = cell(rec, cols[i]);
                if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c.to_string())
                } else {
                    Err(t.err(line, format!("{name} is not a currency code ({c})")))
                }
            };
            let (base, quote) = (code(1, "base")?, code(2, "quote")?);
            let r = cell(rec, cols[3]);
            let rate: Decimal = r
                .parse()
                .ok()
                .filter(|d: &Decimal| *d > Decimal::ZERO)
                .ok_or_else(|| t.err(line, format!("rate is not a positive number ({r})")))?;
            rates.push(FxRate {
                date,
                base,
                quote,
                rate,
                source: cell(rec, cols[4]).to_string(),
                line,
            });
        }
        Ok(FxTable {
            file: file.to_string(),
            rates,
        })
    }

    /// The latest rate for `base -> quote` dated on or before `on` (any date when `None`).
    fn latest(&self, base: &str, quote: &str, on: Option<NaiveDate>) -> Option<&FxRate> {
        self.rates
            .iter()
            .filter(|r| r.base == base && r.quote == quote && on.is_none_or(|d| r.date <= d))
            .max_by_key(|r| (r.date, r.line))
    }

    /// The conversion `from -> to` with the latest rates dated on or before `on`, directly,
    /// inverted, or through a common base.
    pub fn conversion(&self, from: &str, to: &str, on: Option<NaiveDate>) -> Option<Conversion> {
        let conv = |mul, div, rates| {
            Some(Conversion {
                from: from.to_string(),
                to: to.to_string(),
                mul,
                div,
                rates,
            })
        };
        if from == to {
            return conv(Decimal::ONE, Decimal::ONE, Vec::new());
        }
        if let Some(r) = self.latest(from, to, on) {
            return conv(r.rate, Decimal::ONE, vec![r.clone()]);
        }
        if let Some(r) = self.latest(to, from, on) {
            return conv(Decimal::ONE, r.rate, vec![r.clone()]);
        }
        // Through a base both are quoted against: from -> base -> to.
        let mut bases: Vec<&str> = self.rates.iter().map(|r| r.base.as_str()).collect();
        bases.sort();
        bases.dedup();
        for base in bases {
            if let (Some(a), Some(b)) = (self.latest(base, from, on), self.latest(base, to, on)) {
                return conv(b.rate, a.rate, vec![a.clone(), b.clone()]);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "date,base,quote,rate,source\n\
        2026-01-02,EUR,USD,1.2500,test\n\
        2026-05-08,EUR,USD,1.1761,ECB\n\
        2026-05-08,EUR,BRL,5.7794,ECB\n";

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn direct_inverse_and_cross_rates() {
        let t = FxTable::parse("fx.csv", TEXT).unwrap();
        let c = t.conversion("EUR", "USD", None).unwrap();
        assert_eq!(c.factor(), d("1.1761"));
        assert_eq!(c.rates[0].date.to_string(), "2026-05-08");
        // The rate in force on a date: the latest published on or before it.
        let on = NaiveDate::from_ymd_opt(2026, 3, 1);
        assert_eq!(t.conversion("EUR", "USD", on).unwrap().factor(), d("1.25"));
        assert_eq!(
            t.conversion("USD", "EUR", on).unwrap().apply(d("2.5")),
            d("2")
        );
        // USD -> BRL through the euro: 5.7794 / 1.1761.
        let x = t.conversion("USD", "BRL", None).unwrap();
        assert_eq!(x.factor(), d("5.7794") / d("1.1761"));
        assert_eq!(x.rates.len(), 2);
        assert!(t.conversion("EUR", "JPY", None).is_none());
        assert_eq!(
            t.conversion("EUR", "EUR", None).unwrap().factor(),
            Decimal::ONE
        );
    }

    #[test]
    fn a_bad_rate_names_its_line() {
        let e = FxTable::parse(
            "fx.csv",
            "date,base,quote,rate,source\n2026-01-02,EUR,USD,-1,x\n",
        )
        .err()
        .unwrap();
        assert_eq!(
            e.to_string(),
            "fx.csv:2: rate is not a positive number (-1)"
        );
    }
}
