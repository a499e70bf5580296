//! Replaying the events through the models: engine groups shared among threads, each engine's
//! outcomes billed by the billers of its models, an instant put in the replay order when needed.

use super::biller::{Biller, Known};
use super::order::{instant_order, Names};
use super::pools::LOW_ROOM;
use super::{BillingOptions, Sink};
use crate::accounts::Accounts;
use crate::engine::{self, Charge, Outcome};
use crate::event::Event;
use crate::input::Log;
use crate::rates::Model;

/// Lines handed to a sink at a time when billing in a given order (`Replayer::bill_in_order`).
const LINES_AT_A_TIME: usize = 1 << 16;

/// One engine and the billers of the models it serves (with their index in the model list).
type EngineGroup<'m> = (Box<dyn engine::Engine + 'm>, Vec<(usize, Biller<'m>)>);

/// The models in groups that share an engine: models whose engines agree on every event (the
/// Viber models differ only in prices and fees) share one. `accounts`: a model's
/// `[international]` counts only if some account can be international under it.
pub(crate) fn engine_groups(models: &[Model], accounts: &Accounts) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let same = |g: &Vec<usize>| {
            let first = &models[g[0]];
            engine::same_engine(first, m)
                && international_from(first, accounts) == international_from(m, accounts)
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// Marks a group whose billers all price from its first biller's card rows
/// (`Biller::shares_row`): each one's card has the same rows as the first's.
fn share_rows(billers: &mut [(usize, Biller)]) {
    let Some(((_, first), rest)) = billers.split_first_mut() else {
        return;
    };
    let all = !rest.is_empty() && rest.iter().all(|(_, b)| b.same_card(first));
    for (_, b) in billers.iter_mut() {
        b.shares_row = all;
    }
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

/// The engine of `model`: its rules' engine, wrapped in the domestic/international rule when
/// the model has `[international]`.
fn engine_for<'m>(model: &'m Model, opts: &BillingOptions) -> Box<dyn engine::Engine + 'm> {
    let engine = engine::for_model(model, opts.as_of);
    match international_from(model, &opts.accounts) {
        Some(date) => Box::new(engine::InternationalEngine::new(
            engine,
            date,
            opts.accounts.clone(),
        )),
        None => engine,
    }
}

/// The model's `[international] registered_from` if some account can be international under
/// it; else the rule changes nothing, and the model's engine is its rules' alone (and may be
/// shared with the other Viber models).
fn international_from(model: &Model, accounts: &Accounts) -> Option<chrono::NaiveDate> {
    (model.international)
        .map(|i| i.registered_from)
        .filter(|&d| accounts.any_registered_from(d))
}

/// How many events ahead an engine is asked for the state of the event it will replay.
const STATE_AHEAD: usize = 16;

/// How many events ahead of the one billed its successors are asked for (10 KB).
const EVENTS_AHEAD: usize = 320;

/// How far ahead `bill_in_order` asks for an event: each is a miss of its own there, so
/// nearer than `EVENTS_AHEAD` (more would be evicted before use).
const SCATTERED_AHEAD: usize = 48;

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
                let engine = engine_for(&models[g[0]], opts);
                let mut billers: Vec<_> = (g.iter().enumerate())
                    .map(|(k, &m)| {
                        let mut b = Biller::new(log, &models[m], opts);
                        b.counts = k == 0;
                        b.sink = sinks.get(m).copied();
                        b.keep_lines |= b.sink.is_some();
                        b.only_contact = (b.sink).and_then(|s| {
                            s.lock().unwrap_or_else(|e| e.into_inner()).only_contact()
                        });
                        (m, b)
                    })
                    .collect();
                share_rows(&mut billers);
                (engine, billers)
            })
            .collect();
        let mut replayer = Replayer {
            groups,
            outcomes: Vec::new(),
            in_replay_order: (sinks.iter()).any(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .in_replay_order()
            }),
            order: Vec::new(),
        };
        let cell_accounts: Vec<u32> = log.cells.iter().map(|c| c.0).collect();
        replayer.fit_engines(&cell_accounts, &log.accounts);
        replayer
    }

    /// The billers' results keep break-even's volumes (`Biller::keep_volumes`), whatever
    /// `BillingOptions::pool_runs` says (`bill_all`'s results always have them).
    pub(crate) fn keep_volumes(&mut self) {
        for (_, billers) in &mut self.groups {
            for (_, b) in billers.iter_mut() {
                b.keep_volumes();
            }
        }
    }

    /// Tells the engines the log's cells' accounts and the accounts' names so far.
    pub(crate) fn fit_engines(&mut self, cell_accounts: &[u32], accounts: &[String]) {
        for (engine, billers) in &mut self.groups {
            engine.fit(cell_accounts, accounts);
            for (_, b) in billers.iter_mut() {
                b.fit_accounts(accounts);
            }
        }
    }

    /// Tells the engines how many streams the log has, where it is read before it is billed
    /// (`Engine::expect_streams`).
    pub(crate) fn expect_streams(&mut self, streams: usize) {
        for (engine, _) in &mut self.groups {
            engine.expect_streams(streams);
        }
    }

    /// Tells the billers the streams whose business number the latest batch made known.
    pub(crate) fn fit_business_numbers(&mut self, pairs: &[(u32, u32)]) {
        if pairs.is_empty() {
            return;
        }
        for (_, billers) in &mut self.groups {
            for (_, b) in billers.iter_mut() {
                b.fit_business_numbers(pairs);
            }
        }
    }

    /// Bills `log`'s events in `order`.
    pub(super) fn bill_in_order(&mut self, log: &Log, order: &[u32]) {
        let events = &log.events;
        for (p, part) in order.chunks(LINES_AT_A_TIME).enumerate() {
            for (k, &i) in part.iter().enumerate() {
                let n = p * LINES_AT_A_TIME + k;
                // Out of time order the events are scattered: each is asked for well ahead,
                // and its stream's state once it has come (as `bill_runs` does for the state).
                if let Some(&a) = order.get(n + SCATTERED_AHEAD) {
                    crate::prefetch::prefetch(&events[a as usize]);
                }
                let ahead = order.get(n + STATE_AHEAD).map(|&a| &events[a as usize]);
                let ev = &events[i as usize];
                for (engine, billers) in &mut self.groups {
                    let outcome = engine.replay_ahead(ev, ahead);
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
            let outcomes = &mut self.outcomes;
            engine.run(&mut GroupRun {
                billers,
                outcomes,
                first,
                events,
                names,
            });
            for (_, b) in billers.iter_mut() {
                b.hand_over(first, events, names);
            }
        }
    }

    /// Bills event `i` by every biller of a group, none of whose months is low, with what
    /// the loop knows (`Known`): whether some month of theirs is now. A group of one model
    /// (each WhatsApp engine's) steps without the loop over billers.
    #[inline(always)]
    fn step_all(
        billers: &mut [(usize, Biller<'m>)],
        (i, ev): (u32, &Event),
        outcome: &Outcome,
        known: Known,
    ) -> bool {
        if let [(_, b)] = billers {
            let alone = Known {
                alone: true,
                ..known
            };
            b.step_given(i, ev, outcome, (None, alone));
            return b.low_months > 0;
        }
        // tested once for the billers (each step may write through memory it cannot tell
        // from the outcome's, so the compiler reloads it per biller)
        let charged = outcome.charge != Charge::None;
        match billers.first_mut() {
            // A charge to billers of one card: its row looked up once (`Biller::shares_row`),
            // in a loop of its own (with the row tested per biller in the one loop, the
            // uncharged events' steps took ~11 instructions more on the generated log).
            Some((_, first)) if charged && first.shares_row => {
                let row = first.card_row(ev);
                for (_, b) in billers.iter_mut() {
                    b.step_given(i, ev, outcome, (row, known));
                }
            }
            _ => {
                for (_, b) in billers.iter_mut() {
                    if b.touched_by(charged, ev) {
                        b.step_given(i, ev, outcome, (None, known));
                    }
                }
            }
        }
        // An outcome without a charge draws on no pool: no month turns low (none was:
        // `GroupRun::bill` steps one event at a time only then). The billers' months are
        // read again only after a charge (on the generated log, one event in ten).
        let low = charged && billers.iter().any(|(_, b)| b.low_months > 0);
        debug_assert_eq!(low, billers.iter().any(|(_, b)| b.low_months > 0));
        low
    }

    /// Asks each biller for the cell of the event `2 * STATE_AHEAD` after event `i`, and for
    /// the month of the one `STATE_AHEAD` after it (its id is read from its cell).
    #[inline(never)]
    fn prefetch_billers(billers: &[(usize, Biller)], events: &[Event], i: usize) {
        let ahead = events.get(i + STATE_AHEAD);
        let further = events.get(i + 2 * STATE_AHEAD);
        for (_, b) in billers {
            if let Some(e) = further {
                b.prefetch_cell(e);
            }
            if let Some(e) = ahead {
                b.prefetch_month(e);
            }
        }
    }

    /// `bill_runs` with every instant's events replayed in the replay order (`replay_order`),
    /// as the ledger has them; the lines are then handed to the sinks.
    fn bill_runs_in_replay_order(&mut self, first: u32, events: &[Event], names: &dyn Names) {
        let far: Vec<bool> = (self.groups.iter())
            .map(|(_, billers)| billers.iter().any(|(_, b)| b.cells_far()))
            .collect();
        let mut i = 0;
        while i < events.len() {
            let at = events[i].at;
            let n = 1 + (events[i + 1..].iter()).take_while(|e| e.at == at).count();
            let run = &events[i..i + n];
            // The names the order reads, the engines' states and the billers' cells asked for
            // ahead, as `bill_runs` does: scattered over millions of contacts, each would
            // otherwise be a wait of its own.
            for e in events.iter().skip(i + STATE_AHEAD).take(n) {
                names.prefetch(e);
            }
            instant_order(run, names, &mut self.order);
            for ((engine, billers), &far) in self.groups.iter_mut().zip(&far) {
                for &k in &self.order {
                    if far {
                        Self::prefetch_billers(billers, events, i + k);
                    }
                    let outcome = engine.replay_ahead(&run[k], events.get(i + k + STATE_AHEAD));
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
    fn bill_run<E: engine::Engine + ?Sized>(
        engine: &mut E,
        billers: &mut [(usize, Biller<'m>)],
        outcomes: &mut Vec<Outcome>,
        first: u32,
        run: &[Event],
        names: &dyn Names,
    ) {
        // The engine is asked for each stream's state ahead here too: a campaign sends to
        // thousands of contacts in one instant, each stream's state a miss of its own.
        if run.len() > 1 && billers.iter().any(|(_, b)| b.may_run_out(run)) {
            outcomes.clear();
            outcomes.extend(
                (run.iter().enumerate())
                    .map(|(k, ev)| engine.replay_ahead(ev, run.get(k + STATE_AHEAD))),
            );
            for (_, b) in billers.iter_mut() {
                b.step_in_replay_order(names, first, run, outcomes);
            }
            return;
        }
        for (k, ev) in run.iter().enumerate() {
            let outcome = engine.replay_ahead(ev, run.get(k + STATE_AHEAD));
            let charged = outcome.charge != Charge::None;
            for (_, b) in billers
                .iter_mut()
                .filter(|(_, b)| b.touched_by(charged, ev))
            {
                b.step(first + k as u32, ev, &outcome);
            }
        }
    }

    /// Makes room in the billers for the cells and account-months a growing log has now.
    pub(crate) fn fit(
        &mut self,
        cell_accounts: &[u32],
        cell_account_months: &[u32],
        account_months: usize,
    ) {
        for (_, billers) in &mut self.groups {
            for (_, b) in billers {
                b.fit(cell_accounts, cell_account_months, account_months);
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

/// `Replayer::bill_runs` of one engine group: its engine given as its own type
/// (`Engine::run`), so that this loop, compiled once per engine, replays without a call
/// through the trait object per event.
struct GroupRun<'r, 'm> {
    billers: &'r mut [(usize, Biller<'m>)],
    outcomes: &'r mut Vec<Outcome>,
    first: u32,
    events: &'r [Event],
    names: &'r dyn Names,
}

impl<'m> GroupRun<'_, 'm> {
    /// Bills the events, in input order; an instant's events are put in the replay order
    /// only for a biller whose allowance or tier may run out among them
    /// (`Biller::may_run_out`).
    #[inline(always)]
    fn bill<E: engine::Engine + engine::Decides + ?Sized, const LINES: bool>(
        &mut self,
        engine: &mut E,
    ) {
        let (billers, events, first) = (&mut *self.billers, self.events, self.first);
        // A run no longer than `short` cannot empty a pool while no month is low.
        let short = (billers.iter())
            .map(|(_, b)| b.smallest_pool.min(LOW_ROOM))
            .min()
            .unwrap_or(u64::MAX)
            .min(events.len() as u64) as usize;
        // A log of many accounts: each biller's cell and month asked for ahead too.
        let far = billers.iter().any(|(_, b)| b.cells_far());
        // Whether some month of a biller is low: noted as the billers step (one pass over
        // them per event, not two).
        let mut low = billers.iter().any(|(_, b)| b.low_months > 0);
        let mut i = 0;
        while i < events.len() {
            // A block of events none of which starts a long run (`calm_until`): stepped
            // without the test per event, until a month turns low.
            let calm = if low { i } else { calm_until(events, i, short) };
            while i < calm && !low {
                low = Self::step_one::<E, LINES>(engine, billers, (first, events, i), far);
                i += 1;
            }
            if i == events.len() {
                break;
            }
            let ev = &events[i];
            // Whether the run of `ev`'s instant from here on is long: the log is in time
            // order, so it is when the event `short` places on is of the same instant. A
            // long run is caught at its first event. A short one, while no month is low,
            // cannot empty a pool, so its order does not matter even if a month turns low
            // in its midst. No branch per change of instant, which would mispredict.
            let long = events.get(i + short).is_some_and(|e| e.at == ev.at);
            if long | low {
                if far {
                    Replayer::prefetch_billers(billers, events, i);
                }
                let n = 1
                    + (events[i + 1..].iter())
                        .take_while(|e| e.at == ev.at)
                        .count();
                let run = &events[i..i + n];
                let at = first + i as u32;
                Replayer::bill_run(engine, billers, self.outcomes, at, run, self.names);
                low = billers.iter().any(|(_, b)| b.low_months > 0);
                i += n;
                continue;
            }
            low = Self::step_one::<E, LINES>(engine, billers, (first, events, i), far);
            i += 1;
        }
    }

    /// Bills event `i` of `events` (event `first + i` of the log) by the group's billers:
    /// whether some month of theirs is now low.
    #[inline(always)]
    fn step_one<E: engine::Engine + engine::Decides + ?Sized, const LINES: bool>(
        engine: &mut E,
        billers: &mut [(usize, Biller<'m>)],
        (first, events, i): (u32, &[Event], usize),
        far: bool,
    ) -> bool {
        if far {
            Replayer::prefetch_billers(billers, events, i);
        }
        // The events come from the reading thread's core: asked for well ahead.
        if let Some(e) = events.get(i + EVENTS_AHEAD) {
            crate::prefetch::prefetch(e);
        }
        let outcome = engine.replay_ahead(&events[i], events.get(i + STATE_AHEAD));
        let known = Known {
            decisions: E::DECISIONS,
            alone: false,
            lines: LINES,
        };
        Replayer::step_all(billers, (first + i as u32, &events[i]), &outcome, known)
    }
}

/// The end of a block of time-ordered `events` from `i` on none of which starts a run of
/// one instant longer than `short` (`GroupRun::bill`'s `long`); `i` when it is not found.
/// A block of `short / 2` is calm when its last event is of an earlier instant than event
/// `i + short`: the runs of its events then all end before `i + short`. One test a block
/// instead of one an event (issue 24: ~6 instructions an event and engine group).
#[inline(always)]
fn calm_until(events: &[Event], i: usize, short: usize) -> usize {
    let end = (i + short / 2).min(events.len());
    match events.get(i + short) {
        // no event of the rest has `short` events after it
        None => events.len(),
        Some(far) if end > i && events[end - 1].at < far.at => end,
        Some(_) => i,
    }
}

impl GroupRun<'_, '_> {
    /// `bill`, compiled for a group whose billers keep lines and for one whose keep none
    /// (the replay without a ledger: no test per event of whether to keep a line).
    #[inline(always)]
    fn bill_by_lines<E: engine::Engine + engine::Decides + ?Sized>(&mut self, engine: &mut E) {
        match self.billers.iter().any(|(_, b)| b.keep_lines) {
            true => self.bill::<E, true>(engine),
            false => self.bill::<E, false>(engine),
        }
    }
}

impl engine::EngineJob for GroupRun<'_, '_> {
    fn viber(&mut self, engine: &mut engine::ViberRules) {
        self.bill_by_lines(engine);
    }

    fn whatsapp_meta(&mut self, engine: &mut engine::WhatsAppMetaEngine<'_>) {
        self.bill_by_lines(engine);
    }

    fn whatsapp_session(&mut self, engine: &mut engine::WhatsAppSessionEngine) {
        self.bill_by_lines(engine);
    }

    fn other(&mut self, engine: &mut dyn engine::Engine) {
        self.bill_by_lines(engine);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::FileAccount;
    use crate::billing::{Line, LineSink};
    use crate::engine::testing::model;

    /// Five messages of one account to Germany (the test card: session 0.0300, transactional
    /// 0.0500, promotional 0.0700), at five instants: `a` writes (a session opens), the business
    /// answers free-form (the session's first message: its charge), again (in the session:
    /// nothing), a promotional template, then a transactional one to `b`.
    const FIVE: &str = "timestamp,contact,direction,kind\n\
                        2026-03-02T08:00:00Z,+4915112345678,in,\n\
                        2026-03-02T08:01:00Z,+4915112345678,out,\n\
                        2026-03-02T08:02:00Z,+4915112345678,out,\n\
                        2026-03-02T08:03:00Z,+4915112345678,out,promotional\n\
                        2026-03-02T08:04:00Z,+4915187654321,out,transactional\n";

    /// `FIVE` read as a log (UTC, one thread).
    fn five_log() -> Log {
        let read = crate::input::ReadOptions {
            tz: chrono_tz::UTC,
            threads: 1,
            max_record_bytes: crate::input::DEFAULT_MAX_RECORD_BYTES,
            ..Default::default()
        };
        crate::input::read_from("t.csv".into(), FIVE.as_bytes(), &read).unwrap()
    }

    /// Billing options with nothing asked for but, where told, the ledger's lines.
    fn billing_options(keep_lines: bool) -> BillingOptions {
        BillingOptions {
            accounts: Accounts::default(),
            keep_lines,
            as_of: None,
            list_prices: false,
            pool_runs: false,
        }
    }

    /// A WhatsApp model alone in its engine group, billed by `bill_runs` (its loop knows it
    /// counts what the engine decides, `Known::alone`) with lines kept and without: FIVE's
    /// customer message, then in the window the first reply (whatsapp-session: the
    /// session's charge; whatsapp-meta 2026: free), a free reply, a marketing template
    /// (session: in the charged session, free; Meta: charged), then a utility template to
    /// `b`, who has no window (charged by both).
    #[test]
    fn a_model_alone_in_its_group_counts_what_its_engine_decides() {
        let log = five_log();
        let era = "[[era]]\nfrom = \"2025-07-01\"\npricing = \"per-message\"\n";
        let models = [model("whatsapp-session", ""), model("whatsapp-meta", era)];
        for keep_lines in [false, true] {
            let opts = billing_options(keep_lines);
            let mut replayer = Replayer::new(&models, &[vec![0], vec![1]], &log, &opts, &[]);
            replayer.bill_runs(0, &log.events, &log);
            let results: Vec<_> = (replayer.into_billers())
                .map(|(_, b)| b.finish(&log))
                .collect();
            // (sessions opened, sessions charged, charged)
            let want = [(1, 1, 1), (0, 0, 2)];
            for (r, (opened, sessions, charged)) in results.iter().zip(want) {
                let t = r.cells.totals();
                assert_eq!((t.messages_in, t.messages_out), (1, 4), "{keep_lines}");
                let billed = (t.sessions_charged, t.business_initiated_charged);
                assert_eq!((t.sessions_opened, billed), (opened, (sessions, charged)));
                assert_eq!((t.outside_window, t.assumed_category), (0, 0));
                assert_eq!(r.lines.len(), if keep_lines { 5 } else { 0 });
            }
        }
    }

    /// A sink that notes the events of the lines it is handed, and may keep one contact's.
    struct EventsSeen {
        only: Option<std::sync::Arc<std::sync::atomic::AtomicU32>>,
        events: Vec<u32>,
    }

    impl LineSink for EventsSeen {
        fn take(&mut self, lines: &[Line], _: u32, _: &[Event], _: &dyn Names) {
            self.events.extend(lines.iter().map(|l| l.event));
        }
        fn only_contact(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU32>> {
            self.only.clone()
        }
    }

    /// Three Viber models sharing one engine, each with its sink: FIVE's contacts are `a`
    /// (id 0: events 0-3) and `b` (id 1: event 4). A sink that keeps every line, or one whose
    /// contact is not known yet, is handed all five; one of `b`'s only event 4, one of `a`'s
    /// events 0-3: for the group's first model (which counts for all) and the others (which
    /// step an uncharged event only for its line) alike.
    #[test]
    fn a_sink_of_one_contact_is_handed_that_contacts_lines_only() {
        let log = five_log();
        let models = [
            model("viber", ""),
            model("viber", "[session]\ncharged = false\n"),
            model("viber", ""),
        ];
        let cases = [
            (None, vec![0, 1, 2, 3, 4]),
            (Some(crate::billing::NO_CONTACT), vec![0, 1, 2, 3, 4]),
            (Some(1), vec![4]),
            (Some(0), vec![0, 1, 2, 3]),
        ];
        for (only, want) in cases {
            let sinks: Vec<std::sync::Mutex<EventsSeen>> = (0..3)
                .map(|_| {
                    std::sync::Mutex::new(EventsSeen {
                        only: only.map(|c| std::sync::Arc::new(c.into())),
                        events: Vec::new(),
                    })
                })
                .collect();
            let refs: Vec<Sink> = (sinks.iter())
                .map(|s| s as &std::sync::Mutex<dyn LineSink>)
                .collect();
            let opts = billing_options(false);
            let mut replayer = Replayer::new(&models, &[vec![0, 1, 2]], &log, &opts, &refs);
            replayer.bill_runs(0, &log.events, &log);
            drop(replayer);
            for s in sinks {
                assert_eq!(s.into_inner().unwrap().events, want, "{only:?}");
            }
        }
    }

    /// Three Viber models sharing one engine, billed by `bill_runs` (each event alone: an
    /// event without a charge is billed only by the first model, which counts for all, and
    /// by any model keeping lines): each model's counts, cost and lines, worked by hand.
    #[test]
    fn models_sharing_an_engine_each_bill_their_charges_and_share_its_counts() {
        let log = five_log();
        let models = [
            model("viber", ""),
            model("viber", "[session]\ncharged = false\n"),
            model("viber", "[monthly]\nfree_business_initiated = 1\n"),
        ];
        assert_eq!(
            engine_groups(&models, &Accounts::default()),
            [vec![0, 1, 2]]
        );
        for keep_lines in [false, true] {
            let opts = billing_options(keep_lines);
            let mut replayer = Replayer::new(&models, &[vec![0, 1, 2]], &log, &opts, &[]);
            replayer.bill_runs(0, &log.events, &log);
            let results: Vec<_> = (replayer.into_billers())
                .map(|(_, b)| b.finish(&log))
                .collect();
            // (sessions charged, charged, free, cost): the session 0.0300 where charged, the
            // promotional 0.0700 unless the allowance of one covers it, the transactional 0.0500
            let want = [
                (1, 2, 0, "0.1500"),
                (0, 2, 0, "0.1200"),
                (1, 1, 1, "0.0800"),
            ];
            for (r, (sessions, charged, free, cost)) in results.iter().zip(want) {
                let t = r.cells.totals();
                // what the engine decides, the same for all three
                let shared = (t.messages_in, t.messages_out, t.sessions_opened);
                assert_eq!(shared, (1, 4, 1), "{keep_lines}");
                let billed = (t.sessions_charged, t.business_initiated_charged);
                assert_eq!(
                    (billed, t.business_initiated_free),
                    ((sessions, charged), free)
                );
                assert_eq!(r.total().to_string(), cost);
                assert_eq!(r.lines.len(), if keep_lines { 5 } else { 0 });
            }
        }
    }

    /// A Viber model of the default rules on the card `prices` (session, transactional,
    /// promotional, international).
    fn viber_on(prices: &str) -> Model {
        let text = "name = \"test\"\nchannel = \"viber\"\nrules = \"viber\"\n\
                    currency = \"EUR\"\nprices = \"prices.csv\"\n";
        let files = [("test.toml", text), ("prices.csv", prices)];
        let source = crate::rates::RateSource::Memory(
            (files.iter())
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        );
        Model::load(&source, "test.toml").unwrap()
    }

    /// The five messages of `FIVE` to Germany (a session charged, a promotional and a
    /// transactional template) by three Viber models of one engine group: two on card A
    /// (session 0.0300, transactional 0.0500, promotional 0.0700: 0.1500), the third on a card
    /// of its own. With card B (DE: 0.0100, 0.0200, 0.0400) it costs 0.0700; with A's prices
    /// written to two places (0.03, 0.05, 0.07) 0.15, not A's 0.1500 (the scale is printed).
    /// Neither third card has A's rows, so no biller takes the row the first looks up; three
    /// models on card A do, and price alike.
    #[test]
    fn models_of_one_card_price_from_one_row_and_a_model_of_another_card_from_its_own() {
        const HEAD: &str =
            "country,effective_from,session,transactional,promotional,international\n";
        let card_a = format!("{HEAD}*,,0.0300,0.0500,0.0700,0.0900\n");
        let card_b =
            format!("{HEAD}*,,0.0300,0.0500,0.0700,0.0900\nDE,,0.0100,0.0200,0.0400,0.0600\n");
        let card_short = format!("{HEAD}*,,0.03,0.05,0.07,0.09\n");
        let log = five_log();
        let cases = [
            (&card_a, [true; 3], "0.1500"),
            (&card_b, [false; 3], "0.0700"),
            (&card_short, [false; 3], "0.15"),
        ];
        for (third, shares, third_cost) in cases {
            let models = [viber_on(&card_a), viber_on(&card_a), viber_on(third)];
            assert_eq!(
                engine_groups(&models, &Accounts::default()),
                [vec![0, 1, 2]]
            );
            let opts = billing_options(false);
            let mut replayer = Replayer::new(&models, &[vec![0, 1, 2]], &log, &opts, &[]);
            let marked: Vec<bool> = (replayer.groups[0].1.iter())
                .map(|(_, b)| b.shares_row)
                .collect();
            replayer.bill_runs(0, &log.events, &log);
            let costs: Vec<String> = (replayer.into_billers())
                .map(|(_, b)| b.finish(&log).total().to_string())
                .collect();
            assert_eq!(costs, ["0.1500", "0.1500", third_cost], "{third}");
            assert_eq!(marked, shares, "{third}");
        }
    }

    #[test]
    fn international_splits_an_engine_only_when_an_account_can_be_international() {
        let models = [
            model("viber", ""),
            model(
                "viber",
                "[international]\nregistered_from = \"2024-10-01\"\n",
            ),
        ];
        let with = |registered: &str, country: Option<&str>| {
            let row = FileAccount {
                country: country.and_then(crate::event::Country::parse),
                registered: chrono::NaiveDate::parse_from_str(registered, "%Y-%m-%d").ok(),
                ..FileAccount::default()
            };
            let file = ("a.csv".to_string(), [("shop".to_string(), row)].into());
            Accounts::new(Some(file), chrono_tz::UTC, false, None)
        };
        // No file, a registration before the date, or no country: one engine for both.
        assert_eq!(engine_groups(&models, &Accounts::default()), [vec![0, 1]]);
        assert_eq!(
            engine_groups(&models, &with("2024-09-30", Some("UA"))),
            [vec![0, 1]]
        );
        assert_eq!(
            engine_groups(&models, &with("2024-10-01", None)),
            [vec![0, 1]]
        );
        // An account registered on the date with a country: the international model apart.
        assert_eq!(
            engine_groups(&models, &with("2024-10-01", Some("UA"))),
            [vec![0], vec![1]]
        );
    }

    /// Events at instants 0 0 1 2 3 3 3 3 3 4 (ten), `short` 4 (blocks of two): from event
    /// 0 the block 0-1 is calm (event 1 at 0 before event 4 at 3); from 2, the block 2-3
    /// (2 before event 6 at 3); from 4 none (event 5 at 3 is of event 8's instant: the run
    /// of 3 from event 4 is five long); from 5, 5-6 (event 9 at 4); from 6 on no event has
    /// four after it: all calm.
    /// A `short` of 1 has blocks of none.
    #[test]
    fn a_calm_block_has_no_event_that_starts_a_long_run() {
        let at = [0, 0, 1, 2, 3, 3, 3, 3, 3, 4];
        let events: Vec<Event> = (at.iter())
            .map(|&at| Event {
                at,
                day: 0,
                line: 1,
                contact: 0,
                stream: 0,
                cell: 0,
                country: crate::event::Country::parse("DE").unwrap(),
                direction: crate::event::Direction::Inbound,
                kind: crate::event::Kind::FreeForm,
            })
            .collect();
        let from = |i| calm_until(&events, i, 4);
        assert_eq!(
            [from(0), from(2), from(4), from(5), from(6)],
            [2, 4, 4, 7, 10]
        );
        assert_eq!(calm_until(&events, 0, 1), 0);
        assert_eq!(calm_until(&events, 9, 1), 10);
    }
}
