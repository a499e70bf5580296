//! Prices from the rate cards, and the price part of a billed line: sessions, per-message
//! charges with the monthly allowance, whatsapp-meta charges with the free tiers.

use super::pools::{pool_index, MonthState, NumberPool, PoolKind, TierPools};
use super::{Price, Stats};
use crate::calendar::{date_from_days, month_index};
use crate::engine::MetaCharge;
use crate::event::{Category, Country, Event};
use crate::rates::meta::{FreeTierCounts, MetaColumn, MetaPrice, MetaSpec};
use crate::rates::{Card, Model, Rules};

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

/// An account's country (primary business location): the accounts file's, else
/// `--account-country` (docs/billing-rules.md §1), resolved once per account by the biller;
/// `None` when neither gives one.
pub(super) fn country_of(_account: u32, account_country: Option<Country>) -> Option<Country> {
    account_country
}

/// A charged session at the card's session price.
#[inline(always)]
pub(super) fn session_price(
    model: &Model,
    ev: &Event,
    cell: &mut Stats,
    month: &mut MonthState,
) -> Price {
    let p = look_up(model, ev, session_column(model.rules));
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
    model: &Model,
    ev: &Event,
    cat: Category,
    (free, runs): (u64, bool),
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
) -> Price {
    let p = look_up(model, ev, message_column(model.rules, cat));
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
    model: &Model,
    ev: &Event,
    cell: &mut Stats,
    month: &mut MonthState,
) -> Price {
    let Some(i) = model.international else {
        return Price::Unpriced;
    };
    let p = look_up(model, ev, i.column);
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
    model: &Model,
    ev: &Event,
    mc: &MetaCharge,
    (free_tier, runs): (Option<(FreeTierCounts, u32)>, bool),
    (cell, month): (&mut Stats, &mut MonthState),
    low_months: &mut i64,
    mut sender: Sender,
) -> (Price, MetaColumn) {
    let number = sender.number.take();
    let (list, card, column) = look_up_meta(model, ev, mc, sender);
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

/// The column of the once-per-session price (the channel registry's).
fn session_column(rules: Rules) -> usize {
    rules.session_column
}

/// The column of a per-message price of `cat` (the channel registry's).
fn message_column(rules: Rules, cat: Category) -> usize {
    (rules.message_column)(cat)
}

fn look_up(model: &Model, ev: &Event, column: usize) -> Price {
    let Card::Country(card) = &model.card else {
        return Price::Unpriced;
    };
    match card.price(ev.country, ev.day, column) {
        Some(p) => Price::Priced {
            amount: p.amount,
            rate_country: p.row.country,
            rate_from: p.row.effective_from,
            market: None,
            carried_forward: false,
        },
        None => Price::Unpriced,
    }
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
/// column that priced it.
fn look_up_meta(
    model: &Model,
    ev: &Event,
    mc: &MetaCharge,
    sender: Sender,
) -> (Price, PricedFrom, MetaColumn) {
    let Card::Meta(spec) = &model.card else {
        return (Price::Unpriced, PricedFrom::ModelCard, mc.column);
    };
    let market = spec.markets.market_of(ev.country, mc.price_day);
    let name = spec.markets.name(market);
    let column = meta_column(spec, name, ev, mc, &sender);
    let priced = |p: MetaPrice| Price::Priced {
        amount: p.amount,
        rate_country: None,
        rate_from: Some(p.card_date),
        market: Some(market),
        carried_forward: p.carried_forward,
    };
    if let (true, Some(pools), Some(tiers)) = (mc.volume_tiers, sender.tiers, &spec.tiers) {
        if let Some(tiered) = tiers.bands(market, column, mc.price_day) {
            // The pool is the portfolio's calendar month of the message, whatever --as-of says.
            let month = month_index(date_from_days(ev.day));
            let key = (sender.portfolio, month, market, column);
            let p = Price::Priced {
                amount: pools.draw(key, &tiered),
                rate_country: None,
                rate_from: Some(tiered.card_date),
                market: Some(market),
                carried_forward: false,
            };
            return (p, PricedFrom::ModelCard, column);
        }
    }
    if let Some(local) = sender.local {
        if let Some(p) = spec.local_price(local, name, mc.price_day, column) {
            return (priced(p), PricedFrom::LocalCard, column);
        }
    }
    match spec.price(name, mc.price_day, column) {
        Some((p, true)) => (priced(p), PricedFrom::UsdConverted, column),
        Some((p, false)) => (priced(p), PricedFrom::ModelCard, column),
        None => (Price::Unpriced, PricedFrom::ModelCard, column),
    }
}

/// The card column of a Meta charge: authentication-international for an authentication
/// charge when the era applies it, the sender's country is known and is not the recipient's,
/// and the market's card has an authentication-international rate in force.
fn meta_column(
    spec: &MetaSpec,
    market: &str,
    ev: &Event,
    mc: &MetaCharge,
    sender: &Sender,
) -> MetaColumn {
    let intl = MetaColumn::AuthenticationInternational;
    let foreign =
        country_of(sender.account, sender.account_country).is_some_and(|c| c != ev.country);
    if mc.column == MetaColumn::Authentication
        && mc.international
        && foreign
        && spec.price(market, mc.price_day, intl).is_some()
    {
        intl
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
        let price = |cat| look_up(&m, &ev, message_column(m.rules, cat)).amount();
        assert_eq!(price(Category::Marketing), dec("0.07"));
        assert_eq!(price(Category::Utility), dec("0.05"));
        assert_eq!(price(Category::Authentication), dec("0.05"));
        assert_eq!(
            look_up(&m, &ev, session_column(m.rules)).amount(),
            dec("0.03")
        );
    }

    #[test]
    fn a_charged_session_counts_and_adds_to_linear_spend() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cell, mut month) = (Stats::default(), MonthState::default());
        let p = session_price(&m, &ev, &mut cell, &mut month);
        assert_eq!(p.amount(), dec("0.03"));
        assert_eq!((cell.sessions_charged, month.linear), (1, dec("0.03")));
    }

    #[test]
    fn the_allowance_covers_the_first_messages_of_the_month() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cell, mut month) = (Stats::default(), MonthState::default());
        let mut low_months = 0;
        let mut bill = |low_months: &mut i64| {
            message_price(
                &m,
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
