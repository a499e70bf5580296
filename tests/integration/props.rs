//! Invariants over random logs (proptest), through the library: the same answer whatever the
//! row order, ledgers that add up, additivity by contact, and monotone totals.

use proptest::prelude::*;
use rust_decimal::Decimal;
use simcost::billing::{bill_all, replay_order, ModelResult};
use simcost::input::{read_from, Log};
use simcost::rates::{Card, Model, RateSet, RateSource};
use std::sync::OnceLock;

/// One row: minutes from 2026-03-30 00:00Z (the window crosses a month end), contact,
/// inbound?, kind, account.
type Row = (u32, usize, bool, usize, usize);

const CONTACTS: [&str; 6] = [
    "+380501110001",
    "+380501110002",
    "+4915112345678",
    "+359881234567",
    "+971501234567",
    "+48501234567",
];
const KINDS: [&str; 5] = ["", "promotional", "transactional", "template", "welcome"];
const ACCOUNTS: [&str; 2] = ["a", "b"];

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            0u32..4 * 24 * 60,
            0..CONTACTS.len(),
            any::<bool>(),
            0..KINDS.len(),
            0..ACCOUNTS.len(),
        ),
        1..60,
    )
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from("timestamp,contact,direction,kind,account\n");
    for &(min, c, inbound, k, a) in rows {
        let t = chrono::DateTime::from_timestamp(1_774_828_800 + min as i64 * 60, 0).unwrap();
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            CONTACTS[c],
            if inbound { "in" } else { "out" },
            if inbound { "" } else { KINDS[k] },
            ACCOUNTS[a]
        ));
    }
    s
}

/// The shipped models plus the test models (which have no fees, allowances or free tiers).
fn models() -> &'static (Vec<Model>, Vec<Model>) {
    static M: OnceLock<(Vec<Model>, Vec<Model>)> = OnceLock::new();
    M.get_or_init(|| {
        let shipped = RateSet::load(&RateSource::Embedded).unwrap().models;
        let test = RateSet::load(&RateSource::Dir(crate::test_rates().into()))
            .unwrap()
            .select(&[
                "plain".into(),
                "wa".into(),
                "drop".into(),
                "newsession".into(),
            ])
            .unwrap();
        (shipped, test)
    })
}

fn read(text: &str) -> Log {
    read_from("p.csv".into(), text.as_bytes(), &crate::read_options(2)).unwrap()
}

fn bill(log: &Log, models: &[Model], keep_lines: bool) -> Vec<ModelResult> {
    let opts = crate::billing_options(keep_lines);
    bill_all(log, Some(&replay_order(log)), models, &opts, 1)
}

fn json(log: &Log, results: &[ModelResult]) -> String {
    crate::report_json(log, results)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn row_order_does_not_change_the_answer(rows in rows(), seed in any::<u64>()) {
        // A permutation that keeps each contact's same-instant rows in their order.
        let mut shuffled: Vec<(u64, usize, Row)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (seed.wrapping_mul(i as u64 + 1).rotate_left(17) ^ seed, i, *r))
            .collect();
        shuffled.sort_by_key(|x| x.0);
        // Restore the relative order of same-contact, same-instant rows.
        let mut groups: std::collections::HashMap<(u32, usize), Vec<usize>> = Default::default();
        for (_, i, r) in &rows.iter().enumerate().map(|(i, r)| (0, i, *r)).collect::<Vec<_>>() {
            groups.entry((r.0, r.1)).or_default().push(*i);
        }
        let mut next: std::collections::HashMap<(u32, usize), usize> = Default::default();
        let permuted: Vec<Row> = shuffled
            .iter()
            .map(|(_, _, r)| {
                let k = next.entry((r.0, r.1)).or_insert(0);
                let original = rows[groups[&(r.0, r.1)][*k]];
                *k += 1;
                original
            })
            .collect();
        let (shipped, test) = models();
        for set in [shipped, test] {
            let a = read(&csv(&rows));
            let b = read(&csv(&permuted));
            prop_assert_eq!(json(&a, &bill(&a, set, false)), json(&b, &bill(&b, set, false)));
        }
    }

    #[test]
    fn totals_are_the_sum_of_the_ledger(rows in rows()) {
        let log = read(&csv(&rows));
        for r in bill(&log, &models().0, true) {
            let lines: Decimal = r.lines.iter().map(|l| l.price.amount()).sum();
            prop_assert_eq!(lines, r.totals().cost, "{}", r.name);
            prop_assert_eq!(r.lines.len(), log.events.len());
            let fees: Decimal = r.fees.iter().map(|f| f.amount).sum();
            prop_assert_eq!(lines + fees, r.total(), "{}", r.name);
        }
    }

    #[test]
    fn splitting_by_contact_adds_up(rows in rows()) {
        // Models without fees, allowances or free tiers price each contact on its own.
        let (_, test) = models();
        let whole = bill(&read(&csv(&rows)), test, false);
        let part = |even: bool| -> Vec<Decimal> {
            let r: Vec<Row> = rows.iter().copied().filter(|r| (r.1 % 2 == 0) == even).collect();
            if r.is_empty() {
                return vec![Decimal::ZERO; test.len()];
            }
            bill(&read(&csv(&r)), test, false).iter().map(|m| m.total()).collect()
        };
        let (a, b) = (part(true), part(false));
        for (i, m) in whole.iter().enumerate() {
            prop_assert_eq!(m.total(), a[i] + b[i], "{}", m.name);
        }
    }

    #[test]
    fn an_outbound_message_never_lowers_a_total(rows in rows(), extra in (0u32..4 * 24 * 60, 0..CONTACTS.len(), 0..KINDS.len(), 0..ACCOUNTS.len())) {
        let (shipped, test) = models();
        let mut more = rows.clone();
        more.push((extra.0, extra.1, false, extra.2, extra.3));
        for set in [shipped, test] {
            let before = bill(&read(&csv(&rows)), set, false);
            let after = bill(&read(&csv(&more)), set, false);
            for (b, a) in before.iter().zip(&after) {
                prop_assert!(a.total() >= b.total(), "{}: {} -> {}", b.name, b.total(), a.total());
            }
        }
    }
}

