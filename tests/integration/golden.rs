//! Golden outputs: every shipped sample and every valid fixture log through every output (table,
//! CSV, JSON, ledger, explain, compare, breakeven, SVG), compared byte for byte with the files
//! recorded in tests/golden/. How they are made and when they may change: tests/golden/README.md.
//! `SIMCOST_BLESS=1 cargo test --test integration golden` rewrites them.
//!
//! Paths are kept stable this way: logs and rate directories are named relative to the package
//! root (cargo runs integration tests there), so outputs show `samples/mixed.csv`; the ledger and
//! the SVG are written into a temporary directory, whose path is replaced by `$TMP` wherever an
//! output names it. Dates: `compare` without a log gets `--date`; nothing else reads the clock.

use super::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The recorded outputs, relative to the package root.
const GOLDEN: &str = "tests/golden";
const TEST_RATES: Option<&str> = Some("tests/fixtures/rates");
const BREAKEVEN_RATES: Option<&str> = Some("tests/fixtures/breakeven");
/// The card date of `compare` without a log (by default today).
const CARDS_DATE: &str = "2026-03-01";

/// A log and the rates the other tests replay it with; every model of those rates runs.
struct Case {
    /// Its folder under tests/golden/.
    name: &'static str,
    log: &'static str,
    /// `--rates`; `None`: the shipped (built-in) rates.
    rates: Option<&'static str>,
    /// Arguments every run of this log needs.
    extra: &'static [&'static str],
}

const fn case(name: &'static str, log: &'static str, rates: Option<&'static str>) -> Case {
    Case {
        name,
        log,
        rates,
        extra: &[],
    }
}

/// Every shipped sample and every valid log of tests/fixtures (bad_direction.csv is not one:
/// its bad rows are the point of it; tests/fixtures/bad/ is the malformed-input corpus).
const CASES: &[Case] = &[
    case("samples/mixed", "samples/mixed.csv", None),
    case("samples/notifications", "samples/notifications.csv", None),
    case("samples/support", "samples/support.csv", None),
    case(
        "fixtures/hostile_cells",
        "tests/fixtures/hostile_cells.csv",
        TEST_RATES,
    ),
    Case {
        name: "fixtures/map_kind_account",
        log: "tests/fixtures/map_kind_account.csv",
        rates: TEST_RATES,
        extra: &["--map", "kind=knd"],
    },
    case(
        "fixtures/meta_category",
        "tests/fixtures/meta_category.csv",
        None,
    ),
    case(
        "fixtures/meta_era_boundary",
        "tests/fixtures/meta_era_boundary.csv",
        None,
    ),
    case(
        "fixtures/meta_markets",
        "tests/fixtures/meta_markets.csv",
        None,
    ),
    case(
        "fixtures/meta_window",
        "tests/fixtures/meta_window.csv",
        None,
    ),
    case("fixtures/tiers", "tests/fixtures/tiers.csv", None),
    case(
        "fixtures/viber_allowance",
        "tests/fixtures/viber_allowance.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_after_cap",
        "tests/fixtures/viber_after_cap.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_allowance_ties",
        "tests/fixtures/viber_allowance_ties.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_cap",
        "tests/fixtures/viber_cap.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_fees",
        "tests/fixtures/viber_fees.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_in_a_row",
        "tests/fixtures/viber_in_a_row.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_kinds",
        "tests/fixtures/viber_kinds.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_minimum",
        "tests/fixtures/viber_minimum.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/viber_session",
        "tests/fixtures/viber_session.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/whatsapp_session",
        "tests/fixtures/whatsapp_session.csv",
        TEST_RATES,
    ),
    case(
        "fixtures/breakeven_mix",
        "tests/fixtures/breakeven/mix.csv",
        BREAKEVEN_RATES,
    ),
];

/// The rate directories whose cards `compare` (and `breakeven`) compare without a log.
const CARDS: &[(&str, Option<&str>)] = &[
    ("cards/shipped", None),
    ("cards/test", TEST_RATES),
    ("cards/breakeven", BREAKEVEN_RATES),
];

