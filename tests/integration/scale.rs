//! `generate`, and the same answer whatever the number of threads.

use crate::sim;

fn generated(args: &[&str]) -> String {
    let mut all = vec!["generate"];
    all.extend(args);
    sim(&all).succeeds()
}

#[test]
fn generate_is_identical_for_a_seed_and_differs_across_seeds() {
    let args = ["--messages", "2000", "--contacts", "150", "--seed", "7"];
    let a = generated(&args);
    assert_eq!(a, generated(&args));
    assert_ne!(
        a,
        generated(&["--messages", "2000", "--contacts", "150", "--seed", "8"])
    );
    assert_eq!(
        a.lines().count(),
        2001,
        "a header and exactly --messages rows"
    );
    assert!(a.starts_with("timestamp,contact,direction,kind,account\n"));
}

#[test]
fn every_profile_replays_without_rejects() {
    for profile in ["support", "notifications", "mixed"] {
        let log = generated(&[
            "--messages",
            "3000",
            "--contacts",
            "200",
            "--profile",
            profile,
        ]);
        let v = sim(&["replay", "-", "--format", "json"]).stdin(log).json();
        assert_eq!(v["input"]["rows"], 3000, "{profile}");
        assert_eq!(v["input"]["replayed"], 3000, "{profile}");
        assert_eq!(v["input"]["skipped"], 0, "{profile}");
    }
}

/// A log of several read blocks (about 1 MB each) with bad rows at known lines in different
/// blocks: the first stops the run with its line, and `--skip-invalid` keeps every other row.
#[test]
fn bad_rows_in_later_blocks_keep_their_lines() {
    let log = generated(&["--messages", "80000", "--contacts", "5000", "--seed", "5"]);
    let mut lines: Vec<&str> = log.lines().collect();
    assert!(
        log.len() > 3 << 20,
        "needs several blocks: {} bytes",
        log.len()
    );
    let bad = [30_001usize, 55_555, 79_999];
    for &line in &bad {
        lines[line - 1] = "2026-03-01T00:00:00Z,+380501234567,sideways,,support";
    }
    let text = lines.join("\n") + "\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, &text).unwrap();
    let path = path.to_str().unwrap();
    sim(&["replay", path]).fails(3, &format!("{path}:30001: unknown direction (sideways)"));
    let rejects = dir.path().join("rejects.csv");
    let v = sim(&[
        "replay",
        path,
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
        "--format",
        "json",
        "--threads",
        "3",
    ])
    .json();
    assert_eq!(v["input"]["rows"], 80_000);
    assert_eq!(v["input"]["skipped"], 3);
    assert_eq!(v["input"]["replayed"], 79_997);
    let mut rdr = csv::Reader::from_path(rejects).unwrap();
    let at = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "reject_line");
    let rejected: Vec<String> = rdr
        .records()
        .map(|r| r.unwrap()[at.unwrap()].to_string())
        .collect();
    assert_eq!(rejected, ["30001", "55555", "79999"]);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("g.csv");
    std::fs::write(
        &log,
        generated(&[
            "--messages",
            "60000",
            "--contacts",
            "4000",
            "--seed",
            "3",
            "--days",
            "45",
        ]),
    )
    .unwrap();
    let log = log.to_str().unwrap();
    let run = |threads: &str, format: &str| {
        let ledger = dir.path().join(format!("ledger-{threads}.csv"));
        let out = sim(&[
            "replay",
            log,
            "--format",
            format,
            "--threads",
            threads,
            "--ledger",
            ledger.to_str().unwrap(),
        ])
        .succeeds();
        (out, std::fs::read_to_string(ledger).unwrap())
    };
    for format in ["json", "csv", "table"] {
        let one = run("1", format);
        for threads in ["2", "3", "5"] {
            assert!(
                one == run(threads, format),
                "{format} differs with {threads} threads"
            );
        }
    }
}
