//! A log out of time order put in time order as it is read: each block's events, while in
//! cache, appended to coarse time buckets (about an hour each), which grow either way as
//! instants come; once the log is read, each bucket is gathered and sorted in cache, one after
//! the other, while the billing threads bill the buckets before it. No second full copy of the
//! events (as `into_time_order` needs) and the sorting overlaps the billing. An event is kept
//! in 16 bytes where nothing shows its line (`kept::Compact`), in 24 where a sink does
//! (`kept::Narrow`), else as it is.

mod kept;

use super::Names;
use crate::event::Event;
use kept::{Compact, Form, Narrow, Wide, UNKNOWN_CONTACT};

/// A bucket's span: instants (microseconds) shifted right by this much, about 72 minutes (as
/// a narrow slot holds them), widened (`coarsen`) when the log spans more than `MOST_BUCKETS`
/// of them.
const FIRST_SHIFT: u32 = kept::NARROW_SHIFT;

/// Buckets at most (64K: about 9 years of 72-minute buckets, 4 MB of bucket heads).
const MOST_BUCKETS: usize = 1 << 16;

/// A bucket's first chunk, in events; each next one twice as large up to `LARGEST_CHUNK`:
/// few allocations for a full bucket, little room unused in a nearly empty one.
const FIRST_CHUNK: usize = 256;
const LARGEST_CHUNK: usize = 4096;

/// Events per fine bucket at most on average when a bucket is sorted (`sort_chunks`): as
/// many fine buckets as events, so that with instants to the second (most logs) each holds
/// one instant, and nothing is left to sort.
const FINE_EVENTS: usize = 1;

/// One time bucket: chunks filled in input order, the last one being filled; the UTC day of
/// its first instant (for narrow slots).
struct Bucket<S> {
    full: Vec<Vec<S>>,
    tail: Vec<S>,
    day: i32,
}

impl<S> Bucket<S> {
    fn new(day: i32) -> Self {
        Bucket {
            full: Vec::new(),
            tail: Vec::new(),
            day,
        }
    }

