//! Meta's WhatsApp pricing data: markets by calling country and date, dated market rate cards with
//! carry-forward of partial cards, and the pricing eras (docs/billing-rules.md §4, `whatsapp-meta`).

use super::fx::Conversion;
use super::table::{cell, check_money, RateCsv, MAX_PRICE};
use crate::calendar::days_since_epoch;
use crate::error::Result;
use crate::event::Country;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

/// Index into `Markets::names`.
pub type MarketId = u16;

/// The market of a country on a date. A country that no row lists is `Other` (Meta's rule).
pub struct Markets {
    pub names: Vec<String>,
    /// Per country: (from day, to day inclusive, market).
    by_country: FxHashMap<Country, Vec<(i32, i32, MarketId)>>,
    pub other: MarketId,
}

impl Markets {
    pub fn parse(file: &str, text: &str) -> Result<Markets> {
        let t = RateCsv::parse(file, text)?;
        let err = |line: u64, msg: String| t.err(line, msg);
        let (cc, mk, from, to) = (
            t.column("country")?,
            t.column("market")?,
            t.column("from")?,
            t.column("to")?,
        );
        let mut m = Markets {
            names: vec!["Other".to_string()],
            by_country: FxHashMap::default(),
            other: 0,
        };
        // Per country: its spans (from, to, market) so far, with their lines.
        type Seen = FxHashMap<Country, Vec<((i32, i32, MarketId), u64)>>;
        let mut lines: Seen = FxHashMap::default();
        for (line, rec) in &t.rows {
            let line = *line;
            let c = cell(rec, cc);
            let country = Country::parse(c)
                .ok_or_else(|| err(line, format!("not an ISO country code ({c})")))?;
            let day = |i: usize, open: i32| -> Result<i32> {
                let s = cell(rec, i);
                if s.is_empty() {
                    return Ok(open);
                }
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(days_since_epoch)
                    .map_err(|_| err(line, format!("not a YYYY-MM-DD date ({s})")))
            };
            let market = m.id(cell(rec, mk));
            let span = (day(from, i32::MIN)?, day(to, i32::MAX)?, market);
            if span.0 > span.1 {
                return Err(err(line, format!("from is after to ({c})")));
            }
            // Overlapping spans for one country: the first would win silently.
            let seen = lines.entry(country).or_default();
            if let Some((_, first)) = seen.iter().find(|(s, _)| s.0 <= span.1 && span.0 <= s.1) {
                return Err(err(
                    line,
                    format!("a second market for {c} on the same dates; line {first} has one"),
                ));
            }
            seen.push((span, line));
            m.by_country.entry(country).or_default().push(span);
        }
        Ok(m)
    }

    fn id(&mut self, name: &str) -> MarketId {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i as MarketId,
            None => {
                self.names.push(name.to_string());
                (self.names.len() - 1) as MarketId
            }
        }
    }

    /// The countries the market table lists, sorted.
    pub fn countries(&self) -> Vec<Country> {
        let mut c: Vec<Country> = self.by_country.keys().copied().collect();
        c.sort();
        c
    }

    pub fn market_of(&self, country: Country, day: i32) -> MarketId {
        self.by_country
            .get(&country)
            .and_then(|spans| spans.iter().find(|(f, t, _)| *f <= day && day <= *t))
            .map(|s| s.2)
            .unwrap_or(self.other)
    }

    pub fn name(&self, id: MarketId) -> &str {
        &self.names[id as usize]
    }
}

/// The price columns of a Meta card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetaColumn {
    BusinessInitiated = 0,
    UserInitiated = 1,
    Marketing = 2,
    Utility = 3,
    Authentication = 4,
    Service = 5,
    /// Authentication to a market with an authentication-international rate, sent by a business
    /// located in another country (docs/billing-rules.md §4).
    AuthenticationInternational = 6,
}

impl MetaColumn {
    /// The column name, also the category the ledger shows for a Meta charge.
    pub fn name(self) -> &'static str {
        COLUMNS[self as usize]
    }
}

