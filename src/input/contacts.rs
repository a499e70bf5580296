//! Contact names by id. A phone number is kept as its digits and shown as `+digits` when
//! asked for, so that a log of millions of contacts holds no string per contact.

use std::borrow::Cow;
use std::sync::Arc;

/// Contacts a chunk of numbers holds: 512 KB of them.
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

/// The numbers are kept in chunks of a fixed size, each one shared once full: the reader
/// hands out its new contacts a batch at a time (`tail`), and every billing thread adds them
/// to its own list (`append`); a full chunk is then shared, not copied, and no list is grown
/// by doubling (each billing thread copied every contact, a list grown by doubling: 12% of
/// the page faults of a 10M-row log).
#[derive(Clone, Debug, Default)]
pub struct Contacts {
    /// The first contact id held: 0, or a `tail`'s first.
    from: u32,
    /// The index of `full`'s first chunk among all chunks (0, or a `tail`'s).
    skip: usize,
    /// Full chunks: a number's digits by contact id; 0 (never a number: they have 7 to 15
    /// digits and no leading zero) for a contact that is not a number.
    full: Vec<Arc<Vec<u64>>>,
    /// The numbers after the full chunks', fewer than a chunk's.
    partial: Vec<u64>,
    /// The names of the contacts that are not numbers, by contact id, in id order.
    ids: Vec<(u32, Box<str>)>,
}

impl Contacts {
    pub fn len(&self) -> usize {
        self.partial_start() + self.partial.len() - self.from as usize
    }

    /// The id of `partial`'s first number.
    fn partial_start(&self) -> usize {
        ((self.skip + self.full.len()) << CHUNK_BITS).max(self.from as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The digits kept for contact `id` (0 for one that is not a number).
    #[inline]
    fn digits(&self, id: u32) -> u64 {
        let chunk = (id >> CHUNK_BITS) as usize;
        match self.full.get(chunk.wrapping_sub(self.skip)) {
            Some(numbers) => numbers[id as usize & (CHUNK - 1)],
            None => self.partial[id as usize - self.partial_start()],
        }
    }

    /// Adds a number's digits, or 0, and gives its id; a chunk filled is put among the full.
    fn push(&mut self, digits: u64) -> u32 {
        let id = (self.partial_start() + self.partial.len()) as u32;
        self.partial.push(digits);
        if self.partial.len() == CHUNK {
            self.fill_chunk();
        }
        id
    }

    #[cold]
    fn fill_chunk(&mut self) {
        let full = std::mem::replace(&mut self.partial, Vec::with_capacity(CHUNK));
        self.full.push(Arc::new(full));
    }

    /// Adds a number (`phone::number_key`) and gives its id.
    pub fn push_number(&mut self, number: u64) -> u32 {
        self.push(number)
    }

    /// Adds a contact that is not a number (a name as typed, trimmed) and gives its id.
    pub fn push_id(&mut self, name: &str) -> u32 {
        let id = self.push(0);
        self.ids.push((id, name.into()));
        id
    }

    pub fn name(&self, id: u32) -> Cow<'_, str> {
        match self.digits(id) {
            0 => Cow::Borrowed(self.id_name(id)),
            n => {
                let (name, len) = number_name(n);
                Cow::Owned(String::from_utf8_lossy(&name[..len]).into_owned())
            }
        }
    }

    /// `name` without allocating: a number's name is made in `buf` (the ledger names a
    /// contact per row).
    pub fn name_in<'a>(&'a self, id: u32, buf: &'a mut [u8; 16]) -> &'a str {
        match self.digits(id) {
            0 => self.id_name(id),
            n => {
                let len;
                (*buf, len) = number_name(n);
                // `+` and digits: always UTF-8.
                std::str::from_utf8(&buf[..len]).unwrap_or_default()
            }
        }
    }

    /// Asks for the cache line of the contact's number, some steps before `number` reads it.
    pub fn prefetch_number(&self, id: u32) {
        let chunk = (id >> CHUNK_BITS) as usize;
        let n = match self.full.get(chunk.wrapping_sub(self.skip)) {
            Some(numbers) => numbers.get(id as usize & (CHUNK - 1)),
            None => (id as usize)
                .checked_sub(self.partial_start())
                .and_then(|k| self.partial.get(k)),
        };
        if let Some(n) = n {
            crate::prefetch::prefetch(n);
        }
    }

    /// The contact's number (its digits), or None for a contact that is not a number.
    pub fn number(&self, id: u32) -> Option<u64> {
        Some(self.digits(id)).filter(|&n| n != 0)
    }

    fn id_name(&self, id: u32) -> &str {
        self.ids
            .binary_search_by_key(&id, |(i, _)| *i)
            .map_or("", |k| &self.ids[k].1)
    }

    /// Each contact's place in the byte order of the names (ids of equal names cannot occur).
    pub fn ranks(&self) -> Vec<u32> {
        // Numbers by a key that orders as their names do: no string to build or follow.
        let all = self.full.iter().flat_map(|c| c.iter()).chain(&self.partial);
        let mut numbers: Vec<(u64, u32)> = (all.enumerate())
            .filter(|(_, &n)| n != 0)
            .map(|(id, &n)| (name_order_key(n), id as u32))
            .collect();
        numbers.sort_unstable();
        // Other names by their first 16 bytes as a number, then by the whole name.
        let mut others: Vec<(u128, u32)> = (self.ids.iter())
            .map(|(id, name)| {
                let mut b = [0u8; 16];
                let k = name.len().min(16);
                b[..k].copy_from_slice(&name.as_bytes()[..k]);
                (u128::from_be_bytes(b), *id)
            })
            .collect();
        others.sort_unstable();
        let mut start = 0;
        while start < others.len() {
            let end = start + others[start..].partition_point(|p| p.0 == others[start].0);
            if end - start > 1 {
                others[start..end].sort_by(|a, b| self.id_name(a.1).cmp(self.id_name(b.1)));
            }
            start = end;
        }
        // The two lists merged by name.
        let mut rank = vec![0u32; self.len()];
        let (mut a, mut b) = (0, 0);
        for k in 0..self.len() as u32 {
            let number_first = match (numbers.get(a), others.get(b)) {
                (Some(&(_, x)), Some(&(_, y))) => {
                    let (digits, len) = number_name(self.digits(x));
                    digits[..len] <= *self.id_name(y).as_bytes()
                }
                (Some(_), None) => true,
                _ => false,
            };
            let id = if number_first {
                a += 1;
                numbers[a - 1].1
            } else {
                b += 1;
                others[b - 1].1
            };
            rank[id as usize] = k;
        }
        rank
    }

    /// The contacts from id `from` on, with their ids (to `append` to a copy of the others):
    /// the full chunks they are in shared, the others' numbers copied.
    pub fn tail(&self, from: u32) -> Contacts {
        debug_assert!(self.from == 0 && self.skip == 0, "a whole list");
        let k = self.ids.partition_point(|(id, _)| *id < from);
        let chunk = (from as usize >> CHUNK_BITS).min(self.full.len());
        let partial_from = (from as usize).saturating_sub(self.full.len() << CHUNK_BITS);
        Contacts {
            from,
            skip: chunk,
            full: self.full[chunk..].to_vec(),
            partial: self.partial[partial_from.min(self.partial.len())..].to_vec(),
            ids: self.ids[k..].to_vec(),
        }
    }

    /// Adds the contacts of `tail`, which follow on from these: its full chunks shared, the
    /// others' numbers copied.
    pub fn append(&mut self, tail: &Contacts) {
        if tail.is_empty() {
            return;
        }
        debug_assert_eq!(
            self.partial_start() + self.partial.len(),
            tail.from as usize
        );
        if !tail.full.is_empty() {
            debug_assert_eq!(
                self.skip + self.full.len(),
                tail.skip,
                "the chunk this fills"
            );
            self.full.extend(tail.full.iter().cloned());
            // The numbers copied so far are in the chunks now: the room is used again.
            self.partial.clear();
        }
        self.partial.extend_from_slice(&tail.partial);
        if self.partial.len() == CHUNK {
            self.fill_chunk();
        }
        self.ids.extend(tail.ids.iter().cloned());
    }

    /// The id of the contact of this name, if any.
    pub fn find(&self, name: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&id| self.name(id) == name)
    }
}

