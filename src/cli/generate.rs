//! `simcost generate`: a realistic conversation log on standard output.

use super::parse_date;
use crate::error::Result;
use clap::Args;

#[derive(Args)]
pub(crate) struct GenerateArgs {
    /// Messages to write (at most 1,000,000,000: the log is sorted in memory).
    #[arg(long, default_value_t = 1000)]
    messages: u64,
    /// Distinct contacts (at most 100,000,000).
    #[arg(long, default_value_t = 100)]
    contacts: u32,
    /// Days the traffic spans (at most 36,600).
    #[arg(long, default_value_t = 30)]
    days: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value = "mixed")]
    profile: crate::generate::Profile,
    /// The first day (YYYY-MM-DD).
    #[arg(long, default_value = "2026-03-01", value_name = "DATE")]
    start: String,
    /// Write the log to FILE instead of standard output (put in place when complete).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

pub(crate) fn run(a: GenerateArgs) -> Result<()> {
    let spec = crate::generate::Spec {
        messages: a.messages,
        contacts: a.contacts,
        days: a.days,
        seed: a.seed,
        profile: a.profile,
        start: parse_date("start", &a.start)?,
    };
    let path = a.output.unwrap_or_else(|| "-".into());
    let mut out = crate::output::OutputFile::create("--output", &path)?;
    super::reported(crate::generate::generate(&spec, &mut out))?;
    super::reported(out.commit())
}
