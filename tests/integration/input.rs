//! docs/billing-rules.md §1-2: reading the log.

use super::*;

const LOG: &str = "sent_at,Contact,DIRECTION,kind\n\
    2026-03-02T08:00:00Z,+380 50 111 0001,customer,\n\
    2026-03-02 10:01:00,380501110001,business,\n";

#[test]
fn stdin_map_and_mixed_case_headers() {
    let r = test_rates();
    // no LOG argument reads standard input
    let v = sim(&[
        "replay",
        "--rates",
        &r,
        "--model",
        "plain",
        "--format",
        "json",
        "--map",
        "timestamp=sent_at",
    ])
    .stdin(LOG)
    .json();
    assert_eq!(total(&v, "plain"), d("0.0300"));
    assert_eq!(v["input"]["rows"], 2);
}

#[test]
fn naive_times_are_read_in_tz() {
    // 2026-03-03 09:30 naive: in Kyiv (UTC+2) that is 07:30Z, inside the session opened at
    // 2026-03-02T08:00Z (open until 03-03 08:00Z): 0.0300. Read as UTC it is 09:30Z, after the
    // session: business-initiated, 0.0700.
    let log = "timestamp,contact,direction\n2026-03-02T08:00:00Z,+380501110001,in\n2026-03-03 09:30:00,+380501110001,out\n";
    let run = |tz: &str| replay_stdin_json(log, &["plain"], &["--tz", tz]);
    assert_eq!(total(&run("Europe/Kyiv"), "plain"), d("0.0300"));
    assert_eq!(total(&run("UTC"), "plain"), d("0.0700"));
}

#[test]
fn months_and_allowances_are_cut_in_tz() {
    // 2026-03-31T23:30Z is April in Kyiv: the flat fee falls in another month
    let log =
        "timestamp,contact,direction,kind\n2026-03-31T23:30:00Z,+4915112345678,out,promotional\n";
    let run = |tz: &str| replay_stdin_json(log, &["flat"], &["--tz", tz]);
    let utc = run("UTC");
    assert_eq!(model(&utc, "flat")["months"][0]["month"], "2026-03");
    let kyiv = run("Europe/Kyiv");
    assert_eq!(model(&kyiv, "flat")["months"][0]["month"], "2026-04");
    assert_eq!(total(&kyiv, "flat"), d("100.0400"));
}

#[test]
fn unix_seconds_and_ties_in_input_order() {
    // same instant: the inbound row comes first in the file, so the outbound is a session message
    let log =
        "timestamp,contact,direction\n1772438400,+380501110001,in\n1772438400,+380501110001,out\n";
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.0300"));
    // reversed: the outbound comes first, with no session open: business-initiated
    let log =
        "timestamp,contact,direction\n1772438400,+380501110001,out\n1772438400,+380501110001,in\n";
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.0700"));
}

#[test]
fn accounts_are_separate_streams() {
    // the same contact writes to account a; account b's free-form reply has no session
    let log = "timestamp,contact,direction,account\n2026-03-02T08:00:00Z,+380501110001,in,a\n2026-03-02T08:01:00Z,+380501110001,out,b\n";
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.0700"));
}

#[test]
fn a_bad_row_stops_the_run_with_file_line_and_value() {
    let f = fixture("bad_direction.csv");
    sim(&["replay", &f]).fails(3, &format!("{f}:3: unknown direction (sideways)"));
}

