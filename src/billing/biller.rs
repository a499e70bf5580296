//! One model's billing of the replayed events: counts, prices, month states, and the result.

use super::cells::{CellKey, CellMut, CellTable, Cells, Hot};
use super::fees::monthly_fees;
use super::order::{by_names, Names};
use super::pools::{
    smallest_pool, Months, NumberPool, PoolKind, Portfolios, TierPools, LOW_ROOM, POOL_KINDS,
};
use super::pricing::{
    charged_message_price, international_price, message_price, meta_price, session_price, GivenRow,
    Prices, Sender,
};
use super::{BillingOptions, Line, ModelResult, Price, Sink, Volume};
use crate::engine::{Billed, Charge, Decisions, MetaCharge, Outcome, Why};
use crate::event::{Category, Country, Direction, Event};
use crate::input::Log;
use crate::rates::meta::{FreeTierCounts, MetaColumn};
use crate::rates::{Card, Model};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What the loop that steps a biller knows for a whole batch: constants where the loop is
/// compiled per engine and per batch with or without lines (`GroupRun`), so the tests they
/// spare are not made per event (issue 24).
#[derive(Clone, Copy)]
pub(super) struct Known {
    /// The rare decisions the engine's outcomes may carry (`Decides`).
    pub decisions: Decisions,
    /// The biller is alone in its engine group: it counts what the engine decides (`counts`).
    pub alone: bool,
    /// Some biller of the group keeps lines (`keep_lines`); else this one keeps none.
    pub lines: bool,
}

impl Known {
    /// Nothing known: every test made.
    pub const ANY: Known = Known {
        decisions: Decisions::ANY,
        alone: false,
        lines: true,
    };
}

/// One model replaying the log event by event; state is kept in vectors indexed by the
/// event's interned ids, so the hot path neither hashes nor allocates.
pub struct Biller<'m> {
    model: &'m Model,
    /// The model's card look-ups, each distinct one made once.
    prices: Prices<'m>,
    /// Whether `lines` are recorded: kept (`BillingOptions::keep_lines`) or for `sink`.
    pub(super) keep_lines: bool,
    pub(super) sink: Option<Sink<'m>>,
    /// The sink's contact, once known (`LineSink::only_contact`): lines of others not kept.
    pub(super) only_contact: Option<std::sync::Arc<std::sync::atomic::AtomicU32>>,
    list_prices: bool,
    accounts: crate::accounts::Accounts,
    /// `fit_accounts`: what a Meta price needs of each account as a sender, by account id.
    senders: Vec<AccountSender>,
    /// `fit_accounts`: the business portfolios named so far (volume tiers).
    portfolios: Portfolios,
    /// `fit_accounts`: each account's home country and where it came from (fee tiers).
    homes: Vec<(Option<Country>, crate::accounts::Origin)>,
    /// `BillingOptions::pool_runs`.
    pool_runs: bool,
    /// Whether the result keeps break-even's volumes (`finish_in`): only then is each
    /// month's linear spend summed. Every charge that draws on no pool added its price to
    /// its month as well as to its cell, a month state touched and a sum of money made per
    /// charge and model, for a figure only break-even reads (issue 24).
    volumes: bool,
    free: u64,
    /// Each cell's counts and cost, its account-month (`Log::cell_account_months`) and account.
    cells: Cells,
    /// Each account-month's charges and pools (`Log::account_months`).
    months: Months,
    /// whatsapp-meta volume tiers: each portfolio-month's count per market and column.
    tiers: TierPools,
    /// Each stream's business number (`Log::stream_business_numbers`; `NO_NUMBER`: none).
    stream_numbers: Vec<u32>,
    /// The free tiers counted per business number: by (account-month, number).
    number_pools: FxHashMap<(u32, u32), NumberPool>,
    lines: Vec<Line>,
    /// The smallest free allowance or tier the model has (`u64::MAX`: none).
    pub(super) smallest_pool: u64,
    /// Months with a pool running low (`MonthState::low`): none, most of the time.
    pub(super) low_months: i64,
    /// Whether this biller counts what the engine alone decides (messages, sessions, rejects):
    /// the same for every model sharing an engine, so only the first of them counts it and
    /// the others copy it at the end (`Biller::copy_counts`).
    pub(super) counts: bool,
    /// Whether this biller prices from the card row its engine group's first biller looks up
    /// (`GivenRow`): set on every biller of a group of two or more whose cards all have the
    /// first's rows (`same_card`), on none otherwise (a test per biller of whether to hand
    /// the row over cost more than the look-ups it saved).
    pub(super) shares_row: bool,
}

