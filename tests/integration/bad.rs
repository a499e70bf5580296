//! The malformed-input corpus in tests/fixtures/bad/ (written by its make.py): every entry of
//! expected.tsv gives its documented exit code and a `FILE:LINE` (or `FILE: key`) message, and
//! nothing panics. Rows that fail on their own are skipped and kept by `--skip-invalid`.

use crate::{fixture, sim};

struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    expect: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixture("bad/expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "expected.tsv: {l}");
            Case {
                name: f[0].into(),
                args: f[1].split_whitespace().map(String::from).collect(),
                exit: f[2].parse().unwrap(),
                expect: f[3].into(),
            }
        })
        .collect()
}

/// The command line of a case: a log file replayed on the test rates, or a rate directory
/// (or other arguments) with a good log.
fn command(c: &Case) -> Vec<String> {
    let path = fixture(&format!("bad/{}", c.name));
    let p = std::path::Path::new(&path);
    let mut args = vec!["replay".to_string()];
    if p.is_dir() {
        args.extend([fixture("viber_session.csv"), "--rates".into(), path.clone()]);
    } else if p.is_file() {
        args.extend([
            path.clone(),
            "--rates".into(),
            crate::test_rates(),
            "--model".into(),
            "plain".into(),
        ]);
    } else {
        args.push(fixture("viber_session.csv"));
    }
    args.extend(["--format".into(), "json".into()]);
    args.extend(c.args.iter().cloned());
    args
}

#[test]
fn the_corpus_is_large_enough() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let files = std::fs::read_dir(fixture("bad")).unwrap().count();
    assert!(files >= 30, "{files} files");
}

#[test]
fn every_bad_input_is_named_with_its_exit_code() {
    for c in cases() {
        let args = command(&c);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sim(&refs).run();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            out.status.code(),
            Some(101),
            "{}: panicked: {stderr}",
            c.name
        );
        assert!(!stderr.contains("panicked"), "{}: {stderr}", c.name);
        assert_eq!(out.status.code(), Some(c.exit), "{}: {stderr}", c.name);
        if c.exit == 0 {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["input"]["replayed"].to_string(), c.expect, "{}", c.name);
        } else {
            assert!(
                stderr.contains(&c.expect),
                "{}: stderr {stderr:?} lacks {:?}",
                c.name,
                c.expect
            );
        }
    }
}

/// Faults of the file rather than of a row: they stop the reading also under `--skip-invalid`.
const FAULTS: [&str; 2] = ["unclosed quote", "record longer than"];

#[test]
fn skip_invalid_keeps_every_row_and_why() {
    let dir = tempfile::tempdir().unwrap();
    // Cases where a data row (line 2 on) is at fault, not the file or the header.
    let row_level: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.exit == 3 && c.args.is_empty())
        .filter(|c| {
            let at = format!("{}:", c.name);
            c.expect
                .split_once(&at)
                .and_then(|(_, rest)| rest.split(':').next())
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|line| line >= 2)
        })
        .collect();
    assert!(row_level.len() >= 20, "{}", row_level.len());
    for c in row_level {
        let rejects = dir.path().join(format!("{}.rejects.csv", c.name));
        let mut args = command(&c);
        args.extend([
            "--skip-invalid".into(),
            "--rejects".into(),
            rejects.display().to_string(),
        ]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sim(&refs).run();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if FAULTS.iter().any(|f| c.expect.contains(f)) {
            // The rows after it cannot be told apart: reading stops, skipping or not.
            assert_eq!(out.status.code(), Some(3), "{}: {stderr}", c.name);
            assert!(stderr.contains(&c.expect), "{}: {stderr}", c.name);
            continue;
        }
        if out.status.code() == Some(3) {
            // Nothing left to replay once the bad rows are out.
            assert!(
                stderr.contains("no rows") || stderr.contains("skipped"),
                "{}: {stderr}",
                c.name
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{}: {stderr}", c.name);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let (rows, replayed, skipped) = (
                v["input"]["rows"].as_u64().unwrap(),
                v["input"]["replayed"].as_u64().unwrap(),
                v["input"]["skipped"].as_u64().unwrap(),
            );
            assert_eq!(rows, replayed + skipped, "{}", c.name);
            assert!(skipped >= 1, "{}", c.name);
        }
        // The rejects file is a log simcost reads again, each row with its line and reason.
        let text = std::fs::read(&rejects).unwrap();
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.lines()
                .next()
                .unwrap()
                .starts_with("reject_line,reject_reason,"),
            "{}",
            c.name
        );
        let reason = c.expect.split_once(": ").map(|x| x.1).unwrap_or(&c.expect);
        let reason = reason.split(" (").next().unwrap();
        assert!(
            text.contains(reason),
            "{}: rejects lack {reason:?}: {text}",
            c.name
        );
    }
}

/// Panic audit: a report for `merge` or a sheet for `rates import-meta` with bytes that are not
/// UTF-8 was an I/O failure (exit 1, no line); it is bad input, named at its line (exit 3).
#[test]
fn a_report_or_sheet_that_is_not_utf8_is_named_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    std::fs::write(&report, b"{\"input\":\n\"\xff\"}\n").unwrap();
    let r = report.to_str().unwrap();
    sim(&["merge", r, r]).fails(3, &format!("{r}:2: not UTF-8 text (\\xFF)"));
    let sheet = dir.path().join("s.csv");
    let good = std::fs::read(fixture("meta-import/usd-2025-07.csv")).unwrap();
    let mut bytes = b"Market\xe9\n".to_vec();
    bytes.extend(good);
    std::fs::write(&sheet, bytes).unwrap();
    let (s, into) = (sheet.to_str().unwrap(), dir.path().to_str().unwrap());
    sim(&["rates", "import-meta", s, "--into", into])
        .fails(3, &format!("{s}:1: not UTF-8 text (\\xE9)"));
}
