//! Issue 20 (last part), docs/billing-rules.md §4 "What Meta bills beyond the table": free entry
//! point windows, the service free tier per business number, portfolios from the accounts file.
//! Figures worked by hand in tests/fixtures/README.md ("whatsapp-meta, issue 20, last part").

use super::*;

const M: &str = "whatsapp-meta";

/// `replay meta-20b/FIXTURE --model whatsapp-meta --format json EXTRA...` on the shipped rates.
fn shipped(fixture_name: &str, extra: &[&str]) -> Value {
    let f = fixture(&format!("meta-20b/{fixture_name}"));
    let mut args = vec!["replay", &f, "--model", M, "--format", "json"];
    args.extend(extra);
    sim(&args).json()
}

/// The month row `m` (YYYY-MM) of the (only) model.
fn month<'a>(v: &'a Value, m: &str) -> &'a Value {
    (v["models"][0]["months"].as_array().unwrap().iter())
        .find(|r| r["month"] == m)
        .unwrap_or_else(|| panic!("no month {m}"))
}

#[test]
fn a_free_entry_point_window_in_the_conversation_and_per_message_eras() {
    let v = shipped("entry_point.csv", &[]);
    // 2023-03 (conversation era, free entry point from 2023-03-01): the reply and a template
    // 71:59 h later free in the window; the template 72 h after the reply and the late reply
    // open business-initiated conversations, both in the month's free tier of 1,000
    let march = month(&v, "2023-03");
    assert_eq!(march["free_entry_point"].as_u64(), Some(2));
    assert_eq!(march["free_tier"].as_u64(), Some(2));
    assert_eq!(march["sessions_opened"].as_u64(), Some(3));
    assert_eq!(dec(&march["total"]), d("0"));
    // 2025-08 (per-message): the reply and a marketing template inside the window free; one
    // 72 h after the reply and one replying 24 h after the ad at Germany's marketing 0.1365
    let august = month(&v, "2025-08");
    assert_eq!(august["free_entry_point"].as_u64(), Some(2));
    assert_eq!(dec(&august["total"]), d("0.2730"));
    assert_eq!(total(&v, M), d("0.2730"));
    assert_eq!(count(&v, M, "free_entry_point"), 4);
}

/// `replay meta-20b/FIXTURE --rates meta-20b/rates --model MODEL` from a file (the pipeline
/// path, batches) or standard input (the whole log).
fn test_model(fixture_name: &str, model: &str, extra: &[&str], stdin: bool) -> Value {
    let (f, r) = (
        fixture(&format!("meta-20b/{fixture_name}")),
        fixture("meta-20b/rates"),
    );
    let input = if stdin { "-" } else { f.as_str() };
    let mut args = vec!["replay", input, "--rates", &r, "--model", model];
    args.extend(["--format", "json"]);
    args.extend(extra);
    let s = sim(&args);
    match stdin {
        true => s.stdin(std::fs::read(&f).unwrap()).json(),
        false => s.json(),
    }
}

#[test]
fn the_service_free_tier_counts_per_business_number() {
    const N: &str = "meta-number";
    for stdin in [false, true] {
        let v = test_model("per_number.csv", N, &[], stdin);
        let acc = |a| row(&v, N, "accounts", "account", a).clone();
        // shop: number 1's 1st and 2nd service messages free, number 2's 1st (the account's
        // 3rd) free, number 1's 3rd charged at Germany's utility 0.055 (free tier 2)
        let shop = acc("shop");
        assert_eq!(dec(&shop["total"]), d("0.055"), "stdin {stdin}");
        assert_eq!(shop["free_tier"].as_u64(), Some(3));
        assert_eq!(shop["free_tier_per_account"].as_u64(), Some(0));
        // other names no business number: its account's tier of 2, counted as such; the 3rd
        // charged
        let other = acc("other");
        assert_eq!(dec(&other["total"]), d("0.055"), "stdin {stdin}");
        assert_eq!(other["free_tier"].as_u64(), Some(2));
        assert_eq!(other["free_tier_per_account"].as_u64(), Some(3));
        assert_eq!(total(&v, N), d("0.110"));
    }
}

