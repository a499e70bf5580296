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

/// A day of generated traffic at 3.5 messages a second (about fifteen blocks, instants with
/// several messages that straddle blocks) in the era with a monthly free tier of service
/// messages; viber-legacy's allowance and the free tier both run out during the day.
fn busy_day(dir: &std::path::Path) -> String {
    let log = dir.join("day.csv");
    let text = generated(&[
        "--messages",
        "300000",
        "--contacts",
        "20000",
        "--days",
        "1",
        "--seed",
        "4",
        "--start",
        "2026-11-01",
    ]);
    std::fs::write(&log, text).unwrap();
    log.to_str().unwrap().to_string()
}

#[test]
fn billing_while_reading_gives_the_answer_of_reading_first() {
    use crate::{billing_options, read_options, report_json as json};
    use simcost::billing::bill_all;
    use simcost::input::read_log;
    use simcost::rates::{RateSet, RateSource};
    let dir = tempfile::tempdir().unwrap();
    let path = busy_day(dir.path());
    let models = RateSet::load(&RateSource::Embedded).unwrap().models;
    let opts = billing_options(false);
    for threads in [1, 2, 3] {
        let read = read_options(threads);
        let whole = read_log(Some(&path), &read).unwrap();
        let want = json(&whole, &bill_all(&whole, None, &models, &opts, threads));
        let (log, results) =
            simcost::pipeline::read_and_bill(&path, &read, &models, &opts, threads)
                .unwrap()
                .expect("a generated log is in time order");
        assert!(log.events.is_empty() && log.batched == 300_000);
        assert!(json(&log, &results) == want, "{threads} threads");
    }
    // The command takes this way too, and says the same as with a ledger (which reads first).
    let ledger = dir.path().join("ledger.csv");
    let with_ledger = sim(&[
        "replay",
        &path,
        "--format",
        "json",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    assert_eq!(
        sim(&["replay", &path, "--format", "json"]).succeeds(),
        with_ledger.succeeds()
    );
}

#[test]
fn a_row_out_of_time_order_late_in_the_file_sends_it_the_sorting_way() {
    let dir = tempfile::tempdir().unwrap();
    let path = busy_day(dir.path());
    // The first row moved to the end: the log is in time order until its last block.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let first = lines.remove(1);
    lines.push(first);
    let moved = dir.path().join("moved.csv");
    std::fs::write(&moved, lines.join("\n") + "\n").unwrap();
    let moved = moved.to_str().unwrap();
    let read = crate::read_options(2);
    let models = simcost::rates::RateSet::load(&simcost::rates::RateSource::Embedded)
        .unwrap()
        .models;
    let opts = crate::billing_options(false);
    assert!(
        simcost::pipeline::read_and_bill(moved, &read, &models, &opts, 2)
            .unwrap()
            .is_none()
    );
    // Out of order only in its last block: not kept (the batches were billed), read again.
    assert!(
        simcost::pipeline::read_and_bill_or_keep(moved, &read, &models, &opts, 2, &[])
            .unwrap()
            .is_none()
    );
    let ledger = dir.path().join("ledger.csv");
    let with_ledger = sim(&[
        "replay",
        moved,
        "--format",
        "json",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let plain = sim(&["replay", moved, "--format", "json"]).succeeds();
    assert_eq!(plain, with_ledger.succeeds());
    assert!(plain.contains("\"replayed\": 300000"));
}

#[test]
fn models_sharing_an_engine_count_as_each_would_alone() {
    // The Viber models share one engine: the first of them counts messages, sessions and
    // rejects, and the others take its counts at the end. Each must read as if billed alone,
    // in the sorting way and while reading.
    use crate::{billing_options, read_options, report_json as json};
    use simcost::billing::bill_all;
    use simcost::rates::{RateSet, RateSource};
    let dir = tempfile::tempdir().unwrap();
    let path = busy_day(dir.path());
    let models = RateSet::load(&RateSource::Embedded).unwrap().models;
    assert!(
        models
            .iter()
            .filter(|m| m.name.starts_with("viber"))
            .count()
            >= 3
    );
    let (read, opts) = (read_options(2), billing_options(false));
    let whole = simcost::input::read_log(Some(&path), &read).unwrap();
    let together = bill_all(&whole, None, &models, &opts, 2);
    let (log, while_reading) = simcost::pipeline::read_and_bill(&path, &read, &models, &opts, 2)
        .unwrap()
        .expect("a generated log is in time order");
    for (k, m) in models.iter().enumerate() {
        let alone = json(
            &whole,
            &bill_all(&whole, None, std::slice::from_ref(m), &opts, 1),
        );
        assert!(json(&whole, &together[k..=k]) == alone, "{}", m.name);
        assert!(
            json(&log, &while_reading[k..=k]) == alone,
            "{} while reading",
            m.name
        );
    }
}

/// A row's sort key from its index and text (`reordered`).
type RowKey<'a> = &'a dyn Fn(usize, &str) -> String;

/// The rows of a CSV log (`text`, with its header) in another order: each row's key from
/// `key(row index)`, rows sorted by it, except that rows of one contact at one instant keep
/// their input order (their order is the input's by the rules, so a ledger could not
/// compare). Gives the new text and each new data line's line in `text`.
fn reordered(text: &str, key: impl Fn(usize, &str) -> String) -> (String, Vec<usize>) {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut keys: Vec<String> = rows.iter().enumerate().map(|(i, r)| key(i, r)).collect();
    // One contact at one instant: the group's keys handed out again in input order.
    let mut groups: std::collections::HashMap<(&str, &str), Vec<usize>> = Default::default();
    let contact = header.split(',').position(|h| h == "contact").unwrap();
    for (i, r) in rows.iter().enumerate() {
        let f: Vec<&str> = r.split(',').collect();
        groups.entry((f[0], f[contact])).or_default().push(i);
    }
    for members in groups.values() {
        let mut ks: Vec<String> = members.iter().map(|&i| keys[i].clone()).collect();
        ks.sort();
        for (&i, k) in members.iter().zip(ks) {
            keys[i] = k;
        }
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
    let mut out = format!("{header}\n");
    for &i in &order {
        out.push_str(rows[i]);
        out.push('\n');
    }
    (out, order.iter().map(|&i| i + 2).collect())
}

/// `replay LOG ARGS... --format json --ledger` from a file (`stdin` false) or standard input:
/// the report with the log's name as `LOG`, and the ledger with each row's `line` mapped
/// through `lines` (the new data lines' lines in the ordered log).
fn replayed_as(
    dir: &std::path::Path,
    log: &str,
    args: &[&str],
    stdin: bool,
    lines: &[usize],
) -> (String, String) {
    let path = dir.join("log.csv");
    std::fs::write(&path, log).unwrap();
    let (path, ledger) = (path.to_str().unwrap(), dir.join("ledger.csv"));
    let mut all = vec!["replay", if stdin { "-" } else { path }, "--format", "json"];
    all.extend(["--ledger", ledger.to_str().unwrap()]);
    all.extend(args);
    let s = sim(&all);
    let json = match stdin {
        true => s.stdin(log.to_string()).succeeds(),
        false => s.succeeds(),
    };
    let json = json.replace(path, "LOG").replace("<stdin>", "LOG");
    let mut rdr = csv::ReaderBuilder::new().from_path(&ledger).unwrap();
    let header = rdr.headers().unwrap().clone();
    let at = header.iter().position(|h| h == "line").unwrap();
    let mut out = header.iter().collect::<Vec<_>>().join(",") + "\n";
    for r in rdr.records() {
        let r = r.unwrap();
        let fields: Vec<String> = (r.iter().enumerate())
            .map(|(k, f)| match (k == at, f.parse::<usize>()) {
                (true, Ok(line)) => lines[line - 2].to_string(),
                _ => f.to_string(),
            })
            .collect();
        out += &(fields.join(",") + "\n");
    }
    (json, out)
}

/// `log`'s JSON report, replayed from a file in `dir` with no ledger (out of order, its events
/// are kept without their lines and contacts: `billing::TimeBuckets`).
fn replayed_plain(dir: &std::path::Path, log: &str, args: &[&str]) -> String {
    let path = dir.join("plain.csv");
    std::fs::write(&path, log).unwrap();
    let path = path.to_str().unwrap();
    let mut all = vec!["replay", path, "--format", "json"];
    all.extend(args);
    sim(&all).succeeds().replace(path, "LOG")
}

/// Issue 24: the same rows out of time order (newest first, shuffled, grouped by contact)
/// give the time-ordered log's JSON report and ledger, byte for byte (the ledger's lines
/// mapped back), from a file (read once, kept whole, its events put in time order) and from
/// standard input. Fixtures where the allowance runs out among one instant's messages
/// (viber_allowance_ties), fee tiers by account (tiers), Meta's volume tiers (meta_tiers),
/// and a generated day of fifteen blocks in which viber-legacy's allowance and the monthly
/// free tier of service messages run out.
#[test]
fn a_log_out_of_time_order_replays_as_the_ordered_one() {
    let dir = tempfile::tempdir().unwrap();
    let (rates, meta) = (crate::test_rates(), crate::fixture("meta-tiers"));
    let day = busy_day(dir.path());
    let cases: [(String, Vec<&str>); 4] = [
        (
            crate::fixture("viber_allowance_ties.csv"),
            vec!["--rates", &rates],
        ),
        (crate::fixture("tiers.csv"), vec![]),
        (crate::fixture("meta_tiers.csv"), vec!["--rates", &meta]),
        (day.clone(), vec![]),
    ];
    let hash = |i: usize| format!("{:020}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    for (log, args) in &cases {
        let text = std::fs::read_to_string(log).unwrap();
        let rows = text.lines().count() - 1;
        let header = text.lines().next().unwrap();
        let contact = header.split(',').position(|h| h == "contact").unwrap();
        let ordered = dir.path().join("ordered");
        std::fs::create_dir_all(&ordered).unwrap();
        let same: Vec<usize> = (2..rows + 2).collect();
        let want = replayed_as(&ordered, &text, args, false, &same);
        let want_plain = replayed_plain(&ordered, &text, args);
        let shapes: [(&str, RowKey); 3] = [
            ("newest_first", &|i, _| format!("{:010}", rows - i)),
            ("shuffled", &|i, _| hash(i)),
            ("by_contact", &|_, r| {
                r.split(',').nth(contact).unwrap().to_string()
            }),
        ];
        for (name, key) in shapes {
            if *log == day && name != "shuffled" {
                continue;
            }
            let (moved, lines) = reordered(&text, key);
            assert_ne!(moved, text, "{log} {name}");
            let at = dir.path().join(name);
            std::fs::create_dir_all(&at).unwrap();
            for stdin in [false, true] {
                let got = replayed_as(&at, &moved, args, stdin, &lines);
                assert!(got.0 == want.0, "{log} {name} (stdin {stdin}): report");
                assert!(got.1 == want.1, "{log} {name} (stdin {stdin}): ledger");
            }
            // Without a ledger: the contacts named by stream where an allowance runs out
            // among one instant's messages.
            let got = replayed_plain(&at, &moved, args);
            assert!(got == want_plain, "{log} {name}: report without a ledger");
        }
    }
    // Out of order from its first block: read once, every event kept in time buckets as it
    // is read and billed from them, with the answer of the log read whole and sorted.
    let shuffled = dir.path().join("shuffled/log.csv");
    let models = simcost::rates::RateSet::load(&simcost::rates::RateSource::Embedded)
        .unwrap()
        .models;
    let (read, opts) = (crate::read_options(2), crate::billing_options(false));
    let mut whole = simcost::input::read_log(shuffled.to_str(), &read).unwrap();
    simcost::billing::into_time_order(&mut whole, 2);
    let want = crate::report_json(
        &whole,
        &simcost::billing::bill_all(&whole, None, &models, &opts, 2),
    );
    for threads in [1, 2, 3] {
        let kept = simcost::pipeline::read_and_bill_or_keep(
            shuffled.to_str().unwrap(),
            &read,
            &models,
            &opts,
            threads,
            &[],
        )
        .unwrap();
        let (log, results) = kept.expect("a shuffled log is kept as it is read and billed");
        assert_eq!((log.events.len(), log.batched), (0, 300_000));
        assert!(!log.in_time_order);
        assert!(
            crate::report_json(&log, &results) == want,
            "{threads} threads"
        );
    }
}

#[test]
fn many_accounts_spelled_many_ways_are_counted_apart_with_any_thread_count() {
    // 120,000 rows (5.6 MB: several 1 MB blocks, each with more than 8 accounts, so the
    // parsing threads key accounts by spelling across blocks, input/account_keys.rs) of 3,000
    // accounts, every fifth row typed with spaces around the name (the same account), and
    // the account "default" (the default account, shown as "default") once in a while. Each
    // account's inbound and outbound counts are worked out here and must come out per
    // account, whatever the number of threads; the billers are then finished on several
    // threads (pipeline::finish_all).
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("many.csv");
    let mut text = String::from("timestamp,contact,direction,kind,account\n");
    let mut want: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for i in 0..120_000u64 {
        let account = match i % 97 {
            0 => "default".to_string(),
            _ => format!("acct{:04}", (i * 7919) % 3000),
        };
        let typed = if i % 5 == 0 {
            format!(" {account} ")
        } else {
            account.clone()
        };
        let inbound = i % 3 != 0;
        let (s, m, h) = (i % 60, (i / 60) % 60, (i / 3600) % 24);
        text += &format!(
            "2026-03-{:02}T{h:02}:{m:02}:{s:02}Z,+3805012{:05},{},{},{typed}\n",
            1 + i / 86_400,
            i % 40_000,
            if inbound { "in" } else { "out" },
            if inbound { "" } else { "transactional" },
        );
        let n = want.entry(account).or_default();
        if inbound {
            n.0 += 1;
        } else {
            n.1 += 1;
        }
    }
    std::fs::write(&log, text).unwrap();
    let log = log.to_str().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2", "3"] {
        let v = sim(&["replay", log, "--format", "json", "--threads", threads]).json();
        for model in v["models"].as_array().unwrap() {
            let got: std::collections::BTreeMap<String, (u64, u64)> =
                (model["accounts"].as_array().unwrap().iter())
                    .map(|a| {
                        let n = |k: &str| a[k].as_u64().unwrap();
                        let name = a["account"].as_str().unwrap().to_string();
                        (name, (n("messages_in"), n("messages_out")))
                    })
                    .collect();
            assert_eq!(got.len(), 3001, "{threads} threads, {}", model["name"]);
            assert!(got == want, "{threads} threads, {}", model["name"]);
        }
        runs.push(v);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}
