//! compare and breakeven on `tests/fixtures/breakeven/` (figures worked in
//! tests/fixtures/README.md, "Break-even"): one account, March 2026, 10 customer-opened DE
//! sessions with one reply each and 20 promotional templates to other DE contacts.

use crate::{d, dec, fixture, sim};
use rust_decimal::Decimal;
use serde_json::Value;

fn rates() -> String {
    fixture("breakeven")
}

fn mix() -> String {
    fixture("breakeven/mix.csv")
}

/// `breakeven mix.csv --rates breakeven --format json EXTRA...`
fn breakeven(extra: &[&str]) -> Value {
    let (m, r) = (mix(), rates());
    let mut args = vec!["breakeven", &m, "--rates", &r, "--format", "json"];
    args.extend(extra);
    sim(&args).json()
}

/// `compare --rates breakeven --date 2026-03-01 --format json`: the cards without a log.
fn cards_json() -> Value {
    let r = rates();
    sim(&[
        "compare",
        "--cards",
        "--rates",
        &r,
        "--date",
        "2026-03-01",
        "--format",
        "json",
    ])
    .json()
}

/// A model's entry in `compare --format json`'s comparison.
fn compared(v: &Value, name: &str) -> Value {
    v["comparison"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == name)
        .unwrap_or_else(|| panic!("no model {name}"))
        .clone()
}

fn pair<'a>(v: &'a Value, a: &str, b: &str) -> &'a Value {
    v["models_breakeven"][0]["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["model_a"] == a && p["model_b"] == b)
        .unwrap_or_else(|| panic!("no pair {a} {b}"))
}

