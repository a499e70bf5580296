//! The input cut into blocks that start and end on a record boundary, so that each block can
//! be parsed on its own (in parallel) and give the same records as one pass over the file.

use std::io::Read;

/// About this many bytes per block: big enough to amortise a thread hand-over, small enough to
/// keep both cores busy and the blocks in flight small. Half a megabyte, not one: the blocks,
/// row lists and event lists in flight and kept for reuse take 5-16 MB less at the peak on
/// every shape (10M rows), with the same instructions and times (issue 24, fifteenth pass).
pub const BLOCK_BYTES: usize = 1 << 19;

/// The longest record read by default (`--max-record-bytes` raises it): a bound on the memory a
/// file with no line end (`/dev/zero`, an unclosed quote) can take.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// What stops the reading at the end of a block: the line and the reason.
pub type Fault = (u64, String);

/// A piece of the input holding whole records.
pub struct Block {
    /// The line of the block's first byte in the input (1-based).
    pub first_line: u64,
    pub bytes: Vec<u8>,
    /// `is_plain(&bytes)`, found by the cutter in the pass it makes anyway.
    pub plain: bool,
    /// A fault in the input right after the block's records (an unclosed quote, a record over
    /// the bound): the reading stops there, also when skipping invalid rows.
    pub fault: Option<Fault>,
}

impl Block {
    pub fn new(first_line: u64, bytes: Vec<u8>) -> Block {
        let plain = is_plain(&bytes);
        Block {
            first_line,
            bytes,
            plain,
            fault: None,
        }
    }
}

pub struct Blocks<R> {
    input: R,
    /// Read but not yet handed out: the start of a record that goes on in the next read.
    carry: Vec<u8>,
    eof: bool,
    /// Set once a quote is seen: from then on a newline may sit inside a quoted field, and
    /// the cut is found by a CSV parser instead of the last newline.
    quoted: bool,
    next_line: u64,
    max_record: usize,
    /// A fault was handed out: nothing more is read.
    done: bool,
    /// The field delimiter (`,` unless detected or forced otherwise).
    delimiter: u8,
}

impl<R: Read> Blocks<R> {
    pub fn new(input: R) -> Blocks<R> {
        Blocks {
            input,
            carry: Vec::new(),
            eof: false,
            quoted: false,
            next_line: 1,
            max_record: MAX_RECORD_BYTES,
            done: false,
            delimiter: b',',
        }
    }

    /// Fields are separated by `delimiter` (a quote-aware cut needs to know it).
    pub fn delimiter(mut self, delimiter: u8) -> Blocks<R> {
        self.delimiter = delimiter;
        self
    }

    /// Records longer than `bytes` are a fault (`MAX_RECORD_BYTES` by default).
    pub fn max_record_bytes(mut self, bytes: usize) -> Blocks<R> {
        self.max_record = bytes.max(1);
        self
    }

    /// The next block, or `None` at the end of the input.
    pub fn next_block(&mut self) -> std::io::Result<Option<Block>> {
        self.next_block_in(Vec::new())
    }

    /// `next_block`, reading on in `spare` (emptied here), whose room saves a fresh buffer.
    pub fn next_block_in(&mut self, mut spare: Vec<u8>) -> std::io::Result<Option<Block>> {
        let mut want = BLOCK_BYTES;
        loop {
            if self.done {
                return Ok(None);
            }
            while !self.eof && self.carry.len() < want {
                self.fill(want)?;
            }
            if self.carry.is_empty() {
                return Ok(None);
            }
            // The first quote or CR: the block before it is plain (`is_plain`).
            let special = memchr::memchr2(b'"', b'\r', &self.carry).unwrap_or(usize::MAX);
            let (cut, fault) = if self.eof {
                self.last_cut(special)
            } else {
                (self.cut(special), None)
            };
            if cut == 0 && fault.is_none() {
                if self.carry.len() > self.max_record {
                    return Ok(Some(self.fault_block(self.too_long())));
                }
                // One record longer than a block: read on until it ends (or the bound).
                want = (self.carry.len() * 2).min(self.max_record + 1);
                continue;
            }
            spare.clear();
            spare.extend_from_slice(&self.carry[cut..]);
            let mut bytes = std::mem::replace(&mut self.carry, spare);
            bytes.truncate(cut);
            let first_line = self.next_line;
            // A block before the first quote or CR has only LF line ends.
            self.next_line += if special >= cut {
                memchr::memchr_iter(b'\n', &bytes).count() as u64
            } else {
                line_ends(&bytes, 0, bytes.len())
            };
            self.done = fault.is_some();
            return Ok(Some(Block {
                first_line,
                bytes,
                plain: special >= cut,
                fault,
            }));
        }
    }

