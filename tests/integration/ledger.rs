//! The ledger: one row per outbound message and per fee, summing exactly to the totals.

use super::*;
use std::collections::HashMap;

const FIXTURES: [&str; 13] = [
    "viber_session.csv",
    "viber_kinds.csv",
    "viber_cap.csv",
    "viber_in_a_row.csv",
    "viber_allowance.csv",
    "viber_fees.csv",
    "viber_minimum.csv",
    "whatsapp_session.csv",
    "tiers.csv",
    "meta_window.csv",
    "meta_category.csv",
    "meta_era_boundary.csv",
    "meta_markets.csv",
];

fn ledger(fixture_name: &str, rates: Option<&str>) -> (Value, Vec<HashMap<String, String>>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.csv");
    let f = fixture(fixture_name);
    let p = path.display().to_string();
    let mut s = sim(&["replay", &f, "--format", "json", "--ledger", &p]);
    if let Some(r) = rates {
        s = s.arg("--rates").arg(r);
    }
    let v = s.json();
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let header = rdr.headers().unwrap().clone();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, x)| (h.to_string(), x.to_string()))
                .collect()
        })
        .collect();
    (v, rows)
}

#[test]
fn every_fixtures_ledger_sums_to_its_totals_for_every_model() {
    let r = test_rates();
    for name in FIXTURES {
        for rates in [Some(r.as_str()), None] {
            let (v, rows) = ledger(name, rates);
            for m in v["models"].as_array().unwrap() {
                let model_name = m["model"].as_str().unwrap();
                let mine: Vec<_> = rows.iter().filter(|r| r["model"] == model_name).collect();
                let sum: Decimal = mine
                    .iter()
                    .filter(|r| !r["amount"].is_empty())
                    .map(|r| d(&r["amount"]))
                    .sum();
                assert_eq!(sum, dec(&m["total"]), "{name} {model_name}");
                let fees: Decimal = mine
                    .iter()
                    .filter(|r| r["charge"] == "fee")
                    .map(|r| d(&r["amount"]))
                    .sum();
                assert_eq!(fees, dec(&m["fees"]), "{name} {model_name}");
                let messages = mine.iter().filter(|r| r["charge"] != "fee").count() as u64;
                assert_eq!(
                    messages,
                    m["totals"]["messages_out"].as_u64().unwrap(),
                    "{name} {model_name}"
                );
                let unpriced = mine.iter().filter(|r| r["note"] == "unpriced").count() as u64;
                assert_eq!(
                    unpriced,
                    m["totals"]["unpriced"].as_u64().unwrap(),
                    "{name} {model_name}"
                );
            }
        }
    }
}

#[test]
fn ledger_rows_name_session_billing_and_rate_row() {
    let r = test_rates();
    let (_, rows) = ledger("viber_session.csv", Some(&r));
    let plain: Vec<_> = rows.iter().filter(|r| r["model"] == "plain").collect();
    let first = &plain[0];
    assert_eq!(first["timestamp"], "2026-03-02T08:01:00+00:00");
    assert_eq!(first["contact"], "+380501110001");
    assert_eq!(first["country"], "UA");
    assert_eq!(first["session"], "1");
    assert_eq!(first["billed_as"], "session");
    assert_eq!(first["charge"], "session");
    assert_eq!(first["amount"], "0.0300");
    assert_eq!(first["currency"], "EUR");
    assert_eq!(first["rate_country"], "UA");
    assert_eq!(first["rate_effective_from"], "2020-01-01");
    assert_eq!(first["line"], "3");
    let expired = plain.iter().find(|r| r["line"] == "7").unwrap();
    assert_eq!(expired["billed_as"], "business_initiated");
    assert_eq!(expired["category"], "marketing");
    assert_eq!(expired["amount"], "0.0700");
    assert_eq!(expired["note"], "category assumed");
    let fee = rows
        .iter()
        .find(|r| r["model"] == "flat" && r["charge"] == "fee")
        .unwrap();
    assert_eq!(fee["billed_as"], "monthly_fee");
    assert_eq!(fee["country"], "UA");
    assert_eq!(fee["amount"], "150");
    assert_eq!(fee["month"], "2026-03");
}
