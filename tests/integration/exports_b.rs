//! Real exports in, part B (issue 18): status, id, business_number and entry_point; value
//! maps; the contact by direction; source profiles; Meta webhooks. Each export fixture has a
//! canonical twin that must give exactly the same figures; the hand-worked totals are in
//! tests/fixtures/exports/README.md.

use super::*;

/// Every model's total and counts, from the test rates and from the shipped ones.
fn figures(fixture_name: &str, extra: &[&str]) -> Vec<(String, Value, Value)> {
    let f = fixture(fixture_name);
    let r = test_rates();
    let mut out = Vec::new();
    for rates in [Some(r.as_str()), None] {
        let mut args = vec!["replay", &f, "--format", "json"];
        if let Some(r) = rates {
            args.extend(["--rates", r]);
        }
        args.extend(extra);
        let v = sim(&args).json();
        for m in v["models"].as_array().unwrap() {
            out.push((
                m["model"].as_str().unwrap().to_string(),
                m["total"].clone(),
                m["totals"].clone(),
            ));
        }
    }
    out
}

/// The export read with `extra` gives exactly the figures of its canonical twin, in every
/// model; and the hand-worked `wa` total.
fn same_as_twin(export: &str, extra: &[&str], twin: &str, wa_total: &str) {
    let got = figures(&format!("exports/{export}"), extra);
    let want = figures(&format!("exports/{twin}"), &[]);
    assert_eq!(got, want, "{export} and {twin} differ");
    let v = replay_json(&format!("exports/{export}"), &["wa"], extra);
    assert_eq!(total(&v, "wa"), d(wa_total), "{export}");
}

#[test]
fn a_failed_message_is_counted_never_billed_and_opens_nothing() {
    // wa: the failed template at 08:10 would open nothing anyway; the failed reply at 08:06
    // would have been the first reply of the session (0.0200): the delivered one at 08:07 is.
    let log = "timestamp,contact,direction,kind,status\n\
        2026-03-02T08:00:00Z,+380501110001,in,,\n\
        2026-03-02T08:06:00Z,+380501110001,out,,failed\n\
        2026-03-02T08:07:00Z,+380501110001,out,,delivered\n\
        2026-03-02T08:10:00Z,+4915112345678,out,template,EXPIRED\n";
    let v = replay_stdin_json(log, &["wa", "plain"], &[]);
    assert_eq!(total(&v, "wa"), d("0.0200"));
    assert_eq!(count(&v, "wa", "not_delivered"), 2);
    assert_eq!(count(&v, "wa", "business_initiated_charged"), 0);
    assert_eq!(
        row(&v, "wa", "countries", "country", "DE")["not_delivered"],
        1
    );
    // Viber (plain): the session is charged at 08:07, not at the failed 08:06: 0.0300.
    assert_eq!(total(&v, "plain"), d("0.0300"));
    assert_eq!(count(&v, "plain", "not_delivered"), 2);
    // The table says it, and the ledger gives the reason.
    let r = test_rates();
    let table = sim(&["replay", "-", "--rates", &r, "--model", "wa"])
        .stdin(log)
        .succeeds();
    assert!(table.contains("not delivered: 2 messages"), "{table}");
}

#[test]
fn a_failed_message_costs_nothing_in_every_shipped_model() {
    // The shipped models on real cards: the log with a failed template and a failed reply
    // costs exactly what the log without them costs, and counts them.
    let with = "timestamp,contact,direction,kind,status\n\
        2026-03-02T08:00:00Z,+380501110001,in,,\n\
        2026-03-02T08:06:00Z,+380501110001,out,,failed\n\
        2026-03-02T08:07:00Z,+380501110001,out,,delivered\n\
        2026-03-02T08:10:00Z,+4915112345678,out,marketing,undelivered\n\
        2026-03-02T09:00:00Z,+4915112345678,out,utility,delivered\n";
    let without: String = (with.lines())
        .filter(|l| !l.ends_with("failed") && !l.ends_with("undelivered"))
        .map(|l| format!("{l}\n"))
        .collect();
    let a = sim(&["replay", "-", "--format", "json"]).stdin(with).json();
    let b = sim(&["replay", "-", "--format", "json"])
        .stdin(without)
        .json();
    for (ma, mb) in a["models"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["models"].as_array().unwrap())
    {
        assert_eq!(ma["total"], mb["total"], "{}", ma["model"]);
        assert_eq!(ma["totals"]["not_delivered"], 2, "{}", ma["model"]);
        assert_eq!(
            ma["totals"]["sessions_opened"],
            mb["totals"]["sessions_opened"]
        );
    }
}

