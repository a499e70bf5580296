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
    // --as-of: before India's first authentication-international row (2024-07-01) none applies
    let v = shipped(
        "meta_auth_intl.csv",
        &["--account-country", "DE", "--as-of", "2024-03-01"],
    );
    assert_eq!(total(&v, M), d("0.0810"));
    let v = shipped(
        "meta_auth_intl.csv",
        &["--account-country", "DE", "--as-of", "2024-07-15"],
    );
    assert_eq!(total(&v, M), d("0.1048"));
    // the ledger names the rate that priced it
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.csv").display().to_string();
    let f = fixture("meta_auth_intl.csv");
    sim(&[
        "replay",
        &f,
        "--model",
        M,
        "--account-country",
        "DE",
        "--ledger",
        &ledger,
    ])
    .succeeds();
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(
        text.contains(",IN,whatsapp-meta,,template,authentication_international,message,0.0280,"),
        "{text}"
    );
    assert!(
        text.contains(",DE,whatsapp-meta,,template,authentication,message,0.0550,"),
        "{text}"
    );
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

/// `rates import-meta` (figures and the sheets' layout in tests/fixtures/README.md "meta-import").
mod import_meta {
    use super::*;

    fn sheet(name: &str) -> String {
        fixture(&format!("meta-import/{name}"))
    }

    fn import(dir: &std::path::Path, sheets: &[&str], extra: &[&str]) -> Sim {
        let files: Vec<String> = sheets.iter().map(|s| sheet(s)).collect();
        let mut args = vec!["rates", "import-meta"];
        args.extend(files.iter().map(String::as_str));
        let into = dir.display().to_string();
        args.extend(["--into", into.as_str()]);
        args.extend(extra);
        sim(&args)
    }

    fn card(dir: &std::path::Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn a_price_and_a_tier_sheet_make_a_rate_dir_that_bills() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        // the meta-tiers model and markets, with the imported card files
        let model = std::fs::read_to_string(fixture("meta-tiers/meta.toml")).unwrap();
        let model = model
            .replace("\"prices.csv\"", "\"whatsapp-meta-prices.csv\"")
            .replace("\"tiers.csv\"", "\"whatsapp-meta-tiers.csv\"");
        std::fs::write(p.join("meta.toml"), model).unwrap();
        std::fs::copy(fixture("meta-tiers/markets.csv"), p.join("markets.csv")).unwrap();
        let out = import(p, &["usd-2025-07.csv", "tiers-usd-2025-07.csv"], &[]).succeeds();
        assert!(out.contains("2 rows into"), "{out}");
        let prices = card(p, "whatsapp-meta-prices.csv");
        assert!(prices.contains("\n2025-07-01,Germany,USD,,,0.1365,0.0550,0.0550,,,message,"));
        // n/a is empty (no such rate), not 0
        assert!(prices.contains("\n2025-07-01,India,USD,,,0.0107,0.0014,0.0014,0.0280,,message,"));
        let tiers = card(p, "whatsapp-meta-tiers.csv");
        assert!(tiers.contains("\n2025-07-01,Germany,USD,utility,1,3,0.0550,"));
        assert!(tiers.contains("\n2025-07-01,Germany,USD,utility,4,,0.0500,"));
        // the same figures as the hand-written test card (meta_tiers.csv: 0.3750)
        let (f, r) = (fixture("meta_tiers.csv"), p.display().to_string());
        let v = sim(&["replay", &f, "--rates", &r, "--format", "json"]).json();
        assert_eq!(total(&v, "meta-tiers"), d("0.3750"));
    }

