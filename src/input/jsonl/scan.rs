//! The fastest way to read a payload line: one pass over its bytes by hand, for the plain lines
//! that nearly every webhook log is made of. It keeps the kept fields' places and checks the
//! rest as JSON (skipped values too: their strings, numbers, literals, brackets and commas),
//! then adds the items.
//!
//! Like `tape`, it only reads a line it is sure serde_json reads to the same items; anything
//! else is `Unsure`, nothing is added, and the line goes to the next reader. Unsure: an escape
//! in a key or a kept string (read by `tape`, which unescapes), a control character in any, a
//! nesting deeper than `DEPTH` in a skipped value, a kept field given twice or of another type,
//! and anything that is not JSON. It reads only text already checked as UTF-8
//! (its chunk, or the line itself in a chunk that is not).

use super::{add_message, add_status, source_of, span, Parsed, Span};
use std::ops::Range;

/// Not read here: left to the next reader.
pub(super) struct Unsure;

type Scan<T> = Result<T, Unsure>;

/// Nesting of a skipped value read here (deeper: `Unsure`; serde_json has no limit there).
const DEPTH: u32 = 48;

/// A change's business number, and its messages and statuses (ranges of `Scanner`'s lists).
#[derive(Clone)]
struct Change {
    number: Span,
    messages: Range<usize>,
    statuses: Range<usize>,
}

/// A customer's message: `from`, `id`, `timestamp`, and `referral.source_type` if a referral.
type MessageAt = ([Span; 3], Option<Span>);

/// A parse thread's lists of a line's fields, by place in the line (reused line to line).
#[derive(Default)]
pub(super) struct Scanner {
    /// Each entry's account (`id`) and its changes.
    entries: Vec<(Span, Range<usize>)>,
    changes: Vec<Change>,
    messages: Vec<MessageAt>,
    /// `id`, `status`, `timestamp`, `recipient_id`, `pricing.category`.
    statuses: Vec<[Span; 5]>,
}

impl Scanner {
    /// The items of payload `line` added to `out`; false if not read here (nothing added).
    pub(super) fn read(&mut self, out: &mut Parsed, line_no: u32, line: &str) -> bool {
        // (places in the line are u32: a line of 4 GB or more is left to the other readers)
        if u32::try_from(line.len()).is_err() {
            return false;
        }
        self.entries.clear();
        self.changes.clear();
        self.messages.clear();
        self.statuses.clear();
        let mut c = Cursor {
            b: line.as_bytes(),
            i: 0,
        };
        if self.payload(&mut c, line).is_err() {
            return false;
        }
        c.ws();
        if c.i != line.len() {
            return false;
        }
        // In the order serde's structs give them: by entry, change, messages then statuses.
        for (account, changes) in &self.entries {
            for change in &self.changes[changes.clone()] {
                let s = source_of(out, span(line, *account), span(line, change.number));
                for ([from, id, at], referral) in &self.messages[change.messages.clone()] {
                    let (from, id, at) = (span(line, *from), span(line, *id), span(line, *at));
                    let referral = referral.map(|r| span(line, r));
                    add_message(out, line_no, s, from, id, at, referral);
                }
                for &[a, b, c, d, e] in &self.statuses[change.statuses.clone()] {
                    // (written out: `map` over the array was 0.9% of the whole run)
                    let f = |x| span(line, x);
                    let fields = [f(a), f(b), f(c), f(d), f(e)];
                    add_status(out, line_no, s, fields);
                }
            }
        }
        true
    }

    /// `{"entry": [...]}`.
    fn payload(&mut self, c: &mut Cursor, line: &str) -> Scan<()> {
        let mut seen = 0;
        c.object(|c, key| match span(line, key) {
            "entry" => {
                once(&mut seen, 1)?;
                c.array(|c| self.entry(c, line))
            }
            _ => c.skip(DEPTH),
        })
    }

    /// An entry: its `id` (the account) and `changes[]`.
    fn entry(&mut self, c: &mut Cursor, line: &str) -> Scan<()> {
        let (mut seen, mut account) = (0, Span::default());
        let first = self.changes.len();
        c.object(|c, key| match span(line, key) {
            "id" => {
                once(&mut seen, 1)?;
                account = c.string()?;
                Ok(())
            }
            "changes" => {
                once(&mut seen, 2)?;
                c.array(|c| self.change(c, line))
            }
            _ => c.skip(DEPTH),
        })?;
        self.entries.push((account, first..self.changes.len()));
        Ok(())
    }

    /// A change: its `value` (missing: serde's default, no messages, no business number).
    fn change(&mut self, c: &mut Cursor, line: &str) -> Scan<()> {
        let (m, s) = (self.messages.len(), self.statuses.len());
        let mut change = Change {
            number: Span::default(),
            messages: m..m,
            statuses: s..s,
        };
        let mut seen = 0;
        c.object(|c, key| match span(line, key) {
            "value" => {
                once(&mut seen, 1)?;
                self.value(c, line, &mut change)
            }
            _ => c.skip(DEPTH),
        })?;
        self.changes.push(change);
        Ok(())
    }

