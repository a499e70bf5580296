//! simcost: replays business-messaging conversation logs through each channel's session rules
//! and each commercial model, and reports exact costs.
//!
//! Data flows one way: `input` (log -> events) -> `engine` (session rules per channel ->
//! outcomes) -> `billing` (rates, allowances, fees -> ledger and aggregates) -> `report`.

pub mod accounts;
pub mod advise;
pub mod analysis;
pub mod billing;
pub mod calendar;
pub mod channel;
pub mod cli;
pub mod counterfactual;
pub mod engine;
pub mod error;
pub mod event;
pub mod explain;
pub mod generate;
mod huge_pages;
pub mod input;
pub mod output;
pub(crate) mod pager;
pub mod pipeline;
mod prefetch;
pub mod rates;
pub mod reconcile;
pub mod report;
