//! One model's report cells while it bills: what a usual message writes in 32 bytes per cell
//! (half a cache line), the rare counts apart (issue 24: a log of many accounts has hundreds
//! of thousands of cells a model, far past the caches, and each line a message touches is a
//! miss).

use super::Stats;
use crate::event::{Country, Direction};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// The counts a usual message writes, by their place in `HotCell::counts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hot {
    MessagesIn,
    MessagesOut,
    SessionsOpened,
    SessionsCharged,
    BusinessInitiatedCharged,
    BusinessInitiatedFree,
    Unpriced,
    FreeTier,
    AssumedCategory,
    OutsideWindow,
    International,
}

// `CellMut::count_message`: the direction's value picks the count
const _: () = assert!(Hot::MessagesIn as usize + Direction::Inbound as usize == 0);
const _: () = assert!(Hot::MessagesIn as usize + Direction::Outbound as usize == 1);
const _: () = assert!(Hot::MessagesOut as usize == 1);

impl Hot {
    pub(super) const ALL: [Hot; HOT] = [
        Hot::MessagesIn,
        Hot::MessagesOut,
        Hot::SessionsOpened,
        Hot::SessionsCharged,
        Hot::BusinessInitiatedCharged,
        Hot::BusinessInitiatedFree,
        Hot::Unpriced,
        Hot::FreeTier,
        Hot::AssumedCategory,
        Hot::OutsideWindow,
        Hot::International,
    ];

    /// The same count in `Stats`.
    fn of(self, s: &mut Stats) -> &mut u64 {
        match self {
            Hot::MessagesIn => &mut s.messages_in,
            Hot::MessagesOut => &mut s.messages_out,
            Hot::SessionsOpened => &mut s.sessions_opened,
            Hot::SessionsCharged => &mut s.sessions_charged,
            Hot::BusinessInitiatedCharged => &mut s.business_initiated_charged,
            Hot::BusinessInitiatedFree => &mut s.business_initiated_free,
            Hot::Unpriced => &mut s.unpriced,
            Hot::FreeTier => &mut s.free_tier,
            Hot::AssumedCategory => &mut s.assumed_category,
            Hot::OutsideWindow => &mut s.outside_window,
            Hot::International => &mut s.international,
        }
    }
}

const HOT: usize = 11;

/// The hot counts the engine alone decides (`Biller::copy_counts`); the rare ones are
/// `copy_engine_counts`'.
const ENGINE_HOT: [Hot; 5] = [
    Hot::MessagesIn,
    Hot::MessagesOut,
    Hot::SessionsOpened,
    Hot::AssumedCategory,
    Hot::OutsideWindow,
];

/// A cell's cost, account-month and usual counts in 32 bytes: two cells to a cache line
/// (issue 24: a log of 50,000 accounts has 400,000 cells a model; at 64 bytes each model's
/// cells were 25.6 MB written into fresh pages, which this machine clears slowly, and one
/// line missed per message). A count keeps its low 8 bits here and each 256 it passes goes
/// to the rare `Stats` (`CellMut::count`): a cell of a few messages never goes there, a busy
/// one once per 256 of a count.
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
pub(super) struct HotCell {
    cost: Cost,
    /// The cell's account-month (`Log::cell_account_months`): read with the counts, no look-up
    /// of its own.
    pub(super) month: u32,
    counts: [u8; HOT],
    /// Whether the cell has rare counts (an entry in `Cells::rare`): read with the counts, so
    /// a cell without any is summed and put in order with no look-up in the map.
    has_rare: bool,
}

const _: () = assert!(std::mem::size_of::<HotCell>() == 32);

/// A cell's cost: a `Decimal`'s parts as `Decimal::serialize` gives them (flags, then the
/// 96-bit mantissa: its low 64 bits, its high 32), so that a price of the cell's scale is
/// added as two integers (issue 24: `money::add` unpacked both amounts' scales, signs and
/// mantissas and packed the sum again, ~15 instructions a charge and model).
#[derive(Clone, Copy, Default, PartialEq, Debug)]
#[repr(C)]
struct Cost {
    flags: u32,
    high: u32,
    low: u64,
}

/// The flag bits of a `Decimal`'s scale (the top bit is its sign).
const SCALE_BITS: u32 = 0x00ff_0000;

impl Cost {
    #[inline(always)]
    fn of(d: Decimal) -> Cost {
        let b = d.serialize();
        let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        Cost {
            flags: word(0),
            high: word(12),
            low: word(4) as u64 | (word(8) as u64) << 32,
        }
    }

    /// The `Decimal` itself, to the bit: its flags are a sign and a scale (`serialize`), and
    /// the sign is set as it was, a zero's too (`from_parts` would make -0 positive).
    #[inline(always)]
    fn decimal(self) -> Decimal {
        let (low, mid) = (self.low as u32, (self.low >> 32) as u32);
        let scale = (self.flags & SCALE_BITS) >> 16;
        let mut d = Decimal::from_parts(low, mid, self.high, false, scale);
        d.set_sign_negative(self.flags >> 31 == 1);
        d
    }

