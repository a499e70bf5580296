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
    assert_eq!(first["contact"], "tel:+380501110001");
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

/// The ledger of `log` (a file written in a temporary directory, so that it is billed while it
/// is read) with the test rates and `model`: its rows.
fn ledger_of_text(log: &str, model: &str) -> Vec<HashMap<String, String>> {
    let dir = tempfile::tempdir().unwrap();
    let (log_path, path) = (dir.path().join("log.csv"), dir.path().join("ledger.csv"));
    std::fs::write(&log_path, log).unwrap();
    let (l, p, r) = (
        log_path.display().to_string(),
        path.display().to_string(),
        test_rates(),
    );
    sim(&[
        "replay", &l, "--rates", &r, "--model", model, "--ledger", &p,
    ])
    .succeeds();
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let header = rdr.headers().unwrap().clone();
    (rdr.records())
        .map(|r| {
            let r = r.unwrap();
            (header.iter().zip(r.iter()))
                .map(|(h, x)| (h.to_string(), x.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn sessions_opened_at_one_instant_are_numbered_in_the_replay_order() {
    // Two contacts write and are answered at the same instant, the later name first in the
    // file. The replay order puts +380501110001 first (by name), so its session is number 1
    // and +380501110002's number 2, though the file has +380501110002's rows first; the rows
    // come in that order too. (Billed in input order, the numbers would be swapped.)
    let log = "timestamp,contact,direction,kind\n\
               2026-03-02T08:00:00Z,+380501110002,in,\n\
               2026-03-02T08:00:00Z,+380501110001,in,\n\
               2026-03-02T08:00:00Z,+380501110002,out,\n\
               2026-03-02T08:00:00Z,+380501110001,out,\n";
    let rows = ledger_of_text(log, "plain");
    let got: Vec<(&str, &str, &str)> = (rows.iter())
        .map(|r| {
            (
                r["contact"].as_str(),
                r["session"].as_str(),
                r["line"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("tel:+380501110001", "1", "5"),
            ("tel:+380501110002", "2", "4")
        ]
    );
}

/// The log read from `text`, and its ledger made by the library from lines kept while every
/// shipped model is billed (one thread): the reference a streamed ledger is held to.
fn ledger_of_kept_lines(name: &str, text: &str) -> (simcost::input::Log, Vec<u8>) {
    let log = simcost::input::read_from(name.into(), text.as_bytes(), &read_options(1)).unwrap();
    let models = simcost::rates::RateSet::load(&simcost::rates::RateSource::Embedded)
        .unwrap()
        .select(&[])
        .unwrap();
    let order = simcost::billing::replay_order(&log);
    let results =
        simcost::billing::bill_all(&log, Some(&order), &models, &billing_options(true), 1);
    let mut kept = Vec::new();
    simcost::report::ledger::write(&log, &results, chrono_tz::UTC, &mut kept).unwrap();
    (log, kept)
}

#[test]
fn the_ledger_made_while_billing_is_the_one_made_from_kept_lines() {
    // The CLI bills a time-ordered file while reading it and formats each line as billed;
    // the library keeps every line and writes them afterwards. Same bytes, every model.
    let path = format!("{}/samples/mixed.csv", env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ledger.csv");
    let o = out.display().to_string();
    sim(&["replay", &path, "--ledger", &o]).succeeds();
    let text = std::fs::read_to_string(&path).unwrap();
    let (_, kept) = ledger_of_kept_lines("mixed.csv", &text);
    let streamed = std::fs::read(&out).unwrap();
    assert!(streamed.len() > 100_000, "{}", streamed.len());
    assert!(streamed == kept, "the two ledgers differ");
}

#[test]
fn a_ledger_of_many_segments_is_the_same_for_any_number_of_workers() {
    // 40,000 messages: about 23,000 outbound rows a model, so each model kept compact is
    // six segments of records (4,096 each, `report::ledger`), formatted by one worker or
    // several, and written in order: the bytes of the ledger made from kept lines.
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("log.csv");
    let text = sim(&["generate", "--messages", "40000", "--contacts", "3000"]).succeeds();
    std::fs::write(&log_path, &text).unwrap();
    let (log, kept) = ledger_of_kept_lines("log.csv", &text);
    let outbound = log
        .events
        .iter()
        .filter(|e| e.direction == simcost::event::Direction::Outbound)
        .count();
    assert!(outbound > 5 * 4096, "{outbound}");
    let l = log_path.display().to_string();
    for threads in ["1", "2", "3"] {
        let out = dir.path().join(format!("ledger-{threads}.csv"));
        let o = out.display().to_string();
        sim(&["replay", &l, "--threads", threads, "--ledger", &o]).succeeds();
        assert!(std::fs::read(&out).unwrap() == kept, "{threads} workers");
        // From standard input every model is kept compact, the first too.
        let o = dir.path().join("from-stdin.csv").display().to_string();
        (sim(&["replay", "-", "--threads", threads, "--ledger", &o]).stdin(text.clone()))
            .succeeds();
        assert!(
            std::fs::read(&o).unwrap() == kept,
            "{threads} workers, stdin"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_while_the_kept_segments_are_written_is_an_error() {
    // From standard input every model is kept compact and written by the pool's writer (its
    // error stopping the workers is checked in `report::ledger::segments`): the run fails,
    // named, with the I/O exit code.
    let text = sim(&["generate", "--messages", "40000", "--contacts", "3000"]).succeeds();
    (sim(&["replay", "-", "--threads", "2", "--ledger", "/dev/full"]).stdin(text))
        .fails(1, "writing the ledger: No space left on device");
}
