//! One block of CSV records -> rows: all the work on a row that needs no other row (fields,
//! timestamp, month, direction, kind, the contact's number and country), done on whichever
//! core is free. Contacts come out as keys and accounts as indexes into the block's own list;
//! the reader then gives them ids in input order.

use super::account_keys::{AccountKeys, Seen};
use super::blocks::{Block, PlainRecords, RecordLines, Split};
use super::phone::{self, CallingCodes};
use super::timestamp::{self, MonthDays, PlainTimes};
use super::{shown, Reject};
use crate::event::{Country, Direction, Kind};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use std::rc::Rc;

/// How many fields simcost reads from a row.
pub const N_FIELDS: usize = 9;
/// The fields simcost reads, in the order of `Columns::index` (RULES.md §1). `id` and the
/// exporters' shapes (a date and a time column, a contact column per direction) are read by
/// `export`, which writes these fields.
pub const FIELDS: [&str; N_FIELDS] = [
    "timestamp",
    "contact",
    "direction",
    "country",
    "kind",
    "account",
    "status",
    "business_number",
    "entry_point",
];
pub const REQUIRED: [bool; N_FIELDS] = [true, true, true, false, false, false, false, false, false];
const TS: usize = 0;
const CONTACT: usize = 1;
const DIRECTION: usize = 2;
const COUNTRY: usize = 3;
const KIND: usize = 4;
const ACCOUNT: usize = 5;
const STATUS: usize = 6;
const BUSINESS_NUMBER: usize = 7;
const ENTRY_POINT: usize = 8;

/// Where each field is in a record.
pub struct Columns {
    /// The column of each field of `FIELDS`, if the header has it.
    pub index: [Option<usize>; N_FIELDS],
    /// How many columns the header has: a row with another count is ragged.
    pub count: usize,
}

/// A contact as read: a phone number by its digits, or an opaque id by its index in
/// `Rows::ids`.
#[derive(Clone, Copy, Debug)]
pub enum Contact {
    Number(u64),
    Id(u32),
}

/// A row converted, waiting for its ids: 40 bytes, since every row is written by one thread
/// and read by another. Its account and month are those of its account-month.
#[derive(Debug)]
pub struct Row {
    pub at: i64,
    /// `Contact`, packed (`Row::contact`).
    contact: u64,
    pub line: u32,
    pub day: i32,
    /// Index into `Rows::cells`.
    pub cell: u32,
    /// Index into `Rows::account_months`.
    pub account_month: u32,
    pub country: Country,
    pub direction: Direction,
    pub kind: Kind,
    /// Index into `Rows::business_numbers`, `NO_BUSINESS_NUMBER` when the row names none (in
    /// what was padding: the row stays 40 bytes).
    pub business_number: u32,
}

/// A row that names no business number.
pub const NO_BUSINESS_NUMBER: u32 = u32::MAX;

/// The top bit of a packed contact: an opaque id rather than a number (which is below 2^57).
const OPAQUE: u64 = 1 << 63;

impl Row {
    pub fn contact(&self) -> Contact {
        if self.contact & OPAQUE == 0 {
            Contact::Number(self.contact)
        } else {
            Contact::Id(self.contact as u32)
        }
    }
}

/// A block's rows, in input order.
#[derive(Default)]
pub struct Rows {
    pub rows: Vec<Row>,
    /// Contacts that are not phone numbers, trimmed, each once.
    pub ids: Vec<Box<str>>,
    /// The block's accounts, each once: its key in `Parser::account_keys`, by block index
    /// (the reader reads a name only for a key new to it).
    pub account_keys: Vec<u32>,
    /// Business numbers as typed (trimmed), each once.
    pub business_numbers: Vec<Box<str>>,
    /// (account, country, month) report cells, each once (accounts as in `account_keys`).
    pub cells: Vec<(u32, Country, i32)>,
    /// (account, month) pairs, each once.
    pub account_months: Vec<(u32, i32)>,
    /// Records read, converted or not.
    pub records: u64,
    pub countries_derived: u64,
    /// Local times a clock change made ambiguous, read as the earlier instant.
    pub ambiguous_times: u64,
    pub rejects: Vec<Reject>,
    /// The first bad row when not skipping invalid rows: the block stops there.
    pub failed: Option<(u64, String)>,
}

pub struct Parser<'a> {
    pub columns: &'a Columns,
    pub tz: Tz,
    pub codes: &'a CallingCodes,
    pub skip_invalid: bool,
    /// Longer records stop the reading (`--max-record-bytes`).
    pub max_record_bytes: usize,
    /// Accounts whose months are cut in their own zones (`--accounts`); `None`: every
    /// account's in `tz`.
    pub zones: Option<&'a crate::accounts::Accounts>,
    /// The line in the export of each line, when the log is an export's canonical form.
    pub lines: Option<&'a [u32]>,
    /// The field delimiter (`blocks::detect_delimiter` or `--delimiter`).
    pub delimiter: u8,
    /// `--timestamp-format`: when given, the only way a timestamp is read.
    pub timestamp_format: Option<&'a str>,
    /// `--default-country`: national numbers are read in its numbering plan.
    pub default_country: Option<Country>,
    /// The log's account names met so far by any thread.
    pub account_keys: &'a AccountKeys,
}

/// How a log names the default account (the one of rows with no account): the reports' name
/// for it, so a log written from a report's names reads back into the same account.
pub const DEFAULT_ACCOUNT: &str = "(default)";

/// Contacts longer than this are refused (a field this long is not a contact).
const MAX_CONTACT_BYTES: usize = 256;

/// Accounts of a block compared byte by byte before their names are hashed.
const FEW_ACCOUNTS: usize = 8;
/// Accounts of a block whose names it keeps, so that a row of the last row's account needs
/// only a comparison (past these, in a block of many accounts, the spelling's look-up).
const NAMED_ACCOUNTS: usize = 32;

/// Two-letter codes: the size of a table by `Country::index`.
const COUNTRIES: usize = 26 * 26;
const NO_CELL: u32 = u32::MAX;
/// No country yet (`BlockState::first_cells`).
const NO_COUNTRY: u16 = u16::MAX;
/// Account-months of a block whose cells are found in a table (2.7 KB each); the others, in a
/// log of many accounts, by a hash: a table each cost more to clear than the rows it served.
const TABLED_ACCOUNT_MONTHS: usize = 32;