impl<'m> Biller<'m> {
    pub fn new(log: &Log, model: &'m Model, opts: &BillingOptions) -> Biller<'m> {
        Biller {
            model,
            prices: Prices::new(model),
            keep_lines: opts.keep_lines,
            sink: None,
            only_contact: None,
            list_prices: opts.list_prices,
            accounts: opts.accounts.clone(),
            senders: Vec::new(),
            portfolios: Portfolios::default(),
            homes: Vec::new(),
            pool_runs: opts.pool_runs,
            volumes: opts.pool_runs,
            free: if opts.list_prices {
                0
            } else {
                model.monthly.free_business_initiated
            },
            cells: {
                let mut cells = Cells::default();
                let accounts: Vec<u32> = log.cells.iter().map(|c| c.0).collect();
                cells.extend(&log.cell_account_months, &accounts);
                cells
            },
            months: {
                let mut months = Months::default();
                months.fit(log.account_months.len());
                months
            },
            tiers: TierPools::default(),
            stream_numbers: log.stream_business_numbers.clone(),
            number_pools: FxHashMap::default(),
            lines: if opts.keep_lines {
                Vec::with_capacity(log.events.len())
            } else {
                Vec::new()
            },
            smallest_pool: smallest_pool(model, opts.list_prices),
            low_months: 0,
            counts: true,
            shares_row: false,
        }
    }

    /// Whether this biller's country card has the same rows as `first`'s (`shares_row`).
    pub(super) fn same_card(&self, first: &Biller) -> bool {
        match (&self.model.card, &first.model.card) {
            (Card::Country(a), Card::Country(b)) => a.same_rows(b),
            _ => false,
        }
    }

    /// The row of `ev` on this biller's country card, to be handed to the billers of its
    /// group (`shares_row`).
    #[inline(always)]
    pub(super) fn card_row(&mut self, ev: &Event) -> GivenRow<'m> {
        self.prices.card_row(ev)
    }

    /// Whether this model's cells are too many to stay in cache (a log of many accounts):
    /// then each event's cell and month are asked for ahead (`prefetch`). Below that, the
    /// hints cost more than they save (measured on the generated log).
    pub(super) fn cells_far(&self) -> bool {
        self.cells.len() > FAR_CELLS
    }

    /// Asks for the line of the cell that event `ev` will touch, if it may touch it: every
    /// event's, for the biller that counts what the engine decides; else only an outbound
    /// one's (only a business message is charged). Without a branch: a cell not needed is
    /// replaced by cell 0, already in cache.
    #[inline(always)]
    pub(super) fn prefetch_cell(&self, ev: &Event) {
        let needed = self.counts | (ev.direction == Direction::Outbound);
        let c = if needed { ev.cell as usize } else { 0 };
        if let Some(cell) = self.cells.hot.get(c) {
            crate::prefetch::prefetch(cell);
        }
    }

    /// Asks for the account-month state that event `ev` may touch (an outbound one's): its
    /// id is read from the cell, asked for some events before (`prefetch_cell`).
    #[inline(always)]
    pub(super) fn prefetch_month(&self, ev: &Event) {
        let c = match ev.direction == Direction::Outbound {
            true => ev.cell as usize,
            false => 0,
        };
        if let Some(cell) = self.cells.hot.get(c) {
            self.months.prefetch(cell.month as usize);
        }
    }

