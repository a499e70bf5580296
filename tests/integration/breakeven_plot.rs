//! The break-even chart (issue 21): the SVG is parsed, and the mark of the log's current volume
//! and a label for every crossing (its volume a month, as the JSON gives it) are found inside
//! the plot area; an incomplete model is named so; the title is the file's name, not its path.

use crate::breakeven_exact::{allowance_log, rates, scaled};
use crate::{dec, sim};
use serde_json::Value;

/// A text element: where it is, what it says.
struct Label {
    x: f64,
    y: f64,
    text: String,
}

/// The plot area (the one unfilled rectangle), every text and the vertical black lines' x.
fn parse(svg: &str) -> ((f64, f64, f64, f64), Vec<Label>, Vec<f64>) {
    let doc = roxmltree::Document::parse(svg).expect("valid SVG");
    let num = |n: roxmltree::Node, a: &str| -> f64 { n.attribute(a).unwrap().parse().unwrap() };
    let frames: Vec<_> = (doc.descendants())
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("none"))
        .map(|n| (num(n, "x"), num(n, "y"), num(n, "width"), num(n, "height")))
        .collect();
    assert_eq!(frames.len(), 1, "one plot area frame");
    let labels = (doc.descendants())
        .filter(|n| n.has_tag_name("text"))
        .map(|n| Label {
            x: num(n, "x"),
            y: num(n, "y"),
            text: n.text().unwrap_or("").trim().to_string(),
        })
        .collect();
    let verticals = (doc.descendants())
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#000000"))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .filter_map(|n| {
            let pts: Vec<(f64, f64)> = (n.attribute("points").unwrap().split_whitespace())
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (pts.len() == 2 && pts[0].0 == pts[1].0 && pts[0].1 != pts[1].1).then_some(pts[0].0)
        })
        .collect();
    (frames[0], labels, verticals)
}

#[test]
fn the_chart_marks_the_current_volume_and_labels_every_crossing_inside_the_plot() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("allowance.csv");
    let mut rows = allowance_log("A");
    // wa prices no FR message: dashed, "(incomplete)".
    rows.push(("2026-03-06T10:00:00Z".into(), "A", "fr1".into(), "in", ""));
    rows.push(("2026-03-06T10:01:00Z".into(), "A", "fr1".into(), "out", ""));
    std::fs::write(&log, scaled(&rows, 1)).unwrap();
    let (log, r) = (log.to_str().unwrap().to_string(), rates());
    let svg = dir.path().join("chart.svg");
    let models = [
        "--model", "legacy", "--model", "v2024", "--model", "wa", "--model", "minimum",
    ];
    let mut args = vec![
        "breakeven",
        &log,
        "--rates",
        &r,
        "--plot",
        svg.to_str().unwrap(),
    ];
    args.extend(models);
    sim(&args).succeeds();
    let mut json_args = vec!["breakeven", &log, "--rates", &r, "--format", "json"];
    json_args.extend(models);
    let v: Value = sim(&json_args).json();

    let ((x0, y0, w, h), labels, verticals) = parse(&std::fs::read_to_string(&svg).unwrap());
    let inside = |l: &Label| l.x >= x0 && l.x <= x0 + w && l.y >= y0 && l.y <= y0 + h;
    let find = |text: &str| -> &Label {
        (labels.iter().find(|l| l.text == text)).unwrap_or_else(|| {
            panic!(
                "no label {text:?} in {:?}",
                labels.iter().map(|l| &l.text).collect::<Vec<_>>()
            )
        })
    };
    // 62 messages a month now (60 + the FR pair).
    let now = find("the log now: 62 a month");
    assert!(inside(now), "the current volume's label outside the plot");
    assert!(
        verticals.iter().any(|x| *x > x0 && *x < x0 + w),
        "no vertical mark of the current volume inside the plot"
    );
    let mut crossings = 0;
    for p in v["models_breakeven"][0]["pairs"].as_array().unwrap() {
        for c in p["crossings"].as_array().unwrap() {
            let m = dec(&c["messages_per_month"]).round();
            let text = format!("{} a month", thousands(m.try_into().unwrap()));
            assert!(inside(find(&text)), "{text} outside the plot");
            crossings += 1;
        }
    }
    // legacy/v2024: the FR session adds 0.03k to legacy: 0.13k - 200 = 0 at k = 1538.46,
    // 62 x 1538.46 = 95,385 a month; and the other pairs'.
    assert!(crossings >= 3, "{crossings}");
    find("95,385 a month");
    find("wa (incomplete)");
    find("allowance.csv (A)");
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
