//! docs/billing-rules.md §1-2: integer timestamps, leap seconds, clock changes and impossible phone numbers.
//! The test prices (tests/fixtures/rates): flat = EUR 100 a month plus DE promotional 0.0400;
//! plain = UA session 0.0300, business-initiated 0.0700.

use super::*;

#[test]
fn a_leap_second_is_billed_in_its_own_month() {
    // Two promotional messages to Germany in June, the second at the leap second: one monthly
    // fee (100) and two messages (0.0400 each). Read as July 1st it would be a second fee.
    let log = "timestamp,contact,direction,kind\n\
        2026-06-30T10:00:00Z,+4915112345678,out,promotional\n\
        2026-06-30T23:59:60Z,+4915112345678,out,promotional\n";
    let v = replay_stdin_json(log, &["flat"], &[]);
    let months = model(&v, "flat")["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "{months:?}");
    assert_eq!(months[0]["month"], "2026-06");
    assert_eq!(total(&v, "flat"), d("100.0800"));
    // Naive, in Kyiv: 23:59:60 local is still June 30th there.
    let log = "timestamp,contact,direction,kind\n\
        2026-06-30 10:00:00,+4915112345678,out,promotional\n\
        2026-06-30 23:59:60,+4915112345678,out,promotional\n";
    let v = replay_stdin_json(log, &["flat"], &["--tz", "Europe/Kyiv"]);
    assert_eq!(model(&v, "flat")["months"][0]["month"], "2026-06");
    assert_eq!(total(&v, "flat"), d("100.0800"));
}

#[test]
fn an_ambiguous_local_time_is_the_earlier_instant_and_counted() {
    // Kyiv goes back from 04:00 EEST to 03:00 EET on 2026-10-25: 03:30 is 00:30Z, then 01:30Z.
    // The inbound opens a 24 h session at the earlier instant, so the outbound at
    // 2026-10-26T01:00Z is after it (business-initiated, 0.0700); from 01:30Z it would be
    // inside (0.0300).
    let log = "timestamp,contact,direction\n\
        2026-10-25 03:30:00,+380501110001,in\n\
        2026-10-26T01:00:00Z,+380501110001,out\n";
    let v = replay_stdin_json(log, &["plain"], &["--tz", "Europe/Kyiv"]);
    assert_eq!(total(&v, "plain"), d("0.0700"));
    assert_eq!(v["input"]["ambiguous_local_times"], 1);
    // In UTC nothing is ambiguous.
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(v["input"]["ambiguous_local_times"], 0);
    // The table's first line says so too.
    let r = test_rates();
    let args = [
        "replay",
        "-",
        "--rates",
        &r,
        "--model",
        "plain",
        "--tz",
        "Europe/Kyiv",
    ];
    let text = sim(&args).stdin(log).succeeds();
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("1 ambiguous local times read as the earlier instant"),
        "{first}"
    );
    let text = sim(&args[..6]).stdin(log).succeeds();
    assert!(!text.contains("ambiguous"), "{text}");
}

#[test]
fn a_local_time_in_the_spring_gap_is_an_error() {
    // Berlin goes from 02:00 to 03:00 on 2026-03-29: 02:30 never happens there.
    let log = "timestamp,contact,direction\n2026-03-29 02:30:00,+380501110001,in\n";
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r, "--tz", "Europe/Berlin"])
        .stdin(log)
        .fails(
            3,
            "<stdin>:2: local time does not exist in Europe/Berlin (clocks went forward) (2026-03-29 02:30:00)",
        );
}

#[test]
fn integer_timestamps_by_size() {
    // 1772438400 s is 2026-03-02T08:00:00Z; the reply 12 h later in ms and in us is inside
    // the session the inbound opened (0.0300); 20260302 is no time at all.
    let log = "timestamp,contact,direction\n\
        1772438400,+380501110001,in\n\
        1772481600000,+380501110001,out\n\
        1772481600000000,+380501110001,out\n";
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.0300"));
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r])
        .stdin("timestamp,contact,direction\n20260302,+380501110001,in\n")
        .fails(3, "<stdin>:2: integer timestamp is not Unix seconds");
}

#[test]
fn an_impossible_number_is_an_error_and_a_skipped_row_with_skip_invalid() {
    // +7 numbers have 10 national digits: 7911123456 has 9. It used to be priced as Russia.
    let log = "timestamp,contact,direction\n\
        2026-03-02T08:00:00Z,+380501110001,in\n\
        2026-03-02T08:01:00Z,7911123456,in\n";
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r]).stdin(log).fails(
        3,
        "<stdin>:3: contact is not a possible number for +7 (RU): 9 digits after the calling code, RU numbers have 10 or 14 (7911123456)",
    );
    let v = replay_stdin_json(log, &["plain"], &["--skip-invalid"]);
    assert_eq!(v["input"]["skipped"], 1);
    assert_eq!(v["input"]["replayed"], 1);
    // With a country column the contact is the customer's id and is not checked.
    let log = "timestamp,contact,direction,country\n2026-03-02T08:01:00Z,7911123456,in,UA\n";
    let v = replay_stdin_json(log, &["plain"], &[]);
    assert_eq!(v["input"]["replayed"], 1);
}
