use super::phone::{self, CallingCodes};
use super::timestamp;
use crate::error::{Error, Result};
use crate::event::{Country, Direction, Event, Kind};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use std::io::Read;

/// The fields simcost reads, in the order of `FIELDS`.
const FIELDS: [&str; 6] = [
    "timestamp",
    "contact",
    "direction",
    "country",
    "kind",
    "account",
];
const REQUIRED: [bool; 6] = [true, true, true, false, false, false];
const TS: usize = 0;
const CONTACT: usize = 1;
const DIRECTION: usize = 2;
const COUNTRY: usize = 3;
const KIND: usize = 4;
const ACCOUNT: usize = 5;

pub struct ReadOptions {
    pub tz: Tz,
    /// `--map field=column`: the column to read a field from.
    pub map: Vec<(String, String)>,
    pub skip_invalid: bool,
}

/// A row skipped under `--skip-invalid`, kept with its reason for `--rejects`.
#[derive(Debug)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
    pub fields: Vec<String>,
}

/// The log, read and resolved: events in input order plus the interned names.
#[derive(Debug)]
pub struct Log {
    pub file: String,
    pub header: Vec<String>,
    pub events: Vec<Event>,
    pub accounts: Vec<String>,
    pub contacts: Vec<String>,
    pub rows: u64,
    pub rejects: Vec<Reject>,
    /// Contacts whose country came from the phone number rather than a `country` column.
    pub countries_derived: u64,
    /// Number of distinct (account, contact) streams.
    pub streams: u32,
    /// `Event::cell` -> (account, country, month).
    pub cells: Vec<(u32, Country, i32)>,
    /// `Event::account_month` -> (account, month).
    pub account_months: Vec<(u32, i32)>,
}

impl Log {
    pub fn account_name(&self, id: u32) -> &str {
        &self.accounts[id as usize]
    }
    pub fn contact_name(&self, id: u32) -> &str {
        &self.contacts[id as usize]
    }
    /// The contact id of a number or id as the user typed it (`explain --contact`).
    pub fn find_contact(&self, raw: &str) -> Option<u32> {
        let key = phone::normalize(raw)
            .map(|d| format!("+{d}"))
            .unwrap_or_else(|| raw.trim().to_string());
        self.contacts
            .iter()
            .position(|c| *c == key)
            .map(|i| i as u32)
    }
}

