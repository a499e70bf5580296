//! The command line: parses arguments, drives the library, maps errors to exit codes.
//! One file per command (`replay.rs`, `explain.rs`, ...) and the options every command that reads
//! a log shares (`log_args.rs`); a new command is one file and one line in `Command`.

mod breakeven;
mod compare;
mod explain;
mod generate;
mod log_args;
mod rates;
mod replay;

use crate::error::{exit, Error, Result};
use crate::output;
use crate::report::{CsvExporter, Exporter, JsonExporter, TableExporter};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "simcost",
    version,
    about = "Cost simulator for business messaging: replays Viber and WhatsApp conversation logs through each channel's session rules and commercial models"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a log through every model (or those named) and report costs.
    Replay(replay::ReplayArgs),
    /// One contact's replay, message by message, with why each message cost what it did.
    Explain(explain::ExplainArgs),
    /// Models side by side in one currency: per country and in total, the cheapest marked.
    /// Without a LOG, compares the rate cards themselves.
    Compare(compare::DecideArgs),
    /// Break-even volumes between models, session against per-message pricing, and the
    /// cheapest channel per country.
    Breakeven(breakeven::BreakevenArgs),
    /// Write a realistic conversation log to standard output (identical for the same seed).
    Generate(generate::GenerateArgs),
    /// Rate card maintenance: `rates import-meta` merges Meta's downloadable rate sheets.
    Rates(rates::RatesArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    pub(crate) fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Table => &TableExporter,
            Format::Csv => &CsvExporter,
            Format::Json => &JsonExporter,
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    match output::check_stdout().and_then(|_| run(cli)) {
        Ok(()) => exit::OK,
        Err(e) if e.is_broken_pipe() => exit::OK,
        Err(e) => {
            eprintln!("simcost: {e}");
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Replay(a) => replay::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Compare(a) => compare::run(&a, None),
        Command::Breakeven(a) => breakeven::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Rates(a) => rates::run(a),
    }
}

pub(crate) fn parse_date(flag: &str, d: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|_| Error::Usage(format!("--{flag}: not a YYYY-MM-DD date ({d})")))
}

/// The report written, or its reader gone (`simcost ... | head`): the reader chose to stop,
/// so this is not a failure, and the run's files are still put in place.
pub(crate) fn reported(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_broken_pipe() => Ok(()),
        r => r,
    }
}
