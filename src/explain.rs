//! `explain`: one contact's replay, message by message.

use crate::accounts::Accounts;
use crate::billing::{Line, LineSink, ModelResult, Names, Price, NO_CONTACT};
use crate::calendar::format_instant;
use crate::event::{Direction, Event};
use crate::report::cell::text;
use crate::report::{display_amount, CsvDialect, Sheet};
use comfy_table::{presets::ASCII_MARKDOWN, Table};
use serde_json::{json, Map, Value};
use std::io::Write;

/// The columns of `explain --format csv` (and the keys of each JSON line).
pub const COLUMNS: [&str; 14] = [
    "model",
    "channel",
    "currency",
    "time",
    "line",
    "direction",
    "kind",
    "session",
    "open_until",
    "billed_as",
    "amount",
    "rate",
    "rate_from",
    "why",
];

/// One billed line of the explained contact, with a copy of its event and its account's name
/// (all the output needs of the log).
pub struct ContactLine {
    pub ev: Event,
    pub line: Line,
    /// Index into `ContactLines::accounts`.
    account: u32,
}

/// A model's line sink that keeps only the lines of one contact, found by its name as the
/// log names it (`Log::find_contact`'s key): the contact's id is not known before the log is
/// read, so each new contact's name is compared once, then only ids.
pub struct ContactLines {
    key: String,
    contact: Option<u32>,
    /// Contact ids already compared (and not the one).
    checked: Vec<bool>,
    /// The contact's name as the log gives it, once found.
    pub name: Option<String>,
    /// The contact's id once found, shared with the billers (`LineSink::only_contact`).
    found: std::sync::Arc<std::sync::atomic::AtomicU32>,
    /// The accounts of the contact's lines (few; the zone each line is shown in).
    accounts: Vec<String>,
    pub lines: Vec<ContactLine>,
}

