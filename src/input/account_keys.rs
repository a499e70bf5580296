//! The log's account names, each given a key by whichever parsing thread meets it first. A
//! block hands its accounts to the reader by key only, which the reader turns into ids by a
//! table, reading a name here only for a key it has not met; and a parsing thread that has
//! met a spelling once makes nothing for it again. (A log of 50,000 accounts has some 18,000
//! in every block: each cost three allocations and two hashes of its name per block, and one
//! more hash on the reader's thread, the one that gives ids in order. Later a name shared by
//! both parsing threads and the reader went with every block account: its count, changed by
//! every row on three cores, cost as much as the look-ups.)
//!
//! Keys follow no order (threads race for them): ids, which do, are still given by the
//! reader in order of first appearance.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The account names met so far in one reading of a log, by key. A clone shares the names.
#[derive(Clone)]
pub struct AccountKeys {
    /// Tells one reading's keys from another's in a thread's `Seen`.
    tag: u64,
    names: Arc<Mutex<Names>>,
}

#[derive(Default)]
struct Names {
    keys: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

static TAGS: AtomicU64 = AtomicU64::new(1);

impl Default for AccountKeys {
    fn default() -> Self {
        AccountKeys {
            tag: TAGS.fetch_add(1, Ordering::Relaxed),
            names: Arc::default(),
        }
    }
}

impl AccountKeys {
    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key of account `name` (given if new).
    pub fn key(&self, name: &str) -> u32 {
        let mut n = self.names();
        if let Some(&k) = n.keys.get(name) {
            return k;
        }
        let k = n.names.len() as u32;
        n.names.push(name.into());
        n.keys.insert(name.into(), k);
        k
    }

    /// The name of key `key` (given by `key`).
    pub fn name(&self, key: u32) -> String {
        self.names().names[key as usize].to_string()
    }
}

/// What a parsing thread remembers of the accounts from block to block.
pub struct Seen {
    tag: u64,
    /// Each account field as typed, up to 15 bytes (`packed`) -> its name's key, and the
    /// block that last gave it an index and that index: a row's look-up compares two
    /// integers, and needs nothing else when its spelling was met before in the block.
    short: ShortSpellings,
    /// The same for longer fields.
    typed: FxHashMap<Box<[u8]>, Spelling>,
    /// By key: the name (this thread's own copy: nothing shared between cores changes per
    /// row), and for a name met in several spellings the block index they share.
    by_key: Vec<Option<Name>>,
    /// The block being parsed (counted from 1).
    stamp: u32,
    /// Look-ups in the block being parsed (rows not of the last row's account).
    lookups: usize,
    /// Whether the parser should ask for each row's slot early (`prefetch`).
    ahead: bool,
}

/// Spellings from which a look-up is likely to miss the cache: 8,192 slots, 256 KB.
const PREFETCH_FROM: usize = 4096;

/// An account name as a parsing thread knows it.
struct Name {
    name: Rc<str>,
    /// Its one spelling so far; `None` once it has several (`Spelling::shared`).
    only: Option<Typed>,
    /// With several spellings: the block (`Seen::stamp`) that last gave it an index, and
    /// that index.
    stamp: u32,
    index: u32,
}

/// A spelling as `Seen` keeps it.
enum Typed {
    Short(u128),
    Long(Box<[u8]>),
}

/// A spelling's name (its key), and the block (`Seen::stamp`) that last gave it an index
/// and that index. A spelling that is its name's only one keeps the name's index itself:
/// one look-up a row; those of a name in several (`shared`) keep theirs in `Seen::by_key`.
#[derive(Clone, Copy)]
struct Spelling {
    key: u32,
    stamp: u32,
    index: u32,
    shared: bool,
}

/// The spellings of up to 15 bytes (`packed`), by open addressing with linear probing: a
/// spelling and its `Spelling` in one 32-byte slot, two to a cache line, the table at most
/// half full. A look-up reads one line, whose place is known from the spelling alone, so it
/// can be asked for ahead (`prefetch`). (In a `FxHashMap` of 50,000 spellings, 2 MB, nearly
/// every row's look-up missed twice, one miss after the other: the control bytes, then the
/// bucket they pointed to; issue 24.)
struct ShortSpellings {
    /// A power of two of them, or none before the first spelling.
    slots: Vec<Slot>,
    /// 64 minus log2 of the slot count: the hash's top bits pick the home slot.
    shift: u32,
    len: usize,
}

#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot {
    typed: u128,
    spelling: Spelling,
}

