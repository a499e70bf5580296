//! WhatsApp as Meta bills it, era by era (docs/billing-rules.md §4, `whatsapp-meta`): conversations
//! (2022-02-01), category conversations (2023-06-01), free service (2024-11-01), per-message
//! pricing (2025-07-01), charged service messages (2026-10-01). The era, market and card are those
//! of the message's date, or of `--as-of`.

use super::{in_seconds, micros, seconds, Compact};
use super::{Billed, Charge, Engine, MetaCharge, Outcome, Streams, Why};
use crate::event::{Category, Direction, Event, Kind, MICROS_PER_HOUR};
use crate::rates::meta::{Era, FreeTierCounts, MetaColumn, MetaSpec, Pricing};

#[derive(Clone, Copy)]
struct Conversation {
    id: u32,
    until: i64,
}

/// Conversation slots: marketing, utility, authentication, service, and one for a
/// conversation-era conversation, which covers every category.
const SERVICE: usize = 3;
const ANY: usize = 4;
/// Every slot: a conversation of any kind covers the message.
const EVERY_SLOT: &[usize] = &[0, 1, 2, SERVICE, ANY];

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

/// Every stream's conversations, and the ids given to new ones.
struct Conversations {
    slots: Streams<Slots>,
    /// How long a conversation lasts (microseconds).
    length: i64,
    next_id: u32,
}

impl Conversations {
    /// The stream's open conversation in one of the `covering` slots, or else a new one opened
    /// now in `slot`; `true` when it was opened here.
    #[inline]
    fn covering_or_new(
        &mut self,
        ev: &Event,
        covering: &[usize],
        slot: usize,
    ) -> (Conversation, bool) {
        let now = ev.at;
        let st = self.slots.get(ev);
        if let Some(&s) = covering.iter().find(|&&s| now < st.until[s]) {
            let open = Conversation {
                id: st.id[s],
                until: st.until[s],
            };
            return (open, false);
        }
        let c = Conversation {
            id: self.next_id,
            until: now + self.length,
        };
        self.next_id += 1;
        st.until[slot] = c.until;
        st.id[slot] = c.id;
        (c, true)
    }
}

/// A stream's windows (the state every message reads): the customer service window, and
/// where its free entry point state is kept. 16 bytes, so that a state is never split over
/// two cache lines: few streams ever have an entry point, so theirs is kept aside
/// (`EntryPoints`; issue 24). The wide form of `SecondWindows`, for any instant.
#[derive(Clone, Copy, Default)]
struct Windows {
    /// When the customer service window ends.
    until: i64,
    /// The stream's `EntryPoint` in `MetaRules::entry_points` plus one; 0: none yet (as a
    /// default `EntryPoint`).
    entry: u32,
}

const _: () = assert!(std::mem::size_of::<Windows>() == 16);

/// `Windows` in 8 bytes, while every window ends on a whole second from 1970 to 2106 (its
/// end in seconds from the epoch fits a u32; the default 0 is the wide default's 0): the
/// loop waits on the states' memory, read at random by stream, and a million streams' are
/// 8 MB, not 16 (issue 24). The first window that does not fit widens the table
/// (`Compact::widen`).
#[derive(Clone, Copy, Default)]
struct SecondWindows {
    until: u32,
    entry: u32,
}

const _: () = assert!(std::mem::size_of::<SecondWindows>() == 8);

/// A stream's windows as the rules read and write them, in either form.
trait WindowState: Copy {
    fn until(&self) -> i64;
    /// Only with an end the form keeps exactly (`in_seconds` for `SecondWindows`).
    fn set_until(&mut self, until: i64);
    fn entry(&mut self) -> &mut u32;
}

impl WindowState for Windows {
    #[inline(always)]
    fn until(&self) -> i64 {
        self.until
    }
    #[inline(always)]
    fn set_until(&mut self, until: i64) {
        self.until = until;
    }
    #[inline(always)]
    fn entry(&mut self) -> &mut u32 {
        &mut self.entry
    }
}

