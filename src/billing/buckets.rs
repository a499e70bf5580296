//! A log out of time order put in time order as it is read: each block's events, while in
//! cache, appended to coarse time buckets (about an hour each), which grow either way as
//! instants come; once the log is read, each bucket is gathered and sorted in cache, one after
//! the other, while the billing threads bill the buckets before it. No second full copy of the
//! events (as `into_time_order` needs) and the sorting overlaps the billing.

use crate::event::Event;

/// A bucket's span: instants (microseconds) shifted right by this much, about 72 minutes,
/// widened (`coarsen`) when the log spans more than `MOST_BUCKETS` of them.
const FIRST_SHIFT: u32 = 32;

/// Buckets at most (64K: about 9 years of 72-minute buckets, 3 MB of bucket heads).
const MOST_BUCKETS: usize = 1 << 16;

/// A bucket's first chunk, in events; each next one twice as large up to `LARGEST_CHUNK`:
/// few allocations for a full bucket, little room unused in a nearly empty one.
const FIRST_CHUNK: usize = 256;
const LARGEST_CHUNK: usize = 4096;

/// Events per fine bucket at most on average when a bucket is sorted (`sort_chunks`): as
/// many fine buckets as events, so that with instants to the second (most logs) each holds
/// one instant, and nothing is left to sort.
const FINE_EVENTS: usize = 1;

/// One time bucket: chunks filled in input order, the last one being filled.
#[derive(Default)]
struct Bucket {
    full: Vec<Vec<Event>>,
    tail: Vec<Event>,
}

impl Bucket {
    #[inline(always)]
    fn push(&mut self, e: Event) {
        if self.tail.len() == self.tail.capacity() {
            self.new_tail();
        }
        self.tail.push(e);
    }

    #[inline(never)]
    fn new_tail(&mut self) {
        let size = (self.tail.capacity() * 2).clamp(FIRST_CHUNK, LARGEST_CHUNK);
        let full = std::mem::replace(&mut self.tail, Vec::with_capacity(size));
        if !full.is_empty() {
            self.full.push(full);
        }
    }

    fn is_empty(&self) -> bool {
        self.tail.is_empty() && self.full.is_empty()
    }

    fn chunks(&self) -> impl Iterator<Item = &[Event]> + Clone {
        (self.full.iter().map(|c| &c[..])).chain(std::iter::once(&self.tail[..]))
    }

    /// `other`'s chunks after this one's. The two share no instant, so every instant's events
    /// stay in input order (the sort of `drain_sorted` is stable).
    fn append(&mut self, mut other: Bucket) {
        if other.is_empty() {
            return;
        }
        if !self.tail.is_empty() {
            self.full.push(std::mem::take(&mut self.tail));
        }
        self.full.append(&mut other.full);
        self.tail = other.tail;
    }
}

/// Events in time buckets, each in input order: bucket `k` holds the instants `at` with
/// `at >> shift == lo + k`.
pub struct TimeBuckets {
    shift: u32,
    lo: i64,
    buckets: Vec<Bucket>,
    len: usize,
    /// While no event is later than the one before (a log newest first, a common export):
    /// the event lists as they came, not bucketed, to be read back to front (`drain_sorted`).
    newest_first: Option<Vec<Vec<Event>>>,
}

impl Default for TimeBuckets {
    fn default() -> Self {
        TimeBuckets {
            shift: FIRST_SHIFT,
            lo: 0,
            buckets: Vec::new(),
            len: 0,
            newest_first: Some(Vec::new()),
        }
    }
}

impl TimeBuckets {
    /// How many events there are.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps `events`, the next ones in input order: the list itself while the log is newest
    /// first, else in their buckets, the list given back to be used again.
    pub fn add(&mut self, events: Vec<Event>) -> Option<Vec<Event>> {
        self.len += events.len();
        if let Some(lists) = &mut self.newest_first {
            let last = lists.iter().rev().find_map(|l| l.last()).map(|e| e.at);
            let first = events.first().map_or(i64::MIN, |e| e.at);
            if last.is_none_or(|at| first <= at) && events.is_sorted_by(|a, b| a.at >= b.at) {
                lists.push(events);
                return None;
            }
            // Not newest first after all: what was kept goes into the buckets.
            for list in self.newest_first.take().unwrap_or_default() {
                self.bucket(&list);
            }
        }
        self.bucket(&events);
        Some(events)
    }