/// What a block remembers between its rows.
struct BlockState<'m> {
    times: PlainTimes,
    /// Months and days are cut in UTC (no `--tz`, no `--accounts` zones): a row read by
    /// `times` takes its month and day from there (`PlainTimes::month_day`).
    utc_dates: bool,
    month_days: &'m mut MonthDays,
    /// With `Parser::zones`: each block account's months in its own zone, by block index.
    zoned_month_days: Vec<MonthDays>,
    /// The accounts this thread has met, by the bytes as typed (kept across blocks).
    seen: &'m mut Seen,
    /// The names of the first `NAMED_ACCOUNTS` block accounts, by block index.
    names: Vec<Rc<str>>,
    /// The last row's account, when named in `names`.
    last_account: Option<u32>,
    ids: FxHashMap<Box<str>, u32>,
    business_numbers: FxHashMap<Box<str>, u32>,
    /// Cells by account-month (block index) and country: a table read, not a hash, per row.
    cells: Vec<[u32; COUNTRIES]>,
    /// The first cell of each account-month past `TABLED_ACCOUNT_MONTHS`, by account-month
    /// (country index, cell): in a block of many accounts most have one.
    first_cells: Vec<(u16, u32)>,
    /// Their other cells.
    more_cells: FxHashMap<(u32, Country), u32>,
    /// Each account's first account-month, by block account: (month, account-month); in a
    /// block of many accounts nearly every row is of another account than the row before.
    first_months: Vec<(i32, u32)>,
    /// The account-months after each account's first.
    account_months: FxHashMap<(u32, i32), u32>,
    last_account_month: Option<((u32, i32), u32)>,
    /// Contacts spelled as exports spell numbers (`phone::export_number`), each read once.
    export_numbers: FxHashMap<Box<str>, std::result::Result<Option<u64>, String>>,
    /// The last contact read as typed, while rows repeat it.
    last_contact: LastContact,
}

/// Rows of a block looked at for repeated contacts before the look-out stops when few repeat.
const REPEAT_PROBE: u32 = 256;

/// The last contact as typed and its reading (`phone::typed_number`): a log grouped by
/// contact repeats it row after row (issue 24's by_contact shape: 94% of rows), and a number
/// typed with separators takes some 300 instructions to read, a plain one some 60. Its bytes
/// (8 to 24) are kept as three words that may overlap, so a repeat is told by four
/// comparisons, in registers. A block whose first `REPEAT_PROBE` rows repeat fewer than half the time (a
/// log in time order repeats almost never) stops looking.
struct LastContact {
    /// The bytes' length (0: none yet).
    len: usize,
    /// The words at 0, at 8 (or the last 8 when fewer than 16) and the last 8: all of the
    /// bytes.
    words: [u64; 3],
    read: Option<phone::TypedNumber>,
    /// Rows still to probe, and the repeats among those probed.
    probe: u32,
    repeats: u32,
    on: bool,
}

impl LastContact {
    fn new() -> LastContact {
        LastContact {
            len: 0,
            words: [0; 3],
            read: None,
            probe: REPEAT_PROBE,
            repeats: 0,
            on: true,
        }
    }

    /// `phone::typed_number(bytes)`, the last row's when the bytes are the same.
    #[inline(always)]
    fn typed_number(&mut self, bytes: &[u8]) -> Option<phone::TypedNumber> {
        let n = bytes.len();
        if !self.on || !(8..=24).contains(&n) {
            return phone::typed_number(bytes);
        }
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        let words = [word(0), word(8.min(n - 8)), word(n - 8)];
        // Word by word, with no branch until the last: compared as a tuple of arrays, the
        // words were stored to the stack and read back 16 bytes at a time, a read wider than
        // the stores before it, which waits for them to reach the cache (some 15% of the
        // parse's time on a log grouped by contact).
        let differ = (words[0] ^ self.words[0]) | (words[1] ^ self.words[1]);
        let repeat = (differ | (words[2] ^ self.words[2]) | (n ^ self.len) as u64) == 0;
        if self.probe > 0 {
            self.probe -= 1;
            self.repeats += repeat as u32;
            self.on = self.probe > 0 || self.repeats >= REPEAT_PROBE / 2;
        }
        if !repeat {
            (self.len, self.words) = (n, words);
            self.read = phone::typed_number(bytes);
        }
        self.read
    }
}

/// A record's fields, from the csv crate or from a plain block's own split.
trait Record {
    fn count(&self) -> usize;
    fn field(&self, i: usize) -> &[u8];
}

impl Record for csv::ByteRecord {
    fn count(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> &[u8] {
        &self[i]
    }
}

impl Record for Split<'_> {
    #[inline]
    fn count(&self) -> usize {
        Split::count(self)
    }
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        self.get(i)
    }
}

/// A record given field by field rather than cut from CSV text: a webhook message's
/// canonical fields (`input::jsonl`), the bytes a canonical CSV row of them would read as.
struct Fields<'f>(&'f [&'f str; N_FIELDS]);

impl Record for Fields<'_> {
    #[inline]
    fn count(&self) -> usize {
        N_FIELDS
    }
    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        self.0[i].as_bytes()
    }
}

/// Where `Parser::parse_given` takes its records, one at a time.
pub struct Given<'p, 's, 'm> {
    parser: &'p Parser<'p>,
    st: &'s mut BlockState<'m>,
    out: &'s mut Rows,
    /// A bad row ended the block (not skipping invalid rows): the rest is not read.
    stopped: bool,
}

impl Given<'_, '_, '_> {
    /// One record of the canonical fields (`FIELDS`, in order), from the export's line
    /// `line`, converted as the same row of a canonical CSV is. Nothing once a bad row has
    /// stopped the block.
    #[inline]
    pub fn push(&mut self, line: u64, fields: &[&str; N_FIELDS]) {
        if self.stopped {
            return;
        }
        let len = record_len(fields, self.parser.max_record_bytes);
        let rec = Fields(fields);
        self.stopped = !self.parser.record(self.st, self.out, &rec, line, len);
    }
}

/// The length of the canonical CSV row of `fields` (its line end left out), for the bound
/// on a record's length: counted plain, and written out only when it may come near `bound`
/// (quoting at most doubles a field and adds two quotes).
#[inline]
fn record_len(fields: &[&str; N_FIELDS], bound: usize) -> usize {
    let plain = fields.iter().map(|f| f.len()).sum::<usize>() + N_FIELDS - 1;
    if plain * 2 + 2 * N_FIELDS <= bound {
        return plain;
    }
    quoted_len(fields)
}

#[cold]
fn quoted_len(fields: &[&str; N_FIELDS]) -> usize {
    let mut row = Vec::new();
    super::export::write_row(&mut row, fields);
    row.len() - 1
}

