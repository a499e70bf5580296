//! `reconcile`: simcost's replay of a log held against what the provider billed
//! (docs/billing-rules.md §7 "Reconciliation").
//!
//! A bill is read into one shape ([`Bill`]): per month x country x category counts and
//! amounts (`invoice`, `meta-pricing-analytics`), or per message (`meta-webhook`, `twilio`).
//! The replay side is the model's billed lines, the ones the ledger shows ([`replayed`]).
//! Both are compared per cell; per message where the bill has messages ([`pair`]); each
//! difference simcost can name is a [`Cause`] with its count and amount.

mod causes;
pub mod invoice;
pub mod pricing_analytics;
mod replayed;
pub mod report;
pub mod twilio;
pub mod webhook;

pub use causes::{Cause, CauseKind, MessageDiff};
pub use replayed::{Collector, Replayed, Sent};

use crate::error::{Error, Result};
use crate::event::Country;
use crate::input::shown;
use crate::rates::Model;
use clap::ValueEnum;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The bill formats `reconcile` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BillFormat {
    /// A CSV `month,country,category,quantity,amount,currency` (any provider's invoice).
    Invoice,
    /// The JSON of the Graph API's `pricing_analytics` field (data points by day or month).
    MetaPricingAnalytics,
    /// WhatsApp webhook payloads, one JSON object a line: the `pricing` of each status.
    MetaWebhook,
    /// A Twilio message export (CSV) with each message's `Price` and `PriceUnit`.
    Twilio,
}

impl BillFormat {
    pub fn name(self) -> &'static str {
        match self {
            BillFormat::Invoice => "invoice",
            BillFormat::MetaPricingAnalytics => "meta-pricing-analytics",
            BillFormat::MetaWebhook => "meta-webhook",
            BillFormat::Twilio => "twilio",
        }
    }

    /// Meta's own bills: the model defaults to `whatsapp-meta`.
    pub fn is_meta(self) -> bool {
        matches!(
            self,
            BillFormat::MetaPricingAnalytics | BillFormat::MetaWebhook
        )
    }

    /// The format of `text` when its shape tells it; `None` when it does not.
    pub fn detect(text: &str) -> Option<BillFormat> {
        let t = text.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            if pricing_analytics::looks_like(t) {
                return Some(BillFormat::MetaPricingAnalytics);
            }
            return webhook::looks_like(t).then_some(BillFormat::MetaWebhook);
        }
        let header: Vec<String> = t
            .lines()
            .next()?
            .split(',')
            .map(|h| h.trim().trim_matches('"').to_ascii_lowercase())
            .collect();
        let has = |n: &str| header.iter().any(|h| h == n);
        if invoice::COLUMNS.iter().all(|c| has(c)) {
            Some(BillFormat::Invoice)
        } else if has("price") && (has("priceunit") || has("price_unit")) {
            Some(BillFormat::Twilio)
        } else {
            None
        }
    }
}

/// Where a cell is: a country, or `*` for what has none (a fee of the default tier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    Country(Country),
    Any,
}

impl Place {
    pub fn label(&self) -> &str {
        match self {
            Place::Country(c) => c.as_str(),
            Place::Any => "*",
        }
    }
}

/// A cell of the comparison: month (index, in `--tz`), place, category.
pub type Key = (i32, Place, &'static str);

/// Counts and amount of one cell on one side.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Charged messages (or fees).
    pub quantity: u64,
    pub amount: Decimal,
    /// Messages that cost nothing (any free type).
    pub free: u64,
    /// Of `free`: in a free entry point window.
    pub free_entry_point: u64,
    /// Of `free`: inside a monthly free tier or allowance.
    pub free_tier: u64,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.quantity += o.quantity;
        self.amount += o.amount;
        self.free += o.free;
        self.free_entry_point += o.free_entry_point;
        self.free_tier += o.free_tier;
    }

    /// The average charge, `None` without a charged message.
    pub fn unit(&self) -> Option<Decimal> {
        (self.quantity > 0).then(|| self.amount / Decimal::from(self.quantity))
    }
}

