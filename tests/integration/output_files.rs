//! Nothing the user owns is lost (docs/billing-rules.md §1): no output is the log or another output, every
//! output file is written whole or not at all, a closed or failing standard output is an
//! error, `--skip-invalid` has limits, and a log from a pipe is read once.

use super::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_simcost");

/// A directory holding log.csv, a copy of viber_fees.csv (7 rows, not in time order).
fn workdir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    fs::copy(fixture("viber_fees.csv"), &log).unwrap();
    (dir, log.display().to_string())
}

/// The names in `dir`, sorted: a temporary file left behind would show here.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

fn expect_exit(out: &std::process::Output, code: i32, message: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(message), "{stderr:?} lacks {message:?}");
}

#[test]
fn an_output_that_is_the_log_is_a_usage_error_and_the_log_is_untouched() {
    let (dir, log) = workdir();
    let d = dir.path();
    let before = fs::read(&log).unwrap();
    std::os::unix::fs::symlink("log.csv", d.join("link.csv")).unwrap();
    fs::hard_link(&log, d.join("hard.csv")).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    let listing = names(d);
    let canonical = fs::canonicalize(&log).unwrap().display().to_string();
    let (link, hard, other_spelling) = (p(d, "link.csv"), p(d, "hard.csv"), p(d, "sub/../log.csv"));
    let r = test_rates();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["replay", &log, "--ledger", &log],
            format!("--ledger {log} is the same file as LOG {log}: an output is never written"),
        ),
        (
            vec!["replay", &log, "--ledger", &link],
            format!("--ledger {link} is the same file as LOG {log} (both {canonical})"),
        ),
        (
            vec!["replay", &log, "--ledger", &other_spelling],
            format!("--ledger {other_spelling} is the same file as LOG {log} (both {canonical})"),
        ),
        (
            vec!["replay", &log, "--ledger", &hard],
            format!("--ledger {hard} is the same file as LOG {log} (hard links to one file)"),
        ),
        (
            vec!["replay", &log, "--skip-invalid", "--rejects", &log],
            format!("--rejects {log} is the same file as LOG {log}"),
        ),
        (
            vec!["breakeven", &log, "--plot", &log],
            format!("--plot {log} is the same file as LOG {log}"),
        ),
        (
            vec!["breakeven", &log, "--plot", &link],
            format!("--plot {link} is the same file as LOG {log}"),
        ),
        (
            vec![
                "explain",
                &log,
                "--contact",
                "+4915112345678",
                "--skip-invalid",
                "--rejects",
                &link,
            ],
            format!("--rejects {link} is the same file as LOG {log}"),
        ),
    ];
    for (args, message) in cases {
        let out = sim(&args).arg("--rates").arg(&r).run();
        expect_exit(&out, 2, &message);
        assert_eq!(fs::read(&log).unwrap(), before, "{args:?}");
        assert_eq!(names(d), listing, "{args:?}");
    }
    // Standard input redirected from the log is the log.
    let out = Command::new(BIN)
        .args(["replay", "-", "--rates", &r, "--ledger", &link])
        .stdin(fs::File::open(&log).unwrap())
        .output()
        .unwrap();
    expect_exit(&out, 2, "is the same file as LOG - (standard input)");
    assert_eq!(fs::read(&log).unwrap(), before);
}

#[test]
fn two_outputs_in_one_file_are_a_usage_error_and_neither_is_written() {
    let (dir, log) = workdir();
    let d = dir.path();
    let (x, x_again) = (p(d, "x.csv"), p(d, "sub/../x.csv"));
    fs::create_dir(d.join("sub")).unwrap();
    let r = test_rates();
    // Not there yet: compared by directory and name, and not created.
    let out = sim(&["replay", &log, "--rates", &r, "--skip-invalid"])
        .arg("--rejects")
        .arg(&x)
        .arg("--ledger")
        .arg(&x_again)
        .run();
    let both = fs::canonicalize(d).unwrap().join("x.csv");
    expect_exit(
        &out,
        2,
        &format!(
            "--ledger {x_again} and --rejects {x} are the same file (both {}): give each output its own file",
            both.display()
        ),
    );
    assert!(!d.join("x.csv").exists());
    // There already: the user's content stays.
    fs::write(&x, "precious\n").unwrap();
    for args in [
        vec![
            "replay",
            &log,
            "--skip-invalid",
            "--rejects",
            &x,
            "--ledger",
            &x,
        ],
        vec![
            "breakeven",
            &log,
            "--skip-invalid",
            "--rejects",
            &x,
            "--plot",
            &x,
        ],
    ] {
        let out = sim(&args).arg("--rates").arg(&r).run();
        expect_exit(&out, 2, "are the same file");
        assert_eq!(fs::read_to_string(&x).unwrap(), "precious\n");
    }
    assert_eq!(names(d), ["log.csv", "sub", "x.csv"]);
    // Standard output sent to the file: the rename would unlink the report.
    let out = Command::new(BIN)
        .args(["replay", &log, "--rates", &r, "--ledger", &x])
        .stdout(fs::File::create(&x).unwrap())
        .output()
        .unwrap();
    expect_exit(
        &out,
        2,
        &format!("--ledger {x} is standard output, where the report goes"),
    );
}