const COLUMNS: [&str; 7] = [
    "business_initiated",
    "user_initiated",
    "marketing",
    "utility",
    "authentication",
    "service",
    "authentication_international",
];

struct MetaRow {
    from_day: i32,
    from: NaiveDate,
    prices: [Option<Decimal>; 7],
    line: u64,
}

/// A price from a Meta card, with the card date it came from.
#[derive(Clone, Copy, Debug)]
pub struct MetaPrice {
    pub amount: Decimal,
    pub card_date: NaiveDate,
    /// The card in force on the date has no price for this market and column: the market's
    /// previous price was carried forward.
    pub carried_forward: bool,
}

/// Meta's dated market cards in one currency.
pub struct MetaCard {
    by_market: FxHashMap<String, Vec<MetaRow>>,
    /// Every card date in this currency, sorted.
    card_days: Vec<i32>,
}

impl MetaCard {
    pub fn parse(file: &str, text: &str, currency: &str) -> Result<MetaCard> {
        let t = RateCsv::parse(file, text)?;
        let err = |line: u64, msg: String| t.err(line, msg);
        let (fc, mc, cc) = (
            t.column("effective_from")?,
            t.column("market")?,
            t.column("currency")?,
        );
        // authentication_international came later: a card without the column has no such rate
        let pc: Vec<Option<usize>> = (COLUMNS.iter())
            .map(|c| match t.column(c) {
                Err(_) if *c == "authentication_international" => Ok(None),
                r => r.map(Some),
            })
            .collect::<Result<_>>()?;
        let mut card = MetaCard {
            by_market: FxHashMap::default(),
            card_days: Vec::new(),
        };
        for (line, rec) in &t.rows {
            let line = *line;
            if cell(rec, cc) != currency {
                continue;
            }
            let f = cell(rec, fc);
            let from = NaiveDate::parse_from_str(f, "%Y-%m-%d").map_err(|_| {
                err(
                    line,
                    format!("effective_from is not a YYYY-MM-DD date ({f})"),
                )
            })?;
            let mut prices = [None; 7];
            for (k, i) in pc.iter().enumerate() {
                let Some(i) = *i else { continue };
                let v = cell(rec, i);
                if v.is_empty() {
                    continue;
                }
                let d: Decimal = v.parse().map_err(|_| {
                    err(
                        line,
                        format!("{} is not a decimal number ({v})", COLUMNS[k]),
                    )
                })?;
                check_money(d, MAX_PRICE, "a price")
                    .map_err(|m| err(line, format!("{} {m} ({v})", COLUMNS[k])))?;
                prices[k] = Some(d);
            }
            let from_day = days_since_epoch(from);
            card.card_days.push(from_day);
            let market = cell(rec, mc);
            let rows = card.by_market.entry(market.to_string()).or_default();
            // Two rows for one market and date: which one prices would depend on the sort.
            if let Some(first) = rows.iter().find(|r| r.from_day == from_day) {
                return Err(err(
                    line,
                    format!(
                        "a second {currency} row for {market} from {from}; line {} has one",
                        first.line
                    ),
                ));
            }
            rows.push(MetaRow {
                from_day,
                from,
                prices,
                line,
            });
        }
        for rows in card.by_market.values_mut() {
            rows.sort_by_key(|r| r.from_day);
        }
        card.card_days.sort_unstable();
        card.card_days.dedup();
        Ok(card)
    }

    /// The price of `column` for `market` on `day`: the market's latest row on or before the day
    /// with that price; carried forward when a later card in force lacks it.
    pub fn price(&self, market: &str, day: i32, column: MetaColumn) -> Option<MetaPrice> {
        let rows = self.by_market.get(market)?;
        let n = rows.partition_point(|r| r.from_day <= day);
        let row = rows[..n]
            .iter()
            .rev()
            .find(|r| r.prices[column as usize].is_some())?;
        let latest_card = self.card_days[..self.card_days.partition_point(|&d| d <= day)]
            .last()
            .copied()
            .unwrap_or(i32::MIN);
        Some(MetaPrice {
            amount: row.prices[column as usize]?,
            card_date: row.from,
            carried_forward: row.from_day < latest_card,
        })
    }
}

