//! Timestamps: RFC 3339 with offset, naive local times read in `--tz`, or Unix seconds.

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Earliest and latest instants accepted, so that arithmetic on microseconds never overflows.
const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 9999;

/// Integer timestamps are read only from 2000-01-01 (inclusive) to 2100-01-01 (exclusive), in
/// Unix seconds, milliseconds or microseconds told apart by size (the three ranges do not
/// overlap): a date typed as digits (`20260301`) or an Excel serial day (`46082`) is not a time
/// in 1970 but a mistake.
const UNIX_FROM: i64 = 946_684_800;
const UNIX_UNTIL: i64 = 4_102_444_800;

const FORMATS: &str = "accepted: RFC 3339 (2026-03-01T09:15:00Z), YYYY-MM-DD HH:MM:SS[.fff], \
     YYYY-MM-DDTHH:MM:SS, or integer Unix seconds, milliseconds or microseconds from 2000 to 2100";

/// Parses one timestamp cell into UTC microseconds. The error is the human reason.
pub fn parse(raw: &str, tz: Tz) -> Result<i64, String> {
    parse_local(raw, tz).map(|(at, _)| at)
}

/// `parse`, and whether the text was a local time that a clock change made ambiguous (read as
/// the earlier of its two instants; the report counts them).
pub fn parse_local(raw: &str, tz: Tz) -> Result<(i64, bool), String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty timestamp".into());
    }
    if let Some(at) = parse_plain_utc(s.as_bytes(), tz) {
        return Ok((at, false));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return parse_integer(s).map(|at| (at, false));
    }
    let (utc, ambiguous) = if let Some(utc) = rfc2822(s) {
        (utc, false)
    } else if has_offset(s) {
        match DateTime::parse_from_rfc3339(s) {
            Ok(t) => (t.with_timezone(&Utc), false),
            // `+0000` (no colon) and no seconds: the forms of many exports (Infobip's).
            Err(e) => OFFSET_FORMATS
                .iter()
                .find_map(|f| DateTime::parse_from_str(s, f).ok())
                .map(|t| (t.with_timezone(&Utc), false))
                .ok_or_else(|| format!("not an RFC 3339 timestamp: {e}"))?,
        }
    } else {
        let naive = NAIVE_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .ok_or_else(|| not_a_timestamp(s))?;
        in_zone(naive, tz)?
    };
    micros(utc, ambiguous)
}

/// Forms with an offset read when RFC 3339 fails: an offset with no colon, no seconds.
const OFFSET_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M%z",
];

/// Local times (read in --tz), with or without seconds.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// An RFC 2822 date (`Tue, 03 Nov 2026 09:22:00 +0000`, Twilio's `Date Sent`): tried only on
/// text with a letter that RFC 3339 does not use, so other forms pay nothing for it.
fn rfc2822(s: &str) -> Option<DateTime<Utc>> {
    let letter = |b: u8| b.is_ascii_alphabetic() && !matches!(b, b'T' | b't' | b'Z' | b'z');
    if !s.bytes().any(letter) {
        return None;
    }
    DateTime::parse_from_rfc2822(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `parse_local` with `--timestamp-format FMT` (chrono strftime): the format alone is tried.
/// Without an offset in it the time is local, in `tz`; without a time of day it is midnight.
pub fn parse_with_format(raw: &str, fmt: &str, tz: Tz) -> Result<(i64, bool), String> {
    use chrono::format::{parse, Parsed, StrftimeItems};
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty timestamp".into());
    }
    let mut p = Parsed::new();
    let not_it =
        |e: chrono::ParseError| format!("not a timestamp in --timestamp-format '{fmt}' ({e})");
    parse(&mut p, s, StrftimeItems::new(fmt)).map_err(not_it)?;
    if p.offset().is_some() {
        let t = p.to_datetime().map_err(not_it)?;
        return micros(t.with_timezone(&Utc), false);
    }
    let date = p.to_naive_date().map_err(not_it)?;
    let time = match p.hour_div_12() {
        None => chrono::NaiveTime::MIN,
        Some(_) => p.to_naive_time().map_err(not_it)?,
    };
    let (utc, ambiguous) = in_zone(date.and_time(time), tz)?;
    micros(utc, ambiguous)
}

/// A local time in `tz` as an instant, and whether a clock change made it ambiguous.
fn in_zone(naive: NaiveDateTime, tz: Tz) -> Result<(DateTime<Utc>, bool), String> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok((t.with_timezone(&Utc), false)),
        // A repeated hour when clocks go back: the first of the two instants.
        LocalResult::Ambiguous(first, _) => Ok((first.with_timezone(&Utc), true)),
        LocalResult::None => Err(format!(
            "local time does not exist in {tz} (clocks went forward)"
        )),
    }
}

/// An instant in UTC microseconds, checked to be in range.
fn micros(utc: DateTime<Utc>, ambiguous: bool) -> Result<(i64, bool), String> {
    if utc.year() < MIN_YEAR || utc.year() > MAX_YEAR {
        return Err(format!("timestamp out of range ({MIN_YEAR}..={MAX_YEAR})"));
    }
    // chrono reads a leap second `:60` as second 59 with a nanosecond count past 10^9, which
    // would put 23:59:60 in the next minute (and day, and month): it is the last microsecond
    // of its own minute instead.
    let micros = (utc.timestamp_subsec_nanos() / 1_000).min(999_999) as i64;
    Ok((utc.timestamp() * 1_000_000 + micros, ambiguous))
}

/// `--timestamp-format FMT`, checked: a chrono strftime format with no unknown directive.
pub fn check_format(fmt: &str) -> Result<String, String> {
    use chrono::format::{Item, StrftimeItems};
    if fmt.trim().is_empty() || StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "not a chrono strftime format ({fmt}); e.g. '%d.%m.%Y %H:%M'"
        ));
    }
    Ok(fmt.to_string())
}

/// An integer timestamp (digits only) in UTC microseconds, by its size.
fn parse_integer(s: &str) -> Result<i64, String> {
    let value: Option<i64> = s.parse().ok();
    for per_second in [1, 1_000, 1_000_000] {
        match value {
            Some(v) if (UNIX_FROM * per_second..UNIX_UNTIL * per_second).contains(&v) => {
                return Ok(v * (1_000_000 / per_second))
            }
            _ => {}
        }
    }
    let hint = match value {
        Some(v) if (19_000_101..=21_001_231).contains(&v) => {
            " (it looks like a date YYYYMMDD: write it YYYY-MM-DD HH:MM:SS)"
        }
        Some(v) if (1..=100_000).contains(&v) => {
            " (an Excel serial day? export the column as text YYYY-MM-DD HH:MM:SS)"
        }
        _ => "",
    };
    Err(format!(
        "integer timestamp is not Unix seconds, milliseconds or microseconds between \
         2000-01-01 and 2100-01-01{hint}; {FORMATS}"
    ))
}

