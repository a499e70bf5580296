//! Reading a conversation log (RULES.md 1): CSV rows -> events.

mod blocks;
pub mod phone;
mod reader;
mod rows;
pub mod timestamp;

pub use reader::{read_from, read_log, Interner, Log, ReadOptions, Reject};
