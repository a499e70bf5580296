//! Country from a phone number by calling code (and NANP area code), from the table in
//! `data/calling_codes.csv`. A contact is resolved once and cached by the reader; no full
//! phone-number parse happens per row.

use crate::event::Country;

const TABLE: &str = include_str!("../../data/calling_codes.csv");

/// ISO codes with no calling code of their own (they share one); accepted in the `country` column.
const SHARED_CODE_COUNTRIES: &[&str] = &[
    "AQ", "AX", "BL", "BQ", "BV", "CC", "CX", "EH", "GG", "GS", "HM", "IM", "IO", "JE", "MF", "PN",
    "SJ", "TF", "UM", "VA", "YT",
];

/// Calling codes (1 to 4 digits, NANP area codes included as `1` + 3 digits) as flat tables,
/// so that deriving a country is a few array reads.
pub struct CallingCodes {
    /// `by_length[n - 1][p]`: the country of the `n`-digit prefix `p`.
    by_length: [Vec<Option<Country>>; 4],
    /// The country of every 4-digit prefix, longest match among `by_length` (numbers have
    /// at least 7 digits, so this answers them in one read).
    by_prefix4: Vec<Option<Country>>,
    /// Every accepted ISO code, indexed by `Country::index`.
    known: Vec<bool>,
}

impl CallingCodes {
    pub fn load() -> CallingCodes {
        let mut by_length = [
            vec![None; 10],
            vec![None; 100],
            vec![None; 1000],
            vec![None; 10000],
        ];
        let mut known = vec![false; 26 * 26];
        let mut rdr = csv::Reader::from_reader(TABLE.as_bytes());
        for rec in rdr.records().flatten() {
            if let (Some(p), Some(c)) = (rec.get(0), rec.get(1).and_then(Country::parse)) {
                if let Ok(n) = p.parse::<usize>() {
                    let digits = n.to_string().len();
                    if (1..=4).contains(&digits) {
                        by_length[digits - 1][n] = Some(c);
                        known[c.index()] = true;
                    }
                }
            }
        }
        for c in SHARED_CODE_COUNTRIES
            .iter()
            .filter_map(|c| Country::parse(c))
        {
            known[c.index()] = true;
        }
        // Indexes below 1000 are never read (a 4-digit prefix has no leading zero).
        let by_prefix4 = (0..10_000)
            .map(|p| longest_match(&by_length, p, 4))
            .collect();
        CallingCodes {
            by_length,
            by_prefix4,
            known,
        }
    }

    /// Whether an ISO code names a country simcost knows (one with a calling code, or one that
    /// shares another's).
    pub fn is_known(&self, c: Country) -> bool {
        self.known[c.index()]
    }

    /// The country of normalized digits: the longest matching prefix of up to 4 digits.
    pub fn country_of(&self, digits: &str) -> Option<Country> {
        normalized_number(digits).and_then(|n| self.country_of_number(n))
    }

    /// The country of a number as `number_key` gives it.
    pub fn country_of_number(&self, number: u64) -> Option<Country> {
        let digits = number.checked_ilog10().map_or(1, |l| l as usize + 1);
        if digits >= 4 {
            self.by_prefix4[first_four(number, digits) as usize]
        } else {
            longest_match(&self.by_length, number as usize, digits)
        }
    }
}

/// The first four of a number's `digits` (4 to 20). Each divisor is a constant, which compiles
/// to a multiplication: a division by a table entry takes tens of cycles, once per row.
fn first_four(number: u64, digits: usize) -> u64 {
    macro_rules! by_digits {
        ($($d:literal => $p:literal),*) => {
            match digits {
                $($d => number / POW10[$p],)*
                _ => number / POW10[digits - 4],
            }
        };
    }
    by_digits!(4 => 0, 5 => 1, 6 => 2, 7 => 3, 8 => 4, 9 => 5, 10 => 6, 11 => 7, 12 => 8,
        13 => 9, 14 => 10, 15 => 11, 16 => 12, 17 => 13, 18 => 14, 19 => 15, 20 => 16)
}

/// The country of the longest calling code that begins the `n`-digit `prefix`.
fn longest_match(
    by_length: &[Vec<Option<Country>>; 4],
    prefix: usize,
    n: usize,
) -> Option<Country> {
    (1..=n)
        .rev()
        .find_map(|k| by_length[k - 1][prefix / POW10[n - k] as usize])
}

const POW10: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// The digits of a phone number in any of the usual spellings (`+380 50 123-45-67`,
/// `00380501234567`, `380.50.123.45.67`), or `None` if the contact is not a number (an opaque id).
pub fn normalize(raw: &str) -> Option<String> {
    number_key(raw).map(|n| n.to_string())
}

/// `normalize` as a number, without allocating: the reader's key for a contact. Numbers have
/// 7 to 15 digits and no leading zero, so the value identifies the digits.
pub fn number_key(raw: &str) -> Option<u64> {
    number_key_bytes(super::trim(raw).as_bytes())
}

/// `number_key` of a field as typed, before trimming or decoding: spaces around the number
/// are separators here, so a field this accepts gives the same key trimmed; anything else
/// (a tab, other white space, bytes that are not ASCII) gives `None`, and the caller falls
/// back to the text.
pub fn number_key_bytes(s: &[u8]) -> Option<u64> {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    // The value of all digits (leading zeros add nothing), their count and the first three.
    let (mut value, mut n, mut first) = (0u64, 0usize, [0u8; 3]);
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            d @ b'0'..=b'9' => {
                // "00" + 15 digits at most.
                if n == 17 {
                    return None;
                }
                if n < 3 {
                    first[n] = d;
                }
                value = value * 10 + (d - b'0') as u64;
                n += 1;
            }
            b' ' | b'-' | b'(' | b')' | b'.' | b'/' => {}
            // U+00A0, a no-break space
            0xC2 if s.get(i + 1) == Some(&0xA0) => i += 1,
            _ => return None,
        }
        i += 1;
    }
    let (len, lead) = if n >= 2 && first[..2] == *b"00" {
        (n - 2, first[2])
    } else {
        (n, first[0])
    };
    ((7..=15).contains(&len) && lead != b'0').then_some(value)
}

/// Digits already normalized, as a number.
fn normalized_number(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<Country> {
        Country::parse(s)
    }

    #[test]
    fn first_four_are_the_leading_digits() {
        for digits in 4..=19 {
            let number: u64 = "9876543210987654321"[..digits].parse().unwrap();
            assert_eq!(first_four(number, digits), 9876, "{number}");
        }
        assert_eq!(first_four(u64::MAX, 20), 1844);
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
        assert_eq!(
            normalize("\u{a0}+48\u{a0}500 806 336 "),
            Some("48500806336".into())
        );
        assert_eq!(normalize("000380501234567"), None);
        assert_eq!(
            normalize("00123456789012345"),
            Some("123456789012345".into())
        );
        assert_eq!(normalize("001234567890123456"), None);
        assert_eq!(number_key("+1 (212) 555-1234"), Some(12125551234));
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
