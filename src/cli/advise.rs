//! `simcost advise`: what each of the seed's strategies would have saved on this log, for each
//! model, each saving the difference of two replays (src/advise/).

use super::log_args::*;
use super::{reported, Format};
use crate::advise::{self, report, Options};
use crate::billing;
use crate::error::{Error, Result};
use crate::output::OutputFile;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct AdviseArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Contacts and accounts listed as carrying each saving.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub(crate) top: usize,
    /// A business message sent after the session or window closed, at most HOURS after the
    /// customer's last message, is a late reply.
    #[arg(long, default_value_t = 48, value_name = "HOURS")]
    pub(crate) late_within: i64,
    /// Contacts sent N or more business messages who never replied are unanswered outreach.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub(crate) unanswered: u32,
    /// Write the affected messages with their ledger rows, now and under each strategy (CSV).
    #[arg(long, value_name = "FILE")]
    pub(crate) details: Option<PathBuf>,
}

pub(crate) fn run(a: AdviseArgs) -> Result<()> {
    if a.late_within < 1 || a.late_within > 24 * 366 {
        return Err(Error::Usage(format!(
            "--late-within: hours from 1 to 8784 ({})",
            a.late_within
        )));
    }
    if a.unanswered < 1 {
        return Err(Error::Usage("--unanswered: at least 1 (0)".into()));
    }
    check_outputs(&a.common, true, &[("--details", a.details.as_deref())])?;
    let l = load(&a.common)?;
    let base = billing_options(&l.accounts, l.as_of, false);
    let now = billing::bill_all(&l.log, None, &l.models, &base, l.threads);
    let now = warn_unpriced(&l, now, a.common.strict)?;
    let opts = Options {
        late_within_hours: a.late_within,
        unanswered: a.unanswered,
        top: a.top,
        tz: l.tz,
        threads: l.threads,
        keep_counterfactuals: a.details.is_some(),
    };
    // The rate directory's FX table: the channel line compares models of other currencies.
    let fx = load_rates(&a.common, &a.common.models)?.1;
    let advice = advise::advise(&l.log, &l.models, &now, &base, &opts, fx.as_ref());
    let details = match &a.details {
        Some(path) => {
            let mut file = OutputFile::create("--details", path)?;
            report::details(&l.log, &advice, l.tz, &mut file)?;
            Some(file)
        }
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match a.format {
        Format::Table => {
            report::table(&advice, &mut out).map_err(|e| Error::io("writing the report", e))
        }
        Format::Csv => report::csv(&advice, &mut out),
        Format::Json => {
            report::json(&advice, &mut out).map_err(|e| Error::io("writing the report", e))
        }
    };
    reported(written.and_then(|_| out.flush().map_err(|e| Error::io("writing the report", e))))?;
    details.map_or(Ok(()), OutputFile::commit)
}