/// The categories a bill or the replay may name (WhatsApp's words; Viber's types map onto
/// them), plus `session`, `fee`, `inbound` (a bill that charges customer messages) and
/// `unknown` (a per-message bill that names none).
pub const CATEGORIES: &[&str] = &[
    "marketing",
    "marketing_lite",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "referral_conversion",
    "business_initiated",
    "user_initiated",
    "session",
    "fee",
    "inbound",
    "unknown",
];

/// A category as a bill writes it (any case, `-` or `_`, Viber's `promotional` and
/// `transactional`), or `None`.
pub fn category(s: &str) -> Option<&'static str> {
    let s = s.trim().to_ascii_lowercase().replace('-', "_");
    let s = match s.as_str() {
        "promotional" => "marketing",
        "transactional" => "utility",
        s => s,
    };
    CATEGORIES.iter().copied().find(|c| *c == s)
}

/// One message of a per-message bill.
#[derive(Clone, Debug)]
pub struct BillMessage {
    /// The provider's message id (`wamid...`, Twilio `SM...`).
    pub id: String,
    /// Line of the bill file (the first that named the message).
    pub line: u64,
    /// The recipient as the bill writes it.
    pub recipient: String,
    /// Its digits as a number (`input::phone::number_key`), `None` if it is not a number.
    pub contact: Option<u64>,
    /// UTC microseconds: the earliest status of the message.
    pub at: i64,
    /// The bill's category; `None` when it names none (Twilio).
    pub category: Option<&'static str>,
    /// Why the bill did not charge it (`free_entry_point`, `free_customer_service`,
    /// `not_billable`), `None` when charged.
    pub free: Option<&'static str>,
    /// The bill's last status says it was not delivered (never charged).
    pub failed: bool,
    /// The bill's price; `None` when the bill gives none (priced at the card: webhook).
    pub amount: Option<Decimal>,
}

/// What the bill says, in one shape whatever its format.
#[derive(Clone, Debug)]
pub struct Bill {
    pub format: BillFormat,
    pub file: String,
    /// The bill's currency, when it names one.
    pub currency: Option<String>,
    /// Per cell (aggregate bills).
    pub cells: BTreeMap<Key, Tally>,
    /// Per message (`meta-webhook`, `twilio`).
    pub messages: Option<Vec<BillMessage>>,
}

/// A CSV bill: its header (trimmed, lower case; a BOM skipped) and its records.
fn csv_bill<'t>(
    bill: &Bill,
    text: &'t str,
) -> Result<(Vec<String>, csv::StringRecordsIntoIter<&'t [u8]>)> {
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = (rdr.headers())
        .map_err(|e| bill.bad(1, format!("unreadable header ({e})")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    Ok((header, rdr.into_records()))
}

/// A CSV bill's record and its line, or the error that names the line.
fn csv_record(
    bill: &Bill,
    rec: csv::Result<csv::StringRecord>,
) -> Result<(csv::StringRecord, u64)> {
    let rec = rec.map_err(|e| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        bill.bad(line, format!("unreadable row ({e})"))
    })?;
    let line = rec.position().map(|p| p.line()).unwrap_or(0);
    Ok((rec, line))
}

impl Bill {
    pub fn new(format: BillFormat, file: &str) -> Bill {
        Bill {
            format,
            file: file.to_string(),
            currency: None,
            cells: BTreeMap::new(),
            messages: None,
        }
    }

    /// Records the currency of a row; a bill in two currencies is an error.
    pub fn currency_of_row(&mut self, line: u64, currency: &str) -> Result<()> {
        let c = currency.trim().to_ascii_uppercase();
        if c.is_empty() {
            return Ok(());
        }
        match &self.currency {
            Some(have) if *have != c => Err(self.bad(
                line,
                format!("a second currency in one bill ({c}; the bill is in {have})"),
            )),
            Some(_) => Ok(()),
            None => {
                self.currency = Some(c);
                Ok(())
            }
        }
    }

    /// A bill's amount (`what`: its column) as a number within `MAX_BILL_AMOUNT`; `Err`
    /// says what is wrong, for the reader to place.
    pub fn amount(what: &str, text: &str) -> std::result::Result<Decimal, String> {
        let d: Decimal = (text.parse())
            .map_err(|_| format!("{what} is not a decimal number ({})", shown(text)))?;
        if d.abs() > Decimal::from(MAX_BILL_AMOUNT) {
            return Err(format!(
                "{what} is above {MAX_BILL_AMOUNT}, the most one row of a bill may charge ({})",
                shown(text)
            ));
        }
        Ok(d)
    }

    /// A bill's count of messages within `MAX_BILL_QUANTITY`.
    pub fn quantity(what: &str, n: u64) -> std::result::Result<u64, String> {
        (n <= MAX_BILL_QUANTITY).then_some(n).ok_or_else(|| {
            format!(
                "{what} is above {MAX_BILL_QUANTITY}, the most one row of a bill may count ({n})"
            )
        })
    }

    /// A bad row or value of the bill: `FILE:LINE: what is wrong (the value)`, exit 3.
    pub fn bad(&self, line: u64, msg: String) -> Error {
        Error::Input {
            file: self.file.clone(),
            line,
            msg,
        }
    }
}

/// The most one row of a bill may charge (its sign aside) or count: far above any real bill,
/// and low enough that every sum, unit price and ratio of a reconciliation stays inside
/// Decimal's and u64's range (a larger amount overflowed the markup's arithmetic).
pub const MAX_BILL_AMOUNT: u64 = 1_000_000_000;
pub const MAX_BILL_QUANTITY: u64 = 1_000_000_000_000;

/// `--tolerance`: how far the bill may differ from the replay and still pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// At most this amount, in the model's currency.
    Amount(Decimal),
    /// At most this percentage of the billed total.
    Percent(Decimal),
}

