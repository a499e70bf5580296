//! Welcome messages (seed 000, strategy 3; Viber only): contacts who wrote first and were never
//! sent a welcome message. A welcome message is free and never opens or counts in a session
//! (RULES §3), so the counterfactual (a welcome message just before each such contact's first
//! message) is priced by the replay like any other, and the note says what the sessions those
//! contacts opened cost: that is what a welcome message that gets the customer to write does
//! not change.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::engine::Charge;
use crate::event::{Direction, Kind};
use crate::rates::Model;
use rust_decimal::Decimal;

pub struct Welcome;

impl Strategy for Welcome {
    fn name(&self) -> &'static str {
        "welcome messages"
    }

    fn applies(&self, model: &Model) -> bool {
        model.channel.advise_sessions
    }

    fn propose(&self, cx: &Context) -> Proposal {
        // Per stream: its first event, and whether it had a welcome message.
        let streams = cx.log.streams as usize;
        let mut first: Vec<Option<u32>> = vec![None; streams];
        let mut welcomed = vec![false; streams];
        for (line, ev) in cx.lines() {
            let s = ev.stream as usize;
            first[s].get_or_insert(line.event);
            welcomed[s] |= ev.kind == Kind::Welcome && ev.direction == Direction::Outbound;
        }
        let customer_first = |s: usize| {
            !welcomed[s]
                && first[s]
                    .is_some_and(|e| cx.log.events[e as usize].direction == Direction::Inbound)
        };
        let (mut sessions, mut cost) = (0u64, Decimal::ZERO);
        for (line, ev) in cx.lines() {
            if customer_first(ev.stream as usize) && line.outcome.charge == Charge::Session {
                sessions += 1;
                cost += line.price.amount();
            }
        }
        let edits = (0..streams)
            .filter(|&s| customer_first(s))
            .filter_map(|s| first[s])
            .map(|event| Edit::InsertBefore {
                event,
                kind: Kind::Welcome,
            })
            .collect();
        Proposal {
            edits,
            note: format!(
                "contacts who wrote first with no welcome message: a welcome message is free and opens no session; the sessions they opened cost {cost} {} either way ({sessions} sessions with a business reply)",
                cx.now.currency
            ),
        }
    }
}
