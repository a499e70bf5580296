//! Any bytes as a conversation log: read, replayed through every shipped model, reported.
//! Must never panic; a bad input is an `Err` naming the file and line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simcost::billing::{bill_all, replay_order, BillingOptions};
use simcost::input::{read_from, ReadOptions};
use simcost::rates::{RateSet, RateSource};
use std::sync::OnceLock;

static RATES: OnceLock<RateSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let rates = RATES.get_or_init(|| RateSet::load(&RateSource::Embedded).expect("shipped rates"));
    for skip_invalid in [false, true] {
        let opts = ReadOptions {
            tz: chrono_tz::Europe::Kyiv,
            map: Vec::new(),
            skip_invalid,
            threads: 2,
        };
        let Ok(log) = read_from("fuzz.csv".into(), data, &opts) else {
            continue;
        };
        assert_eq!(log.rows as usize, log.events.len() + log.rejects.len());
        let order = replay_order(&log);
        let billing = BillingOptions {
            account_country: None,
            keep_lines: true,
            as_of: None,
            list_prices: false,
        };
        let sorted = bill_all(&log, Some(&order), &rates.models, &billing, 1);
        for r in &sorted {
            // The ledger adds up to the totals.
            let lines: rust_decimal::Decimal = r.lines.iter().map(|l| l.price.amount()).sum();
            assert_eq!(lines, r.totals().cost);
        }
        // Billed without a ledger (in row order when the log is in time order): the same.
        let plain = BillingOptions {
            keep_lines: false,
            ..billing
        };
        for (a, b) in sorted.iter().zip(bill_all(&log, None, &rates.models, &plain, 2)) {
            assert_eq!(a.cells, b.cells);
            assert_eq!(a.total(), b.total());
        }
    }
});