impl Tolerance {
    pub fn parse(s: &str) -> std::result::Result<Tolerance, String> {
        let bad = || format!("expected an amount (0.50) or a percentage (2%), not {s:?}");
        let (number, percent) = match s.trim().strip_suffix('%') {
            Some(p) => (p.trim(), true),
            None => (s.trim(), false),
        };
        let d: Decimal = number.parse().map_err(|_| bad())?;
        if d.is_sign_negative() {
            return Err(bad());
        }
        Ok(if percent {
            Tolerance::Percent(d)
        } else {
            Tolerance::Amount(d)
        })
    }

    /// The difference allowed for a bill of `billed`.
    pub fn allowed(self, billed: Decimal) -> Decimal {
        match self {
            Tolerance::Amount(a) => a,
            // A percentage so large the product overflows allows any difference.
            Tolerance::Percent(p) => {
                (billed.abs().checked_mul(p)).map_or(Decimal::MAX, |x| x / Decimal::ONE_HUNDRED)
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Tolerance::Amount(a) => a.to_string(),
            Tolerance::Percent(p) => format!("{p}%"),
        }
    }
}

/// One cell of the comparison.
#[derive(Clone, Debug)]
pub struct Row {
    pub key: Key,
    pub bill: Tally,
    pub replay: Tally,
}

impl Row {
    pub fn difference(&self) -> Decimal {
        self.bill.amount - self.replay.amount
    }
}

/// The whole comparison.
#[derive(Debug)]
pub struct Reconciliation {
    pub model: String,
    pub currency: String,
    pub format: BillFormat,
    pub bill_file: String,
    pub tolerance: Tolerance,
    pub rows: Vec<Row>,
    pub causes: Vec<Cause>,
    /// Messages that differ (per-message bills), for `--details`.
    pub messages: Vec<MessageDiff>,
    /// Outbound log messages in months the bill does not cover: not compared.
    pub outside_bill_months: u64,
    /// Replayed messages the card could not price (left out of the replayed total).
    pub unpriced_replay: u64,
    /// Bill messages the card could not price (webhook: no price for Meta's category).
    pub unpriced_bill: u64,
}

impl Reconciliation {
    pub fn billed(&self) -> Decimal {
        self.rows.iter().map(|r| r.bill.amount).sum()
    }

    pub fn replayed(&self) -> Decimal {
        self.rows.iter().map(|r| r.replay.amount).sum()
    }

    /// Billed minus replayed.
    pub fn difference(&self) -> Decimal {
        self.billed() - self.replayed()
    }

    /// The part of the difference the named causes account for.
    pub fn explained(&self) -> Decimal {
        self.causes.iter().map(|c| c.amount).sum()
    }

