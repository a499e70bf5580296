//! The ledger: one row per outbound message and per fee, for every model.
//!
//! Billing hands each model's lines to a [`Part`] as it bills them (a [`LineSink`]): each
//! model's rows are kept as compact records in a temporary file, cut into segments that
//! decode alone, so no event or line is kept for the ledger. The ledger is then the header
//! and, model after model, that model's rows and its fee rows ([`Ledger::finish`]): the
//! segments are made into text by a pool of workers, one per core, and written strictly in
//! order (`segments.rs`; docs/performance.md, "Ledger (issue 17)", "Ledger, fourth pass" and
//! "Ledger, sixth pass").
//! [`write`] makes the same rows from lines kept in memory (the library's way, and
//! `explain`'s lines).

mod cells;
mod segments;

use cells::{number, Block, ContactCells, Slot};

use super::cell::text;
use crate::billing::{Line, LineSink, ModelResult, Names, Price};
use crate::calendar::{format_instant, local_month_day, month_start};
use crate::engine::{Billed, Charge};
use crate::error::{Error, Result};
use crate::event::{month_label, Country, Direction, Event, Kind};
use crate::input::Log;
use crate::rates::meta::MarketId;
use crate::rates::{Card, FeeKind, Model};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::io::{Read, Seek, Write};
use std::sync::Mutex;

pub const HEADER: [&str; 17] = [
    "timestamp",
    "month",
    "account",
    "contact",
    "country",
    "model",
    "session",
    "billed_as",
    "category",
    "charge",
    "amount",
    "currency",
    "rate_country",
    "rate_effective_from",
    "market",
    "line",
    "note",
];

/// Rows are gathered in memory up to this many bytes, then written out in one call.
const FLUSH_AT: usize = 1 << 20;

/// The microseconds of a timestamp, six digits with leading zeros.
fn six_digits(buf: &mut Vec<u8>, micros: i64) {
    let mut digits = [b'0'; 6];
    let mut m = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (m % 10) as u8;
        m /= 10;
    }
    buf.extend_from_slice(&digits);
}

/// Text from the user's files (accounts, contacts, model names, currencies, card countries and
/// markets) goes through [`text`], so no cell is a formula; amounts stay numbers. Each cell is
/// then quoted as the `csv` crate quotes it (only when it holds a comma, quote or line break),
/// so the rows are the ones a `csv::Writer` would write.
/// A contact: a phone number (`+` and digits, as simcost writes them) as an RFC 3966 `tel:` URI
/// (`tel:+4915112345678`), which every spreadsheet keeps as text where `+4915112345678` would
/// become the number 4.9E+12. Other ids as they are.
fn contact_cell(buf: &mut Vec<u8>, contact: &str) {
    if is_phone_number(contact) {
        buf.extend_from_slice(b"tel:");
        buf.extend_from_slice(contact.as_bytes());
        buf.push(b',');
    } else {
        cell(buf, contact);
    }
}