/// A number's name, `+` and its digits (at most 15 digits: 16 bytes), and its length.
fn number_name(n: u64) -> ([u8; 16], usize) {
    let mut b = [0u8; 16];
    let len = (n.checked_ilog10().unwrap_or(0) as usize + 2).min(16);
    b[0] = b'+';
    let mut v = n;
    for i in (1..len).rev() {
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    (b, len)
}

/// Two numbers in the order of their names (`+digits` as text), with no name made: the
/// shorter one's digits padded with zeros on the right compare as the text does, and a
/// number comes before the longer ones it begins (the ledger orders each instant's contacts
/// by name, a comparison per event).
pub fn cmp_number_names(a: u64, b: u64) -> std::cmp::Ordering {
    number_name_key(a).cmp(&number_name_key(b))
}

/// A number (of at most 15 digits) as a key that orders as its name: its digits padded with
/// zeros to 15, then how many digits it has.
pub fn number_name_key(n: u64) -> u64 {
    const POW: [u64; 16] = {
        let mut p = [1u64; 16];
        let mut i = 1;
        while i < 16 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    let digits = (n.checked_ilog10().unwrap_or(0) + 1).min(15);
    (n * POW[15 - digits as usize]) << 4 | u64::from(digits)
}

/// A number (of at most 15 digits) as a key that sorts as its digits do as text: each digit
/// is a base-11 place from the left, 1 to 10, and 0 where a shorter number has ended, so
/// that a number comes before the longer ones it begins.
fn name_order_key(n: u64) -> u64 {
    let (name, len) = number_name(n);
    (1..16).fold(0, |key, i| {
        let place = if i < len {
            (name[i] - b'0' + 1) as u64
        } else {
            0
        };
        key * 11 + place
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranks are the byte order of the names, numbers and other names mixed, names sharing
    /// their first 16 bytes, numbers that begin others.
    #[test]
    fn ranks_are_byte_order() {
        let names = [
            "+380501234567",
            "+12125551234",
            "user-0000000000000000002",
            "user-0000000000000000001",
            "user-000000000000000",
            "user-000000000000000\u{0}",
            "+3",
            "",
            "+3801",
            "+1234567890123",
            "+123456789012",
            "+123456789012345",
            "+999999999999999",
            "+2",
            "+38050123456",
            "+380501234567 x",
        ];
        let mut sorted = names.to_vec();
        sorted.sort();
        // Numbers of 7 to 15 digits are kept as numbers, the rest as names.
        let mut c = Contacts::default();
        for n in names {
            match n.strip_prefix('+').filter(|d| d.len() >= 7) {
                Some(d) if d.bytes().all(|b| b.is_ascii_digit()) => {
                    c.push_number(d.parse().unwrap())
                }
                _ => c.push_id(n),
            };
        }
        let rank = c.ranks();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(sorted[rank[i] as usize], *n, "{n:?}");
            assert_eq!(c.name(i as u32), *n);
        }
    }

    #[test]
    fn numbers_and_ids_keep_their_names_and_order() {
        let mut c = Contacts::default();
        assert_eq!(c.push_number(380501234567), 0);
        assert_eq!(c.push_id("user-7"), 1);
        assert_eq!(c.push_number(123456789012345), 2);
        assert_eq!(c.push_id("a name longer than sixteen bytes"), 3);
        let names: Vec<String> = (0..4).map(|i| c.name(i).into_owned()).collect();
        assert_eq!(
            names,
            [
                "+380501234567",
                "user-7",
                "+123456789012345",
                "a name longer than sixteen bytes"
            ]
        );
        assert_eq!(c.find("user-7"), Some(1));
        assert_eq!(c.find("+123456789012345"), Some(2));
        assert_eq!(c.find("+1"), None);
    }

    /// A list built from tails handed out at every kind of place (inside a chunk, at a
    /// chunk's end, over several chunks) holds what the whole list holds: contact `i` is the
    /// number 10,000,000 + i, or the name `user-i` for every 1,000th.
    #[test]
    fn tails_appended_make_the_whole_list() {
        let contact = |i: u32| i.is_multiple_of(1000).then(|| format!("user-{i}"));
        let cuts = [
            0, 1, 2, 65_535, 65_536, 65_537, 100_000, 131_072, 300_000, 300_001,
        ];
        let (mut whole, mut copy) = (Contacts::default(), Contacts::default());
        let mut sent = 0;
        for cut in cuts {
            for i in whole.len() as u32..cut {
                let id = match contact(i) {
                    Some(name) => whole.push_id(&name),
                    None => whole.push_number(10_000_000 + i as u64),
                };
                assert_eq!(id, i);
            }
            let tail = whole.tail(sent);
            assert_eq!(tail.len(), (cut - sent) as usize);
            copy.append(&tail);
            sent = cut;
            assert_eq!(copy.len(), cut as usize);
        }
        for i in 0..300_001 {
            for c in [&whole, &copy] {
                match contact(i) {
                    Some(name) => assert_eq!((c.number(i), c.name(i)), (None, name.into())),
                    None => assert_eq!(c.number(i), Some(10_000_000 + i as u64), "{i}"),
                }
            }
        }
        assert_eq!(copy.name(65_536), "+10065536");
        // Four full chunks (262,144 contacts), shared by the copy.
        assert_eq!((whole.full.len(), copy.full.len()), (4, 4));
        assert!(Arc::ptr_eq(&whole.full[3], &copy.full[3]));
    }

    /// Numbers compared without their names order as their names do: a number before the
    /// longer ones it begins (+4912 < +491234), padding zeros that are digits of the other
    /// (+49 < +490), shorter but greater (+5 > +49), up to 15 digits.
    #[test]
    fn numbers_compare_as_their_names() {
        let numbers = [
            1u64,
            5,
            49,
            490,
            4900,
            4912,
            491234,
            4912340,
            491235,
            12125551234,
            380501234567,
            999999999999999,
            100000000000000,
            10,
            9,
        ];
        for &a in &numbers {
            for &b in &numbers {
                let text = number_name(a).0.cmp(&number_name(b).0);
                assert_eq!(cmp_number_names(a, b), text, "{a} against {b}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_two_numbers_compare_as_their_names(a in 1u64..1_000_000_000_000_000, b in 1u64..1_000_000_000_000_000, cut in 0u32..10) {
            // Also a number against one that begins it.
            for (x, y) in [(a, b), (a, a / 10u64.pow(cut)), (b / 10u64.pow(cut), b)] {
                if x == 0 || y == 0 {
                    continue;
                }
                let (nx, lx) = number_name(x);
                let (ny, ly) = number_name(y);
                proptest::prop_assert_eq!(cmp_number_names(x, y), nx[..lx].cmp(&ny[..ly]));
            }
        }
    }
}
