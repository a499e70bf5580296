//! Output formats, explain, unpriced messages, rate-card errors and exit codes.

use super::*;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn table_is_one_table_per_model_with_totals_and_fees() {
    let f = fixture("viber_fees.csv");
    let r = test_rates();
    let o = sim(&["replay", &f, "--rates", &r, "--model", "flat"]).run();
    assert!(o.status.success());
    insta::assert_snapshot!("table_flat_fees", stdout(&o).replace(&f, "viber_fees.csv"));
}

#[test]
fn table_by_month_and_full_precision() {
    let f = fixture("viber_fees.csv");
    let r = test_rates();
    let o = sim(&[
        "replay",
        &f,
        "--rates",
        &r,
        "--model",
        "flat",
        "--by",
        "month",
        "--full-precision",
    ])
    .run();
    let text = stdout(&o);
    assert!(text.contains("| 2026-03 (incl. fees) |"), "{text}");
    assert!(text.contains("200.0800"), "{text}");
    assert!(text.contains("350.1200"), "{text}");
}

#[test]
fn csv_rows_per_group_and_a_total_row() {
    let f = fixture("viber_fees.csv");
    let r = test_rates();
    let o = sim(&[
        "replay", &f, "--rates", &r, "--model", "flat", "--model", "plain", "--format", "csv",
        "--by", "account",
    ])
    .run();
    assert!(o.status.success());
    insta::assert_snapshot!("csv_by_account", stdout(&o));
}

#[test]
fn json_amounts_are_strings() {
    let f = fixture("viber_minimum.csv");
    let r = test_rates();
    let o = sim(&[
        "replay", &f, "--rates", &r, "--model", "minimum", "--format", "json",
    ])
    .run();
    let text = stdout(&o).replace(&f, "viber_minimum.csv");
    insta::assert_snapshot!("json_minimum", text);
}

#[test]
fn explain_says_why_for_each_message() {
    let f = fixture("viber_session.csv");
    let r = test_rates();
    let o = sim(&[
        "explain",
        &f,
        "--rates",
        &r,
        "--model",
        "plain",
        "--contact",
        "+380 50 111 0001",
    ])
    .run();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    insta::assert_snapshot!("explain_plain", stdout(&o));
    sim(&["explain", &f, "--contact", "+999"]).fails(2, "no such contact");
}

#[test]
fn unpriced_messages_are_warned_counted_and_strict_fails() {
    let f = fixture("tiers.csv");
    let o = sim(&["replay", &f, "--model", "viber-2024"]).run();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("viber-2024: 1 messages have no price on the card rates/viber-prices.csv and no * row (AE: 1)"),
        "{err}"
    );
    let text = stdout(&o);
    assert!(text.contains("TOTAL (incomplete)"), "{text}");
    sim(&["replay", &f, "--model", "viber-2024", "--strict"]).fails(5, "--strict");
}

#[test]
fn rate_card_errors_name_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    let f = fixture("viber_session.csv");
    let ds = d.display().to_string();
    write("m.toml", "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\nprices = \"p.csv\"\n");
    sim(&["replay", &f, "--rates", &ds]).fails(4, "p.csv: cannot read");
    write(
        "p.csv",
        "country,effective_from,session,transactional,promotional\nUA,,x,1,1\n",
    );
    sim(&["replay", &f, "--rates", &ds]).fails(4, "p.csv:2: session is not a decimal number (x)");
    write(
        "p.csv",
        "country,effective_from,session,transactional,promotional\nUA,,1,1,1\n",
    );
    write("m.toml", "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\nprices = \"p.csv\"\n[session]\nhours = \"24\"\n");
    sim(&["replay", &f, "--rates", &ds]).fails(
        4,
        "m.toml: session.hours: invalid type: string \"24\", expected an integer",
    );
    write("m.toml", "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\nprices = \"p.csv\"\n[monthly]\nfee = 100.5\n");
    sim(&["replay", &f, "--rates", &ds]).fails(4, "monthly.fee: write money as a decimal string");
    sim(&["replay", &f, "--model", "nope"]).fails(4, "unknown model (nope)");
}

#[test]
fn usage_errors_exit_2() {
    sim(&["replay", "--format", "xml"]).fails(2, "xml");
    sim(&["replay", "--tz", "Mars/Olympus"])
        .stdin("")
        .fails(2, "unknown time zone");
}