fn is_phone_number(contact: &str) -> bool {
    matches!(contact.as_bytes(), [b'+', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
}

fn cell(buf: &mut Vec<u8>, value: &str) {
    let value = text(value);
    let b = value.as_bytes();
    if b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for &c in b {
            if c == b'"' {
                buf.push(b'"');
            }
            buf.push(c);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(b);
    }
    buf.push(b',');
}

/// A cell of the program's own words (never quoted, never a formula).
fn word(buf: &mut Vec<u8>, value: &str) {
    buf.extend_from_slice(value.as_bytes());
    buf.push(b',');
}

/// Two digits of `n` (0 to 99).
fn two(buf: &mut Vec<u8>, n: u32) {
    buf.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
}

/// The timestamp and month cells of an instant: `format_instant` and the month's label, the
/// digits written here (chrono's formatting, per instant, took longer than billing).
fn instant_and_month(buf: &mut Vec<u8>, at: i64, tz: chrono_tz::Tz) {
    use chrono::{Datelike, Offset, Timelike};
    let local = chrono::DateTime::from_timestamp_micros(at)
        .unwrap_or_default()
        .with_timezone(&tz);
    let offset = local.offset().fix().local_minus_utc();
    let t = local.naive_local();
    let year = t.year();
    if !(0..=9999).contains(&year) || offset % 60 != 0 || t.nanosecond() >= 1_000_000_000 {
        // Not in four digits, or an offset in seconds: as chrono writes it.
        word(buf, &format_instant(at, tz));
        word(buf, &month_label(local_month_day(at, tz).0));
        return;
    }
    let (century, year) = (year as u32 / 100, year as u32 % 100);
    two(buf, century);
    two(buf, year);
    for (sep, part) in [(b'-', t.month()), (b'-', t.day())] {
        buf.push(sep);
        two(buf, part);
    }
    buf.push(b'T');
    for (k, part) in [t.hour(), t.minute(), t.second()].into_iter().enumerate() {
        if k > 0 {
            buf.push(b':');
        }
        two(buf, part);
    }
    if at % 1_000_000 != 0 {
        let micros = t.nanosecond() / 1000;
        buf.push(b'.');
        six_digits(buf, micros.into());
    }
    buf.push(if offset < 0 { b'-' } else { b'+' });
    let minutes = offset.unsigned_abs() / 60;
    two(buf, minutes / 60);
    buf.push(b':');
    two(buf, minutes % 60);
    buf.push(b',');
    two(buf, century);
    two(buf, year);
    buf.push(b'-');
    two(buf, t.month());
    buf.push(b',');
}

/// A cell as the ledger writes it, formatted once.
fn formatted(value: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    cell(&mut buf, value);
    buf
}

/// The offset of `at` in `tz` in seconds, when its timestamp is written by
/// [`instant_and_month`]'s own digits (four-digit year, whole minutes of offset).
fn plain_offset(at: i64, tz: chrono_tz::Tz) -> Option<i32> {
    use chrono::{Datelike, Offset};
    let local = chrono::DateTime::from_timestamp_micros(at)?.with_timezone(&tz);
    let offset = local.offset().fix().local_minus_utc();
    ((0..=9999).contains(&local.year()) && offset % 60 == 0).then_some(offset)
}

/// The timestamp and month cells of one minute's instants in one zone, but for the seconds:
/// consecutive rows are mostly in the same minute, and chrono's conversion per instant was
/// the ledger's largest cost after the writes.
struct Minute {
    /// Minutes since 1970-01-01 UTC.
    minute: i64,
    tz: chrono_tz::Tz,
    /// The cells of its first second (`YYYY-MM-DDTHH:MM:SS+HH:MM,YYYY-MM,`, the seconds at
    /// bytes 17 and 18); `None` when the minute is not plain (an offset in seconds, a year
    /// outside four digits, or an offset change inside it).
    cells: Option<Block>,
}

impl Minute {
    fn of(minute: i64, tz: chrono_tz::Tz) -> Minute {
        let cells = (|| {
            let start = minute.checked_mul(60_000_000)?;
            let offset = plain_offset(start, tz)?;
            (plain_offset(start.checked_add(59_999_999)?, tz)? == offset).then_some(())?;
            let mut s = Vec::with_capacity(48);
            instant_and_month(&mut s, start, tz);
            (s.len() > 19).then(|| Block::new(&s))
        })();
        Minute { minute, tz, cells }
    }
}

/// The cells from `billed_as` to `market`, and the note: what a row says of its billing. A
/// run has few distinct ones, each formatted once.
#[derive(Clone, Copy)]
struct Shape {
    billed_as: &'static str,
    category: &'static str,
    charge: &'static str,
    note: &'static str,
    price: PriceCells,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum PriceCells {
    /// An amount of `0`.
    Free,
    Unpriced,
    Priced {
        /// The amount's bytes (`Decimal::serialize`): 1.0 and 1.00 are equal, written apart.
        amount: [u8; 16],
        rate_country: Option<Country>,
        rate_from: Option<NaiveDate>,
        market: Option<MarketId>,
    },
}

/// A shape as a key: its words by address and length (they are the program's own, from a
/// few constants), so that a look-up hashes and compares numbers, not text. Equal words at
/// two addresses would only make two shapes of the same text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ShapeKey {
    words: [(usize, usize); 4],
    price: PriceCells,
}

impl Shape {
    #[inline]
    fn key(&self) -> ShapeKey {
        let w = |s: &'static str| (s.as_ptr() as usize, s.len());
        ShapeKey {
            words: [
                w(self.billed_as),
                w(self.category),
                w(self.charge),
                w(self.note),
            ],
            price: self.price,
        }
    }

    // Inlined: a shape handed back through memory cost a stall per row.
    #[inline]
    fn of(line: &Line) -> Shape {
        let o = &line.outcome;
        let (price, note) = match line.price {
            Price::Free if o.blocked => (PriceCells::Free, "blocked"),
            Price::Free if o.billed == Billed::NotDelivered => {
                (PriceCells::Free, "not delivered (status)")
            }
            Price::Free => (PriceCells::Free, ""),
            Price::FreeSession => (PriceCells::Free, "session free in this model"),
            Price::Allowance => (PriceCells::Free, "free allowance"),
            Price::Unpriced => (PriceCells::Unpriced, "unpriced"),
            Price::Priced {
                amount,
                rate_country,
                rate_from,
                market,
                carried_forward,
            } => (
                PriceCells::Priced {
                    amount: amount.serialize(),
                    rate_country,
                    rate_from,
                    market,
                },
                if carried_forward {
                    "carried forward"
                } else {
                    ""
                },
            ),
        };
        Shape {
            billed_as: match o.billed {
                Billed::Inbound => "",
                b => b.name(),
            },
            category: match o.charge {
                Charge::Meta(mc) => mc.column.name(),
                _ => line.category.map(|c| c.name()).unwrap_or_default(),
            },
            charge: match o.charge {
                Charge::None => "",
                Charge::Session => "session",
                Charge::Message(_) => "message",
                Charge::Meta(mc) if mc.conversation => "conversation",
                Charge::Meta(_) => "message",
                Charge::International => "international",
            },
            note: match note {
                "" if o.assumed_category => "category assumed",
                note => note,
            },
            price,
        }
    }
}

/// Whether two lines have one shape, told from what [`Shape::of`] reads of them (a
/// whatsapp-meta charge by its column and kind only), without making either shape: a shape
/// made and its key read back at once stalled every row (the key's wide loads wait for its
/// narrow stores), a sixth of the billing threads' ledger time (docs/performance.md, "Ledger,
/// sixth pass"). False tells nothing: the shape is then looked up.
#[inline]
fn same_shape(a: &Line, b: &Line) -> bool {
    let (x, y) = (&a.outcome, &b.outcome);
    let charge = match (x.charge, y.charge) {
        (Charge::Meta(p), Charge::Meta(q)) => {
            p.column == q.column && p.conversation == q.conversation
        }
        (p, q) => p == q,
    };
    let price = match (&a.price, &b.price) {
        (
            Price::Priced {
                amount: p,
                rate_country: pc,
                rate_from: pf,
                market: pm,
                carried_forward: pcf,
            },
            Price::Priced {
                amount: q,
                rate_country: qc,
                rate_from: qf,
                market: qm,
                carried_forward: qcf,
            },
        ) => {
            // The amount as written: 1.0 and 1.00 are equal Decimals, two shapes.
            (p.mantissa(), p.scale(), p.is_sign_negative())
                == (q.mantissa(), q.scale(), q.is_sign_negative())
                && (pc, pf, pm, pcf) == (qc, qf, qm, qcf)
        }
        (p, q) => std::mem::discriminant(p) == std::mem::discriminant(q),
    };
    charge
        && price
        && (x.billed, x.blocked, x.assumed_category) == (y.billed, y.blocked, y.assumed_category)
        && a.category == b.category
}

/// The text of a shape: its cells from `billed_as` to `market` (each with its comma), and
/// its note with the row's line break.
#[derive(Clone)]
struct ShapeText {
    cells: Block,
    note: Block,
}

/// Compact records in a segment (the last one of a model: fewer). A segment's first record
/// has its instant and line whole (not as differences), so that each segment can be made
/// into text alone, by any worker: about 45 KB of records, 470 KB of text. Small, so the
/// texts waiting to be written (a few MB) are still in the cache when the writer copies
/// them: with 16,384 records (1.9 MB) the kernel's copy into a disk file took 1.5 s more.
const SEGMENT_RECORDS: u32 = 1 << 12;

/// A compact record decoded: the event (what a row shows of it), its session and shape.
type Decoded = (Event, Option<u32>, u32);

/// One model's rows, formatted into `out`, or kept compact there (a temporary file) and
/// formatted when the ledger is put together (`Part::segment_rows`). Errors are kept and
/// reported by [`Part::finish`]: billing does not stop for them.
pub struct Part<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<std::io::Error>,
    tz: chrono_tz::Tz,
    /// Rows written as compact records (the instant, line, contact, cell, country, session
    /// and shape) instead of text: an eighth of the bytes to write and read back.
    compact: bool,
    /// The model and currency cells, and each market's (whatsapp-meta).
    model: Block,
    currency: Vec<u8>,
    markets: Vec<Vec<u8>>,
    shapes: Vec<ShapeText>,
    shape_ids: FxHashMap<ShapeKey, u32>,
    /// The last line whose shape was looked up, and that shape: rows in a row often have
    /// one, told by comparing the lines ([`same_shape`]).
    last_shape: Option<(Line, u32)>,
    /// The minute of the last instant written, and that instant's cells when its minute is
    /// not plain: a log's instants repeat.
    minute: Option<Minute>,
    stamp: Option<(i64, chrono_tz::Tz, Vec<u8>)>,
    /// `--accounts` with zones of their own: each account's rows in its zone, as its months
    /// are cut (`None`: every row in `tz`).
    zones: Option<crate::accounts::Accounts>,
    /// Each account's cell and zone by account id, once it has been written.
    accounts: Vec<Option<(Block, chrono_tz::Tz)>>,
    /// Each contact's cell, once it has been written (a part writing text itself).
    contacts: ContactCells,
    /// The contact cells' slots of the rows being written, read ahead
    /// (`ContactCells::gather`).
    slots: Vec<Slot>,
    /// The instant and line of the last compact record (each is written as the difference).
    last: (i64, u32),
    /// Where each segment of compact records starts in `out` (see [`SEGMENT_RECORDS`]).
    segments: Vec<u64>,
    /// Records the segment being written has room for.
    segment_left: u32,
    /// Bytes handed to `out` so far.
    flushed: u64,
}

impl<W: Write> Part<W> {
    pub fn new(model: &Model, tz: chrono_tz::Tz, out: W) -> Part<W> {
        let markets = match &model.card {
            Card::Meta(spec) => &spec.markets.names[..],
            Card::Country(_) => &[],
        };
        Part::new_named(&model.name, &model.currency, markets, tz, out)
    }

    /// The part of the model named `model`, its prices in `currency`, its markets `markets`.
    fn new_named(
        model: &str,
        currency: &str,
        markets: &[String],
        tz: chrono_tz::Tz,
        out: W,
    ) -> Self {
        Part {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            error: None,
            tz,
            compact: false,
            model: Block::new(&formatted(model)),
            currency: formatted(currency),
            markets: markets.iter().map(|m| formatted(m)).collect(),
            shapes: Vec::new(),
            shape_ids: FxHashMap::default(),
            last_shape: None,
            minute: None,
            stamp: None,
            zones: None,
            accounts: Vec::new(),
            contacts: ContactCells::default(),
            slots: Vec::new(),
            last: (0, 0),
            segments: Vec::new(),
            segment_left: 0,
            flushed: 0,
        }
    }

    /// A part that makes the same text as this one (its model's cells and shapes), with
    /// caches of its own: a worker's (the caches are filled as it writes).
    fn fork(&self) -> Part<Vec<u8>> {
        Part {
            out: Vec::new(),
            buf: Vec::new(),
            error: None,
            tz: self.tz,
            compact: false,
            model: self.model.clone(),
            currency: self.currency.clone(),
            markets: self.markets.clone(),
            shapes: self.shapes.clone(),
            shape_ids: FxHashMap::default(),
            last_shape: None,
            minute: None,
            stamp: None,
            zones: self.zones.clone(),
            accounts: Vec::new(),
            contacts: ContactCells::default(),
            slots: Vec::new(),
            last: (0, 0),
            segments: Vec::new(),
            segment_left: 0,
            flushed: 0,
        }
    }

    /// The zone of `account`'s rows (its own with `zones`, else `tz`), its cell made and its
    /// zone looked up the first time the account (known by its id `id`: one name an id) is
    /// written; the log's accounts often alternate row by row.
    /// `account` gives its name, asked only then.
    #[inline]
    fn account<'n>(&mut self, id: u32, account: impl FnOnce() -> &'n str) -> chrono_tz::Tz {
        let k = id as usize;
        if let Some(Some((_, tz))) = self.accounts.get(k) {
            return *tz;
        }
        self.new_account(k, account())
    }

    #[cold]
    fn new_account(&mut self, k: usize, account: &str) -> chrono_tz::Tz {
        if k >= self.accounts.len() {
            self.accounts.resize(k + 1, None);
        }
        let tz = (self.zones.as_ref()).map_or(self.tz, |z| z.tz_of(account));
        let mut text = Vec::new();
        match account {
            "" => word(&mut text, "(default)"),
            a => cell(&mut text, a),
        }
        self.accounts[k] = Some((Block::new(&text), tz));
        tz
    }

    /// Lines in the replay order (the order billing hands them in).
    fn write_lines(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        let event = |line: &Line| &events[(line.event - first) as usize];
        let mut slots = std::mem::take(&mut self.slots);
        if !self.compact {
            let contacts = lines.iter().map(|l| event(l).contact);
            self.contacts.gather(contacts, &mut slots);
        }
        for (k, line) in lines.iter().enumerate() {
            self.row(line, event(line), slots.get(k), names);
        }
        self.slots = slots;
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf();
        }
    }

    fn flush_buf(&mut self) {
        self.flushed += self.buf.len() as u64;
        if self.error.is_none() {
            self.error = self.out.write_all(&self.buf).err();
        }
        self.buf.clear();
    }

    /// The timestamp and month cells of `at` in `tz`.
    fn stamp(&mut self, at: i64, tz: chrono_tz::Tz) {
        let minute = at.div_euclid(60_000_000);
        if (self.minute.as_ref()).is_none_or(|m| m.minute != minute || m.tz != tz) {
            self.minute = Some(Minute::of(minute, tz));
        }
        if let Some(Minute {
            cells: Some(cells), ..
        }) = &self.minute
        {
            let buf = &mut self.buf;
            let second = (at.rem_euclid(60_000_000) / 1_000_000) as u8;
            let micros = at.rem_euclid(1_000_000);
            if micros == 0 {
                // One copy, the seconds put in place.
                let start = buf.len();
                cells.put(buf);
                buf[start + 17] = b'0' + second / 10;
                buf[start + 18] = b'0' + second % 10;
                return;
            }
            let (head, tail) = (&cells.text()[..17], &cells.text()[19..]);
            buf.extend_from_slice(head);
            two(buf, second.into());
            buf.push(b'.');
            six_digits(buf, micros);
            buf.extend_from_slice(tail);
            return;
        }
        if (self.stamp.as_ref()).is_none_or(|(t, z, _)| *t != at || *z != tz) {
            let mut s = Vec::with_capacity(48);
            instant_and_month(&mut s, at, tz);
            self.stamp = Some((at, tz, s));
        }
        if let Some((_, _, s)) = &self.stamp {
            self.buf.extend_from_slice(s);
        }
    }

    /// The row of one outbound message (none for an inbound one); `slot`: its contact's.
    fn row(&mut self, line: &Line, ev: &Event, slot: Option<&Slot>, names: &dyn Names) {
        if ev.direction == Direction::Inbound {
            return;
        }
        let shape = self.shape_id(line);
        if self.compact {
            self.record(ev, line.outcome.session, shape);
        } else {
            self.text_row(ev, (line.outcome.session, shape), slot, names, None);
        }
    }

    /// The number of the shape of `line`, its text made the first time it is seen.
    fn shape_id(&mut self, line: &Line) -> u32 {
        match &self.last_shape {
            Some((last, id)) if same_shape(line, last) => return *id,
            _ => {}
        }
        let shape = Shape::of(line);
        let key = shape.key();
        if let Some(&id) = self.shape_ids.get(&key) {
            self.last_shape = Some((*line, id));
            return id;
        }
        let id = self.shapes.len() as u32;
        let cells = Block::new(&self.shape_cells(&shape));
        let note = Block::new(format!("{}\n", shape.note).as_bytes());
        self.shapes.push(ShapeText { cells, note });
        self.shape_ids.insert(key, id);
        self.last_shape = Some((*line, id));
        id
    }

    /// The row of an outbound message as text. Its contact's cell: from `slot` (read ahead
    /// from `contacts` if given, else from the part's own), else from those, else made (and
    /// kept in the part's own the first time the contact is seen).
    /// Generic in `names`: a worker's rows call the log's own look-ups, not through a table.
    fn text_row<N: Names + ?Sized>(
        &mut self,
        ev: &Event,
        (session, shape): (Option<u32>, u32),
        slot: Option<&Slot>,
        names: &N,
        contacts: Option<&ContactCells>,
    ) {
        let account = names.account_id(ev);
        let tz = self.account(account, || names.account(ev));
        self.stamp(ev.at, tz);
        let buf = &mut self.buf;
        if let Some(Some((text, _))) = self.accounts.get(account as usize) {
            text.put(buf);
        }
        let made = |buf: &mut Vec<u8>| {
            slot.is_some_and(|s| s.put(buf))
                || contacts.unwrap_or(&self.contacts).put(ev.contact, buf)
        };
        if !made(buf) {
            let start = buf.len();
            match names.contact_number(ev) {
                // A number's name is `+digits`: a `tel:` URI with no check of its text.
                Some(_) => {
                    buf.extend_from_slice(b"tel:");
                    buf.extend_from_slice(names.contact(ev, &mut [0; 16]).as_bytes());
                    buf.push(b',');
                }
                None => contact_cell(buf, names.contact(ev, &mut [0; 16])),
            }
            if contacts.is_none() {
                self.contacts.set(ev.contact, &buf[start..]);
            }
        }
        // Two ASCII letters: nothing to quote.
        let [a, b] = ev.country.bytes();
        buf.extend_from_slice(&[a, b, b',']);
        self.model.put(buf);
        if let Some(s) = session {
            number(buf, s as u64);
        }
        buf.push(b',');
        match self.shapes.get(shape as usize) {
            Some(s) => {
                s.cells.put(buf);
                number(buf, ev.line as u64);
                buf.push(b',');
                s.note.put(buf);
            }
            None => buf.push(b'\n'),
        }
    }

    /// The cells from `billed_as` to `market` of `shape`.
    fn shape_cells(&self, shape: &Shape) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64);
        for w in [shape.billed_as, shape.category, shape.charge] {
            word(&mut buf, w);
        }
        let (rate_country, rate_from, market) = match shape.price {
            PriceCells::Free | PriceCells::Unpriced => {
                if shape.price == PriceCells::Free {
                    buf.push(b'0');
                }
                buf.push(b',');
                buf.extend_from_slice(&self.currency);
                buf.extend_from_slice(b",,,");
                return buf;
            }
            PriceCells::Priced {
                amount,
                rate_country,
                rate_from,
                market,
            } => {
                let _ = write!(buf, "{},", Decimal::deserialize(amount));
                (rate_country, rate_from, market)
            }
        };
        buf.extend_from_slice(&self.currency);
        match (rate_country, market) {
            (Some(c), _) => cell(&mut buf, c.as_str()),
            (None, Some(_)) => buf.push(b','),
            (None, None) => cell(&mut buf, "*"),
        }
        if let Some(d) = rate_from {
            let _ = write!(buf, "{d}");
        }
        buf.push(b',');
        match market.and_then(|m| self.markets.get(m as usize)) {
            Some(m) => buf.extend_from_slice(m),
            None => buf.push(b','),
        }
        buf
    }

    /// The row of an outbound message as a compact record, for [`Part::segment_rows`].
    fn record(&mut self, ev: &Event, session: Option<u32>, shape: u32) {
        if self.segment_left == 0 {
            self.start_segment();
        }
        self.segment_left -= 1;
        let buf = &mut self.buf;
        let (at, line) = self.last;
        instant_difference(buf, ev.at.wrapping_sub(at));
        varint(buf, zigzag(i64::from(ev.line) - i64::from(line)));
        varint(buf, ev.contact.into());
        varint(buf, ev.cell.into());
        buf.extend_from_slice(&ev.country.bytes());
        varint(buf, session.map_or(0, |s| u64::from(s) + 1));
        varint(buf, shape.into());
        self.last = (ev.at, ev.line);
    }

    /// A new segment from the next record on: its instant and line are written whole.
    #[cold]
    fn start_segment(&mut self) {
        self.segments.push(self.flushed + self.buf.len() as u64);
        self.segment_left = SEGMENT_RECORDS;
        self.last = (0, 0);
    }

    /// The record at `data[*pos..]`: the event (what the row shows of it), its session and
    /// shape; `pos` is moved past it.
    fn decode(&mut self, data: &[u8], pos: &mut usize) -> Option<Decoded> {
        let (at, line) = self.last;
        let at = at.wrapping_add(read_instant_difference(data, pos)?);
        let line = u32::try_from(i64::from(line) + unzigzag(read_varint(data, pos)?)).ok()?;
        let contact = u32::try_from(read_varint(data, pos)?).ok()?;
        let cell = u32::try_from(read_varint(data, pos)?).ok()?;
        let country = Country::from_bytes(data.get(*pos..*pos + 2)?)?;
        *pos += 2;
        let session = match read_varint(data, pos)? {
            0 => None,
            s => Some(u32::try_from(s - 1).ok()?),
        };
        let shape = u32::try_from(read_varint(data, pos)?).ok()?;
        self.last = (at, line);
        let ev = Event {
            at,
            day: 0,
            line,
            contact,
            stream: 0,
            cell,
            country,
            direction: Direction::Outbound,
            kind: Kind::FreeForm,
        };
        Some((ev, session, shape))
    }

    /// The fee rows of the model's result, after its lines.
    fn fees(&mut self, log: &Log, result: &ModelResult) {
        for f in &result.fees {
            let tz = self.account(f.account, || log.account_name(f.account));
            let buf = &mut self.buf;
            let start = month_start(f.month, tz)
                .map(|t| format_instant(t, tz))
                .unwrap_or_default();
            word(buf, &start);
            word(buf, &month_label(f.month));
            cell(buf, &super::account_label(log, f.account));
            buf.push(b',');
            match f.country {
                Some(c) => cell(buf, c.as_str()),
                None => word(buf, "*"),
            }
            self.model.put(buf);
            buf.push(b',');
            word(
                buf,
                match f.kind {
                    FeeKind::Flat => "monthly_fee",
                    FeeKind::Minimum => "minimum_commitment",
                },
            );
            let _ = write!(buf, ",fee,{},", f.amount);
            buf.extend_from_slice(&self.currency);
            let _ = write!(buf, ",,,,tier {}; spend {}", f.tier, f.spend);
            if let Some(n) = f.before_minimum {
                let _ = write!(buf, "; not applied before active month {n} in the log");
            }
            buf.push(b'\n');
        }
    }

    /// Writes out what is left; gives the writer back, or the first error.
    fn finish(mut self) -> std::io::Result<W> {
        self.flush_buf();
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

/// Microseconds in a second.
const SECOND: i64 = 1_000_000;

/// The difference between two records' instants: in whole seconds when it has no fraction
/// (most logs' instants: one byte where the microseconds took three), shifted left with a 0
/// bit; otherwise a 1 (alone) and the microseconds.
fn instant_difference(buf: &mut Vec<u8>, micros: i64) {
    // Below 2^44 seconds either way: shifted, still in 64 bits.
    let seconds = zigzag(micros / SECOND);
    if micros % SECOND == 0 {
        varint(buf, seconds << 1);
    } else {
        varint(buf, 1);
        varint(buf, zigzag(micros));
    }
}

fn read_instant_difference(data: &[u8], pos: &mut usize) -> Option<i64> {
    match read_varint(data, pos)? {
        1 => Some(unzigzag(read_varint(data, pos)?)),
        n if n & 1 == 0 => unzigzag(n >> 1).checked_mul(SECOND),
        _ => None,
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    (n >> 1) as i64 ^ -((n & 1) as i64)
}

/// `n` in LEB128: seven bits a byte, the low ones first.
fn varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push(n as u8 | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn read_varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*pos)?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(n);
        }
    }
    None
}

