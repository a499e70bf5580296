//! Scaling: `explain` billed while the log is read gives what the read-then-bill path gives.

use crate::sim;
use std::path::PathBuf;

const MIXED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/mixed.csv");

/// `rows` (header first) written to a file of the test's own.
fn write_log(name: &str, header: &str, rows: &[&str]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A contact of samples/mixed.csv (11 rows), typed with spaces: explained from the file (billed while read), from standard input (read first),
/// in every format byte for byte the same; and from the same rows newest first (sorted
/// first) the same but for the line numbers (row n of 2000 is row 2003 - n reversed).
#[test]
fn explain_is_the_same_on_every_path() {
    let text = std::fs::read_to_string(MIXED).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let mut rows: Vec<&str> = rows.lines().collect();
    rows.reverse();
    let newest_first = write_log("mixed_newest_first.csv", header, &rows);
    let newest_first = newest_first.to_str().unwrap();
    for format in ["table", "csv", "json"] {
        let args = |log: &str| -> Vec<String> {
            [
                "explain",
                log,
                "--contact",
                "+380 200 000032",
                "--format",
                format,
            ]
            .map(String::from)
            .to_vec()
        };
        let run = |log: &str| {
            let a = args(log);
            sim(&a.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let file = run(MIXED).succeeds();
        assert_eq!(run("-").stdin(text.clone()).succeeds(), file, "{format}");
    }
    let json = |log: &str| -> serde_json::Value {
        sim(&[
            "explain",
            log,
            "--contact",
            "+380 200 000032",
            "--format",
            "json",
        ])
        .json()
    };
    let mut reversed = json(newest_first);
    for m in reversed["models"].as_array_mut().unwrap() {
        for l in m["lines"].as_array_mut().unwrap() {
            let n: u64 = l["line"].as_str().unwrap().parse().unwrap();
            l["line"] = (2003 - n).to_string().into();
        }
    }
    let whole = json(MIXED);
    assert_eq!(whole["contact"], "+380200000032");
    assert_eq!(whole["models"][0]["lines"].as_array().unwrap().len(), 11);
    assert_eq!(reversed, whole);
}

#[test]
fn explain_of_an_unknown_contact_is_a_usage_error() {
    sim(&["explain", MIXED, "--contact", "+1 555 0100"]).fails(2, "--contact: no such contact");
    sim(&["explain", "-", "--contact", "+1 555 0100"])
        .stdin(std::fs::read(MIXED).unwrap())
        .fails(2, "--contact: no such contact");
}
