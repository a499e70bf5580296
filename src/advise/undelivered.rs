//! Undelivered (seed 000, strategy 6: "validate numbers before messaging"): numbers none of
//! whose business messages reached a delivered status. Counterfactual: nothing sent to them.
//! Failed messages are never billed (RULES §1 `status`), so the saving is what the rest of
//! their traffic cost (e.g. messages before the number went dead are not counted as failed);
//! the note gives the failed messages' share of all business messages.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::event::{Direction, Event, Kind};
use crate::input::Log;
use crate::rates::Model;

pub struct Undelivered;

/// Whether a business message reached a delivered status: the log's `status` column (a row
/// without one counts as delivered).
pub fn delivered(_log: &Log, ev: &Event) -> bool {
    ev.kind != Kind::NotDelivered
}

impl Strategy for Undelivered {
    fn name(&self) -> &'static str {
        "undelivered"
    }

    fn applies(&self, _: &Model) -> bool {
        true
    }

    fn propose(&self, cx: &Context) -> Proposal {
        let contacts = cx.log.contacts.len();
        let (mut sent, mut reached) = (vec![0u32; contacts], vec![false; contacts]);
        let (mut outbound, mut failed) = (0u64, 0u64);
        for ev in &cx.log.events {
            if ev.direction == Direction::Outbound {
                outbound += 1;
                sent[ev.contact as usize] = sent[ev.contact as usize].saturating_add(1);
                if delivered(cx.log, ev) {
                    reached[ev.contact as usize] = true;
                } else {
                    failed += 1;
                }
            }
        }
        let dead = |c: u32| sent[c as usize] > 0 && !reached[c as usize];
        let edits = (cx.log.events.iter().enumerate())
            .filter(|(_, ev)| ev.direction == Direction::Outbound && dead(ev.contact))
            .map(|(i, _)| Edit::Remove { event: i as u32 })
            .collect();
        let share = (rust_decimal::Decimal::from(failed) * rust_decimal::Decimal::ONE_HUNDRED)
            .checked_div(outbound.into())
            .map(|p| p.round_dp(2))
            .unwrap_or_default();
        Proposal {
            edits,
            note: format!(
                "{failed} of {outbound} business messages not delivered ({share} %, from the log's status column; a row without one counts as delivered)"
            ),
        }
    }
}
