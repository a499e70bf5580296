//! Rate cards as data: one TOML model file per commercial model plus its prices CSV.
//! The shipped set in `rates/` is embedded in the binary; `--rates DIR` loads another.

mod card;
pub mod fx;
pub mod import_meta;
pub mod meta;
mod model;
mod schema;
pub mod setting;
mod table;

pub use card::{PriceCard, PriceRow, Priced};
pub use model::{
    AfterCap, Card, Channel, FeeKind, International, Model, Monthly, OnLimit, Rules, SessionParams,
};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The shipped rate directory, embedded so simcost works from any directory: every `.toml`
/// and `.csv` file of `rates/`, listed by `build.rs` (a new file is embedded by being there).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_rates.rs"));

/// The built-in rate directory's files as (name, text), for `simcost rates export`.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    EMBEDDED
}

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
            let m = Model::load(source, &file)?;
            // `--model NAME` would pick one of the two silently.
            if let Some(first) = models.iter().find(|o: &&Model| o.name == m.name) {
                return Err(Error::Rates {
                    file: m.file.clone(),
                    line: 0,
                    msg: format!(
                        "name: a second model named {} (the first is in {}); give each model \
                         its own name",
                        m.name, first.file
                    ),
                });
            }
            models.push(m);
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
            // An optional model (a card that prices almost nothing, e.g. sms) only when named.
            let models = self.models.into_iter().filter(|m| !m.optional).collect();
            return Ok((models, fx));
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
    use rust_decimal::Decimal;

    #[test]
    fn the_shipped_rates_load() {
        let set = RateSet::load(&RateSource::Embedded).unwrap();
        let names: Vec<&str> = set.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "sms",
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
        let mut on_disk: Vec<String> = (std::fs::read_dir(&dir).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml") || n.ends_with(".csv"))
            .collect();
        on_disk.sort();
        let embedded: Vec<_> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk);
        for (name, text) in EMBEDDED {
            let on_disk = std::fs::read_to_string(dir.join(name)).unwrap();
            assert_eq!(&on_disk, text, "{name}");
        }
    }

    const PRICES: &str = "country,effective_from,session,transactional,promotional\n\
                          UA,,0.0300,0.0500,0.0700\n";
    const MODEL: &str = "name = \"m\"\nchannel = \"viber\"\nrules = \"viber\"\n\
                         currency = \"EUR\"\nprices = \"p.csv\"\n";

    fn load(files: &[(&str, &str)]) -> Result<RateSet> {
        RateSet::load(&RateSource::Memory(
            files
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        ))
    }

    fn model_with(extra: &str) -> Result<Model> {
        let text = format!("{MODEL}{extra}");
        Ok(load(&[("m.toml", &text), ("p.csv", PRICES)])?
            .models
            .remove(0))
    }

    fn rates_error(r: Result<impl Sized>) -> String {
        let e = r.err().expect("a rates error");
        assert_eq!(e.exit_code(), crate::error::exit::RATES, "{e}");
        e.to_string()
    }

    /// Each typo of the issue: spelled right, the model charges money (a fee of 100, a
    /// minimum instead of a flat fee, 10,000 free messages); misspelled it was silently the
    /// default (no fee, a flat fee, none free) and is now an error naming the closest key.
    #[test]
    fn typos_in_a_model_file_are_errors_not_other_money() {
        let right = model_with("[monthly]\nfee = \"100\"\n").unwrap();
        assert_eq!(right.monthly.fee_for(None), Some(Decimal::from(100)));
        assert_eq!(
            rates_error(model_with("[monthy]\nfee = \"100\"\n")),
            "m.toml: monthy: unknown section; did you mean `monthly`?"
        );

        let right = model_with("[monthly]\nfee = \"100\"\nfee_kind = \"minimum\"\n").unwrap();
        assert_eq!(right.monthly.fee_kind, Some(FeeKind::Minimum));
        assert_eq!(
            rates_error(model_with(
                "[monthly]\nfee = \"100\"\nfee_knd = \"minimum\"\n"
            )),
            "m.toml: monthly.fee_knd: unknown key; did you mean `fee_kind`?"
        );

        let right = model_with("[monthly]\nfree_business_initiated = 10000\n").unwrap();
        assert_eq!(right.monthly.free_business_initiated, 10_000);
        assert_eq!(
            rates_error(model_with("[monthly]\nfree_buisness_initiated = 10000\n")),
            "m.toml: monthly.free_buisness_initiated: unknown key; \
             did you mean `free_business_initiated`?"
        );
    }

    #[test]
    fn the_shipped_model_files_hold_only_known_keys() {
        // Loading checks the keys: every shipped file passes, with its comments and sections.
        let files = EMBEDDED.iter().filter(|(n, _)| n.ends_with(".toml"));
        assert_eq!(
            RateSet::load(&RateSource::Embedded).unwrap().models.len(),
            files.count()
        );
    }

    #[test]
    fn two_models_with_one_name_name_both_files() {
        let e = rates_error(load(&[
            ("a.toml", MODEL),
            ("b.toml", MODEL),
            ("p.csv", PRICES),
        ]));
        assert_eq!(
            e,
            "b.toml: name: a second model named m (the first is in a.toml); give each model its \
             own name"
        );
    }

    #[test]
    fn prices_and_fees_outside_the_documented_range_are_errors() {
        let with_price = |p: &str| {
            let prices = PRICES.replace("0.0500", p);
            load(&[("m.toml", MODEL), ("p.csv", &prices)])
        };
        // Decimal's largest value: summing two of them overflowed (exit 101).
        assert_eq!(
            rates_error(with_price("79228162514264337593543950335")),
            "p.csv:2: transactional is above 1000, the most a price may be \
             (79228162514264337593543950335)"
        );
        assert_eq!(
            rates_error(with_price("1000.0001")),
            "p.csv:2: transactional is above 1000, the most a price may be (1000.0001)"
        );
        assert_eq!(
            rates_error(with_price("0.000000001")),
            "p.csv:2: transactional has more than 8 decimal places (0.000000001)"
        );
        assert_eq!(
            rates_error(with_price("-0.05")),
            "p.csv:2: transactional is negative (-0.05)"
        );
        // The bounds themselves are allowed; trailing zeros are not decimal places.
        assert!(with_price("1000").is_ok());
        assert!(with_price("0.00000001").is_ok());
        assert!(with_price("0.050000000000").is_ok());
        assert_eq!(
            rates_error(model_with("[monthly]\nfee = \"1000000.01\"\n")),
            "m.toml: monthly.fee: is above 1000000, the most a monthly fee may be (1000000.01)"
        );
        assert_eq!(
            rates_error(model_with("[monthly.fee_by_country]\nUA = \"2000000\"\n")),
            "m.toml: monthly.fee_by_country.UA: is above 1000000, the most a monthly fee may be \
             (2000000)"
        );
        assert!(model_with("[monthly]\nfee = \"1000000\"\n").is_ok());
    }

    #[test]
    fn durations_and_counts_outside_their_range_are_errors() {
        // Hours times microseconds per hour overflowed an i64 (a panic, or a wrapped time).
        assert_eq!(
            rates_error(model_with("[session]\nhours = 9223372036854775807\n")),
            "m.toml: session.hours: must be at most 8784 (9223372036854775807)"
        );
        assert_eq!(
            model_with("[session]\nhours = 8784\n")
                .unwrap()
                .session
                .hours,
            8784
        );
        // 2^32 + 1 narrowed to u32 was a cap of 1 message.
        assert_eq!(
            rates_error(model_with("[session]\nmax_messages = 4294967297\n")),
            "m.toml: session.max_messages: must be at most 1000000 (4294967297)"
        );
        assert_eq!(
            rates_error(model_with("[monthly]\nfree_business_initiated = -1\n")),
            "m.toml: monthly.free_business_initiated: must be at least 0 (-1)"
        );
    }

    #[test]
    fn unknown_model_is_named() {
        let set = RateSet::load(&RateSource::Embedded).unwrap();
        let e = set.select(&["viber-2030".into()]).err().unwrap();
        assert!(e.to_string().contains("unknown model (viber-2030)"), "{e}");
        assert_eq!(e.exit_code(), crate::error::exit::RATES);
    }
}
