//! Session engines: one per channel's rules. An engine sees every event of the log in time order
//! and says, for each, what it is (session message, business-initiated, ...) and what kind of
//! charge it carries. Prices, allowances and fees are the billing stage's business.

#[cfg(test)]
pub(crate) mod testing;
mod viber;
mod whatsapp_meta;
mod whatsapp_session;

pub use viber::{InternationalEngine, ViberEngine, ViberRules};
pub use whatsapp_meta::WhatsAppMetaEngine;
pub use whatsapp_session::WhatsAppSessionEngine;

use crate::event::{Category, Country, Event};
use crate::rates::meta::{FreeTierCounts, MetaColumn};
use crate::rates::Model;

/// The charge an outbound message carries, before any price is looked up.
/// With a tag byte of its own (`repr(u8)`): its kind was kept in a spare value of a field of
/// `MetaCharge`, and each biller's `match` on it took 14 instructions an event to decode it
/// (issue 24); an outcome stays 64 bytes, `Why` being 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Charge {
    None,
    /// The once-per-session price (Viber session, WhatsApp user-initiated session).
    Session,
    /// A per-message business-initiated price of this category.
    Message(Category),
    /// A price from a Meta market card (whatsapp-meta).
    Meta(MetaCharge),
    /// Viber: a per-message price from the card's `international` column.
    International,
}

/// A whatsapp-meta charge: which card column prices it, on which day, and which monthly free
/// tier it draws on first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaCharge {
    pub column: MetaColumn,
    pub free_tier: Option<(FreeTierCounts, u32)>,
    /// The day whose market and card apply (the message's date, or `--as-of`).
    pub price_day: i32,
    /// The era prices utility and authentication by the tier card's volume bands.
    pub volume_tiers: bool,
    /// The era prices authentication from a business located in another country at the
    /// market's authentication-international rate.
    pub international: bool,
    /// A conversation charge (conversation eras) rather than a per-message one.
    pub conversation: bool,
    /// The free tier counts per business phone number, not per account (2026-10-01).
    pub per_number: bool,
}

/// What a message was billed as: the ledger's `billed_as` column. The three a biller counts
/// by it come last (`counted_apart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Billed {
    Inbound,
    Welcome,
    /// Viber: a message inside an open session.
    Session,
    /// Viber: charged per message.
    BusinessInitiated,
    /// WhatsApp: a message inside an open customer service window.
    InWindow,
    /// WhatsApp: a template sent outside the window.
    Template,
    /// Charged per message, nothing open or opened (a channel without sessions: SMS).
    PerMessage,
    /// whatsapp-meta: the message opened a conversation.
    Conversation,
    /// whatsapp-meta: covered by an open conversation.
    InConversation,
    /// whatsapp-meta (from 2026-10-01): a free-form message charged at the utility rate.
    ServiceMessage,
    /// Viber: a message outside the account's home country, at the international price.
    International,
    /// whatsapp-meta (per-message eras): inside a free entry point window, free.
    FreeEntryPoint,
    /// Viber: a message over the limit of messages in a row.
    RejectedInSession,
    /// WhatsApp: a free-form message outside the window, billed as a template.
    OutsideWindow,
    /// A message not delivered: its status says it never arrived, or Meta paused marketing to
    /// its country. Not billed, opens nothing.
    NotDelivered,
}

impl Billed {
    /// Whether a biller counts the message by what it was billed as (`RejectedInSession`,
    /// `OutsideWindow`, `NotDelivered`: the last three variants, told apart from the usual
    /// others by one compare; a `match` on the three was seven instructions an event).
    #[inline(always)]
    pub fn counted_apart(self) -> bool {
        self as u8 >= Billed::RejectedInSession as u8
    }

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
            Billed::PerMessage => "per_message",
            Billed::Conversation => "conversation",
            Billed::InConversation => "in_conversation",
            Billed::ServiceMessage => "service_message",
            Billed::International => "international",
            Billed::NotDelivered => "not_delivered",
            Billed::FreeEntryPoint => "free_entry_point",
        }
    }
}

