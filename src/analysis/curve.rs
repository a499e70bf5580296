//! Cost as an exact piecewise-linear function of the volume factor k (docs/billing-rules.md §6,
//! "Break-even"): the log with every contact copied k times. Crossings are solved exactly on
//! each linear piece, never sampled.

use rust_decimal::Decimal;

/// Break-evens are searched for volumes up to 10^15 times the log's traffic. A crossing
/// further out is not reported (the region before it runs on "at every larger volume"), and
/// `breakeven.rs` refuses curves whose cost there could overflow, so that evaluating any
/// curve at any k up to twice this limit cannot overflow (see `breakeven::check_scale`).
pub const K_LIMIT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x3_8D7E, 0, false, 0);

/// A linear piece: `a + b k`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Line {
    pub a: Decimal,
    pub b: Decimal,
}

impl Line {
    pub fn at(&self, k: Decimal) -> Decimal {
        self.a + self.b * k
    }

    fn plus(self, o: Line) -> Line {
        Line {
            a: self.a + o.a,
            b: self.b + o.b,
        }
    }

    fn minus(self, o: Line) -> Line {
        Line {
            a: self.a - o.a,
            b: self.b - o.b,
        }
    }
}

/// Where a function's line changes: from `k` on, `change` is added to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kink {
    pub k: Decimal,
    pub change: Line,
}

/// A piecewise-linear function of k > 0: `lines[i]` holds from `starts[i]` to `starts[i + 1]`
/// (`starts[0]` is 0; the last line holds at every larger k).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    starts: Vec<Decimal>,
    lines: Vec<Line>,
}

impl Default for Curve {
    fn default() -> Curve {
        Curve::linear(Line::default())
    }
}

impl Curve {
    pub fn linear(line: Line) -> Curve {
        Curve {
            starts: vec![Decimal::ZERO],
            lines: vec![line],
        }
    }

    /// `first` from 0, changed at each kink (in any order; kinks at k <= 0 change `first`).
    pub fn from_kinks(first: Line, mut kinks: Vec<Kink>) -> Curve {
        kinks.sort_by_key(|x| x.k);
        let mut c = Curve::linear(first);
        for kink in kinks {
            let last = *c.lines.last().unwrap_or(&first);
            let line = last.plus(kink.change);
            if kink.k <= Decimal::ZERO || c.starts.last() == Some(&kink.k) {
                *c.lines.last_mut().unwrap_or(&mut Line::default()) = line;
            } else if line != last {
                c.starts.push(kink.k);
                c.lines.push(line);
            }
        }
        c.drop_unchanged();
        c
    }

    /// Removes starts where the line does not change (kinks that cancelled out).
    fn drop_unchanged(&mut self) {
        let (mut starts, mut lines) = (Vec::new(), Vec::<Line>::new());
        for (s, l) in self.starts.iter().zip(&self.lines) {
            if lines.last() != Some(l) {
                starts.push(*s);
                lines.push(*l);
            }
        }
        (self.starts, self.lines) = (starts, lines);
    }

    /// The changes of line after the first.
    pub fn kinks(&self) -> impl Iterator<Item = Kink> + '_ {
        (1..self.lines.len()).map(|i| Kink {
            k: self.starts[i],
            change: self.lines[i].minus(self.lines[i - 1]),
        })
    }

    /// The sum of `curves`, each times `sign` (1 or -1).
    pub fn sum<'c>(curves: impl IntoIterator<Item = (&'c Curve, i8)>) -> Curve {
        let mut first = Line::default();
        let mut kinks = Vec::new();
        for (c, sign) in curves {
            let s = |l: Line| {
                if sign < 0 {
                    Line::default().minus(l)
                } else {
                    l
                }
            };
            first = first.plus(s(c.lines[0]));
            kinks.extend(c.kinks().map(|k| Kink {
                k: k.k,
                change: s(k.change),
            }));
        }
        Curve::from_kinks(first, kinks)
    }

    /// The line on the piece holding `k` (the piece to its right at a start).
    pub fn line_at(&self, k: Decimal) -> Line {
        let i = self.starts.partition_point(|s| *s <= k);
        self.lines[i.saturating_sub(1)]
    }

    pub fn eval(&self, k: Decimal) -> Decimal {
        self.line_at(k).at(k)
    }

    /// Every k > 0 where the line changes, ascending.
    pub fn breakpoints(&self) -> &[Decimal] {
        &self.starts[1..]
    }

    /// The pieces: (from, to or `None` for the last, line).
    pub fn pieces(&self) -> impl Iterator<Item = (Decimal, Option<Decimal>, Line)> + '_ {
        (0..self.lines.len()).map(|i| {
            (
                self.starts[i],
                self.starts.get(i + 1).copied(),
                self.lines[i],
            )
        })
    }

    /// max(self, `floor`) for a function that never falls (spend against a minimum
    /// commitment): `floor` until the function reaches it, the function from there on.
    pub fn at_least(&self, floor: Decimal) -> Curve {
        for (from, to, line) in self.pieces() {
            let reached = if line.at(from) >= floor {
                Some(from)
            } else if line.b > Decimal::ZERO {
                // A quotient beyond the largest Decimal is beyond `K_LIMIT`: not reached.
                (floor - line.a)
                    .checked_div(line.b)
                    .filter(|r| to.is_none_or(|t| *r < t))
            } else {
                None
            };
            let Some(at) = reached else { continue };
            if at <= Decimal::ZERO {
                return self.clone();
            }
            let mut kinks = vec![Kink {
                k: at,
                change: line.minus(Line {
                    a: floor,
                    b: Decimal::ZERO,
                }),
            }];
            kinks.extend(self.kinks().filter(|k| k.k > at));
            let flat = Line {
                a: floor,
                b: Decimal::ZERO,
            };
            return Curve::from_kinks(flat, kinks);
        }
        Curve::linear(Line {
            a: floor,
            b: Decimal::ZERO,
        })
    }

    /// Every line, for bounds.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }
}

