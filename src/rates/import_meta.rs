//! `simcost rates import-meta`: Meta's downloadable rate sheets turned into simcost's card files
//! (rates/README.md "whatsapp-meta: importing Meta's sheets").
//!
//! The price sheet's layout, as public copies and importers show it (research note §5): a title
//! line `Cost per message in USD on the WhatsApp Business Platform, effective July 1, 2026`
//! (`Cost per conversation in USD, effective June 1, 2023` before per-message pricing), padded
//! with empty cells; note lines; the header `Market,Currency,Marketing,Utility,Authentication,
//! Authentication-International,Service`; one row per market, `n/a` where a column does not apply,
//! the currency written `$US` on older sheets. Meta's volume-tier sheet has no public copy: a sheet
//! with a `Market` header and a category, the band's first and last message (or a `Tier` cell
//! `lower:upper`, the form of Meta's webhook) and a rate is read.

use super::table::{check_money, MAX_PRICE};
use crate::error::{Error, Result};
use chrono::NaiveDate;
use csv::StringRecord;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The columns of `whatsapp-meta-prices.csv`.
pub const PRICE_HEADER: [&str; 13] = [
    "effective_from",
    "market",
    "currency",
    "business_initiated",
    "user_initiated",
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "unit",
    "source",
    "note",
];

/// The columns of `whatsapp-meta-tiers.csv`.
pub const TIER_HEADER: [&str; 9] = [
    "effective_from",
    "market",
    "currency",
    "category",
    "volume_from",
    "volume_to",
    "rate",
    "source",
    "note",
];

/// Which card file a sheet's rows go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Prices,
    Tiers,
}

impl Kind {
    pub fn file(self) -> &'static str {
        match self {
            Kind::Prices => "whatsapp-meta-prices.csv",
            Kind::Tiers => "whatsapp-meta-tiers.csv",
        }
    }
    fn header(self) -> &'static [&'static str] {
        match self {
            Kind::Prices => &PRICE_HEADER,
            Kind::Tiers => &TIER_HEADER,
        }
    }
    /// The columns that name a row: a second row with them is the same row.
    fn key(self) -> &'static [&'static str] {
        match self {
            Kind::Prices => &["effective_from", "market", "currency"],
            Kind::Tiers => &[
                "effective_from",
                "market",
                "currency",
                "category",
                "volume_from",
            ],
        }
    }
    /// The columns a sheet gives a value for.
    fn values(self) -> &'static [&'static str] {
        match self {
            Kind::Prices => &[
                "marketing",
                "utility",
                "authentication",
                "authentication_international",
                "service",
                "unit",
            ],
            Kind::Tiers => &["volume_to", "rate"],
        }
    }
}

/// One sheet, read: its kind and its rows as card rows (column name to value), each with the
/// sheet's line.
pub struct Sheet {
    pub kind: Kind,
    pub rows: Vec<(u64, HashMap<&'static str, String>)>,
}

/// A header cell in a comparable form: lower case, without spaces, `-` or `_`.
fn squash(s: &str) -> String {
    (s.trim().trim_start_matches('\u{feff}').chars())
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The currency and date of a title line such as `Cost per message in USD on the WhatsApp
/// Business Platform, effective July 1, 2026`, and the unit it prices.
fn title(line: &str) -> Option<(Option<String>, Option<NaiveDate>, &'static str)> {
    let lower = line.to_ascii_lowercase();
    let unit = if lower.starts_with("cost per message") {
        "message"
    } else if lower.starts_with("cost per conversation") {
        "conversation"
    } else if lower.contains("volume tier") {
        ""
    } else {
        return None;
    };
    let currency = (line.find(" in ").map(|i| &line[i + 4..]))
        .and_then(|r| r.get(..3))
        .filter(|c| c.bytes().all(|b| b.is_ascii_uppercase()))
        .map(str::to_string);
    let date = lower.find("effective ").and_then(|i| {
        let text = line[i + 10..].trim().trim_end_matches('.');
        NaiveDate::parse_from_str(text, "%B %d, %Y").ok()
    });
    Some((currency, date, unit))
}

/// The currency of a sheet cell: `$US` (older sheets) is USD.
fn currency_cell(s: &str) -> Option<String> {
    let s = s.trim();
    match s {
        "$US" | "US$" => Some("USD".into()),
        _ if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(s.to_ascii_uppercase())
        }
        _ => None,
    }
}

/// What the sheet says around its rows: from the title and the command line.
struct Context<'a> {
    file: &'a str,
    currency: Option<String>,
    date: NaiveDate,
    unit: &'static str,
}