/// The currencies of a Meta prices CSV's rows, each once, sorted.
pub fn card_currencies(file: &str, text: &str) -> Result<Vec<String>> {
    let t = RateCsv::parse(file, text)?;
    let c = t.column("currency")?;
    let mut all: Vec<String> = t.rows.iter().map(|(_, r)| cell(r, c).to_string()).collect();
    all.sort();
    all.dedup();
    Ok(all)
}

/// One volume band of a tier card: messages `from..=to` of a month (`to` open for the last band)
/// are priced at `rate`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub from: u64,
    pub to: Option<u64>,
    pub rate: Decimal,
}

/// The bands of one market, category and card date.
struct TierCard {
    from_day: i32,
    from: NaiveDate,
    bands: Vec<Band>,
    line: u64,
}

/// Meta's volume tiers in one currency (rates/README.md, `whatsapp-meta-tiers.csv`): per market
/// and column (utility, authentication, authentication-international), the graduated bands of
/// each card date.
pub struct MetaTiers {
    by_key: FxHashMap<(String, MetaColumn), Vec<TierCard>>,
    /// `by_key` by market id (`resolve`): no string is hashed per message.
    by_id: FxHashMap<(MarketId, MetaColumn), Vec<TierCard>>,
}

/// Bands found by `MetaTiers::bands`: the card date, and the bands.
pub struct Tiered<'t> {
    pub card_date: NaiveDate,
    pub bands: &'t [Band],
}

impl Tiered<'_> {
    /// The rate of the band that a month's count `n` (counted from 1, this message included)
    /// falls in; and the room left in that band after it (`None`: the last, open band).
    pub fn rate(&self, n: u64) -> (Decimal, Option<u64>) {
        let i = self.bands.partition_point(|b| b.from <= n).max(1) - 1;
        let b = self.bands[i];
        (b.rate, b.to.map(|t| t.saturating_sub(n)))
    }

    /// The narrowest band's width: fewer messages than this in one instant cannot cross a
    /// boundary unless the count is already near one.
    pub fn narrowest(&self) -> u64 {
        (self.bands.iter())
            .filter_map(|b| b.to.map(|t| t - b.from + 1))
            .min()
            .unwrap_or(u64::MAX)
    }
}

impl MetaTiers {
    pub fn parse(file: &str, text: &str, currency: &str) -> Result<MetaTiers> {
        let t = RateCsv::parse(file, text)?;
        let err = |line: u64, msg: String| t.err(line, msg);
        // The card's columns up to `rate` (then `source` and `note`, not read here).
        let names = &super::import_meta::TIER_HEADER[..7];
        let c: Vec<usize> = names.iter().map(|n| t.column(n)).collect::<Result<_>>()?;
        let mut tiers = MetaTiers {
            by_key: FxHashMap::default(),
            by_id: FxHashMap::default(),
        };
        for (line, rec) in &t.rows {
            let line = *line;
            if cell(rec, c[2]) != currency {
                continue;
            }
            let (from, column, band) = tier_row(&t, &c, line, rec)?;
            let cards = tiers
                .by_key
                .entry((cell(rec, c[1]).to_string(), column))
                .or_default();
            let from_day = days_since_epoch(from);
            match cards.iter_mut().find(|k| k.from_day == from_day) {
                Some(k) => k.bands.push(band),
                None => cards.push(TierCard {
                    from_day,
                    from,
                    bands: vec![band],
                    line,
                }),
            }
        }
        for ((market, column), cards) in &mut tiers.by_key {
            cards.sort_by_key(|k| k.from_day);
            for k in cards.iter_mut() {
                k.bands.sort_by_key(|b| b.from);
                contiguous(&k.bands).map_err(|m| {
                    err(
                        k.line,
                        format!("{market} {} from {}: {m}", column.name(), k.from),
                    )
                })?;
            }
        }
        Ok(tiers)
    }