    #[inline(always)]
    fn push(&mut self, s: S) {
        if self.tail.len() == self.tail.capacity() {
            self.new_tail();
        }
        self.tail.push(s);
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

    fn chunks(&self) -> impl Iterator<Item = &[S]> + Clone {
        (self.full.iter().map(|c| &c[..])).chain(std::iter::once(&self.tail[..]))
    }

    /// `other`'s chunks after this one's. The two share no instant, so every instant's events
    /// stay in input order (the sort of `drain_sorted` is stable).
    fn append(&mut self, mut other: Bucket<S>) {
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

/// Events in time buckets of one form, each in input order: bucket `k` holds the instants
/// `at` with `at >> shift == lo + k`.
struct Buckets<F: Form> {
    shift: u32,
    lo: i64,
    buckets: Vec<Bucket<F::Slot>>,
}

impl<F: Form> Default for Buckets<F> {
    fn default() -> Self {
        Buckets {
            shift: FIRST_SHIFT,
            lo: 0,
            buckets: Vec::new(),
        }
    }
}

/// The kept events, compact or narrow while they all fit (`kept::Compact`, `kept::Narrow`),
/// else wide.
enum Kept {
    Compact(Buckets<Compact>),
    Narrow(Buckets<Narrow>),
    Wide(Buckets<Wide>),
}

/// Events kept in time buckets as a log out of time order is read, to be handed out in time
/// order once it is read (`drain_sorted`).
pub struct TimeBuckets {
    kept: Kept,
    len: usize,
    /// Each stream's contact, for compact slots, which do not hold it.
    contacts: Vec<u32>,
    /// While no event is later than the one before (a log newest first, a common export):
    /// the event lists as they came, not bucketed, to be read back to front (`drain_sorted`).
    newest_first: Option<Vec<Vec<Event>>>,
}

impl TimeBuckets {
    /// No events yet; `lines`: whether the events' lines are kept (a sink shows them), else
    /// they are handed out with line 0, and kept compact.
    pub fn new(lines: bool) -> Self {
        TimeBuckets {
            kept: match lines {
                true => Kept::Narrow(Buckets::default()),
                false => Kept::Compact(Buckets::default()),
            },
            len: 0,
            contacts: Vec::new(),
            newest_first: Some(Vec::new()),
        }
    }

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

    /// Appends `events` to their buckets, all of them made wide from the first event a
    /// compact or narrow slot cannot hold (a day far from its instant, a log spanning more
    /// than 9 years).
    fn bucket(&mut self, events: &[Event]) {
        let contacts = &mut self.contacts;
        let kept = match &mut self.kept {
            Kept::Compact(b) => b.bucket(events, contacts),
            Kept::Narrow(b) => b.bucket(events, contacts),
            Kept::Wide(b) => b.bucket(events, contacts),
        };
        if kept == events.len() {
            return;
        }
        let wide = match std::mem::replace(&mut self.kept, Kept::Wide(Buckets::default())) {
            Kept::Compact(b) => widen(b, contacts),
            Kept::Narrow(b) => widen(b, contacts),
            Kept::Wide(_) => unreachable!("a wide slot holds any event"),
        };
        self.kept = Kept::Wide(wide);
        self.bucket(&events[kept..]);
    }

    /// Each stream's contact, for the events that come back without theirs (compact ones,
    /// `UNKNOWN_CONTACT`), as they are kept: taken before `drain_sorted`.
    pub fn stream_contacts(&mut self) -> StreamContacts {
        StreamContacts(std::mem::take(&mut self.contacts))
    }

    /// Whether every event is kept in 16 or 24 bytes, not as it is, for tests.
    #[cfg(test)]
    fn is_narrow(&self) -> bool {
        !matches!(self.kept, Kept::Wide(_))
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
        match self.kept {
            Kept::Compact(b) => b.drain_sorted(part, take, bill),
            Kept::Narrow(b) => b.drain_sorted(part, take, bill),
            Kept::Wide(b) => b.drain_sorted(part, take, bill),
        }
    }
}

/// Each stream's contact, for the events drained from compact slots (`UNKNOWN_CONTACT`).
pub struct StreamContacts(Vec<u32>);

impl StreamContacts {
    /// `ev` with its contact.
    fn named(&self, ev: &Event) -> Event {
        match ev.contact {
            UNKNOWN_CONTACT => Event {
                contact: self.0[ev.stream as usize],
                ..*ev
            },
            _ => *ev,
        }
    }
}

/// `names` for kept events: a contact named by its stream's where the event does not hold it
/// (only here are contacts named: the replay order of an instant where a pool may run out,
/// so nothing is looked up per event).
pub struct WithContacts<'a, N: Names> {
    pub names: &'a N,
    pub contacts: &'a StreamContacts,
}

impl<N: Names> Names for WithContacts<'_, N> {
    fn account(&self, ev: &Event) -> &str {
        self.names.account(ev)
    }
    fn account_id(&self, ev: &Event) -> u32 {
        self.names.account_id(ev)
    }
    fn contact_number(&self, ev: &Event) -> Option<u64> {
        self.names.contact_number(&self.contacts.named(ev))
    }
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str {
        self.names.contact(&self.contacts.named(ev), buf)
    }
    fn prefetch(&self, ev: &Event) {
        self.names.prefetch(&self.contacts.named(ev))
    }
}

/// `narrow`'s events, bucket after bucket, each in input order, in wide buckets: every
/// instant's events stay in input order.
#[inline(never)]
fn widen<F: Form>(narrow: Buckets<F>, contacts: &mut Vec<u32>) -> Buckets<Wide> {
    let mut wide = Buckets::<Wide>::default();
    let mut events = Vec::new();
    for (k, bucket) in narrow.buckets.iter().enumerate() {
        let base = narrow.base(k);
        for c in bucket.chunks() {
            events.clear();
            events.extend(c.iter().map(|s| {
                let mut e = F::unpack(s, base, bucket.day);
                if !F::KEEPS_CONTACT {
                    e.contact = contacts[e.stream as usize];
                }
                e
            }));
            wide.bucket(&events, contacts);
        }
    }
    wide
}

impl<F: Form> Buckets<F> {
    /// The first instant of bucket `k`.
    fn base(&self, k: usize) -> i64 {
        (self.lo + k as i64) << self.shift
    }

    /// Appends the first events of `events` to their buckets, all unless this form cannot
    /// hold one: how many. `contacts`: each stream's contact, noted if this form needs it.
    fn bucket(&mut self, events: &[Event], contacts: &mut Vec<u32>) -> usize {
        for (i, e) in events.iter().enumerate() {
            let mut k = (e.at >> self.shift).wrapping_sub(self.lo) as u64;
            if k >= self.buckets.len() as u64 {
                if !self.make_room(e.at) {
                    return i;
                }
                k = ((e.at >> self.shift) - self.lo) as u64;
            }
            let bucket = &mut self.buckets[k as usize];
            let Some(s) = F::pack(e, bucket.day) else {
                return i;
            };
            if !F::KEEPS_CONTACT && !kept::note_contact(contacts, e) {
                return i;
            }
            bucket.push(s);
        }
        events.len()
    }

