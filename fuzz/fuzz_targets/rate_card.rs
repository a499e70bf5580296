//! Any text as a rate directory's files: the model TOML, its prices CSV, a market table, a Meta
//! card and fx.csv. Must never panic; errors name the file (and line or key).
#![no_main]

use libfuzzer_sys::fuzz_target;
use simcost::rates::{RateSet, RateSource};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Split the input into files on a separator byte so one input exercises several loaders.
    let mut parts = text.split('\u{1}');
    let toml = parts.next().unwrap_or_default().to_string();
    let prices = parts.next().unwrap_or_default().to_string();
    let markets = parts.next().unwrap_or_default().to_string();
    let fx = parts.next().unwrap_or_default().to_string();
    let source = RateSource::Memory(vec![
        ("m.toml".into(), toml),
        ("p.csv".into(), prices.clone()),
        ("prices.csv".into(), prices),
        ("markets.csv".into(), markets),
        ("fx.csv".into(), fx),
    ]);
    if let Err(e) = RateSet::load(&source) {
        let msg = e.to_string();
        assert!(!msg.is_empty());
    }
});
