//! Free allowances and free tiers: the pools an account-month draws on, and when one runs low
//! (docs/billing-rules.md §5).

use crate::rates::meta::{FreeTierCounts, MarketId, MetaColumn, Tiered};
use crate::rates::{Card, Model};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

/// What a free allowance or free tier counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PoolKind {
    /// Viber: the month's free business-initiated messages.
    Allowance,
    /// whatsapp-meta: a monthly free tier.
    FreeTier(FreeTierCounts),
    /// whatsapp-meta: a monthly free tier of one business phone number (an index into
    /// `Log::business_numbers`) of the account.
    NumberFreeTier(FreeTierCounts, u32),
}

/// The items of one account-month that drew on a free allowance or tier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pool {
    /// How many items the allowance covers.
    pub size: u64,
    /// Items that drew on it, free or not.
    pub items: u64,
    /// What those items cost at the card's prices, as if none were free.
    pub value: Decimal,
    /// Those prices in the order drawn (time order), equal neighbours run together as
    /// (price, count): break-even gives the allowance to the first items of the month at any
    /// volume (docs/billing-rules.md §6). Empty unless `BillingOptions::pool_runs`.
    pub runs: Vec<(Decimal, u64)>,
}

impl Pool {
    /// An item of `amount` draws on the pool of `size` (its runs noted when `runs`).
    #[inline(always)]
    pub(super) fn draw(&mut self, size: u64, amount: Decimal, runs: bool) {
        self.size = size;
        self.items += 1;
        super::money::add(&mut self.value, amount);
        if runs {
            match self.runs.last_mut() {
                Some((p, n)) if *p == amount => *n += 1,
                _ => self.runs.push((amount, 1)),
            }
        }
    }
}

/// Where a pool sits in `MonthState::pools`.
pub(super) fn pool_index(kind: PoolKind) -> usize {
    match kind {
        PoolKind::Allowance => 0,
        PoolKind::FreeTier(FreeTierCounts::Conversations) => 1,
        PoolKind::FreeTier(FreeTierCounts::ServiceConversations) => 2,
        PoolKind::FreeTier(FreeTierCounts::ServiceMessages) => 3,
        // kept beside the month, one per number (`NumberPool`): the place of its kind
        PoolKind::NumberFreeTier(c, _) => pool_index(PoolKind::FreeTier(c)),
    }
}

pub(super) const POOL_KINDS: [PoolKind; 4] = [
    PoolKind::Allowance,
    PoolKind::FreeTier(FreeTierCounts::Conversations),
    PoolKind::FreeTier(FreeTierCounts::ServiceConversations),
    PoolKind::FreeTier(FreeTierCounts::ServiceMessages),
];

/// One account-month of one model while replaying: what a charge touches, 32 bytes, two to a
/// cache line (issue 24: a log of many accounts has ~51,500 account-months a model, far past
/// the caches; with its four pools inline a month was 320 bytes, most never drawn on, and
/// every byte a fresh page). The pools are apart (`MonthPools`), made at a month's first draw;
/// the messages, sessions and spend the reports give are summed from the cells at the end
/// (`Biller::finish_in`).
#[derive(Clone, Default)]
#[repr(C, align(32))]
pub(super) struct MonthState {
    /// Charges that drew on no pool, at their price.
    pub(super) linear: Decimal,
    /// Where the month's pools are in `Months::pools`, plus one (0: none drawn on yet).
    pools: u32,
    /// The month's business numbers whose free tier is low (`NumberPool::low`).
    pub(super) numbers_low: u32,
    /// Some allowance or tier of the month has run low (`LOW_ROOM`) but not out: the events
    /// of one instant may then need their replay order (`Biller::may_run_out`).
    pub(super) low: bool,
}

const _: () = assert!(std::mem::size_of::<MonthState>() == 32);

/// Room left in a free allowance or tier below which it counts as running low.
pub(super) const LOW_ROOM: u64 = 256;

/// The free allowance and tiers one account-month has drawn on.
#[derive(Clone, Default)]
pub(super) struct MonthPools {
    /// Per pool kind (`pool_index`): items counted against the allowance or tier so far.
    pub(super) used: [u64; 4],
    pub(super) pools: [Pool; 4],
}

/// A model's account-months, by account-month id, and the pools of those that drew on one.
#[derive(Default)]
pub(super) struct Months {
    states: Vec<MonthState>,
    pools: Vec<MonthPools>,
}

impl Months {
    pub(super) fn len(&self) -> usize {
        self.states.len()
    }

    /// Room for `len` account-months, the new ones with nothing drawn.
    pub(super) fn fit(&mut self, len: usize) {
        if len > self.states.len() {
            crate::huge_pages::make_room_ahead(&mut self.states, len);
            self.states.resize(len, MonthState::default());
        }
    }