    /// Whether billing an outcome (`charged`: with a charge) changes anything of this
    /// biller's: an outcome without a
    /// charge changes only the counts the engine decides, which the first biller of a group
    /// keeps (`counts`), and the lines, if kept. The other models of a group skip its `step`
    /// (issue 24: nine events in ten carry no charge on the generated log, and each was a
    /// cell looked up and a `match` for nothing, in two of the three Viber models).
    #[inline(always)]
    pub(super) fn touched_by(&self, charged: bool, ev: &Event) -> bool {
        self.counts | charged || self.keep_lines && self.wants_line(ev)
    }

    /// Whether `ev`'s line is kept, lines being kept: every line, unless the sink keeps only
    /// one contact's and knows its id (explain: 10M messages billed 1.2x slower than replay
    /// when every model kept every line for the sink to drop).
    #[inline(always)]
    fn wants_line(&self, ev: &Event) -> bool {
        match &self.only_contact {
            None => true,
            Some(c) => {
                let c = c.load(std::sync::atomic::Ordering::Relaxed);
                c == super::NO_CONTACT || c == ev.contact
            }
        }
    }

    /// Bills event `i`, which the model's engine has replayed as `outcome`.
    /// (The outcome is taken by reference: a copy of the engine's freshly written outcome
    /// waits for its stores to land, a stall on every event.)
    /// Inlined into the replay loops: as a call it saved and restored six registers and a
    /// frame per model and event, 5% of a replay's instructions.
    #[inline(always)]
    pub fn step(&mut self, i: u32, ev: &Event, outcome: &Outcome) {
        self.step_given(i, ev, outcome, (None, Known::ANY));
    }

