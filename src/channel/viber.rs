//! Viber: sessions (docs/billing-rules.md, Viber).

use super::{CardKind, ChannelDef, RuleDef};
use crate::engine::{Billed, Engine, ViberEngine, Why};
use crate::event::Category;
use crate::rates::Model;

pub static CHANNEL: ChannelDef = ChannelDef {
    name: "viber",
    rules: &[&RULES],
    table_count: Some(("rejected", |s| s.rejected_in_session)),
    warn_outside_window: false,
    unread_columns: &[],
    advise_sessions: true,
};

static RULES: RuleDef = RuleDef {
    name: "viber",
    card: CardKind::Country,
    price_columns: &["session", "transactional", "promotional"],
    session_column: 0,
    message_column,
    engine,
    same_engine,
    keys: &[
        "session",
        "international",
        "monthly.free_business_initiated",
    ],
    cards_default_countries: true,
    session_vs_message: true,
    // A template is charged inside a session too, and a session ended by its cap is the
    // cap's strategy: only a free-form message with no open session was late.
    charged_for_lateness: |o| o.billed == Billed::BusinessInitiated && o.why == Why::NoOpenSession,
    updates_note: "templates sent while a session was open, sent as session messages instead",
};

fn message_column(cat: Category) -> usize {
    match cat {
        Category::Utility | Category::Authentication => 1, // transactional
        Category::Marketing => 2,                          // promotional
    }
}

fn engine(model: &Model, _as_of: Option<i32>) -> Box<dyn Engine + '_> {
    Box::new(ViberEngine::new(
        model.session.clone(),
        model.default_category,
    ))
}

/// The session parameters, whatever the prices, fees and whether sessions are charged.
fn same_engine(a: &Model, b: &Model) -> bool {
    let (sa, sb) = (&a.session, &b.session);
    sa.hours == sb.hours
        && sa.max_messages == sb.max_messages
        && sa.after_cap == sb.after_cap
        && sa.max_consecutive == sb.max_consecutive
        && sa.on_consecutive_limit == sb.on_consecutive_limit
}