    /// A change's value: `metadata.display_phone_number`, `messages[]`, `statuses[]`.
    fn value(&mut self, c: &mut Cursor, line: &str, change: &mut Change) -> Scan<()> {
        let mut seen = 0;
        c.object(|c, key| match span(line, key) {
            "metadata" => {
                once(&mut seen, 1)?;
                let mut seen = 0;
                c.object(|c, key| match span(line, key) {
                    "display_phone_number" => {
                        once(&mut seen, 1)?;
                        change.number = c.string()?;
                        Ok(())
                    }
                    _ => c.skip(DEPTH),
                })
            }
            "messages" => {
                once(&mut seen, 2)?;
                let first = self.messages.len();
                c.array(|c| self.message(c, line))?;
                change.messages = first..self.messages.len();
                Ok(())
            }
            "statuses" => {
                once(&mut seen, 4)?;
                let first = self.statuses.len();
                c.array(|c| self.status(c, line))?;
                change.statuses = first..self.statuses.len();
                Ok(())
            }
            _ => c.skip(DEPTH),
        })
    }

    /// A customer's message: `from`, `id`, `timestamp`, `referral.source_type`.
    fn message(&mut self, c: &mut Cursor, line: &str) -> Scan<()> {
        let (mut seen, mut fields, mut referral) = (0, [Span::default(); 3], None);
        c.object(|c, key| {
            let field = match span(line, key) {
                "from" => 0,
                "id" => 1,
                "timestamp" => 2,
                "referral" => {
                    once(&mut seen, 8)?;
                    referral = c.optional(|c| c.field_of(line, "source_type"))?;
                    return Ok(());
                }
                _ => return c.skip(DEPTH),
            };
            once(&mut seen, 1 << field)?;
            fields[field] = c.string()?;
            Ok(())
        })?;
        self.messages.push((fields, referral));
        Ok(())
    }

    /// A status: `id`, `status`, `timestamp`, `recipient_id`, `pricing.category`.
    fn status(&mut self, c: &mut Cursor, line: &str) -> Scan<()> {
        let (mut seen, mut fields) = (0, [Span::default(); 5]);
        c.object(|c, key| {
            let field = match span(line, key) {
                "id" => 0,
                "status" => 1,
                "timestamp" => 2,
                "recipient_id" => 3,
                "pricing" => {
                    once(&mut seen, 16)?;
                    let category = c.optional(|c| c.field_of(line, "category"))?;
                    fields[4] = category.unwrap_or_default();
                    return Ok(());
                }
                _ => return c.skip(DEPTH),
            };
            once(&mut seen, 1 << field)?;
            fields[field] = c.string()?;
            Ok(())
        })?;
        self.statuses.push(fields);
        Ok(())
    }
}

/// A kept field seen once in its object (`bit` of `seen`); twice is serde's "duplicate field".
fn once(seen: &mut u8, bit: u8) -> Scan<()> {
    match *seen & bit {
        0 => {
            *seen |= bit;
            Ok(())
        }
        _ => Err(Unsure),
    }
}