impl Context<'_> {
    fn err(&self, line: u64, msg: String) -> Error {
        Error::Input {
            file: self.file.to_string(),
            line,
            msg,
        }
    }

    /// A price cell: a decimal within the range, or empty for `n/a` and an empty cell.
    fn price(&self, line: u64, column: &str, v: &str) -> Result<String> {
        let v = v.trim();
        if v.is_empty() || v.eq_ignore_ascii_case("n/a") {
            return Ok(String::new());
        }
        let d: Decimal = (v.trim_start_matches('$').parse())
            .map_err(|_| self.err(line, format!("{column} is not a decimal number ({v})")))?;
        check_money(d, MAX_PRICE, "a price")
            .map_err(|m| self.err(line, format!("{column} {m} ({v})")))?;
        Ok(v.trim_start_matches('$').to_string())
    }

    /// The row's currency: its cell, else the title's; the two must agree.
    fn currency(&self, line: u64, cell: Option<&str>) -> Result<String> {
        match (cell.filter(|c| !c.trim().is_empty()), &self.currency) {
            (Some(c), title) => {
                let cur = currency_cell(c)
                    .ok_or_else(|| self.err(line, format!("not a currency ({})", c.trim())))?;
                match title {
                    Some(t) if *t != cur => Err(self.err(
                        line,
                        format!("currency {cur}, but the sheet's title says {t}"),
                    )),
                    _ => Ok(cur),
                }
            }
            (None, Some(t)) => Ok(t.clone()),
            (None, None) => Err(self.err(line, "no currency in the row or the title".into())),
        }
    }
}

/// Reads one of Meta's sheets. `effective_from` (`--effective-from`) dates a sheet whose title
/// gives no date; a title date that differs from it is an error.
pub fn read_sheet(file: &str, text: &str, effective_from: Option<NaiveDate>) -> Result<Sheet> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    type Title = (Option<String>, Option<NaiveDate>, &'static str);
    let (mut found, mut header): (Option<Title>, Option<StringRecord>) = (None, None);
    let mut records = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::Input {
            file: file.to_string(),
            line: e.position().map(|p| p.line()).unwrap_or(0),
            msg: format!("cannot read CSV ({e})"),
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if let Some(h) = &header {
            // a decimal comma (`0,0611`) would shift every later cell one column right
            if rec.iter().skip(h.len()).any(|c| !c.trim().is_empty()) {
                return Err(Error::Input {
                    file: file.to_string(),
                    line,
                    msg: format!(
                        "more cells than the header has columns ({}; a decimal comma?)",
                        rec.len()
                    ),
                });
            }
            records.push((line, rec));
        } else if rec.iter().any(|c| squash(c) == "market") {
            header = Some(rec);
        } else if found.is_none() {
            // the title may be one quoted cell or split at its commas, padded with empty cells
            let line = rec.iter().collect::<Vec<_>>().join(",");
            found = title(line.trim().trim_end_matches(','));
        }
    }
    let missing = |msg: &str| Error::Input {
        file: file.to_string(),
        line: 0,
        msg: msg.into(),
    };
    let header = header.ok_or_else(|| missing("no header row with a Market column"))?;
    let (currency, date, unit) = found.unwrap_or((None, None, ""));
    let date = match (date, effective_from) {
        (Some(d), Some(e)) if d != e => {
            return Err(Error::Usage(format!(
                "--effective-from {e}, but {file}'s title says effective {d}"
            )))
        }
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => {
            return Err(Error::Usage(format!(
                "{file}: the sheet's title gives no effective date: pass --effective-from DATE"
            )))
        }
    };
    let cx = Context {
        file,
        currency,
        date,
        unit,
    };
    let columns: Vec<String> = header.iter().map(squash).collect();
    let col = |names: &[&str]| columns.iter().position(|c| names.contains(&c.as_str()));
    if col(&["marketing"]).is_some() {
        price_rows(&cx, &col, &records)
    } else if col(&["rate", "unitrate", "price"]).is_some() {
        tier_rows(&cx, &col, &records)
    } else {
        Err(missing(
            "neither a price sheet (a Marketing column) nor a tier sheet (a Rate column)",
        ))
    }
}

type ColumnOf<'c> = dyn Fn(&[&str]) -> Option<usize> + 'c;

