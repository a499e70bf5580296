//! Reading a conversation log (RULES.md 1): CSV rows -> events.

mod blocks;
mod contacts;
mod numbers;
pub mod phone;
mod reader;
pub mod recycle;
mod rows;
pub mod timestamp;

pub use contacts::Contacts;
pub use reader::{
    read_from, read_log, read_log_in_batches, Batch, Interner, Log, ReadOptions, Reject,
};
pub use recycle::Recycle;

/// `str::trim`, with a quick way out for the usual field that has nothing to trim.
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}
