//! Exports read into the log's own fields: a source profile's or `--map`'s column names, value
//! maps (`--map-value`, a profile's `[values]`), a date and a time column read as one
//! timestamp, the customer's column chosen by direction, and rows sharing an `id` made one
//! message. The result is the canonical CSV (`rows::FIELDS`, in order) with, for each of its
//! lines, the line of the export it came from; the fast reader then reads it as any log.
//!
//! Only a log that needs it comes here (a profile, a value map, an export field, an `id`
//! column); it is held in memory whole, and read about as fast as a log twice.

use super::rows::{FIELDS, N_FIELDS, REQUIRED};
use super::source::{self, squash, EXPORT_FIELDS};
use super::{shown, timestamp, ReadOptions, Reject};
use crate::error::{Error, Result};
use crate::event::Direction;
use rustc_hash::FxHashMap;

const ID: usize = 0;
const DATE: usize = 1;
const TIME: usize = 2;
const CONTACT_IN: usize = 3;
const CONTACT_OUT: usize = 4;
const N_EXPORT: usize = EXPORT_FIELDS.len();

const TS: usize = 0;
const CONTACT: usize = 1;
const DIRECTION: usize = 2;
const STATUS: usize = 6;

/// A row's canonical fields and its message id.
type Row = ([String; N_FIELDS], String);

/// Value maps by field (`rows::FIELDS` order): each (value in lower case, value read).
pub type Values = Vec<Vec<(String, String)>>;

/// Where an export's fields are, and how its values are renamed.
pub struct Plan {
    cols: [Option<usize>; N_FIELDS],
    extra: [Option<usize>; N_EXPORT],
    values: Values,
    header_len: usize,
}

/// The export in canonical form.
pub struct Normalised {
    pub csv: Vec<u8>,
    /// The export's line of each canonical line (index 1 is the header).
    pub lines: Vec<u32>,
    pub rejects: Vec<Reject>,
    /// Records of the export (rows of one id counted each).
    pub records: u64,
    /// Rows folded into an earlier row of the same message id.
    pub merged: u64,
}

/// The value maps of a profile and of `--map-value` (which comes first: the user's word wins).
pub fn value_maps(opts: &ReadOptions) -> Result<Values> {
    let mut values: Values = vec![Vec::new(); N_FIELDS];
    for (field, from, to) in &opts.map_values {
        let i = source::field_index(field).ok_or_else(|| {
            Error::Usage(format!(
                "--map-value {field}:{from}={to}: unknown field; fields are {}",
                FIELDS.join(", ")
            ))
        })?;
        values[i].push((from.trim().to_lowercase(), to.trim().to_string()));
    }
    if let Some(src) = &opts.source {
        for (field, map) in &src.values {
            let i = source::field_index(field).unwrap_or(0); // checked on load
            for (from, to) in map {
                values[i].push((from.trim().to_lowercase(), to.clone()));
            }
        }
    }
    Ok(values)
}

/// A value renamed by its field's map (compared in any case).
pub fn renamed<'v>(values: &'v [(String, String)], v: &'v str) -> &'v str {
    if values.is_empty() {
        return v;
    }
    values
        .iter()
        .find(|(from, _)| from.eq_ignore_ascii_case(v))
        .map_or(v, |(_, to)| to.as_str())
}