    /// The cut at the end of the input: all of it, unless its last record opens a quote that
    /// is never closed (the csv crate would read the rest of the file as one field).
    fn last_cut(&mut self, special: usize) -> (usize, Option<Fault>) {
        let len = self.carry.len();
        if !self.quoted
            && (special >= len || memchr::memchr(b'"', &self.carry[special..]).is_none())
        {
            return (len, None);
        }
        let last = last_record_end(&self.carry, true, self.delimiter);
        match open_quote(&self.carry[last..], self.delimiter) {
            Some(open) => (last, Some(self.unclosed(last + open))),
            None => (len, None),
        }
    }

    /// A block with no records and `fault`; nothing is read after it.
    fn fault_block(&mut self, fault: Fault) -> Block {
        self.done = true;
        self.carry = Vec::new();
        Block {
            first_line: self.next_line,
            bytes: Vec::new(),
            plain: true,
            fault: Some(fault),
        }
    }

    /// The fault of a `carry` (from a record boundary) that holds no record end within the
    /// bound: an unclosed quote if a quoted field is open, else a record too long.
    fn too_long(&self) -> Fault {
        let bound = self.max_record;
        if self.quoted {
            if let Some(open) = open_quote(&self.carry, self.delimiter) {
                let (line, msg) = self.unclosed(open);
                return (line, format!("{msg}; the field runs on past {bound} bytes"));
            }
        }
        let blank = self
            .carry
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let line = self.next_line + line_ends(&self.carry, 0, blank);
        let start = &self.carry[blank..self.carry.len().min(blank + 200)];
        (
            line,
            format!(
                "record longer than {bound} bytes (--max-record-bytes raises the bound) ({})",
                super::shown_bytes(start)
            ),
        )
    }

    /// The fault of a quote at `open` in `carry` that is never closed.
    fn unclosed(&self, open: usize) -> Fault {
        let line = self.next_line + line_ends(&self.carry, 0, open);
        let end = self.carry.len().min(open + 200);
        (
            line,
            format!(
                "unclosed quote: a field opens with a quote that is never closed ({})",
                super::shown_bytes(&self.carry[open..end])
            ),
        )
    }

    /// Reads up to `want` bytes in all into `carry`, straight into its spare room (no zeroing
    /// first, no buffer between the input and the block).
    fn fill(&mut self, want: usize) -> std::io::Result<()> {
        let len = self.carry.len();
        let room = want.max(len + 1) - len;
        self.carry.reserve_exact(room);
        let got = (&mut self.input)
            .take(room as u64)
            .read_to_end(&mut self.carry)?;
        if got == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Where the last complete record of `carry` ends (0: none does); `special`: where its
    /// first quote or CR is, if it has one.
    fn cut(&mut self, special: usize) -> usize {
        if !self.quoted && special < self.carry.len() {
            self.quoted = memchr::memchr(b'"', &self.carry[special..]).is_some();
        }
        if self.quoted {
            last_record_end(&self.carry, false, self.delimiter)
        } else if special < self.carry.len() {
            last_line_end(&self.carry)
        } else {
            memchr::memrchr(b'\n', &self.carry).map_or(0, |i| i + 1)
        }
    }
}

/// The end of the last line of `buf` (LF, CRLF or a CR alone, as old Mac files end lines), not
/// after a CR that ends `buf`: its LF may come with the next read.
fn last_line_end(buf: &[u8]) -> usize {
    let mut end = buf.len();
    while let Some(i) = memchr::memrchr2(b'\n', b'\r', &buf[..end]) {
        if buf[i] == b'\r' && i + 1 == buf.len() {
            end = i;
            continue;
        }
        return i + 1;
    }
    0
}

/// The line ends in `bytes[from..to]`: each LF, and each CR not followed by an LF (old Mac
/// files), as the csv crate ends its records. `bytes` past `to` tells a CRLF from a CR.
pub fn line_ends(bytes: &[u8], from: usize, to: usize) -> u64 {
    let part = &bytes[from..to];
    let lf = memchr::memchr_iter(b'\n', part).count() as u64;
    if memchr::memchr(b'\r', part).is_none() {
        return lf;
    }
    let lone_cr = memchr::memchr_iter(b'\r', part)
        .filter(|&i| bytes.get(from + i + 1) != Some(&b'\n'))
        .count() as u64;
    lf + lone_cr
}

/// Where the quoted field that `record` (from a record boundary, holding no complete record)
/// leaves open starts, if one is open at its end: the `csv` crate's rules (a quote opens a
/// field only at its start; a doubled quote inside is a quote).
fn open_quote(record: &[u8], delimiter: u8) -> Option<usize> {
    let (mut open, mut field_start, mut i) = (None, true, 0);
    while i < record.len() {
        let b = record[i];
        if open.is_some() {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    open = None;
                    field_start = false;
                }
            }
        } else if b == delimiter || b == b'\n' || b == b'\r' {
            field_start = true;
        } else if b == b'"' && field_start {
            open = Some(i);
        } else {
            field_start = false;
        }
        i += 1;
    }
    open
}