/// Options that change figures or wording, each on a log the other tests use it with:
/// (recorded name, arguments, a file the run writes into the temporary directory).
const VARIANTS: &[(&str, &[&str], Option<&str>)] = &[
    (
        "variants/bad_direction-skip-invalid.txt",
        &[
            "replay",
            "tests/fixtures/bad_direction.csv",
            "--rates",
            "tests/fixtures/rates",
            "--skip-invalid",
            "--rejects",
        ],
        Some("rejects.csv"),
    ),
    (
        "variants/viber_fees-account-country-DE.txt",
        &[
            "replay",
            "tests/fixtures/viber_fees.csv",
            "--rates",
            "tests/fixtures/rates",
            "--account-country",
            "DE",
            "--by",
            "account",
            "--full-precision",
        ],
        None,
    ),
    (
        "variants/map_kind_account-no-account.txt",
        &[
            "replay",
            "tests/fixtures/map_kind_account.csv",
            "--rates",
            "tests/fixtures/rates",
            "--map",
            "kind=knd",
            "--map",
            "account=",
            "--by",
            "account",
        ],
        None,
    ),
    (
        "variants/meta_category-as-of.json",
        &[
            "replay",
            "tests/fixtures/meta_category.csv",
            "--model",
            "whatsapp-meta",
            "--as-of",
            "2026-10-15",
            "--format",
            "json",
        ],
        None,
    ),
    (
        "variants/mixed-tz-kyiv-by-month.txt",
        &[
            "replay",
            "samples/mixed.csv",
            "--tz",
            "Europe/Kyiv",
            "--by",
            "month",
            "--full-precision",
        ],
        None,
    ),
    (
        "variants/breakeven_mix-compare-usd-fx-date.txt",
        &[
            "compare",
            "tests/fixtures/breakeven/mix.csv",
            "--rates",
            "tests/fixtures/breakeven",
            "--currency",
            "USD",
            "--fx-date",
            "2025-06-30",
            "--full-precision",
        ],
        None,
    ),
    (
        "variants/cards-shipped-countries.txt",
        &[
            "compare",
            "--cards",
            "--date",
            "2026-03-01",
            "--countries",
            "DE,UA,GB",
            "--messages-per-session",
            "3",
            "--viber",
        ],
        None,
    ),
    (
        "variants/accounts-intl-by-account.txt",
        &[
            "replay",
            "tests/fixtures/accounts/intl.csv",
            "--rates",
            "tests/fixtures/accounts/rates",
            "--accounts",
            "tests/fixtures/accounts/intl_accounts.csv",
            "--by",
            "account",
            "--full-precision",
        ],
        None,
    ),
    (
        "variants/accounts-tz-month.json",
        &[
            "replay",
            "tests/fixtures/accounts/tz_month.csv",
            "--rates",
            "tests/fixtures/rates",
            "--model",
            "legacy",
            "--accounts",
            "tests/fixtures/accounts/tz_accounts.csv",
            "--by",
            "month",
            "--format",
            "json",
        ],
        None,
    ),
];

const FORMATS: [(&str, &str); 3] = [("table", "txt"), ("csv", "csv"), ("json", "json")];

/// One run of simcost: its stdout is recorded as `out`, a file it writes (ledger, SVG) as `file`.
struct Run {
    out: String,
    args: Vec<String>,
    /// (recorded name, the argument naming it relative to the temporary directory).
    file: Option<(String, String)>,
    /// The run whose outputs this one's are expected to equal: recorded only if they differ
    /// (the JSON report holds every grouping, whatever `--by`; three copies would triple it).
    same_as: Option<String>,
}

fn run(out: String, args: Vec<String>) -> Run {
    Run {
        out,
        args,
        file: None,
        same_as: None,
    }
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `command LOG --rates R EXTRA...` for `c`.
fn base(command: &str, c: &Case) -> Vec<String> {
    let mut a = strings(&[command, c.log]);
    if let Some(r) = c.rates {
        a.extend(strings(&["--rates", r]));
    }
    a.extend(strings(c.extra));
    a
}

/// The contact of the log's first row, as written there.
fn first_contact(log: &str) -> String {
    let mut r = csv::Reader::from_path(log).unwrap_or_else(|e| panic!("{log}: {e}"));
    let column = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "contact")
        .unwrap_or_else(|| panic!("{log}: no contact column"));
    let row = r.records().next().unwrap().unwrap();
    row[column].to_string()
}

