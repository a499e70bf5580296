//! A rate CSV read whole: columns found by name and rows with their line numbers, every error
//! naming the file and line.

use crate::error::{Error, Result};
use csv::StringRecord;
use rust_decimal::Decimal;

pub struct RateCsv {
    file: String,
    header: StringRecord,
    pub rows: Vec<(u64, StringRecord)>,
}

impl RateCsv {
    pub fn parse(file: &str, text: &str) -> Result<RateCsv> {
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let mut t = RateCsv {
            file: file.to_string(),
            header: StringRecord::new(),
            rows: Vec::new(),
        };
        t.header = rdr
            .headers()
            .map_err(|e| t.err(1, format!("cannot read CSV ({e})")))?
            .clone();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                t.err(
                    e.position().map(|p| p.line()).unwrap_or(0),
                    format!("cannot read CSV ({e})"),
                )
            })?;
            t.rows
                .push((rec.position().map(|p| p.line()).unwrap_or(0), rec));
        }
        Ok(t)
    }

    pub fn err(&self, line: u64, msg: String) -> Error {
        Error::Rates {
            file: self.file.clone(),
            line,
            msg,
        }
    }

    /// The index of a column (case-insensitive, trimmed).
    pub fn column(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
            .ok_or_else(|| self.err(1, format!("missing column ({name})")))
    }
}

/// A cell, trimmed; empty when the row is short.
pub fn cell(rec: &StringRecord, i: usize) -> &str {
    rec.get(i).unwrap_or("").trim()
}

/// The most a price may be for one message (or session, or conversation), in the card's
/// currency: far above any real price (the highest published are a few tenths), low enough that
/// no total can overflow (see `MAX_FEE`).
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);
/// The most a monthly fee or minimum commitment may be. With prices at most `MAX_PRICE`, a log
/// of fewer than 2^64 (1.9e19) messages costs at most 1.9e19 x 1,000 = 1.9e22 in prices, plus at
/// most one fee per message (a fee needs a month with a message): 1.9e19 x 1e6 = 1.9e25, far
/// below Decimal's largest value, 7.9e28. So no sum of a replay can overflow.
pub const MAX_FEE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// Decimal places a price or fee may carry (published prices carry 4; derived ones more).
pub const MAX_PLACES: u32 = 8;
/// FX rates are strictly positive, from 0.000001 to 1,000,000, with at most `FX_MAX_PLACES`.
pub const FX_MIN: Decimal = Decimal::from_parts(1, 0, 0, false, 6);
pub const FX_MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
pub const FX_MAX_PLACES: u32 = 12;

/// Whether an amount is within the documented range: non-negative, at most `max`, at most
/// `MAX_PLACES` decimal places. The error says what is wrong, without the value.
pub fn check_money(d: Decimal, max: Decimal, what: &str) -> std::result::Result<(), String> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err("is negative".into());
    }
    if d > max {
        return Err(format!("is above {max}, the most {what} may be"));
    }
    if d.normalize().scale() > MAX_PLACES {
        return Err(format!("has more than {MAX_PLACES} decimal places"));
    }
    Ok(())
}
