//! `--plot FILE.svg`: cost a month against messages a month on a logarithmic volume axis (so
//! the log's own volume and break-evens a thousand times larger both show), one line per model
//! (dashed when unpriced messages are left out), the log's current volume marked and each
//! crossing labelled with its volume. Coordinates are f64 only for drawing; every figure in the
//! reports comes from the exact curves.

use super::whole_volume;
use crate::analysis::breakeven::Scope;
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use std::io::Write;

/// Line colours, one per model (cycled).
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

const SIZE: (u32, u32) = (1000, 600);
/// Room right of the plot for the legend.
const LEGEND_WIDTH: u32 = 290;
/// Samples per curve between its kinks (the log axis bends its straight pieces).
const SAMPLES: usize = 240;

/// The text beside the mark of the log's current volume (tests look for it).
pub const NOW_LABEL: &str = "the log now";

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Draws `scope`'s cost curves as SVG to `out`, the output file named `shown` in messages.
pub fn write_svg(
    out: &mut dyn Write,
    shown: &str,
    scope: &Scope,
    names: &[String],
    currency: &str,
    title: &str,
) -> Result<()> {
    let svg = render(scope, names, currency, title)
        .map_err(|e| Error::io(format!("drawing {shown}"), std::io::Error::other(e)))?;
    out.write_all(svg.as_bytes())
        .map_err(|e| Error::io(format!("writing {shown}"), e))
}

