//! `reconcile` (docs/billing-rules.md §7): a log held against bills that differ from it in
//! known ways. Figures worked by hand in tests/fixtures/reconcile/README.md.

use super::*;

fn rf(name: &str) -> String {
    fixture(&format!("reconcile/{name}"))
}

/// `reconcile log.csv --bill BILL --format json EXTRA...`, whatever its exit code.
fn reconcile(bill: &str, extra: &[&str]) -> (Value, Option<i32>) {
    let (log, bill) = (rf("log.csv"), rf(bill));
    let mut args = vec!["reconcile", &log, "--bill", &bill, "--format", "json"];
    args.extend(extra);
    let out = sim(&args).run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no JSON: {stderr}"));
    (v, out.status.code())
}

/// The cause of `kind` in `country` and `category`: (count, amount, markup).
fn cause(v: &Value, kind: &str, country: &str, category: &str) -> (u64, Decimal, Option<Decimal>) {
    let c = (v["causes"].as_array().unwrap().iter())
        .find(|c| c["cause"] == kind && c["country"] == country && c["category"] == category)
        .unwrap_or_else(|| panic!("no {kind} {country} {category} in {}", v["causes"]));
    let markup = c["markup_percent"].as_str().map(d);
    (c["count"].as_u64().unwrap(), dec(&c["amount"]), markup)
}

fn summary(v: &Value, field: &str) -> Decimal {
    dec(&v["summary"][field])
}

