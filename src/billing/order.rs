//! The replay order: by instant, then at one instant by account and contact name, one
//! contact's messages in input order.

use crate::event::Event;
use crate::input::{cmp_number_names, number_name_key, Log};

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
            // Each instant read once, in input order, and sorted with its index: the pairs are
            // distinct, so an unstable sort gives the stable order, without a scattered read of
            // the events at every comparison.
            let mut keyed: Vec<(i64, u32)> = (ev.iter().enumerate())
                .map(|(i, e)| (e.at, i as u32))
                .collect();
            keyed.sort_unstable();
            order = keyed.into_iter().map(|(_, i)| i).collect();
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

/// Time buckets of `into_time_order`'s scattering pass at most: each thread writes to as many
/// places at once, few enough to stay in cache.
const COARSE_BUCKETS: usize = 4096;

/// Events per bucket at least before a bucket is cut finer; and per fine bucket, on average.
const FINE_EVENTS: usize = 32;

/// Puts the log's events themselves in time order, stably (one instant's events keep their
/// input order), and marks the log as in time order: then it is billed as a time-ordered log
/// is, each engine group's thread reading the events one after the other (`bill_runs`), with
/// no sorted index to follow at random. One scattering pass into time buckets (a counting
/// sort, each of `threads` threads taking a range of buckets), then each bucket, in cache,
/// the same again into finer buckets, each sorted.
pub fn into_time_order(log: &mut Log, threads: usize) {
    let ev = &log.events;
    if log.in_time_order || ev.windows(2).all(|w| w[0].at <= w[1].at) {
        log.in_time_order = true;
        return;
    }
    if ev.windows(2).all(|w| w[0].at >= w[1].at) {
        // Newest first (a common export): reversed in place, each instant's events then
        // back in input order; no second copy of the events.
        log.events.reverse();
        for instant in log.events.chunk_by_mut(|a, b| a.at == b.at) {
            instant.reverse();
        }
        log.in_time_order = true;
        return;
    }
    let (min, shift, buckets) = time_buckets(ev, COARSE_BUCKETS);
    let bucket = |e: &Event| ((e.at as i128 - min as i128) as u128 >> shift) as usize;
    let mut starts = vec![0usize; buckets + 1];
    for e in ev {
        starts[bucket(e) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut sorted = vec![ev[0]; ev.len()];
    // Each thread its range of buckets, cut where about an equal share of events begins.
    let threads = threads.clamp(1, 8);
    let mut cuts = vec![0usize];
    for t in 1..threads {
        let want = ev.len() * t / threads;
        let cut = starts.partition_point(|&s| s < want);
        cuts.push(cut.max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(buckets);
    std::thread::scope(|s| {
        let mut rest: &mut [Event] = &mut sorted;
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let (part, tail) = rest.split_at_mut(starts[to] - starts[from]);
            rest = tail;
            let starts = &starts;
            s.spawn(move || scatter_and_sort(ev, part, &starts[from..=to], from, bucket));
        }
    });
    log.events = sorted;
    log.in_time_order = true;
}

/// Buckets of equal time spans for `events` (not empty), no more than `most`: the first
/// instant, the span's power of two (in microseconds) and how many buckets there are.
fn time_buckets(events: &[Event], most: usize) -> (i64, u32, usize) {
    let (min, max) = (events.iter()).fold((i64::MAX, i64::MIN), |(lo, hi), e| {
        (lo.min(e.at), hi.max(e.at))
    });
    let span = (max as i128 - min as i128) as u128;
    let shift = (0..127)
        .find(|s| span >> s < most.max(1) as u128)
        .unwrap_or(127);
    (min, shift, (span >> shift) as usize + 1)
}

/// One thread's part of `into_time_order`: the events of buckets `first..` (their starts in
/// `starts`, relative to the whole) scattered into `part` in input order, each bucket then
/// put in time order.
fn scatter_and_sort(
    events: &[Event],
    part: &mut [Event],
    starts: &[usize],
    first: usize,
    bucket: impl Fn(&Event) -> usize,
) {
    let base = starts[0];
    let mut next: Vec<usize> = (starts[..starts.len() - 1].iter())
        .map(|s| s - base)
        .collect();
    let end = first + next.len();
    for e in events {
        let b = bucket(e);
        if (first..end).contains(&b) {
            part[next[b - first]] = *e;
            next[b - first] += 1;
        }
    }
    let mut scratch = Vec::new();
    for w in starts.windows(2) {
        sort_bucket(&mut part[w[0] - base..w[1] - base], &mut scratch);
    }
}

/// Events of one bucket, in input order, put in time order stably: scattered into finer
/// buckets (in cache), each sorted.
fn sort_bucket(events: &mut [Event], scratch: &mut Vec<Event>) {
    if events.len() <= FINE_EVENTS {
        events.sort_by_key(|e| e.at);
        return;
    }
    let (min, shift, buckets) = time_buckets(events, events.len() / FINE_EVENTS);
    let bucket = |e: &Event| ((e.at as i128 - min as i128) as u128 >> shift) as usize;
    let mut starts = vec![0usize; buckets + 1];
    for e in events.iter() {
        starts[bucket(e) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    scratch.clear();
    scratch.resize(events.len(), events[0]);
    let mut next = starts.clone();
    for e in events.iter() {
        let b = bucket(e);
        scratch[next[b]] = *e;
        next[b] += 1;
    }
    for w in starts.windows(2) {
        scratch[w[0]..w[1]].sort_by_key(|e| e.at);
    }
    events.copy_from_slice(scratch);
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

/// What putting one instant's events in the replay order needs: names, not ids (which are
/// given in order of appearance while a log is being read).
pub trait Names {
    fn account(&self, ev: &Event) -> &str;
    /// The event's account id: one name per id.
    fn account_id(&self, ev: &Event) -> u32;
    /// The contact's number, None for a contact that is not one (`Contacts::number`).
    fn contact_number(&self, ev: &Event) -> Option<u64>;
    /// The contact's name, made in `buf` if need be.
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str;
    /// Asks for what naming `ev`'s account and contact reads, some events before (a hint).
    fn prefetch(&self, _ev: &Event) {}
}

/// Events of one instant in the replay order: by account name, then contact name.
pub(super) fn by_names(names: &dyn Names, a: &Event, b: &Event) -> std::cmp::Ordering {
    if a.stream == b.stream {
        return std::cmp::Ordering::Equal;
    }
    let accounts = if names.account_id(a) == names.account_id(b) {
        std::cmp::Ordering::Equal
    } else {
        names.account(a).cmp(names.account(b))
    };
    accounts.then_with(
        || match (names.contact_number(a), names.contact_number(b)) {
            // Most contacts are numbers: compared without making their names.
            (Some(x), Some(y)) => cmp_number_names(x, y),
            _ => {
                let (mut x, mut y) = ([0; 16], [0; 16]);
                names.contact(a, &mut x).cmp(names.contact(b, &mut y))
            }
        },
    )
}

impl Names for Log {
    fn account(&self, ev: &Event) -> &str {
        self.account_name(self.account_of(ev))
    }
    fn account_id(&self, ev: &Event) -> u32 {
        self.account_of(ev)
    }
    fn contact_number(&self, ev: &Event) -> Option<u64> {
        self.contacts.number(ev.contact)
    }
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str {
        self.contacts.name_in(ev.contact, buf)
    }
}

/// The replay order of `run`, events of one instant in input order, into `order`: by account
/// and contact name, one contact's events in input order (a stable sort), as `replay_order`
/// gives. Most instants are already in it: then nothing is sorted.
pub(super) fn instant_order(run: &[Event], names: &dyn Names, order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..run.len());
    if run.len() < 2 || by_number_keys(run, names, order) {
        return;
    }
    let cmp = |a: &Event, b: &Event| by_names(names, a, b);
    if run.windows(2).all(|w| cmp(&w[0], &w[1]).is_le()) {
        return;
    }
    order.sort_by(|&a, &b| cmp(&run[a], &run[b]));
}

thread_local! {
    /// `by_number_keys`'s keys, kept between instants.
    static KEYS: std::cell::RefCell<Vec<(u64, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The common instant (one account, every contact a number) put in the replay order by a key
/// per event, made once: its number's name order (`number_name_key`), then its input order.
/// Equal numbers are the same contact, so the same stream. False (nothing done) otherwise.
fn by_number_keys(run: &[Event], names: &dyn Names, order: &mut [usize]) -> bool {
    KEYS.with_borrow_mut(|keys| {
        keys.clear();
        let account = names.account_id(&run[0]);
        for (i, ev) in run.iter().enumerate() {
            match names.contact_number(ev) {
                Some(n) if names.account_id(ev) == account => {
                    keys.push((number_name_key(n), i as u32))
                }
                _ => return false,
            }
        }
        if keys.windows(2).any(|w| w[0] > w[1]) {
            keys.sort_unstable();
            for (o, &(_, i)) in order.iter_mut().zip(keys.iter()) {
                *o = i as usize;
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    /// A script's names, as a log gives them.
    impl Names for Script {
        fn account(&self, ev: &Event) -> &str {
            &self.accounts()[self.streams()[ev.stream as usize].0 as usize]
        }
        fn account_id(&self, ev: &Event) -> u32 {
            self.streams()[ev.stream as usize].0
        }
        fn contact_number(&self, _: &Event) -> Option<u64> {
            None
        }
        fn contact<'a>(&'a self, ev: &Event, _: &'a mut [u8; 16]) -> &'a str {
            &self.contacts()[ev.contact as usize]
        }
    }

    /// Contacts that are numbers, in accounts by stream: (account, number) per stream.
    struct Numbers(Vec<(u32, u64)>);

    impl Names for Numbers {
        fn account(&self, ev: &Event) -> &str {
            ["a", "b"][self.0[ev.stream as usize].0 as usize]
        }
        fn account_id(&self, ev: &Event) -> u32 {
            self.0[ev.stream as usize].0
        }
        fn contact_number(&self, ev: &Event) -> Option<u64> {
            Some(self.0[ev.stream as usize].1)
        }
        fn contact<'a>(&'a self, _: &Event, _: &'a mut [u8; 16]) -> &'a str {
            unreachable!("numbers are ordered by their digits")
        }
    }

    /// One account's numbers by their names as text (+49 < +4912 < +491234 < +5), one
    /// number's two messages in input order; with a second account, by account first.
    #[test]
    fn an_instant_of_numbers_is_ordered_by_their_names() {
        let names = Numbers(vec![
            (0, 5),
            (0, 491234),
            (0, 49),
            (0, 4912),
            (1, 1),
            (0, 48),
        ]);
        let event = |stream: u32| Event {
            stream,
            contact: stream,
            ..Script::new()
                .at("2026-03-02 08:00")
                .contact("x")
                .inbound()
                .events()[0]
        };
        let run: Vec<Event> = [0, 1, 2, 1, 3].map(event).to_vec();
        let mut order = Vec::new();
        instant_order(&run, &names, &mut order);
        // +49 (2), +4912 (4), +491234 (1 then 3, input order), +5 (0).
        assert_eq!(order, [2, 4, 1, 3, 0]);
        // Account b's +1 after every number of account a; a's +48 first.
        let run: Vec<Event> = [4, 0, 5].map(event).to_vec();
        instant_order(&run, &names, &mut order);
        assert_eq!(order, [2, 1, 0]);
    }

    #[test]
    fn an_instant_is_replayed_by_account_then_contact_then_input_order() {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .account("b")
            .contact("carol")
            .outbound("template")
            .account("a")
            .contact("dave")
            .outbound("template")
            .account("b")
            .contact("carol")
            .inbound()
            .account("a")
            .contact("alice")
            .outbound("template");
        let mut order = Vec::new();
        instant_order(s.events(), &s, &mut order);
        // a/alice (3), a/dave (1), then b/carol's two messages in input order (0, 2).
        assert_eq!(order, [3, 1, 0, 2]);
    }

    /// A log of `n` events whose instants come from `at(i)`, lines numbering the input order.
    fn log_of(n: u32, at: impl Fn(u32) -> i64) -> Log {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .contact("alice")
            .inbound();
        let template = s.events()[0];
        let mut log = Log::new("t.csv".into(), Vec::new());
        log.events = (0..n)
            .map(|i| Event {
                at: at(i),
                line: i + 2,
                ..template
            })
            .collect();
        log.in_time_order = false;
        log
    }

    #[test]
    fn events_are_put_in_time_order_stably_whatever_the_threads() {
        // Instants shuffled (a multiplicative hash), newest first (with and without ties),
        // many ties and a wide span: buckets coarse and fine, one instant's events kept in
        // input order (by line), the same whatever the number of threads.
        let shapes: [&dyn Fn(u32) -> i64; 5] = [
            &|i| ((i as u64 * 2_654_435_761) % 10_007) as i64 * 1_000_000,
            &|i| 1_000_000_000_000 - i as i64 * 7,
            &|i| 1_000_000_000_000 - (i as i64 / 3) * 1_000_000,
            &|i| {
                if i % 3 == 0 {
                    5
                } else {
                    ((i as i64 * 7919) % 1000) << 40
                }
            },
            &|i| -(((i as i64 * 104_729) % 50_000) * 1_000),
        ];
        for (k, at) in shapes.iter().enumerate() {
            let mut want = log_of(200_000, at).events;
            want.sort_by_key(|e| e.at);
            let want: Vec<(i64, u32)> = want.iter().map(|e| (e.at, e.line)).collect();
            for threads in [1, 2, 3] {
                let mut log = log_of(200_000, at);
                into_time_order(&mut log, threads);
                assert!(log.in_time_order);
                let got: Vec<(i64, u32)> = log.events.iter().map(|e| (e.at, e.line)).collect();
                assert!(got == want, "shape {k}, {threads} threads");
            }
        }
    }

    #[test]
    fn an_instant_in_order_is_left_as_it_is() {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .account("a")
            .contact("bob")
            .inbound()
            .contact("alice")
            .account("b")
            .inbound();
        let mut order = vec![7];
        instant_order(s.events(), &s, &mut order);
        assert_eq!(order, [0, 1]);
    }
}
