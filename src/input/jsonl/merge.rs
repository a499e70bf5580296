//! Items made messages by id: items sharing an id (and a direction) are one message, timed by
//! its earliest, with the status of its latest (ties: the later in the file), its category
//! from any that has one. An item without an id or a readable time is a message of its own.
//!
//! Done where the work is: each chunk's items are made messages on its parse thread (a table
//! of a few thousand ids, in the cache), each id hashed once there; then the chunks' messages
//! are matched across chunks by id on every core, each core owning the ids of one share of the
//! hashes (a table of 2M ids misses the cache at every look-up: split, the misses overlap).
//! The few messages whose items are in several chunks are made again from all their items in
//! file order, so the result is exactly that of one pass over the file. The messages are then
//! given to the reader in file order as their canonical fields (`Messages`), never written
//! as CSV.

use super::{kind_of, span, Item, Parsed};
#[cfg(test)]
use crate::input::export::write_row;
use crate::input::export::{renamed, Normalised, Values};
#[cfg(test)]
use crate::input::rows::FIELDS;
use crate::input::rows::N_FIELDS;
use crate::input::Reject;
use rustc_hash::{FxHashMap, FxHasher};
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

/// An item's chunk and its index there; or a message's (in `Parsed::messages`).
type At = (u32, u32);

/// A message being made from its items, `R` naming an item.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fold<R> {
    /// Its first item in the file: its source (account and business number).
    origin: R,
    /// Its earliest item (ties: the first in the file): its time, contact, source, line.
    first: R,
    at: i64,
    /// The item whose status it has, and that item's time.
    status: R,
    status_at: i64,
    /// The item whose category it has; whether that is not empty.
    category: R,
    has_category: bool,
}

impl<R: Copy> Fold<R> {
    fn new(r: R, item: &Item) -> Fold<R> {
        let at = item.at().unwrap_or(i64::MIN);
        Fold {
            origin: r,
            first: r,
            at,
            status: r,
            status_at: at,
            category: r,
            has_category: item.lens[4] > 0,
        }
    }

    /// A later item of the message (in file order) added.
    fn add(&mut self, r: R, item: &Item) {
        let at = item.at().unwrap_or(i64::MIN);
        if !item.inbound && item.lens[3] > 0 && at >= self.status_at {
            (self.status, self.status_at) = (r, at);
        }
        let has = item.lens[4] > 0;
        if at < self.at {
            (self.first, self.at) = (r, at);
            if has {
                (self.category, self.has_category) = (r, true);
            }
        } else if !self.has_category {
            (self.category, self.has_category) = (r, has);
        }
    }
}

impl Fold<u32> {
    /// The fold of a message of chunk `chunk`, its items named across chunks.
    fn within(self, chunk: u32) -> Fold<At> {
        let at = |i| (chunk, i);
        Fold {
            origin: at(self.origin),
            first: at(self.first),
            at: self.at,
            status: at(self.status),
            status_at: self.status_at,
            category: at(self.category),
            has_category: self.has_category,
        }
    }
}

/// A message of one chunk.
pub(super) struct Local {
    fold: Fold<u32>,
    /// Its first and last items in the chunk (chained by `Item::next`).
    head: u32,
    tail: u32,
    /// Part of a message of an earlier chunk; the first part of a message with items in
    /// later chunks too, made again (both set when the chunks are matched).
    absorbed: bool,
    remade: bool,
}

/// An id whose hash another id has (rare), in a table of its own: compared whole.
#[derive(Clone, Copy)]
struct Key<'a> {
    hash: u64,
    id: &'a str,
}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.id == other.id
    }
}

impl Eq for Key<'_> {}

/// A table of message ids: by their hash (small entries, the table reused), each hit compared
/// with the id of what it holds; an id whose hash another id has goes to `others`.
#[derive(Default)]
struct Ids<'a, V> {
    by_hash: FxHashMap<u64, V>,
    others: FxHashMap<Key<'a>, V>,
}

