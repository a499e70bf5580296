//! The log read into events: blocks of records are converted on every core (`rows`), then
//! given ids here in input order, so the result is the same for any number of threads.

use super::account_keys::AccountKeys;
use super::blocks::{detect_delimiter, line_ends, Block, Blocks};
use super::contacts::Contacts;
use super::decode::{decode, Refused, Replayed};
use super::export::{Normalised, Plan};
use super::numbers::{AccountStreams, ContactStreams, Hashed, Known, NumberTable};
use super::phone::{self, CallingCodes};
use super::recycle::Recycle;
use super::rows::{
    Columns, Contact, Parser, Row, Rows, FIELDS, NO_BUSINESS_NUMBER, N_FIELDS, REQUIRED,
};
use super::source::{Format, Source};
use crate::error::{Error, Result};
use crate::event::{Country, Event};
use chrono_tz::Tz;
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

mod backward;
pub use backward::FROM_END_BLOCK_BYTES;

pub struct ReadOptions {
    pub tz: Tz,
    /// `--map field=column`: the column to read a field from.
    pub map: Vec<(String, String)>,
    pub skip_invalid: bool,
    /// Rejected rows given back as they were in the export (`--rejects`, their only reader);
    /// false: a webhook log's payloads are not kept for them (2 GB for 2M messages).
    pub keep_rejected: bool,
    /// Threads converting rows (0: one per core).
    pub threads: usize,
    /// A longer record stops the reading (exit 3): a bound on memory. Default
    /// `DEFAULT_MAX_RECORD_BYTES`.
    pub max_record_bytes: usize,
    /// `--accounts`: each account's months in its own zone (none: every one in `tz`).
    pub accounts: Option<crate::accounts::Accounts>,
    /// `--map-value field:from=to`, each (field, from, to).
    pub map_values: Vec<(String, String, String)>,
    /// `--source`: the exporter's profile.
    pub source: Option<Source>,
    /// The line of the export each line of a canonical log came from (`export`).
    #[doc(hidden)]
    pub lines: Option<std::sync::Arc<Vec<u32>>>,
    /// How an export spells its file, times and numbers (issue 18).
    pub export: ExportOptions,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tz: chrono_tz::UTC,
            map: Vec::new(),
            skip_invalid: false,
            keep_rejected: true,
            threads: 0,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            map_values: Vec::new(),
            source: None,
            lines: None,
            accounts: None,
            export: ExportOptions::default(),
        }
    }
}

/// What a provider's or a spreadsheet's export needs said that simcost's own CSV does not:
/// all `None` reads simcost's CSV (and detects what can be detected).
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// `--delimiter`: the field delimiter; `None` detects it from the header line.
    pub delimiter: Option<u8>,
    /// `--encoding`: the text's encoding when it has no BOM; `None` is UTF-8.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// `--timestamp-format`: a chrono strftime format tried instead of the built-in forms.
    pub timestamp_format: Option<String>,
    /// `--default-country`: national numbers (`050 555 1234`) are read in this country's
    /// numbering plan.
    pub default_country: Option<Country>,
}

/// The bound on a record's length unless `--max-record-bytes` raises it: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = super::blocks::MAX_RECORD_BYTES;

/// A row skipped under `--skip-invalid`, kept with its reason for `--rejects`: every field of
/// it, as the bytes it had in the log.
#[derive(Debug)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
    pub fields: Vec<Vec<u8>>,
}

/// The log, read and resolved: events in input order plus the interned names.
#[derive(Debug)]
pub struct Log {
    pub file: String,
    pub header: Vec<String>,
    pub events: Vec<Event>,
    pub accounts: Vec<String>,
    pub contacts: Contacts,
    pub rows: u64,
    pub rejects: Vec<Reject>,
    /// Contacts whose country came from the phone number rather than a `country` column.
    pub countries_derived: u64,
    /// Local times a clock change made ambiguous (read as the earlier instant).
    pub ambiguous_times: u64,
    /// Number of distinct (account, contact) streams.
    pub streams: u32,
    /// `Event::cell` -> (account, country, month).
    pub cells: Vec<(u32, Country, i32)>,
    /// `Event::cell` -> its account-month (an index into `account_months`).
    pub cell_account_months: Vec<u32>,
    /// `Event::account_month` -> (account, month).
    pub account_months: Vec<(u32, i32)>,
    /// The events are known to be in time order (the reader checks as it goes); false when
    /// not, or not known.
    pub in_time_order: bool,
    /// Events handed out in batches as they were read (`read_log_in_batches`) rather than
    /// kept in `events`.
    pub batched: usize,
    /// The business numbers the `business_number` column names, each once (a phone number
    /// as `+digits`, anything else as typed).
    pub business_numbers: Vec<String>,
    /// Each stream's business number, an index into `business_numbers` (`NO_BUSINESS_NUMBER`
    /// when its rows name none): the first its rows name. Streams stay (account, contact).
    pub stream_business_numbers: Vec<u32>,
    /// Rows naming another business number than the first of their stream (a side table by
    /// stream keeps one; the report warns).
    pub business_number_changes: u64,
    /// Rows folded into an earlier row of the same message id (status updates).
    pub rows_merged: u64,
    /// Inbound rows, and the contact with the most of them and its count: the guard against
    /// a contact column that names the business on inbound rows.
    pub inbound_rows: u64,
    pub busiest_contact: Option<(u32, u64)>,
    /// What looks like a mapping mistake, said on stderr and in the JSON report (`input`).
    pub warnings: Vec<String>,
}

impl Log {
    /// A log with no rows yet (an empty log is in time order).
    pub fn new(file: String, header: Vec<String>) -> Log {
        Log {
            file,
            header,
            events: Vec::new(),
            accounts: Vec::new(),
            contacts: Contacts::default(),
            rows: 0,
            rejects: Vec::new(),
            countries_derived: 0,
            ambiguous_times: 0,
            streams: 0,
            cells: Vec::new(),
            cell_account_months: Vec::new(),
            account_months: Vec::new(),
            in_time_order: true,
            batched: 0,
            business_numbers: Vec::new(),
            stream_business_numbers: Vec::new(),
            business_number_changes: 0,
            rows_merged: 0,
            inbound_rows: 0,
            busiest_contact: None,
            warnings: Vec::new(),
        }
    }

    /// The business number of a stream's messages (`business_number` column), if its rows
    /// name one: where the WhatsApp per-number free tier reads it.
    pub fn business_number_of_stream(&self, stream: u32) -> Option<&str> {
        let b = *self.stream_business_numbers.get(stream as usize)?;
        (b != NO_BUSINESS_NUMBER).then(|| self.business_numbers[b as usize].as_str())
    }

    /// The number of events read, kept or handed out in batches.
    pub fn replayed(&self) -> usize {
        self.events.len() + self.batched
    }

    /// The account of an event (its cell's).
    pub fn account_of(&self, ev: &Event) -> u32 {
        self.cells[ev.cell as usize].0
    }
    /// The calendar month of an event in its account's zone (`--accounts` tz, else `--tz`),
    /// months since year 0 (its cell's).
    pub fn month_of(&self, ev: &Event) -> i32 {
        self.cells[ev.cell as usize].2
    }
    pub fn account_name(&self, id: u32) -> &str {
        &self.accounts[id as usize]
    }
    pub fn contact_name(&self, id: u32) -> std::borrow::Cow<'_, str> {
        self.contacts.name(id)
    }
    /// The contact id of a number or id as the user typed it (`explain --contact`).
    pub fn find_contact(&self, raw: &str) -> Option<u32> {
        let key = phone::normalize(raw)
            .map(|d| format!("+{d}"))
            .unwrap_or_else(|| raw.trim().to_string());
        self.contacts.find(&key)
    }
}

/// Events of a log being read, a block at a time, with what they refer to that is new since
/// the batch before: enough to bill them before the rest is read.
pub struct Batch {
    /// The index of the first event among all the log's events.
    pub first: u32,
    pub events: Vec<Event>,
    /// New cells: each one's account and account-month.
    pub cells: Vec<(u32, u32)>,
    /// How many account-months there are now.
    pub account_months: usize,
    /// New account names (ids in order of appearance until the log is read).
    pub accounts: Vec<String>,
    /// New contacts.
    pub contacts: Contacts,
    /// New business numbers (`Log::business_numbers`, in order).
    pub business_numbers: Vec<String>,
    /// Streams whose business number became known in this batch: (stream, index into the
    /// business numbers), as `Log::stream_business_numbers` has them at the end.
    pub stream_business_numbers: Vec<(u32, u32)>,
    /// Whether the log is in time order so far (false only with `keep`, for a log out of
    /// order from its first block: every batch is then handed out for the caller to keep,
    /// see `read_log_in_batches`).
    pub in_time_order: bool,
}

/// Reads a log file and hands its events to `batch` a block at a time, in input order, while
/// the log is in time order. The log comes back without its events (`Log::batched` counts
/// them). If a row turns out to be out of time order, reading stops there: the log comes back
/// with `in_time_order` false, and what was handed out is of no use. Unless `keep`, and that
/// row is in the first block (nothing handed out yet): then every batch is handed out all the
/// same, marked out of order (`Batch::in_time_order`), for the caller to keep, so that a log
/// out of order from its start is read once (`Unordered`).
pub fn read_log_in_batches(
    path: &str,
    opts: &ReadOptions,
    spare_events: &Recycle<Event>,
    keep: Unordered,
    batch: &mut dyn FnMut(Batch),
) -> Result<Log> {
    read_log_with(Some(path), opts, Some((batch, spare_events, keep)))
}

/// Reads a log from `path` (`None` or `-`: standard input).
pub fn read_log(path: Option<&str>, opts: &ReadOptions) -> Result<Log> {
    read_log_with(path, opts, None)
}

fn read_log_with(path: Option<&str>, opts: &ReadOptions, batch: Option<Batches>) -> Result<Log> {
    let mut progress = None;
    let mut size = 0;
    let (name, reader): (String, Box<dyn Read + Send>) = match path {
        None | Some("-") => ("<stdin>".into(), Box::new(std::io::stdin())),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::Input {
                file: p.to_string(),
                line: 0,
                msg: format!("cannot open ({e})"),
            })?;
            size = f.metadata().map(|m| m.len()).unwrap_or(0);
            if size >= PROGRESS_FROM_BYTES {
                progress = Some(progress_bar(size));
            }
            // No BufReader: blocks are read half a megabyte at a time, straight into place. (Nor
            // the bar's reader, which would zero each block before reading into it.)
            (p.to_string(), Box::new(f))
        }
    };
    let log = read_input(name, reader, size, progress.as_ref(), opts, batch);
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    log
}

/// Inputs from this size on show a progress bar (on stderr, only when it is a terminal).
const PROGRESS_FROM_BYTES: u64 = 32 << 20;

fn progress_bar(size: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "reading {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

pub fn read_from(file: String, input: impl Read + Send, opts: &ReadOptions) -> Result<Log> {
    read_input(file, input, 0, None, opts, None)
}

/// Where batches go, where their event lists come back for reuse, and what is done with a
/// log out of time order from its first block (`read_log_in_batches`).
type Batches<'a> = (&'a mut dyn FnMut(Batch), &'a Recycle<Event>, Unordered);

/// What `read_log_in_batches` does with a log out of time order from its first block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unordered {
    /// Stops reading (the caller reads it again).
    Stop,
    /// Hands out every batch all the same, marked out of order, for the caller to keep.
    Keep,
    /// As `Keep`; but a log newest first, where it is safe (a regular file as it is, not an
    /// export), is read from its end instead (`backward`): its batches come in time order.
    /// Its events' lines are counted from the end until it is read (rejects get theirs
    /// right): for a caller that does not read them (no ledger).
    FromEnd,
}

/// How `add_in_order` ended: every block added, or a log newest first found in the first
/// block, to be read from its end.
enum Added {
    All,
    NewestFirst,
}

