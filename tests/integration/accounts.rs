//! `--accounts FILE` (docs/billing-rules.md#accounts-file): each account's months cut in its own
//! zone, its fee tier from its home country, domestic and international Viber traffic, in every
//! command that reads a log. Figures worked by hand in tests/fixtures/accounts/README.md.

use crate::{d, dec, fixture, model, row, sim, test_rates};
use serde_json::Value;

fn accounts(name: &str) -> String {
    fixture(&format!("accounts/{name}"))
}

/// `replay accounts/LOG --rates tests/fixtures/rates --model M --format json EXTRA...`
fn replay(log: &str, m: &str, extra: &[&str]) -> Value {
    let (log, r) = (accounts(log), test_rates());
    let mut args = vec![
        "replay", &log, "--rates", &r, "--model", m, "--format", "json",
    ];
    args.extend(extra);
    sim(&args).json()
}

/// The fee items of model `m` as (account, month, country, from, amount).
fn fee_items(v: &Value, m: &str) -> Vec<(String, String, String, String, String)> {
    let s = |x: &Value| x.as_str().unwrap_or("-").to_string();
    model(v, m)["fee_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                s(&f["account"]),
                s(&f["month"]),
                s(&f["account_country"]),
                s(&f["account_country_from"]),
                s(&f["amount"]),
            )
        })
        .collect()
}

fn account_total(v: &Value, m: &str, account: &str) -> rust_decimal::Decimal {
    dec(&row(v, m, "accounts", "account", account)["total"])
}

#[test]
fn an_accounts_own_zone_moves_a_message_into_the_next_months_allowance() {
    let tz = accounts("tz_accounts.csv");
    // Without the file every month is UTC's: kolkata's and utc's third message is their third
    // of March, over legacy's allowance of 2: 0.07 each; newyork's third (04-01 02:00 UTC) is
    // April's first, free.
    let plain = replay("tz_month.csv", "legacy", &["--by", "account"]);
    assert_eq!(account_total(&plain, "legacy", "kolkata"), d("0.07"));
    assert_eq!(account_total(&plain, "legacy", "utc"), d("0.07"));
    assert_eq!(account_total(&plain, "legacy", "newyork"), d("0"));
    // kolkata's 2026-03-31 19:00 UTC is 2026-04-01 00:30 in Kolkata (UTC+5:30): April's
    // allowance, free. newyork's 2026-04-01 02:00 UTC is 2026-03-31 22:00 in New York (EDT,
    // UTC-4): March's third, 0.07. utc, not in the file, keeps UTC: 0.07 as before.
    let v = replay(
        "tz_month.csv",
        "legacy",
        &["--by", "account", "--accounts", &tz],
    );
    assert_eq!(account_total(&v, "legacy", "kolkata"), d("0"));
    assert_eq!(account_total(&v, "legacy", "newyork"), d("0.07"));
    assert_eq!(account_total(&v, "legacy", "utc"), d("0.07"));
    let months = replay(
        "tz_month.csv",
        "legacy",
        &["--by", "month", "--accounts", &tz],
    );
    let month = |m: &str| row(&months, "legacy", "months", "month", m).clone();
    // March: kolkata 2, utc 3, newyork 3; April: kolkata 1.
    assert_eq!(month("2026-03")["messages_out"], 8);
    assert_eq!(month("2026-04")["messages_out"], 1);
    assert_eq!(dec(&month("2026-04")["total"]), d("0"));
    // Where each account's zone came from.
    let list = v["accounts"]["accounts"].as_array().unwrap();
    let zone = |name: &str| {
        let a = list.iter().find(|a| a["account"] == name).unwrap();
        (a["tz"].clone(), a["tz_from"].clone(), a["in_file"].clone())
    };
    assert_eq!(
        zone("kolkata"),
        ("Asia/Kolkata".into(), "file".into(), true.into())
    );
    assert_eq!(zone("utc"), ("UTC".into(), "default".into(), false.into()));
    assert_eq!(v["accounts"]["log_accounts_not_in_file"], 1);
    assert_eq!(v["accounts"]["file_accounts_not_in_log"], 1);
    // --tz stands in for an account the file lacks, and says so: utc in Europe/Kyiv
    // (UTC+3 in summer time, from 2026-03-29): its 03-31 19:00 UTC is 22:00, still March.
    let kyiv = replay(
        "tz_month.csv",
        "legacy",
        &["--by", "account", "--accounts", &tz, "--tz", "Europe/Kyiv"],
    );
    let a = &kyiv["accounts"]["accounts"].as_array().unwrap()[2];
    assert_eq!(
        (&a["account"], &a["tz"], &a["tz_from"]),
        (&"utc".into(), &"Europe/Kyiv".into(), &"flag".into())
    );
}

