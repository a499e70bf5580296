//! Country from a phone number by calling code (and NANP area code), from the table in
//! `data/calling_codes.csv`. A contact is resolved once and cached by the reader; no full
//! phone-number parse happens per row.

use crate::event::Country;
use std::collections::HashMap;

const TABLE: &str = include_str!("../../data/calling_codes.csv");

/// ISO codes with no calling code of their own (they share one); accepted in the `country` column.
const SHARED_CODE_COUNTRIES: &[&str] = &[
    "AQ", "AX", "BL", "BQ", "BV", "CC", "CX", "EH", "GG", "GS", "HM", "IM", "IO", "JE", "MF", "PN",
    "SJ", "TF", "UM", "VA", "YT",
];

pub struct CallingCodes {
    by_prefix: HashMap<u32, Country>,
    known: std::collections::HashSet<Country>,
}

impl CallingCodes {
    pub fn load() -> CallingCodes {
        let mut by_prefix = HashMap::new();
        let mut known = std::collections::HashSet::new();
        let mut rdr = csv::Reader::from_reader(TABLE.as_bytes());
        for rec in rdr.records().flatten() {
            if let (Some(p), Some(c)) = (rec.get(0), rec.get(1).and_then(Country::parse)) {
                if let Ok(p) = p.parse::<u32>() {
                    by_prefix.insert(p, c);
                    known.insert(c);
                }
            }
        }
        for c in SHARED_CODE_COUNTRIES
            .iter()
            .filter_map(|c| Country::parse(c))
        {
            known.insert(c);
        }
        CallingCodes { by_prefix, known }
    }

    pub fn is_known(&self, c: Country) -> bool {
        self.known.contains(&c)
    }

    /// Longest-prefix match on the E.164 digits (up to 4 digits: NANP area codes, +7 6/7).
    pub fn country_of(&self, digits: &str) -> Option<Country> {
        (1..=4.min(digits.len())).rev().find_map(|n| {
            digits[..n]
                .parse::<u32>()
                .ok()
                .and_then(|p| self.by_prefix.get(&p).copied())
        })
    }
}

/// E.164 digits of a phone number written with or without `+`/`00`, with spaces, dashes, dots,
/// slashes or parentheses; `None` when it is not a phone number.
pub fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut digits = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            ' ' | '-' | '(' | ')' | '.' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let digits = digits
        .strip_prefix("00")
        .map(str::to_string)
        .unwrap_or(digits);
    // E.164: at most 15 digits; no country code starts with 0.
    if (7..=15).contains(&digits.len()) && !digits.starts_with('0') {
        Some(digits)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<Country> {
        Country::parse(s)
    }

    #[test]
    fn formats_normalize_to_the_same_digits() {
        for raw in [
            "+380 50 123 4567",
            "380501234567",
            "00380501234567",
            "+380 (50) 123-45-67",
            "380.50.123.45.67",
        ] {
            assert_eq!(normalize(raw).as_deref(), Some("380501234567"), "{raw}");
        }
        assert_eq!(normalize("user-42"), None);
        assert_eq!(normalize("+12"), None);
        assert_eq!(normalize("0501234567"), None);
    }

    #[test]
    fn calling_codes_and_area_codes() {
        let t = CallingCodes::load();
        assert_eq!(t.country_of("380501234567"), c("UA"));
        assert_eq!(t.country_of("4915112345678"), c("DE"));
        assert_eq!(t.country_of("359881234567"), c("BG"));
        assert_eq!(t.country_of("35312345678"), c("IE"));
        // NANP: area code decides; unknown area codes are the United States
        assert_eq!(t.country_of("18095551234"), c("DO"));
        assert_eq!(t.country_of("14165551234"), c("CA"));
        assert_eq!(t.country_of("12125551234"), c("US"));
        // +7: Kazakhstan's plan uses 6xx/7xx
        assert_eq!(t.country_of("77011234567"), c("KZ"));
        assert_eq!(t.country_of("79161234567"), c("RU"));
        assert_eq!(t.country_of("99999999"), None);
        assert!(t.is_known(c("VA").unwrap()));
        assert!(!t.is_known(c("ZZ").unwrap()));
    }
}
