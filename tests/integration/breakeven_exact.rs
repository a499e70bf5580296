//! Break-even as RULES.md §6 defines it: the log with every contact copied k times, billed as
//! replay bills it. Rates in `tests/fixtures/breakeven_exact/`; logs built here; figures worked
//! in tests/fixtures/README.md, "Exact break-even".

use crate::{d, dec, fixture, sim, total};
use rust_decimal::Decimal;
use serde_json::Value;
use std::fmt::Write;

pub(crate) fn rates() -> String {
    fixture("breakeven_exact")
}

/// A log message: (timestamp, account, contact, direction, kind); every contact in DE
/// unless its name starts with `fr`.
pub(crate) type Row = (String, &'static str, String, &'static str, &'static str);

/// The log as CSV with every contact copied `k` times (copy i of contact c is `c~i`).
pub(crate) fn scaled(rows: &[Row], k: u64) -> String {
    let mut out = String::from("timestamp,account,contact,country,direction,kind\n");
    for (at, account, contact, dir, kind) in rows {
        let country = if contact.starts_with("fr") {
            "FR"
        } else {
            "DE"
        };
        for i in 0..k {
            writeln!(out, "{at},{account},{contact}~{i},{country},{dir},{kind}").unwrap();
        }
    }
    out
}

/// `n` messages of `kind` to contacts `prefix1..` from `start`, `step` minutes apart.
fn templates(n: usize, prefix: &str, start: &str, step: i64, kind: &'static str) -> Vec<Row> {
    let t0: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    (0..n)
        .map(|i| {
            let at = t0 + chrono::Duration::minutes(step * i as i64);
            let at = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            (at, "A", format!("{prefix}{i}"), "out", kind)
        })
        .collect()
}

/// The allowance log of the issue (account `account`): 2 sessions of 1 customer message and
/// 4 replies on 2 March, then 30 transactional templates on 3 March, then 20 promotional ones
/// on 4 March: 60 messages.
pub(crate) fn allowance_log(account: &'static str) -> Vec<Row> {
    let mut rows = Vec::new();
    for s in 0..2 {
        let c = format!("s{s}");
        rows.push((
            format!("2026-03-02T09:0{s}:00Z"),
            account,
            c.clone(),
            "in",
            "",
        ));
        for r in 0..4 {
            let at = format!("2026-03-02T1{s}:0{r}:00Z");
            rows.push((at, account, c.clone(), "out", ""));
        }
    }
    let t = templates(30, "t", "2026-03-03T10:00:00Z", 1, "transactional");
    let p = templates(20, "p", "2026-03-04T10:00:00Z", 1, "promotional");
    rows.extend(
        t.into_iter()
            .chain(p)
            .map(|r| (r.0, account, r.2, r.3, r.4)),
    );
    rows
}

fn with_models(args: &[&str], models: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    for m in models {
        v.extend(["--model".to_string(), m.to_string()]);
    }
    v
}

fn breakeven(rows: &[Row], models: &[&str]) -> Value {
    let r = rates();
    let args = with_models(
        &["breakeven", "-", "--rates", &r, "--format", "json"],
        models,
    );
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    sim(&args).stdin(scaled(rows, 1)).json()
}

/// Replay's total per model of the log scaled `k` times.
fn replay(rows: &[Row], k: u64, models: &[&str]) -> Vec<Decimal> {
    let r = rates();
    let args = with_models(&["replay", "-", "--rates", &r, "--format", "json"], models);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let v = sim(&args).stdin(scaled(rows, k)).json();
    models.iter().map(|m| total(&v, m)).collect()
}

fn scope<'a>(v: &'a Value, account: &str) -> &'a Value {
    (v["models_breakeven"].as_array().unwrap().iter())
        .find(|s| s["account"] == account)
        .unwrap_or_else(|| panic!("no scope {account}"))
}

fn pair<'a>(s: &'a Value, a: &str, b: &str) -> &'a Value {
    (s["pairs"].as_array().unwrap().iter())
        .find(|p| p["model_a"] == a && p["model_b"] == b)
        .unwrap_or_else(|| panic!("no pair {a} {b}"))
}

fn cheaper(p: &Value) -> Vec<&str> {
    (p["regions"].as_array().unwrap().iter())
        .map(|r| r["cheaper"].as_str().unwrap())
        .collect()
}