#[test]
fn the_table_lists_each_accounts_properties_and_their_origin() {
    let (log, r, tz) = (
        accounts("tz_month.csv"),
        test_rates(),
        accounts("tz_accounts.csv"),
    );
    let out = sim(&[
        "replay",
        &log,
        "--rates",
        &r,
        "--model",
        "legacy",
        "--accounts",
        &tz,
    ])
    .succeeds();
    assert!(out.contains("Asia/Kolkata (file)"), "{out}");
    assert!(out.contains("UTC (default)"), "{out}");
    assert!(out.contains("1 accounts of the log are not in"), "{out}");
    assert!(out.contains("1 accounts of"), "{out}");
    assert!(out.contains("do not appear in the log"), "{out}");
}

#[test]
fn the_fee_tier_comes_from_the_accounts_country() {
    let file = accounts("fee_accounts.csv");
    let (h, f, g) = (
        "highest tier of the month's countries",
        "accounts file",
        "--account-country",
    );
    let item = |a: &str, c: &str, from: &str, amount: &str| {
        (
            a.into(),
            "2026-03".into(),
            c.into(),
            from.into(),
            amount.into(),
        )
    };
    // No file: each account's highest tier: ua-home wrote to DE (100), de-home to UA (150),
    // other to UA (150).
    let v = replay("fee_tier.csv", "flat", &[]);
    assert_eq!(
        fee_items(&v, "flat"),
        [
            item("de-home", "UA", h, "150"),
            item("other", "UA", h, "150"),
            item("ua-home", "-", "default tier", "100"),
        ]
    );
    // The file: ua-home is Ukrainian (150) though it wrote only to DE; de-home German (no
    // tier of its own: 100) though it wrote to UA; other, not in the file, as before.
    let v = replay("fee_tier.csv", "flat", &["--accounts", &file]);
    assert_eq!(
        fee_items(&v, "flat"),
        [
            item("de-home", "DE", f, "100"),
            item("other", "UA", h, "150"),
            item("ua-home", "UA", f, "150"),
        ]
    );
    // Messages 0.04 + 0.07 + 0.04 + 0.07 = 0.22; fees 100 + 150 + 150.
    assert_eq!(dec(&model(&v, "flat")["total"]), d("400.22"));
    // --account-country stands in only for the account the file lacks.
    let v = replay(
        "fee_tier.csv",
        "flat",
        &["--accounts", &file, "--account-country", "PL"],
    );
    assert_eq!(
        fee_items(&v, "flat"),
        [
            item("de-home", "DE", f, "100"),
            item("other", "PL", g, "100"),
            item("ua-home", "UA", f, "150"),
        ]
    );
    assert_eq!(dec(&model(&v, "flat")["total"]), d("350.22"));
    let list = v["accounts"]["accounts"].as_array().unwrap();
    let origin: Vec<(&Value, &Value)> = list
        .iter()
        .map(|a| (&a["account"], &a["country_from"]))
        .collect();
    assert_eq!(
        origin,
        [
            (&"de-home".into(), &"file".into()),
            (&"other".into(), &"flag".into()),
            (&"ua-home".into(), &"file".into())
        ]
    );
}

