//! Command-line conventions (issue 21): `--output FILE` on every command, `-` for standard
//! output in `--ledger`/`--rejects`, `--quiet`, one unpriced warning per run that names the
//! built-in card and the fix, `rates export DIR`, `explain --format csv|json`, shell
//! completions, the exit codes in `--help`.

use crate::{d, dec, fixture, sim, test_rates};

/// Two DE promotional templates on the test card (`plain`: 0.0400 each) and one to KZ, which
/// the test card does not price.
const LOG: &str = "timestamp,contact,direction,kind
2026-03-02T10:00:00Z,+4915112345001,out,promotional
2026-03-02T10:01:00Z,+4915112345002,out,promotional
2026-03-02T10:02:00Z,+77011234567,out,promotional
";

#[test]
fn output_writes_the_report_to_a_file_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, LOG).unwrap();
    let (log, r) = (log.to_str().unwrap().to_string(), test_rates());
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "replay", &log, "--rates", &r, "--model", "plain", "--format", "json",
        ],
        vec!["compare", &log, "--rates", &r, "--model", "plain"],
        vec![
            "breakeven",
            &log,
            "--rates",
            &r,
            "--model",
            "plain",
            "--model",
            "flat",
        ],
        vec![
            "explain",
            &log,
            "--rates",
            &r,
            "--contact",
            "+4915112345001",
        ],
        vec!["compare", "--cards", "--rates", &r],
        vec!["generate", "--messages", "10"],
        vec!["completions", "bash"],
    ];
    for (i, args) in runs.into_iter().enumerate() {
        let file = dir.path().join(format!("out{i}"));
        let mut args = args.clone();
        let f = file.to_str().unwrap().to_string();
        args.extend(["--output", &f]);
        let stdout = sim(&args).succeeds();
        assert_eq!(stdout, "", "{args:?}: the report went to standard output");
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(!written.is_empty(), "{args:?}: nothing in {f}");
    }
    // The JSON report in its file: 2 x 0.04 priced, the KZ message unpriced.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out0")).unwrap()).unwrap();
    assert_eq!(dec(&v["models"][0]["total"]), d("0.08"));
    // An output that is the log is refused before anything is written.
    sim(&["replay", &log, "--rates", &r, "--output", &log]).fails(2, "--output");
}

#[test]
fn a_dash_sends_the_ledger_or_rejects_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.txt");
    let report = report.to_str().unwrap();
    let r = test_rates();
    let out = sim(&[
        "replay", "-", "--rates", &r, "--model", "plain", "--ledger", "-", "--output", report,
    ])
    .stdin(LOG)
    .succeeds();
    assert!(out.starts_with("timestamp,month,account,contact"), "{out}");
    assert!(out.contains("tel:+4915112345001"), "{out}");
    assert!(
        !std::path::Path::new("-").exists(),
        "a file named - was made"
    );
    assert!(std::fs::read_to_string(report).unwrap().contains("TOTAL"));
    // Without --output the report and the ledger would share standard output.
    sim(&[
        "replay", "-", "--rates", &r, "--model", "plain", "--ledger", "-",
    ])
    .stdin(LOG)
    .fails(2, "--ledger and the report would all go to standard output");
    let bad = "timestamp,contact,direction,kind\n2026-03-02T10:00:00Z,+4915112345001,sideways,\n\
               2026-03-02T10:01:00Z,+4915112345001,out,promotional\n";
    let out = sim(&[
        "replay",
        "-",
        "--rates",
        &r,
        "--model",
        "plain",
        "--skip-invalid",
        "--rejects",
        "-",
        "--output",
        report,
    ])
    .stdin(bad)
    .succeeds();
    assert!(out.contains("sideways"), "{out}");
}

#[test]
fn one_unpriced_warning_names_the_built_in_card_and_the_fix_and_quiet_silences_it() {
    let o = sim(&[
        "replay",
        "-",
        "--model",
        "viber-2024",
        "--model",
        "viber-business",
    ])
    .stdin(LOG)
    .run();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(
        err.contains("viber-2024: 1 messages have no price"),
        "{err}"
    );
    assert!(
        err.contains("viber-business: 1 messages have no price"),
        "{err}"
    );
    assert!(
        err.contains("built-in cards (rates/viber-prices.csv)"),
        "{err}"
    );
    assert!(err.contains("--rates DIR"), "{err}");
    assert!(err.contains("simcost rates export DIR"), "{err}");
    let o = sim(&["replay", "-", "--model", "viber-2024", "--quiet"])
        .stdin(LOG)
        .run();
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    // The report still counts them.
    assert!(String::from_utf8_lossy(&o.stdout).contains("TOTAL (incomplete)"));
}

#[test]
fn rates_export_writes_the_built_in_cards_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("cards");
    let to_s = to.to_str().unwrap();
    sim(&["rates", "export", to_s]).succeeds();
    for f in [
        "viber-legacy.toml",
        "viber-prices.csv",
        "whatsapp-meta.toml",
        "fx.csv",
    ] {
        assert!(to.join(f).exists(), "{f}");
    }
    // The exported directory bills as the built-in cards do.
    let builtin = sim(&["replay", "-", "--format", "json", "--quiet"])
        .stdin(LOG)
        .succeeds();
    let exported = sim(&[
        "replay", "-", "--format", "json", "--quiet", "--rates", to_s,
    ])
    .stdin(LOG)
    .succeeds();
    let totals = |s: &str| {
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        (v["models"].as_array().unwrap().iter())
            .map(|m| m["total"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(totals(&builtin), totals(&exported));
    // An edited card survives a second export.
    std::fs::write(to.join("fx.csv"), "edited").unwrap();
    sim(&["rates", "export", to_s]).fails(2, "exists");
    assert_eq!(
        std::fs::read_to_string(to.join("fx.csv")).unwrap(),
        "edited"
    );
}

#[test]
fn explain_as_csv_and_json() {
    let r = test_rates();
    let args = |format: &'static str| {
        vec![
            "explain",
            "-",
            "--rates",
            &r,
            "--model",
            "plain",
            "--contact",
            "+4915112345001",
            "--format",
            format,
        ]
    };
    let v = sim(&args("json")).stdin(LOG).json();
    let m = &v["models"][0];
    assert_eq!(m["model"], "plain");
    // One promotional template: the DE rate 0.0400.
    assert_eq!(m["lines"][0]["amount"], "0.0400");
    assert_eq!(m["lines"][0]["rate"], "DE");
    assert_eq!(m["messages_cost"], "0.0400");
    let csv = sim(&args("csv")).stdin(LOG).succeeds();
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("model,channel,currency,time,line,direction"));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("plain,viber,EUR,2026-03-02T10:00:00+00:00,2,out,"));
}

#[test]
fn completions_and_exit_codes_in_help() {
    let bash = sim(&["completions", "bash"]).succeeds();
    assert!(bash.contains("simcost"), "{bash}");
    assert!(bash.contains("complete"), "{bash}");
    let help = sim(&["--help"]).succeeds();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("5  unpriced"), "{help}");
    let _ = fixture("rates");
}