/// The cost of the items drawing on a free allowance of `size` at k copies: the month's
/// items in time order are `runs` of (price, count), and k copies of each item come before the
/// next item's, so the first `size` of the k-fold sequence are free. Run j (counts before it
/// `before`, through it `through`) is all free while `k through <= size`, then costs
/// `price (k through - size)`, and from `k before >= size` on costs `price count k`: two
/// kinks, at `size / through` and `size / before`.
pub fn allowance_cost(size: u64, runs: &[(Decimal, u64)]) -> Option<Curve> {
    let n = Decimal::from(size);
    let mut kinks = Vec::new();
    let mut before = 0u64;
    for &(price, count) in runs {
        let through = before.checked_add(count)?;
        let (b, t) = (Decimal::from(before), Decimal::from(through));
        let p_size = price.checked_mul(n)?;
        kinks.push(Kink {
            k: n.checked_div(t)?,
            change: Line {
                a: -p_size,
                b: price.checked_mul(t)?,
            },
        });
        if before > 0 {
            kinks.push(Kink {
                k: n.checked_div(b)?,
                change: Line {
                    a: p_size,
                    b: -price.checked_mul(b)?,
                },
            });
        }
        before = through;
    }
    Some(Curve::from_kinks(Line::default(), kinks))
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
    let d = Curve::sum([(a, 1), (b, -1)]);
    // Candidate boundaries: on each piece d = a + b k, its root, or both ends of a piece
    // where the two models cost the same throughout.
    let mut roots = Vec::new();
    for (lo, hi, line) in d.pieces() {
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
        let cheaper = sign(d.eval(probe));
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

    fn line(a: &str, b: &str) -> Line {
        Line { a: d(a), b: d(b) }
    }

    /// `fee + linear k` plus an allowance of `size` over `items` a month at `price` each.
    fn curve(fee: &str, linear: &str, allowance: Option<(u64, u64, &str)>) -> Curve {
        let base = Curve::linear(line(fee, linear));
        match allowance {
            None => base,
            Some((size, items, price)) => {
                let al = allowance_cost(size, &[(d(price), items)]).unwrap();
                Curve::sum([(&base, 1), (&al, 1)])
            }
        }
    }

    #[test]
    fn an_allowance_moves_the_crossing() {
        // 0.5k + 0.4 max(0, k - 500) (10,000 free of 20 items at 0.02) against 100 + 0.4k:
        // equal at k = 600, not 1000.
        let legacy = curve("0", "0.5", Some((10000, 20, "0.02")));
        let flat = curve("100", "0.4", None);
        let r = regions(&legacy, &flat);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].to, Some(d("600")));
        assert_eq!((r[0].cheaper, r[1].cheaper), (Cheaper::A, Cheaper::B));
        assert_eq!(legacy.eval(d("600")), d("340"));
    }

    #[test]
    fn the_allowance_goes_to_the_first_items_in_time_order() {
        // 100 free; 10 items at 0.01 then 10 at 0.03 a month. At k = 10 the first 100 (all
        // the cheap ones) are free: 100 x 0.03 = 3. At k = 20: 200 cheap, 200 dear; the first
        // 100 cheap are free: 100 x 0.01 + 200 x 0.03 = 7. Below k = 5 everything is free; at
        // k = 8: 80 cheap free, then 20 dear free, 60 dear paid: 1.8.
        let c = allowance_cost(100, &[(d("0.01"), 10), (d("0.03"), 10)]).unwrap();
        assert_eq!(c.eval(d("10")), d("3"));
        assert_eq!(c.eval(d("20")), d("7"));
        assert_eq!(c.eval(d("5")), d("0"));
        assert_eq!(c.eval(d("4")), d("0"));
        assert_eq!(c.eval(d("8")), d("1.8"));
        // The averaged allowance would say 0.02 x (20 k - 100) = 2 at k = 10.
        assert_eq!(c.breakpoints(), [d("5"), d("10")]);
    }

    #[test]
    fn a_minimum_commitment_is_flat_then_rises() {
        let min = curve("0", "0.9", None).at_least(d("100"));
        assert_eq!(min.breakpoints()[0].round_dp(6), d("111.111111"));
        assert_eq!(min.eval(d("50")), d("100"));
        assert_eq!(min.eval(d("200")), d("180"));
        // 2k crosses the flat part at k = 50 and never again.
        let r = regions(&curve("0", "2", None), &min);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].to, Some(d("50")));
        assert_eq!((r[0].cheaper, r[1].cheaper), (Cheaper::A, Cheaper::B));
    }

    #[test]
    fn no_crossing_and_equal_curves() {
        let a = curve("0", "0.5", None);
        let b = curve("0", "0.9", None).at_least(d("100"));
        assert_eq!(
            regions(&a, &b),
            [Region {
                from: Decimal::ZERO,
                to: None,
                cheaper: Cheaper::A
            }]
        );
        assert_eq!(regions(&a, &a).len(), 1);
        assert_eq!(regions(&a, &a)[0].cheaper, Cheaper::Equal);
    }

    #[test]
    fn the_search_limit_is_ten_to_the_fifteenth() {
        assert_eq!(K_LIMIT, Decimal::from(10u64.pow(15)));
    }

    #[test]
    fn a_crossing_beyond_the_limit_or_beyond_decimal_is_not_reported() {
        // 1e-28 k against a fee of 100: equal at k = 1e30, beyond Decimal's largest value.
        let tiny = curve("0", "0.0000000000000000000000000001", None);
        let fee = curve("100", "0", None);
        let r = regions(&tiny, &fee);
        assert_eq!((r.len(), r[0].to, r[0].cheaper), (1, None, Cheaper::A));
        // 1e-14 k against 100: equal at 1e16, past the limit of 1e15.
        assert_eq!(
            regions(&curve("0", "0.00000000000001", None), &fee).len(),
            1
        );
        // 1e-13 k: equal at 1e15, the limit itself, is reported.
        let at_limit = curve("0", "0.0000000000001", None);
        assert_eq!(regions(&at_limit, &fee)[0].to, Some(K_LIMIT));
        // A minimum the charges would reach only past Decimal's range: flat.
        let min = curve("0", "0.0000000000000000000000000001", None).at_least(d("1000000"));
        assert!(min.breakpoints().is_empty());
    }

    #[test]
    fn two_crossings() {
        // a = 0.5k; b = max(10, 0.2k + 2 max(0, k - 100)): a cheaper below 20 (b's minimum),
        // b cheaper until 2.2k - 200 = 0.5k at k = 200/1.7, then a again.
        let a = curve("0", "0.5", None);
        let b = curve("0", "0.2", Some((100, 1, "2"))).at_least(d("10"));
        let r = regions(&a, &b);
        let cheaper: Vec<Cheaper> = r.iter().map(|r| r.cheaper).collect();
        assert_eq!(cheaper, [Cheaper::A, Cheaper::B, Cheaper::A]);
        assert_eq!(r[0].to, Some(d("20")));
        assert_eq!(r[1].to, Some(d("200") / d("1.7")));
        assert_eq!(r[2].to, None);
    }

    #[test]
    fn sums_merge_kinks_and_cancel() {
        let a = Curve::from_kinks(
            line("1", "1"),
            vec![Kink {
                k: d("2"),
                change: line("-2", "1"),
            }],
        );
        let s = Curve::sum([(&a, 1), (&a, 1)]);
        assert_eq!(s.eval(d("3")), d("2") * a.eval(d("3")));
        assert_eq!(Curve::sum([(&a, 1), (&a, -1)]).breakpoints(), []);
    }
}