/// Why an event was treated as it was, for `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    SessionOpened,
    SessionAlreadyOpen,
    WindowOpened {
        business_initiated: bool,
    },
    WindowRenewed,
    WelcomeIsFree,
    TemplateIsPerMessage,
    FirstBusinessMessage,
    InSession {
        sent: u32,
    },
    CapReachedEnded {
        cap: u32,
    },
    CapReachedNewSession {
        cap: u32,
    },
    InARowLimit {
        limit: u32,
        blocked: bool,
    },
    NoOpenSession,
    FirstReplyInWindow,
    InsideWindow,
    TemplateOutsideWindow,
    FreeFormOutsideWindow,
    WindowOpenedForReplies,
    BeforeFirstEra,
    InOpenConversation,
    ConversationOpened {
        user_initiated: bool,
    },
    CategoryConversationOpened {
        category: Category,
    },
    ServiceConversationOpened {
        free: bool,
    },
    PerMessageTemplate,
    UtilityInWindowFree,
    FreeFormFree,
    ServiceMessageCharged,
    /// Viber: the account is billed international rates and `home` is its country.
    International {
        home: Country,
        inbound: bool,
    },
    NotDelivered,
    MarketingPaused,
    /// A channel's own wording (src/channel), for a channel whose rules need no parameters.
    /// A reference to it (8 bytes, not a string's 16): `Why` is then 16 bytes and an outcome
    /// 64 with `Charge`'s tag.
    Declared(&'static &'static str),
    /// whatsapp-meta: in a free entry point window (`opened`: this reply opened it).
    FreeEntryPoint {
        opened: bool,
    },
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
            Why::InARowLimit { limit, blocked: false } => format!("{limit} business messages in a row without a customer reply: Viber rejects it; billed as business-initiated"),
            Why::InARowLimit { limit, blocked: true } => format!("{limit} business messages in a row without a customer reply: Viber blocks it; not delivered, not billed"),
            Why::NoOpenSession => "free-form message with no open session: business-initiated".into(),
            Why::FirstReplyInWindow => "first business message of a user-initiated session: charged here".into(),
            Why::InsideWindow => "inside the open customer service window: free".into(),
            Why::TemplateOutsideWindow => "template outside the window: charged at the business-initiated rate".into(),
            Why::FreeFormOutsideWindow => "free-form message outside the window cannot be sent: billed as a template".into(),
            Why::WindowOpenedForReplies => "customer message: opens the customer service window for 24 h".into(),
            Why::BeforeFirstEra => "before the first pricing era of the model: no rules or prices".into(),
            Why::InOpenConversation => "covered by the open conversation".into(),
            Why::ConversationOpened { user_initiated: true } => "no open conversation, window open: opens a user-initiated conversation (24 h)".into(),
            Why::ConversationOpened { user_initiated: false } => "no open conversation, window closed: opens a business-initiated conversation (24 h)".into(),
            Why::CategoryConversationOpened { category } => format!("no open {} conversation: opens one (24 h)", category.name()),
            Why::ServiceConversationOpened { free: false } => "free-form reply with no open conversation: opens a service conversation (24 h)".into(),
            Why::ServiceConversationOpened { free: true } => "free-form reply with no open conversation: opens a service conversation, free since 2024-11-01".into(),
            Why::PerMessageTemplate => "template: charged per message by its category".into(),
            Why::UtilityInWindowFree => "utility template inside the open window: free".into(),
            Why::FreeFormFree => "free-form message inside the window: free".into(),
            Why::ServiceMessageCharged => "free-form (service) message: the market's utility rate after the month's free tier".into(),
            Why::International { home, inbound: true } => format!("customer message from outside the account's home country {home} (registered on or after [international] registered_from): opens no session"),
            Why::International { home, inbound: false } => format!("international: outside the account's home country {home} (registered on or after [international] registered_from): per message at the international price, no session"),
            Why::NotDelivered => "its status says it was not delivered (failed, undelivered, rejected or expired): not billed, opens nothing".into(),
            Why::Declared(text) => (*text).into(),
            Why::FreeEntryPoint { opened: true } => "first reply within 24 h to a customer who came from an ad or a Page call-to-action: opens a free entry point window (every message free for its hours)".into(),
            Why::FreeEntryPoint { opened: false } => "inside the free entry point window: free, templates included".into(),
            Why::MarketingPaused => "marketing template to a country where Meta paused marketing (US numbers from 2025-04-01): not delivered, not billed".into(),
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
    /// A message over the in-a-row limit that Viber blocked: not delivered, not billed.
    pub blocked: bool,
    /// When the open session or window ends (UTC microseconds), 0 when none is open.
    pub until: i64,
    pub why: Why,
}