    /// Buckets for instant `at` too: more of them at the end it lies beyond (half as many
    /// again, so that a log going back in time moves them seldom), wider ones if the span
    /// would be more than `MOST_BUCKETS` - or false if this form's cannot be wider.
    #[inline(never)]
    fn make_room(&mut self, at: i64) -> bool {
        let most = MOST_BUCKETS as i64;
        loop {
            let key = at >> self.shift;
            if self.buckets.is_empty() {
                self.lo = key;
            }
            let hi = self.lo + self.buckets.len().max(1) as i64 - 1;
            let (need_lo, need_hi) = (self.lo.min(key), hi.max(key));
            if need_hi - need_lo >= most {
                if !F::COARSENS {
                    return false;
                }
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
            let new = |k: i64| Bucket::new(kept::utc_day(k << self.shift));
            buckets.extend((new_lo..self.lo).map(new));
            buckets.append(&mut self.buckets);
            buckets.extend((new_lo + buckets.len() as i64..=new_hi).map(new));
            self.buckets = buckets;
            self.lo = new_lo;
            return true;
        }
    }

    /// Buckets twice as wide: each pair merged, the earlier's chunks first.
    fn coarsen(&mut self) {
        self.shift += 1;
        let old_lo = self.lo;
        self.lo = old_lo >> 1;
        let mut merged: Vec<Bucket<F::Slot>> = Vec::new();
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

    /// `TimeBuckets::drain_sorted` of these buckets, each freed once sorted.
    fn drain_sorted(
        self,
        part: usize,
        take: &mut dyn FnMut(usize) -> Vec<Event>,
        bill: &mut dyn FnMut(u32, Vec<Event>),
    ) {
        let mut first = 0u32;
        let mut out = take(part);
        let mut scratch = Vec::new();
        for (k, bucket) in self.buckets.into_iter().enumerate() {
            if bucket.is_empty() {
                continue;
            }
            let base = (self.lo + k as i64) << self.shift;
            sort_chunks::<F>(&bucket, base, &mut out, &mut scratch);
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

/// Appends the events of `bucket` (starting at instant `base`) to `out` in time order,
/// stably: counted into fine buckets of equal time spans, scattered there, each fine bucket
/// then sorted if it is not in order already (all in cache for a bucket of some thousands
/// of events).
fn sort_chunks<F: Form>(
    bucket: &Bucket<F::Slot>,
    base: i64,
    out: &mut Vec<Event>,
    starts: &mut Vec<usize>,
) {
    let (mut min, mut max, mut n) = (i64::MAX, i64::MIN, 0usize);
    for c in bucket.chunks() {
        n += c.len();
        for s in c {
            let at = F::at(s, base);
            (min, max) = (min.min(at), max.max(at));
        }
    }
    let Some(template) = bucket.chunks().flatten().next() else {
        return;
    };
    // An instant's distance from `min`: exact in a u64 for any two i64 (`at >= min`).
    let span = max.wrapping_sub(min) as u64;
    let most = (n / FINE_EVENTS).max(1) as u64;
    let shift = (0..64).find(|s| span >> s < most).unwrap_or(63);
    let fine = |s: &F::Slot| (F::at(s, base).wrapping_sub(min) as u64 >> shift) as usize;
    starts.clear();
    starts.resize((span >> shift) as usize + 2, 0);
    for c in bucket.chunks() {
        for s in c {
            starts[fine(s) + 1] += 1;
        }
    }
    let first = out.len();
    starts[0] = first;
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    out.resize(first + n, F::unpack(template, base, bucket.day));
    for c in bucket.chunks() {
        for s in c {
            let at = &mut starts[fine(s)];
            out[*at] = F::unpack(s, base, bucket.day);
            *at += 1;
        }
    }
    // Nothing to sort in most logs (instants to the second): one look at all of them.
    if out[first..].is_sorted_by_key(|e| e.at) {
        return;
    }
    // `starts[b]` is now where fine bucket `b` ends.
    let mut from = first;
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
    use crate::event::{Country, Direction, Kind, MICROS_PER_HOUR as HOUR};

    /// `n` events whose instants come from `at(i)`, lines numbering the input order, each
    /// on a day up to a day from its instant's UTC day (as in a zone), the other fields
    /// varied with `i`, each stream always of the same contact (one account's), a contact
    /// of several streams (accounts).
    fn events(n: u32, at: impl Fn(u32) -> i64) -> Vec<Event> {
        let countries = [*b"DE", *b"AZ", *b"ZA"];
        let kinds = [Kind::FreeForm, Kind::Utility];
        (0..n)
            .map(|i| {
                let at = at(i);
                Event {
                    at,
                    day: (at.div_euclid(24 * HOUR) + i as i64 % 3 - 1) as i32,
                    line: i + 2,
                    contact: i % 999 * 7 % 500,
                    stream: i % 999,
                    cell: i % 17,
                    country: Country::from_bytes(&countries[i as usize % 3]).unwrap(),
                    direction: [Direction::Inbound, Direction::Outbound][i as usize % 2],
                    kind: kinds[i as usize / 2 % 2],
                }
            })
            .collect()
    }

    /// Every field of an event, to compare.
    fn fields(e: &Event) -> String {
        format!("{e:?}")
    }

    /// `input` kept in blocks of 7,000 (`lines`: with their lines), drained in parts of
    /// 1,000, checked against a stable sort by instant (without lines: each line 0 or the
    /// event's); whether it was kept in 16 or 24 bytes.
    fn kept_and_drained(k: usize, input: &[Event], lines: bool) -> bool {
        let mut want: Vec<Event> = input.to_vec();
        want.sort_by_key(|e| e.at);
        let mut kept = TimeBuckets::new(lines);
        for block in input.chunks(7_000) {
            kept.add(block.to_vec());
        }
        assert_eq!(kept.len(), input.len());
        let narrow = kept.is_narrow();
        let contacts = kept.stream_contacts();
        let mut got: Vec<Event> = Vec::new();
        kept.drain_sorted(1_000, &mut Vec::with_capacity, &mut |first, part| {
            assert_eq!(first as usize, got.len(), "shape {k}: parts follow on");
            if let (Some(last), Some(next)) = (got.last(), part.first()) {
                assert!(last.at < next.at, "shape {k}: an instant cut between parts");
            }
            got.extend_from_slice(&part);
        });
        assert_eq!(got.len(), want.len(), "shape {k}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            if lines {
                assert_eq!(fields(g), fields(w), "shape {k}, event {i}");
                continue;
            }
            assert!(g.line == 0 || g.line == w.line, "shape {k}, event {i}");
            // Compact slots give no contact: their stream's names it.
            assert!(
                g.contact != UNKNOWN_CONTACT || g.line == 0,
                "shape {k}, event {i}"
            );
            let g = &contacts.named(g);
            let w = Event { line: g.line, ..*w };
            assert_eq!(fields(g), fields(&w), "shape {k}, event {i}, no lines");
        }
        narrow
    }

    #[test]
    fn without_lines_streams_not_in_the_order_read_are_kept_wide_with_their_contacts() {
        // Streams numbered in the order they first come, then one beyond the next (as no
        // reader numbers them): compact until then, wide from there on; every contact right.
        let month = |i: u32| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000);
        let mut input = events(60_000, month);
        for e in &mut input[30_000..] {
            e.stream += 1000;
            e.contact = e.stream % 700;
        }
        assert!(!kept_and_drained(8, &input, false), "kept wide");
        assert!(kept_and_drained(8, &input, true), "kept narrow with lines");
    }

    #[test]
    fn kept_events_come_out_in_time_order_stably_in_parts_of_whole_instants() {
        // Shuffled over a month (with ties), newest first over a week (ties cut between
        // lists), a month of instants starting in its middle then going back, a span of
        // centuries (buckets widened), negative and extreme instants, one instant only
        // (newest first as well as in order), newest first until its last event, a month
        // with one event's day far from its instant late in the log.
        let shapes: [(&dyn Fn(u32) -> i64, bool); 8] = [
            (
                &|i| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000),
                true,
            ),
            (
                &|i| 1_800_000_000_000_000 - (i as i64 / 3) * 1_000_000,
                true,
            ),
            (
                &|i| 1_800_000_000_000_000 + ((i as i64 * 7919) % 1000 - 500) * HOUR,
                true,
            ),
            (
                &|i| ((i as i64 * 104_729) % 5_000) * (876_000 / 5_000) * HOUR,
                false,
            ),
            (
                &|i| match i % 4 {
                    0 => i64::MIN + i as i64,
                    1 => i64::MAX - i as i64,
                    2 => -(i as i64) * 1_000_003,
                    _ => 5,
                },
                false,
            ),
            (&|_| 42, true),
            (
                &|i| {
                    if i < 59_999 {
                        1_000_000 - i as i64 / 3
                    } else {
                        999_999
                    }
                },
                true,
            ),
            (
                &|i| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000),
                false,
            ),
        ];
        for (k, (at, narrow)) in shapes.iter().enumerate() {
            let mut input = events(60_000, at);
            if k == 7 {
                // A day 200 days from its instant: no narrow slot holds it.
                input[45_123].day += 200;
            }
            for lines in [true, false] {
                assert_eq!(
                    kept_and_drained(k, &input, lines),
                    *narrow,
                    "shape {k}: kept narrow"
                );
            }
        }
    }
}