    /// Account-month `m`, to bill in.
    #[inline(always)]
    pub(super) fn get(&mut self, m: usize) -> MonthMut<'_> {
        MonthMut {
            state: &mut self.states[m],
            list: &mut self.pools,
        }
    }

    /// Asks for account-month `m`'s line, if it has one.
    #[inline(always)]
    pub(super) fn prefetch(&self, m: usize) {
        if let Some(month) = self.states.get(m) {
            crate::prefetch::prefetch(month);
        }
    }

    /// Whether account-month `m` has a pool running low (`MonthState::low`).
    pub(super) fn low(&self, m: usize) -> bool {
        self.states[m].low
    }

    /// Each account-month's linear spend and the pools it drew on (none drawn: the default
    /// ones), by id.
    pub(super) fn into_drawn(self) -> impl Iterator<Item = (Decimal, [Pool; 4])> {
        let mut pools = self.pools;
        self.states.into_iter().map(move |m| {
            let drawn = (m.pools.checked_sub(1)).and_then(|i| pools.get_mut(i as usize));
            let drawn = drawn.map(|p| std::mem::take(&mut p.pools));
            (m.linear, drawn.unwrap_or_default())
        })
    }
}

/// One account-month, to bill in: its state and, made on its first draw, its pools.
pub(super) struct MonthMut<'a> {
    pub(super) state: &'a mut MonthState,
    list: &'a mut Vec<MonthPools>,
}

impl MonthMut<'_> {
    /// The month's charges that draw on no pool (`MonthState::linear`).
    #[inline(always)]
    pub(super) fn linear(&mut self) -> &mut Decimal {
        &mut self.state.linear
    }

    /// The month's pools, made at its first draw.
    #[inline(always)]
    fn pools(&mut self) -> &mut MonthPools {
        if self.state.pools == 0 {
            self.new_pools();
        }
        &mut self.list[self.state.pools as usize - 1]
    }

    /// Pools for the month, which has drawn on none (out of line: once a month, and inlined
    /// into every charge it made the replay loop larger).
    #[cold]
    #[inline(never)]
    fn new_pools(&mut self) {
        // read at random as the months are: on huge pages once large, rarely moved
        crate::huge_pages::make_room_ahead(self.list, self.list.len() + 1);
        self.list.push(MonthPools::default());
        self.state.pools = self.list.len() as u32;
    }

    /// An item of `amount` draws on the month's pool `k` (`pool_index`) of `size`: `true`
    /// while the pool has room, which it then uses (the item is free). `low_months` is told
    /// when the month turns low or stops being low.
    #[inline(always)]
    pub(super) fn draw(
        &mut self,
        k: usize,
        (size, amount, runs): (u64, Decimal, bool),
        low_months: &mut i64,
    ) -> bool {
        let pools = self.pools();
        pools.pools[k].draw(size, amount, runs);
        if pools.used[k] >= size {
            return false;
        }
        pools.used[k] += 1;
        *low_months += self.recount_low();
        true
    }

    /// The month's pool `k`, if it has drawn on any (tests).
    #[cfg(test)]
    pub(super) fn pool(&self, k: usize) -> Option<&Pool> {
        let i = self.state.pools.checked_sub(1)?;
        Some(&self.list[i as usize].pools[k])
    }

    /// Notes whether a pool drawn on this month is now low (after a free draw: the only
    /// time the room changes); gives the change in the count of low months (-1, 0 or 1).
    pub(super) fn recount_low(&mut self) -> i64 {
        let month = &mut *self.state;
        let was = month.low;
        let pools = (month.pools.checked_sub(1)).and_then(|i| self.list.get(i as usize));
        month.low = month.numbers_low > 0
            || pools.is_some_and(|p| {
                (0..4).any(|k| {
                    let room = p.pools[k].size.saturating_sub(p.used[k]);
                    room > 0 && room < LOW_ROOM
                })
            });
        month.low as i64 - was as i64
    }
}

/// One business phone number's monthly free tier in an account-month (from 2026-10-01 Meta's
/// 1,000 free service messages are per number): drawn on like the month's own pools.
#[derive(Clone, Debug)]
pub(super) struct NumberPool {
    pub(super) counts: FreeTierCounts,
    pub(super) used: u64,
    pub(super) pool: Pool,
    /// Its room is under `LOW_ROOM` but not out (counted in `MonthState::numbers_low`).
    low: bool,
}

impl NumberPool {
    pub(super) fn new(counts: FreeTierCounts) -> NumberPool {
        NumberPool {
            counts,
            used: 0,
            pool: Pool::default(),
            low: false,
        }
    }