/// Reads a log from `path` (`None` or `-`: standard input).
pub fn read_log(path: Option<&str>, opts: &ReadOptions) -> Result<Log> {
    let mut progress = None;
    let (name, reader): (String, Box<dyn Read + Send>) = match path {
        None | Some("-") => ("<stdin>".into(), Box::new(std::io::stdin())),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::Input {
                file: p.to_string(),
                line: 0,
                msg: format!("cannot open ({e})"),
            })?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let reader = std::io::BufReader::with_capacity(1 << 20, f);
            if size >= PROGRESS_FROM_BYTES {
                let bar = progress_bar(size);
                progress = Some(bar.clone());
                (p.to_string(), Box::new(bar.wrap_read(reader)))
            } else {
                (p.to_string(), Box::new(reader))
            }
        }
    };
    let log = read_from(name, reader, opts);
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
    let err = |line: u64, msg: String| Error::Input {
        file: file.clone(),
        line,
        msg,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);

    let mut rec = csv::ByteRecord::new();
    let header_read = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| err(csv_line(&e), format!("cannot read CSV ({e})")))?;
    if !header_read {
        return Err(err(0, "empty file: a header row is required".into()));
    }
    let header: Vec<String> = rec
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
    let columns = locate_columns(&header, &opts.map).map_err(|m| err(1, m))?;

    let codes = CallingCodes::load();
    let mut st = State {
        codes,
        contact_ids: FxHashMap::default(),
        contact_country: Vec::new(),
        account_ids: FxHashMap::default(),
        log: Log {
            file: file.clone(),
            header: header.clone(),
            events: Vec::new(),
            accounts: Vec::new(),
            contacts: Vec::new(),
            rows: 0,
            rejects: Vec::new(),
            countries_derived: 0,
            streams: 0,
            cells: Vec::new(),
            account_months: Vec::new(),
        },
        ids: Interner::default(),
    };
    // The default account, used when the column is absent or empty.
    st.account_id("");

    // Two stages on two cores: a thread splits the CSV into records (batches recycled, so no
    // allocation per row) while this one turns them into events, in input order.
    let row = |st: &mut State, rec: &csv::ByteRecord| -> Result<()> {
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        st.log.rows += 1;
        let result = if rec.len() != header.len() {
            Err(format!(
                "row has {} fields, the header has {} (ragged row)",
                rec.len(),
                header.len()
            ))
        } else {
            st.event(rec, &columns, line, opts.tz)
        };
        match result {
            Ok(mut ev) => {
                st.ids.assign(&mut st.log, &mut ev);
                st.log.events.push(ev);
                Ok(())
            }
            Err(msg) if opts.skip_invalid => {
                st.log.rejects.push(Reject {
                    line,
                    reason: msg,
                    fields: rec
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect(),
                });
                Ok(())
            }
            Err(msg) => Err(err(line, msg)),
        }
    };
    const BATCH: usize = 4096;
    type Batch = (Vec<csv::ByteRecord>, usize);
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::result::Result<Batch, csv::Error>>(8);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
        scope.spawn(move || loop {
            let mut batch = back_rx
                .try_recv()
                .unwrap_or_else(|_| vec![csv::ByteRecord::new(); BATCH]);
            let mut n = 0;
            let mut failed = None;
            while n < BATCH {
                match rdr.read_byte_record(&mut batch[n]) {
                    Ok(true) => n += 1,
                    Ok(false) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let done = n < BATCH;
            // A closed channel means the consumer stopped at a bad row: stop reading.
            if tx.send(Ok((batch, n))).is_err() {
                return;
            }
            if let Some(e) = failed {
                let _ = tx.send(Err(e));
                return;
            }
            if done {
                return;
            }
        });
        for msg in rx {
            let (batch, n) =
                msg.map_err(|e| err(csv_line(&e), format!("cannot read CSV ({e})")))?;
            for rec in &batch[..n] {
                row(&mut st, rec)?;
            }
            let _ = back_tx.send(batch);
        }
        Ok(())
    })?;
    if st.log.rows == 0 {
        return Err(err(0, "no rows after the header".into()));
    }
    let mut log = st.log;
    number_accounts_by_name(&mut log);
    Ok(log)
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
    for ev in &mut log.events {
        ev.account = new_id[ev.account as usize];
    }
    for c in &mut log.cells {
        c.0 = new_id[c.0 as usize];
    }
    for am in &mut log.account_months {
        am.0 = new_id[am.0 as usize];
    }
}

/// A cell as an error message shows it: control characters (a NUL, a stray CR) escaped, so
/// that what is wrong is visible.
fn shown(v: &str) -> std::borrow::Cow<'_, str> {
    if v.chars().any(char::is_control) {
        v.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        v.into()
    }
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map(|p| p.line()).unwrap_or(0)
}

/// The column index of each field, or why the header will not do.
fn locate_columns(
    header: &[String],
    map: &[(String, String)],
) -> std::result::Result<[Option<usize>; 6], String> {
    let mut wanted: [String; 6] = FIELDS.map(str::to_string);
    for (field, column) in map {
        let i = FIELDS
            .iter()
            .position(|f| f.eq_ignore_ascii_case(field.trim()))
            .ok_or_else(|| {
                format!(
                    "--map names an unknown field ({field}); fields are {}",
                    FIELDS.join(", ")
                )
            })?;
        wanted[i] = column.trim().to_string();
    }
    let mut cols = [None; 6];
    for (i, name) in wanted.iter().enumerate() {
        let hits: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.eq_ignore_ascii_case(name))
            .map(|(j, _)| j)
            .collect();
        match hits.len() {
            0 if REQUIRED[i] => {
                return Err(format!(
                    "missing required column ({name}); the header is: {}",
                    header.join(",")
                ))
            }
            0 => {}
            1 => cols[i] = Some(hits[0]),
            _ => return Err(format!("duplicated column ({name})")),
        }
    }
    Ok(cols)
}

struct State {
    codes: CallingCodes,
    contact_ids: FxHashMap<Box<str>, u32>,
    /// The country derived from each contact's number, when it is a number.
    contact_country: Vec<Option<Country>>,
    account_ids: FxHashMap<Box<str>, u32>,
    log: Log,
    ids: Interner,
}

/// Dense ids for streams, report cells and account-months, given in order of first appearance.
#[derive(Default)]
pub struct Interner {
    /// Each contact's stream in the first account it was seen in (most contacts have one):
    /// a vector index instead of a hash lookup per event.
    first_stream: Vec<(u32, u32)>,
    streams: FxHashMap<u64, u32>,
    cells: FxHashMap<(u32, Country, i32), u32>,
    account_months: FxHashMap<(u32, i32), u32>,
}

