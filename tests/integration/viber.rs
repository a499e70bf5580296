//! docs/billing-rules.md §3: Viber sessions and commercial models.

use super::*;

#[test]
fn session_charged_once_lasts_24h_from_start_and_unanswered_costs_nothing() {
    let v = replay_json(
        "viber_session.csv",
        &["plain", "legacy", "flat", "minimum"],
        &[],
    );
    assert_eq!(total(&v, "plain"), d("0.1300"));
    assert_eq!(count(&v, "plain", "sessions_opened"), 3);
    assert_eq!(count(&v, "plain", "sessions_charged"), 2);
    assert_eq!(count(&v, "plain", "business_initiated_charged"), 1);
    assert_eq!(count(&v, "plain", "assumed_category"), 1);
    // legacy: the one business-initiated message is inside the free allowance
    assert_eq!(total(&v, "legacy"), d("0.0600"));
    assert_eq!(count(&v, "legacy", "business_initiated_free"), 1);
    // flat: sessions free, the UA tier's fee
    assert_eq!(total(&v, "flat"), d("150.0700"));
    assert_eq!(count(&v, "flat", "sessions_charged"), 0);
    // minimum commitment binds
    assert_eq!(total(&v, "minimum"), d("150"));
    assert_eq!(dec(&model(&v, "minimum")["fees"]), d("149.8700"));
}

#[test]
fn welcome_free_templates_per_message_and_outside_the_60() {
    let v = replay_json("viber_kinds.csv", &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.3900"));
    assert_eq!(count(&v, "plain", "business_initiated_charged"), 6);
    assert_eq!(count(&v, "plain", "sessions_charged"), 1);
    assert_eq!(count(&v, "plain", "assumed_category"), 1);
    assert_eq!(count(&v, "plain", "messages_out"), 8);
}

/// A customer message after the 60th opens a new session (tests/fixtures/README.md).
#[test]
fn a_customer_message_after_the_cap_opens_a_new_session() {
    let v = replay_json("viber_after_cap.csv", &["plain", "newsession"], &[]);
    for m in ["plain", "newsession"] {
        assert_eq!(total(&v, m), d("0.1300"), "{m}");
        assert_eq!(count(&v, m, "sessions_opened"), 2, "{m}");
        assert_eq!(count(&v, m, "sessions_charged"), 2, "{m}");
        assert_eq!(count(&v, m, "business_initiated_charged"), 1, "{m}");
    }
}

#[test]
fn sixty_message_cap_ends_the_session() {
    let v = replay_json("viber_cap.csv", &["plain"], &[]);
    assert_eq!(total(&v, "plain"), d("0.2500"));
    assert_eq!(count(&v, "plain", "sessions_opened"), 2);
    assert_eq!(count(&v, "plain", "sessions_charged"), 2);
    assert_eq!(count(&v, "plain", "business_initiated_charged"), 3);
    assert_eq!(count(&v, "plain", "rejected_in_session"), 0);
}

#[test]
fn sixty_message_cap_with_new_session_variant() {
    let v = replay_json("viber_cap.csv", &["newsession"], &[]);
    assert_eq!(total(&v, "newsession"), d("0.1100"));
    assert_eq!(count(&v, "newsession", "sessions_opened"), 2);
    assert_eq!(count(&v, "newsession", "sessions_charged"), 2);
    assert_eq!(count(&v, "newsession", "business_initiated_charged"), 1);
}

/// In one run, models whose session rules differ each replay with their own engine (models
/// that agree share one): the figures of the two tests above, side by side.
#[test]
fn both_cap_variants_in_one_run_keep_their_own_figures() {
    let v = replay_json("viber_cap.csv", &["plain", "newsession", "short"], &[]);
    assert_eq!(total(&v, "plain"), d("0.2500"));
    assert_eq!(total(&v, "newsession"), d("0.1100"));
    assert_eq!(count(&v, "plain", "business_initiated_charged"), 3);
    assert_eq!(count(&v, "newsession", "business_initiated_charged"), 1);
}

#[test]
fn sixth_message_in_a_row_is_rejected_and_billed_or_blocked() {
    let v = replay_json("viber_in_a_row.csv", &["plain", "drop"], &[]);
    assert_eq!(total(&v, "plain"), d("0.1700"));
    assert_eq!(count(&v, "plain", "rejected_in_session"), 2);
    assert_eq!(count(&v, "plain", "business_initiated_charged"), 2);
    assert_eq!(total(&v, "drop"), d("0.0300"));
    assert_eq!(count(&v, "drop", "rejected_in_session"), 2);
    assert_eq!(count(&v, "drop", "blocked"), 2);
    assert_eq!(count(&v, "drop", "business_initiated_charged"), 0);
}

#[test]
fn allowance_goes_to_the_months_first_messages_in_time_order() {
    let v = replay_json("viber_allowance.csv", &["legacy"], &[]);
    assert_eq!(total(&v, "legacy"), d("0.0950"));
    assert_eq!(
        dec(&row(&v, "legacy", "countries", "country", "UA")["total"]),
        d("0.0700")
    );
    assert_eq!(
        dec(&row(&v, "legacy", "countries", "country", "DE")["total"]),
        d("0.0250")
    );
    assert_eq!(count(&v, "legacy", "business_initiated_free"), 3);
    assert_eq!(count(&v, "legacy", "business_initiated_charged"), 2);
}

#[test]
fn an_allowance_running_out_within_an_instant_goes_by_contact_name() {
    // fixtures/README.md: the time-ordered log is billed in row order except where the order
    // of one instant's messages decides which are free; --ledger takes the sorted way.
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.csv").display().to_string();
    for extra in [&[][..], &["--ledger", &ledger][..]] {
        let v = replay_json("viber_allowance_ties.csv", &["legacy"], extra);
        let country = |c: &str| dec(&row(&v, "legacy", "countries", "country", c)["total"]);
        assert_eq!(country("UA"), d("0"), "{extra:?}");
        assert_eq!(country("GB"), d("0"), "{extra:?}");
        assert_eq!(country("DE"), d("0.0800"), "{extra:?}");
        assert_eq!(total(&v, "legacy"), d("0.0800"));
        assert_eq!(count(&v, "legacy", "business_initiated_free"), 4);
        assert_eq!(count(&v, "legacy", "business_initiated_charged"), 2);
    }
    // The ledger lists the three messages of 03-01 09:00 by contact name: UA (line 4), GB
    // (line 3), DE (line 2).
    let text = std::fs::read_to_string(&ledger).unwrap();
    let column = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "line")
        .unwrap();
    let lines: Vec<&str> = (text.lines().skip(1).take(3))
        .map(|l| l.split(',').nth(column).unwrap())
        .collect();
    assert_eq!(lines, ["4", "3", "2"], "{text}");
}