impl Parser<'_> {
    /// The rows of records given one at a time by `give` (`Given::push`), written into
    /// `rows` (emptied first; a buffer to reuse): as `parse` reads a block's.
    pub fn parse_given(&self, rows: Vec<Row>, give: impl FnOnce(&mut Given)) -> Rows {
        let mut month_days = MonthDays::kept(self.tz);
        let mut seen = Seen::kept(self.account_keys);
        let mut out = Rows {
            rows,
            ..Rows::default()
        };
        out.rows.clear();
        let mut st = BlockState::new(&mut month_days, &mut seen, self.utc_dates());
        give(&mut Given {
            parser: self,
            st: &mut st,
            out: &mut out,
            stopped: false,
        });
        month_days.keep();
        seen.keep(out.rows.len());
        out
    }

    /// Whether months and days are cut in UTC (`BlockState::utc_dates`).
    fn utc_dates(&self) -> bool {
        self.zones.is_none() && self.tz == chrono_tz::UTC
    }

    /// The rows of `block`, written into `rows` (emptied first; a buffer to reuse).
    pub fn parse(&self, block: &Block, rows: Vec<Row>) -> Rows {
        let mut month_days = MonthDays::kept(self.tz);
        let mut seen = Seen::kept(self.account_keys);
        let out = self.parse_with(block, rows, (&mut month_days, &mut seen));
        month_days.keep();
        seen.keep(out.rows.len());
        out
    }

    fn parse_with(
        &self,
        block: &Block,
        mut rows: Vec<Row>,
        (month_days, seen): (&mut MonthDays, &mut Seen),
    ) -> Rows {
        rows.clear();
        // Room rounded up to a power of two: blocks differ by a few bytes, and a recycled
        // buffer a row short was grown by `realloc`, which copied its old bytes and faulted
        // in fresh pages.
        rows.reserve((block.bytes.len() / 40).next_power_of_two());
        let mut out = Rows {
            rows,
            ..Rows::default()
        };
        let mut st = BlockState::new(month_days, seen, self.utc_dates());
        // A plain block of `,` is split by hand (`PlainRecords`); other delimiters go the csv
        // crate's way. (Each delimiter's own splitter, tried, made the `,` loop 2-5% slower:
        // its record conversion was no longer inlined the same way.)
        if block.plain && self.delimiter == b',' {
            let mut records = PlainRecords::<b','>::new(block);
            let mut ahead = self.accounts_ahead(block, st.seen);
            while let Some((line, rec)) = records.next_record() {
                if let Some(ahead) = &mut ahead {
                    ahead.prefetch_next(st.seen);
                }
                let len = rec.byte_len();
                if !self.record(&mut st, &mut out, &rec, line, len) {
                    return out;
                }
            }
            out.failed = block.fault.clone();
            return out;
        }
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(&block.bytes[..]);
        let mut rec = csv::ByteRecord::new();
        let mut lines = RecordLines::new(block.first_line);
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    out.failed = Some((
                        block.first_line + line.max(1) - 1,
                        format!("cannot read CSV ({e})"),
                    ));
                    break;
                }
            }
            let (line, start) = rec.position().map_or((block.first_line, 0), |p| {
                (lines.line(&block.bytes, p), p.byte())
            });
            let raw = &block.bytes[start as usize..rdr.position().byte() as usize];
            let line_end = |b: &&u8| **b == b'\n' || **b == b'\r';
            let blank = raw.iter().take_while(line_end).count();
            let len = raw.len() - blank - raw[blank..].iter().rev().take_while(line_end).count();
            if !self.record(&mut st, &mut out, &rec, line, len) {
                return out;
            }
        }
        if out.failed.is_none() {
            out.failed = block.fault.clone();
        }
        out
    }

    /// Converts one record into `out`; false when the block stops there (a bad row, not
    /// skipping invalid rows). `len`: the record's length in bytes.
    fn record(
        &self,
        st: &mut BlockState,
        out: &mut Rows,
        rec: &impl Record,
        line: u64,
        len: usize,
    ) -> bool {
        out.records += 1;
        let line = match self.lines {
            None => line,
            Some(lines) => lines.get(line as usize).map_or(line, |&l| l as u64),
        };
        let Ok(line32) = u32::try_from(line) else {
            out.failed = Some((line, format!("more than {} lines", u32::MAX)));
            return false;
        };
        // The cutter bounds records that cross blocks; this, the shorter ones inside a block
        // (a bound under the block size). A fault like the cutter's: never skipped.
        if len > self.max_record_bytes {
            out.failed = Some((
                line,
                format!(
                    "record longer than {} bytes (--max-record-bytes raises the bound)",
                    self.max_record_bytes
                ),
            ));
            return false;
        }
        let result = if rec.count() != self.columns.count {
            Err(format!(
                "row has {} fields, the header has {} (ragged row)",
                rec.count(),
                self.columns.count
            ))
        } else {
            self.row(st, out, rec, line32)
        };
        match result {
            Ok(row) => out.rows.push(row),
            Err(reason) if self.skip_invalid => out.rejects.push(Reject {
                line,
                reason,
                fields: (0..rec.count()).map(|i| rec.field(i).to_vec()).collect(),
            }),
            Err(reason) => {
                out.failed = Some((line, reason));
                return false;
            }
        }
        true
    }

    /// One record as a row. Its fields are read, and what is wrong named, in this order: time,
    /// direction, kind, contact, country, account. The parts below run once per row and are
    /// inlined always: one body, as before the split (as calls they cost `parse` 7% more).
    fn row(
        &self,
        st: &mut BlockState,
        out: &mut Rows,
        rec: &impl Record,
        line: u32,
    ) -> std::result::Result<Row, String> {
        let (at, ambiguous, plain) = self.time(st, rec)?;
        let (direction, kind) = self.direction_and_kind(rec)?;
        let kind = self.status_and_entry_point(rec, direction, kind)?;
        let read = self.contact(st, rec)?;
        let country = self.country(out, rec, &read)?;
        let contact = match read.number {
            Some(n) => n,
            None => OPAQUE | intern(&mut st.ids, &mut out.ids, read.raw) as u64,
        };
        let account = self.account(st, out, rec)?;
        let business_number = match self.columns.index[BUSINESS_NUMBER] {
            None => NO_BUSINESS_NUMBER,
            Some(_) => match self.field(rec, BUSINESS_NUMBER)? {
                "" => NO_BUSINESS_NUMBER,
                b => intern(&mut st.business_numbers, &mut out.business_numbers, b),
            },
        };
        let (month, day) = match self.zones {
            // Read in UTC from its date: no quarter hour to look up.
            None if plain && st.utc_dates => st.times.month_day(),
            None => st.month_days.get(at),
            Some(zones) => st.zoned(zones, out, account).get(at),
        };
        let account_month = st.account_month(out, account, month);
        let cell = st.cell(out, account_month, (account, country, month));
        out.ambiguous_times += ambiguous as u64;
        Ok(Row {
            at,
            contact,
            line,
            day,
            cell,
            account_month,
            country,
            direction,
            kind,
            business_number,
        })
    }

    /// A field as text: decoded and trimmed ("" when the log has no such column).
    #[inline(always)]
    fn field<'r>(&self, rec: &'r impl Record, i: usize) -> std::result::Result<&'r str, String> {
        match self.columns.index[i] {
            None => Ok(""),
            Some(c) => std::str::from_utf8(rec.field(c))
                .map(super::trim)
                .map_err(|_| not_utf8(i, rec.field(c))),
        }
    }

    /// A field as typed, undecoded. The fast ways below take it only when it is a valid
    /// value as it stands; anything else goes the text way, which trims, decodes and names
    /// what is wrong, in the same order of fields.
    #[inline(always)]
    fn bytes<'r>(&self, rec: &'r impl Record, i: usize) -> &'r [u8] {
        self.columns.index[i].map_or(&b""[..], |c| rec.field(c))
    }

    /// The row's instant, whether a clock change made its local time ambiguous, and whether
    /// it was read by `PlainTimes` (then `PlainTimes::month_day` is its UTC month and day).
    #[inline(always)]
    fn time(
        &self,
        st: &mut BlockState,
        rec: &impl Record,
    ) -> std::result::Result<(i64, bool, bool), String> {
        // A format of the user's own is read by chrono alone: the fast form could read a
        // value another way than the format says (day and month swapped).
        let fast = match self.timestamp_format {
            None => st.times.parse(self.bytes(rec, TS), self.tz),
            Some(_) => None,
        };
        match fast {
            Some(at) => Ok((at, false, true)),
            None => {
                let ts_raw = self.field(rec, TS)?;
                match self.timestamp_format {
                    None => timestamp::parse_local(ts_raw, self.tz),
                    Some(f) => timestamp::parse_with_format(ts_raw, f, self.tz),
                }
                .map(|(at, ambiguous)| (at, ambiguous, false))
                .map_err(|m| format!("{m} ({})", shown(ts_raw)))
            }
        }
    }

    /// The row's direction, and its kind (an inbound message is always free-form: its kind
    /// field is not read).
    #[inline(always)]
    fn direction_and_kind(
        &self,
        rec: &impl Record,
    ) -> std::result::Result<(Direction, Kind), String> {
        let direction = match Direction::from_word(self.bytes(rec, DIRECTION)) {
            Some(d) => d,
            None => {
                let dir_raw = self.field(rec, DIRECTION)?;
                Direction::parse(dir_raw).ok_or_else(|| {
                    format!("unknown direction ({}); use in/inbound/mo/user/customer or out/outbound/mt/business", shown(dir_raw))
                })?
            }
        };
        let kind = match direction {
            Direction::Inbound => Kind::FreeForm,
            // An empty kind (the usual one; also a log with no kind column) is free-form, as
            // `Kind::from_word` reads it: told without the call.
            Direction::Outbound => match self.bytes(rec, KIND) {
                b"" => Kind::FreeForm,
                typed => match Kind::from_word(typed) {
                    Some(k) => k,
                    None => {
                        let k = self.field(rec, KIND)?;
                        Kind::parse(k).ok_or_else(|| format!("unknown kind ({})", shown(k)))?
                    }
                },
            },
        };
        Ok((direction, kind))
    }

    /// The kind, marked by the optional columns: an outbound message whose `status` says it
    /// never arrived is `NotDelivered`; an inbound one with an `entry_point` is `EntryPoint`.
    /// (A log without the columns pays one test each.)
    #[inline(always)]
    fn status_and_entry_point(
        &self,
        rec: &impl Record,
        direction: Direction,
        kind: Kind,
    ) -> std::result::Result<Kind, String> {
        match direction {
            Direction::Outbound if self.columns.index[STATUS].is_some() => {
                let delivered = match crate::event::delivered(self.bytes(rec, STATUS)) {
                    Some(d) => d,
                    None => {
                        let s = self.field(rec, STATUS)?;
                        crate::event::delivered(s.as_bytes()).ok_or_else(|| {
                            format!("unknown status ({}); use delivered/read/sent or failed/undelivered/rejected/expired, or --map-value status:{}=...", shown(s), shown(s))
                        })?
                    }
                };
                Ok(if delivered { kind } else { Kind::NotDelivered })
            }
            Direction::Inbound if self.columns.index[ENTRY_POINT].is_some() => {
                Ok(match self.field(rec, ENTRY_POINT)? {
                    "" => kind,
                    _ => Kind::EntryPoint,
                })
            }
            _ => Ok(kind),
        }
    }

    /// The row's contact as read: a number as typed, or text (refused when empty or too long).
    #[inline(always)]
    fn contact<'r>(
        &self,
        st: &mut BlockState,
        rec: &'r impl Record,
    ) -> std::result::Result<ContactRead<'r>, String> {
        // A number as typed needs no decoding; anything else is read as text.
        let typed = Some(self.bytes(rec, CONTACT))
            .filter(|b| b.len() <= MAX_CONTACT_BYTES)
            .and_then(|b| st.last_contact.typed_number(b));
        let raw = if typed.is_some() {
            ""
        } else {
            let raw = self.field(rec, CONTACT)?;
            if raw.is_empty() {
                return Err("empty contact".into());
            }
            if raw.len() > MAX_CONTACT_BYTES {
                return Err(format!(
                    "contact is {} bytes long (at most {MAX_CONTACT_BYTES})",
                    raw.len()
                ));
            }
            raw
        };
        let mut number = typed.map(|t| t.key()).or_else(|| phone::number_key(raw));
        if number.is_none() && phone::may_be_export_number(raw) {
            number = st.export_number(raw, self.default_country)?;
        }
        Ok(ContactRead { typed, raw, number })
    }

    /// The row's country: its country cell, else derived from the contact (counted in
    /// `out.countries_derived`).
    #[inline(always)]
    fn country(
        &self,
        out: &mut Rows,
        rec: &impl Record,
        contact: &ContactRead,
    ) -> std::result::Result<Country, String> {
        let typed =
            Country::from_bytes(self.bytes(rec, COUNTRY)).filter(|c| self.codes.is_known(*c));
        // No country (no column, or an empty cell) is the usual case: no decoding to do.
        let country_raw = if typed.is_some() || self.bytes(rec, COUNTRY).is_empty() {
            ""
        } else {
            self.field(rec, COUNTRY)?
        };
        if let Some(c) = typed {
            Ok(c)
        } else if country_raw.is_empty() {
            let c = self.derived_country(rec, contact)?;
            out.countries_derived += 1;
            Ok(c)
        } else {
            Country::parse(country_raw)
                .filter(|c| self.codes.is_known(*c))
                .ok_or_else(|| format!("unknown country code ({})", shown(country_raw)))
        }
    }

    /// The country of a row that gives none: the contact's calling code, the number's length
    /// checked against it.
    #[inline(always)]
    fn derived_country(
        &self,
        rec: &impl Record,
        contact: &ContactRead,
    ) -> std::result::Result<Country, String> {
        // A typed number's length is checked with its country, by the same read.
        let (c, possible) = match contact.typed {
            Some(t) => self.codes.country_of_typed(t.prefix(), t.digits()),
            None => {
                (contact.number.and_then(|n| self.codes.country_of_number(n))).map(|c| (c, false))
            }
        }
        .ok_or_else(|| {
            // A typed number is ASCII (or a no-break space): nothing is lost here.
            let typed = String::from_utf8_lossy(self.bytes(rec, CONTACT));
            let raw = if contact.raw.is_empty() {
                super::trim(&typed)
            } else {
                contact.raw
            };
            format!(
                "no country column value and no country can be derived from the contact ({})",
                shown(raw)
            )
        })?;
        let checked = match contact.typed {
            _ if possible => Ok(()),
            Some(t) => self.codes.check_digits(c, t.digits()),
            None => (contact.number).map_or(Ok(()), |n| self.codes.check_length(c, n)),
        };
        if let Err(m) = checked {
            let typed = String::from_utf8_lossy(self.bytes(rec, CONTACT));
            return Err(format!("contact is {m} ({})", shown(super::trim(&typed))));
        }
        Ok(c)
    }

    /// The row's account, as an index into `out.account_keys` (added if new).
    #[inline(always)]
    fn account(
        &self,
        st: &mut BlockState,
        out: &mut Rows,
        rec: &impl Record,
    ) -> std::result::Result<u32, String> {
        // Logs have few accounts, often one per run of rows. A stored name is trimmed, so a
        // field equal to it needs no trimming.
        let typed = self.bytes(rec, ACCOUNT);
        let account = match st.last_account {
            // (returned as is: the last account stays the last, and named)
            Some(a) if same_name(&st.names[a as usize], typed) => return Ok(a),
            // A few accounts are compared as they are; more are hashed as typed.
            _ if out.account_keys.len() > FEW_ACCOUNTS => self.block_account(st, out, rec)?,
            _ => match (st.names.iter()).position(|n| same_name(n, typed)) {
                Some(a) => a as u32,
                None => self.block_account(st, out, rec)?,
            },
        };
        st.last_account = ((account as usize) < st.names.len()).then_some(account);
        Ok(account)
    }
}