    /// The bands in force on `day` for `market` and `column`; `None` where the market has no
    /// tiers (its list rate applies to every message).
    pub fn bands(&self, market: MarketId, column: MetaColumn, day: i32) -> Option<Tiered<'_>> {
        let cards = self.by_id.get(&(market, column))?;
        let n = cards.partition_point(|k| k.from_day <= day);
        let k = cards[..n].last()?;
        Some(Tiered {
            card_date: k.from,
            bands: &k.bands,
        })
    }

    /// Keys the cards by the market table's ids; a market the table does not name has no
    /// country, so no message reaches its tiers.
    pub fn resolve(&mut self, markets: &Markets) {
        for ((name, column), cards) in std::mem::take(&mut self.by_key) {
            if let Some(id) = markets.names.iter().position(|n| *n == name) {
                self.by_id.insert((id as MarketId, column), cards);
            }
        }
    }

    /// The narrowest band of any card (`u64::MAX`: none).
    pub fn narrowest(&self) -> u64 {
        (self.by_key.values().chain(self.by_id.values()).flatten())
            .map(|k| {
                Tiered {
                    card_date: k.from,
                    bands: &k.bands,
                }
                .narrowest()
            })
            .min()
            .unwrap_or(u64::MAX)
    }
}

/// One row of a tier card: its date, column and band.
fn tier_row(
    t: &RateCsv,
    c: &[usize],
    line: u64,
    rec: &csv::StringRecord,
) -> Result<(NaiveDate, MetaColumn, Band)> {
    let err = |line: u64, msg: String| t.err(line, msg);
    let f = cell(rec, c[0]);
    let from = NaiveDate::parse_from_str(f, "%Y-%m-%d").map_err(|_| {
        err(
            line,
            format!("effective_from is not a YYYY-MM-DD date ({f})"),
        )
    })?;
    let cat = cell(rec, c[3]);
    let column = match cat {
        "utility" => MetaColumn::Utility,
        "authentication" => MetaColumn::Authentication,
        "authentication_international" => MetaColumn::AuthenticationInternational,
        _ => {
            let msg = "category is not utility, authentication or authentication_international";
            return Err(err(line, format!("{msg} ({cat})")));
        }
    };
    let count = |i: usize, what: &str| -> Result<Option<u64>> {
        let v = cell(rec, c[i]);
        if v.is_empty() {
            return Ok(None);
        }
        match v.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(err(
                line,
                format!("{what} is not a whole number from 1 ({v})"),
            )),
        }
    };
    let vfrom =
        count(4, "volume_from")?.ok_or_else(|| err(line, "volume_from is missing".into()))?;
    let vto = count(5, "volume_to")?;
    if vto.is_some_and(|to| to < vfrom) {
        return Err(err(
            line,
            format!("volume_to is below volume_from ({vfrom})"),
        ));
    }
    let r = cell(rec, c[6]);
    let rate: Decimal = r
        .parse()
        .map_err(|_| err(line, format!("rate is not a decimal number ({r})")))?;
    check_money(rate, MAX_PRICE, "a price").map_err(|m| err(line, format!("rate {m} ({r})")))?;
    let band = Band {
        from: vfrom,
        to: vto,
        rate,
    };
    Ok((from, column, band))
}

