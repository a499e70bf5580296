//! Prices from the rate cards, and the price part of a billed line: sessions, per-message
//! charges with the monthly allowance, whatsapp-meta charges with the free tiers.

use super::cells::{CellMut, Hot};
use super::pools::{pool_index, MonthMut, NumberPool, PoolKind, TierPools};
use super::Price;
use crate::calendar::{date_from_days, month_index};
use crate::engine::MetaCharge;
use crate::event::{Category, Country, Event};
use crate::rates::meta::{Band, FreeTierCounts, MarketId, MetaColumn, MetaPrice, MetaSpec, Tiered};
use crate::rates::{Card, Model};
use crate::rates::{PriceCard, PriceRow};
use chrono::NaiveDate;
use rust_decimal::Decimal;
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
    /// The model's country card, if it has one: taken out of `Card` once (matching the enum
    /// per look-up decoded its niche, 8 instructions a message and model).
    country_card: Option<&'m PriceCard>,
    session_column: usize,
    /// The column of a per-message price, by `Category as usize`.
    message_columns: [usize; 3],
    /// Country cards: by `Country::index`, the day last priced and the row in force that day.
    rows: Vec<(i32, Option<&'m PriceRow>)>,
    /// Meta cards: each distinct `MetaKey`'s market, column, tier bands and list price.
    meta: FxHashMap<MetaKey, MetaLookup<'m>>,
    /// Meta cards: by `meta_slot` (country, column, international, tiered), the entry of
    /// `meta_kept` last priced in that slot plus one (0: none yet). A charge finds its price
    /// here by index when its key is the slot's last (the same day and local card), and in
    /// `meta` only when the day or the card changed: a log has a few dozen days and a few
    /// countries, but each key's entry in `meta` (88 bytes, some thousands of them) was a
    /// miss of its own in the cache, and a hash, on every charge (issue 24).
    meta_slots: Vec<u16>,
    /// The key and price last found in each slot used.
    meta_kept: Vec<(MetaKey, MetaLookup<'m>)>,
    /// The last day whose calendar month was asked for (volume-tier pools), and that month.
    month_of_day: (i32, i32),
}

/// An event's country-card row as its engine group hands it to a biller: `Some` when the
/// group looked it up once for its billers, whose cards have the same rows
/// (`Biller::shares_row`: a price depends only on the row's contents), `NO_ROW` when the card
/// has none; `None` when the biller looks it up itself. The three Viber models share one
/// card, and each looked the row up (`Country::index`, the dated row) per charge (issue 24).
/// One pointer: an `Option<Option<&PriceRow>>` is two words, and cost more to hand over and
/// test than the look-ups it saved; and `NO_ROW` rather than `None` for no row, as a quarter
/// of the notifications log's charges are to countries the Viber card has no row for.
pub(super) type GivenRow<'m> = Option<&'m PriceRow>;

/// The row a group hands over for a country and day its card has no row for: no prices.
static NO_ROW: PriceRow = PriceRow::none();

/// What a Meta price depends on besides the pools: its slot (`meta_slot`: the recipient
/// country, the charge column, whether the authentication-international rate may apply (an
/// international era's authentication from a sender abroad), whether volume tiers apply),
/// the price day, and the sender's local-currency card plus one (0: none).
type MetaKey = (u32, i32, usize);

/// Slots of `Prices::meta_slots`: a country (`Country::index`), a column, and the two flags
/// (a slot past them, which no country has, would be added when asked for).
const META_SLOTS: usize = 26 * 26 * META_COLUMNS * 4;

/// The columns of a Meta card (`MetaColumn as usize` is below it).
const META_COLUMNS: usize = 7;
const _: () = assert!(MetaColumn::AuthenticationInternational as usize + 1 == META_COLUMNS);

/// The slot of a Meta price's key in `Prices::meta_slots` (the day and the local card are
/// compared in the slot).
#[inline(always)]
fn meta_slot(country: Country, column: MetaColumn, intl: bool, tiered: bool) -> usize {
    ((country.index() * META_COLUMNS + column as usize) * 2 + intl as usize) * 2 + tiered as usize
}

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
            country_card: match &model.card {
                Card::Country(card) => Some(card),
                Card::Meta(_) => None,
            },
            session_column: rules.session_column,
            message_columns: cats.map(|c| (rules.message_column)(c)),
            rows: match model.card {
                Card::Country(_) => vec![(i32::MIN, None); 26 * 26],
                Card::Meta(_) => Vec::new(),
            },
            meta: FxHashMap::default(),
            meta_slots: match model.card {
                Card::Meta(_) => vec![0; META_SLOTS],
                Card::Country(_) => Vec::new(),
            },
            meta_kept: Vec::new(),
            month_of_day: (i32::MIN, 0),
        }
    }

    /// The Meta price of `key` in slot `slot` (`meta_slot`): the slot's last when its key
    /// is `key`, else `kept_meta_miss`. A reference, not a copy: the caller reads what it
    /// needs from the kept entry (a copy through the stack, read back in other widths than
    /// it was written, stalled on the store forwarding of every charge). What a look-up
    /// needs, `MetaAsked`, is handed over by reference and read on a miss only (a closure
    /// capturing it was written to the stack on every charge).
    #[inline(always)]
    fn kept_meta(
        &mut self,
        slot: usize,
        key: MetaKey,
        asked: &MetaAsked<'_, 'm>,
    ) -> &MetaLookup<'m> {
        let kept = self.meta_slots.get(slot).map_or(0, |&k| k as usize);
        let k = match kept.checked_sub(1) {
            Some(k) if self.meta_kept.get(k).is_some_and(|(last, _)| *last == key) => k,
            _ => self.kept_meta_miss(slot, key, asked),
        };
        &self.meta_kept[k].1
    }

    /// `kept_meta` of a key not the slot's last: found in (or added to) `meta`, then kept as
    /// the slot's last (out of line: once per slot and day in a log in time order); its
    /// index in `meta_kept`.
    #[cold]
    #[inline(never)]
    fn kept_meta_miss(&mut self, slot: usize, key: MetaKey, asked: &MetaAsked<'_, 'm>) -> usize {
        let found = *(self.meta.entry(key)).or_insert_with(|| meta_lookup(asked));
        if self.meta_slots.len() <= slot {
            self.meta_slots.resize(slot + 1, 0);
        }
        let kept = &mut self.meta_slots[slot];
        match (*kept as usize).checked_sub(1) {
            Some(k) => {
                self.meta_kept[k] = (key, found);
                k
            }
            None => {
                self.meta_kept.push((key, found));
                // at most one entry a slot: no more than `META_SLOTS`, which fit in a u16
                *kept = self.meta_kept.len() as u16;
                self.meta_kept.len() - 1
            }
        }
    }

    /// The column of a per-message price of `cat` (the channel registry's, resolved once).
    #[inline(always)]
    fn message_column(&self, cat: Category) -> usize {
        self.message_columns[cat as usize]
    }

    /// The country card's row in force for `ev`, if it has one: looked up once per country
    /// and day (the day last asked for is kept per country).
    #[inline(always)]
    pub(super) fn row(&mut self, ev: &Event) -> Option<&'m PriceRow> {
        let card = self.country_card?;
        match self.rows.get_mut(ev.country.index()) {
            Some(slot) => {
                if slot.0 != ev.day {
                    *slot = (ev.day, card.row(ev.country, ev.day));
                }
                slot.1
            }
            None => card.row(ev.country, ev.day),
        }
    }

    /// `row` as a group hands it to its billers (`GivenRow`): `NO_ROW` for none.
    #[inline(always)]
    pub(super) fn card_row(&mut self, ev: &Event) -> GivenRow<'m> {
        Some(self.row(ev).unwrap_or(&NO_ROW))
    }

    /// The country card's price of `column` for `ev`, from `given` when the group looked
    /// its row up for this biller (`GivenRow`), else from `row`.
    #[inline(always)]
    fn look_up(&mut self, ev: &Event, column: usize, given: GivenRow<'m>) -> Price {
        let row = match given {
            Some(row) => row,
            None => match self.row(ev) {
                Some(row) => row,
                None => return Price::Unpriced,
            },
        };
        // `get`: `NO_ROW` has no prices (the same test as the index's bounds check)
        match row.prices.get(column) {
            Some(&Some(amount)) => Price::Priced {
                amount,
                rate_country: row.country,
                rate_from: row.effective_from,
                market: None,
                carried_forward: false,
            },
            _ => Price::Unpriced,
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

/// `amount` added to a month's linear spend, if the biller sums it (`Biller::volumes`).
#[inline(always)]
fn add_linear(linear: Option<&mut Decimal>, amount: Decimal) {
    if let Some(sum) = linear {
        super::money::add(sum, amount);
    }
}

/// A charged session at the card's session price (added to `linear`, the month's linear
/// spend, if summed).
#[inline(always)]
pub(super) fn session_price<'m>(
    prices: &mut Prices<'m>,
    (ev, given): (&Event, GivenRow<'m>),
    cell: &mut CellMut,
    linear: Option<&mut Decimal>,
) -> Price {
    let p = prices.look_up(ev, prices.session_column, given);
    if !matches!(p, Price::Unpriced) {
        cell.count(Hot::SessionsCharged);
    }
    add_linear(linear, p.amount());
    p
}

/// A business-initiated message of a model with no allowance: at the card's price for its
/// category (added to `linear`, the month's linear spend, if summed).
#[inline(always)]
pub(super) fn charged_message_price<'m>(
    prices: &mut Prices<'m>,
    (ev, given): (&Event, GivenRow<'m>),
    cat: Category,
    cell: &mut CellMut,
    linear: Option<&mut Decimal>,
) -> Price {
    let p = prices.look_up(ev, prices.message_column(cat), given);
    add_linear(linear, p.amount());
    if !matches!(p, Price::Unpriced) {
        cell.count(Hot::BusinessInitiatedCharged);
    }
    p
}

/// A business-initiated message of a model with an allowance of `free` (above 0) a month:
/// free while it lasts (in the order billed), else at the card's price for its category.
#[inline(always)]
pub(super) fn message_price<'m>(
    prices: &mut Prices<'m>,
    (ev, given): (&Event, GivenRow<'m>),
    cat: Category,
    (free, runs): (u64, bool),
    (cell, month): (&mut CellMut, &mut MonthMut),
    low_months: &mut i64,
) -> Price {
    let p = prices.look_up(ev, prices.message_column(cat), given);
    if month.draw(
        pool_index(PoolKind::Allowance),
        (free, p.amount(), runs),
        low_months,
    ) {
        cell.count(Hot::BusinessInitiatedFree);
        return Price::Allowance;
    }
    if !matches!(p, Price::Unpriced) {
        cell.count(Hot::BusinessInitiatedCharged);
    }
    p
}

/// A message at the card's `international` price: per message, outside any allowance (the
/// allowance counts business-initiated messages; docs/billing-rules.md#viber-domestic-and-international);
/// added to `linear`, the month's linear spend, if summed.
#[inline(always)]
pub(super) fn international_price<'m>(
    prices: &mut Prices<'m>,
    (ev, given): (&Event, GivenRow<'m>),
    cell: &mut CellMut,
    linear: Option<&mut Decimal>,
) -> Price {
    let Some(i) = prices.model.international else {
        return Price::Unpriced;
    };
    let p = prices.look_up(ev, i.column, given);
    add_linear(linear, p.amount());
    if !matches!(p, Price::Unpriced) {
        cell.count(Hot::International);
    }
    p
}

/// A whatsapp-meta charge: free while its monthly free tier lasts, else at the market card's
/// price (counted as a conversation or a message as the era bills it); `volumes`: the
/// month's linear spend is summed (`Biller::volumes`).
#[inline(always)]
pub(super) fn meta_price(
    prices: &mut Prices,
    ev: &Event,
    mc: &MetaCharge,
    (free_tier, runs, volumes): (Option<(FreeTierCounts, u32)>, bool, bool),
    (cell, month): (&mut CellMut, &mut MonthMut),
    low_months: &mut i64,
    mut sender: Sender,
) -> (Price, MetaColumn) {
    let number = sender.number.take();
    let (list, card, column) = look_up_meta(prices, ev, mc, sender);
    let in_tier = match (free_tier, number) {
        (Some((_, size)), Some(n)) => n.draw((size as u64, list.amount(), runs), month, low_months),
        (Some((counts, size)), None) => {
            let k = pool_index(PoolKind::FreeTier(counts));
            month.draw(k, (size as u64, list.amount(), runs), low_months)
        }
        (None, _) => {
            add_linear(Some(month.linear()).filter(|_| volumes), list.amount());
            false
        }
    };
    if in_tier {
        cell.count(Hot::FreeTier);
        return (Price::Allowance, column);
    }
    if let Price::Priced {
        carried_forward, ..
    } = list
    {
        // Written only when they count: a log of many accounts misses the cache on each line
        // of a cell a message touches, in each model.
        if carried_forward {
            cell.rare().carried_forward += 1;
        }
        match card {
            PricedFrom::UsdConverted => cell.rare().converted += 1,
            PricedFrom::LocalCard => cell.rare().local_currency += 1,
            _ => {}
        }
        if mc.conversation {
            cell.count(Hot::SessionsCharged);
        } else {
            cell.count(Hot::BusinessInitiatedCharged);
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
    let slot = meta_slot(ev.country, mc.column, intl, tiered);
    let key = (slot as u32, mc.price_day, sender.local.map_or(0, |l| l + 1));
    // The pool is the portfolio's calendar month of the message, whatever --as-of says
    // (asked for before the price is borrowed; the last day's is kept).
    let month = prices.month_of(ev.day);
    let asked = MetaAsked {
        spec,
        country: ev.country,
        mc,
        intl,
        tiered,
        local: sender.local,
    };
    let found = prices.kept_meta(slot, key, &asked);
    if let (Some((card_date, bands)), Some(pools)) = (found.tiered, sender.tiers) {
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

/// What a Meta price not yet kept is looked up from (`meta_lookup`): the card, the
/// recipient's country, the charge, whether the authentication-international rate may apply
/// (`intl`) and the era's volume tiers do (`tiered`), the sender's local-currency card.
struct MetaAsked<'a, 'm> {
    spec: &'m MetaSpec,
    country: Country,
    mc: &'a MetaCharge,
    intl: bool,
    tiered: bool,
    local: Option<usize>,
}

/// A Meta price as far as it does not depend on the pools (`look_up_meta`).
fn meta_lookup<'m>(asked: &MetaAsked<'_, 'm>) -> MetaLookup<'m> {
    let MetaAsked {
        spec,
        country,
        mc,
        intl,
        tiered,
        local,
    } = *asked;
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

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn one_cell() -> super::super::cells::Cells {
        let mut cells = super::super::cells::Cells::default();
        cells.extend(&[0], &[0]);
        cells
    }

    fn one_month() -> super::super::pools::Months {
        let mut months = super::super::pools::Months::default();
        months.fit(1);
        months
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
            prices.look_up(&ev, column, None).amount()
        };
        assert_eq!(price(Category::Marketing), dec("0.07"));
        assert_eq!(price(Category::Utility), dec("0.05"));
        assert_eq!(price(Category::Authentication), dec("0.05"));
        let column = prices.session_column;
        assert_eq!(prices.look_up(&ev, column, None).amount(), dec("0.03"));
    }

    /// A row handed over by the group prices the message from its own prices (another
    /// card's row here: session 0.0100, promotional 0.0400, where the test card's `*` row has
    /// 0.03 and 0.07), `NO_ROW` leaves it unpriced, and none handed over is the card's own.
    #[test]
    fn a_given_row_prices_the_message_and_no_row_leaves_it_unpriced() {
        let (m, ev) = (model("viber", ""), event());
        let Card::Country(own) = &m.card else {
            panic!("a viber model has a country card")
        };
        let text = format!(
            "{}\n{},2026-01-01,0.0100,0.0200,0.0400,0.0600\n",
            own.columns
                .join(",")
                .replacen("", "country,effective_from,", 1),
            ev.country
        );
        let other = PriceCard::parse("b.csv", &text, &own.columns).unwrap();
        let row = other.row(ev.country, ev.day);
        let mut prices = Prices::new(&m);
        let (session, promotional) = (
            prices.session_column,
            prices.message_column(Category::Marketing),
        );
        let mut price = |column, given| prices.look_up(&ev, column, given);
        assert_eq!(price(session, row).amount(), dec("0.0100"));
        assert_eq!(price(promotional, row).amount(), dec("0.0400"));
        assert_eq!(price(session, Some(&NO_ROW)), Price::Unpriced);
        assert_eq!(price(session, None).amount(), dec("0.03"));
        assert_eq!(price(promotional, None).amount(), dec("0.07"));
    }

    #[test]
    fn a_charged_session_counts_and_adds_to_linear_spend() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cells, mut months) = (one_cell(), one_month());
        let mut month = months.get(0);
        let linear = Some(month.linear());
        let p = session_price(&mut Prices::new(&m), (&ev, None), &mut cells.get(0), linear);
        assert_eq!(p.amount(), dec("0.03"));
        let charged = cells.stats(0).sessions_charged;
        assert_eq!((charged, *month.linear()), (1, dec("0.03")));
        // a charge that draws on no pool makes none
        assert!(month.pool(0).is_none());
    }

    /// Without an allowance a message is charged at its card price, 0.07 (promotional) and
    /// 0.05 (transactional) on the test card, and its month's linear spend sums them, 0.12,
    /// only when asked to (`Biller::volumes`); its cell counts two charged either way.
    #[test]
    fn a_message_without_an_allowance_adds_to_linear_spend_only_when_summed() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cells, mut months) = (one_cell(), one_month());
        let mut prices = Prices::new(&m);
        for summed in [true, false] {
            for cat in [Category::Marketing, Category::Utility] {
                let mut month = months.get(0);
                let linear = Some(month.linear()).filter(|_| summed);
                let p =
                    charged_message_price(&mut prices, (&ev, None), cat, &mut cells.get(0), linear);
                assert!(matches!(p, Price::Priced { .. }));
            }
        }
        assert_eq!(*months.get(0).linear(), dec("0.12"));
        assert_eq!(cells.stats(0).business_initiated_charged, 4);
        assert!(months.get(0).pool(0).is_none());
    }

    #[test]
    fn the_allowance_covers_the_first_messages_of_the_month() {
        let (m, ev) = (model("viber", ""), event());
        let (mut cells, mut months) = (one_cell(), one_month());
        let mut month = months.get(0);
        let mut low_months = 0;
        let mut prices = Prices::new(&m);
        let mut bill = |low_months: &mut i64| {
            message_price(
                &mut prices,
                (&ev, None),
                Category::Marketing,
                (2, false),
                (&mut cells.get(0), &mut month),
                low_months,
            )
        };
        // An allowance of 2: the first two are free, the month low (1 left) after the first.
        assert_eq!(bill(&mut low_months), Price::Allowance);
        assert_eq!(low_months, 1);
        assert_eq!(bill(&mut low_months), Price::Allowance);
        assert_eq!(low_months, 0);
        assert_eq!(bill(&mut low_months).amount(), dec("0.07"));
        let s = cells.stats(0);
        assert_eq!(
            (s.business_initiated_free, s.business_initiated_charged),
            (2, 1)
        );
        // The pool values all three at the card's price; the allowance's charges are not linear.
        let pool = month.pool(0).unwrap();
        assert_eq!((pool.size, pool.items, pool.value), (2, 3, dec("0.21")));
        assert_eq!(*month.linear(), Decimal::ZERO);
    }

    fn day(s: &str) -> i32 {
        crate::calendar::days_since_epoch(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn shipped(file: &str) -> Model {
        Model::load(&crate::rates::RateSource::Embedded, file).unwrap()
    }

    /// A charge of `column` priced on `price_day`, with no free tier, conversation or
    /// per-number pool.
    fn list_charge(
        column: MetaColumn,
        price_day: i32,
        era: Option<&crate::rates::meta::Era>,
    ) -> MetaCharge {
        MetaCharge {
            column,
            free_tier: None,
            price_day,
            volume_tiers: era.is_some_and(|e| e.volume_tiers),
            international: era.is_some_and(|e| e.authentication_international),
            conversation: false,
            per_number: false,
        }
    }

    /// Account 0 (no home country, portfolio 0, no business number) on card `local`.
    fn sender(local: Option<usize>) -> Sender<'static> {
        Sender {
            account: 0,
            account_country: None,
            portfolio: 0,
            tiers: None,
            local,
            number: None,
        }
    }

    /// An event to `country` on `day` (the other fields do not price it).
    fn event_to(country: &str, on: i32) -> Event {
        let mut ev = event();
        ev.country = Country::parse(country).unwrap();
        ev.day = on;
        ev
    }

    const DAYS: [&str; 5] = [
        "2023-07-01",
        "2024-12-01",
        "2025-08-01",
        "2026-03-02",
        "2026-11-01",
    ];
    const COUNTRIES: [&str; 7] = ["DE", "IN", "BR", "AE", "US", "UA", "GB"];

    /// A Viber card with dated rows: DE from 2024-01-01 (no promotional price) and from
    /// 2025-07-01, IN from 2026-06-01 (no international price), `*` from 2026-01-01.
    fn dated_viber() -> Model {
        let toml = "name = \"dated\"\nchannel = \"viber\"\nrules = \"viber\"\n\
                    currency = \"EUR\"\nprices = \"prices.csv\"\n";
        let prices = "country,effective_from,session,transactional,promotional,international\n\
                      *,2026-01-01,0.0300,0.0500,0.0700,0.0900\n\
                      DE,2024-01-01,0.0100,0.0200,,0.0400\n\
                      DE,2025-07-01,0.0110,0.0210,0.0310,0.0410\n\
                      IN,2026-06-01,0.0120,0.0220,0.0320,\n";
        let files = [("dated.toml", toml), ("prices.csv", prices)];
        let files = files.map(|(n, t)| (n.to_string(), t.to_string())).to_vec();
        Model::load(&crate::rates::RateSource::Memory(files), "dated.toml").unwrap()
    }

    #[test]
    fn a_country_cards_row_kept_per_country_and_day_is_the_row_in_force_that_day() {
        let m = dated_viber();
        let mut kept = Prices::new(&m);
        // (country, day, column: 1 transactional, 2 promotional, 3 international, price)
        let cases = [
            ("DE", "2023-07-01", 1, None), // before DE's first row and before `*`
            ("DE", "2024-12-01", 1, Some("0.0200")),
            ("DE", "2024-12-01", 2, None), // the 2024 row has no promotional price
            ("DE", "2025-08-01", 2, Some("0.0310")),
            ("DE", "2024-12-01", 3, Some("0.0400")), // an earlier day again: its own row
            ("IN", "2026-03-02", 1, Some("0.0500")), // `*` (IN's row starts in June)
            ("IN", "2026-11-01", 1, Some("0.0220")),
            ("IN", "2026-11-01", 3, None), // IN's row has no international price
            ("IN", "2026-03-02", 2, Some("0.0700")),
        ];
        for (c, d, column, want) in cases {
            let got = kept.look_up(&event_to(c, day(d)), column, None);
            assert_eq!(
                got.amount(),
                want.map_or(Decimal::ZERO, dec),
                "{c} {d} {column}"
            );
            assert_eq!(got == Price::Unpriced, want.is_none(), "{c} {d} {column}");
        }
    }

    #[test]
    fn a_country_cards_rows_kept_per_country_and_day_price_as_the_card_does() {
        // Countries and days interleaved, so that each kept row is asked for again after
        // others: the price must be the card's own for that country, day and column.
        let models = [
            "viber-business.toml",
            "viber-2024.toml",
            "whatsapp-session.toml",
        ]
        .map(|file| (file, shipped(file)));
        for (file, m) in models.iter().chain([("dated", dated_viber())].iter()) {
            let Card::Country(card) = &m.card else {
                panic!("{file}: a country card")
            };
            let mut kept = Prices::new(m);
            for round in 0..2 {
                for d in DAYS.iter().rev().skip(round) {
                    for c in COUNTRIES {
                        let ev = event_to(c, day(d));
                        for column in 0..card.columns.len() {
                            let fresh = card.price(ev.country, ev.day, column);
                            let got = kept.look_up(&ev, column, None);
                            assert_eq!(got.amount(), fresh.map_or(Decimal::ZERO, |p| p.amount));
                            assert_eq!(got == Price::Unpriced, fresh.is_none(), "{file} {c} {d}");
                            if let (Price::Priced { rate_from, .. }, Some(p)) = (got, fresh) {
                                assert_eq!(rate_from, p.row.effective_from);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Each Meta charge of the grid, priced with one `Prices` kept over the whole grid and with
    /// a fresh one, for two accounts (one located in India, one without a country: the
    /// authentication-international rate depends on it) sending from two business numbers
    /// each (the number draws on its free tier, never changes the price): the same price,
    /// card and column. The volume-tier pools are drawn in the same order on both sides.
    #[test]
    fn meta_prices_kept_per_key_are_the_prices_looked_up_fresh() {
        let m = shipped("whatsapp-meta.toml");
        let Card::Meta(spec) = &m.card else {
            panic!("a Meta card")
        };
        let columns = [
            MetaColumn::Marketing,
            MetaColumn::Utility,
            MetaColumn::Authentication,
            MetaColumn::Service,
        ];
        let homes = [Country::parse("IN"), None];
        let (mut kept, mut kept_tiers) = (Prices::new(&m), TierPools::default());
        let mut fresh_tiers = TierPools::default();
        let mut international = 0;
        for d in DAYS {
            let era = spec.era(day(d)).unwrap();
            for c in COUNTRIES {
                for column in columns {
                    for (account, home) in homes.iter().enumerate() {
                        for _number in 0..2 {
                            let ev = event_to(c, day(d));
                            let mc = list_charge(column, ev.day, Some(era));
                            let sender = |tiers| Sender {
                                account: account as u32,
                                account_country: *home,
                                portfolio: 0,
                                tiers: Some(tiers),
                                local: None,
                                number: None,
                            };
                            let got = look_up_meta(&mut kept, &ev, &mc, sender(&mut kept_tiers));
                            let mut fresh = Prices::new(&m);
                            let want = look_up_meta(&mut fresh, &ev, &mc, sender(&mut fresh_tiers));
                            assert_eq!(got, want, "{c} {d} {column:?} account {account}");
                            international += (got.2 != column) as u32;
                        }
                    }
                }
            }
        }
        // The grid reaches the authentication-international rate (the sender in India
        // authenticating abroad) and its key keeps it apart from the other sender's.
        assert!(international > 0);
    }

    /// Keys that share a slot (the same country, column and flags) take turns in it: an
    /// account on the INR card and one on the USD card, to India, on days going back and
    /// forth across the cards' dates. Each charge is priced as a fresh look-up prices it:
    /// India marketing on 2026-02-10 is 0.8631 INR x 1.1761 / 111.1285 = 0.00913440 USD from
    /// the INR card (tests/integration/meta20b.rs), 0.0118 from the USD card.
    #[test]
    fn meta_keys_sharing_a_slot_are_each_priced_as_their_own() {
        let m = shipped("whatsapp-meta.toml");
        let Card::Meta(spec) = &m.card else {
            panic!("a Meta card")
        };
        let inr = spec.locals.iter().position(|l| l.currency == "INR");
        assert!(inr.is_some(), "the shipped INR card");
        let mut kept = Prices::new(&m);
        let days = [
            "2026-02-10",
            "2024-12-01",
            "2026-02-10",
            "2025-08-01",
            "2026-02-10",
        ];
        let mut seen = Vec::new();
        for d in days {
            for local in [inr, None, inr] {
                let ev = event_to("IN", day(d));
                let mc = list_charge(MetaColumn::Marketing, ev.day, None);
                let got = look_up_meta(&mut kept, &ev, &mc, sender(local));
                let want = look_up_meta(&mut Prices::new(&m), &ev, &mc, sender(local));
                assert_eq!(got, want, "{d} {local:?}");
                seen.push((d, local.is_some(), got.0.amount()));
            }
        }
        // the two cards' prices on the day worked by hand, each kept apart in the one slot
        assert!(seen.contains(&("2026-02-10", true, dec("0.00913440"))));
        assert!(seen.contains(&("2026-02-10", false, dec("0.0118"))));
        assert_eq!(kept.meta_kept.len(), 1, "one slot");
    }

    #[test]
    fn meta_list_prices_kept_per_key_are_the_market_cards() {
        // Without volume tiers (list prices): the market card's price of the recipient's
        // market on the day, as looked up by name without any cache.
        let m = shipped("whatsapp-meta.toml");
        let Card::Meta(spec) = &m.card else {
            panic!("a Meta card")
        };
        let mut kept = Prices::new(&m);
        for d in DAYS {
            for c in COUNTRIES {
                let ev = event_to(c, day(d));
                for column in [MetaColumn::Marketing, MetaColumn::Utility] {
                    let mc = list_charge(column, ev.day, None);
                    let (got, _, _) = look_up_meta(&mut kept, &ev, &mc, sender(None));
                    let market = spec
                        .markets
                        .name(spec.markets.market_of(ev.country, ev.day));
                    let want = spec.price(market, ev.day, column).map(|p| p.0.amount);
                    assert_eq!(got.amount(), want.unwrap_or(Decimal::ZERO), "{c} {d}");
                    assert_eq!(got == Price::Unpriced, want.is_none(), "{c} {d}");
                }
            }
        }
    }
}