/// The rows of a price sheet.
fn price_rows(cx: &Context, col: &ColumnOf, records: &[(u64, StringRecord)]) -> Result<Sheet> {
    let market = col(&["market"]).unwrap_or(0);
    let currency = col(&["currency"]);
    let columns = [
        ("marketing", col(&["marketing"])),
        ("utility", col(&["utility"])),
        ("authentication", col(&["authentication"])),
        (
            "authentication_international",
            col(&["authenticationinternational"]),
        ),
        ("service", col(&["service"])),
    ];
    let mut rows = Vec::new();
    for (line, rec) in records {
        let name = rec.get(market).unwrap_or("").trim();
        if name.is_empty() || name.to_ascii_lowercase().starts_with("note") {
            continue;
        }
        let mut row = base_row(cx, *line, name, currency.and_then(|i| rec.get(i)))?;
        for (column, i) in columns {
            let v = i.and_then(|i| rec.get(i)).unwrap_or("");
            row.insert(column, cx.price(*line, column, v)?);
        }
        row.insert("unit", cx.unit.to_string());
        rows.push((*line, row));
    }
    Ok(Sheet {
        kind: Kind::Prices,
        rows,
    })
}

/// The cells every imported row has: date, market, currency.
fn base_row(
    cx: &Context,
    line: u64,
    market: &str,
    currency: Option<&str>,
) -> Result<HashMap<&'static str, String>> {
    let mut row = HashMap::new();
    row.insert("effective_from", cx.date.to_string());
    row.insert("market", market.to_string());
    row.insert("currency", cx.currency(line, currency)?);
    Ok(row)
}

/// A message count of a band (`100,000` allowed); empty for an open end.
fn volume(cx: &Context, line: u64, what: &str, v: &str) -> Result<String> {
    let digits: String = v.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    if digits.is_empty() || digits == "+" {
        return Ok(String::new());
    }
    match digits.trim_end_matches('+').parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n.to_string()),
        _ => Err(cx.err(line, format!("{what} is not a number of messages ({v})"))),
    }
}

/// The rows of a tier sheet.
fn tier_rows(cx: &Context, col: &ColumnOf, records: &[(u64, StringRecord)]) -> Result<Sheet> {
    let market = col(&["market"]).unwrap_or(0);
    let currency = col(&["currency"]);
    let category = col(&["category"]);
    let from = col(&["volumefrom", "from", "tierstart", "lower"]);
    let to = col(&["volumeto", "to", "tierend", "upper"]);
    let tier = col(&["tier", "volumetier"]);
    let rate = col(&["rate", "unitrate", "price"]);
    let mut rows = Vec::new();
    for (line, rec) in records {
        let line = *line;
        let cell = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim();
        let name = cell(Some(market));
        if name.is_empty() {
            continue;
        }
        let mut row = base_row(cx, line, name, currency.and_then(|i| rec.get(i)))?;
        let cat = cell(category).to_ascii_lowercase().replace(['-', ' '], "_");
        if !matches!(
            cat.as_str(),
            "utility" | "authentication" | "authentication_international"
        ) {
            return Err(cx.err(line, format!("not a tiered category ({})", cell(category))));
        }
        row.insert("category", cat);
        // `lower:upper` (Meta's webhook form) or two columns
        let (lo, hi) = match cell(tier).split_once(':') {
            Some((lo, hi)) if tier.is_some() => (lo, hi),
            _ => (cell(from), cell(to)),
        };
        let lo = volume(cx, line, "volume_from", lo)?;
        if lo.is_empty() {
            return Err(cx.err(line, "no first message of the band".into()));
        }
        row.insert("volume_from", lo);
        row.insert("volume_to", volume(cx, line, "volume_to", hi)?);
        row.insert("rate", cx.price(line, "rate", cell(rate))?);
        rows.push((line, row));
    }
    Ok(Sheet {
        kind: Kind::Tiers,
        rows,
    })
}

/// What a merge did: rows added or unchanged, cells filled (empty before) or replaced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub added: usize,
    pub filled: usize,
    pub replaced: usize,
    pub unchanged: usize,
}

