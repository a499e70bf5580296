//! `simcost generate`: a realistic conversation log, identical for the same seed. The samples
//! and the benchmark come from it.

use crate::error::{Error, Result};
use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Customer-opened support conversations.
    Support,
    /// Business-initiated templates in campaign bursts, some answered.
    Notifications,
    /// Both, from three accounts.
    Mixed,
}

pub struct Spec {
    pub messages: u64,
    pub contacts: u32,
    pub days: u32,
    pub seed: u64,
    pub profile: Profile,
    pub start: NaiveDate,
}

/// Countries weighted roughly like a Central and Eastern European business's traffic, with a
/// tail of countries some cards do not price. (ISO code, calling code, national digits, weight)
const COUNTRIES: [(&str, &str, usize, u32); 16] = [
    ("UA", "380", 9, 20),
    ("DE", "49", 10, 14),
    ("PL", "48", 9, 10),
    ("RO", "40", 9, 8),
    ("BG", "359", 9, 6),
    ("CZ", "420", 9, 6),
    ("HU", "36", 9, 5),
    ("RS", "381", 9, 4),
    ("IT", "39", 10, 5),
    ("GB", "44", 10, 4),
    ("US", "1212", 7, 3),
    ("DO", "1809", 7, 1),
    ("IN", "91", 10, 5),
    ("BR", "55", 11, 4),
    ("KZ", "7701", 7, 2),
    ("AE", "971", 9, 3),
];

/// One message before it is written: seconds since the epoch, then the columns.
#[derive(Clone, Copy)]
struct Row {
    at: i64,
    contact: u32,
    outbound: bool,
    kind: u8,
    account: u8,
}

const KINDS: [&str; 7] = [
    "",
    "welcome",
    "transactional",
    "promotional",
    "authentication",
    "template",
    "text",
];
const ACCOUNTS: [&str; 3] = ["support", "marketing", "alerts"];

/// A contact's number as its system exported it: one format per contact.
fn phone(rng: &mut ChaCha8Rng, id: u32, country: usize) -> String {
    let (_, code, digits, _) = COUNTRIES[country];
    // Unique per contact: the id's digits fill the end of the national number.
    let mut national = format!("{:0width$}", id, width = digits);
    if national.len() > digits {
        national = national[national.len() - digits..].to_string();
    }
    // Mobile prefixes never start with 0.
    let first = (b'1' + rng.gen_range(0..8)) as char;
    national.replace_range(0..1, &first.to_string());
    match rng.gen_range(0..10) {
        0..=4 => format!("+{code}{national}"),
        5..=6 => format!("+{code} {} {}", &national[..3], &national[3..]),
        7 => format!("00{code}{national}"),
        8 => format!("{code}{national}"),
        _ => format!(
            "+{code} ({}) {}-{}",
            &national[..2],
            &national[2..5],
            &national[5..]
        ),
    }
}

fn pick_country(rng: &mut ChaCha8Rng) -> usize {
    let total: u32 = COUNTRIES.iter().map(|c| c.3).sum();
    let mut x = rng.gen_range(0..total);
    for (i, c) in COUNTRIES.iter().enumerate() {
        if x < c.3 {
            return i;
        }
        x -= c.3;
    }
    0
}

/// The most messages `generate` writes: the rows are held and sorted in memory (16 bytes each,
/// 16 GB at the bound). `--messages 18446744073709551615` asked for a vector of 2^64 rows and
/// panicked ("capacity overflow").
pub const MAX_MESSAGES: u64 = 1_000_000_000;
/// The most contacts: each number is held as a string.
pub const MAX_CONTACTS: u32 = 100_000_000;
/// The most days: a century, so that every timestamp stays a four-digit year.
pub const MAX_DAYS: u32 = 36_600;
/// The most rows one conversation adds: a welcome, then 15 turns of a customer message and
/// up to 3 replies (`support_conversation`); a notification adds at most 4.
const MAX_CONVERSATION: usize = 1 + 15 * 4;

/// The spec's sizes are within the bounds above, and its last message before the year 10000.
fn check(spec: &Spec) -> Result<()> {
    let usage = |m: String| Err(Error::Usage(format!("generate: {m}")));
    if spec.contacts == 0 || spec.days == 0 {
        return usage("--contacts and --days must be at least 1".into());
    }
    if spec.messages > MAX_MESSAGES {
        return usage(format!(
            "--messages is at most {MAX_MESSAGES} (the log is sorted in memory) ({})",
            spec.messages
        ));
    }
    if spec.contacts > MAX_CONTACTS {
        return usage(format!(
            "--contacts is at most {MAX_CONTACTS} ({})",
            spec.contacts
        ));
    }
    if spec.days > MAX_DAYS {
        return usage(format!("--days is at most {MAX_DAYS} ({})", spec.days));
    }
    // A support conversation may continue on up to 14 later days past the span.
    let last = spec
        .start
        .checked_add_days(chrono::Days::new(spec.days as u64 + 16));
    if last.is_none_or(|d| d.year() > 9999) {
        return usage(format!(
            "--start {} and --days {} run past the year 9999",
            spec.start, spec.days
        ));
    }
    Ok(())
}