impl<W: Write + Send> LineSink for Part<W> {
    fn take(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        self.write_lines(lines, first, events, names);
    }
    /// A ledger's parts keep contact ids, named when their text is made after billing.
    fn names_every_line(&self) -> bool {
        false
    }
}

fn failed(e: std::io::Error) -> Error {
    Error::io("writing the ledger", e)
}

/// The ledger of a run being billed: a [`Part`] per model. The models are billed side by
/// side, the ledger has them one after the other: each model's rows go to a temporary file
/// as compact records while it bills, and are made into text once every model is billed, on
/// every core while the ledger is written (docs/performance.md, "Ledger, sixth pass": formatting
/// the first model's rows on the billing threads made billing three times as long, with the
/// disk mostly idle, and left the disk the whole ledger's end phase).
pub struct Ledger<W: Write + Send> {
    parts: Vec<Mutex<Part<std::fs::File>>>,
    out: W,
}

impl<W: Write + Send> Ledger<W> {
    /// Starts the ledger of `models`, to be written to `out` by [`Ledger::finish`]: nothing
    /// is written before every model is billed, so a run that starts over (a log out of time
    /// order, from a pipe or a device) has nothing to take back.
    pub fn new(models: &[Model], tz: chrono_tz::Tz, out: W) -> Result<Ledger<W>> {
        let mut parts = Vec::new();
        for m in models {
            let mut part = Part::new(m, tz, tempfile::tempfile().map_err(failed)?);
            part.compact = true;
            parts.push(Mutex::new(part));
        }
        Ok(Ledger { parts, out })
    }