/// The SVG text of the chart.
pub fn render(
    scope: &Scope,
    names: &[String],
    currency: &str,
    title: &str,
) -> std::result::Result<String, String> {
    let frame = Frame::of(scope);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw_curves(&root, scope, &frame, currency, title)?;
        draw_legend(&root, scope, names)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A break-even as drawn: where, and its volume as text.
struct Crossing {
    x: f64,
    y: f64,
    label: String,
}

/// What the chart shows, in drawing coordinates.
struct Frame {
    /// Each model's cost a month against messages a month.
    series: Vec<Vec<(f64, f64)>>,
    crossings: Vec<Crossing>,
    /// Messages a month now (k = 1).
    now: f64,
    x: (f64, f64),
    y_max: f64,
}

impl Frame {
    fn of(scope: &Scope) -> Frame {
        let per_month = |v: Decimal| f(v / scope.months);
        let mut crossings: Vec<Crossing> = Vec::new();
        let mut ks: Vec<Decimal> = Vec::new();
        for p in &scope.pairs {
            for k in p.regions.iter().filter_map(|r| r.to) {
                let messages = scope.volume_at(k).messages;
                ks.push(k);
                crossings.push(Crossing {
                    x: f(messages),
                    y: per_month(scope.cost_at(p.a, k)),
                    label: format!("{} a month", whole_volume(messages)),
                });
            }
        }
        crossings.sort_by(|a, b| a.x.total_cmp(&b.x));
        // From a quarter of the smallest volume shown to twice the largest.
        let lo = ks
            .iter()
            .copied()
            .chain([Decimal::ONE])
            .min()
            .unwrap_or(Decimal::ONE);
        let hi = ks
            .iter()
            .copied()
            .chain([Decimal::ONE])
            .max()
            .unwrap_or(Decimal::ONE);
        let (k_lo, k_hi) = (lo / Decimal::from(4), hi * Decimal::TWO);
        let series: Vec<Vec<(f64, f64)>> = scope
            .curves
            .iter()
            .map(|c| {
                let mut at: Vec<Decimal> = sample(k_lo, k_hi);
                at.extend(c.breakpoints().iter().filter(|k| **k > k_lo && **k < k_hi));
                at.sort();
                at.iter()
                    .map(|&k| (f(scope.volume_at(k).messages), per_month(c.eval(k))))
                    .collect()
            })
            .collect();
        let y_max = series.iter().flatten().map(|p| p.1).fold(0f64, f64::max);
        Frame {
            series,
            crossings,
            now: f(scope.volume_at(Decimal::ONE).messages),
            x: (
                f(scope.volume_at(k_lo).messages),
                f(scope.volume_at(k_hi).messages),
            ),
            y_max: (y_max * 1.1).max(1.0),
        }
    }
}

/// `SAMPLES` volume factors spaced evenly on the log axis from `lo` to `hi`.
fn sample(lo: Decimal, hi: Decimal) -> Vec<Decimal> {
    let (a, b) = (f(lo).ln(), f(hi).ln());
    (0..=SAMPLES)
        .filter_map(|i| Decimal::from_f64((a + (b - a) * i as f64 / SAMPLES as f64).exp()))
        .chain([lo, hi])
        .collect()
}

/// Axis labels: whole numbers with thousands separators (`100,000`, not `100000.0`).
fn tick(v: &f64) -> String {
    match Decimal::from_f64(*v) {
        Some(d) if d.abs() < Decimal::from(10) && !d.fract().is_zero() => {
            d.round_dp(2).normalize().to_string()
        }
        Some(d) => whole_volume(d),
        None => String::new(),
    }
}

/// The axes, one cost line per model, the log's current volume and the crossings.
fn draw_curves(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    scope: &Scope,
    frame: &Frame,
    currency: &str,
    title: &str,
) -> std::result::Result<(), String> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((frame.x.0..frame.x.1).log_scale(), 0f64..frame.y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("messages a month (logarithmic)")
        .y_desc(format!("cost a month ({currency})"))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, pts) in frame.series.iter().enumerate() {
        let style = COLOURS[i % COLOURS.len()].stroke_width(2);
        let r = if scope.complete(i) {
            chart.draw_series(LineSeries::new(pts.clone(), style))
        } else {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 10, 6, style))
        };
        r.map_err(|e| e.to_string())?;
    }
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    // The plot area's frame: everything below is drawn inside it.
    root.draw(&Rectangle::new(
        [(xs.start, ys.start), (xs.end - 1, ys.end - 1)],
        BLACK.mix(0.5).stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    // Text inside the frame: `x` kept so that `width` pixels fit, `y` a line below the top.
    let inside = |x: i32, y: i32, width: i32| {
        (
            x.clamp(xs.start + 4, (xs.end - width - 4).max(xs.start + 4)),
            y.clamp(ys.start + 4, ys.end - 18),
        )
    };
    let width = |s: &str| 7 * s.chars().count() as i32;
    // The log's current volume (k = 1): a dashed line and its label.
    let label_at = draw_now(root, &mut chart, frame, &inside)?;
    // Each crossing: a circle and its volume, at the first free place above it (or below).
    let mut taken: Vec<Boxed> = vec![label_at];
    for c in &frame.crossings {
        chart
            .draw_series(std::iter::once(Circle::new(
                (c.x, c.y),
                5,
                BLACK.stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
        let (px, py) = chart.backend_coord(&(c.x, c.y));
        let w = width(&c.label);
        let at = free_spot((px, py), w, &inside, &mut taken);
        // A label moved away from its circle is tied to it by a thin grey leader.
        if (at.1 - (py - 22)).abs() > 0 || at.0 != px + 8 {
            root.draw(&PathElement::new(
                [(px, py), (at.0, at.1 + 7)],
                BLACK.mix(0.35).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(c.label.clone(), at, ("sans-serif", 12)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The chart: volume on a logarithmic axis, cost on a linear one.
type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::combinators::LogCoord<f64>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// The log's current volume (k = 1): a dashed line and its label, kept inside the frame;
/// the label's box is returned so that no crossing label covers it.
fn draw_now(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &mut Chart,
    frame: &Frame,
    inside: &dyn Fn(i32, i32, i32) -> (i32, i32),
) -> std::result::Result<Boxed, String> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let width = |s: &str| 7 * s.chars().count() as i32;
    let now = frame.now;
    chart
        .draw_series(DashedLineSeries::new(
            [(now, 0.0), (now, frame.y_max)],
            6,
            4,
            BLACK.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    let label = format!("{NOW_LABEL}: {} a month", whole_volume(dec(now)));
    let (px, _) = chart.backend_coord(&(now, 0.0));
    let x = if px + 6 + width(&label) < xs.end {
        px + 6
    } else {
        px - 6 - width(&label)
    };
    let label_at = inside(x, ys.start + 6, width(&label));
    root.draw(&Text::new(label.clone(), label_at, ("sans-serif", 13)))
        .map_err(|e| e.to_string())?;
    Ok(Boxed::at(label_at, width(&label)))
}

/// Where a crossing's label of `w` pixels goes: the first place above its circle at `(px, py)`
/// (else below) that overlaps no label in `taken`, kept inside the frame; then taken.
fn free_spot(
    (px, py): (i32, i32),
    w: i32,
    inside: &dyn Fn(i32, i32, i32) -> (i32, i32),
    taken: &mut Vec<Boxed>,
) -> (i32, i32) {
    let candidates = (0..12)
        .map(|j| (px + 8, py - 22 - 15 * j))
        .chain((0..6).map(|j| (px + 8, py + 10 + 15 * j)));
    let mut at = inside(px + 8, py - 22, w);
    for (x, y) in candidates {
        let spot = inside(x, y, w);
        if !taken.iter().any(|b| b.overlaps(&Boxed::at(spot, w))) {
            at = spot;
            break;
        }
    }
    taken.push(Boxed::at(at, w));
    at
}

/// A label's box in pixels (its text estimated at 7 pixels a character, 14 high).
struct Boxed {
    x: i32,
    y: i32,
    w: i32,
}

impl Boxed {
    fn at((x, y): (i32, i32), w: i32) -> Boxed {
        Boxed { x, y, w }
    }

    fn overlaps(&self, o: &Boxed) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + 14 && o.y < self.y + 14
    }
}

fn dec(v: f64) -> Decimal {
    Decimal::from_f64(v).unwrap_or_default()
}

/// The legend right of the plot: a swatch per model (dashed when incomplete), the marks.
fn draw_legend(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    scope: &Scope,
    names: &[String],
) -> std::result::Result<(), String> {
    let x = (SIZE.0 - LEGEND_WIDTH + 16) as i32;
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    let mut y = 60;
    for (i, name) in names.iter().enumerate() {
        let style = COLOURS[i % COLOURS.len()].stroke_width(3);
        let (from, to) = ((x, y + 2), (x + 28, y + 2));
        if scope.complete(i) {
            root.draw(&PathElement::new([from, to], style))
                .map_err(err)?;
        } else {
            root.draw(&plotters::element::DashedPathElement::new(
                [from, to],
                6,
                4,
                style,
            ))
            .map_err(err)?;
        }
        let text = match scope.complete(i) {
            true => name.clone(),
            false => format!("{name} (incomplete)"),
        };
        root.draw(&Text::new(text, (x + 36, y - 6), ("sans-serif", 14)))
            .map_err(err)?;
        y += 20;
    }
    root.draw(&Circle::new((x + 14, y + 2), 5, BLACK.stroke_width(2)))
        .map_err(err)?;
    root.draw(&Text::new(
        "break-even",
        (x + 36, y - 6),
        ("sans-serif", 14),
    ))
    .map_err(err)?;
    let lines = [
        "dashed black: the log's volume now".to_string(),
        "dashed model: unpriced messages".into(),
        "  left out of its curve".into(),
        "cost a month: the log's cost over".into(),
        format!("  its {} month(s)", scope.months.round_dp(2).normalize()),
    ];
    for (j, line) in lines.into_iter().enumerate() {
        root.draw(&Text::new(
            line,
            (x, y + 20 + 18 * j as i32),
            ("sans-serif", 13),
        ))
        .map_err(err)?;
    }
    Ok(())
}
