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
    #[inline(always)]
    pub fn index(self) -> usize {
        // Only upper-case letters are stored (`from_bytes`): `A` * 27 subtracted once from
        // the sum of the two bytes, not `A` from each as a byte (each masked to 8 bits).
        (self.0[0] as usize * 26 + self.0[1] as usize) - b'A' as usize * 27
    }

    /// The two letters, with no UTF-8 check (the ledger writes one per row).
    pub fn bytes(self) -> [u8; 2] {
        self.0
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

/// The kind words as logs spell them (outbound rows of a business-initiated log name one on
/// most rows, a different one from row to row), each told by one table look-up
/// (`usual_kind`): a match on the bytes was a tree of tests of the length and the bytes
/// whose branches the alternating words mispredicted. What each means is `Kind::from_word`'s
/// (a test checks them against the words in any case).
const USUAL_KINDS: [(&str, Kind); 11] = [
    ("text", Kind::FreeForm),
    ("reply", Kind::FreeForm),
    ("session", Kind::FreeForm),
    ("service", Kind::FreeForm),
    ("welcome", Kind::Welcome),
    ("template", Kind::Template),
    ("marketing", Kind::Marketing),
    ("promotional", Kind::Marketing),
    ("utility", Kind::Utility),
    ("transactional", Kind::Utility),
    ("authentication", Kind::Authentication),
];

/// A usual kind word's slot in `USUAL_SLOTS`: the top four bits of its first word
/// (`word_ends`) times this odd constant, found by a search to put the eleven words in
/// eleven slots (the table's build fails if two share one).
const USUAL_HASH: u64 = 0x7ce4_2c82_1807_2e8d;

/// A usual kind word by its length and both ends (`word_ends`); length 0: an empty slot.
#[derive(Clone, Copy)]
struct UsualSlot {
    len: usize,
    ends: (u64, u64),
    kind: Kind,
}

const USUAL_SLOTS: [UsualSlot; 16] = {
    let empty = UsualSlot {
        len: 0,
        ends: (0, 0),
        kind: Kind::FreeForm,
    };
    let mut slots = [empty; 16];
    let mut i = 0;
    while i < USUAL_KINDS.len() {
        let (word, kind) = USUAL_KINDS[i];
        let (w, n) = (word.as_bytes(), word.len());
        let ends = if n >= 8 {
            (le_bytes(w, 0, 8), le_bytes(w, n - 8, 8))
        } else {
            (le_bytes(w, 0, 4), le_bytes(w, n - 4, 4))
        };
        let slot = (ends.0.wrapping_mul(USUAL_HASH) >> 60) as usize;
        assert!(slots[slot].len == 0, "two usual kind words share a slot");
        slots[slot] = UsualSlot { len: n, ends, kind };
        i += 1;
    }
    slots
};

/// `width` bytes of `s` from `at` as a little-endian number (for the table's build).
const fn le_bytes(s: &[u8], at: usize, width: usize) -> u64 {
    let mut v = 0u64;
    let mut i = width;
    while i > 0 {
        i -= 1;
        v = v << 8 | s[at + i] as u64;
    }
    v
}

/// A word of 4 to 16 bytes as two numbers that may overlap: its first and last 8 bytes (4
/// under 8 bytes), all of its bytes together with its length.
#[inline(always)]
fn word_ends(s: &[u8]) -> (u64, u64) {
    let n = s.len();
    let w8 = |i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let w4 = |i: usize| {
        u64::from(u32::from_le_bytes(
            s[i..i + 4].try_into().unwrap_or_default(),
        ))
    };
    if n >= 8 {
        (w8(0), w8(n - 8))
    } else {
        (w4(0), w4(n - 4))
    }
}

/// The kind of a usual kind word spelled exactly as in `USUAL_KINDS`, by one look-up: no
/// branch on which word it is.
#[inline(always)]
fn usual_kind(s: &[u8]) -> Option<Kind> {
    if !(4..=16).contains(&s.len()) {
        return None;
    }
    let ends = word_ends(s);
    let slot = USUAL_SLOTS[(ends.0.wrapping_mul(USUAL_HASH) >> 60) as usize];
    (slot.len == s.len() && slot.ends == ends).then_some(slot.kind)
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
        const WORDS: [(&str, Direction); 14] = [
            ("in", Direction::Inbound),
            ("out", Direction::Outbound),
            ("inbound", Direction::Inbound),
            ("outbound", Direction::Outbound),
            ("mo", Direction::Inbound),
            ("mt", Direction::Outbound),
            ("user", Direction::Inbound),
            ("customer", Direction::Inbound),
            ("business", Direction::Outbound),
            // Exporters' own words, where they cannot mean anything else (Twilio's `Direction`).
            ("incoming", Direction::Inbound),
            ("outgoing", Direction::Outbound),
            ("outbound-api", Direction::Outbound),
            ("outbound-reply", Direction::Outbound),
            ("outbound-call", Direction::Outbound),
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

/// What the business sent. Inbound rows carry `FreeForm`, or `EntryPoint` when the customer
/// came from an ad or a Page call-to-action (the `kind` column is outbound only). Kept in one
/// byte, beside the direction, so that the event stays 32 bytes. A template's category is a
/// variant of its own (not `Template(Option<Category>)`): the engines match the byte as it is,
/// with no niche to decode per event; the three categorised templates come first, in
/// `Category`'s order, so that `category` is a range check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A template of category marketing (`marketing`, `promotional`)
    Marketing,
    /// A template of category utility (`utility`, `transactional`)
    Utility,
    /// A template of category authentication (`authentication`)
    Authentication,
    /// `template`: a template of no stated category (the model's default is assumed)
    Template,
    /// empty, `session`, `text`, `reply`, `service`
    FreeForm,
    Welcome,
    /// Outbound, with a `status` that says it never arrived (`failed`, `undelivered`,
    /// `rejected`, `expired`): never billed, opens nothing, counted as `not_delivered`.
    NotDelivered,
    /// Inbound, with a non-empty `entry_point` (Meta webhook `referral`: a click-to-WhatsApp
    /// ad or a Facebook Page call-to-action). The engines read it as a customer message;
    /// whatsapp-meta also opens a free entry point window on the business's reply (RULES.md §4).
    EntryPoint,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::from_word(s.trim().as_bytes())
    }

    /// A kind word exactly as given (no spaces around it).
    #[inline]
    pub fn from_word(s: &[u8]) -> Option<Kind> {
        // The usual spellings first, each found by one look-up; then any word in any case.
        if s.is_empty() {
            return Some(Kind::FreeForm);
        }
        usual_kind(s).or_else(|| Kind::any_case(s))
    }

    /// `from_word` of a word that is not a usual spelling: out of line, so that the parse
    /// inlines only the look-up.
    #[cold]
    #[inline(never)]
    fn any_case(s: &[u8]) -> Option<Kind> {
        const WORDS: [(&str, Kind); 7] = [
            ("", Kind::FreeForm),
            ("session", Kind::FreeForm),
            ("text", Kind::FreeForm),
            ("reply", Kind::FreeForm),
            ("service", Kind::FreeForm),
            ("welcome", Kind::Welcome),
            ("template", Kind::Template),
        ];
        word(s, &WORDS).or_else(|| Category::from_word(s).map(|c| Kind::template(Some(c))))
    }

    /// A template of a category, or of none stated.
    pub const fn template(category: Option<Category>) -> Kind {
        match category {
            Some(Category::Marketing) => Kind::Marketing,
            Some(Category::Utility) => Kind::Utility,
            Some(Category::Authentication) => Kind::Authentication,
            None => Kind::Template,
        }
    }

    /// Whether a template was sent, of a category or of none.
    #[inline]
    pub fn is_template(self) -> bool {
        matches!(
            self,
            Kind::Marketing | Kind::Utility | Kind::Authentication | Kind::Template
        )
    }

    /// The category of a template that states one; `None` for a template of none and for
    /// every other kind.
    #[inline]
    pub fn category(self) -> Option<Category> {
        match self {
            Kind::Marketing => Some(Category::Marketing),
            Kind::Utility => Some(Category::Utility),
            Kind::Authentication => Some(Category::Authentication),
            Kind::Template
            | Kind::FreeForm
            | Kind::Welcome
            | Kind::NotDelivered
            | Kind::EntryPoint => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::FreeForm => "free-form",
            Kind::Welcome => "welcome",
            Kind::Template => "template",
            Kind::Marketing | Kind::Utility | Kind::Authentication => {
                self.category().map_or("template", Category::name)
            }
            Kind::NotDelivered => "not delivered",
            Kind::EntryPoint => "entry point",
        }
    }
}

/// Whether a delivery status (`status` column, any case) says the message arrived: `Some(true)`
/// for `delivered`, `read`, `sent`, `received` or empty, `Some(false)` for `failed`,
/// `undelivered`, `rejected`, `expired`; `None` for any other word.
pub fn delivered(status: &[u8]) -> Option<bool> {
    const WORDS: [(&str, bool); 9] = [
        ("", true),
        ("delivered", true),
        ("read", true),
        ("sent", true),
        ("received", true),
        ("failed", false),
        ("undelivered", false),
        ("rejected", false),
        ("expired", false),
    ];
    word(status, &WORDS)
}

/// One message of the log, resolved: the instant in UTC microseconds and interned ids. 32
/// bytes: the account and the calendar month are the cell's (`Log::cells`), and the
/// account-month is the cell's too (`Log::cell_account_months`).
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub at: i64,
    /// Date in the account's zone (`--accounts` tz, else `--tz`) as days since 1970-01-01,
    /// used to pick dated rate rows.
    pub day: i32,
    /// Line of the row in the input file.
    pub line: u32,
    pub contact: u32,
    /// The interned (account, contact) pair: engines keep their per-stream state by it.
    pub stream: u32,
    /// The interned (account, country, month in the account's zone): the report cell the event counts in.
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

/// Events written by hand, for tests: a script of messages instead of a log to read.
///
/// ```
/// use simcost::event::Script;
/// let events = Script::new()
///     .at("2026-03-02 08:00").contact("a").inbound()
///     .at("+5m").outbound("")
///     .at("+1h").outbound("template")
///     .into_events();
/// assert_eq!(events.len(), 3);
/// ```
///
/// Instants are UTC (days and months too). A script starts at 2026-03-02 00:00, contact `a`,
/// the default account, country `DE`. Ids are dense, as engines and reports expect: a contact
/// per name, a stream per (account, contact), a cell per (account, country, month), each from 0
/// in order of first use. A malformed script panics, naming what is wrong: it is a test's text.
#[derive(Clone, Debug)]
pub struct Script {
    events: Vec<Event>,
    at: i64,
    account: String,
    contact: String,
    country: Country,
    accounts: Vec<String>,
    contacts: Vec<String>,
    streams: Vec<(u32, u32)>,
    cells: Vec<(u32, Country, i32)>,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

/// The position of `key` in `list`, added at the end if absent (ids from 0 in order of use).
fn intern<T: PartialEq>(list: &mut Vec<T>, key: T) -> u32 {
    match list.iter().position(|k| *k == key) {
        Some(i) => i as u32,
        None => {
            list.push(key);
            (list.len() - 1) as u32
        }
    }
}

impl Script {
    pub fn new() -> Script {
        Script {
            events: Vec::new(),
            at: 0,
            account: String::new(),
            contact: "a".into(),
            country: Country(*b"DE"),
            accounts: Vec::new(),
            contacts: Vec::new(),
            streams: Vec::new(),
            cells: Vec::new(),
        }
        .at("2026-03-02 00:00")
    }

    /// A script of table rows `(at, contact, direction, kind)`, each row read as
    /// `.at(at).contact(contact)` then the message its direction and kind words say.
    pub fn table(rows: &[(&str, &str, &str, &str)]) -> Script {
        rows.iter()
            .fold(Script::new(), |s, &(at, contact, direction, kind)| {
                let s = s.at(at).contact(contact);
                match Direction::parse(direction) {
                    Some(Direction::Inbound) if kind.is_empty() => s.inbound(),
                    Some(Direction::Inbound) if kind == "entry_point" => {
                        s.message(Direction::Inbound, Kind::EntryPoint)
                    }
                    Some(Direction::Inbound) => {
                        panic!("{at} {contact}: an inbound message has no kind ({kind})")
                    }
                    Some(Direction::Outbound) => s.outbound(kind),
                    None => panic!("{at} {contact}: not a direction ({direction})"),
                }
            })
    }

    /// When the next messages are sent: `2026-03-02 08:00[:ss]` or `2026-03-02` (UTC),
    /// `08:05[:ss]` (the same day), or `+1d2h30m15s` after the last instant (`+0s`: the same).
    pub fn at(mut self, when: &str) -> Script {
        self.at = instant(self.at, when).unwrap_or_else(|| {
            panic!("not an instant ({when}): use 2026-03-02 08:00, 08:00 or +1h30m")
        });
        self
    }

    pub fn contact(mut self, name: &str) -> Script {
        self.contact = name.to_string();
        self
    }

    /// The business account of the next messages (`""`: the default account).
    pub fn account(mut self, name: &str) -> Script {
        self.account = name.to_string();
        self
    }

    /// The destination country of the next messages (an ISO code).
    pub fn country(mut self, code: &str) -> Script {
        self.country =
            Country::parse(code).unwrap_or_else(|| panic!("not an ISO country code ({code})"));
        self
    }

    /// A customer message.
    pub fn inbound(self) -> Script {
        self.message(Direction::Inbound, Kind::FreeForm)
    }

    /// A business message of a kind word of the log (`""`, `welcome`, `template`, `utility`, ...).
    pub fn outbound(self, kind: &str) -> Script {
        let kind = Kind::parse(kind).unwrap_or_else(|| panic!("not a message kind ({kind})"));
        self.message(Direction::Outbound, kind)
    }

    pub fn message(mut self, direction: Direction, kind: Kind) -> Script {
        let account = intern(&mut self.accounts, self.account.clone());
        let contact = intern(&mut self.contacts, self.contact.clone());
        let stream = intern(&mut self.streams, (account, contact));
        // UTC days and months, computed here: events sit below the input stage
        let day = self.at.div_euclid(24 * MICROS_PER_HOUR);
        let date = chrono::DateTime::from_timestamp_micros(self.at)
            .expect("a script instant is a date")
            .date_naive();
        let month = chrono::Datelike::year(&date) * 12 + chrono::Datelike::month0(&date) as i32;
        let cell = intern(&mut self.cells, (account, self.country, month));
        self.events.push(Event {
            at: self.at,
            day: day as i32,
            // line 1 is a log's header
            line: self.events.len() as u32 + 2,
            contact,
            stream,
            cell,
            country: self.country,
            direction,
            kind,
        });
        self
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn into_events(self) -> Vec<Event> {
        self.events
    }

    /// The account names by id (`""`: the default account).
    pub fn accounts(&self) -> &[String] {
        &self.accounts
    }

    /// The contact names by id.
    pub fn contacts(&self) -> &[String] {
        &self.contacts
    }

    /// (account, contact) by stream id.
    pub fn streams(&self) -> &[(u32, u32)] {
        &self.streams
    }

    /// (account, country, month index) by cell id.
    pub fn cells(&self) -> &[(u32, Country, i32)] {
        &self.cells
    }
}

/// A script instant (see `Script::at`) in UTC microseconds, `last` being the one before.
fn instant(last: i64, when: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
    let micros = |t: NaiveDateTime| t.and_utc().timestamp_micros();
    if let Some(d) = when.strip_prefix('+') {
        return duration(d).and_then(|d| last.checked_add(d));
    }
    let time = |s: &str| {
        NaiveTime::parse_from_str(s, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
            .ok()
    };
    match when.split_once(' ') {
        Some((d, t)) => Some(micros(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()?
                .and_time(time(t)?),
        )),
        None => match NaiveDate::parse_from_str(when, "%Y-%m-%d") {
            Ok(d) => Some(micros(d.and_time(NaiveTime::MIN))),
            Err(_) => {
                let day = chrono::DateTime::from_timestamp_micros(last)?.date_naive();
                Some(micros(day.and_time(time(when)?)))
            }
        },
    }
}

/// `1d2h30m15s` in microseconds: numbers each followed by a unit, at least one.
fn duration(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        let unit = match rest[digits..].chars().next()? {
            'd' => 24 * MICROS_PER_HOUR,
            'h' => MICROS_PER_HOUR,
            'm' => 60_000_000,
            's' => 1_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[digits + 1..];
    }
    (!s.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten million events are 320 MB: a field added here costs memory at every row.
    #[test]
    fn an_event_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 32);
    }

    /// A country's index is its letters' places in the alphabet, first times 26 plus second:
    /// AA 0, AZ 25, BA 26, DE 3 x 26 + 4 = 82 (also written `de`), UA 20 x 26 + 0 = 520,
    /// ZZ 25 x 26 + 25 = 675.
    #[test]
    fn a_country_index_is_its_letters_places_in_the_alphabet() {
        let index = |c: &str| Country::parse(c).map(Country::index);
        let got = ["AA", "AZ", "BA", "DE", "de", "UA", "ZZ"].map(index);
        let want = [0, 25, 26, 82, 82, 520, 675].map(Some);
        assert_eq!(got, want);
    }

    #[test]
    fn every_status_word() {
        for w in ["", "delivered", "READ", "sent", "received"] {
            assert_eq!(delivered(w.as_bytes()), Some(true), "{w}");
        }
        for w in ["failed", "Undelivered", "rejected", "expired"] {
            assert_eq!(delivered(w.as_bytes()), Some(false), "{w}");
        }
        assert_eq!(delivered(b"queued"), None);
    }

    /// The usual kind words by the look-up, the others by the words in any case, worked out
    /// by hand from the kinds' list; near misses are no usual word.
    #[test]
    fn every_kind_word_read_by_look_up_or_in_any_case() {
        use Kind::*;
        for (w, want) in [
            ("", Some(FreeForm)),
            ("text", Some(FreeForm)),
            ("reply", Some(FreeForm)),
            ("session", Some(FreeForm)),
            ("service", Some(FreeForm)),
            ("welcome", Some(Welcome)),
            ("template", Some(Template)),
            ("marketing", Some(Marketing)),
            ("promotional", Some(Marketing)),
            ("utility", Some(Utility)),
            ("transactional", Some(Utility)),
            ("authentication", Some(Authentication)),
            // Any case: not in the table, read by the words.
            ("Text", Some(FreeForm)),
            ("SERVICE", Some(FreeForm)),
            ("Welcome", Some(Welcome)),
            ("Template", Some(Template)),
            ("Promotional", Some(Marketing)),
            ("transactionaL", Some(Utility)),
            ("AUTHENTICATION", Some(Authentication)),
            // Near misses: a byte more, less or changed at either end or in the middle.
            ("tex", None),
            ("texts", None),
            ("next", None),
            ("servic", None),
            ("sessions", None),
            ("templat", None),
            ("templates", None),
            ("promotionax", None),
            ("promo+ional", None),
            ("xransactional", None),
            ("authenticatio", None),
            ("authentications", None),
            ("authenticationss", None),
            ("authenticationsss", None),
            (" text", None),
        ] {
            assert_eq!(Kind::from_word(w.as_bytes()), want, "{w:?}");
        }
        // Every usual word has a slot of its own (the build also asserts it).
        for (w, kind) in USUAL_KINDS {
            assert_eq!(usual_kind(w.as_bytes()), Some(kind), "{w}");
        }
    }

    #[test]
    fn every_direction_word() {
        for w in ["in", "inbound", "MO", "user", "Customer"] {
            assert_eq!(Direction::parse(w), Some(Direction::Inbound), "{w}");
        }
        for w in [
            "incoming",
            "Outgoing",
            "outbound-api",
            "outbound-reply",
            "outbound-call",
        ] {
            assert!(Direction::parse(w).is_some(), "{w}");
        }
        assert_eq!(Direction::parse("INCOMING"), Some(Direction::Inbound));
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
        assert_eq!(Kind::parse("template"), Some(Kind::Template));
        assert_eq!(Kind::parse("promotional"), Some(Kind::Marketing));
        assert_eq!(Kind::parse("marketing"), Some(Kind::Marketing));
        assert_eq!(Kind::parse("transactional"), Some(Kind::Utility));
        assert_eq!(Kind::parse("Utility"), Some(Kind::Utility));
        assert_eq!(Kind::parse("utility"), Some(Kind::Utility));
        assert_eq!(Kind::parse("TEMPLATE"), Some(Kind::Template));
        assert_eq!(Kind::parse("authentication"), Some(Kind::Authentication));
        assert_eq!(Kind::parse("fax"), None);
    }

    /// Each kind's template-ness and category, written out by hand: the four templates and
    /// the four others; a category goes to its own variant and back.
    #[test]
    fn a_kinds_template_and_category() {
        use Category::*;
        let table = [
            (Kind::Marketing, true, Some(Marketing)),
            (Kind::Utility, true, Some(Utility)),
            (Kind::Authentication, true, Some(Authentication)),
            (Kind::Template, true, None),
            (Kind::FreeForm, false, None),
            (Kind::Welcome, false, None),
            (Kind::NotDelivered, false, None),
            (Kind::EntryPoint, false, None),
        ];
        for (kind, template, category) in table {
            assert_eq!(kind.is_template(), template, "{kind:?}");
            assert_eq!(kind.category(), category, "{kind:?}");
        }
        assert_eq!(Kind::template(Some(Marketing)), Kind::Marketing);
        assert_eq!(Kind::template(Some(Utility)), Kind::Utility);
        assert_eq!(Kind::template(Some(Authentication)), Kind::Authentication);
        assert_eq!(Kind::template(None), Kind::Template);
        assert_eq!(Kind::Utility.name(), "utility");
        assert_eq!(Kind::Template.name(), "template");
        assert_eq!(std::mem::size_of::<Kind>(), 1);
    }

    /// 2026-03-02 is day 20514 since 1970-01-01 (56 years of which 14 leap, then 59 + 1 days).
    const MARCH_2: i64 = 20_514 * 24 * MICROS_PER_HOUR;

    #[test]
    fn script_instants() {
        let h = MICROS_PER_HOUR;
        assert_eq!(instant(0, "2026-03-02 08:00"), Some(MARCH_2 + 8 * h));
        assert_eq!(instant(0, "2026-03-02"), Some(MARCH_2));
        assert_eq!(
            instant(MARCH_2 + 8 * h, "07:30:15"),
            Some(MARCH_2 + 7 * h + 1_815_000_000)
        );
        assert_eq!(
            instant(MARCH_2, "+1d2h30m15s"),
            Some(MARCH_2 + 26 * h + 1_815_000_000)
        );
        assert_eq!(instant(MARCH_2, "+0s"), Some(MARCH_2));
        for bad in [
            "8 o'clock",
            "+1h30",
            "+",
            "+1w",
            "2026-02-30 08:00",
            "25:00",
        ] {
            assert_eq!(instant(MARCH_2, bad), None, "{bad}");
        }
    }

    #[test]
    fn a_script_interns_ids_in_order_of_use_and_dates_in_utc() {
        let s = Script::new()
            .at("2026-03-31 23:59:59")
            .contact("b")
            .inbound()
            .at("+1s")
            .contact("a")
            .account("x")
            .country("ua")
            .outbound("utility")
            .contact("b")
            .account("")
            .outbound("");
        assert_eq!(s.contacts(), ["b", "a"]);
        assert_eq!(s.accounts(), ["", "x"]);
        assert_eq!(s.streams(), [(0, 0), (1, 1)]);
        let april = 2026 * 12 + 3;
        let (de, ua) = (Country::parse("DE").unwrap(), Country::parse("UA").unwrap());
        assert_eq!(
            s.cells(),
            [(0, de, april - 1), (1, ua, april), (0, ua, april)]
        );
        let ev = s.events();
        let field = |f: fn(&Event) -> i64| ev.iter().map(f).collect::<Vec<_>>();
        assert_eq!(
            field(|e| e.at - MARCH_2),
            [
                30 * 24 * MICROS_PER_HOUR - 1_000_000,
                30 * 24 * MICROS_PER_HOUR,
                30 * 24 * MICROS_PER_HOUR
            ]
        );
        assert_eq!(field(|e| e.day as i64), [20_543, 20_544, 20_544]);
        assert_eq!(field(|e| e.line as i64), [2, 3, 4]);
        assert_eq!(field(|e| e.contact as i64), [0, 1, 0]);
        assert_eq!(field(|e| e.stream as i64), [0, 1, 0]);
        assert_eq!(field(|e| e.cell as i64), [0, 1, 2]);
        assert_eq!(ev[0].direction, Direction::Inbound);
        assert_eq!(ev[0].kind, Kind::FreeForm);
        assert_eq!(ev[1].kind, Kind::Utility);
        assert_eq!(ev[2].kind, Kind::FreeForm);
    }

    #[test]
    fn a_script_table_is_the_same_script() {
        let table = Script::table(&[
            ("2026-03-02 08:00", "a", "in", ""),
            ("+5m", "b", "mt", "template"),
            ("09:00", "a", "out", "welcome"),
        ]);
        let chained = Script::new()
            .at("2026-03-02 08:00")
            .contact("a")
            .inbound()
            .at("+5m")
            .contact("b")
            .outbound("template")
            .at("09:00")
            .contact("a")
            .outbound("welcome");
        assert_eq!(format!("{table:?}"), format!("{chained:?}"));
    }

    #[test]
    #[should_panic(expected = "an inbound message has no kind (template)")]
    fn a_script_table_refuses_a_kind_on_an_inbound_row() {
        Script::table(&[("08:00", "a", "in", "template")]);
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label(2026 * 12), "2026-01");
        assert_eq!(month_label(2026 * 12 + 11), "2026-12");
    }
}
