//! Monthly fees and minimum commitments, by the account's country tier
//! (docs/billing-rules.md, #viber-fees).

use crate::accounts::Origin;
use crate::event::Country;
use crate::rates::{FeeKind, Model};
use rust_decimal::Decimal;

/// Where the country deciding an account's fee tier came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierFrom {
    /// `--account-country`
    Given,
    /// The account's `country` in the accounts file.
    File,
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

/// The fee of every (account, month) with traffic, by the account's country tier. `homes`:
/// each account's country (by account id) and where it came from (the accounts file, or
/// `--account-country`); without one, the highest tier of the month's countries.
/// `active`: each active (account, month) in that order, with its countries (in their
/// order, each once) and spend.
pub(super) fn monthly_fees<'a, C: 'a>(
    model: &Model,
    active: impl IntoIterator<Item = (&'a (u32, i32), &'a (C, Decimal))>,
    homes: &[(Option<Country>, Origin)],
) -> Vec<FeeItem>
where
    &'a C: IntoIterator<Item = &'a Country>,
{
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
        let (country, from) = match homes.get(account as usize) {
            Some(&(Some(c), Origin::File)) => (Some(c), TierFrom::File),
            Some(&(Some(c), _)) => (Some(c), TierFrom::Given),
            _ => (highest_tier(m, countries), TierFrom::HighestTier),
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
fn highest_tier<'a>(
    m: &crate::rates::Monthly,
    countries: impl IntoIterator<Item = &'a Country>,
) -> Option<Country> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::model;
    use crate::rates::Monthly;
    use std::collections::{BTreeMap, BTreeSet};

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    fn countries(codes: &[&str]) -> BTreeSet<Country> {
        codes.iter().map(|c| country(c)).collect()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Default fee 100; BY and UA 150, DE 90 (below the default).
    fn tiers() -> Monthly {
        Monthly {
            fee: Some(dec("100")),
            fee_kind: Some(FeeKind::Flat),
            fee_by_country: [("BY", "150"), ("UA", "150"), ("DE", "90")]
                .iter()
                .map(|(c, f)| (country(c), dec(f)))
                .collect(),
            free_business_initiated: 0,
            minimum_from_month: 1,
        }
    }

    #[test]
    fn highest_tier_is_the_highest_fee_country_first_alphabetically() {
        let m = tiers();
        // UA 150 beats DE 90 and PL (no tier of its own).
        assert_eq!(
            highest_tier(&m, &countries(&["DE", "PL", "UA"])),
            Some(country("UA"))
        );
        // BY and UA tie at 150: BY comes first.
        assert_eq!(
            highest_tier(&m, &countries(&["UA", "BY"])),
            Some(country("BY"))
        );
    }

    #[test]
    fn highest_tier_is_the_default_when_none_is_above_it() {
        let m = tiers();
        // DE's 90 is below the default 100; PL has no tier of its own.
        assert_eq!(highest_tier(&m, &countries(&["DE", "PL"])), None);
        assert_eq!(highest_tier(&m, &countries(&["PL"])), None);
    }

    #[test]
    fn a_minimum_applies_from_the_accounts_minimum_from_month() {
        let m = model(
            "viber",
            "[monthly]\nfee = \"100\"\nfee_kind = \"minimum\"\nminimum_from_month = 2\n\
             [monthly.fee_by_country]\nUA = \"150\"\n",
        );
        let active: BTreeMap<(u32, i32), (BTreeSet<Country>, Decimal)> = [
            ((0, 100), (countries(&["DE"]), dec("30"))),
            ((0, 101), (countries(&["DE"]), dec("30"))),
            ((0, 102), (countries(&["DE", "UA"]), dec("120"))),
            ((0, 103), (countries(&["DE"]), dec("250"))),
            // account 1's first month in the log, though account 0 had months before it
            ((1, 101), (countries(&["DE"]), dec("10"))),
        ]
        .into_iter()
        .collect();
        let fees = monthly_fees(&m, &active, &[]);
        let got: Vec<_> = (fees.iter())
            .map(|f| {
                (
                    f.account,
                    f.month,
                    f.country,
                    f.tier,
                    f.amount,
                    f.before_minimum,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // month 1 of account 0: waived, pays its spend only
                (0, 100, None, dec("100"), dec("0"), Some(2)),
                // month 2: 100 - 30
                (0, 101, None, dec("100"), dec("70"), None),
                // month 3 reached UA: 150 - 120
                (0, 102, Some(country("UA")), dec("150"), dec("30"), None),
                // spend 250 above the minimum: max(0, 100 - 250)
                (0, 103, None, dec("100"), dec("0"), None),
                (1, 101, None, dec("100"), dec("0"), Some(2)),
            ]
        );
        assert!(fees
            .iter()
            .all(|f| f.kind == FeeKind::Minimum && f.from == TierFrom::HighestTier));
    }

    #[test]
    fn a_flat_fee_ignores_spend_and_takes_the_given_country() {
        let m = model(
            "viber",
            "[monthly]\nfee = \"100\"\n[monthly.fee_by_country]\nUA = \"150\"\n",
        );
        let active: BTreeMap<_, _> = [((0, 100), (countries(&["DE"]), dec("500")))]
            .into_iter()
            .collect();
        let fees = monthly_fees(&m, &active, &[(Some(country("UA")), Origin::Flag)]);
        assert_eq!(fees.len(), 1);
        assert_eq!(
            (fees[0].amount, fees[0].from),
            (dec("150"), TierFrom::Given)
        );
        assert_eq!(fees[0].before_minimum, None);
    }

    #[test]
    fn each_account_takes_its_own_country_from_the_accounts_file() {
        // Account 0: UA in the file (150, though it wrote only to DE); account 1: none, so
        // the highest tier of its month (DE: the default 100); account 2: PL in the file (no
        // tier of its own: 100, though it wrote to UA).
        let m = model(
            "viber",
            "[monthly]\nfee = \"100\"\n[monthly.fee_by_country]\nUA = \"150\"\n",
        );
        let active: BTreeMap<_, _> = [
            ((0, 100), (countries(&["DE"]), dec("0"))),
            ((1, 100), (countries(&["DE"]), dec("0"))),
            ((2, 100), (countries(&["UA"]), dec("0"))),
        ]
        .into_iter()
        .collect();
        let homes = [
            (Some(country("UA")), Origin::File),
            (None, Origin::Default),
            (Some(country("PL")), Origin::File),
        ];
        let got: Vec<_> = (monthly_fees(&m, &active, &homes).iter())
            .map(|f| (f.account, f.country, f.from, f.amount))
            .collect();
        assert_eq!(
            got,
            [
                (0, Some(country("UA")), TierFrom::File, dec("150")),
                (1, None, TierFrom::HighestTier, dec("100")),
                (2, Some(country("PL")), TierFrom::File, dec("100")),
            ]
        );
    }
}
