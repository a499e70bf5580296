//! `--plot FILE.svg`: monthly cost against monthly volume, one line per model, the crossings
//! and the log's current volume marked. Coordinates are f64 only for drawing; every figure in
//! the reports comes from the exact curves.

use crate::analysis::breakeven::Scope;
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
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
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw_curves(&root, scope, frame, currency, title)?;
        draw_legend(&root, names)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// What the chart shows, in drawing coordinates (f64) but for the exact crossings.
struct Frame {
    /// Each model's cost curve: (messages per month, cost per month) at its breakpoints.
    series: Vec<Vec<(f64, f64)>>,
    /// Each crossing: (volume factor k, cost there).
    crossings: Vec<(Decimal, Decimal)>,
    x_max: f64,
    y_max: f64,
}

impl Frame {
    fn of(scope: &Scope) -> Frame {
        let crossings: Vec<(Decimal, Decimal)> = scope
            .pairs
            .iter()
            .flat_map(|p| {
                p.regions
                    .iter()
                    .filter_map(|r| r.to)
                    .map(|k| (k, scope.curves[p.a].eval(k)))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Show the current volume and every crossing with room to spare.
        let last = crossings.iter().map(|c| c.0).max().unwrap_or(Decimal::ZERO);
        let k_max = (last * Decimal::new(125, 2)).max(Decimal::TWO);
        let mut series = Vec::new();
        let mut y_max = 0f64;
        for c in &scope.curves {
            let mut ks: Vec<Decimal> = vec![Decimal::ZERO];
            ks.extend(c.breakpoints().iter().copied().filter(|k| *k < k_max));
            ks.push(k_max);
            let pts: Vec<(f64, f64)> = ks
                .iter()
                .map(|&k| (f(scope.volume_at(k).messages), f(c.eval(k))))
                .collect();
            y_max = pts.iter().map(|p| p.1).fold(y_max, f64::max);
            series.push(pts);
        }
        Frame {
            series,
            crossings,
            x_max: f(scope.volume_at(k_max).messages).max(1.0),
            y_max: (y_max * 1.05).max(1.0),
        }
    }
}

/// The axes, one cost line per model, the log's current volume and the crossings.
fn draw_curves(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    scope: &Scope,
    frame: Frame,
    currency: &str,
    title: &str,
) -> std::result::Result<(), String> {
    let Frame {
        series,
        crossings,
        x_max,
        y_max,
    } = frame;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("messages per month")
        .y_desc(format!("cost per month ({currency})"))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, pts) in series.into_iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
            .map_err(|e| e.to_string())?;
    }
    // The log's current volume (k = 1).
    let now = f(scope.messages);
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(now, 0.0), (now, y_max)],
            BLACK.mix(0.4).stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            crossings.iter().map(|(k, y)| {
                Circle::new((f(scope.messages * k), f(*y)), 5, BLACK.stroke_width(2))
            }),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The legend as filled swatches, so each model's only line is its cost curve.
fn draw_legend(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    names: &[String],
) -> std::result::Result<(), String> {
    for (i, name) in names.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let y = 60 + 20 * i as i32;
        root.draw(&Rectangle::new([(110, y), (134, y + 4)], colour.filled()))
            .map_err(|e| e.to_string())?;
        root.draw(&Text::new(name.clone(), (140, y - 6), ("sans-serif", 14)))
            .map_err(|e| e.to_string())?;
    }
    let y = 60 + 20 * names.len() as i32;
    root.draw(&Circle::new((122, y + 2), 5, BLACK.stroke_width(2)))
        .map_err(|e| e.to_string())?;
    root.draw(&Text::new("break-even", (140, y - 6), ("sans-serif", 14)))
        .map_err(|e| e.to_string())?;
    root.draw(&Text::new(
        "grey line: the log's volume",
        (110, y + 14),
        ("sans-serif", 14),
    ))
    .map_err(|e| e.to_string())?;
    Ok(())
}