#[cold]
fn not_a_timestamp(s: &str) -> String {
    // A number that is not whole (`46082.5`, `1e9`): a spreadsheet's serial day or a
    // number format, never a time simcost can trust.
    if s.parse::<f64>().is_ok() {
        return format!("a number that is not an integer timestamp; {FORMATS}");
    }
    if let Some(hint) = day_month_hint(s) {
        return hint;
    }
    format!("not a timestamp; {FORMATS}")
}

/// A date written day and month first (`03.11.2026 14:03`, `03/11/2026`): never guessed, since
/// `03/11` is 3 November in Europe and March 11 in the US; the message gives the format to
/// pass, and says when both readings are valid dates.
fn day_month_hint(s: &str) -> Option<String> {
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, ""));
    let sep = date.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    let parts: Vec<&str> = date.split(sep).collect();
    let number = |p: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.len() != 3
        || !number(parts[0], 1..=2)
        || !number(parts[1], 1..=2)
        || !number(parts[2], 4..=4)
    {
        return None;
    }
    let (a, b): (u32, u32) = (parts[0].parse().ok()?, parts[1].parse().ok()?);
    let time_fmt = match time.trim().matches(':').count() {
        0 if time.trim().is_empty() => "",
        1 => " %H:%M",
        2 => " %H:%M:%S",
        _ => return None,
    };
    let day_first = format!("%d{sep}%m{sep}%Y{time_fmt}");
    let month_first = format!("%m{sep}%d{sep}%Y{time_fmt}");
    let (fmt, why) = match (a <= 12 && b <= 31, b <= 12 && a <= 31) {
        (true, true) if a != b => (
            day_first.clone(),
            format!(
                "; the day/month order is ambiguous (day first, or '{month_first}' for month first)"
            ),
        ),
        (_, true) => (day_first, String::new()),
        (true, false) => (month_first, String::new()),
        (false, false) => return None,
    };
    Some(format!(
        "a date with the day and month in no fixed order: pass --timestamp-format '{fmt}'{why}"
    ))
}

/// True when the text ends in `Z` or a `+HH:MM`/`-HH:MM` offset after the time.
/// The form exports mostly use, `YYYY-MM-DDTHH:MM:SSZ` (or naive `YYYY-MM-DD HH:MM:SS` /
/// `...THH:MM:SS` when `tz` is UTC), read without chrono; `None` sends anything else, and any
/// value to be rejected, down chrono's path, so both give the same instants and messages.
pub fn parse_plain_utc(b: &[u8], tz: Tz) -> Option<i64> {
    PlainTimes::default().parse(b, tz)
}

/// `parse_plain_utc` over a run of rows: the last minute read is kept with its first second,
/// so the rows of one minute (most of a time-ordered log) read only their seconds; the last
/// date read with its day number, so a new minute of the same day reads its time of day; and once
/// the date has changed, the dates read are kept too, in a small table by a hash of the
/// date, so that a log out of time order (every row another date) checks and counts each
/// date once rather than on every row, and looks it up in line (`kept_days`).
pub struct PlainTimes {
    /// `YYYY-MM-DDTHH:MM` as typed, the last minute read (checked), as two words: a log in
    /// time order has some 200 rows a minute, and such a row then reads only its seconds
    /// (zeros before any: no plain time starts with a zero byte).
    minute: [u64; 2],
    /// The minute's first second since the epoch.
    minute_start: i64,
    /// `YYYY-MM-DD` as typed (`DateKey::EPOCH` before any), the date of the last value read.
    date: DateKey,
    days: i64,
    /// The date's month (`calendar::month_index`): with `days`, the UTC month and day of the
    /// last value read (`month_day`).
    month: i32,
    /// Dates read, their day numbers and months, by `DateKey::slot` (empty until the date
    /// changes; an empty slot holds `DateKey::EPOCH`, day 0 of 1970-01).
    dates: Vec<(DateKey, i64, i32)>,
}

impl Default for PlainTimes {
    fn default() -> Self {
        PlainTimes {
            minute: [0; 2],
            minute_start: 0,
            date: DateKey::EPOCH,
            days: 0,
            month: EPOCH_MONTH,
            dates: Vec::new(),
        }
    }
}

/// 1970-01's `calendar::month_index`.
const EPOCH_MONTH: i32 = 1970 * 12;

/// Slots of `PlainTimes::dates` (a power of two).
const DATE_SLOTS: usize = 512;

/// A date `YYYY-MM-DD` as typed, as two words: compared and hashed in registers (a byte
/// copy to the stack and a compare of arrays per row before, on a log out of time order).
#[derive(Clone, Copy, PartialEq, Eq)]
struct DateKey {
    head: u64,
    tail: u16,
}

impl DateKey {
    /// 1970-01-01, day 0: the date in force before any, and in an empty slot. A valid date,
    /// so a value that matches it is right (ten zero bytes matched the zeros that stood
    /// for "none" before, and read as day 0).
    const EPOCH: DateKey = DateKey {
        head: u64::from_le_bytes(*b"1970-01-"),
        tail: u16::from_le_bytes(*b"01"),
    };

    /// The first ten bytes of `b` (at least ten long).
    #[inline(always)]
    fn of(b: &[u8]) -> DateKey {
        // One load each (a byte at a time, the bytes were put together with shifts).
        let (head, tail) = (b[..8].try_into(), b[8..10].try_into());
        DateKey {
            head: u64::from_le_bytes(head.unwrap_or_default()),
            tail: u16::from_le_bytes(tail.unwrap_or_default()),
        }
    }

    /// Its slot in `PlainTimes::dates`: a hash of its last eight bytes.
    #[inline(always)]
    fn slot(self) -> usize {
        let last8 = self.head >> 16 | u64::from(self.tail) << 48;
        (last8.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 9)) as usize & (DATE_SLOTS - 1)
    }
}

