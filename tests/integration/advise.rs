//! `simcost advise`: each strategy's saving on hand-worked fixtures (tests/fixtures/advise/
//! README.md), and every saving the difference of the two replays it names.

use crate::*;
use serde_json::Value;

/// `advise FIXTURE --rates tests/fixtures/rates --model M... --format json EXTRA...`
fn advise_json(name: &str, models: &[&str], extra: &[&str]) -> Value {
    let f = fixture(&format!("advise/{name}"));
    let r = test_rates();
    let mut args = vec!["advise", &f, "--rates", &r, "--format", "json"];
    for m in models {
        args.extend(["--model", m]);
    }
    args.extend(extra);
    sim(&args).json()
}

/// The advice line of `strategy` on `model`.
fn line<'a>(v: &'a Value, strategy: &str, model: &str) -> &'a Value {
    v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["strategy"] == strategy && l["model"] == model)
        .unwrap_or_else(|| panic!("no {strategy} line for {model}"))
}

/// (messages, sessions, contacts, cost now, cost after, saving, saving %) of a line.
fn figures(l: &Value) -> (u64, u64, u64, Decimal, Decimal, Decimal, Decimal) {
    (
        l["messages"].as_u64().unwrap(),
        l["sessions"].as_u64().unwrap(),
        l["contacts"].as_u64().unwrap(),
        dec(&l["cost_now"]),
        dec(&l["cost_after"]),
        dec(&l["saving"]),
        dec(&l["saving_percent"]),
    )
}

fn carriers(l: &Value, list: &str, key: &str) -> Vec<(String, Decimal)> {
    l[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[key].as_str().unwrap().to_string(), dec(&c["saving"])))
        .collect()
}

fn named(v: &[(&str, &str)]) -> Vec<(String, Decimal)> {
    v.iter().map(|(n, a)| (n.to_string(), d(a))).collect()
}

#[test]
fn late_replies_moved_into_the_session_on_viber() {
    let v = advise_json("viber.csv", &["plain", "legacy"], &[]);
    let l = line(&v, "late replies", "plain");
    // anna 0.04 -> session 0.02; bert 0.04 -> inside his charged session, 0.
    assert_eq!(
        figures(l),
        (2, 2, 2, d("0.46"), d("0.40"), d("0.06"), d("13.04"))
    );
    assert_eq!(
        carriers(l, "top_contacts", "contact"),
        named(&[("bert", "0.04"), ("anna", "0.02")])
    );
    assert_eq!(dec(&l["affected_cost_now"]), d("0.08"));
    // legacy: 2 free business-initiated messages in March, which stay with dora and emil.
    let l = line(&v, "late replies", "legacy");
    assert_eq!(
        figures(l),
        (2, 2, 2, d("0.38"), d("0.32"), d("0.06"), d("15.79"))
    );
}

#[test]
fn late_within_bounds_what_is_late() {
    // 26 h and 27 h after the customer: nothing is late within 25 h.
    let v = advise_json("viber.csv", &["plain"], &["--late-within", "25"]);
    let l = line(&v, "late replies", "plain");
    assert_eq!(figures(l).0, 0);
    assert_eq!(dec(&l["saving"]), d("0"));
    // carl's reply 72 h later is late within 72 h: moved into his session, 0.04 -> 0.02.
    let v = advise_json("viber.csv", &["plain"], &["--late-within", "72"]);
    assert_eq!(dec(&line(&v, "late replies", "plain")["saving"]), d("0.08"));
}

#[test]
fn unanswered_outreach_removed_and_the_allowance_moves_on() {
    let v = advise_json("viber.csv", &["plain", "legacy"], &[]);
    let l = line(&v, "unanswered outreach", "plain");
    assert_eq!(
        figures(l),
        (3, 0, 1, d("0.46"), d("0.34"), d("0.12"), d("26.09"))
    );
    // legacy: dora's first template was free; without her, fred's first one is.
    let l = line(&v, "unanswered outreach", "legacy");
    assert_eq!(
        figures(l),
        (3, 0, 1, d("0.38"), d("0.26"), d("0.12"), d("31.58"))
    );
    assert_eq!(
        carriers(l, "top_contacts", "contact"),
        named(&[("dora", "0.08"), ("fred", "0.04")])
    );
    assert_eq!(dec(&l["affected_cost_now"]), d("0.08"));
    // With 2 messages, emil (2 templates, 0.08) is unanswered outreach too.
    let v = advise_json("viber.csv", &["plain"], &["--unanswered", "2"]);
    assert_eq!(
        dec(&line(&v, "unanswered outreach", "plain")["saving"]),
        d("0.20")
    );
}

