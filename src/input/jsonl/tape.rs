//! The second way to read a payload line, for those `scan` leaves (an escape in a kept field
//! or a key, a skipped value nested deeper than it goes): simd-json (simdjson's algorithm; its
//! AVX2 code chosen at run time where the CPU has it, portable code elsewhere) makes the line a
//! tape, which is walked by hand for the few fields kept. About 1.3x serde_json's typed structs
//! on Meta's payloads (docs/performance.md).
//!
//! serde_json stays the reference: this path reads a line only where it is sure to give what
//! the serde structs of `jsonl.rs` give, and otherwise says `Unsure`, adding nothing, and the
//! line is read by serde_json (its items, or its error, exactly as before). Unsure: a line
//! simd-json refuses (invalid JSON, a lone surrogate escape, a number out of its range, nesting
//! deeper than 1,024, a byte that is not UTF-8: serde_json accepts some of these in fields it
//! skips), a kept field given twice (serde: "duplicate field"), or of another type than its
//! struct's (an object given as an array, which serde would read, a string given as a number or
//! `null`, which it refuses).

use super::{add_message, add_status, source_of, Parsed};
use simd_json::{tape::Node, Buffers, StaticNode, Tape};

/// Not read here: left to serde_json.
pub(super) struct Unsure;

type Walk<T> = Result<T, Unsure>;

/// A parse thread's buffers, reused from line to line (nothing allocated per line).
pub(super) struct Reader {
    buffers: Buffers,
    tape: Tape<'static>,
    /// The line copied, with the padding simd-json reads past its end.
    copy: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Reader {
        Reader {
            buffers: Buffers::new(4096),
            tape: Tape(Vec::new()),
            copy: Vec::new(),
        }
    }
}

impl Reader {
    /// The items of payload `line` added to `out`; false if not read here (nothing added).
    pub(super) fn read(&mut self, out: &mut Parsed, line_no: u32, line: &[u8]) -> bool {
        self.copy.clear();
        self.copy.extend_from_slice(line);
        self.copy
            .resize(line.len() + simd_json::INPUT_PADDING, b' ');
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let parsed =
            simd_json::fill_tape_padded(&mut self.copy, line.len(), &mut self.buffers, &mut tape);
        let read = parsed.is_ok() && {
            let mark = (out.items.len(), out.sources.len(), out.text.len());
            let walked = payload(out, line_no, &tape.0);
            if walked.is_err() {
                out.items.truncate(mark.0);
                out.sources.truncate(mark.1);
                out.text.truncate(mark.2);
            }
            walked.is_ok()
        };
        self.tape = tape.reset();
        read
    }
}

/// Where the value at `i` ends: the index after its last node.
fn end(t: &[Node], i: usize) -> usize {
    match t[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => i + 1 + count,
        _ => i + 1,
    }
}

/// The values of the fields `names` of the object at `i` (by index in the tape), as a serde
/// struct of those fields reads them: other fields skipped, a field given twice unsure.
fn fields<const N: usize>(t: &[Node], i: usize, names: [&str; N]) -> Walk<[Option<usize>; N]> {
    let Node::Object { len, .. } = t[i] else {
        return Err(Unsure);
    };
    let mut found = [None; N];
    let mut at = i + 1;
    for _ in 0..len {
        let Node::String(key) = t[at] else {
            return Err(Unsure);
        };
        let value = at + 1;
        if let Some(n) = names.iter().position(|name| *name == key) {
            if found[n].replace(value).is_some() {
                return Err(Unsure);
            }
        }
        at = end(t, value);
    }
    Ok(found)
}

/// The elements of a `Vec` field (missing: none), by index in the tape.
fn elements<'t>(t: &'t [Node], i: Option<usize>) -> Walk<impl Iterator<Item = usize> + 't> {
    let (first, len) = match i.map(|i| (i, t[i])) {
        None => (0, 0),
        Some((i, Node::Array { len, .. })) => (i + 1, len),
        Some(_) => return Err(Unsure),
    };
    let mut at = first;
    Ok((0..len).map(move |_| {
        let element = at;
        at = end(t, element);
        element
    }))
}

/// A string field (missing: empty).
fn string<'a>(t: &[Node<'a>], i: Option<usize>) -> Walk<&'a str> {
    match i.map(|i| t[i]) {
        None => Ok(""),
        Some(Node::String(s)) => Ok(s),
        Some(_) => Err(Unsure),
    }
}

/// An `Option` field: `None` when missing or `null`.
fn optional(t: &[Node], i: Option<usize>) -> Option<usize> {
    i.filter(|&i| !matches!(t[i], Node::Static(StaticNode::Null)))
}

/// The payload at the tape's start: `entry[]`.
fn payload(out: &mut Parsed, line: u32, t: &[Node]) -> Walk<()> {
    let [entry] = fields(t, 0, ["entry"])?;
    for e in elements(t, entry)? {
        let [id, changes] = fields(t, e, ["id", "changes"])?;
        let account = string(t, id)?;
        for c in elements(t, changes)? {
            let [value] = fields(t, c, ["value"])?;
            change_value(out, line, t, value, account)?;
        }
    }
    Ok(())
}

/// A change's `value` (missing: as serde's default, no messages, no business number): its
/// business number, `messages[]` and `statuses[]`.
fn change_value(
    out: &mut Parsed,
    line: u32,
    t: &[Node],
    value: Option<usize>,
    account: &str,
) -> Walk<()> {
    let [metadata, messages, statuses] = match value {
        Some(v) => fields(t, v, ["metadata", "messages", "statuses"])?,
        None => [None; 3],
    };
    let number = match metadata {
        Some(m) => string(t, fields(t, m, ["display_phone_number"])?[0])?,
        None => "",
    };
    // Checked before any is added: the source is added only for a value serde reads.
    let (messages, statuses) = (elements(t, messages)?, elements(t, statuses)?);
    let source = source_of(out, account, number);
    for m in messages {
        let [from, id, timestamp, referral] =
            fields(t, m, ["from", "id", "timestamp", "referral"])?;
        let referral = match optional(t, referral) {
            Some(r) => Some(string(t, fields(t, r, ["source_type"])?[0])?),
            None => None,
        };
        let (from, id, timestamp) = (string(t, from)?, string(t, id)?, string(t, timestamp)?);
        add_message(out, line, source, from, id, timestamp, referral);
    }
    for s in statuses {
        let names = ["id", "status", "timestamp", "recipient_id", "pricing"];
        let [id, status, timestamp, recipient, pricing] = fields(t, s, names)?;
        let category = match optional(t, pricing) {
            Some(p) => string(t, fields(t, p, ["category"])?[0])?,
            None => "",
        };
        let (id, status) = (string(t, id)?, string(t, status)?);
        let (timestamp, recipient) = (string(t, timestamp)?, string(t, recipient)?);
        add_status(
            out,
            line,
            source,
            [id, status, timestamp, recipient, category],
        );
    }
    Ok(())
}
