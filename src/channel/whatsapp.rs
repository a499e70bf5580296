//! WhatsApp: the customer service window, priced by session (whatsapp-session) or by Meta's
//! market cards (whatsapp-meta) (docs/billing-rules.md, WhatsApp).

use super::{CardKind, ChannelDef, RuleDef};
use crate::engine::{Charge, Engine, WhatsAppMetaEngine, WhatsAppSessionEngine};
use crate::rates::{Card, Model};

pub static CHANNEL: ChannelDef = ChannelDef {
    name: "whatsapp",
    rules: &[&SESSION, &META],
    table_count: Some(("outside window", |s| s.outside_window)),
    warn_outside_window: true,
    unread_columns: &[],
    advise_sessions: false,
};

static SESSION: RuleDef = RuleDef {
    name: "whatsapp-session",
    card: CardKind::Country,
    price_columns: &["user_initiated", "business_initiated"],
    session_column: 0,     // user_initiated
    message_column: |_| 1, // business_initiated
    engine: session_engine,
    same_engine: |a, b| a.window_hours == b.window_hours,
    keys: &["window", "monthly.free_business_initiated"],
    cards_default_countries: false,
    session_vs_message: false,
    charged_for_lateness: |o| o.charge != Charge::None,
    updates_note: "every message inside an open window is free already",
};

static META: RuleDef = RuleDef {
    name: "whatsapp-meta",
    // Meta cards have their own format (see rates/meta.rs)
    card: CardKind::Meta,
    price_columns: &[],
    session_column: 0,
    message_column: |_| 1,
    engine: meta_engine,
    // A Meta engine carries its markets and eras.
    same_engine: |_, _| false,
    keys: &["window", "conversation", "era", "markets", "tiers"],
    cards_default_countries: false,
    session_vs_message: false,
    charged_for_lateness: |o| o.charge != Charge::None,
    updates_note: "a marketing template inside an open window is charged by its category (a utility one is free there until 2026-10-01); sent as free-form messages of the window",
};

fn meta_engine(model: &Model, as_of: Option<i32>) -> Box<dyn Engine + '_> {
    match &model.card {
        Card::Meta(spec) => Box::new(WhatsAppMetaEngine::new(
            spec,
            model.window_hours,
            model.default_category,
            as_of,
        )),
        // A whatsapp-meta model always carries a Meta card (rates/model.rs).
        Card::Country(_) => session_engine(model, as_of),
    }
}

fn session_engine(model: &Model, _as_of: Option<i32>) -> Box<dyn Engine + '_> {
    Box::new(WhatsAppSessionEngine::new(
        model.window_hours,
        model.default_category,
    ))
}
