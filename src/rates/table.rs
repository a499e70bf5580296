//! A rate CSV read whole: columns found by name and rows with their line numbers, every error
//! naming the file and line.

use crate::error::{Error, Result};
use csv::StringRecord;

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