#[test]
fn volume_tiers_are_pooled_per_portfolio_of_the_accounts_file() {
    // meta_tiers.csv on meta-tiers/ (tests/fixtures/README.md "meta_tiers.csv"): Germany
    // utility 0.0550 for a month's messages 1-3, 0.0500 from the 4th
    let (f, r) = (fixture("meta_tiers.csv"), fixture("meta-tiers"));
    let run = |accounts: &str| {
        let a = fixture(&format!("meta-20b/{accounts}"));
        let args = ["replay", &f, "--rates", &r, "--model", "meta-tiers"];
        sim(&args)
            .arg("--accounts")
            .arg(&a)
            .arg("--format")
            .arg("json")
            .json()
    };
    let acc = |v: &Value, a| dec(&row(v, "meta-tiers", "accounts", "account", a)["total"]);
    // one portfolio of two accounts: the boundary is crossed as without the file
    let v = run("accounts_one_portfolio.csv");
    assert_eq!(total(&v, "meta-tiers"), d("0.3750"));
    assert_eq!((acc(&v, "a1"), acc(&v, "a2")), (d("0.1100"), d("0.2650")));
    // two portfolios: a1 counts 2 in August, a2 3: no message reaches the 4th
    let v = run("accounts_two_portfolios.csv");
    assert_eq!(total(&v, "meta-tiers"), d("0.3850"));
    assert_eq!((acc(&v, "a1"), acc(&v, "a2")), (d("0.1100"), d("0.2750")));
}

#[test]
fn a_free_tier_month_starts_at_midnight_in_the_accounts_zone() {
    const N: &str = "meta-number";
    // three service messages of one number on 2026-10-31 (UTC); in Asia/Kolkata (UTC+5:30) the
    // third, 18:40 UTC = 00:10 on 1 November, is in a new month: free (tier 2)
    let a = fixture("meta-20b/accounts_kolkata.csv");
    for stdin in [false, true] {
        let v = test_model("kolkata.csv", N, &["--accounts", &a], stdin);
        assert_eq!(total(&v, N), d("0"), "stdin {stdin}");
        assert_eq!(count(&v, N, "free_tier"), 3);
        assert_eq!(month(&v, "2026-11")["free_tier"].as_u64(), Some(1));
    }
    // in UTC the third is October's 3rd: Germany's utility 0.055
    let v = test_model("kolkata.csv", N, &[], false);
    assert_eq!(total(&v, N), d("0.055"));
}

#[test]
fn an_inr_account_is_priced_from_the_inr_card() {
    let a = fixture("meta-20b/accounts_inr.csv");
    let v = shipped("inr.csv", &["--accounts", &a]);
    let acc = |a| dec(&row(&v, M, "accounts", "account", a)["total"]);
    // India marketing on the 2026-01-01 INR card (line 391) 0.8631 INR, x 1.1761 / 111.1285
    // (fx.csv: EUR->USD, EUR->INR) = 0.00913440 USD; Germany has no INR row: USD 0.1365
    assert_eq!(acc("mumbai"), d("0.14563440"));
    // an account without a currency: the USD card (line 366) 0.0118
    assert_eq!(acc("global"), d("0.0118"));
    assert_eq!(count(&v, M, "local_currency"), 1);
    assert_eq!(count(&v, M, "converted"), 0);
    // without the accounts file both India messages at the USD 0.0118
    let v = shipped("inr.csv", &[]);
    assert_eq!(total(&v, M), d("0.1601"));
}

#[test]
fn the_table_says_what_was_free_per_account_and_from_an_entry_point() {
    let (f, r) = (
        fixture("meta-20b/per_number.csv"),
        fixture("meta-20b/rates"),
    );
    let args = ["replay", &f, "--rates", &r, "--model", "meta-number"];
    let out = sim(&args).succeeds();
    assert!(out.contains("free tier per account: 3 messages"), "{out}");
    let f = fixture("meta-20b/entry_point.csv");
    let out = sim(&["replay", &f, "--model", M]).succeeds();
    assert!(out.contains("free entry point: 4 messages"), "{out}");
    let (f, a) = (
        fixture("meta-20b/inr.csv"),
        fixture("meta-20b/accounts_inr.csv"),
    );
    let out = sim(&["replay", &f, "--model", M, "--accounts", &a]).succeeds();
    assert!(out.contains("local currency: 1 charges"), "{out}");
}