#[test]
fn rows_sharing_an_id_are_one_message_earliest_time_last_status() {
    // m1: sent 08:05, delivered 08:06, read 08:07 (rows out of order): one reply at 08:05,
    // the session's first, 0.0200. m2: sent 08:30 then failed 08:31: not delivered. m3:
    // failed and sent at one instant (a tie: the later row, `sent`, wins): delivered, inside
    // the window (open until 03-03 08:00), free.
    let log = "id,timestamp,contact,direction,status\n\
        x,2026-03-02T08:00:00Z,+380501110001,in,\n\
        m1,2026-03-02T08:07:00Z,+380501110001,out,read\n\
        m1,2026-03-02T08:05:00Z,+380501110001,out,sent\n\
        m1,2026-03-02T08:06:00Z,+380501110001,out,delivered\n\
        m2,2026-03-02T08:30:00Z,+380501110001,out,sent\n\
        m2,2026-03-02T08:31:00Z,+380501110001,out,failed\n\
        m3,2026-03-02T09:00:00Z,+380501110001,out,failed\n\
        m3,2026-03-02T09:00:00Z,+380501110001,out,sent\n";
    let v = replay_stdin_json(log, &["wa"], &[]);
    assert_eq!(total(&v, "wa"), d("0.0200"));
    assert_eq!(count(&v, "wa", "messages_out"), 3);
    assert_eq!(count(&v, "wa", "not_delivered"), 1);
    assert_eq!(count(&v, "wa", "sessions_charged"), 1);
}

#[test]
fn map_value_date_and_time_and_contact_by_direction() {
    let log = "Datum,Uhrzeit,Richtung,Von,An,Art\n\
        2026-11-03,14:03:00,eingehend,+380501110001,+14155550100,\n\
        2026-11-03,14:05:00,ausgehend,+14155550100,+380501110001,Text\n\
        2026-11-04,09:00:00,ausgehend,+14155550100,+4915112345678,Vorlage\n";
    let args = [
        "--map",
        "date=Datum",
        "--map",
        "time=Uhrzeit",
        "--map",
        "direction=Richtung",
        "--map",
        "contact_inbound=Von",
        "--map",
        "contact_outbound=An",
        "--map",
        "kind=Art",
        "--map-value",
        "direction:EINGEHEND=in",
        "--map-value",
        "direction:ausgehend=out",
        "--map-value",
        "kind:vorlage=template",
    ];
    // 14:03 opens the UA window, 14:05 is the first reply (0.0200); the DE template is
    // business-initiated outside any window (0.0400).
    let v = replay_stdin_json(log, &["wa"], &args);
    assert_eq!(total(&v, "wa"), d("0.0600"));
    assert_eq!(count(&v, "wa", "messages_in"), 1);
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r, "--map-value", "richtung:a=in"])
        .stdin(log)
        .fails(2, "unknown field richtung");
    sim(&[
        "replay",
        "-",
        "--rates",
        &r,
        "--map",
        "time=Zeit",
        "--map",
        "date=Datum",
    ])
    .stdin(log)
    .fails(2, "the log has no column Zeit");
}

#[test]
fn a_missing_column_suggests_map_and_source_and_shows_the_header() {
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r])
        .stdin("\u{feff}Zeit;Kontakt;Richtung\n1772438400;+380501110001;in\n")
        .fails(3, "missing required column (timestamp); the header is: Zeit,Kontakt,Richtung; name the column with --map timestamp=COLUMN, or read a known export with --source NAME (twilio, infobip, meta-webhook)");
    sim(&["replay", "-", "--rates", &r, "--source", "twilio"])
        .stdin("Sid,From,To,Direction\nSM1,+380501110001,+1,inbound\n")
        .fails(3, "missing required column (timestamp)");
    sim(&["replay", "-", "--rates", &r, "--source", "twillio"])
        .stdin("x\n")
        .fails(2, "no such source");
}

