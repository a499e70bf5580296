//! Viber's session rules (docs/billing-rules.md §3).

use super::{Billed, Charge, Engine, Outcome, Streams, Why};
use crate::event::{Category, Country, Direction, Event, Kind, MICROS_PER_HOUR};
use crate::rates::{AfterCap, OnLimit, SessionParams};

/// A stream's session; id 0 (never given out) for none (the default), which keeps the state
/// small rather than an `Option`'s: one of these is read per event. Its counts `C` are 16
/// bits where the model's cap keeps them under 65,535 (every shipped model: 60): the state
/// is then 16 bytes, never split over two cache lines, and a million streams' are 16 MB of
/// fresh memory, not 24 (issue 24: each event's state is a miss of its own on a log of
/// many contacts). Else 32 bits (`Sessions::Wide`).
#[derive(Clone, Copy, Default)]
struct Session<C> {
    ends: i64,
    id: u32,
    /// Session messages the business sent in it (at most the cap, `max_messages`).
    sent: C,
    /// Business session messages since the customer's last message (at most `sent`: each
    /// session message adds one to both).
    in_a_row: C,
}

const _: () = assert!(std::mem::size_of::<Session<u16>>() == 16);

impl<C: Count> Session<C> {
    fn sent(&self) -> u32 {
        self.sent.into()
    }

    fn in_a_row(&self) -> u32 {
        self.in_a_row.into()
    }
}

/// A session's counts as kept: `u16` or `u32`.
pub trait Count: Copy + Default + Into<u32> {
    fn plus_one(self) -> Self;
}

impl Count for u16 {
    fn plus_one(self) -> u16 {
        self + 1
    }
}

impl Count for u32 {
    fn plus_one(self) -> u32 {
        self + 1
    }
}

pub struct ViberEngine {
    sessions: Sessions,
}

/// The rules with the sessions' counts in 16 bits where the cap allows it, else in 32.
enum Sessions {
    Narrow(ViberRules<u16>),
    Wide(ViberRules<u32>),
}

/// Viber's session rules over the streams' last sessions, their counts `C` (`u16` where the
/// model's cap allows it: the replay loops are compiled for that one, `EngineJob::viber`).
pub struct ViberRules<C = u16> {
    params: SessionParams,
    default_category: Category,
    /// The last session of each stream (the default if none).
    open: Streams<Session<C>>,
    next_id: u32,
}

impl ViberEngine {
    pub fn new(params: SessionParams, default_category: Category) -> ViberEngine {
        // a session's counts are at most its cap (`Session::sent`)
        let sessions = match params.max_messages < u16::MAX as u32 {
            true => Sessions::Narrow(ViberRules::new(params, default_category)),
            false => Sessions::Wide(ViberRules::new(params, default_category)),
        };
        ViberEngine { sessions }
    }
}

impl<C: Count> ViberRules<C> {
    fn new(params: SessionParams, default_category: Category) -> ViberRules<C> {
        ViberRules {
            params,
            default_category,
            open: Streams::new(),
            next_id: 1,
        }
    }

    fn start(&mut self, at: i64) -> Session<C> {
        let s = Session {
            id: self.next_id,
            ends: at + self.params.hours * MICROS_PER_HOUR,
            ..Session::default()
        };
        self.next_id += 1;
        s
    }

    /// A business-initiated message of the default category (no type given).
    fn assumed(&self, billed: Billed, why: Why) -> Outcome {
        let mut o = Outcome::new(billed, Charge::Message(self.default_category), why);
        o.assumed_category = true;
        o
    }