impl WindowState for SecondWindows {
    #[inline(always)]
    fn until(&self) -> i64 {
        micros(self.until)
    }
    #[inline(always)]
    fn set_until(&mut self, until: i64) {
        self.until = seconds(until);
    }
    #[inline(always)]
    fn entry(&mut self) -> &mut u32 {
        &mut self.entry
    }
}

impl From<SecondWindows> for Windows {
    fn from(w: SecondWindows) -> Windows {
        Windows {
            until: w.until(),
            entry: w.entry,
        }
    }
}

/// A stream's free entry point window with the customer message from an ad that may open it.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct EntryPoint {
    /// A customer message from an ad or a Page call-to-action waits for the business's first
    /// reply until then (the customer service window it opened); 0: none waits.
    reply_by: i64,
    /// When the free entry point window ends, and its conversation (conversation eras).
    free_until: i64,
    free_id: u32,
}

/// The entry point states of the streams that have one, by `Windows::entry` less one.
#[derive(Default)]
struct EntryPoints(Vec<EntryPoint>);

impl EntryPoints {
    /// The stream's entry point state (made for it, from the default, if it has none).
    fn of(&mut self, entry: &mut u32) -> &mut EntryPoint {
        if *entry == 0 {
            self.0.push(EntryPoint::default());
            // one a stream at most, and streams are counted in u32
            *entry = self.0.len() as u32;
        }
        &mut self.0[*entry as usize - 1]
    }

    /// `free_entry_point` for the stream whose `entry` it is. A stream without a state of its own (most
    /// streams, on every message) is read as the default one, which a message alone never
    /// changes: it opens a window only before a waiting `reply_by`, and none waits.
    #[inline(always)]
    fn free_entry_point(
        &mut self,
        entry: &mut u32,
        (now, era): (i64, &Era),
        next_id: &mut u32,
    ) -> Option<Outcome> {
        if *entry != 0 {
            return free_entry_point(self.of(entry), now, era, next_id);
        }
        let mut fresh = EntryPoint::default();
        let o = free_entry_point(&mut fresh, now, era, next_id);
        debug_assert!(fresh == EntryPoint::default());
        o
    }
}

pub struct WhatsAppMetaEngine<'m> {
    windows: Compact<SecondWindows, Windows>,
    rules: MetaRules<'m>,
}

/// The engine's rules and every state but the windows (which it hands them in their form).
struct MetaRules<'m> {
    spec: &'m MetaSpec,
    window: i64,
    default_category: Category,
    as_of: Option<i32>,
    /// The day last priced and its era: a log's events come in days, and the era's binary
    /// search was a sixth of the replay's instructions (issue 24).
    era_of_day: (i32, Option<&'m Era>),
    entry_points: EntryPoints,
    conversations: Conversations,
}

/// An outbound message as the era rules read it.
struct Sent {
    /// The day whose era, market and card apply.
    day: i32,
    /// The customer service window is open.
    window: bool,
    window_until: i64,
    category: Category,
    /// No category was given: the model's default.
    assumed: bool,
    /// Billed as a template (a free-form message outside the window is one).
    template: bool,
    /// A free-form message outside the window.
    outside: bool,
    /// The era's `volume_tiers` and `authentication_international` (handed to billing).
    volume_tiers: bool,
    international: bool,
    /// The era's `free_tier_per = "business-number"` (handed to billing).
    per_number: bool,
}

