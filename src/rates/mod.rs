//! Rate cards as data: one TOML model file per commercial model plus its prices CSV.
//! The shipped set in `rates/` is embedded in the binary; `--rates DIR` loads another.

mod card;
pub mod fx;
pub mod meta;
mod model;
mod table;

pub use card::{PriceCard, PriceRow, Priced};
pub use model::{AfterCap, Card, Channel, FeeKind, Model, Monthly, OnLimit, Rules, SessionParams};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Embeds files of `rates/` by name.
macro_rules! embed {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../rates/", $file)))),*]
    };
}

/// The shipped rate directory, embedded so simcost works from any directory.
const EMBEDDED: &[(&str, &str)] = embed!(
    "viber-2024.toml",
    "viber-business.toml",
    "viber-legacy.toml",
    "whatsapp-meta.toml",
    "whatsapp-session.toml",
    "viber-prices.csv",
    "viber-chatbot-prices.csv",
    "whatsapp-session-prices.csv",
    "whatsapp-markets.csv",
    "whatsapp-meta-prices.csv",
    "fx.csv",
);

/// Where rate files are read from.
pub enum RateSource {
    Embedded,
    Dir(PathBuf),
    /// Files given as (name, text), for tests and fuzzing.
    Memory(Vec<(String, String)>),
}

impl RateSource {
    fn list_models(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            RateSource::Embedded => EMBEDDED
                .iter()
                .map(|(n, _)| n.to_string())
                .filter(|n| n.ends_with(".toml"))
                .collect(),
            RateSource::Dir(d) => {
                let entries = std::fs::read_dir(d).map_err(|e| Error::Rates {
                    file: d.display().to_string(),
                    line: 0,
                    msg: format!("cannot read the rate directory ({e})"),
                })?;
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".toml"))
                    .collect()
            }
            RateSource::Memory(files) => files
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| n.ends_with(".toml"))
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    /// The display name of a file, as used in error messages.
    pub fn display(&self, name: &str) -> String {
        match self {
            RateSource::Embedded => format!("rates/{name}"),
            RateSource::Memory(_) => name.to_string(),
            RateSource::Dir(d) => Path::new(d).join(name).display().to_string(),
        }
    }

    /// Whether the directory holds `name`.
    pub fn has(&self, name: &str) -> bool {
        match self {
            RateSource::Embedded => EMBEDDED.iter().any(|(n, _)| *n == name),
            RateSource::Dir(d) => d.join(name).is_file(),
            RateSource::Memory(files) => files.iter().any(|(n, _)| n == name),
        }
    }

    pub fn read(&self, name: &str) -> Result<String> {
        match self {
            RateSource::Embedded => EMBEDDED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| Error::Rates {
                    file: self.display(name),
                    line: 0,
                    msg: "no such file in the built-in rates".into(),
                }),
            RateSource::Dir(d) => std::fs::read_to_string(d.join(name)).map_err(|e| Error::Rates {
                file: self.display(name),
                line: 0,
                msg: format!("cannot read ({e})"),
            }),
            RateSource::Memory(files) => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .ok_or_else(|| Error::Rates {
                    file: self.display(name),
                    line: 0,
                    msg: "no such file".into(),
                }),
        }
    }
}

/// The currency reference rates of a rate directory.
pub const FX_FILE: &str = "fx.csv";

/// Every model of a rate directory, in file-name order.
pub struct RateSet {
    pub models: Vec<Model>,
    /// `fx.csv`, when the directory has one.
    pub fx: Option<fx::FxTable>,
}

impl RateSet {
    pub fn load(source: &RateSource) -> Result<RateSet> {
        let mut models = Vec::new();
        for file in source.list_models()? {
            models.push(Model::load(source, &file)?);
        }
        if models.is_empty() {
            return Err(Error::Rates {
                file: source.display(""),
                line: 0,
                msg: "no model files (*.toml) in the rate directory".into(),
            });
        }
        let fx = if source.has(FX_FILE) {
            Some(fx::FxTable::parse(
                &source.display(FX_FILE),
                &source.read(FX_FILE)?,
            )?)
        } else {
            None
        };
        Ok(RateSet { models, fx })
    }

    /// The models named by `--model` (all when none), in the order given.
    pub fn select(self, names: &[String]) -> Result<Vec<Model>> {
        Ok(self.select_with_fx(names)?.0)
    }

    /// The models named by `--model` (all when none), in the order given, and the FX table.
    pub fn select_with_fx(self, names: &[String]) -> Result<(Vec<Model>, Option<fx::FxTable>)> {
        let fx = self.fx;
        if names.is_empty() {
            return Ok((self.models, fx));
        }
        let available: Vec<String> = self.models.iter().map(|m| m.name.clone()).collect();
        let mut models: Vec<Option<Model>> = self.models.into_iter().map(Some).collect();
        let mut out = Vec::new();
        for name in names {
            let i = available
                .iter()
                .position(|a| a == name)
                .ok_or_else(|| Error::Rates {
                    file: "--model".into(),
                    line: 0,
                    msg: format!(
                        "unknown model ({name}); available: {}",
                        available.join(", ")
                    ),
                })?;
            if let Some(m) = models[i].take() {
                out.push(m);
            }
        }
        Ok((out, fx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rates_load() {
        let set = RateSet::load(&RateSource::Embedded).unwrap();
        let names: Vec<&str> = set.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "viber-2024",
                "viber-business",
                "viber-legacy",
                "whatsapp-meta",
                "whatsapp-session"
            ]
        );
    }

    #[test]
    fn embedded_files_match_the_rates_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rates");
        for (name, text) in EMBEDDED {
            let on_disk = std::fs::read_to_string(dir.join(name)).unwrap();
            assert_eq!(&on_disk, text, "{name}");
        }
    }

    #[test]
    fn unknown_model_is_named() {
        let set = RateSet::load(&RateSource::Embedded).unwrap();
        let e = set.select(&["viber-2030".into()]).err().unwrap();
        assert!(e.to_string().contains("unknown model (viber-2030)"), "{e}");
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
    }
}