/// viber_fees.csv with a bad 9th line after its 7 good rows.
fn log_with_bad_last_row(d: &Path) -> String {
    let mut text = fs::read_to_string(fixture("viber_fees.csv")).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("2026-03-09T08:00:00Z,+4915112345678,sideways,,shopA\n");
    let path = p(d, "bad_tail.csv");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_failed_run_leaves_the_previous_outputs_as_they_were() {
    let (dir, log) = workdir();
    let d = dir.path();
    let bad = log_with_bad_last_row(d);
    let (ledger, plot) = (p(d, "ledger.csv"), p(d, "plot.svg"));
    fs::write(&ledger, "precious ledger\n").unwrap();
    fs::write(&plot, "precious plot\n").unwrap();
    let listing = names(d);
    let r = test_rates();
    let unpriced = fixture("bad/rates_no_row_no_star");
    let runs: Vec<(Vec<&str>, i32, &str)> = vec![
        // A bad row after good ones: the ledger was never complete.
        (
            vec!["replay", &bad, "--rates", &r, "--ledger", &ledger],
            3,
            "bad_tail.csv:9: unknown direction",
        ),
        (
            vec!["breakeven", &bad, "--rates", &r, "--plot", &plot],
            3,
            "bad_tail.csv:9:",
        ),
        // Billed, then refused by --strict.
        (
            vec![
                "replay", &log, "--rates", &unpriced, "--strict", "--ledger", &ledger,
            ],
            5,
            "--strict makes this an error",
        ),
        // More rows skipped than allowed.
        (
            vec![
                "replay",
                &bad,
                "--rates",
                &r,
                "--skip-invalid",
                "--max-skipped",
                "0",
                "--ledger",
                &ledger,
            ],
            3,
            "1 of 8 rows skipped as invalid, more than --max-skipped 0 allows",
        ),
    ];
    for (args, code, message) in runs {
        expect_exit(&sim(&args).run(), code, message);
        assert_eq!(fs::read_to_string(&ledger).unwrap(), "precious ledger\n");
        assert_eq!(fs::read_to_string(&plot).unwrap(), "precious plot\n");
        assert_eq!(names(d), listing, "a temporary file was left: {args:?}");
    }
}

/// The ledger of viber_fees.csv on the test rates, made through the library.
fn library_ledger() -> Vec<u8> {
    let text = fs::read_to_string(fixture("viber_fees.csv")).unwrap();
    let log =
        simcost::input::read_from("log.csv".into(), text.as_bytes(), &read_options(1)).unwrap();
    let source = simcost::rates::RateSource::Dir(test_rates().into());
    let models = simcost::rates::RateSet::load(&source)
        .unwrap()
        .select(&[])
        .unwrap();
    let results = simcost::billing::bill_all(&log, None, &models, &billing_options(true), 1);
    let mut out = Vec::new();
    simcost::report::ledger::write(&log, &results, chrono_tz::UTC, &mut out).unwrap();
    out
}

#[test]
fn a_ledger_is_written_whole_as_before_and_replaces_the_old_one_keeping_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, log) = workdir();
    let d = dir.path();
    let r = test_rates();
    let expected = library_ledger();
    // The flat model's lines sum to its total worked out in tests/fixtures/README.md.
    let mut rdr = csv::Reader::from_reader(&expected[..]);
    let flat: Decimal = rdr
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[5] == "flat" && !r[10].is_empty())
        .map(|r| crate::d(&r[10]))
        .sum();
    assert_eq!(flat, crate::d("350.1200"));
    // A new file, and one that replaces an old ledger whose mode is kept.
    let (new, old) = (p(d, "new.csv"), p(d, "old.csv"));
    fs::write(&old, "old ledger\n").unwrap();
    fs::set_permissions(&old, fs::Permissions::from_mode(0o640)).unwrap();
    for ledger in [&new, &old] {
        sim(&["replay", &log, "--rates", &r, "--ledger", ledger]).succeeds();
        assert_eq!(fs::read(ledger).unwrap(), expected, "{ledger}");
    }
    assert_eq!(
        fs::metadata(&old).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_ne!(
        fs::metadata(&new).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Through a link to a file not yet written: the file is written, the link kept.
    std::os::unix::fs::symlink("target.csv", d.join("link.csv")).unwrap();
    sim(&["replay", &log, "--rates", &r, "--ledger", &p(d, "link.csv")]).succeeds();
    assert!(fs::symlink_metadata(d.join("link.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(d.join("target.csv")).unwrap(), expected);
    assert_eq!(
        names(d),
        ["link.csv", "log.csv", "new.csv", "old.csv", "target.csv"]
    );
    // A pipe is written directly: nothing there to rename over.
    let out = sim(&["replay", &log, "--rates", &r, "--ledger", "/dev/stdout"]).succeeds();
    assert!(out.as_bytes().starts_with(&expected), "{out}");
}

/// `simcost ARGS` run by `sh -c SCRIPT`, where the script runs it as `"$0" "$@"`.
fn shell(script: &str, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_closed_or_failing_stdout_is_exit_1_and_writes_no_output_file() {
    let (dir, log) = workdir();
    let d = dir.path();
    let r = test_rates();
    let ledger = p(d, "ledger.csv");
    let args = ["replay", &log, "--rates", &r, "--ledger", &ledger];
    let out = shell(r#""$0" "$@" >&-"#, &args);
    expect_exit(
        &out,
        1,
        "standard output: it is closed, so the report would be lost",
    );
    assert!(!d.join("ledger.csv").exists());
    // A full disk: the report cannot be written, and the old ledger stays.
    fs::write(&ledger, "precious\n").unwrap();
    let out = Command::new(BIN)
        .args(args)
        .stdout(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    expect_exit(&out, 1, "writing the report: No space left on device");
    assert_eq!(fs::read_to_string(&ledger).unwrap(), "precious\n");
    // The chart is drawn before the report: still not put in place.
    let plot = p(d, "plot.svg");
    fs::write(&plot, "precious\n").unwrap();
    let out = Command::new(BIN)
        .args(["breakeven", &log, "--rates", &r, "--plot", &plot])
        .stdout(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    expect_exit(&out, 1, "writing the report: No space left on device");
    assert_eq!(fs::read_to_string(&plot).unwrap(), "precious\n");
    fs::remove_file(&plot).unwrap();
    assert_eq!(names(d), ["ledger.csv", "log.csv"]);
    // /dev/null chosen by the user is not a closed stdout.
    let out = shell(r#""$0" "$@" > /dev/null"#, &args);
    expect_exit(&out, 0, "");
    let out = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    expect_exit(&out, 0, "");
    // Read-write, as Python's subprocess.DEVNULL and daemon(3) open it.
    let null = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    let out = Command::new(BIN).args(args).stdout(null).output().unwrap();
    expect_exit(&out, 0, "");
    assert_eq!(fs::read(&ledger).unwrap(), library_ledger());
}

#[test]
fn a_reader_that_stops_early_is_quiet_and_the_ledger_is_still_written() {
    let (dir, log) = workdir();
    let ledger = p(dir.path(), "ledger.csv");
    let mut child = Command::new(BIN)
        .args([
            "replay",
            &log,
            "--rates",
            &test_rates(),
            "--ledger",
            &ledger,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before simcost writes (it reads and bills first), as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    expect_exit(&out, 0, "");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&ledger).unwrap(), library_ledger());
}

#[test]
fn skipped_rows_over_the_limit_fail_and_the_rejects_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = log_with_bad_last_row(d);
    let rejects = p(d, "rejects.csv");
    let r = test_rates();
    // 1 of 8 rows skipped: 12.5%.
    let run = |limit: &str| {
        sim(&[
            "replay",
            &bad,
            "--rates",
            &r,
            "--format",
            "json",
            "--skip-invalid",
        ])
        .arg("--rejects")
        .arg(&rejects)
        .arg("--max-skipped")
        .arg(limit)
        .run()
    };
    for (limit, code) in [("0", 3), ("1", 0), ("12%", 3), ("12.5%", 0), ("100%", 0)] {
        let _ = fs::remove_file(&rejects);
        let out = run(limit);
        if code == 3 {
            expect_exit(
                &out,
                3,
                &format!("bad_tail.csv: 1 of 8 rows skipped as invalid, more than --max-skipped {limit} allows (the rows and why are in {rejects})"),
            );
        } else {
            expect_exit(&out, 0, "1 of 8 rows skipped as invalid");
        }
        let text = fs::read_to_string(&rejects).unwrap();
        assert_eq!(text.lines().count(), 2, "{limit}: {text}");
        // reject_line, reject_reason, then the row's fields as read.
        let row = text.lines().nth(1).unwrap();
        assert!(
            row.starts_with("9,")
                && row.ends_with(",2026-03-09T08:00:00Z,+4915112345678,sideways,,shopA"),
            "{text}"
        );
    }
    for (limit, message) in [
        ("abc", "--max-skipped"),
        ("101%", "0% to 100%"),
        ("-5%", ""),
    ] {
        expect_exit(&run(limit), 2, message);
    }
    expect_exit(
        &sim(&["replay", &bad, "--rates", &r, "--max-skipped", "1"]).run(),
        2,
        "--skip-invalid",
    );
}

#[test]
fn every_row_skipped_is_not_a_success_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let log = p(dir.path(), "all_bad.csv");
    fs::write(
        &log,
        "timestamp,contact,direction\n2026-03-02T08:00:00Z,+380501110001,sideways\nnot a time,+380501110001,in\n",
    )
    .unwrap();
    let r = test_rates();
    let rejects = p(dir.path(), "rejects.csv");
    let out = sim(&[
        "replay",
        &log,
        "--rates",
        &r,
        "--skip-invalid",
        "--rejects",
        &rejects,
    ])
    .run();
    expect_exit(
        &out,
        3,
        "all_bad.csv: every row was skipped as invalid (2 of 2): nothing was replayed",
    );
    assert_eq!(fs::read_to_string(&rejects).unwrap().lines().count(), 3);
    let v = sim(&[
        "replay",
        &log,
        "--rates",
        &r,
        "--format",
        "json",
        "--skip-invalid",
    ])
    .arg("--max-skipped")
    .arg("100%")
    .json();
    assert_eq!(v["input"]["replayed"], 0);
    assert_eq!(v["input"]["skipped"], 2);
}

#[test]
fn an_unsorted_log_from_a_pipe_is_read_once() {
    let r = test_rates();
    for name in [
        "viber_fees.csv",
        "whatsapp_session.csv",
        "viber_allowance.csv",
    ] {
        let f = fixture(name);
        let from_file = sim(&["replay", &f, "--rates", &r, "--format", "json"]).json();
        let piped = shell(
            r#"cat "$1" | "$0" replay /dev/stdin --rates "$2" --format json"#,
            &[&f, &r],
        );
        expect_exit(&piped, 0, "");
        let piped: Value = serde_json::from_slice(&piped.stdout).unwrap();
        assert_eq!(piped["models"], from_file["models"], "{name}");
        assert_eq!(piped["input"]["rows"], from_file["input"]["rows"], "{name}");
        // Standard input redirected from the file is a file: read again if need be.
        let redirected = shell(
            r#""$0" replay /dev/stdin --rates "$2" --format json < "$1""#,
            &[&f, &r],
        );
        expect_exit(&redirected, 0, "");
        let redirected: Value = serde_json::from_slice(&redirected.stdout).unwrap();
        assert_eq!(redirected["models"], from_file["models"], "{name}");
    }
    // viber_fees.csv has 7 rows.
    let f = fixture("viber_fees.csv");
    let piped = shell(
        r#"cat "$1" | "$0" replay /dev/stdin --rates "$2" --format json"#,
        &[&f, &r],
    );
    let v: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(v["input"]["rows"], 7);
}

#[test]
fn a_run_interrupted_while_writing_the_ledger_leaves_the_old_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = p(d, "big.csv");
    let text = sim(&["generate", "--messages", "60000", "--contacts", "1000"]).succeeds();
    fs::write(&log, text).unwrap();
    let ledger = p(d, "ledger.csv");
    fs::write(&ledger, "precious\n").unwrap();
    let mut child = Command::new(BIN)
        .args(["replay", &log, "--ledger", &ledger])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the ledger has begun to be written (30 MB: about a second in a debug build).
    // SIGKILL rather than Ctrl-C's SIGINT: a shell that starts a job in the background without
    // job control (a CI script run with `&`) has it ignore SIGINT, and the run would finish.
    let writing = || {
        fs::read_dir(d).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name().to_string_lossy().ends_with(".simcost-tmp")
                && e.metadata().is_ok_and(|m| m.len() > 0)
        })
    };
    while !writing() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the ledger was seen being written"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(fs::read_to_string(&ledger).unwrap(), "precious\n");
}