impl Parser<'_> {
    /// The block index of the row's account, by its spelling as this thread last met it.
    #[inline(always)]
    fn block_account(
        &self,
        st: &mut BlockState,
        out: &mut Rows,
        rec: &impl Record,
    ) -> std::result::Result<u32, String> {
        let account = st.seen.block_index(
            self.account_keys,
            self.bytes(rec, ACCOUNT),
            || self.field(rec, ACCOUNT).map(account_name),
            &mut out.account_keys,
        )?;
        // A new block account among the first: named (the key's name, this thread's copy).
        if account as usize == st.names.len() && account < NAMED_ACCOUNTS as u32 {
            let name = st.seen.name(out.account_keys[account as usize]).clone();
            st.names.push(name);
        }
        Ok(account)
    }
}

/// Rows between the one parsed and the one whose account slot is asked for
/// (`AccountsAhead`): a row's parse is some 50 ns, a miss to memory 100 ns and more.
const ACCOUNTS_AHEAD: usize = 8;

/// With many accounts in no order (`Seen::ahead`), the rows of a plain block a few ahead of
/// the parse, to ask for each one's spelling slot while the rows before it are parsed: the
/// look-ups' misses then overlap the parse instead of each stalling its row (issue 24: the
/// log of 50,000 accounts). A row is found in the 64 bytes from its start (longer rows are
/// stepped over, their slots not asked for); a hint only, which changes no result.
struct AccountsAhead<'b> {
    bytes: &'b [u8],
    /// Where the next row starts.
    at: usize,
    /// The account's column.
    column: usize,
}