/// An outcome is 64 bytes (`Charge`'s tag, `Why`): each engine writes one and each biller
/// reads it, per event.
const _: () = assert!(std::mem::size_of::<Outcome>() == 64);

impl Outcome {
    /// A message that never arrived: every engine answers this first, before its state is
    /// touched (RULES.md §1 `status`).
    pub(crate) fn not_delivered() -> Outcome {
        Outcome::new(Billed::NotDelivered, Charge::None, Why::NotDelivered)
    }

    /// An outcome that opens and uses no session (a per-message channel's, or no charge).
    pub(crate) fn new(billed: Billed, charge: Charge, why: Why) -> Outcome {
        Outcome {
            billed,
            charge,
            session: None,
            opened: false,
            assumed_category: false,
            blocked: false,
            until: 0,
            why,
        }
    }
}

/// A channel's session rules, replayed event by event in time order.
pub trait Engine {
    fn replay(&mut self, ev: &Event) -> Outcome;

    /// Asks for the state `ev` will read, some events before it is replayed (a hint only).
    fn prefetch(&self, _ev: &Event) {}

    /// `replay(ev)`, asking first for the state of `ahead`: one call through the trait
    /// object for both.
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        if let Some(a) = ahead {
            self.prefetch(a);
        }
        self.replay(ev)
    }

    /// Takes note of the log's accounts and cells so far: each cell's account (by cell id)
    /// and the accounts' names (by account id). Called before the events that use them.
    fn fit(&mut self, _cell_accounts: &[u32], _accounts: &[String]) {}

    /// Takes note of how many streams the log has, where that is known before billing (a
    /// log kept and billed once read: `pipeline::bill_kept`): the stream states are then
    /// made for all of them at once (`Streams::expect`). An engine without them ignores it.
    fn expect_streams(&mut self, _streams: usize) {}

    /// Runs `job` on this engine as its own type, so that the job's loop replays through it
    /// without a call through the trait object per event (`EngineJob`).
    fn run(&mut self, job: &mut dyn EngineJob);
}

/// Work that replays many events through an engine, given the engine as its own type by
/// `Engine::run`: its loop is then compiled once per engine, each replay inlined into it (a
/// call through the trait object per event and engine saved and restored six registers and
/// returned the 64-byte outcome through memory; issue 24). The others are run as trait
/// objects.
pub trait EngineJob {
    fn viber(&mut self, engine: &mut ViberRules);
    fn whatsapp_meta(&mut self, engine: &mut WhatsAppMetaEngine<'_>);
    fn whatsapp_session(&mut self, engine: &mut WhatsAppSessionEngine);
    fn other(&mut self, engine: &mut dyn Engine);
}

/// Which of the rare decisions an engine's outcomes can carry: a loop compiled for one engine
/// (`EngineJob`) counts only those, and its billers skip the tests of the others (issue 24:
/// two tests of the outcome an event and WhatsApp engine, for what only Viber blocks or only
/// whatsapp-meta's free entry points give).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decisions {
    /// `Outcome::blocked` may be set (Viber's messages in a row).
    pub blocks: bool,
    /// `Why::FreeEntryPoint` may be given (whatsapp-meta).
    pub free_entry_points: bool,
}

impl Decisions {
    /// Any engine's: the trait objects' (`EngineJob::other`) and every path not compiled
    /// per engine.
    pub const ANY: Decisions = Decisions {
        blocks: true,
        free_entry_points: true,
    };
}

/// The rare decisions an engine type can make (`Decisions`).
pub trait Decides {
    const DECISIONS: Decisions;
}

impl Decides for dyn Engine + '_ {
    const DECISIONS: Decisions = Decisions::ANY;
}

impl<C> Decides for viber::ViberRules<C> {
    const DECISIONS: Decisions = Decisions {
        blocks: true,
        free_entry_points: false,
    };
}