#[test]
fn a_bad_accounts_file_is_an_input_error_naming_its_line() {
    let (log, r) = (accounts("tz_month.csv"), test_rates());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("a.csv");
    let bad_s = bad.to_str().unwrap();
    let run = |text: &str, msg: &str| {
        std::fs::write(&bad, text).unwrap();
        sim(&["replay", &log, "--rates", &r, "--accounts", bad_s])
            .fails(3, &format!("{bad_s}:{msg}"));
    };
    run(
        "account,tz\nkolkata,Asia/Calcutta\nx,Asia/Kolkatta\n",
        "3: unknown time zone (Asia/Kolkatta)",
    );
    run("account,country\nx,XX\n", "2: unknown country code (XX)");
    run(
        "account,registered\nx,01.10.2024\n",
        "2: registered is not a YYYY-MM-DD date (01.10.2024)",
    );
    run(
        "account\nx\ny\nx\n",
        "4: duplicate account, first on line 2 (x)",
    );
    sim(&[
        "replay",
        &log,
        "--rates",
        &r,
        "--accounts",
        "/nonexistent/a.csv",
    ])
    .fails(3, "/nonexistent/a.csv: cannot open the accounts file");
}

#[test]
fn explain_compare_and_breakeven_cut_months_in_the_accounts_zone() {
    let (log, r, tz) = (
        accounts("tz_month.csv"),
        test_rates(),
        accounts("tz_accounts.csv"),
    );
    // explain: kolkata's third message is April's in Kolkata, free; without the file 0.07.
    let explain = |extra: &[&str]| {
        let mut args = vec![
            "explain",
            &log,
            "--rates",
            &r,
            "--model",
            "legacy",
            "--contact",
            "+380501110001",
        ];
        args.extend(extra);
        sim(&args).succeeds()
    };
    assert!(explain(&[]).contains("messages of this contact: 0.0700 EUR"));
    let with = explain(&["--accounts", &tz]);
    assert!(with.contains("messages of this contact: 0 EUR"), "{with}");
    // ... and its times are Kolkata's.
    assert!(with.contains("2026-04-01T00:30:00+05:30"), "{with}");
    // compare: legacy's total, 0.07 x 2 (kolkata, utc) without a file; with only kolkata in
    // Asia/Kolkata, 0.07 (utc). (With tz_accounts.csv newyork's third moves into March and the
    // total stays 0.14.) `plain` (no allowance) bills all 9 at 0.07 either way.
    let dir = tempfile::tempdir().unwrap();
    let only = dir.path().join("kolkata.csv");
    std::fs::write(&only, "account,tz\nkolkata,Asia/Kolkata\n").unwrap();
    let only = only.to_str().unwrap();
    let compare = |extra: &[&str]| {
        let mut args = vec![
            "compare", &log, "--rates", &r, "--model", "legacy", "--model", "plain", "--format",
            "json",
        ];
        args.extend(extra);
        let v = sim(&args).json();
        let models = v["comparison"]["models"].as_array().unwrap().clone();
        let legacy = models.iter().find(|m| m["model"] == "legacy").unwrap();
        dec(&legacy["total"])
    };
    assert_eq!(compare(&[]), d("0.14"));
    assert_eq!(compare(&["--accounts", only]), d("0.07"));
    assert_eq!(compare(&["--accounts", &tz]), d("0.14"));
    // breakeven: kolkata's third message is March's (over the allowance of 2: 0.07) in UTC,
    // April's first (free) in Kolkata: its legacy cost at the log's own volume moves 0.07 -> 0.
    let legacy_cost = |extra: &[&str]| {
        let mut args = vec![
            "breakeven",
            &log,
            "--rates",
            &r,
            "--model",
            "legacy",
            "--model",
            "plain",
            "--format",
            "json",
        ];
        args.extend(extra);
        let v = sim(&args).json();
        let scopes = v["models_breakeven"].as_array().unwrap().clone();
        let kolkata = scopes.iter().find(|s| s["account"] == "kolkata").unwrap();
        kolkata["cost"]["legacy"].clone()
    };
    assert_eq!(legacy_cost(&[]), "0.0700");
    assert_eq!(legacy_cost(&["--accounts", &tz]), "0.0000");
}

/// `CMD accounts/intl.csv --rates accounts/rates EXTRA...`
fn intl(cmd: &str, extra: &[&str]) -> crate::Sim {
    let (log, r) = (accounts("intl.csv"), accounts("rates"));
    let mut args = vec![cmd, &log, "--rates", &r];
    args.extend(extra);
    sim(&args)
}

