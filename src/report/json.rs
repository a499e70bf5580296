use super::{account_label, groups, Exporter, GroupBy, Report};
use crate::billing::{FeeItem, ModelResult, Stats, TierFrom};
use crate::event::month_label;
use crate::rates::FeeKind;
use serde_json::{json, Map, Value};
use std::io::Write;

/// One JSON object: `input` and `models`; every amount a decimal string at full precision.
pub struct JsonExporter;

fn stats(s: &Stats) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("messages_in".into(), json!(s.messages_in));
    m.insert("messages_out".into(), json!(s.messages_out));
    m.insert("sessions_opened".into(), json!(s.sessions_opened));
    m.insert("sessions_charged".into(), json!(s.sessions_charged));
    m.insert(
        "business_initiated_charged".into(),
        json!(s.business_initiated_charged),
    );
    m.insert(
        "business_initiated_free".into(),
        json!(s.business_initiated_free),
    );
    m.insert("rejected_in_session".into(), json!(s.rejected_in_session));
    m.insert("dropped".into(), json!(s.dropped));
    m.insert("outside_window".into(), json!(s.outside_window));
    m.insert("assumed_category".into(), json!(s.assumed_category));
    m.insert("unpriced".into(), json!(s.unpriced));
    m.insert("free_tier".into(), json!(s.free_tier));
    m.insert("carried_forward".into(), json!(s.carried_forward));
    m.insert("cost".into(), json!(s.cost.to_string()));
    m
}

fn fee_item(report: &Report, f: &FeeItem) -> Value {
    json!({
        "account": account_label(report.log, f.account),
        "month": month_label(f.month),
        "account_country": f.country.map(|c| c.to_string()),
        "account_country_from": match (f.from, f.country) {
            (TierFrom::Given, _) => "--account-country",
            (TierFrom::HighestTier, Some(_)) => "highest tier of the month's countries",
            (TierFrom::HighestTier, None) => "default tier",
        },
        "kind": match f.kind { FeeKind::Flat => "monthly_fee", FeeKind::Minimum => "minimum_commitment" },
        "tier": f.tier.to_string(),
        "spend": f.spend.to_string(),
        "amount": f.amount.to_string(),
    })
}

fn model(report: &Report, m: &ModelResult) -> Value {
    let totals = m.totals();
    let by = |by: GroupBy, key: &str| -> Vec<Value> {
        groups(m, by, report.log)
            .into_iter()
            .map(|g| {
                let mut o = Map::new();
                o.insert(key.into(), json!(g.key));
                let total = g.total();
                if let Some(f) = g.fees {
                    o.insert("fees".into(), json!(f.to_string()));
                }
                o.extend(stats(&g.stats));
                o.insert("total".into(), json!(total.to_string()));
                Value::Object(o)
            })
            .collect()
    };
    let unpriced: Map<String, Value> = m
        .unpriced_by_country()
        .into_iter()
        .map(|(c, n)| (c.to_string(), json!(n)))
        .collect();
    let mut o = Map::new();
    o.insert("model".into(), json!(m.name));
    o.insert("channel".into(), json!(m.channel));
    o.insert("currency".into(), json!(m.currency));
    o.insert("total".into(), json!(m.total().to_string()));
    o.insert("fees".into(), json!(m.fee_total().to_string()));
    o.insert("complete".into(), json!(totals.unpriced == 0));
    o.insert("unpriced_by_country".into(), Value::Object(unpriced));
    o.insert("totals".into(), Value::Object(stats(&totals)));
    o.insert("countries".into(), json!(by(GroupBy::Country, "country")));
    o.insert("months".into(), json!(by(GroupBy::Month, "month")));
    o.insert("accounts".into(), json!(by(GroupBy::Account, "account")));
    o.insert(
        "fee_items".into(),
        json!(m
            .fees
            .iter()
            .map(|f| fee_item(report, f))
            .collect::<Vec<_>>()),
    );
    Value::Object(o)
}

impl Exporter for JsonExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let log = report.log;
        let doc = json!({
            "input": {
                "file": log.file,
                "rows": log.rows,
                "replayed": log.events.len(),
                "skipped": log.rejects.len(),
                "countries_derived_from_contact": log.countries_derived,
                "tz": report.tz.name(),
            },
            "models": report.models.iter().map(|m| model(report, m)).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
