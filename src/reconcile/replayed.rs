//! The replay side: the model's billed lines (the ones the ledger shows), taken as billing
//! hands them over, per cell and per outbound message. Nothing is priced here: each line
//! carries billing's price.

use super::{Key, Place, Tally};
use crate::billing::{Line, LineSink, ModelResult, Names, Price};
use crate::engine::{Charge, Why};
use crate::event::{Category, Direction, Event, Kind};
use crate::input::phone;
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

/// Collects one model's billed lines as billing hands them over (a `LineSink`, as the ledger
/// does), so that no line or event need be kept: per cell, and per outbound message only for
/// a bill with one row per message.
pub struct Collector {
    default_category: Category,
    per_message: bool,
    out: Replayed,
    /// The last day seen and its month (days of a log come in runs).
    day_month: (i32, i32),
}

impl Collector {
    pub fn new(model: &Model, tz: chrono_tz::Tz, per_message: bool) -> Collector {
        Collector {
            default_category: model.default_category,
            per_message,
            out: Replayed {
                tz,
                cells: BTreeMap::new(),
                sent: Vec::new(),
                sent_per_month: BTreeMap::new(),
                unpriced: 0,
            },
            day_month: (i32::MIN, 0),
        }
    }

    /// The replay, the model's fees added (under `fee`, in their tier country or `*`).
    pub fn finish(self, result: &ModelResult) -> Replayed {
        let mut r = self.out;
        for f in result.fees.iter().filter(|f| !f.amount.is_zero()) {
            let place = f.country.map(Place::Country).unwrap_or(Place::Any);
            let cell = r.cells.entry((f.month, place, "fee")).or_default();
            cell.quantity += 1;
            cell.amount += f.amount;
        }
        r
    }

    /// The calendar month (in `--tz`) of a day in `--tz`.
    fn month(&mut self, day: i32) -> i32 {
        if self.day_month.0 != day {
            let month = crate::calendar::month_index(crate::calendar::date_from_days(day));
            self.day_month = (day, month);
        }
        self.day_month.1
    }

    fn add(&mut self, line: &Line, ev: &Event, names: &dyn Names) {
        // Blocked messages are not delivered: no provider bills them.
        if ev.direction == Direction::Inbound || line.outcome.blocked {
            return;
        }
        let key = (
            self.month(ev.day),
            Place::Country(ev.country),
            category_of(line, ev, self.default_category),
        );
        let r = &mut self.out;
        *r.sent_per_month.entry(key.0).or_insert(0) += 1;
        let (free, unpriced) = (free_type(line), matches!(line.price, Price::Unpriced));
        let cell = r.cells.entry(key).or_default();
        if unpriced {
            r.unpriced += 1;
        } else if let Some(t) = free {
            cell.free += 1;
            cell.free_tier += (t == "free_tier") as u64;
        } else {
            cell.quantity += 1;
            cell.amount += line.price.amount();
        }
        if !self.per_message {
            return;
        }
        let name = names.contact(ev, &mut [0; 16]).to_string();
        r.sent.push(Sent {
            event: line.event,
            contact: phone::number_key(&name),
            contact_name: name,
            at: ev.at,
            day: ev.day,
            key,
            amount: line.price.amount(),
            free,
            unpriced,
            why: line.outcome.why,
            assumed: line.outcome.assumed_category,
            line: ev.line,
        });
    }
}

impl LineSink for Collector {
    fn take(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        for line in lines {
            self.add(line, &events[(line.event - first) as usize], names);
        }
    }
}

/// The category a line is counted under: the card column that priced it, else what was sent.
fn category_of(line: &Line, ev: &Event, default: Category) -> &'static str {
    match line.outcome.charge {
        Charge::Meta(mc) => mc.column.name(),
        Charge::Message(c) => line.category.unwrap_or(c).name(),
        Charge::Session => "session",
        Charge::International => "international",
        Charge::None => match ev.kind {
            Kind::Marketing | Kind::Utility | Kind::Authentication | Kind::Template => {
                ev.kind.category().unwrap_or(default).name()
            }
            Kind::FreeForm | Kind::Welcome | Kind::EntryPoint => "service",
            Kind::NotDelivered => "not_delivered",
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