/// `size`: the input's length if known (0 if not), to size the event list once. `progress`
/// is moved on block by block. `batch`: see `read_log_in_batches`.
fn read_input(
    file: String,
    input: impl Read + Send,
    size: u64,
    progress: Option<&indicatif::ProgressBar>,
    opts: &ReadOptions,
    mut batch: Option<Batches>,
) -> Result<Log> {
    let err = |line: u64, msg: String| Error::Input {
        file: file.clone(),
        line,
        msg,
    };
    let read_err = |line: u64, e: std::io::Error| err(line, format!("cannot read CSV ({e})"));
    let (input, decoded) = decode(input, opts.export.encoding).map_err(|e| match e {
        Refused::Io(e) => read_err(0, e),
        Refused::Input(what) => err(0, what),
    })?;
    // A compressed or transcoded input's size is not its text's: no estimate, no bar.
    let (size, progress) = match decoded.changed() {
        true => (0, None),
        false => (size, progress),
    };
    if opts.source.as_ref().map(|s| s.format) == Some(Format::MetaWebhook) {
        return read_webhook(file, (input, super::lines::CHUNK), opts, batch);
    }
    let (delimiter, input) =
        with_delimiter(input, opts.export.delimiter).map_err(|e| read_err(0, e))?;
    let mut blocks = Blocks::new(input)
        .max_record_bytes(opts.max_record_bytes)
        .delimiter(delimiter);
    let (header, first) = read_header(&mut blocks, delimiter, progress, &err)?;
    let plan = Plan::new(&header, opts).map_err(|e| match e {
        Error::Input { msg, .. } => err(1, msg),
        e => e,
    })?;
    if let Some(plan) = plan {
        return read_export(file, header, (blocks, first, delimiter), &plan, opts, batch);
    }
    let columns = Columns {
        index: locate_columns(&header, &opts.map, |m| err(1, m))?,
        count: header.len(),
    };
    let codes = CallingCodes::load();
    let account_keys = AccountKeys::default();
    let lines = opts.lines.as_deref().map(Vec::as_slice);
    let parser = parser(&columns, &codes, &account_keys, opts, (delimiter, lines));
    if let Some((_, _, keep)) = batch.as_mut() {
        if *keep == Unordered::FromEnd && !from_end_safe(&file, size, &columns, opts) {
            *keep = Unordered::Keep;
        }
    }
    let new_ids = || {
        let mut ids = Ids::new(Log::new(file.clone(), header.clone()), &account_keys);
        // The default account, used when the column is absent or empty.
        ids.account_id("");
        ids
    };
    let mut ids = new_ids();
    let added = read_blocks(
        (blocks, first),
        &parser,
        opts.threads,
        progress,
        &mut ids,
        &mut batch,
        size,
    )
    .map_err(|(line, msg)| err(line, msg))?;
    if let (Added::NewestFirst, Some(batch)) = (added, batch.as_mut()) {
        // Nothing handed out yet: the ids of the first block are given again from the end.
        let reading = (&parser, opts.threads, delimiter);
        return read_newest_first(new_ids(), reading, progress, batch, &err);
    }
    finish_log(ids, &err)
}

/// A log newest first read from its end into `ids` (`backward`): the log, or, if reading from
/// the end stopped, the log out of time order, for the caller to read again (what was handed
/// out is of no use: `read_log_in_batches`).
fn read_newest_first(
    mut ids: Ids,
    reading: (&Parser, usize, u8),
    progress: Option<&indicatif::ProgressBar>,
    batch: &mut Batches,
    err: &dyn Fn(u64, String) -> Error,
) -> Result<Log> {
    if let Some(bar) = progress {
        bar.set_position(0);
    }
    let file = ids.log.file.clone();
    match backward::read_from_end(&file, reading, progress, &mut ids, batch) {
        Ok(backward::Read::Done) => finish_log(ids, err),
        Ok(backward::Read::FallBack) => {
            let mut log = ids.log;
            log.in_time_order = false;
            Ok(log)
        }
        Err(e) => Err(err(0, format!("cannot read CSV ({e})"))),
    }
}

/// Whether a log newest first may be read from its end (`Unordered::FromEnd`): a regular file
/// read as it is (`size` known: not compressed nor transcoded), not the canonical form of an
/// export (its lines are the export's), and without a business number column (a stream's is
/// the first its rows name in the file).
fn from_end_safe(file: &str, size: u64, columns: &Columns, opts: &ReadOptions) -> bool {
    let business_number = FIELDS.iter().position(|f| *f == "business_number");
    size > 0
        && opts.lines.is_none()
        && business_number.is_none_or(|i| columns.index[i].is_none())
        && std::fs::metadata(file).is_ok_and(|m| m.is_file())
}

/// The log whose rows `ids` has read: its busiest contact noted, its accounts numbered by
/// name; no rows is an error.
fn finish_log(ids: Ids, err: &dyn Fn(u64, String) -> Error) -> Result<Log> {
    let busiest = ids.busiest_contact();
    let mut log = ids.log;
    log.busiest_contact = busiest;
    if log.rows == 0 {
        return Err(err(0, "no rows after the header".into()));
    }
    number_accounts_by_name(&mut log);
    Ok(log)
}

/// An export that needs rewriting (`Plan`): its records after the header, read whole,
/// rewritten into the canonical CSV and read as such.
fn read_export<R: Read>(
    file: String,
    header: Vec<String>,
    (blocks, first, delimiter): (Blocks<R>, Block, u8),
    plan: &Plan,
    opts: &ReadOptions,
    batch: Option<Batches>,
) -> Result<Log> {
    let err = |line: u64, msg: String| Error::Input {
        file: file.clone(),
        line,
        msg,
    };
    let (first_line, bytes) = whole_input(blocks, first).map_err(|(l, m)| err(l, m))?;
    let n = (plan.normalise(&bytes, first_line, delimiter, opts)).map_err(|(l, m)| err(l, m))?;
    let original = Original::Csv {
        bytes: &bytes,
        first_line,
        delimiter,
    };
    read_normalised(file, header, n, opts, batch, original)
}

/// Meta webhook payloads (`--source meta-webhook`), one JSON object a line: made messages
/// (`input::jsonl`, a chunk at a time), each read as the row of a canonical CSV would be
/// (`Parser::parse_given`: the same checks, errors and rejects), with no CSV written. Read
/// `chunk` bytes at a time.
fn read_webhook(
    file: String,
    (input, chunk): (impl Read + Send, usize),
    opts: &ReadOptions,
    mut batch: Option<Batches>,
) -> Result<Log> {
    let err = |line: u64, msg: String| Error::Input {
        file: file.clone(),
        line,
        msg,
    };
    let values = super::export::value_maps(opts)?;
    // The payloads themselves are kept (whole) only to give rejected ones back as they were.
    let keep = opts.skip_invalid && opts.keep_rejected;
    let (n, messages, bytes) = super::jsonl::canonical_in(
        input,
        chunk,
        &values,
        (opts.skip_invalid, keep),
        opts.threads,
    )
    .map_err(|(line, msg)| err(line, msg))?;
    // As the canonical CSV's header names them: every field, in order.
    let columns = Columns {
        index: std::array::from_fn(Some),
        count: N_FIELDS,
    };
    let codes = CallingCodes::load();
    let account_keys = AccountKeys::default();
    // (each message is given with its line in the export)
    let parser = parser(&columns, &codes, &account_keys, opts, (b',', None));
    let header = FIELDS.iter().map(|f| f.to_string()).collect();
    let mut ids = Ids::new(Log::new(file.clone(), header), &account_keys);
    ids.account_id("");
    read_messages(&messages, &parser, opts.threads, &mut ids, &mut batch)
        .map_err(|(l, m)| err(l, m))?;
    drop(messages);
    let log = finish_log(ids, &err)?;
    let original = Original::Lines(&bytes);
    Ok(with_export_counts(
        log,
        vec!["payload".to_string()],
        n,
        original,
    ))
}

/// Chunks of the webhook log whose messages are made rows at a time (4 MB chunks: about
/// as many rows as a CSV's block).
const CHUNKS_AT_ONCE: usize = 4;

/// A webhook's messages made rows on `threads` threads (0: one per core), a few chunks at a
/// time each, while this one gives them ids in input order (`add_in_order`, as for a CSV's
/// blocks). The first bad row's line and reason if there is one.
fn read_messages(
    messages: &super::jsonl::Messages,
    parser: &Parser,
    threads: usize,
    ids: &mut Ids,
    batch: &mut Option<Batches>,
) -> std::result::Result<(), (u64, String)> {
    let workers = match threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let spare_rows = &Recycle::default();
    let next = &std::sync::atomic::AtomicUsize::new(0);
    let chunks = messages.chunks();
    std::thread::scope(|scope| {
        let (rows_tx, rows_rx) = sync_channel::<(u64, Rows)>(workers * 2);
        for _ in 0..workers {
            let rows_tx = rows_tx.clone();
            scope.spawn(move || loop {
                let seq = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let first = seq * CHUNKS_AT_ONCE;
                if first >= chunks {
                    return;
                }
                let range = first..(first + CHUNKS_AT_ONCE).min(chunks);
                let rows = parser.parse_given(spare_rows.take(0), |given| {
                    messages.give(range, |line, fields| given.push(line, fields));
                });
                let stop = rows.failed.is_some();
                // A closed channel means the reader stopped at a bad row: stop here too.
                if rows_tx.send((seq as u64, rows)).is_err() || stop {
                    return;
                }
            });
        }
        drop(rows_tx);
        add_in_order(rows_rx, ids, spare_rows, batch, (0, 1)).map(|_| ())
    })
}

/// The delimiter given, else detected from the header line (which is given back).
fn with_delimiter<'r>(
    input: Box<dyn Read + Send + 'r>,
    given: Option<u8>,
) -> std::io::Result<(u8, Box<dyn Read + Send + 'r>)> {
    match given {
        Some(d) => Ok((d, input)),
        None => {
            let (line, input) = first_line(input)?;
            Ok((detect_delimiter(&line), Box::new(input)))
        }
    }
}

/// The rest of the input after the header, whole: its first line and its bytes.
fn whole_input<R: Read>(
    mut blocks: Blocks<R>,
    first: Block,
) -> std::result::Result<(u64, Vec<u8>), (u64, String)> {
    let first_line = first.first_line;
    let mut bytes = first.bytes;
    let mut fault = first.fault;
    while fault.is_none() {
        match blocks.next_block() {
            Ok(Some(b)) => {
                bytes.extend_from_slice(&b.bytes);
                fault = b.fault;
            }
            Ok(None) => break,
            Err(e) => return Err((0, format!("cannot read CSV ({e})"))),
        }
    }
    match fault {
        Some(f) => Err(f),
        None => Ok((first_line, bytes)),
    }
}

/// An export as read, to give its rejected rows back as they were.
enum Original<'b> {
    /// The records after the header, from `first_line`.
    Csv {
        bytes: &'b [u8],
        first_line: u64,
        delimiter: u8,
    },
    /// One payload a line.
    Lines(&'b [u8]),
}

impl Original<'_> {
    /// The fields of the records at `lines`, as they were in the export.
    fn records(&self, lines: &FxHashSet<u64>) -> FxHashMap<u64, Vec<Vec<u8>>> {
        let mut out = FxHashMap::default();
        match *self {
            Original::Lines(bytes) => {
                for (n, l) in bytes.split(|b| *b == b'\n').enumerate() {
                    if lines.contains(&(n as u64 + 1)) {
                        out.insert(n as u64 + 1, vec![l.to_vec()]);
                    }
                }
            }
            Original::Csv {
                bytes,
                first_line,
                delimiter,
            } => {
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(delimiter)
                    .from_reader(bytes);
                let mut rec = csv::ByteRecord::new();
                while let Ok(true) = rdr.read_byte_record(&mut rec) {
                    let line = first_line + rec.position().map_or(1, |p| p.line()) - 1;
                    if lines.contains(&line) {
                        out.insert(line, rec.iter().map(<[u8]>::to_vec).collect());
                    }
                }
            }
        }
        out
    }
}

/// An export in canonical form, read as a log: its lines and rejects are the export's, its
/// rows the export's records; `header`: the export's, and a rejected row is given back as the
/// export had it (`--rejects`).
fn read_normalised(
    file: String,
    header: Vec<String>,
    mut n: Normalised,
    opts: &ReadOptions,
    batch: Option<Batches>,
    original: Original,
) -> Result<Log> {
    let csv = std::io::Cursor::new(std::mem::take(&mut n.csv));
    let canonical = ReadOptions {
        tz: opts.tz,
        skip_invalid: opts.skip_invalid,
        threads: opts.threads,
        max_record_bytes: opts.max_record_bytes,
        // The canonical form is simcost's own CSV: comma-separated UTF-8; the export's times
        // and numbers are read as the export's options say; accounts keep their zones.
        export: ExportOptions {
            delimiter: Some(b','),
            encoding: None,
            ..opts.export.clone()
        },
        accounts: opts.accounts.clone(),
        lines: Some(std::sync::Arc::new(std::mem::take(&mut n.lines))),
        ..ReadOptions::default()
    };
    let log = read_input(file, csv, 0, None, &canonical, batch)?;
    Ok(with_export_counts(log, header, n, original))
}

