//! Counterfactual logs: the log as it would have been had the business acted otherwise (a
//! message sent earlier, sent as another kind, not sent at all, or one more message sent). The
//! result is an ordinary `Log` that the billing stage replays like any other, so any command
//! can price "what if" (`advise` is the first; docs/billing-rules.md §8).
//!
//! Only events change: accounts, contacts and streams stay as read. A moved event takes the
//! day and calendar month of its new instant in `tz`, and with them its report cell (added if
//! the log had none for that account, country and month).

use crate::calendar::local_month_day;
use crate::event::{Direction, Event, Kind};
use crate::input::Log;
use chrono_tz::Tz;
use std::collections::HashMap;

/// One change to one event of the log (indexes into `Log::events`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The message sent at `to` (UTC microseconds) instead.
    Move { event: u32, to: i64 },
    /// The message sent as `kind` instead.
    Retype { event: u32, kind: Kind },
    /// The message not sent.
    Remove { event: u32 },
    /// A business message of `kind` sent just before `event`, at its instant, in its stream.
    InsertBefore { event: u32, kind: Kind },
}

impl Edit {
    /// The event of the log the edit changes (or precedes).
    pub fn event(&self) -> u32 {
        match *self {
            Edit::Move { event, .. }
            | Edit::Retype { event, .. }
            | Edit::Remove { event }
            | Edit::InsertBefore { event, .. } => event,
        }
    }
}

/// A counterfactual log and, for each of its events, the event of the original log it comes
/// from (`None`: inserted).
pub struct Counterfactual {
    pub log: Log,
    pub origin: Vec<Option<u32>>,
}

impl Counterfactual {
    /// The index in the counterfactual log of each original event (`None`: removed).
    pub fn positions(&self, original_events: usize) -> Vec<Option<u32>> {
        let mut at = vec![None; original_events];
        for (i, o) in self.origin.iter().enumerate() {
            if let Some(o) = o {
                at[*o as usize] = Some(i as u32);
            }
        }
        at
    }
}

/// `log` with `edits` applied (several edits of one event apply in the order given; a removed
/// event stays removed). `tz` cuts the days and months of moved events, as `--tz` cut the log's.
pub fn build(log: &Log, edits: &[Edit], tz: Tz) -> Counterfactual {
    // By event, each event's edits in the order given (a stable sort), read with a cursor.
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(Edit::event);
    let mut next = 0;
    let mut out = shell(log);
    let mut cells: HashMap<(u32, crate::event::Country, i32), u32> = log
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u32))
        .collect();
    let mut months: HashMap<(u32, i32), u32> = log
        .account_months
        .iter()
        .enumerate()
        .map(|(i, am)| (*am, i as u32))
        .collect();
    let mut origin = Vec::with_capacity(log.events.len());
    let mut moved = false;
    for (i, ev) in log.events.iter().enumerate() {
        let mut ev = *ev;
        let mut removed = false;
        let from = next;
        while next < sorted.len() && sorted[next].event() == i as u32 {
            next += 1;
        }
        for edit in &sorted[from..next] {
            match *edit {
                Edit::Move { to, .. } => {
                    moved |= to != ev.at;
                    ev.at = to;
                    let (month, day) = local_month_day(to, tz);
                    ev.day = day;
                    let account = out.cells[ev.cell as usize].0;
                    ev.cell = cell_of(&mut out, &mut cells, &mut months, account, &ev, month);
                }
                Edit::Retype { kind, .. } => ev.kind = kind,
                Edit::Remove { .. } => removed = true,
                Edit::InsertBefore { kind, .. } => {
                    let mut sent = ev;
                    sent.direction = Direction::Outbound;
                    sent.kind = kind;
                    out.events.push(sent);
                    origin.push(None);
                }
            }
        }
        if !removed {
            out.events.push(ev);
            origin.push(Some(i as u32));
        }
    }
    // Only a move can put the events out of time order; billing sorts them then.
    out.in_time_order = log.in_time_order && !moved;
    out.rows = out.events.len() as u64;
    Counterfactual { log: out, origin }
}

