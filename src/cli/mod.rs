//! The command line: parses arguments, drives the library, maps errors to exit codes.
//! One file per command (`replay.rs`, `explain.rs`, ...) and the options every command that reads
//! a log shares (`log_args.rs`); a new command is one file and one line in `Command`.

mod advise;
mod breakeven;
mod compare;
mod completions;
mod explain;
mod generate;
mod log_args;
mod merge;
mod rates;
mod reconcile;
mod replay;

use crate::error::{exit, Error, Result};
use crate::output;
use crate::report::{CsvDialect, CsvExporter, Exporter, JsonExporter, TableExporter};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "simcost",
    version,
    about = "Cost simulator for business messaging: replays Viber and WhatsApp conversation logs through each channel's session rules and commercial models",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit codes (src/error.rs `exit`), shown by `--help` and in the README.
const EXIT_CODES: &str = "Exit codes:
  0  success (also when the reader of standard output stops early, e.g. `| head`)
  1  I/O: a file cannot be read or written
  2  usage: a bad option or argument, an output that is an input or another output
  3  input: a bad row of the log (FILE:LINE: what is wrong), or every row skipped
  4  rates: a bad rate directory, model file or price card
  5  unpriced: with --strict, a message the rate card cannot price
  6  reconcile: the bill differs from the replay by more than --tolerance";

#[derive(Subcommand)]
enum Command {
    /// Replay a log through every model (or those named) and report costs.
    Replay(replay::ReplayArgs),
    /// One contact's replay, message by message, with why each message cost what it did.
    Explain(explain::ExplainArgs),
    /// Models side by side in one currency: per country and in total, the cheapest marked.
    /// With --cards, compares the rate cards themselves.
    Compare(compare::DecideArgs),
    /// Break-even volumes between models, session against per-message pricing, and the
    /// cheapest channel per country.
    Breakeven(breakeven::BreakevenArgs),
    /// Write a realistic conversation log to standard output (identical for the same seed).
    Generate(generate::GenerateArgs),
    /// Hold a log's replay against the provider's bill: differences per month, country and
    /// category, per message where the bill has them, and their likely causes.
    Reconcile(reconcile::ReconcileArgs),
    /// What each savings strategy would have saved on this log, per model: two replays each.
    Advise(advise::AdviseArgs),
    /// Sum the JSON reports of parts of one log split by portfolio or account (docs/scaling.md).
    Merge(merge::MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// The rate cards: `rates export DIR` writes the built-in ones out to start your own from;
    /// `rates import-meta` merges Meta's downloadable rate sheets into a rate directory.
    Rates(rates::RatesArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    pub(crate) fn exporter(self, dialect: CsvDialect) -> Box<dyn Exporter> {
        match self {
            Format::Table => Box::new(TableExporter),
            Format::Csv => Box::new(CsvExporter { dialect }),
            Format::Json => Box::new(JsonExporter),
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
        Command::Reconcile(a) => reconcile::run(a),
        Command::Advise(a) => advise::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Completions(a) => completions::run(a),
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

#[cfg(test)]
mod tests {
    use crate::error::exit;

    /// `--help` lists every exit code the binary can return.
    #[test]
    fn help_lists_every_exit_code() {
        for code in [
            exit::OK,
            exit::IO,
            exit::USAGE,
            exit::INPUT,
            exit::RATES,
            exit::UNPRICED,
            exit::BILL_DIFFERS,
        ] {
            assert!(
                super::EXIT_CODES.contains(&format!("\n  {code}  ")),
                "{code}"
            );
        }
    }
}
