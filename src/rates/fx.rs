//! Currency conversion with the dated reference rates of `fx.csv` (docs/billing-rules.md §5): every rate
//! is quoted against a base (the ECB's euro), so any pair converts through the base.

use super::table::{cell, RateCsv, FX_MAX, FX_MAX_PLACES, FX_MIN};
use crate::error::{Error, Result};
use std::collections::HashMap;

/// The FX file's name in an overflow error of a conversion without rates.
const FX_NAME: &str = "fx.csv";
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
    /// The file and line the rate was read from.
    pub file: String,
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
    /// `amount` in `to`; an error when it is beyond the largest Decimal. Within the documented
    /// ranges a replay's total is at most 1.9e25 (table.rs, `MAX_FEE`) and a factor at most
    /// 1e12 (1e6 / 1e-6 through a base), so a conversion can overflow: it is checked.
    pub fn apply(&self, amount: Decimal) -> Result<Decimal> {
        let converted = if self.div == Decimal::ONE {
            amount.checked_mul(self.mul)
        } else {
            amount
                .checked_mul(self.mul)
                .and_then(|x| x.checked_div(self.div))
                // The product alone may overflow where the quotient would not.
                .or_else(|| amount.checked_div(self.div)?.checked_mul(self.mul))
        };
        converted.ok_or_else(|| {
            let (file, line) = self
                .rates
                .first()
                .map(|r| (r.file.clone(), r.line))
                .unwrap_or((FX_NAME.into(), 0));
            Error::Rates {
                file,
                line,
                msg: format!(
                    "{amount} {} converted to {} (x {} / {}) is beyond the largest amount \
                     simcost can hold",
                    self.from, self.to, self.mul, self.div
                ),
            }
        })
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
        let mut seen: HashMap<((String, String), NaiveDate), u64> = HashMap::new();
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
            if rate < FX_MIN || rate > FX_MAX {
                return Err(t.err(
                    line,
                    format!("rate is outside {FX_MIN} ..= {FX_MAX}, the documented range ({r})"),
                ));
            }
            if rate.normalize().scale() > FX_MAX_PLACES {
                return Err(t.err(
                    line,
                    format!("rate has more than {FX_MAX_PLACES} decimal places ({r})"),
                ));
            }
            // One rate per pair and date, whichever way the pair is written: two would be
            // resolved silently by the order of the file.
            let pair = if base < quote {
                (base.clone(), quote.clone())
            } else {
                (quote.clone(), base.clone())
            };
            if let Some(first) = seen.insert((pair, date), line) {
                return Err(t.err(
                    line,
                    format!(
                        "a second rate for {base}/{quote} on {date}; line {first} has one \
                         (keep one)"
                    ),
                ));
            }
            rates.push(FxRate {
                date,
                base,
                quote,
                rate,
                source: cell(rec, cols[4]).to_string(),
                file: file.to_string(),
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
            t.conversion("USD", "EUR", on)
                .unwrap()
                .apply(d("2.5"))
                .unwrap(),
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

    fn parse_err(rows: &str) -> String {
        let text = format!("date,base,quote,rate,source\n{rows}");
        let e = FxTable::parse("fx.csv", &text).err().unwrap();
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
        e.to_string()
    }

    #[test]
    fn two_rates_for_one_pair_and_date_name_the_earlier_line() {
        assert_eq!(
            parse_err(
                "2026-01-02,EUR,USD,1.25,a\n2026-01-02,EUR,BRL,5.1,a\n2026-01-02,EUR,USD,1.3,b\n"
            ),
            "fx.csv:4: a second rate for EUR/USD on 2026-01-02; line 2 has one (keep one)"
        );
        // The inverse pair on the same date is the same pair.
        assert_eq!(
            parse_err("2026-01-02,EUR,USD,1.25,a\n2026-01-02,USD,EUR,0.8,b\n"),
            "fx.csv:3: a second rate for USD/EUR on 2026-01-02; line 2 has one (keep one)"
        );
        // Another date is another rate.
        assert!(FxTable::parse("fx.csv", TEXT).is_ok());
    }

    #[test]
    fn rates_outside_the_documented_range_are_errors() {
        // 1e-28 made compare divide by it and overflow (a panic).
        assert_eq!(
            parse_err("2026-01-02,EUR,USD,0.0000000000000000000000000001,a\n"),
            "fx.csv:2: rate is outside 0.000001 ..= 1000000, the documented range \
             (0.0000000000000000000000000001)"
        );
        assert_eq!(
            parse_err("2026-01-02,EUR,USD,1000000.5,a\n"),
            "fx.csv:2: rate is outside 0.000001 ..= 1000000, the documented range (1000000.5)"
        );
        assert_eq!(
            parse_err("2026-01-02,EUR,USD,1.0000000000001,a\n"),
            "fx.csv:2: rate has more than 12 decimal places (1.0000000000001)"
        );
        let ok = "date,base,quote,rate,source\n2026-01-02,EUR,USD,0.000001,a\n\
                  2026-01-02,EUR,BRL,1000000,a\n";
        assert!(FxTable::parse("fx.csv", ok).is_ok());
    }

    #[test]
    fn a_conversion_beyond_the_largest_amount_is_an_error() {
        let t = FxTable::parse(
            "fx.csv",
            "date,base,quote,rate,source\n2026-01-02,EUR,USD,1000000,a\n2026-01-02,EUR,BRL,0.000001,a\n",
        )
        .unwrap();
        // BRL -> USD through the euro: x 1e6 / 1e-6 = x 1e12.
        let c = t.conversion("BRL", "USD", None).unwrap();
        assert_eq!(c.apply(d("2")).unwrap(), d("2000000000000"));
        let e = c.apply(d("100000000000000000")).err().unwrap();
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
        assert_eq!(
            e.to_string(),
            "fx.csv:3: 100000000000000000 BRL converted to USD (x 1000000 / 0.000001) is beyond \
             the largest amount simcost can hold"
        );
        // The product overflows but the quotient does not: divide first.
        let inv = t.conversion("USD", "BRL", None).unwrap();
        assert_eq!(
            inv.apply(d("79228162514264337593543950")).unwrap(),
            d("79228162514264337593543950") * d("0.000001") / d("1000000")
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
