//! Prices from the rate cards, and the price part of a billed line: sessions, per-message
//! charges with the monthly allowance, whatsapp-meta charges with the free tiers.

use super::pools::{pool_index, MonthState, NumberPool, PoolKind, TierPools};
use super::{Price, Stats};
use crate::calendar::{date_from_days, month_index};
use crate::engine::MetaCharge;
use crate::event::{Category, Country, Event};
use crate::rates::meta::{Band, FreeTierCounts, MarketId, MetaColumn, MetaPrice, MetaSpec, Tiered};
use crate::rates::PriceRow;
use crate::rates::{Card, Model};
use chrono::NaiveDate;
use rustc_hash::FxHashMap;

/// The sender of a whatsapp-meta message, as its price depends on it.
pub(super) struct Sender<'a> {
    pub(super) account: u32,
    /// The account's home country (accounts file, else `--account-country`).
    pub(super) account_country: Option<Country>,
    /// The business portfolio of the account (volume tiers are pooled per portfolio).
    pub(super) portfolio: u32,
    /// The volume-tier pools; `None` with list prices only.
    pub(super) tiers: Option<&'a mut TierPools>,
    /// The account's local-currency card (an index into `MetaSpec::locals`), if its currency
    /// (accounts file) has one.
    pub(super) local: Option<usize>,
    /// The free tier of the message's business number, when the era counts it per number
    /// and the stream names one; else the account-month's.
    pub(super) number: Option<&'a mut NumberPool>,
}

/// One model's rate-card look-ups as the biller makes them per message. What depends only on
/// the model is resolved once (`Prices::new`: the channel's price columns); what depends on the
/// message's country, day and column is looked up once per distinct key and kept: a log has a
/// few dozen countries and days but millions of messages (issue 17: the registry's column
/// functions, the card's hash look-ups by market name and the international check per message
/// cost a fifth of a business-initiated log's run).
pub(super) struct Prices<'m> {
    pub(super) model: &'m Model,
    session_column: usize,
    /// The column of a per-message price, by `Category as usize`.
    message_columns: [usize; 3],
    /// Country cards: by `Country::index`, the day last priced and the row in force that day.
    rows: Vec<(i32, Option<&'m PriceRow>)>,
    /// Meta cards: each distinct `MetaKey`'s market, column, tier bands and list price.
    meta: FxHashMap<MetaKey, MetaLookup<'m>>,
    /// The last day whose calendar month was asked for (volume-tier pools), and that month.
    month_of_day: (i32, i32),
}

/// What a Meta price depends on besides the pools: (recipient country index, price day,
/// charge column, whether the authentication-international rate may apply (an international
/// era's authentication from a sender abroad), whether volume tiers apply), and the sender's
/// local-currency card plus one (0: none).
type MetaKey = ((u16, i32, u8, bool, bool), usize);

/// A Meta price as far as it does not depend on the pools.
#[derive(Clone, Copy)]
struct MetaLookup<'m> {
    market: MarketId,
    column: MetaColumn,
    /// The volume-tier bands in force (card date, bands), when they price the charge.
    tiered: Option<(NaiveDate, &'m [Band])>,
    /// The list price and its card, when no tier bands price the charge.
    list: (Price, PricedFrom),
}

