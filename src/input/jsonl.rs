//! `--source meta-webhook`: WhatsApp Cloud API webhook payloads, one JSON object per line, read
//! into the log's own fields (`rows::FIELDS`, what a canonical CSV row holds), given to the
//! reader message by message.
//!
//! `entry[].changes[].value` holds `messages[]` (the customer's: `from`, `id`, `timestamp`,
//! `referral`) and `statuses[]` (the business's: `id`, `status`, `timestamp`, `recipient_id`,
//! `pricing.category`); `metadata.display_phone_number` is the business number and `entry[].id`
//! the WhatsApp Business Account (the report's account). A business message is one message
//! however many statuses it has: timed by its earliest, with the status of its latest, its
//! category from `pricing.category` (`service` is a free-form message). Payloads are
//! documented at developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples.

#[cfg(test)]
mod differential;
mod merge;
pub(crate) use merge::Messages;
mod scan;
mod tape;

use super::export::{Normalised, Values};
use super::lines::parse_chunks;
#[cfg(test)]
use super::lines::CHUNK;
use super::{shown_bytes, Reject};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    entry: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow, default)]
    value: Value<'a>,
}

#[derive(Deserialize, Default)]
struct Value<'a> {
    #[serde(borrow, default)]
    metadata: Metadata<'a>,
    #[serde(borrow, default)]
    messages: Vec<Message<'a>>,
    #[serde(borrow, default)]
    statuses: Vec<Status<'a>>,
}

#[derive(Deserialize, Default)]
struct Metadata<'a> {
    #[serde(borrow, default)]
    display_phone_number: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    from: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    timestamp: Cow<'a, str>,
    #[serde(borrow, default)]
    referral: Option<Referral<'a>>,
}

#[derive(Deserialize)]
struct Referral<'a> {
    #[serde(borrow, default)]
    source_type: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    timestamp: Cow<'a, str>,
    #[serde(borrow, default)]
    recipient_id: Cow<'a, str>,
    #[serde(borrow, default)]
    pricing: Option<Pricing<'a>>,
}

#[derive(Deserialize)]
struct Pricing<'a> {
    #[serde(borrow, default)]
    category: Cow<'a, str>,
}

/// The kind of a business message by its `pricing.category`: `service` (and the free
/// `referral_conversion` of an entry point) is free-form; the international authentication
/// rate and Marketing Messages Lite are their categories' (the engine prices them).
fn kind_of(category: &str) -> &str {
    match category {
        "service" | "referral_conversion" => "",
        "authentication_international" => "authentication",
        "marketing_lite" => "marketing",
        c => c,
    }
}

/// A string kept in a chunk's `text`: where it starts, and its length (a chunk is a few MB).
#[derive(Clone, Copy, Default)]
struct Span(u32, u32);

/// One message or status of a payload, its strings kept in its chunk's `text`. Kept for
/// every line until the messages are written (48 bytes: its strings' places as one start and
/// their lengths, its time and whether it has one apart).
struct Item {
    /// Its time, if `timed` (it read; else the item is a message of its own).
    at: i64,
    /// Where its strings start in its chunk's `text`: its id, timestamp, contact (`from` of a
    /// message, `recipient_id` of a status), status word or referral source ("" when none),
    /// category, one after the other; and their lengths.
    text: u32,
    lens: [u32; 5],
    /// Its line in its chunk, from 0 (`Parsed::first_line` is the chunk's first).
    line: u32,
    /// Index into `Parsed::sources`: the payload's account and business number.
    source: u32,
    /// The next item of its message in the chunk (`u32::MAX`: none).
    next: u32,
    timed: bool,
    inbound: bool,
}

impl Item {
    /// Its time, read (`None`: it does not read).
    fn at(&self) -> Option<i64> {
        self.timed.then_some(self.at)
    }

    /// Its string `k` (0 id, 1 timestamp, 2 contact, 3 status or referral, 4 category).
    #[inline]
    fn string(&self, k: usize) -> Span {
        let before: u32 = self.lens[..k].iter().sum();
        Span(self.text + before, self.lens[k])
    }

