//! `simcost replay`: a log billed by every model, its report and ledger.

use super::log_args::*;
use super::{reported, Format};
use crate::billing::{self, ModelResult};
use crate::error::Result;
use crate::output::OutputFile;
use crate::rates::Model;
use crate::report::ledger::Ledger;
use crate::report::{self, GroupBy, Report};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct ReplayArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// CSV for spreadsheets: `standard` (`,` and `1.5`) or `excel-eu` (`;` and `1,5`, for
    /// German, French, Italian... locales).
    #[arg(long, value_enum, default_value = "standard", value_name = "DIALECT")]
    pub(crate) csv_dialect: crate::report::CsvDialect,
    /// Rows of the report.
    #[arg(long, value_enum, default_value = "country")]
    pub(crate) by: GroupBy,
    /// Write one row per outbound message and per fee to FILE (CSV). Put in place (a temporary
    /// file renamed) only when the run succeeds; never the log or another output. `-`:
    /// standard output (the report then needs --output).
    #[arg(long, value_name = "FILE")]
    pub(crate) ledger: Option<PathBuf>,
    /// Print amounts in the table at full precision instead of rounded to cents.
    #[arg(long)]
    pub(crate) full_precision: bool,
}

pub(crate) fn run(a: ReplayArgs) -> Result<()> {
    check_outputs(&a.common, true, &[("--ledger", a.ledger.as_deref())])?;
    let (mut l, results, ledger) = match replay_while_reading(&a)? {
        Some(done) => done,
        None => {
            let mut l = load(&a.common)?;
            // Billed as a time-ordered log is, the events read one after the other.
            billing::into_time_order(&mut l.log, l.threads);
            let ledger = new_ledger(&a, &l.models, l.tz, &l.accounts)?;
            let opts = billing_options(&l.accounts, l.as_of, false);
            let sinks = ledger.as_ref().map(Ledger::sinks).unwrap_or_default();
            let results = billing::bill_all_into(&l.log, None, &l.models, &opts, l.threads, &sinks);
            drop(sinks);
            let results = warn_unpriced(&l, results, a.common.strict)?;
            (l, results, ledger)
        }
    };
    warn_mapping(&mut l.log, &results);
    let ledger = match ledger {
        Some(ledger) => Some(ledger.finish(&l.log, &results, l.threads)?),
        None => None,
    };
    let report = Report {
        log: &l.log,
        models: &results,
        by: a.by,
        full_precision: a.full_precision,
        tz: l.tz,
        accounts: &l.accounts,
    };
    let exporter = a.format.exporter(a.csv_dialect);
    let mut out = report_out(&a.common)?;
    reported(report::export(exporter.as_ref(), &report, &mut out))?;
    // Put in place only once the whole run has succeeded.
    ledger.map_or(Ok(()), OutputFile::commit)?;
    let done = reported(out.commit());
    // The log and the results are left for the process's exit to free: dropped one
    // allocation after the other (a log of many accounts: every model's account-months), they
    // were the last part of a run, on one core (issue 24). They hold no file.
    std::mem::forget((l, results));
    done
}

/// `--ledger`: the ledger's rows, made as the models bill (`report::ledger`).
pub(crate) fn new_ledger(
    a: &ReplayArgs,
    models: &[Model],
    tz: chrono_tz::Tz,
    accounts: &crate::accounts::Accounts,
) -> Result<Option<Ledger<OutputFile>>> {
    let Some(path) = &a.ledger else {
        return Ok(None);
    };
    let out = OutputFile::create("--ledger", path)?.around_cache();
    Ledger::new(models, tz, out).map(|l| Some(l.with_zones(accounts)))
}

/// A replayed log, its results and its ledger (`--ledger`).
pub(crate) type Replayed = (Loaded, Vec<ModelResult>, Option<Ledger<OutputFile>>);

/// How `replay` reads and bills a log, decided in one place (`Strategy::of`; the table in
/// docs/architecture.md, "Run strategies").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy<'a> {
    /// A regular file: billed block by block while it is read (`pipeline`). If it turns out
    /// not to be in time order from its first block, every event is kept as it is read, in
    /// time buckets, each then sorted while the ones before it are billed; if only later on,
    /// it is read again and billed the other way (below).
    BillWhileReading(&'a str),
    /// Standard input, a pipe or a device: read once, every event kept, the events put in
    /// time order if need be (`billing::into_time_order`), then billed. It cannot be read a
    /// second time.
    ReadThenBill,
}

impl<'a> Strategy<'a> {
    pub(crate) fn of(log: Option<&'a str>) -> Strategy<'a> {
        match log {
            Some(p) if p != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_file()) => {
                Strategy::BillWhileReading(p)
            }
            _ => Strategy::ReadThenBill,
        }
    }
}

/// A log file billed while it is read (`pipeline`), its ledger made as it is billed; `None`
/// when the strategy is to read first, or the log turned out not to be in time order after
/// its first block (its ledger so far dropped): it must be read (again).
pub(crate) fn replay_while_reading(a: &ReplayArgs) -> Result<Option<Replayed>> {
    let Strategy::BillWhileReading(path) = Strategy::of(a.common.log.as_deref()) else {
        return Ok(None);
    };
    let s = settings(&a.common)?;
    let ledger = new_ledger(a, &s.models, s.tz, &s.accounts)?;
    let opts = billing_options(&s.accounts, s.as_of, false);
    let sinks = ledger.as_ref().map(Ledger::sinks).unwrap_or_default();
    let done =
        crate::pipeline::read_and_bill_or_keep(path, &s.read, &s.models, &opts, s.threads, &sinks)?;
    drop(sinks);
    let Some((log, results)) = done else {
        return Ok(None);
    };
    let l = loaded(&a.common, s, log)?;
    let results = warn_unpriced(&l, results, a.common.strict)?;
    Ok(Some((l, results, ledger)))
}

#[cfg(test)]
mod strategy_tests {
    use super::Strategy;

    /// Only a regular file is billed while it is read: anything else cannot be read twice,
    /// should the log turn out not to be in time order.
    #[test]
    pub(crate) fn only_a_regular_file_is_billed_while_it_is_read() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        assert_eq!(Strategy::of(Some(path)), Strategy::BillWhileReading(path));
        assert_eq!(Strategy::of(None), Strategy::ReadThenBill);
        assert_eq!(Strategy::of(Some("-")), Strategy::ReadThenBill);
        assert_eq!(Strategy::of(Some("/dev/null")), Strategy::ReadThenBill);
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().to_str().unwrap();
        assert_eq!(Strategy::of(Some(dir)), Strategy::ReadThenBill);
    }
}
