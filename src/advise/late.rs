//! Late replies (seed 000, strategy 2: "respond within the 24-hour window"): business messages
//! charged because the customer's session or window had closed, sent within `--late-within`
//! hours of the customer's last message. Counterfactual: each sent one second before the
//! session or window closed, as a reply (a free-form message: inside a WhatsApp window no
//! template is needed).

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;

use crate::event::{Direction, Kind, MICROS_PER_HOUR};
use crate::rates::Model;

pub struct LateReplies;

/// The moved message lands this long before the close: the last whole second of the window.
const BEFORE_CLOSE: i64 = 1_000_000;

impl Strategy for LateReplies {
    fn name(&self) -> &'static str {
        "late replies"
    }

    fn applies(&self, _: &Model) -> bool {
        true
    }

    fn propose(&self, cx: &Context) -> Proposal {
        let within = cx.opts.late_within_hours.saturating_mul(MICROS_PER_HOUR);
        // Per stream: the customer's last message and when its session or window closes.
        let mut last: Vec<Option<(i64, i64)>> = vec![None; cx.log.streams as usize];
        let mut edits = Vec::new();
        for (line, ev) in cx.lines() {
            let o = &line.outcome;
            let slot = &mut last[ev.stream as usize];
            if ev.direction == Direction::Inbound {
                *slot = Some((ev.at, o.until));
                continue;
            }
            let Some((customer, closes)) = *slot else {
                continue;
            };
            let late = ev.at >= closes && ev.at - customer <= within && closes > customer;
            if late && charged_for_lateness(cx.model, o) {
                let event = line.event;
                edits.push(Edit::Move {
                    event,
                    to: closes - BEFORE_CLOSE,
                });
                if ev.kind != Kind::FreeForm {
                    edits.push(Edit::Retype {
                        event,
                        kind: Kind::FreeForm,
                    });
                }
            }
        }
        Proposal {
            edits,
            note: String::new(),
        }
    }
}

/// Whether the message was charged because nothing was open: on Viber a free-form message
/// with no open session (a template is charged inside a session too, and a session ended by
/// its cap is the cap's strategy); on WhatsApp any charged message.
fn charged_for_lateness(model: &Model, o: &crate::engine::Outcome) -> bool {
    (model.rules.charged_for_lateness)(o)
}
