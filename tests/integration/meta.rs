//! docs/billing-rules.md §4: whatsapp-meta on the shipped rates (figures in tests/fixtures/README.md).

use super::*;

fn meta(fixture_name: &str, extra: &[&str]) -> Value {
    let f = fixture(fixture_name);
    let mut args = vec!["replay", &f, "--model", "whatsapp-meta", "--format", "json"];
    args.extend(extra);
    sim(&args).json()
}

const M: &str = "whatsapp-meta";

#[test]
fn window_renewed_by_each_customer_message_and_metas_hour_26_example() {
    let v = meta("meta_window.csv", &[]);
    assert_eq!(total(&v, M), d("0.0342"));
    assert_eq!(count(&v, M, "business_initiated_charged"), 2);
    assert_eq!(model(&v, M)["currency"], "USD");
}

#[test]
fn parallel_category_conversations_and_a_free_service_conversation() {
    let v = meta("meta_category.csv", &[]);
    assert_eq!(total(&v, M), d("0.2218"));
    assert_eq!(count(&v, M, "sessions_opened"), 3);
    assert_eq!(count(&v, M, "sessions_charged"), 2);
    assert_eq!(count(&v, M, "free_tier"), 1);
}

#[test]
fn as_of_applies_todays_rules_and_rates_to_old_traffic() {
    let v = meta("meta_category.csv", &["--as-of", "2026-10-15"]);
    assert_eq!(total(&v, M), d("0.3280"));
    assert_eq!(count(&v, M, "free_tier"), 2);
    assert_eq!(count(&v, M, "sessions_opened"), 0);
}

#[test]
fn a_conversation_spanning_an_era_boundary_covers_until_it_closes() {
    let v = meta("meta_era_boundary.csv", &[]);
    assert_eq!(total(&v, M), d("0.0625"));
    assert_eq!(count(&v, M, "sessions_opened"), 2);
    assert_eq!(count(&v, M, "sessions_charged"), 1);
    assert_eq!(count(&v, M, "free_tier"), 1);
}

#[test]
fn markets_by_date_poland_and_the_dominican_republic() {
    let v = meta("meta_markets.csv", &[]);
    assert_eq!(total(&v, M), d("0.2332"));
    assert_eq!(count(&v, M, "unpriced"), 0);
    assert_eq!(
        dec(&row(&v, M, "countries", "country", "DO")["total"]),
        d("0.0740")
    );
    assert_eq!(
        dec(&row(&v, M, "countries", "country", "PL")["total"]),
        d("0.1592")
    );
}

#[test]
fn the_1001st_conversation_of_a_month_is_charged() {
    let mut log = String::from("timestamp,contact,direction,kind\n");
    for i in 0..1001 {
        log.push_str(&format!(
            "2022-03-02T{:02}:{:02}:00Z,+1212555{:04},out,utility\n",
            i / 60,
            i % 60,
            i
        ));
    }
    let v = sim(&["replay", "-", "--model", M, "--format", "json"])
        .stdin(log)
        .json();
    assert_eq!(total(&v, M), d("0.0147"));
    assert_eq!(count(&v, M, "free_tier"), 1000);
    assert_eq!(count(&v, M, "sessions_charged"), 1);
}

#[test]
fn ledger_names_conversation_category_market_and_card_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.csv");
    let p = path.display().to_string();
    let f = fixture("meta_category.csv");
    sim(&["replay", &f, "--model", M, "--ledger", &p]).run();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let get =
        |r: &csv::StringRecord, k: &str| r[h.iter().position(|x| x == k).unwrap()].to_string();
    let utility = rows.iter().find(|r| get(r, "line") == "4").unwrap();
    assert_eq!(get(utility, "session"), "2");
    assert_eq!(get(utility, "billed_as"), "conversation");
    assert_eq!(get(utility, "charge"), "conversation");
    assert_eq!(get(utility, "category"), "utility");
    assert_eq!(get(utility, "market"), "Germany");
    assert_eq!(get(utility, "rate_effective_from"), "2023-06-01");
    assert_eq!(get(utility, "amount"), "0.0853");
    let reply = rows.iter().find(|r| get(r, "line") == "6").unwrap();
    assert_eq!(get(reply, "billed_as"), "in_conversation");
    assert_eq!(get(reply, "session"), "2");
}

#[test]
fn prices_from_a_carried_forward_row_are_counted() {
    // Saudi Arabia's utility price on the 2025-07-01 USD card is not known (empty cell): its
    // 2025-04-01 utility 0.0115 is carried forward. Germany's is on the card (0.0550): not carried.
    let log = "timestamp,contact,direction,kind\n2025-08-04T10:00:00Z,+966501234567,out,utility\n2025-08-04T10:00:00Z,+4915112345678,out,utility\n";
    let v = sim(&["replay", "-", "--model", M, "--format", "json"])
        .stdin(log)
        .json();
    assert_eq!(total(&v, M), d("0.0665"));
    assert_eq!(count(&v, M, "carried_forward"), 1);
    assert_eq!(
        row(&v, M, "countries", "country", "SA")["carried_forward"],
        1
    );
}

#[test]
fn explain_shows_window_and_conversation_state() {
    let f = fixture("meta_window.csv");
    let o = sim(&["explain", &f, "--model", M, "--contact", "+43 660 1234567"]).run();
    assert!(o.status.success());
    insta::assert_snapshot!("explain_meta_window", String::from_utf8_lossy(&o.stdout));
}
