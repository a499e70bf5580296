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

/// One account-month of one model while replaying. Laid out in order, from a cache line's
/// start: what every message touches (counts, spend, linear charges, the allowance) comes
/// first, in one line; the pools come after. With many accounts the months do not fit in the
/// cache, and each line a message touches is a miss.
#[derive(Clone, Default)]
#[repr(C, align(64))]
pub(super) struct MonthState {
    /// Messages and sessions opened: summed from the month's cells by `Biller::finish`.
    pub(super) messages: u64,
    pub(super) sessions: u64,
    /// Priced spend: its cells' cost, summed by `Biller::finish` too.
    pub(super) spend: Decimal,
    pub(super) linear: Decimal,
    pub(super) allowance_used: u64,
    /// The month's business numbers whose free tier is low (`NumberPool::low`).
    pub(super) numbers_low: u32,
    /// Some allowance or tier of the month has run low (`LOW_ROOM`) but not out: the events
    /// of one instant may then need their replay order (`Biller::may_run_out`).
    pub(super) low: bool,
    /// Per pool kind: items counted against the free allowance or tier so far.
    pub(super) used: [u64; 4],
    pub(super) pools: [Pool; 4],
}

/// Room left in a free allowance or tier below which it counts as running low.
pub(super) const LOW_ROOM: u64 = 256;

impl MonthState {
    /// Notes whether a pool drawn on this month is now low (after a free draw: the only
    /// time the room changes); gives the change in the count of low months (-1, 0 or 1).
    pub(super) fn recount_low(&mut self) -> i64 {
        let was = self.low;
        self.low = self.numbers_low > 0
            || (0..4).any(|k| {
                let used = if k == 0 {
                    self.allowance_used
                } else {
                    self.used[k]
                };
                let room = self.pools[k].size.saturating_sub(used);
                room > 0 && room < LOW_ROOM
            });
        self.low as i64 - was as i64
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
        month: &mut MonthState,
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
                true => month.numbers_low += 1,
                false => month.numbers_low -= 1,
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

    #[test]
    fn a_month_is_low_while_its_room_is_under_low_room_but_not_out() {
        let mut month = MonthState::default();
        month.pools[0].size = 1000;
        // 300 left of the allowance: not low.
        month.allowance_used = 700;
        assert_eq!((month.recount_low(), month.low), (0, false));
        // 255 left (< 256): low, one more low month.
        month.allowance_used = 745;
        assert_eq!((month.recount_low(), month.low), (1, true));
        // Still low: no change in the count.
        month.allowance_used = 999;
        assert_eq!((month.recount_low(), month.low), (0, true));
        // Ran out: no longer low, nothing left to run out.
        month.allowance_used = 1000;
        assert_eq!((month.recount_low(), month.low), (-1, false));
    }

    #[test]
    fn a_free_tier_counts_its_own_use() {
        for &kind in &POOL_KINDS[1..] {
            let k = pool_index(kind);
            let mut month = MonthState::default();
            month.pools[k].size = 1000;
            // 1000 - 900 = 100 left of the tier (the allowance's count, 0, is not the tier's).
            month.used[k] = 900;
            assert_eq!((month.recount_low(), month.low), (1, true), "{kind:?}");
        }
    }

    #[test]
    fn a_business_numbers_tier_makes_its_month_low_and_runs_out() {
        let (mut month, mut low_months) = (MonthState::default(), 0);
        let mut n = NumberPool::new(FreeTierCounts::ServiceMessages);
        let one = |n: &mut NumberPool, month: &mut MonthState, low: &mut i64| {
            n.draw((300, Decimal::ONE, false), month, low)
        };
        // 300 - 44 = 256 left: not low yet; the 45th leaves 255: low
        for _ in 0..44 {
            assert!(one(&mut n, &mut month, &mut low_months));
        }
        assert_eq!((month.low, low_months), (false, 0));
        assert!(one(&mut n, &mut month, &mut low_months));
        assert_eq!((month.low, month.numbers_low, low_months), (true, 1, 1));
        // the 300th is free and empties it: no longer low; the 301st is charged
        for _ in 45..300 {
            assert!(one(&mut n, &mut month, &mut low_months));
        }
        assert_eq!((month.low, month.numbers_low, low_months), (false, 0, 0));
        assert!(!one(&mut n, &mut month, &mut low_months));
        assert_eq!((n.used, n.pool.items, n.pool.size), (300, 301, 300));
    }

    #[test]
    fn what_every_message_touches_of_a_month_is_in_its_first_cache_line() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(align_of::<MonthState>(), 64);
        for end in [
            offset_of!(MonthState, messages) + size_of::<u64>(),
            offset_of!(MonthState, sessions) + size_of::<u64>(),
            offset_of!(MonthState, spend) + size_of::<Decimal>(),
            offset_of!(MonthState, linear) + size_of::<Decimal>(),
            offset_of!(MonthState, allowance_used) + size_of::<u64>(),
            offset_of!(MonthState, numbers_low) + size_of::<u32>(),
            offset_of!(MonthState, low) + size_of::<bool>(),
        ] {
            assert!(end <= 64, "{end}");
        }
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