impl Parser<'_> {
    /// The rows ahead of `block`'s parse when `seen` asks for them, `ACCOUNTS_AHEAD` rows'
    /// slots already asked for.
    fn accounts_ahead<'b>(&self, block: &'b Block, seen: &Seen) -> Option<AccountsAhead<'b>> {
        let column = self.columns.index[ACCOUNT].filter(|_| seen.ahead())?;
        let mut ahead = AccountsAhead {
            bytes: &block.bytes,
            at: 0,
            column,
        };
        for _ in 0..ACCOUNTS_AHEAD {
            ahead.prefetch_next(seen);
        }
        Some(ahead)
    }
}

impl<'b> AccountsAhead<'b> {
    /// Asks for the slot of the next row's account, and steps past the row.
    #[inline(always)]
    fn prefetch_next(&mut self, seen: &Seen) {
        if let Some(Some(typed)) = self.next_account() {
            seen.prefetch(typed);
        }
    }

    /// The next row's account field as typed (`None` for a row longer than the window or
    /// with fewer fields), stepping past the row; `None` when no 64 bytes are left.
    #[inline(always)]
    fn next_account(&mut self) -> Option<Option<&'b [u8]>> {
        let window = self.bytes.get(self.at..self.at + 64)?;
        let (commas, newlines) = commas_and_newlines(window);
        if newlines == 0 {
            let rest = &self.bytes[self.at..];
            self.at += memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            return Some(None);
        }
        let end = newlines.trailing_zeros();
        self.at += end as usize + 1;
        // The row's separators, its end among them: field `c` ends at the `c`th.
        let mut seps = (commas & ((1 << end) - 1)) | 1 << end;
        let mut start = 0;
        for _ in 0..self.column {
            start = seps.trailing_zeros() + 1;
            seps &= seps.wrapping_sub(1);
        }
        Some((seps != 0).then(|| &window[start as usize..seps.trailing_zeros() as usize]))
    }
}