    /// An item of `amount` draws on the number's tier of `size`: `true` while it is free.
    /// The month is told when the number's tier turns low or stops being low.
    #[inline]
    pub(super) fn draw(
        &mut self,
        (size, amount, runs): (u64, Decimal, bool),
        month: &mut MonthMut,
        low_months: &mut i64,
    ) -> bool {
        self.pool.draw(size, amount, runs);
        if self.used >= size {
            return false;
        }
        self.used += 1;
        let room = size - self.used;
        let low = room > 0 && room < LOW_ROOM;
        if low != self.low {
            self.low = low;
            match low {
                true => month.state.numbers_low += 1,
                false => month.state.numbers_low -= 1,
            }
        }
        *low_months += month.recount_low();
        true
    }
}

/// A volume-tier pool: one business portfolio's month, market and tiered column (utility,
/// authentication, authentication-international).
pub(super) type TierKey = (u32, i32, MarketId, MetaColumn);

/// The business portfolio of each account: volume tiers are pooled over a portfolio
/// (docs/billing-rules.md §1 accounts file `portfolio`). Accounts without one (no accounts file,
/// or an empty cell) share one default portfolio, 0.
#[derive(Default)]
pub(super) struct Portfolios {
    /// Each named portfolio's id (from 1).
    ids: FxHashMap<String, u32>,
    /// By account id.
    of_account: Vec<u32>,
}

impl Portfolios {
    /// The next account (by id) belongs to `portfolio`.
    pub(super) fn push(&mut self, portfolio: Option<&str>) {
        let id = match portfolio {
            None => 0,
            Some(name) => {
                let next = self.ids.len() as u32 + 1;
                *self.ids.entry(name.to_string()).or_insert(next)
            }
        };
        self.of_account.push(id);
    }

    pub(super) fn len(&self) -> usize {
        self.of_account.len()
    }

    /// The portfolio of `account`.
    #[inline]
    pub(super) fn of(&self, account: u32) -> u32 {
        self.of_account.get(account as usize).copied().unwrap_or(0)
    }
}

/// The months' counts of charged messages per volume-tier pool (docs/billing-rules.md §4,
/// volume tiers): each charged message takes the rate of the band its count reaches.
#[derive(Default)]
pub(super) struct TierPools {
    counts: FxHashMap<TierKey, u64>,
    /// Pools whose count is within `LOW_ROOM` of its band's end: the next messages of one
    /// instant may cross into another band, so their order matters (`Biller::may_run_out`).
    pub(super) near: u64,
}

impl TierPools {
    /// Counts one more charged message in `key`'s pool: the rate of its band.
    pub(super) fn draw(&mut self, key: TierKey, tiered: &Tiered) -> Decimal {
        let n = self.counts.entry(key).or_insert(0);
        let near = |n: u64| n > 0 && tiered.rate(n).1.is_some_and(|room| room < LOW_ROOM);
        let was = near(*n);
        *n += 1;
        let (rate, _) = tiered.rate(*n);
        match (was, near(*n)) {
            (false, true) => self.near += 1,
            (true, false) => self.near -= 1,
            _ => {}
        }
        rate
    }
}