/// Writes the log as CSV: `timestamp,contact,direction,kind,account`.
pub fn generate(spec: &Spec, out: &mut dyn Write) -> Result<()> {
    check(spec)?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let start = spec
        .start
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp())
        .unwrap_or(0);
    let span = spec.days as i64 * 86_400;
    // Contacts are made once: a country and a number format each.
    let contacts: Vec<String> = (0..spec.contacts)
        .map(|id| {
            let c = pick_country(&mut rng);
            phone(&mut rng, id, c)
        })
        .collect();
    // Campaign send times for business-initiated bursts: a few a day at business hours.
    let campaigns: Vec<i64> = (0..(spec.days * 3))
        .map(|_| start + rng.gen_range(0..spec.days as i64) * 86_400 + rng.gen_range(8..19) * 3600)
        .collect();

    // The log is sorted in memory, so all its rows are allocated here, once: the last
    // conversation may run past `messages` by at most `MAX_CONVERSATION` rows.
    let mut rows: Vec<Row> = Vec::new();
    rows.try_reserve_exact(spec.messages as usize + MAX_CONVERSATION)
        .map_err(|_| {
            Error::Usage(format!(
                "generate: not enough memory for --messages {} ({} MB); ask for fewer",
                spec.messages,
                (spec.messages as u128 * std::mem::size_of::<Row>() as u128) >> 20
            ))
        })?;
    while (rows.len() as u64) < spec.messages {
        let contact = rng.gen_range(0..spec.contacts);
        let support = match spec.profile {
            Profile::Support => true,
            Profile::Notifications => false,
            Profile::Mixed => rng.gen_bool(0.6),
        };
        if support {
            support_conversation(&mut rng, &mut rows, contact, start, span);
        } else {
            let at = campaigns[rng.gen_range(0..campaigns.len())] + rng.gen_range(0..1800);
            notification(&mut rng, &mut rows, contact, at, spec.profile);
        }
    }
    rows.truncate(spec.messages as usize);
    rows.sort_by_key(|r| r.at);

    let io = |e| Error::io("writing the generated log", e);
    writeln!(out, "timestamp,contact,direction,kind,account").map_err(io)?;
    let mut line = String::with_capacity(96);
    for r in &rows {
        line.clear();
        let t = chrono::DateTime::from_timestamp(r.at, 0).unwrap_or_default();
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "{},{},{},{},{}",
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            contacts[r.contact as usize],
            if r.outbound { "out" } else { "in" },
            KINDS[r.kind as usize],
            ACCOUNTS[r.account as usize]
        );
        out.write_all(line.as_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// A customer writes; the business answers over a few minutes, sometimes several messages in
/// a row; some conversations pick up again the next day.
fn support_conversation(
    rng: &mut ChaCha8Rng,
    rows: &mut Vec<Row>,
    contact: u32,
    start: i64,
    span: i64,
) {
    let account = 0;
    let mut at = start + rng.gen_range(0..span);
    if rng.gen_bool(0.05) {
        // A welcome message when the user opens the chat.
        rows.push(Row {
            at,
            contact,
            outbound: true,
            kind: 1,
            account,
        });
        at += rng.gen_range(5..120);
    }
    let turns = 1 + rng.gen_range(0..8) + rng.gen_range(0..8);
    for t in 0..turns {
        rows.push(Row {
            at,
            contact,
            outbound: false,
            kind: 0,
            account,
        });
        at += rng.gen_range(20..900);
        let replies = if rng.gen_bool(0.15) {
            rng.gen_range(2..4)
        } else {
            1
        };
        for _ in 0..replies {
            let kind = if rng.gen_bool(0.2) { 6 } else { 0 };
            rows.push(Row {
                at,
                contact,
                outbound: true,
                kind,
                account,
            });
            at += rng.gen_range(10..300);
        }
        if t + 1 < turns && rng.gen_bool(0.05) {
            // The customer comes back the next day.
            at += 86_400 + rng.gen_range(0..7200);
        }
    }
}

/// A template from a campaign; some customers answer and get a reply or two.
fn notification(
    rng: &mut ChaCha8Rng,
    rows: &mut Vec<Row>,
    contact: u32,
    at: i64,
    profile: Profile,
) {
    let kind = match rng.gen_range(0..100) {
        0..=44 => 2,  // transactional
        45..=79 => 3, // promotional
        80..=91 => 4, // authentication
        _ => 5,       // a template without a type
    };
    let account = match profile {
        Profile::Mixed if kind == 3 => 1,
        Profile::Mixed => 2,
        _ => 1,
    };
    rows.push(Row {
        at,
        contact,
        outbound: true,
        kind,
        account,
    });
    if rng.gen_bool(0.3) {
        let mut t = at + rng.gen_range(60..7200);
        rows.push(Row {
            at: t,
            contact,
            outbound: false,
            kind: 0,
            account,
        });
        for _ in 0..rng.gen_range(1..3) {
            t += rng.gen_range(30..600);
            rows.push(Row {
                at: t,
                contact,
                outbound: true,
                kind: 0,
                account,
            });
        }
    }
}
