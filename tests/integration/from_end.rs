//! Issue 24: a log newest first read from its end (`input::reader::backward`), billed while it
//! is read, with the time-ordered log's answer; and the logs it must not be read so from,
//! which are read again the usual way with the same answer. Small blocks
//! (`FROM_END_BLOCK_BYTES`, a global: the answer never depends on it) make small logs span
//! many blocks and instants straddle them.

use crate::{billing_options, fixture, read_options, report_json, sim, test_rates};
use simcost::billing::{bill_all, into_time_order, ModelResult};
use simcost::input::{read_log, Log, FROM_END_BLOCK_BYTES};
use simcost::rates::{Model, RateSet, RateSource};
use std::sync::atomic::Ordering;

/// `n` instants 37 s apart from 2026-03-01 (2,335 a day): at each one contact (one of 50) writes and is answered
/// at the same instant (inbound, then outbound: the answer is in the session the message
/// opens), and at every third instant another contact is sent a message too.
fn pairs(n: usize) -> String {
    let mut out = String::from("timestamp,contact,direction,kind\n");
    for k in 0..n {
        let (day, s) = (1 + k * 37 / 86400, k * 37 % 86400);
        let at = format!(
            "2026-03-{day:02}T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        let contact = format!("+49151{:07}", k % 50);
        out += &format!("{at},{contact},in,\n{at},{contact},out,\n");
        if k % 3 == 0 {
            out += &format!("{at},+44791{:07},out,promotional\n", k % 7);
        }
    }
    out
}

/// The rows of a time-ordered log (with its header) newest first: its instants in reverse
/// order, the rows of one instant in their order.
fn newest_first(text: &str) -> String {
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for row in lines {
        let at = row.split(',').next();
        match groups.last_mut() {
            Some(g) if g[0].split(',').next() == at => g.push(row),
            _ => groups.push(vec![row]),
        }
    }
    for g in groups.iter().rev() {
        for row in g {
            out += row;
            out += "\n";
        }
    }
    out
}

/// The rows of a log (with its header) sorted by their timestamps (RFC 3339 in UTC), stably.
fn sorted(text: &str) -> String {
    let (header, rows) = text.split_once('\n').unwrap();
    let mut rows: Vec<&str> = rows.lines().collect();
    rows.sort_by_key(|r| r.split(',').next().unwrap().to_string());
    format!("{header}\n{}\n", rows.join("\n"))
}

fn models(rates: &str) -> Vec<Model> {
    match rates {
        "" => RateSet::load(&RateSource::Embedded).unwrap().models,
        dir => RateSet::load(&RateSource::Dir(dir.into())).unwrap().models,
    }
}

/// `replay` through the library as the command does without a ledger: a log newest first is
/// read from its end (`None`: read again the usual way).
fn billed(path: &str, models: &[Model], threads: usize, skip: bool) -> Option<(Log, String)> {
    let mut read = read_options(threads);
    read.skip_invalid = skip;
    let opts = billing_options(false);
    let done =
        simcost::pipeline::read_and_bill_or_keep(path, &read, models, &opts, threads, &[]).unwrap();
    done.map(|(log, results)| {
        let json = report_json(&log, &results).replace(path, "LOG");
        (log, json)
    })
}

/// The log at `path` read whole, put in time order and billed (the way of a pipe).
fn read_first(path: &str, models: &[Model], skip: bool) -> (Log, String) {
    let mut read = read_options(2);
    read.skip_invalid = skip;
    let mut log = read_log(Some(path), &read).unwrap();
    into_time_order(&mut log, 2);
    let results: Vec<ModelResult> = bill_all(&log, None, models, &billing_options(false), 2);
    let json = report_json(&log, &results).replace(path, "LOG");
    (log, json)
}

#[test]
fn a_log_newest_first_is_read_from_its_end_and_billed_as_the_ordered_one() {
    let dir = tempfile::tempdir().unwrap();
    let (rates, meta) = (test_rates(), fixture("meta-tiers"));
    let read = |f: &str| std::fs::read_to_string(fixture(f)).unwrap();
    let cases = [
        (pairs(400), "", vec![64, 300]),
        (
            read("viber_allowance_ties.csv"),
            rates.as_str(),
            vec![64, 100],
        ),
        // Not in time order itself: sorted first.
        (sorted(&read("tiers.csv")), "", vec![80, 100]),
        (read("meta_tiers.csv"), meta.as_str(), vec![80, 100]),
    ];
    for (text, rates, sizes) in &cases {
        let models = models(rates);
        let rows = text.lines().count() - 1;
        let (ordered, moved) = (dir.path().join("a/log.csv"), dir.path().join("b/log.csv"));
        std::fs::create_dir_all(ordered.parent().unwrap()).unwrap();
        std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
        std::fs::write(&ordered, text).unwrap();
        std::fs::write(&moved, newest_first(text)).unwrap();
        let (ordered, moved) = (ordered.to_str().unwrap(), moved.to_str().unwrap());
        let (_, want) = billed(ordered, &models, 2, false).unwrap();
        for &size in sizes {
            FROM_END_BLOCK_BYTES.store(size, Ordering::Relaxed);
            for threads in [1, 2, 3] {
                let (log, got) = billed(moved, &models, threads, false).expect("read from the end");
                // Read from the end: handed out in time order (kept: `in_time_order` false).
                assert!(log.in_time_order && log.events.is_empty());
                assert_eq!(log.batched, rows);
                assert!(got == want, "{moved} blocks of {size}, {threads} threads");
            }
        }
    }
    // Worked by hand: 400 instants over 4.1 hours; each of the 50 contacts writes 8 times,
    // its first message opening a session that lasts the day (50 sessions), and every answer
    // is in it, after the message of its instant (none business-initiated: had an answer
    // come before, 50 would be). 134 instants (k = 0, 3, ..., 399) have a promotional
    // message to a +44 number, which the built-in card does not price (GB: unpriced).
    let moved = dir.path().join("p.csv");
    std::fs::write(&moved, newest_first(&pairs(400))).unwrap();
    let models = models("");
    let (_, json) = billed(moved.to_str().unwrap(), &models, 2, false).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let m = crate::model(&v, "viber-2024");
    let t = &m["totals"];
    assert_eq!(t["messages_in"], 400, "{t}");
    assert_eq!(t["messages_out"], 534, "{t}");
    assert_eq!(t["sessions_opened"], 50, "{t}");
    assert_eq!(t["business_initiated_charged"], 0, "{t}");
    assert_eq!(t["unpriced"], 134, "{t}");
}

/// `text` with row `line` (a line of the file, the header line 1) replaced by `row`.
fn with_row(text: &str, line: usize, row: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[line - 1] = row;
    lines.join("\n") + "\n"
}

#[test]
fn rows_read_from_the_end_keep_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let path = path.to_str().unwrap();
    let models = models("");
    // 30,000 instants newest first (70,000 rows, 2.6 MB), two bad timestamps past the first
    // block the reader reads from the start (1 MB): on lines 40001 and 60001.
    let text = newest_first(&pairs(30_000));
    let bad = |l| with_row(&text, l, "yesterday,+491510000001,in,");
    std::fs::write(
        path,
        with_row(&bad(60_001), 40_001, "soon,+491510000002,in,"),
    )
    .unwrap();
    FROM_END_BLOCK_BYTES.store(500, Ordering::Relaxed);
    // Skipped: named by their lines, in file order, as when the file is read whole.
    let (log, got) = billed(path, &models, 2, true).expect("read from the end");
    assert!(log.in_time_order);
    let lines: Vec<u64> = log.rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, [40_001, 60_001]);
    let (whole, want) = read_first(path, &models, true);
    assert!(got == want);
    let reasons = |l: &Log| {
        l.rejects
            .iter()
            .map(|r| r.reason.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(reasons(&log), reasons(&whole));
    // Not skipped: the file is read again the usual way, which names the first.
    assert!(billed(path, &models, 2, false).is_none());
    sim(&["replay", path]).fails(3, &format!("{path}:40001: "));
    // The command's rejects file too (one block of the default size, lines counted from the
    // end all the same).
    let rejects = dir.path().join("rejects.csv");
    let args = ["replay", path, "--skip-invalid", "--rejects"];
    sim(&args).arg(rejects.to_str().unwrap()).succeeds();
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    let named: Vec<&str> = (rejected.lines().skip(1))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(named, ["40001", "60001"], "{rejected}");
}

#[test]
fn logs_not_safe_to_read_from_the_end_are_read_again_with_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let ordered = dir.path().join("ordered.csv");
    let ordered = ordered.to_str().unwrap();
    // Over a block read from the start (1 MB), all newest first in each shape.
    let text = pairs(30_000);
    std::fs::write(ordered, &text).unwrap();
    let models = models("");
    let want = sim(&["replay", ordered, "--format", "json"]).succeeds();
    let moved = newest_first(&text);
    let rows: Vec<&str> = moved.lines().collect();
    // Line 3's contact quoted (in a block read last); newest first only in its first 20,000
    // instants (the rest in time order); two rows of two instants swapped in the middle.
    let mut quoted: Vec<String> = rows[2].split(',').map(String::from).collect();
    quoted[1] = format!("\"{}\"", quoted[1]);
    let quoted = quoted.join(",");
    // The instants of `pairs(30_000)` after the first 10,000 newest first (1.7 MB), then
    // those in time order.
    let old = pairs(10_000);
    let new = format!("{}\n{}", rows[0], &text[old.len()..]);
    let only_start = newest_first(&new) + old.split_once('\n').unwrap().1;
    let mut swapped = rows.clone();
    let at = |r: &str| r.split(',').next().unwrap().to_string();
    let mid = (40_000..)
        .find(|&i| at(rows[i]) != at(rows[i + 1]))
        .unwrap();
    swapped.swap(mid, mid + 1);
    let shapes = [
        ("quoted", with_row(&moved, 3, &quoted)),
        ("only_start", only_start),
        ("swapped", swapped.join("\n") + "\n"),
    ];
    FROM_END_BLOCK_BYTES.store(500, Ordering::Relaxed);
    for (name, log) in shapes {
        let path = dir.path().join(format!("{name}.csv"));
        let path = path.to_str().unwrap();
        std::fs::write(path, log).unwrap();
        assert!(billed(path, &models, 2, false).is_none(), "{name}");
        let got = sim(&["replay", path, "--format", "json"]).succeeds();
        assert!(got.replace(path, ordered) == want, "{name}");
    }
}
