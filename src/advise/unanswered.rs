//! Unanswered outreach (seed 000, strategy 5: "segment by engagement"): contacts who were sent
//! `--unanswered` business messages or more over the log and never wrote once. Counterfactual:
//! none of those messages sent.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::event::{Direction, Kind};
use crate::rates::Model;

pub struct Unanswered;

impl Strategy for Unanswered {
    fn name(&self) -> &'static str {
        "unanswered outreach"
    }

    fn applies(&self, _: &Model) -> bool {
        true
    }

    fn propose(&self, cx: &Context) -> Proposal {
        // Per contact (over every account): business messages sent, and whether it ever wrote.
        let mut sent = vec![0u32; cx.log.contacts.len()];
        let mut wrote = vec![false; cx.log.contacts.len()];
        for ev in &cx.log.events {
            match ev.direction {
                Direction::Inbound => wrote[ev.contact as usize] = true,
                // A welcome message answers a customer who opened the chat: not outreach.
                Direction::Outbound if ev.kind != Kind::Welcome => {
                    sent[ev.contact as usize] = sent[ev.contact as usize].saturating_add(1)
                }
                Direction::Outbound => {}
            }
        }
        let silent = |c: u32| !wrote[c as usize] && sent[c as usize] >= cx.opts.unanswered.max(1);
        let edits = (cx.log.events.iter().enumerate())
            .filter(|(_, ev)| ev.direction == Direction::Outbound && silent(ev.contact))
            .map(|(i, _)| Edit::Remove { event: i as u32 })
            .collect();
        Proposal {
            edits,
            note: format!(
                "contacts sent {} or more business messages who never replied",
                cx.opts.unanswered.max(1)
            ),
        }
    }
}