/// Replays the log scaled to a whole k just inside every region of `scope` (the largest whole
/// k below its end, or one past its start for the last; regions of fractions of the log or
/// needing more than `max_rows` rows are skipped) and checks that the model named cheaper is
/// not dearer there; returns the k replayed.
fn replay_agrees(rows: &[Row], scope: &Value, max_rows: u64) -> Vec<u64> {
    let mut checked = Vec::new();
    for p in scope["pairs"].as_array().unwrap() {
        let (a, b) = (
            p["model_a"].as_str().unwrap(),
            p["model_b"].as_str().unwrap(),
        );
        for r in p["regions"].as_array().unwrap() {
            let from = dec(&r["from_k"]);
            let k = match r["to_k"].as_str() {
                Some(to) => {
                    let to: Decimal = to.parse().unwrap();
                    (to - Decimal::ONE).ceil().max(Decimal::ZERO)
                }
                None => from.floor() + Decimal::ONE,
            };
            let k: u64 = k.try_into().unwrap();
            if k == 0 || Decimal::from(k) <= from || k * rows.len() as u64 > max_rows {
                continue;
            }
            let cost = replay(rows, k, &[a, b]);
            match r["cheaper"].as_str().unwrap() {
                "equal" => assert_eq!(cost[0], cost[1], "{a} {b} at k = {k}"),
                c if c == a => assert!(cost[0] <= cost[1], "{a} dearer at k = {k}: {cost:?}"),
                _ => assert!(cost[1] <= cost[0], "{b} dearer at k = {k}: {cost:?}"),
            }
            checked.push(k);
        }
    }
    checked
}

#[test]
fn the_allowance_goes_to_the_months_first_messages_in_time_order() {
    // legacy = 0.05 x 2 k + the allowance's 10,000 free from the 30 k transactional (0.01),
    // then the 20 k promotional (0.02): for k >= 333.3 legacy = 0.1k + 0.7k - 100;
    // v2024 = 100 + 0.7k. Equal at k = 2000: 120,000 messages a month (the averaged allowance
    // said k = 2400, 144,000).
    let rows = allowance_log("A");
    let v = breakeven(&rows, &["legacy", "v2024"]);
    let s = scope(&v, "A");
    assert_eq!(s["months"], "1");
    assert_eq!(dec(&s["messages_per_month"]), d("60"));
    assert_eq!(dec(&s["business_messages_per_month"]), d("58"));
    let p = pair(s, "legacy", "v2024");
    let c = &p["crossings"][0];
    assert_eq!(p["crossings"].as_array().unwrap().len(), 1);
    assert_eq!(dec(&c["k"]), d("2000"));
    assert_eq!(dec(&c["messages_per_month"]), d("120000"));
    assert_eq!(dec(&c["business_messages_per_month"]), d("116000"));
    assert_eq!(dec(&c["sessions_a"]), d("4000"));
    // 0.1 x 2000 + 0.01 x 50,000 + 0.02 x 40,000 = 1500 = 100 + 0.7 x 2000.
    assert_eq!(dec(&c["cost"]), d("1500"));
    assert_eq!(cheaper(p), ["legacy", "v2024"]);
    // At k = 1999: legacy 199.90 + 499.70 + 799.60 = 1499.20 < v2024 1499.30;
    // at k = 2001: legacy 1500.80 > v2024 1500.70.
    assert_eq!(
        replay(&rows, 1999, &["legacy", "v2024"]),
        [d("1499.2"), d("1499.3")]
    );
    assert_eq!(
        replay(&rows, 2001, &["legacy", "v2024"]),
        [d("1500.8"), d("1500.7")]
    );
    assert_eq!(replay_agrees(&rows, s, 200_000), [1999, 2001]);
}

/// 2,500 promotional templates (0.02) in January, 7,500 in March (the last on 31 March).
fn minimum_log() -> Vec<Row> {
    let mut rows = templates(2500, "j", "2026-01-01T00:00:00Z", 17, "promotional");
    rows.extend(templates(
        7499,
        "m",
        "2026-03-01T00:00:00Z",
        5,
        "promotional",
    ));
    rows.push((
        "2026-03-31T12:00:00Z".into(),
        "A",
        "last".into(),
        "out",
        "promotional",
    ));
    rows
}

#[test]
fn a_minimum_commitment_binds_month_by_month() {
    // January spends 50, March 150; minimum 100 a month: max(50k, 100) + max(150k, 100)
    // against permsg's 200k. At k = 1: 250 against 200 (the averaged month said "equal").
    // permsg is cheaper below k = 2 (100 + 150k = 200k), equal from there on.
    let rows = minimum_log();
    let v = breakeven(&rows, &["minimum", "permsg"]);
    let s = scope(&v, "A");
    assert_eq!(s["months"], "3");
    assert_eq!(dec(&s["cost"]["minimum"]), d("250"));
    assert_eq!(dec(&s["cost"]["permsg"]), d("200"));
    let p = pair(s, "minimum", "permsg");
    assert_eq!(cheaper(p), ["permsg", "equal"]);
    let c = &p["crossings"][0];
    assert_eq!(dec(&c["k"]), d("2"));
    // 10,000 messages over 3 months, twice.
    assert_eq!(dec(&c["messages_per_month"]), d("20000") / d("3"));
    assert_eq!(dec(&c["cost"]), d("400"));
    assert_eq!(
        replay(&rows, 1, &["minimum", "permsg"]),
        [d("250"), d("200")]
    );
    assert_eq!(replay_agrees(&rows, s, 40_000), [1, 3]);
}