/// A log read from an export's canonical form, given the export's header, counts and
/// rejects: a rejected row given back as the export had it (`--rejects`).
fn with_export_counts(mut log: Log, header: Vec<String>, n: Normalised, original: Original) -> Log {
    log.rows = n.records;
    log.rows_merged = n.merged;
    if !log.rejects.is_empty() {
        let lines: FxHashSet<u64> = log.rejects.iter().map(|r| r.line).collect();
        let mut records = original.records(&lines);
        for r in &mut log.rejects {
            if let Some(fields) = records.remove(&r.line) {
                r.fields = fields;
            }
        }
    }
    if !n.rejects.is_empty() {
        log.rejects.extend(n.rejects);
        log.rejects.sort_by_key(|r| r.line);
    }
    log.header = header;
    log
}

/// The blocks, `first` (the rest of the header's block) and those after it, cut by one
/// thread and converted by `threads` (0: one per core), while this one adds their rows to
/// `ids` in input order. The first bad row's line and reason if there is one.
fn read_blocks<R: Read + Send>(
    (blocks, first): (Blocks<R>, Block),
    parser: &Parser,
    threads: usize,
    progress: Option<&indicatif::ProgressBar>,
    ids: &mut Ids,
    batch: &mut Option<Batches>,
    size: u64,
) -> std::result::Result<Added, (u64, String)> {
    let first_bytes = first.bytes.len().max(1) as u64;
    // A thread cuts the input into blocks, `workers` threads convert them (in any order), and
    // this one gives out ids block by block in input order.
    let workers = workers(threads);
    let (block_tx, block_rx) = sync_channel::<Cut>(workers * 2);
    let block_rx: Mutex<Option<Receiver<Cut>>> = Mutex::new(Some(block_rx));
    // Block bytes go back to the cutter, row lists back to the workers.
    let (spare_bytes, spare_rows) = (&Recycle::default(), &Recycle::default());
    // The workers still converting: the last one done frees the spare row lists while this
    // thread gives ids to the last rows (it frees the lists it gives back itself).
    let converting = &std::sync::atomic::AtomicUsize::new(workers);
    std::thread::scope(|scope| {
        let (rows_tx, rows_rx) = sync_channel::<(u64, Rows)>(workers * 2);
        scope.spawn(move || cut_blocks(blocks, first, block_tx, progress, spare_bytes));
        for _ in 0..workers {
            let (rows_tx, block_rx) = (rows_tx.clone(), &block_rx);
            scope.spawn(move || {
                convert_blocks(block_rx, rows_tx, parser, spare_bytes, spare_rows);
                if converting.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
                    spare_rows.close();
                }
            });
        }
        drop(rows_tx);
        let result = add_in_order(rows_rx, ids, spare_rows, batch, (size, first_bytes));
        // Unblock the cutter and the workers if this stopped early.
        *block_rx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result
    })
}

/// The threads that convert blocks into rows: `threads`, or one per core when 0.
fn workers(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
}

/// A block cut from the input, numbered in input order (or why the input could not be read).
type Cut = (u64, std::io::Result<Block>);

/// The cutter's thread: `first` (the rest of the header's block), then the input's blocks,
/// numbered, until the input ends, fails (the error is sent on) or the reader stops listening.
fn cut_blocks<R: Read>(
    mut blocks: Blocks<R>,
    first: Block,
    block_tx: SyncSender<Cut>,
    progress: Option<&indicatif::ProgressBar>,
    spare_bytes: &Recycle<u8>,
) {
    if block_tx.send((0, Ok(first))).is_err() {
        spare_bytes.close();
        return;
    }
    for seq in 1.. {
        let (cut, last) = match blocks.next_block_in(spare_bytes.take(0)) {
            Ok(Some(b)) => {
                if let Some(bar) = progress {
                    bar.inc(b.bytes.len() as u64);
                }
                (Ok(b), false)
            }
            Ok(None) => break,
            Err(e) => (Err(e), true),
        };
        // A closed channel means the reader stopped at a bad row: stop cutting.
        if block_tx.send((seq, cut)).is_err() || last {
            break;
        }
    }
    // Cut: the spare blocks freed now (megabytes), while the rows are still converted and
    // given ids, not by the reader's thread once it is done with the last of them.
    spare_bytes.close();
}

/// A worker's thread: blocks converted into rows, in whatever order they come, until the
/// cutter is done or the reader stops.
fn convert_blocks(
    block_rx: &Mutex<Option<Receiver<Cut>>>,
    rows_tx: SyncSender<(u64, Rows)>,
    parser: &Parser,
    spare_bytes: &Recycle<u8>,
    spare_rows: &Recycle<Row>,
) {
    loop {
        let next = match &*block_rx.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(rx) => rx.recv(),
            None => return,
        };
        let Ok((seq, cut)) = next else { return };
        let rows = match cut {
            Ok(block) => {
                let rows = parser.parse(&block, spare_rows.take(0));
                spare_bytes.give(block.bytes);
                rows
            }
            Err(e) => Rows {
                failed: Some((0, format!("cannot read CSV ({e})"))),
                ..Rows::default()
            },
        };
        if rows_tx.send((seq, rows)).is_err() {
            return;
        }
    }
}

/// The reader's part: blocks' rows given ids in input order (whatever order they were
/// converted in), handed out in batches if `batch`. `sizes`: the input's length (0 if not
/// known) and the first block's, to size the event list once. The first bad row's line and
/// reason if there is one.
fn add_in_order(
    rows_rx: Receiver<(u64, Rows)>,
    ids: &mut Ids,
    spare_rows: &Recycle<Row>,
    batch: &mut Option<Batches>,
    (size, first_bytes): (u64, u64),
) -> std::result::Result<Added, (u64, String)> {
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    // Out of order from the first block: batches handed out all the same, to be kept.
    let mut keeping = false;
    // Rows per byte of the first block (of `n` rows), for the whole input, and a sixteenth.
    let estimate = |n: usize| {
        let rows = size * (n as u64 + 1) / first_bytes;
        (rows + rows / 16) as usize
    };
    for (seq, rows) in rows_rx {
        pending.insert(seq, rows);
        while let Some(mut rows) = pending.remove(&next) {
            if next == 0 && size > 0 && batch.is_none() {
                ids.log.events.reserve(estimate(rows.rows.len()));
            }
            next += 1;
            let added = ids.add(&mut rows);
            spare_rows.give(rows.rows);
            added?;
            if let Some((hand_out, spare, keep)) = batch.as_mut() {
                if !ids.log.in_time_order && !keeping {
                    let newest_first = *keep == Unordered::FromEnd
                        && next == 1
                        && backward::newest_first(&ids.log.events);
                    if newest_first {
                        return Ok(Added::NewestFirst);
                    }
                    if !(*keep != Unordered::Stop && next == 1) {
                        return Ok(Added::All);
                    }
                    keeping = true;
                }
                hand_out(ids.take_batch(spare));
            }
        }
    }
    Ok(Added::All)
}

/// The header (names trimmed, a BOM dropped) and the rest of the block it ends in. Blank lines
/// before it are skipped, as the csv crate does.
fn read_header<R: Read>(
    blocks: &mut Blocks<R>,
    delimiter: u8,
    progress: Option<&indicatif::ProgressBar>,
    err: &dyn Fn(u64, String) -> Error,
) -> Result<(Vec<String>, Block)> {
    let (header, first) = loop {
        let Some(block) = blocks
            .next_block()
            .map_err(|e| err(0, format!("cannot read CSV ({e})")))?
        else {
            return Err(err(0, "empty file: a header row is required".into()));
        };
        if let Some(bar) = progress {
            bar.inc(block.bytes.len() as u64);
        }
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(&block.bytes[..]);
        let mut rec = csv::ByteRecord::new();
        if rdr
            .read_byte_record(&mut rec)
            .map_err(|e| err(block.first_line, format!("cannot read CSV ({e})")))?
        {
            let end = rdr.position().byte() as usize;
            let mut rest = Block::new(
                block.first_line + line_ends(&block.bytes, 0, end),
                block.bytes[end..].to_vec(),
            );
            rest.fault = block.fault;
            break (rec, rest);
        }
        if let Some((line, msg)) = block.fault {
            return Err(err(line, msg));
        }
    };
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                &h
            };
            h.trim().to_string()
        })
        .collect();
    Ok((header, first))
}

/// Ids for contacts and accounts in order of first appearance, and the interned streams,
/// cells and account-months.
struct Ids {
    /// A number's contact id (and its inbound rows).
    numbers: NumberTable,
    /// Each contact's streams, by contact id: numbers' and opaque contacts'.
    contact_streams: ContactStreams,
    opaque: FxHashMap<Box<str>, u32>,
    /// Inbound rows of each opaque contact (numbers keep theirs in `numbers`).
    opaque_inbound: FxHashMap<u32, u64>,
    accounts: FxHashMap<Box<str>, u32>,
    /// Account ids by key (`Rows::account_keys`; `NO_ID`: none yet): no name hashed per
    /// block.
    account_of_key: Vec<u32>,
    /// The names of the keys, read for a key met for the first time.
    account_keys: AccountKeys,
    /// Business numbers by their name in `Log::business_numbers`.
    business_numbers: FxHashMap<String, u32>,
    interner: Interner,
    log: Log,
    /// The instant of the last event, to check the time order.
    last_at: i64,
    /// How much of the tables the batches handed out so far cover: cells, accounts, contacts.
    sent: (usize, usize, usize),
    /// Business numbers handed out so far, and the streams given one since the last batch.
    sent_business_numbers: usize,
    new_stream_business_numbers: Vec<(u32, u32)>,
    /// The last number added and its contact and stream (`Run`).
    run: Run,
    /// The last number not found ahead (`stage`): a row of it is not looked for again (a
    /// run's rows: each is added with the run's contact).
    unstaged_number: u64,
    /// The number whose slot was asked for last (`prefetch_ahead`).
    asked: u64,
}

/// The number of the last row added, its contact, and its stream in `account`: a row of the
/// same number (a log grouped by contact or conversation: ~10 rows a contact in a row) takes
/// them with no hash and no probe (`Ids::number_contact`). Its inbound rows not counted in the
/// number table yet (`inbound`) go there when the number changes and at each block's end
/// (`Ids::end_run`), so the table's counts are exact once a block is added.
struct Run {
    number: u64,
    contact: u32,
    account: u32,
    stream: u32,
    inbound: u32,
}

/// No number (numbers are below 2^57): no row's number is the run's.
const NO_NUMBER: u64 = u64::MAX;

impl Run {
    const NONE: Run = Run {
        number: NO_NUMBER,
        contact: NO_ID,
        account: NO_ID,
        stream: NO_ID,
        inbound: 0,
    };
}

impl Ids {
    fn new(log: Log, account_keys: &AccountKeys) -> Ids {
        Ids {
            numbers: NumberTable::default(),
            opaque: FxHashMap::default(),
            contact_streams: ContactStreams::default(),
            opaque_inbound: FxHashMap::default(),
            accounts: FxHashMap::default(),
            account_of_key: Vec::new(),
            account_keys: account_keys.clone(),
            business_numbers: FxHashMap::default(),
            interner: Interner::default(),
            log,
            last_at: i64::MIN,
            sent: (0, 0, 0),
            sent_business_numbers: 0,
            new_stream_business_numbers: Vec::new(),
            run: Run::NONE,
            unstaged_number: NO_NUMBER,
            asked: NO_NUMBER,
        }
    }

    /// The events added since the last batch, and what is new in the tables.
    fn take_batch(&mut self, spare: &Recycle<Event>) -> Batch {
        let log = &mut self.log;
        // Rounded up to a power of two, as a block's rows are (`rows::Parser::parse`): a
        // recycled list a few events short was grown by `realloc`, copying its old bytes.
        let capacity = (log.events.len() + log.events.len() / 8).next_power_of_two();
        let events = std::mem::replace(&mut log.events, spare.take(capacity));
        let first = log.batched as u32;
        log.batched += events.len();
        let (cells, accounts, contacts) = self.sent;
        self.sent = (log.cells.len(), log.accounts.len(), log.contacts.len());
        Batch {
            first,
            events,
            cells: (cells..log.cells.len())
                .map(|c| (log.cells[c].0, log.cell_account_months[c]))
                .collect(),
            account_months: log.account_months.len(),
            accounts: log.accounts[accounts..].to_vec(),
            contacts: log.contacts.tail(contacts as u32),
            business_numbers: log.business_numbers
                [std::mem::replace(&mut self.sent_business_numbers, log.business_numbers.len())..]
                .to_vec(),
            stream_business_numbers: std::mem::take(&mut self.new_stream_business_numbers),
            in_time_order: log.in_time_order,
        }
    }