impl Interner {
    /// Fills `ev.stream`, `ev.cell` and `ev.account_month`, extending `log`'s tables.
    pub fn assign(&mut self, log: &mut Log, ev: &mut Event) {
        let c = ev.contact as usize;
        if c >= self.first_stream.len() {
            self.first_stream.resize(c + 1, (u32::MAX, 0));
        }
        let (account, stream) = self.first_stream[c];
        if account == ev.account {
            ev.stream = stream;
        } else {
            let key = ((ev.account as u64) << 32) | ev.contact as u64;
            let n = log.streams;
            ev.stream = *self.streams.entry(key).or_insert(n);
            if ev.stream == n {
                log.streams += 1;
            }
            if account == u32::MAX {
                self.first_stream[c] = (ev.account, ev.stream);
            }
        }
        let cell = (ev.account, ev.country, ev.month);
        ev.cell = *self.cells.entry(cell).or_insert_with(|| {
            log.cells.push(cell);
            log.cells.len() as u32 - 1
        });
        let am = (ev.account, ev.month);
        ev.account_month = *self.account_months.entry(am).or_insert_with(|| {
            log.account_months.push(am);
            log.account_months.len() as u32 - 1
        });
    }
}

impl State {
    fn account_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.account_ids.get(name) {
            return id;
        }
        let id = self.log.accounts.len() as u32;
        self.log.accounts.push(name.to_string());
        self.account_ids.insert(name.into(), id);
        id
    }

    /// The contact id for a raw cell; a new contact is normalized and resolved once.
    fn contact_id(&mut self, raw: &str) -> u32 {
        if let Some(&id) = self.contact_ids.get(raw) {
            return id;
        }
        let (key, country) = match phone::normalize(raw) {
            Some(d) => {
                let c = self.codes.country_of(&d);
                (format!("+{d}"), c)
            }
            None => (raw.trim().to_string(), None),
        };
        // Another spelling of a number already seen is the same contact.
        let id = match self.contact_ids.get(key.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.log.contacts.len() as u32;
                self.log.contacts.push(key.clone());
                self.contact_country.push(country);
                self.contact_ids.insert(key.into(), id);
                id
            }
        };
        self.contact_ids.insert(raw.into(), id);
        id
    }

    fn event(
        &mut self,
        rec: &csv::ByteRecord,
        cols: &[Option<usize>; 6],
        line: u64,
        tz: Tz,
    ) -> std::result::Result<Event, String> {
        let field = |i: usize| -> std::result::Result<&str, String> {
            match cols[i] {
                None => Ok(""),
                Some(c) => std::str::from_utf8(&rec[c])
                    .map(str::trim)
                    .map_err(|_| format!("{} is not valid UTF-8", FIELDS[i])),
            }
        };
        let ts_raw = field(TS)?;
        let at = timestamp::parse(ts_raw, tz).map_err(|m| format!("{m} ({})", shown(ts_raw)))?;
        let dir_raw = field(DIRECTION)?;
        let direction = Direction::parse(dir_raw).ok_or_else(|| {
            format!("unknown direction ({}); use in/inbound/mo/user/customer or out/outbound/mt/business", shown(dir_raw))
        })?;
        let kind = match direction {
            Direction::Inbound => Kind::FreeForm,
            Direction::Outbound => {
                let k = field(KIND)?;
                Kind::parse(k).ok_or_else(|| format!("unknown kind ({})", shown(k)))?
            }
        };
        let contact_raw = field(CONTACT)?;
        if contact_raw.is_empty() {
            return Err("empty contact".into());
        }
        if contact_raw.len() > 256 {
            return Err(format!(
                "contact is {} bytes long (at most 256)",
                contact_raw.len()
            ));
        }
        let country_raw = field(COUNTRY)?;
        let contact = self.contact_id(contact_raw);
        let country = if country_raw.is_empty() {
            self.log.countries_derived += 1;
            self.contact_country[contact as usize].ok_or_else(|| {
                format!("no country column value and no country can be derived from the contact ({contact_raw})")
            })?
        } else {
            Country::parse(country_raw)
                .filter(|c| self.codes.is_known(*c))
                .ok_or_else(|| format!("unknown country code ({})", shown(country_raw)))?
        };
        let account_raw = field(ACCOUNT)?;
        let account = self.account_id(account_raw);
        let (month, day) = timestamp::local_month_day(at, tz);
        Ok(Event {
            at,
            month,
            day,
            line,
            account,
            contact,
            stream: 0,
            cell: 0,
            account_month: 0,
            country,
            direction,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        read_from("t.csv".into(), text.as_bytes(), &opts)
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
}