impl Sent {
    #[inline]
    fn new(ev: &Event, day: i32, window_until: i64, default_category: Category) -> Sent {
        let window = ev.at < window_until;
        // What was sent: a template of a category, or a free-form message. A free-form message
        // outside the window cannot be sent: it is billed as a template of the default category.
        let (assumed, template) = match ev.kind {
            Kind::Marketing | Kind::Utility | Kind::Authentication => (false, true),
            Kind::Template => (true, true),
            // (EntryPoint is inbound only and NotDelivered is answered first: never here)
            Kind::FreeForm | Kind::Welcome | Kind::EntryPoint | Kind::NotDelivered if window => {
                (false, false)
            }
            Kind::FreeForm | Kind::Welcome | Kind::EntryPoint | Kind::NotDelivered => (true, true),
        };
        Sent {
            day,
            window,
            window_until,
            category: ev.kind.category().unwrap_or(default_category),
            assumed,
            template,
            outside: !window && !ev.kind.is_template(),
            volume_tiers: false,
            international: false,
            per_number: false,
        }
    }

    /// A charge at `column` of the card of the message's day; a free tier of 0 is none.
    #[inline]
    fn charge(
        &self,
        column: MetaColumn,
        free_tier: Option<(FreeTierCounts, u32)>,
        conversation: bool,
    ) -> Charge {
        Charge::Meta(MetaCharge {
            column,
            free_tier: free_tier.filter(|(_, n)| *n > 0),
            price_day: self.day,
            // service messages have no tiers (Meta "Volume tiers")
            volume_tiers: self.volume_tiers && self.template && !conversation,
            international: self.international,
            conversation,
            per_number: self.per_number,
        })
    }

