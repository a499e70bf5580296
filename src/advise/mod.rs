//! Savings advice (RULES §8, docs/billing-rules.md §8): for each model and each strategy
//! that applies to its channel, the traffic the strategy would change, the log as it would have
//! been (`crate::counterfactual`), and the saving as the difference of two replays of the whole
//! log through the same model, never a rule of thumb.
//!
//! A strategy only proposes edits; this module replays them, drops every edit of a stream whose
//! counterfactual the channel's rules forbid (a message blocked or rejected as one too many in a
//! row on Viber, a free-form message outside a WhatsApp window) and replays again, until the
//! counterfactual is one the business could have sent.

mod blocks;
mod category;
pub mod channel;
mod late;
pub mod report;
mod unanswered;
pub mod undelivered;
mod updates;
mod welcome;

use crate::billing::{self, BillingOptions, Line, ModelResult};
use crate::counterfactual::{self, Counterfactual, Edit};
use crate::engine::{Billed, Outcome};
use crate::event::Event;
use crate::input::Log;
use crate::rates::Model;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// What the strategies are told.
#[derive(Clone, Debug)]
pub struct Options {
    /// A business message this long after the customer's last message (and after the window
    /// or session closed) is a late reply (`--late-within`, hours).
    pub late_within_hours: i64,
    /// Contacts sent this many business messages or more who never replied (`--unanswered`).
    pub unanswered: u32,
    /// Contacts and accounts listed per line (`--top`).
    pub top: usize,
    /// The zone of calendar days and months (`--tz`): a moved message's day and month.
    pub tz: chrono_tz::Tz,
    pub threads: usize,
    /// Keep each line's counterfactual log and replay (`--details`, tests): a copy of the
    /// log's events per line, so only when asked for.
    pub keep_counterfactuals: bool,
}

/// What a strategy sees: the log, one model and its replay of the log, lines kept.
pub struct Context<'a> {
    pub log: &'a Log,
    pub model: &'a Model,
    pub now: &'a ModelResult,
    pub opts: &'a Options,
}

impl Context<'_> {
    /// The replay's lines with their events, in the replay order (each stream in time order).
    pub fn lines(&self) -> impl Iterator<Item = (&Line, &Event)> {
        (self.now.lines.iter()).map(|l| (l, &self.log.events[l.event as usize]))
    }
}

/// A strategy: which channels it applies to and the edits it proposes.
pub trait Strategy: Sync {
    fn name(&self) -> &'static str;
    fn applies(&self, model: &Model) -> bool;
    fn propose(&self, cx: &Context) -> Proposal;
}

/// Edits to the log, and what the report says of them.
#[derive(Default)]
pub struct Proposal {
    pub edits: Vec<Edit>,
    /// Said on the report line (e.g. why a rule leaves no saving).
    pub note: String,
}

/// Every strategy, in the report's order.
pub fn strategies() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(late::LateReplies),
        Box::new(updates::Updates),
        Box::new(welcome::Welcome),
        Box::new(unanswered::Unanswered),
        Box::new(undelivered::Undelivered),
        Box::new(category::Category),
        Box::new(blocks::CapAndBlocks),
    ]
}

/// One line of advice: a strategy on one model, priced by two replays of the whole log.
pub struct Advice {
    pub strategy: &'static str,
    pub model: String,
    pub currency: String,
    /// Messages the counterfactual changes (moved, retyped, not sent; for an inserted
    /// message, the one it precedes).
    pub messages: u64,
    /// Distinct sessions, windows or conversations those messages belong to, in whichever
    /// replay has more (a late reply has none now, and one in the counterfactual).
    pub sessions: u64,
    pub contacts: u64,
    /// The model's total (messages and fees) in the replay of the log as it is.
    pub cost_now: Decimal,
    /// The model's total in the replay of the counterfactual log.
    pub cost_after: Decimal,
    /// What the affected messages cost in the replay of the log as it is.
    pub affected_cost_now: Decimal,
    /// Edits dropped because their counterfactual broke a rule of the channel.
    pub not_allowed: u64,
    /// Contacts and accounts carrying the saving, largest first (their own replay differences).
    pub top_contacts: Vec<(String, Decimal)>,
    pub top_accounts: Vec<(String, Decimal)>,
    pub note: String,
    /// The original events affected, and the counterfactual with its replay (for `--details`).
    pub affected: Vec<u32>,
    /// The affected messages' lines in the replay of the log as it is (kept with `after`).
    pub now_lines: Vec<Line>,
    pub after: Option<(Counterfactual, ModelResult)>,
    /// `channel`: the other models' parts of the counterfactual (their totals are in
    /// `cost_after`, converted).
    pub moved: Vec<channel::Moved>,
}

