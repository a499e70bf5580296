//! The fast way to read a payload line: simd-json (simdjson's algorithm; its AVX2 code chosen at
//! run time where the CPU has it, portable code elsewhere) makes the line a tape, which is
//! walked by hand for the few fields kept. About 1.4x serde_json's typed structs on Meta's
//! payloads (docs/performance.md).
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

impl Reader {
    pub(super) fn new() -> Reader {
        Reader {
            buffers: Buffers::new(4096),
            tape: Tape(Vec::new()),
            copy: Vec::new(),
        }
    }

    /// The items of payload `line` added to `out`; false if not read here (nothing added).
    pub(super) fn read(&mut self, out: &mut Parsed, line_no: u64, line: &[u8]) -> bool {
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
fn payload(out: &mut Parsed, line: u64, t: &[Node]) -> Walk<()> {
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
    line: u64,
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

#[cfg(test)]
mod tests {
    use super::super::{span, Item};
    use super::*;

    /// Meta's payload examples as the fixture has them, the shapes of scripts/make_webhook.py,
    /// and fields in another order, given twice in unknown places, several on a line.
    const LINES: &str = concat!(
        include_str!("../../../tests/fixtures/exports/b-meta-webhook.jsonl"),
        r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100100","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Customer"},"wa_id":"359500161267"}],"messages":[{"from":"359500161267","id":"wamid.IN2","timestamp":"1772323219","type":"text","text":{"body":"Hello, I have a question about my order"},"referral":{"source_url":"https://fb.me/example","source_id":"120000000000000","source_type":"ad","headline":"Spring sale","body":"Chat with us","media_type":"image","ctwa_clid":"ARAkLk"}}]},"field":"messages"}]}]}"#,
        "\n",
        r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550100100","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.OUT100","status":"failed","timestamp":"1773677297","recipient_id":"380600199865","errors":[{"code":131026,"title":"Message undeliverable","message":"Message undeliverable","error_data":{"details":"Message Undeliverable."}}]}]},"field":"messages"}]}]}"#,
        "\n",
        r#"{"entry":[{"changes":[{"value":{"statuses":[{"pricing":{"category":"utility","billable":true},"recipient_id":"1","timestamp":"-5","status":"sent","id":"a"},{"id":"b","x":{"id":1,"id":2}}],"metadata":{"display_phone_number":"7"},"messages":[{"referral":null,"id":"c"},{"referral":{},"from":""}]}},{"field":"x"},{"value":{}}],"id":"W"},{"id":"V"}],"object":1.5e3}"#,
        "\n",
        r#"{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"statuses":[{"id":"m1","status":"delivered","timestamp":"1772438702","recipient_id":"380501110001","pricing":null}]}},{"value":{"metadata":{"display_phone_number":"166"},"messages":[{"from":"3","id":"m2","timestamp":" 1772438702 "}]}}]},{"id":"W2","changes":[{"value":{"metadata":{"display_phone_number":"166"},"messages":[{"from":"3","id":"m3","timestamp":"x"}]}}]}]}"#,
        "\n",
    );

    /// Text put in place of a part of a line, or a field added: wrong types, repeated fields,
    /// escapes, numbers at their limits, nesting, bytes that are not JSON.
    const INSERTED: &[&str] = &[
        r#""id":"x","id":"y""#,
        r#""entry":[],"entry":[]"#,
        r#""timestamp":1772438700"#,
        r#""id":null"#,
        r#""pricing":null"#,
        r#""pricing":["x"]"#,
        r#""pricing":{"category":"a","category":"b"}"#,
        r#""referral":null"#,
        r#""referral":[]"#,
        r#""referral":["ad"]"#,
        r#""referral":{"source_type":""}"#,
        r#""referral":{"source_type":7}"#,
        r#""metadata":null"#,
        r#""metadata":["1"]"#,
        r#""value":null"#,
        r#""value":[{}]"#,
        r#""changes":null"#,
        r#""changes":{}"#,
        r#""entry":null"#,
        r#""entry":{}"#,
        r#""entr\u0079":[]"#,
        r#""st\u0061tuses":[{"id":"\u00e9\ud83d\ude00"}]"#,
        r#""from":"\u00e9""#,
        r#""from":"\ud800""#,
        r#""from":"\udc00""#,
        r#""from":"\ud800\u0041""#,
        r#""from":"\ud800x""#,
        r#""x":"\ud800""#,
        r#""x":"\udc00\udc00""#,
        r#""from":"\u0000\/\b\f\n\r\t\"\\""#,
        r#""from":"\x""#,
        r#""x":"\x""#,
        r#""from":"\u12""#,
        "\"from\":\"a\tb\"",
        "\"x\":\"a\u{1}b\"",
        r#""x":01"#,
        r#""x":-"#,
        r#""x":1."#,
        r#""x":1e"#,
        r#""x":.5"#,
        r#""x":+1"#,
        r#""x":1e400"#,
        r#""x":-1e-400"#,
        r#""x":123456789012345678901234567890"#,
        r#""x":-9223372036854775809"#,
        r#""x":18446744073709551616"#,
        r#""x":-0.0E+0"#,
        r#""x":tru"#,
        r#""x":nul"#,
        r#""x":truex"#,
        r#""x":[1,]"#,
        r#""x":{"a":1,}"#,
        r#""x":{"a"}"#,
        r#""x":{1:2}"#,
        r#""x":'a'"#,
        r#""x":NaN"#,
        "\"x\":\u{a0}1",
        "\"x\":\u{feff}1",
    ];

    /// What a parse added, comparable: its items (strings resolved), sources, rejects.
    type Seen = (Vec<String>, Vec<(String, String)>, Vec<(u64, String)>, bool);

    fn seen(p: &Parsed, kept: bool) -> Seen {
        let item = |i: &Item| {
            let s = |x| span(&p.text, x).to_string();
            let strings = [
                i.id,
                i.timestamp,
                i.contact,
                i.status_or_referral,
                i.category,
            ];
            let strings: Vec<String> = strings.into_iter().map(s).collect();
            format!(
                "{} {:?} {} {:?} {}",
                i.line, i.at, i.inbound, strings, i.source
            )
        };
        let source = |&(a, b): &(super::super::Span, super::super::Span)| {
            (p.get(a).to_string(), p.get(b).to_string())
        };
        let rejects = p.rejects.iter().map(|r| (r.line, r.reason.clone()));
        let items = p.items.iter().map(item).collect();
        (
            items,
            p.sources.iter().map(source).collect(),
            rejects.collect(),
            kept,
        )
    }

    /// The line read as the chunk reader reads it (fast, else serde_json), and by serde_json
    /// alone: the same items, or the same error; and whether the fast path read it.
    fn same_as_serde(reader: &mut Reader, line: &[u8]) -> bool {
        let mut by_serde = Parsed::default();
        // (a blank line is skipped before either is asked)
        let blank = line.iter().all(u8::is_ascii_whitespace);
        let serde_kept = blank || by_serde.line_by_serde(7, line, true);
        let mut fast = Parsed::default();
        let read_fast = reader.read(&mut fast, 7, line);
        if !read_fast {
            assert!(fast.items.is_empty() && fast.sources.is_empty() && fast.text.is_empty());
        }
        let mut both = Parsed::default();
        let kept = both.line(7, line, reader, true);
        assert_eq!(
            seen(&both, kept),
            seen(&by_serde, serde_kept),
            "{}",
            String::from_utf8_lossy(line)
        );
        read_fast
    }

    /// The lines with their bytes mutated: each inserted text in place of each string value
    /// and added after each `{`; bytes cut, doubled and replaced; the line cut short, with
    /// trailing garbage, a BOM, bytes that are not UTF-8, and deep nesting.
    fn mutated(line: &str) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = vec![line.as_bytes().to_vec()];
        let b = line.as_bytes();
        for (i, c) in line.char_indices() {
            if c == '{' {
                for text in INSERTED {
                    let comma = if b.get(i + 1) == Some(&b'}') { "" } else { "," };
                    out.push(format!("{}{text}{comma}{}", &line[..=i], &line[i + 1..]).into());
                }
            }
            // every third byte cut, doubled and replaced (all of them is the same test, slower)
            if i % 3 == 0 {
                out.push([&b[..i], &b[i + 1..]].concat());
                out.push([&b[..=i], &b[i..]].concat());
                for r in [
                    b'"', b'\\', b'}', b']', b',', b':', b'0', b' ', b'\t', 0, 0xff, 0xc3,
                ] {
                    let mut m = b.to_vec();
                    m[i] = r;
                    out.push(m);
                }
            }
            out.push(b[..i].to_vec());
        }
        // a string field's value replaced: `"key":"value"` -> `"key":TEXT`
        for (at, _) in line.match_indices("\":\"") {
            for text in INSERTED
                .iter()
                .filter_map(|t| t.split_once(':').map(|s| s.1))
            {
                let end = at + 3 + line[at + 3..].find('"').unwrap_or(0) + 1;
                out.push(format!("{}\":{text}{}", &line[..at], &line[end..]).into());
            }
        }
        for tail in ["x", "}", "{}", " ", "\r", "\t\r ", ",", "\0", "\u{feff}"] {
            out.push(format!("{line}{tail}").into());
            out.push(format!("{tail}{line}").into());
        }
        for depth in [100, 127, 128, 129, 200, 1023, 1024, 1025, 2000] {
            let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            out.push(line.replacen('{', &format!("{{\"deep\":{deep},"), 1).into());
            let deep = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            out.push(
                line.replacen('{', &format!("{{\"deep\":{deep}1,"), 1)
                    .into(),
            );
        }
        out.push(b"[[]]".to_vec());
        out.push(b"[[{\"id\":\"W\",\"changes\":[]}]]".to_vec());
        out.push(b"{}".to_vec());
        out.push(b"null".to_vec());
        out
    }

    #[test]
    fn the_fast_path_reads_what_serde_json_reads_to_the_same_items_or_leaves_it() {
        let mut reader = Reader::new();
        let (mut lines, mut fast) = (0, 0);
        for line in LINES.lines() {
            assert!(same_as_serde(&mut reader, line.as_bytes()), "{line}");
            for m in mutated(line) {
                lines += 1;
                fast += same_as_serde(&mut reader, &m) as usize;
            }
        }
        // Most mutations leave a payload (a byte of a value changed); many are refused.
        assert!(
            lines > 50_000 && fast > lines / 4,
            "{fast} of {lines} read fast"
        );
    }
}
