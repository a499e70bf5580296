//! `replay` of a log file in time order, billed while it is still being read: the reader hands
//! out its events a block at a time and billing threads take them as they come, so billing
//! shares the cores with reading instead of waiting for it, and the log's events are never
//! all held at once. A log that turns out not to be in time order must have its events sorted
//! first: if it is out of order from its first block, nothing is billed yet, and every event
//! is kept as it is read, in time buckets (`billing::TimeBuckets`), then each bucket sorted
//! while the ones before it are billed (`bill_kept`) - or, newest first and with no sink, read
//! from its end and billed as it is read (`input::Unordered::FromEnd`); else it is read again
//! the usual way
//! (`None`); so only a regular file comes this way (a pipe such as `/dev/stdin`
//! cannot be read twice).

use crate::billing::{
    self, Biller, BillingOptions, ModelResult, Names, Replayer, Sink, TimeBuckets, WithContacts,
};
use crate::error::Result;
use crate::event::Event;
use crate::input::{self, Batch, Contacts, Log, ReadOptions, Recycle, Unordered};
use crate::rates::Model;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::Arc;

/// Batches waiting for a billing thread: enough to ride out a slow block, few enough that
/// events do not pile up when billing falls behind.
const BATCHES_AHEAD: usize = 8;

/// A log read and billed: the log (without its events, `Log::batched` counts them) and each
/// model's result.
pub type Billed = (Log, Vec<ModelResult>);

/// Reads the log file at `path` and bills it with every model; `None` if it is not in time
/// order.
pub fn read_and_bill(
    path: &str,
    read: &ReadOptions,
    models: &[Model],
    opts: &BillingOptions,
    threads: usize,
) -> Result<Option<Billed>> {
    read_and_bill_into(path, read, models, opts, threads, &[])
}

/// `read_and_bill`, each model's lines handed to its sink in `sinks` (by model) as they are
/// billed (the ledger). Lines are not kept: the events they belong to are not.
pub fn read_and_bill_into<'m>(
    path: &str,
    read: &ReadOptions,
    models: &'m [Model],
    opts: &BillingOptions,
    threads: usize,
    sinks: &[Sink<'m>],
) -> Result<Option<Billed>> {
    bill_while_reading(path, read, models, opts, threads, sinks, false)
}

/// `read_and_bill_into`, a log out of time order from its first block read once, kept in
/// time buckets and billed too; `None` only for one out of order later on.
pub fn read_and_bill_or_keep<'m>(
    path: &str,
    read: &ReadOptions,
    models: &'m [Model],
    opts: &BillingOptions,
    threads: usize,
    sinks: &[Sink<'m>],
) -> Result<Option<Billed>> {
    bill_while_reading(path, read, models, opts, threads, sinks, true)
}