/// The smallest free allowance or tier of `model` (`u64::MAX` if it has none).
pub(super) fn smallest_pool(model: &Model, list_prices: bool) -> u64 {
    if list_prices {
        return u64::MAX;
    }
    let allowance = Some(model.monthly.free_business_initiated).filter(|&n| n > 0);
    let (tiers, bands) = match &model.card {
        Card::Meta(spec) => (
            (spec.eras.iter())
                .filter(|e| e.free_tier_counts.is_some() && e.free_tier > 0)
                .map(|e| e.free_tier as u64)
                .min(),
            // A new volume-tier pool crosses its first band's end within one instant only
            // with more messages than the narrowest band.
            (spec.tiers.as_ref())
                .filter(|_| spec.eras.iter().any(|e| e.volume_tiers))
                .map(|t| t.narrowest()),
        ),
        Card::Country(_) => (None, None),
    };
    (allowance.into_iter().chain(tiers).chain(bands))
        .min()
        .unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::model;

    /// One account-month drawing `n` items of 1 on pool `k` of `size`: how many were free,
    /// and the low months counted after each draw.
    fn draws(months: &mut Months, k: usize, size: u64, n: usize) -> (usize, Vec<i64>) {
        let (mut free, mut low_months, mut lows) = (0, 0, Vec::new());
        for _ in 0..n {
            free += months
                .get(0)
                .draw(k, (size, Decimal::ONE, false), &mut low_months) as usize;
            lows.push(low_months);
        }
        (free, lows)
    }

    #[test]
    fn a_month_is_low_while_its_room_is_under_low_room_but_not_out() {
        let mut months = Months::default();
        months.fit(1);
        // An allowance of 1000: 744 drawn leave 256 (not low), the 745th leaves 255 (low),
        // the 1000th empties it (no longer low: nothing left to run out), the 1001st is not
        // free.
        let (free, lows) = draws(&mut months, 0, 1000, 1001);
        assert_eq!(free, 1000);
        assert_eq!((lows[743], lows[744], lows[998], lows[999]), (0, 1, 1, 0));
        assert_eq!(lows[1000], 0);
        let month = months.get(0);
        let pool = month.pool(0).unwrap();
        assert_eq!(
            (pool.size, pool.items, pool.value),
            (1000, 1001, Decimal::from(1001))
        );
        assert!(!month.state.low);
    }

    #[test]
    fn a_free_tier_counts_its_own_use() {
        for &kind in &POOL_KINDS[1..] {
            let k = pool_index(kind);
            let mut months = Months::default();
            months.fit(2);
            // 1000 - 745 = 255 left of the tier: low; the allowance's pool (0) untouched.
            let (free, lows) = draws(&mut months, k, 1000, 745);
            assert_eq!((free, lows[744]), (745, 1), "{kind:?}");
            let month = months.get(0);
            assert_eq!(month.pool(0).unwrap().items, 0, "{kind:?}");
            assert_eq!(month.pool(k).unwrap().items, 745, "{kind:?}");
            // the other month drew on none: it has no pools
            assert!(months.get(1).pool(k).is_none());
        }
    }

    #[test]
    fn a_business_numbers_tier_makes_its_month_low_and_runs_out() {
        let (mut months, mut low_months) = (Months::default(), 0);
        months.fit(1);
        let mut n = NumberPool::new(FreeTierCounts::ServiceMessages);
        let one = |n: &mut NumberPool, months: &mut Months, low: &mut i64| {
            n.draw((300, Decimal::ONE, false), &mut months.get(0), low)
        };
        // 300 - 44 = 256 left: not low yet; the 45th leaves 255: low
        for _ in 0..44 {
            assert!(one(&mut n, &mut months, &mut low_months));
        }
        assert_eq!((months.low(0), low_months), (false, 0));
        assert!(one(&mut n, &mut months, &mut low_months));
        let numbers_low = months.get(0).state.numbers_low;
        assert_eq!((months.low(0), numbers_low, low_months), (true, 1, 1));
        // the 300th is free and empties it: no longer low; the 301st is charged
        for _ in 45..300 {
            assert!(one(&mut n, &mut months, &mut low_months));
        }
        let numbers_low = months.get(0).state.numbers_low;
        assert_eq!((months.low(0), numbers_low, low_months), (false, 0, 0));
        assert!(!one(&mut n, &mut months, &mut low_months));
        assert_eq!((n.used, n.pool.items, n.pool.size), (300, 301, 300));
        // the number's tier is not the month's: the month drew on none of its own
        assert!(months.get(0).pool(3).is_none());
    }

    /// Months that drew on pools and months that did not give back their own linear spend
    /// and pools, in id order.
    #[test]
    fn months_give_back_their_linear_spend_and_the_pools_they_drew_on() {
        let mut months = Months::default();
        months.fit(3);
        let mut low_months = 0;
        // month 2 draws first (its pools are the list's first), then month 0; month 1 none
        months
            .get(2)
            .draw(1, (5, Decimal::new(3, 2), false), &mut low_months);
        months
            .get(0)
            .draw(0, (10, Decimal::new(7, 2), false), &mut low_months);
        months
            .get(0)
            .draw(0, (10, Decimal::new(7, 2), false), &mut low_months);
        *months.get(1).linear() += Decimal::new(25, 2);
        months.fit(4);
        let got: Vec<_> = (months.into_drawn())
            .map(|(linear, p)| (linear, p.map(|p| (p.size, p.items, p.value))))
            .collect();
        let none = (0, 0, Decimal::ZERO);
        assert_eq!(
            got,
            [
                (
                    Decimal::ZERO,
                    [(10, 2, Decimal::new(14, 2)), none, none, none]
                ),
                (Decimal::new(25, 2), [none; 4]),
                (
                    Decimal::ZERO,
                    [none, (5, 1, Decimal::new(3, 2)), none, none]
                ),
                (Decimal::ZERO, [none; 4]),
            ]
        );
    }

    #[test]
    fn pool_index_is_the_place_in_pool_kinds() {
        for (i, &kind) in POOL_KINDS.iter().enumerate() {
            assert_eq!(pool_index(kind), i);
        }
    }

    #[test]
    fn smallest_pool_is_the_allowance_unless_list_prices() {
        let m = model("viber", "[monthly]\nfree_business_initiated = 10000\n");
        assert_eq!(smallest_pool(&m, false), 10000);
        assert_eq!(smallest_pool(&m, true), u64::MAX);
        // No allowance (0 by default): nothing can run out.
        assert_eq!(smallest_pool(&model("viber", ""), false), u64::MAX);
    }
}