/// Every line's cost now is the model's replay total, its cost after the total of a fresh
/// replay of the counterfactual log it carries, and its saving their difference.
#[test]
fn every_saving_is_the_difference_of_the_two_replays_it_names() {
    for name in [
        "viber.csv",
        "viber_updates.csv",
        "viber_cap.csv",
        "channel.csv",
    ] {
        let text = std::fs::read_to_string(fixture(&format!("advise/{name}"))).unwrap();
        let log =
            simcost::input::read_from("log.csv".into(), text.as_bytes(), &read_options(1)).unwrap();
        let source = simcost::rates::RateSource::Dir(test_rates().into());
        let models = simcost::rates::RateSet::load(&source)
            .unwrap()
            .select(&[])
            .unwrap();
        let opts = billing_options(true);
        let now = simcost::billing::bill_all(&log, None, &models, &opts, 1);
        let advise = simcost::advise::Options {
            late_within_hours: 48,
            unanswered: 2,
            top: 5,
            tz: chrono_tz::UTC,
            threads: 1,
            keep_counterfactuals: true,
        };
        let advice = simcost::advise::advise(&log, &models, &now, &opts, &advise, None);
        assert!(advice.len() >= 2 * models.len(), "{name}");
        for a in &advice {
            let m = models.iter().position(|m| m.name == a.model).unwrap();
            let Some((cf, _)) = a.after.as_ref() else {
                // Nothing to change (a channel line where the model is the cheapest): 0.
                assert_eq!((a.cost_after, a.moved.len()), (a.cost_now, 0));
                continue;
            };
            let again = simcost::billing::bill(
                &cf.log,
                &simcost::billing::replay_order(&cf.log),
                &models[m],
                &billing_options(false),
            );
            assert_eq!(a.cost_now, now[m].total(), "{} {}", a.strategy, a.model);
            // channel: plus each cheaper model's replay of the countries that move to it.
            let moved: Decimal = (a.moved.iter())
                .map(|p| {
                    let k = models.iter().position(|m| m.name == p.model).unwrap();
                    let order = simcost::billing::replay_order(&p.after.log);
                    simcost::billing::bill(
                        &p.after.log,
                        &order,
                        &models[k],
                        &billing_options(false),
                    )
                    .total()
                })
                .sum();
            assert_eq!(
                a.cost_after,
                again.total() + moved,
                "{} {}",
                a.strategy,
                a.model
            );
            assert_eq!(a.saving(), a.cost_now - a.cost_after);
        }
        // And the binary reports the replay's totals.
        let r = replay_json(&format!("advise/{name}"), &[], &[]);
        let v = advise_json(name, &[], &[]);
        for l in v["advice"].as_array().unwrap() {
            let m = l["model"].as_str().unwrap();
            assert_eq!(dec(&l["cost_now"]), total(&r, m), "{m}");
            assert_eq!(
                dec(&l["saving"]),
                dec(&l["cost_now"]) - dec(&l["cost_after"])
            );
        }
    }
}

#[test]
fn details_list_the_affected_messages_in_both_replays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("details.csv");
    let f = fixture("advise/viber.csv");
    let r = test_rates();
    let p = path.to_str().unwrap();
    sim(&[
        "advise",
        &f,
        "--rates",
        &r,
        "--model",
        "plain",
        "--details",
        p,
    ])
    .succeeds();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("strategy,replay,timestamp,month,account,contact"));
    let late: Vec<&&str> = rows
        .iter()
        .filter(|r| r.starts_with("late replies,"))
        .collect();
    assert_eq!(late.len(), 4);
    assert!(late[0].starts_with("late replies,now,2026-03-03T10:00:00+00:00,2026-03,(default),anna,DE,plain,,business_initiated,marketing,message,0.0400"));
    assert!(late[2].starts_with("late replies,after,2026-03-03T07:59:59+00:00,2026-03,(default),anna,DE,plain,1,session,,session,0.0200"));
    // Messages not sent have no row after.
    let gone = rows
        .iter()
        .filter(|r| r.starts_with("unanswered outreach,"))
        .count();
    assert_eq!(gone, 3);
}

#[test]
fn bad_advise_options_are_usage_errors() {
    let f = fixture("advise/viber.csv");
    let r = test_rates();
    sim(&["advise", &f, "--rates", &r, "--unanswered", "0"]).fails(2, "--unanswered: at least 1");
    sim(&["advise", &f, "--rates", &r, "--late-within", "0"])
        .fails(2, "--late-within: hours from 1");
    sim(&["advise", &f, "--rates", &r, "--details", &f]).fails(2, "--details");
}

