//! The decisions finance runs simcost for (docs/billing-rules.md §6): comparing models on a log or on their
//! cards, break-even volumes between models, session against per-message pricing.

pub mod breakeven;
pub mod cards;
pub mod compare;
pub mod curve;
