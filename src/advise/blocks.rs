//! Cap and blocks: messages Viber blocked as one too many in a row (`on_consecutive_limit =
//! "drop"`: never delivered, never billed) and sessions that reached their cap. The
//! alternative to a blocked message is to send it as a template (default category): the
//! counterfactual retypes each, and its "saving" is what delivering them costs (negative).
//! Messages after a cap are already charged per message: the note counts them and their cost.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::engine::Why;
use crate::event::Kind;
use crate::rates::Model;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

pub struct CapAndBlocks;

impl Strategy for CapAndBlocks {
    fn name(&self) -> &'static str {
        "cap and blocks"
    }

    fn applies(&self, model: &Model) -> bool {
        model.channel.advise_sessions
    }

    fn propose(&self, cx: &Context) -> Proposal {
        let mut edits = Vec::new();
        let mut capped = BTreeSet::new();
        let (mut after_cap, mut after_cap_cost) = (0u64, Decimal::ZERO);
        // Per stream: the session that reached its cap and is still the last one.
        let mut over: Vec<Option<u32>> = vec![None; cx.log.streams as usize];
        for (line, ev) in cx.lines() {
            let o = &line.outcome;
            let slot = &mut over[ev.stream as usize];
            if o.opened {
                *slot = None;
            }
            if o.blocked {
                edits.push(Edit::Retype {
                    event: line.event,
                    kind: Kind::Template,
                });
            }
            let ended = matches!(
                o.why,
                Why::CapReachedEnded { .. } | Why::CapReachedNewSession { .. }
            );
            if ended {
                *slot = Some(ev.stream);
                capped.insert((ev.stream, o.session));
            }
            if slot.is_some() && (ended || o.why == Why::NoOpenSession) {
                after_cap += 1;
                after_cap_cost += line.price.amount();
            }
        }
        let s = &cx.model.session;
        Proposal {
            edits,
            note: format!(
                "blocked messages (more than {} in a row) sent as templates instead: the saving is what delivering them costs; {} sessions reached the cap of {} messages, after which {} business messages were charged per message ({} {})",
                s.max_consecutive, capped.len(), s.max_messages, after_cap, after_cap_cost, cx.now.currency
            ),
        }
    }
}