#[test]
fn updates_in_an_open_session_become_session_messages_unless_one_too_many_in_a_row() {
    let v = advise_json("viber_updates.csv", &["plain", "drop"], &[]);
    // gina's transactional template (0.025) inside her charged session: free as a session
    // message. hans's promotional one would be his sixth in a row: left out.
    let l = line(&v, "updates in an open session", "plain");
    assert_eq!(
        figures(l),
        (1, 1, 1, d("0.205"), d("0.18"), d("0.025"), d("12.20"))
    );
    assert_eq!(l["not_allowed"], 1);
    assert!(l["note"].as_str().unwrap().contains("1 changes left out"));
    let l = line(&v, "updates in an open session", "drop");
    assert_eq!(
        figures(l),
        (1, 1, 1, d("0.165"), d("0.14"), d("0.025"), d("15.15"))
    );
}

#[test]
fn templates_with_no_category_priced_as_utility() {
    let v = advise_json("viber_updates.csv", &["plain", "drop", "short"], &[]);
    // ida's template: promotional 0.04 -> transactional 0.025.
    let l = line(&v, "category", "plain");
    assert_eq!(
        figures(l),
        (1, 0, 1, d("0.205"), d("0.19"), d("0.015"), d("7.32"))
    );
    assert_eq!(dec(&line(&v, "category", "drop")["saving"]), d("0.015"));
    // short's default category is utility already: nothing to change.
    let l = line(&v, "category", "short");
    assert_eq!(
        (l["messages"].as_u64(), dec(&l["saving"])),
        (Some(0), d("0"))
    );
    assert!(l["note"]
        .as_str()
        .unwrap()
        .contains("default category is utility"));
}

#[test]
fn blocked_messages_cost_their_delivery_and_capped_sessions_are_counted() {
    let v = advise_json("viber_updates.csv", &["plain", "drop"], &[]);
    // drop: jan's sixth message was blocked (0); sent as a template it costs 0.04.
    let l = line(&v, "cap and blocks", "drop");
    assert_eq!(
        figures(l),
        (1, 1, 1, d("0.165"), d("0.205"), d("-0.04"), d("-24.24"))
    );
    // plain bills the sixth as business-initiated already: nothing blocked.
    assert_eq!(line(&v, "cap and blocks", "plain")["messages"], 0);
    let v = advise_json("viber_cap.csv", &["plain"], &[]);
    let note = line(&v, "cap and blocks", "plain")["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        note.contains("1 sessions reached the cap of 60 messages, after which 2 business messages were charged per message (0.0800 EUR)"),
        "{note}"
    );
}

#[test]
fn channel_moves_each_country_to_its_cheapest_model_priced_by_replays() {
    let v = advise_json("channel.csv", &["plain", "wa"], &[]);
    // plain 0.075 (UA session 0.03; DE transactional 0.025 + session 0.02); wa 0.07 (UA
    // user-initiated 0.02; DE business-initiated 0.04 + user-initiated 0.01).
    // plain: UA to wa: plain on DE 0.045 + wa on UA 0.02.
    let l = line(&v, "channel", "plain");
    assert_eq!(
        figures(l),
        (1, 0, 1, d("0.075"), d("0.065"), d("0.01"), d("13.33"))
    );
    assert!(l["note"]
        .as_str()
        .unwrap()
        .contains("UA to wa (0.0200 EUR there)"));
    // wa: DE to plain: wa on UA 0.02 + plain on DE 0.045.
    let l = line(&v, "channel", "wa");
    assert_eq!(
        figures(l),
        (3, 0, 2, d("0.07"), d("0.065"), d("0.005"), d("7.14"))
    );
    // --details: olga's message now on plain, then on wa (user-initiated 0.02).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("details.csv");
    let (f, r) = (fixture("advise/channel.csv"), test_rates());
    let p = path.to_str().unwrap();
    sim(&[
        "advise",
        &f,
        "--rates",
        &r,
        "--model",
        "plain",
        "--model",
        "wa",
        "--details",
        p,
    ])
    .succeeds();
    let text = std::fs::read_to_string(&path).unwrap();
    let plain: Vec<&str> = (text.lines())
        .filter(|l| l.starts_with("channel,") && l.contains(",olga,"))
        .collect();
    assert_eq!(plain.len(), 2, "{text}");
    assert!(plain[0].contains(",olga,UA,plain,1,session,,session,0.0300,"));
    assert!(
        plain[1].starts_with("channel,after,")
            && plain[1].contains(",olga,UA,wa,1,in_window,,session,0.0200,")
    );
    // One model: nothing to compare, no channel line.
    let v = advise_json("channel.csv", &["plain"], &[]);
    assert!(v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["strategy"] != "channel"));
}