fn runs_of_log(c: &Case) -> Vec<Run> {
    let mut runs = Vec::new();
    let dir = c.name;
    for by in ["country", "month", "account"] {
        for (format, ext) in FORMATS {
            let mut a = base("replay", c);
            a.extend(strings(&["--format", format, "--by", by]));
            let mut r = run(format!("{dir}/replay-{by}.{ext}"), a);
            if format == "json" && by != "country" {
                r.same_as = Some(format!("{dir}/replay-country.json"));
            }
            runs.push(r);
        }
    }
    // The ledger and the chart ride on the table runs (their stdout is that table).
    runs[0].args.push("--ledger".into());
    runs[0].file = Some((format!("{dir}/ledger.csv"), "ledger.csv".into()));
    let mut explain = base("explain", c);
    explain.extend(["--contact".into(), first_contact(c.log)]);
    runs.push(run(format!("{dir}/explain.txt"), explain));
    for command in ["compare", "breakeven"] {
        for (format, ext) in FORMATS {
            let mut a = base(command, c);
            a.extend(strings(&["--format", format]));
            let mut r = run(format!("{dir}/{command}.{ext}"), a);
            if command == "breakeven" && format == "table" {
                r.args.push("--plot".into());
                r.file = Some((format!("{dir}/breakeven.svg"), "breakeven.svg".into()));
            }
            runs.push(r);
        }
    }
    runs
}

fn runs_of_cards(dir: &str, rates: Option<&str>) -> Vec<Run> {
    let mut runs = Vec::new();
    for command in ["compare", "breakeven"] {
        for (format, ext) in FORMATS {
            let mut a = strings(&[command, "--cards", "--date", CARDS_DATE, "--format", format]);
            if let Some(r) = rates {
                a.extend(strings(&["--rates", r]));
            }
            runs.push(run(format!("{dir}/{command}.{ext}"), a));
        }
    }
    runs
}

fn all_runs() -> Vec<Run> {
    let mut runs: Vec<Run> = CASES.iter().flat_map(runs_of_log).collect();
    for (dir, rates) in CARDS {
        runs.extend(runs_of_cards(dir, *rates));
    }
    for (out, args, file) in VARIANTS {
        let mut r = run(out.to_string(), strings(args));
        r.file = file.map(|f| (format!("{out}.{f}"), f.to_string()));
        runs.push(r);
    }
    runs
}

/// Runs `r` in its own temporary directory; returns the recorded files (name, bytes): stdout,
/// stderr and the exit code when there are any (`NAME.stderr`), and the file it wrote.
fn record(r: &Run) -> Vec<(String, Vec<u8>)> {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = tmp.path().display().to_string();
    let mut args = r.args.clone();
    if let Some((_, arg)) = &r.file {
        args.push(tmp.path().join(arg).display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = sim(&refs).run();
    let stable = |b: &[u8]| -> Vec<u8> {
        match std::str::from_utf8(b) {
            Ok(s) => s.replace(&tmp_path, "$TMP").into_bytes(),
            Err(_) => b.to_vec(),
        }
    };
    let mut files = vec![(r.out.clone(), stable(&o.stdout))];
    let code = o.status.code();
    if code != Some(0) || !o.stderr.is_empty() {
        let code = code.map_or("none (killed by a signal)".to_string(), |c| c.to_string());
        let mut err = format!("exit {code}\n").into_bytes();
        err.extend(stable(&o.stderr));
        files.push((format!("{}.stderr", r.out), err));
    }
    if let Some((name, arg)) = &r.file {
        // A failed run writes no file: its absence shows as a difference.
        if let Ok(b) = std::fs::read(tmp.path().join(arg)) {
            files.push((name.clone(), stable(&b)));
        }
    }
    files
}

/// Every run, on a few threads (each run is a process); the outputs by name.
fn record_all(runs: &[Run]) -> BTreeMap<String, Vec<u8>> {
    let next = AtomicUsize::new(0);
    let each = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = runs.get(i) else { break };
                let files = record(r);
                each.lock().unwrap().insert(i, files);
            });
        }
    });
    let each = each.into_inner().unwrap();
    let mut got = BTreeMap::new();
    for (i, files) in &each {
        for (name, bytes) in files {
            let dup = runs[*i].same_as.as_ref().is_some_and(|target| {
                let twin = name.replacen(&runs[*i].out, target, 1);
                each.values()
                    .flatten()
                    .any(|(n, b)| *n == twin && b == bytes)
            });
            if !dup {
                assert!(
                    got.insert(name.clone(), bytes.clone()).is_none(),
                    "{name} twice"
                );
            }
        }
    }
    got
}

