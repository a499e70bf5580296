//! Sums of money on the billing hot path: a charged message adds its price to its cell's
//! cost and to its month's list value (issue 24: `Decimal`'s `+=` was a call of its own per
//! sum, 5.8% of the samples of a business-initiated heavy log).

use rust_decimal::Decimal;

/// `*sum += amount`, the same `Decimal` to the bit (mantissa, scale and sign). When both are
/// positive with the same scale, as a cell's sum of one card's prices nearly always is, their
/// mantissas are added inline; a zero sum becomes the amount, a zero amount keeps the sum; any
/// other case (another scale, a sign, a sum past 96 bits) is `Decimal`'s own `+=`.
#[inline(always)]
pub(super) fn add(sum: &mut Decimal, amount: Decimal) {
    let scale = sum.scale();
    if scale == amount.scale() && sum.is_sign_positive() && amount.is_sign_positive() {
        // Two mantissas under 2^96 add up to under 2^97: no overflow in an i128.
        let m = sum.mantissa() + amount.mantissa();
        if m < 1 << 96 {
            // Positive, same scale, no overflow: `Decimal` adds the mantissas and keeps the
            // scale, as here (a zero operand gives the other, whose bits these are).
            *sum = Decimal::from_parts(m as u32, (m >> 32) as u32, (m >> 64) as u32, false, scale);
            return;
        }
    }
    // `Decimal`'s sum with a zero (rust_decimal's `add_sub_internal`, every path): a zero sum
    // gives the amount, its mantissa, scale and sign, whatever the zero's scale and sign (a
    // sum's first amount: a cell's cost and a month's list value start at 0 of scale 0);
    // else a zero amount gives the sum (an unpriced message adds 0 to its month's list
    // value). As `+=`, each was a call of some 45 instructions.
    if sum.is_zero() {
        *sum = amount;
        return;
    }
    if amount.is_zero() {
        return;
    }
    *sum += amount;
}

#[cfg(test)]
/// A spread of amounts for sums checked against `Decimal`'s own (scales 0 to 13, signs, zeros,
/// 64 and 96 bits): here and in `cells.rs`'s cost.
pub(super) const SPREAD: [&str; 14] = [
    "0",
    "0.00",
    "-0.00",
    "0.05",
    "0.0125",
    "1",
    "2.50",
    "999.99999999",
    "0.00000001",
    "-0.05",
    "0.0123456789012",
    "18446744073709.551615",
    "184467440737.09551615",
    "7922816251426433759354395033.5",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The sum as printed and as its parts: a sum of the same value at another scale
    /// (0.10 against 0.1) or sign (-0 against 0) would print or serialize differently.
    fn parts(d: Decimal) -> (String, i128, u32, bool) {
        (d.to_string(), d.mantissa(), d.scale(), d.is_sign_negative())
    }

    /// Worked by hand: 0.0125 x 3 = 0.0375; 0.05 + 0.05 = 0.10 (two places kept);
    /// 0.0300 + 0.03 + 0.5 = 0.5600 (the largest scale); 0 + 0.05 = 0.05; 0.05 + 0.00 = 0.05;
    /// 0.00 + 0.05 = 0.05; a sum past 64 bits of mantissa, 18446744073709551615 (2^64 - 1) at
    /// 8 places + 0.00000001 = 184467440737.09551616; past 96 bits (2^96 - 1 at one place,
    /// 7922816251426433759354395033.5, plus 0.1 = ...033.6, whose mantissa 2^96 does not fit):
    /// Decimal's own sum, rounded to no place, 7922816251426433759354395034.
    #[test]
    fn a_sum_is_decimals_to_the_digit_and_scale() {
        let sum = |amounts: &[&str]| {
            let mut s = Decimal::ZERO;
            for a in amounts {
                add(&mut s, dec(a));
            }
            s
        };
        assert_eq!(parts(sum(&["0.0125"; 3])), ("0.0375".into(), 375, 4, false));
        assert_eq!(parts(sum(&["0.05", "0.05"])), ("0.10".into(), 10, 2, false));
        assert_eq!(
            parts(sum(&["0.0300", "0.03", "0.5"])),
            ("0.5600".into(), 5600, 4, false)
        );
        assert_eq!(parts(sum(&["0", "0.05"])), ("0.05".into(), 5, 2, false));
        assert_eq!(parts(sum(&["0.05", "0.00"])), ("0.05".into(), 5, 2, false));
        assert_eq!(parts(sum(&["0.00", "0.05"])), ("0.05".into(), 5, 2, false));
        let big = sum(&["184467440737.09551615", "0.00000001"]);
        assert_eq!(
            parts(big),
            ("184467440737.09551616".into(), 1 << 64, 8, false)
        );
        // A zero sum takes the amount as it is, whatever the zero's scale or sign (Decimal's
        // rule, not the larger scale): 0 + 0.0125 = 0.0125; 0.00 + 0.5 = 0.5 (not 0.50);
        // 0.0000 + 1 = 1; -0.00 + 0.05 = 0.05 (positive); 0 + -0.05 = -0.05; a first amount
        // past 64 bits, 0.000 + 18446744073709.551616 (2^64 at 6 places), is itself.
        assert_eq!(parts(sum(&["0.0125"])), ("0.0125".into(), 125, 4, false));
        assert_eq!(parts(sum(&["0.00", "0.5"])), ("0.5".into(), 5, 1, false));
        assert_eq!(parts(sum(&["0.0000", "1"])), ("1".into(), 1, 0, false));
        assert_eq!(parts(sum(&["-0.00", "0.05"])), ("0.05".into(), 5, 2, false));
        assert_eq!(parts(sum(&["-0.05"])), ("-0.05".into(), -5, 2, true));
        assert_eq!(
            parts(sum(&["0.000", "18446744073709.551616"])),
            ("18446744073709.551616".into(), 1 << 64, 6, false)
        );
        // A zero amount keeps the sum, its scale and sign, whatever the zero's: 0.0125 + 0 =
        // 0.0125; 0.05 + 0.000 = 0.05; 0.05 + -0.00 = 0.05; -0.05 + 0 = -0.05. Both zero: the
        // amount (the zero sum's rule first), 0.00 + 0 = 0; 0 + 0.000 = 0.000.
        assert_eq!(
            parts(sum(&["0.0125", "0"])),
            ("0.0125".into(), 125, 4, false)
        );
        assert_eq!(parts(sum(&["0.05", "0.000"])), ("0.05".into(), 5, 2, false));
        assert_eq!(parts(sum(&["0.05", "-0.00"])), ("0.05".into(), 5, 2, false));
        assert_eq!(parts(sum(&["-0.05", "0"])), ("-0.05".into(), -5, 2, true));
        assert_eq!(parts(sum(&["0.00", "0"])), ("0".into(), 0, 0, false));
        assert_eq!(parts(sum(&["0", "0.000"])), ("0.000".into(), 0, 3, false));
        let mut over = Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 1);
        add(&mut over, dec("0.1"));
        assert_eq!(over.to_string(), "7922816251426433759354395034");
    }

    /// Every pair of a spread of amounts (scales 0 to 13, signs, zeros, 64 and 96 bits)
    /// gives `Decimal`'s `+=` to the bit.
    #[test]
    fn every_pair_is_decimals_own_sum() {
        let amounts = SPREAD;
        for a in amounts {
            for b in amounts {
                let (mut got, mut want) = (dec(a), dec(a));
                add(&mut got, dec(b));
                want += dec(b);
                assert_eq!(parts(got), parts(want), "{a} + {b}");
                assert_eq!(got.serialize(), want.serialize(), "{a} + {b}");
            }
        }
    }
}
