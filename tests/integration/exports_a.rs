//! Exports read as they come (issue 18, part A): each fixture in tests/fixtures/exports/ (`a-`)
//! is the traffic of a-traffic.csv spelled as an exporter spells it, and gives exactly the
//! report of its canonical twin. The hand-worked totals are in tests/fixtures/exports/README.md.

use crate::{fixture, sim, test_rates};
use serde_json::Value;

/// The JSON report of every test model on `log` (a fixture under exports/), with `args`.
fn report(log: &str, args: &[&str]) -> Value {
    let (f, r) = (fixture(&format!("exports/{log}")), test_rates());
    let mut all = vec!["replay", &f, "--rates", &r, "--format", "json"];
    all.extend(args);
    sim(&all).json()
}

/// The models' part of a report: everything billed, nothing about the file.
fn billed(v: &Value) -> &Value {
    &v["models"]
}

fn plain(v: &Value) -> &Value {
    let models = v["models"].as_array().unwrap();
    models.iter().find(|m| m["model"] == "plain").unwrap()
}

/// The canonical twin's figures, worked out by hand (README.md beside the fixtures): plain
/// 0.1400 = UA 0.0300 (session) + 0.0500 (transactional outside it) + DE 0.0200 (session) +
/// 0.0400 (promotional outside it).
fn check_hand_worked(v: &Value) {
    let p = plain(v);
    assert_eq!(p["total"], "0.1400", "{p}");
    let countries: Vec<(String, String)> = p["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["country"].as_str().unwrap().to_string(),
                c["total"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        countries,
        [
            ("DE".into(), "0.0600".into()),
            ("UA".into(), "0.0800".into())
        ]
    );
    assert_eq!(v["input"]["replayed"], 7);
}

/// `log` read with `args` bills exactly as the canonical twin does.
fn same_as_canonical(log: &str, args: &[&str]) {
    let canonical = report("a-traffic.csv", &[]);
    check_hand_worked(&canonical);
    let export = report(log, args);
    check_hand_worked(&export);
    assert_eq!(billed(&export), billed(&canonical), "{log}");
}

#[test]
fn excel_unicode_text_utf16_tabs() {
    same_as_canonical("a-excel-unicode.txt", &[]);
}

#[test]
fn gzip_and_zstd_files() {
    same_as_canonical("a-traffic.csv.gz", &[]);
    same_as_canonical("a-traffic.csv.zst", &[]);
}

#[test]
fn gzip_from_standard_input() {
    let gz = std::fs::read(fixture("exports/a-traffic.csv.gz")).unwrap();
    let r = test_rates();
    let v = sim(&["replay", "-", "--rates", &r, "--format", "json"])
        .stdin(gz)
        .json();
    check_hand_worked(&v);
    assert_eq!(billed(&v), billed(&report("a-traffic.csv", &[])));
}

#[test]
fn german_excel_semicolons_bom_and_day_first_local_times() {
    let args = [
        "--map",
        "timestamp=Datum",
        "--map",
        "contact=Kontakt",
        "--map",
        "direction=Richtung",
        "--map",
        "kind=Art",
        "--timestamp-format",
        "%d.%m.%Y %H:%M",
        "--tz",
        "Europe/Berlin",
    ];
    same_as_canonical("a-excel-de.csv", &args);
    // Without the format: refused, with the format to pass.
    let (f, r) = (fixture("exports/a-excel-de.csv"), test_rates());
    let out = sim(&["replay", &f, "--rates", &r])
        .arg("--map")
        .arg("timestamp=Datum")
        .arg("--map")
        .arg("contact=Kontakt")
        .arg("--map")
        .arg("direction=Richtung")
        .run();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a-excel-de.csv:2: a date with the day and month in no fixed order: pass --timestamp-format '%d.%m.%Y %H:%M'; the day/month order is ambiguous"),
        "{stderr}"
    );
}

#[test]
fn ukrainian_national_numbers_and_a_trunk_zero() {
    same_as_canonical("a-viber-ua-national.csv", &["--default-country", "UA"]);
    // Two contacts, not four: the German customer's (0) spellings are one contact, so its
    // 14:05 reply is in the session its 14:03 message opened (0.0200, not 0.0400).
    let v = report("a-viber-ua-national.csv", &["--default-country", "UA"]);
    let p = plain(&v);
    assert_eq!(p["totals"]["sessions_opened"], 2, "{p}");
    // Without --default-country: refused, and told what to pass.
    let (f, r) = (fixture("exports/a-viber-ua-national.csv"), test_rates());
    let out = sim(&["replay", &f, "--rates", &r]).run();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a-viber-ua-national.csv:2: a national number (its trunk prefix 0, no calling code): pass --default-country CC")
            && stderr.contains("(050 555 1234)"),
        "{stderr}"
    );
}

#[test]
fn infobip_times_with_an_offset_without_colon() {
    same_as_canonical("a-infobip.csv", &["--map", "timestamp=sentAt"]);
}

#[test]
fn twilio_rfc_2822_dates_and_whatsapp_addresses() {
    same_as_canonical("a-twilio-dates.csv", &["--map", "timestamp=DateSent"]);
}

#[test]
fn a_forced_delimiter_and_an_unknown_encoding() {
    // Forced to `,`, the German file is one column: the header is named, decoded.
    let (f, r) = (fixture("exports/a-excel-de.csv"), test_rates());
    let out = sim(&["replay", &f, "--rates", &r, "--delimiter", ","]).run();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "missing required column (timestamp); the header is: Datum;Kontakt;Richtung;Art"
        ),
        "{stderr}"
    );
    // `tab` names the tab: the Excel text file read with it forced gives the same.
    same_as_canonical("a-excel-unicode.txt", &["--delimiter", "tab"]);
}

/// A compressed file not in time order is read twice (billed while read, then again sorted):
/// it is a file, so it can be; the report is the plain file's.
#[test]
fn a_compressed_file_out_of_time_order_is_read_again() {
    use std::io::Write;
    let plain = fixture("viber_allowance.csv");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("allowance.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let r = test_rates();
    let run = |log: &str| {
        sim(&[
            "replay", log, "--rates", &r, "--model", "legacy", "--format", "json",
        ])
        .json()
    };
    let (a, b) = (run(&plain), run(gz.to_str().unwrap()));
    // Hand-worked in tests/fixtures/README.md (viber_allowance.csv): legacy 0.0950.
    assert_eq!(plain_total(&b, "legacy"), "0.0950");
    assert_eq!(billed(&a), billed(&b));
}

fn plain_total(v: &Value, model: &str) -> String {
    let models = v["models"].as_array().unwrap();
    let m = models.iter().find(|m| m["model"] == model).unwrap();
    m["total"].as_str().unwrap().to_string()
}
