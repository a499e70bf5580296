use super::table::{cell, check_money, RateCsv, MAX_PRICE};
use crate::error::Result;
use crate::event::Country;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

/// One row of a prices CSV: the prices of one country (or `*`) from a date on.
#[derive(Clone, Debug)]
pub struct PriceRow {
    /// `None` for the `*` row.
    pub country: Option<Country>,
    /// `None`: undated, in force from the beginning.
    pub effective_from: Option<NaiveDate>,
    /// Days since 1970-01-01 of `effective_from` (i32::MIN when undated).
    from_day: i32,
    /// One price per priced column, `None` where the cell is empty (unknown, not zero).
    pub prices: Vec<Option<Decimal>>,
    pub line: u64,
}

impl PriceRow {
    /// A row with no prices, of no country or date: it prices nothing (a message priced from
    /// it is unpriced). Stands for "the card has no row" where a row must be handed over
    /// (`billing::pricing::GivenRow`).
    pub const fn none() -> PriceRow {
        PriceRow {
            country: None,
            effective_from: None,
            from_day: i32::MIN,
            prices: Vec::new(),
            line: 0,
        }
    }
}

/// A price found on the card, with the row that gave it.
#[derive(Clone, Copy, Debug)]
pub struct Priced<'a> {
    pub amount: Decimal,
    pub row: &'a PriceRow,
}

/// A dated price card: for each country, its rows sorted by `effective_from`.
pub struct PriceCard {
    pub file: String,
    pub columns: Vec<&'static str>,
    by_country: FxHashMap<Country, Vec<PriceRow>>,
    star: Vec<PriceRow>,
}

impl PriceCard {
    /// Parses a prices CSV that must have `country`, `effective_from` and each of `columns`.
    pub fn parse(file: &str, text: &str, columns: &[&'static str]) -> Result<PriceCard> {
        PriceCard::parse_with(file, text, columns, &[])
    }

    /// `parse`, with `optional` columns read after `columns` when the file has them (see
    /// `column`).
    pub fn parse_with(
        file: &str,
        text: &str,
        columns: &[&'static str],
        optional: &[&'static str],
    ) -> Result<PriceCard> {
        let t = RateCsv::parse(file, text)?;
        let err = |line: u64, msg: String| t.err(line, msg);
        let country_col = t.column("country")?;
        let from_col = t.column("effective_from")?;
        let mut price_cols: Vec<usize> =
            columns.iter().map(|c| t.column(c)).collect::<Result<_>>()?;
        let mut columns = columns.to_vec();
        for c in optional {
            if let Ok(i) = t.column(c) {
                price_cols.push(i);
                columns.push(c);
            }
        }

        let mut by_country: FxHashMap<Country, Vec<PriceRow>> = FxHashMap::default();
        let mut star = Vec::new();
        for (line, rec) in &t.rows {
            let line = *line;
            let c = cell(rec, country_col);
            let country =
                if c == "*" {
                    None
                } else {
                    Some(Country::parse(c).ok_or_else(|| {
                        err(line, format!("country is not an ISO code or * ({c})"))
                    })?)
                };
            let f = cell(rec, from_col);
            let effective_from = if f.is_empty() {
                None
            } else {
                Some(NaiveDate::parse_from_str(f, "%Y-%m-%d").map_err(|_| {
                    err(
                        line,
                        format!("effective_from is not a YYYY-MM-DD date ({f})"),
                    )
                })?)
            };
            let prices = (price_cols.iter().zip(&columns))
                .map(|(&i, name)| price_cell(cell(rec, i), name).map_err(|m| err(line, m)))
                .collect::<Result<Vec<_>>>()?;
            let row = PriceRow {
                country,
                effective_from,
                from_day: effective_from
                    .map(crate::calendar::days_since_epoch)
                    .unwrap_or(i32::MIN),
                prices,
                line,
            };
            let rows = match country {
                Some(c) => by_country.entry(c).or_default(),
                None => &mut star,
            };
            if rows.iter().any(|r| r.from_day == row.from_day) {
                return Err(err(
                    line,
                    format!("a second row for {c} from the same date ({f})"),
                ));
            }
            rows.push(row);
        }
        for rows in by_country.values_mut() {
            rows.sort_by_key(|r| r.from_day);
        }
        star.sort_by_key(|r| r.from_day);
        Ok(PriceCard {
            file: file.to_string(),
            columns,
            by_country,
            star,
        })
    }

    /// The row in force for `country` on `day`: the country's latest row from on or before
    /// that day, else the `*` row's.
    pub fn row(&self, country: Country, day: i32) -> Option<&PriceRow> {
        let pick = |rows: &'_ [PriceRow]| -> Option<usize> {
            let n = rows.partition_point(|r| r.from_day <= day);
            n.checked_sub(1)
        };
        if let Some(rows) = self.by_country.get(&country) {
            if let Some(i) = pick(rows) {
                return Some(&rows[i]);
            }
        }
        pick(&self.star).map(|i| &self.star[i])
    }

    /// Whether `other` picks rows alike for every country and day, each with the same
    /// country, date and prices in the same columns, digit for digit (a price prints with its
    /// own scale: 0.03 and 0.0300 differ): then a row of either prices a message the same.
    pub fn same_rows(&self, other: &PriceCard) -> bool {
        let same_row = |a: &PriceRow, b: &PriceRow| {
            let digits = |p: &Option<Decimal>| p.map(|d| d.serialize());
            (a.country, a.effective_from, a.from_day) == (b.country, b.effective_from, b.from_day)
                && a.prices.iter().map(digits).eq(b.prices.iter().map(digits))
        };
        let same = |a: &[PriceRow], b: &[PriceRow]| {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_row(a, b))
        };
        self.columns == other.columns
            && same(&self.star, &other.star)
            && self.by_country.len() == other.by_country.len()
            && (self.by_country.iter())
                .all(|(c, rows)| other.by_country.get(c).is_some_and(|o| same(rows, o)))
    }

    /// The index of a price column, if the card has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == name)
    }

