//! Reading a conversation log (RULES.md 1): CSV rows -> events.

pub mod phone;
mod reader;
pub mod timestamp;

pub use reader::{read_from, read_log, Interner, Log, ReadOptions, Reject};
