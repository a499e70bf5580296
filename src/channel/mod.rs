//! The channels, each one module declaring what is its own: its name, the `rules` a model file
//! may name, each rule's price columns and engine, the count its report table shows and its
//! wording. Billing, reports, analysis and the command line ask the registry, never a name.
//! Adding a channel: one module here and one line in [`CHANNELS`] (docs/architecture.md).

mod sms;
mod viber;
mod whatsapp;

use crate::billing::Stats;
use crate::engine::{Engine, Outcome};
use crate::error::Result;
use crate::event::Category;
use crate::rates::meta::Era;
use crate::rates::Model;
use chrono::NaiveDate;

pub use viber::{AfterCap, OnLimit, SessionParams};

/// One channel and what it declares.
pub struct ChannelDef {
    /// `channel = "..."` in a model file, the `channel` of the reports, `--channel NAME`.
    pub name: &'static str,
    /// The `rules = "..."` a model of this channel may name.
    pub rules: &'static [&'static RuleDef],
    /// The count the table shows after "BI free", with its column title (`None`: no column).
    pub table_count: TableCount,
    /// Warn when nearly every outbound message fell outside a window (a contact-column
    /// mix-up shows so on a windowed channel).
    pub warn_outside_window: bool,
    /// advise's session strategies (welcome messages, cap and blocks) apply.
    pub advise_sessions: bool,
    /// Log columns this channel's providers bill by that simcost does not read, each with what
    /// simcost bills instead: a log that has one gets a warning (nothing changes money silently).
    pub unread_columns: &'static [(&'static str, &'static str)],
}

/// A channel's own count in the report table: its column title and its value.
pub type TableCount = Option<(&'static str, fn(&Stats) -> u64)>;

/// Where a rule's prices come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardKind {
    /// A country price card with the rule's `price_columns`.
    Country,
    /// Meta market cards (src/rates/meta.rs).
    Meta,
}

/// One `rules = "..."`: the engine that replays it and the card columns that price it.
pub struct RuleDef {
    pub name: &'static str,
    pub card: CardKind,
    /// The price card's columns, in the order the indexes below use.
    pub price_columns: &'static [&'static str],
    /// The column of the once-per-session price.
    pub session_column: usize,
    /// The column of a per-message price of a category.
    pub message_column: fn(Category) -> usize,
    /// The engine for a model of these rules; `as_of` applies one date's rules to all traffic.
    pub engine: for<'a> fn(&'a Model, Option<i32>) -> Box<dyn Engine + 'a>,
    /// Whether two models of these rules get the same outcome for every event (their
    /// parameters equal), so that one replay serves both.
    pub same_engine: fn(&Model, &Model) -> bool,
    /// Reads the model file's sections these rules own (serde structs in the channel's module,
    /// with the typed values of `rates::setting`); the file's name is for errors.
    pub settings: fn(&str, &toml::Value) -> Result<Settings>,
    /// The card comparison's default countries are this card's (the scarce side).
    pub cards_default_countries: bool,
    /// A charged session is compared with per-message prices in the card comparison.
    pub session_vs_message: bool,
    /// The model-file keys, of those only some rules read (`rates/schema.rs` `RULE_KEYS`), that
    /// these rules read: any other of them in a model of these rules is an error.
    pub keys: &'static [&'static str],
    /// advise: whether a message was charged because nothing was open.
    pub charged_for_lateness: fn(&Outcome) -> bool,
    /// advise: what sending updates inside open sessions or windows would change.
    pub updates_note: &'static str,
}

/// What a model file's channel sections say, each read by the rules that own it; what a
/// rule does not read keeps its default (the key checks make sure it is absent).
pub struct Settings {
    /// Viber `[session]`.
    pub session: SessionParams,
    /// Viber `[international] registered_from`.
    pub international_from: Option<NaiveDate>,
    /// WhatsApp `[window] hours`: the customer service window.
    pub window_hours: i64,
    /// whatsapp-meta `[conversation] hours`.
    pub conversation_hours: i64,
    /// whatsapp-meta `[[era]]`, in the file's order.
    pub eras: Vec<Era>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            session: SessionParams::default(),
            international_from: None,
            window_hours: 24,
            conversation_hours: 24,
            eras: Vec::new(),
        }
    }
}

/// The settings of rules that own no section.
fn no_settings(_: &str, _: &toml::Value) -> Result<Settings> {
    Ok(Settings::default())
}

/// Every channel, in the order errors and help list them.
pub static CHANNELS: &[&ChannelDef] = &[&viber::CHANNEL, &whatsapp::CHANNEL, &sms::CHANNEL];

/// A model's channel.
pub type Channel = &'static ChannelDef;
/// A model's rules.
pub type Rules = &'static RuleDef;

impl ChannelDef {
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl PartialEq for ChannelDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ChannelDef {}

impl std::fmt::Debug for ChannelDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl RuleDef {
    pub fn price_columns(&self) -> &'static [&'static str] {
        self.price_columns
    }
}

impl PartialEq for RuleDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for RuleDef {}

impl std::fmt::Debug for RuleDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The channel of this name.
pub fn named(name: &str) -> Option<Channel> {
    CHANNELS.iter().copied().find(|c| c.name == name)
}

/// The rules of this name, with their channel.
pub fn rules_named(name: &str) -> Option<(Channel, Rules)> {
    CHANNELS
        .iter()
        .flat_map(|c| c.rules.iter().map(move |r| (*c, *r)))
        .find(|(_, r)| r.name == name)
}

/// "a, b or c", for error messages.
pub fn listed(names: impl IntoIterator<Item = &'static str>) -> String {
    let names: Vec<_> = names.into_iter().collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

/// Every rules name, in registry order.
pub fn all_rules() -> impl Iterator<Item = &'static str> {
    CHANNELS.iter().flat_map(|c| c.rules.iter().map(|r| r.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = CHANNELS.iter().map(|c| c.name).collect();
        let mut rules: Vec<_> = all_rules().collect();
        let (n, r) = (names.len(), rules.len());
        names.sort();
        names.dedup();
        rules.sort();
        rules.dedup();
        assert_eq!((names.len(), rules.len()), (n, r));
    }

    #[test]
    fn lists_read_as_a_sentence() {
        assert_eq!(listed(["viber"]), "viber");
        assert_eq!(listed(["a", "b", "c"]), "a, b or c");
    }
}
