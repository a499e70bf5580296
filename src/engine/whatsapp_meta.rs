//! WhatsApp as Meta bills it, era by era (docs/billing-rules.md §4, `whatsapp-meta`): conversations
//! (2022-02-01), category conversations (2023-06-01), free service (2024-11-01), per-message
//! pricing (2025-07-01), charged service messages (2026-10-01). The era, market and card are those
//! of the message's date, or of `--as-of`.

use super::{Billed, Charge, Engine, MetaCharge, Outcome, Streams, Why};
use crate::event::{Category, Direction, Event, Kind, MICROS_PER_HOUR};
use crate::rates::meta::{FreeTierCounts, MetaColumn, MetaSpec, Pricing};

#[derive(Clone, Copy)]
struct Conversation {
    id: u32,
    until: i64,
}

/// Conversation slots: marketing, utility, authentication, service, and one for a
/// conversation-era conversation, which covers every category.
const SERVICE: usize = 3;
const ANY: usize = 4;

/// A stream's conversations by slot: when each ends and its id; a slot that never held one
/// ends at `i64::MIN`. Only conversation eras read these, so a log in the per-message era
/// never makes them.
#[derive(Clone)]
struct Slots {
    until: [i64; 5],
    id: [u32; 5],
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            until: [i64::MIN; 5],
            id: [0; 5],
        }
    }
}

pub struct WhatsAppMetaEngine<'m> {
    spec: &'m MetaSpec,
    window: i64,
    conversation: i64,
    default_category: Category,
    as_of: Option<i32>,
    /// When each stream's customer service window ends (the state every message reads).
    windows: Streams<i64>,
    conversations: Streams<Slots>,
    next_id: u32,
}

/// An outcome that belongs to conversation `c` (opened by this message or covering it).
fn with_conversation(
    billed: Billed,
    charge: Charge,
    why: Why,
    c: Conversation,
    opened: bool,
) -> Outcome {
    let mut o = Outcome::new(billed, charge, why);
    o.session = Some(c.id);
    o.until = c.until;
    o.opened = opened;
    o
}

fn slot(c: Category) -> usize {
    match c {
        Category::Marketing => 0,
        Category::Utility => 1,
        Category::Authentication => 2,
    }
}

fn column(c: Category) -> MetaColumn {
    match c {
        Category::Marketing => MetaColumn::Marketing,
        Category::Utility => MetaColumn::Utility,
        Category::Authentication => MetaColumn::Authentication,
    }
}

impl<'m> WhatsAppMetaEngine<'m> {
    pub fn new(
        spec: &'m MetaSpec,
        window_hours: i64,
        default_category: Category,
        as_of: Option<i32>,
    ) -> Self {
        WhatsAppMetaEngine {
            spec,
            window: window_hours * MICROS_PER_HOUR,
            conversation: spec.conversation_hours * MICROS_PER_HOUR,
            default_category,
            as_of,
            windows: Streams::new(),
            conversations: Streams::new(),
            next_id: 1,
        }
    }
}