#[test]
fn welcome_messages_are_free_and_change_nothing_and_undelivered_finds_nothing_without_statuses() {
    let v = advise_json("viber.csv", &["plain"], &[]);
    // anna, bert and carl wrote first with no welcome message; bert's session was charged.
    let l = line(&v, "welcome messages", "plain");
    assert_eq!(figures(l), (3, 3, 3, d("0.46"), d("0.46"), d("0"), d("0")));
    assert!(l["note"]
        .as_str()
        .unwrap()
        .contains("cost 0.0200 EUR either way (1 sessions"));
    let l = line(&v, "undelivered", "plain");
    assert_eq!(l["messages"], 0);
    assert!(l["note"]
        .as_str()
        .unwrap()
        .starts_with("0 of 12 business messages not delivered"));
    // Neither applies to WhatsApp (welcome) nor is missing there (undelivered).
    let v = advise_json("channel.csv", &["wa"], &[]);
    let names: Vec<&str> = (v["advice"].as_array().unwrap().iter())
        .map(|l| l["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "late replies",
            "updates in an open session",
            "unanswered outreach",
            "undelivered",
            "category"
        ]
    );
}

#[test]
fn whatsapp_late_replies_sent_inside_the_window_as_free_form() {
    let v = advise_json("whatsapp.csv", &["wa"], &[]);
    // lena: free-form outside the window (billed as a template, 0.06) -> her first reply in the
    // window (user-initiated 0.02); mark: template 0.06 -> free inside his charged window.
    let l = line(&v, "late replies", "wa");
    assert_eq!(
        figures(l),
        (2, 2, 2, d("0.14"), d("0.04"), d("0.10"), d("71.43"))
    );
    // Inside the whatsapp-session window every message is free already.
    assert_eq!(
        dec(&line(&v, "updates in an open session", "wa")["saving"]),
        d("0")
    );
}

#[test]
fn whatsapp_meta_marketing_inside_the_window_is_charged_and_free_form_is_not() {
    // Shipped rates: Germany's card from 2026-01-01, marketing 0.1365 USD a message; utility
    // inside the window free and free-form free until 2026-10-01.
    let f = fixture("advise/whatsapp_meta.csv");
    let v = sim(&["advise", &f, "--model", "whatsapp-meta", "--format", "json"]).json();
    let l = line(&v, "updates in an open session", "whatsapp-meta");
    assert_eq!(l["currency"], "USD");
    assert_eq!(
        figures(l),
        (1, 0, 1, d("0.273"), d("0.1365"), d("0.1365"), d("50"))
    );
    assert!(l["note"]
        .as_str()
        .unwrap()
        .contains("a marketing template inside an open window is charged"));
    let l = line(&v, "late replies", "whatsapp-meta");
    assert_eq!(
        figures(l),
        (1, 0, 1, d("0.273"), d("0.1365"), d("0.1365"), d("50"))
    );
    assert_eq!(
        carriers(l, "top_contacts", "contact"),
        named(&[("sam", "0.1365")])
    );
}

#[test]
fn csv_and_table_carry_the_same_figures() {
    let f = fixture("advise/viber.csv");
    let r = test_rates();
    let csv = sim(&[
        "advise", &f, "--rates", &r, "--model", "plain", "--format", "csv",
    ])
    .succeeds();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "strategy,model,currency,messages,sessions,contacts,cost_now,cost_after,saving,saving_percent,affected_cost_now,not_allowed,top_contacts,top_accounts,note");
    assert_eq!(rows[1], "late replies,plain,EUR,2,2,2,0.4600,0.4000,0.0600,13.04,0.0800,0,bert (0.0400); anna (0.0200),(default) (0.0600),");
    let table = sim(&[
        "advise", &f, "--rates", &r, "--model", "plain", "--top", "1",
    ])
    .succeeds();
    let late = table
        .lines()
        .find(|l| l.starts_with("late replies"))
        .unwrap();
    let cells: Vec<&str> = late
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "late replies",
            "plain",
            "2",
            "2",
            "2",
            "0.4600 EUR",
            "0.4000 EUR",
            "0.0600 EUR",
            "13.04",
            "bert (0.0400)"
        ]
    );
    assert!(table.contains("savings of different strategies overlap and are not added up"));
}

/// undelivered.csv (tests/fixtures/advise/README.md, "Undelivered"): +380501110001's two
/// templates both failed (a dead number: 2 messages, 1 contact); +380501110002 got one of two.
/// Failed messages are never billed, so the replay costs 0.07 (the one delivered UA promotional)
/// with or without the dead number's messages: saving 0; 3 of 4 business messages failed (75 %).
#[test]
fn undelivered_counts_dead_numbers_from_the_status_column() {
    let v = advise_json("undelivered.csv", &["plain"], &[]);
    let l = line(&v, "undelivered", "plain");
    assert_eq!(figures(l), (2, 0, 1, d("0.07"), d("0.07"), d("0"), d("0")));
    assert!(l["note"]
        .as_str()
        .unwrap()
        .starts_with("3 of 4 business messages not delivered (75 %"));
}