impl ContactLines {
    /// `raw`: the contact as the user typed it (a number in any accepted format, or the id).
    pub fn new(raw: &str) -> ContactLines {
        ContactLines {
            // As `Log::find_contact` makes it.
            key: crate::input::phone::normalize(raw)
                .map(|d| format!("+{d}"))
                .unwrap_or_else(|| raw.trim().to_string()),
            contact: None,
            checked: Vec::new(),
            name: None,
            found: std::sync::Arc::new(std::sync::atomic::AtomicU32::new(NO_CONTACT)),
            accounts: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Whether `ev` is the contact's; its name is made once per new contact id.
    fn is_contacts(&mut self, ev: &Event, names: &dyn Names) -> bool {
        if let Some(c) = self.contact {
            return ev.contact == c;
        }
        let id = ev.contact as usize;
        if id >= self.checked.len() {
            self.checked.resize(id + 1, false);
        } else if self.checked[id] {
            return false;
        }
        self.checked[id] = true;
        let mut buf = [0; 16];
        if names.contact(ev, &mut buf) != self.key {
            return false;
        }
        self.contact = Some(ev.contact);
        (self.found).store(ev.contact, std::sync::atomic::Ordering::Relaxed);
        self.name = Some(self.key.clone());
        self.checked = Vec::new();
        true
    }

    /// The lines in the replay order: by instant, at one instant by account name, one
    /// account's in input order (a sink may be handed an instant's lines in input order).
    pub fn into_replay_order(mut self) -> ContactLines {
        let accounts = &self.accounts;
        (self.lines).sort_by(|a, b| {
            (a.ev.at, &accounts[a.account as usize], a.line.event).cmp(&(
                b.ev.at,
                &accounts[b.account as usize],
                b.line.event,
            ))
        });
        self
    }

    fn account(&self, l: &ContactLine) -> &str {
        &self.accounts[l.account as usize]
    }
}

impl LineSink for ContactLines {
    /// `into_replay_order` sorts the contact's lines.
    fn in_replay_order(&self) -> bool {
        false
    }

    /// A contact's name is asked once per contact id, until the contact is found.
    fn names_every_line(&self) -> bool {
        false
    }

    /// Once the contact is found, the billers keep no other contact's lines.
    fn only_contact(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicU32>> {
        Some(self.found.clone())
    }

    fn take(&mut self, lines: &[Line], first: u32, events: &[Event], names: &dyn Names) {
        for line in lines {
            let ev = &events[(line.event - first) as usize];
            if !self.is_contacts(ev, names) {
                continue;
            }
            let name = names.account(ev);
            let account = match self.accounts.iter().position(|a| a == name) {
                Some(k) => k,
                None => {
                    self.accounts.push(name.to_string());
                    self.accounts.len() - 1
                }
            };
            self.lines.push(ContactLine {
                ev: *ev,
                line: *line,
                account: account as u32,
            });
        }
    }
}

/// The explained contact: its name and, by model, its lines (`ContactLines`, in the replay
/// order) and the model's result.
pub struct Explained<'a> {
    pub name: &'a str,
    pub models: &'a [ModelResult],
    pub lines: &'a [ContactLines],
    pub accounts: &'a Accounts,
}

impl Explained<'_> {
    /// Each model with the contact's lines and each line's zone (`--accounts` `tz`, else
    /// `--tz`: the zone its months are cut in).
    fn each(&self) -> impl Iterator<Item = (&ModelResult, Vec<(&ContactLine, chrono_tz::Tz)>)> {
        self.models.iter().zip(self.lines).map(|(m, c)| {
            let lines = (c.lines.iter())
                .map(|l| (l, self.accounts.tz_of(c.account(l))))
                .collect();
            (m, lines)
        })
    }
}

/// One billed line as the CSV and JSON give it, in `COLUMNS` order. `amount` is empty for an
/// inbound or unpriced message (`why` says which), 0 for a free one.
fn record(m: &ModelResult, l: &ContactLine, tz: chrono_tz::Tz) -> Vec<String> {
    let (ev, line) = (&l.ev, &l.line);
    let mut sum = rust_decimal::Decimal::ZERO;
    let r = row(m, l, tz, &mut sum);
    let rate = m.rate_ref(&line.price);
    let amount = match (&rate, line.price) {
        (Some(r), _) => r.amount.to_string(),
        (None, Price::Unpriced) => String::new(),
        (None, _) if ev.direction == Direction::Inbound => String::new(),
        (None, _) => "0".into(),
    };
    let [time, no, dir, kind, session, until, billed, cost, why] = r;
    let why = match &rate {
        Some(_) => why,
        None if cost.is_empty() => why,
        None => format!("{cost}; {why}"),
    };
    vec![
        text(m.name.as_str()).into_owned(),
        m.channel.to_string(),
        text(m.currency.as_str()).into_owned(),
        time,
        no,
        dir,
        kind,
        session,
        until,
        billed,
        amount,
        rate.as_ref()
            .map(|r| {
                if r.market.is_empty() {
                    r.country.clone()
                } else {
                    r.market.clone()
                }
            })
            .map(|r| text(r).into_owned())
            .unwrap_or_default(),
        rate.and_then(|r| r.from)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        text(why).into_owned(),
    ]
}

/// The contact's lines of every model, one CSV row each (`COLUMNS`).
pub fn write_csv(c: &Explained, dialect: CsvDialect, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = Sheet::new(out, dialect, &COLUMNS)?;
    for (m, lines) in c.each() {
        for (line, tz) in lines {
            w.row(&record(m, line, tz))?;
        }
    }
    w.flush()
}

/// The contact's lines of every model as JSON: per model its lines (`COLUMNS` as keys) and
/// the sum of their amounts.
pub fn write_json(c: &Explained, out: &mut dyn Write) -> std::io::Result<()> {
    let models: Vec<Value> = c
        .each()
        .map(|(m, lines)| {
            let mut sum = rust_decimal::Decimal::ZERO;
            let lines: Vec<Value> = (lines.into_iter())
                .map(|(l, tz)| {
                    sum += (m.rate_ref(&l.line.price))
                        .map(|r| r.amount)
                        .unwrap_or_default();
                    let rec = record(m, l, tz);
                    let map: Map<String, Value> = (COLUMNS.iter().zip(rec).skip(3))
                        .map(|(k, v)| (k.to_string(), Value::String(v)))
                        .collect();
                    Value::Object(map)
                })
                .collect();
            json!({"model": m.name, "channel": m.channel, "currency": m.currency,
                   "messages_cost": sum.to_string(), "lines": lines})
        })
        .collect();
    let doc = json!({"contact": c.name, "models": models});
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The table: each line's times in its account's zone (`Explained::each`).
pub fn write(c: &Explained, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "contact {}", c.name)?;
    for (m, lines) in c.each() {
        writeln!(out, "\n{} ({}, {})", m.name, m.channel, m.currency)?;
        let mut t = Table::new();
        t.load_preset(ASCII_MARKDOWN);
        t.set_header([
            "time",
            "line",
            "dir",
            "kind",
            "session",
            "open until",
            "billed as",
            "cost",
            "why",
        ]);
        let mut sum = rust_decimal::Decimal::ZERO;
        for (line, tz) in lines {
            t.add_row(row(m, line, tz, &mut sum));
        }
        writeln!(out, "{t}")?;
        writeln!(
            out,
            "messages of this contact: {} {} (monthly fees are per account, see replay)",
            display_amount(sum, true),
            m.currency
        )?;
    }
    Ok(())
}

/// One billed line of the contact as a table row; its amount is added to `sum`.
fn row(
    m: &ModelResult,
    l: &ContactLine,
    tz: chrono_tz::Tz,
    sum: &mut rust_decimal::Decimal,
) -> [String; 9] {
    let (ev, line) = (&l.ev, &l.line);
    let o = &line.outcome;
    let (dir, kind) = match ev.direction {
        Direction::Inbound => ("in", "".to_string()),
        Direction::Outbound => ("out", ev.kind.name().to_string()),
    };
    let mut why = o.why.text();
    if o.assumed_category {
        if let Some(c) = line.category {
            why.push_str(&format!(" [no category given: priced as {}]", c.name()));
        }
    }
    [
        format_instant(ev.at, tz),
        ev.line.to_string(),
        dir.to_string(),
        kind,
        o.session.map(|s| s.to_string()).unwrap_or_default(),
        if o.until > 0 {
            format_instant(o.until, tz)
        } else {
            String::new()
        },
        if ev.direction == Direction::Inbound {
            String::new()
        } else {
            o.billed.name().to_string()
        },
        cost(m, line, ev, sum),
        why,
    ]
}

/// What a line cost and the rate row that priced it, or why it cost nothing.
fn cost(m: &ModelResult, line: &Line, ev: &Event, sum: &mut rust_decimal::Decimal) -> String {
    match (m.rate_ref(&line.price), line.price) {
        (Some(r), _) => {
            *sum += r.amount;
            format!(
                "{} (rate {} {}{})",
                r.amount,
                if r.market.is_empty() {
                    &r.country
                } else {
                    &r.market
                },
                r.from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "undated".into()),
                if r.carried_forward {
                    ", carried forward"
                } else {
                    ""
                }
            )
        }
        (None, Price::Allowance) => "0 (free allowance)".into(),
        (None, Price::FreeSession) => "0 (sessions free in this model)".into(),
        (None, Price::Unpriced) => format!("unpriced (no {} rate on the card)", ev.country),
        (None, _) if ev.direction == Direction::Inbound => String::new(),
        (None, _) => "0".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two contacts, `a` (id 0) and `b` (id 1): the sink of `b` shares no id while it has
    /// seen only `a`'s event, then `b`'s id once it finds it, so that the billers keep no
    /// other contact's lines from then on.
    #[test]
    fn the_contacts_id_is_shared_once_found() {
        let text = "timestamp,contact,direction\n\
                    2026-03-02T08:00:00Z,+4915112345678,in\n\
                    2026-03-02T08:01:00Z,+4915187654321,in\n";
        let read = crate::input::ReadOptions {
            tz: chrono_tz::UTC,
            threads: 1,
            max_record_bytes: crate::input::DEFAULT_MAX_RECORD_BYTES,
            ..Default::default()
        };
        let log = crate::input::read_from("t.csv".into(), text.as_bytes(), &read).unwrap();
        let mut sink = ContactLines::new("+49 151 87654321");
        let found = sink.only_contact().unwrap();
        let id = || found.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(id(), NO_CONTACT);
        assert!(!sink.is_contacts(&log.events[0], &log));
        assert_eq!(id(), NO_CONTACT);
        assert!(sink.is_contacts(&log.events[1], &log));
        assert_eq!((log.events[1].contact, id()), (1, 1));
    }
}
