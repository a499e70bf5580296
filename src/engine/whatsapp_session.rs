//! WhatsApp's customer service window and the seeds' session model (docs/billing-rules.md §4,
//! `whatsapp-session`).

use super::{in_seconds, micros, seconds, Compact};
use super::{Billed, Charge, Engine, Outcome, Streams, Why};
use crate::event::{Category, Direction, Event, Kind, MICROS_PER_HOUR};

/// A stream's window and session, as the rules read and write them (the wide form: 16
/// bytes, for any instant and id).
#[derive(Clone, Copy, Default)]
struct Stream {
    /// The open window closes here (exclusive); 0 before any customer message.
    window_until: i64,
    session: u32,
    user_initiated: bool,
    charged: bool,
    /// A template was charged since the last session closed and no reply has come yet.
    template_pending: bool,
}

const _: () = assert!(std::mem::size_of::<Stream>() == 16);

/// `Stream` in 8 bytes, while its window ends on a whole second from 1970 to 2106 and its
/// session id is under 2^29 (`in_seconds`, `SESSIONS_IN_IDS`): the session loop waits on
/// the states' memory, and a million streams' are 8 MB, not 16 (issue 24).
#[derive(Clone, Copy, Default)]
struct SecondStream {
    /// `Stream::window_until` in seconds from 1970.
    until: u32,
    /// The session id, `user_initiated` in bit 29, `charged` 30, `template_pending` 31.
    ids: u32,
}

const _: () = assert!(std::mem::size_of::<SecondStream>() == 8);

/// Session ids below this fit `SecondStream::ids` beside its three flags.
const SESSIONS_IN_IDS: u32 = 1 << 29;
const USER_INITIATED: u32 = 1 << 29;
const CHARGED: u32 = 1 << 30;
const TEMPLATE_PENDING: u32 = 1 << 31;

/// A stream's state in either form, as the rules read and change it (the 8-byte form's
/// bits read and set in place: unpacked whole and packed back, the loop cost 40 more
/// instructions an event).
trait StreamState: Default + Copy {
    fn window_until(&self) -> i64;
    fn session(&self) -> u32;
    /// A user-initiated session, not charged yet.
    fn uncharged(&self) -> bool;
    /// Opens session `id`, its window ending at `until`: business-initiated (charged by
    /// its template) if a template is pending, else user-initiated; `true`: the former.
    fn open(&mut self, id: u32, until: i64) -> bool;
    /// The window ends at `until` now.
    fn renew(&mut self, until: i64);
    fn charge(&mut self);
    fn template_sent(&mut self);
}

impl StreamState for Stream {
    #[inline(always)]
    fn window_until(&self) -> i64 {
        self.window_until
    }
    #[inline(always)]
    fn session(&self) -> u32 {
        self.session
    }
    #[inline(always)]
    fn uncharged(&self) -> bool {
        self.user_initiated && !self.charged
    }
    #[inline(always)]
    fn open(&mut self, id: u32, until: i64) -> bool {
        let business = self.template_pending;
        *self = Stream {
            window_until: until,
            session: id,
            user_initiated: !business,
            charged: business,
            template_pending: false,
        };
        business
    }
    #[inline(always)]
    fn renew(&mut self, until: i64) {
        self.window_until = until;
    }
    #[inline(always)]
    fn charge(&mut self) {
        self.charged = true;
    }
    #[inline(always)]
    fn template_sent(&mut self) {
        self.template_pending = true;
    }
}

impl StreamState for SecondStream {
    #[inline(always)]
    fn window_until(&self) -> i64 {
        micros(self.until)
    }
    #[inline(always)]
    fn session(&self) -> u32 {
        self.ids & (SESSIONS_IN_IDS - 1)
    }
    #[inline(always)]
    fn uncharged(&self) -> bool {
        self.ids & (USER_INITIATED | CHARGED) == USER_INITIATED
    }
    #[inline(always)]
    fn open(&mut self, id: u32, until: i64) -> bool {
        debug_assert!(id < SESSIONS_IN_IDS);
        let business = self.ids & TEMPLATE_PENDING != 0;
        self.ids = id | if business { CHARGED } else { USER_INITIATED };
        self.until = seconds(until);
        business
    }
    #[inline(always)]
    fn renew(&mut self, until: i64) {
        self.until = seconds(until);
    }
    #[inline(always)]
    fn charge(&mut self) {
        self.ids |= CHARGED;
    }
    #[inline(always)]
    fn template_sent(&mut self) {
        self.ids |= TEMPLATE_PENDING;
    }
}