    /// A customer message opens a session if none is open; inside one it resets the in-a-row
    /// count.
    #[inline]
    fn customer_message(&mut self, ev: &Event, current: Option<Session<C>>) -> Outcome {
        // A session is over once the business has sent its last allowed message: a customer
        // message after it opens a new one (docs/billing-rules.md#viber-cap).
        let current = current.filter(|s| s.sent() < self.params.max_messages);
        let (s, opened) = match current {
            Some(mut s) => {
                s.in_a_row = C::default();
                (s, false)
            }
            None => (self.start(ev.at), true),
        };
        *self.open.get(ev) = s;
        let mut o = Outcome::new(
            Billed::Inbound,
            Charge::None,
            if opened {
                Why::SessionOpened
            } else {
                Why::SessionAlreadyOpen
            },
        );
        o.session = Some(s.id);
        o.opened = opened;
        o.until = s.ends;
        o
    }

    /// A free-form message: a session message of the open session, unless there is none, the
    /// cap is reached or too many are in a row.
    #[inline]
    fn free_form(&mut self, ev: &Event, current: Option<Session<C>>) -> Outcome {
        let Some(mut s) = current else {
            *self.open.get(ev) = Session::default();
            return self.assumed(Billed::BusinessInitiated, Why::NoOpenSession);
        };
        let mut opened = false;
        let mut why = None;
        if s.sent() >= self.params.max_messages {
            let cap = self.params.max_messages;
            match self.params.after_cap {
                AfterCap::End => {
                    *self.open.get(ev) = Session::default();
                    return self.assumed(Billed::BusinessInitiated, Why::CapReachedEnded { cap });
                }
                AfterCap::NewSession => {
                    s = self.start(ev.at);
                    opened = true;
                    why = Some(Why::CapReachedNewSession { cap });
                }
            }
        } else if s.in_a_row() >= self.params.max_consecutive {
            return self.rejected_in_a_row(s);
        }
        self.session_message(ev, s, opened, why)
    }

    /// Over the limit of business messages in a row: Viber rejects the message; billed as
    /// business-initiated, or blocked. It does not count in the session.
    #[inline]
    fn rejected_in_a_row(&self, s: Session<C>) -> Outcome {
        let limit = self.params.max_consecutive;
        let blocked = self.params.on_consecutive_limit == OnLimit::Drop;
        let mut o = self.assumed(
            Billed::RejectedInSession,
            Why::InARowLimit { limit, blocked },
        );
        if blocked {
            o.charge = Charge::None;
            o.assumed_category = false;
            o.blocked = true;
        }
        o.session = Some(s.id);
        o.until = s.ends;
        o
    }

    /// A session message, counted in session `s`; the first charges the session. `why` says
    /// why when a rule other than the count decided it.
    #[inline]
    fn session_message(
        &mut self,
        ev: &Event,
        mut s: Session<C>,
        opened: bool,
        why: Option<Why>,
    ) -> Outcome {
        (s.sent, s.in_a_row) = (s.sent.plus_one(), s.in_a_row.plus_one());
        *self.open.get(ev) = s;
        let first = s.sent() == 1;
        let why = why.unwrap_or(if first {
            Why::FirstBusinessMessage
        } else {
            Why::InSession { sent: s.sent() }
        });
        let mut o = Outcome::new(
            Billed::Session,
            if first { Charge::Session } else { Charge::None },
            why,
        );
        o.session = Some(s.id);
        o.opened = opened;
        o.until = s.ends;
        o
    }
}

impl Engine for ViberEngine {
    /// The rules of 16-bit counts as their own type; those of 32 (a cap of 65,535 or
    /// more, which no shipped model has) as a trait object.
    fn run(&mut self, job: &mut dyn super::EngineJob) {
        match &mut self.sessions {
            Sessions::Narrow(r) => job.viber(r),
            Sessions::Wide(r) => job.other(r),
        }
    }

    fn expect_streams(&mut self, streams: usize) {
        match &mut self.sessions {
            Sessions::Narrow(r) => r.expect_streams(streams),
            Sessions::Wide(r) => r.expect_streams(streams),
        }
    }

    fn prefetch(&self, ev: &Event) {
        match &self.sessions {
            Sessions::Narrow(r) => r.prefetch(ev),
            Sessions::Wide(r) => r.prefetch(ev),
        }
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        self.replay_ahead(ev, None)
    }