    /// What every era's outcome shares: the assumed category, the open window, outside the window.
    #[inline]
    fn finish(&self, mut o: Outcome) -> Outcome {
        o.assumed_category = self.assumed && o.charge != Charge::None;
        // explain shows the open window where no conversation applies
        if o.until == 0 && self.window {
            o.until = self.window_until;
        }
        if self.outside {
            o.billed = Billed::OutsideWindow;
        }
        o
    }
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

/// A message covered by the open conversation `c`: free.
#[inline]
fn in_conversation(c: Conversation) -> Outcome {
    with_conversation(
        Billed::InConversation,
        Charge::None,
        Why::InOpenConversation,
        c,
        false,
    )
}

/// The era's free tier, if it counts `counts`.
#[inline]
fn free_tier(era: &Era, counts: FreeTierCounts) -> Option<(FreeTierCounts, u32)> {
    era.free_tier_counts
        .filter(|c| *c == counts)
        .map(|c| (c, era.free_tier))
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

/// A customer message opens the customer service window, or renews the open one, from now.
#[inline]
fn customer_message(w: &mut impl WindowState, now: i64, window: i64) -> Outcome {
    let open = now < w.until();
    let until = now + window;
    w.set_until(until);
    let mut o = Outcome::new(
        Billed::Inbound,
        Charge::None,
        if open {
            Why::WindowRenewed
        } else {
            Why::WindowOpenedForReplies
        },
    );
    o.until = until;
    o
}

/// Per-message eras: a template is charged by its category (a utility template inside the
/// window may be free); a free-form message inside the window is free, or from 2026-10-01
/// charged at the utility rate after the free tier.
#[inline]
fn per_message(era: &Era, sent: &Sent) -> Outcome {
    if sent.template {
        if sent.category == Category::Utility && sent.window && era.utility_in_window_free {
            return Outcome::new(Billed::InWindow, Charge::None, Why::UtilityInWindowFree);
        }
        let why = if sent.outside {
            Why::FreeFormOutsideWindow
        } else {
            Why::PerMessageTemplate
        };
        let charge = sent.charge(column(sent.category), None, false);
        Outcome::new(Billed::Template, charge, why)
    } else if era.service_charged {
        let tier = free_tier(era, FreeTierCounts::ServiceMessages);
        Outcome::new(
            Billed::ServiceMessage,
            sent.charge(MetaColumn::Utility, tier, false),
            Why::ServiceMessageCharged,
        )
    } else {
        Outcome::new(Billed::InWindow, Charge::None, Why::FreeFormFree)
    }
}

/// Whether `ev`, sent by the business, is the usual reply the per-message eras leave free
/// (`per_message`'s `FreeFormFree`): a free-form message inside the open window (`until`),
/// in an era whose service messages are free, on a stream with no entry point state
/// (`entry`, read as the default one: it gives no free entry point window from 1970 on).
/// Nothing else applies to it (no conversation, no pause, no category), and it changes no
/// state: answered without the rules' `Sent` and tests (issue 24: half the events of the
/// generated log, ~60 instructions each).
#[inline(always)]
fn answered_free(ev: &Event, until: i64, entry: u32, era: Option<&Era>) -> bool {
    ev.at < until
        && !ev.kind.is_template()
        && entry == 0
        && ev.at >= 0
        && era.is_some_and(|e| e.pricing == Pricing::PerMessage && !e.service_charged)
}

/// The free entry point window (docs/billing-rules.md, Meta free entry point): the business's
/// first reply to a customer message from an ad or a Page call-to-action, within the customer
/// service window that message opened, opens a window of the era's `free_entry_point_hours` in
/// which every message is free, templates included; in the conversation eras it is a free
/// conversation. `None`: the message is billed by the era's rules.
#[inline]
fn free_entry_point(w: &mut EntryPoint, now: i64, era: &Era, next_id: &mut u32) -> Option<Outcome> {
    // the first reply answers the customer, whether or not it opens a window
    let reply_by = std::mem::take(&mut w.reply_by);
    let opened = now >= w.free_until;
    if opened {
        if now >= reply_by || era.free_entry_point_hours == 0 {
            return None;
        }
        w.free_until = now + era.free_entry_point_hours as i64 * MICROS_PER_HOUR;
        w.free_id = *next_id;
        *next_id += 1;
    }
    let why = Why::FreeEntryPoint { opened };
    let mut o = match era.pricing {
        Pricing::PerMessage => Outcome::new(Billed::FreeEntryPoint, Charge::None, why),
        Pricing::Conversation | Pricing::Category => {
            let c = Conversation {
                id: w.free_id,
                until: w.free_until,
            };
            let billed = match opened {
                true => Billed::Conversation,
                false => Billed::InConversation,
            };
            with_conversation(billed, Charge::None, why, c, opened)
        }
    };
    o.until = w.free_until;
    Some(o)
}

impl<'m> WhatsAppMetaEngine<'m> {
    pub fn new(
        spec: &'m MetaSpec,
        window_hours: i64,
        default_category: Category,
        as_of: Option<i32>,
    ) -> Self {
        let rules = MetaRules {
            spec,
            window: window_hours * MICROS_PER_HOUR,
            default_category,
            as_of,
            era_of_day: (i32::MIN, spec.era(i32::MIN)),
            entry_points: EntryPoints::default(),
            conversations: Conversations {
                slots: Streams::new(),
                length: spec.conversation_hours * MICROS_PER_HOUR,
                next_id: 1,
            },
        };
        WhatsAppMetaEngine {
            windows: Compact::new(),
            rules,
        }
    }
}

impl MetaRules<'_> {
    /// The conversation era: one conversation covers every category; a new one is
    /// user-initiated inside the window, business-initiated outside it.
    #[inline]
    fn conversation_era(&mut self, ev: &Event, era: &Era, sent: &Sent) -> Outcome {
        let (c, opened) = self.conversations.covering_or_new(ev, EVERY_SLOT, ANY);
        if !opened {
            return in_conversation(c);
        }
        let column = if sent.window {
            MetaColumn::UserInitiated
        } else {
            MetaColumn::BusinessInitiated
        };
        with_conversation(
            Billed::Conversation,
            sent.charge(column, free_tier(era, FreeTierCounts::Conversations), true),
            Why::ConversationOpened {
                user_initiated: sent.window,
            },
            c,
            true,
        )
    }

    /// Category conversations: a template opens a conversation of its category, a free-form
    /// message a service conversation (free from 2024-11-01).
    #[inline]
    fn category_era(&mut self, ev: &Event, era: &Era, sent: &Sent) -> Outcome {
        // a template is covered by an open conversation of its category; a free-form
        // message by any open conversation. A conversation-era conversation covers all.
        let of_its_category = [slot(sent.category), ANY];
        let (covering, opens) = if sent.template {
            (&of_its_category[..], of_its_category[0])
        } else {
            (EVERY_SLOT, SERVICE)
        };
        let (c, opened) = self.conversations.covering_or_new(ev, covering, opens);
        if !opened {
            return in_conversation(c);
        }
        if sent.template {
            let category = sent.category;
            let charge = sent.charge(column(category), None, true);
            return with_conversation(
                Billed::Conversation,
                charge,
                Why::CategoryConversationOpened { category },
                c,
                true,
            );
        }
        let charge = if era.service_free {
            Charge::None
        } else {
            let tier = free_tier(era, FreeTierCounts::ServiceConversations);
            sent.charge(MetaColumn::Service, tier, true)
        };
        with_conversation(
            Billed::Conversation,
            charge,
            Why::ServiceConversationOpened {
                free: era.service_free,
            },
            c,
            true,
        )
    }
}

impl<'m> MetaRules<'m> {
    /// The era in force on `day` (`MetaSpec::era`), the last day's kept.
    #[inline(always)]
    fn era(&mut self, day: i32) -> Option<&'m Era> {
        if self.era_of_day.0 != day {
            self.era_of_day = (day, self.spec.era(day));
        }
        self.era_of_day.1
    }
}

