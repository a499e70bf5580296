//! Cells made once and copied into many rows, and whole numbers, written without a call to
//! `memcpy` per cell: a row is a dozen short copies, and copies of a length known only at run
//! time went through `memcpy` (a tenth of the ledger's CPU, docs/performance.md, "Ledger,
//! fifth pass"). A short cell is kept padded to a fixed block; the block is copied whole (a
//! few vector moves) and the row cut back to the cell's length.

use super::contact_cell;
use crate::input::Log;

/// The block a short cell is copied as.
const BLOCK: usize = 64;

/// A cell's text, made once, written into many rows.
#[derive(Clone, Default)]
pub(super) struct Block {
    /// The text, then zeros up to at least [`BLOCK`] bytes.
    bytes: Box<[u8]>,
    len: usize,
}

impl Block {
    pub(super) fn new(text: &[u8]) -> Block {
        let mut bytes = Vec::with_capacity(text.len().max(BLOCK));
        bytes.extend_from_slice(text);
        bytes.resize(bytes.capacity(), 0);
        Block {
            bytes: bytes.into(),
            len: text.len(),
        }
    }

    pub(super) fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    #[inline]
    pub(super) fn put(&self, buf: &mut Vec<u8>) {
        match self.bytes.get(..BLOCK) {
            Some(block) if self.len <= BLOCK => {
                let start = buf.len();
                buf.extend_from_slice(block);
                buf.truncate(start + self.len);
            }
            _ => buf.extend_from_slice(self.text()),
        }
    }
}