impl Plan {
    /// The plan for a log with this header; `None` when it is read as it is.
    pub fn new(header: &[String], opts: &ReadOptions) -> Result<Option<Plan>> {
        let export_field = |f: &str| {
            EXPORT_FIELDS
                .iter()
                .any(|e| e.eq_ignore_ascii_case(f.trim()))
        };
        let needed = opts.source.is_some()
            || !opts.map_values.is_empty()
            || opts.map.iter().any(|(f, _)| export_field(f))
            || header.iter().any(|h| squash(h) == "id");
        if !needed {
            return Ok(None);
        }
        // A log field and `id` are looked for under their own names too; the other export
        // fields only where a profile or `--map` names their columns (a log may well have a
        // `date` column beside its timestamp).
        let mut wanted: Vec<Option<Vec<String>>> = (FIELDS.iter().chain(&EXPORT_FIELDS))
            .enumerate()
            .map(|(i, f)| {
                let listed = opts.source.as_ref().and_then(|s| s.columns.get(*f));
                match listed {
                    Some(n) => Some(n.list()),
                    None if i <= N_FIELDS + ID => Some(vec![f.to_string()]),
                    None => None,
                }
            })
            .collect();
        let mut mapped = vec![false; wanted.len()];
        for (field, column) in &opts.map {
            let usage = |m: String| Error::Usage(format!("--map {field}={column}: {m}"));
            let i = (FIELDS.iter().chain(&EXPORT_FIELDS))
                .position(|f| f.eq_ignore_ascii_case(field.trim()))
                .ok_or_else(|| {
                    usage(format!(
                        "unknown field; fields are {}",
                        source::all_fields()
                    ))
                })?;
            if std::mem::replace(&mut mapped[i], true) {
                return Err(usage("the field is mapped twice".into()));
            }
            let column = column.trim();
            if column.is_empty() && i < N_FIELDS && REQUIRED[i] {
                return Err(usage("a required field cannot be left out".into()));
            }
            if !column.is_empty() && find(header, &[column.to_string()]).is_none() {
                return Err(usage(format!(
                    "the log has no column {}; its header is: {}",
                    shown(column),
                    shown(&header.join(","))
                )));
            }
            wanted[i] = (!column.is_empty()).then(|| vec![column.to_string()]);
        }
        let at: Vec<Option<usize>> = wanted
            .iter()
            .map(|names| names.as_ref().and_then(|n| find(header, n)))
            .collect();
        let plan = Plan {
            cols: std::array::from_fn(|i| at[i]),
            extra: std::array::from_fn(|i| at[N_FIELDS + i]),
            values: value_maps(opts)?,
            header_len: header.len(),
        };
        plan.check_required(header)?;
        Ok(Some(plan))
    }

    /// The required fields, each from a column or from the columns that stand for it.
    fn check_required(&self, header: &[String]) -> Result<()> {
        let (date, time) = (self.extra[DATE], self.extra[TIME]);
        if date.is_some() != time.is_some() {
            return Err(Error::Usage(
                "a date column needs a time column: --map date=COLUMN --map time=COLUMN".into(),
            ));
        }
        let by_direction = self.extra[CONTACT_IN].is_some() && self.extra[CONTACT_OUT].is_some();
        let missing = if self.cols[TS].is_none() && date.is_none() {
            Some("timestamp")
        } else if self.cols[CONTACT].is_none() && !by_direction {
            Some("contact")
        } else if self.cols[DIRECTION].is_none() {
            Some("direction")
        } else {
            None
        };
        match missing {
            Some(f) => Err(missing_column(f, header)),
            None => Ok(()),
        }
    }

    /// The export (the records after the header, whose first line is `first_line`) in
    /// canonical form.
    pub fn normalise(
        &self,
        bytes: &[u8],
        first_line: u64,
        delimiter: u8,
        opts: &ReadOptions,
    ) -> std::result::Result<Normalised, (u64, String)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        let mut out = Canonical::new();
        let mut ids = Ids::default();
        let mut rejects = Vec::new();
        let mut records = 0;
        let mut rec = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    return Err((
                        first_line + line.max(1) - 1,
                        format!("cannot read CSV ({e})"),
                    ));
                }
            }
            records += 1;
            let line = first_line + rec.position().map_or(1, |p| p.line()) - 1;
            match self.fields(&rec) {
                Ok((fields, id)) => ids.add(line, fields, id, opts.tz),
                Err(reason) if opts.skip_invalid => rejects.push(Reject {
                    line,
                    reason,
                    fields: rec.iter().map(<[u8]>::to_vec).collect(),
                }),
                Err(reason) => return Err((line, reason)),
            }
        }
        let merged = ids.merged;
        for (line, fields) in ids.messages {
            out.push(line, &fields);
        }
        Ok(out.finish(rejects, records, merged))
    }

    /// A record's fields in canonical form (values renamed, the contact by direction), and its
    /// message id ("" when none).
    fn fields(&self, rec: &csv::ByteRecord) -> std::result::Result<Row, String> {
        if rec.len() != self.header_len {
            return Err(format!(
                "row has {} fields, the header has {} (ragged row)",
                rec.len(),
                self.header_len
            ));
        }
        let text = |c: Option<usize>, name: &str| -> std::result::Result<&str, String> {
            let Some(c) = c else { return Ok("") };
            std::str::from_utf8(&rec[c]).map(str::trim).map_err(|_| {
                format!(
                    "{name} is not valid UTF-8 ({})",
                    super::shown_bytes(&rec[c])
                )
            })
        };
        let mut fields: [String; N_FIELDS] = Default::default();
        for (i, f) in fields.iter_mut().enumerate() {
            *f = renamed(&self.values[i], text(self.cols[i], FIELDS[i])?).to_string();
        }
        if self.extra[DATE].is_some() && self.extra[TIME].is_some() {
            let date = text(self.extra[DATE], "date")?;
            let time = text(self.extra[TIME], "time")?;
            fields[TS] = renamed(&self.values[TS], &format!("{date} {time}")).to_string();
        }
        let contact_col = match Direction::parse(&fields[DIRECTION]) {
            Some(Direction::Inbound) => self.extra[CONTACT_IN],
            Some(Direction::Outbound) => self.extra[CONTACT_OUT],
            None => None,
        };
        if let Some(c) = contact_col {
            fields[CONTACT] = renamed(&self.values[CONTACT], text(Some(c), "contact")?).to_string();
        }
        for f in &mut fields {
            if f.contains(['\n', '\r']) {
                *f = f.replace(['\n', '\r'], " ");
            }
        }
        let id = text(self.extra[ID], "id")?.to_string();
        Ok((fields, id))
    }
}