#[test]
fn a_22_day_log_over_a_month_end_is_billed_per_calendar_month() {
    // 800 promotional templates from 20 January, 800 from 1 February: each calendar month
    // within its own 10,000 allowance, so legacy costs 0 (one averaged month of 1,600 would
    // not); v2024 two fees: 200 + 1,600 x 0.02 = 232. The log spans 12/31 + 10/28 of a month:
    // counted as one month of traffic.
    let mut rows = templates(800, "j", "2026-01-20T00:00:00Z", 20, "promotional");
    rows.extend(templates(
        800,
        "f",
        "2026-02-01T00:00:00Z",
        17,
        "promotional",
    ));
    let v = breakeven(&rows, &["legacy", "v2024"]);
    let s = scope(&v, "A");
    assert_eq!(s["months"], "1");
    assert_eq!(dec(&s["messages_per_month"]), d("1600"));
    assert_eq!(dec(&s["cost"]["legacy"]), d("0"));
    assert_eq!(dec(&s["cost"]["v2024"]), d("232"));
    assert_eq!(replay(&rows, 1, &["legacy", "v2024"]), [d("0"), d("232")]);
    // legacy = 2 x 0.02 max(0, 800k - 10000) < 200 + 32k at every volume.
    assert_eq!(cheaper(pair(s, "legacy", "v2024")), ["legacy"]);
}

#[test]
fn all_accounts_is_the_sum_of_the_accounts_functions() {
    // A: the allowance log (legacy - v2024 = 0.1k - 200 past k = 333.3); B: one promotional
    // template (legacy 0 until k = 10,000, v2024 100 + 0.02k). Together:
    // 0.08k - 300 = 0 at k = 3750, 61 x 3750 = 228,750 messages a month.
    let mut rows = allowance_log("A");
    rows.push((
        "2026-03-05T10:00:00Z".into(),
        "B",
        "b".into(),
        "out",
        "promotional",
    ));
    let v = breakeven(&rows, &["legacy", "v2024"]);
    let all = scope(&v, "all accounts");
    let p = pair(all, "legacy", "v2024");
    assert_eq!(dec(&p["crossings"][0]["k"]), d("3750"));
    assert_eq!(dec(&p["crossings"][0]["messages_per_month"]), d("228750"));
    assert_eq!(
        dec(&pair(scope(&v, "A"), "legacy", "v2024")["crossings"][0]["k"]),
        d("2000")
    );
    assert_eq!(cheaper(pair(scope(&v, "B"), "legacy", "v2024")), ["legacy"]);
    // k = 1: legacy 0.10 (sessions), v2024 100.70 + 100.02.
    assert_eq!(dec(&all["cost"]["v2024"]), d("200.72"));
    assert_eq!(
        replay(&rows, 1, &["legacy", "v2024"]),
        [d("0.1"), d("200.72")]
    );
    assert_eq!(replay_agrees(&rows, all, 300_000), [3749, 3751]);
}