#[test]
fn the_10001st_business_initiated_message_of_a_month_is_charged() {
    // shipped viber-legacy: 10,000 free a month; DE promotional 0.0247 (rates/viber-prices.csv)
    let mut log = String::from("timestamp,contact,direction,kind\n");
    for i in 0..10_001 {
        log.push_str(&format!(
            "{},+4915112345678,out,promotional\n",
            1_772_323_200 + i * 60
        ));
    }
    // and the first of April is free again
    log.push_str("2026-04-01T00:00:00Z,+4915112345678,out,promotional\n");
    let v = sim(&["replay", "-", "--model", "viber-legacy", "--format", "json"])
        .stdin(log)
        .json();
    assert_eq!(total(&v, "viber-legacy"), d("0.0247"));
    assert_eq!(count(&v, "viber-legacy", "business_initiated_free"), 10_001);
    assert_eq!(count(&v, "viber-legacy", "business_initiated_charged"), 1);
}

#[test]
fn flat_fee_per_active_month_at_the_accounts_highest_tier() {
    let v = replay_json("viber_fees.csv", &["flat"], &[]);
    assert_eq!(total(&v, "flat"), d("350.1200"));
    assert_eq!(dec(&model(&v, "flat")["fees"]), d("350"));
    assert_eq!(
        dec(&row(&v, "flat", "months", "month", "2026-03")["total"]),
        d("200.0800")
    );
    assert_eq!(
        dec(&row(&v, "flat", "months", "month", "2026-04")["total"]),
        d("150.0400")
    );
    assert_eq!(
        dec(&row(&v, "flat", "accounts", "account", "shopA")["total"]),
        d("250.0800")
    );
    assert_eq!(
        dec(&row(&v, "flat", "accounts", "account", "shopB")["total"]),
        d("100.0400")
    );
    let items = model(&v, "flat")["fee_items"].as_array().unwrap();
    let april = items.iter().find(|f| f["month"] == "2026-04").unwrap();
    assert_eq!(april["account_country"], "UA");
    assert_eq!(april["amount"], "150");
}

#[test]
fn account_country_option_overrides_the_tier() {
    let v = replay_json("viber_fees.csv", &["flat"], &["--account-country", "DE"]);
    assert_eq!(total(&v, "flat"), d("300.1200"));
    let v = replay_json("viber_fees.csv", &["flat"], &["--account-country", "ua"]);
    assert_eq!(total(&v, "flat"), d("450.1200"));
}

#[test]
fn minimum_commitment_binds_for_small_and_not_for_big_spend() {
    let v = replay_json("viber_minimum.csv", &["minimum"], &[]);
    assert_eq!(total(&v, "minimum"), d("250.0000"));
    assert_eq!(dec(&model(&v, "minimum")["fees"]), d("99.9200"));
    assert_eq!(
        dec(&row(&v, "minimum", "accounts", "account", "small")["total"]),
        d("100.0000")
    );
    assert_eq!(
        dec(&row(&v, "minimum", "accounts", "account", "big")["total"]),
        d("150.0000")
    );
}