    /// The state of `ahead` asked for, and `ev` replayed in the same call (the trait's
    /// default called `replay` out of line: a call and a frame an event; the replay is
    /// inlined here only, so that its parts stay inlined in it).
    #[inline(always)]
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        match &mut self.sessions {
            Sessions::Narrow(r) => r.replay_ahead(ev, ahead),
            Sessions::Wide(r) => r.replay_ahead(ev, ahead),
        }
    }
}

impl<C: Count> Engine for ViberRules<C> {
    /// As a trait object (`ViberEngine::run` hands the job the 16-bit rules as their own
    /// type).
    fn run(&mut self, job: &mut dyn super::EngineJob) {
        job.other(self);
    }

    fn expect_streams(&mut self, streams: usize) {
        self.open.expect(streams);
    }

    fn prefetch(&self, ev: &Event) {
        self.open.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        self.replay_ahead(ev, None)
    }

    /// `ViberEngine::replay_ahead` with the counts `C`.
    #[inline(always)]
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        if let Some(a) = ahead {
            self.open.prefetch(a);
        }
        self.replay_event(ev)
    }
}

impl<C: Count> ViberRules<C> {
    /// `Engine::replay`.
    #[inline(always)]
    fn replay_event(&mut self, ev: &Event) -> Outcome {
        if ev.kind == Kind::NotDelivered {
            return Outcome::not_delivered();
        }
        let now = ev.at;
        let last = *self.open.get(ev);
        let current = (last.id != 0 && now < last.ends).then_some(last);

        if ev.direction == Direction::Inbound {
            return self.customer_message(ev, current);
        }
        match ev.kind {
            Kind::Welcome => Outcome::new(Billed::Welcome, Charge::None, Why::WelcomeIsFree),
            Kind::Marketing | Kind::Utility | Kind::Authentication | Kind::Template => {
                let cat = ev.kind.category();
                let mut o = Outcome::new(
                    Billed::BusinessInitiated,
                    Charge::Message(cat.unwrap_or(self.default_category)),
                    Why::TemplateIsPerMessage,
                );
                o.assumed_category = cat.is_none();
                o
            }
            Kind::FreeForm | Kind::EntryPoint => self.free_form(ev, current),
            Kind::NotDelivered => Outcome::not_delivered(),
        }
    }
}

/// Viber's domestic and international rule (docs/billing-rules.md#viber-domestic-and-international)
/// around a model's session engine: an account registered on or after `[international]
/// registered_from`, with a home country, writing to or hearing from another country is billed
/// per message at the international price, and its message neither opens nor uses a session
/// (the session engine never sees it); welcome messages stay free. Other traffic goes to the
/// session engine.
pub struct InternationalEngine<'m> {
    inner: Box<dyn Engine + 'm>,
    registered_from: chrono::NaiveDate,
    accounts: crate::accounts::Accounts,
    /// By account id: its home country if international rates apply to it, else `None`.
    homes: Vec<Option<Country>>,
    /// By cell id: its account.
    cell_accounts: Vec<u32>,
}

impl<'m> InternationalEngine<'m> {
    pub fn new(
        inner: Box<dyn Engine + 'm>,
        registered_from: chrono::NaiveDate,
        accounts: crate::accounts::Accounts,
    ) -> InternationalEngine<'m> {
        InternationalEngine {
            inner,
            registered_from,
            accounts,
            homes: Vec::new(),
            cell_accounts: Vec::new(),
        }
    }

    /// The outcome of an international message (`home`: the account's country).
    fn international(ev: &Event, home: Country) -> Outcome {
        match (ev.direction, ev.kind) {
            (Direction::Inbound, _) => Outcome::new(
                Billed::Inbound,
                Charge::None,
                Why::International {
                    home,
                    inbound: true,
                },
            ),
            (_, Kind::Welcome) => Outcome::new(Billed::Welcome, Charge::None, Why::WelcomeIsFree),
            _ => Outcome::new(
                Billed::International,
                Charge::International,
                Why::International {
                    home,
                    inbound: false,
                },
            ),
        }
    }
}

