//! Monthly fees and minimum commitments, by the account's country tier
//! (docs/billing-rules.md, #viber-fees).

use crate::event::Country;
use crate::rates::{FeeKind, Model};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// Where the country deciding an account's fee tier came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierFrom {
    /// `--account-country`
    Given,
    /// The highest tier among the countries of the month's traffic.
    HighestTier,
}

/// A monthly fee or minimum-commitment top-up of one account.
#[derive(Clone, Debug)]
pub struct FeeItem {
    pub account: u32,
    pub month: i32,
    /// The country whose tier applied; `None` for the default tier.
    pub country: Option<Country>,
    pub from: TierFrom,
    pub kind: FeeKind,
    /// The tier's amount (the fee, or the minimum commitment).
    pub tier: Decimal,
    /// The account's priced spend that month.
    pub spend: Decimal,
    /// What is charged: the fee, or max(0, minimum - spend); 0 when `before_minimum`.
    pub amount: Decimal,
    /// `Some(n)`: the month comes before the account's n-th active month in the log
    /// (`[monthly] minimum_from_month`), so the minimum does not apply and it pays its spend only.
    pub before_minimum: Option<u32>,
}

/// The fee of every (account, month) with traffic, by the account's country tier.
pub(super) fn monthly_fees(
    model: &Model,
    active: &BTreeMap<(u32, i32), (BTreeSet<Country>, Decimal)>,
    given: Option<Country>,
) -> Vec<FeeItem> {
    let m = &model.monthly;
    let Some(kind) = m.fee_kind else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // The account's active months are numbered in time order (the map's order) from 1, its
    // first month in the log, whether or not that month has a fee tier.
    let mut numbered: Option<(u32, u32)> = None;
    for (&(account, month), (countries, spend)) in active {
        let number = match numbered {
            Some((a, n)) if a == account => n + 1,
            _ => 1,
        };
        numbered = Some((account, number));
        let (country, from) = match given {
            Some(c) => (Some(c), TierFrom::Given),
            None => (highest_tier(m, countries), TierFrom::HighestTier),
        };
        let Some(tier) = m.fee_for(country) else {
            continue;
        };
        // Flat fees cannot be deferred (the model rejects the key with them).
        let before_minimum = (kind == FeeKind::Minimum && number < m.minimum_from_month)
            .then_some(m.minimum_from_month);
        let amount = match kind {
            _ if before_minimum.is_some() => Decimal::ZERO,
            FeeKind::Flat => tier,
            FeeKind::Minimum => (tier - *spend).max(Decimal::ZERO),
        };
        out.push(FeeItem {
            account,
            month,
            country,
            from,
            kind,
            tier,
            spend: *spend,
            amount,
            before_minimum,
        });
    }
    out
}

/// The country with the highest fee among `countries` (first alphabetically on a tie), or
/// `None` when none of them is above the default tier.
fn highest_tier(m: &crate::rates::Monthly, countries: &BTreeSet<Country>) -> Option<Country> {
    let mut best: Option<(Decimal, Country)> = None;
    for &c in countries {
        if let Some(&fee) = m.fee_by_country.get(&c) {
            if best.is_none_or(|(b, _)| fee > b) {
                best = Some((fee, c));
            }
        }
    }
    match (best, m.fee) {
        (Some((fee, _)), Some(default)) if fee <= default => None,
        (b, _) => b.map(|(_, c)| c),
    }
}
