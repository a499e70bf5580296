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

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("g.csv");
    std::fs::write(
        &log,
        generated(&[
            "--messages",
            "20000",
            "--contacts",
            "1500",
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