    /// `step`, with the event's card row when its group looked it up (`GivenRow`), and what
    /// its loop knows of the batch (`Known`).
    #[inline(always)]
    pub(super) fn step_given(
        &mut self,
        i: u32,
        ev: &Event,
        outcome: &Outcome,
        (row, known): (GivenRow<'m>, Known),
    ) {
        let model = self.model;
        let c = ev.cell as usize;
        // The cell is looked up once for the event (each look-up is a bounds check and an
        // address, reloaded after every store through it): 26 instructions an event and
        // model went to indexing.
        let mut cell = self.cells.get(c);
        let m = cell.month() as usize;
        if known.alone || self.counts {
            debug_assert!(self.counts);
            count_engine_decisions(&mut cell, ev, outcome, known.decisions);
        }
        // The Meta arm is a call of its own, which takes the cell again and adds the cost
        // itself: the other models' billing stays small (with it inline, `step` had a 376-byte
        // frame, and was too large to inline into the replay loops).
        let (price, category) = match outcome.charge {
            Charge::None => (Price::Free, None),
            // `session.charged` is a Viber key (rates/schema.rs): true on every other model
            Charge::Session if !model.session.charged => (Price::FreeSession, None),
            Charge::Session => {
                let linear = linear_of(&mut self.months, m, self.volumes);
                let p = session_price(&mut self.prices, (ev, row), &mut cell, linear);
                settle(&mut cell, p);
                (p, None)
            }
            Charge::International => {
                let linear = linear_of(&mut self.months, m, self.volumes);
                let p = international_price(&mut self.prices, (ev, row), &mut cell, linear);
                settle(&mut cell, p);
                (p, None)
            }
            // no allowance: the month is touched only for its linear spend
            Charge::Message(cat) if self.free == 0 => {
                let linear = linear_of(&mut self.months, m, self.volumes);
                let p = charged_message_price(&mut self.prices, (ev, row), cat, &mut cell, linear);
                settle(&mut cell, p);
                (p, Some(cat))
            }
            Charge::Message(cat) => {
                let free = (self.free, self.pool_runs);
                let at = (&mut cell, &mut self.months.get(m));
                let low_months = &mut self.low_months;
                let p = message_price(&mut self.prices, (ev, row), cat, free, at, low_months);
                settle(&mut cell, p);
                (p, Some(cat))
            }
            // its line kept there too: the price is not handed back (a copy of it through
            // memory per charge)
            Charge::Meta(mc) => return self.meta_charge(i, ev, outcome, &mc, (c, m)),
        };
        if known.lines && self.keep_lines && self.wants_line(ev) {
            self.keep_line(i, outcome, (price, category), None);
        }
    }

    /// Bills the whatsapp-meta charge `mc` of event `i`, `ev`, in cell `c` and account-month
    /// `m`, which the engine replayed as `outcome`: its price settled in its cell, its line
    /// kept (`keep_lines`) with the card column that priced it.
    #[inline(never)]
    fn meta_charge(
        &mut self,
        i: u32,
        ev: &Event,
        outcome: &Outcome,
        mc: &MetaCharge,
        (c, m): (usize, usize),
    ) {
        let account = self.cells.accounts[c];
        // the cell taken once: its price settled in it after (a second `get` was ~10
        // instructions a charge)
        let (cell, month) = (&mut self.cells.get(c), &mut self.months.get(m));
        let free_tier = mc.free_tier.filter(|_| !self.list_prices);
        let near = self.tiers.near;
        let number = number_pool(
            &mut self.number_pools,
            (&self.stream_numbers, m as u32),
            ev,
            free_tier.filter(|_| mc.per_number),
            cell,
        );
        let of = (self.senders.get(account as usize).copied()).unwrap_or_default();
        let sender = Sender {
            account,
            account_country: of.country,
            portfolio: of.portfolio,
            local: of.local,
            // card prices only: the list rate, no volume discount
            tiers: Some(&mut self.tiers).filter(|_| !self.list_prices),
            number,
        };
        let low_months = &mut self.low_months;
        let priced = meta_price(
            &mut self.prices,
            ev,
            mc,
            (free_tier, self.pool_runs, self.volumes),
            (&mut *cell, month),
            low_months,
            sender,
        );
        // a tier pool near a band's end counts as a low month: the replay keeps the order of
        // one instant's events while any is (`Replayer::bill_runs`)
        *low_months += self.tiers.near as i64 - near as i64;
        settle(cell, priced.0);
        if self.keep_lines && self.wants_line(ev) {
            // the card column that priced it (authentication-international may stand for
            // authentication), for the ledger and explain
            let column = Some(priced.1).filter(|col| *col != mc.column);
            self.keep_line(i, outcome, (priced.0, None), column);
        }
    }

    /// Keeps event `i`'s billed line (`keep_lines`); `priced_as`: the card column that priced
    /// a Meta charge when it is not the charge's own.
    fn keep_line(
        &mut self,
        i: u32,
        outcome: &Outcome,
        (price, category): (Price, Option<Category>),
        priced_as: Option<MetaColumn>,
    ) {
        let mut outcome = *outcome;
        if let (Charge::Meta(mc), Some(column)) = (&mut outcome.charge, priced_as) {
            mc.column = column;
        }
        self.lines.push(Line {
            event: i,
            outcome,
            price,
            category,
        });
    }

    /// Whether a free allowance or tier may run out among these events of one instant: then
    /// which of them are free depends on their order. Never false when it may (`LOW_ROOM`
    /// tracks the pools already drawn on, `smallest_pool` bounds the others); rarely true.
    pub(super) fn may_run_out(&self, run: &[Event]) -> bool {
        let n = run.len() as u64;
        self.smallest_pool != u64::MAX
            && (n > self.smallest_pool.min(LOW_ROOM)
                || self.tiers.near > 0
                || self.low_months > 0
                    && (run.iter()).any(|ev| {
                        self.months
                            .low(self.cells.hot[ev.cell as usize].month as usize)
                    }))
    }

    /// Bills events of one instant, given in input order from event `first` on, in the
    /// replay order: by account and contact name, one contact's events in input order (a
    /// stable sort), as `replay_order` gives.
    pub(super) fn step_in_replay_order(
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
    pub(super) fn hand_over(&mut self, first: u32, events: &[Event], names: &dyn Names) {
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
    pub(super) fn copy_counts(&mut self, first: &Biller) {
        self.cells.copy_engine_counts(&first.cells);
        self.counts = true;
    }

    /// Makes room for the cells and account-months of a log still being read.
    pub(super) fn fit(
        &mut self,
        cell_accounts: &[u32],
        cell_account_months: &[u32],
        account_months: usize,
    ) {
        self.cells.extend(cell_account_months, cell_accounts);
        self.months.fit(account_months);
    }

    /// Streams whose business number a batch of a log being read made known: (stream, number).
    pub(super) fn fit_business_numbers(&mut self, pairs: &[(u32, u32)]) {
        for &(stream, number) in pairs {
            let i = stream as usize;
            if self.stream_numbers.len() <= i {
                self.stream_numbers.resize(i + 1, NO_NUMBER);
            }
            self.stream_numbers[i] = number;
        }
    }

    /// Each account's home country (accounts file, else `--account-country`) and business
    /// portfolio, resolved once per account as the log names new ones.
    pub(super) fn fit_accounts(&mut self, accounts: &[String]) {
        for name in &accounts[self.senders.len().min(accounts.len())..] {
            let props = self.accounts.props(name);
            self.portfolios.push(props.portfolio.as_deref());
            let local = match (&self.model.card, &props.currency) {
                (Card::Meta(spec), Some(c)) => spec.locals.iter().position(|l| l.currency == *c),
                _ => None,
            };
            self.homes.push((props.country, props.country_from));
            self.senders.push(AccountSender {
                country: props.country,
                portfolio: self.portfolios.of(self.senders.len() as u32),
                local,
            });
        }
        debug_assert_eq!(self.senders.len(), self.portfolios.len());
    }

    /// The model's result (`finish_in`, the log's cells sorted for this model alone).
    pub fn finish(self, log: &Log) -> ModelResult {
        self.finish_in(log, &CellOrder::new(log, 1))
    }

    /// Each account-month's messages, sessions and spend summed from its cells, by
    /// account-month id; whether each cell (by id) has traffic.
    fn sum_months(&self) -> (Vec<MonthSums>, Vec<bool>) {
        let cells = &self.cells;
        let mut sums = vec![MonthSums::default(); self.months.len()];
        let mut with_traffic = Vec::with_capacity(cells.len());
        for id in 0..cells.len() {
            // The account-months are scattered (a log of many accounts has them by the
            // 10,000): each is asked for some cells ahead, so that the misses overlap.
            if let Some(ahead) = cells.hot.get(id + GATHER_AHEAD) {
                if let Some(sum) = sums.get(ahead.month as usize) {
                    crate::prefetch::prefetch(sum);
                }
            }
            let (messages, sessions, cost) = cells.traffic(id);
            let sum = &mut sums[cells.hot[id].month as usize];
            sum.messages += messages;
            sum.sessions += sessions;
            sum.spend += cost;
            with_traffic.push(messages > 0);
        }
        (sums, with_traffic)
    }

    /// The model's result; `order`: the log's cells sorted (the same for every model). With
    /// break-even's volumes when the biller summed them (`Biller::volumes`: `bill_all`'s
    /// billers, `Replayer::keep_volumes`, and any billed with `BillingOptions::pool_runs`).
    pub fn finish_in(self, log: &Log, order: &CellOrder) -> ModelResult {
        let keep_volumes = self.volumes;
        self.finish_with(log, order, keep_volumes)
    }

    /// `finish_in` of the pipeline's billers: without the volumes (`ModelResult::volumes`
    /// left empty) unless billed with `BillingOptions::pool_runs`, break-even's option: only
    /// break-even reads them, and a log of many accounts has hundreds of thousands of
    /// account-months a model to put in a tree, whose nodes were 11% of accounts_50k's page
    /// faults. Tied to the option, not to the path, so results billed for break-even have
    /// their volumes whichever way they were billed.
    pub fn finish_for_report(self, log: &Log, order: &CellOrder) -> ModelResult {
        self.finish_in(log, order)
    }

    /// The result keeps break-even's volumes (`finish_in`): each month's linear spend is
    /// summed from now on (called before any event is billed).
    pub(super) fn keep_volumes(&mut self) {
        self.volumes = true;
    }

    fn finish_with(mut self, log: &Log, order: &CellOrder, keep_volumes: bool) -> ModelResult {
        let model = self.model;
        // Every account of the log has its home country resolved (fee tiers).
        self.fit_accounts(&log.accounts);
        let (sums, with_traffic) = self.sum_months();
        let fees = if self.list_prices || model.monthly.fee_kind.is_none() {
            Vec::new()
        } else {
            // Each account's country, resolved once (accounts file, else --account-country).
            let active = active_months((order, &with_traffic), &sums);
            monthly_fees(model, active.iter().map(|(k, v)| (k, v)), &self.homes)
        };
        // The cells last: their array is put in key order in place.
        let cells = cells_of(std::mem::take(&mut self.cells), (order, &with_traffic));
        let volumes = if keep_volumes {
            self.volumes(&sums, log)
        } else {
            Vec::new()
        };
        // The accounts with traffic: those of the account-months that have a volume.
        let with_traffic = (sums.iter().zip(&log.account_months))
            .filter(|(sum, _)| sum.messages > 0)
            .map(|(_, (account, _))| *account);
        let assumed_domestic = model.international.map(|_| {
            let mut seen = vec![false; log.accounts.len()];
            (with_traffic)
                .filter(|&a| {
                    seen.get_mut(a as usize)
                        .is_none_or(|s| !std::mem::replace(s, true))
                })
                .map(|a| self.accounts.props(log.account_name(a)))
                .filter(|p| p.registered.is_none() || p.country.is_none())
                .count() as u64
        });
        let volumes: BTreeMap<_, _> = volumes.into_iter().collect();
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
            assumed_domestic,
        }
    }

    /// Each account-month's traffic as break-even scales it, in key order.
    fn volumes(&mut self, sums: &[MonthSums], log: &Log) -> Vec<(AccountMonth, Volume)> {
        // Room for every month at once (no growth copies; the room not written is only
        // address space).
        let mut volumes = Vec::with_capacity(sums.len());
        let months = std::mem::take(&mut self.months).into_drawn();
        for (id, (sum, (linear, pools))) in sums.iter().zip(months).enumerate() {
            if sum.messages == 0 {
                continue;
            }
            let key = log.account_months[id];
            let pools = POOL_KINDS
                .iter()
                .zip(pools)
                .filter(|(_, p)| p.items > 0)
                .map(|(k, p)| (*k, p))
                .collect();
            volumes.push((
                key,
                Volume {
                    messages: sum.messages,
                    sessions: sum.sessions,
                    linear,
                    pools,
                },
            ));
        }
        volumes.sort_unstable_by_key(|v| v.0);
        add_number_pools(&mut volumes, std::mem::take(&mut self.number_pools), log);
        volumes
    }
}

/// Account-month `m`'s linear spend, if the biller sums it (`Biller::volumes`); else the
/// month is not touched.
#[inline(always)]
fn linear_of(months: &mut Months, m: usize, volumes: bool) -> Option<&mut Decimal> {
    match volumes {
        true => Some(&mut months.get(m).state.linear),
        false => None,
    }
}

/// A charge's price in its cell: an unpriced one counted, a priced one's amount added to the
/// cell's cost.
#[inline(always)]
fn settle(cell: &mut CellMut, price: Price) {
    if price == Price::Unpriced {
        cell.count(Hot::Unpriced);
    }
    // No sum of money here can overflow (Decimal's `+` checks and would panic): prices are
    // at most 1,000 (rates/README.md "Ranges"), so fewer than 2^64 messages add up to at
    // most 1.9e19 x 1e3 = 1.9e22 in `cost`, `spend`, `linear` or a pool's `value`, far
    // below Decimal::MAX = 7.9e28. With at most 8 decimal places the sums stay exact up
    // to 7.9e20 (7.9e17 messages at the largest price).
    // A month's spend is its cells' cost, summed by `finish` (exact sums: in any order).
    if let Price::Priced { amount, .. } = price {
        cell.add_cost(amount);
    }
}

/// What the engine alone decides (messages, sessions opened, rejects, drops, assumed
/// categories): counted by the first biller of an engine group only (`Biller::counts`).
/// A decision its engine never makes (`decisions`) is not tested for.
#[inline(always)]
fn count_engine_decisions(cell: &mut CellMut, ev: &Event, outcome: &Outcome, decisions: Decisions) {
    let free_entry = matches!(outcome.why, Why::FreeEntryPoint { .. });
    debug_assert!(decisions.blocks || !outcome.blocked);
    debug_assert!(decisions.free_entry_points || !free_entry);
    // A month's messages and sessions are its cells' (`Biller::finish`): an inbound message
    // then touches no month state (with many accounts, a cache miss each).
    if outcome.opened {
        cell.count(Hot::SessionsOpened);
    }
    cell.count_message(ev.direction);
    if outcome.billed.counted_apart() {
        match outcome.billed {
            Billed::RejectedInSession => cell.rare().rejected_in_session += 1,
            Billed::OutsideWindow => cell.count(Hot::OutsideWindow),
            Billed::NotDelivered => cell.rare().not_delivered += 1,
            _ => {}
        }
    }
    if decisions.blocks && outcome.blocked {
        cell.rare().blocked += 1;
    }
    if outcome.assumed_category {
        cell.count(Hot::AssumedCategory);
    }
    if decisions.free_entry_points && free_entry {
        cell.rare().free_entry_point += 1;
    }
}

/// The free tier of `ev`'s business number in its account-month `am` (by `stream_numbers`),
/// when the charge draws on a tier counted per number (`per_number`); `None` for a stream that
/// names none, which draws on its account's tier and is counted (`free_tier_per_account`).
fn number_pool<'p>(
    pools: &'p mut FxHashMap<(u32, u32), NumberPool>,
    (stream_numbers, am): (&[u32], u32),
    ev: &Event,
    per_number: Option<(FreeTierCounts, u32)>,
    cell: &mut CellMut,
) -> Option<&'p mut NumberPool> {
    let (counts, _) = per_number?;
    match stream_numbers.get(ev.stream as usize) {
        Some(&n) if n != NO_NUMBER => Some(
            pools
                .entry((am, n))
                .or_insert_with(|| NumberPool::new(counts)),
        ),
        _ => {
            cell.rare().free_tier_per_account += 1;
            None
        }
    }
}

