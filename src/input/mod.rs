//! Reading a conversation log (docs/billing-rules.md §1): CSV rows -> events.

mod account_keys;
mod blocks;
mod contacts;
mod decode;
mod export;
mod jsonl;
mod lines;
mod numbers;
pub mod phone;
mod reader;
pub mod recycle;
mod rows;
pub mod source;
pub mod timestamp;

pub use contacts::{cmp_number_names, number_name_key, Contacts};
pub use decode::encoding_for_label;
pub use reader::{
    read_from, read_log, read_log_in_batches, Batch, ExportOptions, Interner, Log, ReadOptions,
    Reject, Unordered, DEFAULT_MAX_RECORD_BYTES, FROM_END_BLOCK_BYTES,
};
pub use recycle::Recycle;

/// `str::trim`, with a quick way out for the usual field that has nothing to trim.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Characters of a value shown in a message; the rest is cut.
const SHOWN_CHARS: usize = 60;

/// A value as a message shows it: control and other invisible characters escaped (`\0`,
/// `\u{1b}`), so that what is wrong is visible and nothing reaches the terminal raw, and cut to
/// a readable length.
pub(crate) fn shown(v: &str) -> std::borrow::Cow<'_, str> {
    let plain = |c: char| !c.is_control() && c != '\u{feff}';
    if v.len() <= SHOWN_CHARS && v.chars().all(plain) {
        return v.into();
    }
    shown_bytes(v.as_bytes()).into()
}

/// A whole small file (a report, a rate sheet) as UTF-8 text; bytes that are not UTF-8 are an
/// input error at their line (exit 3), not an I/O failure.
pub(crate) fn read_text(path: &std::path::Path) -> crate::error::Result<String> {
    use crate::error::Error;
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("reading {file}"), e))?;
    String::from_utf8(bytes).map_err(|e| {
        let (at, bad) = (e.utf8_error().valid_up_to(), e.utf8_error().error_len());
        let bytes = e.as_bytes();
        let line = 1 + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64;
        let end = at + bad.unwrap_or(bytes.len() - at);
        let msg = format!("not UTF-8 text ({})", shown_bytes(&bytes[at..end]));
        Error::Input { file, line, msg }
    })
}

/// `shown` for bytes that may not be UTF-8: each invalid byte as `\xFF`.
pub(crate) fn shown_bytes(v: &[u8]) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for chunk in v.utf8_chunks() {
        let invalid = chunk.invalid().iter().map(|b| Err(*b));
        for c in chunk.valid().chars().map(Ok).chain(invalid) {
            if chars == SHOWN_CHARS {
                out.push_str("...");
                return out;
            }
            chars += 1;
            match c {
                Ok(c @ ('"' | '\'' | '\\')) => out.push(c),
                Ok(c) => out.extend(c.escape_debug()),
                Err(b) => out.push_str(&format!("\\x{b:02X}")),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_messages_are_escaped_and_cut() {
        assert_eq!(shown("sideways"), "sideways");
        assert_eq!(shown("in\0"), "in\\0");
        assert_eq!(
            shown("a\u{1b}[31mb\r\n\t\"q\""),
            "a\\u{1b}[31mb\\r\\n\\t\"q\""
        );
        let long = "x".repeat(1000);
        assert_eq!(shown(&long), format!("{}...", "x".repeat(60)));
        assert_eq!(shown_bytes(b"+38\xff\xfe0\x00"), "+38\\xFF\\xFE0\\0");
        assert_eq!(shown_bytes(&[0xC3, 0xA9, b'x']), "\u{e9}x");
    }
}