    /// `explained / difference` in percent; `None` when there is no difference.
    pub fn share_explained(&self) -> Option<Decimal> {
        let d = self.difference();
        // Checked: a tiny difference against large causes is a ratio beyond Decimal.
        let share = self.explained().checked_div(d)?;
        Some(
            share
                .checked_mul(Decimal::ONE_HUNDRED)?
                .round_dp(2)
                .normalize(),
        )
    }

    pub fn within_tolerance(&self) -> bool {
        self.difference().abs() <= self.tolerance.allowed(self.billed())
    }
}

/// Holds `bill` against the model's replay `rep`.
pub fn reconcile(
    bill: &Bill,
    rep: &Replayed,
    model: &Model,
    tolerance: Tolerance,
) -> Result<Reconciliation> {
    if let Some(c) = &bill.currency {
        if *c != model.currency {
            return Err(Error::Usage(format!(
                "{}: the bill is in {c}, the model {} in {}; reconcile compares one currency (no conversion)",
                bill.file, model.name, model.currency
            )));
        }
    }
    // An empty bill would compare nothing and pass: it is an error, not a success.
    if bill.cells.is_empty() && bill.messages.as_ref().is_none_or(|m| m.is_empty()) {
        return Err(bill.bad(0, "the bill has no billed messages to compare".into()));
    }
    let (bill_cells, causes, messages, unpriced_bill) = match &bill.messages {
        Some(msgs) => causes::per_message(msgs, rep, model),
        None => (bill.cells.clone(), Vec::new(), Vec::new(), 0),
    };
    let months: std::collections::BTreeSet<i32> = bill_cells.keys().map(|k| k.0).collect();
    let mut rows: BTreeMap<Key, Row> = BTreeMap::new();
    let row = |k: Key| Row {
        key: k,
        bill: Tally::default(),
        replay: Tally::default(),
    };
    for (k, t) in &bill_cells {
        rows.entry(*k).or_insert_with(|| row(*k)).bill.add(t);
    }
    for (k, t) in rep.cells.iter().filter(|(k, _)| months.contains(&k.0)) {
        rows.entry(*k).or_insert_with(|| row(*k)).replay.add(t);
    }
    let rows: Vec<Row> = rows.into_values().collect();
    let causes = match &bill.messages {
        Some(_) => causes,
        None => causes::aggregate(&rows),
    };
    let outside = (rep.sent_per_month.iter())
        .filter(|(m, _)| !months.contains(m))
        .map(|(_, n)| n)
        .sum();
    Ok(Reconciliation {
        model: model.name.clone(),
        currency: model.currency.clone(),
        format: bill.format,
        bill_file: bill.file.clone(),
        tolerance,
        rows,
        causes,
        messages,
        outside_bill_months: outside,
        unpriced_replay: rep.unpriced,
        unpriced_bill,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn tolerance_as_an_amount_or_a_share_of_the_bill() {
        assert_eq!(Tolerance::parse("0.50"), Ok(Tolerance::Amount(dec("0.50"))));
        let p = Tolerance::parse("2%").unwrap();
        // 2% of 12.50 = 0.25
        assert_eq!(p.allowed(dec("12.50")), dec("0.25"));
        assert!(Tolerance::parse("-1").is_err());
        assert!(Tolerance::parse("x%").is_err());
    }

    #[test]
    fn categories_in_a_bills_words() {
        assert_eq!(category("MARKETING"), Some("marketing"));
        assert_eq!(
            category("Authentication-International"),
            Some("authentication_international")
        );
        assert_eq!(category("transactional"), Some("utility"));
        assert_eq!(category("promo"), None);
    }

    #[test]
    fn formats_detected_from_their_shape() {
        let d = BillFormat::detect;
        assert_eq!(
            d("month,country,category,quantity,amount,currency\n"),
            Some(BillFormat::Invoice)
        );
        assert_eq!(
            d("\u{feff}From,To,Body,Status,SentDate,Sid,Direction,Price,PriceUnit\n"),
            Some(BillFormat::Twilio)
        );
        assert_eq!(
            d(r#"{"pricing_analytics":{"data":[{"data_points":[]}]},"id":"1"}"#),
            Some(BillFormat::MetaPricingAnalytics)
        );
        assert_eq!(
            d("{\"object\":\"whatsapp_business_account\",\"entry\":[]}\n"),
            Some(BillFormat::MetaWebhook)
        );
        assert_eq!(d("a,b\n"), None);
    }
}