    fn id(&self) -> Span {
        self.string(0)
    }

    fn timestamp(&self) -> Span {
        self.string(1)
    }

    fn contact(&self) -> Span {
        self.string(2)
    }

    fn status_or_referral(&self) -> Span {
        self.string(3)
    }

    fn category(&self) -> Span {
        self.string(4)
    }
}

/// A chunk of the file, parsed: its items, the (account, business number) pairs they name,
/// the strings of both, and its first bad line if any.
#[derive(Default)]
struct Parsed {
    text: String,
    items: Vec<Item>,
    sources: Vec<(Span, Span)>,
    /// (Their lines, as items', in the chunk from 0 until `first_line` is known.)
    rejects: Vec<Reject>,
    failed: Option<(u64, String)>,
    /// The lines the chunk ends (its `\n`), counted as it is parsed; the number of its first
    /// line in the file, from those of the chunks before it.
    lines: u64,
    first_line: u64,
    /// Its items made messages (`merge`), and their ids' hashes (`merge::UNKEYED`: none).
    messages: Vec<merge::Local>,
    hashes: Vec<u64>,
}

impl Parsed {
    fn keep(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span(start as u32, s.len() as u32)
    }

    fn get(&self, s: Span) -> &str {
        span(&self.text, s)
    }

    /// An item of line `line` and source `source`, its strings (id, timestamp, contact,
    /// status or referral, category) kept one after the other.
    fn item(&mut self, line: u32, source: u32, inbound: bool, strings: [&str; 5]) -> Item {
        let text = self.text.len() as u32;
        for s in strings {
            self.text.push_str(s);
        }
        let at = read_time(strings[1]);
        Item {
            at: at.unwrap_or_default(),
            text,
            lens: strings.map(|s| s.len() as u32),
            line,
            source,
            next: u32::MAX,
            timed: at.is_some(),
            inbound,
        }
    }
}

/// The string `s` of a chunk's `text`.
fn span(text: &str, s: Span) -> &str {
    &text[s.0 as usize..(s.0 + s.1) as usize]
}

/// What `canonical` gives: the counts and rejects (`Normalised::csv` and `lines` left empty),
/// the messages to read as canonical rows, and the input's bytes if kept.
pub type Webhook<'v> = (Normalised, Messages<'v>, Vec<u8>);

/// The payloads of `input` in canonical form; `values`: the value maps (`--map-value`).
/// Read a chunk of `chunk` bytes (`lines::CHUNK`) at a time and parsed on `threads` cores
/// (0: every one); the messages are then made in file order, and given as canonical fields
/// as those are read. With `skip_invalid`, a line that is not a payload is a reject; with
/// `keep` too, the input's bytes are given back (to give a rejected row back as it was);
/// else an empty vector.
pub fn canonical_in(
    input: impl std::io::Read + Send,
    chunk: usize,
    values: &Values,
    (skip_invalid, keep): (bool, bool),
    threads: usize,
) -> std::result::Result<Webhook<'_>, (u64, String)> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let parse = |part: &[u8]| parse_part(part, skip_invalid);
    let (mut parsed, whole) = parse_chunks(input, chunk, threads, skip_invalid && keep, parse)
        .map_err(|e| (0, format!("cannot read CSV ({e})")))?;
    let mut first_line = 1;
    for p in &mut parsed {
        p.first_line = first_line;
        first_line += p.lines;
    }
    // (A chunk's count of lines is cut short by its failure: the chunks after it do not matter.)
    let failed = parsed.iter_mut().find_map(|p| {
        let first = p.first_line;
        p.failed.take().map(|(line, why)| (first + line, why))
    });
    if let Some(failed) = failed {
        return Err(failed);
    }
    let mut rejects = Vec::new();
    for p in &mut parsed {
        for r in &mut p.rejects {
            r.line += p.first_line;
        }
        rejects.append(&mut p.rejects);
    }
    let (n, rows) = merge::canonical(parsed, values, rejects, threads);
    Ok((n, rows, whole))
}