impl<'m> Prices<'m> {
    pub(super) fn new(model: &'m Model) -> Prices<'m> {
        let rules = model.rules;
        let cats = [
            Category::Marketing,
            Category::Utility,
            Category::Authentication,
        ];
        Prices {
            model,
            session_column: rules.session_column,
            message_columns: cats.map(|c| (rules.message_column)(c)),
            rows: match model.card {
                Card::Country(_) => vec![(i32::MIN, None); 26 * 26],
                Card::Meta(_) => Vec::new(),
            },
            meta: FxHashMap::default(),
            month_of_day: (i32::MIN, 0),
        }
    }

    /// The column of a per-message price of `cat` (the channel registry's, resolved once).
    #[inline(always)]
    fn message_column(&self, cat: Category) -> usize {
        self.message_columns[cat as usize]
    }

    /// The country card's price of `column` for `ev`: its row in force is looked up once per
    /// country and day (the day last asked for is kept per country).
    #[inline(always)]
    fn look_up(&mut self, ev: &Event, column: usize) -> Price {
        let Card::Country(card) = &self.model.card else {
            return Price::Unpriced;
        };
        let row = match self.rows.get_mut(ev.country.index()) {
            Some(slot) => {
                if slot.0 != ev.day {
                    *slot = (ev.day, card.row(ev.country, ev.day));
                }
                slot.1
            }
            None => card.row(ev.country, ev.day),
        };
        match row.and_then(|r| r.prices[column].map(|amount| (amount, r))) {
            Some((amount, row)) => Price::Priced {
                amount,
                rate_country: row.country,
                rate_from: row.effective_from,
                market: None,
                carried_forward: false,
            },
            None => Price::Unpriced,
        }
    }

    /// The calendar month of `day` (the last one asked for is kept: messages come in days).
    #[inline(always)]
    fn month_of(&mut self, day: i32) -> i32 {
        if self.month_of_day.0 != day {
            self.month_of_day = (day, month_index(date_from_days(day)));
        }
        self.month_of_day.1
    }
}

/// An account's country (primary business location): the accounts file's, else
/// `--account-country` (docs/billing-rules.md §1), resolved once per account by the biller;
/// `None` when neither gives one.
pub(super) fn country_of(_account: u32, account_country: Option<Country>) -> Option<Country> {
    account_country
}

/// A charged session at the card's session price.
#[inline(always)]
pub(super) fn session_price(
    prices: &mut Prices,
    ev: &Event,
    cell: &mut Stats,
    month: &mut MonthState,
) -> Price {
    let p = prices.look_up(ev, prices.session_column);
    if !matches!(p, Price::Unpriced) {
        cell.sessions_charged += 1;
    }
    month.linear += p.amount();
    p
}

/// A business-initiated message: free while the month's allowance of `free` lasts (in the
/// order billed), else at the card's price for its category.
#[inline(always)]
pub(super) fn message_price(
    prices: &mut Prices,
    ev: &Event,
    cat: Category,
    (free, runs): (u64, bool),
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
) -> Price {
    let p = prices.look_up(ev, prices.message_column(cat));
    if free == 0 {
        month.linear += p.amount();
        if !matches!(p, Price::Unpriced) {
            cell.business_initiated_charged += 1;
        }
        return p;
    }
    month.pools[0].draw(free, p.amount(), runs);
    if month.allowance_used < free {
        month.allowance_used += 1;
        *low_months += month.recount_low();
        cell.business_initiated_free += 1;
        return Price::Allowance;
    }
    if !matches!(p, Price::Unpriced) {
        cell.business_initiated_charged += 1;
    }
    p
}

/// A message at the card's `international` price: per message, outside any allowance (the
/// allowance counts business-initiated messages; docs/billing-rules.md#viber-domestic-and-international).
#[inline(always)]
pub(super) fn international_price(
    prices: &mut Prices,
    ev: &Event,
    cell: &mut Stats,
    month: &mut MonthState,
) -> Price {
    let Some(i) = prices.model.international else {
        return Price::Unpriced;
    };
    let p = prices.look_up(ev, i.column);
    month.linear += p.amount();
    if !matches!(p, Price::Unpriced) {
        cell.international += 1;
    }
    p
}

/// A whatsapp-meta charge: free while its monthly free tier lasts, else at the market card's
/// price (counted as a conversation or a message as the era bills it).
#[inline(always)]
pub(super) fn meta_price(
    prices: &mut Prices,
    ev: &Event,
    mc: &MetaCharge,
    (free_tier, runs): (Option<(FreeTierCounts, u32)>, bool),
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
    mut sender: Sender,
) -> (Price, MetaColumn) {
    let number = sender.number.take();
    let (list, card, column) = look_up_meta(prices, ev, mc, sender);
    let in_tier = match (free_tier, number) {
        (Some((_, size)), Some(n)) => n.draw((size as u64, list.amount(), runs), month, low_months),
        (Some((counts, size)), None) => {
            let k = pool_index(PoolKind::FreeTier(counts));
            month.pools[k].draw(size as u64, list.amount(), runs);
            month.used[k] < size as u64 && {
                month.used[k] += 1;
                *low_months += month.recount_low();
                true
            }
        }
        (None, _) => {
            month.linear += list.amount();
            false
        }
    };
    if in_tier {
        cell.free_tier += 1;
        return (Price::Allowance, column);
    }
    if let Price::Priced {
        carried_forward, ..
    } = list
    {
        cell.carried_forward += carried_forward as u64;
        cell.converted += (card == PricedFrom::UsdConverted) as u64;
        cell.local_currency += (card == PricedFrom::LocalCard) as u64;
        if mc.conversation {
            cell.sessions_charged += 1;
        } else {
            cell.business_initiated_charged += 1;
        }
    }
    (list, column)
}

/// Which card priced a whatsapp-meta charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PricedFrom {
    /// The model's own card (or its volume tiers), or nothing.
    ModelCard,
    /// The USD card converted into the model's currency (fx.csv).
    UsdConverted,
    /// The account's local-currency card, converted into the model's currency (fx.csv).
    LocalCard,
}