fn bill_while_reading<'m>(
    path: &str,
    read: &ReadOptions,
    models: &'m [Model],
    opts: &BillingOptions,
    threads: usize,
    sinks: &[Sink<'m>],
    keep: bool,
) -> Result<Option<Billed>> {
    debug_assert!(
        !opts.keep_lines,
        "kept lines would name events that are not kept"
    );
    let shares = billing::shares(billing::engine_groups(models, &opts.accounts), threads);
    // The last billing thread done with a batch hands its event list back to the reader.
    let spare = &Recycle::default();
    // Out of order from the first block: every batch kept in time buckets instead of billed.
    let mut kept: Option<TimeBuckets> = None;
    let (log, billers) = std::thread::scope(|s| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for share in &shares {
            let (tx, rx) = sync_channel::<Arc<Batch>>(BATCHES_AHEAD);
            senders.push(tx);
            handles.push(s.spawn(move || bill_batches(models, share, opts, sinks, rx, spare)));
        }
        // Read from the end, a log newest first is billed as it is read; its events' lines
        // are only right once it is read, so not with a sink (ledger, explain, reconcile).
        let unordered = match (keep, sinks.is_empty()) {
            (false, _) => Unordered::Stop,
            (true, false) => Unordered::Keep,
            (true, true) => Unordered::FromEnd,
        };
        let log = input::read_log_in_batches(path, read, spare, unordered, &mut |batch| {
            if !batch.in_time_order {
                // The events are in cache: into their buckets now, the list used again. Their
                // lines only for a sink (the ledger, explain and reconcile show them).
                let kept = kept.get_or_insert_with(|| TimeBuckets::new(!sinks.is_empty()));
                if let Some(list) = kept.add(batch.events) {
                    spare.give(list);
                }
                return;
            }
            let batch = Arc::new(batch);
            for tx in &senders {
                // A billing thread only stops early by panicking, which the join re-raises.
                let _ = tx.send(batch.clone());
            }
        });
        drop(senders);
        let billers: Vec<(usize, Biller)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (log, billers)
    });
    let log = log?;
    let results = match (log.in_time_order, kept) {
        (true, _) => finish_all(billers, &log, threads),
        // Nothing was billed (the first batch was out of order already).
        (false, Some(kept)) => {
            // Nothing is read any more: a thread per engine group (the whatsapp-meta and
            // whatsapp-session engines apart), so that no thread bills two (issue 24).
            let groups = billing::engine_groups(models, &opts.accounts);
            let threads = if threads > 1 { groups.len() } else { 1 };
            let shares = billing::shares(groups, threads);
            bill_kept(&log, kept, models, &shares, opts, sinks)
        }
        (false, None) => return Ok(None),
    };
    Ok(Some((log, in_model_order(results))))
}

/// Each biller's result, the billers shared among up to `threads` threads: a log of many
/// accounts has hundreds of thousands of cells per model to sort and gather, which one
/// thread after the other made a second of single-core tail at 10M rows. Each thread takes
/// the next biller when done with one (the models' finishing takes unequal times).
/// Without the volumes unless billed for break-even (`Biller::finish_for_report`).
fn finish_all(
    billers: Vec<(usize, Biller)>,
    log: &Log,
    threads: usize,
) -> Vec<(usize, ModelResult)> {
    let threads = threads.clamp(1, billers.len().max(1));
    // The log's cells sorted once for every model.
    let order = &billing::CellOrder::new(log, threads);
    let queue = &std::sync::Mutex::new(billers.into_iter().rev().collect::<Vec<_>>());
    let finish = || -> Vec<(usize, ModelResult)> {
        let mut done = Vec::new();
        // The lock is held for a pop only, which cannot panic: a poisoned lock's list is whole.
        let next = || queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
        while let Some((m, b)) = next() {
            done.push((m, b.finish_for_report(log, order)));
        }
        done
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(finish)).collect();
        let mut results = finish();
        for h in handles {
            results.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        results
    })
}