impl From<SecondStream> for Stream {
    fn from(s: SecondStream) -> Stream {
        Stream {
            window_until: s.window_until(),
            session: s.session(),
            user_initiated: s.ids & USER_INITIATED != 0,
            charged: s.ids & CHARGED != 0,
            template_pending: s.ids & TEMPLATE_PENDING != 0,
        }
    }
}

pub struct WhatsAppSessionEngine {
    streams: Compact<SecondStream, Stream>,
    rules: SessionRules,
}

/// The engine's rules and ids (the streams handed to them in their form).
struct SessionRules {
    window: i64,
    default_category: Category,
    next_id: u32,
}

impl WhatsAppSessionEngine {
    pub fn new(window_hours: i64, default_category: Category) -> WhatsAppSessionEngine {
        WhatsAppSessionEngine {
            streams: Compact::new(),
            rules: SessionRules {
                window: window_hours * MICROS_PER_HOUR,
                default_category,
                next_id: 1,
            },
        }
    }
}

impl Engine for WhatsAppSessionEngine {
    fn run(&mut self, job: &mut dyn super::EngineJob) {
        job.whatsapp_session(self);
    }

    fn expect_streams(&mut self, streams: usize) {
        self.streams.expect(streams);
    }

    fn prefetch(&self, ev: &Event) {
        self.streams.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        self.replay_ahead(ev, None)
    }

    /// The state of `ahead` asked for, and `ev` replayed in the same call (the trait's
    /// default called `replay` out of line: a call and a frame an event), through the
    /// streams' form: a customer message whose window or session the 8-byte form cannot
    /// keep widens them first.
    #[inline(always)]
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        if let Compact::Narrow(s) = &mut self.streams {
            if let Some(a) = ahead {
                s.prefetch(a);
            }
            let r = &self.rules;
            if ev.direction != Direction::Inbound
                || (in_seconds(ev.at.wrapping_add(r.window)) && r.next_id < SESSIONS_IN_IDS)
            {
                return self.rules.replay_event(s, ev);
            }
            self.streams.widen();
        }
        match &mut self.streams {
            Compact::Wide(s) => {
                if let Some(a) = ahead {
                    s.prefetch(a);
                }
                self.rules.replay_event(s, ev)
            }
            Compact::Narrow(s) => self.rules.replay_event(s, ev),
        }
    }
}

impl SessionRules {
    /// `Engine::replay`, with the streams' states in `streams`.
    #[inline(always)]
    fn replay_event<S: StreamState>(&mut self, streams: &mut Streams<S>, ev: &Event) -> Outcome {
        if ev.kind == Kind::NotDelivered {
            return Outcome::not_delivered();
        }
        let now = ev.at;
        let default_category = self.default_category;
        let next_id = &mut self.next_id;
        let st = streams.get(ev);
        let open = now < st.window_until();

        if ev.direction == Direction::Inbound {
            let until = now + self.window;
            let why = if open {
                st.renew(until);
                Why::WindowRenewed
            } else {
                let id = *next_id;
                *next_id += 1;
                Why::WindowOpened {
                    business_initiated: st.open(id, until),
                }
            };
            let mut o = Outcome::new(Billed::Inbound, Charge::None, why);
            o.session = Some(st.session());
            o.opened = !open;
            o.until = until;
            return o;
        }

        if open {
            let mut o = if st.uncharged() {
                st.charge();
                Outcome::new(Billed::InWindow, Charge::Session, Why::FirstReplyInWindow)
            } else {
                Outcome::new(Billed::InWindow, Charge::None, Why::InsideWindow)
            };
            o.session = Some(st.session());
            o.until = st.window_until();
            return o;
        }

        st.template_sent();
        let (billed, why) = match ev.kind {
            Kind::Marketing | Kind::Utility | Kind::Authentication | Kind::Template => {
                (Billed::Template, Why::TemplateOutsideWindow)
            }
            // welcome has no meaning on WhatsApp: an ordinary free-form message (the other
            // two kinds never get here: inbound only, or answered first)
            Kind::FreeForm | Kind::Welcome | Kind::EntryPoint | Kind::NotDelivered => {
                (Billed::OutsideWindow, Why::FreeFormOutsideWindow)
            }
        };
        // A free-form message, like a template of none, states no category: the default's.
        let category = ev.kind.category();
        let mut o = Outcome::new(
            billed,
            Charge::Message(category.unwrap_or(default_category)),
            why,
        );
        o.assumed_category = category.is_none();
        o
    }
}