#[test]
fn twilio_export_equals_its_canonical_twin() {
    same_as_twin(
        "b-twilio.csv",
        &["--source", "twilio"],
        "b-twilio.canonical.csv",
        "0.1200",
    );
    let v = replay_json("exports/b-twilio.csv", &["wa"], &["--source", "twilio"]);
    assert_eq!(count(&v, "wa", "not_delivered"), 2);
    assert_eq!(count(&v, "wa", "outside_window"), 2);
}

#[test]

fn twilio_whatsapp_api_export_equals_its_canonical_twin() {
    same_as_twin(
        "b-twilio-whatsapp.csv",
        &["--source", "twilio"],
        "b-twilio.canonical.csv",
        "0.1200",
    );
}

#[test]
fn meta_webhook_statuses_of_one_message_are_one_message() {
    same_as_twin(
        "b-meta-webhook.jsonl",
        &["--source", "meta-webhook"],
        "b-meta-webhook.canonical.csv",
        "0.0600",
    );
    let v = replay_json(
        "exports/b-meta-webhook.jsonl",
        &["wa"],
        &["--source", "meta-webhook"],
    );
    assert_eq!(count(&v, "wa", "messages_out"), 4);
    assert_eq!(count(&v, "wa", "messages_in"), 2);
    assert_eq!(count(&v, "wa", "not_delivered"), 1);
    // 11 messages and statuses: 6 messages, 5 status rows (and one redelivered payload)
    // folded into them.
    assert_eq!(v["input"]["rows"], 11);
    assert_eq!(v["input"]["replayed"], 6);
    assert_eq!(v["input"]["rows_merged"], 5);
}

#[test]
fn a_line_that_is_not_a_webhook_payload_is_named() {
    let r = test_rates();
    sim(&["replay", "-", "--rates", &r, "--source", "meta-webhook"])
        .stdin("{\"entry\": []}\n{\"entry\": [\n")
        .fails(3, "<stdin>:2: not a webhook payload");
}

#[test]

fn infobip_export_equals_its_canonical_twin() {
    same_as_twin(
        "b-infobip.csv",
        &["--source", "infobip"],
        "b-infobip.canonical.csv",
        "0.0500",
    );
}

#[test]

fn german_excel_export_equals_its_canonical_twin() {
    same_as_twin(
        "b-excel-de.csv",
        &[
            "--map",
            "date=Datum",
            "--map",
            "time=Uhrzeit",
            "--map",
            "direction=Richtung",
            "--map",
            "contact=Telefonnummer",
            "--map",
            "kind=Art",
            "--map-value",
            "direction:eingehend=in",
            "--map-value",
            "direction:ausgehend=out",
            "--map-value",
            "kind:Vorlage=template",
            "--timestamp-format",
            "%d.%m.%Y %H:%M",
        ],
        "b-excel-de.canonical.csv",
        "0.0600",
    );
}

/// Twenty UA customers each write once and get one reply; the business's number is
/// +14155550100. Read with the customer by direction, each reply is the first of a
/// user-initiated session: 20 x 0.0200 = 0.4000. Read with `--map contact=to` (the Infobip
/// mistake), every inbound row is the business's number and every reply falls outside any
/// window, billed as a template: 20 x 0.0600 = 1.2000 - and simcost says so, twice.
#[test]
fn a_contact_column_that_names_the_business_is_warned() {
    let mut log = String::from("timestamp,from,to,direction\n");
    for i in 0..20 {
        let c = format!("+3805011100{i:02}");
        log += &format!("2026-03-02T08:{i:02}:00Z,{c},+14155550100,in\n");
        log += &format!("2026-03-02T08:{i:02}:30Z,+14155550100,{c},out\n");
    }
    let right = [
        "--map",
        "contact_inbound=from",
        "--map",
        "contact_outbound=to",
    ];
    let v = replay_stdin_json(&log, &["wa"], &right);
    assert_eq!(total(&v, "wa"), d("0.4000"));
    assert!(v["input"].get("warnings").is_none(), "{}", v["input"]);
    let v = replay_stdin_json(&log, &["wa"], &["--map", "contact=to"]);
    assert_eq!(total(&v, "wa"), d("1.2000"));
    let warnings = v["input"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("contact +14155550100 sent 20 of the 20 inbound rows (more than half)"));
    assert!(warnings[1]
        .as_str()
        .unwrap()
        .starts_with("wa: 20 of 20 outbound messages fell outside every customer service window"));
    let r = test_rates();
    let out = sim(&[
        "replay",
        "-",
        "--rates",
        &r,
        "--model",
        "wa",
        "--map",
        "contact=to",
    ])
    .stdin(log.clone())
    .run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("simcost: warning: contact +14155550100 sent 20"),
        "{stderr}"
    );
    // Nineteen inbound rows are too few to judge.
    let short: String = log.lines().take(39).map(|l| format!("{l}\n")).collect();
    let v = replay_stdin_json(&short, &["wa"], &["--map", "contact=to"]);
    assert!(v["input"].get("warnings").is_none(), "{}", v["input"]);
}

