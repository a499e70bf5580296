//! A log out of time order put in time order as it is read: each block's events, while in
//! cache, appended to coarse time buckets (about an hour each), which grow either way as
//! instants come; once the log is read, each bucket is gathered and sorted in cache, one after
//! the other, while the billing threads bill the buckets before it. No second full copy of the
//! events (as `into_time_order` needs) and the sorting overlaps the billing. An event is kept
//! in 8 bytes where nothing shows its line and the instants are whole seconds
//! (`kept::Packed`), in 16 where nothing shows its line (`kept::Compact`), in 24 where a sink
//! does (`kept::Narrow`), else as it is.

mod kept;

use super::Names;
use crate::event::Country;
use crate::event::Event;
use kept::{Compact, Form, Narrow, Origin, Packed, Wide, UNKNOWN_CONTACT};

/// A bucket's span: instants (microseconds) shifted right by this much, about 72 minutes (as
/// a narrow slot holds them), widened (`coarsen`) when the log spans more than `MOST_BUCKETS`
/// of them.
const FIRST_SHIFT: u32 = kept::NARROW_SHIFT;

/// Buckets at most (64K: about 9 years of 72-minute buckets, 4 MB of bucket heads).
const MOST_BUCKETS: usize = 1 << 16;

/// A bucket's first chunk, in bytes; each next one twice as large up to `LARGEST_CHUNK`:
/// few allocations for a full bucket, little room unused in a nearly empty one.
const FIRST_CHUNK: usize = 4 << 10;
const LARGEST_CHUNK: usize = 64 << 10;

/// Chunks from this size are faulted in ahead by `crate::pager`.
const PAGED_CHUNK: usize = 16 << 10;

/// Events per fine bucket at most on average when a bucket is sorted (`sort_chunks`): as
/// many fine buckets as events, so that with instants to the second (most logs) each holds
/// one instant, and nothing is left to sort.
const FINE_EVENTS: usize = 1;

/// One time bucket: chunks filled in input order, the last one being filled; where its
/// instants start (for the forms that keep an instant's place in the bucket).
struct Bucket<S> {
    full: Vec<Vec<S>>,
    tail: Vec<S>,
    origin: Origin,
}

