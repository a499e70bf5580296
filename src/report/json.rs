use super::{
    account_label, groups, scope_label, BreakevenReport, CardsReport, CompareReport, Decision,
    Exporter, GroupBy, Report,
};
use crate::analysis::breakeven::{Pair, Scope};
use crate::analysis::cards::SessionVsMessage;
use crate::analysis::compare::Comparison;
use crate::analysis::curve::Cheaper;
use crate::billing::{FeeItem, ModelResult, Stats, TierFrom};
use crate::event::month_label;
use crate::rates::FeeKind;
use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::io::Write;

/// One JSON object: `input` and `models`; every amount a decimal string at full precision.
pub struct JsonExporter;

fn stats(s: &Stats) -> Map<String, Value> {
    let mut m: Map<String, Value> = s.counts().map(|(k, n)| (k.into(), json!(n))).collect();
    m.insert("cost".into(), json!(s.cost.to_string()));
    m
}

fn fee_item(report: &Report, f: &FeeItem) -> Value {
    let mut item = json!({
        "account": account_label(report.log, f.account),
        "month": month_label(f.month),
        "account_country": f.country.map(|c| c.to_string()),
        "account_country_from": match (f.from, f.country) {
            (TierFrom::Given, _) => "--account-country",
            (TierFrom::File, _) => "accounts file",
            (TierFrom::HighestTier, Some(_)) => "highest tier of the month's countries",
            (TierFrom::HighestTier, None) => "default tier",
        },
        "kind": match f.kind { FeeKind::Flat => "monthly_fee", FeeKind::Minimum => "minimum_commitment" },
        "tier": f.tier.to_string(),
        "spend": f.spend.to_string(),
        "amount": f.amount.to_string(),
    });
    // Only the months a deferred minimum skips carry a note (the other items are unchanged).
    if let Some(n) = f.before_minimum {
        item["note"] = json!(format!(
            "minimum not applied before the account's active month {n} in the log: pays its spend only"
        ));
    }
    item
}

/// `--accounts`: the file, each account of the log with its properties and where each came
/// from (`file`, `flag`, `default`), and the counts of accounts not in the file or not in the log.
fn accounts(report: &Report) -> Option<Value> {
    let (rows, unused) = super::account_props(report)?;
    let not_in_file = rows.iter().filter(|(_, p)| !p.in_file).count();
    let list: Vec<Value> = rows
        .into_iter()
        .map(|(name, p)| {
            json!({
                "account": name,
                "in_file": p.in_file,
                "country": p.country.map(|c| c.to_string()),
                "country_from": p.country_from.name(),
                "registered": p.registered.map(|d| d.to_string()),
                "tz": p.tz.name(),
                "tz_from": p.tz_from.name(),
                "currency": p.currency,
                "currency_from": p.currency_from.name(),
                "portfolio": p.portfolio,
                "portfolio_from": p.portfolio_from.name(),
            })
        })
        .collect();
    Some(json!({
        "file": report.accounts.file(),
        "accounts": list,
        "log_accounts_not_in_file": not_in_file,
        "file_accounts_not_in_log": unused,
    }))
}

/// A group (country, month or account) of a model's report, written straight to the output:
/// its fields in the key order of a `serde_json::Map` (sorted), without a map and a `String`
/// key per field (a log of many accounts has a group per account).
struct GroupJson {
    key: &'static str,
    g: super::Group,
}

fn group(key: &'static str, g: super::Group) -> GroupJson {
    GroupJson { key, g }
}

/// A field of `GroupJson`: text or a count.
enum Field<'a> {
    Text(&'a str),
    Amount(String),
    Count(u64),
}

impl Serialize for GroupJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = &self.g;
        let mut fields: Vec<(&str, Field)> = Vec::with_capacity(Stats::EARLY_COUNTS.len() + 16);
        fields.push((self.key, Field::Text(&g.key)));
        if let Some(f) = g.fees {
            fields.push(("fees", Field::Amount(f.to_string())));
        }
        fields.extend(g.stats.counts().map(|(k, n)| (k, Field::Count(n))));
        fields.push(("cost", Field::Amount(g.stats.cost.to_string())));
        fields.push(("total", Field::Amount(g.total().to_string())));
        fields.sort_unstable_by_key(|f| f.0);
        let mut o = s.serialize_map(Some(fields.len()))?;
        for (k, v) in &fields {
            match v {
                Field::Text(t) => o.serialize_entry(k, t)?,
                Field::Amount(a) => o.serialize_entry(k, a)?,
                Field::Count(n) => o.serialize_entry(k, n)?,
            }
        }
        o.end()
    }
}

/// A list written element by element, each made as it is written: the JSON of a log with many
/// accounts held whole was several times the size of the log.
struct Each<I>(RefCell<Option<I>>);

fn each<I>(items: I) -> Each<I> {
    Each(RefCell::new(Some(items)))
}

impl<I: Iterator<Item = T>, T: Serialize> Serialize for Each<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.borrow_mut().take() {
            Some(items) => s.collect_seq(items),
            None => s.collect_seq(std::iter::empty::<T>()),
        }
    }
}