impl<'a, V: Copy> Ids<'a, V> {
    /// What the table has for the id of hash `hash` (`id_of` gives the id of a value); else
    /// `new` is added. `id()` is the id, asked for only when the hash is there already: it is a
    /// cache miss or two (its item, its text) when the table is large.
    fn find_or_add(
        &mut self,
        hash: u64,
        id: impl FnOnce() -> &'a str,
        new: V,
        id_of: impl Fn(V) -> &'a str,
    ) -> Option<V> {
        let v = match self.by_hash.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(new);
                return None;
            }
            Entry::Occupied(e) => *e.get(),
        };
        let key = Key { hash, id: id() };
        if id_of(v) == key.id {
            return Some(v);
        }
        match self.others.entry(key) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(new);
                None
            }
        }
    }
}

/// The hash of a message id, its lowest bit the direction (an inbound and an outbound message
/// with the same id are two messages: equal hashes mean equal directions).
fn id_hash(inbound: bool, id: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(id.as_bytes());
    // (its top bit clear: never `UNKEYED`)
    (h.finish() & !1 & (u64::MAX >> 1)) | inbound as u64
}

/// In `Parsed::hashes`, a message with no id or no readable time: a message of its own.
pub(super) const UNKEYED: u64 = u64::MAX;

thread_local! {
    /// A parse thread's table of a chunk's ids, kept for the next chunk (its pages reused).
    static CHUNK_IDS: std::cell::Cell<FxHashMap<u64, u32>> = Default::default();
}

/// A chunk's items made messages, in the order of their first item (on its parse thread).
pub(super) fn merge_chunk(p: &mut Parsed) {
    let Parsed {
        text,
        items,
        messages,
        hashes,
        ..
    } = p;
    // As many as its items at most: never grown (a copy, and its pages faulted in again);
    // the pages past the messages are never touched.
    messages.reserve(items.len());
    hashes.reserve(items.len());
    let mut by_hash = CHUNK_IDS.take();
    by_hash.clear();
    by_hash.reserve(items.len());
    let mut ids = Ids {
        by_hash,
        others: FxHashMap::default(),
    };
    for i in 0..items.len() {
        let item = &items[i];
        let keyed = item.timed && item.lens[0] > 0;
        let hash = keyed.then(|| id_hash(item.inbound, span(text, item.id())));
        if let Some(hash) = hash {
            let id = span(text, item.id());
            let id_of = |m: u32| span(text, items[messages[m as usize].head as usize].id());
            let new = messages.len() as u32;
            if let Some(m) = ids.find_or_add(hash, || id, new, id_of) {
                let m = &mut messages[m as usize];
                m.fold.add(i as u32, &items[i]);
                items[m.tail as usize].next = i as u32;
                m.tail = i as u32;
                continue;
            }
        }
        let i = i as u32;
        hashes.push(hash.unwrap_or(UNKEYED));
        messages.push(Local {
            fold: Fold::new(i, &items[i as usize]),
            head: i,
            tail: i,
            absorbed: false,
            remade: false,
        });
    }
    CHUNK_IDS.set(ids.by_hash);
}

/// The messages whose items are in several chunks, made from all of them: by the message of
/// the first chunk that has it. The others are marked `absorbed`, and counted.
fn across_chunks(parsed: &mut [Parsed], threads: usize) -> (FxHashMap<At, Fold<At>>, usize) {
    // Each share looks at every message: no more shares than cores (`--threads` may ask more).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shares = threads.clamp(1, cores);
    let keyed: usize = (parsed.iter().flat_map(|p| &p.hashes))
        .filter(|&&h| h != UNKEYED)
        .count();
    let chunks: &[Parsed] = parsed;
    let found: Vec<Shared> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..shares)
            .map(|share| scope.spawn(move || share_of_ids(chunks, share, shares, keyed / shares)))
            .collect();
        (handles.into_iter())
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let (mut made, mut absorbed) = (FxHashMap::default(), 0);
    for (folds, parts) in found {
        absorbed += parts.len();
        for part in parts {
            parsed[part.0 as usize].messages[part.1 as usize].absorbed = true;
        }
        for &((c, m), _) in &folds {
            parsed[c as usize].messages[m as usize].remade = true;
        }
        made.extend(folds);
    }
    (made, absorbed)
}

/// A share's messages made across chunks (by their first chunk's message), and the messages of
/// later chunks made part of them.
type Shared = (Vec<(At, Fold<At>)>, Vec<At>);