/// A whatsapp-meta price: the recipient's market on the pricing day, the column (an
/// authentication template from abroad may take the authentication-international rate), then
/// the market's volume tiers if it has some in force, else the account's local-currency card,
/// else the market card (the model's currency, else USD converted), with the card and the
/// column that priced it. All but the tier pool's count is looked up once per `MetaKey`.
#[inline(always)]
fn look_up_meta(
    prices: &mut Prices,
    ev: &Event,
    mc: &MetaCharge,
    sender: Sender,
) -> (Price, PricedFrom, MetaColumn) {
    let Card::Meta(spec) = &prices.model.card else {
        return (Price::Unpriced, PricedFrom::ModelCard, mc.column);
    };
    let foreign =
        country_of(sender.account, sender.account_country).is_some_and(|c| c != ev.country);
    let intl = mc.column == MetaColumn::Authentication && mc.international && foreign;
    let tiered = mc.volume_tiers && sender.tiers.is_some() && spec.tiers.is_some();
    let key = (
        (
            ev.country.index() as u16,
            mc.price_day,
            mc.column as u8,
            intl,
            tiered,
        ),
        sender.local.map_or(0, |l| l + 1),
    );
    let found = *(prices.meta.entry(key))
        .or_insert_with(|| meta_lookup(spec, ev.country, mc, (intl, tiered), sender.local));
    if let (Some((card_date, bands)), Some(pools)) = (found.tiered, sender.tiers) {
        // The pool is the portfolio's calendar month of the message, whatever --as-of says.
        let month = prices.month_of(ev.day);
        let key = (sender.portfolio, month, found.market, found.column);
        let p = Price::Priced {
            amount: pools.draw(key, &Tiered { card_date, bands }),
            rate_country: None,
            rate_from: Some(card_date),
            market: Some(found.market),
            carried_forward: false,
        };
        return (p, PricedFrom::ModelCard, found.column);
    }
    (found.list.0, found.list.1, found.column)
}

