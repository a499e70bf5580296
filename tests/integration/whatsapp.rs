//! docs/billing-rules.md §4: the whatsapp-session model.

use super::*;

#[test]
fn renewed_window_user_and_business_initiated_sessions_and_unanswered_templates() {
    let v = replay_json("whatsapp_session.csv", &["wa"], &[]);
    assert_eq!(total(&v, "wa"), d("0.1600"));
    assert_eq!(count(&v, "wa", "sessions_opened"), 3);
    assert_eq!(count(&v, "wa", "sessions_charged"), 1);
    assert_eq!(count(&v, "wa", "business_initiated_charged"), 3);
    assert_eq!(count(&v, "wa", "outside_window"), 1);
    assert_eq!(count(&v, "wa", "assumed_category"), 1);
    assert_eq!(
        dec(&row(&v, "wa", "countries", "country", "UA")["total"]),
        d("0.0800")
    );
    // DE has no row of its own: the * row prices it
    assert_eq!(
        dec(&row(&v, "wa", "countries", "country", "DE")["total"]),
        d("0.0800")
    );
}

#[test]
fn each_customer_message_renews_the_window_unlike_a_viber_session() {
    let v = replay_json("viber_session.csv", &["wa", "plain"], &[]);
    assert_eq!(total(&v, "wa"), d("0.0200"));
    assert_eq!(total(&v, "plain"), d("0.1300"));
}

#[test]
fn welcome_is_an_ordinary_free_form_message_on_whatsapp() {
    // outside any window: billed as a template of the default category
    let log = "timestamp,contact,direction,kind\n2026-03-02T08:00:00Z,+380501110001,out,welcome\n";
    let v = replay_stdin_json(log, &["wa"], &[]);
    assert_eq!(total(&v, "wa"), d("0.0600"));
    assert_eq!(count(&v, "wa", "outside_window"), 1);
}