/// The message `owner` with its `parts` in later chunks, made from all their items in file order.
fn made_across(chunks: &[Parsed], owner: At, parts: &[At]) -> Fold<At> {
    let items = |(c, m): At| chain(&chunks[c as usize], m).map(move |i| (c, i));
    let item = |(c, i): At| &chunks[c as usize].items[i as usize];
    let mut all = items(owner).chain(parts.iter().flat_map(|&p| items(p)));
    let first = all.next().unwrap_or(owner);
    let mut fold = Fold::new(first, item(first));
    for r in all {
        fold.add(r, item(r));
    }
    fold
}

/// The items of message `m` of chunk `p`, in file order.
fn chain(p: &Parsed, m: u32) -> impl Iterator<Item = u32> + '_ {
    let head = p.messages[m as usize].head;
    std::iter::successors(Some(head), move |&i| {
        Some(p.items[i as usize].next).filter(|&n| n != u32::MAX)
    })
}

/// One core's share of the ids (`share` of `shares`, by hash): the messages of the first chunk
/// that has an id also had by later ones, made from all their items; and those later ones.
fn share_of_ids(chunks: &[Parsed], share: usize, shares: usize, size: usize) -> Shared {
    let mut ids: Ids<At> = Ids::default();
    ids.by_hash.reserve(size + size / 8);
    let id_of = |(c, m): At| {
        let p = &chunks[c as usize];
        p.get(p.items[p.messages[m as usize].head as usize].id())
    };
    // (the first chunk's message, a later one's) for each id in several chunks
    let mut found = Vec::new();
    for (c, p) in chunks.iter().enumerate() {
        // (the hashes alone, 8 bytes a message, read by every share)
        for (m, &hash) in p.hashes.iter().enumerate() {
            if hash == UNKEYED || (hash >> 40) as usize % shares != share {
                continue;
            }
            let id = || p.get(p.items[p.messages[m].head as usize].id());
            let here = (c as u32, m as u32);
            if let Some(owner) = ids.find_or_add(hash, id, here, id_of) {
                found.push((owner, here));
            }
        }
    }
    // By message, its parts in file order (a chunk has one message of an id).
    found.sort_unstable();
    let parts: Vec<At> = found.iter().map(|&(_, part)| part).collect();
    let mut start = 0;
    let folds = (found.chunk_by(|a, b| a.0 == b.0))
        .map(|group| {
            let owner = group[0].0;
            let rest = &parts[start..start + group.len()];
            start += group.len();
            (owner, made_across(chunks, owner, rest))
        })
        .collect();
    (folds, parts)
}

/// The chunks' items as messages: the counts (`csv` and `lines` left empty: each message
/// is given with its line), and the messages themselves, in file order (`Messages`).
pub(super) fn canonical(
    mut parsed: Vec<Parsed>,
    values: &Values,
    rejects: Vec<Reject>,
    threads: usize,
) -> (Normalised, Messages<'_>) {
    let items: usize = parsed.iter().map(|p| p.items.len()).sum();
    let records = (items + rejects.len()) as u64;
    let (made, absorbed) = across_chunks(&mut parsed, threads);
    let messages: usize = parsed.iter().map(|p| p.messages.len()).sum();
    let written = (messages - absorbed) as u64;
    let n = Normalised {
        csv: Vec::new(),
        lines: Vec::new(),
        rejects,
        records,
        merged: items as u64 - written,
    };
    (n, Messages::new(parsed, made, values))
}

/// The message `m` of chunk `c` as made: from all its chunks' items if it has items in
/// several, else from its chunk's.
fn made_of(made: &FxHashMap<At, Fold<At>>, local: &Local, c: usize, m: usize) -> Fold<At> {
    match local.remade {
        true => made[&(c as u32, m as u32)],
        false => local.fold.within(c as u32),
    }
}

/// The messages in file order (of their first item), each given as its canonical fields and
/// its line in the export (its earliest item's) as the reader asks for them, a range of
/// chunks at a time on any thread: no canonical CSV is written or read again.
pub(crate) struct Messages<'v> {
    parsed: Vec<Parsed>,
    made: FxHashMap<At, Fold<At>>,
    values: &'v Values,
}

impl<'v> Messages<'v> {
    fn new(parsed: Vec<Parsed>, made: FxHashMap<At, Fold<At>>, values: &'v Values) -> Self {
        Messages {
            parsed,
            made,
            values,
        }
    }

