//! Matching and named causes: what simcost can say about each difference between the bill and
//! the replay, with its count and amount (billed minus replayed).

use super::{BillMessage, Key, Place, Replayed, Row, Sent, Tally};
use crate::input::phone::CallingCodes;
use crate::rates::meta::MetaColumn;
use crate::rates::{Card, Model};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// A cause simcost can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CauseKind {
    /// The log's category (as replayed) and the bill's differ.
    CategoryDisagreement {
        log: &'static str,
        bill: &'static str,
    },
    /// The bill has messages the log lacks.
    BilledNotInLog,
    /// The log has messages the bill lacks.
    InLogNotBilled,
    /// The bill says the message was not delivered; the replay charged it.
    NotDelivered,
    /// The bill made it free (`free_entry_point`, `free_customer_service`, ...), the replay
    /// charged it.
    FreeOnBillOnly(&'static str),
    /// The replay made it free (`free_tier`, `free_customer_service`, ...), the bill charged it.
    FreeInReplayOnly(&'static str),
    /// The same messages at another unit price than the card's: a card gap or a markup.
    UnitPrice,
    /// The bill charges customer messages (Twilio's fee); simcost bills none.
    InboundCharged,
}

impl CauseKind {
    pub fn name(self) -> &'static str {
        match self {
            CauseKind::CategoryDisagreement { .. } => "category_disagreement",
            CauseKind::BilledNotInLog => "billed_not_in_log",
            CauseKind::InLogNotBilled => "in_log_not_billed",
            CauseKind::NotDelivered => "not_delivered",
            CauseKind::FreeOnBillOnly(_) => "free_on_bill_only",
            CauseKind::FreeInReplayOnly(_) => "free_in_replay_only",
            CauseKind::UnitPrice => "unit_price",
            CauseKind::InboundCharged => "inbound_charged",
        }
    }

    /// In words, for the table and `--details`.
    pub fn text(self) -> String {
        match self {
            CauseKind::CategoryDisagreement { log, bill } => {
                format!("category disagreement: the log says {log}, the bill {bill}")
            }
            CauseKind::BilledNotInLog => "billed, absent from the log".into(),
            CauseKind::InLogNotBilled => "in the log, absent from the bill".into(),
            CauseKind::NotDelivered => "not delivered on the bill, charged by the replay".into(),
            CauseKind::FreeOnBillOnly(t) => format!("free on the bill only ({t})"),
            CauseKind::FreeInReplayOnly(t) => format!("free in the replay only ({t})"),
            CauseKind::UnitPrice => "unit price differs from the card (card gap or markup)".into(),
            CauseKind::InboundCharged => {
                "customer messages charged by the bill (simcost bills none)".into()
            }
        }
    }

    /// The `why` value of the cause (a category pair or a free type), for CSV and JSON.
    pub fn detail(self) -> String {
        match self {
            CauseKind::CategoryDisagreement { log, bill } => format!("log {log}, bill {bill}"),
            CauseKind::FreeOnBillOnly(t) | CauseKind::FreeInReplayOnly(t) => t.to_string(),
            _ => String::new(),
        }
    }
}

/// A named cause in one country and category, summed over months (and messages).
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    pub kind: CauseKind,
    pub place: Place,
    /// The bill's category (the log's where the bill names none).
    pub category: &'static str,
    pub count: u64,
    /// Billed minus replayed.
    pub amount: Decimal,
    /// What the bill and the replay charged for these messages.
    pub billed: Decimal,
    pub replayed: Decimal,
}

impl Cause {
    /// `UnitPrice`: how much above (below) the card the bill's unit price is, in percent.
    pub fn markup_percent(&self) -> Option<Decimal> {
        if self.kind != CauseKind::UnitPrice {
            return None;
        }
        // Checked: bounded bill amounts keep this in range; a ratio beyond Decimal is no markup.
        let ratio = self.billed.checked_div(self.replayed)?;
        let percent = (ratio.checked_sub(Decimal::ONE)?).checked_mul(Decimal::ONE_HUNDRED)?;
        Some(percent.round_dp(2).normalize())
    }
}