/// Bands sorted by `from`: the first from 1, each next one right after the previous, only the
/// last one open.
fn contiguous(bands: &[Band]) -> std::result::Result<(), String> {
    let mut next = 1;
    for (i, b) in bands.iter().enumerate() {
        if b.from != next {
            return Err(format!("bands must start at 1 and follow each other without gap or overlap (a band from {} where {next} was due)", b.from));
        }
        match b.to {
            Some(to) => next = to + 1,
            None if i + 1 < bands.len() => {
                return Err(format!(
                    "only the last band may have no volume_to (the band from {})",
                    b.from
                ))
            }
            None => {}
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pricing {
    Conversation,
    Category,
    PerMessage,
}

/// What a monthly free tier counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FreeTierCounts {
    Conversations,
    ServiceConversations,
    ServiceMessages,
}

/// The rules in force from `from_day` until the next era.
#[derive(Clone, Debug)]
pub struct Era {
    pub from: NaiveDate,
    pub from_day: i32,
    pub pricing: Pricing,
    pub free_tier: u32,
    pub free_tier_counts: Option<FreeTierCounts>,
    pub service_free: bool,
    pub utility_in_window_free: bool,
    pub service_charged: bool,
    /// Countries whose numbers receive no marketing templates (Meta paused marketing to US
    /// numbers from 2025-04-01): not delivered, not charged.
    pub marketing_paused: Vec<Country>,
    /// Utility and authentication priced by the volume tiers of the tier card (2025-07-01).
    pub volume_tiers: bool,
    /// Authentication from a business located in another country than the recipient is priced
    /// at the market's authentication-international rate, where the card has one in force.
    /// The business is assumed above Meta's eligibility threshold (`threshold`).
    pub authentication_international: bool,
    /// Meta's eligibility threshold (messages outside the window in a moving 30 days): recorded
    /// with its date for the report and the docs; simcost does not count it (see rates/README.md).
    pub authentication_international_threshold: Option<u64>,
    /// Hours of the free entry point window a business reply opens, when it answers within the
    /// customer service window a customer message from an ad or a Page call-to-action opened
    /// (Meta, from 2023-03-01: 72); 0: no such window.
    pub free_entry_point_hours: u32,
    /// The monthly free tier counts per business phone number (`business_number`) rather than
    /// per account (Meta, service messages from 2026-10-01).
    pub free_tier_per_number: bool,
}

/// A local-currency card (Meta publishes INR, BRL, EUR... cards beside USD) for accounts billed in
/// that currency (accounts file `currency`), with the conversion of its prices into the model's
/// currency, the report's (fx.csv).
pub struct LocalCard {
    pub currency: String,
    pub card: MetaCard,
    pub to_model: Conversion,
}

pub struct MetaSpec {
    pub markets: Markets,
    /// The cards of the other currencies of the prices CSV that fx.csv converts into the
    /// model's currency (an account in one of them is priced from its card).
    pub locals: Vec<LocalCard>,
    /// The cards in the model's currency: a local-currency card when it is not USD.
    pub card: MetaCard,
    /// For a model in another currency than USD: the USD cards and their conversion into the
    /// model's currency (fx.csv), for markets and dates the local card does not price.
    pub usd: Option<Box<(MetaCard, Conversion)>>,
    /// Meta's volume tiers in the model's currency (`tiers` key), if any.
    pub tiers: Option<MetaTiers>,
    /// Sorted by `from_day`.
    pub eras: Vec<Era>,
    pub conversation_hours: i64,
}

/// Decimal places a converted price keeps (the most a card price may have: rates/README.md).
const CONVERTED_PLACES: u32 = super::table::MAX_PLACES;

impl MetaSpec {
    /// The price of `column` for `market` on `day`: from the card in the model's currency, else
    /// (a model in another currency) from the USD card converted with fx.csv, rounded half to
    /// even to 8 places; `true` when converted.
    pub fn price(&self, market: &str, day: i32, column: MetaColumn) -> Option<(MetaPrice, bool)> {
        if let Some(p) = self.card.price(market, day, column) {
            return Some((p, false));
        }
        let (usd, conversion) = &**self.usd.as_ref()?;
        let p = usd.price(market, day, column)?;
        // Within the ranges (a price at most 1,000, a factor at most 1e12) it cannot overflow.
        let amount = conversion.apply(p.amount).ok()?;
        let amount = amount.round_dp_with_strategy(
            CONVERTED_PLACES,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        Some((MetaPrice { amount, ..p }, true))
    }

    /// The price of `column` for `market` on `day` from the local-currency card `local` (an index
    /// into `locals`), converted into the model's currency and rounded half to even to 8 places;
    /// `None` when that card has none (the account is then priced as any other).
    pub fn local_price(
        &self,
        local: usize,
        market: &str,
        day: i32,
        column: MetaColumn,
    ) -> Option<MetaPrice> {
        let l = self.locals.get(local)?;
        let p = l.card.price(market, day, column)?;
        let amount = l.to_model.apply(p.amount).ok()?.round_dp_with_strategy(
            CONVERTED_PLACES,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        Some(MetaPrice { amount, ..p })
    }

    /// The era in force on `day`; `None` before the first.
    pub fn era(&self, day: i32) -> Option<&Era> {
        let n = self.eras.partition_point(|e| e.from_day <= day);
        n.checked_sub(1).map(|i| &self.eras[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i32 {
        days_since_epoch(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn shipped_markets() -> Markets {
        Markets::parse("m.csv", include_str!("../../rates/whatsapp-markets.csv")).unwrap()
    }

    #[test]
    fn markets_by_date_and_other() {
        let m = shipped_markets();
        let c = |s| Country::parse(s).unwrap();
        let at = |cc, d| m.name(m.market_of(c(cc), day(d))).to_string();
        assert_eq!(at("PL", "2026-06-30"), "Rest of Central & Eastern Europe");
        assert_eq!(at("PL", "2026-07-01"), "Poland");
        assert_eq!(at("DO", "2023-01-01"), "Rest of Latin America");
        assert_eq!(at("ZW", "2025-09-30"), "Other");
        assert_eq!(at("ZW", "2025-10-01"), "Rest of Africa");
        assert_eq!(at("KZ", "2026-10-01"), "Kazakhstan");
        assert_eq!(at("IS", "2026-10-01"), "Other");
        assert_eq!(at("NA", "2026-10-01"), "Rest of Africa");
    }

    #[test]
    fn partial_cards_carry_the_previous_price_forward() {
        let card = MetaCard::parse(
            "r.csv",
            include_str!("../../rates/whatsapp-meta-prices.csv"),
            "USD",
        )
        .unwrap();
        // Germany has a price on the 2026-07-01 card: not carried
        let p = card
            .price("Germany", day("2026-08-01"), MetaColumn::Marketing)
            .unwrap();
        assert_eq!(p.amount.to_string(), "0.1365");
        assert!(!p.carried_forward);
        // Saudi Arabia's utility cell on the 2025-07-01 card is empty (not found): the 2025-04-01
        // price is carried forward
        let p = card
            .price("Saudi Arabia", day("2025-08-01"), MetaColumn::Utility)
            .unwrap();
        assert_eq!(p.amount.to_string(), "0.0115");
        assert_eq!(p.card_date.to_string(), "2025-04-01");
        assert!(p.carried_forward);
        // Poland has no USD price before its first card (2026-07-01, when it became a market)
        assert!(card
            .price("Poland", day("2026-06-30"), MetaColumn::Marketing)
            .is_none());
        // USD 2022 card has no Other prices
        assert!(card
            .price("Other", day("2022-03-01"), MetaColumn::BusinessInitiated)
            .is_none());
    }

    #[test]
    fn a_market_card_has_one_row_per_market_date_and_currency() {
        let head = "effective_from,market,currency,business_initiated,user_initiated,marketing,\
                    utility,authentication,authentication_international,service\n";
        let row = |c: &str, p: &str| format!("2026-01-01,Germany,{c},,,{p},,,,\n");
        let two = format!("{head}{}{}", row("USD", "0.1"), row("USD", "0.2"));
        let e = MetaCard::parse("r.csv", &two, "USD").err().unwrap();
        assert_eq!(
            e.to_string(),
            "r.csv:3: a second USD row for Germany from 2026-01-01; line 2 has one"
        );
        // The same market and date in another currency is another card.
        let other = format!("{head}{}{}", row("USD", "0.1"), row("EUR", "0.2"));
        let card = MetaCard::parse("r.csv", &other, "USD").unwrap();
        let p = card.price("Germany", day("2026-01-02"), MetaColumn::Marketing);
        assert_eq!(p.unwrap().amount.to_string(), "0.1");
        // A price above the documented range.
        let big = format!("{head}{}", row("USD", "1000.01"));
        let e = MetaCard::parse("r.csv", &big, "USD").err().unwrap();
        assert_eq!(
            e.to_string(),
            "r.csv:2: marketing is above 1000, the most a price may be (1000.01)"
        );
    }

    #[test]
    fn a_country_has_one_market_at_a_time() {
        let head = "country,market,from,to\n";
        let e = Markets::parse(
            "m.csv",
            &format!("{head}PL,Poland,2026-07-01,\nPL,Rest,,2026-07-01\n"),
        )
        .err()
        .unwrap();
        assert_eq!(
            e.to_string(),
            "m.csv:3: a second market for PL on the same dates; line 2 has one"
        );
        let e = Markets::parse("m.csv", &format!("{head}PL,Poland,2026-07-01,2026-06-30\n"))
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "m.csv:2: from is after to (PL)");
        let m = Markets::parse(
            "m.csv",
            &format!("{head}PL,Poland,2026-07-01,\nPL,Rest,,2026-06-30\n"),
        )
        .unwrap();
        assert_eq!(
            m.name(m.market_of(Country::parse("PL").unwrap(), day("2026-06-30"))),
            "Rest"
        );
    }

    const TIER_HEAD: &str = "effective_from,market,currency,category,volume_from,volume_to,rate\n";

    #[test]
    fn tiers_price_each_message_at_the_band_its_count_reaches() {
        let text = format!(
            "{TIER_HEAD}2025-07-01,Germany,USD,utility,4,,0.05\n\
             2025-07-01,Germany,USD,utility,1,3,0.055\n\
             2025-07-01,Germany,EUR,utility,1,,0.01\n"
        );
        let mut t = MetaTiers::parse("t.csv", &text, "USD").unwrap();
        let markets = Markets::parse(
            "m.csv",
            "country,market,from,to\nDE,Germany,,\nIN,India,,\n",
        )
        .unwrap();
        t.resolve(&markets);
        let (de, india) = (1, 2);
        assert_eq!(
            (markets.name(de), markets.name(india)),
            ("Germany", "India")
        );
        let b = t.bands(de, MetaColumn::Utility, day("2025-08-01")).unwrap();
        let rate = |n| b.rate(n).0.to_string();
        assert_eq!(
            (rate(1), rate(3), rate(4), rate(1000)),
            ("0.055".into(), "0.055".into(), "0.05".into(), "0.05".into())
        );
        // room left in the band after the count: 3 - 2 = 1; the last band is open
        assert_eq!((b.rate(2).1, b.rate(4).1), (Some(1), None));
        assert_eq!(t.narrowest(), 3);
        // before the card, another column, another market: no tiers
        assert!(t
            .bands(de, MetaColumn::Utility, day("2025-06-30"))
            .is_none());
        assert!(t
            .bands(de, MetaColumn::Authentication, day("2025-08-01"))
            .is_none());
        assert!(t
            .bands(india, MetaColumn::Utility, day("2025-08-01"))
            .is_none());
    }

    #[test]
    fn tier_bands_must_follow_each_other_from_1() {
        let bad = |rows: &str| {
            MetaTiers::parse("t.csv", &format!("{TIER_HEAD}{rows}"), "USD")
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            bad("2025-07-01,Germany,USD,utility,1,3,0.05\n2025-07-01,Germany,USD,utility,5,,0.04\n"),
            "t.csv:2: Germany utility from 2025-07-01: bands must start at 1 and follow each other \
             without gap or overlap (a band from 5 where 4 was due)"
        );
        assert_eq!(
            bad("2025-07-01,Germany,USD,utility,1,,0.05\n2025-07-01,Germany,USD,utility,4,,0.04\n"),
            "t.csv:2: Germany utility from 2025-07-01: only the last band may have no volume_to \
             (the band from 1)"
        );
        assert_eq!(
            bad("2025-07-01,Germany,USD,service,1,,0.05\n"),
            "t.csv:2: category is not utility, authentication or authentication_international (service)"
        );
        assert_eq!(
            bad("2025-07-01,Germany,USD,utility,0,,0.05\n"),
            "t.csv:2: volume_from is not a whole number from 1 (0)"
        );
    }
}