/// One model's report, written as it goes. Keys in the order a `serde_json::Map` sorts them,
/// as the whole-tree version wrote them.
struct ModelJson<'a> {
    report: &'a Report<'a>,
    m: &'a ModelResult,
}

impl Serialize for ModelJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (report, m) = (self.report, self.m);
        let totals = m.totals();
        let by = |by: GroupBy, key: &'static str| {
            each(
                groups(m, by, report.log)
                    .into_iter()
                    .map(move |g| group(key, g)),
            )
        };
        // Only a model with unpriced messages has a list of them to make.
        let unpriced: Map<String, Value> = match totals.unpriced {
            0 => Map::new(),
            _ => (m.unpriced_by_country().into_iter())
                .map(|(c, n)| (c.to_string(), json!(n)))
                .collect(),
        };
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("accounts", &by(GroupBy::Account, "account"))?;
        // Models with `[international]` only: accounts billed as domestic for lack of a
        // registered date or a country.
        if let Some(n) = m.assumed_domestic {
            o.serialize_entry("accounts_assumed_domestic", &n)?;
        }
        o.serialize_entry("channel", m.channel)?;
        o.serialize_entry("complete", &(totals.unpriced == 0))?;
        o.serialize_entry("countries", &by(GroupBy::Country, "country"))?;
        o.serialize_entry("currency", &m.currency)?;
        o.serialize_entry(
            "fee_items",
            &each(m.fees.iter().map(|f| fee_item(report, f))),
        )?;
        o.serialize_entry("fees", &m.fee_total().to_string())?;
        o.serialize_entry("model", &m.name)?;
        o.serialize_entry("months", &by(GroupBy::Month, "month"))?;
        // `ModelResult::total`, from the totals already summed
        o.serialize_entry("total", &(totals.cost + m.fee_total()).to_string())?;
        o.serialize_entry("totals", &stats(&totals))?;
        o.serialize_entry("unpriced_by_country", &unpriced)?;
        o.end()
    }
}

impl Exporter for JsonExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let log = report.log;
        let mut input = json!({
                "file": log.file,
                "rows": log.rows,
                "replayed": log.replayed(),
                "skipped": log.rejects.len(),
                "countries_derived_from_contact": log.countries_derived,
                "ambiguous_local_times": log.ambiguous_times,
                "tz": report.tz.name(),
        });
        // Only when simcost warned of a likely mapping mistake (the key is absent otherwise).
        if !log.warnings.is_empty() {
            input["warnings"] = json!(log.warnings);
        }
        // Rows folded into the message of their id: rows = replayed + skipped + merged.
        if log.rows_merged > 0 {
            input["rows_merged"] = json!(log.rows_merged);
        }
        let models = report.models.iter().map(|m| ModelJson { report, m });
        let mut w = serde_json::Serializer::pretty(&mut *out);
        let mut doc = w.serialize_map(None).map_err(std::io::Error::other)?;
        // Only with --accounts: without it, `input.tz` and each fee item's
        // `account_country_from` say what applied to every account.
        if let Some(accounts) = accounts(report) {
            doc.serialize_entry("accounts", &accounts)
                .map_err(std::io::Error::other)?;
        }
        (doc.serialize_entry("input", &input))
            .and_then(|_| doc.serialize_entry("models", &each(models)))
            .and_then(|_| doc.end())
            .map_err(std::io::Error::other)?;
        writeln!(out)
    }

    fn compare(&self, r: &CompareReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut doc = header(&r.d);
        doc.insert("comparison".into(), comparison(&r.d, r.comparison));
        doc.insert("breakeven".into(), scopes(&r.d, r.scopes));
        put(out, &Value::Object(doc))
    }

    fn cards(&self, r: &CardsReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut doc = header(&r.d);
        doc.insert("date".into(), json!(r.date.to_string()));
        doc.insert("messages_per_session".into(), json!(r.messages_per_session));
        let amount = |x: Option<rust_decimal::Decimal>| x.map(|d| d.to_string());
        doc.insert(
            "countries".into(),
            r.rows
                .iter()
                .map(|row| {
                    let models: Map<String, Value> =
                        r.d.models
                            .iter()
                            .enumerate()
                            .map(|(i, m)| {
                                (
                                    m.0.clone(),
                                    json!({
                                        "support_conversation": amount(row.support[i]),
                                        "business_initiated": amount(row.initiated[i]),
                                    }),
                                )
                            })
                            .collect();
                    json!({"country": row.country.to_string(), "models": models})
                })
                .collect(),
        );
        doc.insert("session_vs_message".into(), sessions(r.sessions));
        put(out, &Value::Object(doc))
    }

    fn breakeven(&self, r: &BreakevenReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut doc = header(&r.d);
        doc.insert("models_breakeven".into(), scopes(&r.d, r.scopes));
        doc.insert("session_vs_message".into(), sessions(r.sessions));
        if let Some(c) = r.channels {
            doc.insert("channels".into(), comparison(&r.d, c)["countries"].clone());
        }
        put(out, &Value::Object(doc))
    }
}

