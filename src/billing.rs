//! The commercial model: engine outcomes -> prices, free allowances and monthly fees -> ledger
//! lines and aggregates (docs/billing-rules.md §3, 5).

use crate::engine::{self, Billed, Charge, MetaCharge, Outcome};
use crate::event::{Category, Country, Direction, Event};
use crate::input::Log;
use crate::rates::meta::{FreeTierCounts, MarketId};
use crate::rates::{Card, FeeKind, Model, Rules};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Declares `Stats` and the lists every output is made from, so that a count is named once:
/// the struct, `add`, the JSON keys and the CSV columns all come from this list. `early` counts
/// come before the money columns of the CSV report, `late` ones after them (added later; the
/// columns are an interface and keep their places).
macro_rules! counted {
    (early: [$($(#[$ea:meta])* $early:ident),* $(,)?],
     late: [$($(#[$la:meta])* $late:ident),* $(,)?] $(,)?) => {
        /// Counts and cost of a slice of traffic.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Stats {
            $($(#[$ea])* pub $early: u64,)*
            $($(#[$la])* pub $late: u64,)*
            pub cost: Decimal,
        }

        impl Stats {
            /// The names of the counts before the CSV report's money columns.
            pub const EARLY_COUNTS: &'static [&'static str] = &[$(stringify!($early)),*];
            /// The names of the counts after them.
            pub const LATE_COUNTS: &'static [&'static str] = &[$(stringify!($late)),*];

            pub fn add(&mut self, o: &Stats) {
                $(self.$early += o.$early;)*
                $(self.$late += o.$late;)*
                self.cost += o.cost;
            }

            /// The counts of `EARLY_COUNTS`, in its order.
            pub fn early_counts(&self) -> impl Iterator<Item = u64> {
                [$(self.$early),*].into_iter()
            }

            /// The counts of `LATE_COUNTS`, in its order.
            pub fn late_counts(&self) -> impl Iterator<Item = u64> {
                [$(self.$late),*].into_iter()
            }

            /// Every count with its name.
            pub fn counts(&self) -> impl Iterator<Item = (&'static str, u64)> {
                (Self::EARLY_COUNTS.iter().copied().zip(self.early_counts()))
                    .chain(Self::LATE_COUNTS.iter().copied().zip(self.late_counts()))
            }
        }
    };
}

counted! {
    early: [
        messages_in,
        messages_out,
        sessions_opened,
        sessions_charged,
        business_initiated_charged,
        business_initiated_free,
        rejected_in_session,
        /// Messages over the in-a-row limit that Viber blocked: not delivered, not billed.
        blocked,
        outside_window,
        assumed_category,
        unpriced,
    ],
    late: [
        /// whatsapp-meta: conversations or messages inside a monthly free tier.
        free_tier,
        /// whatsapp-meta: priced from a market's earlier card because the card in force lacks it.
        carried_forward,
    ],
}

/// The price of one outbound message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Price {
    /// Nothing to charge (free by the rules).
    Free,
    /// A session the model does not charge for (viber-2024).
    FreeSession,
    /// Covered by the month's free allowance.
    Allowance,
    Priced {
        amount: Decimal,
        rate_country: Option<Country>,
        rate_from: Option<NaiveDate>,
        /// whatsapp-meta: the market (index into `ModelResult::markets`).
        market: Option<MarketId>,
        carried_forward: bool,
    },
    /// The card has no price for it: counted, left out of the totals.
    Unpriced,
}

impl Price {
    pub fn amount(&self) -> Decimal {
        match self {
            Price::Priced { amount, .. } => *amount,
            _ => Decimal::ZERO,
        }
    }
}

/// One event as the model billed it (kept for `--ledger` and `explain`).
#[derive(Clone, Copy, Debug)]
pub struct Line {
    /// Index into `Log::events`.
    pub event: u32,
    pub outcome: Outcome,
    pub price: Price,
    /// The category whose rate applied, for per-message charges.
    pub category: Option<Category>,
}

/// A consumer of one model's billed lines (the ledger), handed them as they are billed
/// instead of their being kept: every few thousand events, lines of whole instants, in input
/// order or in the replay order (`replay_order`); `events[line.event - first]` is a line's
/// event, and `names` names its account and contact.
pub trait LineSink: Send {
    fn take(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names);
}

/// A model's line sink, shared with the billing thread that bills the model.
pub type Sink<'s> = &'s Mutex<dyn LineSink + 's>;

/// Lines handed to a sink at a time when billing in a given order (`Replayer::bill_in_order`).
const LINES_AT_A_TIME: usize = 1 << 16;

/// Where the country deciding an account's fee tier came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierFrom {
    /// `--account-country`
    Given,
    /// The highest tier among the countries of the month's traffic.
    HighestTier,
}

/// A monthly fee or minimum-commitment top-up of one account.
#[derive(Clone, Debug)]
pub struct FeeItem {
    pub account: u32,
    pub month: i32,
    /// The country whose tier applied; `None` for the default tier.
    pub country: Option<Country>,
    pub from: TierFrom,
    pub kind: FeeKind,
    /// The tier's amount (the fee, or the minimum commitment).
    pub tier: Decimal,
    /// The account's priced spend that month.
    pub spend: Decimal,
    /// What is charged: the fee, or max(0, minimum - spend); 0 when `before_minimum`.
    pub amount: Decimal,
    /// `Some(n)`: the month comes before the account's n-th active month in the log
    /// (`[monthly] minimum_from_month`), so the minimum does not apply and it pays its spend only.
    pub before_minimum: Option<u32>,
}

/// What a free allowance or free tier counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PoolKind {
    /// Viber: the month's free business-initiated messages.
    Allowance,
    /// whatsapp-meta: a monthly free tier.
    FreeTier(FreeTierCounts),
}

/// The items of one account-month that drew on a free allowance or tier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pool {
    /// How many items the allowance covers.
    pub size: u64,
    /// Items that drew on it, free or not.
    pub items: u64,
    /// What those items cost at the card's prices, as if none were free.
    pub value: Decimal,
}

/// One account-month's traffic as break-even scales it: the charges that grow with volume,
/// and the allowances that stay fixed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Volume {
    pub messages: u64,
    /// Sessions or conversations opened, as the model counts them.
    pub sessions: u64,
    /// Priced charges that no allowance or free tier touches.
    pub linear: Decimal,
    pub pools: BTreeMap<PoolKind, Pool>,
}

pub struct ModelResult {
    pub name: String,
    pub channel: &'static str,
    pub currency: String,
    /// Stats per (account, country, month).
    pub cells: BTreeMap<(u32, Country, i32), Stats>,
    /// In (account, month) order.
    pub fees: Vec<FeeItem>,
    /// Every event, billed, in replay order (empty unless asked for).
    pub lines: Vec<Line>,
    /// Market names (whatsapp-meta), for `Price::Priced::market`.
    pub markets: Vec<String>,
    /// Per (account, month): the traffic as break-even scales it.
    pub volumes: BTreeMap<(u32, i32), Volume>,
}

/// The rate row behind a priced charge, as the ledger and explain name it.
pub struct RateRef {
    pub amount: Decimal,
    /// The card row's country, `*`, or empty for a Meta market card.
    pub country: String,
    /// The Meta market, or empty.
    pub market: String,
    pub from: Option<NaiveDate>,
    pub carried_forward: bool,
}

impl ModelResult {
    /// The rate row that priced `price`; `None` unless it was priced.
    pub fn rate_ref(&self, price: &Price) -> Option<RateRef> {
        let Price::Priced {
            amount,
            rate_country,
            rate_from,
            market,
            carried_forward,
        } = *price
        else {
            return None;
        };
        Some(RateRef {
            amount,
            country: match (rate_country, market) {
                (Some(c), _) => c.to_string(),
                (None, Some(_)) => String::new(),
                (None, None) => "*".into(),
            },
            market: market
                .map(|m| self.markets[m as usize].clone())
                .unwrap_or_default(),
            from: rate_from,
            carried_forward,
        })
    }

    pub fn totals(&self) -> Stats {
        let mut t = Stats::default();
        for s in self.cells.values() {
            t.add(s);
        }
        t
    }

    /// At most 1.9e25: a fee is at most 1e6 (rates/README.md "Ranges") and is charged only
    /// for an account-month with a message, so there are fewer than 2^64 of them; with the
    /// messages' 1.9e22 (`Biller::step`) the total stays below Decimal::MAX = 7.9e28.
    pub fn fee_total(&self) -> Decimal {
        self.fees.iter().map(|f| f.amount).sum()
    }

    /// Messages plus fees.
    pub fn total(&self) -> Decimal {
        self.totals().cost + self.fee_total()
    }

    /// Unpriced messages per country.
    pub fn unpriced_by_country(&self) -> BTreeMap<Country, u64> {
        let mut m = BTreeMap::new();
        for ((_, c, _), s) in &self.cells {
            if s.unpriced > 0 {
                *m.entry(*c).or_insert(0) += s.unpriced;
            }
        }
        m
    }
}

pub struct BillingOptions {
    /// `--account-country`: the fee tier country of every account.
    pub account_country: Option<Country>,
    /// Keep one `Line` per event.
    pub keep_lines: bool,
    /// `--as-of`: the rules and rates of this day (days since 1970-01-01) for all traffic.
    pub as_of: Option<i32>,
    /// Card prices only: no free allowance, free tier or monthly fee (comparing rate cards).
    pub list_prices: bool,
}

/// The log's events in replay order: by instant; at the same instant by account and contact
/// (by name, so the order of the rows does not matter), and one contact's messages of the same
/// instant in input order.
pub fn replay_order(log: &Log) -> Vec<u32> {
    replay_order_on(log, 1)
}

/// `replay_order` with the work shared among `threads` threads (the order is the same).
pub fn replay_order_on(log: &Log, threads: usize) -> Vec<u32> {
    let ev = &log.events;
    let (order, rank) = std::thread::scope(|s| {
        let rank = s.spawn(|| log.contacts.ranks());
        let mut order: Vec<u32> = (0..ev.len() as u32).collect();
        // Exported logs are usually in time order already: then there is nothing to sort.
        if !log.in_time_order && !ev.windows(2).all(|w| w[0].at <= w[1].at) {
            order.sort_by_key(|&i| ev[i as usize].at);
        }
        let rank = rank.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (order, rank)
    });
    // Ties sorted in pieces of the order cut between instants, a piece per thread.
    let mut order = order;
    let threads = threads.max(1);
    let mut pieces: Vec<&mut [u32]> = Vec::new();
    let mut rest: &mut [u32] = &mut order;
    for t in (1..threads).rev() {
        let mut cut = rest.len() - rest.len() / (t + 1);
        while cut > 0
            && cut < rest.len()
            && ev[rest[cut] as usize].at == ev[rest[cut - 1] as usize].at
        {
            cut += 1;
        }
        let (piece, tail) = rest.split_at_mut(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    std::thread::scope(|s| {
        for piece in pieces {
            let rank = &rank;
            s.spawn(move || sort_ties(piece, log, rank));
        }
    });
    order
}

/// Sorts each run of one instant in `order` by account and contact rank, stably.
fn sort_ties(order: &mut [u32], log: &Log, rank: &[u32]) {
    let ev = &log.events;
    // Each event's key read once, not at every comparison. Within a run the indexes rise
    // (the order is the input order, stably sorted by instant), so sorting (key, index)
    // keeps one contact's messages in input order.
    let mut keyed: Vec<(u64, u32)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let at = ev[order[start] as usize].at;
        let mut end = start + 1;
        while end < order.len() && ev[order[end] as usize].at == at {
            end += 1;
        }
        if end - start > 1 {
            keyed.clear();
            keyed.extend(order[start..end].iter().map(|&i| {
                let e = &ev[i as usize];
                (
                    ((log.account_of(e) as u64) << 32) | rank[e.contact as usize] as u64,
                    i,
                )
            }));
            keyed.sort_unstable();
            for (slot, (_, i)) in order[start..end].iter_mut().zip(&keyed) {
                *slot = *i;
            }
        }
        start = end;
    }
}

/// Where a pool sits in `MonthState::pools`.
fn pool_index(kind: PoolKind) -> usize {
    match kind {
        PoolKind::Allowance => 0,
        PoolKind::FreeTier(FreeTierCounts::Conversations) => 1,
        PoolKind::FreeTier(FreeTierCounts::ServiceConversations) => 2,
        PoolKind::FreeTier(FreeTierCounts::ServiceMessages) => 3,
    }
}

const POOL_KINDS: [PoolKind; 4] = [
    PoolKind::Allowance,
    PoolKind::FreeTier(FreeTierCounts::Conversations),
    PoolKind::FreeTier(FreeTierCounts::ServiceConversations),
    PoolKind::FreeTier(FreeTierCounts::ServiceMessages),
];

/// One account-month of one model while replaying.
#[derive(Clone, Default)]
struct MonthState {
    allowance_used: u64,
    /// Per pool kind: items counted against the free allowance or tier so far.
    used: [u64; 4],
    spend: Decimal,
    messages: u64,
    sessions: u64,
    linear: Decimal,
    pools: [Pool; 4],
    /// Some allowance or tier of the month has run low (`LOW_ROOM`) but not out: the events
    /// of one instant may then need their replay order (`Biller::may_run_out`).
    low: bool,
}

/// Room left in a free allowance or tier below which it counts as running low.
const LOW_ROOM: u64 = 256;

impl MonthState {
    /// Notes whether a pool drawn on this month is now low (after a free draw: the only
    /// time the room changes); gives the change in the count of low months (-1, 0 or 1).
    fn recount_low(&mut self) -> i64 {
        let was = self.low;
        self.low = (0..4).any(|k| {
            let used = if k == 0 {
                self.allowance_used
            } else {
                self.used[k]
            };
            let room = self.pools[k].size.saturating_sub(used);
            room > 0 && room < LOW_ROOM
        });
        self.low as i64 - was as i64
    }
}

/// One model replaying the log event by event; state is kept in vectors indexed by the
/// event's interned ids, so the hot path neither hashes nor allocates.
pub struct Biller<'m> {
    model: &'m Model,
    /// Whether `lines` are recorded: kept (`BillingOptions::keep_lines`) or for `sink`.
    keep_lines: bool,
    sink: Option<Sink<'m>>,
    list_prices: bool,
    account_country: Option<Country>,
    free: u64,
    cells: Vec<Stats>,
    months: Vec<MonthState>,
    /// `Log::cell_account_months`: the month state of each cell.
    month_of_cell: Vec<u32>,
    lines: Vec<Line>,
    /// The smallest free allowance or tier the model has (`u64::MAX`: none).
    smallest_pool: u64,
    /// Months with a pool running low (`MonthState::low`): none, most of the time.
    low_months: i64,
    /// Whether this biller counts what the engine alone decides (messages, sessions, rejects):
    /// the same for every model sharing an engine, so only the first of them counts it and
    /// the others copy it at the end (`Biller::copy_counts`).
    counts: bool,
}

impl<'m> Biller<'m> {
    pub fn new(log: &Log, model: &'m Model, opts: &BillingOptions) -> Biller<'m> {
        Biller {
            model,
            keep_lines: opts.keep_lines,
            sink: None,
            list_prices: opts.list_prices,
            account_country: opts.account_country,
            free: if opts.list_prices {
                0
            } else {
                model.monthly.free_business_initiated
            },
            cells: vec![Stats::default(); log.cells.len()],
            months: vec![MonthState::default(); log.account_months.len()],
            month_of_cell: log.cell_account_months.clone(),
            lines: if opts.keep_lines {
                Vec::with_capacity(log.events.len())
            } else {
                Vec::new()
            },
            smallest_pool: smallest_pool(model, opts.list_prices),
            low_months: 0,
            counts: true,
        }
    }

    /// Bills event `i`, which the model's engine has replayed as `outcome`.
    /// (The outcome is taken by reference: a copy of the engine's freshly written outcome
    /// waits for its stores to land, a stall on every event.)
    pub fn step(&mut self, i: u32, ev: &Event, outcome: &Outcome) {
        let model = self.model;
        let cell = &mut self.cells[ev.cell as usize];
        let month = &mut self.months[self.month_of_cell[ev.cell as usize] as usize];
        if self.counts {
            count_engine_decisions(cell, month, ev, outcome);
        }
        let low_months = &mut self.low_months;
        let (price, category) = match outcome.charge {
            Charge::None => (Price::Free, None),
            Charge::Session if model.rules == Rules::Viber && !model.session.charged => {
                (Price::FreeSession, None)
            }
            Charge::Session => (session_price(model, ev, cell, month), None),
            Charge::Message(cat) => {
                let free = self.free;
                let p = message_price(model, ev, cat, free, (cell, month), low_months);
                (p, Some(cat))
            }
            Charge::Meta(mc) => {
                let free_tier = mc.free_tier.filter(|_| !self.list_prices);
                let p = meta_price(model, ev, &mc, free_tier, (cell, month), low_months);
                (p, None)
            }
        };
        if price == Price::Unpriced {
            cell.unpriced += 1;
        }
        // No sum of money here can overflow (Decimal's `+` checks and would panic): prices are
        // at most 1,000 (rates/README.md "Ranges"), so fewer than 2^64 messages add up to at
        // most 1.9e19 x 1e3 = 1.9e22 in `cost`, `spend`, `linear` or a pool's `value`, far
        // below Decimal::MAX = 7.9e28. With at most 8 decimal places the sums stay exact up
        // to 7.9e20 (7.9e17 messages at the largest price).
        if let Price::Priced { amount, .. } = price {
            cell.cost += amount;
            month.spend += amount;
        }
        if self.keep_lines {
            self.lines.push(Line {
                event: i,
                outcome: *outcome,
                price,
                category,
            });
        }
    }

    /// Whether a free allowance or tier may run out among these events of one instant: then
    /// which of them are free depends on their order. Never false when it may (`LOW_ROOM`
    /// tracks the pools already drawn on, `smallest_pool` bounds the others); rarely true.
    fn may_run_out(&self, run: &[Event]) -> bool {
        let n = run.len() as u64;
        self.smallest_pool != u64::MAX
            && (n > self.smallest_pool.min(LOW_ROOM)
                || self.low_months > 0
                    && (run.iter())
                        .any(|ev| self.months[self.month_of_cell[ev.cell as usize] as usize].low))
    }

    /// Bills events of one instant, given in input order from event `first` on, in the
    /// replay order: by account and contact name, one contact's events in input order (a
    /// stable sort), as `replay_order` gives.
    fn step_in_replay_order(
        &mut self,
        names: &dyn Names,
        first: u32,
        run: &[Event],
        outcomes: &[Outcome],
    ) {
        let mut by_name: Vec<usize> = (0..run.len()).collect();
        by_name.sort_by(|&a, &b| by_names(names, &run[a], &run[b]));
        for k in by_name {
            self.step(first + k as u32, &run[k], &outcomes[k]);
        }
    }

    /// Hands the lines billed since the last call to the sink, if any; `events[i - first]`
    /// is event `i`.
    fn hand_over(&mut self, first: u32, events: &[Event], names: &dyn Names) {
        if let Some(sink) = self.sink {
            if !self.lines.is_empty() {
                let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                sink.take(&self.lines, first, events, names);
                self.lines.clear();
            }
        }
    }

    /// Takes the counts the engine alone decides from `first`, which shares the engine and
    /// counted them.
    fn copy_counts(&mut self, first: &Biller) {
        for (cell, from) in self.cells.iter_mut().zip(&first.cells) {
            cell.messages_in = from.messages_in;
            cell.messages_out = from.messages_out;
            cell.sessions_opened = from.sessions_opened;
            cell.rejected_in_session = from.rejected_in_session;
            cell.blocked = from.blocked;
            cell.outside_window = from.outside_window;
            cell.assumed_category = from.assumed_category;
        }
        for (month, from) in self.months.iter_mut().zip(&first.months) {
            month.messages = from.messages;
            month.sessions = from.sessions;
        }
        self.counts = true;
    }

    /// Makes room for the cells and account-months of a log still being read.
    fn fit(&mut self, cell_account_months: &[u32], account_months: usize) {
        let have = self.month_of_cell.len();
        if cell_account_months.len() > have {
            self.month_of_cell
                .extend_from_slice(&cell_account_months[have..]);
            self.cells
                .resize(cell_account_months.len(), Stats::default());
        }
        if account_months > self.months.len() {
            self.months.resize(account_months, MonthState::default());
        }
    }

    pub fn finish(self, log: &Log) -> ModelResult {
        let model = self.model;
        // Collected, sorted, then built in bulk: inserting a log of many accounts' cells one by
        // one into the maps cost more than billing them.
        let mut cells: Vec<((u32, Country, i32), Stats)> = Vec::new();
        let mut countries: Vec<((u32, i32), Country)> = Vec::new();
        for (id, s) in self.cells.into_iter().enumerate() {
            let (account, country, month) = log.cells[id];
            if s.messages_in + s.messages_out == 0 {
                continue;
            }
            countries.push(((account, month), country));
            cells.push(((account, country, month), s));
        }
        cells.sort_unstable_by_key(|c| c.0);
        countries.sort_unstable();
        // Countries and priced spend of each active (account, month), for the fee tiers.
        let mut active: Vec<(AccountMonth, ActiveMonth)> = Vec::new();
        for (key, country) in countries {
            match active.last_mut() {
                Some((k, (set, _))) if *k == key => {
                    set.insert(country);
                }
                _ => active.push((key, (BTreeSet::from([country]), Decimal::ZERO))),
            }
        }
        let mut volumes = Vec::new();
        for (id, m) in self.months.into_iter().enumerate() {
            let key = log.account_months[id];
            if m.messages == 0 {
                continue;
            }
            if let Ok(i) = active.binary_search_by_key(&key, |a| a.0) {
                active[i].1 .1 = m.spend;
            }
            let pools = POOL_KINDS
                .iter()
                .zip(m.pools)
                .filter(|(_, p)| p.items > 0)
                .map(|(k, p)| (*k, p))
                .collect();
            volumes.push((
                key,
                Volume {
                    messages: m.messages,
                    sessions: m.sessions,
                    linear: m.linear,
                    pools,
                },
            ));
        }
        volumes.sort_unstable_by_key(|v| v.0);
        let (cells, volumes): (BTreeMap<_, _>, BTreeMap<_, _>) =
            (cells.into_iter().collect(), volumes.into_iter().collect());
        let active: BTreeMap<_, _> = active.into_iter().collect();
        let fees = if self.list_prices {
            Vec::new()
        } else {
            monthly_fees(model, &active, self.account_country)
        };
        ModelResult {
            name: model.name.clone(),
            channel: model.channel.name(),
            currency: model.currency.clone(),
            cells,
            fees,
            lines: self.lines,
            markets: match &model.card {
                Card::Meta(spec) => spec.markets.names.clone(),
                Card::Country(_) => Vec::new(),
            },
            volumes,
        }
    }
}

/// What the engine alone decides (messages, sessions opened, rejects, drops, assumed
/// categories): counted by the first biller of an engine group only (`Biller::counts`).
#[inline(always)]
fn count_engine_decisions(cell: &mut Stats, month: &mut MonthState, ev: &Event, outcome: &Outcome) {
    month.messages += 1;
    if outcome.opened {
        cell.sessions_opened += 1;
        month.sessions += 1;
    }
    match ev.direction {
        Direction::Inbound => cell.messages_in += 1,
        Direction::Outbound => cell.messages_out += 1,
    }
    match outcome.billed {
        Billed::RejectedInSession => cell.rejected_in_session += 1,
        Billed::OutsideWindow => cell.outside_window += 1,
        _ => {}
    }
    cell.blocked += outcome.blocked as u64;
    cell.assumed_category += outcome.assumed_category as u64;
}

/// A charged session at the card's session price.
#[inline(always)]
fn session_price(model: &Model, ev: &Event, cell: &mut Stats, month: &mut MonthState) -> Price {
    let p = look_up(model, ev, session_column(model.rules));
    if !matches!(p, Price::Unpriced) {
        cell.sessions_charged += 1;
    }
    month.linear += p.amount();
    p
}

/// A business-initiated message: free while the month's allowance of `free` lasts (in the
/// order billed), else at the card's price for its category.
#[inline(always)]
fn message_price(
    model: &Model,
    ev: &Event,
    cat: Category,
    free: u64,
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
) -> Price {
    let p = look_up(model, ev, message_column(model.rules, cat));
    if free == 0 {
        month.linear += p.amount();
        if !matches!(p, Price::Unpriced) {
            cell.business_initiated_charged += 1;
        }
        return p;
    }
    let pool = &mut month.pools[0];
    pool.size = free;
    pool.items += 1;
    pool.value += p.amount();
    if month.allowance_used < free {
        month.allowance_used += 1;
        *low_months += month.recount_low();
        cell.business_initiated_free += 1;
        return Price::Allowance;
    }
    if !matches!(p, Price::Unpriced) {
        cell.business_initiated_charged += 1;
    }
    p
}

/// A whatsapp-meta charge: free while its monthly free tier lasts, else at the market card's
/// price (counted as a conversation or a message as the era bills it).
#[inline(always)]
fn meta_price(
    model: &Model,
    ev: &Event,
    mc: &MetaCharge,
    free_tier: Option<(FreeTierCounts, u32)>,
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
) -> Price {
    let list = look_up_meta(model, ev, mc);
    let in_tier = match free_tier {
        Some((counts, size)) => {
            let k = pool_index(PoolKind::FreeTier(counts));
            let pool = &mut month.pools[k];
            pool.size = size as u64;
            pool.items += 1;
            pool.value += list.amount();
            month.used[k] < size as u64 && {
                month.used[k] += 1;
                *low_months += month.recount_low();
                true
            }
        }
        None => {
            month.linear += list.amount();
            false
        }
    };
    if in_tier {
        cell.free_tier += 1;
        return Price::Allowance;
    }
    if let Price::Priced {
        carried_forward, ..
    } = list
    {
        cell.carried_forward += carried_forward as u64;
        if mc.conversation {
            cell.sessions_charged += 1;
        } else {
            cell.business_initiated_charged += 1;
        }
    }
    list
}

/// An (account, month).
type AccountMonth = (u32, i32);
/// The countries an account-month sent to or heard from, and its priced spend.
type ActiveMonth = (BTreeSet<Country>, Decimal);

/// Replays the whole log through one model.
pub fn bill(log: &Log, order: &[u32], model: &Model, opts: &BillingOptions) -> ModelResult {
    bill_all(log, Some(order), std::slice::from_ref(model), opts, 1).remove(0)
}

/// One engine and the billers of the models it serves (with their index in the model list).
type EngineGroup<'m> = (Box<dyn engine::Engine + 'm>, Vec<(usize, Biller<'m>)>);

/// What putting one instant's events in the replay order needs: names, not ids (which are
/// given in order of appearance while a log is being read).
pub trait Names {
    fn account(&self, ev: &Event) -> &str;
    /// The contact's name, made in `buf` if need be.
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str;
}

/// Events of one instant in the replay order: by account name, then contact name.
fn by_names(names: &dyn Names, a: &Event, b: &Event) -> std::cmp::Ordering {
    if a.stream == b.stream {
        return std::cmp::Ordering::Equal;
    }
    let (mut x, mut y) = ([0; 16], [0; 16]);
    (names.account(a).cmp(names.account(b)))
        .then_with(|| names.contact(a, &mut x).cmp(names.contact(b, &mut y)))
}

impl Names for Log {
    fn account(&self, ev: &Event) -> &str {
        self.account_name(self.account_of(ev))
    }
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str {
        self.contacts.name_in(ev.contact, buf)
    }
}

/// The models in groups that share an engine: models whose engines agree on every event (the
/// Viber models differ only in prices and fees) share one.
pub(crate) fn engine_groups(models: &[Model]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|g| engine::same_engine(&models[g[0]], m))
        {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// Engine groups to `threads` threads, largest first to the least loaded thread.
pub(crate) fn shares(mut groups: Vec<Vec<usize>>, threads: usize) -> Vec<Vec<Vec<usize>>> {
    let threads = threads.clamp(1, groups.len().max(1));
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut shares: Vec<Vec<Vec<usize>>> = vec![Vec::new(); threads];
    for g in groups {
        let least = (0..threads)
            .min_by_key(|&t| shares[t].iter().map(|g| g.len() + 1).sum::<usize>())
            .unwrap_or(0);
        shares[least].push(g);
    }
    shares
}

/// How many events ahead an engine is asked for the state of the event it will replay.
const STATE_AHEAD: usize = 16;

/// How many events ahead of the one billed its successors are asked for (10 KB).
const EVENTS_AHEAD: usize = 320;

/// Some engine groups and their billers, replaying events.
pub(crate) struct Replayer<'m> {
    groups: Vec<EngineGroup<'m>>,
    outcomes: Vec<Outcome>,
    /// Some model hands its lines to a sink: then every instant is replayed in the replay
    /// order, since the ledger shows what depends on it (the numbers of the sessions opened
    /// in one instant, besides the allowances).
    in_replay_order: bool,
    /// Scratch: the replay order of one instant's events.
    order: Vec<usize>,
}

impl<'m> Replayer<'m> {
    /// The engines and billers of `groups` (model indexes), for a log with `log`'s tables;
    /// `sinks`: each model's line sink, by model index (empty: none).
    pub(crate) fn new(
        models: &'m [Model],
        groups: &[Vec<usize>],
        log: &Log,
        opts: &BillingOptions,
        sinks: &[Sink<'m>],
    ) -> Replayer<'m> {
        let groups = groups
            .iter()
            .map(|g| {
                let engine = engine::for_model(&models[g[0]], opts.as_of);
                let billers = (g.iter().enumerate())
                    .map(|(k, &m)| {
                        let mut b = Biller::new(log, &models[m], opts);
                        b.counts = k == 0;
                        b.sink = sinks.get(m).copied();
                        b.keep_lines |= b.sink.is_some();
                        (m, b)
                    })
                    .collect();
                (engine, billers)
            })
            .collect();
        Replayer {
            groups,
            outcomes: Vec::new(),
            in_replay_order: !sinks.is_empty(),
            order: Vec::new(),
        }
    }

    /// Bills `log`'s events in `order`.
    fn bill_in_order(&mut self, log: &Log, order: &[u32]) {
        for part in order.chunks(LINES_AT_A_TIME) {
            for &i in part {
                let ev = &log.events[i as usize];
                for (engine, billers) in &mut self.groups {
                    let outcome = engine.replay(ev);
                    for (_, b) in billers.iter_mut() {
                        b.step(i, ev, &outcome);
                    }
                }
            }
            for (_, billers) in &mut self.groups {
                for (_, b) in billers.iter_mut() {
                    b.hand_over(0, &log.events, log);
                }
            }
        }
    }

    /// Bills time-ordered `events` (event `first` on), which start and end with whole runs
    /// of one instant, in input order; an instant's events are put in the replay order only
    /// for a biller whose allowance or tier may run out among them (`Biller::may_run_out`).
    pub(crate) fn bill_runs(&mut self, first: u32, events: &[Event], names: &dyn Names) {
        if self.in_replay_order {
            return self.bill_runs_in_replay_order(first, events, names);
        }
        for (engine, billers) in &mut self.groups {
            // A run no longer than `short` cannot empty a pool while no month is low.
            let short = (billers.iter())
                .map(|(_, b)| b.smallest_pool.min(LOW_ROOM))
                .min()
                .unwrap_or(u64::MAX)
                .min(events.len() as u64) as usize;
            let mut i = 0;
            while i < events.len() {
                let ev = &events[i];
                // Whether the run of `ev`'s instant from here on is long: the log is in time
                // order, so it is when the event `short` places on is of the same instant. A
                // long run is caught at its first event. A short one, while no month is low,
                // cannot empty a pool, so its order does not matter even if a month turns low
                // in its midst. No branch per change of instant, which would mispredict.
                let long = events.get(i + short).is_some_and(|e| e.at == ev.at);
                // The events come from the reading thread's core: asked for well ahead.
                if let Some(e) = events.get(i + EVENTS_AHEAD) {
                    crate::prefetch::prefetch(e);
                }
                let low = billers.iter().any(|(_, b)| b.low_months > 0);
                if long | low {
                    let n = 1
                        + (events[i + 1..].iter())
                            .take_while(|e| e.at == ev.at)
                            .count();
                    Self::bill_run(
                        engine.as_mut(),
                        billers,
                        &mut self.outcomes,
                        first + i as u32,
                        &events[i..i + n],
                        names,
                    );
                    i += n;
                    continue;
                }
                let outcome = engine.replay_ahead(ev, events.get(i + STATE_AHEAD));
                for (_, b) in billers.iter_mut() {
                    b.step(first + i as u32, ev, &outcome);
                }
                i += 1;
            }
            for (_, b) in billers.iter_mut() {
                b.hand_over(first, events, names);
            }
        }
    }

    /// `bill_runs` with every instant's events replayed in the replay order (`replay_order`),
    /// as the ledger has them; the lines are then handed to the sinks.
    fn bill_runs_in_replay_order(&mut self, first: u32, events: &[Event], names: &dyn Names) {
        let mut i = 0;
        while i < events.len() {
            let at = events[i].at;
            let n = 1 + (events[i + 1..].iter()).take_while(|e| e.at == at).count();
            let run = &events[i..i + n];
            instant_order(run, names, &mut self.order);
            for (engine, billers) in &mut self.groups {
                for &k in &self.order {
                    let outcome = engine.replay(&run[k]);
                    for (_, b) in billers.iter_mut() {
                        b.step(first + (i + k) as u32, &run[k], &outcome);
                    }
                }
            }
            i += n;
        }
        for (_, billers) in &mut self.groups {
            for (_, b) in billers.iter_mut() {
                b.hand_over(first, events, names);
            }
        }
    }

    /// Bills one instant's events, in the replay order for a biller that needs it.
    fn bill_run(
        engine: &mut (dyn engine::Engine + 'm),
        billers: &mut [(usize, Biller<'m>)],
        outcomes: &mut Vec<Outcome>,
        first: u32,
        run: &[Event],
        names: &dyn Names,
    ) {
        if run.len() > 1 && billers.iter().any(|(_, b)| b.may_run_out(run)) {
            outcomes.clear();
            outcomes.extend(run.iter().map(|ev| engine.replay(ev)));
            for (_, b) in billers.iter_mut() {
                b.step_in_replay_order(names, first, run, outcomes);
            }
            return;
        }
        for (k, ev) in run.iter().enumerate() {
            let outcome = engine.replay(ev);
            for (_, b) in billers.iter_mut() {
                b.step(first + k as u32, ev, &outcome);
            }
        }
    }

    /// Makes room in the billers for the cells and account-months a growing log has now.
    pub(crate) fn fit(&mut self, cell_account_months: &[u32], account_months: usize) {
        for (_, billers) in &mut self.groups {
            for (_, b) in billers {
                b.fit(cell_account_months, account_months);
            }
        }
    }

    pub(crate) fn into_billers(self) -> impl Iterator<Item = (usize, Biller<'m>)> {
        self.groups.into_iter().flat_map(|(_, mut billers)| {
            if let Some(((_, first), rest)) = billers.split_first_mut() {
                for (_, b) in rest {
                    b.copy_counts(first);
                }
            }
            billers
        })
    }
}

/// The replay order of `run`, events of one instant in input order, into `order`: by account
/// and contact name, one contact's events in input order (a stable sort), as `replay_order`
/// gives. Most instants are already in it: then nothing is sorted.
fn instant_order(run: &[Event], names: &dyn Names, order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..run.len());
    if run.len() < 2 {
        return;
    }
    let cmp = |a: &Event, b: &Event| by_names(names, a, b);
    if run.windows(2).all(|w| cmp(&w[0], &w[1]).is_le()) {
        return;
    }
    order.sort_by(|&a, &b| cmp(&run[a], &run[b]));
}

/// Replays the log through every model in one pass over the events, the models shared among
/// `threads` threads. Models whose engines agree on every event share one engine. Each model
/// is billed on its own, so the result does not depend on the number of threads.
///
/// `order`: the replay order (`replay_order`), or `None` to have it worked out here. A log in
/// time order billed without ledger lines is then not sorted at all: it is billed in input
/// order, and an instant's events are put in the replay order only for a model whose free
/// allowance or tier may run out among them (`Replayer::bill_runs`). Nothing else depends on
/// the order of one instant's events: each stream keeps its input order either way.
pub fn bill_all(
    log: &Log,
    order: Option<&[u32]>,
    models: &[Model],
    opts: &BillingOptions,
    threads: usize,
) -> Vec<ModelResult> {
    bill_all_into(log, order, models, opts, threads, &[])
}

/// `bill_all`, each model's lines handed to its sink in `sinks` (by model) as they are billed.
pub fn bill_all_into<'m>(
    log: &Log,
    order: Option<&[u32]>,
    models: &'m [Model],
    opts: &BillingOptions,
    threads: usize,
    sinks: &[Sink<'m>],
) -> Vec<ModelResult> {
    let sorted;
    let order = match order {
        Some(o) => Some(o),
        None if log.in_time_order && !opts.keep_lines => None,
        None => {
            sorted = replay_order_on(log, threads);
            Some(&sorted[..])
        }
    };
    let run = |groups: &[Vec<usize>]| -> Vec<(usize, ModelResult)> {
        let mut replayer = Replayer::new(models, groups, log, opts, sinks);
        match order {
            Some(order) => replayer.bill_in_order(log, order),
            None => replayer.bill_runs(0, &log.events, log),
        }
        replayer
            .into_billers()
            .map(|(m, b)| (m, b.finish(log)))
            .collect()
    };
    let shares = shares(engine_groups(models), threads);
    let mut results: Vec<(usize, ModelResult)> = if shares.len() == 1 {
        run(&shares[0])
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = shares.iter().map(|g| s.spawn(move || run(g))).collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    results.sort_by_key(|(m, _)| *m);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The smallest free allowance or tier of `model` (`u64::MAX` if it has none).
fn smallest_pool(model: &Model, list_prices: bool) -> u64 {
    if list_prices {
        return u64::MAX;
    }
    let allowance = Some(model.monthly.free_business_initiated).filter(|&n| n > 0);
    let tiers = match &model.card {
        Card::Meta(spec) => (spec.eras.iter())
            .filter(|e| e.free_tier_counts.is_some() && e.free_tier > 0)
            .map(|e| e.free_tier as u64)
            .min(),
        Card::Country(_) => None,
    };
    allowance.into_iter().chain(tiers).min().unwrap_or(u64::MAX)
}

/// The column of the once-per-session price.
fn session_column(rules: Rules) -> usize {
    match rules {
        Rules::Viber => 0,                                 // session
        Rules::WhatsAppSession | Rules::WhatsAppMeta => 0, // user_initiated
    }
}

/// The column of a per-message price of `cat`.
fn message_column(rules: Rules, cat: Category) -> usize {
    match rules {
        Rules::Viber => match cat {
            Category::Utility | Category::Authentication => 1, // transactional
            Category::Marketing => 2,                          // promotional
        },
        Rules::WhatsAppSession | Rules::WhatsAppMeta => 1, // business_initiated
    }
}

fn look_up(model: &Model, ev: &Event, column: usize) -> Price {
    let Card::Country(card) = &model.card else {
        return Price::Unpriced;
    };
    match card.price(ev.country, ev.day, column) {
        Some(p) => Price::Priced {
            amount: p.amount,
            rate_country: p.row.country,
            rate_from: p.row.effective_from,
            market: None,
            carried_forward: false,
        },
        None => Price::Unpriced,
    }
}

/// A whatsapp-meta price: the recipient's market on the pricing day, then the market card.
fn look_up_meta(model: &Model, ev: &Event, mc: &MetaCharge) -> Price {
    let Card::Meta(spec) = &model.card else {
        return Price::Unpriced;
    };
    let market = spec.markets.market_of(ev.country, mc.price_day);
    match spec
        .card
        .price(spec.markets.name(market), mc.price_day, mc.column)
    {
        Some(p) => Price::Priced {
            amount: p.amount,
            rate_country: None,
            rate_from: Some(p.card_date),
            market: Some(market),
            carried_forward: p.carried_forward,
        },
        None => Price::Unpriced,
    }
}

/// The fee of every (account, month) with traffic, by the account's country tier.
fn monthly_fees(
    model: &Model,
    active: &BTreeMap<(u32, i32), (BTreeSet<Country>, Decimal)>,
    given: Option<Country>,
) -> Vec<FeeItem> {
    let m = &model.monthly;
    let Some(kind) = m.fee_kind else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // The account's active months are numbered in time order (the map's order) from 1, its
    // first month in the log, whether or not that month has a fee tier.
    let mut numbered: Option<(u32, u32)> = None;
    for (&(account, month), (countries, spend)) in active {
        let number = match numbered {
            Some((a, n)) if a == account => n + 1,
            _ => 1,
        };
        numbered = Some((account, number));
        let (country, from) = match given {
            Some(c) => (Some(c), TierFrom::Given),
            None => (highest_tier(m, countries), TierFrom::HighestTier),
        };
        let Some(tier) = m.fee_for(country) else {
            continue;
        };
        // Flat fees cannot be deferred (the model rejects the key with them).
        let before_minimum = (kind == FeeKind::Minimum && number < m.minimum_from_month)
            .then_some(m.minimum_from_month);
        let amount = match kind {
            _ if before_minimum.is_some() => Decimal::ZERO,
            FeeKind::Flat => tier,
            FeeKind::Minimum => (tier - *spend).max(Decimal::ZERO),
        };
        out.push(FeeItem {
            account,
            month,
            country,
            from,
            kind,
            tier,
            spend: *spend,
            amount,
            before_minimum,
        });
    }
    out
}

/// The country with the highest fee among `countries` (first alphabetically on a tie), or
/// `None` when none of them is above the default tier.
fn highest_tier(m: &crate::rates::Monthly, countries: &BTreeSet<Country>) -> Option<Country> {
    let mut best: Option<(Decimal, Country)> = None;
    for &c in countries {
        if let Some(&fee) = m.fee_by_country.get(&c) {
            if best.is_none_or(|(b, _)| fee > b) {
                best = Some((fee, c));
            }
        }
    }
    match (best, m.fee) {
        (Some((fee, _)), Some(default)) if fee <= default => None,
        (b, _) => b.map(|(_, c)| c),
    }
}