/// The end of the last record that is complete in `buf` (which starts at a record boundary),
/// by the rules of the `csv` crate's default reader: quotes, doubled quotes, CR/LF/CRLF. Unless
/// `eof`, a record ending in a CR that ends `buf` does not count: its LF may be in the next read.
fn last_record_end(buf: &[u8], eof: bool, delimiter: u8) -> usize {
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = [0u8; 4096];
    let mut ends = [0usize; 64];
    let (mut pos, mut last) = (0, 0);
    loop {
        let (res, nin, _, _) = rdr.read_record(&buf[pos..], &mut out, &mut ends);
        pos += nin;
        match res {
            csv_core::ReadRecordResult::Record
                if eof || pos < buf.len() || buf[pos - 1] != b'\r' =>
            {
                // A CRLF stays whole in one block, so that its lines are counted once.
                last = pos + (buf[pos - 1] == b'\r' && buf.get(pos) == Some(&b'\n')) as usize;
            }
            csv_core::ReadRecordResult::Record => {}
            // Only where a record ends matters, not its fields.
            csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {
            }
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => {
                return last
            }
        }
    }
}

/// The lines of the records the `csv` crate reads from a block, in order: counted here from
/// the bytes (the crate counts LFs only, and a CR alone ends a line too). The crate gives where
/// a record starts as where the previous one ended, before any blank lines between; those
/// are skipped here, so that an error names the line the user sees.
pub struct RecordLines {
    first_line: u64,
    /// Line ends counted up to `byte`.
    byte: usize,
    ends: u64,
}

impl RecordLines {
    pub fn new(first_line: u64) -> RecordLines {
        RecordLines {
            first_line,
            byte: 0,
            ends: 0,
        }
    }

    /// The line of the record at `pos` in `bytes`; records come in order.
    pub fn line(&mut self, bytes: &[u8], pos: &csv::Position) -> u64 {
        let from = (pos.byte() as usize).clamp(self.byte, bytes.len());
        self.ends += line_ends(bytes, self.byte, from);
        self.byte = from;
        let blank = bytes[from..]
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        self.first_line + self.ends + line_ends(bytes, from, from + blank)
    }
}

/// The delimiters a header is looked at for, `,` first: it wins ties.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The field delimiter of a file whose first line (or more) is `head`: of `,` `;` tab and `|`,
/// the most frequent in the first record outside quotes; `,` when none is there or on a tie (a
/// one-column header has nothing to go by, and `,` is what simcost writes).
pub fn detect_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = counts.iter().copied().max().unwrap_or(0);
    let winners = counts.iter().filter(|&&c| c == best).count();
    match DELIMITERS.iter().zip(counts).find(|(_, c)| *c == best) {
        Some((&d, _)) if best > 0 && winners == 1 => d,
        _ => b',',
    }
}

/// Whether a block can be split without a CSV parser: with no quote and no carriage return,
/// a record is a non-empty line and a field is what lies between commas.
pub fn is_plain(bytes: &[u8]) -> bool {
    memchr::memchr2(b'"', b'\r', bytes).is_none()
}

/// The records of a plain block (`is_plain`) with their lines: what the `csv` crate's reader
/// with delimiter `D` gives for such text (empty lines skipped), found in one pass over the
/// bytes instead of through its state machine, the largest part of reading. The delimiter is a
/// constant so that the `,` path compiles to what it was before other delimiters were read; the
/// reader uses it for `,` only (`rows::Parser::parse` says why).
pub struct PlainRecords<'a, const D: u8> {
    bytes: &'a [u8],
    seps: Separators<'a, D>,
    pos: usize,
    line: u64,
    /// Where each field of the record starts (`Split`), by field modulo `STARTS`.
    starts: [usize; STARTS],
}

/// Field starts a record's table holds: a record of fewer fields (every log's) reads a field
/// from the table by a masked index, with no bounds check and no store of a `Vec`'s length
/// per delimiter (some 50 instructions a row of five fields); a wider one splits itself again.
const STARTS: usize = 64;