    /// Appends `events` to their buckets.
    fn bucket(&mut self, events: &[Event]) {
        for e in events {
            let mut k = (e.at >> self.shift).wrapping_sub(self.lo) as u64;
            if k >= self.buckets.len() as u64 {
                self.make_room(e.at);
                k = ((e.at >> self.shift) - self.lo) as u64;
            }
            self.buckets[k as usize].push(*e);
        }
    }

    /// Buckets for instant `at` too: more of them at the end it lies beyond (half as many
    /// again, so that a log going back in time moves them seldom), wider ones if the span
    /// would be more than `MOST_BUCKETS`.
    #[inline(never)]
    fn make_room(&mut self, at: i64) {
        if self.buckets.is_empty() {
            self.lo = at >> self.shift;
            self.buckets.push(Bucket::default());
            return;
        }
        let most = MOST_BUCKETS as i64;
        loop {
            let key = at >> self.shift;
            let hi = self.lo + self.buckets.len() as i64 - 1;
            let (need_lo, need_hi) = (self.lo.min(key), hi.max(key));
            if need_hi - need_lo >= most {
                self.coarsen();
                continue;
            }
            let slack = (self.buckets.len() / 2) as i64;
            let (new_lo, new_hi) = if key < self.lo {
                ((need_lo - slack).max(need_hi - most + 1), hi)
            } else {
                (self.lo, (need_hi + slack).min(need_lo + most - 1))
            };
            let mut buckets = Vec::with_capacity((new_hi - new_lo + 1) as usize);
            buckets.resize_with((self.lo - new_lo) as usize, Bucket::default);
            buckets.append(&mut self.buckets);
            buckets.resize_with((new_hi - new_lo + 1) as usize, Bucket::default);
            self.buckets = buckets;
            self.lo = new_lo;
            return;
        }
    }

    /// Buckets twice as wide: each pair merged, the earlier's chunks first.
    fn coarsen(&mut self) {
        self.shift += 1;
        let old_lo = self.lo;
        self.lo = old_lo >> 1;
        let mut merged: Vec<Bucket> = Vec::new();
        for (k, b) in std::mem::take(&mut self.buckets).into_iter().enumerate() {
            let key = ((old_lo + k as i64) >> 1) - self.lo;
            if key as usize == merged.len() {
                merged.push(b);
            } else {
                merged[key as usize].append(b);
            }
        }
        self.buckets = merged;
    }

    /// The events in time order, stably (one instant's events in input order), as parts of
    /// whole instants of about `part` events at least: each part is handed to `bill` with
    /// the index of its first event, in order, its buffer made by `take` (with room for
    /// `part` events).
    pub fn drain_sorted(
        self,
        part: usize,
        take: &mut dyn FnMut(usize) -> Vec<Event>,
        bill: &mut dyn FnMut(u32, Vec<Event>),
    ) {
        if let Some(lists) = self.newest_first {
            return drain_newest_first(lists, part, take, bill);
        }
        let mut first = 0u32;
        let mut out = take(part);
        let mut scratch = Vec::new();
        for bucket in self.buckets {
            if bucket.is_empty() {
                continue;
            }
            sort_chunks(bucket.chunks(), &mut out, &mut scratch);
            drop(bucket);
            if out.len() >= part {
                let n = out.len() as u32;
                bill(first, std::mem::replace(&mut out, take(part)));
                first += n;
            }
        }
        if !out.is_empty() {
            bill(first, out);
        }
    }
}

/// `TimeBuckets::drain_sorted` of a log newest first: its event lists back to front, each
/// back to front, then each instant's events turned back into input order. A part is cut
/// before its last instant, which may go on in the next list.
fn drain_newest_first(
    lists: Vec<Vec<Event>>,
    part: usize,
    take: &mut dyn FnMut(usize) -> Vec<Event>,
    bill: &mut dyn FnMut(u32, Vec<Event>),
) {
    let in_input_order = |events: &mut [Event]| {
        for instant in events.chunk_by_mut(|a, b| a.at == b.at) {
            instant.reverse();
        }
    };
    let mut first = 0u32;
    let mut out = take(part);
    for list in lists.into_iter().rev() {
        out.extend(list.iter().rev());
        drop(list);
        let Some(last) = out.last().map(|e| e.at) else {
            continue;
        };
        let whole = out.len() - out.iter().rev().take_while(|e| e.at == last).count();
        if out.len() >= part && whole > 0 {
            let mut rest = take(part);
            rest.extend_from_slice(&out[whole..]);
            out.truncate(whole);
            in_input_order(&mut out);
            bill(first, std::mem::replace(&mut out, rest));
            first += whole as u32;
        }
    }
    if !out.is_empty() {
        in_input_order(&mut out);
        bill(first, out);
    }
}