/// The log's report cells in the orders `Biller::finish_in` reads them: the same for every
/// model, so sorted once for them all (a log of many accounts has some 400,000 cells).
pub struct CellOrder {
    /// The cells' keys in key order: every model's table shares them when all its cells
    /// have traffic (the usual case: each cell has a message).
    keys: Arc<Vec<CellKey>>,
    /// The id of the cell at each place of `keys`.
    ids: Vec<u32>,
    /// ((account, month), country, account-month id, cell id), in that order.
    by_month: Vec<((u32, i32), Country, u32, u32)>,
}

impl CellOrder {
    /// The two orders, made by two threads when `threads` > 1.
    pub fn new(log: &Log, threads: usize) -> CellOrder {
        let by_key = || {
            let mut v: Vec<(CellKey, u32)> = (log.cells.iter().enumerate())
                .map(|(id, &key)| (key, id as u32))
                .collect();
            v.sort_unstable();
            v.into_iter().unzip()
        };
        let by_month = || {
            let mut v: Vec<((u32, i32), Country, u32, u32)> = (log.cells.iter().enumerate())
                .map(|(id, &(account, country, month))| {
                    let am = log.cell_account_months[id];
                    ((account, month), country, am, id as u32)
                })
                .collect();
            v.sort_unstable();
            v
        };
        let ((keys, ids), by_month) = match threads > 1 && log.cells.len() > FAR_CELLS {
            true => std::thread::scope(|s| {
                let month = s.spawn(by_month);
                let key = by_key();
                (
                    key,
                    month
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                )
            }),
            false => (by_key(), by_month()),
        };
        CellOrder {
            keys: Arc::new(keys),
            ids,
            by_month,
        }
    }
}

