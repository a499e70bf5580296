//! Issue 20 (code part), docs/billing-rules.md §4 "What Meta bills beyond the table": the US
//! marketing pause, volume tiers, authentication-international. Figures worked by hand in
//! tests/fixtures/README.md ("whatsapp-meta, issue 20").

use super::*;

const M: &str = "whatsapp-meta";

/// `replay FIXTURE --model whatsapp-meta --format json EXTRA...` on the shipped rates.
fn shipped(fixture_name: &str, extra: &[&str]) -> Value {
    let f = fixture(fixture_name);
    let mut args = vec!["replay", &f, "--model", M, "--format", "json"];
    args.extend(extra);
    sim(&args).json()
}

/// The same on the test rates of `tests/fixtures/meta-tiers/`, from a file or standard input.
fn tiers(extra: &[&str], stdin: bool) -> Value {
    let (f, r) = (fixture("meta_tiers.csv"), fixture("meta-tiers"));
    let input = if stdin { "-" } else { f.as_str() };
    let mut args = vec!["replay", input, "--rates", &r, "--model", "meta-tiers"];
    args.extend(["--format", "json"]);
    args.extend(extra);
    let s = sim(&args);
    match stdin {
        true => s.stdin(std::fs::read(&f).unwrap()).json(),
        false => s.json(),
    }
}

#[test]
fn us_marketing_is_not_delivered_from_2025_04_01() {
    let v = shipped("meta_us_pause.csv", &[]);
    // 2024-09 US marketing 0.0250 + Canada marketing 0.0250 + US utility 0.0040
    assert_eq!(total(&v, M), d("0.0540"));
    assert_eq!(count(&v, M, "not_delivered"), 2);
    // the paused template opened no conversation: the utility one did
    assert_eq!(count(&v, M, "sessions_opened"), 3);
    assert_eq!(
        dec(&row(&v, M, "countries", "country", "CA")["total"]),
        d("0.0250")
    );
    assert_eq!(
        dec(&row(&v, M, "countries", "country", "US")["total"]),
        d("0.0290")
    );
}

#[test]
fn as_of_applies_the_pause_of_its_day_to_all_traffic() {
    // 2024-09-15: no pause; four conversations of 0.0250 and one of 0.0040
    let v = shipped("meta_us_pause.csv", &["--as-of", "2024-09-15"]);
    assert_eq!(total(&v, M), d("0.1040"));
    assert_eq!(count(&v, M, "not_delivered"), 0);
    // 2025-05-01: every US marketing template paused, 2024's included
    let v = shipped("meta_us_pause.csv", &["--as-of", "2025-05-01"]);
    assert_eq!(total(&v, M), d("0.0290"));
    assert_eq!(count(&v, M, "not_delivered"), 3);
}

#[test]
fn a_utility_tier_boundary_crossed_by_a_portfolio_of_two_accounts() {
    for stdin in [false, true] {
        let v = tiers(&[], stdin);
        assert_eq!(total(&v, "meta-tiers"), d("0.3750"));
        let acc = |a| dec(&row(&v, "meta-tiers", "accounts", "account", a)["total"]);
        // the 3rd and 4th messages share an instant: a1 (first by name) takes the 3rd
        assert_eq!(acc("a1"), d("0.1100"), "stdin {stdin}");
        assert_eq!(acc("a2"), d("0.2650"), "stdin {stdin}");
    }
}

#[test]
fn tiers_count_the_messages_month_under_as_of() {
    // --as-of 2025-08-15: the same era and cards; the pools are still the messages' months
    let v = tiers(&["--as-of", "2025-08-15"], false);
    assert_eq!(total(&v, "meta-tiers"), d("0.3750"));
}

#[test]
fn authentication_international_for_a_foreign_account_only() {
    // India 2026-01-01 card: authentication 0.0014, authentication-international 0.0280;
    // Germany authentication 0.0550 (no authentication-international rate)
    let v = shipped("meta_auth_intl.csv", &["--account-country", "DE"]);
    assert_eq!(total(&v, M), d("0.0830"));
    let v = shipped("meta_auth_intl.csv", &["--account-country", "IN"]);
    assert_eq!(total(&v, M), d("0.0564"));
    // no account country: simcost cannot tell, the authentication rate applies
    let v = shipped("meta_auth_intl.csv", &[]);
    assert_eq!(total(&v, M), d("0.0564"));
}

#[test]
fn an_inr_model_prices_india_from_the_inr_card_and_converts_the_rest() {
    let (f, r) = (fixture("meta_inr.csv"), fixture("meta-inr"));
    let v = sim(&["replay", &f, "--rates", &r, "--format", "json"]).json();
    let m = "meta-inr";
    assert_eq!(model(&v, m)["currency"], "INR");
    // India INR card: marketing 0.7846 + utility 0.115; Germany USD 0.1365 x 111.1285 / 1.1761
    assert_eq!(total(&v, m), d("13.79734700"));
    assert_eq!(count(&v, m, "converted"), 1);
    let country = |c| dec(&row(&v, m, "countries", "country", c)["total"]);
    assert_eq!(country("IN"), d("0.8996"));
    assert_eq!(country("DE"), d("12.89774700"));
}
