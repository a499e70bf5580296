//! docs/billing-rules.md#sms-pricing: the SMS channel (tests/fixtures/sms/README.md has the working).

use super::*;

fn sms_json(extra: &[&str]) -> Value {
    let (log, rates) = (fixture("sms/sms.csv"), fixture("sms/rates"));
    let mut args = vec!["replay", &log, "--rates", &rates, "--format", "json"];
    args.extend(extra);
    sim(&args).json()
}

#[test]
fn every_outbound_message_is_billed_per_message_inbound_free_an_unpriced_country_counted() {
    let v = sms_json(&[]);
    assert_eq!(total(&v, "sms"), d("0.35"));
    assert_eq!(count(&v, "sms", "messages_in"), 2);
    assert_eq!(count(&v, "sms", "messages_out"), 6);
    assert_eq!(count(&v, "sms", "business_initiated_charged"), 5);
    assert_eq!(count(&v, "sms", "unpriced"), 1);
    assert_eq!(count(&v, "sms", "sessions_opened"), 0);
    assert_eq!(count(&v, "sms", "sessions_charged"), 0);
    let country = |c| dec(&row(&v, "sms", "countries", "country", c)["total"]);
    assert_eq!(country("DE"), d("0.15"));
    assert_eq!(country("UA"), d("0.20"));
}

#[test]
fn the_table_names_the_channel_and_has_no_session_channel_column() {
    let (log, rates) = (fixture("sms/sms.csv"), fixture("sms/rates"));
    let out = sim(&["replay", &log, "--rates", &rates]).succeeds();
    assert!(out.contains("sms (sms, EUR)"), "{out}");
    assert!(
        !out.contains("outside window") && !out.contains("rejected"),
        "{out}"
    );
}

#[test]
fn the_shipped_sms_model_prices_the_us_from_twilio_and_leaves_the_rest_unpriced() {
    let log = "timestamp,contact,direction,kind\n\
               2026-03-02T08:00:00Z,+12025550100,out,\n\
               2026-03-02T08:01:00Z,+12025550100,in,\n\
               2026-03-02T08:02:00Z,+491510000001,out,\n";
    let v = sim(&["replay", "-", "--model", "sms", "--format", "json"])
        .stdin(log)
        .json();
    // rates/sms-prices.csv: US 0.0083 (Twilio), no other country priced
    assert_eq!(total(&v, "sms"), d("0.0083"));
    assert_eq!(count(&v, "sms", "unpriced"), 1);
}

#[test]
fn channel_selects_every_model_of_a_channel_and_an_unknown_one_is_a_usage_error() {
    let log = fixture("sms/sms.csv");
    sim(&["compare", &log, "--channel", "telegram"]).fails(
        2,
        "--channel: unknown channel (telegram); use viber, whatsapp or sms",
    );
    let rates = fixture("sms/rates");
    let out = sim(&["compare", &log, "--rates", &rates, "--channel", "sms"]).succeeds();
    assert!(out.contains("sms"), "{out}");
}

#[test]
fn a_segments_column_is_not_read_and_says_so() {
    // one DE message of 3 segments: billed as one (0.05), with a warning
    let log = "timestamp,contact,direction,kind,segments\n\
               2026-03-02T08:00:00Z,+491510000001,out,,3\n";
    let rates = fixture("sms/rates");
    let out = sim(&["replay", "-", "--rates", &rates, "--format", "json"])
        .stdin(log)
        .run();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "sms: the log's column segments is not read; simcost bills every SMS as one segment"
        ),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(total(&v, "sms"), d("0.05"));
}

#[test]
fn a_session_key_in_an_sms_model_is_an_error_not_ignored() {
    let dir = std::env::temp_dir().join(format!("simcost-sms-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = std::fs::read_to_string(fixture("sms/rates/sms.toml")).unwrap();
    std::fs::write(dir.join("sms.toml"), model + "[session]\nhours = 2\n").unwrap();
    std::fs::copy(
        fixture("sms/rates/sms-prices.csv"),
        dir.join("sms-prices.csv"),
    )
    .unwrap();
    let (log, rates) = (fixture("sms/sms.csv"), dir.display().to_string());
    sim(&["replay", &log, "--rates", &rates]).fails(
        4,
        "session: not read by rules sms, only by viber (remove it, or change rules)",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The shipped sms model is `optional = true`: a default run leaves it out (its card prices one
/// country), `--model sms` and `compare --channel sms` take it in.
#[test]
fn the_optional_sms_model_is_replayed_only_when_named() {
    let log = "timestamp,contact,direction,kind\n2026-03-02T08:00:00Z,+12025550100,out,\n";
    let models = |v: &Value| -> Vec<String> {
        (v["models"].as_array().unwrap().iter())
            .map(|m| m["model"].as_str().unwrap().to_string())
            .collect()
    };
    let v = sim(&["replay", "-", "--format", "json"]).stdin(log).json();
    assert!(!models(&v).contains(&"sms".to_string()), "{:?}", models(&v));
    assert!(models(&v).contains(&"viber-2024".to_string()));
    let v = (sim(&["replay", "-", "--format", "json", "--model", "sms"]).stdin(log)).json();
    assert_eq!(models(&v), ["sms"]);
    let out =
        (sim(&["compare", "-", "--channel", "sms", "--model", "viber-2024"]).stdin(log)).succeeds();
    assert!(out.contains("sms") && out.contains("viber-2024"), "{out}");
}
