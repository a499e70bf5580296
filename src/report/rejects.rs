//! `--rejects FILE`: the rows skipped under `--skip-invalid`, as a log simcost can read again.
//! Each row starts with its line and reason, then every field it had, ragged or not, with the
//! bytes it had in the log (not UTF-8 or not): the fixed columns stay in place whatever the
//! row's width, and a row read back fails for the same reason. The one change to the bytes is the
//! rule of every CSV simcost writes (`cell`): a field a spreadsheet would evaluate as a formula
//! gets a `'` in front (a user fixes rejected rows in a spreadsheet; dropping one leading `'`
//! gives the field back).

use crate::error::{Error, Result};
use crate::input::Log;

pub fn write(log: &Log, out: impl std::io::Write) -> Result<()> {
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io("writing the rejects", e),
        other => Error::io(
            "writing the rejects",
            std::io::Error::other(format!("{other:?}")),
        ),
    };
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let mut header = vec!["reject_line".as_bytes(), "reject_reason".as_bytes()];
    header.extend(log.header.iter().map(String::as_bytes));
    let header: Vec<_> = header.into_iter().map(super::cell::bytes).collect();
    w.write_record(&header).map_err(io)?;
    for r in &log.rejects {
        let line = r.line.to_string();
        let mut rec = vec![line.as_bytes().into(), r.reason.as_bytes().into()];
        rec.extend(r.fields.iter().map(|f| super::cell::bytes(f)));
        w.write_record(&rec).map_err(io)?;
    }
    w.flush().map_err(|e| Error::io("writing the rejects", e))
}

#[cfg(test)]
mod tests {
    use crate::input::{read_from, ReadOptions, DEFAULT_MAX_RECORD_BYTES};

    /// Rejected rows come back field for field and byte for byte: a field that is not UTF-8, a
    /// ragged long row, a short one, a quoted field with a comma and a line end.
    #[test]
    fn rejects_keep_every_field_and_byte() {
        let mut log = b"timestamp,contact,direction,kind\n".to_vec();
        log.extend(b"2026-03-02T08:00:00Z,+380501110001,in,\n");
        log.extend(b"2026-03-02T08:00:00Z,+38050\xff\xfe0001,in,\n");
        log.extend(b"2026-03-02T08:01:00Z,+380501110001,out,,extra,=1+2\n");
        log.extend(b"2026-03-02T08:02:00Z,+380501110001\n");
        log.extend(b"2026-03-02T08:03:00Z,+380501110001,side\xe9,\"a,\nb\"\n");
        let opts = ReadOptions {
            tz: chrono_tz::UTC,
            map: vec![],
            skip_invalid: true,
            threads: 1,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            export: Default::default(),
        };
        let read = read_from("t.csv".into(), &log[..], &opts).unwrap();
        let mut out = Vec::new();
        super::write(&read, &mut out).unwrap();
        let mut want = b"reject_line,reject_reason,timestamp,contact,direction,kind\n".to_vec();
        want.extend(b"3,contact is not valid UTF-8 (+38050\\xFF\\xFE0001),2026-03-02T08:00:00Z,'+38050\xff\xfe0001,in,\n");
        want.extend(b"4,\"row has 6 fields, the header has 4 (ragged row)\",2026-03-02T08:01:00Z,+380501110001,out,,extra,'=1+2\n");
        want.extend(b"5,\"row has 2 fields, the header has 4 (ragged row)\",2026-03-02T08:02:00Z,+380501110001\n");
        want.extend(b"6,direction is not valid UTF-8 (side\\xE9),2026-03-02T08:03:00Z,+380501110001,side\xe9,\"a,\nb\"\n");
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want)
        );
        assert_eq!(out, want);
    }
}