#[test]
fn an_invoice_with_a_markup_a_misclassified_template_and_missing_messages() {
    let (v, code) = reconcile("invoice.csv", &["--model", "whatsapp-meta"]);
    assert_eq!(code, Some(6), "beyond the default tolerance of 0");
    assert_eq!(summary(&v, "billed"), d("0.4983"));
    assert_eq!(summary(&v, "replayed"), d("0.2726"));
    assert_eq!(summary(&v, "difference"), d("0.2257"));
    assert_eq!(summary(&v, "explained"), d("0.2257"));
    assert_eq!(v["summary"]["share_explained_percent"], "100");
    let ten = Some(d("10"));
    assert_eq!(
        cause(&v, "unit_price", "BR", "marketing"),
        (1, d("0.00625"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "DE", "marketing"),
        (1, d("0.01365"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "DE", "utility"),
        (1, d("0.0055"), ten)
    );
    assert_eq!(
        cause(&v, "category_disagreement", "BR", "marketing"),
        (1, d("0.06195"), None)
    );
    assert_eq!(
        cause(&v, "billed_not_in_log", "DE", "marketing"),
        (1, d("0.15015"), None)
    );
    assert_eq!(
        cause(&v, "in_log_not_billed", "IN", "marketing"),
        (1, d("-0.0118"), None)
    );
    assert_eq!(v["causes"].as_array().unwrap().len(), 6);
}

#[test]
fn the_tolerance_decides_the_exit_code() {
    let m = ["--model", "whatsapp-meta", "--tolerance"];
    let run = |t: &str| reconcile("invoice.csv", &[&m[..], &[t]].concat()).1;
    // |0.4983 - 0.2726| = 0.2257; as a share of the bill 45.29...%.
    assert_eq!(run("0.2257"), Some(0));
    assert_eq!(run("0.2256"), Some(6));
    assert_eq!(run("46%"), Some(0));
    assert_eq!(run("45%"), Some(6));
    let (log, bill) = (rf("log.csv"), rf("invoice.csv"));
    sim(&[
        "reconcile",
        &log,
        "--bill",
        &bill,
        "--model",
        "whatsapp-meta",
    ])
    .fails(6, "the bill differs from the replay by 0.22570 USD");
}

#[test]
fn the_model_is_asked_for_when_the_bill_does_not_tell() {
    let (log, bill) = (rf("log.csv"), rf("invoice.csv"));
    sim(&["reconcile", &log, "--bill", &bill]).fails(2, "--model NAME is needed");
    sim(&["reconcile", &log, "--bill", &bill, "--model", "viber-2024"])
        .fails(2, "the bill is in USD, the model viber-2024 in EUR");
}

/// A bill made from simcost's own ledger: the charged rows summed per month, country and
/// category (fees under `fee`), in the invoice format.
fn invoice_from_ledger(ledger: &str) -> String {
    let mut cells: std::collections::BTreeMap<(String, String, String), (u64, Decimal, String)> =
        Default::default();
    let mut rdr = csv::Reader::from_reader(ledger.as_bytes());
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (month, country, charge, amount, currency) =
            (&rec[1], &rec[4], &rec[9], &rec[10], &rec[11]);
        let category = match charge {
            "fee" | "session" => charge,
            _ => &rec[8],
        };
        let amount: Decimal = amount.parse().unwrap_or_default();
        if amount.is_zero() {
            continue;
        }
        let c = cells
            .entry((month.into(), country.into(), category.into()))
            .or_insert((0, Decimal::ZERO, currency.into()));
        c.0 += 1;
        c.1 += amount;
    }
    let mut out = String::from("month,country,category,quantity,amount,currency\n");
    for ((m, c, k), (n, a, cur)) in cells {
        out.push_str(&format!("{m},{c},{k},{n},{a},{cur}\n"));
    }
    out
}

fn own_ledger_reconciles(log: &str, model: &str, rates: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.csv");
    let mut args = vec![
        "replay",
        log,
        "--model",
        model,
        "--ledger",
        ledger.to_str().unwrap(),
    ];
    args.extend(rates.map(|r| ["--rates", r]).into_iter().flatten());
    sim(&args).succeeds();
    let bill = dir.path().join("bill.csv");
    std::fs::write(
        &bill,
        invoice_from_ledger(&std::fs::read_to_string(&ledger).unwrap()),
    )
    .unwrap();
    let mut args = vec![
        "reconcile",
        log,
        "--bill",
        bill.to_str().unwrap(),
        "--model",
        model,
    ];
    args.extend(rates.map(|r| ["--rates", r]).into_iter().flatten());
    args.extend(["--format", "json"]);
    let v = sim(&args).json();
    assert_eq!(summary(&v, "difference"), Decimal::ZERO, "{model}: {v}");
    assert_eq!(v["causes"], serde_json::json!([]), "{model}");
    assert!(summary(&v, "billed") > Decimal::ZERO, "{model}");
}

#[test]
fn a_bill_made_from_simcosts_own_ledger_reconciles_to_zero() {
    own_ledger_reconciles(&rf("log.csv"), "whatsapp-meta", None);
    // Viber: per-message charges, sessions and minimum commitments (fee rows).
    own_ledger_reconciles(
        &fixture("viber_minimum.csv"),
        "minimum",
        Some(&test_rates()),
    );
    own_ledger_reconciles(&fixture("viber_fees.csv"), "flat", Some(&test_rates()));
}

/// The three causes of Meta's two bills of the same traffic (pricing analytics and webhook):
/// BR marketing billed where the log says utility, a DE message missing from the log, an IN
/// message free on the bill only.
fn meta_bill_causes(v: &serde_json::Value) {
    assert_eq!(
        cause(v, "category_disagreement", "BR", "marketing"),
        (1, d("0.0557"), None)
    );
    assert_eq!(
        cause(v, "billed_not_in_log", "DE", "marketing"),
        (1, d("0.1365"), None)
    );
    assert_eq!(
        cause(v, "free_on_bill_only", "IN", "marketing"),
        (1, d("-0.0118"), None)
    );
    assert_eq!(v["causes"].as_array().unwrap().len(), 3);
}

#[test]
fn metas_pricing_analytics_with_a_free_entry_point_and_a_missing_message() {
    // Detected from its shape; the model defaults to whatsapp-meta for Meta's bills.
    let (v, code) = reconcile("pricing_analytics.json", &[]);
    assert_eq!(code, Some(6));
    assert_eq!(v["bill"]["format"], "meta-pricing-analytics");
    assert_eq!(v["model"], "whatsapp-meta");
    assert_eq!(summary(&v, "billed"), d("0.453"));
    assert_eq!(summary(&v, "replayed"), d("0.2726"));
    assert_eq!(summary(&v, "difference"), d("0.1804"));
    assert_eq!(summary(&v, "explained"), d("0.1804"));
    meta_bill_causes(&v);
}

#[test]
fn metas_webhook_message_by_message_with_details() {
    let dir = tempfile::tempdir().unwrap();
    let details = dir.path().join("details.csv");
    let (v, code) = reconcile("webhook.jsonl", &["--details", details.to_str().unwrap()]);
    assert_eq!(code, Some(6));
    assert_eq!(v["bill"]["format"], "meta-webhook");
    // Priced at the card for Meta's categories: BR 2 x 0.0625, DE 2 x 0.1365 + 0.0550.
    assert_eq!(summary(&v, "billed"), d("0.453"));
    assert_eq!(summary(&v, "replayed"), d("0.2726"));
    assert_eq!(summary(&v, "explained"), d("0.1804"));
    meta_bill_causes(&v);
    assert_eq!(v["messages_differing"], 3);
    let text = std::fs::read_to_string(&details).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    let got: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (&r[2], &r[5], &r[6], &r[7])).collect();
    assert_eq!(
        got,
        [
            ("wamid.BR2", "category_disagreement", "utility", "marketing"),
            ("wamid.IN1", "free_on_bill_only", "marketing", "marketing"),
            ("wamid.DE3", "billed_not_in_log", "", "marketing"),
        ]
    );
    // simcost's reason is the billed line's; the bill's is its pricing type.
    assert_eq!(
        &rows[1][11],
        "template: charged per message by its category"
    );
    assert_eq!(&rows[1][12], "free_entry_point");
    assert_eq!((&rows[1][3], &rows[1][10]), ("9", "-0.0118"));
}