#[test]
fn skip_invalid_counts_and_writes_rejects_that_simcost_reads_back() {
    let f = fixture("bad_direction.csv");
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let rej = rejects.display().to_string();
    let r = test_rates();
    let out = sim(&[
        "replay",
        &f,
        "--rates",
        &r,
        "--model",
        "plain",
        "--format",
        "json",
        "--skip-invalid",
        "--rejects",
        &rej,
    ])
    .run();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["input"]["rows"].as_u64().unwrap();
    let replayed = v["input"]["replayed"].as_u64().unwrap();
    let skipped = v["input"]["skipped"].as_u64().unwrap();
    assert_eq!((rows, replayed, skipped), (4, 2, 2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 of 4 rows skipped"));
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        text.starts_with("reject_line,reject_reason,timestamp,contact,direction,kind\n"),
        "{text}"
    );
    assert!(text.contains("\n3,unknown direction (sideways);"), "{text}");
    assert!(text.contains("\n5,\"not a timestamp"), "{text}");
    // the rejects file is a log: reading it back names the same problem
    sim(&["replay", &rej, "--rates", &r])
        .fails(3, &format!("{rej}:2: unknown direction (sideways)"));
}

/// A bad row after blank lines is named by the line it is on (the csv crate alone would count
/// from the end of the row before), whether the file has quotes and CRLF or not.
#[test]
fn a_row_after_blank_lines_is_named_by_its_own_line() {
    let plain = "timestamp,contact,direction\n\n2026-03-01T00:00:03Z,+77013441170,in\n\n\n2026-03-01T00:00:04Z,+77013441170,sideways\n";
    let quoted = "timestamp,contact,direction\r\n\r\n\"2026-03-01T00:00:03Z\",+77013441170,in\r\n\r\n\n2026-03-01T00:00:04Z,+77013441170,sideways\r\n";
    for log in [plain, quoted] {
        sim(&["replay", "-"])
            .stdin(log)
            .fails(3, "<stdin>:6: unknown direction (sideways)");
    }
}

#[test]
fn header_problems() {
    sim(&["replay", "-"])
        .stdin("")
        .fails(3, "<stdin>: empty file");
    sim(&["replay", "-"])
        .stdin("timestamp,contact,direction\n")
        .fails(3, "no rows after the header");
    sim(&["replay", "-"])
        .stdin("timestamp,contact\n1772438400,+380501110001\n")
        .fails(3, "<stdin>:1: missing required column (direction)");
    sim(&["replay", "-"])
        .stdin("timestamp,contact,direction,Contact\n1772438400,+380501110001,in,x\n")
        .fails(3, "<stdin>:1: duplicated column (contact)");
    sim(&["replay", "-"])
        .stdin("timestamp,contact,direction\n1772438400,+380501110001\n")
        .fails(3, "<stdin>:2: row has 2 fields, the header has 3");
    sim(&["replay", "/no/such/file.csv"]).fails(3, "/no/such/file.csv: cannot open");
}

/// The case: a stray quote opening the last column of row 3 of a 200,000-row log used to
/// swallow the rest of the file ("2 rows, 2 replayed", exit 0). It is an error at line 3, and the
/// message stays a line long.
#[test]
fn a_stray_quote_in_a_long_log_is_an_error_at_its_line() {
    let mut log = String::from("timestamp,contact,direction,kind,note\n");
    for i in 0..200_000 {
        let note = if i == 1 { "\"hi" } else { "hi" };
        log += &format!(
            "2026-03-02T08:{:02}:{:02}Z,+3805011{:05},in,,{note}\n",
            (i / 60) % 60,
            i % 60,
            i % 10_000
        );
    }
    let out = sim(&["replay", "-"]).stdin(log).fails(
        3,
        "<stdin>:3: unclosed quote: a field opens with a quote that is never closed (\"hi\\n2026",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("; the field runs on past 1048576 bytes"),
        "{stderr}"
    );
    assert!(out.stderr.len() < 400, "{}", out.stderr.len());
}

/// Endless input without a line end stops at the record bound with exit 3 (it used to abort on
/// a failed allocation), in bounded memory.
#[test]
fn endless_input_stops_at_the_record_bound() {
    sim(&["replay", "/dev/zero"]).fails(
        3,
        "/dev/zero:1: record longer than 1048576 bytes (--max-record-bytes raises the bound) (\\0\\0",
    );
    let mut log = b"timestamp,contact,direction\n".to_vec();
    log.resize(log.len() + 3_000_000, b'x');
    sim(&["replay", "-"])
        .stdin(log.clone())
        .fails(3, "<stdin>:2: record longer than 1048576 bytes");
    sim(&["replay", "-", "--max-record-bytes", "2000000"])
        .stdin(log)
        .fails(3, "<stdin>:2: record longer than 2000000 bytes");
}

/// `--map` reads a column under another name, `--map FIELD=` leaves an auto-matched column out,
/// and a column the header lacks is a usage error (tests/fixtures/README.md).
#[test]
fn map_names_columns_that_exist_or_fails() {
    let v = replay_json(
        "map_kind_account.csv",
        &["plain", "flat"],
        &["--map", "kind=knd"],
    );
    assert_eq!(total(&v, "plain"), d("0.1300"));
    assert_eq!(total(&v, "flat"), d("250.1300"));
    let v = replay_json(
        "map_kind_account.csv",
        &["plain", "flat"],
        &["--map", "kind=knd", "--map", "account="],
    );
    assert_eq!(total(&v, "plain"), d("0.1300"));
    assert_eq!(total(&v, "flat"), d("150.1300"));
    assert_eq!(
        dec(&row(&v, "flat", "accounts", "account", "(default)")["total"]),
        d("150.1300")
    );
    let v = replay_json("map_kind_account.csv", &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.1500"));
    let (f, r) = (fixture("map_kind_account.csv"), test_rates());
    for (map, column) in [("kind=kdn", "kdn"), ("account=acount", "acount")] {
        sim(&["replay", &f, "--rates", &r, "--map", map]).fails(
            2,
            &format!("--map {map}: the log has no column {column}; its header is: timestamp,contact,direction,account,knd"),
        );
    }
}

/// An empty account and a literal `default` are two accounts; `(default)`, the reports' name for
/// the default account, is that account (tests/fixtures/README.md).
#[test]
fn empty_and_default_accounts_are_two() {
    let log = "timestamp,contact,direction,account\n\
               2026-03-02T08:00:00Z,+4915112345678,out,\n\
               2026-03-02T09:00:00Z,+4915112345678,out,default\n\
               2026-03-02T10:00:00Z,+4915112345678,out,(default)\n";
    let v = replay_stdin_json(log, &["flat"], &[]);
    assert_eq!(total(&v, "flat"), d("200.1200"));
    let accounts = model(&v, "flat")["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        dec(&row(&v, "flat", "accounts", "account", "(default)")["total"]),
        d("100.0800")
    );
    assert_eq!(
        dec(&row(&v, "flat", "accounts", "account", "default")["total"]),
        d("100.0400")
    );
}

/// `--rejects` keeps a row's bytes that are not UTF-8 and every field of a ragged row: read back,
/// each rejected row is the log's row, byte for byte, after its line and reason, but for a field
/// a spreadsheet would evaluate, which gets a `'` in front (report::cell).
#[test]
fn rejects_come_back_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let rows: [&[u8]; 3] = [
        b"2026-03-02T08:01:00Z,+380501110001,out,promo\xe9",
        b"2026-03-02T08:02:00Z,+380501110001,out,,extra,more",
        b"2026-03-02T08:03:00Z,+380501110001,=1+2,",
    ];
    let mut log =
        b"timestamp,contact,direction,kind\n2026-03-02T08:00:00Z,+380501110001,in,\n".to_vec();
    for r in rows {
        log.extend(r);
        log.push(b'\n');
    }
    let rejects = dir.path().join("r.csv").display().to_string();
    let r = test_rates();
    sim(&[
        "replay",
        "-",
        "--rates",
        &r,
        "--skip-invalid",
        "--rejects",
        &rejects,
    ])
    .stdin(log)
    .succeeds();
    let text = std::fs::read(&rejects).unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    assert_eq!(
        lines[0],
        b"reject_line,reject_reason,timestamp,contact,direction,kind"
    );
    assert!(lines[1].starts_with(b"3,kind is not valid UTF-8 (promo\\xE9),"));
    assert!(lines[1].ends_with(rows[0]));
    assert!(lines[2].starts_with(b"4,\"row has 6 fields, the header has 4 (ragged row)\","));
    assert!(lines[2].ends_with(rows[1]));
    assert_eq!(
        lines[3],
        b"5,unknown direction (=1+2); use in/inbound/mo/user/customer or out/outbound/mt/business,2026-03-02T08:03:00Z,+380501110001,'=1+2,"
    );
}