impl Engine for InternationalEngine<'_> {
    fn run(&mut self, job: &mut dyn super::EngineJob) {
        job.other(self);
    }

    fn prefetch(&self, ev: &Event) {
        self.inner.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        let account = self.cell_accounts[ev.cell as usize];
        match self.homes[account as usize] {
            Some(home) if home != ev.country => Self::international(ev, home),
            _ => self.inner.replay(ev),
        }
    }

    /// Each new account's home, resolved once: international rates apply to an account with
    /// a country and a registration date on or after the model's (accounts with neither are
    /// domestic, and counted by billing).
    fn expect_streams(&mut self, streams: usize) {
        self.inner.expect_streams(streams);
    }

    fn fit(&mut self, cell_accounts: &[u32], accounts: &[String]) {
        let from = self.registered_from;
        for name in &accounts[self.homes.len().min(accounts.len())..] {
            let p = self.accounts.props(name);
            let home = p
                .country
                .filter(|_| p.registered.is_some_and(|d| d >= from));
            self.homes.push(home);
        }
        let have = self.cell_accounts.len().min(cell_accounts.len());
        (self.cell_accounts).extend_from_slice(&cell_accounts[have..]);
    }
}

#[cfg(test)]
mod tests {
    //! Tables worked by hand from docs/billing-rules.md §3 (Viber session, outbound, cap, in a row).
    use crate::engine::testing::{check, describe, model, replay};
    use crate::engine::{Billed, Charge};
    use crate::event::Script;

    /// The shipped parameters (24 h, 60 messages, end, 5 in a row, drop).
    fn shipped() -> crate::rates::Model {
        model("viber", "")
    }

    #[test]
    fn an_international_account_opens_and_uses_no_session_abroad() {
        // Account `new`, home UA, registered on the model's date: its DE traffic is
        // international (no session, per message, welcome free); its UA traffic domestic.
        use crate::accounts::{Accounts, FileAccount};
        use crate::engine::{for_model, Engine, InternationalEngine};
        let m = model(
            "viber",
            "[international]\nregistered_from = \"2024-10-01\"\n",
        );
        let from = chrono::NaiveDate::from_ymd_opt(2024, 10, 1).unwrap();
        let script = Script::new()
            .account("new")
            .country("UA")
            .contact("u")
            .at("2026-03-02 08:00")
            .inbound()
            .at("08:01")
            .outbound("")
            .country("DE")
            .contact("d")
            .at("09:00")
            .inbound()
            .at("09:01")
            .outbound("")
            .at("09:02")
            .outbound("welcome")
            .at("09:03")
            .outbound("promotional");
        let row = FileAccount {
            country: crate::event::Country::parse("UA"),
            registered: Some(from),
            ..FileAccount::default()
        };
        let file = ("a.csv".to_string(), [("new".to_string(), row)].into());
        let accounts = Accounts::new(Some(file), chrono_tz::UTC, false, None);
        let mut engine = InternationalEngine::new(for_model(&m, None), from, accounts);
        let cell_accounts: Vec<u32> = script.cells().iter().map(|c| c.0).collect();
        engine.fit(&cell_accounts, script.accounts());
        let got: Vec<String> = (script.events().iter())
            .map(|ev| describe(ev, &engine.replay(ev), false))
            .collect();
        assert_eq!(
            got,
            [
                "inbound - s1 opened until=03-03T08:00",
                "session session s1 until=03-03T08:00",
                "inbound -",
                "international international",
                "welcome -",
                "international international",
            ]
        );
    }

