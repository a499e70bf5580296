//! WhatsApp's customer service window and the seeds' session model (docs/billing-rules.md §4,
//! `whatsapp-session`).

use super::{Billed, Charge, Engine, Outcome, Streams, Why};
use crate::event::{Category, Direction, Event, Kind, MICROS_PER_HOUR};

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

pub struct WhatsAppSessionEngine {
    window: i64,
    default_category: Category,
    streams: Streams<Stream>,
    next_id: u32,
}

impl WhatsAppSessionEngine {
    pub fn new(window_hours: i64, default_category: Category) -> WhatsAppSessionEngine {
        WhatsAppSessionEngine {
            window: window_hours * MICROS_PER_HOUR,
            default_category,
            streams: Streams::new(),
            next_id: 1,
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
        self.replay_event(ev)
    }

    /// The state of `ahead` asked for, and `ev` replayed in the same call (the trait's
    /// default called `replay` out of line: a call and a frame an event).
    #[inline(always)]
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        if let Some(a) = ahead {
            self.streams.prefetch(a);
        }
        self.replay_event(ev)
    }
}

impl WhatsAppSessionEngine {
    /// `Engine::replay`.
    #[inline(always)]
    fn replay_event(&mut self, ev: &Event) -> Outcome {
        if ev.kind == Kind::NotDelivered {
            return Outcome::not_delivered();
        }
        let now = ev.at;
        let default_category = self.default_category;
        let next_id = &mut self.next_id;
        let st = self.streams.get(ev);
        let open = now < st.window_until;

        if ev.direction == Direction::Inbound {
            let why = if open {
                Why::WindowRenewed
            } else {
                st.session = *next_id;
                *next_id += 1;
                st.user_initiated = !st.template_pending;
                // A business-initiated session was charged by its template.
                st.charged = !st.user_initiated;
                st.template_pending = false;
                Why::WindowOpened {
                    business_initiated: !st.user_initiated,
                }
            };
            st.window_until = now + self.window;
            let mut o = Outcome::new(Billed::Inbound, Charge::None, why);
            o.session = Some(st.session);
            o.opened = !open;
            o.until = st.window_until;
            return o;
        }

        if open {
            let mut o = if st.user_initiated && !st.charged {
                st.charged = true;
                Outcome::new(Billed::InWindow, Charge::Session, Why::FirstReplyInWindow)
            } else {
                Outcome::new(Billed::InWindow, Charge::None, Why::InsideWindow)
            };
            o.session = Some(st.session);
            o.until = st.window_until;
            return o;
        }

        st.template_pending = true;
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
}