impl PlainTimes {
    pub fn parse(&mut self, b: &[u8], tz: Tz) -> Option<i64> {
        let plain = match b.len() {
            20 => b[19] == b'Z' && b[10] == b'T',
            19 => tz == chrono_tz::UTC && (b[10] == b'T' || b[10] == b' '),
            _ => false,
        };
        if !plain {
            return None;
        }
        // The minute in force: its date, hour and minute were checked when it was read.
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if [word(0), word(8)] == self.minute {
            let second = seconds(b[16], b[17], b[18])?;
            return Some((self.minute_start + second) * 1_000_000);
        }
        self.other_minute(b)
    }

    /// The UTC month (`calendar::month_index`) and day since 1970 of the last value `parse`
    /// read: what `MonthDays::get` of its instant gives in UTC, known here from its date. A
    /// log out of time order changes quarter hour on nearly every row, and `MonthDays`'s
    /// table of them (128 KB) missed the first-level cache for it.
    #[inline(always)]
    pub fn month_day(&self) -> (i32, i32) {
        (self.month, self.days as i32)
    }

    /// `parse` of a row of another minute than the one in force: its time of day read, the
    /// day's start reused when the date is the one in force (most new minutes: a log grouped
    /// by contact changes minute at nearly every row, date at one in ten), else found in the
    /// table of dates read (a shuffled log: nearly every row), else read (`new_date_minute`);
    /// the minute kept. Out of line: inlined, it made `parse` save and restore six registers
    /// on every row. The table is looked up here, not in a call of its own: that call saved
    /// and restored six registers for `new_date` (some 16 instructions a row, shuffled).
    #[inline(never)]
    fn other_minute(&mut self, b: &[u8]) -> Option<i64> {
        let (minute_of_day, second) = time_of_day(&b[11..19])?;
        let date = DateKey::of(b);
        let days = if date == self.date {
            self.days
        } else {
            match self.dates.get(date.slot()) {
                Some(&(kept, days, month)) if kept == date => {
                    (self.date, self.days, self.month) = (date, days, month);
                    days
                }
                _ => return self.new_date_minute(b, date, minute_of_day, second),
            }
        };
        Some(self.keep_minute(b, days * 86_400 + minute_of_day, second))
    }

    /// `other_minute` of a row whose date is not in the table of dates read: the date read
    /// (`new_date`), and it and the minute kept.
    #[cold]
    #[inline(never)]
    fn new_date_minute(
        &mut self,
        b: &[u8],
        date: DateKey,
        minute_of_day: i64,
        second: i64,
    ) -> Option<i64> {
        let (days, month) = self.new_date(b)?;
        (self.date, self.days, self.month) = (date, days, month);
        Some(self.keep_minute(b, days * 86_400 + minute_of_day, second))
    }

    /// Keeps the minute of `b` (checked), starting at `minute_start`; the row's instant.
    #[inline(always)]
    fn keep_minute(&mut self, b: &[u8], minute_start: i64, second: i64) -> i64 {
        let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        (self.minute, self.minute_start) = ([word(0), word(8)], minute_start);
        (minute_start + second) * 1_000_000
    }
}

/// The seconds of `:SS` (its three bytes), if they are a colon and two digits 00-59.
#[inline(always)]
fn seconds(colon: u8, tens: u8, ones: u8) -> Option<i64> {
    let (t, o) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
    (colon == b':' && t < 6 && o < 10).then_some(t as i64 * 10 + o as i64)
}

/// The time of day of `HH:MM:SS` (eight bytes) as the first second of its minute in the day
/// and its second in the minute, if it is two digits 00-23, a colon, two digits 00-59, a colon
/// and two digits 00-59. Read as one word: the three `HH`, `MM`, `SS` fields one byte at a time
/// took some 150 instructions a row, a fifth of a row's parsing; the three pairs are put
/// together and checked against their limits in the word too (no branch per field).
#[inline(always)]
fn time_of_day(t: &[u8]) -> Option<(i64, i64)> {
    let w = u64::from_le_bytes(t.try_into().ok()?);
    // Bytes 0, 1, 3, 4, 6, 7 are digits; bytes 2 and 5 colons (the first byte is the lowest).
    const DIGITS: u64 = 0xFFFF_00FF_FF00_FFFF;
    const COLONS: u64 = 0x0000_3A00_003A_0000;
    const ZEROS: u64 = 0x3030_0030_3000_3030;
    // A digit is 0x30-0x39: its high half is 3, and it still is with 6 added (no byte
    // carries into the next once every high half is 3).
    let high = 0xF0F0_00F0_F000_F0F0;
    let digits =
        w & high == ZEROS & high && w.wrapping_add(0x0606_0006_0600_0606) & high == ZEROS & high;
    if !digits || w & !DIGITS != COLONS {
        return None;
    }
    // Each digit 0-9 in its byte; a pair's tens times ten plus its ones in the tens' byte
    // (bytes 0, 3, 6: at most 99, no carry between bytes).
    let d = w & 0x0F0F_000F_0F00_0F0F;
    let pairs = d * 10 + (d >> 8);
    // A pair over its limit (23, 59, 59) sets its byte's top bit once 127 less the limit is
    // added (at most 99 + 104 = 203: no carry).
    const PAST_LIMITS: u64 = (127 - 59) << 48 | (127 - 59) << 24 | (127 - 23);
    if pairs.wrapping_add(PAST_LIMITS) & (0x80 << 48 | 0x80 << 24 | 0x80) != 0 {
        return None;
    }
    let pair = |k: u32| (pairs >> (8 * k) & 0xFF) as i64;
    Some((pair(0) * 3_600 + pair(3) * 60, pair(6)))
}