    /// Adds a block's rows as events; the first bad row's line and reason if it has one.
    /// Out of line, as before `add_in_order` was split off: inlined there, its per-row loop
    /// took ~1M more instructions on 500k rows (it is called once a block).
    #[inline(never)]
    fn add(&mut self, rows: &mut Rows) -> std::result::Result<(), (u64, String)> {
        self.log.rows += rows.records;
        self.log.countries_derived += rows.countries_derived;
        self.log.ambiguous_times += rows.ambiguous_times;
        self.log.rejects.append(&mut rows.rejects);
        // Block-local indexes -> ids, given when first used so that ids follow the rows.
        let mut local = BlockIds {
            accounts: vec![None; rows.account_keys.len()],
            cells: vec![None; rows.cells.len()],
            account_months: vec![None; rows.account_months.len()],
            business_numbers: vec![None; rows.business_numbers.len()],
        };
        // In a block of many accounts most rows are the first of their account-month in it.
        let many = rows.account_keys.len() > MANY_ACCOUNTS;
        // The contacts of the next rows, found ahead (`stage`), by row modulo their count.
        let mut staged = [None; PREFETCH_ROWS];
        // The hashes of the numbers whose slots were asked for (`prefetch_ahead`), by row
        // modulo their count; those of the rows first staged, whose slots were not.
        let mut hashes = [Hashed::default(); PREFETCH_ROWS];
        for (k, r) in rows
            .rows
            .iter()
            .enumerate()
            .take(2 * PREFETCH_ROWS)
            .skip(PREFETCH_ROWS)
        {
            if let Contact::Number(n) = r.contact() {
                hashes[k % PREFETCH_ROWS] = NumberTable::hashed(n);
            }
        }
        let all = &rows.rows[..];
        let from = |steps: usize| all.get(steps * PREFETCH_ROWS..).unwrap_or_default();
        // The rows three steps or more from the block's end, with the rows ahead of them
        // zipped in: no bounds checked per row (three a row, as `get`s).
        let ahead = from(1).iter().zip(from(2)).zip(from(3));
        for (k, (r, ((a1, a2), a3))) in all.iter().zip(ahead).enumerate() {
            let (ring, ahead) = ((&mut staged, &mut hashes), [Some(a1), Some(a2), Some(a3)]);
            self.add_ahead(rows, (k, r), ahead, ring, (many, &mut local));
        }
        // The last rows, with fewer rows ahead.
        let body = all.len().saturating_sub(3 * PREFETCH_ROWS);
        for (k, r) in all.iter().enumerate().skip(body) {
            let ahead = [1, 2, 3].map(|steps| all.get(k + steps * PREFETCH_ROWS));
            let ring = (&mut staged, &mut hashes);
            self.add_ahead(rows, (k, r), ahead, ring, (many, &mut local));
        }
        self.end_run();
        self.unstaged_number = NO_NUMBER;
        match rows.failed.take() {
            Some(f) => Err(f),
            None => Ok(()),
        }
    }

    /// Adds row `r`, the `k`th of `rows`, asking for what the rows `ahead` of it (one, two
    /// and three steps, if the block has them) will read. `ring`: the contacts found and
    /// the numbers hashed ahead (`prefetch_ahead`). `many`: the block has many accounts.
    /// (This and the other parts of `add` run once per row and are inlined always: one loop
    /// body, as before they were split.)
    #[inline(always)]
    fn add_ahead(
        &mut self,
        rows: &Rows,
        (k, r): (usize, &Row),
        ahead: [Option<&Row>; 3],
        ring: (
            &mut [Option<u32>; PREFETCH_ROWS],
            &mut [Hashed; PREFETCH_ROWS],
        ),
        (many, local): (bool, &mut BlockIds),
    ) {
        let contact = ring.0[k % PREFETCH_ROWS];
        self.prefetch_ahead(k, ahead, ring);
        if many {
            self.prefetch_account(rows, ahead[0]);
        }
        self.add_row(rows, r, contact, local);
    }

    /// Asks for what the rows `ahead` of row `k` (one, two and three steps) will read, so
    /// that it is in cache by then.
    /// Two stages: a number's slot is asked for two steps ahead; one step ahead, the slot
    /// read, its contact's streams are asked for (`staged`: the contact of row `k` plus one
    /// step, at `k` modulo a step). `hashes`, at `k` modulo a step: the hash of the number
    /// of row `k` plus one step, then of the row two steps ahead, hashed once.
    #[inline(always)]
    fn prefetch_ahead(
        &mut self,
        k: usize,
        [one, two, three]: [Option<&Row>; 3],
        (staged, hashes): (
            &mut [Option<u32>; PREFETCH_ROWS],
            &mut [Hashed; PREFETCH_ROWS],
        ),
    ) {
        // The rows come from a worker's core: asked for before their numbers are read.
        if let Some(row) = three {
            crate::prefetch::prefetch(row);
        }
        let hashed = hashes[k % PREFETCH_ROWS];
        if let Some(Contact::Number(ahead)) = two.map(Row::contact) {
            let hashed = NumberTable::hashed(ahead);
            // A run of one number (a log grouped by contact) asks for its slot once.
            if ahead != self.asked {
                self.asked = ahead;
                self.numbers.prefetch(hashed);
            }
            hashes[k % PREFETCH_ROWS] = hashed;
        }
        if let Some(r) = one {
            staged[k % PREFETCH_ROWS] = self.stage(r, hashed);
        }
    }

    /// The contact of row `r` if its number is known already (its inbound row counted: the
    /// row will not look its number up again), its streams asked for; None for a new
    /// number (perhaps made by a row before `r` by the time `r` is added) or an opaque
    /// contact.
    #[inline(always)]
    fn stage(&mut self, r: &Row, hashed: Hashed) -> Option<u32> {
        let Contact::Number(n) = r.contact() else {
            return None;
        };
        // A number not found just before (the row before, in a run: a log grouped by
        // contact) is not looked for again: the row takes the run's contact when added.
        if n == self.unstaged_number {
            return None;
        }
        let inbound = r.direction == crate::event::Direction::Inbound;
        let Some(contact) = self.numbers.contact_of(n, hashed, inbound) else {
            self.unstaged_number = n;
            return None;
        };
        self.contact_streams.prefetch(contact);
        Some(contact)
    }

    /// Asks for the account-month and cells of the account of row `ahead` of `rows` (when its
    /// account has an id: all but its first row).
    #[inline(always)]
    fn prefetch_account(&self, rows: &Rows, ahead: Option<&Row>) {
        if let Some(r) = ahead {
            let (local, _) = rows.account_months[r.account_month as usize];
            let key = rows.account_keys[local as usize];
            if let Some(&id) = self.account_of_key.get(key as usize) {
                self.interner.prefetch(id);
            }
        }
    }

    /// Adds row `r` of `rows` as an event, its block-local indexes turned into ids; the time
    /// order checked. `staged`: its contact, if found ahead (`stage`).
    #[inline(always)]
    fn add_row(&mut self, rows: &Rows, r: &Row, staged: Option<u32>, local: &mut BlockIds) {
        self.log.in_time_order &= self.last_at <= r.at;
        self.last_at = r.at;
        let (account, account_month) = *local.account_months[r.account_month as usize]
            .get_or_insert_with(|| {
                self.account_month_of(rows, r.account_month, &mut local.accounts)
            });
        let inbound = r.direction == crate::event::Direction::Inbound;
        self.log.inbound_rows += inbound as u64;
        let (contact, stream) = match r.contact() {
            Contact::Number(n) => self.number_contact(n, account, inbound, staged),
            Contact::Id(i) => self.opaque_contact(&rows.ids[i as usize], account, inbound),
        };
        let cell = *local.cells[r.cell as usize].get_or_insert_with(|| {
            let (_, country, month) = rows.cells[r.cell as usize];
            self.interner
                .cell(&mut self.log, (account, country, month), account_month)
        });
        if r.business_number != NO_BUSINESS_NUMBER {
            self.note_business_number(rows, r, stream, local);
        }
        self.log.events.push(Event {
            at: r.at,
            day: r.day,
            line: r.line,
            contact,
            stream,
            cell,
            country: r.country,
            direction: r.direction,
            kind: r.kind,
        });
    }

    /// The account id and account-month id of block account-month `am` of `rows` (given if
    /// new; `accounts`: the block's account ids given so far). Out of line: once a block for
    /// each of its account-months.
    #[inline(never)]
    fn account_month_of(
        &mut self,
        rows: &Rows,
        am: u32,
        accounts: &mut [Option<u32>],
    ) -> (u32, u32) {
        let (local_account, month) = rows.account_months[am as usize];
        let account = *accounts[local_account as usize]
            .get_or_insert_with(|| self.account_of_key(rows, local_account));
        let account_month = self.interner.account_month(&mut self.log, (account, month));
        (account, account_month)
    }

    /// The contact with the most inbound rows and its count (the lower id on a tie).
    fn busiest_contact(&self) -> Option<(u32, u64)> {
        let numbers = self.numbers.busiest().map(|(c, n)| (c, n as u64));
        let opaque = self.opaque_inbound.iter().map(|(&c, &n)| (c, n));
        numbers
            .into_iter()
            .chain(opaque)
            .max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)))
    }

    /// Notes the business number of row `r` against its stream (out of line: a log without
    /// the column never calls it).
    #[inline(never)]
    fn note_business_number(&mut self, rows: &Rows, r: &Row, stream: u32, local: &mut BlockIds) {
        let i = r.business_number as usize;
        let id = *local.business_numbers[i].get_or_insert_with(|| {
            let typed = &rows.business_numbers[i];
            let name =
                phone::normalize(typed).map_or_else(|| typed.to_string(), |d| format!("+{d}"));
            let next = self.business_numbers.len() as u32;
            *self
                .business_numbers
                .entry(name.clone())
                .or_insert_with(|| {
                    self.log.business_numbers.push(name);
                    next
                })
        });
        let by_stream = &mut self.log.stream_business_numbers;
        if by_stream.len() <= stream as usize {
            by_stream.resize(stream as usize + 1, NO_BUSINESS_NUMBER);
        }
        match by_stream[stream as usize] {
            NO_BUSINESS_NUMBER => {
                by_stream[stream as usize] = id;
                self.new_stream_business_numbers.push((stream, id));
            }
            b if b != id => self.log.business_number_changes += 1,
            _ => {}
        }
    }

    /// The contact id of number `n` (`staged` if found ahead, else by the run: `run_contact`)
    /// and its stream in `account`. Its inbound row counted once: by `stage` if staged.
    #[inline(always)]
    fn number_contact(
        &mut self,
        n: u64,
        account: u32,
        inbound: bool,
        staged: Option<u32>,
    ) -> (u32, u32) {
        match staged {
            Some(contact) => (contact, self.stream_of(contact, account)),
            // Asked only for a row not found ahead: a log of no runs finds nearly every
            // row ahead, and pays nothing for runs on those.
            None => self.run_contact(n, account, inbound),
        }
    }

    /// The contact id of number `n`, not found ahead, and its stream in `account`: the
    /// run's if `n` is the run's number (its inbound row counted in the run), else looked
    /// up (given if new, its inbound row counted), the run now `n`'s.
    #[inline(always)]
    fn run_contact(&mut self, n: u64, account: u32, inbound: bool) -> (u32, u32) {
        let contact = if n == self.run.number {
            self.run.inbound += inbound as u32;
            if account == self.run.account {
                return (self.run.contact, self.run.stream);
            }
            self.run.contact
        } else {
            let contact = self.number_entry(n, inbound);
            self.end_run();
            (self.run.number, self.run.contact) = (n, contact);
            contact
        };
        let stream = self.stream_of(contact, account);
        (self.run.account, self.run.stream) = (account, stream);
        (contact, stream)
    }

    /// The stream of `contact` in `account` (made if new).
    #[inline(always)]
    fn stream_of(&mut self, contact: u32, account: u32) -> u32 {
        let streams = self.contact_streams.get_mut(contact);
        (self.interner).stream(&mut self.log, streams, account, contact)
    }

    /// Counts the run's inbound rows not yet counted in the number table.
    #[inline(always)]
    fn end_run(&mut self) {
        if self.run.inbound > 0 {
            let rows = std::mem::take(&mut self.run.inbound);
            self.numbers.count_inbound(self.run.number, rows);
        }
    }

    /// The contact id of number `n`, given if new; its inbound row counted.
    #[inline(always)]
    fn number_entry(&mut self, n: u64, inbound: bool) -> u32 {
        let next = Known {
            contact: self.log.contacts.len() as u32,
            inbound: 0,
        };
        let (known, made) = self.numbers.entry(n, next);
        known.inbound = known.inbound.saturating_add(inbound as u32);
        let contact = known.contact;
        if made {
            self.log.contacts.push_number(n);
            self.contact_streams.push();
        }
        contact
    }

    /// The contact id of an opaque contact (given if new) and its stream in `account`.
    #[inline]
    fn opaque_contact(&mut self, name: &str, account: u32, inbound: bool) -> (u32, u32) {
        let contact = match self.opaque.get(name) {
            Some(&id) => id,
            None => {
                let id = self.log.contacts.push_id(name);
                self.contact_streams.push();
                self.opaque.insert(name.into(), id);
                id
            }
        };
        if inbound {
            *self.opaque_inbound.entry(contact).or_insert(0) += 1;
        }
        let streams = self.contact_streams.get_mut(contact);
        let stream = self
            .interner
            .stream(&mut self.log, streams, account, contact);
        (contact, stream)
    }

    /// The id of block account `local` of `rows`, by its key (given if new).
    fn account_of_key(&mut self, rows: &Rows, local: u32) -> u32 {
        let key = rows.account_keys[local as usize];
        if let Some(&id) = self
            .account_of_key
            .get(key as usize)
            .filter(|&&id| id != NO_ID)
        {
            return id;
        }
        self.new_account_key(key)
    }

    /// The id of an account key met for the first time (its name read once).
    #[cold]
    fn new_account_key(&mut self, key: u32) -> u32 {
        let name = self.account_keys.name(key);
        let id = Self::account_id_in(&mut self.accounts, &mut self.log, &name);
        if self.account_of_key.len() <= key as usize {
            self.account_of_key.resize(key as usize + 1, NO_ID);
        }
        self.account_of_key[key as usize] = id;
        id
    }

    fn account_id(&mut self, name: &str) -> u32 {
        Self::account_id_in(&mut self.accounts, &mut self.log, name)
    }

    fn account_id_in(ids: &mut FxHashMap<Box<str>, u32>, log: &mut Log, name: &str) -> u32 {
        if let Some(&id) = ids.get(name) {
            return id;
        }
        let id = log.accounts.len() as u32;
        log.accounts.push(name.to_string());
        ids.insert(name.into(), id);
        id
    }
}