impl Advice {
    /// A line with nothing changed: the cost after is the cost now.
    pub fn empty(strategy: &'static str, cx: &Context) -> Advice {
        Advice {
            strategy,
            model: cx.model.name.clone(),
            currency: cx.now.currency.clone(),
            messages: 0,
            sessions: 0,
            contacts: 0,
            cost_now: cx.now.total(),
            cost_after: cx.now.total(),
            affected_cost_now: Decimal::ZERO,
            not_allowed: 0,
            top_contacts: Vec::new(),
            top_accounts: Vec::new(),
            note: String::new(),
            affected: Vec::new(),
            now_lines: Vec::new(),
            after: None,
            moved: Vec::new(),
        }
    }

    /// `cost_now - cost_after`: the difference of the two replays.
    pub fn saving(&self) -> Decimal {
        self.cost_now - self.cost_after
    }

    /// The saving as a percentage of the model's total, to two places; `None` on a total of 0.
    pub fn share(&self) -> Option<Decimal> {
        (self.saving().checked_mul(Decimal::ONE_HUNDRED))
            .and_then(|s| s.checked_div(self.cost_now))
            .map(|p| p.round_dp(2))
    }
}

/// Billing options of advice replays: ledger lines kept, each model on its own terms.
pub fn billing_options(base: &BillingOptions) -> BillingOptions {
    BillingOptions {
        accounts: base.accounts.clone(),
        keep_lines: true,
        as_of: base.as_of,
        list_prices: base.list_prices,
        pool_runs: false,
    }
}

/// Every strategy on every model; `now` is each model's replay of the log (lines not needed:
/// each model is replayed again with its lines, one at a time).
pub fn advise(
    log: &Log,
    models: &[Model],
    now: &[ModelResult],
    billing: &BillingOptions,
    opts: &Options,
    fx: Option<&crate::rates::fx::FxTable>,
) -> Vec<Advice> {
    let mut out = Vec::new();
    for (m, model) in models.iter().enumerate() {
        // The model's lines, one model at a time: only one model's are held at once.
        let now_all = now;
        let now = &replay(log, model, billing, opts.threads);
        let cx = Context {
            log,
            model,
            now,
            opts,
        };
        for s in strategies() {
            if s.applies(model) {
                out.push(price(&cx, s.name(), s.propose(&cx), billing));
            }
        }
        if models.len() > 1 {
            let mut line = channel::advise(&cx, models, now_all, m, fx, billing);
            if !opts.keep_counterfactuals {
                (line.after, line.moved) = (None, Vec::new());
            }
            out.push(line);
        }
    }
    out
}

/// A proposal replayed until the channel allows it, and the advice it makes.
pub fn price(
    cx: &Context,
    strategy: &'static str,
    p: Proposal,
    billing: &BillingOptions,
) -> Advice {
    let (kept, not_allowed, after) = allowed(cx, p.edits, billing);
    let affected: Vec<u32> = kept
        .iter()
        .map(Edit::event)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let now_of = outcome_index(cx.now, cx.log.events.len());
    let (mut sessions, mut contacts) = (BTreeSet::new(), BTreeSet::new());
    let mut affected_cost_now = Decimal::ZERO;
    for &e in &affected {
        if let Some(l) = now_of[e as usize] {
            let line = &cx.now.lines[l as usize];
            affected_cost_now += line.price.amount();
            sessions.extend(line.outcome.session);
        }
        contacts.insert(cx.log.events[e as usize].contact);
    }
    let sessions = sessions.len().max(sessions_after(&affected, &after)) as u64;
    let (top_contacts, top_accounts) = carriers(cx, &after, cx.opts.top);
    Advice {
        strategy,
        model: cx.model.name.clone(),
        currency: cx.now.currency.clone(),
        messages: affected.len() as u64,
        sessions,
        contacts: contacts.len() as u64,
        cost_now: cx.now.total(),
        cost_after: after.1.total(),
        affected_cost_now,
        not_allowed,
        top_contacts,
        top_accounts,
        note: p.note,
        now_lines: lines_of(cx, &affected),
        affected,
        after: cx.opts.keep_counterfactuals.then_some(after),
        moved: Vec::new(),
    }
}

/// Distinct sessions of the `affected` events (and the messages inserted) in the counterfactual.
fn sessions_after(affected: &[u32], (cf, after): &(Counterfactual, ModelResult)) -> usize {
    let mut mine = vec![false; cf.origin.len()];
    let position = cf.positions(
        cf.origin
            .iter()
            .flatten()
            .max()
            .map_or(0, |m| *m as usize + 1),
    );
    for &e in affected {
        if let Some(Some(p)) = position.get(e as usize) {
            mine[*p as usize] = true;
        }
    }
    for (i, o) in cf.origin.iter().enumerate() {
        mine[i] |= o.is_none();
    }
    (after.lines.iter())
        .filter(|l| mine[l.event as usize])
        .filter_map(|l| l.outcome.session)
        .collect::<BTreeSet<_>>()
        .len()
}

