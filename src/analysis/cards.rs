//! The rate cards compared without a log: a typical support conversation and one
//! business-initiated message per country, and session against per-message pricing (seed 000).

use crate::billing::{self, BillingOptions};
use crate::calendar::{date_from_days, month_index};
use crate::error::Result;
use crate::event::{Country, Direction, Event, Kind, MICROS_PER_HOUR};
use crate::input::{Interner, Log};
use crate::rates::fx::Conversion;
use crate::rates::{Card, Model};
use rust_decimal::Decimal;

/// One country's card costs per model, in the report currency; `None` where unpriced.
#[derive(Clone, Debug)]
pub struct CardRow {
    pub country: Country,
    pub support: Vec<Option<Decimal>>,
    pub initiated: Vec<Option<Decimal>>,
}

/// The countries a card comparison shows by default: those with a row of their own on a
/// Viber model's card (the scarce side, docs/billing-rules.md §5); with no Viber model, every listed country.
pub fn default_countries(models: &[&Model]) -> Vec<Country> {
    let list = |viber_only: bool| {
        let mut out = Vec::new();
        for m in models {
            if viber_only && !m.rules.cards_default_countries {
                continue;
            }
            match &m.card {
                Card::Country(c) => out.extend(c.countries()),
                Card::Meta(s) => out.extend(s.markets.countries()),
            }
        }
        out.sort();
        out.dedup();
        out
    };
    match list(true) {
        v if v.is_empty() => list(false),
        v => v,
    }
}

/// A log of one conversation per country, every contact its own, all on `day` at noon UTC.
fn synthetic(countries: &[Country], day: i32, script: &[(Direction, Kind)]) -> Log {
    let date = date_from_days(day);
    let noon = day as i64 * 24 * MICROS_PER_HOUR + 12 * MICROS_PER_HOUR;
    let mut events = Vec::new();
    for (c, &country) in countries.iter().enumerate() {
        for (j, &(direction, kind)) in script.iter().enumerate() {
            events.push(Event {
                at: noon + j as i64 * 60_000_000,
                day,
                line: events.len() as u32 + 2,
                contact: c as u32,
                stream: 0,
                cell: 0,
                country,
                direction,
                kind,
            });
        }
    }
    let mut log = Log::new("(rate cards)".into(), Vec::new());
    log.rows = events.len() as u64;
    log.accounts.push(String::new());
    // Events go in as built, not checked for time order.
    log.in_time_order = false;
    for c in countries {
        log.contacts.push_id(c.as_str());
    }
    let mut ids = Interner::default();
    for mut ev in events {
        ids.assign(&mut log, &mut ev, 0, month_index(date));
        log.events.push(ev);
    }
    log
}

/// Each country's cost of `script` under `model` at card prices (no allowance, tier or fee).
fn price_script(
    model: &Model,
    countries: &[Country],
    day: i32,
    script: &[(Direction, Kind)],
) -> Vec<Option<Decimal>> {
    let log = synthetic(countries, day, script);
    let order = billing::replay_order(&log);
    let opts = BillingOptions {
        accounts: Default::default(),
        keep_lines: false,
        as_of: None,
        list_prices: true,
        pool_runs: false,
    };
    let r = billing::bill(&log, &order, model, &opts);
    countries
        .iter()
        .map(|c| {
            let s = (r.cells.by_country().iter())
                .find(|(cc, _)| cc == c)
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            (s.unpriced == 0).then_some(s.cost)
        })
        .collect()
}

/// A customer-opened support conversation with `n` business replies, customer and business
/// taking turns (so no run of business messages hits the in-a-row limit).
pub fn support_script(n: u32) -> Vec<(Direction, Kind)> {
    let mut s = vec![(Direction::Inbound, Kind::FreeForm)];
    for j in 0..n {
        if j > 0 {
            s.push((Direction::Inbound, Kind::FreeForm));
        }
        s.push((Direction::Outbound, Kind::FreeForm));
    }
    s
}

