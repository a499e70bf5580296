//! The `invoice` bill: a CSV `month,country,category,quantity,amount,currency` (README,
//! "Reconciling a bill"), to which any provider's invoice can be brought. Rows of one cell add
//! up; column order is free and other columns are ignored.

use super::{category, Bill, BillFormat, Place};
use crate::error::Result;
use crate::event::Country;
use crate::input::shown;

pub const COLUMNS: [&str; 6] = [
    "month", "country", "category", "quantity", "amount", "currency",
];

pub fn read(file: &str, text: &str) -> Result<Bill> {
    let mut bill = Bill::new(BillFormat::Invoice, file);
    let (header, records) = super::csv_bill(&bill, text)?;
    let mut at = [0usize; 6];
    for (k, name) in COLUMNS.iter().enumerate() {
        at[k] = (header.iter().position(|h| h == name)).ok_or_else(|| {
            bill.bad(
                1,
                format!("no {name} column (an invoice has {})", COLUMNS.join(",")),
            )
        })?;
    }
    for rec in records {
        let (rec, line) = super::csv_record(&bill, rec)?;
        let get = |k: usize| rec.get(at[k]).unwrap_or("").trim();
        let key = (
            month(get(0)).ok_or_else(|| {
                bill.bad(line, format!("month is not YYYY-MM ({})", shown(get(0))))
            })?,
            place(get(1)).ok_or_else(|| {
                bill.bad(
                    line,
                    format!("country is not an ISO code or * ({})", shown(get(1))),
                )
            })?,
            category(get(2)).ok_or_else(|| {
                bill.bad(
                    line,
                    format!(
                        "unknown category ({}); one of {}",
                        shown(get(2)),
                        super::CATEGORIES.join(", ")
                    ),
                )
            })?,
        );
        let quantity: u64 = (get(3).parse()).map_err(|_| {
            bill.bad(
                line,
                format!("quantity is not a whole number ({})", shown(get(3))),
            )
        })?;
        let quantity = Bill::quantity("quantity", quantity).map_err(|m| bill.bad(line, m))?;
        let amount = Bill::amount("amount", get(4)).map_err(|m| bill.bad(line, m))?;
        bill.currency_of_row(line, get(5))?;
        let cell = bill.cells.entry(key).or_default();
        cell.quantity += quantity;
        cell.amount += amount;
    }
    Ok(bill)
}

/// `YYYY-MM` as a month index (year x 12 + month - 1).
pub fn month(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
    (s.len() == 7).then(|| crate::calendar::month_index(d))
}

fn place(s: &str) -> Option<Place> {
    match s {
        "" | "*" => Some(Place::Any),
        s => Country::parse(s).map(Place::Country),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_one_cell_add_up_and_bad_values_are_named() {
        let text = "month,country,category,quantity,amount,currency\n\
                    2026-03,BR,marketing,2,0.1250,USD\n\
                    2026-03,br,MARKETING,1,0.0625,usd\n";
        let bill = read("inv.csv", text).unwrap();
        let cell = &bill.cells[&(
            2026 * 12 + 2,
            Place::Country(Country::parse("BR").unwrap()),
            "marketing",
        )];
        assert_eq!((cell.quantity, cell.amount), (3, "0.1875".parse().unwrap()));
        assert_eq!(bill.currency.as_deref(), Some("USD"));
        let bad = |row: &str| {
            read(
                "inv.csv",
                &format!("month,country,category,quantity,amount,currency\n{row}\n"),
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            bad("2026-3,BR,marketing,1,1,USD"),
            "inv.csv:2: month is not YYYY-MM (2026-3)"
        );
        assert!(bad("2026-03,BR,promo,1,1,USD").starts_with("inv.csv:2: unknown category (promo)"));
        assert_eq!(
            bad("2026-03,BR,utility,1.5,1,USD"),
            "inv.csv:2: quantity is not a whole number (1.5)"
        );
        assert_eq!(
            bad("2026-03,Brazil,utility,1,1,USD"),
            "inv.csv:2: country is not an ISO code or * (Brazil)"
        );
        let two = read(
            "inv.csv",
            "month,country,category,quantity,amount,currency\n2026-03,BR,utility,1,1,USD\n2026-03,BR,utility,1,1,EUR\n",
        );
        assert_eq!(
            two.unwrap_err().to_string(),
            "inv.csv:3: a second currency in one bill (EUR; the bill is in USD)"
        );
    }
}