fn crossings(p: &Value) -> Vec<(Decimal, Decimal)> {
    p["crossings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (dec(&c["k"]), dec(&c["messages_per_month"])))
        .collect()
}

fn cheaper(p: &Value) -> Vec<String> {
    p["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cheaper"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn legacy_against_2024_crosses_after_the_allowance_runs_out() {
    // legacy = 0.50k + 0.40 max(0, k - 500) (10,000 free of 20 promotional a month);
    // v2024 = 100 + 0.40k. Without the allowance kink they would cross at k = 1000.
    let v = breakeven(&[]);
    let s = &v["models_breakeven"][0];
    assert_eq!(dec(&s["messages_per_month"]), d("40"));
    let p = pair(&v, "legacy", "v2024");
    assert_eq!(crossings(p), [(d("600"), d("24000"))]);
    assert_eq!(dec(&p["crossings"][0]["sessions_a"]), d("6000"));
    assert_eq!(cheaper(p), ["legacy", "v2024"]);
}

#[test]
fn a_pair_with_no_crossing() {
    // legacy 0.5k (0.9k - 200 past k = 500) never reaches minimum's max(100, 0.9k).
    let v = breakeven(&[]);
    let p = pair(&v, "legacy", "minimum");
    assert!(crossings(p).is_empty());
    assert_eq!(cheaper(p), ["legacy"]);
}

#[test]
fn the_minimum_commitment_kink() {
    // minimum = max(100, 0.9k): flat until k = 111.1. wa = 2.50 USD = 2.00 EUR per k crosses
    // the flat part at k = 50; v2024 = 100 + 0.4k crosses the rising part at k = 200.
    let v = breakeven(&[]);
    let p = pair(&v, "minimum", "wa");
    assert_eq!(crossings(p), [(d("50"), d("2000"))]);
    assert_eq!(cheaper(p), ["wa", "minimum"]);
    let p = pair(&v, "minimum", "v2024");
    assert_eq!(crossings(p), [(d("200"), d("8000"))]);
    assert_eq!(cheaper(p), ["minimum", "v2024"]);
    // v2024 against wa: 100 + 0.4k = 2k at k = 62.5.
    assert_eq!(crossings(pair(&v, "v2024", "wa")), [(d("62.5"), d("2500"))]);
}

#[test]
fn shipped_viber_legacy_against_viber_2024() {
    // Shipped DE prices: session 0.0230, message 0.0247 (undated SMSBAT row).
    // legacy = 10 x 0.0230 k + 20 x 0.0247 max(0, k - 500) = 0.23k + 0.494 max(0, k - 500);
    // viber-2024 = 100 + 0.494k. Equal where 0.23k - 247 = 100: k = 347 / 0.23.
    let m = mix();
    let v = sim(&[
        "breakeven",
        &m,
        "--model",
        "viber-legacy",
        "--model",
        "viber-2024",
        "--format",
        "json",
    ])
    .json();
    let p = &v["models_breakeven"][0]["pairs"][0];
    assert_eq!(p["model_a"], "viber-legacy");
    let c = crossings(p);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, d("347") / d("0.23"));
    assert_eq!(c[0].1.round_dp(2), d("60347.83"));
    assert_eq!(cheaper(p), ["viber-legacy", "viber-2024"]);
}

#[test]
fn compare_converts_usd_at_the_latest_rate_and_names_it() {
    let (m, r) = (mix(), rates());
    let v = sim(&["compare", &m, "--rates", &r, "--format", "json"]).json();
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["fx"][0]["rate"], "1.2500");
    assert_eq!(v["fx"][0]["date"], "2026-01-02");
    let c = &v["comparison"];
    let total = |name: &str| {
        let m = compared(&v, name);
        (dec(&m["total"]), dec(&m["difference_from_cheapest"]))
    };
    // 10 x 0.125 + 20 x 0.0625 = 2.50 USD = 2.00 EUR.
    assert_eq!(total("wa"), (d("2"), d("1.5")));
    assert_eq!(total("legacy"), (d("0.5"), d("0")));
    assert_eq!(total("minimum"), (d("100"), d("99.5")));
    assert_eq!(total("v2024"), (d("100.4"), d("99.9")));
    assert_eq!(c["cheapest"], "legacy");
    // DE carries all traffic and every fee: the country rows add up to the totals.
    assert_eq!(
        dec(&c["countries"][0]["costs"]["v2024"]["cost"]),
        d("100.4")
    );
    // An earlier --fx-date picks the earlier rate: 2.50 / 1.10.
    let v = sim(&[
        "compare",
        &m,
        "--rates",
        &r,
        "--format",
        "json",
        "--fx-date",
        "2025-06-30",
    ])
    .json();
    assert_eq!(v["fx"][0]["rate"], "1.1000");
    assert_eq!(dec(&compared(&v, "wa")["total"]), d("2.5") / d("1.1"));
}

#[test]
fn compare_in_usd_and_missing_rates() {
    let (m, r) = (mix(), rates());
    let v = sim(&[
        "compare",
        &m,
        "--rates",
        &r,
        "--format",
        "json",
        "--currency",
        "usd",
    ])
    .json();
    assert_eq!(dec(&compared(&v, "legacy")["total"]), d("0.625"));
    sim(&["compare", &m, "--rates", &r, "--currency", "JPY"])
        .fails(2, "no exchange rate from EUR to JPY");
    sim(&["breakeven", "--cards", "--rates", &r, "--plot", "x.svg"]).fails(2, "--plot needs a LOG");
}

#[test]
fn channel_flags_select_models() {
    let m = mix();
    let v = sim(&["compare", &m, "--whatsapp", "--format", "json"]).json();
    let names: Vec<&str> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["whatsapp-meta", "whatsapp-session"]);
    let v = sim(&[
        "compare",
        &m,
        "--viber",
        "--model",
        "whatsapp-meta",
        "--format",
        "json",
    ])
    .json();
    let names: Vec<&str> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "viber-2024",
            "viber-business",
            "viber-legacy",
            "whatsapp-meta"
        ]
    );
}

