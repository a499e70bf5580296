//! Timestamps: RFC 3339 with offset, naive local times read in `--tz`, or Unix seconds.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Earliest and latest instants accepted, so that arithmetic on microseconds never overflows.
const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 9999;

/// Parses one timestamp cell into UTC microseconds. The error is the human reason.
pub fn parse(raw: &str, tz: Tz) -> Result<i64, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty timestamp".into());
    }
    let utc: DateTime<Utc> = if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s
            .parse()
            .map_err(|_| "Unix seconds out of range".to_string())?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| "Unix seconds out of range".to_string())?
    } else if has_offset(s) {
        DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("not an RFC 3339 timestamp: {e}"))?
            .with_timezone(&Utc)
    } else {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
            .map_err(|_| {
                "not a timestamp (RFC 3339, YYYY-MM-DD HH:MM:SS[.fff], YYYY-MM-DDTHH:MM:SS or Unix seconds)"
                    .to_string()
            })?;
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            // A repeated hour when clocks go back: the first of the two instants.
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                return Err(format!(
                    "local time does not exist in {tz} (clocks went forward)"
                ))
            }
        }
    };
    if utc.year() < MIN_YEAR || utc.year() > MAX_YEAR {
        return Err(format!("timestamp out of range ({MIN_YEAR}..={MAX_YEAR})"));
    }
    Ok(utc.timestamp_micros())
}

/// True when the text ends in `Z` or a `+HH:MM`/`-HH:MM` offset after the time.
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

/// The calendar month and day of an instant in `tz`.
pub fn local_month_day(at: i64, tz: Tz) -> (i32, i32) {
    let utc = DateTime::from_timestamp_micros(at).unwrap_or_default();
    let local = utc.with_timezone(&tz).date_naive();
    (month_index(local), days_since_epoch(local))
}

pub fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

pub fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

pub fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Duration::days(days as i64)
}

/// An instant as RFC 3339 in `tz` (used by the ledger and explain).
pub fn format_instant(at: i64, tz: Tz) -> String {
    let utc = DateTime::from_timestamp_micros(at).unwrap_or_default();
    let local = utc.with_timezone(&tz);
    if at % 1_000_000 == 0 {
        local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    } else {
        local.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
    }
}

/// The first instant of a calendar month in `tz`.
pub fn month_start(month: i32, tz: Tz) -> Option<i64> {
    let d = NaiveDate::from_ymd_opt(month.div_euclid(12), (month.rem_euclid(12) + 1) as u32, 1)?;
    let naive = d.and_hms_opt(0, 0, 0)?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.timestamp_micros()),
        LocalResult::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
