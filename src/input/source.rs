//! Source profiles: how one exporter writes a log (column names, value spellings, which column
//! holds the customer for each direction, the id and status columns, the timestamp format),
//! as data. `--source NAME` loads `sources/NAME.toml` (embedded in the binary); `--source
//! FILE.toml` a user's own. An unknown key is an error, as in a rate file: a typo must not
//! silently change what is read.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The shipped profiles, embedded like the rate cards.
const EMBEDDED: &[(&str, &str)] = &[
    ("twilio", include_str!("../../sources/twilio.toml")),
    ("infobip", include_str!("../../sources/infobip.toml")),
    (
        "meta-webhook",
        include_str!("../../sources/meta-webhook.toml"),
    ),
];

/// The fields a profile or `--map` may name beyond the log's own (`rows::FIELDS`): the message
/// id, a date and a time column read as one timestamp, and the customer's column for each
/// direction.
pub const EXPORT_FIELDS: [&str; 5] = ["id", "date", "time", "contact_inbound", "contact_outbound"];

/// How the file is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Delimited text with a header row.
    #[default]
    Csv,
    /// WhatsApp Cloud API webhook payloads, one JSON object per line (`jsonl`).
    MetaWebhook,
}

/// One column name or several (the first the header has is read).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    pub fn list(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

/// A source profile as its file writes it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// What exports this (shown in messages).
    #[serde(default)]
    pub about: String,
    /// Where the format is documented.
    #[serde(default)]
    pub documentation: Vec<String>,
    #[serde(default)]
    pub format: Format,
    /// Field -> the column names it may have, in order of preference.
    #[serde(default)]
    pub columns: BTreeMap<String, Names>,
    /// Field -> value as exported -> value simcost reads (compared in any case).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// chrono strftime format of the timestamps (read by the timestamp parser).
    pub timestamp_format: Option<String>,
    /// Prefixes dropped from phone numbers (`whatsapp:`); read by the phone parser.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The delimiter, one character (`;`, `\t`); detected from the header when absent.
    pub delimiter: Option<String>,
    /// ISO country whose numbering plan reads national numbers.
    pub default_country: Option<String>,
}

impl Source {
    /// `--source NAME` (a shipped profile) or `--source FILE.toml`.
    pub fn load(name: &str) -> Result<Source> {
        let usage = |m: String| Error::Usage(format!("--source {name}: {m}"));
        let text = match EMBEDDED.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => text.to_string(),
            None if name.ends_with(".toml") || std::path::Path::new(name).exists() => {
                std::fs::read_to_string(name).map_err(|e| usage(format!("cannot read ({e})")))?
            }
            None => {
                return Err(usage(format!(
                    "no such source; shipped: {} (or a FILE.toml of your own)",
                    names().join(", ")
                )))
            }
        };
        let source: Source = toml::from_str(&text).map_err(|e| usage(e.to_string()))?;
        source.check().map_err(usage)?;
        Ok(source)
    }

    /// Every field a profile names must be one simcost reads, every delimiter one byte.
    fn check(&self) -> std::result::Result<(), String> {
        for f in self.columns.keys() {
            if field_index(f).is_none() && !EXPORT_FIELDS.contains(&f.as_str()) {
                return Err(format!(
                    "[columns]: unknown field {f}; fields are {}",
                    all_fields()
                ));
            }
        }
        for f in self.values.keys() {
            if field_index(f).is_none() {
                return Err(format!(
                    "[values]: unknown field {f}; fields are {}",
                    all_fields()
                ));
            }
        }
        if let Some(d) = &self.delimiter {
            if delimiter_byte(d).is_none() {
                return Err(format!("delimiter must be one ASCII character ({d})"));
            }
        }
        Ok(())
    }
}

fn delimiter_byte(d: &str) -> Option<u8> {
    match d {
        "\\t" | "tab" => Some(b'\t'),
        d if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        _ => None,
    }
}

/// The shipped profiles' names.
pub fn names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// The index of a log field in `rows::FIELDS`, named in any case.
pub fn field_index(name: &str) -> Option<usize> {
    super::rows::FIELDS
        .iter()
        .position(|f| f.eq_ignore_ascii_case(name.trim()))
}

/// Every field a `--map` or a profile may name.
pub fn all_fields() -> String {
    let mut all: Vec<&str> = super::rows::FIELDS.to_vec();
    all.extend(EXPORT_FIELDS);
    all.join(", ")
}

/// A column name compared as profiles compare it: in any case, spaces and underscores ignored
/// (`Date Sent` = `date_sent` = `DateSent`).
pub fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != ' ' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_profile_loads() {
        for name in names() {
            Source::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(
            Source::load("meta-webhook").unwrap().format,
            Format::MetaWebhook
        );
    }

    #[test]
    fn unknown_keys_and_fields_are_errors() {
        let bad = |text: &str| {
            toml::from_str::<Source>(text)
                .map_err(|e| e.to_string())
                .and_then(|s| s.check())
                .unwrap_err()
        };
        assert!(bad("colums = {}").contains("unknown field"));
        assert!(bad("[columns]\nsender = \"From\"").contains("unknown field sender"));
        assert!(bad("[values.dir]\nx = \"in\"").contains("unknown field dir"));
        assert!(bad("delimiter = \";;\"").contains("one ASCII character"));
        let e = Source::load("twillio").unwrap_err().to_string();
        assert!(e.contains("no such source; shipped: twilio"), "{e}");
    }

    #[test]
    fn column_names_compare_squashed() {
        assert_eq!(squash("Date Sent"), squash("date_sent"));
        assert_eq!(squash("DateSent"), "datesent");
    }
}