    /// `money::add`: the same `Decimal` to the bit. Of one sign and scale (their flags
    /// equal), the mantissas are added with the carry, as `Decimal` adds them (a zero of
    /// either sign included: the sum is the other's bits, as `money::add` gives); a zero sum
    /// (a cell's first price) becomes the amount, whatever the zero's scale and sign, as in
    /// `money::add`; any other case, or a sum past 96 bits, is `money::add`'s.
    #[inline(always)]
    fn add(&mut self, amount: Decimal) {
        let a = Cost::of(amount);
        if a.flags == self.flags {
            let (low, carry) = self.low.overflowing_add(a.low);
            let high = self.high as u64 + a.high as u64 + carry as u64;
            if high <= u32::MAX as u64 {
                (self.low, self.high) = (low, high as u32);
                return;
            }
        } else if self.low | self.high as u64 == 0 {
            *self = a;
            return;
        }
        self.add_other(amount);
    }

    #[inline(never)]
    fn add_other(&mut self, amount: Decimal) {
        let mut sum = self.decimal();
        super::money::add(&mut sum, amount);
        *self = Cost::of(sum);
    }
}

/// What a hot count adds to its rare count each time it wraps.
const WRAP: u64 = 1 << u8::BITS;

/// The cells a model makes room for at first: 2 MB of them, from where `make_room_ahead`
/// puts them on huge pages.
const FIRST_CELLS: usize = (2 << 20) / std::mem::size_of::<HotCell>();

/// A model's cells, by cell id.
#[derive(Default)]
pub(super) struct Cells {
    pub(super) hot: Vec<HotCell>,
    /// Each cell's account (read for a whatsapp-meta charge only).
    pub(super) accounts: Vec<u32>,
    /// The rare counts (rejects, drops, cards other than the model's own...) of the cells
    /// that have some (`HotCell::has_rare`), and the 256s of their hot counts.
    rare: FxHashMap<u32, Stats>,
}

/// One cell, to count a message in.
pub(super) struct CellMut<'a> {
    hot: &'a mut HotCell,
    rare: &'a mut FxHashMap<u32, Stats>,
    id: u32,
}

impl CellMut<'_> {
    /// The cell's account-month (`Log::cell_account_months`).
    #[inline(always)]
    pub(super) fn month(&self) -> u32 {
        self.hot.month
    }

    /// Counts one of a usual count: its low 8 bits here, a 256 passed in the rare counts.
    #[inline(always)]
    pub(super) fn count(&mut self, k: Hot) {
        let n = &mut self.hot.counts[k as usize];
        let (low, wrapped) = n.overflowing_add(1);
        *n = low;
        if wrapped {
            carry(self.hot, self.rare, self.id, k);
        }
    }

    /// Counts a message in `MessagesIn` or `MessagesOut` by its direction's value, not by a
    /// branch on it (customers' and the business's messages come mixed: a branch
    /// mispredicted often, and 2 instructions an event and engine group).
    #[inline(always)]
    pub(super) fn count_message(&mut self, direction: Direction) {
        let n = &mut self.hot.counts[Hot::MessagesIn as usize + direction as usize];
        let (low, wrapped) = n.overflowing_add(1);
        *n = low;
        if wrapped {
            let k = match direction {
                Direction::Inbound => Hot::MessagesIn,
                Direction::Outbound => Hot::MessagesOut,
            };
            carry(self.hot, self.rare, self.id, k);
        }
    }

    /// The cell's rare counts (a usual count is `count`ed).
    #[inline(always)]
    pub(super) fn rare(&mut self) -> &mut Stats {
        self.hot.has_rare = true;
        rare_of(self.rare, self.id)
    }

    #[inline(always)]
    pub(super) fn add_cost(&mut self, amount: Decimal) {
        self.hot.cost.add(amount);
    }
}

/// Cell `id`'s rare counts. Out of line: inlined, the cell id's hash was worked out for
/// every message, ahead of the rare branch (24 instructions an event and engine).
#[cold]
#[inline(never)]
fn rare_of(rare: &mut FxHashMap<u32, Stats>, id: u32) -> &mut Stats {
    rare.entry(id).or_default()
}

/// Count `k` of cell `id` has passed another 256: carried into its rare counts. Out of line,
/// as `rare_of`: once per 256 of a count.
#[cold]
#[inline(never)]
fn carry(hot: &mut HotCell, rare: &mut FxHashMap<u32, Stats>, id: u32, k: Hot) {
    hot.has_rare = true;
    *k.of(rare.entry(id).or_default()) += WRAP;
}

impl Cells {
    pub(super) fn len(&self) -> usize {
        self.hot.len()
    }

