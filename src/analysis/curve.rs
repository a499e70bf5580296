//! Monthly cost as a piecewise-linear function of traffic volume (docs/billing-rules.md §6): the log's mix
//! scaled by a factor k, fees and free allowances fixed. Crossings are solved exactly on each
//! linear piece, never sampled.

use crate::rates::FeeKind;
use rust_decimal::Decimal;

/// Break-evens are searched for volumes up to 10^15 times the log's traffic. A crossing
/// further out is not reported (the region before it runs on "at every larger volume"), and
/// `breakeven.rs` refuses curves whose cost there could overflow, so that evaluating any
/// curve at any k up to twice this limit cannot overflow (see `breakeven::check_scale`).
pub const K_LIMIT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0);

/// A free allowance as the volume grows: free up to `kink`, then `slope` per unit of k.
/// `offset` is `slope * kink`, computed by the caller with a single division so that
/// crossings stay exact where the inputs allow.
#[derive(Clone, Debug, PartialEq)]
pub struct Allowance {
    pub kink: Decimal,
    pub slope: Decimal,
    pub offset: Decimal,
}

impl Allowance {
    /// An allowance of `size` items against `items` per unit of k worth `value` per unit of k;
    /// `None` when its cost at the kink is beyond the largest Decimal.
    pub fn new(size: Decimal, items: Decimal, value: Decimal) -> Option<Allowance> {
        let kink = size.checked_div(items)?;
        Some(Allowance {
            kink,
            slope: value,
            // One division where the product fits (exact where the inputs allow).
            offset: value
                .checked_mul(size)
                .and_then(|x| x.checked_div(items))
                .or_else(|| value.checked_mul(kink))?,
        })
    }
}

/// A linear piece: `a + b k`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub a: Decimal,
    pub b: Decimal,
}

impl Line {
    fn at(&self, k: Decimal) -> Decimal {
        self.a + self.b * k
    }
}

/// One account's monthly cost at k times its traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub fee: Option<(FeeKind, Decimal)>,
    /// Cost per unit of k that no allowance touches.
    pub linear: Decimal,
    pub allowances: Vec<Allowance>,
}

impl Part {
    /// The charges for traffic as a line, on the piece just right of `k`.
    fn variable_line(&self, k: Decimal) -> Line {
        let mut l = Line {
            a: Decimal::ZERO,
            b: self.linear,
        };
        for al in self.allowances.iter().filter(|al| al.kink <= k) {
            l.a -= al.offset;
            l.b += al.slope;
        }
        l
    }

    /// The charges for traffic, before any fee or minimum.
    pub fn variable(&self, k: Decimal) -> Decimal {
        let mut v = self.linear * k;
        for a in self.allowances.iter().filter(|a| k > a.kink) {
            v += a.slope * k - a.offset;
        }
        v
    }

    pub fn eval(&self, k: Decimal) -> Decimal {
        let v = self.variable(k);
        match self.fee {
            None => v,
            Some((FeeKind::Flat, f)) => f + v,
            Some((FeeKind::Minimum, f)) => v.max(f),
        }
    }

    /// The cost as a line on the piece just right of `k`.
    fn line(&self, k: Decimal) -> Line {
        let v = self.variable_line(k);
        match self.fee {
            None => v,
            Some((FeeKind::Flat, f)) => Line { a: v.a + f, b: v.b },
            Some((FeeKind::Minimum, f)) => {
                if self.reaches(f).is_some_and(|at| at <= k) {
                    v
                } else {
                    Line {
                        a: f,
                        b: Decimal::ZERO,
                    }
                }
            }
        }
    }

    /// Where the slope changes: the end of each allowance and where spend reaches a minimum.
    fn breakpoints(&self, out: &mut Vec<Decimal>) {
        out.extend(self.allowances.iter().map(|a| a.kink));
        if let Some((FeeKind::Minimum, f)) = self.fee {
            out.extend(self.reaches(f));
        }
    }

    /// The least k at which the variable charges reach `target` (they never fall).
    fn reaches(&self, target: Decimal) -> Option<Decimal> {
        if target <= Decimal::ZERO {
            return None;
        }
        let mut kinks: Vec<Decimal> = self.allowances.iter().map(|a| a.kink).collect();
        kinks.sort();
        kinks.dedup();
        let mut lo = Decimal::ZERO;
        for hi in kinks
            .into_iter()
            .filter(|k| *k > Decimal::ZERO)
            .map(Some)
            .chain([None])
        {
            let l = self.variable_line(lo);
            if l.b > Decimal::ZERO {
                // A quotient beyond the largest Decimal is beyond `K_LIMIT`: not reached.
                if let Some(k) = (target - l.a).checked_div(l.b) {
                    if k >= lo && hi.is_none_or(|h| k <= h) {
                        return Some(k);
                    }
                }
            }
            match hi {
                Some(h) => lo = h,
                None => return None,
            }
        }
        None
    }
}