    /// Each account's rows in its own zone (`--accounts` with a `tz`), as its months are cut.
    pub fn with_zones(self, accounts: &crate::accounts::Accounts) -> Ledger<W> {
        if accounts.zoned() {
            for p in &self.parts {
                p.lock().unwrap_or_else(|e| e.into_inner()).zones = Some(accounts.clone());
            }
        }
        self
    }

    /// What billing hands each model's lines to, by model.
    pub fn sinks(&self) -> Vec<&Mutex<dyn LineSink + '_>> {
        (self.parts.iter())
            .map(|p| p as &Mutex<dyn LineSink>)
            .collect()
    }

    /// The header, then each model's rows and its fee rows, model after model; gives the
    /// ledger. The rows are made into text by `threads` workers (at most one per core) while
    /// the ledger is written.
    pub fn finish(self, log: &Log, results: &[ModelResult], threads: usize) -> Result<W> {
        let mut ledger = self.out;
        write_header(&mut ledger)?;
        let mut kept = Vec::new();
        for (part, result) in self.parts.into_iter().zip(results) {
            let part = part.into_inner().unwrap_or_else(|e| e.into_inner());
            kept.push(Kept::of(part, result)?);
        }
        write_kept(&kept, log, threads, &mut ledger).map_err(failed)?;
        ledger.flush().map_err(failed)?;
        Ok(ledger)
    }
}