impl Decides for WhatsAppMetaEngine<'_> {
    const DECISIONS: Decisions = Decisions {
        blocks: false,
        free_entry_points: true,
    };
}

impl Decides for WhatsAppSessionEngine {
    const DECISIONS: Decisions = Decisions {
        blocks: false,
        free_entry_points: false,
    };
}

/// The engine a model's rules call for (the channel registry's, src/channel). `as_of`
/// applies one date's rules to all traffic.
pub fn for_model(model: &Model, as_of: Option<i32>) -> Box<dyn Engine + '_> {
    (model.rules.engine)(model, as_of)
}

/// Whether two models' engines say the same of every event, so that one replay serves both:
/// the same rules and parameters, whatever the prices, fees and whether sessions are charged.
/// A Viber model's `[international]` is left to the caller, which knows the accounts
/// (`billing::engine_groups`).
pub fn same_engine(a: &Model, b: &Model) -> bool {
    a.rules == b.rules && a.default_category == b.default_category && (a.rules.same_engine)(a, b)
}

/// Per-stream state, indexed by the event's interned (account, contact) stream id: no hashing
/// in the replay loop.
pub struct Streams<S> {
    states: Vec<S>,
    /// How many streams the log has, where known before billing (0: not known).
    expected: usize,
}

impl<S> Default for Streams<S> {
    fn default() -> Self {
        Streams {
            states: Vec::new(),
            expected: 0,
        }
    }
}

impl<S: Default + Clone> Streams<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes that the log has `streams` streams: the first growth makes room for all of
    /// them. Only a size: a stream beyond them still grows the states.
    pub fn expect(&mut self, streams: usize) {
        self.expected = streams;
    }

    /// Asks for the cache lines of `ev`'s state, if the stream has one yet: a state of 24
    /// or 32 bytes may straddle two lines (`Vec` aligns it to 8), and then its first and
    /// last bytes are on different ones.
    #[inline]
    pub fn prefetch(&self, ev: &Event) {
        if let Some(s) = self.states.get(ev.stream as usize) {
            crate::prefetch::prefetch_all(s);
        }
    }

    /// The state of `ev`'s stream. A stream already known is indexed behind the one check
    /// of its id (indexing after `grow` checked it a second time: two instructions on every
    /// look-up, one to three an event and engine).
    #[inline]
    pub fn get(&mut self, ev: &Event) -> &mut S {
        let i = ev.stream as usize;
        if i < self.states.len() {
            return &mut self.states[i];
        }
        self.grow(i + 1);
        &mut self.states[i]
    }

    /// Room for the states of `len` streams at least, and of up to `STREAMS_AT_A_TIME` more
    /// (out of line: new streams are rare among events). A state not yet reached is the
    /// default, as a stream's first `get` would make it; a log of a million contacts grew
    /// the states one stream at a time, a call of some 60 instructions per new stream and
    /// engine (issue 24: 3% of the instructions of a business-initiated heavy log's start).
    /// Once on huge pages the states move at most once more (`make_room_ahead`): each move
    /// at 4x left the array moved from as fresh pages written for nothing (a million streams
    /// of 32 bytes: 8 MB an engine state, on every log with as many contacts).
    /// Where told how many streams the log has (`expect`), room for
    /// all of them at the first growth: one array, never moved (a log read before it is
    /// billed, out of time order, met its streams in no order, so the states grew and moved
    /// several times early on, each move a copy into fresh pages).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, len: usize) {
        let len = (len.max(self.states.len() + STREAMS_AT_A_TIME)).max(self.expected);
        crate::huge_pages::make_room_ahead(&mut self.states, len);
        self.states.resize(len, S::default());
    }
}

/// Every stream's state in a narrow form `N` (8 bytes: a million streams' states read at
/// random are half the memory the loops wait on; issue 24) while every state fits it, then
/// in the wide form `W` for any: the first state that would not fit widens the table once,
/// each state kept exactly (as `billing::buckets::kept` widens its events).
pub(crate) enum Compact<N, W> {
    Narrow(Streams<N>),
    Wide(Streams<W>),
}

impl<N: Default + Copy, W: Default + Clone + From<N>> Compact<N, W> {
    pub fn new() -> Self {
        Compact::Narrow(Streams::new())
    }