/// The column of the first of `names` that the header has: the same name in any case, else
/// the same once spaces and underscores are ignored.
fn find(header: &[String], names: &[String]) -> Option<usize> {
    names.iter().find_map(|n| {
        header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(n))
            .or_else(|| header.iter().position(|h| squash(h) == squash(n)))
    })
}

/// A required field the header does not have, with the ways to name it.
pub fn missing_column(field: &str, header: &[String]) -> Error {
    Error::Input {
        file: String::new(),
        line: 1,
        msg: format!(
            "missing required column ({field}); the header is: {}; name the column with --map {field}=COLUMN, or read a known export with --source NAME ({})",
            shown(&header.join(",")),
            source::names().join(", ")
        ),
    }
}

/// Rows made messages: rows sharing an id are one message, timed by its earliest row, with
/// the status of its latest (ties: the later in the file); a field the earliest row leaves
/// empty is taken from another. Rows without an id (or a timestamp that does not read) are
/// messages of their own, in file order.
#[derive(Default)]
pub struct Ids {
    pub messages: Vec<(u64, [String; N_FIELDS])>,
    /// Message id -> (its index in `messages`, earliest instant, the status's instant).
    by_id: FxHashMap<String, (usize, i64, i64)>,
    pub merged: u64,
}

impl Ids {
    pub fn add(&mut self, line: u64, fields: [String; N_FIELDS], id: String, tz: chrono_tz::Tz) {
        let at = timestamp::parse_local(&fields[TS], tz).map(|(at, _)| at);
        let (Ok(at), false) = (at, id.is_empty()) else {
            self.messages.push((line, fields));
            return;
        };
        let Some((i, first_at, status_at)) = self.by_id.get_mut(&id) else {
            self.by_id.insert(id, (self.messages.len(), at, at));
            self.messages.push((line, fields));
            return;
        };
        self.merged += 1;
        let (first_line, message) = &mut self.messages[*i];
        let status = std::mem::take(&mut message[STATUS]);
        let later_status = at >= *status_at && !fields[STATUS].is_empty();
        let (status, new_status_at) = if later_status {
            (fields[STATUS].clone(), at)
        } else {
            (status, *status_at)
        };
        *status_at = new_status_at;
        if at < *first_at {
            let earlier = std::mem::replace(message, fields);
            fill(message, earlier);
            *first_at = at;
            *first_line = line;
        } else {
            fill(message, fields);
        }
        message[STATUS] = status;
    }
}

/// Empty fields of `message` taken from `other`.
fn fill(message: &mut [String; N_FIELDS], other: [String; N_FIELDS]) {
    for (m, o) in message.iter_mut().zip(other) {
        if m.is_empty() {
            *m = o;
        }
    }
}

/// The canonical CSV being written, with each line's line in the export. Written as the csv
/// crate writes it (a field quoted only if it holds a comma, a quote or a line end), a field
/// that needs no quotes copied as it is (csv's writer looks at each byte of each field, the
/// most of the time it took to make a webhook log's 2M rows).
pub struct Canonical {
    bytes: Vec<u8>,
    lines: Vec<u32>,
}

impl Canonical {
    pub fn new() -> Canonical {
        let mut out = Canonical::without_header();
        out.push(0, &FIELDS);
        out.lines = vec![0, 1];
        out
    }

