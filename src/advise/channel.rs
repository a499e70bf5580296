//! Channel: per country, the cheapest model for this traffic (`compare`'s per-country costs, in
//! the model's currency), and the saving of moving each country where another model is cheaper.
//! Chosen by `compare`, whose country costs carry a share of the monthly fees, but priced only
//! by replays: the model on the log without the countries that move, plus each cheaper model
//! on the log of the countries that move to it (converted with the rate directory's FX). A
//! message the other channel's rules would not let through as it was (a free-form message
//! outside a WhatsApp window, a sixth in a row on Viber) is sent there as a template.

use super::{replay, Advice, Context};
use crate::analysis::compare;
use crate::billing::{BillingOptions, ModelResult};
use crate::counterfactual::{self, Counterfactual, Edit};
use crate::event::{Country, Direction, Kind};
use crate::rates::fx::{Conversion, FxTable};
use crate::rates::Model;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// A cheaper model's part of the counterfactual: the log of the countries that move to it.
pub struct Moved {
    pub model: String,
    pub countries: Vec<Country>,
    pub after: Counterfactual,
    pub result: ModelResult,
    /// `result`'s total in the advised model's currency.
    pub converted: Decimal,
}

/// The channel line of the model `m` of `models` (each replayed in `now`).
pub fn advise(
    cx: &Context,
    models: &[Model],
    now: &[ModelResult],
    m: usize,
    fx: Option<&FxTable>,
    billing: &BillingOptions,
) -> Advice {
    let mut line = Advice::empty("channel", cx);
    let own: Vec<(String, String)> = (models.iter())
        .map(|x| (x.name.clone(), x.currency.clone()))
        .collect();
    let compared = compare::conversions(&own, &cx.now.currency, fx, None)
        .and_then(|conv| compare::compare(now, &conv, &cx.now.currency).map(|c| (conv, c)));
    let (conv, comparison) = match compared {
        Ok(c) => c,
        Err(e) => {
            line.note = format!("not compared: {e}");
            return line;
        }
    };
    // Each country where another complete model is cheaper, by the model it moves to.
    let mut moves: BTreeMap<usize, Vec<Country>> = BTreeMap::new();
    for row in &comparison.countries {
        if let Some(k) = (row.cheapest).filter(|&k| k != m && row.costs[k] < row.costs[m]) {
            moves.entry(k).or_default().push(row.country);
        }
    }
    if moves.is_empty() {
        line.note = "the cheapest of the models compared in every country of the log".into();
        return line;
    }
    match priced(cx, models, moves, &conv, billing) {
        Ok((rest, parts)) => fill(&mut line, cx, rest, parts),
        Err(e) => line.note = format!("not compared: {e}"),
    }
    line
}

/// The model on the log without the countries that move, and each cheaper model on the log of
/// the countries that move to it (its total converted by `conv`).
fn priced(
    cx: &Context,
    models: &[Model],
    moves: BTreeMap<usize, Vec<Country>>,
    conv: &[Conversion],
    billing: &BillingOptions,
) -> crate::error::Result<((Counterfactual, ModelResult), Vec<Moved>)> {
    let moving: BTreeSet<Country> = moves.values().flatten().copied().collect();
    let log = cx.log;
    let keep = |keep: &dyn Fn(Country) -> bool| -> Vec<Edit> {
        (log.events.iter().enumerate())
            .filter(|(_, ev)| !keep(ev.country))
            .map(|(i, _)| Edit::Remove { event: i as u32 })
            .collect()
    };
    let rest = counterfactual::build(log, &keep(&|c| !moving.contains(&c)), cx.opts.tz);
    let rest_result = replay(&rest.log, cx.model, billing, cx.opts.threads);
    let mut parts = Vec::new();
    for (k, countries) in moves {
        let edits = keep(&|c| countries.contains(&c));
        let (cf, result) = sent_as_allowed(cx, &models[k], edits, billing);
        let converted = conv[k].apply(result.total())?;
        parts.push(Moved {
            model: models[k].name.clone(),
            countries,
            after: cf,
            result,
            converted,
        });
    }
    Ok(((rest, rest_result), parts))
}

/// The line's figures from the replays: the cost after is their sum (an overflow is said, not
/// a panic).
fn fill(line: &mut Advice, cx: &Context, rest: (Counterfactual, ModelResult), parts: Vec<Moved>) {
    let log = cx.log;
    let moving: BTreeSet<Country> = parts.iter().flat_map(|p| p.countries.clone()).collect();
    let after = (parts.iter()).try_fold(rest.1.total(), |a, p| a.checked_add(p.converted));
    let Some(after) = after else {
        line.note = "not compared: the converted totals add up beyond the largest amount".into();
        return;
    };
    let affected: Vec<u32> = (log.events.iter().enumerate())
        .filter(|(_, ev)| ev.direction == Direction::Outbound && moving.contains(&ev.country))
        .map(|(i, _)| i as u32)
        .collect();
    line.messages = affected.len() as u64;
    line.contacts = (affected.iter())
        .map(|&e| log.events[e as usize].contact)
        .collect::<BTreeSet<_>>()
        .len() as u64;
    line.cost_after = after;
    line.note = (parts.iter())
        .map(|p| {
            let c: Vec<String> = p.countries.iter().map(|c| c.to_string()).collect();
            let (total, currency) = (p.result.total(), &p.result.currency);
            format!("{} to {} ({total} {currency} there)", c.join(" "), p.model)
        })
        .collect::<Vec<_>>()
        .join("; ");
    line.affected_cost_now = affected_cost(cx, &moving);
    line.now_lines = super::lines_of(cx, &affected);
    line.affected = affected;
    line.after = Some(rest);
    line.moved = parts;
}

/// The counterfactual `edits` make, replayed through `model`; every message its rules would
/// not let through as it was sent as a template of the model's default category instead.
fn sent_as_allowed(
    cx: &Context,
    model: &Model,
    mut edits: Vec<Edit>,
    billing: &BillingOptions,
) -> (Counterfactual, ModelResult) {
    let cf = counterfactual::build(cx.log, &edits, cx.opts.tz);
    let result = replay(&cf.log, model, billing, cx.opts.threads);
    let retyped: Vec<Edit> = (result.lines.iter())
        .filter(|l| super::forbidden(&l.outcome))
        .filter_map(|l| cf.origin[l.event as usize])
        .map(|event| Edit::Retype {
            event,
            kind: Kind::Template,
        })
        .collect();
    if retyped.is_empty() {
        return (cf, result);
    }
    edits.extend(retyped);
    let cf = counterfactual::build(cx.log, &edits, cx.opts.tz);
    let result = replay(&cf.log, model, billing, cx.opts.threads);
    (cf, result)
}

/// What the model's messages to the countries that move cost now.
fn affected_cost(cx: &Context, moving: &BTreeSet<Country>) -> Decimal {
    (cx.lines())
        .filter(|(_, ev)| moving.contains(&ev.country))
        .map(|(l, _)| l.price.amount())
        .sum()
}