/// Per country and model: a support conversation of `n` business messages and one
/// business-initiated template (of the model's default category), on `day`.
pub fn compare_cards(
    models: &[&Model],
    conv: &[Conversion],
    countries: &[Country],
    day: i32,
    n: u32,
) -> Result<Vec<CardRow>> {
    let support = support_script(n);
    let initiated = [(Direction::Outbound, Kind::Template)];
    // Per model: (support, initiated) per country.
    type Costs = Vec<Option<Decimal>>;
    let per_model: Vec<(Costs, Costs)> = models
        .iter()
        .zip(conv)
        .map(|(m, c)| {
            let convert = |v: Vec<Option<Decimal>>| -> Result<Costs> {
                v.into_iter()
                    .map(|x| x.map(|d| c.apply(d)).transpose())
                    .collect()
            };
            Ok((
                convert(price_script(m, countries, day, &support))?,
                convert(price_script(m, countries, day, &initiated))?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(countries
        .iter()
        .enumerate()
        .map(|(i, &country)| CardRow {
            country,
            support: per_model.iter().map(|p| p.0[i]).collect(),
            initiated: per_model.iter().map(|p| p.1[i]).collect(),
        })
        .collect())
}

/// Seed 000's question per country: from how many business messages in one conversation does
/// a session beat paying per message?
#[derive(Clone, Debug)]
pub struct SessionVsMessage {
    /// The models that share this card.
    pub models: Vec<String>,
    /// The prices file.
    pub card: String,
    pub currency: String,
    pub country: Country,
    pub session: Decimal,
    /// The per-message (transactional) price.
    pub message: Decimal,
    /// The least number of messages at which the session is cheaper; `None`: never.
    pub from: Option<u64>,
    /// (messages, per-message cost minus the session price).
    pub savings: Vec<(u32, Decimal)>,
}

impl SessionVsMessage {
    /// A saving as a share of the per-message cost, in percent. (No overflow: prices are at
    /// most 1,000 and `n` a u32, so a cost is at most 4.3e12.)
    pub fn percent(&self, n: u32, saving: Decimal) -> Option<Decimal> {
        let cost = self.message * Decimal::from(n);
        (!cost.is_zero()).then(|| saving * Decimal::ONE_HUNDRED / cost)
    }
}

pub const SAVING_AT: [u32; 3] = [5, 10, 15];

/// Every Viber model that charges sessions, per country of its card (or of `only`) on `day`.
pub fn session_vs_message(
    models: &[&Model],
    day: i32,
    only: Option<&[Country]>,
) -> Vec<SessionVsMessage> {
    let mut out: Vec<SessionVsMessage> = Vec::new();
    for m in models {
        let Card::Country(card) = &m.card else {
            continue;
        };
        if !m.rules.session_vs_message || !m.session.charged {
            continue;
        }
        let countries = match only {
            Some(c) => c.to_vec(),
            None => card.countries(),
        };
        for country in countries {
            // Models on the same card give the same row: list them together.
            if let Some(row) = out
                .iter_mut()
                .find(|r| r.country == country && r.card == card.file)
            {
                row.models.push(m.name.clone());
                continue;
            }
            let (Some(session), Some(message)) = (
                card.price(country, day, 0).map(|p| p.amount),
                card.price(country, day, 1).map(|p| p.amount),
            ) else {
                continue;
            };
            let from = if session.is_zero() {
                Some(1)
            } else if message.is_zero() {
                None
            } else {
                u64::try_from((session / message).floor())
                    .ok()
                    .map(|n| n + 1)
            };
            out.push(SessionVsMessage {
                models: vec![m.name.clone()],
                card: card.file.clone(),
                currency: m.currency.clone(),
                country,
                session,
                message,
                from,
                savings: SAVING_AT
                    .iter()
                    .map(|&n| (n, message * Decimal::from(n) - session))
                    .collect(),
            });
        }
    }
    out
}