#[test]
fn a_domestic_and_an_international_account_send_to_the_same_countries() {
    let file = accounts("intl_accounts.csv");
    let v = intl(
        "replay",
        &["--by", "account", "--format", "json", "--accounts", &file],
    )
    .json();
    let acc = |a: &str| row(&v, "intl", "accounts", "account", a).clone();
    // old (registered 2024-09-30, before the date): domestic: UA session 0.03, DE session
    // 0.02, DE promotional 0.04, PL promotional 0.03.
    assert_eq!(dec(&acc("old")["total"]), d("0.12"));
    assert_eq!(acc("old")["sessions_opened"], 2);
    // nodate (no registered date): domestic too, and counted.
    assert_eq!(dec(&acc("nodate")["total"]), d("0.12"));
    assert_eq!(model(&v, "intl")["accounts_assumed_domestic"], 1);
    // new (registered 2024-10-01, on the date): UA session 0.03; DE: the customer's message
    // opens no session, two free-form and one promotional at DE's international 0.06, the
    // welcome free; PL has no international price: unpriced.
    assert_eq!(dec(&acc("new")["total"]), d("0.21"));
    assert_eq!(acc("new")["sessions_opened"], 1);
    assert_eq!(acc("new")["international"], 3);
    assert_eq!(acc("new")["unpriced"], 1);
    assert_eq!(acc("new")["business_initiated_charged"], 0);
    assert_eq!(dec(&model(&v, "intl")["total"]), d("0.45"));
    // A model without [international] bills every account as domestic, and does not count.
    assert_eq!(dec(&model(&v, "dom")["total"]), d("0.36"));
    assert!(model(&v, "dom").get("accounts_assumed_domestic").is_none());
    // Without the file no account has a registered date: all domestic, all three counted.
    let plain = intl("replay", &["--format", "json"]).json();
    assert_eq!(dec(&model(&plain, "intl")["total"]), d("0.36"));
    assert_eq!(model(&plain, "intl")["accounts_assumed_domestic"], 3);
    assert_eq!(model(&plain, "intl")["totals"]["international"], 0);
}

#[test]
fn the_ledger_and_explain_name_international_messages() {
    let file = accounts("intl_accounts.csv");
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.csv");
    let ledger_s = ledger.to_str().unwrap();
    intl(
        "replay",
        &["--model", "intl", "--accounts", &file, "--ledger", ledger_s],
    )
    .succeeds();
    let text = std::fs::read_to_string(&ledger).unwrap();
    // new's 3 DE messages at 0.0600 and its PL one, unpriced.
    let international: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(",international,"))
        .collect();
    assert_eq!(international.len(), 4, "{text}");
    assert_eq!(
        international
            .iter()
            .filter(|l| l.contains(",0.0600,EUR,DE,"))
            .count(),
        3
    );
    // explain the DE contact (all three accounts): old 0.02 + 0.04, nodate the same, new
    // 3 x 0.06 = 0.30; without the file 3 x 0.06 = 0.18.
    let explain = |extra: &[&str]| {
        let mut args = vec!["--model", "intl", "--contact", "+49 151 12345678"];
        args.extend(extra);
        intl("explain", &args).succeeds()
    };
    let with = explain(&["--accounts", &file]);
    assert!(
        with.contains("messages of this contact: 0.3000 EUR"),
        "{with}"
    );
    assert!(with.contains("international: outside the account's home country UA"));
    assert!(explain(&[]).contains("messages of this contact: 0.1800 EUR"));
}

#[test]
fn compare_and_breakeven_bill_international_accounts() {
    let file = accounts("intl_accounts.csv");
    let total = |extra: &[&str]| {
        let mut args = vec!["--format", "json"];
        args.extend(extra);
        let v = intl("compare", &args).json();
        let models = v["comparison"]["models"].as_array().unwrap().clone();
        let m = models.iter().find(|m| m["model"] == "intl").unwrap();
        (dec(&m["total"]), m["unpriced"].clone())
    };
    assert_eq!(total(&[]), (d("0.36"), 0.into()));
    assert_eq!(total(&["--accounts", &file]), (d("0.45"), 1.into()));
    // breakeven: the new account's sessions a month under intl: 2 domestic, 1 international.
    let sessions = |extra: &[&str]| {
        let mut args = vec!["--format", "json"];
        args.extend(extra);
        let v = intl("breakeven", &args).json();
        let scopes = v["models_breakeven"].as_array().unwrap().clone();
        let new = scopes.iter().find(|s| s["account"] == "new").unwrap();
        new["sessions_per_month"]["intl"].clone()
    };
    assert_eq!(sessions(&[]), "2");
    assert_eq!(sessions(&["--accounts", &file]), "1");
}