    pub fn expect(&mut self, streams: usize) {
        match self {
            Compact::Narrow(s) => s.expect(streams),
            Compact::Wide(s) => s.expect(streams),
        }
    }

    #[inline(always)]
    pub fn prefetch(&self, ev: &Event) {
        match self {
            Compact::Narrow(s) => s.prefetch(ev),
            Compact::Wide(s) => s.prefetch(ev),
        }
    }

    /// Every stream's state in the wide form, from now on (out of line: once a log at most).
    #[cold]
    #[inline(never)]
    pub fn widen(&mut self) {
        if let Compact::Narrow(s) = self {
            let wide = Streams {
                states: s.states.iter().map(|&n| W::from(n)).collect(),
                expected: s.expected,
            };
            *self = Compact::Wide(wide);
        }
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Whether an instant (UTC microseconds) is a whole second from 1970 to 2106-02-07 06:28:15:
/// one a narrow state keeps exactly as a u32 of seconds (`seconds`, `micros`), its default 0
/// being the wide default's 0.
#[inline(always)]
pub(crate) fn in_seconds(at: i64) -> bool {
    // an instant before 1970 is a u64 past the span: its quotient too, if whole
    let u = at as u64;
    u.is_multiple_of(64) && whole_quotient(u) <= u32::MAX as u64
}

/// 10^6 = 2^6 x 15,625: `u / 10^6` for a `u` that is a multiple of it, as `u / 2^6` times
/// the inverse of 15,625 modulo 2^64 (exact division, Granlund and Montgomery). For a
/// multiple of 2^6 that is not one of 10^6 the product is above `u64::MAX / 15,625`, so
/// above `u32::MAX` too: the one compare in `in_seconds` tests both (a remainder and a
/// quotient were ~11 instructions an inbound message and WhatsApp engine).
#[inline(always)]
fn whole_quotient(u: u64) -> u64 {
    const INVERSE_OF_15625: u64 = 0x790F_B656_68C2_6139;
    const _: () = assert!(INVERSE_OF_15625.wrapping_mul(15_625) == 1);
    (u >> 6).wrapping_mul(INVERSE_OF_15625)
}

/// An instant `in_seconds` as its seconds from 1970.
#[inline(always)]
pub(crate) fn seconds(at: i64) -> u32 {
    debug_assert!(in_seconds(at));
    whole_quotient(at as u64) as u32
}

/// The instant of `seconds` from 1970.
#[inline(always)]
pub(crate) fn micros(seconds: u32) -> i64 {
    seconds as i64 * MICROS_PER_SECOND
}

/// How many stream states `Streams` adds at a time (of 32 bytes at most: 128 KB).
const STREAMS_AT_A_TIME: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    fn on_stream(stream: u32) -> Event {
        Event {
            at: 0,
            day: 0,
            line: 1,
            contact: stream,
            stream,
            cell: 0,
            country: crate::event::Country::parse("DE").unwrap(),
            direction: crate::event::Direction::Inbound,
            kind: crate::event::Kind::FreeForm,
        }
    }

    /// The job's method each engine runs it with (`Engine::run`).
    struct Which(Vec<&'static str>);

    impl EngineJob for Which {
        fn viber(&mut self, _: &mut ViberRules) {
            self.0.push("viber");
        }
        fn whatsapp_meta(&mut self, _: &mut WhatsAppMetaEngine<'_>) {
            self.0.push("whatsapp-meta");
        }
        fn whatsapp_session(&mut self, _: &mut WhatsAppSessionEngine) {
            self.0.push("whatsapp-session");
        }
        fn other(&mut self, _: &mut dyn Engine) {
            self.0.push("other");
        }
    }

    /// Each engine runs a job as its own type: the three session engines by their own
    /// method, the international rule around Viber's and SMS's as trait objects.
    #[test]
    fn each_engine_runs_a_job_as_its_own_type() {
        use crate::engine::testing::model;
        let sms = Model::load(&crate::rates::RateSource::Embedded, "sms.toml").unwrap();
        let models = [
            model("viber", ""),
            model(
                "whatsapp-meta",
                "[[era]]\nfrom = \"2025-07-01\"\npricing = \"per-message\"\n",
            ),
            model("whatsapp-session", ""),
            sms,
        ];
        let mut which = Which(Vec::new());
        for m in &models {
            for_model(m, None).run(&mut which);
        }
        let viber = for_model(&models[0], None);
        let date = chrono::NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
        InternationalEngine::new(viber, date, Default::default()).run(&mut which);
        let want = [
            "viber",
            "whatsapp-meta",
            "whatsapp-session",
            "other",
            "other",
        ];
        assert_eq!(which.0, want);
    }

    /// Of every `Billed`, exactly the three a biller counts by it are `counted_apart`.
    /// Each engine type's `Decisions` name the rare decisions its outcomes carry (its loop
    /// counts no other): a customer message, then three replies and one from a customer
    /// who came from an ad, then its reply. Viber (2 in a row, dropped): the third reply
    /// blocked, 1; whatsapp-meta (free entry point windows): the reply to the ad's customer
    /// opens one, 1; whatsapp-session: neither.
    #[test]
    fn each_engine_type_declares_the_rare_decisions_it_makes() {
        use crate::engine::testing::{model, replay};
        use crate::event::Script;
        let s = Script::table(&[
            ("2025-08-04 08:00", "a", "in", ""),
            ("08:01", "a", "out", ""),
            ("08:02", "a", "out", ""),
            ("08:03", "a", "out", ""),
            ("08:04", "b", "in", "entry_point"),
            ("08:05", "b", "out", ""),
        ]);
        let rare = |m: &Model| {
            let out = replay(m, None, s.events());
            let blocked = out.iter().filter(|o| o.blocked).count();
            let free = (out.iter())
                .filter(|o| matches!(o.why, Why::FreeEntryPoint { .. }))
                .count();
            (blocked, free)
        };
        let drops = "[session]\nmax_consecutive = 2\non_consecutive_limit = \"drop\"\n";
        let entry = "[[era]]\nfrom = \"2025-07-01\"\npricing = \"per-message\"\nfree_entry_point_hours = 72\n";
        let made = [
            (
                rare(&model("viber", drops)),
                <ViberRules as Decides>::DECISIONS,
            ),
            (
                rare(&model("whatsapp-meta", entry)),
                WhatsAppMetaEngine::DECISIONS,
            ),
            (
                rare(&model("whatsapp-session", "")),
                WhatsAppSessionEngine::DECISIONS,
            ),
        ];
        let declared = |d: Decisions| (d.blocks as usize, d.free_entry_points as usize);
        assert_eq!(made.map(|(counts, _)| counts), [(1, 0), (0, 1), (0, 0)]);
        assert_eq!(made.map(|(_, d)| declared(d)), [(1, 0), (0, 1), (0, 0)]);
        assert_eq!(<dyn Engine as Decides>::DECISIONS, Decisions::ANY);
    }

    #[test]
    fn the_billed_as_counted_apart_are_rejects_outside_the_window_and_not_delivered() {
        let all = [
            Billed::Inbound,
            Billed::Welcome,
            Billed::Session,
            Billed::BusinessInitiated,
            Billed::RejectedInSession,
            Billed::InWindow,
            Billed::Template,
            Billed::OutsideWindow,
            Billed::PerMessage,
            Billed::Conversation,
            Billed::InConversation,
            Billed::ServiceMessage,
            Billed::International,
            Billed::NotDelivered,
            Billed::FreeEntryPoint,
        ];
        let apart: Vec<&str> = (all.iter().filter(|b| b.counted_apart()))
            .map(|b| b.name())
            .collect();
        assert_eq!(
            apart,
            ["rejected_in_session", "outside_window", "not_delivered"]
        );
    }

    /// A stream's state is the default until written, and keeps what was written as other
    /// streams are added, some within the room made at a time, some past it.
    #[test]
    fn a_streams_state_is_its_own_across_growth() {
        let mut s: Streams<u64> = Streams::new();
        *s.get(&on_stream(2)) = 7;
        // within the room made for stream 2: a fresh stream is the default
        assert_eq!(*s.get(&on_stream(3)), 0);
        assert_eq!(*s.get(&on_stream(1)), 0);
        *s.get(&on_stream(STREAMS_AT_A_TIME as u32 + 5)) = 9;
        // past it (and past a whole step): fresh, and the earlier ones kept
        let far = 3 * STREAMS_AT_A_TIME as u32;
        assert_eq!(*s.get(&on_stream(far)), 0);
        *s.get(&on_stream(far)) += 1;
        assert_eq!(*s.get(&on_stream(2)), 7);
        assert_eq!(*s.get(&on_stream(STREAMS_AT_A_TIME as u32 + 5)), 9);
        assert_eq!(*s.get(&on_stream(far)), 1);
        assert_eq!(*s.get(&on_stream(far - 1)), 0);
    }

    /// Told how many streams the log has, the states make room for all of them at the first
    /// stream and never move; each stream's state is its own, and a stream beyond them grows
    /// them still.
    #[test]
    fn told_the_streams_the_states_make_room_for_them_once() {
        {
            let mut s: Streams<u64> = Streams::new();
            s.expect(10_000);
            *s.get(&on_stream(7_000)) = 5;
            // 10,000 states, not 7,001 + 4,096
            assert_eq!(s.states.len(), 10_000);
            let at = s.states.as_ptr();
            *s.get(&on_stream(9_999)) = 6;
            *s.get(&on_stream(0)) += 1;
            assert_eq!(s.states.as_ptr(), at);
            assert_eq!(
                (*s.get(&on_stream(7_000)), *s.get(&on_stream(9_999))),
                (5, 6)
            );
            assert_eq!((*s.get(&on_stream(0)), *s.get(&on_stream(1))), (1, 0));
            // Stream 10,000 is beyond them: 4,096 more states.
            *s.get(&on_stream(10_000)) = 8;
            assert_eq!(s.states.len(), 10_000 + STREAMS_AT_A_TIME);
            assert_eq!(
                (*s.get(&on_stream(10_000)), *s.get(&on_stream(7_000))),
                (8, 5)
            );
        }
    }

    /// Past the size where the states move onto huge pages (4 MB: 2^19 states of 8 bytes),
    /// each stream keeps its own state, and the states move at most once more.
    #[test]
    fn a_streams_state_is_its_own_across_the_move_to_huge_pages() {
        let mut s: Streams<u64> = Streams::new();
        let (mut moves, mut at) = (0, s.states.as_ptr());
        for stream in (0..1u32 << 21).step_by(7) {
            *s.get(&on_stream(stream)) = stream as u64 + 1;
            if s.states.as_ptr() != at && s.states.len() > 1 << 18 {
                (moves, at) = (moves + 1, s.states.as_ptr());
            }
        }
        // every seventh stream written (stream + 1), the others the default
        for stream in [0, 1, 6, 7, 1 << 18, (1 << 19) + 1, (1 << 21) - 5] {
            let want = match stream % 7 {
                0 => stream as u64 + 1,
                _ => 0,
            };
            assert_eq!(*s.get(&on_stream(stream)), want, "{stream}");
        }
        assert!(moves <= 1, "{moves} moves past 2 MB");
    }

    /// Whole seconds from 1970 up to 2^32 - 1 s are kept; a part of a second, an instant
    /// before 1970 or past 2106-02-07 06:28:15 is not, even when a multiple of 2^6 us (the
    /// inverse's shortcut: 1,000,064 us = 64 x 15,626).
    #[test]
    fn whole_seconds_in_the_span_are_in_seconds_and_nothing_else() {
        let kept = [
            (0, 0),
            (1_000_000, 1),
            (64_000_000, 64),
            (1_764_000_000_000_000, 1_764_000_000),
            (4_294_967_295_000_000, u32::MAX),
        ];
        for (at, s) in kept {
            assert!(in_seconds(at), "{at}");
            assert_eq!(seconds(at), s, "{at}");
            assert_eq!(micros(s), at);
        }
        let not = [
            1,
            63,
            64,
            1_000_001,
            500_000,
            1_000_064,
            999_936,
            1_764_000_000_500_000,
            4_294_967_296_000_000,
            -1_000_000,
            -64,
            i64::MIN,
            i64::MAX,
        ];
        for at in not {
            assert!(!in_seconds(at), "{at}");
        }
    }
}