/// The items of one chunk of the file. Each line is read by the fastest reader sure to read
/// it as serde_json does: `scan` (plain lines of UTF-8, checked once a chunk), else
/// `tape` (simd-json), else serde_json itself (and its error).
fn parse_part(part: &[u8], skip_invalid: bool) -> Parsed {
    let mut out = Parsed::default();
    // Lines are a few hundred bytes, each about one item with a few short strings (a ninth
    // of the line): sized once, with room to spare, rather than grown (a copy, its pages
    // faulted in again); the pages past what is used are never touched.
    out.items.reserve(part.len() / 128 + 16);
    out.text.reserve(part.len() / 4);
    let text = std::str::from_utf8(part).ok();
    let mut readers = Readers::default();
    for (n, at) in lines(part).enumerate() {
        // the lines' ends: every piece but the last (after the last `\n`)
        out.lines = n as u64;
        let bytes = &part[at.clone()];
        // (in a chunk that is not UTF-8, each line checked: the others still are)
        let line = (
            bytes,
            text.map_or_else(|| std::str::from_utf8(bytes).ok(), |t| Some(&t[at])),
        );
        if !out.line(n as u32, line, &mut readers, skip_invalid) {
            break;
        }
    }
    merge::merge_chunk(&mut out);
    out
}

/// A parse thread's fast readers (their buffers reused from line to line).
#[derive(Default)]
struct Readers {
    scan: scan::Scanner,
    tape: tape::Reader,
}

/// Where the lines of `bytes` are (as `split(b'\n')` cuts them, memchr's faster search).
fn lines(bytes: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    ends.map(move |end| {
        let line = start..end;
        start = end + 1;
        line
    })
}

impl Parsed {
    /// A payload line's items added (its bytes, and its text if known to be UTF-8); false if
    /// it is not a payload and that ends the read.
    fn line(
        &mut self,
        line_no: u32,
        (line, text): (&[u8], Option<&str>),
        readers: &mut Readers,
        skip_invalid: bool,
    ) -> bool {
        if line.iter().all(u8::is_ascii_whitespace)
            || text.is_some_and(|text| readers.scan.read(self, line_no, text))
            || readers.tape.read(self, line_no, line)
        {
            return true;
        }
        self.line_by_serde(line_no, line, skip_invalid)
    }

    /// `line` read by serde_json (the reference: its items, or its error).
    fn line_by_serde(&mut self, line_no: u32, line: &[u8], skip_invalid: bool) -> bool {
        match serde_json::from_slice::<Payload>(line) {
            Ok(p) => add_payload(self, line_no, p),
            Err(e) => {
                let reason = format!("not a webhook payload: {e} ({})", shown_bytes(line));
                if !skip_invalid {
                    self.failed = Some((line_no.into(), reason));
                    return false;
                }
                self.rejects.push(Reject {
                    line: line_no.into(),
                    reason,
                    fields: vec![line.to_vec()],
                });
            }
        }
        true
    }
}

/// A payload's messages and statuses, as items.
fn add_payload(out: &mut Parsed, line: u32, p: Payload<'_>) {
    for entry in p.entry {
        for change in entry.changes {
            let value = change.value;
            let s = source_of(out, &entry.id, &value.metadata.display_phone_number);
            for m in value.messages {
                let referral = m.referral.as_ref().map(|r| &*r.source_type);
                add_message(out, line, s, &m.from, &m.id, &m.timestamp, referral);
            }
            for st in value.statuses {
                let category = st.pricing.map(|p| p.category).unwrap_or_default();
                let fields = [
                    &*st.id,
                    &st.status,
                    &st.timestamp,
                    &st.recipient_id,
                    &category,
                ];
                add_status(out, line, s, fields);
            }
        }
    }
}

