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
    short: FxHashMap<u128, Spelling>,
    /// The same for longer fields.
    typed: FxHashMap<Box<[u8]>, Spelling>,
    /// By key: the name (this thread's own copy: nothing shared between cores changes per
    /// row), and for a name met in several spellings the block index they share.
    by_key: Vec<Option<Name>>,
    /// The block being parsed (counted from 1).
    stamp: u32,
}

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

/// A field of up to 15 bytes as one integer, its length in the top byte.
#[inline(always)]
fn packed(typed: &[u8]) -> Option<u128> {
    if typed.len() > 15 {
        return None;
    }
    let mut bytes = [0u8; 16];
    bytes[..typed.len()].copy_from_slice(typed);
    bytes[15] = typed.len() as u8;
    Some(u128::from_le_bytes(bytes))
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
                short: FxHashMap::default(),
                typed: FxHashMap::default(),
                by_key: Vec::new(),
                stamp: 0,
            },
        };
        seen.stamp = seen.stamp.wrapping_add(1).max(1);
        seen
    }

    /// Keeps what was seen for this thread's next block.
    pub fn keep(self) {
        KEPT.with(|k| *k.borrow_mut() = Some(self));
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
        let packed = packed(typed);
        let spelling = match packed {
            Some(p) => self.short.get_mut(&p),
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
                        Typed::Short(p) => self.short.get_mut(&p),
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
            None => self.typed.insert(typed.into(), now),
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
        seen.keep();
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, " a ", &mut ks), Ok(1));
        assert_eq!(index(&mut seen, "a", &mut ks), Ok(1));
        assert_eq!(ks, [1, 0]);
        // A second spelling met after the first in a block shares its index, and in the
        // blocks after.
        assert_eq!(index(&mut seen, "b ", &mut ks), Ok(0));
        seen.keep();
        let mut seen = Seen::kept(&keys);
        let mut ks = Vec::new();
        assert_eq!(index(&mut seen, "b ", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "a", &mut ks), Ok(1));
        assert_eq!(index(&mut seen, "b", &mut ks), Ok(0));
        assert_eq!(index(&mut seen, " a ", &mut ks), Ok(1));
        assert_eq!(ks, [1, 0]);
        // Another reading starts its own keys.
        seen.keep();
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
}
