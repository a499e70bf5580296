//! The replay side: the model's billed lines (the ones the ledger shows), per cell and per
//! outbound message. Nothing is priced here: each line carries billing's price.

use super::{Key, Place, Tally};
use crate::billing::{Line, ModelResult, Price};
use crate::engine::{Charge, Why};
use crate::event::{Direction, Event, Kind};
use crate::input::{phone, Log};
use crate::rates::Model;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One outbound message of the log as the model billed it.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Index into `Log::events`.
    pub event: u32,
    /// The contact's digits as a number, `None` for an opaque id.
    pub contact: Option<u64>,
    pub contact_name: String,
    pub at: i64,
    pub day: i32,
    pub key: Key,
    pub amount: Decimal,
    /// Why it cost nothing (`free_customer_service`, `free_tier`, ...); `None` when charged.
    pub free: Option<&'static str>,
    /// The card could not price it.
    pub unpriced: bool,
    /// simcost's reason (`reason` puts it in words, as `explain` does).
    pub why: Why,
    /// No category was given: the model's default was assumed.
    pub assumed: bool,
    pub line: u32,
}

/// The model's replay of the log, per cell and per outbound message.
#[derive(Debug)]
pub struct Replayed {
    /// The zone of calendar months (`--tz`), for the bill's instants too.
    pub tz: chrono_tz::Tz,
    pub cells: BTreeMap<Key, Tally>,
    pub sent: Vec<Sent>,
    /// Outbound messages per month (to count those the bill does not cover).
    pub sent_per_month: BTreeMap<i32, u64>,
    pub unpriced: u64,
}

impl Sent {
    /// simcost's reason in words, as `explain` gives it.
    pub fn reason(&self) -> String {
        let mut why = self.why.text();
        if self.assumed {
            why.push_str(" [no category given: the model's default]");
        }
        why
    }
}

/// The replay of `result` (billed with its lines kept) of `model` over `log`; each outbound
/// message kept in `sent` only when `per_message` (a bill with one row per message).
pub fn replayed(
    log: &Log,
    result: &ModelResult,
    model: &Model,
    tz: chrono_tz::Tz,
    per_message: bool,
) -> Replayed {
    let mut r = Replayed {
        tz,
        cells: BTreeMap::new(),
        sent: Vec::new(),
        sent_per_month: BTreeMap::new(),
        unpriced: 0,
    };
    for line in &result.lines {
        let ev = &log.events[line.event as usize];
        // Blocked messages are not delivered: no provider bills them.
        if ev.direction == Direction::Inbound || line.outcome.blocked {
            continue;
        }
        let sent = sent(log, line, ev, model, per_message);
        *r.sent_per_month.entry(sent.key.0).or_insert(0) += 1;
        let cell = r.cells.entry(sent.key).or_default();
        if sent.unpriced {
            r.unpriced += 1;
        } else if let Some(t) = sent.free {
            cell.free += 1;
            cell.free_tier += (t == "free_tier") as u64;
        } else {
            cell.quantity += 1;
            cell.amount += sent.amount;
        }
        if per_message {
            r.sent.push(sent);
        }
    }
    for f in result.fees.iter().filter(|f| !f.amount.is_zero()) {
        let place = f.country.map(Place::Country).unwrap_or(Place::Any);
        let cell = r.cells.entry((f.month, place, "fee")).or_default();
        cell.quantity += 1;
        cell.amount += f.amount;
    }
    r
}

/// One outbound line; its contact named only `with_contact` (per-message bills).
fn sent(log: &Log, line: &Line, ev: &Event, model: &Model, with_contact: bool) -> Sent {
    let name = match with_contact {
        true => log.contact_name(ev.contact).into_owned(),
        false => String::new(),
    };
    Sent {
        event: line.event,
        contact: phone::number_key(&name),
        contact_name: name,
        at: ev.at,
        day: ev.day,
        key: (
            log.month_of(ev),
            Place::Country(ev.country),
            category_of(line, ev, model),
        ),
        amount: line.price.amount(),
        free: free_type(line),
        unpriced: matches!(line.price, Price::Unpriced),
        why: line.outcome.why,
        assumed: line.outcome.assumed_category,
        line: ev.line,
    }
}

/// The category a line is counted under: the card column that priced it, else what was sent.
fn category_of(line: &Line, ev: &Event, model: &Model) -> &'static str {
    match line.outcome.charge {
        Charge::Meta(mc) => mc.column.name(),
        Charge::Message(c) => line.category.unwrap_or(c).name(),
        Charge::Session => "session",
        Charge::None => match ev.kind {
            Kind::Template(c) => c.unwrap_or(model.default_category).name(),
            Kind::FreeForm | Kind::Welcome => "service",
        },
    }
}

/// Why a line cost nothing, in the webhook's words where they exist.
fn free_type(line: &Line) -> Option<&'static str> {
    match line.price {
        Price::Priced { .. } | Price::Unpriced => None,
        Price::Allowance => Some("free_tier"),
        Price::FreeSession => Some("free_session"),
        Price::Free => Some(match line.outcome.why {
            Why::UtilityInWindowFree
            | Why::FreeFormFree
            | Why::InsideWindow
            | Why::InOpenConversation
            | Why::ServiceConversationOpened { .. } => "free_customer_service",
            Why::WelcomeIsFree => "free_welcome",
            Why::InSession { .. } => "free_in_session",
            _ => "free",
        }),
    }
}