/// The index of a change's (account, business number) in `out.sources` (the last one again
/// when it is the same: a chunk's lines mostly name one).
fn source_of(out: &mut Parsed, account: &str, number: &str) -> u32 {
    (match out.sources.last() {
        Some(&(a, b)) if out.get(a) == account && out.get(b) == number => out.sources.len() - 1,
        _ => {
            let source = (out.keep(account), out.keep(number));
            out.sources.push(source);
            out.sources.len() - 1
        }
    }) as u32
}

/// A customer's message (`messages[]`) as an item; `referral`: its `referral.source_type`
/// (`None`: no referral; empty: a referral of no type given).
fn add_message(
    out: &mut Parsed,
    line: u32,
    source: u32,
    from: &str,
    id: &str,
    timestamp: &str,
    referral: Option<&str>,
) {
    let referral = match referral {
        Some("") => "referral",
        Some(r) => r,
        None => "",
    };
    let strings = [id, timestamp, from, referral, ""];
    let item = out.item(line, source, true, strings);
    out.items.push(item);
}

/// A business message's status (`statuses[]`) as an item: its `id`, `status`, `timestamp`,
/// `recipient_id` and `pricing.category` ("" for none).
fn add_status(out: &mut Parsed, line: u32, source: u32, fields: [&str; 5]) {
    let [id, status, timestamp, recipient, category] = fields;
    let strings = [id, timestamp, recipient, status, category];
    let item = out.item(line, source, false, strings);
    out.items.push(item);
}