/// A model's monthly cost as a function of k: the sum of its parts (one per account).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curve {
    pub parts: Vec<Part>,
}

impl Curve {
    pub fn eval(&self, k: Decimal) -> Decimal {
        self.parts.iter().map(|p| p.eval(k)).sum()
    }

    /// The cost as a line on the piece just right of `k`.
    fn line(&self, k: Decimal) -> Line {
        self.parts.iter().fold(
            Line {
                a: Decimal::ZERO,
                b: Decimal::ZERO,
            },
            |acc, p| {
                let l = p.line(k);
                Line {
                    a: acc.a + l.a,
                    b: acc.b + l.b,
                }
            },
        )
    }

    /// Every k > 0 where the slope may change, ascending.
    pub fn breakpoints(&self) -> Vec<Decimal> {
        let mut out = Vec::new();
        for p in &self.parts {
            p.breakpoints(&mut out);
        }
        out.retain(|k| *k > Decimal::ZERO);
        out.sort();
        out.dedup();
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cheaper {
    A,
    B,
    Equal,
}

/// A range of k over which one of two models is cheaper (or they cost the same).
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub from: Decimal,
    /// `None`: at every larger volume.
    pub to: Option<Decimal>,
    pub cheaper: Cheaper,
}

fn sign(d: Decimal) -> Cheaper {
    if d < Decimal::ZERO {
        Cheaper::A
    } else if d > Decimal::ZERO {
        Cheaper::B
    } else {
        Cheaper::Equal
    }
}

/// The volumes (k > 0) over which `a` or `b` is cheaper; the boundaries between regions are
/// the break-evens. One region means one model is cheaper (or both equal) at every volume.
pub fn regions(a: &Curve, b: &Curve) -> Vec<Region> {
    let d = |k: Decimal| a.eval(k) - b.eval(k);
    let mut points = a.breakpoints();
    points.extend(b.breakpoints());
    points.sort();
    points.dedup();

    // Candidate boundaries: on each linear piece d = a + b k; its root, or both ends of a
    // piece where the two models cost the same throughout.
    let mut roots = Vec::new();
    let mut lo = Decimal::ZERO;
    for hi in points.into_iter().map(Some).chain([None]) {
        let (la, lb) = (a.line(lo), b.line(lo));
        let line = Line {
            a: la.a - lb.a,
            b: la.b - lb.b,
        };
        if line.b.is_zero() {
            if line.a.is_zero() {
                roots.push(lo);
                roots.extend(hi);
            }
        } else if let Some(r) = (-line.a).checked_div(line.b) {
            // (No quotient: beyond the largest Decimal, so beyond `K_LIMIT`.)
            if r > lo && hi.is_none_or(|h| r <= h) {
                roots.push(r);
            }
        }
        debug_assert!(hi
            .filter(|h| *h <= K_LIMIT)
            .is_none_or(|h| (line.at(h) - d(h)).abs() < Decimal::new(1, 12)));
        match hi {
            Some(h) => lo = h,
            None => break,
        }
    }
    roots.retain(|r| *r > Decimal::ZERO && *r <= K_LIMIT);
    roots.sort();
    roots.dedup();

    let mut out: Vec<Region> = Vec::new();
    let mut from = Decimal::ZERO;
    for to in roots.into_iter().map(Some).chain([None]) {
        let probe = match to {
            Some(t) => (from + t) / Decimal::TWO,
            None => from + Decimal::ONE,
        };
        let cheaper = sign(d(probe));
        match out.last_mut() {
            // A touch without a change of sign is not a crossing.
            Some(last) if last.cheaper == cheaper => last.to = to,
            _ => out.push(Region { from, to, cheaper }),
        }
        if let Some(t) = to {
            from = t;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn part(fee: Option<(FeeKind, &str)>, linear: &str, allowances: &[(&str, &str)]) -> Curve {
        Curve {
            parts: vec![Part {
                fee: fee.map(|(k, f)| (k, d(f))),
                linear: d(linear),
                allowances: allowances
                    .iter()
                    .map(|(k, s)| Allowance {
                        kink: d(k),
                        slope: d(s),
                        offset: d(k) * d(s),
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn an_allowance_moves_the_crossing() {
        // 0.5k + 0.4 max(0, k - 500) against 100 + 0.4k: equal at k = 600, not 1000.
        let legacy = part(None, "0.5", &[("500", "0.4")]);
        let flat = part(Some((FeeKind::Flat, "100")), "0.4", &[]);
        let r = regions(&legacy, &flat);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].to, Some(d("600")));
        assert_eq!(r[0].cheaper, Cheaper::A);
        assert_eq!(r[1].cheaper, Cheaper::B);
        assert_eq!(legacy.eval(d("600")), d("340"));
    }

    #[test]
    fn a_minimum_commitment_is_flat_then_rises() {
        let min = part(Some((FeeKind::Minimum, "100")), "0.9", &[]);
        assert_eq!(min.breakpoints()[0].round_dp(6), d("111.111111"));
        assert_eq!(min.eval(d("50")), d("100"));
        // 2k crosses the flat part at k = 50 and never again.
        let per_message = part(None, "2", &[]);
        let r = regions(&per_message, &min);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].to, Some(d("50")));
        assert_eq!((r[0].cheaper, r[1].cheaper), (Cheaper::A, Cheaper::B));
    }

    #[test]
    fn no_crossing_and_equal_curves() {
        let a = part(None, "0.5", &[]);
        let b = part(Some((FeeKind::Minimum, "100")), "0.9", &[]);
        assert_eq!(
            regions(&a, &b),
            [Region {
                from: Decimal::ZERO,
                to: None,
                cheaper: Cheaper::A
            }]
        );
        assert_eq!(regions(&a, &a)[0].cheaper, Cheaper::Equal);
        assert_eq!(regions(&a, &a).len(), 1);
    }

    #[test]
    fn the_search_limit_is_ten_to_the_fifteenth() {
        assert_eq!(K_LIMIT, Decimal::from(10u64.pow(15)));
    }

    #[test]
    fn a_crossing_beyond_the_limit_or_beyond_decimal_is_not_reported() {
        // 1e-28 k against a fee of 100: equal at k = 1e30, beyond Decimal's largest value
        // (the division overflowed: a panic).
        let tiny = part(None, "0.0000000000000000000000000001", &[]);
        let fee = part(Some((FeeKind::Flat, "100")), "0", &[]);
        let r = regions(&tiny, &fee);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].to, r[0].cheaper), (None, Cheaper::A));
        // 1e-14 k against 100: equal at 1e16, past the limit of 1e15.
        let small = part(None, "0.00000000000001", &[]);
        assert_eq!(regions(&small, &fee).len(), 1);
        // 1e-13 k: equal at 1e15, the limit itself, is reported.
        let at_limit = part(None, "0.0000000000001", &[]);
        assert_eq!(regions(&at_limit, &fee)[0].to, Some(K_LIMIT));
        // A minimum the variable charges would reach only past Decimal's range.
        let min = part(
            Some((FeeKind::Minimum, "1000000")),
            "0.0000000000000000000000000001",
            &[],
        );
        assert_eq!(min.breakpoints(), Vec::<Decimal>::new());
    }

    #[test]
    fn an_allowance_too_large_to_price_is_none() {
        let big = d("79228162514264337593543950335");
        assert!(Allowance::new(d("10"), d("1"), big).is_none());
        // The product overflows, the quotient first does not.
        let a = Allowance::new(big, d("1000"), d("2")).unwrap();
        assert_eq!(a.offset, big / d("1000") * d("2"));
        assert_eq!(
            Allowance::new(d("10000"), d("3"), d("0.3")).unwrap().offset,
            d("1000")
        );
    }

    #[test]
    fn two_crossings() {
        // a = 0.5k; b = max(10, 0.2k + 2 max(0, k - 100)): a cheaper below 20 (b's minimum),
        // b cheaper until 2.2k - 200 = 0.5k at k = 200/1.7, then a again.
        let a = part(None, "0.5", &[]);
        let b = part(Some((FeeKind::Minimum, "10")), "0.2", &[("100", "2")]);
        let r = regions(&a, &b);
        let cheaper: Vec<Cheaper> = r.iter().map(|r| r.cheaper).collect();
        assert_eq!(cheaper, [Cheaper::A, Cheaper::B, Cheaper::A]);
        assert_eq!(r[0].to, Some(d("20")));
        assert_eq!(r[1].to, Some(d("200") / d("1.7")));
        assert_eq!(r[2].to, None);
    }
}
