//! The typed values of a model file's settings, read with serde: each channel declares its own
//! sections as structs of these (src/channel), and [`read`] turns a serde error into a rates
//! error naming the file and the key's path (`era[1].free_tier_per: ...`). Bounds are the
//! documented ranges of rates/README.md: a larger value would overflow a time or wrap when
//! narrowed.

use crate::error::{Error, Result};
use crate::event::Country;
use chrono::NaiveDate;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use toml::Value;

/// An integer from `MIN` to `MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounded<const MIN: i64, const MAX: i64>(pub i64);

/// Hours of a session, window or conversation: up to a leap year.
pub type Hours = Bounded<1, { 366 * 24 }>;
/// Session message caps.
pub type Count = Bounded<1, 1_000_000>;
/// Free messages or conversations a month.
pub type Free = Bounded<0, 1_000_000_000>;

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Within<const MIN: i64, const MAX: i64>;
        impl<const MIN: i64, const MAX: i64> Visitor<'_> for Within<MIN, MAX> {
            type Value = Bounded<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> std::result::Result<Self::Value, E> {
                if i < MIN {
                    Err(E::custom(format!("must be at least {MIN} ({i})")))
                } else if i > MAX {
                    Err(E::custom(format!("must be at most {MAX} ({i})")))
                } else {
                    Ok(Bounded(i))
                }
            }
        }
        d.deserialize_i64(Within::<MIN, MAX>)
    }
}

/// A `YYYY-MM-DD` date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| de::Error::custom(format!("not a YYYY-MM-DD date ({s})")))
    }
}

/// An ISO 3166 alpha-2 country code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryCode(pub Country);

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Country::parse(&s)
            .map(CountryCode)
            .ok_or_else(|| de::Error::custom(format!("not an ISO country code ({s})")))
    }
}

/// `value` (a model file's table, or one of its sections at `at`) as `T`, or a rates error of
/// `file` naming the key's path and what is wrong; an unknown key offers the closest known one.
pub fn read<T: DeserializeOwned>(file: &str, at: &str, value: &Value) -> Result<T> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = joined(at, &e.path().to_string());
        let msg = e.inner().message().trim().to_string();
        let msg = match super::schema::unknown_key(&msg) {
            // The path ends with the unknown key already.
            Some(hint) => format!("{path}: unknown key; {hint}"),
            None => format!("{path}: {msg}"),
        };
        Error::Rates {
            file: file.to_string(),
            line: 0,
            msg,
        }
    })
}

/// `a.b`, or either alone when the other is empty (serde_path_to_error's root is `.`).
fn joined(a: &str, b: &str) -> String {
    let b = b.trim_start_matches('.');
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        (false, false) if b.starts_with('[') => format!("{a}{b}"),
        (false, false) => format!("{a}.{b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Section {
        hours: Option<Hours>,
        from: Option<Date>,
        countries: Option<Vec<CountryCode>>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct File {
        section: Option<Section>,
        era: Option<Vec<Section>>,
    }

    fn err(text: &str) -> String {
        let v: Value = Value::Table(text.parse().unwrap());
        read::<File>("m.toml", "", &v).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_key_and_the_value() {
        assert_eq!(
            err("[section]\nhours = 0\n"),
            "m.toml: section.hours: must be at least 1 (0)"
        );
        assert_eq!(
            err("[section]\nhours = 9000\n"),
            "m.toml: section.hours: must be at most 8784 (9000)"
        );
        assert_eq!(
            err("[section]\nhours = \"12\"\n"),
            "m.toml: section.hours: invalid type: string \"12\", expected an integer"
        );
        assert_eq!(
            err("[[era]]\nfrom = \"1.10.2024\"\n"),
            "m.toml: era[0].from: not a YYYY-MM-DD date (1.10.2024)"
        );
        assert_eq!(
            err("[[era]]\n[[era]]\ncountries = [\"US\", \"USA\"]\n"),
            "m.toml: era[1].countries[1]: not an ISO country code (USA)"
        );
        assert_eq!(
            err("[[era]]\nhuors = 3\n"),
            "m.toml: era[0].huors: unknown key; did you mean `hours`?"
        );
    }

    #[test]
    fn values_within_bounds_are_read() {
        let v: Value = Value::Table(
            "[section]\nhours = 8784\nfrom = \"2025-07-01\"\ncountries = [\"US\"]\n"
                .parse()
                .unwrap(),
        );
        let f: File = read("m.toml", "", &v).unwrap();
        let s = f.section.unwrap();
        assert_eq!(s.hours, Some(Bounded(8784)));
        assert_eq!(s.from.unwrap().0.to_string(), "2025-07-01");
        assert_eq!(s.countries.unwrap()[0].0, Country::parse("US").unwrap());
    }
}