/// `n` in decimal, its digits written in place: eight at a time made in one `u64` (SWAR:
/// the digit pairs split by multiplications, no division), copied as one block and cut to
/// length. itoa and the copy of its buffer took two calls a number.
#[inline(always)]
pub(super) fn number(buf: &mut Vec<u8>, n: u64) {
    const EIGHT: u64 = 100_000_000;
    if n < EIGHT {
        return digits(buf, n, false);
    }
    if n < EIGHT * EIGHT {
        digits(buf, n / EIGHT, false);
        return digits(buf, n % EIGHT, true);
    }
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `n` (below 10^8) in decimal, or in exactly eight digits (`zeros`: its leading zeros
/// kept).
#[inline(always)]
fn digits(buf: &mut Vec<u8>, n: u64, zeros: bool) {
    // Four digits in each 32-bit half, the first ones in the low half (the first bytes).
    let x = (n / 10_000) | ((n % 10_000) << 32);
    // Each half (below 10^4) into its two pairs, 16 bits each: v / 100 is (v * 10486) >> 20.
    let high = ((x * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let x = high | ((x - high * 100) << 16);
    // Each pair (below 100) into its two digits, a byte each: v / 10 is (v * 103) >> 10.
    let high = ((x * 103) >> 10) & 0x000F_000F_000F_000F;
    let x = high | ((x - high * 10) << 8);
    // Leading zeros: the zero bytes at the low end (at least one digit is kept).
    let skip = if zeros {
        0
    } else {
        (x.trailing_zeros() / 8).min(7)
    };
    let text = (x | 0x3030_3030_3030_3030) >> (8 * skip);
    let start = buf.len();
    buf.extend_from_slice(&text.to_le_bytes());
    buf.truncate(start + 8 - skip as usize);
}

/// Bytes of a contact's slot; its last byte is the cell's length.
const SLOT: usize = 32;

/// A contact's cell in a slot, aligned so that it lies in one cache line.
#[derive(Clone, Copy)]
#[repr(align(32))]
pub(super) struct Slot([u8; SLOT]);

impl Slot {
    /// Writes the cell if it is in the slot (made, and short).
    #[inline]
    pub(super) fn put(&self, buf: &mut Vec<u8>) -> bool {
        match self.0[SLOT - 1] {
            0 | LONG => false,
            len => {
                let start = buf.len();
                buf.extend_from_slice(&self.0);
                buf.truncate(start + len as usize);
                true
            }
        }
    }
}
/// The length byte of a cell too long for its slot (kept in `long`).
const LONG: u8 = u8::MAX;

/// Contacts' cells by contact id, each made once (a contact has many rows). A cell in a slot
/// of its own is one random read a row, where a text and its ends were two or three; the
/// rows' slots are read ahead in a loop of their own ([`ContactCells::gather`]).
#[derive(Default)]
pub(super) struct ContactCells {
    /// By contact id: the cell, padded, its length in the last byte: `0` not made yet (a cell
    /// is never empty: it ends with its comma), [`LONG`] in `long`, its start and end in the
    /// slot's first 16 bytes.
    slots: Vec<Slot>,
    long: Vec<u8>,
}

impl ContactCells {
    /// The cell of every contact of `log`, those of `made` kept.
    pub(super) fn of(log: &Log, made: Option<ContactCells>) -> ContactCells {
        let mut cells = made.unwrap_or_default();
        let mut text = Vec::with_capacity(64);
        for id in 0..log.contacts.len() as u32 {
            if !cells.has(id) {
                text.clear();
                contact_cell(&mut text, log.contacts.name_in(id, &mut [0; 16]));
                cells.set(id, &text);
            }
        }
        cells
    }

    fn has(&self, id: u32) -> bool {
        self.slots
            .get(id as usize)
            .is_some_and(|s| s.0[SLOT - 1] != 0)
    }

    /// Keeps `cell` (not empty) as contact `id`'s.
    pub(super) fn set(&mut self, id: u32, cell: &[u8]) {
        let id = id as usize;
        if id >= self.slots.len() {
            self.slots.resize(id + 1, Slot([0; SLOT]));
        }
        let slot = &mut self.slots[id].0;
        if cell.len() < SLOT {
            slot[..cell.len()].copy_from_slice(cell);
            slot[SLOT - 1] = cell.len() as u8;
        } else {
            let start = self.long.len() as u64;
            self.long.extend_from_slice(cell);
            slot[..8].copy_from_slice(&start.to_le_bytes());
            slot[8..16].copy_from_slice(&(self.long.len() as u64).to_le_bytes());
            slot[SLOT - 1] = LONG;
        }
    }

    /// Writes contact `id`'s cell; false if it is not made.
    pub(super) fn put(&self, id: u32, buf: &mut Vec<u8>) -> bool {
        let Some(slot) = self.slots.get(id as usize) else {
            return false;
        };
        if slot.0[SLOT - 1] != LONG {
            return slot.put(buf);
        }
        let at = |k: usize| u64::from_le_bytes(slot.0[k..k + 8].try_into().unwrap_or([0; 8]));
        let text = self.long.get(at(0) as usize..at(8) as usize);
        buf.extend_from_slice(text.unwrap_or_default());
        true
    }

    /// The slots of `contacts` (an empty one for a contact not made) into `slots`. Read in
    /// a loop of their own, the reads of a million contacts' slots at random overlap, where
    /// one a row made each row wait for its read (a third of a worker's time).
    pub(super) fn gather(&self, contacts: impl Iterator<Item = u32>, slots: &mut Vec<Slot>) {
        slots.clear();
        let empty = Slot([0; SLOT]);
        slots.extend(contacts.map(|id| *self.slots.get(id as usize).unwrap_or(&empty)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_below_ten_million_in_decimal() {
        let mut got = Vec::new();
        let mut want = String::new();
        for n in 0..10_000_000 {
            got.clear();
            number(&mut got, n);
            want.clear();
            std::fmt::Write::write_fmt(&mut want, format_args!("{n}")).unwrap();
            assert_eq!(got, want.as_bytes());
        }
    }

    #[test]
    fn numbers_in_decimal() {
        let mut want = Vec::new();
        let mut got = Vec::new();
        let powers = (0..20).map(|k| 10u64.pow(k));
        let edges = powers.flat_map(|p| [p - 1, p, p + 1, p + p / 2]);
        for n in edges.chain([0, 7, 99, 100, 1_000, 123_456_789, u64::MAX]) {
            want.extend_from_slice(format!("{n},").as_bytes());
            number(&mut got, n);
            got.push(b',');
        }
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn blocks_give_their_text_whatever_its_length() {
        let mut buf = b"x".to_vec();
        let mut want = b"x".to_vec();
        for len in [0, 1, 31, 63, 64, 65, 200] {
            let text: Vec<u8> = (0..len).map(|k| b'a' + (k % 26) as u8).collect();
            Block::new(&text).put(&mut buf);
            want.extend_from_slice(&text);
            assert_eq!(buf, want, "{len}");
        }
    }

    #[test]
    fn contact_cells_short_and_long_made_and_not() {
        let mut cells = ContactCells::default();
        let short = b"tel:+4915112345678,".to_vec();
        let at_most = vec![b'a'; SLOT - 1];
        let long = vec![b'b'; SLOT];
        let longer = vec![b'c'; 300];
        cells.set(3, &short);
        cells.set(0, &long);
        cells.set(1, &at_most);
        cells.set(5, &longer);
        let mut buf = Vec::new();
        assert!(!cells.put(2, &mut buf) && !cells.put(4, &mut buf) && !cells.put(9, &mut buf));
        assert!(buf.is_empty());
        for (id, want) in [(3, &short), (0, &long), (1, &at_most), (5, &longer)] {
            buf.clear();
            assert!(cells.put(id, &mut buf));
            assert_eq!(&buf, want, "{id}");
        }
    }
}
