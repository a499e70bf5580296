//! Session engines: one per channel's rules. An engine sees every event of the log in time order
//! and says, for each, what it is (session message, business-initiated, ...) and what kind of
//! charge it carries. Prices, allowances and fees are the billing stage's business.

mod viber;
mod whatsapp_session;

pub use viber::ViberEngine;
pub use whatsapp_session::WhatsAppSessionEngine;

use crate::event::{Category, Event};
use crate::rates::{Model, Rules};

/// The charge an outbound message carries, before any price is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charge {
    None,
    /// The once-per-session price (Viber session, WhatsApp user-initiated session).
    Session,
    /// A per-message business-initiated price of this category.
    Message(Category),
}

/// What a message was billed as: the ledger's `billed_as` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Billed {
    Inbound,
    Welcome,
    /// Viber: a message inside an open session.
    Session,
    /// Viber: charged per message.
    BusinessInitiated,
    /// Viber: a message over the limit of messages in a row.
    RejectedInSession,
    /// WhatsApp: a message inside an open customer service window.
    InWindow,
    /// WhatsApp: a template sent outside the window.
    Template,
    /// WhatsApp: a free-form message outside the window, billed as a template.
    OutsideWindow,
}

impl Billed {
    pub fn name(self) -> &'static str {
        match self {
            Billed::Inbound => "inbound",
            Billed::Welcome => "welcome",
            Billed::Session => "session",
            Billed::BusinessInitiated => "business_initiated",
            Billed::RejectedInSession => "rejected_in_session",
            Billed::InWindow => "in_window",
            Billed::Template => "template",
            Billed::OutsideWindow => "outside_window",
        }
    }
}

/// Why an event was treated as it was, for `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    SessionOpened,
    SessionAlreadyOpen,
    WindowOpened { business_initiated: bool },
    WindowRenewed,
    WelcomeIsFree,
    TemplateIsPerMessage,
    FirstBusinessMessage,
    InSession { sent: u32 },
    CapReachedEnded { cap: u32 },
    CapReachedNewSession { cap: u32 },
    InARowLimit { limit: u32, dropped: bool },
    NoOpenSession,
    FirstReplyInWindow,
    InsideWindow,
    TemplateOutsideWindow,
    FreeFormOutsideWindow,
}

impl Why {
    pub fn text(self) -> String {
        match self {
            Why::SessionOpened => "customer message with no open session: opens a session".into(),
            Why::SessionAlreadyOpen => "customer message inside the session: resets the in-a-row count, does not extend it".into(),
            Why::WindowOpened { business_initiated: true } => "customer reply to a template: opens the window; business-initiated session, already charged by the template".into(),
            Why::WindowOpened { business_initiated: false } => "customer message with no open window: opens a user-initiated session and a 24 h window".into(),
            Why::WindowRenewed => "customer message inside the window: renews it for 24 h from now".into(),
            Why::WelcomeIsFree => "welcome message: always free, never opens or counts in a session".into(),
            Why::TemplateIsPerMessage => "template: business-initiated, charged per message whether or not a session is open".into(),
            Why::FirstBusinessMessage => "first business message of the session: the session is charged here".into(),
            Why::InSession { sent } => format!("session message {sent} of the session: covered by the session"),
            Why::CapReachedEnded { cap } => format!("the business already sent {cap} messages: the session is over, this is business-initiated"),
            Why::CapReachedNewSession { cap } => format!("the business already sent {cap} messages: a new session starts here"),
            Why::InARowLimit { limit, dropped: false } => format!("{limit} business messages in a row without a customer reply: Viber rejects it; billed as business-initiated"),
            Why::InARowLimit { limit, dropped: true } => format!("{limit} business messages in a row without a customer reply: Viber rejects it; dropped"),
            Why::NoOpenSession => "free-form message with no open session: business-initiated".into(),
            Why::FirstReplyInWindow => "first business message of a user-initiated session: charged here".into(),
            Why::InsideWindow => "inside the open customer service window: free".into(),
            Why::TemplateOutsideWindow => "template outside the window: charged at the business-initiated rate".into(),
            Why::FreeFormOutsideWindow => "free-form message outside the window cannot be sent: billed as a template".into(),
        }
    }
}

/// What an engine decided for one event.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    pub billed: Billed,
    pub charge: Charge,
    /// The session (Viber) or customer-service session (WhatsApp) the event belongs to.
    pub session: Option<u32>,
    /// The event opened a session.
    pub opened: bool,
    /// The category was not given and the model's default was assumed.
    pub assumed_category: bool,
    /// A rejected message that was dropped rather than billed.
    pub dropped: bool,
    /// When the open session or window ends (UTC microseconds), 0 when none is open.
    pub until: i64,
    pub why: Why,
}

impl Outcome {
    fn new(billed: Billed, charge: Charge, why: Why) -> Outcome {
        Outcome {
            billed,
            charge,
            session: None,
            opened: false,
            assumed_category: false,
            dropped: false,
            until: 0,
            why,
        }
    }
}

/// A channel's session rules, replayed event by event in time order.
pub trait Engine {
    fn replay(&mut self, ev: &Event) -> Outcome;
}

/// The engine a model's rules call for.
pub fn for_model(model: &Model) -> Box<dyn Engine> {
    match model.rules {
        Rules::Viber => Box::new(ViberEngine::new(
            model.session.clone(),
            model.default_category,
        )),
        Rules::WhatsAppSession => Box::new(WhatsAppSessionEngine::new(
            model.window_hours,
            model.default_category,
        )),
    }
}

/// The key of an (account, contact) stream.
fn stream_key(ev: &Event) -> u64 {
    ((ev.account as u64) << 32) | ev.contact as u64
}