/// No id given yet (`Ids::account_of_key`).
const NO_ID: u32 = u32::MAX;

/// Accounts in a block past which the reader asks for accounts' cells ahead of their rows.
const MANY_ACCOUNTS: usize = 64;

/// A block's own indexes of accounts, cells and account-months -> their ids in the log,
/// each given when first used.
struct BlockIds {
    accounts: Vec<Option<u32>>,
    cells: Vec<Option<u32>>,
    /// Each account-month's account id and its own: one look-up a row for both.
    account_months: Vec<Option<(u32, u32)>>,
    business_numbers: Vec<Option<u32>>,
}

/// Account ids in name order rather than order of appearance, so that reports and fee lists
/// do not depend on the order of the rows.
fn number_accounts_by_name(log: &mut Log) {
    let mut by_name: Vec<u32> = (0..log.accounts.len() as u32).collect();
    by_name.sort_by(|a, b| log.accounts[*a as usize].cmp(&log.accounts[*b as usize]));
    if by_name.iter().enumerate().all(|(i, a)| i as u32 == *a) {
        return;
    }
    let mut new_id = vec![0u32; by_name.len()];
    for (new, old) in by_name.iter().enumerate() {
        new_id[*old as usize] = new as u32;
    }
    log.accounts = by_name
        .iter()
        .map(|old| std::mem::take(&mut log.accounts[*old as usize]))
        .collect();
    for c in &mut log.cells {
        c.0 = new_id[c.0 as usize];
    }
    for am in &mut log.account_months {
        am.0 = new_id[am.0 as usize];
    }
}

/// The column index of each field, or why the header will not do: a `--map` naming an unknown
/// field or a column the header lacks is a usage error (a typo would silently change money);
/// `--map FIELD=` (no column) leaves an optional field unread; the rest are `input` errors.
fn locate_columns(
    header: &[String],
    map: &[(String, String)],
    input: impl Fn(String) -> Error,
) -> Result<[Option<usize>; N_FIELDS]> {
    let mut wanted: [Option<String>; N_FIELDS] = FIELDS.map(|f| Some(f.to_string()));
    let mut mapped = [false; N_FIELDS];
    let shown_header = || super::shown(&header.join(",")).into_owned();
    for (field, column) in map {
        let usage = |m: String| Error::Usage(format!("--map {field}={column}: {m}"));
        let i = FIELDS
            .iter()
            .position(|f| f.eq_ignore_ascii_case(field.trim()))
            .ok_or_else(|| usage(format!("unknown field; fields are {}", FIELDS.join(", "))))?;
        if std::mem::replace(&mut mapped[i], true) {
            return Err(usage(format!("{} is mapped twice", FIELDS[i])));
        }
        let column = column.trim();
        if column.is_empty() {
            if REQUIRED[i] {
                return Err(usage(format!(
                    "{} is required: it cannot be left out",
                    FIELDS[i]
                )));
            }
            wanted[i] = None;
        } else if !header.iter().any(|h| h.eq_ignore_ascii_case(column)) {
            return Err(usage(format!(
                "the log has no column {}; its header is: {}",
                super::shown(column),
                shown_header()
            )));
        } else {
            wanted[i] = Some(column.to_string());
        }
    }
    let mut cols = [None; N_FIELDS];
    for (i, name) in wanted.iter().enumerate() {
        let Some(name) = name else { continue };
        let hits: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.eq_ignore_ascii_case(name))
            .map(|(j, _)| j)
            .collect();
        match hits.len() {
            0 if REQUIRED[i] => {
                return Err(input(format!(
                    "missing required column ({name}); the header is: {}; name the column with --map {}=COLUMN, or read a known export with --source NAME ({})",
                    shown_header(),
                    FIELDS[i],
                    super::source::names().join(", ")
                )))
            }
            0 => {}
            1 => cols[i] = Some(hits[0]),
            _ => return Err(input(format!("duplicated column ({})", super::shown(name)))),
        }
    }
    Ok(cols)
}

/// The input's first line (up to `FIRST_LINE_BYTES` of it; blank lines before it skipped), to
/// detect the delimiter from, and the whole input again.
fn first_line<R: Read>(mut input: R) -> std::io::Result<(Vec<u8>, Replayed<R>)> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        (&mut input).take(4096).read_to_end(&mut head)?;
        let text = head
            .iter()
            .position(|b| !b"\r\n".contains(b))
            .unwrap_or(head.len());
        let ended = memchr::memchr(b'\n', &head[text..]).is_some();
        if ended || head.len() == before || head.len() >= FIRST_LINE_BYTES {
            let line = head[text..].to_vec();
            return Ok((line, std::io::Cursor::new(head).chain(input)));
        }
    }
}

/// How much of a header line the delimiter is detected from.
const FIRST_LINE_BYTES: usize = 64 << 10;

/// Dense ids for streams, report cells and account-months, given in order of first appearance.
#[derive(Default)]
pub struct Interner {
    /// Each contact's streams in the first accounts: a vector index instead of a hash lookup
    /// per event.
    contact_streams: Vec<AccountStreams>,
    /// Streams of the other accounts, by (account, contact).
    streams: FxHashMap<u64, u32>,
    /// Each account's last account-month and its first cells, by account id: a vector
    /// read rather than hashes (in a log of many accounts the reader met nearly every
    /// account-month and cell anew in every block, a hash look-up each).
    by_account: Vec<AccountCells>,
    /// Every cell by (account-month, country), but those of an account-month made new
    /// that are still kept in its account's `AccountCells` (`fresh`): put here when the
    /// account moves to another month (`file_away`).
    cells: FxHashMap<(u32, Country), u32>,
    /// Every account-month by (account, month), but a `fresh` one still kept.
    account_months: FxHashMap<(u32, i32), u32>,
}

/// An account's last account-month and (some of) its cells: one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct AccountCells {
    month: i32,
    /// `NO_ID`: none yet.
    account_month: u32,
    /// Country indexes (`NO_COUNTRY`: no more) and their cells.
    countries: [u16; KEPT_CELLS],
    cells: [u32; KEPT_CELLS],
    /// The account-month was made new here: neither it nor the cells kept here are in the
    /// hashes yet, and it has no cell but these and, past them, the hash's. (A log of many
    /// accounts made each of its 400,000 cells by a hash insert, a cache miss each on the
    /// thread giving ids, though a time-ordered log never asks for them again.)
    fresh: bool,
}

/// Cells of an account-month kept in its `AccountCells` (a log of many accounts has a few
/// countries in each; a cell past these is found by a hash).
const KEPT_CELLS: usize = 8;
/// No cell in a slot of `AccountCells`.
const NO_COUNTRY: u16 = u16::MAX;

impl AccountCells {
    const NONE: AccountCells = AccountCells {
        month: 0,
        account_month: NO_ID,
        countries: [NO_COUNTRY; KEPT_CELLS],
        cells: [0; KEPT_CELLS],
        fresh: false,
    };
}

impl Interner {
    /// Fills `ev.stream` and `ev.cell` for an event of `account` in `month`, extending `log`'s
    /// tables.
    pub fn assign(&mut self, log: &mut Log, ev: &mut Event, account: u32, month: i32) {
        let c = ev.contact as usize;
        if c >= self.contact_streams.len() {
            self.contact_streams.resize(c + 1, AccountStreams::NONE);
        }
        let mut streams = self.contact_streams[c];
        ev.stream = self.stream(log, &mut streams, account, ev.contact);
        self.contact_streams[c] = streams;
        let account_month = self.account_month(log, (account, month));
        ev.cell = self.cell(log, (account, ev.country, month), account_month);
    }

    /// The stream of (account, contact), given the contact's `streams` (made if new).
    fn stream(
        &mut self,
        log: &mut Log,
        streams: &mut AccountStreams,
        account: u32,
        contact: u32,
    ) -> u32 {
        let n = log.streams;
        let stream = match streams.get_or_make(account, n) {
            Some(s) => s,
            None => {
                let key = ((account as u64) << 32) | contact as u64;
                *self.streams.entry(key).or_insert(n)
            }
        };
        if stream == n {
            log.streams += 1;
        }
        stream
    }

    /// The id of report cell `cell` of account-month `account_month` (given if new): among
    /// the account's kept cells, else by the hash of all (none asked when the account-month
    /// is `fresh` and has room kept: the cell is new).
    fn cell(&mut self, log: &mut Log, cell: (u32, Country, i32), account_month: u32) -> u32 {
        let (account, country) = (cell.0 as usize, cell.1.index() as u16);
        let kept = match self.by_account.get_mut(account) {
            Some(a) if a.account_month == account_month => Some(a),
            _ => None,
        };
        let mut free = None;
        if let Some(a) = kept {
            for (i, &c) in a.countries.iter().enumerate() {
                if c == country {
                    return a.cells[i];
                }
                if c == NO_COUNTRY {
                    free = Some((i, a.fresh));
                    break;
                }
            }
        }
        let made = |log: &mut Log| {
            log.cells.push(cell);
            log.cell_account_months.push(account_month);
            log.cells.len() as u32 - 1
        };
        let id = match free {
            Some((_, true)) => made(log),
            _ => *self
                .cells
                .entry((account_month, cell.1))
                .or_insert_with(|| made(log)),
        };
        if let Some((i, _)) = free {
            let a = &mut self.by_account[account];
            (a.countries[i], a.cells[i]) = (country, id);
        }
        id
    }

    /// The id of account-month `am` (given if new): the account's last one, else by a hash
    /// (none asked for an account's first).
    fn account_month(&mut self, log: &mut Log, am: (u32, i32)) -> u32 {
        let (account, month) = (am.0 as usize, am.1);
        if self.by_account.len() <= account {
            self.by_account.resize(account + 1, AccountCells::NONE);
        }
        let last = self.by_account[account];
        if last.account_month != NO_ID {
            if last.month == month {
                return last.account_month;
            }
            if last.fresh {
                self.file_away(log, am.0, &last);
            }
        }
        let known = match last.account_month {
            NO_ID => None,
            _ => self.account_months.get(&am).copied(),
        };
        let (id, fresh) = known.map_or_else(
            || {
                log.account_months.push(am);
                (log.account_months.len() as u32 - 1, true)
            },
            |id| (id, false),
        );
        self.by_account[account] = AccountCells {
            month,
            account_month: id,
            fresh,
            ..AccountCells::NONE
        };
        id
    }