impl Engine for WhatsAppMetaEngine<'_> {
    fn prefetch(&self, ev: &Event) {
        self.windows.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        let now = ev.at;
        let day = self.as_of.unwrap_or(ev.day);
        let window_until = self.windows.get(ev);
        let window = now < *window_until;

        if ev.direction == Direction::Inbound {
            *window_until = now + self.window;
            let mut o = Outcome::new(
                Billed::Inbound,
                Charge::None,
                if window {
                    Why::WindowRenewed
                } else {
                    Why::WindowOpenedForReplies
                },
            );
            o.until = *window_until;
            return o;
        }

        // What was sent: a template of a category, or a free-form message. A free-form message
        // outside the window cannot be sent: it is billed as a template of the default category.
        let (category, assumed, template) = match ev.kind {
            Kind::Template(c) => (c.unwrap_or(self.default_category), c.is_none(), true),
            Kind::FreeForm | Kind::Welcome if window => (self.default_category, false, false),
            Kind::FreeForm | Kind::Welcome => (self.default_category, true, true),
        };
        let outside = !window && !matches!(ev.kind, Kind::Template(_));
        let window_until = *window_until;
        let charge = |column, free_tier: Option<(FreeTierCounts, u32)>, conversation| {
            Charge::Meta(MetaCharge {
                column,
                free_tier: free_tier.filter(|(_, n)| *n > 0),
                price_day: day,
                conversation,
            })
        };
        let finish = |mut o: Outcome| {
            o.assumed_category = assumed && o.charge != Charge::None;
            // explain shows the open window where no conversation applies
            if o.until == 0 && window {
                o.until = window_until;
            }
            if outside {
                o.billed = Billed::OutsideWindow;
            }
            o
        };

        let Some(era) = self.spec.era(day) else {
            // before the first era: nothing on the card prices it
            let o = Outcome::new(
                Billed::Template,
                charge(column(category), None, false),
                Why::BeforeFirstEra,
            );
            return finish(o);
        };
        let tier = |counts| {
            era.free_tier_counts
                .filter(|c| *c == counts)
                .map(|c| (c, era.free_tier))
        };

        let open = |slots: &[usize], st: &Slots| {
            slots
                .iter()
                .find(|&&s| now < st.until[s])
                .map(|&s| Conversation {
                    id: st.id[s],
                    until: st.until[s],
                })
        };
        let mut new_conversation = |st: &mut Slots, slot: usize| {
            let c = Conversation {
                id: self.next_id,
                until: now + self.conversation,
            };
            self.next_id += 1;
            st.until[slot] = c.until;
            st.id[slot] = c.id;
            c
        };

        let o = match era.pricing {
            Pricing::PerMessage => {
                if template {
                    if category == Category::Utility && window && era.utility_in_window_free {
                        Outcome::new(Billed::InWindow, Charge::None, Why::UtilityInWindowFree)
                    } else {
                        let mut o = Outcome::new(
                            Billed::Template,
                            charge(column(category), None, false),
                            Why::PerMessageTemplate,
                        );
                        if outside {
                            o.why = Why::FreeFormOutsideWindow;
                        }
                        o
                    }
                } else if era.service_charged {
                    Outcome::new(
                        Billed::ServiceMessage,
                        charge(
                            MetaColumn::Utility,
                            tier(FreeTierCounts::ServiceMessages),
                            false,
                        ),
                        Why::ServiceMessageCharged,
                    )
                } else {
                    Outcome::new(Billed::InWindow, Charge::None, Why::FreeFormFree)
                }
            }
            Pricing::Conversation => {
                let st = self.conversations.get(ev);
                match open(&[0, 1, 2, SERVICE, ANY], st) {
                    Some(c) => with_conversation(
                        Billed::InConversation,
                        Charge::None,
                        Why::InOpenConversation,
                        c,
                        false,
                    ),
                    None => {
                        let c = new_conversation(st, ANY);
                        let col = if window {
                            MetaColumn::UserInitiated
                        } else {
                            MetaColumn::BusinessInitiated
                        };
                        with_conversation(
                            Billed::Conversation,
                            charge(col, tier(FreeTierCounts::Conversations), true),
                            Why::ConversationOpened {
                                user_initiated: window,
                            },
                            c,
                            true,
                        )
                    }
                }
            }
            Pricing::Category => {
                let st = self.conversations.get(ev);
                // a template is covered by an open conversation of its category; a free-form
                // message by any open conversation. A conversation-era conversation covers all.
                let covering: &[usize] = if template {
                    &[slot(category), ANY]
                } else {
                    &[0, 1, 2, SERVICE, ANY]
                };
                match open(covering, st) {
                    Some(c) => with_conversation(
                        Billed::InConversation,
                        Charge::None,
                        Why::InOpenConversation,
                        c,
                        false,
                    ),
                    None if template => {
                        let c = new_conversation(st, slot(category));
                        let mut o = Outcome::new(
                            Billed::Conversation,
                            charge(column(category), None, true),
                            Why::CategoryConversationOpened { category },
                        );
                        o.session = Some(c.id);
                        o.opened = true;
                        o.until = c.until;
                        o
                    }
                    None => {
                        let c = new_conversation(st, SERVICE);
                        let ch = if era.service_free {
                            Charge::None
                        } else {
                            charge(
                                MetaColumn::Service,
                                tier(FreeTierCounts::ServiceConversations),
                                true,
                            )
                        };
                        with_conversation(
                            Billed::Conversation,
                            ch,
                            Why::ServiceConversationOpened {
                                free: era.service_free,
                            },
                            c,
                            true,
                        )
                    }
                }
            }
        };
        finish(o)
    }
}

#[cfg(test)]
mod tests {
    //! One table per era boundary, worked by hand from docs/billing-rules.md §4 (Meta eras,
    //! Meta conversations, As of): messages on both sides of each `from` date.
    use crate::engine::testing::{check, check_as_of, model};
    use crate::rates::Model;

    /// The shipped eras (rates/whatsapp-meta.toml), windows and conversations of 24 h.
    fn eras() -> Model {
        model(
            "whatsapp-meta",
            r#"
            [[era]]
            from = "2022-02-01"
            pricing = "conversation"
            free_tier = 1000
            free_tier_counts = "conversations"
            [[era]]
            from = "2023-06-01"
            pricing = "category"
            free_tier = 1000
            free_tier_counts = "service-conversations"
            [[era]]
            from = "2024-11-01"
            pricing = "category"
            service_free = true
            [[era]]
            from = "2025-07-01"
            pricing = "per-message"
            utility_in_window_free = true
            [[era]]
            from = "2026-10-01"
            pricing = "per-message"
            service_charged = true
            free_tier = 1000
            free_tier_counts = "service-messages"
            "#,
        )
    }

