//! Viber: sessions (docs/billing-rules.md, Viber).

use super::{CardKind, ChannelDef, RuleDef, Settings};
use crate::engine::{Billed, Engine, ViberEngine, Why};
use crate::error::Result;
use crate::event::Category;
use crate::rates::setting::{self, Count, Date, Hours};
use crate::rates::Model;
use serde::Deserialize;

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
    settings,
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

/// A Viber session's rules (`[session]`; docs/billing-rules.md, Viber).
#[derive(Clone, Debug)]
pub struct SessionParams {
    pub hours: i64,
    pub max_messages: u32,
    pub after_cap: AfterCap,
    pub max_consecutive: u32,
    pub on_consecutive_limit: OnLimit,
    /// Whether a session costs the country's session rate (at its first business message).
    pub charged: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterCap {
    /// The session is over; the next one needs a customer message.
    End,
    /// A new session starts at the message over the cap.
    NewSession,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnLimit {
    /// Bill the message Viber rejects as a business-initiated message.
    BusinessInitiated,
    /// Count it and bill nothing.
    Drop,
}

impl Default for SessionParams {
    /// Viber's published session: 24 hours, 60 messages, 5 business messages in a row.
    fn default() -> SessionParams {
        SessionSection::default().into()
    }
}

/// The model-file sections Viber's rules read.
#[derive(Deserialize)]
struct Sections {
    session: Option<SessionSection>,
    international: Option<InternationalSection>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SessionSection {
    hours: Option<Hours>,
    max_messages: Option<Count>,
    after_cap: Option<AfterCap>,
    max_consecutive: Option<Count>,
    // Viber rejects the message: not delivered, not billed (docs/billing-rules.md#viber-in-a-row).
    on_consecutive_limit: Option<OnLimit>,
    charged: Option<bool>,
}

impl From<SessionSection> for SessionParams {
    fn from(s: SessionSection) -> SessionParams {
        SessionParams {
            hours: s.hours.map_or(24, |h| h.0),
            max_messages: s.max_messages.map_or(60, |n| n.0 as u32),
            after_cap: s.after_cap.unwrap_or(AfterCap::End),
            max_consecutive: s.max_consecutive.map_or(5, |n| n.0 as u32),
            on_consecutive_limit: s.on_consecutive_limit.unwrap_or(OnLimit::Drop),
            charged: s.charged.unwrap_or(true),
        }
    }
}

/// `[international]`: accounts registered from this date pay international rates abroad
/// (docs/billing-rules.md#viber-domestic-and-international).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InternationalSection {
    registered_from: Date,
}

fn settings(file: &str, model: &toml::Value) -> Result<Settings> {
    let s: Sections = setting::read(file, "", model)?;
    Ok(Settings {
        session: s.session.unwrap_or_default().into(),
        international_from: s.international.map(|i| i.registered_from.0),
        ..Settings::default()
    })
}