/// Causes summed by kind, place and category.
#[derive(Default)]
struct Causes(BTreeMap<(CauseKind, Place, &'static str), Cause>);

impl Causes {
    fn add(
        &mut self,
        kind: CauseKind,
        at: (Place, &'static str),
        n: u64,
        billed: Decimal,
        replayed: Decimal,
    ) {
        if n == 0 && billed == replayed {
            return;
        }
        let c = self.0.entry((kind, at.0, at.1)).or_insert(Cause {
            kind,
            place: at.0,
            category: at.1,
            count: 0,
            amount: Decimal::ZERO,
            billed: Decimal::ZERO,
            replayed: Decimal::ZERO,
        });
        c.count += n;
        c.billed += billed;
        c.replayed += replayed;
        c.amount = c.billed - c.replayed;
    }

    fn into_vec(self) -> Vec<Cause> {
        self.0.into_values().collect()
    }
}

/// An excess of messages on one side of a month x country, in one category.
struct Excess {
    category: &'static str,
    n: u64,
    unit: Decimal,
    /// The other side's free messages of the cell, by free type.
    free: [(&'static str, u64); 3],
}

/// The free messages of a side's cell by type: entry point, tier, the rest (`other`).
fn free_by_type(t: &Tally, other: &'static str) -> [(&'static str, u64); 3] {
    let rest = t.free - t.free_entry_point - t.free_tier;
    [
        ("free_entry_point", t.free_entry_point),
        ("free_tier", t.free_tier),
        (other, rest),
    ]
}

/// Causes of a bill without message ids, cell by cell: within each month x country, the same
/// quantity at another unit price is a unit-price difference; an excess on one side that the
/// other side shows as free messages of the cell is free on one side only (entry point, tier,
/// customer service); an excess of one category on the bill's side against another on the
/// replay's is a category disagreement; what is left is billed but not in the log, or the
/// reverse.
pub fn aggregate(rows: &[Row]) -> Vec<Cause> {
    let mut causes = Causes::default();
    let mut groups: BTreeMap<(i32, Place), Vec<&Row>> = BTreeMap::new();
    for r in rows {
        groups.entry((r.key.0, r.key.1)).or_default().push(r);
    }
    for ((_, place), rows) in groups {
        let (mut on_bill, mut in_replay) = (Vec::new(), Vec::new());
        for r in rows {
            let (b, p) = (&r.bill, &r.replay);
            let (ub, up) = (b.unit().unwrap_or_default(), p.unit().unwrap_or_default());
            let q = b.quantity.min(p.quantity);
            if q > 0 && ub != up {
                let n = Decimal::from(q);
                causes.add(CauseKind::UnitPrice, (place, r.key.2), q, n * ub, n * up);
            }
            let excess = |n: u64, unit, free| Excess {
                category: r.key.2,
                n,
                unit,
                free,
            };
            if b.quantity > p.quantity {
                let free = free_by_type(p, "free");
                on_bill.push(excess(b.quantity - p.quantity, ub, free));
            } else if p.quantity > b.quantity {
                let free = free_by_type(b, "free_customer_service");
                in_replay.push(excess(p.quantity - b.quantity, up, free));
            }
        }
        paired_excesses(&mut causes, place, &mut on_bill, &mut in_replay);
    }
    causes.into_vec()
}

/// The excesses of one month x country, named in the order of `aggregate`.
fn paired_excesses(
    causes: &mut Causes,
    place: Place,
    on_bill: &mut [Excess],
    in_replay: &mut [Excess],
) {
    let z = Decimal::ZERO;
    for r in in_replay.iter_mut() {
        for (t, free) in r.free {
            let k = r.n.min(free);
            let n = Decimal::from(k);
            causes.add(
                CauseKind::FreeOnBillOnly(t),
                (place, r.category),
                k,
                z,
                n * r.unit,
            );
            r.n -= k;
        }
    }
    for b in on_bill.iter_mut() {
        for (t, free) in b.free {
            let k = b.n.min(free);
            let n = Decimal::from(k);
            causes.add(
                CauseKind::FreeInReplayOnly(t),
                (place, b.category),
                k,
                n * b.unit,
                z,
            );
            b.n -= k;
        }
        for r in in_replay.iter_mut().filter(|r| r.category != b.category) {
            let k = b.n.min(r.n);
            if k == 0 {
                continue;
            }
            let kind = CauseKind::CategoryDisagreement {
                log: r.category,
                bill: b.category,
            };
            let n = Decimal::from(k);
            causes.add(kind, (place, b.category), k, n * b.unit, n * r.unit);
            b.n -= k;
            r.n -= k;
        }
    }
    for b in on_bill.iter() {
        let n = Decimal::from(b.n);
        causes.add(
            CauseKind::BilledNotInLog,
            (place, b.category),
            b.n,
            n * b.unit,
            z,
        );
    }
    for r in in_replay.iter() {
        let n = Decimal::from(r.n);
        causes.add(
            CauseKind::InLogNotBilled,
            (place, r.category),
            r.n,
            z,
            n * r.unit,
        );
    }
}

/// One message that differs, for `--details`.
#[derive(Clone, Debug)]
pub struct MessageDiff {
    pub kind: CauseKind,
    /// The bill's message id (empty: the bill lacks it).
    pub bill_id: String,
    pub contact: String,
    pub at: i64,
    /// Line of the log (0: the log lacks it) and of the bill (0: the bill lacks it).
    pub log_line: u32,
    pub bill_line: u64,
    pub log_category: String,
    pub bill_category: String,
    pub replayed: Decimal,
    pub billed: Decimal,
    /// simcost's reason (the billed line's) and the bill's (its pricing type or status).
    pub simcost_reason: String,
    pub bill_reason: String,
}

/// How far apart a bill's time of a message and the log's may be for them to be one message.
pub const MATCH_SECONDS: i64 = 60;

/// Pairs each bill message with an outbound message of the log: today by contact and time
/// (bill messages in time order, each with the earliest unpaired message of the same contact
/// within `MATCH_SECONDS`, which pairs as many as can be), since the log has no message ids
/// yet; the one place to pair by id once it has (issue 18).
pub fn pair(bill: &[BillMessage], sent: &[Sent]) -> Vec<Option<usize>> {
    let mut by_contact: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, s) in sent.iter().enumerate() {
        if let Some(c) = s.contact {
            by_contact.entry(c).or_default().push(i);
        }
    }
    let mut taken = vec![false; sent.len()];
    let mut order: Vec<usize> = (0..bill.len()).collect();
    order.sort_by_key(|&i| bill[i].at);
    let mut pairs = vec![None; bill.len()];
    let window = MATCH_SECONDS * 1_000_000;
    for i in order {
        let m = &bill[i];
        if m.category == Some("inbound") {
            continue;
        }
        let Some(candidates) = m.contact.and_then(|c| by_contact.get(&c)) else {
            continue;
        };
        let best = (candidates.iter().copied())
            .filter(|&j| !taken[j] && (sent[j].at - m.at).abs() <= window)
            .min_by_key(|&j| (sent[j].at, j));
        if let Some(j) = best {
            taken[j] = true;
            pairs[i] = Some(j);
        }
    }
    pairs
}

/// What a per-message bill gives: its cells, the causes, the differing messages and how many
/// of its charged messages the card could not price.
pub type PerMessage = (BTreeMap<Key, Tally>, Vec<Cause>, Vec<MessageDiff>, u64);

/// Causes of a bill with one row per message, message by message.
pub fn per_message(msgs: &[BillMessage], rep: &Replayed, model: &Model) -> PerMessage {
    let pairs = pair(msgs, &rep.sent);
    let codes = CallingCodes::load();
    let mut cells: BTreeMap<Key, Tally> = BTreeMap::new();
    let mut causes = Causes::default();
    let mut diffs = Vec::new();
    let mut unpriced = 0;
    let mut paired = vec![false; rep.sent.len()];
    for (m, p) in msgs.iter().zip(&pairs) {
        let s = p.map(|j| &rep.sent[j]);
        if let Some(j) = p {
            paired[*j] = true;
        }
        let priced = billed_message(m, s, model, &codes, rep);
        unpriced += priced.unpriced as u64;
        let cell = cells.entry(priced.key).or_default();
        match m.free {
            _ if m.failed => {}
            Some(t) => {
                cell.free += 1;
                cell.free_entry_point += (t == "free_entry_point") as u64;
            }
            None => {
                cell.quantity += 1;
                cell.amount += priced.amount;
            }
        }
        if let Some(d) = compare(m, s, &priced, &mut causes) {
            diffs.push(d);
        }
    }
    let months: std::collections::BTreeSet<i32> = cells.keys().map(|k| k.0).collect();
    for (s, _) in rep
        .sent
        .iter()
        .zip(&paired)
        .filter(|(s, p)| !**p && months.contains(&s.key.0))
    {
        if s.unpriced {
            continue;
        }
        let at = (s.key.1, s.key.2);
        causes.add(CauseKind::InLogNotBilled, at, 1, Decimal::ZERO, s.amount);
        diffs.push(diff(
            CauseKind::InLogNotBilled,
            None,
            Some(s),
            Decimal::ZERO,
        ));
    }
    diffs.sort_by_key(|d| (d.at, d.log_line, d.bill_line));
    (cells, causes.into_vec(), diffs, unpriced)
}

/// A bill message placed in a cell and priced.
struct Priced {
    key: Key,
    amount: Decimal,
    unpriced: bool,
}

/// The cell and amount of a bill message: its own price, else the model's card price of the
/// bill's category (the webhook gives none); its country from the log's message, else from
/// the recipient's calling code.
fn billed_message(
    m: &BillMessage,
    s: Option<&Sent>,
    model: &Model,
    codes: &CallingCodes,
    rep: &Replayed,
) -> Priced {
    let (month, day) = match s {
        Some(s) => (s.key.0, s.day),
        None => crate::calendar::local_month_day(m.at, rep.tz),
    };
    let country = match s {
        Some(s) => Some(s.key.1),
        None => (m.contact.map(|c| c.to_string()))
            .and_then(|d| codes.country_of(&d))
            .map(Place::Country),
    };
    let category = m.category.or(s.map(|s| s.key.2)).unwrap_or("unknown");
    let key = (month, country.unwrap_or(Place::Any), category);
    if m.free.is_some() || m.failed {
        return Priced {
            key,
            amount: Decimal::ZERO,
            unpriced: false,
        };
    }
    let amount = m.amount.or_else(|| match country {
        Some(Place::Country(c)) => card_price(model, c, day, category),
        _ => None,
    });
    Priced {
        key,
        amount: amount.unwrap_or_default(),
        unpriced: amount.is_none(),
    }
}

/// The model's card price of `category` for a message to `country` on `day` (a look-up of
/// the card billing uses; volume tiers and free tiers are billing's, not applied here).
pub fn card_price(
    model: &Model,
    country: crate::event::Country,
    day: i32,
    category: &str,
) -> Option<Decimal> {
    let Card::Meta(spec) = &model.card else {
        return None;
    };
    let column = match category {
        "marketing" => MetaColumn::Marketing,
        "utility" => MetaColumn::Utility,
        "authentication" => MetaColumn::Authentication,
        "service" => MetaColumn::Service,
        _ => return None,
    };
    let market = spec.markets.market_of(country, day);
    (spec.card.price(spec.markets.name(market), day, column)).map(|p| p.amount)
}

/// The cause of one bill message against its log message, if they differ.
fn compare(
    m: &BillMessage,
    s: Option<&Sent>,
    priced: &Priced,
    causes: &mut Causes,
) -> Option<MessageDiff> {
    let z = Decimal::ZERO;
    let at = (priced.key.1, priced.key.2);
    if m.category == Some("inbound") {
        causes.add(CauseKind::InboundCharged, at, 1, priced.amount, z);
        return None;
    }
    let Some(s) = s else {
        let billed = priced.amount;
        causes.add(CauseKind::BilledNotInLog, at, 1, billed, z);
        return Some(diff(CauseKind::BilledNotInLog, Some(m), None, billed));
    };
    let replay_charged = s.free.is_none() && !s.unpriced;
    let kind = match (m.failed, m.free, replay_charged) {
        (true, _, true) => CauseKind::NotDelivered,
        (false, Some(t), true) => CauseKind::FreeOnBillOnly(t),
        (false, None, false) if !s.unpriced => {
            CauseKind::FreeInReplayOnly(s.free.unwrap_or("free"))
        }
        (false, None, true) if m.category.is_some_and(|c| c != s.key.2) => {
            CauseKind::CategoryDisagreement {
                log: s.key.2,
                bill: priced.key.2,
            }
        }
        (false, None, true) if priced.amount != s.amount => CauseKind::UnitPrice,
        _ => return None,
    };
    let replayed = if replay_charged { s.amount } else { z };
    causes.add(kind, at, 1, priced.amount, replayed);
    Some(diff(kind, Some(m), Some(s), priced.amount))
}

fn diff(
    kind: CauseKind,
    m: Option<&BillMessage>,
    s: Option<&Sent>,
    billed: Decimal,
) -> MessageDiff {
    let bill_reason = m.map(|m| match (m.failed, m.free) {
        (true, _) => "not delivered".to_string(),
        (false, Some(t)) => t.to_string(),
        (false, None) => "regular (charged)".to_string(),
    });
    MessageDiff {
        kind,
        bill_id: m.map(|m| m.id.clone()).unwrap_or_default(),
        contact: match (s, m) {
            (Some(s), _) => s.contact_name.clone(),
            (None, Some(m)) => m.recipient.clone(),
            (None, None) => String::new(),
        },
        at: s.map(|s| s.at).or(m.map(|m| m.at)).unwrap_or_default(),
        log_line: s.map(|s| s.line).unwrap_or(0),
        bill_line: m.map(|m| m.line).unwrap_or(0),
        log_category: s.map(|s| s.key.2.to_string()).unwrap_or_default(),
        bill_category: m.and_then(|m| m.category).unwrap_or_default().to_string(),
        replayed: s
            .filter(|s| s.free.is_none())
            .map(|s| s.amount)
            .unwrap_or_default(),
        billed,
        simcost_reason: s.map(Sent::reason).unwrap_or_default(),
        bill_reason: bill_reason.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Country;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn tally(quantity: u64, amount: &str, free: u64, free_tier: u64) -> Tally {
        Tally {
            quantity,
            amount: dec(amount),
            free,
            free_entry_point: 0,
            free_tier,
        }
    }

    fn row(cc: &str, category: &'static str, bill: Tally, replay: Tally) -> Row {
        let place = Place::Country(Country::parse(cc).unwrap());
        Row {
            key: (2026 * 12 + 2, place, category),
            bill,
            replay,
        }
    }

    /// Worked by hand: BR marketing 3 billed at 0.0625 against 1 replayed; BR utility none
    /// billed (1 free customer service) against 2 replayed at 0.0068; BR authentication 1 at
    /// 0.0075 against 0.0068; BR service 1 billed at 0.0068 against 1 in the replay's free
    /// tier; DE marketing 1 replayed at 0.1365, none billed.
    #[test]
    fn aggregate_causes_in_their_order() {
        let rows = [
            row(
                "BR",
                "marketing",
                tally(3, "0.1875", 0, 0),
                tally(1, "0.0625", 0, 0),
            ),
            row(
                "BR",
                "utility",
                tally(0, "0", 1, 0),
                tally(2, "0.0136", 0, 0),
            ),
            row(
                "BR",
                "authentication",
                tally(1, "0.0075", 0, 0),
                tally(1, "0.0068", 0, 0),
            ),
            row(
                "BR",
                "service",
                tally(1, "0.0068", 0, 0),
                tally(0, "0", 1, 1),
            ),
            row(
                "DE",
                "marketing",
                tally(0, "0", 0, 0),
                tally(1, "0.1365", 0, 0),
            ),
        ];
        let got: Vec<(&str, String, &str, u64, Decimal)> = aggregate(&rows)
            .iter()
            .map(|c| {
                (
                    c.kind.name(),
                    c.kind.detail(),
                    c.category,
                    c.count,
                    c.amount,
                )
            })
            .collect();
        let want = [
            (
                "category_disagreement",
                "log utility, bill marketing",
                "marketing",
                1,
                "0.0557",
            ),
            ("billed_not_in_log", "", "marketing", 1, "0.0625"),
            ("in_log_not_billed", "", "marketing", 1, "-0.1365"),
            (
                "free_on_bill_only",
                "free_customer_service",
                "utility",
                1,
                "-0.0068",
            ),
            ("free_in_replay_only", "free_tier", "service", 1, "0.0068"),
            ("unit_price", "", "authentication", 1, "0.0007"),
        ];
        let want: Vec<(&str, String, &str, u64, Decimal)> = (want.iter())
            .map(|(k, d, c, n, a)| (*k, d.to_string(), *c, *n, dec(a)))
            .collect();
        assert_eq!(got, want);
        // The causes explain the whole difference: 0.2018 billed - 0.2194 replayed.
        let sum: Decimal = aggregate(&rows).iter().map(|c| c.amount).sum();
        assert_eq!(sum, dec("-0.0176"));
        let markup = aggregate(&rows).iter().find_map(|c| c.markup_percent());
        assert_eq!(markup, Some(dec("10.29")), "0.0075 / 0.0068 - 1");
    }

    fn bill_message(id: &str, contact: u64, at: i64) -> BillMessage {
        BillMessage {
            id: id.into(),
            line: 1,
            recipient: contact.to_string(),
            contact: Some(contact),
            at: at * 1_000_000,
            category: None,
            free: None,
            failed: false,
            amount: None,
        }
    }

    fn sent(contact: u64, at: i64) -> Sent {
        Sent {
            event: 0,
            contact: Some(contact),
            contact_name: format!("+{contact}"),
            at: at * 1_000_000,
            day: 0,
            key: (0, Place::Any, "marketing"),
            amount: Decimal::ZERO,
            free: None,
            unpriced: false,
            why: crate::engine::Why::PerMessageTemplate,
            assumed: false,
            line: 0,
        }
    }

    #[test]
    fn messages_pair_by_contact_and_time_within_a_minute() {
        let log = [sent(1, 100), sent(1, 130), sent(2, 100), sent(1, 1000)];
        // In time order: e (99) takes 100, b (101) takes 130, a (131) finds both taken and
        // 1000 too far; c is 61 s from 100; d's contact has no message; f is 60 s from 1000.
        let bill = [
            bill_message("a", 1, 131),
            bill_message("b", 1, 101),
            bill_message("c", 2, 161),
            bill_message("d", 3, 100),
            bill_message("e", 1, 99),
            bill_message("f", 1, 1060),
        ];
        let want = [None, Some(1), None, None, Some(0), Some(3)];
        assert_eq!(pair(&bill, &log), want);
    }
}
