//! `simcost reconcile`: a log's replay held against the provider's bill (`reconcile`).

use super::log_args::*;
use super::replay::Strategy;
use super::{reported, Format};
use crate::billing::{self, Sink};
use crate::error::{Error, Result};
use crate::output::{self, OutputFile};
use crate::rates::Model;
use crate::reconcile::{self, report, Bill, BillFormat, Collector, Replayed, Tolerance};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Args)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    /// The provider's bill: an invoice CSV, Meta pricing analytics JSON, Meta webhook payloads
    /// (JSON Lines) or a Twilio message export.
    #[arg(long, value_name = "FILE")]
    pub(crate) bill: PathBuf,
    /// The bill's format; default: told from its shape (an error when it cannot be).
    #[arg(long, value_enum)]
    pub(crate) bill_format: Option<BillFormat>,
    /// Exit 0 when |billed - replayed| is at most AMOUNT (in the model's currency) or P% of
    /// the billed total; else exit 6.
    #[arg(long, value_name = "AMOUNT|P%", default_value = "0", value_parser = Tolerance::parse)]
    pub(crate) tolerance: Tolerance,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Write each differing message (bills with one row per message) to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    pub(crate) details: Option<PathBuf>,
}

pub(crate) fn run(mut a: ReconcileArgs) -> Result<()> {
    check(&a)?;
    // The bill is read first: a bad bill is named before a long log is read.
    let bill = bill(&mut a)?;
    let (model, tz, rep) = replayed(&a.common, bill.messages.is_some())?;
    let r = reconcile::reconcile(&bill, &rep, &model, a.tolerance)?;
    let details = match &a.details {
        Some(path) => {
            let mut f = OutputFile::create("--details", path)?;
            report::details(&r, tz, &mut f).map_err(|e| Error::io("writing --details", e))?;
            Some(f)
        }
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match a.format {
        Format::Table => report::table(&r, &mut out),
        Format::Csv => report::csv(&r, &mut out),
        Format::Json => report::json(&r, &mut out),
    };
    let written = written.and_then(|_| out.flush());
    reported(written.map_err(|e| Error::io("writing the report", e)))?;
    if let Some(f) = details {
        f.commit()?;
    }
    if r.within_tolerance() {
        return Ok(());
    }
    Err(Error::BillDiffers(format!(
        "the bill differs from the replay by {} {} (billed {} - replayed {}), beyond --tolerance {}",
        r.difference(),
        r.currency,
        r.billed(),
        r.replayed(),
        r.tolerance.label()
    )))
}

/// The log replayed by the one model in `common.models`, its billed lines collected as they
/// are billed: while a log file is read (`Strategy`, as `replay` does), else after.
fn replayed(common: &LogArgs, per_message: bool) -> Result<(Model, chrono_tz::Tz, Replayed)> {
    if let Strategy::BillWhileReading(path) = Strategy::of(common.log.as_deref()) {
        let s = settings(common)?;
        let sink = Mutex::new(Collector::new(&s.models[0], s.tz, per_message));
        let opts = billing_options(&s.accounts, s.as_of, false);
        let sinks: [Sink; 1] = [&sink];
        let done = crate::pipeline::read_and_bill_into(
            path, &s.read, &s.models, &opts, s.threads, &sinks,
        )?;
        // None: the log is not in time order; it is read again below.
        if let Some((log, results)) = done {
            let l = loaded(common, s, log)?;
            return finished(l, results, sink, common.strict);
        }
    }
    let l = load(common)?;
    let sink = Mutex::new(Collector::new(&l.models[0], l.tz, per_message));
    let opts = billing_options(&l.accounts, l.as_of, false);
    let sinks: [Sink; 1] = [&sink];
    let results = billing::bill_all_into(&l.log, None, &l.models, &opts, l.threads, &sinks);
    finished(l, results, sink, common.strict)
}

/// The model, the zone of months and the replay, once billing is done.
fn finished(
    l: Loaded,
    results: Vec<billing::ModelResult>,
    sink: Mutex<Collector>,
    strict: bool,
) -> Result<(Model, chrono_tz::Tz, Replayed)> {
    let results = warn_unpriced(&l, results, strict)?;
    let sink = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    let replayed = sink.finish(&results[0]);
    let model = l.models.into_iter().next();
    let model = model.ok_or_else(|| Error::Usage("reconcile needs one --model".into()))?;
    Ok((model, l.tz, replayed))
}

/// The bill, read in its format (given or told from its shape); the model it is held against
/// set in `a.common.models`.
fn bill(a: &mut ReconcileArgs) -> Result<Bill> {
    let file = a.bill.display().to_string();
    let text = std::fs::read(&a.bill).map_err(|e| Error::io(format!("reading {file}"), e))?;
    let text = String::from_utf8(text).map_err(|_| Error::Input {
        file: file.clone(),
        line: 0,
        msg: "not UTF-8 text".into(),
    })?;
    let format = (a.bill_format.or_else(|| BillFormat::detect(&text))).ok_or_else(|| {
        Error::Usage(format!(
            "{file}: cannot tell the bill's format from its shape; give --bill-format"
        ))
    })?;
    a.common.models = vec![model_name(&a.common, format)?];
    let zone = a.common.tz.as_deref().unwrap_or("UTC");
    let tz: chrono_tz::Tz =
        (zone.parse()).map_err(|_| Error::Usage(format!("--tz: unknown time zone ({zone})")))?;
    read_bill(format, &file, &text, tz)
}

/// No output is the log, the bill or another output.
fn check(a: &ReconcileArgs) -> Result<()> {
    check_outputs(&a.common, true, &[("--details", a.details.as_deref())])?;
    if let Some(d) = &a.details {
        output::check_distinct(
            &[("--bill", output::Input::File(&a.bill))],
            &[("--details", d.as_path())],
        )?;
    }
    Ok(())
}

/// The one model the bill is held against: `--model`, else `whatsapp-meta` for Meta's bills,
/// else the rate directory's only model.
fn model_name(common: &LogArgs, format: BillFormat) -> Result<String> {
    match &common.models[..] {
        [one] => return Ok(one.clone()),
        [] => {}
        _ => {
            return Err(Error::Usage(
                "reconcile holds the bill against one --model".into(),
            ))
        }
    }
    if format.is_meta() {
        return Ok("whatsapp-meta".into());
    }
    let (models, _) = load_rates(common, &[])?;
    match &models[..] {
        [one] => Ok(one.name.clone()),
        _ => Err(Error::Usage(format!(
            "--model NAME is needed: which model billed this {} bill? ({})",
            format.name(),
            models
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn read_bill(format: BillFormat, file: &str, text: &str, tz: chrono_tz::Tz) -> Result<Bill> {
    match format {
        BillFormat::Invoice => reconcile::invoice::read(file, text),
        BillFormat::MetaPricingAnalytics => reconcile::pricing_analytics::read(file, text, tz),
        BillFormat::MetaWebhook => reconcile::webhook::read(file, text),
        BillFormat::Twilio => reconcile::twilio::read(file, text),
    }
}
