//! The fast readers (`scan`, `tape`) against serde_json, the reference, over many lines: Meta's
//! payloads and every kind of mutation of them.

use super::{span, Item, Parsed, Readers, Span};

/// Meta's payload examples as the fixture has them (tests/fixtures/exports/README.md cites
/// developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples), the shapes of
/// scripts/make_webhook.py (a referral, a failed status with `errors`), and fields in another
/// order, given twice in unknown places, several on a line.
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
    r#""x":"\u12""#,
    r#""x":"\u12g4""#,
    r#""x":"\u12G4x\uABCDEF\uabcd""#,
    r#""x":"a\"b\\""#,
    r#""x":"\"""#,
    r#""x":"\\"""#,
    r#""x":"\"#,
    r#""x":"\\\"#,
    r#""x":"\a""#,
    r#""x":"\U0041""#,
    r#""x":{"\u0041":"\n"}"#,
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
            i.id(),
            i.timestamp(),
            i.contact(),
            i.status_or_referral(),
            i.category(),
        ];
        let strings: Vec<String> = strings.into_iter().map(s).collect();
        format!(
            "{} {:?} {} {:?} {}",
            i.line,
            i.at(),
            i.inbound,
            strings,
            i.source
        )
    };
    let source = |&(a, b): &(Span, Span)| (p.get(a).to_string(), p.get(b).to_string());
    let rejects = p.rejects.iter().map(|r| (r.line, r.reason.clone()));
    let items = p.items.iter().map(item).collect();
    (
        items,
        p.sources.iter().map(source).collect(),
        rejects.collect(),
        kept,
    )
}

/// The line read by each fast reader alone, and as the chunk reader reads it (the fastest
/// sure reader, else serde_json), against serde_json alone: each reader reads it to the same
/// items, or leaves it (adding nothing); the chunk reader gives the same items or the same
/// error. Which fast readers read it.
fn same_as_serde(readers: &mut Readers, line: &[u8]) -> (bool, bool) {
    let mut by_serde = Parsed::default();
    // (a blank line is skipped before any is asked)
    let blank = line.iter().all(u8::is_ascii_whitespace);
    let serde_kept = blank || by_serde.line_by_serde(7, line, true);
    let want = seen(&by_serde, serde_kept);
    let shown = String::from_utf8_lossy(line);
    let text = std::str::from_utf8(line).ok();
    let mut read = [false; 2];
    for (n, read) in read.iter_mut().enumerate() {
        let mut fast = Parsed::default();
        *read = match (n, text) {
            (0, Some(text)) => readers.scan.read(&mut fast, 7, text),
            (0, None) => false,
            _ => readers.tape.read(&mut fast, 7, line),
        };
        if *read {
            assert!(!blank && by_serde.rejects.is_empty(), "reader {n}: {shown}");
            assert_eq!(seen(&fast, true), want, "reader {n}: {shown}");
        } else {
            assert!(fast.items.is_empty() && fast.sources.is_empty() && fast.text.is_empty());
        }
    }
    let mut both = Parsed::default();
    let kept = both.line(7, (line, text), readers, true);
    assert_eq!(seen(&both, kept), want, "{shown}");
    (read[0], read[1])
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
fn the_fast_readers_read_what_serde_json_reads_to_the_same_items_or_leave_it() {
    let mut readers = Readers::default();
    let (mut lines, mut scanned, mut taped) = (0, 0, 0);
    for line in LINES.lines() {
        let read = same_as_serde(&mut readers, line.as_bytes());
        assert!(read.1, "{line}");
        // (the fixture's lines, Meta's own examples, have no escape)
        assert!(read.0 || line.contains('\\'), "{line}");
        for m in mutated(line) {
            let read = same_as_serde(&mut readers, &m);
            lines += 1;
            scanned += read.0 as usize;
            taped += read.1 as usize;
        }
    }
    // Most mutations leave a payload (a byte of a value changed); many are refused.
    let counts = format!("{scanned} and {taped} of {lines} read fast");
    assert!(
        lines > 50_000 && scanned > lines / 3 && taped > lines / 3,
        "{counts}"
    );
}