/// A Meta price as far as it does not depend on the pools (`look_up_meta`): `intl` when the
/// authentication-international rate may apply, `tiered` when the era's volume tiers do.
fn meta_lookup<'m>(
    spec: &'m MetaSpec,
    country: Country,
    mc: &MetaCharge,
    (intl, tiered): (bool, bool),
    local: Option<usize>,
) -> MetaLookup<'m> {
    let day = mc.price_day;
    let market = spec.markets.market_of(country, day);
    let name = spec.markets.name(market);
    let column = meta_column(spec, name, mc, intl);
    let bands = (spec.tiers.as_ref())
        .filter(|_| tiered)
        .and_then(|t| t.bands(market, column, day));
    let priced = |p: MetaPrice| Price::Priced {
        amount: p.amount,
        rate_country: None,
        rate_from: Some(p.card_date),
        market: Some(market),
        carried_forward: p.carried_forward,
    };
    let list = if bands.is_some() {
        (Price::Unpriced, PricedFrom::ModelCard)
    } else if let Some(p) = local.and_then(|l| spec.local_price(l, name, day, column)) {
        (priced(p), PricedFrom::LocalCard)
    } else {
        match spec.price(name, day, column) {
            Some((p, true)) => (priced(p), PricedFrom::UsdConverted),
            Some((p, false)) => (priced(p), PricedFrom::ModelCard),
            None => (Price::Unpriced, PricedFrom::ModelCard),
        }
    };
    MetaLookup {
        market,
        column,
        tiered: bands.map(|t| (t.card_date, t.bands)),
        list,
    }
}

/// The card column of a Meta charge: authentication-international for an authentication
/// charge when the era applies it and the sender's country is known and is not the
/// recipient's (`intl`), and the market's card has an authentication-international rate in
/// force.
fn meta_column(spec: &MetaSpec, market: &str, mc: &MetaCharge, intl: bool) -> MetaColumn {
    let international = MetaColumn::AuthenticationInternational;
    if intl && spec.price(market, mc.price_day, international).is_some() {
        international
    } else {
        mc.column
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::model;
    use crate::event::Script;
    use rust_decimal::Decimal;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// The test card's one row: `*`, session 0.03, transactional 0.05, promotional 0.07.
    fn event() -> Event {
        Script::new()
            .at("2026-03-02 08:00")
            .outbound("template")
            .into_events()[0]
    }

    #[test]
    fn viber_categories_take_their_columns() {
        let (m, ev) = (model("viber", ""), event());
        let mut prices = Prices::new(&m);
        let mut price = |cat| {
            let column = prices.message_column(cat);
            prices.look_up(&ev, column).amount()
        };
        assert_eq!(price(Category::Marketing), dec("0.07"));
        assert_eq!(price(Category::Utility), dec("0.05"));
        assert_eq!(price(Category::Authentication), dec("0.05"));
        let column = prices.session_column;
        assert_eq!(prices.look_up(&ev, column).amount(), dec("0.03"));
    }

    #[test]
    fn a_charged_session_counts_and_adds_to_linear_spend() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cell, mut month) = (Stats::default(), MonthState::default());
        let p = session_price(&mut Prices::new(&m), &ev, &mut cell, &mut month);
        assert_eq!(p.amount(), dec("0.03"));
        assert_eq!((cell.sessions_charged, month.linear), (1, dec("0.03")));
    }

    #[test]
    fn the_allowance_covers_the_first_messages_of_the_month() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cell, mut month) = (Stats::default(), MonthState::default());
        let mut low_months = 0;
        let mut prices = Prices::new(&m);
        let mut bill = |low_months: &mut i64| {
            message_price(
                &mut prices,
                &ev,
                Category::Marketing,
                (2, false),
                (&mut cell, &mut month),
                low_months,
            )
        };
        // An allowance of 2: the first two are free, the month low (1 left) after the first.
        assert_eq!(bill(&mut low_months), Price::Allowance);
        assert_eq!(low_months, 1);
        assert_eq!(bill(&mut low_months), Price::Allowance);
        assert_eq!(low_months, 0);
        assert_eq!(bill(&mut low_months).amount(), dec("0.07"));
        assert_eq!(
            (
                cell.business_initiated_free,
                cell.business_initiated_charged
            ),
            (2, 1)
        );
        // The pool values all three at the card's price; the allowance's charges are not linear.
        let pool = &month.pools[0];
        assert_eq!((pool.size, pool.items, pool.value), (2, 3, dec("0.21")));
        assert_eq!(month.linear, Decimal::ZERO);
    }
}