/// The cells with traffic (`with_traffic`: whether each cell, by id, has some), by
/// (account, country, month); `cells`' array put in that order.
fn cells_of(cells: Cells, (order, with_traffic): (&CellOrder, &[bool])) -> CellTable {
    if with_traffic.len() == order.ids.len() && with_traffic.iter().all(|&t| t) {
        return CellTable::gather(cells, order.keys.clone(), &order.ids);
    }
    let traffic = |id: u32| with_traffic.get(id as usize) == Some(&true);
    let keys = (order.keys.iter().zip(&order.ids)).filter(|(_, &id)| traffic(id));
    CellTable::gather_named(cells, keys.map(|(&key, &id)| (key, id)))
}

/// The countries and priced spend of each active (account, month), in that order, for the
/// fee tiers; `months` by account-month id. Made only for a model with fees.
fn active_months(
    (order, with_traffic): (&CellOrder, &[bool]),
    months: &[MonthSums],
) -> Vec<ActiveMonths> {
    let traffic = |id: u32| with_traffic.get(id as usize) == Some(&true);
    let countries: Vec<_> = (order.by_month.iter()).filter(|c| traffic(c.3)).collect();
    let mut active: Vec<ActiveMonths> = Vec::new();
    for (k, &&(key, country, am, _)) in countries.iter().enumerate() {
        if let Some(ahead) = countries.get(k + GATHER_AHEAD) {
            crate::prefetch::prefetch(&months[ahead.2 as usize]);
        }
        // The countries of one account-month come in order, each once (one cell each).
        match active.last_mut() {
            Some((k, (list, _))) if *k == key => list.push(country),
            _ => active.push((key, (vec![country], months[am as usize].spend))),
        }
    }
    active
}

