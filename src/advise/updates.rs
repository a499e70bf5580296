//! Updates inside an open session or window (seed 000, strategy 4: "provide any relevant
//! updates within that session window"): templates charged while the customer's session
//! (Viber) or window (WhatsApp) was open. Counterfactual: each sent as a free-form message of
//! that session or window. On Viber it becomes a session message (unless it would be one too
//! many in a row or pass the cap: the replay says); on whatsapp-meta a free-form message in the
//! window is free in the per-message era until 2026-10-01, while a template is charged by its
//! category (a utility template in the window is free until then too); on whatsapp-session
//! every message in the window is free already.

use super::{Context, Proposal, Strategy};
use crate::counterfactual::Edit;
use crate::engine::{Charge, Why};
use crate::event::{Direction, Kind};
use crate::rates::Model;

pub struct Updates;

impl Strategy for Updates {
    fn name(&self) -> &'static str {
        "updates in an open session"
    }

    fn applies(&self, _: &Model) -> bool {
        true
    }

    fn propose(&self, cx: &Context) -> Proposal {
        // Per stream: when the customer's session or window closes (0: none open).
        let mut open_until = vec![0i64; cx.log.streams as usize];
        let mut edits = Vec::new();
        for (line, ev) in cx.lines() {
            let o = &line.outcome;
            let until = &mut open_until[ev.stream as usize];
            if ev.direction == Direction::Inbound {
                *until = o.until;
                continue;
            }
            // A Viber session is over once its cap is reached, whatever its hours.
            if matches!(o.why, Why::CapReachedEnded { .. }) {
                *until = 0;
            }
            let template = ev.kind.is_template();
            if template && ev.at < *until && o.charge != Charge::None {
                edits.push(Edit::Retype {
                    event: line.event,
                    kind: Kind::FreeForm,
                });
            }
        }
        let note = cx.model.rules.updates_note;
        Proposal {
            edits,
            note: note.into(),
        }
    }
}