/// The files under `dir`, relative to it, README.md and .gitattributes left out.
fn recorded_names(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, names: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(d) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, names);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if rel != "README.md" && rel != ".gitattributes" {
                    names.push(rel);
                }
            }
        }
    }
    let mut names = Vec::new();
    walk(dir, dir, &mut names);
    names.sort();
    names
}

/// Where `actual` first differs from `expected`: the line number and both lines.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let e: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let a: Vec<&[u8]> = actual.split(|&b| b == b'\n').collect();
    let show = |l: Option<&&[u8]>| match l {
        Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
        None => "(end of file)".to_string(),
    };
    let i = (0..e.len().max(a.len()))
        .find(|&i| e.get(i) != a.get(i))
        .unwrap_or(0);
    format!(
        "line {}:\n    recorded: {}\n    now:      {}",
        i + 1,
        show(e.get(i)),
        show(a.get(i))
    )
}

/// The differences between what is recorded under `dir` and `got`, one message each.
fn differences(dir: &Path, got: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut found = Vec::new();
    for (name, actual) in got {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Err(_) => found.push(format!("{}: not recorded", path.display())),
            Ok(expected) if expected != *actual => found.push(format!(
                "{} differs at {}",
                path.display(),
                first_difference(&expected, actual)
            )),
            Ok(_) => {}
        }
    }
    for name in recorded_names(dir) {
        if !got.contains_key(&name) {
            found.push(format!(
                "{}/{name}: recorded but no longer made",
                dir.display()
            ));
        }
    }
    found
}

/// Rewrites tests/golden/ from `got`: every output written, files no run makes removed.
fn bless(dir: &Path, got: &BTreeMap<String, Vec<u8>>) {
    for name in recorded_names(dir) {
        if !got.contains_key(&name) {
            std::fs::remove_file(dir.join(&name)).unwrap();
        }
    }
    for (name, bytes) in got {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
}

#[test]
fn outputs_are_byte_identical() {
    let dir = Path::new(GOLDEN);
    assert!(
        dir.join("README.md").is_file(),
        "run from the package root (cargo test does): {GOLDEN}/README.md not found"
    );
    let got = record_all(&all_runs());
    if std::env::var_os("SIMCOST_BLESS").is_some_and(|v| v == "1") {
        bless(dir, &got);
        eprintln!("SIMCOST_BLESS=1: {} files rewritten in {GOLDEN}", got.len());
        return;
    }
    let found = differences(dir, &got);
    assert!(
        found.is_empty(),
        "{} of {} golden outputs differ (if the change is intended and understood: \
         SIMCOST_BLESS=1 cargo test --test integration golden, and say why in the commit; \
         see {GOLDEN}/README.md):\n{}",
        found.len(),
        got.len(),
        found.join("\n")
    );
}

#[test]
fn first_difference_names_the_line() {
    assert_eq!(
        first_difference(b"a\nb\nc\n", b"a\nB\nc\n"),
        "line 2:\n    recorded: \"b\"\n    now:      \"B\""
    );
    assert_eq!(
        first_difference(b"a\n", b"a\nmore\n"),
        "line 2:\n    recorded: \"\"\n    now:      \"more\""
    );
    assert_eq!(
        first_difference(b"a", b"a\n"),
        "line 2:\n    recorded: (end of file)\n    now:      \"\""
    );
}