impl<S> Bucket<S> {
    fn new(base: i64) -> Self {
        Bucket {
            full: Vec::new(),
            tail: Vec::new(),
            origin: Origin::of(base),
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
        let slot = std::mem::size_of::<S>();
        let size = (self.tail.capacity() * 2).clamp(FIRST_CHUNK / slot, LARGEST_CHUNK / slot);
        let full = std::mem::replace(&mut self.tail, Vec::with_capacity(size));
        if size * slot >= PAGED_CHUNK {
            // Filled over much of the reading, its pages are faulted in by the pager (a
            // thread run only when a core idles) instead of by this one: 10M events out of
            // order fault in 16k fresh pages here (issue 24).
            crate::pager::ahead(self.tail.as_ptr() as usize, size * slot);
        }
        if !full.is_empty() {
            self.full.push(full);
        }
    }

    fn is_empty(&self) -> bool {
        self.tail.is_empty() && self.full.is_empty()
    }

    /// How many events it holds.
    fn len(&self) -> usize {
        self.chunks().map(<[S]>::len).sum()
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

/// The kept events, packed, compact or narrow while they all fit (`kept::Packed`,
/// `kept::Compact`, `kept::Narrow`), else wide.
enum Kept {
    Packed(Buckets<Packed>),
    Compact(Buckets<Compact>),
    Narrow(Buckets<Narrow>),
    Wide(Buckets<Wide>),
}

/// Events kept in time buckets as a log out of time order is read, to be handed out in time
/// order once it is read (`drain_sorted`).
pub struct TimeBuckets {
    kept: Kept,
    len: usize,
    notes: Notes,
    /// While no event is later than the one before (a log newest first, a common export):
    /// the event lists as they came, not bucketed, to be read back to front (`drain_sorted`).
    newest_first: Option<Vec<Vec<Event>>>,
}

impl TimeBuckets {
    /// No events yet; `lines`: whether the events' lines are kept (a sink shows them), else
    /// they are handed out with line 0, and kept packed.
    pub fn new(lines: bool) -> Self {
        TimeBuckets {
            kept: match lines {
                true => Kept::Narrow(Buckets::default()),
                false => Kept::Packed(Buckets::default()),
            },
            len: 0,
            notes: Notes::default(),
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

    /// Appends `events` to their buckets, all of them made compact from the first event a
    /// packed slot cannot hold (an instant not a whole second), wide from the first a compact
    /// or narrow one cannot (a day far from its instant, a log spanning more than 9 years).
    fn bucket(&mut self, events: &[Event]) {
        let notes = &mut self.notes;
        let kept = match &mut self.kept {
            Kept::Packed(b) => b.bucket(events, notes),
            Kept::Compact(b) => b.bucket(events, notes),
            Kept::Narrow(b) => b.bucket(events, notes),
            Kept::Wide(b) => b.bucket(events, notes),
        };
        if kept == events.len() {
            return;
        }
        self.kept = match std::mem::replace(&mut self.kept, Kept::Wide(Buckets::default())) {
            Kept::Packed(b) => Kept::Compact(widen(b, notes)),
            Kept::Compact(b) => Kept::Wide(widen(b, notes)),
            Kept::Narrow(b) => Kept::Wide(widen(b, notes)),
            Kept::Wide(_) => unreachable!("a wide slot holds any event"),
        };
        self.bucket(&events[kept..]);
    }

    /// Each stream's contact, for the events that come back without theirs (compact ones,
    /// `UNKNOWN_CONTACT`), as they are kept: taken before `drain_sorted`.
    pub fn stream_contacts(&mut self) -> StreamContacts {
        StreamContacts(std::mem::take(&mut self.notes.contacts))
    }

    /// Whether every event is kept in 8, 16 or 24 bytes, not as it is, for tests.
    #[cfg(test)]
    fn is_narrow(&self) -> bool {
        !matches!(self.kept, Kept::Wide(_))
    }

    /// Whether every event is kept in 8 bytes, for tests.
    #[cfg(test)]
    fn is_packed(&self) -> bool {
        matches!(self.kept, Kept::Packed(_))
    }

    /// The events in time order, stably (one instant's events in input order), as parts of
    /// whole instants of about `part` events at least: each part is handed to `bill` with
    /// the index of its first event, in order, its buffer made by `take` (out of a log newest
    /// first with room for `part` events; else for `part` and the largest time bucket's
    /// events, so that it is not moved as it fills).
    pub fn drain_sorted(
        self,
        part: usize,
        take: &mut dyn FnMut(usize) -> Vec<Event>,
        bill: &mut dyn FnMut(u32, Vec<Event>),
    ) {
        if let Some(lists) = self.newest_first {
            return drain_newest_first(lists, part, take, bill);
        }
        let countries = &self.notes.countries;
        match self.kept {
            Kept::Packed(b) => b.drain_sorted(countries, part, take, bill),
            Kept::Compact(b) => b.drain_sorted(countries, part, take, bill),
            Kept::Narrow(b) => b.drain_sorted(countries, part, take, bill),
            Kept::Wide(b) => b.drain_sorted(countries, part, take, bill),
        }
    }
}

/// What the slots that do not hold them give by their stream or cell, noted as the events
/// are kept (`kept::note_contact`, `kept::note_country`).
#[derive(Default)]
struct Notes {
    /// Each stream's contact (packed and compact slots).
    contacts: Vec<u32>,
    /// Each cell's country (packed slots).
    countries: Vec<Country>,
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

/// `narrow`'s events, bucket after bucket, each in input order, in buckets of a form `G` that
/// holds every event `F` holds (wider): every instant's events stay in input order.
#[inline(never)]
fn widen<F: Form, G: Form>(narrow: Buckets<F>, notes: &mut Notes) -> Buckets<G> {
    let mut wide = Buckets::<G>::default();
    let mut events = Vec::new();
    for bucket in &narrow.buckets {
        for c in bucket.chunks() {
            events.clear();
            events.extend(c.iter().map(|s| {
                let mut e = F::unpack(s, &bucket.origin, &notes.countries);
                if !F::KEEPS_CONTACT {
                    e.contact = notes.contacts[e.stream as usize];
                }
                e
            }));
            let kept = wide.bucket(&events, notes);
            debug_assert_eq!(kept, events.len(), "a wider form holds every event");
        }
    }
    wide
}

impl<F: Form> Buckets<F> {
    /// Appends the first events of `events` to their buckets, all unless this form cannot
    /// hold one: how many. `notes`: each stream's contact and cell's country, noted where
    /// this form does not keep them.
    fn bucket(&mut self, events: &[Event], notes: &mut Notes) -> usize {
        let mut done = 0;
        loop {
            done += self.bucket_known(&events[done..], notes);
            let Some(e) = events.get(done) else {
                return done;
            };
            if !self.bucket_new(e, notes) {
                return done;
            }
            done += 1;
        }
    }

    /// `bucket` while each event goes to a bucket there is, with room in its last chunk, of a
    /// stream and cell noted (most of them): how many. No call, so what it reads stays in
    /// registers (a call to make a chunk, in the loop, had seven values spilled and read back
    /// at every event).
    #[inline(always)]
    fn bucket_known(&mut self, events: &[Event], notes: &Notes) -> usize {
        // A form that is never widened keeps the first width: a constant shift.
        let shift = if F::COARSENS { self.shift } else { FIRST_SHIFT };
        let lo = self.lo;
        let buckets = &mut self.buckets[..];
        let (streams, countries) = (notes.contacts.len(), &notes.countries[..]);
        for (i, e) in events.iter().enumerate() {
            let k = (e.at >> shift).wrapping_sub(lo) as u64;
            let Some(bucket) = buckets.get_mut(k as usize) else {
                return i;
            };
            if !F::KEEPS_CONTACT && e.stream as usize >= streams {
                return i;
            }
            if !F::KEEPS_COUNTRY && countries.get(e.cell as usize) != Some(&e.country) {
                return i;
            }
            let Some(s) = F::pack(e, &bucket.origin) else {
                return i;
            };
            if bucket.tail.len() == bucket.tail.capacity() {
                return i;
            }
            bucket.tail.push(s);
        }
        events.len()
    }

    /// `bucket` of one event whose bucket, stream or cell is new (or which this form cannot
    /// hold: false).
    #[inline(never)]
    fn bucket_new(&mut self, e: &Event, notes: &mut Notes) -> bool {
        // The fast path reads only whether a stream or cell is noted: the ids this form
        // holds are checked here, where each is first noted.
        if e.stream >= F::MOST_STREAMS || e.cell >= F::MOST_CELLS {
            return false;
        }
        let mut k = (e.at >> self.shift).wrapping_sub(self.lo) as u64;
        if k >= self.buckets.len() as u64 {
            if !self.make_room(e.at) {
                return false;
            }
            k = ((e.at >> self.shift) - self.lo) as u64;
        }
        let bucket = &mut self.buckets[k as usize];
        let Some(s) = F::pack(e, &bucket.origin) else {
            return false;
        };
        if !F::KEEPS_CONTACT && !kept::note_contact(&mut notes.contacts, e) {
            return false;
        }
        if !F::KEEPS_COUNTRY && !kept::note_country(&mut notes.countries, e) {
            return false;
        }
        bucket.push(s);
        true
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
            let new = |k: i64| Bucket::new(k << self.shift);
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

    /// `TimeBuckets::drain_sorted` of these buckets, each freed once sorted; `countries`: each
    /// cell's, for a form that does not keep them.
    fn drain_sorted(
        self,
        countries: &[Country],
        part: usize,
        take: &mut dyn FnMut(usize) -> Vec<Event>,
        bill: &mut dyn FnMut(u32, Vec<Event>),
    ) {
        // A part is cut after the bucket that takes it to `part` events: room for one bucket
        // more than `part` and it never grows (a part that grew was moved into fresh pages,
        // 7.6% of by_contact's page faults).
        let room = part + self.buckets.iter().map(Bucket::len).max().unwrap_or(0);
        let mut first = 0u32;
        let mut out = take(room);
        let mut scratch = Scratch::default();
        for bucket in self.buckets {
            if bucket.is_empty() {
                continue;
            }
            sort_chunks::<F>(&bucket, countries, &mut out, &mut scratch);
            drop(bucket);
            if out.len() >= part {
                let n = out.len() as u32;
                bill(first, std::mem::replace(&mut out, take(room)));
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

/// What `sort_chunks` reuses from one bucket to the next: the fine buckets' counts, then
/// starts, and the bucket's slots in time order.
struct Scratch<S> {
    starts: Vec<usize>,
    slots: Vec<S>,
}

impl<S> Default for Scratch<S> {
    fn default() -> Self {
        Scratch {
            starts: Vec::new(),
            slots: Vec::new(),
        }
    }
}

/// Appends the events of `bucket` to `out` in time order, stably: counted into fine buckets
/// of equal time spans, its slots scattered there (8 bytes each where packed: an event is
/// 32), then unpacked in that order onto `out`'s end, each fine bucket then sorted if it is
/// not in order already (all in cache for a bucket of some thousands of events). A slot's
/// time is its second in the bucket where the form keeps one (`Form::SECONDS`: no pass for
/// the first and last instants, and with a fine bucket a second, nothing to sort or check),
/// else its instant's distance from the bucket's first.
fn sort_chunks<F: Form>(
    bucket: &Bucket<F::Slot>,
    countries: &[Country],
    out: &mut Vec<Event>,
    scratch: &mut Scratch<F::Slot>,
) {
    let Some(&template) = bucket.chunks().flatten().next() else {
        return;
    };
    let o = &bucket.origin;
    let n: usize = bucket.chunks().map(<[_]>::len).sum();
    let (min, span) = match F::SECONDS {
        0 => {
            let (mut min, mut max) = (i64::MAX, i64::MIN);
            for c in bucket.chunks() {
                for s in c {
                    let at = F::at(s, o);
                    (min, max) = (min.min(at), max.max(at));
                }
            }
            // An instant's distance from `min`: exact in a u64 for any two i64 (`at >= min`).
            (min, max.wrapping_sub(min) as u64)
        }
        seconds => (0, seconds as u64 - 1),
    };
    let time = |s: &F::Slot| match F::SECONDS {
        0 => F::at(s, o).wrapping_sub(min) as u64,
        _ => F::second(s) as u64,
    };
    // A fine bucket a second where the form keeps seconds and the bucket has a thousand
    // events or more: nothing to sort (a sum over its 4,296 seconds costs less than sorting
    // them; a log of 10M rows over a month has some 16,000 a bucket).
    let most = match F::SECONDS {
        seconds if seconds > 0 && n >= seconds / 4 => seconds as u64,
        _ => (n / FINE_EVENTS).max(1) as u64,
    };
    let shift = (0..64).find(|s| span >> s < most).unwrap_or(63);
    let fine = |s: &F::Slot| (time(s) >> shift) as usize;
    // Zeroed as one `memset` (`resize` wrote its zeros one at a time).
    let len = (span >> shift) as usize + 2;
    if scratch.starts.len() < len {
        scratch.starts.resize(len, 0);
    }
    let starts = &mut scratch.starts[..len];
    starts.fill(0);
    // Chunk by chunk, not `flatten` (a check per slot of which chunk it is in).
    for c in bucket.chunks() {
        for s in c {
            starts[fine(s) + 1] += 1;
        }
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    // Every one of the first `n` slots is written below (the starts place each slot at its
    // own index): grown, never filled again.
    if scratch.slots.len() < n {
        scratch.slots.resize(n, template);
    }
    let slots = &mut scratch.slots[..n];
    for c in bucket.chunks() {
        for s in c {
            let at = &mut starts[fine(s)];
            slots[*at] = *s;
            *at += 1;
        }
    }
    let first = out.len();
    out.extend(slots.iter().map(|s| F::unpack(s, o, countries)));
    // Nothing to sort in most logs (instants to the second): one look at all of them, or
    // none where each fine bucket is one second.
    if (F::SECONDS > 0 && shift == 0) || out[first..].is_sorted_by_key(|e| e.at) {
        return;
    }
    // `starts[b]` is now where fine bucket `b` ends in the bucket's events.
    sort_fine_buckets(&mut out[first..], &starts[..starts.len() - 1]);
}

/// Sorts each fine bucket of `events`, ending at `ends`, that is not in order already.
#[inline(always)]
fn sort_fine_buckets(events: &mut [Event], ends: &[usize]) {
    let mut from = 0;
    for &to in ends {
        let fine = &mut events[from..to];
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
    /// of several streams (accounts), each cell always of the same country (as the reader
    /// makes them: a cell is an account's month in one country).
    fn events(n: u32, at: impl Fn(u32) -> i64) -> Vec<Event> {
        let countries = [*b"DE", *b"AZ", *b"ZA"];
        let kinds = [
            Kind::FreeForm,
            Kind::Utility,
            Kind::Marketing,
            Kind::EntryPoint,
        ];
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
                    country: Country::from_bytes(&countries[(i % 17) as usize % 3]).unwrap(),
                    direction: [Direction::Inbound, Direction::Outbound][i as usize % 2],
                    kind: kinds[i as usize / 2 % 4],
                }
            })
            .collect()
    }

    /// Every field of an event, to compare.
    fn fields(e: &Event) -> String {
        format!("{e:?}")
    }

    /// How `input` was kept: in 8, 16 or 24 bytes (`narrow`), in 8 (`packed`).
    #[derive(Debug, PartialEq)]
    struct KeptAs {
        narrow: bool,
        packed: bool,
    }

    /// `input` kept in blocks of 7,000 (`lines`: with their lines), drained in parts of
    /// 1,000, checked against a stable sort by instant (without lines: each line 0 or the
    /// event's); how it was kept.
    fn kept_and_drained(k: usize, input: &[Event], lines: bool) -> KeptAs {
        let mut want: Vec<Event> = input.to_vec();
        want.sort_by_key(|e| e.at);
        let mut kept = TimeBuckets::new(lines);
        for block in input.chunks(7_000) {
            kept.add(block.to_vec());
        }
        assert_eq!(kept.len(), input.len());
        let kept_as = KeptAs {
            narrow: kept.is_narrow(),
            packed: kept.is_packed(),
        };
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
        kept_as
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
        assert!(!kept_and_drained(8, &input, false).narrow, "kept wide");
        assert!(
            kept_and_drained(8, &input, true).narrow,
            "kept narrow with lines"
        );
    }

    /// Whole seconds over a month, shuffled, with ties (50,000 instants 51 s apart).
    fn whole_seconds(i: u32) -> i64 {
        ((i as u64 * 2_654_435_761) % 50_000) as i64 * 51_000_000
    }

    #[test]
    fn without_lines_a_cell_of_another_country_or_beyond_a_packed_slot_is_kept_compact() {
        // Packed until a cell comes back with another country (which no reader gives), or
        // until the cell beyond what 20 bits hold: compact from there on, every field right.
        let mut input = events(60_000, whole_seconds);
        input[45_123].country = Country::from_bytes(b"US").unwrap();
        let compact = KeptAs {
            narrow: true,
            packed: false,
        };
        assert_eq!(kept_and_drained(10, &input, false), compact);
        let cells = (1 << 20) + 3;
        let mut input = events(cells, whole_seconds);
        for (i, e) in input.iter_mut().enumerate() {
            e.cell = i as u32;
        }
        assert_eq!(kept_and_drained(11, &input, false), compact);
        let packed = KeptAs {
            narrow: true,
            packed: true,
        };
        assert_eq!(kept_and_drained(12, &input[..1 << 20], false), packed);
    }

    /// The instant of event `i` of a shape.
    type Instants = fn(u32) -> i64;

    /// The shapes of `kept_events_come_out_in_time_order_stably_in_parts_of_whole_instants`:
    /// each event's instant, whether kept narrow, and without lines packed.
    fn shapes() -> [(Instants, bool, bool); 11] {
        // Shuffled over a month (with ties), newest first over a week (ties cut between
        // lists), a month of instants starting in its middle then going back, a span of
        // centuries (buckets widened), negative and extreme instants, one instant only
        // (newest first as well as in order), newest first until its last event, a month
        // with one event's day far from its instant late in the log; whole seconds shuffled
        // over a month (with ties), the same with one instant not a whole second late in the
        // log, and whole seconds over 5 hours (12,000 events a bucket: one fine bucket a
        // second). Whether each is kept narrow, and without lines packed (whole seconds; a
        // log newest first keeps its lists as they come, whatever their instants).
        [
            (
                |i| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000),
                true,
                false,
            ),
            (
                |i| 1_800_000_000_000_000 - (i as i64 / 3) * 1_000_000,
                true,
                true,
            ),
            (
                |i| 1_800_000_000_000_000 + ((i as i64 * 7919) % 1000 - 500) * HOUR,
                true,
                true,
            ),
            (
                |i| ((i as i64 * 104_729) % 5_000) * (876_000 / 5_000) * HOUR,
                false,
                false,
            ),
            (
                |i| match i % 4 {
                    0 => i64::MIN + i as i64,
                    1 => i64::MAX - i as i64,
                    2 => -(i as i64) * 1_000_003,
                    _ => 5,
                },
                false,
                false,
            ),
            (|_| 42, true, true),
            (
                |i| {
                    if i < 59_999 {
                        1_000_000 - i as i64 / 3
                    } else {
                        999_999
                    }
                },
                true,
                false,
            ),
            (
                |i| ((i as u64 * 2_654_435_761) % 50_000) as i64 * (720 * HOUR / 50_000),
                false,
                false,
            ),
            (whole_seconds, true, true),
            (whole_seconds, true, false),
            (
                |i| 1_800_000_000_000_000 + whole_seconds(i) / 51 % 18_000_000_000,
                true,
                true,
            ),
        ]
    }

    #[test]
    fn a_part_has_room_for_its_last_bucket_and_is_never_moved() {
        // Buckets span 2^32 us (4,294.97 s): 1,000 events at seconds 0-999 (bucket 0),
        // 1,500 at 4,300-5,799 (bucket 1), 500 at 8,600-9,099 (bucket 2), read bucket 1's
        // first. Parts of 1,200: the largest bucket holds 1,500, so each buffer is asked for
        // 2,700; bucket 0 leaves 1,000 (under 1,200), bucket 1 takes it to 2,500 (a part),
        // bucket 2's 500 are the last part. Each part still has the room it was made with.
        let seconds = |from: i64, n: i64| (from..from + n).map(|s| s * 1_000_000);
        let ats: Vec<i64> = (seconds(4_300, 1_500).chain(seconds(0, 1_000)))
            .chain(seconds(8_600, 500))
            .collect();
        let input = events(ats.len() as u32, |i| ats[i as usize]);
        let mut kept = TimeBuckets::new(false);
        for block in input.chunks(700) {
            kept.add(block.to_vec());
        }
        let mut asked = Vec::new();
        let mut parts = Vec::new();
        let mut take = |n| {
            asked.push(n);
            Vec::with_capacity(n)
        };
        kept.drain_sorted(1_200, &mut take, &mut |first, part| {
            parts.push((first, part.len(), part.capacity()));
        });
        assert_eq!(asked, [2_700, 2_700]);
        assert_eq!(parts, [(0, 2_500, 2_700), (2_500, 500, 2_700)]);
    }

    #[test]
    fn a_bucket_after_a_larger_one_gives_its_own_events_only_in_time_order() {
        // Seconds 3, 1, 3, 0, 1 (bucket 0: 2^32 us is 4,294.97 s), then 4,301 and 4,300
        // (bucket 1): in time order, ties in input order, events 3, 1, 4, 0, 2, then 6, 5.
        // Bucket 1 is sorted with the slots bucket 0 left (five): only its own two come out.
        let seconds = [3, 1, 3, 0, 1, 4_301, 4_300];
        let input = events(7, |i| seconds[i as usize] * 1_000_000);
        let want = [3, 1, 4, 0, 2, 6, 5];
        for lines in [true, false] {
            let mut kept = TimeBuckets::new(lines);
            kept.add(input.clone());
            assert_eq!(kept.is_packed(), !lines);
            let mut got = Vec::new();
            kept.drain_sorted(1_000, &mut Vec::with_capacity, &mut |_, part| {
                got.extend(part.iter().map(|e| (e.stream, e.line)));
            });
            // Streams number the events here (`events`: stream `i`); lines only when kept.
            let line = |i: u32| if lines { i + 2 } else { 0 };
            let want: Vec<(u32, u32)> = want.iter().map(|&i| (i, line(i))).collect();
            assert_eq!(got, want, "lines kept: {lines}");
        }
    }

    #[test]
    fn kept_events_come_out_in_time_order_stably_in_parts_of_whole_instants() {
        for (k, (at, narrow, packed)) in shapes().into_iter().enumerate() {
            let mut input = events(60_000, at);
            if k == 7 {
                // A day 200 days from its instant: no narrow slot holds it.
                input[45_123].day += 200;
            }
            if k == 9 {
                // An instant a microsecond past its second: no packed slot holds it.
                input[45_123].at += 1;
            }
            for lines in [true, false] {
                let want = KeptAs {
                    narrow,
                    packed: packed && !lines,
                };
                assert_eq!(kept_and_drained(k, &input, lines), want, "shape {k}");
            }
        }
    }
}