#[test]
fn a_rejected_export_row_is_written_as_the_export_had_it() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let log = "Sid,DateSent,From,To,Direction,Status\n\
        SM1,2026-03-02T08:00:00Z,+380501110001,+14155550100,inbound,received\n\
        SM2,2026-03-02T08:05:00Z,+14155550100,+380501110001,outbound-api,lost\n\
        SM3,2026-03-02T08:06:00Z,+14155550100\n";
    let r = test_rates();
    let v = sim(&[
        "replay", "-", "--rates", &r, "--model", "wa", "--format", "json",
    ])
    .arg("--source")
    .arg("twilio")
    .arg("--skip-invalid")
    .arg("--rejects")
    .arg(rejects.to_str().unwrap())
    .stdin(log)
    .json();
    assert_eq!(v["input"]["rows"], 3);
    assert_eq!(v["input"]["skipped"], 2);
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "reject_line,reject_reason,Sid,DateSent,From,To,Direction,Status"
    );
    assert!(
        lines[1].starts_with("3,") && lines[1].contains("unknown status (lost)"),
        "{text}"
    );
    assert!(
        lines[1]
            .ends_with(",SM2,2026-03-02T08:05:00Z,+14155550100,+380501110001,outbound-api,lost"),
        "{text}"
    );
    assert!(
        lines[2].ends_with(",SM3,2026-03-02T08:06:00Z,+14155550100"),
        "{text}"
    );
}

#[test]
fn a_rejected_webhook_payload_is_written_as_it_was_and_kept_only_for_rejects() {
    // Line 1 a message; line 2 not JSON (rejected while reading the payloads); line 3 a
    // status whose customer is not a number (rejected with the canonical row): the rejects
    // file gives both lines back byte for byte. Without --rejects the payloads are not kept
    // (`ReadOptions::keep_rejected`), and the report is the same.
    let status = |to: &str| {
        format!(
            r#"{{"entry":[{{"id":"W","changes":[{{"value":{{"metadata":{{"display_phone_number":"155"}},"statuses":[{{"id":"m{to}","status":"sent","timestamp":"1772438700","recipient_id":"{to}","pricing":{{"category":"utility"}}}}]}}}}]}}]}}"#
        )
    };
    let (good, bad) = (status("380501110001"), status("not-a-number"));
    let log = format!("{good}\n{{not json\n{bad}\n");
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let r = test_rates();
    let path = rejects.to_str().unwrap();
    let run = |with_rejects: bool| {
        let mut args = vec![
            "replay", "-", "--rates", &r, "--model", "wa", "--format", "json",
        ];
        args.extend(["--source", "meta-webhook", "--skip-invalid"]);
        if with_rejects {
            args.extend(["--rejects", path]);
        }
        sim(&args).stdin(log.clone()).json()
    };
    let v = run(true);
    assert_eq!(
        (&v["input"]["rows"], &v["input"]["skipped"]),
        (&3.into(), &2.into())
    );
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "reject_line,reject_reason,payload");
    assert!(
        lines[1].starts_with("2,") && lines[1].ends_with(",{not json"),
        "{text}"
    );
    let quoted = format!("\"{}\"", bad.replace('"', "\"\""));
    assert!(
        lines[2].starts_with("3,") && lines[2].ends_with(&quoted),
        "{text}"
    );
    assert_eq!(run(false), v);
}