fn in_model_order(mut results: Vec<(usize, ModelResult)>) -> Vec<ModelResult> {
    results.sort_by_key(|(m, _)| *m);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Events sorted at a time for the billing threads (`bill_kept`): some buckets' worth, so
/// that one hand-over costs little per event.
const SORTED_PART: usize = 1 << 15;

/// How many times a billing thread of `bill_kept` looks for its next part, yielding its core
/// in between, before it sleeps on its queue. The two lighter engine groups wait for each part
/// the main thread sorts (the Viber group, three models, sets the pace); woken from sleep, one
/// was put on the core the Viber thread ran on while the other core idled (sort44: the billing
/// phase at 70-80% of two cores). Looking on keeps the waiting thread on its own core, at no
/// cost to a thread that wants it. Measured: by_contact and shuffled 1-2% faster in two
/// sittings (docs/performance.md, seventeenth pass).
const LOOKS_BEFORE_SLEEP: usize = 300;

/// The next part on `rx`, None once its sender is gone: looked for `looks` times, the core
/// yielded between looks, then waited for.
fn next_part<T>(rx: &Receiver<T>, looks: usize) -> Option<T> {
    for _ in 0..looks {
        match rx.try_recv() {
            Ok(part) => return Some(part),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    rx.recv().ok()
}

/// Bills the log's events, `kept` in time buckets as they were read: this thread sorts one
/// bucket after the other while the billing threads (one per share of the engine groups)
/// bill the ones before it, each as a time-ordered log (`Replayer::bill_runs`).
fn bill_kept<'m>(
    log: &Log,
    mut kept: TimeBuckets,
    models: &'m [Model],
    shares: &[Vec<Vec<usize>>],
    opts: &BillingOptions,
    sinks: &[Sink<'m>],
) -> Vec<(usize, ModelResult)> {
    let spare: &Recycle<Event> = &Recycle::default();
    // Kept without lines, an event comes back without its contact: named by its stream's.
    let contacts = &kept.stream_contacts();
    let names = &WithContacts {
        names: log,
        contacts,
    };
    std::thread::scope(|s| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for share in shares {
            let (tx, rx) = sync_channel::<Arc<(u32, Vec<Event>)>>(BATCHES_AHEAD);
            senders.push(tx);
            handles.push(s.spawn(move || {
                let mut replayer = Replayer::new(models, share, log, opts, sinks);
                // The log is read: its engines' stream states made whole once.
                replayer.expect_streams(log.streams as usize);
                while let Some(part) = next_part(&rx, LOOKS_BEFORE_SLEEP) {
                    replayer.bill_runs(part.0, &part.1, names);
                    if let Some((_, events)) = Arc::into_inner(part) {
                        spare.give(events);
                    }
                }
                (replayer.into_billers())
                    .map(|(m, b)| {
                        (
                            m,
                            b.finish_for_report(log, &billing::CellOrder::new(log, 1)),
                        )
                    })
                    .collect::<Vec<_>>()
            }));
        }
        kept.drain_sorted(SORTED_PART, &mut |n| spare.take(n), &mut |first, events| {
            let part = Arc::new((first, events));
            for tx in &senders {
                // A billing thread only stops early by panicking, which the join re-raises.
                let _ = tx.send(part.clone());
            }
        });
        drop(senders);
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// What a billing thread knows of the log so far: the names of its accounts and contacts
/// and each cell's account and account-month, as the batches bring them.
#[derive(Default)]
struct Known {
    accounts: Vec<String>,
    contacts: Contacts,
    cell_accounts: Vec<u32>,
    cell_account_months: Vec<u32>,
    account_months: usize,
    /// With a ledger, which names a contact per row: every contact's name, made once, one
    /// after the other, and where each one ends.
    contact_names: Option<(String, Vec<usize>)>,
}

impl Known {
    fn add(&mut self, batch: &Batch) {
        self.accounts.extend_from_slice(&batch.accounts);
        let known = self.contacts.len() as u32;
        self.contacts.append(&batch.contacts);
        if let Some((text, ends)) = &mut self.contact_names {
            for id in known..self.contacts.len() as u32 {
                text.push_str(self.contacts.name_in(id, &mut [0; 16]));
                ends.push(text.len());
            }
        }
        for &(account, account_month) in &batch.cells {
            self.cell_accounts.push(account);
            self.cell_account_months.push(account_month);
        }
        self.account_months = batch.account_months;
    }
}

impl Names for Known {
    fn account(&self, ev: &Event) -> &str {
        &self.accounts[self.cell_accounts[ev.cell as usize] as usize]
    }
    fn account_id(&self, ev: &Event) -> u32 {
        self.cell_accounts[ev.cell as usize]
    }
    fn contact_number(&self, ev: &Event) -> Option<u64> {
        self.contacts.number(ev.contact)
    }
    fn prefetch(&self, ev: &Event) {
        if let Some(a) = self.cell_accounts.get(ev.cell as usize) {
            crate::prefetch::prefetch(a);
        }
        self.contacts.prefetch_number(ev.contact);
    }
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str {
        match &self.contact_names {
            Some((text, ends)) => {
                let id = ev.contact as usize;
                let start = if id == 0 { 0 } else { ends[id - 1] };
                &text[start..ends[id]]
            }
            None => self.contacts.name_in(ev.contact, buf),
        }
    }
}

/// One billing thread: the engine groups of `share`, fed batches in input order. The last
/// instant of a batch may go on in the next one, so its events wait for it.
fn bill_batches<'m>(
    models: &'m [Model],
    share: &[Vec<usize>],
    opts: &BillingOptions,
    sinks: &[Sink<'m>],
    batches: Receiver<Arc<Batch>>,
    spare: &Recycle<Event>,
) -> Vec<(usize, Biller<'m>)> {
    let empty = Log::new(String::new(), Vec::new());
    let mut replayer = Replayer::new(models, share, &empty, opts, sinks);
    let mut known = Known::default();
    // Only for this thread's models (`share`): the other thread's sinks name their own.
    let names_every_line =
        |&m: &usize| (sinks.get(m)).is_some_and(|s| s.lock().is_ok_and(|s| s.names_every_line()));
    if share.iter().flatten().any(names_every_line) {
        known.contact_names = Some(Default::default());
    }
    let mut waiting: Vec<Event> = Vec::new();
    let mut waiting_first = 0;
    for batch in batches {
        known.add(&batch);
        replayer.fit(
            &known.cell_accounts,
            &known.cell_account_months,
            known.account_months,
        );
        replayer.fit_engines(&known.cell_accounts, &known.accounts);
        replayer.fit_business_numbers(&batch.stream_business_numbers);
        let (mut events, mut first) = (&batch.events[..], batch.first);
        if let Some(at) = waiting.first().map(|e| e.at) {
            let same = events.iter().take_while(|e| e.at == at).count();
            waiting.extend_from_slice(&events[..same]);
            (events, first) = (&events[same..], first + same as u32);
            if events.is_empty() {
                continue;
            }
            replayer.bill_runs(waiting_first, &waiting, &known);
            waiting.clear();
        }
        let Some(last) = events.last().map(|e| e.at) else {
            continue;
        };
        let whole = events.len() - events.iter().rev().take_while(|e| e.at == last).count();
        replayer.bill_runs(first, &events[..whole], &known);
        waiting.extend_from_slice(&events[whole..]);
        waiting_first = first + whole as u32;
        if let Some(done) = Arc::into_inner(batch) {
            spare.give(done.events);
        }
    }
    replayer.bill_runs(waiting_first, &waiting, &known);
    replayer.into_billers().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rates::{RateSet, RateSource};

    /// The fixtures' `legacy` model (an allowance of 2 a month) and plain billing options.
    fn legacy_model() -> (Vec<Model>, BillingOptions) {
        let models = RateSet::load(&RateSource::Dir("tests/fixtures/rates".into()))
            .unwrap()
            .select(&["legacy".into()])
            .unwrap();
        let opts = BillingOptions {
            accounts: Default::default(),
            keep_lines: false,
            as_of: None,
            list_prices: false,
            pool_runs: false,
        };
        (models, opts)
    }

    /// The pipeline's results leave out the volumes unless billed for break-even (only
    /// break-even reads them), all else as `bill_all` makes it: the fixture's one account has
    /// two months of three messages each, 0.0800 in all.
    #[test]
    fn the_pipeline_leaves_out_the_volumes_only() {
        let path = "tests/fixtures/viber_allowance_ties.csv";
        let read = ReadOptions {
            tz: chrono_tz::UTC,
            max_record_bytes: input::DEFAULT_MAX_RECORD_BYTES,
            threads: 1,
            ..ReadOptions::default()
        };
        let (models, opts) = legacy_model();
        let text = std::fs::read_to_string(path).unwrap();
        let log = input::read_from(path.into(), text.as_bytes(), &read).unwrap();
        let whole = billing::bill_all(&log, None, &models, &opts, 1);
        let months: Vec<u64> = whole[0].volumes.values().map(|v| v.messages).collect();
        assert_eq!(months, [3, 3]);
        let (_, got) = read_and_bill(path, &read, &models, &opts, 1)
            .unwrap()
            .unwrap();
        assert!(got[0].volumes.is_empty());
        assert_eq!(got[0].total().to_string(), "0.0800");
        assert_eq!(got[0].cells, whole[0].cells);
        assert_eq!(got[0].assumed_domestic, whole[0].assumed_domestic);
        // billed for break-even (`pool_runs`), the pipeline keeps them as `bill_all` does
        let opts = BillingOptions {
            pool_runs: true,
            ..opts
        };
        let (_, kept) = read_and_bill(path, &read, &models, &opts, 1)
            .unwrap()
            .unwrap();
        let months: Vec<u64> = kept[0].volumes.values().map(|v| v.messages).collect();
        assert_eq!(months, [3, 3]);
    }

    #[test]
    fn an_instant_cut_between_batches_is_billed_whole() {
        // tests/fixtures/viber_allowance_ties.csv: the allowance (2 a month) runs out among
        // the messages of one instant. Handed out in two batches cut at every place, even
        // inside an instant, the log must be billed as it is in one piece.
        let text = std::fs::read_to_string("tests/fixtures/viber_allowance_ties.csv").unwrap();
        let read = ReadOptions {
            tz: chrono_tz::UTC,
            map: Vec::new(),
            skip_invalid: false,
            threads: 1,
            max_record_bytes: input::DEFAULT_MAX_RECORD_BYTES,
            accounts: None,
            ..ReadOptions::default()
        };
        let log = input::read_from("t.csv".into(), text.as_bytes(), &read).unwrap();
        let (models, opts) = legacy_model();
        let whole = billing::bill_all(&log, None, &models, &opts, 1);
        assert_eq!(whole[0].total().to_string(), "0.0800");
        let share = [vec![0]];
        for cut in 0..=log.events.len() {
            let (tx, rx) = sync_channel(4);
            let tables = Batch {
                first: 0,
                events: log.events[..cut].to_vec(),
                cells: (log.cells.iter().zip(&log.cell_account_months))
                    .map(|(c, am)| (c.0, *am))
                    .collect(),
                account_months: log.account_months.len(),
                accounts: log.accounts.clone(),
                contacts: log.contacts.clone(),
                business_numbers: Vec::new(),
                stream_business_numbers: Vec::new(),
                in_time_order: true,
            };
            let rest = Batch {
                first: cut as u32,
                events: log.events[cut..].to_vec(),
                cells: Vec::new(),
                account_months: log.account_months.len(),
                accounts: Vec::new(),
                contacts: Contacts::default(),
                business_numbers: Vec::new(),
                stream_business_numbers: Vec::new(),
                in_time_order: true,
            };
            tx.send(Arc::new(tables)).unwrap();
            tx.send(Arc::new(rest)).unwrap();
            drop(tx);
            let billers = bill_batches(&models, &share, &opts, &[], rx, &Recycle::default());
            let got: Vec<ModelResult> = billers.into_iter().map(|(_, b)| b.finish(&log)).collect();
            assert_eq!(got[0].cells, whole[0].cells, "cut at {cut}");
            assert_eq!(got[0].total(), whole[0].total(), "cut at {cut}");
        }
    }

    /// A billing thread takes every part, in the order sent, whether it comes while the
    /// thread looks (a quick sender) or after it went to sleep (a slow one), and stops once
    /// the sender is gone, with or without looking first.
    #[test]
    fn a_billing_thread_takes_every_part_in_order_then_stops() {
        for looks in [0, 3, 300] {
            let (tx, rx) = sync_channel::<u32>(2);
            let sender = std::thread::spawn(move || {
                for part in 1..=40 {
                    if part % 10 == 0 {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    tx.send(part).unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(part) = next_part(&rx, looks) {
                got.push(part);
            }
            sender.join().unwrap();
            assert_eq!(got, (1..=40).collect::<Vec<_>>(), "{looks} looks");
            assert_eq!(next_part(&rx, looks), None, "{looks} looks: stopped");
        }
    }
}