#[cfg(test)]
mod tests {
    //! Tables worked by hand from docs/billing-rules.md §4 (WhatsApp window, WhatsApp session).
    use crate::engine::testing::{check, model};

    #[test]
    #[rustfmt::skip]
    fn each_customer_message_renews_the_window() {
        check(&model("whatsapp-session", ""), &[
            ("2026-03-02 08:00", "a", "in", "", "inbound - s1 opened until=03-03T08:00 why=WindowOpened"),
            // a user-initiated session, charged at the business's first message in it
            ("08:30", "a", "out", "", "in_window session s1 until=03-03T08:00"),
            ("09:00", "a", "out", "", "in_window - s1 until=03-03T08:00"),
            ("20:00", "a", "in",  "", "inbound - s1 until=03-03T20:00 why=WindowRenewed"),
            // inside only because 20:00 renewed the window
            ("2026-03-03 10:00", "a", "out", "", "in_window - s1 until=03-03T20:00"),
            ("20:00", "a", "out", "", "outside_window marketing assumed why=FreeFormOutsideWindow"),
            // that message makes the next session business-initiated: not charged again
            ("21:00", "a", "in",  "", "inbound - s2 opened until=03-04T21:00"),
            ("21:05", "a", "out", "", "in_window - s2 until=03-04T21:00"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn a_template_before_the_reply_makes_a_business_initiated_session() {
        check(&model("whatsapp-session", ""), &[
            ("2026-03-02 08:00", "b", "out", "template", "template marketing assumed why=TemplateOutsideWindow"),
            // also charged while the first is unanswered
            ("09:00", "b", "out", "utility",  "template utility"),
            ("10:00", "b", "in",  "",         "inbound - s1 opened until=03-03T10:00"),
            // paid by the templates: the session is not charged
            ("10:05", "b", "out", "",         "in_window - s1 until=03-03T10:00 why=InsideWindow"),
            ("10:06", "b", "out", "marketing", "in_window - s1 until=03-03T10:00"),
            // no message outside the window since: the next session is user-initiated
            ("2026-03-04 09:00", "b", "in", "", "inbound - s2 opened until=03-05T09:00"),
            ("09:01", "b", "out", "",         "in_window session s2 until=03-05T09:00"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn free_form_outside_the_window_is_billed_as_a_default_category_template() {
        let m = model("whatsapp-session", "default_category = \"utility\"\n[window]\nhours = 2\n");
        check(&m, &[
            ("2026-03-02 08:00", "c", "out", "",  "outside_window utility assumed"),
            // welcome means nothing on WhatsApp: a free-form message
            ("08:01", "c", "out", "welcome",      "outside_window utility assumed"),
            ("08:02", "c", "out", "marketing",    "template marketing"),
            ("09:00", "c", "in",  "",             "inbound - s1 opened until=03-02T11:00"),
            ("10:59:59", "c", "out", "",          "in_window - s1 until=03-02T11:00"),
            ("11:00", "c", "out", "",             "outside_window utility assumed"),
        ]);
    }
    /// The states in 8 bytes until a customer message's window or session does not fit
    /// them: a window ending half a second past a second (08:00:00.5 + 24 h), one past
    /// 2106-02-07 06:28:15 (2^32 - 1 seconds from 1970), a session id of 2^29. The table
    /// widens at each, every earlier state kept (a's session, charged and user-initiated;
    /// b's template pending): each outcome as worked out by hand, and as the wide form from
    /// the start gives it.
    #[test]
    fn states_the_second_form_cannot_keep_widen_the_table_exactly() {
        use super::{Compact, WhatsAppSessionEngine, SESSIONS_IN_IDS};
        use crate::engine::testing::describe;
        use crate::engine::{Engine, Streams};
        use crate::event::{Category, Script};
        let s = Script::new().contact("a").at("2026-03-02 08:00").inbound();
        let s = s.contact("a").at("08:10").outbound("");
        let s = s.contact("b").at("08:20").outbound("template");
        let s = s.contact("c").at("08:30").inbound();
        let s = s.contact("a").at("09:00").outbound("");
        let s = s.contact("b").at("09:10").inbound();
        let s = s.contact("d").at("2106-02-06 07:00").inbound();
        let s = s.contact("d").at("2106-02-07 06:30").outbound("");
        let mut events = s.into_events();
        // c's message half a second later: its window ends on no whole second
        events.push(events[3]);
        events[3].at += 500_000;
        let want = [
            "inbound - s1 opened until=03-03T08:00 why=WindowOpened",
            "in_window session s1 until=03-03T08:00 why=FirstReplyInWindow",
            "template marketing assumed why=TemplateOutsideWindow",
            "inbound - s2 opened until=03-03T08:30:00.500 why=WindowOpened",
            "in_window - s1 until=03-03T08:00 why=InsideWindow",
            // b's template was pending: a business-initiated session
            "inbound - s3 opened until=03-03T09:10 why=WindowOpened",
            // 2106-02-07 07:00: 2^32 + 1,904 seconds from 1970
            "inbound - s4 opened until=02-07T07:00 why=WindowOpened",
            "in_window session s4 until=02-07T07:00 why=FirstReplyInWindow",
        ];
        let engine = |first: u32| {
            let mut e = WhatsAppSessionEngine::new(24, Category::Marketing);
            e.rules.next_id = first;
            e
        };
        // the session ids from 2^29 - 1: a's fits, c's (2^29) does not
        let big = [
            "inbound - s536870911 opened until=03-03T08:00 why=WindowOpened",
            "in_window session s536870911 until=03-03T08:00 why=FirstReplyInWindow",
            "inbound - s536870912 opened until=03-03T08:30 why=WindowOpened",
            "in_window - s536870911 until=03-03T08:00 why=InsideWindow",
        ];
        let past_span = [
            want[0],
            want[1],
            want[2],
            want[4],
            "inbound - s2 opened until=03-03T09:10 why=WindowOpened",
            "inbound - s3 opened until=02-07T07:00 why=WindowOpened",
            "in_window session s3 until=02-07T07:00 why=FirstReplyInWindow",
        ];
        let cases: [(&[usize], u32, &[&str]); 3] = [
            // c's half second
            (&[0, 1, 2, 3, 4, 5], 1, &want[..6]),
            // d's window past the span (c left out: b's session is s2, d's s3)
            (&[0, 1, 2, 4, 5, 6, 7], 1, &past_span),
            // c's session id (c at 08:30 sharp)
            (&[0, 1, 8, 4], SESSIONS_IN_IDS - 1, &big),
        ];
        for (rows, first, want) in cases {
            let mut wide = engine(first);
            wide.streams = Compact::Wide(Streams::new());
            for mut e in [engine(first), wide] {
                let got: Vec<String> = (rows.iter())
                    .map(|&r| describe(&events[r], &e.replay(&events[r]), true))
                    .collect();
                assert_eq!(got, want, "first id {first}");
                assert!(matches!(e.streams, Compact::Wide(_)), "first id {first}");
            }
        }
        // a's and b's messages alone: the table stays in 8 bytes
        let mut e = engine(1);
        for r in [0, 1, 2, 4, 5] {
            e.replay(&events[r]);
        }
        assert!(matches!(e.streams, Compact::Narrow(_)));
    }
}
