//! `simcost explain`: one contact's replay, message by message.
//!
//! Billed like `replay`: a log file while it is read (`pipeline`), each model's lines handed to
//! a sink that keeps only the contact's (`explain::ContactLines`); a pipe, or a log that must
//! be sorted, read first then billed into the same sinks. Memory grows with the contact's
//! lines, never with the log's.

use super::log_args::*;
use super::replay::Strategy;
use crate::billing::{self, LineSink, ModelResult, Sink};
use crate::error::{Error, Result};
use crate::explain::{ContactLines, Explained};
use clap::Args;
use std::io::Write;
use std::sync::Mutex;

#[derive(Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    /// The contact to explain (a phone number in any accepted format, or the id).
    #[arg(long, value_name = "NUMBER")]
    pub(crate) contact: String,
    /// `table` for people; `csv` and `json`: one record per billed message, every model.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: super::Format,
    /// CSV for spreadsheets: `standard` or `excel-eu` (`;` and a decimal comma).
    #[arg(long, value_enum, default_value = "standard", value_name = "DIALECT")]
    pub(crate) csv_dialect: crate::report::CsvDialect,
}

pub(crate) fn run(a: ExplainArgs) -> Result<()> {
    check_outputs(&a.common, true, &[])?;
    let (l, results, lines) = match bill_while_reading(&a)? {
        Some(done) => done,
        None => {
            let l = load(&a.common)?;
            let opts = billing_options(&l.accounts, l.as_of, false);
            let sinks = contact_sinks(&a.contact, l.models.len());
            let results =
                billing::bill_all_into(&l.log, None, &l.models, &opts, l.threads, &refs(&sinks));
            let results = warn_unpriced(&l, results, a.common.strict)?;
            (l, results, into_lines(sinks))
        }
    };
    let Some(name) = lines.iter().find_map(|c| c.name.clone()) else {
        return Err(Error::Usage(format!(
            "--contact: no such contact in {} ({})",
            l.log.file, a.contact
        )));
    };
    let c = Explained {
        name: &name,
        models: &results,
        lines: &lines,
        accounts: &l.accounts,
    };
    let mut out = report_out(&a.common)?;
    super::reported(
        match a.format {
            super::Format::Table => crate::explain::write(&c, &mut out),
            super::Format::Csv => crate::explain::write_csv(&c, a.csv_dialect, &mut out),
            super::Format::Json => crate::explain::write_json(&c, &mut out),
        }
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing the explanation", e)),
    )?;
    super::reported(out.commit())
}

type Explaining = (Loaded, Vec<ModelResult>, Vec<ContactLines>);

/// A log file billed while it is read (`replay`'s `replay_while_reading`); `None` when it
/// must be read first (a pipe) or turns out not to be in time order.
fn bill_while_reading(a: &ExplainArgs) -> Result<Option<Explaining>> {
    let Strategy::BillWhileReading(path) = Strategy::of(a.common.log.as_deref()) else {
        return Ok(None);
    };
    let s = settings(&a.common)?;
    let opts = billing_options(&s.accounts, s.as_of, false);
    let sinks = contact_sinks(&a.contact, s.models.len());
    let done = crate::pipeline::read_and_bill_into(
        path,
        &s.read,
        &s.models,
        &opts,
        s.threads,
        &refs(&sinks),
    )?;
    let Some((log, results)) = done else {
        return Ok(None);
    };
    let l = loaded(&a.common, s, log)?;
    let results = warn_unpriced(&l, results, a.common.strict)?;
    Ok(Some((l, results, into_lines(sinks))))
}

/// One sink per model, each keeping the contact's lines.
fn contact_sinks(contact: &str, models: usize) -> Vec<Mutex<ContactLines>> {
    (0..models)
        .map(|_| Mutex::new(ContactLines::new(contact)))
        .collect()
}

fn refs(sinks: &[Mutex<ContactLines>]) -> Vec<Sink<'_>> {
    sinks.iter().map(|s| s as &Mutex<dyn LineSink>).collect()
}

fn into_lines(sinks: Vec<Mutex<ContactLines>>) -> Vec<ContactLines> {
    (sinks.into_iter())
        .map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
        .map(ContactLines::into_replay_order)
        .collect()
}