#[test]
fn eur_150_tier_with_the_shipped_models() {
    let f = fixture("tiers.csv");
    let v = sim(&[
        "replay",
        &f,
        "--model",
        "viber-2024",
        "--model",
        "viber-business",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(total(&v, "viber-2024"), d("550.0494"));
    assert_eq!(count(&v, "viber-2024", "unpriced"), 1);
    assert_eq!(model(&v, "viber-2024")["complete"], false);
    assert_eq!(model(&v, "viber-2024")["unpriced_by_country"]["AE"], 1);
    // viber-business's minimum starts in the second active month: every account here has one
    // month in the log, so each pays its spend only (the fee items still name the tier).
    assert_eq!(total(&v, "viber-business"), d("0.0494"));
    assert_eq!(dec(&model(&v, "viber-business")["fees"]), d("0"));
    let business = model(&v, "viber-business")["fee_items"].as_array().unwrap();
    let mixed = business.iter().find(|f| f["account"] == "mixed").unwrap();
    assert_eq!(
        (dec(&mixed["tier"]), dec(&mixed["amount"])),
        (d("150"), d("0"))
    );
    let items = model(&v, "viber-2024")["fee_items"].as_array().unwrap();
    let tier = |acct: &str| {
        items.iter().find(|f| f["account"] == acct).unwrap()["account_country"].clone()
    };
    assert_eq!(tier("de-only"), Value::Null);
    assert_eq!(tier("uae"), "AE");
    assert_eq!(tier("mixed"), "BG");
    assert_eq!(tier("opaque"), "GR");
}

#[test]
fn session_length_and_default_category_are_model_parameters() {
    let v = replay_json("viber_session.csv", &["short"], &[]);
    assert_eq!(total(&v, "short"), d("0.1400"));
    assert_eq!(count(&v, "short", "sessions_opened"), 4);
    assert_eq!(count(&v, "short", "sessions_charged"), 3);
}

/// `[monthly] minimum_from_month = 2` (tyntec): each account's first active month in the log pays
/// its spend only, later months max(spend, 100). Figures: tests/fixtures/README.md
/// (viber_minimum_from.csv).
#[test]
fn minimum_commitment_from_the_second_active_month_of_each_account() {
    let f = fixture("viber_minimum_from.csv");
    let r = fixture("minimum_from");
    let args = [
        "replay",
        &f,
        "--rates",
        &r,
        "--by",
        "account",
        "--full-precision",
    ];
    let v = sim(&args).arg("--format").arg("json").json();
    assert_eq!(total(&v, "minimum2"), d("300.1200"));
    assert_eq!(dec(&model(&v, "minimum2")["fees"]), d("99.8800"));
    let account = |a| dec(&row(&v, "minimum2", "accounts", "account", a)["total"]);
    // shop: March 0.0800 (below the minimum, not topped up), April max(0.1200, 100).
    assert_eq!(account("shop"), d("100.0800"));
    // big: March 50 (its first month), April 150 > 100.
    assert_eq!(account("big"), d("200.0000"));
    // late: first active in April, the log's last month: spend only.
    assert_eq!(account("late"), d("0.0400"));
    let items = model(&v, "minimum2")["fee_items"].as_array().unwrap();
    let item = |a: &str, m: &str| {
        items
            .iter()
            .find(|i| i["account"] == a && i["month"] == m)
            .unwrap()
    };
    let march = item("shop", "2026-03");
    assert_eq!(dec(&march["amount"]), d("0"));
    assert!(march["note"].as_str().unwrap().contains("active month 2"));
    assert_eq!(dec(&item("shop", "2026-04")["amount"]), d("99.8800"));
    assert!(item("shop", "2026-04").get("note").is_none());
    assert!(item("late", "2026-04")["note"].is_string());

    let table = sim(&args).succeeds();
    assert!(table.contains(
        "fee: shop 2026-03: minimum commitment 100 not applied before the account's active month 2 \
         in the log: pays 0 (spend 0.0800 only)"
    ));
    assert!(table
        .contains("fee: shop 2026-04: minimum commitment 100 against spend 0.1200: pays 99.8800"));

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ledger.csv").display().to_string();
    sim(&args).arg("--ledger").arg(&p).succeeds();
    let ledger = std::fs::read_to_string(&p).unwrap();
    let fee_lines: Vec<&str> = ledger
        .lines()
        .filter(|l| l.contains("minimum_commitment"))
        .collect();
    assert_eq!(fee_lines.len(), 5, "{ledger}");
    let shop_march = fee_lines
        .iter()
        .find(|l| l.contains("2026-03,shop,"))
        .unwrap();
    assert!(shop_march.contains(",fee,0,EUR,"), "{shop_march}");
    assert!(shop_march
        .ends_with("tier 100; spend 0.0800; not applied before active month 2 in the log"));
}