    /// Adds the cells from `self.len()` on: their account-months and accounts.
    pub(super) fn extend(&mut self, months: &[u32], accounts: &[u32]) {
        let have = self.len();
        if months.len() > have {
            if self.hot.capacity() == 0 {
                // Room for the first cells at once, only address space until written: grown
                // by doubling, every move below `make_room_ahead`'s huge pages copied them
                // into fresh pages (over-aligned, `realloc` moves them), 5% of accounts_50k's
                // page faults.
                self.hot.reserve_exact(FIRST_CELLS);
            }
            crate::huge_pages::make_room_ahead(&mut self.hot, months.len());
            // The accounts grow with the cells' room, not by doubling of their own.
            (self.accounts).reserve_exact(self.hot.capacity() - self.accounts.len());
            let new = months[have..].iter().map(|&month| HotCell {
                month,
                ..HotCell::default()
            });
            self.hot.extend(new);
            self.accounts.extend(&accounts[have..months.len()]);
        }
    }

    /// Cell `id`, to count in.
    #[inline(always)]
    pub(super) fn get(&mut self, id: usize) -> CellMut<'_> {
        CellMut {
            hot: &mut self.hot[id],
            rare: &mut self.rare,
            id: id as u32,
        }
    }

    /// Cell `id`'s rare counts, if it has any.
    fn rare_counts(&self, id: usize) -> Option<&Stats> {
        match self.hot[id].has_rare {
            false => None,
            true => self.rare.get(&(id as u32)),
        }
    }

    /// Cell `id`'s counts and cost.
    #[cfg(test)]
    pub(super) fn stats(&self, id: usize) -> Stats {
        stats_of(&self.hot[id], self.rare_counts(id))
    }

    /// Cell `id`'s messages (in and out), sessions opened and cost: what its account-month
    /// sums (`Biller::finish`), without making its `Stats`.
    pub(super) fn traffic(&self, id: usize) -> (u64, u64, Decimal) {
        let hot = &self.hot[id];
        let count = |k: Hot| hot.counts[k as usize] as u64;
        let mut messages = count(Hot::MessagesIn) + count(Hot::MessagesOut);
        let mut sessions = count(Hot::SessionsOpened);
        if let Some(r) = self.rare_counts(id) {
            messages += r.messages_in + r.messages_out;
            sessions += r.sessions_opened;
        }
        (messages, sessions, hot.cost.decimal())
    }

    /// Takes the counts the engine alone decides from `first`, the model that shares the
    /// engine and counted them (these cells counted none).
    pub(super) fn copy_engine_counts(&mut self, first: &Cells) {
        for (cell, from) in self.hot.iter_mut().zip(&first.hot) {
            for k in ENGINE_HOT {
                cell.counts[k as usize] = from.counts[k as usize];
            }
        }
        for (&id, from) in &first.rare {
            if let Some(cell) = self.hot.get_mut(id as usize) {
                cell.has_rare = true;
            }
            let to = self.rare.entry(id).or_default();
            to.messages_in = from.messages_in;
            to.messages_out = from.messages_out;
            to.sessions_opened = from.sessions_opened;
            to.rejected_in_session = from.rejected_in_session;
            to.blocked = from.blocked;
            to.not_delivered = from.not_delivered;
            to.outside_window = from.outside_window;
            to.assumed_category = from.assumed_category;
            to.free_entry_point = from.free_entry_point;
        }
    }
}

/// A cell's `Stats`: its rare counts (if any), its hot counts added, its cost.
#[inline]
fn stats_of(hot: &HotCell, rare: Option<&Stats>) -> Stats {
    let mut s = rare.cloned().unwrap_or_default();
    for k in Hot::ALL {
        *k.of(&mut s) += hot.counts[k as usize] as u64;
    }
    s.cost = hot.cost.decimal();
    s
}

/// A report cell's key: (account, country, month).
pub type CellKey = (u32, Country, i32);

/// A model's report cells once billed, in key order (account, country, month), each kept as
/// it was counted (32 bytes) and its `Stats` made when it is read (issue 24: a log of many
/// accounts has some 400,000 cells a model; made into 168-byte `Stats`, then into a map, they
/// were most of the end of a replay and of its memory). The sums every report asks for (the
/// model's totals, per country) are made once, by the thread that finishes the model.
#[derive(Clone, Default)]
pub struct CellTable {
    /// Shared by the models' tables where every cell has traffic (`CellOrder`).
    keys: Arc<Vec<CellKey>>,
    /// By place in `keys`.
    hot: Vec<HotCell>,
    /// The cells with rare counts, by place in `keys`, in that order.
    rare: Vec<(u32, Stats)>,
    totals: Stats,
    /// Per country, in country order: its cells' sums.
    by_country: Vec<(Country, Stats)>,
}