    #[test]
    fn merged_with_the_shipped_card_equal_values_kept_empty_cells_filled() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let shipped = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rates/whatsapp-meta-prices.csv"
        );
        std::fs::copy(shipped, p.join("whatsapp-meta-prices.csv")).unwrap();
        // Germany's 2025-07-01 row is the same; India's lacks authentication_international
        let out = import(p, &["usd-2025-07.csv"], &[]).succeeds();
        assert!(
            out.contains("0 added, 1 unchanged, 1 cells filled, 0 replaced"),
            "{out}"
        );
        let text = card(p, "whatsapp-meta-prices.csv");
        assert!(text.contains("\n2025-07-01,India,USD,,,0.0107,0.0014,0.0014,0.0280,,message,"));
        assert_eq!(text.lines().count(), 519, "no row added");
    }

    #[test]
    fn a_different_value_is_an_error_naming_both_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        import(p, &["usd-2025-07.csv"], &[]).succeeds();
        let before = card(p, "whatsapp-meta-prices.csv");
        import(p, &["usd-2025-07-changed.csv"], &[]).fails(
            4,
            "whatsapp-meta-prices.csv:2: 2025-07-01 Germany USD marketing is 0.1365 here, \
             but ",
        );
        import(p, &["usd-2025-07-changed.csv"], &[]).fails(
            4,
            "usd-2025-07-changed.csv:3 says 0.1400; --force replaces it",
        );
        assert_eq!(
            card(p, "whatsapp-meta-prices.csv"),
            before,
            "left as it was"
        );
        let out = import(p, &["usd-2025-07-changed.csv"], &["--force"]).succeeds();
        assert!(out.contains("1 replaced"), "{out}");
        assert!(card(p, "whatsapp-meta-prices.csv").contains(",Germany,USD,,,0.1400,0.0550,"));
    }

    #[test]
    fn dates_from_the_title_or_effective_from_and_the_older_sheet_form() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        // 2023 sheet: per conversation, `$US`, `n/a`
        import(p, &["usd-2023-06.csv"], &[]).succeeds();
        let text = card(p, "whatsapp-meta-prices.csv");
        assert!(text.contains(
            "\n2023-06-01,Indonesia,USD,,,0.0411,0.0200,0.0300,0.1360,0.0190,conversation,"
        ));
        assert!(
            text.contains("\n2023-06-01,Malaysia,USD,,,0.0860,0.0200,0.0180,,0.0220,conversation,")
        );
        // no date in the sheet: --effective-from is needed
        import(p, &["inr-undated.csv"], &[]).fails(2, "inr-undated.csv: the sheet's title gives no effective date: pass --effective-from DATE");
        import(p, &["inr-undated.csv"], &["--effective-from", "2025-07-01"]).succeeds();
        assert!(card(p, "whatsapp-meta-prices.csv")
            .contains("\n2025-07-01,India,INR,,,0.7846,0.115,0.115,,,,"));
        // a title date that disagrees with --effective-from
        import(p, &["usd-2023-06.csv"], &["--effective-from", "2025-07-01"])
            .fails(2, "--effective-from 2025-07-01, but");
    }
}

#[test]
fn the_table_says_what_was_not_delivered_and_what_was_converted() {
    let f = fixture("meta_us_pause.csv");
    let out = sim(&["replay", &f, "--model", M]).succeeds();
    assert!(out.contains("not delivered: 2 messages"), "{out}");
    let (f, r) = (fixture("meta_inr.csv"), fixture("meta-inr"));
    let out = sim(&["replay", &f, "--rates", &r]).succeeds();
    assert!(
        out.contains("converted: 1 charges priced from the USD card"),
        "{out}"
    );
}

#[test]
fn a_bad_sheet_row_names_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let bad = p.join("bad.csv");
    std::fs::write(
        &bad,
        "Cost per message in USD on the WhatsApp Business Platform, effective July 1, 2025,,,,,,\n\
         Market,Currency,Marketing,Utility,Authentication,Authentication-International,Service\n\
         Germany,USD,0.1365,0.0550,0.0550,n/a,n/a\n\
         Spain,USD,0,0611,0.0200,0.0200,n/a,n/a\n",
    )
    .unwrap();
    let (b, into) = (bad.display().to_string(), p.display().to_string());
    sim(&["rates", "import-meta", &b, "--into", &into]).fails(
        3,
        "bad.csv:4: more cells than the header has columns (8; a decimal comma?)",
    );
    std::fs::write(
        &bad,
        std::fs::read_to_string(&bad)
            .unwrap()
            .replace("0,0611", "0.06x"),
    )
    .unwrap();
    sim(&["rates", "import-meta", &b, "--into", &into])
        .fails(3, "bad.csv:4: marketing is not a decimal number (0.06x)");
    let sheet = fixture("meta-import/usd-2025-07.csv");
    // a good sheet before the bad one: nothing written either
    sim(&["rates", "import-meta", &sheet, &b, "--into", &into]).fails(3, "bad.csv:4:");
    assert!(!p.join("whatsapp-meta-prices.csv").exists());
}
