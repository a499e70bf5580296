//! The ledger: one row per outbound message and per fee, for every model.
//!
//! Billing hands each model's lines to a [`Part`] as it bills them (a [`LineSink`]): the
//! rows are formatted straight into that model's own buffer and file, so no event or line is
//! kept for the ledger. The ledger is then the header and, model after model, that model's
//! rows and its fee rows ([`Ledger::finish`]). [`write`] makes the same rows from lines kept
//! in memory (the library's way, and `explain`'s lines).

use super::cell::text;
use crate::billing::{Line, LineSink, ModelResult, Names, Price};
use crate::calendar::{format_instant, local_month_day, month_start};
use crate::engine::{Billed, Charge};
use crate::error::{Error, Result};
use crate::event::{month_label, Direction, Event};
use crate::input::Log;
use crate::rates::{Card, FeeKind, Model};
use chrono::NaiveDate;
use std::io::{Seek, Write};
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

/// A whole number in decimal, without going through a `String`.
fn number(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
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
        let mut digits = [b'0'; 6];
        let mut m = micros;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (m % 10) as u8;
            m /= 10;
        }
        buf.extend_from_slice(&digits);
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

/// One model's rows, formatted into `out`. Errors are kept and reported by [`Part::finish`]:
/// billing does not stop for them.
pub struct Part<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<std::io::Error>,
    tz: chrono_tz::Tz,
    /// The model and currency cells, and each market's (whatsapp-meta).
    model: Vec<u8>,
    currency: Vec<u8>,
    markets: Vec<Vec<u8>>,
    /// The timestamp and month cells of the last instant written, and the zone they are in:
    /// a log's instants repeat.
    stamp: Option<(i64, chrono_tz::Tz, Vec<u8>)>,
    /// `--accounts` with zones of their own: each account's rows in its zone, as its months
    /// are cut (`None`: every row in `tz`).
    zones: Option<crate::accounts::Accounts>,
    /// The zone of the last account written.
    zone: Option<(Box<str>, chrono_tz::Tz)>,
    /// The last rate date written.
    date: Option<(NaiveDate, Vec<u8>)>,
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
            model: formatted(model),
            currency: formatted(currency),
            markets: markets.iter().map(|m| formatted(m)).collect(),
            stamp: None,
            date: None,
            zones: None,
            zone: None,
        }
    }

    /// The zone of `account`'s rows: its own with `zones`, else `tz` (looked up once per run
    /// of one account's rows).
    fn tz_of(&mut self, account: &str) -> chrono_tz::Tz {
        let Some(zones) = &self.zones else {
            return self.tz;
        };
        match &self.zone {
            Some((name, tz)) if **name == *account => *tz,
            _ => {
                let tz = zones.tz_of(account);
                self.zone = Some((account.into(), tz));
                tz
            }
        }
    }

    /// Lines in the replay order (the order billing hands them in).
    fn write_lines(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        for line in lines {
            self.row(line, &events[(line.event - first) as usize], names);
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf();
        }
    }

    fn flush_buf(&mut self) {
        if self.error.is_none() {
            self.error = self.out.write_all(&self.buf).err();
        }
        self.buf.clear();
    }

    /// The timestamp and month cells of `at` in `tz`.
    fn stamp(&mut self, at: i64, tz: chrono_tz::Tz) {
        if (self.stamp.as_ref()).is_none_or(|(t, z, _)| *t != at || *z != tz) {
            let mut s = Vec::with_capacity(48);
            instant_and_month(&mut s, at, tz);
            self.stamp = Some((at, tz, s));
        }
        if let Some((_, _, s)) = &self.stamp {
            self.buf.extend_from_slice(s);
        }
    }

    /// The row of one outbound message (none for an inbound one).
    fn row(&mut self, line: &Line, ev: &Event, names: &dyn Names) {
        if ev.direction == Direction::Inbound {
            return;
        }
        let o = &line.outcome;
        let tz = self.tz_of(names.account(ev));
        self.stamp(ev.at, tz);
        let buf = &mut self.buf;
        match names.account(ev) {
            "" => word(buf, "(default)"),
            a => cell(buf, a),
        }
        contact_cell(buf, names.contact(ev, &mut [0; 16]));
        cell(buf, ev.country.as_str());
        buf.extend_from_slice(&self.model);
        if let Some(s) = o.session {
            number(buf, s as u64);
        }
        buf.push(b',');
        word(
            buf,
            if o.billed == Billed::Inbound {
                ""
            } else {
                o.billed.name()
            },
        );
        word(
            buf,
            match o.charge {
                Charge::Meta(mc) => mc.column.name(),
                _ => line.category.map(|c| c.name()).unwrap_or_default(),
            },
        );
        word(
            buf,
            match o.charge {
                Charge::None => "",
                Charge::Session => "session",
                Charge::Message(_) => "message",
                Charge::Meta(mc) if mc.conversation => "conversation",
                Charge::Meta(_) => "message",
                Charge::International => "international",
            },
        );
        let note = self.price(line);
        let note = if o.assumed_category && note.is_empty() {
            "category assumed"
        } else {
            note
        };
        number(&mut self.buf, ev.line as u64);
        self.buf.push(b',');
        self.buf.extend_from_slice(note.as_bytes());
        self.buf.push(b'\n');
    }

    /// The cells from `amount` to `market` (the currency among them); gives the note.
    fn price(&mut self, line: &Line) -> &'static str {
        let buf = &mut self.buf;
        let free = |buf: &mut Vec<u8>, currency: &[u8], note| {
            buf.extend_from_slice(b"0,");
            buf.extend_from_slice(currency);
            buf.extend_from_slice(b",,,");
            note
        };
        match line.price {
            Price::Free if line.outcome.blocked => free(buf, &self.currency, "blocked"),
            Price::Free if line.outcome.billed == Billed::NotDelivered => {
                free(buf, &self.currency, "not delivered (status)")
            }
            Price::Free => free(buf, &self.currency, ""),
            Price::FreeSession => free(buf, &self.currency, "session free in this model"),
            Price::Allowance => free(buf, &self.currency, "free allowance"),
            Price::Unpriced => {
                buf.push(b',');
                buf.extend_from_slice(&self.currency);
                buf.extend_from_slice(b",,,");
                "unpriced"
            }
            Price::Priced {
                amount,
                rate_country,
                rate_from,
                market,
                carried_forward,
            } => {
                let _ = write!(buf, "{amount},");
                buf.extend_from_slice(&self.currency);
                match (rate_country, market) {
                    (Some(c), _) => cell(buf, c.as_str()),
                    (None, Some(_)) => buf.push(b','),
                    (None, None) => cell(buf, "*"),
                }
                if let Some(d) = rate_from {
                    if self.date.as_ref().is_none_or(|(x, _)| *x != d) {
                        self.date = Some((d, d.to_string().into_bytes()));
                    }
                    if let Some((_, s)) = &self.date {
                        buf.extend_from_slice(s);
                    }
                }
                buf.push(b',');
                match market {
                    Some(m) => buf.extend_from_slice(&self.markets[m as usize]),
                    None => buf.push(b','),
                }
                if carried_forward {
                    "carried forward"
                } else {
                    ""
                }
            }
        }
    }

    /// The fee rows of the model's result, after its lines.
    fn fees(&mut self, log: &Log, result: &ModelResult) {
        for f in &result.fees {
            let tz = self.tz_of(log.account_name(f.account));
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
            buf.extend_from_slice(&self.model);
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

impl<W: Write + Send> LineSink for Part<W> {
    fn take(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        self.write_lines(lines, first, events, names);
    }
}

fn failed(e: std::io::Error) -> Error {
    Error::io("writing the ledger", e)
}

/// The ledger of a run being billed: a [`Part`] per model. The models are billed side by
/// side, the ledger has them one after the other: the first model's rows go straight to the
/// ledger, each other one's to a temporary file, copied in after it.
pub struct Ledger<W: Write + Send> {
    parts: Vec<Mutex<Part<Out<W>>>>,
    /// The ledger itself while no part holds it (no model).
    out: Option<W>,
}

/// Where a part's rows go.
enum Out<W> {
    Ledger(W),
    Temp(std::fs::File),
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Ledger(w) => w.write(buf),
            Out::Temp(f) => f.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Ledger(w) => w.write_all(buf),
            Out::Temp(f) => f.write_all(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Ledger(w) => w.flush(),
            Out::Temp(f) => f.flush(),
        }
    }
}

impl<W: Write + Send> Ledger<W> {
    /// Starts the ledger of `models` in `out`. `first_direct`: the first model's rows go
    /// straight to `out` as they are billed (not for a pipe or device, where a run that must
    /// start over, the log being out of time order, could not take them back).
    pub fn new(
        models: &[Model],
        tz: chrono_tz::Tz,
        mut out: W,
        first_direct: bool,
    ) -> Result<Ledger<W>> {
        if first_direct {
            write_header(&mut out)?;
        }
        let mut out = Some(out);
        let mut parts = Vec::new();
        for (k, m) in models.iter().enumerate() {
            let to = match out.take_if(|_| k == 0 && first_direct) {
                Some(w) => Out::Ledger(w),
                None => Out::Temp(tempfile::tempfile().map_err(failed)?),
            };
            parts.push(Mutex::new(Part::new(m, tz, to)));
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

    /// Ends each model's rows with its fee rows and puts them in order; gives the ledger.
    pub fn finish(self, log: &Log, results: &[ModelResult]) -> Result<W> {
        let mut ledger = self.out;
        if let Some(w) = &mut ledger {
            // No part holds the ledger: its header is not written yet.
            write_header(w)?;
        }
        for (part, result) in self.parts.into_iter().zip(results) {
            let mut part = part.into_inner().unwrap_or_else(|e| e.into_inner());
            part.flush_buf();
            part.fees(log, result);
            match (part.finish().map_err(failed)?, &mut ledger) {
                (Out::Ledger(w), _) => ledger = Some(w),
                (Out::Temp(mut file), Some(w)) => {
                    file.rewind().map_err(failed)?;
                    std::io::copy(&mut file, w).map_err(failed)?;
                }
                // Never: the first part holds the ledger.
                (Out::Temp(_), None) => return Err(failed(std::io::Error::other("no ledger"))),
            }
        }
        let mut ledger = ledger.ok_or_else(|| failed(std::io::Error::other("no ledger")))?;
        ledger.flush().map_err(failed)?;
        Ok(ledger)
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

    #[test]
    fn phone_numbers_are_tel_uris_other_contacts_as_they_are() {
        let by_hand = |v: &str| {
            let mut b = Vec::new();
            contact_cell(&mut b, v);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(by_hand("+4915112345678"), "tel:+4915112345678,");
        assert_eq!(by_hand("c1"), "c1,");
        assert_eq!(by_hand("+"), "'+,");
        assert_eq!(by_hand("=1+1"), "'=1+1,");
    }

    #[test]
    fn cells_are_quoted_as_the_csv_crate_quotes_them() {
        let by_hand = |v: &str| {
            let mut b = Vec::new();
            cell(&mut b, v);
            String::from_utf8(b).unwrap()
        };
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

    #[test]
    fn numbers_in_decimal() {
        for (n, want) in [
            (0, "0"),
            (7, "7"),
            (1_000, "1000"),
            (u64::MAX, "18446744073709551615"),
        ] {
            let mut b = Vec::new();
            number(&mut b, n);
            assert_eq!(b, want.as_bytes());
        }
    }
}
