//! Configuration mistakes and money that cannot overflow (docs/billing-rules.md §1, rates/README.md "Ranges"):
//! a typo in a model file is an error, not another amount; out-of-range rates are exit 4, not a
//! panic; `generate` refuses sizes it cannot hold.

use crate::{d, dec, fixture, model, sim};
use std::path::Path;

/// A rate directory with one model file `m.toml` (the test card `viber.csv`, name `m`) whose
/// body ends with `monthly`, and optionally an `fx.csv`.
fn rate_dir(monthly: &str, fx: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::copy(fixture("rates/viber.csv"), p.join("viber.csv")).unwrap();
    let model = format!(
        "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\n\
         prices = \"viber.csv\"\n{monthly}"
    );
    std::fs::write(p.join("m.toml"), model).unwrap();
    if let Some(fx) = fx {
        std::fs::write(p.join("fx.csv"), fx).unwrap();
    }
    dir
}

fn replay(dir: &Path) -> crate::Sim {
    let log = fixture("viber_session.csv");
    let rates = dir.display().to_string();
    sim(&["replay", &log, "--rates", &rates, "--format", "json"])
}

/// The "a EUR 100 fee becomes 0": spelled right, the log's one active month (March
/// 2026) pays the flat fee of 100; misspelled, the run stops with exit 4 and names the fix.
#[test]
fn a_misspelt_section_stops_the_run_instead_of_dropping_the_fee() {
    let right = rate_dir("[monthly]\nfee = \"100\"\nfee_kind = \"flat\"\n", None);
    let v = replay(right.path()).json();
    assert_eq!(dec(&model(&v, "m")["fees"]), d("100"));

    let typo = rate_dir("[monthy]\nfee = \"100\"\nfee_kind = \"flat\"\n", None);
    replay(typo.path()).fails(
        4,
        "m.toml: monthy: unknown section; did you mean `monthly`?",
    );

    // tests/fixtures/README.md, viber_session.csv: 0.1300 of messages, plus the fee.
    assert_eq!(dec(&model(&v, "m")["total"]), d("100.1300"));

    let typo = rate_dir("[monthly]\nfee = \"100\"\nfee_knd = \"minimum\"\n", None);
    replay(typo.path()).fails(
        4,
        "m.toml: monthly.fee_knd: unknown key; did you mean `fee_kind`?",
    );
}

/// Legacy's allowance: spelled right, line 7's business-initiated message (0.0700) is free and
/// the log costs 0.0600 instead of 0.1300; misspelled, the run stops.
#[test]
fn a_misspelt_allowance_stops_the_run_instead_of_charging_free_messages() {
    let none = rate_dir("", None);
    assert_eq!(
        dec(&model(&replay(none.path()).json(), "m")["total"]),
        d("0.1300")
    );
    let right = rate_dir("[monthly]\nfree_business_initiated = 10000\n", None);
    assert_eq!(
        dec(&model(&replay(right.path()).json(), "m")["total"]),
        d("0.0600")
    );
    let typo = rate_dir("[monthly]\nfree_buisness_initiated = 10000\n", None);
    replay(typo.path()).fails(
        4,
        "m.toml: monthly.free_buisness_initiated: unknown key; \
         did you mean `free_business_initiated`?",
    );
}

/// An FX rate of 1e-28 made `compare` divide by it and overflow (exit 101); now the rate
/// directory is refused when it is read.
#[test]
fn a_tiny_fx_rate_is_a_rates_error_in_compare() {
    let fx = "date,base,quote,rate,source\n2026-01-02,EUR,USD,0.0000000000000000000000000001,x\n";
    let dir = rate_dir("", Some(fx));
    let (log, rates) = (
        fixture("viber_session.csv"),
        dir.path().display().to_string(),
    );
    sim(&["compare", &log, "--rates", &rates, "--currency", "USD"]).fails(
        4,
        "fx.csv:2: rate is outside 0.000001 ..= 1000000, the documented range \
         (0.0000000000000000000000000001)",
    );
}

/// At the largest price (1000) and fee (1,000,000) the log bills exactly: no overflow, no
/// panic (Decimal::MAX as a price did overflow).
#[test]
fn the_largest_price_bills_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("viber.csv"),
        "country,effective_from,session,transactional,promotional\n\
         UA,,1000,1000,1000\n",
    )
    .unwrap();
    std::fs::write(
        p.join("m.toml"),
        "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\n\
         prices = \"viber.csv\"\n[monthly]\nfee = \"1000000\"\nfee_kind = \"flat\"\n",
    )
    .unwrap();
    let v = replay(p).json();
    assert_eq!(dec(&model(&v, "m")["fees"]), d("1000000"));
    // Two charged sessions and one business-initiated message (fixtures README), 1000 each.
    assert_eq!(dec(&model(&v, "m")["total"]), d("1003000"));
}

/// `generate --messages 18446744073709551615` asked for a vector of 2^64 rows: "capacity
/// overflow", exit 101. It is a usage error with the bound.
#[test]
fn generate_refuses_more_messages_than_it_can_hold() {
    sim(&["generate", "--messages", "18446744073709551615"]).fails(
        2,
        "generate: --messages is at most 1000000000 (the log is sorted in memory) \
         (18446744073709551615)",
    );
    sim(&["generate", "--days", "4294967295"]).fails(2, "generate: --days is at most 36600");
    sim(&["generate", "--start", "9999-12-01", "--days", "60"]).fails(2, "run past the year 9999");
    // The bound itself is not refused: a small run at the edge of the calendar works.
    let out = sim(&[
        "generate",
        "--messages",
        "3",
        "--start",
        "9999-12-01",
        "--days",
        "14",
    ])
    .succeeds();
    assert_eq!(out.lines().count(), 4, "{out}");
}