    /// The countries with rows of their own, sorted.
    pub fn countries(&self) -> Vec<Country> {
        let mut c: Vec<Country> = self.by_country.keys().copied().collect();
        c.sort();
        c
    }

    /// The price in `column` (an index into `columns`) for `country` on `day`; `None` when the
    /// card has no row or the cell is empty: the message is unpriced.
    pub fn price(&self, country: Country, day: i32, column: usize) -> Option<Priced<'_>> {
        let row = self.row(country, day)?;
        row.prices[column].map(|amount| Priced { amount, row })
    }
}

/// A price cell: empty is unknown (never zero); else a decimal within the price range.
fn price_cell(v: &str, name: &str) -> std::result::Result<Option<Decimal>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    let d: Decimal = v
        .parse()
        .map_err(|_| format!("{name} is not a decimal number ({v})"))?;
    check_money(d, MAX_PRICE, "a price").map_err(|m| format!("{name} {m} ({v})"))?;
    Ok(Some(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::days_since_epoch;

    fn day(s: &str) -> i32 {
        days_since_epoch(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    const CARD: &str = "country,effective_from,session,transactional,promotional,source\n\
        UA,2025-01-01,0.0276,0.0564,0.0564,a\n\
        UA,2026-01-01,0.0300,0.0600,,b\n\
        *,2025-01-01,0.0100,0.0200,0.0300,c\n";

    /// Cards of the same rows (in another order of lines) are the same; a price written to
    /// other digits (0.03 for 0.0300), another date, an extra row or another column are not.
    #[test]
    fn same_rows_means_the_same_prices_digit_for_digit_for_every_country_and_day() {
        let cols = ["session", "transactional", "promotional"];
        let parse = |text: &str| PriceCard::parse("p.csv", text, &cols).unwrap();
        let card = parse(CARD);
        let head = "country,effective_from,session,transactional,promotional,source\n";
        let reordered = format!(
            "{head}*,2025-01-01,0.0100,0.0200,0.0300,c\nUA,2026-01-01,0.0300,0.0600,,x\n\
             UA,2025-01-01,0.0276,0.0564,0.0564,y\n"
        );
        assert!(card.same_rows(&parse(CARD)));
        assert!(card.same_rows(&parse(&reordered)));
        let other = |from: &str, to: &str| parse(&CARD.replacen(from, to, 1));
        assert!(!card.same_rows(&other("0.0276", "0.02760")));
        assert!(!card.same_rows(&other("0.0100", "0.01")));
        assert!(!card.same_rows(&other("2026-01-01", "2026-01-02")));
        assert!(!card.same_rows(&other("0.0600,,b", "0.0600,0.0600,b")));
        assert!(!card.same_rows(&parse(&format!("{CARD}DE,,0.01,0.02,0.03,d\n"))));
        let fewer = PriceCard::parse("p.csv", CARD, &cols[..2]).unwrap();
        assert!(!card.same_rows(&fewer) && !fewer.same_rows(&card));
    }

    #[test]
    fn latest_row_on_or_before_the_date_then_star() {
        let card =
            PriceCard::parse("p.csv", CARD, &["session", "transactional", "promotional"]).unwrap();
        let ua = Country::parse("UA").unwrap();
        let de = Country::parse("DE").unwrap();
        assert_eq!(
            card.price(ua, day("2025-12-31"), 0)
                .unwrap()
                .amount
                .to_string(),
            "0.0276"
        );
        assert_eq!(
            card.price(ua, day("2026-01-01"), 0)
                .unwrap()
                .amount
                .to_string(),
            "0.0300"
        );
        // an empty cell is unknown: unpriced, not zero
        assert!(card.price(ua, day("2026-02-01"), 2).is_none());
        // a country with no row takes the * row
        assert_eq!(
            card.price(de, day("2026-02-01"), 1)
                .unwrap()
                .amount
                .to_string(),
            "0.0200"
        );
        // before any row: nothing
        assert!(card.price(de, day("2024-12-31"), 1).is_none());
    }

    #[test]
    fn an_optional_column_is_read_when_present() {
        let cols = &["session", "transactional", "promotional"];
        let card = PriceCard::parse_with("p.csv", CARD, cols, &["international"]).unwrap();
        assert_eq!(card.column("international"), None);
        let text = "country,effective_from,session,transactional,promotional,international\n\
                    UA,,0.03,0.05,0.07,0.09\nDE,,0.02,0.025,0.04,\n";
        let card = PriceCard::parse_with("p.csv", text, cols, &["international"]).unwrap();
        let k = card.column("international").unwrap();
        let (ua, de) = (Country::parse("UA").unwrap(), Country::parse("DE").unwrap());
        assert_eq!(card.price(ua, 0, k).unwrap().amount.to_string(), "0.09");
        // empty: unknown, so unpriced
        assert!(card.price(de, 0, k).is_none());
    }

    #[test]
    fn bad_cards_are_named() {
        let cols = &["session", "transactional", "promotional"];
        let e = PriceCard::parse("p.csv", "country,effective_from,session\n", cols)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "p.csv:1: missing column (transactional)");
        let e = PriceCard::parse(
            "p.csv",
            "country,effective_from,session,transactional,promotional\nUA,,-0.01,1,1\n",
            cols,
        )
        .err()
        .unwrap();
        assert_eq!(e.to_string(), "p.csv:2: session is negative (-0.01)");
        let e = PriceCard::parse(
            "p.csv",
            "country,effective_from,session,transactional,promotional\nUA,,abc,1,1\n",
            cols,
        )
        .err()
        .unwrap();
        assert_eq!(
            e.to_string(),
            "p.csv:2: session is not a decimal number (abc)"
        );
    }
}
