//! Scaling: `explain` billed while the log is read gives what the read-then-bill path gives;
//! a log split by account, replayed apart and merged, gives the whole log's report.

use crate::sim;
use rust_decimal::Decimal;
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

/// One contact's messages of one instant in two accounts, `b` (line 2) then `a` (line 3): the
/// replay order puts account `a` first (by instant, then account name), so every model explains
/// line 3 then line 2, from the file (billed in input order, the sink sorting its lines) as from
/// standard input (sorted into the replay order before billing).
#[test]
fn explain_lists_one_instant_in_account_order() {
    let header = "timestamp,contact,direction,kind,account";
    let rows = [
        "2026-03-01T09:00:00Z,+4915112345678,out,promotional,b",
        "2026-03-01T09:00:00Z,+4915112345678,out,promotional,a",
    ];
    let log = write_log("two_accounts_one_instant.csv", header, &rows);
    let log = log.to_str().unwrap();
    let args = [
        "explain",
        log,
        "--contact",
        "+4915112345678",
        "--format",
        "json",
    ];
    let file = sim(&args).json();
    let stdin_args = [
        "explain",
        "-",
        "--contact",
        "+4915112345678",
        "--format",
        "json",
    ];
    let text = format!("{header}\n{}\n{}\n", rows[0], rows[1]);
    assert_eq!(sim(&stdin_args).stdin(text).json(), file);
    for m in file["models"].as_array().unwrap() {
        let lines: Vec<&str> = (m["lines"].as_array().unwrap().iter())
            .map(|l| l["line"].as_str().unwrap())
            .collect();
        assert_eq!(lines, ["3", "2"], "{}", m["model"]);
    }
}

#[test]
fn explain_of_an_unknown_contact_is_a_usage_error() {
    sim(&["explain", MIXED, "--contact", "+1 555 0100"]).fails(2, "--contact: no such contact");
    sim(&["explain", "-", "--contact", "+1 555 0100"])
        .stdin(std::fs::read(MIXED).unwrap())
        .fails(2, "--contact: no such contact");
}

/// samples/mixed.csv split by account: `support` (1872 rows) and the rest (`alerts` 82,
/// `marketing` 46), each half replayed apart with every built-in model, then merged: the
/// whole log's JSON report, every count and amount (but the file's name) exactly; but a
/// country's share of the monthly fees, a quotient rounded to 28 digits in each report, to
/// within 1e-24 (the last digit of one country differs here).
#[test]
fn halves_split_by_account_merge_into_the_whole() {
    let text = std::fs::read_to_string(MIXED).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let (support, rest): (Vec<&str>, Vec<&str>) =
        rows.lines().partition(|r| r.ends_with(",support"));
    assert_eq!((support.len(), rest.len()), (1872, 128));
    let a = write_log("mixed_support.csv", header, &support);
    let b = write_log("mixed_rest.csv", header, &rest);
    let json_of = |log: &std::path::Path, name: &str| -> PathBuf {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
        let (log, o) = (log.to_str().unwrap(), out.to_str().unwrap());
        sim(&["replay", log, "--format", "json", "--output", o]).succeeds();
        out
    };
    let (ja, jb) = (json_of(&a, "support.json"), json_of(&b, "rest.json"));
    let merged = sim(&["merge", ja.to_str().unwrap(), jb.to_str().unwrap()]).json();
    let whole = sim(&["replay", MIXED, "--format", "json"]).json();
    // The country rows' fee shares (and totals) apart: within 1e-24.
    let without_file = |mut v: serde_json::Value| {
        v["input"].as_object_mut().unwrap().remove("file");
        let mut shares = Vec::new();
        for m in v["models"].as_array_mut().unwrap() {
            for c in m["countries"].as_array_mut().unwrap() {
                for k in ["fees", "total"] {
                    let x = c.as_object_mut().unwrap().remove(k).unwrap();
                    shares.push(x.as_str().unwrap().parse::<Decimal>().unwrap());
                }
            }
        }
        (v, shares)
    };
    assert_eq!(merged["input"]["rows"], 2000);
    assert_eq!(
        merged["input"]["file"],
        format!("{} + {}", a.display(), b.display())
    );
    let (merged, merged_shares) = without_file(merged);
    let (whole, whole_shares) = without_file(whole);
    assert_eq!(merged, whole);
    assert_eq!(merged_shares.len(), whole_shares.len());
    let tiny = Decimal::new(1, 24);
    for (m, w) in merged_shares.iter().zip(&whole_shares) {
        assert!((m - w).abs() <= tiny, "{m} against {w}");
    }
}

/// Reports of different models are not summed (exit 3, naming the report).
#[test]
fn merge_refuses_reports_of_other_models() {
    let out = |model: &str, name: &str| -> String {
        let o = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
        let o = o.to_str().unwrap().to_string();
        sim(&[
            "replay", MIXED, "--format", "json", "--model", model, "--output", &o,
        ])
        .succeeds();
        o
    };
    let (a, b) = (out("viber-2024", "v.json"), out("whatsapp-meta", "w.json"));
    sim(&["merge", &a, &b]).fails(3, "other models, channels or currencies");
    // The same report twice would count every account twice.
    sim(&["merge", &a, &a]).fails(3, "is in an earlier report too");
}

/// With --accounts (tests/fixtures/accounts: intl.csv, accounts `old`, `new`, `nodate`): the
/// part of `new` and the part of the other two merge into the whole report, the account table
/// included (each account once; model `intl`'s `accounts_assumed_domestic` 1, `nodate`, summed
/// from 0 and 1).
#[test]
fn halves_with_an_accounts_file_merge_into_the_whole() {
    let log = crate::fixture("accounts/intl.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let (new, rest): (Vec<&str>, Vec<&str>) = rows.lines().partition(|r| r.ends_with(",new"));
    let rates = crate::fixture("accounts/rates");
    let accounts = crate::fixture("accounts/intl_accounts.csv");
    let report = |log: &str, out: Option<&str>| {
        let mut a = vec!["replay", log, "--rates", &rates, "--accounts", &accounts];
        a.extend(["--format", "json"]);
        if let Some(o) = out {
            a.extend(["--output", o]);
        }
        sim(&a)
    };
    let mut parts = Vec::new();
    for (name, rows) in [("intl_new", &new), ("intl_rest", &rest)] {
        let part = write_log(&format!("{name}.csv"), header, rows);
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.json"));
        let out = out.to_str().unwrap().to_string();
        report(part.to_str().unwrap(), Some(&out)).succeeds();
        parts.push(out);
    }
    let mut merged = sim(&["merge", &parts[0], &parts[1]]).json();
    let mut whole = report(&log, None).json();
    assert_eq!(merged["models"][1]["model"], "intl");
    assert_eq!(merged["models"][1]["accounts_assumed_domestic"], 1);
    for v in [&mut merged, &mut whole] {
        v["input"].as_object_mut().unwrap().remove("file");
    }
    assert_eq!(merged, whole);
}