fn put(out: &mut dyn Write, doc: &Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

fn header(d: &Decision) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(log) = d.log {
        m.insert(
            "input".into(),
            json!({
                "file": log.file,
                "rows": log.rows,
                "replayed": log.replayed(),
                "skipped": log.rejects.len(),
                "ambiguous_local_times": log.ambiguous_times,
            }),
        );
    }
    m.insert("currency".into(), json!(d.currency));
    m.insert(
        "fx".into(),
        d.rates_used
            .iter()
            .map(|r| {
                json!({"date": r.date.to_string(), "base": r.base, "quote": r.quote,
                       "rate": r.rate.to_string(), "source": r.source})
            })
            .collect(),
    );
    m.insert(
        "models".into(),
        d.models
            .iter()
            .map(|(n, c, cur)| json!({"model": n, "channel": c, "currency": cur}))
            .collect(),
    );
    m
}

fn comparison(d: &Decision, c: &Comparison) -> Value {
    let names: Vec<&str> = d.models.iter().map(|m| m.0.as_str()).collect();
    json!({
        "cheapest": c.cheapest.map(|i| names[i]),
        "models": c.columns.iter().map(|col| json!({
            "model": col.model,
            "currency": col.conversion.from,
            "fx_factor": col.conversion.factor().to_string(),
            "messages": col.messages.to_string(),
            "fees": col.fees.to_string(),
            "total": col.total.to_string(),
            "unpriced": col.unpriced,
            "complete": col.complete(),
            "difference_from_cheapest": c.cheapest.map(|_| col.difference.to_string()),
        })).collect::<Vec<_>>(),
        "countries": c.countries.iter().map(|row| json!({
            "country": row.country.to_string(),
            "costs": names.iter().enumerate().map(|(i, n)| (n.to_string(), json!({
                "cost": row.costs[i].to_string(),
                "unpriced": row.unpriced[i],
            }))).collect::<Map<String, Value>>(),
            "cheapest": row.cheapest.map(|i| names[i]),
            "cheapest_channel": row.cheapest.map(|i| c.columns[i].channel),
            "next_by": row.margin.map(|m| m.to_string()),
            "other_channel_best": row.other_channel.map(|(o, _)| names[o]),
            "other_channel_more": row.other_channel.map(|(_, m)| m.to_string()),
        })).collect::<Vec<_>>(),
    })
}

fn scopes(d: &Decision, scopes: &[Scope]) -> Value {
    let names: Vec<&str> = d.models.iter().map(|m| m.0.as_str()).collect();
    let per_model = |f: &dyn Fn(usize) -> Value| {
        (names.iter().enumerate())
            .map(|(i, n)| (n.to_string(), f(i)))
            .collect::<Map<String, Value>>()
    };
    scopes
        .iter()
        .map(|s| {
            let now = s.volume_at(Decimal::ONE);
            json!({
                "account": scope_label(d.log, s.account),
                "months": s.months.round_dp(4).normalize().to_string(),
                "messages_per_month": now.messages.to_string(),
                "business_messages_per_month": now.business.to_string(),
                "sessions_per_month": per_model(&|i| json!(now.sessions[i].to_string())),
                "cost": per_model(&|i| json!(s.cost_at(i, Decimal::ONE).to_string())),
                "complete": per_model(&|i| json!(s.complete(i))),
                "unpriced": per_model(&|i| json!(s.unpriced[i])),
                "pairs": s.pairs.iter().map(|p| pair(s, p, &names)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// One pair of models: the regions where each is cheaper and the crossings between them.
fn pair(s: &Scope, p: &Pair, names: &[&str]) -> Value {
    let name = |c: Cheaper| match c {
        Cheaper::A => names[p.a],
        Cheaper::B => names[p.b],
        Cheaper::Equal => "equal",
    };
    json!({
        "model_a": names[p.a],
        "model_b": names[p.b],
        "complete_a": s.complete(p.a),
        "complete_b": s.complete(p.b),
        "crossings": p.regions.iter().filter_map(|r| r.to).map(|k| {
            let v = s.volume_at(k);
            json!({"k": k.to_string(), "messages_per_month": v.messages.to_string(),
                   "business_messages_per_month": v.business.to_string(),
                   "sessions_a": v.sessions[p.a].to_string(),
                   "sessions_b": v.sessions[p.b].to_string(),
                   "cost": s.cost_at(p.a, k).to_string()})
        }).collect::<Vec<_>>(),
        "regions": p.regions.iter().map(|r| json!({
            "from_k": r.from.to_string(),
            "to_k": r.to.map(|t| t.to_string()),
            "cheaper": name(r.cheaper),
        })).collect::<Vec<_>>(),
    })
}

fn sessions(rows: &[SessionVsMessage]) -> Value {
    rows.iter()
        .map(|r| {
            json!({
                "models": r.models,
                "country": r.country.to_string(),
                "currency": r.currency,
                "session": r.session.to_string(),
                "per_message": r.message.to_string(),
                "session_cheaper_from": r.from,
                "savings": r.savings.iter().map(|(n, s)| json!({
                    "messages": n,
                    "saving": s.to_string(),
                    "percent": r.percent(*n, *s).map(|p| p.round_dp(2).to_string()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}
