//! Calendar arithmetic every stage shares (days and months since the epoch, instants shown in a
//! zone, the first instant of a month): no stage's knowledge, so the rates, analysis and report
//! stages need not reach into the input stage for it.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeZone};
use chrono_tz::Tz;

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
