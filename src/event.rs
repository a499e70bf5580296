//! Events: one compact record per log row, the common language of every later stage.

use std::fmt;

/// ISO 3166-1 alpha-2 code, stored inline so an event owns no heap memory.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Accepts two ASCII letters in any case.
    pub fn parse(s: &str) -> Option<Country> {
        Country::from_bytes(s.as_bytes())
    }

    pub fn from_bytes(b: &[u8]) -> Option<Country> {
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
            Some(Country([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            None
        }
    }

    /// A dense index, 0 to 675, for tables by country.
    pub fn index(self) -> usize {
        (self.0[0] - b'A') as usize * 26 + (self.0[1] - b'A') as usize
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a word in any case, without allocating (the reader calls this per row).
fn word<T: Copy>(s: &[u8], words: &[(&str, T)]) -> Option<T> {
    words
        .iter()
        .find(|(w, _)| w.as_bytes().eq_ignore_ascii_case(s))
        .map(|(_, v)| *v)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn parse(s: &str) -> Option<Direction> {
        Direction::from_word(s.trim().as_bytes())
    }

    /// A direction word exactly as given (no spaces around it).
    #[inline]
    pub fn from_word(s: &[u8]) -> Option<Direction> {
        // The usual spellings first, compared whole; then any word in any case.
        match s {
            b"in" => return Some(Direction::Inbound),
            b"out" => return Some(Direction::Outbound),
            _ => {}
        }
        const WORDS: [(&str, Direction); 9] = [
            ("in", Direction::Inbound),
            ("out", Direction::Outbound),
            ("inbound", Direction::Inbound),
            ("outbound", Direction::Outbound),
            ("mo", Direction::Inbound),
            ("mt", Direction::Outbound),
            ("user", Direction::Inbound),
            ("customer", Direction::Inbound),
            ("business", Direction::Outbound),
        ];
        word(s, &WORDS)
    }
}

/// A template category in WhatsApp's words; Viber's types map onto it
/// (`promotional` = marketing, `transactional` = utility; authentication is billed as transactional).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Marketing,
    Utility,
    Authentication,
}

impl Category {
    pub fn parse(s: &str) -> Option<Category> {
        Category::from_word(s.trim().as_bytes())
    }

    fn from_word(s: &[u8]) -> Option<Category> {
        const WORDS: [(&str, Category); 5] = [
            ("marketing", Category::Marketing),
            ("promotional", Category::Marketing),
            ("utility", Category::Utility),
            ("transactional", Category::Utility),
            ("authentication", Category::Authentication),
        ];
        word(s, &WORDS)
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::Marketing => "marketing",
            Category::Utility => "utility",
            Category::Authentication => "authentication",
        }
    }
}

/// What the business sent. Inbound rows always carry `FreeForm`: the column is outbound only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// empty, `session`, `text`, `reply`, `service`
    FreeForm,
    Welcome,
    /// `template` (no category), or a category / Viber type
    Template(Option<Category>),
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::from_word(s.trim().as_bytes())
    }

    /// A kind word exactly as given (no spaces around it).
    #[inline]
    pub fn from_word(s: &[u8]) -> Option<Kind> {
        // The usual spellings first, compared whole; then any word in any case.
        match s {
            b"" => return Some(Kind::FreeForm),
            b"template" => return Some(Kind::Template(None)),
            b"marketing" | b"promotional" => {
                return Some(Kind::Template(Some(Category::Marketing)))
            }
            b"utility" | b"transactional" => return Some(Kind::Template(Some(Category::Utility))),
            _ => {}
        }
        const WORDS: [(&str, Kind); 7] = [
            ("", Kind::FreeForm),
            ("session", Kind::FreeForm),
            ("text", Kind::FreeForm),
            ("reply", Kind::FreeForm),
            ("service", Kind::FreeForm),
            ("welcome", Kind::Welcome),
            ("template", Kind::Template(None)),
        ];
        word(s, &WORDS).or_else(|| Category::from_word(s).map(|c| Kind::Template(Some(c))))
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::FreeForm => "free-form",
            Kind::Welcome => "welcome",
            Kind::Template(None) => "template",
            Kind::Template(Some(c)) => c.name(),
        }
    }
}

/// One message of the log, resolved: the instant in UTC microseconds and interned ids. 32
/// bytes: the account and the calendar month are the cell's (`Log::cells`), and the
/// account-month is the cell's too (`Log::cell_account_months`).
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub at: i64,
    /// Date in `--tz` as days since 1970-01-01, used to pick dated rate rows.
    pub day: i32,
    /// Line of the row in the input file.
    pub line: u32,
    pub contact: u32,
    /// The interned (account, contact) pair: engines keep their per-stream state by it.
    pub stream: u32,
    /// The interned (account, country, month in `--tz`): the report cell the event counts in.
    pub cell: u32,
    pub country: Country,
    pub direction: Direction,
    pub kind: Kind,
}

pub const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// A month index (year * 12 + month - 1) as `YYYY-MM`.
pub fn month_label(month: i32) -> String {
    format!(
        "{:04}-{:02}",
        month.div_euclid(12),
        month.rem_euclid(12) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten million events are 320 MB: a field added here costs memory at every row.
    #[test]
    fn an_event_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 32);
    }

    #[test]
    fn every_direction_word() {
        for w in ["in", "inbound", "MO", "user", "Customer"] {
            assert_eq!(Direction::parse(w), Some(Direction::Inbound), "{w}");
        }
        for w in ["out", "Outbound", "mt", "business"] {
            assert_eq!(Direction::parse(w), Some(Direction::Outbound), "{w}");
        }
        assert_eq!(Direction::parse("both"), None);
    }

    #[test]
    fn every_kind_word_and_the_category_mapping() {
        for w in ["", "session", "text", "reply", "service"] {
            assert_eq!(Kind::parse(w), Some(Kind::FreeForm), "{w}");
        }
        assert_eq!(Kind::parse("welcome"), Some(Kind::Welcome));
        assert_eq!(Kind::parse("template"), Some(Kind::Template(None)));
        let t = |c| Some(Kind::Template(Some(c)));
        assert_eq!(Kind::parse("promotional"), t(Category::Marketing));
        assert_eq!(Kind::parse("marketing"), t(Category::Marketing));
        assert_eq!(Kind::parse("transactional"), t(Category::Utility));
        assert_eq!(Kind::parse("Utility"), t(Category::Utility));
        assert_eq!(Kind::parse("utility"), t(Category::Utility));
        assert_eq!(Kind::parse("TEMPLATE"), Some(Kind::Template(None)));
        assert_eq!(Kind::parse("authentication"), t(Category::Authentication));
        assert_eq!(Kind::parse("fax"), None);
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label(2026 * 12), "2026-01");
        assert_eq!(month_label(2026 * 12 + 11), "2026-12");
    }
}