/// Two cells say the same: equal decimals (`0.02` and `0.0200`) or equal text.
fn same(a: &str, b: &str) -> bool {
    match (a.parse::<Decimal>(), b.parse::<Decimal>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A card file being merged into: its header and rows, and each row's line in the file.
pub struct CardFile {
    pub name: String,
    header: Vec<String>,
    rows: Vec<(Option<u64>, Vec<String>)>,
    index: HashMap<Vec<String>, usize>,
    kind: Kind,
}

impl CardFile {
    /// The card file `name` of `kind` with its current `text` (`None`: a new file).
    pub fn open(name: &str, kind: Kind, text: Option<&str>) -> Result<CardFile> {
        let err = |line, msg| Error::Rates {
            file: name.to_string(),
            line,
            msg,
        };
        let mut card = CardFile {
            name: name.to_string(),
            header: kind.header().iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            index: HashMap::new(),
            kind,
        };
        let Some(text) = text else {
            return Ok(card);
        };
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let cannot = |e: csv::Error| err(1, format!("cannot read CSV ({e})"));
        card.header = rdr
            .headers()
            .map_err(cannot)?
            .iter()
            .map(String::from)
            .collect();
        for c in kind.key().iter().chain(kind.values()) {
            if !card.header.iter().any(|h| h == c) {
                return Err(err(1, format!("missing column ({c})")));
            }
        }
        for rec in rdr.records() {
            let rec = rec.map_err(cannot)?;
            let line = rec.position().map(|p| p.line());
            let mut row: Vec<String> = rec.iter().map(String::from).collect();
            row.resize(card.header.len(), String::new());
            let key = card.key_of(&row);
            if let Some(&first) = card.index.get(&key) {
                let first = card.rows[first].0.unwrap_or(0);
                return Err(err(
                    line.unwrap_or(0),
                    format!("a second row for {}; line {first} has one", key.join(" ")),
                ));
            }
            card.index.insert(key, card.rows.len());
            card.rows.push((line, row));
        }
        Ok(card)
    }

    fn at(&self, column: &str) -> usize {
        // every column asked for was checked in `open` or is in the standard header
        self.header.iter().position(|h| h == column).unwrap_or(0)
    }

    fn key_of(&self, row: &[String]) -> Vec<String> {
        (self.kind.key().iter())
            .map(|c| row[self.at(c)].trim().to_string())
            .collect()
    }

    /// Merges a sheet's rows: new rows appended, empty cells filled, equal values kept; a
    /// different value is an error naming both, unless `force` replaces it.
    pub fn merge(&mut self, sheet: &Sheet, sheet_file: &str, force: bool) -> Result<Merged> {
        let mut m = Merged::default();
        let base = std::path::Path::new(sheet_file).file_name();
        let base = base.map(|b| b.to_string_lossy()).unwrap_or_default();
        let source = format!("Meta rate sheet {base} (simcost rates import-meta)");
        for (line, cells) in &sheet.rows {
            let mut row = vec![String::new(); self.header.len()];
            for (c, v) in cells {
                row[self.at(c)] = v.clone();
            }
            let key = self.key_of(&row);
            let Some(&i) = self.index.get(&key) else {
                row[self.at("source")] = source.clone();
                self.index.insert(key, self.rows.len());
                self.rows.push((None, row));
                m.added += 1;
                continue;
            };
            let mut changed = false;
            for c in self.kind.values() {
                let (k, new) = (self.at(c), &row[self.at(c)]);
                let old = &self.rows[i].1[k];
                if new.is_empty() || same(old, new) {
                    continue;
                }
                let was_empty = old.is_empty();
                if !was_empty && !force {
                    return Err(Error::Rates {
                        file: self.name.clone(),
                        line: self.rows[i].0.unwrap_or(0),
                        msg: format!(
                            "{} {c} is {old} here, but {sheet_file}:{line} says {new}; \
                             --force replaces it",
                            key.join(" ")
                        ),
                    });
                }
                if was_empty {
                    m.filled += 1;
                } else {
                    m.replaced += 1;
                }
                self.rows[i].1[k] = new.clone();
                changed = true;
            }
            if changed {
                let s = self.at("source");
                let cell = &mut self.rows[i].1[s];
                if !cell.contains(&source) {
                    *cell = format!("{cell}; {source}")
                        .trim_start_matches("; ")
                        .to_string();
                }
            } else {
                m.unchanged += 1;
            }
        }
        Ok(m)
    }

    /// The file's text: the header and every row, the new ones last.
    pub fn text(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| Error::io(format!("writing {}", self.name), e.into());
        w.write_record(&self.header).map_err(io)?;
        for (_, row) in &self.rows {
            w.write_record(row).map_err(io)?;
        }
        let bytes = w.into_inner().map_err(|e| io(e.into_error().into()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