/// One record of a `PlainRecords`: field `i` starts at `starts[i]` and ends before the
/// separator before `starts[i + 1]` (the last start is one past the record's end), when the
/// record has fewer than `STARTS` fields (else the table wrapped around).
pub struct Split<'a> {
    rec: &'a [u8],
    starts: &'a [usize; STARTS],
    count: usize,
    delimiter: u8,
}

impl Split<'_> {
    /// The record's length in bytes, its line end left out.
    pub fn byte_len(&self) -> usize {
        self.rec.len()
    }
    #[inline]
    pub fn count(&self) -> usize {
        self.count
    }
    /// Field `i` (below `count`): two starts read, no test of whether it is the first.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        if self.count >= STARTS {
            return self.wide_field(i);
        }
        // Indexed, not `get`: the starts are the record's own, so the test never fails, and
        // `get(..).unwrap_or_default()` took twice its instructions (a select, not a branch).
        let (start, next) = (self.starts[i % STARTS], self.starts[(i + 1) % STARTS]);
        &self.rec[start..next - 1]
    }
    /// Field `i` of a record of `STARTS` fields or more: found by splitting it again (a plain
    /// record has no quotes: each delimiter ends a field).
    #[cold]
    #[inline(never)]
    fn wide_field(&self, i: usize) -> &[u8] {
        let d = self.delimiter;
        (self.rec.split(|&b| b == d).nth(i)).unwrap_or_default()
    }
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.count()).map(|i| self.get(i))
    }
}

impl<'a, const D: u8> PlainRecords<'a, D> {
    pub fn new(block: &'a Block) -> PlainRecords<'a, D> {
        PlainRecords {
            bytes: &block.bytes,
            seps: Separators::new(&block.bytes),
            pos: 0,
            line: block.first_line,
            starts: [0; STARTS],
        }
    }

    /// The next record and its line (a lending iterator: the record borrows the field list).
    #[inline]
    pub fn next_record(&mut self) -> Option<(u64, Split<'_>)> {
        loop {
            if self.pos >= self.bytes.len() {
                return None;
            }
            let start = self.pos;
            self.starts[0] = 0;
            let (end, count) = self.seps.row_end(start, &mut self.starts);
            let line = self.line;
            self.pos = end + 1;
            self.line += 1;
            if end == start {
                continue;
            }
            self.starts[count % STARTS] = end - start + 1;
            return Some((
                line,
                Split {
                    rec: &self.bytes[start..end],
                    starts: &self.starts,
                    count,
                    delimiter: D,
                },
            ));
        }
    }
}

/// The delimiters (`D`) and newlines of a block, found 64 bytes at a time as bit masks: fields
/// are about ten bytes long, too short for a `memchr` call per field to pay.
struct Separators<'a, const D: u8> {
    bytes: &'a [u8],
}

impl<'a, const D: u8> Separators<'a, D> {
    fn new(bytes: &'a [u8]) -> Separators<'a, D> {
        Separators { bytes }
    }

    /// The end of the row that starts at `start` (its newline, or the end of the bytes) and
    /// its count of fields, the place after each of its delimiters (where a field starts,
    /// from `start`) written into `starts` from field 1 on (by field modulo `STARTS`). The
    /// masks are of the 64 bytes from the row's start, so a row shorter than that (nearly
    /// every log's) is seen whole in one window, and the loop over its delimiters runs as
    /// many times on every row of a log. (Windows of fixed 64-byte chunks cut some 70% of
    /// rows in two at a point that moves from row to row: the loop's count and the test of
    /// whether the row ended in the chunk went unpredicted, ~0.9 misses a row.)
    #[inline]
    fn row_end(&mut self, start: usize, starts: &mut [usize; STARTS]) -> (usize, usize) {
        let mut field = 1;
        let mut base = start;
        loop {
            let (seps, newlines) = self.masks(base);
            // The lowest newline's bit, and the delimiters before it (all of them when none).
            let first = newlines & newlines.wrapping_neg();
            let mut delims = seps & first.wrapping_sub(1);
            let from = base - start + 1;
            while delims != 0 {
                starts[field % STARTS] = from + delims.trailing_zeros() as usize;
                field += 1;
                delims &= delims - 1;
            }
            if first != 0 {
                return (base + first.trailing_zeros() as usize, field);
            }
            base += 64;
            if base >= self.bytes.len() {
                return (self.bytes.len(), field);
            }
        }
    }

    /// The masks of the 64 bytes from `at` (below the bytes' length), padded with zero bytes
    /// (neither separator) past the end.
    #[inline(always)]
    fn masks(&self, at: usize) -> (u64, u64) {
        match self.bytes.get(at..at + 64) {
            Some(window) => chunk_masks::<D>(window),
            None => self.tail_masks(at),
        }
    }

    /// `masks` of the block's last bytes, fewer than 64.
    #[cold]
    #[inline(never)]
    fn tail_masks(&self, at: usize) -> (u64, u64) {
        let mut padded = [0u8; 64];
        let tail = &self.bytes[at..];
        padded[..tail.len()].copy_from_slice(tail);
        chunk_masks::<D>(&padded)
    }
}

/// Bit masks of the separators (delimiters `D` and newlines) and of the newlines among 64
/// bytes: bit `i` stands for byte `i`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn chunk_masks<const D: u8>(chunk: &[u8]) -> (u64, u64) {
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 processor has it.
    unsafe { chunk_masks_sse2::<D>(chunk) }
}