    /// Rows only, to be appended to another (`append`).
    pub fn without_header() -> Canonical {
        Canonical {
            bytes: Vec::new(),
            lines: Vec::new(),
        }
    }

    pub fn push<S: AsRef<[u8]>>(&mut self, line: u64, fields: &[S; N_FIELDS]) {
        write_row(&mut self.bytes, fields);
        self.lines.push(u32::try_from(line).unwrap_or(u32::MAX));
    }

    pub fn finish(self, rejects: Vec<Reject>, records: u64, merged: u64) -> Normalised {
        Normalised {
            csv: self.bytes,
            lines: self.lines,
            rejects,
            records,
            merged,
        }
    }
}

/// One canonical row written after `bytes`, as `Canonical::push` writes it: copied, then
/// looked at whole (no quote or line end, only its own commas: a loop the compiler makes
/// wide, where one per field stopping at the first hit is a byte at a time); else rewritten
/// by the csv crate.
pub fn write_row<S: AsRef<[u8]>>(bytes: &mut Vec<u8>, fields: &[S; N_FIELDS]) {
    let start = bytes.len();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        bytes.extend_from_slice(f.as_ref());
    }
    let row = &bytes[start..];
    let commas = row.iter().fold(0, |n, &b| n + usize::from(b == b','));
    let special = row
        .iter()
        .fold(false, |q, &b| q | matches!(b, b'"' | b'\n' | b'\r'));
    if commas == N_FIELDS - 1 && !special {
        bytes.push(b'\n');
        return;
    }
    bytes.truncate(start);
    let mut w = csv::WriterBuilder::new().from_writer(bytes);
    // Writing to memory cannot fail.
    let _ = w.write_record(fields);
}

impl Default for Canonical {
    fn default() -> Self {
        Canonical::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ts: &str, kind: &str, status: &str) -> [String; N_FIELDS] {
        let mut f: [String; N_FIELDS] = Default::default();
        f[TS] = ts.into();
        f[CONTACT] = "+380501110001".into();
        f[DIRECTION] = "out".into();
        f[4] = kind.into();
        f[STATUS] = status.into();
        f
    }

    #[test]
    fn one_message_per_id_earliest_time_latest_status() {
        let mut ids = Ids::default();
        let utc = chrono_tz::UTC;
        ids.add(2, row("1772438760", "", "read"), "m".into(), utc);
        ids.add(3, row("1772438700", "", "sent"), "m".into(), utc);
        ids.add(
            4,
            row("1772438702", "utility", "delivered"),
            "m".into(),
            utc,
        );
        // a tie: the later row's status
        ids.add(5, row("1772438800", "", "failed"), "n".into(), utc);
        ids.add(6, row("1772438800", "", "sent"), "n".into(), utc);
        // no id, and a timestamp that does not read: messages of their own
        ids.add(7, row("1772438800", "", ""), String::new(), utc);
        ids.add(8, row("noon", "", ""), "n".into(), utc);
        let got: Vec<(u64, &str, &str, &str)> = (ids.messages.iter())
            .map(|(l, f)| (*l, f[TS].as_str(), f[4].as_str(), f[STATUS].as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "1772438700", "utility", "read"),
                (5, "1772438800", "", "sent"),
                (7, "1772438800", "", ""),
                (8, "noon", "", ""),
            ]
        );
        assert_eq!(ids.merged, 3);
    }

    #[test]
    fn canonical_rows_are_written_as_the_csv_crate_writes_them() {
        let rows: [[&str; N_FIELDS]; 3] = [
            ["1772438700", "+380501110001", "out", "", "", "", "", "", ""],
            ["t", "a,b", "say \"hi\"", "cr\rlf\n", "", "é", " x ", "", ""],
            ["", "", "", "", "", "", "", "", "last,"],
        ];
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(FIELDS).unwrap();
        let mut ours = Canonical::new();
        for (i, row) in rows.iter().enumerate() {
            w.write_record(row).unwrap();
            ours.push([7, 9, 10][i], row);
        }
        let n = ours.finish(Vec::new(), 3, 0);
        assert_eq!(n.csv, w.into_inner().unwrap());
        assert_eq!(n.lines, [0, 1, 7, 9, 10]);
    }

    #[test]
    fn a_value_map_compares_in_any_case() {
        let map = vec![("eingehend".to_string(), "in".to_string())];
        assert_eq!(renamed(&map, "Eingehend"), "in");
        assert_eq!(renamed(&map, "ausgehend"), "ausgehend");
    }
}