/// The shipped models with allowances and free tiers of 2, and the test model `legacy` (2 free
/// a month): pools that run out among a few messages.
fn small_pool_models() -> &'static Vec<Model> {
    static M: OnceLock<Vec<Model>> = OnceLock::new();
    M.get_or_init(|| {
        let mut models = RateSet::load(&RateSource::Embedded).unwrap().models;
        for m in &mut models {
            if m.monthly.free_business_initiated > 0 {
                m.monthly.free_business_initiated = 2;
            }
            if let Card::Meta(spec) = &mut m.card {
                for era in &mut spec.eras {
                    if era.free_tier > 0 {
                        era.free_tier = 2;
                    }
                }
            }
        }
        models.extend(
            RateSet::load(&RateSource::Dir(crate::test_rates().into()))
                .unwrap()
                .select(&["legacy".into()])
                .unwrap(),
        );
        models
    })
}

#[test]
fn a_time_ordered_log_billed_in_row_order_gives_the_replay_orders_answer() {
    // Billing without an order (what `replay` does) takes a time-ordered log in row order and
    // sorts an instant's messages only where a pool runs out among them. Random logs with many
    // messages per instant, around a month end, in a conversation era, a service-conversation
    // era and the per-message era with a free tier of service messages.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let models = small_pool_models();
    let opts = crate::billing_options(false);
    let mut order_mattered = 0;
    for case in 0..150 {
        let start = ["2023-03-30", "2023-10-30", "2026-10-30"][case % 3];
        let base = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        let mut rows: Vec<(i64, usize, bool, usize, usize)> = (0..rng.gen_range(5..80))
            .map(|_| {
                (
                    base + rng.gen_range(0..12) * 6 * 3600,
                    rng.gen_range(0..CONTACTS.len()),
                    rng.gen_bool(0.3),
                    rng.gen_range(0..KINDS.len() + 2),
                    rng.gen_range(0..ACCOUNTS.len()),
                )
            })
            .collect();
        rows.sort_by_key(|r| r.0);
        let mut text = String::from("timestamp,contact,direction,kind,account\n");
        for &(at, c, inbound, k, a) in &rows {
            // Kinds past the list are free-form replies ("service" in the Meta eras).
            let kind = KINDS.get(k).copied().unwrap_or("service");
            let kind = if inbound { "" } else { kind };
            let dir = if inbound { "in" } else { "out" };
            text += &format!("{at},{},{dir},{kind},{}\n", CONTACTS[c], ACCOUNTS[a]);
        }
        let log = read(&text);
        assert!(log.in_time_order);
        let want = json(
            &log,
            &bill_all(&log, Some(&replay_order(&log)), models, &opts, 1),
        );
        let got = json(&log, &bill_all(&log, None, models, &opts, 1));
        assert_eq!(got, want, "case {case}:\n{text}");
        // Not a vacuous pass: in some cases plain row order would have given another answer.
        let rows_order: Vec<u32> = (0..log.events.len() as u32).collect();
        order_mattered +=
            (json(&log, &bill_all(&log, Some(&rows_order), models, &opts, 1)) != want) as u32;
    }
    assert!(order_mattered >= 10, "{order_mattered}");
}