    #[test]
    #[rustfmt::skip]
    fn conversations_begin_2022_02_01() {
        let bi = "business_initiated per-conversation tier=conversations/1000";
        check(&eras(), &[
            ("2022-01-31 23:00", "a", "out", "utility", "template utility why=BeforeFirstEra"),
            ("23:30", "b", "in",  "", "inbound - until=02-01T23:30 why=WindowOpenedForReplies"),
            ("23:40", "b", "out", "", "template marketing until=02-01T23:30 why=BeforeFirstEra"),
            ("2022-02-01 00:00", "a", "out", "utility", &format!("conversation {bi} s1 opened until=02-02T00:00")),
            // one conversation covers every category
            ("00:30", "a", "out", "marketing", "in_conversation - s1 until=02-02T00:00"),
            // inside the window: user-initiated
            ("00:40", "b", "out", "", "conversation user_initiated per-conversation tier=conversations/1000 s2 opened until=02-02T00:40"),
            ("2022-02-02 00:00", "a", "out", "marketing", &format!("conversation {bi} s3 opened until=02-03T00:00")),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn category_conversations_begin_2023_06_01() {
        check(&eras(), &[
            ("2023-05-31 12:00", "a", "out", "marketing",
             "conversation business_initiated per-conversation tier=conversations/1000 s1 opened until=06-01T12:00"),
            // a conversation of the old era covers every category until it ends
            ("2023-06-01 11:00", "a", "out", "utility", "in_conversation - s1 until=06-01T12:00"),
            ("12:00", "a", "out", "utility",   "conversation utility per-conversation s2 opened until=06-02T12:00"),
            // categories run in parallel, each charged
            ("12:30", "a", "out", "marketing", "conversation marketing per-conversation s3 opened until=06-02T12:30"),
            ("12:40", "a", "out", "utility",   "in_conversation - s2 until=06-02T12:00"),
            ("13:00", "b", "in",  "",          "inbound - until=06-02T13:00"),
            ("13:01", "b", "out", "",
             "conversation service per-conversation tier=service-conversations/1000 s4 opened until=06-02T13:01"),
            // a service conversation does not cover a template
            ("13:02", "b", "out", "marketing", "conversation marketing per-conversation s5 opened until=06-02T13:02"),
            // any open conversation covers a free-form message
            ("13:03", "b", "out", "",          "in_conversation - s5 until=06-02T13:02"),
            ("13:04", "c", "out", "",
             "outside_window marketing per-conversation s6 opened assumed until=06-02T13:04"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn service_conversations_are_free_from_2024_11_01() {
        check(&eras(), &[
            ("2024-10-31 23:00", "a", "in",  "", "inbound - until=11-01T23:00"),
            ("23:30", "a", "out", "",
             "conversation service per-conversation tier=service-conversations/1000 s1 opened until=11-01T23:30"),
            ("2024-11-01 00:00", "b", "in",  "", "inbound - until=11-02T00:00"),
            ("00:10", "b", "out", "",        "conversation - s2 opened until=11-02T00:10"),
            ("00:20", "a", "out", "",        "in_conversation - s1 until=11-01T23:30"),
            ("00:30", "b", "out", "utility", "conversation utility per-conversation s3 opened until=11-02T00:30"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn per_message_pricing_begins_2025_07_01() {
        check(&eras(), &[
            ("2025-06-30 22:00", "a", "in",  "", "inbound - until=07-01T22:00"),
            ("22:10", "a", "out", "utility", "conversation utility per-conversation s1 opened until=07-01T22:10"),
            // the open conversation no longer matters; a utility template in the window is free
            ("2025-07-01 00:00", "a", "out", "utility", "in_window - until=07-01T22:00 why=UtilityInWindowFree"),
            ("00:05", "a", "out", "marketing", "template marketing until=07-01T22:00 why=PerMessageTemplate"),
            ("00:10", "a", "out", "",          "in_window - until=07-01T22:00 why=FreeFormFree"),
            ("00:20", "b", "out", "",          "outside_window marketing assumed why=FreeFormOutsideWindow"),
            ("00:30", "b", "out", "utility",   "template utility"),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn service_messages_are_charged_from_2026_10_01() {
        check(&eras(), &[
            ("2026-09-30 23:00", "a", "in",  "", "inbound - until=10-01T23:00"),
            ("23:10", "a", "out", "",        "in_window - until=10-01T23:00"),
            ("23:20", "a", "out", "utility", "in_window - until=10-01T23:00"),
            ("2026-10-01 00:00", "a", "out", "",
             "service_message utility tier=service-messages/1000 until=10-01T23:00"),
            ("00:10", "a", "out", "utility", "template utility until=10-01T23:00"),
            ("00:20", "b", "out", "",        "outside_window marketing assumed"),
        ]);
    }

    /// `--as-of` applies one day's era to every message, and prices on that day.
    #[test]
    #[rustfmt::skip]
    fn as_of_applies_one_days_rules() {
        check_as_of(&eras(), Some("2026-10-01"), &[
            ("2023-06-15 08:00", "a", "in", "", "inbound - until=06-16T08:00"),
            ("08:05", "a", "out", "",
             "service_message utility tier=service-messages/1000 priced=2026-10-01 until=06-16T08:00"),
            ("08:06", "a", "out", "utility", "template utility priced=2026-10-01 until=06-16T08:00"),
        ]);
    }
}
