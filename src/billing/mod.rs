//! The commercial model: engine outcomes -> prices, free allowances and monthly fees -> ledger
//! lines and aggregates (docs/billing-rules.md §3, 5).

//!
//! By concern: `pricing` (rate card look-ups, the price of a billed line), `pools` (free
//! allowances and tiers), `fees` (monthly fees and minimums), `order` (the replay order of
//! one instant), `biller` (one model's billing), `replayer` (engines, billers and threads).

mod biller;
mod buckets;
mod cells;
mod fees;
mod money;
mod order;
mod pools;
mod pricing;
mod replayer;

pub use biller::{Biller, CellOrder};
pub use buckets::{StreamContacts, TimeBuckets, WithContacts};
pub use cells::{CellIter, CellKey, CellTable};
pub use fees::{FeeItem, TierFrom};
pub use order::{into_time_order, replay_order, replay_order_on, Names};
pub use pools::{Pool, PoolKind};
pub(crate) use replayer::{engine_groups, shares, Replayer};

use crate::engine::Outcome;
use crate::event::{Category, Country, Event};
use crate::input::Log;
use crate::rates::meta::MarketId;
use crate::rates::Model;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
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
        /// Viber: messages outside the account's home country billed at the international price.
        international,
        /// Messages whose `status` says they never arrived: not billed, opened nothing.
        not_delivered,
        /// whatsapp-meta in another currency than USD: priced from the USD card converted with
        /// fx.csv, the model's currency having no card for the market and date.
        converted,
        /// whatsapp-meta: business messages sent free in a free entry point window (a reply
        /// within 24 h to a customer who came from an ad or a Page call-to-action).
        free_entry_point,
        /// whatsapp-meta: messages of a free tier counted per business phone number
        /// (2026-10-01) whose rows name no `business_number`: counted on the account's tier.
        free_tier_per_account,
        /// whatsapp-meta: priced from the account's local-currency card (accounts file
        /// `currency`), converted into the model's currency with fx.csv.
        local_currency,
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
    /// Whether an instant's lines must come in the replay order (the ledger's rows). A sink
    /// that orders its few lines itself (explain's) lets the log be billed the faster way.
    fn in_replay_order(&self) -> bool {
        true
    }
    /// Whether the sink names the contact of every line (the ledger's rows): then each
    /// billing thread makes every contact's name once, as contacts appear. A sink that names
    /// a few (explain's, once per contact id) asks for them one at a time, and the table is
    /// not made (10M messages: 1M names, about 35 MB and 0.1 s per thread).
    fn names_every_line(&self) -> bool {
        true
    }
    /// The contact whose lines alone the sink keeps, once it knows its id (`NO_CONTACT`
    /// until then): a biller then keeps no line of another contact, nor steps an event of
    /// another contact only to keep its line (explain's sink; None: every line).
    fn only_contact(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU32>> {
        None
    }
}

/// `LineSink::only_contact` before the contact is known: every line is kept.
pub const NO_CONTACT: u32 = u32::MAX;

/// A model's line sink, shared with the billing thread that bills the model.
pub type Sink<'s> = &'s Mutex<dyn LineSink + 's>;

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
    /// Stats per (account, country, month), in that order.
    pub cells: CellTable,
    /// In (account, month) order.
    pub fees: Vec<FeeItem>,
    /// Every event, billed, in replay order (empty unless asked for).
    pub lines: Vec<Line>,
    /// Market names (whatsapp-meta), for `Price::Priced::market`.
    pub markets: Vec<String>,
    /// Per (account, month): the traffic as break-even scales it. Empty where the pipeline
    /// billed without `BillingOptions::pool_runs` (`Biller::finish_for_report`): only
    /// break-even reads it, and it bills with that option.
    pub volumes: BTreeMap<(u32, i32), Volume>,
    /// A model with `[international]`: how many accounts of the log have no registered date
    /// or no country (`--accounts`), and so are billed as domestic.
    pub assumed_domestic: Option<u64>,
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
        self.cells.totals().clone()
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
        (self.cells.by_country().iter())
            .filter(|(_, s)| s.unpriced > 0)
            .map(|(c, s)| (*c, s.unpriced))
            .collect()
    }
}

pub struct BillingOptions {
    /// Each account's home country and registration date (`--accounts`, `--account-country`):
    /// fee tiers, domestic and international.
    pub accounts: crate::accounts::Accounts,
    /// Keep one `Line` per event.
    pub keep_lines: bool,
    /// `--as-of`: the rules and rates of this day (days since 1970-01-01) for all traffic.
    pub as_of: Option<i32>,
    /// Card prices only: no free allowance, free tier or monthly fee (comparing rate cards).
    pub list_prices: bool,
    /// Keep the prices of the items drawing on each free allowance or tier in time order
    /// (`Pool::runs`), for break-even.
    pub pool_runs: bool,
}

/// Replays the whole log through one model.
pub fn bill(log: &Log, order: &[u32], model: &Model, opts: &BillingOptions) -> ModelResult {
    bill_all(log, Some(order), std::slice::from_ref(model), opts, 1).remove(0)
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
    // The log's cells sorted once for every model, by the first thread done billing.
    let cell_order = &std::sync::OnceLock::new();
    let run = |groups: &[Vec<usize>]| -> Vec<(usize, ModelResult)> {
        let mut replayer = Replayer::new(models, groups, log, opts, sinks);
        replayer.keep_volumes();
        match order {
            Some(order) => replayer.bill_in_order(log, order),
            None => replayer.bill_runs(0, &log.events, log),
        }
        replayer
            .into_billers()
            .map(|(m, b)| {
                (
                    m,
                    b.finish_in(log, cell_order.get_or_init(|| CellOrder::new(log, 1))),
                )
            })
            .collect()
    };
    let shares = shares(engine_groups(models, &opts.accounts), threads);
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
