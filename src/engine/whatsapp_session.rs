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
    fn prefetch(&self, ev: &Event) {
        self.streams.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
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
        let (billed, category, why) = match ev.kind {
            Kind::Template(c) => (Billed::Template, c, Why::TemplateOutsideWindow),
            // welcome has no meaning on WhatsApp: an ordinary free-form message
            Kind::FreeForm | Kind::Welcome => {
                (Billed::OutsideWindow, None, Why::FreeFormOutsideWindow)
            }
        };
        let mut o = Outcome::new(
            billed,
            Charge::Message(category.unwrap_or(default_category)),
            why,
        );
        o.assumed_category = category.is_none();
        o
    }
}