impl CellTable {
    /// The cells in key order: `keys`, each cell's key in that order, and `from`, the id of
    /// the cell at each place (a permutation of every id of `cells`: the cells past `keys`
    /// are dropped). `cells`' own array is put in that order in place (issue 24: gathered
    /// into a second array, every model's cells were written again into fresh pages, 25.6
    /// MB a model on a log of 50,000 accounts, and this machine clears fresh pages slowly);
    /// `keys` may be shared by every model's table (`CellOrder`).
    pub(super) fn gather(cells: Cells, keys: Arc<Vec<CellKey>>, from: &[u32]) -> CellTable {
        let Cells {
            mut hot, mut rare, ..
        } = cells;
        let n = keys.len();
        assert!(
            n <= from.len() && from.len() == hot.len(),
            "every cell once"
        );
        permute(&mut hot, from, n);
        hot.truncate(n);
        // The cells with rare counts are marked: read in key order with their ids, not each
        // id looked up in the map.
        let mut rare_by_place = Vec::new();
        if !rare.is_empty() {
            let marked = (hot.iter().zip(from).enumerate()).filter(|(_, (cell, _))| cell.has_rare);
            for (k, (_, id)) in marked {
                if let Some(r) = rare.remove(id) {
                    rare_by_place.push((k as u32, r));
                }
            }
        }
        Self::summed(CellTable {
            keys,
            hot,
            rare: rare_by_place,
            ..CellTable::default()
        })
    }

    /// `gather` of the cells `sorted` names (each with its id in `cells`), in key order,
    /// with keys of their own.
    pub(super) fn gather_named(
        cells: Cells,
        sorted: impl Iterator<Item = (CellKey, u32)>,
    ) -> CellTable {
        let all = cells.len();
        let (mut keys, mut from) = (Vec::new(), Vec::with_capacity(all));
        let mut named = vec![false; all];
        for (key, id) in sorted {
            debug_assert!(keys.last() < Some(&key), "cells in key order");
            assert!(
                !std::mem::replace(&mut named[id as usize], true),
                "cell {id} twice"
            );
            keys.push(key);
            from.push(id);
        }
        // The cells not named fill the places after, in any order.
        from.extend((0..all as u32).filter(|&id| !named[id as usize]));
        Self::gather(cells, Arc::new(keys), &from)
    }

    /// Cells made from their `Stats` (tests, tools): in key order, a key given twice summed.
    pub fn from_stats(cells: impl IntoIterator<Item = (CellKey, Stats)>) -> CellTable {
        let mut sorted: Vec<(CellKey, Stats)> = cells.into_iter().collect();
        sorted.sort_by_key(|c| c.0);
        let (mut t, mut keys) = (CellTable::default(), Vec::new());
        for (key, s) in sorted {
            if keys.last() != Some(&key) {
                keys.push(key);
                t.hot.push(HotCell::default());
                t.rare.push((keys.len() as u32 - 1, Stats::default()));
            }
            let (hot, rare) = (t.hot.last_mut(), t.rare.last_mut());
            if let (Some(hot), Some((_, rare))) = (hot, rare) {
                hot.cost = Cost::of(hot.cost.decimal() + s.cost);
                rare.add(&s);
            }
        }
        t.keys = Arc::new(keys);
        Self::summed(t)
    }

    /// `t` with its totals and sums per country. The costs are summed in key order (as the
    /// cells were summed before they were kept so: the same Decimal sums, to the digit); the
    /// counts, exact in any order, per country from the hot counts, the rare ones added after.
    fn summed(mut t: CellTable) -> CellTable {
        // By `Country::index`, whose order is the countries' (two capital letters).
        let mut by: Vec<Option<(Country, [u64; HOT], Decimal)>> = vec![None; 26 * 26];
        let mut cost = Decimal::ZERO;
        for (key, hot) in t.keys.iter().zip(&t.hot) {
            let hot_cost = hot.cost.decimal();
            cost += hot_cost;
            let c = by[key.1.index()].get_or_insert((key.1, [0; HOT], Decimal::ZERO));
            for (sum, &n) in c.1.iter_mut().zip(&hot.counts) {
                *sum += n as u64;
            }
            c.2 += hot_cost;
        }
        let mut by_country: Vec<Option<(Country, Stats)>> = (by.into_iter())
            .map(|c| {
                let (country, counts, cost) = c?;
                let mut s = Stats {
                    cost,
                    ..Stats::default()
                };
                for k in Hot::ALL {
                    *k.of(&mut s) = counts[k as usize];
                }
                Some((country, s))
            })
            .collect();
        for (at, rare) in &t.rare {
            let country = t.keys[*at as usize].1;
            if let Some((_, s)) = &mut by_country[country.index()] {
                // A cell's cost is its hot cost (`stats_of`), counted above.
                s.add(&Stats {
                    cost: Decimal::ZERO,
                    ..rare.clone()
                });
            }
        }
        t.by_country = by_country.into_iter().flatten().collect();
        let mut totals = Stats::default();
        for (_, s) in &t.by_country {
            totals.add(s);
        }
        totals.cost = cost;
        t.totals = totals;
        t
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The cells in key order, each with its `Stats`.
    pub fn iter(&self) -> CellIter<'_> {
        CellIter {
            table: self,
            next: 0,
            rare: 0,
        }
    }