/// The lines of `affected` in the replay of the log as it is (none unless counterfactuals are
/// kept: `--details` writes them).
pub(crate) fn lines_of(cx: &Context, affected: &[u32]) -> Vec<Line> {
    if !cx.opts.keep_counterfactuals {
        return Vec::new();
    }
    let mut mine = vec![false; cx.log.events.len()];
    for &e in affected {
        mine[e as usize] = true;
    }
    (cx.now.lines.iter())
        .filter(|l| mine[l.event as usize])
        .copied()
        .collect()
}

/// Whether an outcome is one the channel does not let a business send: a counterfactual with
/// one that the log did not have is not advice.
pub(crate) fn forbidden(o: &Outcome) -> bool {
    o.blocked || matches!(o.billed, Billed::RejectedInSession | Billed::OutsideWindow)
}

/// The edits whose counterfactual the channel allows (every edit of a stream that gained a
/// forbidden message is dropped, then the rest replayed again), how many were dropped, and the
/// counterfactual with its replay.
fn allowed(
    cx: &Context,
    mut edits: Vec<Edit>,
    billing: &BillingOptions,
) -> (Vec<Edit>, u64, (Counterfactual, ModelResult)) {
    let log = cx.log;
    let now_of = outcome_index(cx.now, log.events.len());
    let was_forbidden =
        |e: u32| now_of[e as usize].is_some_and(|l| forbidden(&cx.now.lines[l as usize].outcome));
    let mut dropped = 0;
    loop {
        let cf = counterfactual::build(log, &edits, cx.opts.tz);
        let after = replay(&cf.log, cx.model, billing, cx.opts.threads);
        let bad: BTreeSet<u32> = (after.lines.iter())
            .filter(|l| forbidden(&l.outcome))
            .filter(|l| cf.origin[l.event as usize].is_none_or(|o| !was_forbidden(o)))
            .map(|l| cf.log.events[l.event as usize].stream)
            .collect();
        if bad.is_empty() {
            return (edits, dropped, (cf, after));
        }
        let before = edits.len();
        edits.retain(|e| !bad.contains(&log.events[e.event() as usize].stream));
        dropped += (before - edits.len()) as u64;
    }
}

/// One model's replay of a log, its lines kept.
pub fn replay(log: &Log, model: &Model, billing: &BillingOptions, threads: usize) -> ModelResult {
    let opts = billing_options(billing);
    billing::bill_all(log, None, std::slice::from_ref(model), &opts, threads).remove(0)
}

/// For each event of the log, the index of its line in `r.lines`.
pub fn outcome_index(r: &ModelResult, events: usize) -> Vec<Option<u32>> {
    let mut at = vec![None; events];
    for (i, l) in r.lines.iter().enumerate() {
        if let Some(slot) = at.get_mut(l.event as usize) {
            *slot = Some(i as u32);
        }
    }
    at
}

/// The contacts and accounts whose own costs fall most between the two replays (messages;
/// for accounts, fees too), at most `top` of each, largest saving first, only savings above 0.
#[allow(clippy::type_complexity)]
fn carriers(
    cx: &Context,
    after: &(Counterfactual, ModelResult),
    top: usize,
) -> (Vec<(String, Decimal)>, Vec<(String, Decimal)>) {
    let (cf, after) = after;
    // By dense contact and account id (a map per line was most of advise's time).
    let mut contacts = vec![Decimal::ZERO; cx.log.contacts.len()];
    let mut accounts = vec![Decimal::ZERO; cx.log.accounts.len()];
    let mut add = |log: &Log, r: &ModelResult, now: bool| {
        let put = |slot: &mut Decimal, a: Decimal| {
            if now {
                *slot += a
            } else {
                *slot -= a
            }
        };
        for l in &r.lines {
            let a = l.price.amount();
            if !a.is_zero() {
                let ev = &log.events[l.event as usize];
                put(&mut contacts[ev.contact as usize], a);
                put(&mut accounts[log.account_of(ev) as usize], a);
            }
        }
        for f in &r.fees {
            put(&mut accounts[f.account as usize], f.amount);
        }
    };
    add(cx.log, cx.now, true);
    add(&cf.log, after, false);
    let ranked = |m: Vec<Decimal>, name: &dyn Fn(u32) -> String| {
        let mut v: Vec<(u32, Decimal)> = (m.into_iter().enumerate())
            .filter(|(_, d)| *d > Decimal::ZERO)
            .map(|(id, d)| (id as u32, d))
            .collect();
        // Largest first; names only for those listed (a tie by name among the largest).
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        let cut = v.get(top.saturating_sub(1)).map(|x| x.1);
        v.retain(|x| cut.is_none_or(|c| x.1 >= c));
        let mut named: Vec<(String, Decimal)> =
            v.into_iter().map(|(id, d)| (name(id), d)).collect();
        named.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        named.truncate(top);
        named
    };
    let log = cx.log;
    (
        ranked(contacts, &|c| log.contact_name(c).into_owned()),
        ranked(accounts, &|a| match log.account_name(a) {
            "" => "(default)".to_string(),
            n => n.to_string(),
        }),
    )
}
