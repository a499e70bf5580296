//! SMS: no sessions, no window. Every outbound message is billed per message at the
//! country's `sms` price; an inbound message is free; welcome, template and every kind word
//! are billed alike (docs/billing-rules.md#sms-pricing). Segments: one per message (simcost reads
//! no text and no `segments` column: the decision is in the same section).

use super::{CardKind, ChannelDef, RuleDef};
use crate::engine::{Billed, Charge, Engine, Outcome, Why};
use crate::event::{Category, Direction, Event, Kind};

pub static CHANNEL: ChannelDef = ChannelDef {
    name: "sms",
    rules: &[&RULES],
    // nothing is rejected or outside a window
    table_count: None,
    warn_outside_window: false,
    advise_sessions: false,
    unread_columns: &[("segments", SEGMENTS), ("numsegments", SEGMENTS)],
};

const SEGMENTS: &str = "simcost bills every SMS as one segment (docs/billing-rules.md#sms-pricing): multiply by hand, or price the card per typical message";

static RULES: RuleDef = RuleDef {
    name: "sms",
    card: CardKind::Country,
    price_columns: &["sms"],
    // no session is ever charged
    session_column: 0,
    message_column: |_| 0,
    engine: |m, _| Box::new(SmsEngine(m.default_category)),
    same_engine: |_, _| true,
    settings: super::no_settings,
    keys: &[],
    cards_default_countries: false,
    session_vs_message: false,
    charged_for_lateness: |_| false,
    updates_note: "SMS has no session or window: every outbound message is billed alike",
};

const OUTBOUND: &str = "SMS: every outbound message is billed per message at the country's sms price (1 segment); welcome, template and free-form alike";
const INBOUND: &str = "SMS: an inbound message is free and opens nothing";

/// The SMS rules: no state, each event alone.
struct SmsEngine(Category);

impl Engine for SmsEngine {
    fn run(&mut self, job: &mut dyn crate::engine::EngineJob) {
        job.other(self);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        let (billed, charge, why) = match (ev.direction, ev.kind) {
            (_, Kind::NotDelivered) => return Outcome::not_delivered(),
            (Direction::Inbound, _) => (Billed::Inbound, Charge::None, &INBOUND),
            // The category does not change the price (one `sms` column); it is the
            // template's, else the model's default, for the ledger.
            (Direction::Outbound, kind) => (
                Billed::PerMessage,
                Charge::Message(kind.category().unwrap_or(self.0)),
                &OUTBOUND,
            ),
        };
        Outcome::new(billed, charge, Why::Declared(why))
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::check;
    use crate::rates::{Model, RateSource};

    fn model(default_category: &str) -> Model {
        let text = format!(
            "name = \"t\"\nchannel = \"sms\"\nrules = \"sms\"\ncurrency = \"EUR\"\n\
             prices = \"p.csv\"\ndefault_category = \"{default_category}\"\n"
        );
        let files = [
            ("t.toml", text),
            ("p.csv", "country,effective_from,sms\n*,,0.05\n".into()),
        ];
        let source = RateSource::Memory(files.map(|(n, t)| (n.to_string(), t)).to_vec());
        Model::load(&source, "t.toml").unwrap()
    }

    #[test]
    fn outbound_is_billed_per_message_whatever_its_kind_inbound_is_free() {
        check(
            &model("utility"),
            &[
                ("08:00", "a", "in", "", "inbound -"),
                ("08:01", "a", "out", "", "per_message utility"),
                ("08:02", "a", "out", "welcome", "per_message utility"),
                ("08:03", "a", "out", "template", "per_message utility"),
                ("08:04", "a", "out", "marketing", "per_message marketing"),
            ],
        );
    }
}