    /// The sum of every cell.
    pub fn totals(&self) -> &Stats {
        &self.totals
    }

    /// Each country's cells summed, in country order (the countries with a cell).
    pub fn by_country(&self) -> &[(Country, Stats)] {
        &self.by_country
    }
}

/// `CellTable::iter`.
pub struct CellIter<'a> {
    table: &'a CellTable,
    next: usize,
    /// The next place in `table.rare`.
    rare: usize,
}

impl<'a> Iterator for CellIter<'a> {
    type Item = (&'a CellKey, Stats);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let t = self.table;
        let i = self.next;
        let key = t.keys.get(i)?;
        self.next += 1;
        let rare = match t.rare.get(self.rare) {
            Some((at, r)) if *at as usize == i => {
                self.rare += 1;
                Some(r)
            }
            _ => None,
        };
        Some((key, stats_of(&t.hot[i], rare)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.table.keys.len() - self.next;
        (left, Some(left))
    }
}

impl<'a> IntoIterator for &'a CellTable {
    type Item = (&'a CellKey, Stats);
    type IntoIter = CellIter<'a>;

    fn into_iter(self) -> CellIter<'a> {
        self.iter()
    }
}

impl PartialEq for CellTable {
    fn eq(&self, other: &CellTable) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for CellTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// How many cells ahead along a cycle `permute` asks for a cell's line.
const GATHER_AHEAD: usize = 8;

/// Puts `v` in the order `from` gives (a permutation of its places: place k takes the value
/// at `from[k]`), in place, for places `0..n` (the others end in some order). Each cycle of
/// the permutation is followed from its first place below `n`: one value read at random and
/// written where it goes, as a gather into a second array does, but into memory already
/// written. The values further along the cycle are asked for ahead (`from` is small and
/// tells where they are; `v` is far past the caches). The places done are marked in a
/// bitset (`from` is shared by every model).
fn permute<T: Copy>(v: &mut [T], from: &[u32], n: usize) {
    assert_eq!(v.len(), from.len());
    let mut done = vec![0u64; from.len().div_ceil(64)];
    let mut moved = 0;
    for start in 0..n {
        if done[start / 64] >> (start % 64) & 1 == 1 || from[start] as usize == start {
            continue;
        }
        let mut ahead = start;
        for _ in 0..GATHER_AHEAD {
            ahead = from[ahead] as usize;
            crate::prefetch::prefetch(&v[ahead]);
        }
        let first = v[start];
        let mut at = start;
        loop {
            done[at / 64] |= 1 << (at % 64);
            // Not a permutation (a cell given twice): the cycle would not end.
            moved += 1;
            assert!(moved <= v.len(), "a permutation of the cells");
            let src = from[at] as usize;
            if src == start {
                v[at] = first;
                break;
            }
            ahead = from[ahead] as usize;
            crate::prefetch::prefetch(&v[ahead]);
            v[at] = v[src];
            at = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn two_cells() -> Cells {
        let mut cells = Cells::default();
        cells.extend(&[7, 9], &[1, 2]);
        cells
    }

    #[test]
    fn a_cells_counts_and_cost_come_back_as_stats() {
        let mut cells = two_cells();
        let mut c = cells.get(1);
        // Two messages out at 0.05 and 0.0125, one charged session, one drop (a rare count).
        c.count(Hot::MessagesOut);
        c.count(Hot::MessagesOut);
        c.count(Hot::BusinessInitiatedCharged);
        c.add_cost(dec("0.05"));
        c.count(Hot::SessionsCharged);
        c.add_cost(dec("0.0125"));
        c.rare().not_delivered += 1;
        let s = cells.stats(1);
        assert_eq!((s.messages_out, s.messages_in), (2, 0));
        assert_eq!((s.business_initiated_charged, s.sessions_charged), (1, 1));
        assert_eq!((s.not_delivered, s.cost), (1, dec("0.0625")));
        // The other cell untouched, each keeps its account-month and account.
        assert_eq!(cells.stats(0), Stats::default());
        assert_eq!((cells.hot[0].month, cells.hot[1].month), (7, 9));
        assert_eq!(cells.accounts, [1, 2]);
    }

    /// A message counts by its direction (`count_message`): 300 customer messages and 2 of
    /// the business's in cell 1 are 300 in (44 hot + 256 carried) and 2 out; cell 0 none.
    #[test]
    fn a_message_counts_in_or_out_by_its_direction() {
        let mut cells = two_cells();
        for _ in 0..300 {
            cells.get(1).count_message(Direction::Inbound);
        }
        cells.get(1).count_message(Direction::Outbound);
        cells.get(1).count_message(Direction::Outbound);
        let s = cells.stats(1);
        assert_eq!((s.messages_in, s.messages_out), (300, 2));
        assert_eq!(cells.hot[1].counts[Hot::MessagesIn as usize], 44);
        assert_eq!(cells.rare[&1].messages_in, 256);
        assert_eq!(cells.stats(0), Stats::default());
    }

    /// A cell's cost is the Decimal sum of its amounts, at their largest scale (the report
    /// prints it: 0.0625, not 0.06250000): prices of several scales in one cell, a whole
    /// number, trailing zeros, 8 places, and more places (a converted price).
    #[test]
    fn a_cells_cost_is_the_decimal_sum_of_its_prices_at_their_largest_scale() {
        let cases: [&[&str]; 6] = [
            &[],
            &["0.05", "0.0125"],
            &["1", "2"],
            &["0.0300", "0.03", "0.5"],
            &["0.00000001", "999.99999999", "0.1"],
            &["0.0123456789012", "0.05", "0.00000001"],
        ];
        for amounts in cases {
            let mut cells = two_cells();
            let mut want = Decimal::ZERO;
            for a in amounts {
                cells.get(1).add_cost(dec(a));
                want += dec(a);
            }
            let got = cells.stats(1).cost;
            assert_eq!(
                (got, got.to_string()),
                (want, want.to_string()),
                "{amounts:?}"
            );
        }
        // Worked by hand: 0.0300 + 0.03 + 0.5 = 0.5600 (four places, as the first price has)
        let mut cells = two_cells();
        for a in ["0.0300", "0.03", "0.5"] {
            cells.get(0).add_cost(dec(a));
        }
        assert_eq!(cells.stats(0).cost.to_string(), "0.5600");
    }

    /// A cell's cost added as parts is `Decimal`'s sum to the bit, for every pair of a spread
    /// of amounts (scales 0 to 13, signs, zeros, 64 and 96 bits) and each taken back whole.
    /// Worked by hand: 0.05 + 0.0125 = 0.0625 (the other scale's way); 0.0125 + 0.0125 =
    /// 0.0250 (mantissas 125 + 125, scale 4 kept); (2^64 - 1) + 1 at 8 places carries into
    /// the high word: mantissa 2^64, 184467440737.09551616; (2^96 - 1) + 1 at one place does
    /// not fit: `Decimal`'s own sum, rounded to 7922816251426433759354395034.
    #[test]
    fn a_cells_cost_adds_as_decimal_does() {
        let amounts = super::super::money::SPREAD;
        for a in amounts {
            assert_eq!(Cost::of(dec(a)).decimal().serialize(), dec(a).serialize());
            for b in amounts {
                let mut got = Cost::of(dec(a));
                got.add(dec(b));
                let mut want = dec(a);
                super::super::money::add(&mut want, dec(b));
                assert_eq!(got.decimal().serialize(), want.serialize(), "{a} + {b}");
                let mut plain = dec(a);
                plain += dec(b);
                assert_eq!(got.decimal(), plain, "{a} + {b}");
            }
        }
        let sum = |amounts: &[&str]| {
            let mut c = Cost::default();
            amounts.iter().for_each(|a| c.add(dec(a)));
            c.decimal().to_string()
        };
        assert_eq!(sum(&["0.05", "0.0125"]), "0.0625");
        assert_eq!(sum(&["0.0125", "0.0125"]), "0.0250");
        let carried = sum(&["184467440737.09551615", "0.00000001"]);
        assert_eq!(carried, "184467440737.09551616");
        let mut c = Cost::of(dec("184467440737.09551615"));
        c.add(dec("0.00000001"));
        assert_eq!((c.low, c.high), (0, 1));
        let over = sum(&["7922816251426433759354395033.5", "0.1"]);
        assert_eq!(over, "7922816251426433759354395034");
    }

    #[test]
    fn every_hot_count_lands_on_its_own_field() {
        for (i, k) in Hot::ALL.into_iter().enumerate() {
            let mut cells = two_cells();
            for _ in 0..=i {
                cells.get(0).count(k);
            }
            let mut want = Stats::default();
            *k.of(&mut want) = i as u64 + 1;
            assert_eq!(cells.stats(0), want, "{k:?}");
            // and its name is the one the report prints
            let named = want.counts().find(|(_, n)| *n == i as u64 + 1).unwrap().0;
            let snake: String = format!("{k:?}")
                .chars()
                .flat_map(|ch| match ch.is_uppercase() {
                    true => vec!['_', ch.to_ascii_lowercase()],
                    false => vec![ch],
                })
                .skip(1)
                .collect();
            assert_eq!(named, snake);
        }
    }

    /// A hot count keeps its low 8 bits, each 256 it passes in the rare counts: 255 stays
    /// hot (no rare counts), 256 is 0 + 256, 600 is 88 + 2 x 256; a count past 32 bits,
    /// 2^32 + 1 (the hot 255 and the rare 2^32 - 256 set as 2^32 - 1 counts leave them, then
    /// 2 more), is kept whole; the other counts and cells stay apart.
    #[test]
    fn a_hot_count_carries_its_256s_into_the_rare_counts() {
        let mut cells = Cells::default();
        cells.extend(&[0, 0, 0, 0], &[0, 0, 0, 0]);
        let counted = [(0, 255), (1, 256), (2, 600)];
        for (id, n) in counted {
            for _ in 0..n {
                cells.get(id).count(Hot::MessagesOut);
            }
            cells.get(id).count(Hot::FreeTier);
        }
        let low = |cells: &Cells, id: usize| cells.hot[id].counts[Hot::MessagesOut as usize];
        let (hot, rare) = (&cells.hot, &cells.rare);
        assert_eq!(
            (low(&cells, 0), hot[0].has_rare, rare.get(&0)),
            (255, false, None)
        );
        assert_eq!((low(&cells, 1), hot[1].has_rare), (0, true));
        assert_eq!((rare[&1].messages_out, rare[&1].free_tier), (256, 0));
        assert_eq!((low(&cells, 2), rare[&2].messages_out), (88, 512));
        for (id, n) in counted {
            let s = cells.stats(id);
            assert_eq!((s.messages_out, s.free_tier, s.messages_in), (n, 1, 0));
            assert_eq!(cells.traffic(id), (n, 0, Decimal::ZERO));
        }
        assert_eq!(cells.stats(3), Stats::default());
        cells.get(3).rare().messages_in = (1 << 32) - 256;
        cells.hot[3].counts[Hot::MessagesIn as usize] = 255;
        for _ in 0..2 {
            cells.get(3).count(Hot::MessagesIn);
        }
        assert_eq!(cells.stats(3).messages_in, (1 << 32) + 1);
    }

    #[test]
    fn a_model_sharing_the_engine_copies_what_it_decides_and_keeps_its_own_prices() {
        let (mut first, mut other) = (two_cells(), two_cells());
        let mut c = first.get(0);
        c.count(Hot::MessagesOut);
        c.count(Hot::AssumedCategory);
        c.count(Hot::BusinessInitiatedCharged);
        c.add_cost(dec("0.07"));
        c.rare().blocked += 1;
        // 300 in on cell 1: 256 of them carried into the first model's rare counts
        for _ in 0..300 {
            first.get(1).count(Hot::MessagesIn);
        }
        let mut c = other.get(0);
        c.count(Hot::Unpriced);
        c.rare().carried_forward += 1;
        other.copy_engine_counts(&first);
        let s = other.stats(0);
        assert_eq!((s.messages_out, s.assumed_category, s.blocked), (1, 1, 1));
        // its own: no charge (the first's price is the first's), its unpriced and rare count
        assert_eq!((s.business_initiated_charged, s.cost), (0, Decimal::ZERO));
        assert_eq!((s.unpriced, s.carried_forward), (1, 1));
        assert_eq!(other.stats(1).messages_in, 300);
        assert_eq!(other.traffic(1), (300, 0, Decimal::ZERO));
        assert_eq!(other.stats(1).business_initiated_charged, 0);
    }

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    /// Three cells counted in id order (2,DE), (1,DE), (1,AT) in month 100, gathered in key
    /// order; the rare count stays with its cell.
    fn three_accounts_cells() -> CellTable {
        let mut cells = Cells::default();
        cells.extend(&[0, 1, 1], &[2, 1, 1]);
        // id 0 = (2, DE): two messages out at 0.05 and 0.0125, one not delivered (rare)
        for a in ["0.05", "0.0125"] {
            cells.get(0).count(Hot::MessagesOut);
            cells.get(0).add_cost(dec(a));
        }
        cells.get(0).rare().not_delivered += 1;
        // id 1 = (1, DE): one in, a charged session at 0.10
        cells.get(1).count(Hot::MessagesIn);
        cells.get(1).count(Hot::SessionsCharged);
        cells.get(1).add_cost(dec("0.10"));
        // id 2 = (1, AT): one out at 0.2
        cells.get(2).count(Hot::MessagesOut);
        cells.get(2).add_cost(dec("0.2"));
        let (de, at) = (country("DE"), country("AT"));
        let sorted = [((1, at, 100), 2), ((1, de, 100), 1), ((2, de, 100), 0)];
        CellTable::gather_named(cells, sorted.into_iter())
    }

    #[test]
    fn a_cell_table_reads_its_cells_in_key_order_with_their_rare_counts() {
        let t = three_accounts_cells();
        let got: Vec<_> = t.iter().map(|(k, s)| (k.0, k.1.to_string(), s)).collect();
        let keys: Vec<_> = got.iter().map(|g| (g.0, g.1.as_str())).collect();
        assert_eq!(keys, [(1, "AT"), (1, "DE"), (2, "DE")]);
        assert_eq!((got[0].2.messages_out, got[0].2.cost), (1, dec("0.2")));
        let s = &got[1].2;
        assert_eq!(
            (s.messages_in, s.sessions_charged, s.cost),
            (1, 1, dec("0.10"))
        );
        assert_eq!(
            (
                got[2].2.not_delivered,
                got[0].2.not_delivered,
                s.not_delivered
            ),
            (1, 0, 0)
        );
        assert_eq!((got[2].2.messages_out, got[2].2.cost), (2, dec("0.0625")));
        assert_eq!(t.len(), 3);
    }

    /// Worked by hand: DE = account 1's (1 in, 0.10) + account 2's (2 out, 0.0625, 1 not
    /// delivered) = 1 in, 2 out, 0.1625, 1 not delivered; AT = 1 out, 0.2; the total 1 in,
    /// 3 out, 0.3625, 1 not delivered.
    /// Cells gathered in place in key order: 1,000 cells counted in id order (cell `id`:
    /// `id + 1` messages out, cost `id` hundredths, a rare count on every seventh), their
    /// keys in another order (a key's account is the id's place in a shuffle), every third
    /// without traffic (left out): each key read back with its own cell's counts.
    #[test]
    fn cells_gathered_in_place_keep_their_counts_in_key_order() {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let n = 1000u32;
        let mut cells = Cells::default();
        let ids: Vec<u32> = (0..n).collect();
        cells.extend(&ids, &ids);
        for id in 0..n {
            let mut c = cells.get(id as usize);
            for _ in 0..=id {
                c.count(Hot::MessagesOut);
            }
            c.add_cost(Decimal::new(id as i64, 2));
            if id.is_multiple_of(7) {
                c.rare().blocked += id as u64;
            }
        }
        let mut shuffled = ids.clone();
        shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(24));
        let de = country("DE");
        let mut sorted: Vec<(CellKey, u32)> = (shuffled.iter().enumerate())
            .filter(|(_, &id)| !id.is_multiple_of(3))
            .map(|(place, &id)| ((place as u32, de, 1), id))
            .collect();
        sorted.sort_unstable();
        let t = CellTable::gather_named(cells, sorted.iter().copied());
        assert_eq!(t.len(), sorted.len());
        for ((key, s), (want_key, id)) in t.iter().zip(&sorted) {
            assert_eq!(key, want_key);
            let id = *id as u64;
            assert_eq!(
                (s.messages_out, s.cost),
                (id + 1, Decimal::new(id as i64, 2))
            );
            assert_eq!(
                s.blocked,
                if id.is_multiple_of(7) { id } else { 0 },
                "cell {id}"
            );
        }
        // 666 cells with traffic (ids not a multiple of 3), 2 + 3 + 5 + 6 + ... + 999
        // messages out: the sum of id + 1 over ids 0..1000 (500,500), less that over the 334
        // multiples of 3 (1 + 4 + ... + 1000 = 334 x 1001 / 2 = 167,167): 333,333
        assert_eq!(t.len(), 666);
        assert_eq!(t.totals().messages_out, 333_333);
    }

    #[test]
    fn a_cell_table_sums_a_country_across_its_accounts() {
        let t = three_accounts_cells();
        let by: Vec<_> = (t.by_country().iter())
            .map(|(c, s)| {
                (
                    c.to_string(),
                    s.messages_in,
                    s.messages_out,
                    s.cost,
                    s.not_delivered,
                )
            })
            .collect();
        assert_eq!(
            by,
            [
                ("AT".to_string(), 0, 1, dec("0.2"), 0),
                ("DE".to_string(), 1, 2, dec("0.1625"), 1),
            ]
        );
        let s = t.totals();
        assert_eq!(
            (s.messages_in, s.messages_out, s.cost),
            (1, 3, dec("0.3625"))
        );
        assert_eq!((s.not_delivered, s.sessions_charged), (1, 1));
    }

    #[test]
    fn a_cell_table_made_from_stats_sums_a_key_given_twice() {
        let one = |n: u64, cost: &str| Stats {
            messages_out: n,
            blocked: 1,
            cost: dec(cost),
            ..Stats::default()
        };
        let (de, at) = (country("DE"), country("AT"));
        let t = CellTable::from_stats([
            ((3, de, 7), one(2, "0.5")),
            ((1, at, 7), one(1, "0.25")),
            ((3, de, 7), one(4, "0.125")),
        ]);
        let got: Vec<_> = t.iter().map(|(k, s)| (*k, s)).collect();
        // (3, DE, 7): 2 + 4 out, 0.5 + 0.125 = 0.625, 1 + 1 blocked
        assert_eq!(
            got,
            [
                ((1, at, 7), one(1, "0.25")),
                ((3, de, 7), {
                    let mut s = one(6, "0.625");
                    s.blocked = 2;
                    s
                })
            ]
        );
        assert_eq!(
            (t.totals().messages_out, t.totals().cost),
            (7, dec("0.875"))
        );
        let de_sum = &t.by_country()[1].1;
        assert_eq!(
            (de_sum.messages_out, de_sum.cost, de_sum.blocked),
            (6, dec("0.625"), 2)
        );
        assert_eq!(t, t.clone());
        assert_ne!(t, CellTable::default());
    }
}