/// A model's rows kept compact, to be made into text: its records in a temporary file, cut
/// into segments that decode alone, and its fee rows.
struct Kept<'a> {
    /// Read by one worker at a time (a segment is a seek and one read).
    file: Mutex<std::fs::File>,
    /// Where each segment starts in `file`; the last one ends at `end`.
    starts: Vec<u64>,
    end: u64,
    /// The records of the last segment (every other one has [`SEGMENT_RECORDS`]).
    last_records: u32,
    /// The model's cells and shapes, for the workers' own parts.
    part: Part<Vec<u8>>,
    result: &'a ModelResult,
}

impl<'a> Kept<'a> {
    fn of(mut part: Part<std::fs::File>, result: &'a ModelResult) -> Result<Kept<'a>> {
        part.flush_buf();
        if let Some(e) = part.error.take() {
            return Err(failed(e));
        }
        Ok(Kept {
            part: part.fork(),
            file: Mutex::new(part.out),
            starts: part.segments,
            end: part.flushed,
            last_records: SEGMENT_RECORDS - part.segment_left,
            result,
        })
    }

    /// Segment `k`'s records into `data`; gives how many there are.
    fn read(&self, k: usize, data: &mut Vec<u8>) -> std::io::Result<u32> {
        let start = self.starts[k];
        let (end, records) = match self.starts.get(k + 1) {
            Some(&next) => (next, SEGMENT_RECORDS),
            None => (self.end, self.last_records),
        };
        data.clear();
        data.resize((end - start) as usize, 0);
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.seek(std::io::SeekFrom::Start(start))?;
        file.read_exact(data)?;
        Ok(records)
    }
}

/// A worker of [`write_kept`]: a part of each kept model (its caches its own), and buffers
/// for a segment's records and the same decoded.
struct Worker {
    parts: Vec<Part<Vec<u8>>>,
    data: Vec<u8>,
    decoded: Vec<Decoded>,
}

/// The rows of the `kept` models, each model's segments then its fee rows, model after
/// model, made into text by a pool of workers and written to `ledger` in that order.
fn write_kept(
    kept: &[Kept],
    log: &Log,
    threads: usize,
    ledger: &mut impl Write,
) -> std::io::Result<()> {
    if kept.is_empty() {
        return Ok(());
    }
    let contacts = &ContactCells::of(log, None);
    // A job: a model's segment, or (`None`) its fee rows.
    let jobs: Vec<(usize, Option<usize>)> = (kept.iter().enumerate())
        .flat_map(|(m, k)| {
            (0..k.starts.len())
                .map(move |s| (m, Some(s)))
                .chain([(m, None)])
        })
        .collect();
    // More workers than cores would only take turns (and hold more text).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = threads.clamp(1, cores.max(1)).min(jobs.len());
    let states = (0..workers)
        .map(|_| Worker {
            parts: kept.iter().map(|k| k.part.fork()).collect(),
            data: Vec::new(),
            decoded: Vec::new(),
        })
        .collect();
    let make = |w: &mut Worker, job: usize, text: &mut Vec<u8>| {
        let (m, segment) = jobs[job];
        let (kept, part) = (&kept[m], &mut w.parts[m]);
        // The part writes into the pool's buffer.
        std::mem::swap(&mut part.buf, text);
        let done = match segment {
            Some(k) => kept.read(k, &mut w.data).and_then(|records| {
                part.segment_rows((&w.data, records), log, contacts, &mut w.decoded)
            }),
            None => {
                part.fees(log, kept.result);
                Ok(())
            }
        };
        std::mem::swap(&mut part.buf, text);
        done
    };
    segments::in_order(jobs.len(), 2 * workers + 2, states, make, |text| {
        ledger.write_all(text)
    })
}

impl Part<Vec<u8>> {
    /// The `records` compact records of a segment (`data`, by [`Part::record`]) as text,
    /// their names from `log`.
    /// The records are decoded first (into `decoded`), then their contacts' slots read.
    fn segment_rows(
        &mut self,
        (data, records): (&[u8], u32),
        log: &Log,
        contacts: &ContactCells,
        decoded: &mut Vec<Decoded>,
    ) -> std::io::Result<()> {
        let cut_short = || std::io::Error::other("a ledger row kept compact is cut short");
        self.last = (0, 0);
        let mut pos = 0;
        decoded.clear();
        for _ in 0..records {
            decoded.push(self.decode(data, &mut pos).ok_or_else(cut_short)?);
        }
        if pos != data.len() {
            return Err(cut_short());
        }
        let mut slots = std::mem::take(&mut self.slots);
        contacts.gather(decoded.iter().map(|(ev, _, _)| ev.contact), &mut slots);
        for ((ev, session, shape), slot) in decoded.iter().zip(&slots) {
            self.text_row(ev, (*session, *shape), Some(slot), log, Some(contacts));
        }
        self.slots = slots;
        Ok(())
    }
}

fn write_header(out: &mut impl Write) -> Result<()> {
    let mut header = HEADER.join(",");
    header.push('\n');
    out.write_all(header.as_bytes()).map_err(failed)
}

/// The ledger of results billed with their lines kept (`BillingOptions::keep_lines`).
pub fn write(
    log: &Log,
    models: &[ModelResult],
    tz: chrono_tz::Tz,
    mut out: impl Write,
) -> Result<()> {
    write_header(&mut out)?;
    for m in models {
        let mut part = Part::new_named(&m.name, &m.currency, &m.markets, tz, &mut out);
        // Already in the replay order, and lines of one instant are together.
        part.write_lines(&m.lines, 0, &log.events, log);
        part.flush_buf();
        part.fees(log, m);
        part.finish().map_err(failed)?;
    }
    out.flush().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(at: i64, tz: &str) -> String {
        let mut buf = Vec::new();
        instant_and_month(&mut buf, at, tz.parse().unwrap());
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn timestamps_and_months_by_hand() {
        let at = 1_772_356_500 * 1_000_000; // 2026-03-01T09:15:00Z
        assert_eq!(stamp(at, "UTC"), "2026-03-01T09:15:00+00:00,2026-03,");
        // +05:45: a quarter-hour offset; the fraction always in six digits.
        assert_eq!(
            stamp(at + 123, "Asia/Kathmandu"),
            "2026-03-01T15:00:00.000123+05:45,2026-03,"
        );
        // -03:30 puts the instant in the month before.
        assert_eq!(
            stamp(at - 9 * 3_600_000_000, "America/St_Johns"),
            "2026-02-28T20:45:00-03:30,2026-02,"
        );
        assert_eq!(
            stamp(500_000, "UTC"),
            "1970-01-01T00:00:00.500000+00:00,1970-01,"
        );
    }

    #[test]
    fn timestamps_are_those_of_format_instant() {
        // Around the 2026 clock changes, in zones with odd offsets, and one whose offset of
        // 1970 has seconds (Africa/Monrovia, -00:44:30: left to chrono).
        let zones = [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Pacific/Chatham",
        ];
        let base = 1_774_746_000 * 1_000_000; // 2026-03-29T01:00:00Z
        for tz in zones.iter().chain(&["Africa/Monrovia"]) {
            let zone: chrono_tz::Tz = tz.parse().unwrap();
            for at in [
                0,
                999_999,
                base - 1,
                base,
                base + 1_000_000,
                base + 86_399_999_999,
            ] {
                let (month, _) = local_month_day(at, zone);
                let want = format!("{},{},", format_instant(at, zone), month_label(month));
                assert_eq!(stamp(at, tz), want, "{tz} {at}");
            }
        }
    }

    fn part(tz: chrono_tz::Tz) -> Part<Vec<u8>> {
        Part::new_named("m", "EUR", &[], tz, Vec::new())
    }

    /// The per-minute cells: around the 2026 clock changes, with fractions, before 1970, and
    /// in a zone whose 1970 offset has seconds (its minutes are not plain: per instant).
    #[test]
    fn timestamps_by_the_minute_are_those_of_format_instant() {
        let base = 1_774_746_000 * 1_000_000; // 2026-03-29T01:00:00Z
        let zones = [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Africa/Monrovia",
        ];
        for tz in zones {
            let zone: chrono_tz::Tz = tz.parse().unwrap();
            let mut p = part(zone);
            let mut want = String::new();
            let ats = (-130..130).map(|k| base + k * 997_000_123);
            for at in ats.chain([0, 999_999, -1, -60_000_000, 59_999_999]) {
                p.stamp(at, zone);
                let (month, _) = local_month_day(at, zone);
                want += &format!("{},{},", format_instant(at, zone), month_label(month));
            }
            assert_eq!(String::from_utf8(p.buf).unwrap(), want, "{tz}");
        }
    }

    fn line(amount: Decimal) -> Line {
        let mut outcome = crate::engine::Outcome::not_delivered();
        outcome.billed = Billed::Welcome;
        let price = Price::Priced {
            amount,
            rate_country: None,
            rate_from: None,
            market: None,
            carried_forward: false,
        };
        Line {
            event: 0,
            outcome,
            price,
            category: None,
        }
    }

    /// 1.0 and 1.00 are equal Decimals but written apart: a shape keeps the amount's scale.
    #[test]
    fn amounts_of_one_value_and_two_scales_are_two_shapes() {
        let mut p = part(chrono_tz::UTC);
        let ten = p.shape_id(&line(Decimal::new(10, 1)));
        let hundred = p.shape_id(&line(Decimal::new(100, 2)));
        assert_ne!(ten, hundred);
        assert_eq!(p.shape_id(&line(Decimal::new(10, 1))), ten);
        // billed_as, category, charge, amount, currency, rate_country `*` (no country row),
        // rate_effective_from and market empty.
        assert_eq!(
            p.shapes[ten as usize].cells.text(),
            b"welcome,,,1.0,EUR,*,,,"
        );
        assert_eq!(
            p.shapes[hundred as usize].cells.text(),
            b"welcome,,,1.00,EUR,*,,,"
        );
    }

    /// Lines that differ in one thing each a shape reads, and in things it does not (a
    /// whatsapp-meta charge's day, a session): `same_shape` never says "one shape" for two
    /// shapes, and says it where only what a shape does not read differs.
    /// Lines that differ from one another in one thing each (see the test below).
    fn lines_differing_in_one_thing() -> Vec<Line> {
        use crate::engine::MetaCharge;
        use crate::rates::meta::MetaColumn;
        let priced = |amount, rate_country, carried_forward| {
            let mut l = line(amount);
            l.price = Price::Priced {
                amount,
                rate_country,
                rate_from: NaiveDate::from_ymd_opt(2026, 7, 1),
                market: None,
                carried_forward,
            };
            l
        };
        let meta = |column, conversation, price_day| {
            let mut l = line(Decimal::new(1, 2));
            l.outcome.charge = Charge::Meta(MetaCharge {
                column,
                free_tier: None,
                price_day,
                volume_tiers: false,
                international: false,
                conversation,
                per_number: false,
            });
            l
        };
        let de = Country::parse("de");
        let mut lines = vec![
            priced(Decimal::new(10, 1), de, false),
            priced(Decimal::new(100, 2), de, false),
            priced(Decimal::new(-0, 2), de, false),
            priced(Decimal::new(10, 1), None, false),
            priced(Decimal::new(10, 1), de, true),
            meta(MetaColumn::Marketing, false, 20_000),
            meta(MetaColumn::Marketing, false, 20_001),
            meta(MetaColumn::Utility, false, 20_000),
            meta(MetaColumn::Marketing, true, 20_000),
        ];
        let mut neg = priced(Decimal::new(-0, 2), de, false);
        neg.price = match neg.price {
            Price::Priced { amount, .. } => Price::Priced {
                amount: -amount,
                rate_country: de,
                rate_from: NaiveDate::from_ymd_opt(2026, 7, 1),
                market: None,
                carried_forward: false,
            },
            p => p,
        };
        lines.push(neg);
        for price in [
            Price::Free,
            Price::FreeSession,
            Price::Allowance,
            Price::Unpriced,
        ] {
            let mut l = line(Decimal::ONE);
            l.price = price;
            lines.push(l);
            let mut blocked = l;
            blocked.outcome.blocked = true;
            lines.push(blocked);
        }
        let mut assumed = line(Decimal::ONE);
        assumed.outcome.assumed_category = true;
        let mut category = line(Decimal::ONE);
        category.category = Some(crate::event::Category::Utility);
        let mut billed = line(Decimal::ONE);
        billed.outcome.billed = Billed::Session;
        let mut session = line(Decimal::ONE);
        session.outcome.session = Some(7);
        lines.extend([line(Decimal::ONE), assumed, category, billed, session]);
        lines
    }

    #[test]
    fn lines_of_one_shape_are_told_without_making_it() {
        let lines = lines_differing_in_one_thing();
        let mut told = 0;
        for a in &lines {
            for b in &lines {
                let one = Shape::of(a).key() == Shape::of(b).key();
                assert!(!same_shape(a, b) || one, "{a:?}\n{b:?}");
                told += usize::from(same_shape(a, b));
            }
        }
        // Each line with itself; the two days of one meta charge; the session's line and
        // the plain one (both ways).
        assert_eq!(told, lines.len() + 2 + 2);
    }

    #[test]
    fn compact_records_give_back_their_events() {
        let ev = |at, line, contact, session| {
            let e = Event {
                at,
                day: 0,
                line,
                contact,
                stream: 0,
                cell: contact / 3,
                country: Country::parse("de").unwrap(),
                direction: Direction::Outbound,
                kind: Kind::FreeForm,
            };
            (e, session, contact % 1000)
        };
        let rows = [
            ev(1_772_356_500_000_000, 2, 0, None),
            ev(1_772_356_500_000_000, 1, u32::MAX, Some(0)),
            ev(1_772_356_501_000_000, 3, 9, None),
            ev(1_772_356_499_000_000, 4, 9, None),
            ev(1_772_356_499_000_001, 5, 9, None),
            ev(-9_000_000_000_000_000_000, 6, 9, None),
            ev(-5, u32::MAX, 5, Some(u32::MAX)),
            ev(i64::MAX, 0, 1 << 20, Some(3)),
            ev(i64::MIN, 7, 2, None),
        ];
        let mut p = part(chrono_tz::UTC);
        for (e, session, shape) in &rows {
            p.record(e, *session, *shape);
        }
        let data = std::mem::take(&mut p.buf);
        let (mut back, mut pos) = (part(chrono_tz::UTC), 0);
        for (e, session, shape) in &rows {
            let (got, s, sh) = back.decode(&data, &mut pos).unwrap();
            let fields = |e: &Event| (e.at, e.line, e.contact, e.cell, e.country);
            assert_eq!((fields(&got), s, sh), (fields(e), *session, *shape));
        }
        assert_eq!(pos, data.len());
        // Cut short: no record, no panic.
        assert!(back.decode(&data[..data.len() - 1], &mut 0).is_some());
        let mut pos = data.len() - 1;
        assert!(part(chrono_tz::UTC).decode(&data, &mut pos).is_none());
    }

    /// Differences of instants in whole seconds: a byte for a few seconds either way; others
    /// (a fraction, and the largest) a marker byte and the microseconds.
    #[test]
    fn instant_differences_by_hand() {
        for (micros, len) in [
            (0, 1),
            (SECOND, 1),
            (-2 * SECOND, 1),
            (31 * SECOND, 1),
            (32 * SECOND, 2),
            (1, 2),
            (-SECOND - 1, 1 + 3),
            (i64::MAX, 1 + 10),
            // -9,223,372,036,854 s: zigzag 18,446,744,073,707, shifted 46 bits: 7 bytes.
            (-9_223_372_036_854_000_000, 7),
        ] {
            let mut buf = Vec::new();
            instant_difference(&mut buf, micros);
            assert_eq!(buf.len(), len, "{micros}");
            let mut pos = 0;
            assert_eq!(read_instant_difference(&buf, &mut pos), Some(micros));
            assert_eq!(pos, len);
        }
        // An odd number other than the marker is no difference.
        assert_eq!(read_instant_difference(&[3], &mut 0), None);
    }

    /// Each segment decodes alone, from its start and a part that has decoded nothing: the
    /// record right after a segment's start is its event, not a difference from the last.
    #[test]
    fn each_segment_of_compact_records_decodes_alone() {
        let de = Country::parse("de").unwrap();
        let n = 2 * SEGMENT_RECORDS + 5;
        let events: Vec<Event> = (0..n)
            .map(|k| Event {
                at: 1_772_356_500_000_000 + i64::from(k) * 1_000_003,
                day: 0,
                line: 2 * k + 1,
                contact: k % 97,
                stream: 0,
                cell: k % 89,
                country: de,
                direction: Direction::Outbound,
                kind: Kind::FreeForm,
            })
            .collect();
        let mut p = part(chrono_tz::UTC);
        p.compact = true;
        for (k, e) in events.iter().enumerate() {
            p.record(e, Some(k as u32 / 3), k as u32 % 7);
            if k == 1000 {
                // A flush in the middle: offsets count the bytes written before.
                p.flush_buf();
            }
        }
        p.flush_buf();
        let data = std::mem::take(&mut p.out);
        assert_eq!(p.segments.len(), 3);
        assert_eq!((p.segments[0], p.flushed), (0, data.len() as u64));
        assert_eq!(SEGMENT_RECORDS - p.segment_left, 5);
        let fields = |e: &Event| (e.at, e.line, e.contact, e.cell, e.country);
        for (s, &start) in p.segments.iter().enumerate() {
            let end = p.segments.get(s + 1).map_or(data.len(), |&e| e as usize);
            let (mut alone, mut pos) = (part(chrono_tz::UTC), start as usize);
            let first = s * SEGMENT_RECORDS as usize;
            for (k, e) in events
                .iter()
                .enumerate()
                .skip(first)
                .take(SEGMENT_RECORDS as usize)
            {
                let (got, session, shape) = alone.decode(&data, &mut pos).unwrap();
                assert_eq!(fields(&got), fields(e), "record {k}");
                assert_eq!((session, shape), (Some(k as u32 / 3), k as u32 % 7));
            }
            assert_eq!(pos, end, "segment {s}");
        }
    }

    /// The text a cell writer makes of `v`.
    fn written(write: fn(&mut Vec<u8>, &str), v: &str) -> String {
        let mut b = Vec::new();
        write(&mut b, v);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn phone_numbers_are_tel_uris_other_contacts_as_they_are() {
        let by_hand = |v: &str| written(contact_cell, v);
        assert_eq!(by_hand("+4915112345678"), "tel:+4915112345678,");
        assert_eq!(by_hand("c1"), "c1,");
        assert_eq!(by_hand("+"), "'+,");
        assert_eq!(by_hand("=1+1"), "'=1+1,");
    }

    #[test]
    fn cells_are_quoted_as_the_csv_crate_quotes_them() {
        let by_hand = |v: &str| written(cell, v);
        assert_eq!(by_hand("plain"), "plain,");
        assert_eq!(by_hand("a,b"), "\"a,b\",");
        assert_eq!(by_hand("q\"t"), "\"q\"\"t\",");
        assert_eq!(by_hand("=1+1"), "'=1+1,");
        for v in ["", " x ", "line\nend", "cr\r", "=a,b", "+1", "'x", "ü,é"] {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([text(v).as_ref(), "end"]).unwrap();
            let want = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert_eq!(format!("{}end\n", by_hand(v)), want, "{v:?}");
        }
    }
}