impl Engine for WhatsAppMetaEngine<'_> {
    fn run(&mut self, job: &mut dyn super::EngineJob) {
        job.whatsapp_meta(self);
    }

    fn expect_streams(&mut self, streams: usize) {
        self.windows.expect(streams);
        self.rules.conversations.slots.expect(streams);
    }

    fn prefetch(&self, ev: &Event) {
        self.windows.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        self.replay_ahead(ev, None)
    }

    /// The state of `ahead` asked for, and `ev` replayed in the same call (the trait's
    /// default called `replay` out of line: a call and a frame an event), through the
    /// windows' form: an inbound message whose window the 8-byte form cannot keep widens
    /// them first.
    #[inline(always)]
    fn replay_ahead(&mut self, ev: &Event, ahead: Option<&Event>) -> Outcome {
        if let Compact::Narrow(s) = &mut self.windows {
            if let Some(a) = ahead {
                s.prefetch(a);
            }
            if ev.direction != Direction::Inbound
                || in_seconds(ev.at.wrapping_add(self.rules.window))
            {
                return self.rules.replay_event(s, ev);
            }
            self.windows.widen();
        }
        match &mut self.windows {
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

impl MetaRules<'_> {
    /// `Engine::replay`, with the stream's windows in `windows`.
    #[inline(always)]
    fn replay_event<W: WindowState + Default + Clone>(
        &mut self,
        windows: &mut Streams<W>,
        ev: &Event,
    ) -> Outcome {
        if ev.kind == Kind::NotDelivered {
            return Outcome::not_delivered();
        }
        let day = self.as_of.unwrap_or(ev.day);
        let era = self.era(day);
        let w = windows.get(ev);
        if ev.direction == Direction::Inbound {
            if ev.kind == Kind::EntryPoint {
                self.entry_points.of(w.entry()).reply_by = ev.at + self.window;
            }
            return customer_message(w, ev.at, self.window);
        }
        let until = w.until();
        if answered_free(ev, until, *w.entry(), era) {
            let mut o = Outcome::new(Billed::InWindow, Charge::None, Why::FreeFormFree);
            o.until = until;
            // the rules' own answer, which reads no state it would change here
            debug_assert_eq!(
                format!("{o:?}"),
                format!("{:?}", self.sent(ev, day, era, w))
            );
            return o;
        }
        self.sent(ev, day, era, w)
    }

    /// A message sent by the business, `w` its stream's windows: the era's rules (`day`'s
    /// era, `None` before the first).
    #[inline(always)]
    fn sent(
        &mut self,
        ev: &Event,
        day: i32,
        era: Option<&Era>,
        w: &mut impl WindowState,
    ) -> Outcome {
        let mut sent = Sent::new(ev, day, w.until(), self.default_category);
        if let Some(era) = era {
            // Meta does not deliver it: it opens no conversation and is not charged. Only a
            // template said to be marketing: an assumed category keeps the estimate high.
            if sent.template
                && !sent.assumed
                && sent.category == Category::Marketing
                && era.marketing_paused.contains(&ev.country)
            {
                return Outcome::new(Billed::NotDelivered, Charge::None, Why::MarketingPaused);
            }
            sent.volume_tiers = era.volume_tiers;
            sent.international = era.authentication_international;
            sent.per_number = era.free_tier_per_number;
            let next_id = &mut self.conversations.next_id;
            if let Some(o) = self
                .entry_points
                .free_entry_point(w.entry(), (ev.at, era), next_id)
            {
                return sent.finish(o);
            }
        }
        let o = match era {
            // before the first era: nothing on the card prices it
            None => Outcome::new(
                Billed::Template,
                sent.charge(column(sent.category), None, false),
                Why::BeforeFirstEra,
            ),
            Some(era) => match era.pricing {
                Pricing::PerMessage => per_message(era, &sent),
                Pricing::Conversation => self.conversation_era(ev, era, &sent),
                Pricing::Category => self.category_era(ev, era, &sent),
            },
        };
        sent.finish(o)
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

    /// Eras with free entry point windows of 72 h (the shipped eras from 2023-03-01).
    fn entry_point_eras() -> Model {
        model(
            "whatsapp-meta",
            r#"
            [[era]]
            from = "2022-02-01"
            pricing = "conversation"
            [[era]]
            from = "2023-03-01"
            pricing = "conversation"
            free_entry_point_hours = 72
            [[era]]
            from = "2025-07-01"
            pricing = "per-message"
            free_entry_point_hours = 72
            [[era]]
            from = "2026-10-01"
            pricing = "per-message"
            service_charged = true
            free_tier = 1000
            free_tier_counts = "service-messages"
            free_entry_point_hours = 72
            "#,
        )
    }

    /// The usual free reply (`answered_free`) answers as the rules do: a free-form message
    /// (or a welcome) inside the window of a per-message era; not a template, not at the
    /// window's end, not a reply to a customer from an ad, not from 2026-10-01 (service
    /// messages charged), not before 1970 (the default entry point state reads a message
    /// before its `free_until` of 0 as inside a free window: kept as it was).
    #[test]
    #[rustfmt::skip]
    fn the_usual_free_reply_is_answered_as_the_rules_answer_it() {
        check(&entry_point_eras(), &[
            ("2025-08-04 08:00", "a", "in",  "", "inbound - until=08-05T08:00"),
            ("08:30", "a", "out", "",          "in_window - until=08-05T08:00 why=FreeFormFree"),
            ("08:31", "a", "out", "welcome",   "in_window - until=08-05T08:00 why=FreeFormFree"),
            ("08:32", "a", "out", "marketing", "template marketing until=08-05T08:00 why=PerMessageTemplate"),
            ("2025-08-05 08:00", "a", "out", "", "outside_window marketing assumed why=FreeFormOutsideWindow"),
            ("09:00", "b", "in",  "entry_point", "inbound - until=08-06T09:00"),
            ("09:10", "b", "out", "",          "free_entry_point - until=08-08T09:10 why=FreeEntryPoint"),
            ("2026-10-05 08:00", "c", "in", "", "inbound - until=10-06T08:00"),
            ("08:10", "c", "out", "", "service_message utility tier=service-messages/1000 until=10-06T08:00"),
        ]);
        check_as_of(&entry_point_eras(), Some("2025-08-01"), &[
            ("1969-12-31 22:00", "d", "in",  "", "inbound - until=01-01T22:00"),
            ("23:00", "d", "out", "", "free_entry_point - until=01-01T22:00 why=FreeEntryPoint"),
        ]);
    }

    /// Conversation eras: the reply within 24 h to a customer from an ad opens a free
    /// conversation of 72 h that covers templates too; a reply after 24 h opens none; before
    /// the era's key (2023-03-01) an entry point is an ordinary customer message.
    #[test]
    #[rustfmt::skip]
    fn a_free_entry_point_conversation_lasts_72_hours() {
        let bi = "business_initiated per-conversation";
        check(&entry_point_eras(), &[
            ("2023-02-27 08:00", "z", "in",  "entry_point", "inbound - until=02-28T08:00"),
            ("09:00", "z", "out", "", "conversation user_initiated per-conversation s1 opened until=02-28T09:00"),
            ("2023-03-10 08:00", "a", "in",  "entry_point", "inbound - until=03-11T08:00"),
            ("08:30", "b", "in",  "entry_point", "inbound - until=03-11T08:30"),
            ("10:00", "a", "out", "", "conversation - s2 opened until=03-13T10:00 why=FreeEntryPoint"),
            // 24 h after b's message (the window covers t <= x < t + 24 h): no free window
            ("2023-03-11 08:30", "b", "out", "utility", &format!("conversation {bi} s3 opened until=03-12T08:30")),
            // a template inside the free window: free
            ("2023-03-13 09:59", "a", "out", "marketing", "in_conversation - s2 until=03-13T10:00 why=FreeEntryPoint"),
            // 72 h after the reply: charged
            ("10:00", "a", "out", "marketing", &format!("conversation {bi} s4 opened until=03-14T10:00")),
        ]);
    }

    /// Per-message eras: every message in the window is free, templates included; a template
    /// 72 h after the reply is charged; from 2026-10-01 service messages stay free in it.
    #[test]
    #[rustfmt::skip]
    fn a_free_entry_point_window_in_the_per_message_eras() {
        check(&entry_point_eras(), &[
            ("2025-08-04 08:00", "a", "in",  "entry_point", "inbound - until=08-05T08:00"),
            ("08:30", "b", "in",  "entry_point", "inbound - until=08-05T08:30"),
            ("09:00", "a", "out", "", "free_entry_point - until=08-07T09:00 why=FreeEntryPoint"),
            ("2025-08-05 08:30", "b", "out", "marketing", "template marketing why=PerMessageTemplate"),
            ("2025-08-07 08:59", "a", "out", "marketing", "free_entry_point - until=08-07T09:00 why=FreeEntryPoint"),
            ("09:00", "a", "out", "marketing", "template marketing why=PerMessageTemplate"),
            ("2026-10-05 08:00", "c", "in",  "entry_point", "inbound - until=10-06T08:00"),
            ("08:10", "c", "out", "", "free_entry_point - until=10-08T08:10"),
            // the customer service window has closed; the free window has not
            ("2026-10-07 09:00", "c", "out", "utility", "free_entry_point - until=10-08T08:10"),
            ("2026-10-08 08:10", "c", "out", "utility", "template utility"),
            // an ordinary customer message opens no free window
            ("09:00", "c", "in",  "", "inbound - until=10-09T09:00"),
            ("09:10", "c", "out", "", "service_message utility tier=service-messages/1000 until=10-09T09:00"),
        ]);
    }

    /// `marketing_paused`: a marketing template to a paused country is not delivered and opens
    /// no conversation; another country, another category or an assumed category is billed.
    #[test]
    fn marketing_to_a_paused_country_is_not_delivered() {
        use crate::engine::testing::{describe, replay};
        use crate::event::Script;
        let m = model(
            "whatsapp-meta",
            r#"
            [[era]]
            from = "2023-06-01"
            pricing = "category"
            [[era]]
            from = "2025-04-01"
            pricing = "category"
            marketing_paused = ["US"]
            "#,
        );
        let s = Script::new().country("US").contact("a");
        let s = s.at("2025-03-31 23:00").outbound("marketing");
        let s = s.at("2025-04-02 00:00").outbound("marketing");
        let s = s.at("2025-04-02 00:01").outbound("utility");
        let s = s.at("2025-04-02 00:02").outbound("template");
        let s = s.country("CA").contact("b").at("2025-04-02 00:03");
        let events = s.outbound("marketing").into_events();
        let got: Vec<String> = (replay(&m, None, &events).iter().zip(&events))
            .map(|(o, ev)| describe(ev, o, true))
            .collect();
        assert_eq!(
            got,
            [
                "conversation marketing per-conversation s1 opened until=04-01T23:00 why=CategoryConversationOpened",
                "not_delivered - why=MarketingPaused",
                "conversation utility per-conversation s2 opened until=04-03T00:01 why=CategoryConversationOpened",
                "conversation marketing per-conversation s3 opened assumed until=04-03T00:02 why=CategoryConversationOpened",
                "conversation marketing per-conversation s4 opened until=04-03T00:03 why=CategoryConversationOpened",
            ]
        );
    }
    /// The windows in 8 bytes until an inbound message's window does not fit them: one
    /// ending half a second past a second (08:00:00.5 + 24 h), and one past 2106-02-07
    /// 06:28:15 (2^32 - 1 seconds from 1970). The table widens at each, every earlier
    /// window kept: each outcome as worked out by hand, and as the wide form from the
    /// start gives it.
    #[test]
    fn windows_a_second_form_cannot_keep_widen_the_table_exactly() {
        use super::{Compact, Streams, WhatsAppMetaEngine};
        use crate::engine::testing::describe;
        use crate::engine::Engine;
        use crate::event::Script;
        use crate::rates::Card;
        let m = model(
            "whatsapp-meta",
            "[[era]]\nfrom = \"2025-07-01\"\npricing = \"per-message\"\n",
        );
        let s = Script::new().contact("a").at("2026-03-02 08:00").inbound();
        let s = s.contact("b").at("08:00").inbound();
        let s = s.contact("a").at("09:00").outbound("");
        let s = s.contact("b").at("09:00").outbound("");
        let s = s.contact("c").at("2106-02-06 07:00").inbound();
        let s = s.contact("c").at("2106-02-07 06:00").outbound("");
        let mut events = s.into_events();
        // b's message half a second later: its window ends on no whole second
        events[1].at += 500_000;
        let want = [
            "inbound - until=03-03T08:00 why=WindowOpenedForReplies",
            "inbound - until=03-03T08:00:00.500 why=WindowOpenedForReplies",
            "in_window - until=03-03T08:00 why=FreeFormFree",
            "in_window - until=03-03T08:00:00.500 why=FreeFormFree",
            // 2106-02-07 07:00: 2^32 + 1,904 seconds from 1970
            "inbound - until=02-07T07:00 why=WindowOpenedForReplies",
            "in_window - until=02-07T07:00 why=FreeFormFree",
        ];
        let Card::Meta(spec) = &m.card else {
            panic!("a Meta card")
        };
        let engine = || WhatsAppMetaEngine::new(spec, m.window_hours, m.default_category, None);
        // b's half second (rows 0-3), then c's window past the span on its own (rows 0, 2, 4, 5)
        for rows in [&[0, 1, 2, 3][..], &[0, 2, 4, 5]] {
            let mut wide = engine();
            wide.windows = Compact::Wide(Streams::new());
            for mut e in [engine(), wide] {
                let got: Vec<String> = (rows.iter())
                    .map(|&r| describe(&events[r], &e.replay(&events[r]), true))
                    .collect();
                let want: Vec<&str> = rows.iter().map(|&r| want[r]).collect();
                assert_eq!(got, want);
                assert!(matches!(e.windows, Compact::Wide(_)));
            }
        }
        // a's messages alone: the table stays in seconds
        let mut e = engine();
        for ev in [&events[0], &events[2]] {
            e.replay(ev);
        }
        assert!(matches!(e.windows, Compact::Narrow(_)));
    }
}