#[test]
fn a_twilio_export_with_a_ten_percent_markup_per_country_and_category() {
    let (v, code) = reconcile("twilio.csv", &["--model", "whatsapp-meta"]);
    assert_eq!(code, Some(6));
    assert_eq!(v["bill"]["format"], "twilio");
    assert_eq!(summary(&v, "billed"), d("0.46501"));
    assert_eq!(summary(&v, "replayed"), d("0.2726"));
    assert_eq!(summary(&v, "difference"), d("0.19241"));
    assert_eq!(summary(&v, "explained"), d("0.19241"));
    let ten = Some(d("10"));
    assert_eq!(
        cause(&v, "unit_price", "BR", "marketing"),
        (1, d("0.00625"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "BR", "utility"),
        (1, d("0.00068"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "DE", "marketing"),
        (1, d("0.01365"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "DE", "utility"),
        (1, d("0.0055"), ten)
    );
    assert_eq!(
        cause(&v, "unit_price", "IN", "marketing"),
        (1, d("0.00118"), ten)
    );
    assert_eq!(
        cause(&v, "billed_not_in_log", "DE", "unknown"),
        (1, d("0.15015"), None)
    );
    assert_eq!(
        cause(&v, "free_in_replay_only", "BR", "service"),
        (1, d("0.005"), None)
    );
    assert_eq!(
        cause(&v, "inbound_charged", "BR", "inbound"),
        (1, d("0.005"), None)
    );
    assert_eq!(
        cause(&v, "inbound_charged", "IN", "inbound"),
        (1, d("0.005"), None)
    );
    assert_eq!(v["causes"].as_array().unwrap().len(), 9);
}

#[test]
fn a_bad_bill_is_named_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = rf("log.csv");
    let run = |name: &str, text: &str, extra: &[&str]| {
        let bill = dir.path().join(name);
        std::fs::write(&bill, text).unwrap();
        let bill = bill.to_str().unwrap().to_string();
        let mut args = vec![
            "reconcile",
            &log,
            "--bill",
            &bill,
            "--model",
            "whatsapp-meta",
        ];
        args.extend(extra);
        (sim(&args), bill)
    };
    let inv = "month,country,category,quantity,amount,currency\n";
    let (s, f) = run(
        "a.csv",
        &format!("{inv}2026-03,BR,utility,1,0.0068,USD\n2026-03,BR,utility,x,1,USD\n"),
        &[],
    );
    s.fails(3, &format!("{f}:3: quantity is not a whole number (x)"));
    let (s, f) = run("b.jsonl", "{\"statuses\":[{\"id\":\"w\",\"status\":\"sent\",\"timestamp\":\"1772442000\",\"recipient_id\":\"5511987650001\"}]}\n{not json\n", &[]);
    s.fails(3, &format!("{f}:2: not a JSON object"));
    let (s, f) = run("c.csv", "a,b\n1,2\n", &[]);
    s.fails(
        2,
        &format!("{f}: cannot tell the bill's format from its shape; give --bill-format"),
    );
    let (s, f) = run("d.csv", "a,b\n1,2\n", &["--bill-format", "twilio"]);
    s.fails(
        3,
        &format!("{f}:1: no From column (a Twilio message export)"),
    );
    let (s, f) = run("f.csv", inv, &[]);
    s.fails(
        3,
        &format!("{f}: the bill has no billed messages to compare"),
    );
    let (s, _) = run(
        "e.csv",
        &format!("{inv}2026-03,BR,utility,1,0.0068,EUR\n"),
        &[],
    );
    s.fails(2, "the bill is in EUR, the model whatsapp-meta in USD");
}

#[test]
fn details_is_never_the_log_or_the_bill() {
    let dir = tempfile::tempdir().unwrap();
    let bill = dir.path().join("webhook.jsonl");
    std::fs::copy(rf("webhook.jsonl"), &bill).unwrap();
    let (log, bill) = (rf("log.csv"), bill.to_str().unwrap().to_string());
    sim(&["reconcile", &log, "--bill", &bill, "--details", &bill]).fails(2, "--details");
    assert_eq!(
        std::fs::read_to_string(&bill).unwrap(),
        std::fs::read_to_string(rf("webhook.jsonl")).unwrap()
    );
    sim(&["reconcile", &log, "--bill", &bill, "--details", &log]).fails(2, "--details");
}

#[test]
fn csv_and_table_say_the_same_totals() {
    let (log, bill) = (rf("log.csv"), rf("invoice.csv"));
    let base = [
        "reconcile",
        &log,
        "--bill",
        &bill,
        "--model",
        "whatsapp-meta",
        "--tolerance",
        "1",
    ];
    let csv_out = sim(&[&base[..], &["--format", "csv"]].concat()).succeeds();
    let mut lines = csv_out.lines();
    assert_eq!(
        lines.next(),
        Some("section,month,country,category,cause,why,count,billed_quantity,billed,replayed_quantity,replayed,difference,markup_percent")
    );
    assert_eq!(
        lines.next(),
        Some("total,,,,,,,5,0.49830,5,0.2726,0.22570,")
    );
    assert!(csv_out.contains("\ncause,,BR,marketing,category_disagreement,\"log utility, bill marketing\",1,,0.06875,,0.0068,0.06195,\n"));
    let table = sim(&base).succeeds();
    assert!(
        table.contains("difference 0.22570 (billed - replayed; within --tolerance 1 = 1)"),
        "{table}"
    );
    assert!(
        table.contains("explained 0.22570 by the causes below (100% of the difference)"),
        "{table}"
    );
}

#[test]
fn a_failed_status_and_a_message_meta_does_not_bill() {
    // Two statuses per message: DE line 6 sent then failed; BR line 2 delivered with
    // `billable: false`; BR line 3 delivered as utility (as the log says).
    let st = |id: &str, status: &str, t: &str, to: &str, pricing: &str| {
        format!(
            r#"{{"statuses":[{{"id":"{id}","status":"{status}","timestamp":"{t}","recipient_id":"{to}"{pricing}}}]}}"#
        )
    };
    let p = |billable: bool, category: &str| {
        format!(
            r#","pricing":{{"billable":{billable},"pricing_model":"PMP","category":"{category}","type":"regular"}}"#
        )
    };
    let lines = [
        st("w6", "sent", "1772625601", "4915112345678", ""),
        st("w6", "failed", "1772625605", "4915112345678", ""),
        st(
            "w2",
            "delivered",
            "1772442001",
            "5511987650001",
            &p(false, "marketing"),
        ),
        st(
            "w3",
            "delivered",
            "1772445601",
            "5511987650002",
            &p(true, "utility"),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let bill = dir.path().join("wh.jsonl");
    std::fs::write(&bill, lines.join("\n")).unwrap();
    let log = rf("log.csv");
    let v = sim(&[
        "reconcile",
        &log,
        "--bill",
        bill.to_str().unwrap(),
        "--format",
        "json",
        "--tolerance",
        "1",
    ])
    .json();
    assert_eq!(
        cause(&v, "not_delivered", "DE", "marketing"),
        (1, d("-0.1365"), None)
    );
    let (n, amount, _) = cause(&v, "free_on_bill_only", "BR", "marketing");
    assert_eq!((n, amount), (1, d("-0.0625")));
    // Line 3 agrees (utility 0.0068 on both sides); the log's other March messages are absent
    // from this bill: DE utility 0.0550, IN marketing 0.0118, and BR's free reply.
    assert_eq!(
        cause(&v, "in_log_not_billed", "DE", "utility"),
        (1, d("-0.055"), None)
    );
    assert_eq!(
        cause(&v, "in_log_not_billed", "IN", "marketing"),
        (1, d("-0.0118"), None)
    );
    assert_eq!(
        cause(&v, "in_log_not_billed", "BR", "service"),
        (1, d("0"), None)
    );
    assert_eq!(summary(&v, "billed"), d("0.0068"));
    assert_eq!(summary(&v, "difference"), d("0.0068") - d("0.2726"));
    assert_eq!(summary(&v, "explained"), d("-0.2658"));
}

#[test]
fn the_same_report_whichever_way_the_log_is_read() {
    // log.csv is not in time order (read again after billing starts); a sorted copy is billed
    // while it is read; standard input is read first. All three give one report.
    let text = std::fs::read_to_string(rf("log.csv")).unwrap();
    let mut rows: Vec<&str> = text.lines().skip(1).collect();
    rows.sort();
    let sorted = format!("timestamp,contact,direction,kind\n{}\n", rows.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let sorted_path = dir.path().join("sorted.csv");
    std::fs::write(&sorted_path, &sorted).unwrap();
    let bill = rf("webhook.jsonl");
    let args = |log: &str| {
        let v = vec![
            "reconcile",
            log,
            "--bill",
            &bill,
            "--format",
            "json",
            "--tolerance",
            "1",
        ];
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |log: &str, stdin: Option<&str>| {
        let a = args(log);
        let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
        let s = sim(&a);
        let s = match stdin {
            Some(t) => s.stdin(t.to_string()),
            None => s,
        };
        s.json()
    };
    let original = run(&rf("log.csv"), None);
    assert_eq!(summary(&original, "difference"), d("0.1804"));
    assert_eq!(run(sorted_path.to_str().unwrap(), None), original);
    assert_eq!(run("-", Some(&sorted)), original);
}

/// Panic audit: a bill's amount or count beyond what any bill holds once overflowed the
/// markup's Decimal arithmetic (exit 101); now it is named at its line, exit 3. The invoice's
/// 1111111111111111111111111111 and Twilio's -79228162514264337593543950335 were found by
/// mutating tests/fixtures/reconcile; the bound is 10^9 per row, 10^12 messages per row.
#[test]
fn a_bill_amount_beyond_any_bill_is_named_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let log = rf("log.csv");
    let run = |name: &str, text: &str| {
        let bill = dir.path().join(name);
        std::fs::write(&bill, text).unwrap();
        let bill = bill.to_str().unwrap().to_string();
        (
            sim(&[
                "reconcile",
                &log,
                "--bill",
                &bill,
                "--model",
                "whatsapp-meta",
                "--format",
                "json",
            ]),
            bill,
        )
    };
    let inv =
        "month,country,category,quantity,amount,currency\n2026-03,BR,marketing,2,0.13750,USD\n";
    let (s, f) = run(
        "a.csv",
        &format!("{inv}2026-03,DE,marketing,2,1111111111111111111111111111,USD\n"),
    );
    s.fails(3, &format!("{f}:3: amount is above 1000000000, the most one row of a bill may charge (1111111111111111111111111111)"));
    let (s, f) = run(
        "b.csv",
        &format!("{inv}2026-03,DE,marketing,1000000000001,1,USD\n"),
    );
    s.fails(3, &format!("{f}:3: quantity is above 1000000000000, the most one row of a bill may count (1000000000001)"));
    // The bound itself is a bill: 10^9 reconciles (exit 6, the bill differs), no panic.
    let (s, _) = run(
        "c.csv",
        &format!("{inv}2026-03,DE,marketing,2,-1000000000,USD\n"),
    );
    s.fails(6, "");
    let twilio = std::fs::read_to_string(rf("twilio.csv")).unwrap();
    let twilio = twilio.replacen(",-0.15015,", ",-79228162514264337593543950335,", 1);
    let (s, f) = run("d.csv", &twilio);
    let line = 1 + twilio.lines().position(|l| l.contains("-7922816")).unwrap();
    s.fails(3, &format!("{f}:{line}: Price is above 1000000000, the most one row of a bill may charge (-79228162514264337593543950335)"));
    let pa = std::fs::read_to_string(rf("pricing_analytics.json")).unwrap();
    let at = pa.find("\"cost\"").unwrap();
    let (head, tail) = pa.split_at(at);
    let end = tail.find([',', '}']).unwrap();
    let (s, f) = run(
        "e.json",
        &format!("{head}\"cost\": 5000000000{}", &tail[end..]),
    );
    s.fails(3, &format!("{f}: data point 1: cost is above 1000000000, the most one row of a bill may charge (5000000000)"));
}
