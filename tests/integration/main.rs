//! One integration-test binary: runs `simcost` on fixtures and checks stdout, stderr, exit code.
//! Expected figures are worked out by hand in tests/fixtures/README.md.

mod accounts;
mod advise;
mod bad;
mod breakeven_cli;
mod breakeven_exact;
mod breakeven_plot;
mod breakeven_sheets;
mod config;
mod decide;
mod exports_a;
mod exports_b;
mod from_end;
mod golden;
mod input;
mod ledger;
mod meta;
mod meta20;
mod meta20b;
mod output_files;
mod outputs;
mod props;
mod reconcile;
mod scale;
mod scaling;
mod sms;
mod spreadsheet;
mod time_phone;
mod viber;
mod whatsapp;

use rust_decimal::Decimal;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

pub fn test_rates() -> String {
    fixture("rates")
}

/// The JSON report of `results` by account at full precision, made through the library.
pub fn report_json(log: &simcost::input::Log, results: &[simcost::billing::ModelResult]) -> String {
    use simcost::report::{export, GroupBy, JsonExporter, Report};
    let report = Report {
        log,
        models: results,
        by: GroupBy::Account,
        full_precision: true,
        tz: chrono_tz::UTC,
        accounts: &Default::default(),
    };
    let mut out = Vec::new();
    export(&JsonExporter, &report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Reading in UTC with no column map, stopping at the first bad row.
pub fn read_options(threads: usize) -> simcost::input::ReadOptions {
    simcost::input::ReadOptions {
        tz: chrono_tz::UTC,
        map: Vec::new(),
        skip_invalid: false,
        threads,
        max_record_bytes: simcost::input::DEFAULT_MAX_RECORD_BYTES,
        accounts: None,
        ..Default::default()
    }
}

/// Billing at the models' own terms, with no ledger lines unless asked.
pub fn billing_options(keep_lines: bool) -> simcost::billing::BillingOptions {
    simcost::billing::BillingOptions {
        accounts: Default::default(),
        keep_lines,
        as_of: None,
        list_prices: false,
        pool_runs: false,
    }
}

/// A run of the binary under test.
pub struct Sim {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
}

pub fn sim(args: &[&str]) -> Sim {
    Sim {
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
    }
}

/// `replay FIXTURE --rates tests/fixtures/rates --model M... --format json`
pub fn replay_json(fixture_name: &str, models: &[&str], extra: &[&str]) -> Value {
    let f = fixture(fixture_name);
    let r = test_rates();
    let mut args = vec!["replay", &f, "--rates", &r, "--format", "json"];
    for m in models {
        args.extend(["--model", m]);
    }
    args.extend(extra);
    sim(&args).json()
}

/// `replay - --rates tests/fixtures/rates --model M... --format json EXTRA...` on `log`.
pub fn replay_stdin_json(log: &str, models: &[&str], extra: &[&str]) -> Value {
    let r = test_rates();
    let mut args = vec!["replay", "-", "--rates", &r, "--format", "json"];
    for m in models {
        args.extend(["--model", m]);
    }
    args.extend(extra);
    sim(&args).stdin(log.to_string()).json()
}

impl Sim {
    pub fn arg(mut self, a: &str) -> Sim {
        self.args.push(a.to_string());
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Sim {
        self.stdin = Some(data.into());
        self
    }

    pub fn run(self) -> Output {
        let mut cmd = assert_cmd::Command::cargo_bin("simcost").unwrap();
        cmd.args(&self.args);
        if let Some(d) = self.stdin {
            cmd.write_stdin(d);
        }
        cmd.output().unwrap()
    }

    /// Runs, expects success, and parses stdout as JSON.
    pub fn json(self) -> Value {
        serde_json::from_str(&self.succeeds()).expect("stdout is JSON")
    }

    /// Runs, expects success, and returns stdout.
    pub fn succeeds(self) -> String {
        let args = self.args.join(" ");
        let out = self.run();
        assert!(
            out.status.success(),
            "simcost {args} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    /// Runs and expects failure with `code` and a stderr containing `message`.
    pub fn fails(self, code: i32, message: &str) -> Output {
        let out = self.run();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
        assert!(
            stderr.contains(message),
            "stderr {stderr:?} lacks {message:?}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        out
    }
}

pub fn model<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == name)
        .unwrap_or_else(|| panic!("no model {name}"))
}

pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("amount is not a string: {v}"))
        .parse()
        .unwrap()
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn total(v: &Value, name: &str) -> Decimal {
    dec(&model(v, name)["total"])
}

pub fn count(v: &Value, name: &str, field: &str) -> u64 {
    model(v, name)["totals"][field].as_u64().unwrap()
}

/// The row of `key` (a country, month or account) in a model's `countries`/`months`/`accounts`.
pub fn row<'a>(v: &'a Value, name: &str, list: &str, key_field: &str, key: &str) -> &'a Value {
    model(v, name)[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key_field] == key)
        .unwrap_or_else(|| panic!("no {key} in {list} of {name}"))
}
