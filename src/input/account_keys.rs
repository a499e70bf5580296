//! The log's account names, each given a key by whichever parsing thread meets it first. A
//! block hands its accounts to the reader with their keys, which the reader turns into ids
//! by a table instead of hashing each name again; and a parsing thread that has met a
//! spelling once makes nothing for it again. (A log of 50,000 accounts has some 18,000 in
//! every block: each cost three allocations and two hashes of its name per block, and one
//! more hash on the reader's thread, the one that gives ids in order.)
//!
//! Keys follow no order (threads race for them): ids, which do, are still given by the
//! reader in order of first appearance.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The account names met so far in one reading of a log, by key.
pub struct AccountKeys {
    /// Tells one reading's keys from another's in a thread's `Seen`.
    tag: u64,
    names: Mutex<Names>,
}

#[derive(Default)]
struct Names {
    keys: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

static TAGS: AtomicU64 = AtomicU64::new(1);

impl Default for AccountKeys {
    fn default() -> Self {
        AccountKeys {
            tag: TAGS.fetch_add(1, Ordering::Relaxed),
            names: Mutex::default(),
        }
    }
}

impl AccountKeys {
    /// The key of account `name` (given if new) and the name, shared.
    pub fn key(&self, name: &str) -> (u32, Arc<str>) {
        let mut n = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&k) = n.keys.get(name) {
            return (k, n.names[k as usize].clone());
        }
        let k = n.names.len() as u32;
        let name: Arc<str> = name.into();
        n.names.push(name.clone());
        n.keys.insert(name.clone(), k);
        (k, name)
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
    /// By key: the name, and the block (`stamp`) that last gave it a block index, and that
    /// index.
    by_key: Vec<Option<(Arc<str>, u32, u32)>>,
    /// The block being parsed (counted from 1).
    stamp: u32,
}

/// A spelling's name (its key), and the block (`Seen::stamp`) that last gave it an index
/// and that index.
#[derive(Clone, Copy)]
struct Spelling {
    key: u32,
    stamp: u32,
    index: u32,
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

    /// The block index of the account typed `typed` (added to `accounts` and `keys_out` if
    /// the block has not had it yet); `name` reads the field as a name when the spelling is
    /// new to this thread.
    #[inline]
    pub fn block_index<'r>(
        &mut self,
        keys: &AccountKeys,
        typed: &[u8],
        name: impl FnOnce() -> Result<&'r str, String>,
        (accounts, keys_out): (&mut Vec<Arc<str>>, &mut Vec<u32>),
    ) -> Result<u32, String> {
        let packed = packed(typed);
        let spelling = match packed {
            Some(p) => self.short.get_mut(&p),
            None => self.typed.get_mut(typed),
        };
        let spelling = match spelling {
            Some(s) if s.stamp == self.stamp => return Ok(s.index),
            Some(s) => *s,
            None => self.new_spelling(keys, name()?),
        };
        // The first time in this block for this spelling: the name may have its index from
        // another spelling already.
        let Some((name, stamp, index)) = &mut self.by_key[spelling.key as usize] else {
            unreachable!("a spelling's key has its name")
        };
        if *stamp != self.stamp {
            *stamp = self.stamp;
            *index = accounts.len() as u32;
            accounts.push(name.clone());
            keys_out.push(spelling.key);
        }
        let now = Spelling {
            key: spelling.key,
            stamp: self.stamp,
            index: *index,
        };
        match packed {
            Some(p) => self.short.insert(p, now),
            None => self.typed.insert(typed.into(), now),
        };
        Ok(now.index)
    }

    #[cold]
    fn new_spelling(&mut self, keys: &AccountKeys, name: &str) -> Spelling {
        let (key, name) = keys.key(name);
        if self.by_key.len() <= key as usize {
            self.by_key.resize(key as usize + 1, None);
        }
        if self.by_key[key as usize].is_none() {
            self.by_key[key as usize] = Some((name, 0, 0));
        }
        // Stamped with no block, so that the caller gives it this block's index.
        Spelling {
            key,
            stamp: 0,
            index: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_share_a_key_and_a_block_index() {
        let keys = AccountKeys::default();
        let (mut accounts, mut ks) = (Vec::new(), Vec::new());
        let mut seen = Seen::kept(&keys);
        let index = |seen: &mut Seen, typed: &'static str, accounts: &mut _, ks: &mut _| {
            seen.block_index(&keys, typed.as_bytes(), || Ok(typed.trim()), (accounts, ks))
        };
        assert_eq!(index(&mut seen, "a", &mut accounts, &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "b", &mut accounts, &mut ks), Ok(1));
        assert_eq!(index(&mut seen, " a ", &mut accounts, &mut ks), Ok(0));
        assert_eq!(index(&mut seen, "b", &mut accounts, &mut ks), Ok(1));
        assert_eq!(accounts.len(), 2);
        assert_eq!((&*accounts[0], &*accounts[1]), ("a", "b"));
        assert_eq!(ks, [0, 1]);
        // The next block numbers its accounts afresh, with the same keys.
        seen.keep();
        let mut seen = Seen::kept(&keys);
        let (mut accounts, mut ks) = (Vec::new(), Vec::new());
        assert_eq!(index(&mut seen, "b", &mut accounts, &mut ks), Ok(0));
        assert_eq!(index(&mut seen, " a ", &mut accounts, &mut ks), Ok(1));
        assert_eq!(ks, [1, 0]);
        // Another reading starts its own keys.
        seen.keep();
        let other = AccountKeys::default();
        let mut seen = Seen::kept(&other);
        let (mut accounts, mut ks) = (Vec::new(), Vec::new());
        let got = seen.block_index(&other, b"b", || Ok("b"), (&mut accounts, &mut ks));
        assert_eq!((got, ks), (Ok(0), vec![0]));
    }

    #[test]
    fn a_bad_spelling_is_named_and_not_kept() {
        let keys = AccountKeys::default();
        let mut seen = Seen::kept(&keys);
        let (mut accounts, mut ks) = (Vec::new(), Vec::new());
        let got = seen.block_index(
            &keys,
            b"\xff",
            || Err("bad".into()),
            (&mut accounts, &mut ks),
        );
        assert_eq!(got, Err("bad".to_string()));
        assert!(accounts.is_empty() && seen.typed.is_empty() && seen.short.is_empty());
    }

    #[test]
    fn long_spellings_and_short_ones_alike() {
        let keys = AccountKeys::default();
        let mut seen = Seen::kept(&keys);
        let (mut accounts, mut ks) = (Vec::new(), Vec::new());
        let long = "an account name longer than fifteen bytes";
        for typed in ["a", long, "123456789012345", "1234567890123456", long, "a"] {
            let got = seen.block_index(
                &keys,
                typed.as_bytes(),
                || Ok(typed),
                (&mut accounts, &mut ks),
            );
            let want = accounts.iter().position(|n| &**n == typed);
            assert_eq!(got.ok(), want.map(|i| i as u32), "{typed}");
        }
        assert_eq!(accounts.len(), 4);
        assert_eq!(seen.short.len(), 2);
        assert_eq!(seen.typed.len(), 2);
        // A field of 15 bytes and one of 14 with a zero byte after do not meet.
        assert_ne!(packed(b"abcdefghijklmn\0"), packed(b"abcdefghijklmn"));
    }
}