    /// How many chunks the messages are in (by their first item).
    pub(crate) fn chunks(&self) -> usize {
        self.parsed.len()
    }

    /// The messages of `chunks` (by their first item) given to `each` in file order: its
    /// line in the export and its fields in the order of `rows::FIELDS`.
    pub(crate) fn give(
        &self,
        chunks: std::ops::Range<usize>,
        mut each: impl FnMut(u64, &[&str; N_FIELDS]),
    ) {
        for c in chunks {
            let Some(p) = self.parsed.get(c) else { return };
            for (m, local) in p.messages.iter().enumerate() {
                ask_ahead(p, m);
                if !local.absorbed {
                    let fold = made_of(&self.made, local, c, m);
                    let (line, fields) = fields_of(&self.parsed, &fold, self.values);
                    each(line, &fields);
                }
            }
        }
    }

    /// All of them written as the canonical CSV (`export::write_row`, a header first), with
    /// each line's line in the export as `Normalised::lines` has them (the header's two
    /// entries first): what the canonical reader would be given.
    #[cfg(test)]
    pub(crate) fn write_csv(self) -> (Vec<u8>, Vec<u32>) {
        let (mut csv, mut lines) = (Vec::new(), vec![0, 1]);
        write_row(&mut csv, &FIELDS);
        self.give(0..self.chunks(), |line, fields| {
            write_row(&mut csv, fields);
            lines.push(u32::try_from(line).unwrap_or(u32::MAX));
        });
        (csv, lines)
    }
}

/// The status item of the chunk's message 16 on, and the status text of the one 8 on, asked
/// for ahead: a message's later statuses come later in the file, so each is a cache miss (its
/// first item, in order, is not); asked for, the misses overlap.
#[inline]
fn ask_ahead(p: &Parsed, m: usize) {
    if let Some(ahead) = p.messages.get(m + 16) {
        crate::prefetch::prefetch(&p.items[ahead.fold.status as usize]);
    }
    if let Some(ahead) = p.messages.get(m + 8) {
        let status = p.items[ahead.fold.status as usize].status_or_referral();
        if let Some(text) = p.text.as_bytes().get(status.0 as usize) {
            crate::prefetch::prefetch(text);
        }
    }
}

/// One message's line in the export (its earliest item's) and its canonical fields.
fn fields_of<'a>(
    parsed: &'a [Parsed],
    m: &Fold<At>,
    values: &'a Values,
) -> (u64, [&'a str; N_FIELDS]) {
    let item = |(c, i): At| (&parsed[c as usize], &parsed[c as usize].items[i as usize]);
    let (p, first) = item(m.first);
    let (sp, status) = item(m.status);
    let (cp, category) = item(m.category);
    let (op, origin) = item(m.origin);
    let source = op.sources[origin.source as usize];
    let (status, entry_point) = match first.inbound {
        true => ("", p.get(first.status_or_referral())),
        false => (sp.get(status.status_or_referral()), ""),
    };
    let raw: [&str; N_FIELDS] = [
        p.get(first.timestamp()),
        p.get(first.contact()),
        if first.inbound { "in" } else { "out" },
        "",
        kind_of(cp.get(category.category())),
        op.get(source.0),
        status,
        op.get(source.1),
        entry_point,
    ];
    let line = p.first_line + u64::from(first.line);
    if values.iter().all(Vec::is_empty) {
        return (line, raw);
    }
    (line, std::array::from_fn(|i| renamed(&values[i], raw[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_one_hash_are_told_apart_by_the_id() {
        let mut ids: Ids<u32> = Ids::default();
        let names = ["a", "b", "c"];
        let id_of = |v: u32| names[v as usize];
        let mut add = |id: &'static str, new| ids.find_or_add(42, || id, new, id_of);
        assert_eq!(add("a", 0), None);
        assert_eq!(add("b", 1), None);
        assert_eq!(add("a", 2), Some(0));
        assert_eq!(add("b", 2), Some(1));
        assert_eq!(add("c", 2), None);
        assert_eq!(add("c", 3), Some(2));
        assert_eq!(ids.find_or_add(7, || "a", 3, id_of), None);
    }
}