/// Never a packed spelling: its length byte says 255.
const EMPTY: u128 = u128::MAX;

/// Slots of a new table.
const FIRST_SLOTS: usize = 16;

impl Default for ShortSpellings {
    fn default() -> Self {
        ShortSpellings {
            slots: Vec::new(),
            // (No slots: any home is past the end.)
            shift: 63,
            len: 0,
        }
    }
}

/// The two halves multiplied in turn (Fibonacci hashing): the top bits depend on every byte.
#[inline(always)]
fn hash(typed: u128) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let (low, high) = (typed as u64, (typed >> 64) as u64);
    (low.wrapping_mul(K) ^ high).wrapping_mul(K)
}

impl ShortSpellings {
    fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The home slot of `typed` (with at least one slot).
    #[inline(always)]
    fn home(&self, typed: u128) -> usize {
        (hash(typed) >> self.shift) as usize
    }

    /// Asks the CPU to start loading the slot of `typed` (a hint only: it changes nothing).
    #[inline(always)]
    fn prefetch(&self, typed: u128) {
        if let Some(slot) = self.slots.get(self.home(typed)) {
            crate::prefetch::prefetch(slot);
        }
    }

    #[inline(always)]
    fn get_mut(&mut self, typed: u128) -> Option<&mut Spelling> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(typed);
        loop {
            let t = self.slots[i].typed;
            if t == typed {
                return Some(&mut self.slots[i].spelling);
            }
            if t == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `typed`, which is not in the table.
    fn insert(&mut self, typed: u128, spelling: Spelling) {
        debug_assert_ne!(typed, EMPTY);
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(typed);
        while self.slots[i].typed != EMPTY {
            debug_assert_ne!(self.slots[i].typed, typed, "added twice");
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { typed, spelling };
        self.len += 1;
    }

    /// Twice the slots (FIRST_SLOTS at first), every spelling placed again.
    #[cold]
    fn grow(&mut self) {
        let n = (2 * self.slots.len()).max(FIRST_SLOTS);
        let empty = Slot {
            typed: EMPTY,
            spelling: Spelling {
                key: 0,
                stamp: 0,
                index: 0,
                shared: false,
            },
        };
        // Asked for on huge pages before it is written (`huge_pages`: from 2 MB, 65,536
        // slots): each look-up is at random.
        let mut slots = Vec::new();
        crate::huge_pages::make_room(&mut slots, n);
        slots.resize(n, empty);
        let old = std::mem::replace(&mut self.slots, slots);
        self.shift = 64 - n.trailing_zeros();
        self.len = 0;
        for s in old.into_iter().filter(|s| s.typed != EMPTY) {
            self.insert(s.typed, s.spelling);
        }
    }
}

/// A field of up to 15 bytes as one integer, its length in the top byte: read as two words
/// that may overlap, shifted into place. (Copied into a zeroed array, it went through a call to
/// `memcpy` and a read of the array that waited for the copy's stores: some 15 cycles a row.)
#[inline(always)]
fn packed(typed: &[u8]) -> Option<u128> {
    let n = typed.len();
    let word = |i: usize| u64::from_le_bytes(typed[i..i + 8].try_into().unwrap_or_default());
    let half = |i: usize| u32::from_le_bytes(typed[i..i + 4].try_into().unwrap_or_default());
    let byte = |i: usize| u64::from(typed[i]);
    let (low, high) = match n {
        // Bytes n-8..n shifted down past the 16 - n already in `low`.
        8..=15 => (word(0), (word(n - 8) >> 8) >> (8 * (15 - n))),
        4..=7 => (
            u64::from(half(0)) | u64::from(half(n - 4)) << (8 * (n - 4)),
            0,
        ),
        1..=3 => (
            byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
            0,
        ),
        0 => (0, 0),
        _ => return None,
    };
    Some(u128::from(low) | u128::from(high) << 64 | (n as u128) << 120)
}

thread_local! {
    static KEPT: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

impl Seen {
    /// What this thread kept of `keys` from its last block, for a new block.
    pub fn kept(keys: &AccountKeys) -> Seen {
        let kept = KEPT.with(|k| k.borrow_mut().take());
        let mut seen = match kept {
            Some(s) if s.tag == keys.tag => s,
            _ => Seen {
                tag: keys.tag,
                short: ShortSpellings::default(),
                typed: FxHashMap::default(),
                by_key: Vec::new(),
                stamp: 0,
                lookups: 0,
                ahead: false,
            },
        };
        seen.stamp = seen.stamp.wrapping_add(1).max(1);
        seen.lookups = 0;
        seen
    }

    /// Keeps what was seen for this thread's next block, whose parser asks for each row's
    /// slot early (`prefetch`) when most of this block's `rows` looked their spellings up in
    /// a table too large for the cache: a log of many accounts in no order. (A log of few
    /// accounts, or of rows grouped by account, needs no look-up on most rows.)
    pub fn keep(mut self, rows: usize) {
        self.ahead = self.short.len() >= PREFETCH_FROM && 2 * self.lookups >= rows;
        KEPT.with(|k| *k.borrow_mut() = Some(self));
    }

    /// Whether the parser should ask for each row's slot early (`prefetch`).
    pub fn ahead(&self) -> bool {
        self.ahead
    }

    /// Asks the CPU to start loading what `block_index` will read for the spelling `typed`
    /// (a hint only: it changes nothing).
    #[inline(always)]
    pub fn prefetch(&self, typed: &[u8]) {
        if let Some(p) = packed(typed) {
            self.short.prefetch(p);
        }
    }

    /// The name of `key`, as this thread met it.
    pub fn name(&self, key: u32) -> &Rc<str> {
        match &self.by_key[key as usize] {
            Some(n) => &n.name,
            None => unreachable!("a block's key was met by its thread"),
        }
    }

    /// The block index of the account typed `typed` (its key added to `keys_out`, the
    /// block's accounts, if the block has not had it yet); `name` reads the field as a name
    /// when the spelling is new to this thread.
    #[inline]
    pub fn block_index<'r>(
        &mut self,
        keys: &AccountKeys,
        typed: &[u8],
        name: impl FnOnce() -> Result<&'r str, String>,
        keys_out: &mut Vec<u32>,
    ) -> Result<u32, String> {
        self.lookups += 1;
        let packed = packed(typed);
        let spelling = match packed {
            Some(p) => self.short.get_mut(p),
            None => self.typed.get_mut(typed),
        };
        let Some(s) = spelling else {
            return Ok(self.new_spelling(keys, (typed, packed), name()?, keys_out));
        };
        if s.stamp != self.stamp {
            s.stamp = self.stamp;
            s.index = match s.shared {
                false => next_index(keys_out, s.key),
                true => shared_index(&mut self.by_key, self.stamp, s.key, keys_out),
            };
        }
        Ok(s.index)
    }

    /// A spelling new to this thread: its key, and its index in the block (a name already
    /// met in another spelling shares that spelling's index from then on).
    #[cold]
    fn new_spelling(
        &mut self,
        keys: &AccountKeys,
        (typed, packed): (&[u8], Option<u128>),
        name: &str,
        keys_out: &mut Vec<u32>,
    ) -> u32 {
        let key = keys.key(name);
        if self.by_key.len() <= key as usize {
            self.by_key.resize_with(key as usize + 1, || None);
        }
        let only = match packed {
            Some(p) => Typed::Short(p),
            None => Typed::Long(typed.into()),
        };
        let stamp = self.stamp;
        let (shared, index) = match &mut self.by_key[key as usize] {
            slot @ None => {
                *slot = Some(Name {
                    name: name.into(),
                    only: Some(only),
                    stamp: 0,
                    index: 0,
                });
                (false, next_index(keys_out, key))
            }
            Some(n) => {
                if let Some(first) = n.only.take() {
                    // The first spelling now shares its index through `by_key`.
                    let s = match first {
                        Typed::Short(p) => self.short.get_mut(p),
                        Typed::Long(t) => self.typed.get_mut(&t),
                    };
                    let Some(s) = s else {
                        unreachable!("a name's only spelling is kept")
                    };
                    s.shared = true;
                    (n.stamp, n.index) = (s.stamp, s.index);
                }
                (true, shared_index(&mut self.by_key, stamp, key, keys_out))
            }
        };
        let now = Spelling {
            key,
            stamp,
            index,
            shared,
        };
        match packed {
            Some(p) => self.short.insert(p, now),
            None => drop(self.typed.insert(typed.into(), now)),
        };
        index
    }
}

/// The next index of the block's accounts, for `key`.
#[inline(always)]
fn next_index(keys_out: &mut Vec<u32>, key: u32) -> u32 {
    keys_out.push(key);
    keys_out.len() as u32 - 1
}

/// The block index of a name met in several spellings (given if the block has not had it).
#[inline(never)]
fn shared_index(by_key: &mut [Option<Name>], stamp: u32, key: u32, keys_out: &mut Vec<u32>) -> u32 {
    let Some(n) = &mut by_key[key as usize] else {
        unreachable!("a spelling's key has its name")
    };
    if n.stamp != stamp {
        (n.stamp, n.index) = (stamp, next_index(keys_out, key));
    }
    n.index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_share_a_key_and_a_block_index() {
        let keys = AccountKeys::default();
        let mut ks = Vec::new();
        let mut seen = Seen::kept(&keys);
        let index = |seen: &mut Seen, typed: &'static str, ks: &mut _| {
            seen.block_index(&keys, typed.as_bytes(), || Ok(typed.trim()), ks)
        };
        assert_eq!(index(&mut seen, "a", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(1));
        assert_eq!(index(&mut seen, " a ", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(1));
        assert_eq!(ks, [0, 1]);
        assert_eq!((&**seen.name(0), &**seen.name(1)), ("a", "b"));
        assert_eq!((keys.name(0), keys.name(1)), ("a".into(), "b".into()));
        // The next block numbers its accounts afresh, with the same keys; the first
        // spelling met in it, of a name met in two, gives the index to the other.
        seen.keep(0);
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, " a ", &mut ks), Ok(1));
        assert_eq!(index(&mut seen, "a", &mut ks), Ok(1));
        assert_eq!(ks, [1, 0]);
        // A second spelling met after the first in a block shares its index, and in the
        // blocks after.
        assert_eq!(index(&mut seen, "b ", &mut ks), Ok(0));
        seen.keep(0);
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        assert_eq!(index(&mut seen, "b ", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "a", &mut ks), Ok(1));
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, " a ", &mut ks), Ok(1));
        assert_eq!(ks, [1, 0]);
        // Another reading starts its own keys.
        seen.keep(0);
        let other = AccountKeys::default();
        let mut seen = Seen::kept(&other);
        let mut ks = Vec::new();
        let got = seen.block_index(&other, b"b", || Ok("b"), &mut ks);
        assert_eq!((got, ks), (Ok(0), vec![0]));
    }

    #[test]
    fn a_bad_spelling_is_named_and_not_kept() {
        let keys = AccountKeys::default();
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        let got = seen.block_index(&keys, b"\xff", || Err("bad".into()), &mut ks);
        assert_eq!(got, Err("bad".to_string()));
        assert!(ks.is_empty() && seen.typed.is_empty() && seen.short.is_empty());
    }

    #[test]
    fn long_spellings_and_short_ones_alike() {
        let keys = AccountKeys::default();
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        let long = "an account name longer than fifteen bytes";
        for typed in ["a", long, "123456789012345", "1234567890123456", long, "a"] {
            let got = seen.block_index(&keys, typed.as_bytes(), || Ok(typed), &mut ks);
            let want = ks.iter().position(|&k| keys.name(k) == typed);
            assert_eq!(got.ok(), want.map(|i| i as u32), "{typed}");
        }
        assert_eq!(ks.len(), 4);
        assert_eq!(seen.short.len(), 2);
        assert_eq!(seen.typed.len(), 2);
        // A field of 15 bytes and one of 14 with a zero byte after do not meet.
        assert_ne!(packed(b"abcdefghijklmn\0"), packed(b"abcdefghijklmn"));
    }

    fn spelling(key: u32) -> Spelling {
        Spelling {
            key,
            stamp: 7,
            index: key + 1,
            shared: key % 2 == 1,
        }
    }

    fn packed_name(i: u32) -> u128 {
        packed(format!("acct{i}").as_bytes()).unwrap_or(EMPTY)
    }

    #[test]
    fn a_slot_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::align_of::<Slot>(), 32);
    }

    #[test]
    fn spellings_of_one_home_slot_are_told_apart_also_past_the_tables_end() {
        let mut table = ShortSpellings::default();
        assert!(table.get_mut(packed_name(0)).is_none(), "no slots yet");
        table.insert(packed_name(0), spelling(0));
        assert_eq!(table.slots.len(), FIRST_SLOTS);
        // Spellings whose home is the last slot: the second and third wrap to the first slots.
        let last: Vec<u32> = (1..)
            .filter(|&i| table.home(packed_name(i)) == FIRST_SLOTS - 1)
            .take(3)
            .collect();
        for &i in &last {
            table.insert(packed_name(i), spelling(i));
        }
        assert_eq!(table.slots.len(), FIRST_SLOTS, "4 of 16: no growth");
        for i in [0].iter().chain(&last) {
            let got = table
                .get_mut(packed_name(*i))
                .map(|s| (s.key, s.index, s.shared));
            assert_eq!(got, Some((*i, *i + 1, *i % 2 == 1)), "acct{i}");
        }
        // One more of that home is not there, nor one of another home.
        let absent = (last[2] + 1..).find(|&i| table.home(packed_name(i)) == FIRST_SLOTS - 1);
        assert!(table.get_mut(packed_name(absent.unwrap_or(0))).is_none());
        // The look-up changes the slot itself.
        if let Some(s) = table.get_mut(packed_name(last[1])) {
            s.index = 99;
        }
        assert_eq!(
            table.get_mut(packed_name(last[1])).map(|s| s.index),
            Some(99)
        );
    }

    #[test]
    fn the_table_doubles_at_half_full_and_keeps_every_spelling() {
        let mut table = ShortSpellings::default();
        for i in 0..10_000 {
            table.insert(packed_name(i), spelling(i));
            assert!(2 * table.len() <= table.slots.len(), "at most half full");
        }
        assert_eq!((table.len(), table.slots.len()), (10_000, 32_768));
        for i in 0..10_000 {
            assert_eq!(table.get_mut(packed_name(i)).map(|s| s.key), Some(i));
        }
        assert!(table.get_mut(packed_name(10_000)).is_none());
        // Short spellings of every length, the empty one among them.
        let short = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcdefg",
            "abcdefgh",
            "abcdefghijklmno",
        ];
        for (k, typed) in short.iter().enumerate() {
            table.insert(
                packed(typed.as_bytes()).unwrap_or(EMPTY),
                spelling(20_000 + k as u32),
            );
        }
        for (k, typed) in short.iter().enumerate() {
            let got = table.get_mut(packed(typed.as_bytes()).unwrap_or(EMPTY));
            assert_eq!(got.map(|s| s.key), Some(20_000 + k as u32), "{typed:?}");
        }
    }

    /// `packed` as it was written first: the bytes copied into a zeroed array.
    fn packed_by_copy(typed: &[u8]) -> Option<u128> {
        let mut bytes = [0u8; 16];
        bytes.get_mut(..typed.len())?.copy_from_slice(typed);
        bytes[15] = typed.len() as u8;
        (typed.len() <= 15).then(|| u128::from_le_bytes(bytes))
    }

    #[test]
    fn a_spelling_packs_as_its_bytes_and_its_length() {
        assert_eq!(packed(b""), Some(0));
        assert_eq!(packed(b"ab"), Some(0x02 << 120 | 0x6261));
        let want = u128::from_le_bytes(*b"acct41170\0\0\0\0\0\0\x09");
        assert_eq!(packed(b"acct41170"), Some(want));
        assert_eq!(packed(&[7; 16]), None);
        // Every length, every byte value in every place.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut bytes = [0u8; 17];
            for b in &mut bytes {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let typed = &bytes[..(x >> 40) as usize % 18];
            assert_eq!(packed(typed), packed_by_copy(typed), "{typed:?}");
            assert_ne!(packed(typed), Some(EMPTY));
        }
    }
}