/// `chunk_masks` sixteen bytes at a time, with no unsafe load (the halves are read as
/// integers and joined in a register).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn chunk_masks_sse2<const D: u8>(chunk: &[u8]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let comma = _mm_set1_epi8(D as i8);
    let newline = _mm_set1_epi8(b'\n' as i8);
    let (mut seps, mut newlines) = (0u64, 0u64);
    for (k, c) in chunk[..64].chunks_exact(16).enumerate() {
        let half = |i: usize| i64::from_le_bytes(c[i..i + 8].try_into().unwrap_or_default());
        let v = _mm_set_epi64x(half(8), half(0));
        let nl = _mm_cmpeq_epi8(v, newline);
        let sep = _mm_or_si128(_mm_cmpeq_epi8(v, comma), nl);
        seps |= (_mm_movemask_epi8(sep) as u16 as u64) << (16 * k);
        newlines |= (_mm_movemask_epi8(nl) as u16 as u64) << (16 * k);
    }
    (seps, newlines)
}

#[cfg(not(target_arch = "x86_64"))]
fn chunk_masks<const D: u8>(chunk: &[u8]) -> (u64, u64) {
    portable_chunk_masks::<D>(chunk)
}

/// `chunk_masks` a byte at a time: for other targets, and to test the vector one against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn portable_chunk_masks<const D: u8>(chunk: &[u8]) -> (u64, u64) {
    let (mut seps, mut newlines) = (0u64, 0u64);
    for (i, &b) in chunk[..64].iter().enumerate() {
        seps |= ((b == D || b == b'\n') as u64) << i;
        newlines |= ((b == b'\n') as u64) << i;
    }
    (seps, newlines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads with tiny reads and returns the blocks, each checked to hold whole records.
    fn blocks(text: &[u8]) -> Vec<Block> {
        let mut b = Blocks::new(text);
        let mut out = vec![];
        while let Some(block) = b.next_block().unwrap() {
            assert_eq!(
                block.plain,
                is_plain(&block.bytes),
                "line {}",
                block.first_line
            );
            out.push(block);
        }
        out
    }

    #[test]
    fn the_cutter_finds_which_blocks_are_plain() {
        // Plain rows; a CR in the second stretch; a quote in the third. The blocks around each
        // stay plain, also after the quote has made the cutter parse for its cuts.
        let row = b"2026-03-01T00:00:03Z,+77013441170,in,,support\n".repeat(40_000);
        let mut text = row.clone();
        text.extend(b"2026-03-01T00:00:04Z,+77013441170,in,,support\r\n");
        text.extend(&row);
        text.extend(b"2026-03-01T00:00:05Z,\"+7 701 344 1170\",in,,support\n");
        text.extend(&row);
        let got = blocks(&text);
        let plain = got.iter().filter(|b| b.plain).count();
        assert_eq!(
            plain,
            got.len() - 2,
            "all but the blocks with the CR and the quote"
        );
        assert!(got.last().is_some_and(|b| b.plain));
    }

    #[test]
    fn blocks_end_on_record_boundaries_and_count_lines() {
        let row = b"2026-03-01T00:00:03Z,+77013441170,in,,support\n";
        let text: Vec<u8> = row.repeat(50_000);
        let got = blocks(&text);
        assert!(got.len() > 1);
        let mut line = 1;
        for b in &got {
            assert_eq!(b.first_line, line);
            assert_eq!(b.bytes.len() % row.len(), 0);
            line += (b.bytes.len() / row.len()) as u64;
        }
        assert_eq!(got.iter().map(|b| b.bytes.len()).sum::<usize>(), text.len());
    }

    /// Records with their lines, as one csv reader over `bytes` gives them.
    fn records(bytes: &[u8], first_line: u64) -> Vec<(u64, csv::ByteRecord)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut lines = RecordLines::new(first_line);
        rdr.byte_records()
            .map(|r| {
                let r = r.unwrap();
                (lines.line(bytes, r.position().unwrap()), r)
            })
            .collect()
    }

    #[test]
    fn a_quoted_newline_is_not_a_cut() {
        let row = b"1,\"a\nb\"\"\n\",x\r\n2,\"\",y\n";
        let text: Vec<u8> = row.repeat(100_000);
        let got = blocks(&text);
        assert!(got.len() > 1);
        let whole = records(&text, 1);
        let pieces: Vec<_> = got
            .iter()
            .flat_map(|b| records(&b.bytes, b.first_line))
            .collect();
        assert_eq!(whole.len(), 200_000);
        assert_eq!(pieces, whole);
    }

    /// Plain records equal the csv crate's on text of commas, newlines, spaces, empty lines and
    /// fields, with and without a last newline.
    #[test]
    fn plain_records_are_the_csv_records() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let alphabet: &[&[u8]] = &[
            b",",
            b"\n",
            b"\n\n",
            b" ",
            b"a",
            b"17",
            b"\xC3\xA9",
            b"\t",
            b"+",
            b"2026-03-01T00:00:03Z,+77013441170,in,,support",
        ];
        // Texts of up to ~700 bytes: rows and fields that cross the 64-byte masks' bounds.
        for case in 0..4_000 {
            let len = rng.gen_range(0..if case % 2 == 0 { 60 } else { 200 });
            let mut text = Vec::new();
            for _ in 0..len {
                text.extend_from_slice(alphabet[rng.gen_range(0..alphabet.len())]);
            }
            assert!(is_plain(&text));
            let block = Block::new(1 + case, text.clone());
            let mut got = vec![];
            let mut plain = PlainRecords::<b','>::new(&block);
            while let Some((line, rec)) = plain.next_record() {
                got.push((line, rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()));
            }
            let want: Vec<_> = records(&text, 1 + case)
                .into_iter()
                .map(|(line, r)| (line, r.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()))
                .collect();
            assert_eq!(got, want, "text {:?}", String::from_utf8_lossy(&text));
        }
        assert!(!is_plain(b"a,\"b\"\n"));
        assert!(!is_plain(b"a,b\r\n"));
    }

    /// Rows of `STARTS` fields or more (the table wraps around) read each field by splitting
    /// again, and leave the rows after them read from the table as before.
    #[test]
    fn wide_plain_records_are_the_csv_records() {
        let mut text = Vec::new();
        for fields in [1, 5, 62, 63, 64, 65, 130, 5, 200, 2] {
            let row: Vec<String> = (0..fields).map(|i| format!("f{i}")).collect();
            text.extend_from_slice(row.join(",").as_bytes());
            text.push(b'\n');
        }
        let block = Block::new(1, text.clone());
        let mut plain = PlainRecords::<b','>::new(&block);
        let mut counts = vec![];
        while let Some((line, rec)) = plain.next_record() {
            let fields: Vec<&[u8]> = rec.iter().collect();
            counts.push(rec.count());
            for (i, f) in fields.iter().enumerate() {
                assert_eq!(*f, format!("f{i}").as_bytes(), "line {line} field {i}");
            }
        }
        assert_eq!(counts, [1, 5, 62, 63, 64, 65, 130, 5, 200, 2]);
    }

    /// A row ends at its newline (or the bytes' end) wherever that falls from the 64-byte
    /// window at the row's start: its last byte or the first past it, a window later, and
    /// in the block's last bytes, fewer than 64. By hand: `x...x,y,z` of `n` bytes has its
    /// commas at `n - 4` and `n - 2`, so fields 1 and 2 start at `n - 3` and `n - 1`.
    #[test]
    fn rows_end_at_the_window_edges() {
        let row = |n: usize| [vec![b'x'; n - 4], b",y,z".to_vec()].concat();
        for n in [4, 5, 62, 63, 64, 65, 66, 127, 128, 129, 200] {
            for (before, newline) in [(0, true), (0, false), (3, true), (61, true), (70, false)] {
                let mut text = [vec![b'a'; before], row(n)].concat();
                if before > 0 {
                    text[before - 1] = b'\n';
                }
                if newline {
                    text.extend(b"\nq,r\n");
                }
                let mut starts = [0; STARTS];
                let got = Separators::<b','>::new(&text).row_end(before, &mut starts);
                assert_eq!(got, (before + n, 3), "{n} {before} {newline}");
                assert_eq!(starts[1..3], [n - 3, n - 1], "{n} {before} {newline}");
            }
        }
        // An empty line, and a last line of one field with no newline.
        let text = b"\nab";
        let mut starts = [0; STARTS];
        let mut seps = Separators::<b','>::new(text);
        assert_eq!(seps.row_end(0, &mut starts), (0, 1));
        assert_eq!(seps.row_end(1, &mut starts), (3, 1));
    }

    #[test]
    fn vector_masks_match_the_byte_by_byte_ones() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (mut all_seps, mut all_newlines) = (0, 0);
        for _ in 0..10_000 {
            // Mostly separators and the bytes either side of them, so every bit is exercised.
            let chunk: Vec<u8> = (0..64)
                .map(|_| {
                    *[b',', b'\n', b'+', b'-', b'\t', b'\x0b', 0xAC, b'a']
                        .get(rng.gen_range(0..8))
                        .unwrap()
                })
                .collect();
            let (seps, newlines) = chunk_masks::<b','>(&chunk);
            assert_eq!((seps, newlines), portable_chunk_masks::<b','>(&chunk));
            assert_eq!(
                chunk_masks::<b'\t'>(&chunk),
                portable_chunk_masks::<b'\t'>(&chunk)
            );
            all_seps += seps.count_ones();
            all_newlines += newlines.count_ones();
        }
        // A quarter of the bytes are separators, half of those newlines.
        assert!(all_seps > 150_000 && all_newlines > 75_000);
    }

    #[test]
    fn a_record_longer_than_a_block_stays_whole() {
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * BLOCK_BYTES));
        text.extend(b",y\nc,d\n");
        let mut b = Blocks::new(&text[..]).max_record_bytes(4 * BLOCK_BYTES);
        let mut got = vec![];
        while let Some(block) = b.next_block().unwrap() {
            got.push(block);
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].bytes, b"a,b\n");
        assert_eq!(got[1].bytes.len(), text.len() - 4);
        assert_eq!(got[1].first_line, 2);
    }

    /// Each block's first line is the line its first record starts on, counting LF, CRLF and a
    /// CR alone, also when a CRLF straddles the place where a read ends, plain or quoted.
    #[test]
    fn lines_are_counted_for_every_kind_of_line_end() {
        let line_of = |text: &[u8], at: usize| 1 + line_ends(text, 0, at);
        let mut texts: Vec<Vec<u8>> = vec![b"a,b\r".repeat(400_000), b"a,\"b\"\r".repeat(300_000)];
        for first in [&b"x"[..], b"\"x"] {
            // The first line's CR is the last byte of the first read, its LF the first of the next.
            let mut t = first.to_vec();
            t.resize(BLOCK_BYTES - 1, b'x');
            if first.len() > 1 {
                t[BLOCK_BYTES - 2] = b'"';
            }
            t.extend(b"\r\n");
            // More lines than the next read takes (it stops at twice the first, or at the
            // longest record), so that the input does not end within it.
            t.extend(b"c,d\r\ne,f\n".repeat(BLOCK_BYTES / 8));
            texts.push(t);
        }
        for text in texts {
            let mut at = 0;
            let got = blocks(&text);
            assert!(got.len() > 1);
            for b in &got {
                assert_eq!(b.first_line, line_of(&text, at), "block at byte {at}");
                assert!(b.fault.is_none());
                at += b.bytes.len();
            }
            assert_eq!(at, text.len());
        }
    }

    #[test]
    fn an_unclosed_quote_is_a_fault_at_its_line() {
        // At the end of the input: the block keeps the records before it.
        let got = blocks(b"a,b\n1,2\n3,\"x\n4,5\n");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bytes, b"a,b\n1,2\n");
        let (line, msg) = got[0].fault.clone().unwrap();
        assert_eq!(line, 3);
        assert_eq!(
            msg,
            "unclosed quote: a field opens with a quote that is never closed (\"x\\n4,5\\n)"
        );
        // Past the bound, before the end of the input: named at the quote too.
        let mut text = b"a,b\n1,2\r\n3,\"x\n".to_vec();
        text.extend(b"4,5\n".repeat(BLOCK_BYTES / 2));
        let mut b = Blocks::new(&text[..]).max_record_bytes(100);
        let block = b.next_block().unwrap().unwrap();
        assert_eq!(
            (block.bytes.as_slice(), block.fault),
            (&b"a,b\n1,2\r\n"[..], None)
        );
        let block = b.next_block().unwrap().unwrap();
        assert!(block.bytes.is_empty());
        let (line, msg) = block.fault.unwrap();
        assert_eq!(line, 3);
        assert!(msg.ends_with("; the field runs on past 100 bytes"), "{msg}");
        assert!(b.next_block().unwrap().is_none());
        // A quote inside a field, or closed, opens nothing.
        assert_eq!(open_quote(b"1,a\"b,c", b','), None);
        assert_eq!(open_quote(b"1,\"a\"\"b\",c", b','), None);
        assert_eq!(open_quote(b"1,\"a\"\"b,c", b','), Some(2));
        assert_eq!(open_quote(b"1,\"a\"x,\"c\n", b','), Some(7));
    }

    #[test]
    fn a_record_over_the_bound_is_a_fault_in_bounded_memory() {
        // No line end at all (as /dev/zero): the bound is read, no more.
        let mut input = std::io::Read::take(std::io::repeat(0), 1 << 40);
        let mut b = Blocks::new(&mut input).max_record_bytes(5000);
        let block = b.next_block().unwrap().unwrap();
        assert!(block.bytes.is_empty());
        let (line, msg) = block.fault.unwrap();
        assert_eq!(line, 1);
        assert!(msg.starts_with("record longer than 5000 bytes"), "{msg}");
        assert!(b.next_block().unwrap().is_none());
        assert!(input.limit() > (1 << 40) - 2 * BLOCK_BYTES as u64);
        // After whole records, on its own line.
        let mut text = b"a,b\n\n".to_vec();
        text.resize(3 * BLOCK_BYTES, b'y');
        let mut b = Blocks::new(&text[..]).max_record_bytes(BLOCK_BYTES + 10);
        let first = b.next_block().unwrap().unwrap();
        assert_eq!(
            (first.bytes.as_slice(), first.fault.is_none()),
            (&b"a,b\n\n"[..], true)
        );
        let (line, _) = b.next_block().unwrap().unwrap().fault.unwrap();
        assert_eq!(line, 3);
    }

    #[test]
    fn the_delimiter_is_the_most_frequent_outside_quotes() {
        assert_eq!(
            detect_delimiter(b"timestamp,contact,direction\n1;2;3;4;5\n"),
            b','
        );
        assert_eq!(
            detect_delimiter(b"\xEF\xBB\xBFDatum;Kontakt;Richtung\r\n"),
            b';'
        );
        assert_eq!(
            detect_delimiter(b"Date\tFrom\tTo\tBody, with commas\n"),
            b'\t'
        );
        assert_eq!(detect_delimiter(b"a|b|c"), b'|');
        // Inside quotes a delimiter is text: two `;` against one `,` outside.
        assert_eq!(detect_delimiter(b"\"a,b,c\";d;e,f\n"), b';');
        // None, or a tie: a comma.
        assert_eq!(detect_delimiter(b"timestamp\n"), b',');
        assert_eq!(detect_delimiter(b"a;b,c\n"), b',');
        assert_eq!(detect_delimiter(b""), b',');
    }

    /// Plain records with another delimiter equal the csv crate's with it; a comma is then
    /// text.
    #[test]
    fn plain_records_with_other_delimiters_are_the_csv_records() {
        fn check<const D: u8>(text: &[u8]) {
            let block = Block::new(1, text.to_vec());
            let mut got = vec![];
            let mut plain = PlainRecords::<D>::new(&block);
            while let Some((line, rec)) = plain.next_record() {
                got.push((line, rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()));
            }
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(D)
                .from_reader(text);
            let mut lines = RecordLines::new(1);
            let want: Vec<_> = rdr
                .byte_records()
                .map(|r| {
                    let r = r.unwrap();
                    let fields: Vec<Vec<u8>> = r.iter().map(<[u8]>::to_vec).collect();
                    (lines.line(text, r.position().unwrap()), fields)
                })
                .collect();
            assert_eq!(got, want, "{:?}", D as char);
        }
        let row = "2026-11-03 14:03;+380505551234;in;a,b\t|x\n\n";
        let text = row.repeat(40);
        for d in [b';', b'\t', b'|'] {
            let t = text.replace(';', &(d as char).to_string());
            match d {
                b';' => check::<b';'>(t.as_bytes()),
                b'\t' => check::<b'\t'>(t.as_bytes()),
                _ => check::<b'|'>(t.as_bytes()),
            }
        }
        check::<b';'>(text.as_bytes());
    }

    #[test]
    fn a_quoted_cut_follows_the_delimiter() {
        // `"x;y"` opens a quote only at a field's start: after `;`, not after `,`.
        assert_eq!(open_quote(b"1;\"a\n", b';'), Some(2));
        assert_eq!(open_quote(b"1;\"a\n", b','), None);
        let row = b"1;\"a;\nb\";x\n".repeat(200_000);
        let mut b = Blocks::new(&row[..]).delimiter(b';');
        let mut total = 0;
        while let Some(block) = b.next_block().unwrap() {
            assert_eq!(block.bytes.len() % 11, 0);
            total += block.bytes.len();
        }
        assert_eq!(total, row.len());
    }
}