    /// Puts a `fresh` account-month of `account` and its kept cells into the hashes, as its
    /// account moves to another month (which a log out of order may come back from).
    #[cold]
    fn file_away(&mut self, log: &Log, account: u32, kept: &AccountCells) {
        self.account_months
            .insert((account, kept.month), kept.account_month);
        let countries = kept.countries.iter().take_while(|&&c| c != NO_COUNTRY);
        for (_, &cell) in countries.zip(&kept.cells) {
            let (_, country, _) = log.cells[cell as usize];
            self.cells.insert((kept.account_month, country), cell);
        }
    }

    /// Asks for what `account_month` and `cell` will read of `account`.
    #[inline(always)]
    fn prefetch(&self, account: u32) {
        if let Some(a) = self.by_account.get(account as usize) {
            crate::prefetch::prefetch(a);
        }
    }
}

/// How far ahead of the row being added its number's slot is asked for: enough rows for the
/// misses to overlap, few enough that the slots are still cached when their rows come.
const PREFETCH_ROWS: usize = 16;

/// The row parser of `opts`, for `columns` split at `delimiter`; `lines`: the line in the
/// export of each line, when the log is an export's canonical form.
fn parser<'a>(
    columns: &'a Columns,
    codes: &'a CallingCodes,
    account_keys: &'a AccountKeys,
    opts: &'a ReadOptions,
    (delimiter, lines): (u8, Option<&'a [u32]>),
) -> Parser<'a> {
    Parser {
        columns,
        tz: opts.tz,
        codes,
        skip_invalid: opts.skip_invalid,
        max_record_bytes: opts.max_record_bytes,
        zones: opts.accounts.as_ref().filter(|a| a.zoned()),
        lines,
        delimiter,
        timestamp_format: opts.export.timestamp_format.as_deref(),
        default_country: opts.export.default_country,
        account_keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Direction, Kind};
    use std::collections::HashMap;

    fn read(text: &str) -> Result<Log> {
        read_with(text, &[])
    }

    fn read_with(text: &str, map: &[(&str, &str)]) -> Result<Log> {
        let opts = ReadOptions {
            tz: chrono_tz::UTC,
            map: map
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            skip_invalid: false,
            threads: 2,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            accounts: None,
            ..ReadOptions::default()
        };
        read_from("t.csv".into(), text.as_bytes(), &opts)
    }

    /// A log of four columns (timestamp, contact, direction, account), with what a parser of
    /// it borrows.
    fn four_columns() -> (Vec<String>, Columns, CallingCodes, AccountKeys, ReadOptions) {
        let header: Vec<String> = ["timestamp", "contact", "direction", "account"]
            .map(String::from)
            .into();
        let columns = Columns {
            index: locate_columns(&header, &[], Error::Usage).unwrap(),
            count: header.len(),
        };
        let (codes, keys, opts) = (
            CallingCodes::load(),
            AccountKeys::default(),
            ReadOptions::default(),
        );
        (header, columns, codes, keys, opts)
    }

    /// Blocks converted on racing threads, the later block first: its accounts take the
    /// first keys, yet ids (accounts, account-months, cells) follow the rows' order.
    #[test]
    fn ids_follow_first_appearance_whatever_the_keys() {
        let (header, columns, codes, keys, opts) = four_columns();
        let parser = parser(&columns, &codes, &keys, &opts, (b',', None));
        let block = |first_line: u64, rows: &[(&str, &str)]| {
            let text: String = (rows.iter())
                .map(|(contact, account)| format!("2026-03-01T10:00:00Z,{contact},in,{account}\n"))
                .collect();
            Block::new(first_line, text.into_bytes())
        };
        // Ukrainian and German mobile numbers: two countries, two cells in one account.
        let (ua, de) = ("+380501234567", "+4915123456789");
        let first = block(2, &[(ua, "b"), (ua, "a"), (de, "b")]);
        let second = block(5, &[(ua, "c"), (de, "a"), (ua, " a"), (ua, "d")]);
        let parse =
            |b: &Block| std::thread::scope(|s| s.spawn(|| parser.parse(b, Vec::new())).join());
        let mut second = parse(&second).unwrap();
        let mut first = parse(&first).unwrap();
        // The keys went to the second block's accounts first.
        assert_eq!((keys.name(0), keys.name(3)), ("c".into(), "b".into()));
        let mut ids = Ids::new(Log::new("t.csv".into(), header), &keys);
        ids.account_id("");
        ids.add(&mut first).unwrap();
        ids.add(&mut second).unwrap();
        let log = &ids.log;
        assert_eq!(log.accounts, ["", "b", "a", "c", "d"]);
        let march = 2026 * 12 + 2;
        assert_eq!(
            log.account_months,
            [(1, march), (2, march), (3, march), (4, march)]
        );
        let (ua, de) = (Country::parse("UA").unwrap(), Country::parse("DE").unwrap());
        let cells = [(1, ua), (2, ua), (1, de), (3, ua), (2, de), (4, ua)];
        assert_eq!(log.cells, cells.map(|(a, c)| (a, c, march)));
        assert_eq!(log.cell_account_months, [0, 1, 0, 2, 1, 3]);
    }

    /// One block of two accounts and two months, interleaved (UTC): each row's account-month
    /// and cell by first appearance, its account's and its account-month's ids read in one
    /// look-up. Worked by hand ("" is account 0): rows (b, March, UA), (a, April, UA),
    /// (b, March, DE), (b, April, DE), (a, March, DE), (a, April, UA): accounts b 1, a 2;
    /// account-months (1, March) 0, (2, April) 1, (1, April) 2, (2, March) 3; cells 0, 1, 2,
    /// 3, 4, 1 (of account-months 0, 1, 0, 2, 3).
    #[test]
    fn a_blocks_account_months_give_each_row_its_account_and_cell() {
        let (header, columns, codes, keys, opts) = four_columns();
        let parser = parser(&columns, &codes, &keys, &opts, (b',', None));
        let (ua, de) = ("+380501234567", "+4915123456789");
        let rows = [
            ("2026-03-31T23:00:00Z", ua, "b"),
            ("2026-04-01T01:00:00Z", ua, "a"),
            ("2026-03-31T22:00:00Z", de, "b"),
            ("2026-04-01T02:00:00Z", de, "b"),
            ("2026-03-31T21:00:00Z", de, "a"),
            ("2026-04-01T03:00:00Z", ua, "a"),
        ];
        let text: String = (rows.iter())
            .map(|(at, contact, account)| format!("{at},{contact},in,{account}\n"))
            .collect();
        let mut rows = parser.parse(&Block::new(2, text.into_bytes()), Vec::new());
        let mut ids = Ids::new(Log::new("t.csv".into(), header), &keys);
        ids.account_id("");
        ids.add(&mut rows).unwrap();
        let log = &ids.log;
        assert_eq!(log.accounts, ["", "b", "a"]);
        let (march, april) = (2026 * 12 + 2, 2026 * 12 + 3);
        let account_months = [(1, march), (2, april), (1, april), (2, march)];
        assert_eq!(log.account_months, account_months);
        let cells: Vec<u32> = log.events.iter().map(|e| e.cell).collect();
        assert_eq!(cells, [0, 1, 2, 3, 4, 1]);
        let (ua, de) = (Country::parse("UA").unwrap(), Country::parse("DE").unwrap());
        let expected = [(1, ua, march), (2, ua, april), (1, de, march)];
        assert_eq!(log.cells[..3], expected);
        assert_eq!(log.cells[3..], [(1, de, april), (2, de, march)]);
        assert_eq!(log.cell_account_months, [0, 1, 0, 2, 3]);
    }

    /// A batch's event list is replaced by a spare with room for an eighth more events,
    /// rounded up to a power of two, so that a list handed back takes a batch a few events
    /// longer in place. Worked: with nothing spare, 9 events -> 10 -> 16; then 100 events ->
    /// 112 -> 128 (the spare of 16 grown); 120 events -> 135 -> 256 (the spare of 128 grown);
    /// 110 events -> 123 -> 128: the spare of 256 as it is.
    #[test]
    fn a_batchs_spare_event_list_has_room_rounded_up_to_a_power_of_two() {
        let (header, columns, codes, keys, opts) = four_columns();
        let parser = parser(&columns, &codes, &keys, &opts, (b',', None));
        let mut ids = Ids::new(Log::new("t.csv".into(), header), &keys);
        let spare = Recycle::default();
        let add = |ids: &mut Ids, n: usize| {
            let text = "2026-03-01T10:00:00Z,+380501234567,in,a\n".repeat(n);
            ids.add(&mut parser.parse(&Block::new(1, text.into_bytes()), Vec::new()))
                .unwrap();
            ids.take_batch(&spare)
        };
        for (n, room) in [(9, 16), (100, 128), (120, 256), (110, 256)] {
            let batch = add(&mut ids, n);
            assert_eq!(batch.events.len(), n);
            assert_eq!(ids.log.events.capacity(), room, "{n}");
            spare.give(std::mem::take(&mut ids.log.events));
        }
    }

    /// A month met again after another finds its account-month and cells made while it was
    /// new (kept at hand, not yet in the hashes): worked by hand, account 0 in March (UA,
    /// DE), April (UA), March again (DE, UA, then GB, new).
    /// Blocks shorter and longer than the rows asked for ahead (three steps of 16: the
    /// rows with all three ahead are added by one loop, the last 48 by another) each add
    /// every row once, in order, its contact, stream and inbound row as a plain count has
    /// them: row i of a block names number i mod 7 (so contact i mod 7: every block starts
    /// at 0), inbound on even rows, account a on every third row, else b.
    #[test]
    fn blocks_of_every_length_around_the_rows_ahead_add_every_row_once() {
        let (header, columns, codes, keys, opts) = four_columns();
        let parser = parser(&columns, &codes, &keys, &opts, (b',', None));
        let mut ids = Ids::new(Log::new("t.csv".into(), header), &keys);
        let (mut streams, mut inbound) = (HashMap::new(), HashMap::new());
        let mut line = 2;
        let lengths = [0, 1, 16, 47, 48, 49, 50, 100, 130];
        for n in lengths {
            let mut text = String::new();
            for i in 0..n {
                let direction = ["out", "in"][(i % 2 == 0) as usize];
                let account = ["b", "a"][(i % 3 == 0) as usize];
                text += &format!(
                    "2026-03-01T10:00:00Z,+38050123456{},{direction},{account}\n",
                    i % 7
                );
                let next = streams.len() as u32;
                streams.entry((account, i % 7)).or_insert(next);
                *inbound.entry(i % 7).or_insert(0u64) += (i % 2 == 0) as u64;
            }
            let mut rows = parser.parse(&Block::new(line, text.into_bytes()), Vec::new());
            assert_eq!(rows.rows.len(), n);
            ids.add(&mut rows).unwrap();
            line += n as u64;
        }
        let log = &ids.log;
        // 0 + 1 + 16 + 47 + 48 + 49 + 50 + 100 + 130 rows, lines 2 to 442.
        assert_eq!(log.events.len(), 441);
        assert_eq!(log.contacts.len(), 7);
        let mut first = 0;
        for n in lengths {
            for (i, e) in log.events[first..first + n].iter().enumerate() {
                assert_eq!(e.line as usize, 2 + first + i);
                assert_eq!(e.contact as usize, i % 7, "row {i} of a block of {n}");
                let account = ["b", "a"][(i % 3 == 0) as usize];
                assert_eq!(e.stream, streams[&(account, i % 7)], "row {i} of {n}");
            }
            first += n;
        }
        // Inbound rows: half of each block, rounded up.
        assert_eq!(log.inbound_rows, 1 + 8 + 24 + 24 + 25 + 25 + 50 + 65);
        let busiest = (0..7u32).map(|c| (c, inbound[&(c as usize)]));
        let busiest = busiest.max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)));
        assert_eq!(ids.busiest_contact(), busiest);
    }

    #[test]
    fn a_month_met_again_finds_the_cells_it_made_while_new() {
        let (ua, de, gb) = (
            Country::parse("UA"),
            Country::parse("DE"),
            Country::parse("GB"),
        );
        let (Some(ua), Some(de), Some(gb)) = (ua, de, gb) else {
            panic!("known countries")
        };
        let (mut interner, mut log) = (Interner::default(), Log::new("t".into(), Vec::new()));
        let (march, april) = (24314, 24315);
        let rows = [
            (march, ua),
            (march, de),
            (april, ua),
            (march, de),
            (march, ua),
            (march, gb),
        ];
        let cells: Vec<u32> = rows
            .iter()
            .map(|&(month, country)| {
                let am = interner.account_month(&mut log, (0, month));
                interner.cell(&mut log, (0, country, month), am)
            })
            .collect();
        assert_eq!(cells, [0, 1, 2, 1, 0, 3]);
        assert_eq!(log.account_months, [(0, march), (0, april)]);
        assert_eq!(log.cell_account_months, [0, 0, 1, 0]);
    }

    /// Cells past those an account keeps at hand, and months met again after another: each
    /// (account, country, month) one cell, each (account, month) one account-month, numbered
    /// in order of first appearance (checked against a plain numbering by hashes).
    #[test]
    fn cells_and_account_months_are_numbered_once_past_the_kept_ones() {
        let codes = CallingCodes::load();
        let countries: Vec<Country> = ["UA", "DE", "GB", "US", "IN", "BR", "IT", "AE", "KZ", "PL"]
            .map(|c| Country::parse(c).unwrap())
            .into();
        let (mut interner, mut log) = (Interner::default(), Log::new("t".into(), Vec::new()));
        let (mut cells, mut account_months) = (FxHashMap::default(), FxHashMap::default());
        for i in 0..600u32 {
            // 3 accounts, months going back and forth, all ten countries in each.
            let (account, month, country) = (
                i % 3,
                24314 + (i / 7 % 3) as i32,
                countries[(i / 3 % 10) as usize],
            );
            let mut ev = Event {
                at: 0,
                day: 0,
                line: i,
                contact: 0,
                stream: 0,
                cell: 0,
                country,
                direction: Direction::Inbound,
                kind: Kind::FreeForm,
            };
            assert!(codes.is_known(country));
            interner.assign(&mut log, &mut ev, account, month);
            let n = account_months.len() as u32;
            let am = *account_months.entry((account, month)).or_insert(n);
            let n = cells.len() as u32;
            let cell = *cells.entry((account, country, month)).or_insert(n);
            assert_eq!(ev.cell, cell, "row {i}");
            assert_eq!(log.cell_account_months[cell as usize], am, "row {i}");
            assert_eq!(log.cells[cell as usize], (account, country, month));
            assert_eq!(log.account_months[am as usize], (account, month));
        }
        assert_eq!((cells.len(), account_months.len()), (90, 9));
        assert_eq!((log.cells.len(), log.account_months.len()), (90, 9));
    }

    #[test]
    fn header_is_case_insensitive_and_trimmed_and_extra_columns_ignored() {
        let log = read(
            " Timestamp ,CONTACT,direction,notes\n2026-03-01T09:00:00Z,+380501234567,in,hello\n",
        )
        .unwrap();
        assert_eq!(log.events.len(), 1);
        assert_eq!(log.events[0].country.as_str(), "UA");
        assert_eq!(log.events[0].direction, Direction::Inbound);
    }

    #[test]
    fn map_renames_a_field() {
        let log = read_with(
            "sent_at,contact,direction\n2026-03-01T09:00:00Z,+49151123456,out\n",
            &[("timestamp", "sent_at")],
        )
        .unwrap();
        assert_eq!(log.events[0].country.as_str(), "DE");
    }

    #[test]
    fn time_order_is_noted_while_reading() {
        let sorted = "timestamp,contact,direction\n1772356500,+380501234567,in\n1772356500,+380501234568,in\n1772356501,+380501234567,out\n";
        assert!(read(sorted).unwrap().in_time_order);
        let unsorted = "timestamp,contact,direction\n1772356501,+380501234567,in\n1772356500,+380501234567,out\n";
        assert!(!read(unsorted).unwrap().in_time_order);
    }

    #[test]
    fn a_contact_has_one_stream_per_account() {
        // Six accounts: the first four are kept beside the contact, the others in a hash map;
        // an opaque contact goes the same way. Streams are numbered in order of first use.
        let mut text = String::from("timestamp,contact,direction,account,country\n");
        for round in 0..2 {
            for a in ["a", "b", "c", "d", "e", "f"] {
                text += &format!("17723565{round}0,+380501234567,in,{a},\n");
                text += &format!("17723565{round}1,user-7,in,{a},PL\n");
            }
        }
        let log = read(&text).unwrap();
        let streams: Vec<u32> = log.events.iter().map(|e| e.stream).collect();
        let first: Vec<u32> = (0..12).collect();
        assert_eq!(streams[..12], first);
        assert_eq!(streams[12..], first);
        assert_eq!(log.streams, 12);
    }

    /// Runs of one number (a log grouped by contact) take the run's contact and stream, and
    /// count each inbound row once, whether the row was found ahead, taken from the run, or
    /// is the run's first. Two blocks, worked by hand (Y = ...560, X = ...561):
    /// block 1, 20 rows: Y at rows 0-2 (out, in, in; account a), then X at rows 3-19,
    /// inbound at odd rows (9), in account a to row 10, b at rows 11-14, a again from 15;
    /// block 2, 26 rows: X at rows 0-19 (the run goes on across the block's end), account b,
    /// inbound but at rows 3, 7, 11, 15, 19 (15; rows 16-19 are found ahead, the first 16
    /// are not), then Y at rows 20-25, account b, inbound at row 25 only.
    /// Contacts by first appearance: Y 0, X 1. Streams by first use: (a, Y) 0, (a, X) 1,
    /// (b, X) 2, (b, Y) 3. Inbound: Y 2 + 1 = 3, X 9 + 15 = 24 (after block 1: 9).
    #[test]
    fn a_run_of_one_number_counts_each_inbound_row_once_across_blocks_and_accounts() {
        let (header, columns, codes, keys, opts) = four_columns();
        let parser = parser(&columns, &codes, &keys, &opts, (b',', None));
        let mut ids = Ids::new(Log::new("t.csv".into(), header), &keys);
        let (y, x) = ("+380501234560", "+380501234561");
        let block = |first_line: u64, rows: &[(&str, bool, &str)]| {
            let text: String = (rows.iter())
                .map(|(number, inbound, account)| {
                    let direction = ["out", "in"][*inbound as usize];
                    format!("2026-03-01T10:00:00Z,{number},{direction},{account}\n")
                })
                .collect();
            parser.parse(&Block::new(first_line, text.into_bytes()), Vec::new())
        };
        let mut first = vec![(y, false, "a"), (y, true, "a"), (y, true, "a")];
        for i in 3..20 {
            let account = if (11..=14).contains(&i) { "b" } else { "a" };
            first.push((x, i % 2 == 1, account));
        }
        let mut second: Vec<_> = (0..20).map(|i| (x, i % 4 != 3, "b")).collect();
        second.extend((20..26).map(|i| (y, i == 25, "b")));
        ids.add(&mut block(2, &first)).unwrap();
        assert_eq!(
            ids.busiest_contact(),
            Some((1, 9)),
            "counted at the block's end"
        );
        ids.add(&mut block(22, &second)).unwrap();
        let log = &ids.log;
        assert_eq!(log.contacts.len(), 2);
        assert_eq!(log.contacts.number(1), Some(380_501_234_561));
        let got: Vec<(u32, u32)> = log.events.iter().map(|e| (e.contact, e.stream)).collect();
        let mut expected = vec![(0, 0); 3];
        expected.extend((3..20).map(|i| (1, 1 + (11..=14).contains(&i) as u32)));
        expected.extend([(1, 2); 20]);
        expected.extend([(0, 3); 6]);
        assert_eq!(got, expected);
        assert_eq!(log.streams, 4);
        assert_eq!(log.inbound_rows, 27);
        assert_eq!(ids.busiest_contact(), Some((1, 24)));
    }

    /// A run broken by an opaque contact goes on after it: X in, user-7 in, X in, X out.
    /// Contacts X 0, user-7 1; streams 0, 1, 0, 0; inbound X 2, user-7 1: busiest X with 2.
    #[test]
    fn a_run_goes_on_past_an_opaque_contact() {
        let text = "timestamp,contact,direction,country\n\
            1772356500,+380501234561,in,\n\
            1772356501,user-7,in,PL\n\
            1772356502,+380501234561,in,\n\
            1772356503,+380501234561,out,\n";
        let log = read(text).unwrap();
        let got: Vec<(u32, u32)> = log.events.iter().map(|e| (e.contact, e.stream)).collect();
        assert_eq!(got, [(0, 0), (1, 1), (0, 0), (0, 0)]);
        assert_eq!(log.inbound_rows, 3);
        assert_eq!(log.busiest_contact, Some((0, 2)));
    }

    /// 48 rows of three numbers in turn (a block: each row's contact found 16 rows ahead
    /// but the first 16's), account a then b, inbound when the row's index i (from 0) is
    /// 1 mod 3 or a multiple of 9. Worked by hand: contacts 0, 1, 2 by first appearance;
    /// streams 0-2 in a, 3-5 in b (stream of row i: i mod 3, plus 3 from row 24); inbound
    /// rows: 16 of contact 1 (i mod 3 = 1) and 6 of contact 0 (i = 0, 9, 18, 27, 36, 45),
    /// 22 in all: the busiest contact is 1 with 16, each row counted once.
    #[test]
    fn contacts_found_ahead_get_their_streams_and_inbound_rows_once() {
        let mut text = String::from("timestamp,contact,direction,account\n");
        for i in 0..48u64 {
            let inbound = i % 3 == 1 || i % 9 == 0;
            let (number, direction) = (380_501_234_560 + i % 3, ["out", "in"][inbound as usize]);
            let account = ["a", "b"][(i >= 24) as usize];
            text += &format!("{},+{number},{direction},{account}\n", 1_772_356_500 + i);
        }
        let log = read(&text).unwrap();
        assert_eq!(log.contacts.len(), 3);
        for (i, e) in log.events.iter().enumerate() {
            assert_eq!(e.contact, i as u32 % 3, "row {i}");
            assert_eq!(e.stream, i as u32 % 3 + 3 * (i >= 24) as u32, "row {i}");
        }
        assert_eq!(log.contacts.number(1), Some(380_501_234_561));
        assert_eq!(log.streams, 6);
        assert_eq!(log.inbound_rows, 22);
        assert_eq!(log.busiest_contact, Some((1, 16)));
    }

    /// Thousands of numbers (the number table grows several times, numbers sharing home
    /// slots), met again 1 to hundreds of rows later, so that a row's contact is found ahead
    /// or not yet made when asked; some contacts in three accounts (the third's stream by
    /// hash), opaque contacts among them. Contacts, streams, inbound rows and the busiest
    /// contact as a plain count by hash maps gives them.
    #[test]
    fn contacts_streams_and_inbound_rows_agree_with_a_plain_count() {
        let mut text = String::from("timestamp,contact,direction,account,country\n");
        let (mut contacts, mut streams) = (HashMap::new(), HashMap::new());
        let mut inbound: HashMap<u32, u64> = HashMap::new();
        let mut expected = Vec::new();
        let mut x = 12_345u64;
        for i in 0..20_000u64 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Numbers seen so far, or a new one now and then: repeats at every distance.
            let j = (x >> 33) % (i / 5 + 1).min(4_000);
            let contact = match j % 50 {
                49 => format!("user-{j}"),
                _ => format!("+{}", 380_500_000_000 + j * 7_919 % 1_000_000),
            };
            let account = if j.is_multiple_of(7) { i % 3 } else { j % 4 };
            let is_in = (x >> 20) & 3 == 0;
            let direction = ["out", "in"][is_in as usize];
            text += &format!(
                "{},{contact},{direction},acc{account},PL\n",
                1_772_356_500 + i
            );
            let n = contacts.len() as u32;
            let c = *contacts.entry(contact).or_insert(n);
            let n = streams.len() as u32;
            expected.push((c, *streams.entry((account, c)).or_insert(n)));
            *inbound.entry(c).or_default() += is_in as u64;
        }
        let log = read(&text).unwrap();
        let got: Vec<(u32, u32)> = log.events.iter().map(|e| (e.contact, e.stream)).collect();
        assert_eq!(got, expected);
        assert_eq!(log.contacts.len(), contacts.len());
        assert!(contacts.len() > 3_000, "{}", contacts.len());
        // The busiest is a number (the first contact, met most): its count is the table's.
        assert!(log
            .contacts
            .number(busiest_expected(&inbound).unwrap().0)
            .is_some());
        assert_eq!(log.busiest_contact, busiest_expected(&inbound));
    }

    /// The contact with the most inbound rows in `inbound` (the lower id on a tie).
    fn busiest_expected(inbound: &HashMap<u32, u64>) -> Option<(u32, u64)> {
        (inbound
            .iter()
            .map(|(&c, &n)| (c, n))
            .filter(|&(_, n)| n > 0))
        .max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)))
    }

    #[test]
    fn one_contact_in_many_spellings() {
        let log = read("timestamp,contact,direction\n1772356500,+380 50 123 4567,in\n1772356501,00380501234567,out\n1772356502,380-50-123-45-67,out\n").unwrap();
        assert_eq!(log.contacts.len(), 1);
        assert!(log.events.iter().all(|e| e.contact == 0));
        assert_eq!(log.find_contact("+380 (50) 1234567"), Some(0));
    }

    #[test]
    fn opaque_id_needs_a_country() {
        let ok = read("timestamp,contact,direction,country\n1772356500,user-7,in,pl\n").unwrap();
        assert_eq!(ok.events[0].country.as_str(), "PL");
        let e = read("timestamp,contact,direction\n1772356500,user-7,in\n").unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2: no country column value and no country can be derived from the contact (user-7)");
    }

    #[test]
    fn bad_rows_name_file_line_and_value() {
        let e = read("timestamp,contact,direction\n1772356500,+380501234567,in\n1772356500,+380501234567,sideways\n").unwrap_err();
        assert_eq!(e.to_string(), "t.csv:3: unknown direction (sideways); use in/inbound/mo/user/customer or out/outbound/mt/business");
        let e = read("timestamp,contact,direction\nnoon,+380501234567,in\n").unwrap_err();
        assert!(e.to_string().starts_with("t.csv:2: not a timestamp"), "{e}");
        assert!(e.to_string().ends_with("(noon)"), "{e}");
        let e = read("timestamp,contact,direction,kind\n1772356500,+380501234567,out,fax\n")
            .unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2: unknown kind (fax)");
        let e = read("timestamp,contact\n1772356500,+380501234567\n").unwrap_err();
        assert!(e
            .to_string()
            .starts_with("t.csv:1: missing required column (direction)"));
        let e = read("timestamp,contact,direction,country\n1772356500,x,in,ZZ\n").unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2: unknown country code (ZZ)");
        assert_eq!(e.exit_code(), crate::error::exit::INPUT);
    }

    #[test]
    fn status_entry_point_and_business_number_are_read() {
        let log = read(
            "timestamp,contact,direction,kind,status,entry_point,business_number\n\
            1772356500,+380501234567,in,,received,ad-123,+1 555 0100\n\
            1772356501,+380501234567,out,utility,FAILED,,15550100\n\
            1772356502,+380501234567,out,utility,read,,\n\
            1772356503,+380501234568,in,,,,\n",
        )
        .unwrap();
        let kinds: Vec<Kind> = log.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::EntryPoint,
                Kind::NotDelivered,
                Kind::Utility,
                Kind::FreeForm
            ]
        );
        // Two spellings of one number: one business number, on the first stream only.
        assert_eq!(log.business_numbers, ["+15550100"]);
        assert_eq!(log.business_number_of_stream(0), Some("+15550100"));
        assert_eq!(log.business_number_of_stream(1), None);
        assert_eq!(log.business_number_changes, 0);
        let e = read("timestamp,contact,direction,status\n1772356500,+380501234567,out,queued\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv:2: unknown status (queued)"),
            "{e}"
        );
    }

    #[test]
    fn batches_carry_the_business_numbers_of_their_streams() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.csv");
        std::fs::write(
            &path,
            "timestamp,contact,direction,business_number\n\
             1772356500,+380501234567,in,\n\
             1772356501,+380501234567,out,+1 555 0100\n\
             1772356502,+380501234568,in,+1 555 0199\n",
        )
        .unwrap();
        let (mut names, mut pairs) = (Vec::new(), Vec::new());
        let opts = ReadOptions {
            threads: 2,
            ..ReadOptions::default()
        };
        let log = read_log_in_batches(
            path.to_str().unwrap(),
            &opts,
            &Recycle::default(),
            Unordered::Stop,
            &mut |b| {
                names.extend(b.business_numbers);
                pairs.extend(b.stream_business_numbers);
            },
        )
        .unwrap();
        assert_eq!(names, ["+15550100", "+15550199"]);
        assert_eq!(pairs, [(0, 0), (1, 1)]);
        assert_eq!(log.business_number_of_stream(1), Some("+15550199"));
    }

    #[test]
    fn kind_is_ignored_on_inbound_rows() {
        let log = read("timestamp,contact,direction,kind\n1772356500,+380501234567,in,whatever\n")
            .unwrap();
        assert_eq!(log.events[0].kind, Kind::FreeForm);
    }

    #[test]
    fn skip_invalid_keeps_the_reason() {
        let opts = ReadOptions {
            tz: chrono_tz::UTC,
            map: vec![],
            skip_invalid: true,
            threads: 2,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            accounts: None,
            ..ReadOptions::default()
        };
        let log = read_from(
            "t.csv".into(),
            "timestamp,contact,direction\n1772356500,+380501234567,in\nbad,+380501234567,in\n"
                .as_bytes(),
            &opts,
        )
        .unwrap();
        assert_eq!(log.rows, 2);
        assert_eq!(log.events.len(), 1);
        assert_eq!(log.rejects.len(), 1);
        assert_eq!(log.rejects[0].line, 3);
        assert!(log.rejects[0].reason.contains("(bad)"));
    }

    #[test]
    fn an_unclosed_quote_in_the_header_and_a_long_quoted_record_are_named() {
        let e = read("\"timestamp,contact,direction\n1772356500,+380501234567,in\n").unwrap_err();
        assert!(e.to_string().starts_with("t.csv:1: unclosed quote"), "{e}");
        // A record over the bound inside a block that has quotes (read by the csv crate).
        let opts = ReadOptions {
            tz: chrono_tz::UTC,
            map: vec![],
            skip_invalid: true,
            threads: 2,
            max_record_bytes: 60,
            accounts: None,
            ..ReadOptions::default()
        };
        let text = "timestamp,contact,direction,note\n1772356500,+380501234567,in,\"a\"\n1772356501,+380501234567,in,\"a\nlong note on two lines, over sixty bytes\"\n";
        let e = read_from("t.csv".into(), text.as_bytes(), &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:3: record longer than 60 bytes (--max-record-bytes raises the bound)"
        );
    }

    /// A format of the user's own is the only way timestamps are read: a value the fast form
    /// reads too (as March 11) is read by the format (as November 3).
    #[test]
    fn a_timestamp_format_is_never_bypassed() {
        let opts = ReadOptions {
            tz: chrono_tz::UTC,
            map: vec![],
            skip_invalid: false,
            threads: 1,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            export: ExportOptions {
                timestamp_format: Some("%Y-%d-%mT%H:%M:%SZ".into()),
                ..ExportOptions::default()
            },
            ..ReadOptions::default()
        };
        let text = "timestamp,contact,direction\n2026-03-11T09:22:00Z,+380501234567,in\n";
        let log = read_from("t.csv".into(), text.as_bytes(), &opts).unwrap();
        // 2026-11-03T09:22:00Z (see timestamp.rs, NOV_3).
        assert_eq!(log.events[0].at, 1_793_697_720 * 1_000_000);
    }

    /// A webhook log of one status or message a line: `sent` of m0..m29 (lines 1-30, ten
    /// seconds apart), their second statuses (lines 31-60, two seconds after: `delivered`,
    /// or `second(k)`), then ten customer messages (lines 61-70).
    fn webhook(second: impl Fn(usize) -> &'static str) -> String {
        let line = |value: String| {
            format!(
                r#"{{"entry":[{{"id":"W","changes":[{{"value":{{"metadata":{{"display_phone_number":"155"}},{value}}}}}]}}]}}"#
            ) + "\n"
        };
        let status = |k: usize, status: &str, at: usize| {
            line(format!(
                r#""statuses":[{{"id":"m{k}","status":"{status}","timestamp":"{at}","recipient_id":"3805011100{k:02}","pricing":{{"category":"utility"}}}}]"#
            ))
        };
        let t0 = 1_772_438_700;
        let mut text = String::new();
        for k in 0..30 {
            text += &status(k, "sent", t0 + 10 * k);
        }
        for k in 0..30 {
            text += &status(k, second(k), t0 + 10 * k + 2);
        }
        for k in 0..10 {
            text += &line(format!(
                r#""messages":[{{"from":"3805011101{k:02}","id":"i{k}","timestamp":"{}"}}]"#,
                t0 + 300 + k
            ));
        }
        text
    }

    fn read_webhook_in(text: &str, chunk: usize, threads: usize, skip: bool) -> Result<Log> {
        let opts = ReadOptions {
            source: Some(Source::load("meta-webhook").unwrap()),
            skip_invalid: skip,
            threads,
            ..ReadOptions::default()
        };
        read_webhook("t.jsonl".into(), (text.as_bytes(), chunk), &opts, None)
    }

    #[test]
    fn webhook_messages_read_on_several_threads_are_those_of_one_pass() {
        let text = webhook(|_| "delivered");
        let one = read_webhook_in(&text, 1 << 20, 1, false).unwrap();
        // 70 items, 40 messages (m0..m29 of two statuses each, ten customer messages), in
        // file order of their first line: m_k on line k + 1, i_k on line 61 + k.
        assert_eq!((one.rows, one.rows_merged, one.events.len()), (70, 30, 40));
        let lines: Vec<u32> = one.events.iter().map(|e| e.line).collect();
        let want: Vec<u32> = (1..=30).chain(61..=70).collect();
        assert_eq!(lines, want);
        assert_eq!(one.events[29].at, (1_772_438_700 + 290) * 1_000_000);
        assert_eq!(one.header, ["payload"]);
        // Chunks of a line or less up to a few lines: many groups of chunks, on 1-3 threads.
        for chunk in [64, 300, 1000, 5000] {
            for threads in 1..=3 {
                let log = read_webhook_in(&text, chunk, threads, false).unwrap();
                let got = (log.rows, log.rows_merged, format!("{:?}", log.events));
                let want = (one.rows, one.rows_merged, format!("{:?}", one.events));
                assert_eq!(got, want, "chunks of {chunk} bytes, {threads} threads");
            }
        }
    }

    #[test]
    fn a_bad_webhook_message_is_named_by_its_first_line_on_any_thread() {
        // m17's later status (line 48) is no status: the message is m17's, its line its
        // earliest item's (18).
        let text = webhook(|k| if k == 17 { "exploded" } else { "delivered" });
        for chunk in [64, 1000, 1 << 20] {
            for threads in 1..=3 {
                let at = format!("chunks of {chunk} bytes, {threads} threads");
                match read_webhook_in(&text, chunk, threads, false) {
                    Err(Error::Input { file, line, msg }) => {
                        assert_eq!((file.as_str(), line), ("t.jsonl", 18), "{at}");
                        assert!(msg.starts_with("unknown status (exploded)"), "{msg}");
                    }
                    other => panic!("{at}: {other:?}"),
                }
                let log = read_webhook_in(&text, chunk, threads, true).unwrap();
                assert_eq!((log.rows, log.events.len()), (70, 39), "{at}");
                let rejects: Vec<u64> = log.rejects.iter().map(|r| r.line).collect();
                assert_eq!(rejects, [18], "{at}");
            }
        }
    }

    #[test]
    fn a_line_end_in_a_webhook_field_moves_no_later_line() {
        // m3's contact holds a line end (written as CSV, a quoted field over two lines: the
        // rows after it were named one line late before the rows were given field by field).
        let text = webhook(|k| if k == 17 { "exploded" } else { "delivered" }).replace(
            r#""recipient_id":"380501110003""#,
            r#""recipient_id":"12\n34""#,
        );
        for chunk in [64, 1 << 20] {
            let log = read_webhook_in(&text, chunk, 2, true).unwrap();
            let rejects: Vec<(u64, &str)> = (log.rejects.iter())
                .map(|r| (r.line, &r.reason[..20]))
                .collect();
            assert_eq!(
                rejects,
                [(4, "no country column va"), (18, "unknown status (expl")]
            );
            // the messages after them keep their own lines (m4 on line 5, i0 on line 61)
            assert_eq!((log.events[3].line, log.events[28].line), (5, 61));
        }
    }
}