/// Bit masks of the commas and of the newlines among 64 bytes: bit `i` stands for byte `i`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn commas_and_newlines(window: &[u8]) -> (u64, u64) {
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 processor has it.
    unsafe { commas_and_newlines_sse2(window) }
}

/// `commas_and_newlines` sixteen bytes at a time (as `blocks::chunk_masks`, no unsafe load).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn commas_and_newlines_sse2(window: &[u8]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (comma, newline) = (_mm_set1_epi8(b',' as i8), _mm_set1_epi8(b'\n' as i8));
    let (mut commas, mut newlines) = (0u64, 0u64);
    for (k, c) in window[..64].chunks_exact(16).enumerate() {
        let half = |i: usize| i64::from_le_bytes(c[i..i + 8].try_into().unwrap_or_default());
        let v = _mm_set_epi64x(half(8), half(0));
        commas |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) as u16 as u64) << (16 * k);
        newlines |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)) as u16 as u64) << (16 * k);
    }
    (commas, newlines)
}

#[cfg(not(target_arch = "x86_64"))]
fn commas_and_newlines(window: &[u8]) -> (u64, u64) {
    let bits = |b: u8| {
        (window[..64].iter().enumerate()).fold(0u64, |m, (i, &x)| m | u64::from(x == b) << i)
    };
    (bits(b','), bits(b'\n'))
}

/// A row's contact as read, before it is packed.
struct ContactRead<'r> {
    /// A number as typed: its key, first four digits (for the calling code) and digit count.
    typed: Option<phone::TypedNumber>,
    /// The contact as text, trimmed, when it is not a number as typed ("" when it is).
    raw: &'r str,
    /// The number's key, typed or read from the text; none for an opaque id.
    number: Option<u64>,
}

impl<'m> BlockState<'m> {
    /// (Written out again in `parse_with`: made a call there, the CSV loop took 0.3% more
    /// instructions.)
    fn new(month_days: &'m mut MonthDays, seen: &'m mut Seen, utc_dates: bool) -> Self {
        BlockState {
            times: PlainTimes::default(),
            utc_dates,
            month_days,
            zoned_month_days: Vec::new(),
            seen,
            names: Vec::new(),
            last_account: None,
            ids: FxHashMap::default(),
            business_numbers: FxHashMap::default(),
            cells: Vec::new(),
            first_cells: Vec::new(),
            more_cells: FxHashMap::default(),
            first_months: Vec::new(),
            account_months: FxHashMap::default(),
            last_account_month: None,
            export_numbers: FxHashMap::default(),
            last_contact: LastContact::new(),
        }
    }
}

impl BlockState<'_> {
    /// The month cache of block account `account`, in its zone (looked up once a block).
    #[inline]
    fn zoned(
        &mut self,
        zones: &crate::accounts::Accounts,
        out: &Rows,
        account: u32,
    ) -> &mut MonthDays {
        while self.zoned_month_days.len() <= account as usize {
            let name = self
                .seen
                .name(out.account_keys[self.zoned_month_days.len()]);
            (self.zoned_month_days).push(MonthDays::new(zones.tz_of(name)));
        }
        &mut self.zoned_month_days[account as usize]
    }

    /// `phone::export_number` of a contact, read once per distinct text in a block (the
    /// numbering plan's metadata is slow next to a row).
    #[cold]
    fn export_number(
        &mut self,
        raw: &str,
        country: Option<Country>,
    ) -> std::result::Result<Option<u64>, String> {
        let read = match self.export_numbers.get(raw) {
            Some(read) => read,
            None => self
                .export_numbers
                .entry(raw.into())
                .or_insert_with(|| phone::export_number(raw, country)),
        };
        read.clone().map_err(|m| format!("{m} ({})", shown(raw)))
    }

    /// The block index of (account, month) in `out.account_months` (added if new).
    #[inline(always)]
    fn account_month(&mut self, out: &mut Rows, account: u32, month: i32) -> u32 {
        let account_month = match self.last_account_month {
            Some((key, i)) if key == (account, month) => i,
            _ => self.account_month_of(out, account, month),
        };
        self.last_account_month = Some(((account, month), account_month));
        account_month
    }

    /// The block index of (account, month), its account's first month's or by a hash.
    #[inline(always)]
    fn account_month_of(&mut self, out: &mut Rows, account: u32, month: i32) -> u32 {
        let a = account as usize;
        if self.first_months.len() <= a {
            (self.first_months).resize(a + 1, (0, NO_CELL));
        }
        match self.first_months[a] {
            (m, i) if m == month && i != NO_CELL => i,
            (_, NO_CELL) => {
                let i = out.account_months.len() as u32;
                out.account_months.push((account, month));
                self.first_months[a] = (month, i);
                i
            }
            _ => index(
                &mut self.account_months,
                &mut out.account_months,
                (account, month),
            ),
        }
    }

    /// The block index of the report cell (account, country, month) in `out.cells` (added if
    /// new).
    #[inline(always)]
    fn cell(&mut self, out: &mut Rows, account_month: u32, key: (u32, Country, i32)) -> u32 {
        let (_, country, _) = key;
        let cell = if (account_month as usize) < TABLED_ACCOUNT_MONTHS {
            if self.cells.len() <= account_month as usize {
                self.cells.push([NO_CELL; COUNTRIES]);
            }
            &mut self.cells[account_month as usize][country.index()]
        } else {
            let am = account_month as usize;
            if self.first_cells.len() <= am {
                (self.first_cells).resize(am + 1, (NO_COUNTRY, NO_CELL));
            }
            let first = &mut self.first_cells[am];
            let c = country.index() as u16;
            if first.0 == NO_COUNTRY {
                first.0 = c;
            }
            if first.0 == c {
                &mut first.1
            } else {
                self.more_cells
                    .entry((account_month, country))
                    .or_insert(NO_CELL)
            }
        };
        if *cell == NO_CELL {
            *cell = out.cells.len() as u32;
            out.cells.push(key);
        }
        *cell
    }
}

/// The reason of a field that is not UTF-8 (out of line: the closure that calls it is in the
/// hot path and stays small enough to inline).
#[cold]
#[inline(never)]
fn not_utf8(field: usize, bytes: &[u8]) -> String {
    format!(
        "{} is not valid UTF-8 ({})",
        FIELDS[field],
        super::shown_bytes(bytes)
    )
}