#[test]
fn unpriced_messages_mark_the_model_incomplete_everywhere() {
    // wa's card has no FR row: the FR session is unpriced on wa, priced on legacy.
    let mut rows = allowance_log("A");
    rows.push(("2026-03-06T10:00:00Z".into(), "A", "fr1".into(), "in", ""));
    rows.push(("2026-03-06T10:01:00Z".into(), "A", "fr1".into(), "out", ""));
    let v = breakeven(&rows, &["legacy", "wa"]);
    let s = scope(&v, "A");
    assert_eq!(
        (
            s["complete"]["legacy"].as_bool(),
            s["complete"]["wa"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(s["unpriced"]["wa"], 1);
    let p = pair(s, "legacy", "wa");
    assert_eq!(
        (p["complete_a"].as_bool(), p["complete_b"].as_bool()),
        (Some(true), Some(false))
    );
    let r = rates();
    let csv = sim(&[
        "breakeven",
        "-",
        "--rates",
        &r,
        "--model",
        "legacy",
        "--model",
        "wa",
        "--format",
        "csv",
    ])
    .stdin(scaled(&rows, 1))
    .succeeds();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        (row[col("complete_a")], row[col("complete_b")]),
        ("true", "false")
    );
}

#[test]
fn compare_without_a_log_reads_standard_input_and_cards_is_the_card_comparison() {
    // The allowance log piped in: legacy 0.10 (templates in the allowance), v2024 100.70.
    let r = rates();
    let v = sim(&[
        "compare", "--rates", &r, "--model", "legacy", "--model", "v2024", "--format", "json",
    ])
    .stdin(scaled(&allowance_log("A"), 1))
    .json();
    let totals: Vec<&str> = (v["comparison"]["models"].as_array().unwrap().iter())
        .map(|m| m["total"].as_str().unwrap())
        .collect();
    assert_eq!(totals, ["0.1000", "100.7000"]);
    let cards = sim(&["compare", "--cards", "--rates", &r, "--date", "2026-03-01"]).succeeds();
    assert!(cards.contains("Card prices on 2026-03-01"), "{cards}");
    let log = fixture("breakeven/mix.csv");
    sim(&["compare", "--cards", &log, "--rates", &r]).fails(2, "--cards compares the rate cards");
}

#[test]
fn the_default_fx_rate_is_the_latest_on_or_before_the_logs_last_day() {
    // fx.csv has 1.2500 (2026-01-02) and 2.0000 (2026-12-01, after the March log).
    let r = rates();
    let v = sim(&[
        "compare", "-", "--rates", &r, "--model", "wa", "--format", "json",
    ])
    .stdin(scaled(&allowance_log("A"), 1))
    .json();
    assert_eq!(v["fx"][0]["date"], "2026-01-02");
    assert_eq!(v["fx"][0]["rate"], "1.2500");
}

/// `COMMAND - --rates breakeven_exact --model M...` (table) on the log.
fn table(command: &str, rows: &[Row], models: &[&str]) -> String {
    let r = rates();
    let args = with_models(&[command, "-", "--rates", &r], models);
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    sim(&args).stdin(scaled(rows, 1)).succeeds()
}

#[test]
fn break_evens_read_as_words_with_whole_messages() {
    let out = table("breakeven", &allowance_log("A"), &["legacy", "v2024"]);
    // The crossing of the first test: k = 2000, 2 x 2000 legacy sessions.
    assert!(
        out.contains(
            "legacy is cheaper below 120,000 messages a month (about 4,000 sessions); v2024 above"
        ),
        "{out}"
    );
    // The log's own volume and cost: legacy 2 sessions x 0.05; v2024 100 + 0.30 + 0.40.
    assert!(
        out.contains(
            "A: now (k = 1) 60 messages a month over 1 month(s), sessions legacy 2, v2024 2; \
             the log costs legacy 0.10, v2024 100.70"
        ),
        "{out}"
    );
    assert!(out.contains("k = 1: the log as it is"), "{out}");
    assert!(!out.contains(" < "), "{out}");
}

#[test]
fn an_incomplete_model_below_the_cheapest_has_a_minus_sign() {
    // minimum: max(100, 0.10 + 0.30 + 0.40 + FR 0.03) = 100; wa (FR unpriced): DE 2 x 0.125 +
    // 50 x 0.0625 = 3.375 USD = 2.70 EUR, 97.30 below the cheapest complete model.
    let mut rows = allowance_log("A");
    rows.push(("2026-03-06T10:00:00Z".into(), "A", "fr1".into(), "in", ""));
    rows.push(("2026-03-06T10:01:00Z".into(), "A", "fr1".into(), "out", ""));
    let out = table("compare", &rows, &["minimum", "wa"]);
    assert!(out.contains("-97.30"), "{out}");
    assert!(!out.contains("+-"), "{out}");
    // The break-even table names the incomplete model.
    let out = table("breakeven", &rows, &["minimum", "wa"]);
    assert!(out.contains("minimum vs wa (incomplete)"), "{out}");
}

#[test]
fn equal_pairs_are_not_counted_as_one_model_cheaper() {
    // Sessions only: legacy and permsg both 0.05 a session at every volume.
    let rows: Vec<Row> = allowance_log("A").into_iter().take(10).collect();
    let out = table("compare", &rows, &["legacy", "permsg"]);
    assert!(
        out.contains("1 pair(s): the same cost at every volume"),
        "{out}"
    );
    assert!(!out.contains("one model is cheaper"), "{out}");
}

#[test]
fn card_percentages_and_legend() {
    // FR: 15 messages at 0.02 = 0.30 against one session 0.03: 0.27 saved, 90%.
    let r = fixture("breakeven");
    let out = sim(&["compare", "--cards", "--rates", &r, "--date", "2026-03-01"]).succeeds();
    assert!(out.contains("0.2700 (90%)"), "{out}");
    assert!(!out.contains(".0%"), "{out}");
    assert!(out.contains("* the cheapest model of the row"), "{out}");
}