/// A Unix time in seconds, as a payload's `timestamp` holds it.
fn read_time(timestamp: &str) -> Option<i64> {
    // `input::trim`: `str::trim`, its quick way out for the usual time with nothing to trim
    super::trim(timestamp).parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::rows::N_FIELDS;

    const SEVERAL: &str = r#"{"entry":[{"id":"W","unknown":{"a":[1,2.5e3,{"b":null}]},"changes":[{"value":{"metadata":{"display_phone_number":"155"},"statuses":[{"id":"m1","status":"delivered","timestamp":"1772438702","recipient_id":"380501110001","new_field":true},{"id":"m2","status":"sent","timestamp":"1772438800","recipient_id":"380501110002","pricing":{"category":"utility","billable":true}}]}}]}]}

{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"statuses":[{"id":"m1","status":"sent","timestamp":"1772438700","recipient_id":"380501110001","pricing":{"category":"marketing"}}]}}]}]}
{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"messages":[{"from":"380501110003","id":"i1","timestamp":"1772438600","referral":{"headline":"x"}}]}}]}]}
"#;

    fn read(text: &str, chunk: usize, skip: bool) -> Result<(Normalised, Vec<u8>), (u64, String)> {
        read_bytes(text.as_bytes(), chunk, skip)
    }

    fn read_bytes(
        text: &[u8],
        chunk: usize,
        skip: bool,
    ) -> Result<(Normalised, Vec<u8>), (u64, String)> {
        with_csv(canonical_in(
            text,
            chunk,
            &vec![Vec::new(); N_FIELDS],
            (skip, true),
            2,
        ))
    }

    /// The messages written into `Normalised::csv` as canonical rows, their lines into
    /// `Normalised::lines`.
    fn with_csv(
        read: Result<Webhook<'_>, (u64, String)>,
    ) -> Result<(Normalised, Vec<u8>), (u64, String)> {
        let (mut n, messages, whole) = read?;
        assert!(n.csv.is_empty() && n.lines.is_empty());
        (n.csv, n.lines) = messages.write_csv();
        Ok((n, whole))
    }

    #[test]
    fn several_statuses_a_line_unknown_fields_and_a_status_before_its_sent() {
        for chunk in [16, 300, CHUNK] {
            let (n, whole) = read(SEVERAL, chunk, false).unwrap();
            // m1: its delivered status (line 1) came before its sent (line 3): one message,
            // timed by sent (the earlier), status delivered (the later), the category sent's.
            assert_eq!(
                String::from_utf8(n.csv).unwrap(),
                "timestamp,contact,direction,country,kind,account,status,business_number,entry_point\n\
                 1772438700,380501110001,out,,marketing,W,delivered,155,\n\
                 1772438800,380501110002,out,,utility,W,sent,155,\n\
                 1772438600,380501110003,in,,,W,,155,referral\n",
                "chunks of {chunk} bytes"
            );
            assert_eq!(n.lines, [0, 1, 3, 1, 4]);
            assert_eq!((n.records, n.merged), (4, 1));
            assert!(whole.is_empty());
        }
    }

    #[test]
    fn a_bad_line_is_named_by_its_line_in_any_chunk() {
        let text = SEVERAL.replacen("\n\n", "\n{not json\n", 1);
        for chunk in [16, CHUNK] {
            let (line, why) = read(&text, chunk, false).err().unwrap();
            assert_eq!(line, 2);
            assert!(
                why.starts_with("not a webhook payload: key must be a string"),
                "{why}"
            );
            let (n, whole) = read(&text, chunk, true).unwrap();
            assert_eq!(n.rejects.len(), 1);
            assert_eq!((n.rejects[0].line, n.records), (2, 5));
            assert_eq!(n.rejects[0].fields, [b"{not json".to_vec()]);
            assert_eq!(whole, text.as_bytes(), "kept whole for --rejects");
            // Without --rejects: nothing kept, the reject the same (its own line kept).
            let values = vec![Vec::new(); N_FIELDS];
            let read = canonical_in(text.as_bytes(), chunk, &values, (true, false), 2);
            let (without, whole) = with_csv(read).unwrap();
            assert!(whole.is_empty());
            assert_eq!(without.csv, n.csv);
            assert_eq!(without.rejects[0].fields, [b"{not json".to_vec()]);
        }
    }

    #[test]
    fn a_chunk_that_is_not_utf8_is_read_as_bytes() {
        // A byte that is not UTF-8 in a field simcost does not read: the payload is read as
        // before (serde_json checks only the strings it keeps).
        let mut bytes = SEVERAL.replacen(r#"{"b":null}"#, r#""@""#, 1).into_bytes();
        let at = bytes.iter().position(|b| *b == b'@').unwrap();
        bytes[at] = 0xff;
        let (n, _) = read_bytes(&bytes, CHUNK, false).unwrap();
        let (utf8, _) = read(SEVERAL, CHUNK, false).unwrap();
        assert_eq!(n.csv, utf8.csv);
        assert_eq!(n.lines, utf8.lines);
    }

    /// A status payload line of account W, business number 155: (id, status, time, customer,
    /// pricing category or "" for none) each.
    fn statuses(list: &[(&str, &str, u64, &str, &str)]) -> String {
        let one = |&(id, status, at, to, category): &(&str, &str, u64, &str, &str)| {
            let pricing = match category {
                "" => String::new(),
                c => format!(r#","pricing":{{"billable":true,"category":"{c}"}}"#),
            };
            format!(
                r#"{{"id":"{id}","status":"{status}","timestamp":"{at}","recipient_id":"{to}"{pricing}}}"#
            )
        };
        let list: Vec<String> = list.iter().map(one).collect();
        format!(
            r#"{{"entry":[{{"id":"W","changes":[{{"value":{{"metadata":{{"display_phone_number":"155"}},"statuses":[{}]}}}}]}}]}}"#,
            list.join(",")
        ) + "\n"
    }

    /// The same log read in chunks cut at every byte (one per line and more) and on 1-3 cores
    /// gives what one chunk gives: messages made across chunks as in one pass.
    fn same_in_any_chunks(text: &str) -> Normalised {
        let values = vec![Vec::new(); N_FIELDS];
        let read = canonical_in(text.as_bytes(), CHUNK, &values, (false, false), 1);
        let (whole, _) = with_csv(read).unwrap();
        for chunk in 1..=text.len() {
            for threads in 1..=3 {
                let read = canonical_in(text.as_bytes(), chunk, &values, (false, false), threads);
                let (n, _) = with_csv(read).unwrap();
                let got = (&n.csv, &n.lines, n.records, n.merged);
                let want = (&whole.csv, &whole.lines, whole.records, whole.merged);
                assert_eq!(got, want, "chunks of {chunk} bytes, {threads} cores");
            }
        }
        whole
    }

    #[test]
    fn messages_made_across_chunks_are_those_of_one_pass() {
        let text = [
            statuses(&[("m1", "delivered", 1772438702, "380501110001", "utility")]),
            statuses(&[("m1", "sent", 1772438700, "380501110001", "marketing")]),
            // failed at the instant of delivered, later in the file: the status is failed
            statuses(&[("m1", "failed", 1772438702, "380501110001", "")]),
            // two statuses on one line
            statuses(&[
                ("m2", "sent", 1772438800, "380501110002", "authentication_international"),
                ("m3", "sent", 1772438801, "380501110003", ""),
            ]),
            r#"{"entry":[{"id":"W","changes":[{"value":{"metadata":{"display_phone_number":"155"},"messages":[{"from":"380501110004","id":"m3","timestamp":"1772438600","referral":{"source_type":"ad"}}]}}]}]}"#.to_string() + "\n",
            statuses(&[("m3", "read", 1772438900, "380501110003", "service")]),
        ]
        .concat();
        let n = same_in_any_chunks(&text);
        // m1: timed by sent (the earliest), its category sent's (the earliest item's); its
        // status failed (the latest instant, 702, a tie with delivered won by the later line).
        // m2: the international authentication rate is authentication. m3 out: sent gave no
        // category, read's (service) is free-form; status read. m3 in: the customer's message
        // with the same id is another message (another direction), its entry point the ad.
        assert_eq!(
            String::from_utf8(n.csv).unwrap(),
            "timestamp,contact,direction,country,kind,account,status,business_number,entry_point\n\
             1772438700,380501110001,out,,marketing,W,failed,155,\n\
             1772438800,380501110002,out,,authentication,W,sent,155,\n\
             1772438801,380501110003,out,,,W,read,155,\n\
             1772438600,380501110004,in,,,W,,155,ad\n"
        );
        assert_eq!(n.lines, [0, 1, 2, 4, 4, 5]);
        assert_eq!((n.records, n.merged), (7, 3));
    }

    #[test]
    fn a_category_is_the_earliest_items_else_the_first_in_the_file_that_has_one() {
        // Line 3 (with no category) is the earliest: the category is that of the message as
        // it stood before it, line 1's, not line 2's; and the business number line 1's.
        let text = [
            statuses(&[("m", "sent", 1772438700, "380501110001", "marketing")]),
            statuses(&[("m", "delivered", 1772438760, "380501110001", "utility")]),
            statuses(&[("m", "read", 1772438600, "380501110001", "")]).replace("155", "166"),
        ]
        .concat();
        let n = same_in_any_chunks(&text);
        let csv = String::from_utf8(n.csv).unwrap();
        assert_eq!(
            csv.lines().nth(1),
            Some("1772438600,380501110001,out,,marketing,W,delivered,155,")
        );
        assert_eq!(n.lines, [0, 1, 3]);
    }

    #[test]
    fn an_item_and_a_message_stay_small() {
        // Kept for every line of the log until the rows are written: each byte is 4M bytes
        // of memory (and its page faults) for a 2M-message log.
        assert_eq!(std::mem::size_of::<Item>(), 48);
        assert!(std::mem::size_of::<merge::Local>() <= 56);
    }

    #[test]
    fn a_bad_line_is_named_by_its_line_in_every_chunk_cut() {
        let text = SEVERAL.replacen("\n\n", "\n{not json\n", 1);
        for chunk in 1..=text.len() {
            let (line, why) = read(&text, chunk, false).err().unwrap();
            assert_eq!((line, &why[..22]), (2, "not a webhook payload:"), "{chunk}");
        }
    }
}