/// The log without its events (and without its rejected rows, which billing never reads).
fn shell(log: &Log) -> Log {
    let mut out = Log::new(log.file.clone(), log.header.clone());
    out.accounts = log.accounts.clone();
    out.contacts = log.contacts.clone();
    out.countries_derived = log.countries_derived;
    out.ambiguous_times = log.ambiguous_times;
    out.streams = log.streams;
    out.cells = log.cells.clone();
    out.cell_account_months = log.cell_account_months.clone();
    out.account_months = log.account_months.clone();
    out.events = Vec::with_capacity(log.events.len());
    out
}

/// The cell of (account, the event's country, month), added with its account-month if new.
fn cell_of(
    out: &mut Log,
    cells: &mut HashMap<(u32, crate::event::Country, i32), u32>,
    months: &mut HashMap<(u32, i32), u32>,
    account: u32,
    ev: &Event,
    month: i32,
) -> u32 {
    if let Some(&c) = cells.get(&(account, ev.country, month)) {
        return c;
    }
    let am = *months.entry((account, month)).or_insert_with(|| {
        out.account_months.push((account, month));
        out.account_months.len() as u32 - 1
    });
    out.cells.push((account, ev.country, month));
    out.cell_account_months.push(am);
    let c = out.cells.len() as u32 - 1;
    cells.insert((account, ev.country, month), c);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Script, MICROS_PER_HOUR};

    fn log_of(s: Script) -> Log {
        let mut log = Log::new("t.csv".into(), vec![]);
        log.accounts = s.accounts().to_vec();
        for c in s.contacts() {
            log.contacts.push_id(c);
        }
        log.streams = s.streams().len() as u32;
        log.cells = s.cells().to_vec();
        let mut months: Vec<(u32, i32)> = Vec::new();
        for &(a, _, m) in s.cells() {
            let i = months.iter().position(|x| *x == (a, m)).unwrap_or_else(|| {
                months.push((a, m));
                months.len() - 1
            });
            log.cell_account_months.push(i as u32);
        }
        log.account_months = months;
        log.events = s.into_events();
        log
    }

    #[test]
    fn edits_move_retype_remove_and_insert() {
        let log = log_of(Script::table(&[
            ("2026-03-31 00:30", "a", "in", ""),
            ("2026-04-01 02:00", "a", "out", ""),
            ("2026-04-02 08:00", "a", "out", "template"),
            ("2026-04-02 09:00", "a", "out", ""),
        ]));
        // 2026-03-31 23:30, inside the inbound message's 24 h.
        let to = log.events[0].at + 23 * MICROS_PER_HOUR;
        let cf = build(
            &log,
            &[
                Edit::Move { event: 1, to },
                Edit::Retype {
                    event: 2,
                    kind: Kind::Utility,
                },
                Edit::Remove { event: 3 },
                Edit::InsertBefore {
                    event: 0,
                    kind: Kind::Welcome,
                },
            ],
            chrono_tz::UTC,
        );
        let ev = &cf.log.events;
        assert_eq!(cf.origin, [None, Some(0), Some(1), Some(2)]);
        assert_eq!(cf.positions(4), [Some(1), Some(2), Some(3), None]);
        assert_eq!(
            (ev[0].kind, ev[0].direction),
            (Kind::Welcome, Direction::Outbound)
        );
        assert_eq!(ev[0].at, log.events[0].at);
        // Moved back into March, the cell of the inbound message.
        assert_eq!(ev[2].at, to);
        assert_eq!(ev[2].cell, log.events[0].cell);
        assert_eq!(ev[2].day, log.events[0].day);
        assert_eq!(ev[2].line, 3);
        assert_eq!(ev[3].kind, Kind::Utility);
        assert!(!cf.log.in_time_order);
        assert_eq!(cf.log.cells.len(), log.cells.len());
    }

    #[test]
    fn a_move_into_a_month_with_no_traffic_adds_its_cell_and_account_month() {
        let log = log_of(Script::table(&[("2026-04-01 01:00", "a", "out", "")]));
        let to = log.events[0].at - 2 * MICROS_PER_HOUR;
        let cf = build(&log, &[Edit::Move { event: 0, to }], chrono_tz::UTC);
        assert_eq!(cf.log.cells.len(), 2);
        let (_, _, month) = cf.log.cells[cf.log.events[0].cell as usize];
        assert_eq!(month, 2026 * 12 + 2);
        assert_eq!(
            cf.log.account_months,
            [(0, 2026 * 12 + 3), (0, 2026 * 12 + 2)]
        );
        assert_eq!(cf.log.cell_account_months, [0, 1]);
    }
}
