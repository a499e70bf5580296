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