/// An account-month's messages, sessions opened and priced spend: its cells' sums
/// (`Biller::sum_months`).
#[derive(Clone, Default)]
struct MonthSums {
    messages: u64,
    sessions: u64,
    spend: Decimal,
}

/// How many cells ahead an account-month is asked for (`Biller::sum_months`).
const GATHER_AHEAD: usize = 8;

/// Cells past which a model's are asked for ahead (`Biller::cells_far`): 65,536 cells of
/// 64 bytes are 4 MB, two of this machine's L2 caches.
const FAR_CELLS: usize = 1 << 16;

/// An active (account, month) and its countries and spend.
type ActiveMonths = (AccountMonth, ActiveMonth);

/// Each business number's free tier joins its account-month's pools (break-even).
fn add_number_pools(
    volumes: &mut [((u32, i32), Volume)],
    pools: FxHashMap<(u32, u32), NumberPool>,
    log: &Log,
) {
    for ((am, number), p) in pools {
        let key = log.account_months[am as usize];
        if let Ok(i) = volumes.binary_search_by_key(&key, |v| v.0) {
            let kind = PoolKind::NumberFreeTier(p.counts, number);
            volumes[i].1.pools.insert(kind, p.pool);
        }
    }
}

/// What a whatsapp-meta price needs of an account as a sender, resolved once per account
/// (`Biller::fit_accounts`); an account not yet fitted is priced as one without properties.
#[derive(Clone, Copy, Default)]
struct AccountSender {
    /// Its home country (accounts file, else `--account-country`).
    country: Option<Country>,
    /// Its business portfolio (volume tiers; 0: the default one).
    portfolio: u32,
    /// Its local-currency card (an index into `MetaSpec::locals`), if any.
    local: Option<usize>,
}

/// A stream that names no business number (the reader's `NO_BUSINESS_NUMBER`).
const NO_NUMBER: u32 = u32::MAX;

/// An (account, month).
type AccountMonth = (u32, i32);
/// The countries an account-month sent to or heard from, in order, and its priced spend.
type ActiveMonth = (Vec<Country>, Decimal);
