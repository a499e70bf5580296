//! The `meta-pricing-analytics` bill: the JSON the Graph API returns for a WhatsApp Business
//! Account's `pricing_analytics` field (`{"pricing_analytics": {"data": [{"data_points":
//! [...]}]}, "id": ...}`, or the edge's `{"data": [...]}`), at daily or monthly granularity.
//! A data point: `start`, `end` (Unix seconds), `country`, `pricing_type` (`REGULAR`,
//! `FREE_CUSTOMER_SERVICE`, `FREE_ENTRY_POINT`, `FREE_TIER`), `pricing_category`, `tier`,
//! `volume`, `cost`. Costs are read as the decimal text Meta wrote, never through a float.

use super::{category, Bill, BillFormat, Place};
use crate::error::Result;
use crate::event::Country;
use crate::input::shown;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The Graph API's `pricing_analytics` shape: data points under `data`.
pub fn looks_like(text: &str) -> bool {
    text.contains("\"data_points\"")
}

#[derive(Deserialize)]
struct Root<'a> {
    #[serde(borrow)]
    pricing_analytics: Option<Analytics<'a>>,
    #[serde(borrow, default)]
    data: Vec<Bucket<'a>>,
}

#[derive(Deserialize)]
struct Analytics<'a> {
    #[serde(borrow, default)]
    data: Vec<Bucket<'a>>,
}

#[derive(Deserialize)]
struct Bucket<'a> {
    #[serde(borrow, default)]
    data_points: Vec<Point<'a>>,
}

#[derive(Deserialize)]
struct Point<'a> {
    start: i64,
    country: Option<String>,
    pricing_type: Option<String>,
    pricing_category: Option<String>,
    /// The volume tier (`from:to`): read, not compared (volume tiers are not simulated yet).
    #[allow(dead_code)]
    tier: Option<String>,
    volume: u64,
    #[serde(borrow)]
    cost: Option<&'a RawValue>,
}

pub fn read(file: &str, text: &str, tz: chrono_tz::Tz) -> Result<Bill> {
    let mut bill = Bill::new(BillFormat::MetaPricingAnalytics, file);
    let root: Root = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        bill.bad(
            e.line() as u64,
            format!("not Meta's pricing_analytics JSON ({e})"),
        )
    })?;
    let buckets = root.pricing_analytics.map(|a| a.data).unwrap_or(root.data);
    for (n, p) in buckets.iter().flat_map(|b| &b.data_points).enumerate() {
        add(&mut bill, n + 1, p, tz)?;
    }
    Ok(bill)
}

/// Adds data point number `n` (from 1) to its cell.
fn add(bill: &mut Bill, n: usize, p: &Point, tz: chrono_tz::Tz) -> Result<()> {
    let bad = |msg: String| bill.bad(0, format!("data point {n}: {msg}"));
    let at = (p.start.checked_mul(1_000_000))
        .ok_or_else(|| bad(format!("start out of range ({})", p.start)))?;
    let (month, _) = crate::calendar::local_month_day(at, tz);
    let country = p.country.as_deref().unwrap_or("");
    let place = match country {
        "" => Place::Any,
        c => Place::Country(
            Country::parse(c)
                .ok_or_else(|| bad(format!("country is not an ISO code ({})", shown(c))))?,
        ),
    };
    let cat = p.pricing_category.as_deref().unwrap_or("");
    let cat =
        category(cat).ok_or_else(|| bad(format!("unknown pricing_category ({})", shown(cat))))?;
    let kind = p
        .pricing_type
        .as_deref()
        .unwrap_or("REGULAR")
        .to_ascii_uppercase();
    let free = match kind.as_str() {
        "REGULAR" => false,
        "FREE_CUSTOMER_SERVICE" | "FREE_ENTRY_POINT" | "FREE_TIER" => true,
        other => return Err(bad(format!("unknown pricing_type ({})", shown(other)))),
    };
    let cost = match p.cost {
        None => Decimal::ZERO,
        Some(raw) => Bill::amount("cost", raw.get().trim_matches('"')).map_err(bad)?,
    };
    let volume = Bill::quantity("volume", p.volume).map_err(bad)?;
    let cell = bill.cells.entry((month, place, cat)).or_default();
    if free {
        cell.free += volume;
        match kind.as_str() {
            "FREE_ENTRY_POINT" => cell.free_entry_point += volume,
            "FREE_TIER" => cell.free_tier += volume,
            _ => {}
        }
    } else {
        cell.quantity += volume;
    }
    // A free point's cost, should it have one, is still money billed.
    cell.amount += cost;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_read_as_written_and_free_volume_kept_apart() {
        let text = r#"{"pricing_analytics":{"data":[{"data_points":[
            {"start":1772409600,"end":1772496000,"country":"BR","pricing_type":"REGULAR","pricing_category":"MARKETING","volume":3,"cost":0.1875},
            {"start":1772496000,"end":1772582400,"country":"BR","pricing_type":"FREE_ENTRY_POINT","pricing_category":"MARKETING","volume":2,"cost":0}
        ]}]},"id":"1"}"#;
        let bill = read("pa.json", text, chrono_tz::UTC).unwrap();
        let br = Place::Country(Country::parse("BR").unwrap());
        let cell = &bill.cells[&(2026 * 12 + 2, br, "marketing")];
        assert_eq!(cell.amount, "0.1875".parse::<Decimal>().unwrap());
        assert_eq!(cell.amount.scale(), 4, "not through a float");
        assert_eq!((cell.quantity, cell.free, cell.free_entry_point), (3, 2, 2));
        let bad = read(
            "pa.json",
            r#"{"data":[{"data_points":[{"start":1772409600,"country":"BR","pricing_category":"PROMO","volume":1}]}]}"#,
            chrono_tz::UTC,
        );
        assert_eq!(
            bad.unwrap_err().to_string(),
            "pa.json: data point 1: unknown pricing_category (PROMO)"
        );
    }
}