/// Whether a field as typed is a stored name. An empty field (no account column, or an empty
/// cell) is told without a call to `memcmp`: that call, made for every row of a log with no
/// account column, took a quarter of the reading time.
#[inline]
fn same_name(stored: &str, typed: &[u8]) -> bool {
    stored.len() == typed.len() && (typed.is_empty() || same_bytes(stored.as_bytes(), typed))
}

/// Whether two byte strings of one length are equal: up to 16 bytes as two words that may
/// overlap (an account name is mostly that short), with no call to `memcmp`, which cost
/// some 20 instructions a row besides the call.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or_default());
    match n {
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        _ => a == b,
    }
}

/// An account as named in the log: the name reports give the default account reads back as it.
fn account_name(name: &str) -> &str {
    match name {
        DEFAULT_ACCOUNT => "",
        name => name,
    }
}

/// The index of `name` in `names`, added if new.
fn intern(map: &mut FxHashMap<Box<str>, u32>, names: &mut Vec<Box<str>>, name: &str) -> u32 {
    if let Some(&i) = map.get(name) {
        return i;
    }
    let i = names.len() as u32;
    names.push(name.into());
    map.insert(name.into(), i);
    i
}

/// The index of `key` in `keys`, added if new.
fn index<K: Copy + Eq + std::hash::Hash>(
    map: &mut FxHashMap<K, u32>,
    keys: &mut Vec<K>,
    key: K,
) -> u32 {
    *map.entry(key).or_insert_with(|| {
        keys.push(key);
        keys.len() as u32 - 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log of three columns: timestamp, contact, direction.
    fn three_columns() -> Columns {
        let mut index = [None; N_FIELDS];
        (index[TS], index[CONTACT], index[DIRECTION]) = (Some(0), Some(1), Some(2));
        Columns { index, count: 3 }
    }

    /// A parser of `,`-separated UTC rows with no zones, line map or defaults.
    fn utc_parser<'a>(
        columns: &'a Columns,
        codes: &'a CallingCodes,
        account_keys: &'a AccountKeys,
        skip_invalid: bool,
    ) -> Parser<'a> {
        Parser {
            columns,
            tz: chrono_tz::UTC,
            codes,
            skip_invalid,
            max_record_bytes: 1 << 20,
            zones: None,
            lines: None,
            delimiter: b',',
            timestamp_format: None,
            default_country: None,
            account_keys,
        }
    }

    /// Names of every length up to 20 against themselves and against one byte changed at
    /// every place.
    #[test]
    fn the_rows_ahead_give_each_rows_account_field() {
        let long = format!(
            "2026-03-01T00:00:03Z,+77013441170,in,{},acct7",
            "x".repeat(50)
        );
        let text = format!(
            "t,c,in,,acct1\n\nt,c,in,,\nt,c,in\n{long}\nt,c,out,,acct22,x\n,,,,a\n{}",
            "\n".repeat(64)
        );
        let fields = |column| {
            let mut ahead = AccountsAhead {
                bytes: text.as_bytes(),
                at: 0,
                column,
            };
            let got: Vec<_> = std::iter::from_fn(|| ahead.next_account())
                .take(7)
                .collect();
            let shown = |f: Option<&[u8]>| f.map(|f| String::from_utf8_lossy(f).into_owned());
            got.into_iter().map(shown).collect::<Vec<_>>()
        };
        let s = |x: &str| Some(x.to_string());
        // An empty line is a row of one empty field; a long row is stepped over.
        assert_eq!(
            fields(4),
            [s("acct1"), None, s(""), None, None, s("acct22"), s("a")]
        );
        assert_eq!(
            fields(0),
            [s("t"), s(""), s("t"), s("t"), None, s("t"), s("")]
        );
        assert_eq!(fields(5), [None, None, None, None, None, s("x"), None]);
        // No 64 bytes left: no more rows.
        let mut ahead = AccountsAhead {
            bytes: &text.as_bytes()[..100],
            at: 0,
            column: 4,
        };
        assert_eq!(ahead.next_account(), Some(Some(&b"acct1"[..])));
        assert!(std::iter::from_fn(|| ahead.next_account()).count() < 5);
    }

    #[test]
    fn same_bytes_tells_every_difference() {
        for n in 0..=20usize {
            let a: Vec<u8> = (0..n as u8).map(|k| b'a' + k).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} {i}");
            }
        }
    }

    #[test]
    fn many_accounts_in_a_block_keep_their_names() {
        // Twelve accounts, more than are compared as typed, and one typed with spaces.
        let codes = CallingCodes::load();
        let columns = Columns {
            index: [
                Some(0),
                Some(1),
                Some(2),
                None,
                None,
                Some(3),
                None,
                None,
                None,
            ],
            count: 4,
        };
        let keys = AccountKeys::default();
        let parser = utc_parser(&columns, &codes, &keys, false);
        let name = |i: usize| format!("acct{}", (i * 7) % 12);
        let mut text = String::new();
        for i in 0..100 {
            text += &format!(
                "2026-03-01T00:00:{:02}Z,+380501234567,in,{}\n",
                i % 60,
                name(i)
            );
        }
        text += "2026-03-01T00:01:00Z,+380501234567,in, acct3 \n";
        let rows = parser.parse(&Block::new(1, text.into_bytes()), Vec::new());
        assert_eq!(rows.rows.len(), 101);
        assert_eq!(rows.account_keys.len(), 12);
        for (i, r) in rows.rows.iter().enumerate() {
            let (a, _) = rows.account_months[r.account_month as usize];
            let want = if i == 100 {
                "acct3".to_string()
            } else {
                name(i)
            };
            let key = rows.account_keys[a as usize];
            assert_eq!(parser.account_keys.name(key), want, "row {i}");
        }
    }

    /// Rows that repeat a contact read as each row read alone: first two spellings with the
    /// same three words, told apart by their length alone (`+44 20 7794 6095` less its byte
    /// 8, `+44 20 794 6095`: the keys 442,077,946,095 and 44,207,946,095); then spellings of
    /// 7 to 26 bytes, each repeated, and the same with one byte changed at every place (a
    /// digit changed, or a separator for a digit), so that every word of the kept bytes is
    /// told apart, three rows of five repeating the last (the look-out goes on); then a block
    /// that repeats none at first (the look-out stops) and then does.
    #[test]
    fn repeated_contacts_read_as_each_row_alone() {
        let codes = CallingCodes::load();
        let columns = three_columns();
        let keys = AccountKeys::default();
        let parser = utc_parser(&columns, &codes, &keys, true);
        let spellings = [
            "3805012",
            "+3805012",
            "+380501234567",
            "+39 700 0418379",
            "+1212 (10) 031-81",
            "+4 9 - 1 5 1 - 1 2 3 4 5",
            "+4 9 - 1 5 1 - 1 2 3 4 5 ",
            "+44 (50) 008-08750 12",
            "00380700410657",
            "004915112345678",
            "+4 9 - 1 5 1 - 1 2 3 4 5 6",
        ];
        let (twelve, eleven) = ("+44 20 7794 6095", "+44 20 794 6095");
        let mut contacts = [twelve, eleven, eleven, twelve].map(String::from).to_vec();
        for s in spellings {
            contacts.extend(vec![s.to_string(); 3]);
            for at in 0..s.len() {
                let mut b = s.as_bytes().to_vec();
                b[at] = match b[at] {
                    b'0'..=b'8' => b[at] + 1,
                    b'9' => b'1',
                    _ => b'7',
                };
                let changed = String::from_utf8(b).unwrap();
                // Three of five rows repeat the last: the look-out goes on.
                contacts.extend([changed.clone(), changed.clone(), changed]);
                contacts.extend([s.to_string(), s.to_string()]);
            }
        }
        // A look-out that stops: every row another contact at first.
        let mut stopped: Vec<String> = (0..300).map(|i| format!("+38050{:07}", i)).collect();
        stopped.extend(contacts.iter().cloned());
        let row = |c: &String| format!("2026-03-01T00:00:03Z,{c},in\n");
        let seen = |rows: &Rows| {
            let got: Vec<_> = (rows.rows.iter())
                .map(|r| (r.line, format!("{:?}", r.contact()), r.country))
                .collect();
            let rejects: Vec<_> = (rows.rejects.iter())
                .map(|r| (r.line, r.reason.clone()))
                .collect();
            (got, rejects)
        };
        for contacts in [contacts, stopped] {
            let text: String = contacts.iter().map(row).collect();
            let all = parser.parse(&Block::new(1, text.into_bytes()), Vec::new());
            let (mut want, mut want_rejects) = (Vec::new(), Vec::new());
            for (i, c) in contacts.iter().enumerate() {
                let one = parser.parse(&Block::new(1 + i as u64, row(c).into_bytes()), Vec::new());
                let (got, rejects) = seen(&one);
                want.extend(
                    got.into_iter()
                        .map(|(_, contact, country)| (i as u32 + 1, contact, country)),
                );
                want_rejects.extend(rejects);
            }
            assert!(want.len() > contacts.len() / 2 && !want_rejects.is_empty());
            assert_eq!(seen(&all), (want, want_rejects));
        }
    }

    /// A row's month and day in UTC, read with its date (`PlainTimes::month_day`) for rows
    /// out of time order, and from the instant (`MonthDays`) for a time with an offset, in
    /// the same block; dates new and found again in the table of dates read. By hand:
    /// 2026-03-01 is day 20,513, month 2026 * 12 + 2 = 24,314; 2024-02-29 day 19,782.
    #[test]
    fn rows_out_of_time_order_take_their_utc_month_and_day() {
        let codes = CallingCodes::load();
        let columns = three_columns();
        let keys = AccountKeys::default();
        let parser = utc_parser(&columns, &codes, &keys, false);
        let text = "2026-03-01T09:15:07Z,+380501234567,in\n\
                    2024-02-29T23:59:59Z,+380501234567,in\n\
                    2026-02-28 23:59:59,+380501234567,in\n\
                    2026-03-01T01:30:00+02:00,+380501234567,in\n\
                    2026-03-01T09:16:00Z,+380501234567,in\n\
                    2024-02-29T00:00:00Z,+380501234567,in\n";
        let out = parser.parse(&Block::new(1, text.as_bytes().to_vec()), Vec::new());
        assert_eq!(out.failed, None);
        let got: Vec<_> = (out.rows.iter())
            .map(|r| (out.account_months[r.account_month as usize].1, r.day))
            .collect();
        let want = [
            (24_314, 20_513),
            (24_289, 19_782),
            (24_313, 20_512),
            (24_313, 20_512),
            (24_314, 20_513),
            (24_289, 19_782),
        ];
        assert_eq!(got, want);
    }

    /// A block's rows buffer, handed back, takes a block a few rows longer where it is: room
    /// for a block of n bytes is n / 40 rows rounded up to a power of two. Worked: rows of 41
    /// bytes; 60 rows (2,460 bytes) get room for 61 -> 64 rows; 62 rows (2,542 bytes) want
    /// 63 -> 64: the same buffer (unrounded, 63 > 61: grown, moved by `realloc`).
    #[test]
    fn a_recycled_rows_buffer_takes_a_block_a_few_rows_longer_in_place() {
        let codes = CallingCodes::load();
        let columns = three_columns();
        let keys = AccountKeys::default();
        let parser = utc_parser(&columns, &codes, &keys, false);
        let block = |n: usize| {
            let row = "2026-03-01T00:00:03Z,+380 50 123 4567,in\n";
            assert_eq!(row.len(), 41);
            Block::new(1, row.repeat(n).into_bytes())
        };
        let first = parser.parse(&block(60), Vec::new());
        assert_eq!((first.rows.len(), first.rows.capacity()), (60, 64));
        let at = first.rows.as_ptr();
        let second = parser.parse(&block(62), first.rows);
        assert_eq!((second.rows.len(), second.rows.capacity()), (62, 64));
        assert_eq!(second.rows.as_ptr(), at, "the same buffer");
    }

    #[test]
    fn a_row_packs_its_contact_in_eight_bytes() {
        let row = |contact| Row {
            at: 0,
            contact,
            line: 1,
            day: 0,
            cell: 0,
            account_month: 0,
            country: Country::parse("UA").unwrap(),
            direction: Direction::Inbound,
            kind: Kind::FreeForm,
            business_number: NO_BUSINESS_NUMBER,
        };
        // The largest key: "00" and 15 digits.
        let top = 99_999_999_999_999_999;
        assert!(matches!(row(top).contact(), Contact::Number(n) if n == top));
        assert!(matches!(row(OPAQUE | 7).contact(), Contact::Id(7)));
        assert!(matches!(
            row(OPAQUE | u32::MAX as u64).contact(),
            Contact::Id(u32::MAX)
        ));
        assert_eq!(std::mem::size_of::<Row>(), 40);
    }
}