/// A place in a line. Its small steps are inlined into the readers of each field: a line is
/// about 40 strings, and a call each cost a fifth of the time (measured).
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    /// Past JSON's whitespace.
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The next byte after whitespace (not taken).
    #[inline(always)]
    fn peek(&mut self) -> Scan<u8> {
        self.ws();
        self.b.get(self.i).copied().ok_or(Unsure)
    }

    /// `byte` next, taken.
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> Scan<()> {
        match self.peek()? == byte {
            true => {
                self.i += 1;
                Ok(())
            }
            false => Err(Unsure),
        }
    }

    /// A string with no escape: where its text is.
    #[inline(always)]
    fn string(&mut self) -> Scan<Span> {
        self.eat(b'"')?;
        let start = self.i;
        let end = start + plain_text(&self.b[start..]).ok_or(Unsure)?;
        if self.b[end] != b'"' {
            return Err(Unsure);
        }
        self.i = end + 1;
        Ok(Span(start as u32, (end - start) as u32))
    }

    /// A string skipped, its escapes checked as serde_json checks those of a string it skips:
    /// one of `"\/bfnrt`, or `u` and any four hex digits (a lone surrogate is not looked at
    /// there). A name or a message's text with an escape is common; a kept field with one is
    /// not (`string` leaves it to `tape`).
    fn skipped_string(&mut self) -> Scan<()> {
        self.eat(b'"')?;
        loop {
            let at = self.i + plain_text(&self.b[self.i..]).ok_or(Unsure)?;
            self.i = match (self.b[at], self.b.get(at + 1)) {
                (b'"', _) => {
                    self.i = at + 1;
                    return Ok(());
                }
                (b'\\', Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')) => at + 2,
                (b'\\', Some(b'u')) => {
                    let hex = self.b.get(at + 2..at + 6).ok_or(Unsure)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(Unsure);
                    }
                    at + 6
                }
                _ => return Err(Unsure),
            };
        }
    }

    /// An object, `field(cursor, key)` reading each field's value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, Span) -> Scan<()>) -> Scan<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Unsure),
            }
        }
    }

    /// An array, `element(cursor)` reading each element.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Scan<()>) -> Scan<()> {
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            element(self)?;
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Unsure),
            }
        }
    }

    /// An `Option` of a struct: `null` is `None`.
    fn optional(&mut self, read: impl FnOnce(&mut Self) -> Scan<Span>) -> Scan<Option<Span>> {
        match self.peek()? {
            b'n' => self.word(b"null").map(|()| None),
            _ => read(self).map(Some),
        }
    }

    /// A struct of one string field `name` (missing: empty).
    fn field_of(&mut self, line: &str, name: &str) -> Scan<Span> {
        let (mut seen, mut value) = (0, Span::default());
        self.object(|c, key| match span(line, key) == name {
            true => {
                once(&mut seen, 1)?;
                value = c.string()?;
                Ok(())
            }
            false => c.skip(DEPTH),
        })?;
        Ok(value)
    }

    /// Any value, checked and skipped (nesting at most `depth` more).
    fn skip(&mut self, depth: u32) -> Scan<()> {
        match self.peek()? {
            b'"' => self.skipped_string(),
            b'{' if depth > 0 => self.object(|c, _| c.skip(depth - 1)),
            b'[' if depth > 0 => self.array(|c| c.skip(depth - 1)),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Unsure),
        }
    }

    #[inline(always)]
    fn word(&mut self, word: &[u8]) -> Scan<()> {
        match self.b[self.i..].starts_with(word) {
            true => {
                self.i += word.len();
                Ok(())
            }
            false => Err(Unsure),
        }
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` (serde_json
    /// skips one of any size).
    #[inline(always)]
    fn number(&mut self) -> Scan<()> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Unsure),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.b.get(self.i) {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Scan<()> {
        let start = self.i;
        self.digits();
        match self.i > start {
            true => Ok(()),
            false => Err(Unsure),
        }
    }
}

/// Where the plain text of a string starting `b` stops: its first `"`, `\` or control
/// character. Sixteen bytes at a time (SSE2, every x86_64 has it: a string is 10 to 40
/// bytes, and this is a step or two), the rest eight at a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn plain_text(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(block) = b.get(i..i + 16) {
        let found = stops16(block);
        if found != 0 {
            return Some(i + found.trailing_zeros() as usize);
        }
        i += 16;
    }
    plain_text_by_words(&b[i..]).map(|p| i + p)
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn plain_text(b: &[u8]) -> Option<usize> {
    plain_text_by_words(b)
}

/// The `"`, `\` and control characters of 16 bytes: bit `i` for byte `i`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn stops16(block: &[u8]) -> u32 {
    use std::arch::x86_64::*;
    // (no unsafe load: the halves read as integers and joined in a register)
    let half = |i: usize| i64::from_le_bytes(block[i..i + 8].try_into().unwrap_or_default());
    let (low, high) = (half(0), half(8));
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 processor has it (and these
    // read no memory).
    unsafe {
        let v = _mm_set_epi64x(high, low);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // a byte at most 0x1f: its unsigned minimum with 0x1f is itself
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), control)) as u32
    }
}

/// `plain_text` eight bytes at a time: a byte's top bit is set in `found` where it is one (the
/// lowest set one exactly: the bytes below it borrow nothing).
#[inline(always)]
fn plain_text_by_words(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let quote = v ^ (ONES * b'"' as u64);
        let slash = v ^ (ONES * b'\\' as u64);
        let zero = |x: u64| x.wrapping_sub(ONES) & !x;
        let found = (zero(quote) | zero(slash) | (v.wrapping_sub(ONES * 0x20) & !v)) & TOP;
        if found != 0 {
            return Some(i + found.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    let stop = |&c: &u8| c == b'"' || c == b'\\' || c < 0x20;
    b[i..].iter().position(stop).map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_stops_at_the_first_quote_backslash_or_control_character() {
        let by_bytes = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // every byte value at every place of texts of 0 to 40 bytes, after plain text
        for len in 0..=40 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    // and a later stop, which must not be the one found
                    if at + 3 < len {
                        text[at + 3] = b'"';
                    }
                    assert_eq!(plain_text(&text), by_bytes(&text), "{text:?}");
                    assert_eq!(plain_text_by_words(&text), by_bytes(&text), "{text:?}");
                }
            }
        }
    }
}