/// Appends the events of `chunks` (in input order) to `out` in time order, stably: counted
/// into fine buckets of equal time spans, scattered there, each fine bucket then sorted if
/// it is not in order already (all in cache for a bucket of some thousands of events).
fn sort_chunks<'e>(
    chunks: impl Iterator<Item = &'e [Event]> + Clone,
    out: &mut Vec<Event>,
    starts: &mut Vec<usize>,
) {
    let (mut min, mut max, mut n) = (i64::MAX, i64::MIN, 0usize);
    for c in chunks.clone() {
        n += c.len();
        for e in c {
            (min, max) = (min.min(e.at), max.max(e.at));
        }
    }
    if n == 0 {
        return;
    }
    // An instant's distance from `min`: exact in a u64 for any two i64 (`at >= min`).
    let span = max.wrapping_sub(min) as u64;
    let most = (n / FINE_EVENTS).max(1) as u64;
    let shift = (0..64).find(|s| span >> s < most).unwrap_or(63);
    let fine = |e: &Event| (e.at.wrapping_sub(min) as u64 >> shift) as usize;
    starts.clear();
    starts.resize((span >> shift) as usize + 2, 0);
    for c in chunks.clone() {
        for e in c {
            starts[fine(e) + 1] += 1;
        }
    }
    let base = out.len();
    starts[0] = base;
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let Some(&template) = chunks.clone().flatten().next() else {
        return;
    };
    out.resize(base + n, template);
    for c in chunks {
        for e in c {
            let at = &mut starts[fine(e)];
            out[*at] = *e;
            *at += 1;
        }
    }
    // `starts[b]` is now where fine bucket `b` ends.
    let mut from = base;
    for &to in &starts[..starts.len() - 1] {
        let fine = &mut out[from..to];
        if fine.len() > 1 && !fine.is_sorted_by_key(|e| e.at) {
            fine.sort_by_key(|e| e.at);
        }
        from = to;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    /// `n` events whose instants come from `at(i)`, lines numbering the input order.
    fn events(n: u32, at: impl Fn(u32) -> i64) -> Vec<Event> {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .contact("alice")
            .inbound();
        let template = s.events()[0];
        (0..n)
            .map(|i| Event {
                at: at(i),
                line: i + 2,
                ..template
            })
            .collect()
    }

    #[test]
    fn kept_events_come_out_in_time_order_stably_in_parts_of_whole_instants() {
        const HOUR: i64 = 3_600_000_000;
        // Shuffled over a month (with ties), newest first over a week (ties cut between
        // lists), a month of instants starting in its middle then going back, a span of
        // centuries (buckets widened), negative and extreme instants, one instant only
        // (newest first as well as in order), newest first until its last event.
        let shapes: [&dyn Fn(u32) -> i64; 7] = [
            &|i| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000),
            &|i| 1_800_000_000_000_000 - (i as i64 / 3) * 1_000_000,
            &|i| 1_800_000_000_000_000 + ((i as i64 * 7919) % 1000 - 500) * HOUR,
            &|i| ((i as i64 * 104_729) % 5_000) * (876_000 / 5_000) * HOUR,
            &|i| match i % 4 {
                0 => i64::MIN + i as i64,
                1 => i64::MAX - i as i64,
                2 => -(i as i64) * 1_000_003,
                _ => 5,
            },
            &|_| 42,
            &|i| {
                if i < 59_999 {
                    1_000_000 - i as i64 / 3
                } else {
                    999_999
                }
            },
        ];
        for (k, at) in shapes.iter().enumerate() {
            let input = events(60_000, at);
            let mut want: Vec<(i64, u32)> = input.iter().map(|e| (e.at, e.line)).collect();
            want.sort_by_key(|e| e.0);
            let mut kept = TimeBuckets::default();
            for block in input.chunks(7_000) {
                kept.add(block.to_vec());
            }
            assert_eq!(kept.len(), input.len());
            let mut got: Vec<(i64, u32)> = Vec::new();
            kept.drain_sorted(1_000, &mut Vec::with_capacity, &mut |first, part| {
                assert_eq!(first as usize, got.len(), "shape {k}: parts follow on");
                if let (Some(last), Some(next)) = (got.last(), part.first()) {
                    assert!(last.0 < next.at, "shape {k}: an instant cut between parts");
                }
                got.extend(part.iter().map(|e| (e.at, e.line)));
            });
            assert!(got == want, "shape {k}");
        }
    }
}