#[test]
fn international_needs_its_column_and_viber_rules() {
    let (log, dir) = (accounts("intl.csv"), tempfile::tempdir().unwrap());
    let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    put(
        "p.csv",
        "country,effective_from,session,transactional,promotional\nUA,,0.03,0.05,0.07\n",
    );
    put(
        "m.toml",
        "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\n\
         prices = \"p.csv\"\n[international]\nregistered_from = \"2024-10-01\"\n",
    );
    let d = dir.path().to_str().unwrap();
    sim(&["replay", &log, "--rates", d]).fails(4, "international.registered_from: the prices file");
    put(
        "m.toml",
        "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\ncurrency = \"EUR\"\n\
         prices = \"p.csv\"\n[international]\nregistered_from = \"1.10.2024\"\n",
    );
    sim(&["replay", &log, "--rates", d]).fails(4, "not a YYYY-MM-DD date (1.10.2024)");
    put(
        "m.toml",
        "name = \"m\"\nchannel = \"whatsapp\"\nrules = \"whatsapp-session\"\ncurrency = \"EUR\"\n\
         prices = \"p.csv\"\n[international]\nregistered_from = \"2024-10-01\"\n",
    );
    sim(&["replay", &log, "--rates", d])
        .fails(4, "international: not read by rules whatsapp-session");
}

#[test]
fn the_ledger_shows_each_accounts_rows_in_its_zone() {
    let (log, r, tz) = (
        accounts("tz_month.csv"),
        test_rates(),
        accounts("tz_accounts.csv"),
    );
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("l.csv");
    let ledger_s = ledger.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "replay", &log, "--rates", &r, "--model", "legacy", "--ledger", ledger_s,
        ];
        args.extend(extra);
        sim(&args).succeeds();
        std::fs::read_to_string(&ledger).unwrap()
    };
    // kolkata's third message: 2026-03-31 19:00 UTC is 2026-04-01 00:30 in Kolkata, April's
    // allowance; newyork's 2026-04-01 02:00 UTC is 03-31 22:00 EDT, March's third.
    let text = run(&["--accounts", &tz]);
    assert!(
        text.contains("2026-04-01T00:30:00+05:30,2026-04,kolkata,tel:+380501110001,UA,legacy,,business_initiated,marketing,message,0,"),
        "{text}"
    );
    assert!(
        text.contains("2026-03-31T22:00:00-04:00,2026-03,newyork,tel:+380501110003,UA,legacy,,business_initiated,marketing,message,0.0700,"),
        "{text}"
    );
    // utc keeps --tz (UTC): its third is March's, 0.07.
    assert!(
        text.contains("2026-03-31T19:00:00+00:00,2026-03,utc,"),
        "{text}"
    );
    // Without the file every row is in UTC.
    let text = run(&[]);
    assert!(
        text.contains("2026-03-31T19:00:00+00:00,2026-03,kolkata,"),
        "{text}"
    );
}

#[test]
fn no_output_is_written_over_the_accounts_file() {
    let (log, r) = (accounts("tz_month.csv"), test_rates());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.csv");
    std::fs::write(&file, "account,tz\nkolkata,Asia/Kolkata\n").unwrap();
    let f = file.to_str().unwrap();
    sim(&[
        "replay",
        &log,
        "--rates",
        &r,
        "--accounts",
        f,
        "--ledger",
        f,
    ])
    .fails(2, "is the same file as --accounts");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "account,tz\nkolkata,Asia/Kolkata\n"
    );
}

#[test]
fn accounts_without_a_log_is_a_usage_error() {
    let file = accounts("tz_accounts.csv");
    sim(&["compare", "--cards", "--accounts", &file]).fails(2, "--accounts needs a LOG");
}