#[test]
fn session_against_per_message_on_a_two_country_card() {
    // DE: session 0.05, message 0.01: equal at 5, cheaper from 6; savings 0, 0.05, 0.10.
    // FR: session 0.03, message 0.02: cheaper from 2; savings 0.07, 0.17, 0.27.
    let v = cards_json();
    let rows = v["session_vs_message"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "legacy and minimum share one card");
    assert_eq!(rows[0]["models"], serde_json::json!(["legacy", "minimum"]));
    let savings = |r: &Value| -> Vec<Decimal> {
        r["savings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| dec(&s["saving"]))
            .collect()
    };
    assert_eq!(rows[0]["country"], "DE");
    assert_eq!(rows[0]["session_cheaper_from"], 6);
    assert_eq!(savings(&rows[0]), [d("0"), d("0.05"), d("0.10")]);
    assert_eq!(rows[1]["country"], "FR");
    assert_eq!(rows[1]["session_cheaper_from"], 2);
    assert_eq!(savings(&rows[1]), [d("0.07"), d("0.17"), d("0.27")]);
    assert_eq!(rows[1]["savings"][2]["percent"], "90");
}

#[test]
fn cards_compared_without_a_log() {
    // 8 replies in one customer-opened session: legacy pays one session (0.05), v2024 nothing,
    // wa one user-initiated conversation 0.125 USD = 0.10 EUR. One template: 0.02 / 0.0625 USD.
    let v = cards_json();
    let de = &v["countries"][0]["models"];
    assert_eq!(dec(&de["legacy"]["support_conversation"]), d("0.05"));
    assert_eq!(dec(&de["v2024"]["support_conversation"]), d("0"));
    assert_eq!(dec(&de["wa"]["support_conversation"]), d("0.1"));
    assert_eq!(dec(&de["wa"]["business_initiated"]), d("0.05"));
    assert_eq!(dec(&de["legacy"]["business_initiated"]), d("0.02"));
    // FR has no row on the wa card and no `*`: unpriced, not zero.
    assert!(v["countries"][1]["models"]["wa"]["support_conversation"].is_null());
}

#[test]
fn the_plot_has_one_line_per_model_and_marks_each_crossing() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("b.svg");
    let (m, r) = (mix(), rates());
    sim(&[
        "breakeven",
        &m,
        "--rates",
        &r,
        "--plot",
        svg.to_str().unwrap(),
    ])
    .succeeds();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("valid XML");
    // The model lines and their legend swatches are the only coloured polylines (axes and grid
    // are black): two per model, one colour each.
    let lines: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke").is_some_and(|s| s != "#000000"))
        .collect();
    assert_eq!(lines.len(), 8);
    let mut colours: Vec<&str> = lines
        .iter()
        .map(|n| n.attribute("stroke").unwrap())
        .collect();
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), 4);
    // Four crossings (legacy/v2024, minimum/v2024, minimum/wa, v2024/wa) plus the legend's one.
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 5);
    for name in ["legacy", "minimum", "v2024", "wa"] {
        assert!(
            doc.descendants()
                .any(|n| n.text().map(str::trim) == Some(name)),
            "legend lacks {name}"
        );
    }
}

/// The tables and CSV are an interface: their shape is pinned by snapshots (the figures in
/// them are the hand-worked ones asserted above).
#[test]
fn compare_and_breakeven_output_snapshots() {
    let (m, r) = (mix(), rates());
    let clean = |s: String| s.replace(&m, "mix.csv");
    insta::assert_snapshot!(
        "compare_table",
        clean(sim(&["compare", &m, "--rates", &r]).succeeds())
    );
    insta::assert_snapshot!(
        "compare_csv",
        clean(sim(&["compare", &m, "--rates", &r, "--format", "csv"]).succeeds())
    );
    insta::assert_snapshot!(
        "breakeven_table",
        clean(sim(&["breakeven", &m, "--rates", &r]).succeeds())
    );
    insta::assert_snapshot!(
        "breakeven_csv",
        clean(sim(&["breakeven", &m, "--rates", &r, "--format", "csv"]).succeeds())
    );
    insta::assert_snapshot!(
        "cards_table",
        sim(&["compare", "--cards", "--rates", &r, "--date", "2026-03-01"]).succeeds()
    );
}