impl PlainTimes {
    /// The day number and month of the date of `b`, not in the table of dates read: read and
    /// checked (`None`: not a plain date, for chrono to judge), and kept in the table.
    #[cold]
    fn new_date(&mut self, b: &[u8]) -> Option<(i64, i32)> {
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            b[r].iter().try_fold(0i64, |v, &c| {
                c.is_ascii_digit().then(|| v * 10 + (c - b'0') as i64)
            })
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(MIN_YEAR as i64..=MAX_YEAR as i64).contains(&y)
            || !(1..=12).contains(&m)
            || d < 1
            || d > days_in_month(y, m)
        {
            return None;
        }
        let (days, month) = (days_from_civil(y, m, d), (y * 12 + m - 1) as i32);
        // The first date of a run (a block, or one value) makes no table: most runs keep it.
        if self.date != DateKey::EPOCH {
            if self.dates.is_empty() {
                self.dates = vec![(DateKey::EPOCH, 0, EPOCH_MONTH); DATE_SLOTS];
            }
            let date = DateKey::of(b);
            self.dates[date.slot()] = (date, days, month);
        }
        Some((days, month))
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `local_month_day` for many instants: the month and day are kept per quarter hour (the grain
/// of every UTC offset since 1972) when the offset is the same across it, in a small table by
/// quarter hour, so a log converts a zone about once per quarter hour it spans instead of once per
/// row, in time order or not (`SLOTS` quarter hours are 85 days).
pub struct MonthDays {
    tz: Tz,
    /// The quarter hour asked for last, by its first instant (`i64::MIN` before any: no
    /// instant read is within a quarter hour of it): a time-ordered log asks for it again and
    /// again, and an instant is told in it by a subtraction, with no division.
    last: (i64, (i32, i32)),
    /// Quarter hours by `slot & mask` (a power of two long).
    slots: Vec<(i64, (i32, i32))>,
}

const QUARTER_HOUR: i64 = 900 * 1_000_000;
const SLOTS: usize = 1 << 13;

thread_local! {
    static KEPT: std::cell::RefCell<Option<MonthDays>> = const { std::cell::RefCell::new(None) };
}

impl MonthDays {
    /// A cache of one quarter hour: enough for a time-ordered run of rows (one per account of a
    /// block, with `--accounts` zones).
    pub fn new(tz: Tz) -> MonthDays {
        MonthDays {
            tz,
            last: (i64::MIN, (0, 0)),
            slots: vec![(i64::MIN, (0, 0))],
        }
    }

    /// The table of `tz` this thread kept from its last block, else a new one of `SLOTS`
    /// quarter hours: a block is too short to fill a table of its own.
    pub fn kept(tz: Tz) -> MonthDays {
        let kept = KEPT.with(|k| k.borrow_mut().take());
        match kept {
            Some(m) if m.tz == tz => m,
            _ => MonthDays {
                tz,
                last: (i64::MIN, (0, 0)),
                slots: vec![(i64::MIN, (0, 0)); SLOTS],
            },
        }
    }

    /// Keeps the table for this thread's next block.
    pub fn keep(self) {
        KEPT.with(|k| *k.borrow_mut() = Some(self));
    }

    #[inline]
    pub fn get(&mut self, at: i64) -> (i32, i32) {
        if (at.wrapping_sub(self.last.0) as u64) < QUARTER_HOUR as u64 {
            return self.last.1;
        }
        // An instant after 1970 (every one but a few hours of local times) divided unsigned:
        // a multiply and a shift, where the signed Euclidean division took some 16
        // instructions (a log out of time order changes quarter hour on almost every row).
        let slot = match u64::try_from(at) {
            Ok(after) => (after / QUARTER_HOUR as u64) as i64,
            Err(_) => at.div_euclid(QUARTER_HOUR),
        };
        // In line: a log out of time order changes quarter hour on almost every row, and
        // finds it in the table.
        // The length is a power of two: the mask is the Euclidean remainder, negatives too.
        let mask = self.slots.len() as i64 - 1;
        let kept = self.slots[(slot & mask) as usize];
        if kept.0 == slot {
            self.last = (slot * QUARTER_HOUR, kept.1);
            return kept.1;
        }
        self.get_slot(at, slot)
    }

    /// `get` of a quarter hour not in the table: converted in the zone, and kept if the
    /// offset is the same across it.
    #[inline(never)]
    fn get_slot(&mut self, at: i64, slot: i64) -> (i32, i32) {
        let mask = self.slots.len() as i64 - 1;
        let value = local_month_day(at, self.tz);
        let start = slot * QUARTER_HOUR;
        let (a, b) = (
            offset(self.tz, start),
            offset(self.tz, start + QUARTER_HOUR - 1),
        );
        if a == b && a % 900 == 0 {
            self.slots[(slot & mask) as usize] = (slot, value);
            self.last = (start, value);
        }
        value
    }
}

fn offset(tz: Tz, at: i64) -> i32 {
    use chrono::Offset;
    let utc = DateTime::from_timestamp_micros(at).unwrap_or_default();
    tz.offset_from_utc_datetime(&utc.naive_utc())
        .fix()
        .local_minus_utc()
}

fn has_offset(s: &str) -> bool {
    if s.ends_with('Z') || s.ends_with('z') {
        return true;
    }
    // The date part has dashes too; only look after the time separator.
    match s.find(['T', 't', ' ']) {
        Some(i) => s[i..].contains(['+', '-']),
        None => false,
    }
}

// The calendar helpers every stage uses live in `crate::calendar`.
pub use crate::calendar::{
    date_from_days, days_since_epoch, format_instant, local_month_day, month_index, month_start,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept table gives what the zone gives, for instants in any order, across clock
    /// changes and half-hour zones, and a table kept for one zone is never used for another.
    #[test]
    fn month_days_agree_with_the_zone_in_any_order() {
        let zones: [Tz; 3] = [
            chrono_tz::Europe::Berlin,
            chrono_tz::Asia::Kolkata,
            chrono_tz::UTC,
        ];
        // 2026-03-28 .. 2026-04-02 (Berlin's clocks go forward on 2026-03-29), every 7 min 13 s,
        // visited in a scrambled order.
        let start = 1_774_656_000_000_000_i64;
        let step = 433_000_000_i64;
        let n = 1200_i64;
        for tz in zones {
            let mut m = MonthDays::kept(tz);
            for k in 0..n {
                let at = start + ((k * 7919) % n) * step;
                assert_eq!(m.get(at), local_month_day(at, tz), "{tz} {at}");
            }
            m.keep();
        }
    }

    const H: i64 = 3_600_000_000;

    #[test]
    fn every_accepted_form_gives_the_same_instant() {
        let want = 1_772_356_500 * 1_000_000; // 2026-03-01T09:15:00Z
        let utc = chrono_tz::UTC;
        assert_eq!(parse("2026-03-01T09:15:00Z", utc), Ok(want));
        assert_eq!(parse("2026-03-01T11:15:00+02:00", utc), Ok(want));
        assert_eq!(parse("2026-03-01 09:15:00", utc), Ok(want));
        assert_eq!(parse("2026-03-01T09:15:00", utc), Ok(want));
        assert_eq!(parse("1772356500", utc), Ok(want));
        assert_eq!(parse("2026-03-01 09:15:00.250", utc), Ok(want + 250_000));
        // naive times are read in --tz: Kyiv is UTC+2 in March
        assert_eq!(
            parse("2026-03-01 11:15:00", chrono_tz::Europe::Kyiv),
            Ok(want)
        );
    }

    #[test]
    fn bad_timestamps_are_named() {
        let utc = chrono_tz::UTC;
        assert!(parse("", utc).is_err());
        assert!(parse("yesterday", utc).is_err());
        assert!(parse("2026-02-30 10:00:00", utc).is_err());
        assert!(parse("2026-03-01T09:15:00+25:00", utc).is_err());
        assert!(parse("99999999999999999999", utc).is_err());
        // 02:30 does not exist in Berlin on 2026-03-29
        let e = parse("2026-03-29 02:30:00", chrono_tz::Europe::Berlin).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn integers_are_unix_seconds_milliseconds_or_microseconds_from_2000_to_2100() {
        let utc = chrono_tz::UTC;
        // 2026-03-01T09:15:00Z is 1,772,356,500 s; .250 s past it in ms and us.
        let want = 1_772_356_500 * 1_000_000;
        assert_eq!(parse("1772356500", utc), Ok(want));
        assert_eq!(parse("1772356500250", utc), Ok(want + 250_000));
        assert_eq!(parse("1772356500250001", utc), Ok(want + 250_001));
        // The ends: 2000-01-01T00:00:00Z is 946,684,800 s, 2100-01-01 is 4,102,444,800 s.
        assert_eq!(parse("946684800", utc), Ok(946_684_800_000_000));
        assert_eq!(parse("946684800000", utc), Ok(946_684_800_000_000));
        assert_eq!(parse("946684800000000", utc), Ok(946_684_800_000_000));
        assert_eq!(parse("4102444799", utc), Ok(4_102_444_799_000_000));
        for s in [
            "946684799",        // 1999-12-31T23:59:59Z
            "4102444800",       // 2100-01-01T00:00:00Z
            "946684799999",     // a millisecond before 2000
            "4102444800000000", // 2100 in microseconds
            "20260301",         // a date typed as digits
            "46082",            // an Excel serial day (2026-03-01)
            "0",
            "99999999999999999999",
            "100000000000", // 1973 in ms, 5138 in s: neither
        ] {
            let e = parse(s, utc).unwrap_err();
            assert!(e.contains("between 2000-01-01 and 2100-01-01"), "{s}: {e}");
            assert!(e.contains("accepted: RFC 3339"), "{s}: {e}");
        }
        assert!(parse("20260301", utc)
            .unwrap_err()
            .contains("looks like a date YYYYMMDD"));
        assert!(parse("46082", utc)
            .unwrap_err()
            .contains("Excel serial day"));
        // Numbers that are not whole: a spreadsheet's serial time or scientific notation.
        for s in ["1e9", "46082.5", "1772356500.5", "-1772356500"] {
            let e = parse(s, utc).unwrap_err();
            assert!(e.contains("accepted: RFC 3339"), "{s}: {e}");
        }
        assert!(parse("1e9", utc)
            .unwrap_err()
            .starts_with("a number that is not"));
    }

    #[test]
    fn a_leap_second_is_the_last_instant_of_its_minute() {
        // 2026-06-30T23:59:59Z is 1,782,863,999 s: 23:59:60 is 999,999 us past it, still June.
        let last = 1_782_863_999 * 1_000_000 + 999_999;
        let utc = chrono_tz::UTC;
        assert_eq!(parse("2026-06-30T23:59:60Z", utc), Ok(last));
        assert_eq!(parse("2026-06-30T23:59:60.5Z", utc), Ok(last));
        assert_eq!(parse("2026-07-01T02:59:60+03:00", utc), Ok(last));
        assert_eq!(parse("2026-06-30 23:59:60", utc), Ok(last));
        assert_eq!(parse("2026-06-30T23:59:60", utc), Ok(last));
        assert_eq!(local_month_day(last, utc).0, 2026 * 12 + 5);
        // Naive in --tz: 23:59:60 in Kyiv (UTC+3 in summer) is 20:59:59.999999Z, June 30th.
        let kyiv = chrono_tz::Europe::Kyiv;
        let at = parse("2026-06-30 23:59:60", kyiv).unwrap();
        assert_eq!(at, last - 3 * H);
        assert_eq!(local_month_day(at, kyiv).0, 2026 * 12 + 5);
        // The second before is one whole second earlier (less a microsecond).
        assert_eq!(parse("2026-06-30T23:59:59Z", utc), Ok(last - 999_999));
    }

    #[test]
    fn an_ambiguous_local_time_is_the_earlier_instant_and_said_so() {
        // Berlin goes back from 03:00 CEST to 02:00 CET on 2026-10-25: 02:30 happens twice,
        // first at 00:30Z (UTC+2), then at 01:30Z. 2026-10-25T00:30:00Z is 1,792,888,200 s.
        let berlin = chrono_tz::Europe::Berlin;
        let first = 1_792_888_200 * 1_000_000;
        assert_eq!(
            parse_local("2026-10-25 02:30:00", berlin),
            Ok((first, true))
        );
        assert_eq!(
            parse_local("2026-10-25T02:30:00", berlin),
            Ok((first, true))
        );
        // An hour before and after are single instants.
        assert_eq!(
            parse_local("2026-10-25 01:30:00", berlin),
            Ok((first - H, false))
        );
        assert_eq!(
            parse_local("2026-10-25 03:30:00", berlin),
            Ok((first + 2 * H, false))
        );
        // Kyiv goes back an hour later in UTC terms (04:00 EEST -> 03:00 EET at 01:00Z).
        let kyiv = chrono_tz::Europe::Kyiv;
        assert_eq!(parse_local("2026-10-25 03:30:00", kyiv), Ok((first, true)));
        // An offset says which instant: never ambiguous.
        assert_eq!(
            parse_local("2026-10-25T02:30:00+01:00", berlin),
            Ok((first + H, false))
        );
        // The spring gap: 02:30 does not exist in Berlin on 2026-03-29.
        let e = parse_local("2026-03-29 02:30:00", berlin).unwrap_err();
        assert!(e.contains("does not exist in Europe/Berlin"), "{e}");
    }

    #[test]
    fn the_plain_form_matches_chrono() {
        let tz = chrono_tz::UTC;
        for s in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2026-03-01 09:15:00",
            "2026-12-31T12:00:00",
            "2100-03-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let chrono = if s.ends_with('Z') {
                DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
            } else {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                    .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
                    .unwrap()
                    .and_utc()
                    .timestamp_micros()
            };
            assert_eq!(parse_plain_utc(s.as_bytes(), tz), Some(chrono), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2026-03-01T24:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(parse_plain_utc(s.as_bytes(), tz), None, "{s}");
            assert!(parse(s, tz).is_err(), "{s}");
        }
        // One cache over a run of rows: a kept date never lets a bad time through, and a new
        // date is checked again.
        let mut times = PlainTimes::default();
        for (s, ok) in [
            ("2024-02-29T23:59:59Z", true),
            ("2024-02-29T24:00:00Z", false),
            ("2024-02-29T00:60:00Z", false),
            ("2024-02-29 00:00:00", true),
            ("2024-02-30T00:00:00Z", false),
            ("2023-02-29T00:00:00Z", false),
            ("2024-02-29T12:34:56Z", true),
        ] {
            let want = ok.then(|| parse_plain_utc(s.as_bytes(), tz)).flatten();
            assert_eq!(want.is_some(), ok, "{s}");
            assert_eq!(times.parse(s.as_bytes(), tz), want, "{s}");
        }
        // Dates in no order, each read many times through the table of dates: the instants
        // of one at a time, and the bad ones still refused.
        let mut times = PlainTimes::default();
        let mut dates: Vec<String> = Vec::new();
        for y in [1970, 2024, 2026] {
            for m in 1..=12 {
                for d in [1, 15, 28, 29, 30, 31] {
                    dates.push(format!("{y}-{m:02}-{d:02}"));
                }
            }
        }
        for round in 0..3 {
            for k in 0..dates.len() {
                let date = &dates[(k * 37 + round * 11) % dates.len()];
                let s = format!("{date}T{:02}:{:02}:07Z", k % 24, k % 60);
                let want = parse_plain_utc(s.as_bytes(), tz);
                assert_eq!(times.parse(s.as_bytes(), tz), want, "{s}");
                assert_eq!(want.is_some(), parse(&s, tz).is_ok(), "{s}");
            }
        }
        assert_eq!(times.dates.len(), DATE_SLOTS);
        // Ten zero bytes as the date (or in an empty slot of the table) are no date: they
        // once matched the zeros that stood for "no date yet" and read as 1970-01-01.
        let zeros = b"\0\0\0\0\0\0\0\0\0\0T00:00:00Z";
        assert_eq!(parse_plain_utc(zeros, tz), None);
        assert_eq!(times.parse(zeros, tz), None);
        assert!(parse(std::str::from_utf8(zeros).unwrap(), tz).is_err());
        // 1970-01-01 itself, the date in force before any and in empty slots, is day 0.
        assert_eq!(times.parse(b"1970-01-01T00:00:07Z", tz), Some(7_000_000));
        assert_eq!(parse_plain_utc(b"1970-01-01 00:00:07", tz), Some(7_000_000));
        // naive times in another zone are not UTC
        assert_eq!(
            parse_plain_utc(b"2026-03-01 09:15:00", chrono_tz::Europe::Kyiv),
            None
        );
    }

    /// Rows of the minute in force read only their seconds: each row's instant is the one
    /// it has read alone, bad seconds are still refused, and a new minute, date or form is
    /// read in full.
    #[test]
    fn a_kept_minute_reads_only_the_seconds() {
        let tz = chrono_tz::UTC;
        let minute = 1_772_356_500_i64; // 2026-03-01T09:15:00Z
        let mut times = PlainTimes::default();
        for (s, want) in [
            ("2026-03-01T09:15:07Z", Some(minute + 7)),
            ("2026-03-01T09:15:59Z", Some(minute + 59)),
            ("2026-03-01T09:15:00Z", Some(minute)),
            ("2026-03-01T09:15:60Z", None),
            ("2026-03-01T09:15:5aZ", None),
            ("2026-03-01T09:15:/0Z", None),
            ("2026-03-01T09:15;00Z", None),
            ("2026-03-01T09:15:0Z", None),
            ("2026-03-01T09:15:30", Some(minute + 30)),
            ("2026-03-01 09:15:31", Some(minute + 31)),
            ("2026-03-01 09:15:32", Some(minute + 32)),
            ("2026-03-01T09:16:00Z", Some(minute + 60)),
            ("2026-03-01T09:15:01Z", Some(minute + 1)),
            ("2026-03-02T09:15:01Z", Some(minute + 86_400 + 1)),
            ("2026-03-02T09:15:02Z", Some(minute + 86_400 + 2)),
            ("2026-03-01T10:15:02Z", Some(minute + 3_600 + 2)),
        ] {
            let want = want.map(|s| s * 1_000_000);
            assert_eq!(times.parse(s.as_bytes(), tz), want, "{s}");
            assert_eq!(parse_plain_utc(s.as_bytes(), tz), want, "{s}");
        }
        // A naive time of the kept minute in another zone is not plain there.
        let kyiv = chrono_tz::Europe::Kyiv;
        let mut times = PlainTimes::default();
        assert_eq!(
            times.parse(b"2026-03-01T09:15:07Z", kyiv),
            Some((minute + 7) * 1_000_000)
        );
        assert_eq!(times.parse(b"2026-03-01T09:15:08", kyiv), None);
    }

    /// A new minute of the date in force reuses the day's start; a new date is found or read.
    /// By hand: 2026-03-01T00:00:00Z is 1,772,323,200 s (09:15 less 33,300 s), a day later
    /// 1,772,409,600; 2026-04-01 is 1,775,001,600 (March's 31 days on); 2026-01-01 is
    /// 1,767,225,600 and 2027-01-01 365 days later, 1,798,761,600.
    #[test]
    fn a_new_minute_reads_its_time_of_day_and_its_date_once() {
        let tz = chrono_tz::UTC;
        let (march_1, march_2) = (1_772_323_200_i64, 1_772_409_600_i64);
        let (april_1, new_year) = (1_775_001_600_i64, 1_798_761_600_i64);
        let mut times = PlainTimes::default();
        for (s, want) in [
            ("2026-03-01T09:15:07Z", Some(march_1 + 33_307)),
            ("2026-03-01T09:16:30Z", Some(march_1 + 33_390)),
            ("2026-03-01T19:09:09Z", Some(march_1 + 68_949)),
            ("2026-03-01T00:00:00Z", Some(march_1)),
            // Bad fields in a new minute of the date in force, each limit and a non-digit.
            ("2026-03-01T24:00:00Z", None),
            ("2026-03-01T09:60:00Z", None),
            ("2026-03-01T09:17:60Z", None),
            ("2026-03-01T2x:00:00Z", None),
            ("2026-03-01T09:1:000Z", None),
            ("2026-03-01T23:59:59Z", Some(march_2 - 1)),
            // Across a day, a month and a year, and back to a date read before.
            ("2026-03-02T00:00:00Z", Some(march_2)),
            ("2026-03-31T23:59:00Z", Some(april_1 - 60)),
            ("2026-04-01T00:00:01Z", Some(april_1 + 1)),
            ("2026-12-31T23:59:59Z", Some(new_year - 1)),
            ("2027-01-01T00:01:00Z", Some(new_year + 60)),
            ("2027-01-01T00:01:02Z", Some(new_year + 62)),
            ("2026-03-02T00:00:03Z", Some(march_2 + 3)),
            ("2026-03-02T00:02:03Z", Some(march_2 + 123)),
            // A bad date in a new minute, then the minute of the date in force.
            ("2026-02-29T00:02:03Z", None),
            ("2026-03-02T00:02:04Z", Some(march_2 + 124)),
        ] {
            let want = want.map(|s| s * 1_000_000);
            assert_eq!(times.parse(s.as_bytes(), tz), want, "{s}");
            assert_eq!(parse_plain_utc(s.as_bytes(), tz), want, "{s}");
        }
    }

    /// The UTC month and day of each value read come with its date, whether the date is the
    /// one in force, found in the table of dates read, or new, and from a fresh reader too.
    /// By hand: 2024-01-01 is day 19,723 (1,704,067,200 s), 2026-01-01 day 20,454 (2024 has
    /// 366 days, 2025 365); a month is year * 12 + month - 1 (1970-01: 23,640).
    #[test]
    fn the_utc_month_and_day_come_with_the_date() {
        let tz = chrono_tz::UTC;
        let mut fresh = PlainTimes::default();
        assert!(fresh.parse(b"1970-01-01T00:00:07Z", tz).is_some());
        assert_eq!(fresh.month_day(), (23_640, 0));
        let mut times = PlainTimes::default();
        for (s, want) in [
            ("2026-03-01T09:15:07Z", (24_314, 20_513)),
            ("2026-03-01T09:15:59Z", (24_314, 20_513)),
            // A leap day's last second, the next day as a naive time, a month's last second.
            ("2024-02-29T23:59:59Z", (24_289, 19_782)),
            ("2024-03-01 00:00:00", (24_290, 19_783)),
            ("2026-02-28T23:59:59Z", (24_313, 20_512)),
            // Back to dates read before (the table), another minute of the date in force.
            ("2026-03-01T23:59:00Z", (24_314, 20_513)),
            ("2024-02-29T00:00:00Z", (24_289, 19_782)),
            ("2024-02-29T00:01:00Z", (24_289, 19_782)),
            ("2026-12-31T23:59:59Z", (24_323, 20_818)),
            ("2027-01-01T00:00:00Z", (24_324, 20_819)),
            // The date of an empty slot of the table.
            ("1970-01-01T00:00:00Z", (23_640, 0)),
            ("2027-01-01T00:00:01Z", (24_324, 20_819)),
        ] {
            let at = times.parse(s.as_bytes(), tz);
            assert!(at.is_some(), "{s}");
            assert_eq!(times.month_day(), want, "{s}");
            assert_eq!(MonthDays::new(tz).get(at.unwrap_or_default()), want, "{s}");
        }
    }

    /// The word-at-a-time time of day against the field-by-field reading it replaced, on
    /// every byte at every place of some valid and some invalid times.
    #[test]
    fn time_of_day_reads_only_valid_times() {
        let by_fields = |t: &[u8]| -> Option<i64> {
            if t[2] != b':' || t[5] != b':' {
                return None;
            }
            let num = |r: std::ops::Range<usize>| -> Option<i64> {
                t[r].iter().try_fold(0i64, |v, &c| {
                    c.is_ascii_digit().then(|| v * 10 + (c - b'0') as i64)
                })
            };
            let (h, mi, sec) = (num(0..2)?, num(3..5)?, num(6..8)?);
            (h <= 23 && mi <= 59 && sec <= 59).then_some(h * 3_600 + mi * 60 + sec)
        };
        let second_of_day = |t: &[u8]| time_of_day(t).map(|(minute, second)| minute + second);
        assert_eq!(time_of_day(b"00:00:00"), Some((0, 0)));
        assert_eq!(time_of_day(b"23:59:59"), Some((86_340, 59)));
        assert_eq!(time_of_day(b"12:34:56"), Some((12 * 3_600 + 34 * 60, 56)));
        assert_eq!(time_of_day(b"19:09:09"), Some((68_940, 9)));
        for bad in [
            &b"24:00:00"[..],
            b"00:60:00",
            b"00:00:60",
            b"0:00:000",
            b"00-00-00",
        ] {
            assert_eq!(second_of_day(bad), None, "{bad:?}");
        }
        for base in [*b"00:00:00", *b"23:59:59", *b"09:19:39", *b"19:09:09"] {
            for i in 0..8 {
                for c in 0..=255u8 {
                    let mut t = base;
                    t[i] = c;
                    assert_eq!(second_of_day(&t), by_fields(&t), "{t:?}");
                }
            }
        }
    }

    /// A quarter hour's last microsecond is in it and the next one is not, by hand across
    /// March 2026's end in UTC: 2026-04-01T00:00:00Z is day 20,544 (1,775,001,600 s), March
    /// 2026 month 2026 * 12 + 2.
    #[test]
    fn a_quarter_hour_ends_at_its_last_microsecond() {
        let mut cache = MonthDays::new(chrono_tz::UTC);
        let april = 1_775_001_600_000_000_i64;
        let (march_31, april_1) = ((24_314, 20_543), (24_315, 20_544));
        assert_eq!(cache.get(april - QUARTER_HOUR), march_31);
        assert_eq!(cache.get(april - 1), march_31);
        assert_eq!(cache.get(april), april_1);
        assert_eq!(cache.get(april + QUARTER_HOUR - 1), april_1);
        assert_eq!(cache.get(april - 1), march_31);
        assert_eq!(cache.get(april), april_1);
    }

    /// Quarter hours on both sides of the epoch, in a kept table, each asked after one of the
    /// other side (no last quarter hour to answer it): an instant before 1970 is divided
    /// the signed way, one after it the unsigned way, and each finds its own slot. By hand:
    /// 1969-12-31 is day -1 of month 1969 x 12 + 11 = 23,639; 1970-01-01 day 0 of 23,640,
    /// 1970-01-02 day 1.
    #[test]
    fn quarter_hours_before_and_after_the_epoch() {
        let (dec_31, jan_1, jan_2) = ((23_639, -1), (23_640, 0), (23_640, 1));
        let day = 86_400_000_000_i64;
        let mut cache = MonthDays::kept(chrono_tz::UTC);
        for (at, want) in [
            (-1, dec_31),
            (0, jan_1),
            (-QUARTER_HOUR, dec_31),
            (QUARTER_HOUR - 1, jan_1),
            (-QUARTER_HOUR - 1, dec_31),
            (day - 1, jan_1),
            (-day, dec_31),
            (day, jan_2),
            (-1, dec_31),
            (QUARTER_HOUR, jan_1),
            (-day - 1, (23_639, -2)),
            (1, jan_1),
        ] {
            assert_eq!(cache.get(at), want, "{at}");
        }
    }

    #[test]
    fn month_days_cache_follows_the_zone() {
        let kyiv = chrono_tz::Europe::Kyiv;
        let mut cache = MonthDays::new(kyiv);
        // every minute around a month end, a DST change and across a year, as local_month_day
        for start in [
            "2026-01-31T21:00:00Z",
            "2026-03-29T00:00:00Z",
            "2026-10-24T20:00:00Z",
        ] {
            let t0 = parse(start, chrono_tz::UTC).unwrap();
            for m in 0..600 {
                let at = t0 + m * 60_000_000 + 7;
                assert_eq!(
                    cache.get(at),
                    local_month_day(at, kyiv),
                    "{start} + {m} min"
                );
            }
        }
        // Monrovia's offset was -0:44:30 until 1972: not cached across its odd quarter hours
        let monrovia = chrono_tz::Africa::Monrovia;
        let mut cache = MonthDays::new(monrovia);
        let t0 = parse("1971-05-31T23:00:00Z", chrono_tz::UTC).unwrap();
        for m in 0..180 {
            let at = t0 + m * 60_000_000;
            assert_eq!(cache.get(at), local_month_day(at, monrovia), "+{m} min");
        }
    }

    #[test]
    fn months_are_cut_in_the_zone() {
        // 2026-01-31T23:30Z is already February in Kyiv (UTC+2)
        let at = parse("2026-01-31T23:30:00Z", chrono_tz::UTC).unwrap();
        assert_eq!(local_month_day(at, chrono_tz::UTC).0, 2026 * 12);
        assert_eq!(
            local_month_day(at, chrono_tz::Europe::Kyiv).0,
            2026 * 12 + 1
        );
        assert_eq!(month_start(2026 * 12 + 1, chrono_tz::UTC), Some(at + H / 2));
    }

    /// 2026-11-03T09:22:00Z: 2026-03-01T09:15:00Z (1_772_356_500) + 247 days (March 1 to
    /// November 3: 31+30+31+30+31+31+30+31 = 245, + 2) + 7 minutes.
    const NOV_3: i64 = (1_772_356_500 + 247 * 86_400 + 420) * 1_000_000;

    #[test]
    fn export_forms_give_the_same_instant() {
        let utc = chrono_tz::UTC;
        assert_eq!(parse("2026-11-03T09:22:00.000+0000", utc), Ok(NOV_3));
        assert_eq!(parse("2026-11-03T10:22:00+0100", utc), Ok(NOV_3));
        assert_eq!(parse("2026-11-03 09:22+00:00", utc), Ok(NOV_3));
        assert_eq!(parse("Tue, 03 Nov 2026 09:22:00 +0000", utc), Ok(NOV_3));
        assert_eq!(parse("Tue, 03 Nov 2026 04:22:00 -0500", utc), Ok(NOV_3));
        assert_eq!(parse("03 Nov 2026 09:22:00 GMT", utc), Ok(NOV_3));
        // No seconds, naive: read in --tz (Berlin is UTC+1 in November).
        assert_eq!(parse("2026-11-03 09:22", utc), Ok(NOV_3));
        assert_eq!(
            parse("2026-11-03T10:22", chrono_tz::Europe::Berlin),
            Ok(NOV_3)
        );
        // The old messages stay: an offset out of range is still named as RFC 3339's.
        assert_eq!(
            parse("2026-03-02T08:00:00+25:00", utc),
            Err("not an RFC 3339 timestamp: input is out of range".into())
        );
    }

    #[test]
    fn a_format_of_ones_own() {
        let berlin = chrono_tz::Europe::Berlin;
        let f = |raw: &str, fmt: &str| parse_with_format(raw, fmt, berlin).map(|(at, _)| at);
        assert_eq!(f("03.11.2026 10:22", "%d.%m.%Y %H:%M"), Ok(NOV_3));
        assert_eq!(f("11/03/2026 10:22:00", "%m/%d/%Y %H:%M:%S"), Ok(NOV_3));
        // An offset in the format wins over --tz.
        assert_eq!(f("03.11.2026 09:22 +0000", "%d.%m.%Y %H:%M %z"), Ok(NOV_3));
        // A date alone is midnight in --tz: 2026-11-03 00:00 Berlin = 2026-11-02T23:00Z.
        let midnight = NOV_3 - (9 * 3600 + 22 * 60 + 3600) * 1_000_000;
        assert_eq!(f("03.11.2026", "%d.%m.%Y"), Ok(midnight));
        let e = f("2026-11-03T09:22:00Z", "%d.%m.%Y %H:%M").unwrap_err();
        assert!(
            e.starts_with("not a timestamp in --timestamp-format '%d.%m.%Y %H:%M'"),
            "{e}"
        );
        assert!(check_format("%d.%m.%Y %H:%M").is_ok());
        assert!(check_format("%Q").is_err());
    }

    #[test]
    fn day_and_month_first_is_never_guessed() {
        let utc = chrono_tz::UTC;
        assert_eq!(
            parse("03.11.2026 14:03", utc),
            Err(
                "a date with the day and month in no fixed order: pass --timestamp-format \
                 '%d.%m.%Y %H:%M'; the day/month order is ambiguous (day first, or \
                 '%m.%d.%Y %H:%M' for month first)"
                    .into()
            )
        );
        // 25 cannot be a month: day first, not ambiguous.
        assert_eq!(
            parse("25/11/2026", utc),
            Err(
                "a date with the day and month in no fixed order: pass --timestamp-format \
                 '%d/%m/%Y'"
                    .into()
            )
        );
        assert_eq!(
            parse("11/25/2026 14:03:09", utc),
            Err(
                "a date with the day and month in no fixed order: pass --timestamp-format \
                 '%m/%d/%Y %H:%M:%S'"
                    .into()
            )
        );
    }
}