    #[test]
    #[rustfmt::skip]
    fn a_customer_opens_a_session_charged_at_its_first_business_message() {
        check(&shipped(), &[
            // b writes first: no session, a business-initiated message at the default category
            ("2026-03-02 07:00", "b", "out", "", "business_initiated marketing assumed why=NoOpenSession"),
            ("08:00", "a", "in",  "",  "inbound - s1 opened until=03-03T08:00"),
            ("08:05", "a", "out", "",  "session session s1 until=03-03T08:00 why=FirstBusinessMessage"),
            ("08:06", "a", "out", "",  "session - s1 until=03-03T08:00"),
            // a customer message inside does not extend the session
            ("20:00", "a", "in",  "",  "inbound - s1 until=03-03T08:00 why=SessionAlreadyOpen"),
            ("2026-03-03 07:59:59", "a", "out", "", "session - s1 until=03-03T08:00"),
            // 24 h after its opening the session is over
            ("08:00", "a", "out", "",  "business_initiated marketing assumed why=NoOpenSession"),
            ("08:01", "a", "in",  "",  "inbound - s2 opened until=03-04T08:01"),
            ("08:02", "a", "out", "",  "session session s2 until=03-04T08:01"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn session_hours_come_from_the_model() {
        check(&model("viber", "[session]\nhours = 2\n"), &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-02T10:00"),
            ("09:59", "a", "out", "", "session session s1 until=03-02T10:00"),
            ("10:00", "a", "out", "", "business_initiated marketing assumed"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn welcome_is_free_and_templates_are_per_message_inside_a_session() {
        check(&model("viber", "[session]\nmax_consecutive = 2\n"), &[
            ("2026-03-02 08:00", "a", "out", "welcome", "welcome -"),
            ("08:01", "a", "in",  "",               "inbound - s1 opened until=03-03T08:01"),
            ("08:02", "a", "out", "welcome",        "welcome -"),
            ("08:03", "a", "out", "template",       "business_initiated marketing assumed"),
            ("08:04", "a", "out", "transactional",  "business_initiated utility"),
            ("08:05", "a", "out", "promotional",    "business_initiated marketing"),
            ("08:06", "a", "out", "authentication", "business_initiated authentication"),
            // none of them was a session message: this one is the first and charges the session
            ("08:07", "a", "out", "",               "session session s1 until=03-03T08:01"),
            ("08:08", "a", "out", "template",       "business_initiated marketing assumed"),
            // templates are not in the in-a-row count: 2 session messages so far, not 3
            ("08:09", "a", "out", "",               "session - s1 until=03-03T08:01"),
            // the third in a row is blocked: not delivered, not billed (the default)
            ("08:10", "a", "out", "", "rejected_in_session - s1 blocked until=03-03T08:01"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn five_in_a_row_then_the_sixth_is_rejected_until_the_customer_writes() {
        let open = "until=03-03T08:00";
        let session = format!("session - s1 {open}");
        // blocked by Viber: not delivered, not billed (the default, `drop`)
        let rejected = format!("rejected_in_session - s1 blocked {open} why=InARowLimit");
        check(&shipped(), &[
            ("2026-03-02 08:00", "a", "in", "", &format!("inbound - s1 opened {open}")),
            ("08:01", "a", "out", "", &format!("session session s1 {open}")),
            ("08:02", "a", "out", "", &session),
            ("08:03", "a", "out", "", &session),
            ("08:04", "a", "out", "", &session),
            ("08:05", "a", "out", "", &session),
            ("08:06", "a", "out", "", &rejected),
            // a rejected message does not count: the next is rejected too
            ("08:07", "a", "out", "", &rejected),
            ("08:08", "a", "in",  "", &format!("inbound - s1 {open}")),
            ("08:09", "a", "out", "", &session),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn over_the_in_a_row_limit_a_drop_model_bills_nothing() {
        let m = model("viber", "[session]\nmax_consecutive = 2\non_consecutive_limit = \"drop\"\n");
        check(&m, &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-03T08:00"),
            ("08:01", "a", "out", "", "session session s1 until=03-03T08:00"),
            ("08:02", "a", "out", "", "session - s1 until=03-03T08:00"),
            ("08:03", "a", "out", "", "rejected_in_session - s1 blocked until=03-03T08:00"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn over_the_in_a_row_limit_a_business_initiated_model_bills_the_default_category() {
        let m = model(
            "viber",
            "[session]\nmax_consecutive = 2\non_consecutive_limit = \"business-initiated\"\n",
        );
        check(&m, &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-03T08:00"),
            ("08:01", "a", "out", "", "session session s1 until=03-03T08:00"),
            ("08:02", "a", "out", "", "session - s1 until=03-03T08:00"),
            ("08:03", "a", "out", "",
             "rejected_in_session marketing s1 assumed until=03-03T08:00 why=InARowLimit"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn after_the_cap_the_session_ends() {
        let m = model("viber", "[session]\nmax_messages = 3\nmax_consecutive = 2\n");
        check(&m, &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-03T08:00"),
            ("08:01", "a", "out", "", "session session s1 until=03-03T08:00"),
            ("08:02", "a", "in",  "", "inbound - s1 until=03-03T08:00"),
            ("08:03", "a", "out", "", "session - s1 until=03-03T08:00"),
            ("08:04", "a", "out", "", "session - s1 until=03-03T08:00"),
            // 3 sent and 2 in a row: the cap is the rule that applies
            ("08:05", "a", "out", "", "business_initiated marketing assumed why=CapReachedEnded"),
            ("08:06", "a", "out", "", "business_initiated marketing assumed why=NoOpenSession"),
            ("08:07", "a", "in",  "", "inbound - s2 opened until=03-03T08:07"),
            ("08:08", "a", "out", "", "session session s2 until=03-03T08:07"),
            // b reaches the cap with its third message: the session is over for every rule, so
            // the customer's next message opens a new one, charged at its first business message
            ("09:00", "b", "in",  "", "inbound - s3 opened until=03-03T09:00"),
            ("09:01", "b", "out", "", "session session s3 until=03-03T09:00"),
            ("09:02", "b", "out", "", "session - s3 until=03-03T09:00"),
            ("09:03", "b", "in",  "", "inbound - s3 until=03-03T09:00"),
            ("09:04", "b", "out", "", "session - s3 until=03-03T09:00"),
            ("09:05", "b", "in",  "", "inbound - s4 opened until=03-03T09:05 why=SessionOpened"),
            ("09:06", "b", "out", "", "session session s4 until=03-03T09:05"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn after_the_cap_a_new_session_model_opens_and_charges_another() {
        let m = model("viber", "[session]\nmax_messages = 3\nafter_cap = \"new-session\"\n");
        check(&m, &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-03T08:00"),
            ("08:01", "a", "out", "", "session session s1 until=03-03T08:00"),
            ("08:02", "a", "out", "", "session - s1 until=03-03T08:00"),
            ("08:03", "a", "out", "", "session - s1 until=03-03T08:00"),
            // 24 h from this message, not from the customer's
            ("08:04", "a", "out", "",
             "session session s2 opened until=03-03T08:04 why=CapReachedNewSession"),
            ("08:05", "a", "out", "", "session - s2 until=03-03T08:04"),
            ("08:06", "a", "in",  "", "inbound - s2 until=03-03T08:04"),
            ("08:07", "a", "out", "", "session - s2 until=03-03T08:04"),
            ("08:08", "a", "out", "", "session session s3 opened until=03-03T08:08"),
            // a customer message after the cap opens the new session itself, 24 h from it
            ("09:00", "b", "in",  "", "inbound - s4 opened until=03-03T09:00"),
            ("09:01", "b", "out", "", "session session s4 until=03-03T09:00"),
            ("09:02", "b", "out", "", "session - s4 until=03-03T09:00"),
            ("09:03", "b", "out", "", "session - s4 until=03-03T09:00"),
            ("09:04", "b", "in",  "", "inbound - s5 opened until=03-03T09:04"),
            ("09:05", "b", "out", "", "session session s5 until=03-03T09:04"),
        ]);
    }

    /// A model whose cap is 65,535 or more keeps its sessions' counts in 32 bits
    /// (`Sessions::Wide`), exact past 65,535: with a cap of 70,000 and 65,536 in a row, a
    /// customer message then 65,537 session messages a second apart (18.2 h, inside the
    /// 24 h): the 65,536th is message 65,536 of the session, the next over the in-a-row
    /// limit (blocked), and after the customer writes again the next is message 65,537.
    /// (Every other test here runs the 16-bit counts of a smaller cap.)
    #[test]
    fn a_session_past_65535_messages_keeps_its_counts_exact() {
        use crate::engine::Why;
        let m = model(
            "viber",
            "[session]\nmax_messages = 70000\nmax_consecutive = 65536\n",
        );
        let mut s = Script::new().at("2026-03-02 08:00").inbound();
        for _ in 0..65_537 {
            s = s.at("+1s").outbound("");
        }
        let s = s.at("+1s").inbound().at("+1s").outbound("");
        let out = replay(&m, None, s.events());
        assert_eq!(out.len(), 65_540);
        assert!(out.iter().all(|o| o.session == Some(1)));
        assert_eq!(out[1].charge, Charge::Session);
        for k in [2u32, 65_534, 65_535, 65_536] {
            assert_eq!(out[k as usize].why, Why::InSession { sent: k }, "{k}");
            assert_eq!(out[k as usize].charge, Charge::None);
        }
        let limit = Why::InARowLimit {
            limit: 65_536,
            blocked: true,
        };
        let rejected = (out[65_537].billed, out[65_537].why);
        assert_eq!(rejected, (Billed::RejectedInSession, limit));
        assert_eq!(out[65_538].why, Why::SessionAlreadyOpen);
        assert_eq!(out[65_539].why, Why::InSession { sent: 65_537 });
    }

    /// Sessions are per (account, contact) (docs/billing-rules.md, Input account): a contact
    /// writing to one account opens nothing at another.
    #[test]
    fn a_session_belongs_to_one_account_and_contact() {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .account("shop")
            .inbound()
            .at("+1m")
            .account("bank")
            .outbound("")
            .account("shop")
            .outbound("");
        let out = replay(&shipped(), None, s.events());
        let got: Vec<String> = (s.events().iter().zip(&out))
            .map(|(ev, o)| describe(ev, o, false))
            .collect();
        assert_eq!(
            got,
            [
                "inbound - s1 opened until=03-03T08:00",
                "business_initiated marketing assumed",
                "session session s1 until=03-03T08:00",
            ]
        );
    }

    /// The shipped cap of 60, written as a loop: a customer message before each 5 replies keeps
    /// the in-a-row limit away. The customer's 13th message comes after the 60th reply, so it
    /// opens a second session, which its reply charges.
    #[test]
    #[rustfmt::skip]
    fn the_sixty_message_cap_of_the_shipped_models() {
        let mut s = Script::new().at("2026-03-02 08:00");
        for _ in 0..12 {
            s = s.inbound();
            for _ in 0..5 {
                s = s.at("+1m").outbound("");
            }
        }
        let s = s.inbound().at("+1m").outbound("");
        let out = replay(&shipped(), None, s.events());
        let billed = |b| out.iter().filter(|o| o.billed == b).count();
        assert_eq!(billed(Billed::Session), 61);
        assert_eq!(billed(Billed::Inbound), 13);
        assert_eq!(billed(Billed::BusinessInitiated), 0);
        let sessions = out.iter().filter(|o| o.charge == Charge::Session).count();
        assert_eq!(sessions, 2, "two sessions, each charged once");
        assert!(out[..72].iter().all(|o| o.session == Some(1)));
        assert!(out[72].opened && out[72].session == Some(2));
        assert_eq!(out[73].session, Some(2));
    }
}
