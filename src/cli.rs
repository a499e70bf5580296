//! The command line: parses arguments, drives the library, maps errors to exit codes.

use crate::analysis::{breakeven, cards, compare};
use crate::billing::{self, BillingOptions, ModelResult};
use crate::error::{exit, Error, Result};
use crate::event::Country;
use crate::input::{self, Log, ReadOptions};
use crate::output::{self, OutputFile};
use crate::rates::fx::FxTable;
use crate::rates::{Channel, Model, RateSet, RateSource};
use crate::report::ledger::Ledger;
use crate::report::{
    self, BreakevenReport, CardsReport, CompareReport, CsvExporter, Decision, Exporter, GroupBy,
    JsonExporter, Report, TableExporter,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    Replay(ReplayArgs),
    /// One contact's replay, message by message, with why each message cost what it did.
    Explain(ExplainArgs),
    /// Models side by side in one currency: per country and in total, the cheapest marked.
    /// Without a LOG, compares the rate cards themselves.
    Compare(DecideArgs),
    /// Break-even volumes between models, session against per-message pricing, and the
    /// cheapest channel per country.
    Breakeven(BreakevenArgs),
    /// Write a realistic conversation log to standard output (identical for the same seed).
    Generate(GenerateArgs),
}

#[derive(Args)]
struct GenerateArgs {
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
}

/// Options of the commands that compare models (`compare`, `breakeven`).
#[derive(Args)]
struct DecideArgs {
    #[command(flatten)]
    common: LogArgs,
    /// Every Viber model (with --whatsapp or --model: those too).
    #[arg(long)]
    viber: bool,
    /// Every WhatsApp model.
    #[arg(long)]
    whatsapp: bool,
    /// The currency of the report; other currencies convert with the rate directory's fx.csv.
    #[arg(long, default_value = "EUR", value_name = "CODE")]
    currency: String,
    /// Convert with the latest rates of fx.csv dated on or before DATE (default: the latest).
    #[arg(long, value_name = "DATE")]
    fx_date: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Print amounts in the table at full precision instead of rounded to cents.
    #[arg(long)]
    full_precision: bool,
    /// Without a LOG: business messages in the typical support conversation.
    #[arg(long, default_value_t = 8, value_name = "N")]
    messages_per_session: u32,
    /// The card prices of DATE (default: today; with a LOG, its last day).
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Without a LOG: only these countries (comma-separated ISO codes).
    #[arg(long, value_delimiter = ',', value_name = "CC,...")]
    countries: Vec<String>,
}

#[derive(Args)]
struct BreakevenArgs {
    #[command(flatten)]
    decide: DecideArgs,
    /// Draw cost against monthly volume to FILE (SVG): one line per model, crossings marked.
    /// Put in place only when the run succeeds.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
}

/// Options shared by every command that reads a log.
#[derive(Args)]
struct LogArgs {
    /// The conversation log (CSV); `-` or nothing reads standard input.
    log: Option<String>,
    /// Replay only this model (repeatable); default: every model of the rate directory.
    #[arg(long = "model", value_name = "NAME")]
    models: Vec<String>,
    /// Load rate cards from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    rates: Option<PathBuf>,
    /// Time zone of naive timestamps and of calendar months (IANA name).
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    tz: String,
    /// Read a field from a differently named column, e.g. `--map timestamp=sent_at`; a column
    /// the log lacks is an error; `--map account=` leaves an optional field unread.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    map: Vec<String>,
    /// The account's country for fee tiers; default: the highest tier among the month's countries.
    #[arg(long, value_name = "CC")]
    account_country: Option<String>,
    /// Skip bad rows (counted in the report) instead of stopping. Without --max-skipped any
    /// number may be skipped, but not every row: a run with nothing replayed fails (exit 3).
    #[arg(long)]
    skip_invalid: bool,
    /// With --skip-invalid: fail (exit 3) when more rows than N, or than P% of the rows, are
    /// skipped; the rejects file is still written. `100%` accepts a run with every row skipped.
    #[arg(long, value_name = "N|P%", requires = "skip_invalid", value_parser = SkipLimit::parse)]
    max_skipped: Option<SkipLimit>,
    /// With --skip-invalid: write the skipped rows to FILE, each as its line, its reason and
    /// every field it had, byte for byte (put in place once the log is read, also when
    /// --max-skipped then fails the run).
    #[arg(long, value_name = "FILE", requires = "skip_invalid")]
    rejects: Option<PathBuf>,
    /// A longer record (a row, quoted line ends included) stops the reading: a bound on memory
    /// for a file with no line end or an unclosed quote.
    #[arg(long, value_name = "BYTES", default_value_t = input::DEFAULT_MAX_RECORD_BYTES)]
    max_record_bytes: usize,
    /// A message the rate card cannot price is an error instead of a warning.
    #[arg(long)]
    strict: bool,
    /// whatsapp-meta: apply the rules and rates in force on DATE (YYYY-MM-DD) to all traffic.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Threads for reading the log and replaying the models (default: one per core); the
    /// result is the same for any number.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Table => &TableExporter,
            Format::Csv => &CsvExporter,
            Format::Json => &JsonExporter,
        }
    }
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    common: LogArgs,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Rows of the report.
    #[arg(long, value_enum, default_value = "country")]
    by: GroupBy,
    /// Write one row per outbound message and per fee to FILE (CSV). Put in place (a temporary
    /// file renamed) only when the run succeeds; never the log or another output.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Print amounts in the table at full precision instead of rounded to cents.
    #[arg(long)]
    full_precision: bool,
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    common: LogArgs,
    /// The contact to explain (a phone number in any accepted format, or the id).
    #[arg(long, value_name = "NUMBER")]
    contact: String,
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
        Command::Replay(a) => replay(a),
        Command::Explain(a) => explain(a),
        Command::Compare(a) => decide(&a, None),
        Command::Breakeven(a) => decide(&a.decide, Some(a.plot.as_deref())),
        Command::Generate(a) => {
            let spec = crate::generate::Spec {
                messages: a.messages,
                contacts: a.contacts,
                days: a.days,
                seed: a.seed,
                profile: a.profile,
                start: parse_date("start", &a.start)?,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            crate::generate::generate(&spec, &mut out)
        }
    }
}

/// What every command needs first: the log, the selected models and the billing options.
struct Loaded {
    log: Log,
    models: Vec<Model>,
    tz: chrono_tz::Tz,
    account_country: Option<Country>,
    as_of: Option<i32>,
    threads: usize,
}

fn load(a: &LogArgs) -> Result<Loaded> {
    let s = settings(a)?;
    let log = input::read_log(a.log.as_deref(), &s.read)?;
    loaded(a, s, log)
}

/// What a command takes from its options before reading the log.
struct Settings {
    read: ReadOptions,
    models: Vec<Model>,
    tz: chrono_tz::Tz,
    account_country: Option<Country>,
    as_of: Option<i32>,
    threads: usize,
}

fn settings(a: &LogArgs) -> Result<Settings> {
    let tz: chrono_tz::Tz =
        a.tz.parse()
            .map_err(|_| Error::Usage(format!("--tz: unknown time zone ({})", a.tz)))?;
    let map = a
        .map
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .ok_or_else(|| Error::Usage(format!("--map takes FIELD=COLUMN ({m})")))
        })
        .collect::<Result<Vec<_>>>()?;
    let account_country = a
        .account_country
        .as_deref()
        .map(|c| {
            Country::parse(c).ok_or_else(|| {
                Error::Usage(format!("--account-country: not an ISO country code ({c})"))
            })
        })
        .transpose()?;
    let as_of = a
        .as_of
        .as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(crate::calendar::days_since_epoch)
                .map_err(|_| Error::Usage(format!("--as-of: not a YYYY-MM-DD date ({d})")))
        })
        .transpose()?;
    let models = load_rates(a, &a.models)?.0;
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    Ok(Settings {
        read: ReadOptions {
            tz,
            map,
            skip_invalid: a.skip_invalid,
            threads,
            max_record_bytes: a.max_record_bytes,
        },
        models,
        tz,
        account_country,
        as_of,
        threads,
    })
}

/// The log read with `s`, its rejected rows written out and counted on stderr.
fn loaded(a: &LogArgs, s: Settings, log: Log) -> Result<Loaded> {
    if let Some(path) = &a.rejects {
        write_rejects(&log, path)?;
    }
    if !log.rejects.is_empty() {
        eprintln!(
            "simcost: warning: {} of {} rows skipped as invalid{}",
            log.rejects.len(),
            log.rows,
            a.rejects
                .as_ref()
                .map(|p| format!(" (written to {})", p.display()))
                .unwrap_or_default()
        );
    }
    if a.skip_invalid {
        SkipLimit::check(a.max_skipped, &log, a.rejects.as_deref())?;
    }
    Ok(Loaded {
        log,
        models: s.models,
        tz: s.tz,
        account_country: s.account_country,
        as_of: s.as_of,
        threads: s.threads,
    })
}

/// The rate directory's models named in `names` (all when empty) and its FX table.
fn load_rates(a: &LogArgs, names: &[String]) -> Result<(Vec<Model>, Option<FxTable>)> {
    let source = match &a.rates {
        Some(d) => RateSource::Dir(d.clone()),
        None => RateSource::Embedded,
    };
    RateSet::load(&source)?.select_with_fx(names)
}

fn parse_date(flag: &str, d: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|_| Error::Usage(format!("--{flag}: not a YYYY-MM-DD date ({d})")))
}

/// `compare` and `breakeven`: `plot` is `Some` for breakeven.
fn decide(a: &DecideArgs, plot: Option<Option<&std::path::Path>>) -> Result<()> {
    check_outputs(&a.common, false, &[("--plot", plot.flatten())])?;
    let (models, fx) = decision_models(a)?;
    let fx_date = a
        .fx_date
        .as_deref()
        .map(|d| parse_date("fx-date", d))
        .transpose()?;
    let currency = a.currency.to_ascii_uppercase();
    let own: Vec<(String, String)> = models
        .iter()
        .map(|m| (m.name.clone(), m.currency.clone()))
        .collect();
    let conv = compare::conversions(&own, &currency, fx.as_ref(), fx_date)?;
    let d = Decision {
        log: None,
        currency: &currency,
        models: models
            .iter()
            .map(|m| (m.name.clone(), m.channel.name(), m.currency.clone()))
            .collect(),
        rates_used: rates_used(&conv),
        full_precision: a.full_precision,
    };
    let given_date = a
        .date
        .as_deref()
        .map(|d| parse_date("date", d))
        .transpose()?;
    match &a.common.log {
        None => decide_on_cards(a, plot, &models, &conv, d, given_date),
        Some(_) => decide_on_log(a, plot, models, &conv, d, given_date),
    }
}

/// The models `compare`/`breakeven` compare and the rate directory's FX table:
/// --viber / --whatsapp select every model of the channel, --model adds named ones.
fn decision_models(a: &DecideArgs) -> Result<(Vec<Model>, Option<FxTable>)> {
    let all = load_rates(&a.common, &[])?.0;
    let mut names: Vec<String> = all
        .iter()
        .filter(|m| {
            (a.viber && m.channel == Channel::Viber)
                || (a.whatsapp && m.channel == Channel::WhatsApp)
        })
        .map(|m| m.name.clone())
        .collect();
    names.extend(a.common.models.iter().cloned());
    load_rates(&a.common, &names)
}

/// The published FX rates the conversions use, each once, in first use order.
fn rates_used(conv: &[crate::rates::fx::Conversion]) -> Vec<crate::rates::fx::FxRate> {
    let mut rates_used = Vec::new();
    for c in conv {
        for r in &c.rates {
            if !rates_used.contains(r) {
                rates_used.push(r.clone());
            }
        }
    }
    rates_used
}

/// `compare`/`breakeven` without a log: the rate cards themselves on `--date` (default today).
fn decide_on_cards(
    a: &DecideArgs,
    plot: Option<Option<&Path>>,
    models: &[Model],
    conv: &[crate::rates::fx::Conversion],
    d: Decision,
    given_date: Option<chrono::NaiveDate>,
) -> Result<()> {
    if plot.is_some_and(|p| p.is_some()) {
        return Err(Error::Usage("--plot needs a LOG to scale".into()));
    }
    let refs: Vec<&Model> = models.iter().collect();
    let date = given_date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let day = crate::calendar::days_since_epoch(date);
    let countries = card_countries(a, &refs)?;
    let sessions = cards::session_vs_message(&refs, day, Some(&countries));
    let exporter = a.format.exporter();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if plot.is_some() {
        let r = BreakevenReport {
            d,
            scopes: &[],
            sessions: &sessions,
            channels: None,
        };
        return report::finish(exporter.breakeven(&r, &mut out), &mut out);
    }
    let rows = cards::compare_cards(&refs, conv, &countries, day, a.messages_per_session)?;
    let r = CardsReport {
        d,
        date,
        messages_per_session: a.messages_per_session,
        rows: &rows,
        sessions: &sessions,
    };
    report::finish(exporter.cards(&r, &mut out), &mut out)
}

/// The countries whose cards are compared: `--countries`, else the models' default ones.
fn card_countries(a: &DecideArgs, refs: &[&Model]) -> Result<Vec<Country>> {
    if a.countries.is_empty() {
        return Ok(cards::default_countries(refs));
    }
    a.countries
        .iter()
        .map(|c| {
            Country::parse(c.trim())
                .ok_or_else(|| Error::Usage(format!("--countries: not an ISO country code ({c})")))
        })
        .collect()
}

/// `compare`/`breakeven` on a log: every model billed, then compared in `d`'s currency.
fn decide_on_log(
    a: &DecideArgs,
    plot: Option<Option<&Path>>,
    models: Vec<Model>,
    conv: &[crate::rates::fx::Conversion],
    d: Decision,
    given_date: Option<chrono::NaiveDate>,
) -> Result<()> {
    let mut l = load(&a.common)?;
    l.models = models;
    let results = bill_all(&l, false, a.common.strict)?;
    let comparison = compare::compare(&results, conv, d.currency)?;
    let scopes = breakeven::breakeven(&results, conv)?;
    let d = Decision {
        log: Some(&l.log),
        ..d
    };
    let exporter = a.format.exporter();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let Some(svg) = plot else {
        let r = CompareReport {
            d,
            comparison: &comparison,
            scopes: &scopes,
        };
        return report::finish(exporter.compare(&r, &mut out), &mut out);
    };
    // (b) Session against per message on the cards in force on `--date`, else the log's last day.
    let day = match given_date {
        Some(g) => crate::calendar::days_since_epoch(g),
        None => l.log.events.iter().map(|e| e.day).max().unwrap_or(0),
    };
    let countries: Vec<Country> = comparison.countries.iter().map(|c| c.country).collect();
    let refs: Vec<&Model> = l.models.iter().collect();
    let sessions = cards::session_vs_message(&refs, day, Some(&countries));
    let chart = match (svg, scopes.last()) {
        (Some(path), Some(scope)) => Some(draw(path, &l, scope, d.currency)?),
        _ => None,
    };
    let r = BreakevenReport {
        d,
        scopes: &scopes,
        sessions: &sessions,
        channels: Some(&comparison),
    };
    reported(report::finish(exporter.breakeven(&r, &mut out), &mut out))?;
    chart.map_or(Ok(()), OutputFile::commit)
}

/// `--plot`: the chart of `scope`, drawn but not yet put in place.
fn draw(path: &Path, l: &Loaded, scope: &breakeven::Scope, currency: &str) -> Result<OutputFile> {
    let names: Vec<String> = l.models.iter().map(|m| m.name.clone()).collect();
    let title = format!(
        "{}: monthly cost against volume ({})",
        l.log.file,
        report::scope_label(Some(&l.log), scope.account)
    );
    let mut f = OutputFile::create("--plot", path)?;
    let shown = path.display().to_string();
    report::plot::write_svg(&mut f, &shown, scope, &names, currency, &title)?;
    Ok(f)
}

/// The skipped rows, written to `path` (`report::rejects`).
fn write_rejects(log: &Log, path: &Path) -> Result<()> {
    let mut file = OutputFile::create("--rejects", path)?;
    report::rejects::write(log, &mut file).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(format!("writing {}", path.display()), source),
        e => e,
    })?;
    file.commit()
}

fn billing_options(
    account_country: Option<Country>,
    as_of: Option<i32>,
    keep_lines: bool,
) -> BillingOptions {
    BillingOptions {
        account_country,
        keep_lines,
        as_of,
        list_prices: false,
    }
}

fn bill_all(l: &Loaded, keep_lines: bool, strict: bool) -> Result<Vec<ModelResult>> {
    let opts = billing_options(l.account_country, l.as_of, keep_lines);
    let results = billing::bill_all(&l.log, None, &l.models, &opts, l.threads);
    warn_unpriced(l, results, strict)
}

/// Says which models left messages unpriced (an error with `--strict`).
fn warn_unpriced(l: &Loaded, results: Vec<ModelResult>, strict: bool) -> Result<Vec<ModelResult>> {
    for (r, m) in results.iter().zip(&l.models) {
        let unpriced = r.unpriced_by_country();
        if unpriced.is_empty() {
            continue;
        }
        let list: Vec<String> = unpriced.iter().map(|(c, n)| format!("{c}: {n}")).collect();
        let card = match &m.card {
            crate::rates::Card::Country(c) => c.file.clone(),
            crate::rates::Card::Meta(_) => m.file.clone(),
        };
        let msg = format!(
            "{}: {} messages have no price on the card {card} and no * row ({})",
            r.name,
            unpriced.values().sum::<u64>(),
            list.join(", ")
        );
        if strict {
            return Err(Error::Unpriced(format!(
                "{msg}; --strict makes this an error"
            )));
        }
        eprintln!("simcost: warning: {msg}; totals are incomplete");
    }
    Ok(results)
}

fn replay(a: ReplayArgs) -> Result<()> {
    check_outputs(&a.common, true, &[("--ledger", a.ledger.as_deref())])?;
    let (l, results, ledger) = match replay_while_reading(&a)? {
        Some(done) => done,
        None => {
            let l = load(&a.common)?;
            let ledger = new_ledger(&a, &l.models, l.tz)?;
            let opts = billing_options(l.account_country, l.as_of, false);
            let sinks = ledger.as_ref().map(Ledger::sinks).unwrap_or_default();
            let results = billing::bill_all_into(&l.log, None, &l.models, &opts, l.threads, &sinks);
            drop(sinks);
            let results = warn_unpriced(&l, results, a.common.strict)?;
            (l, results, ledger)
        }
    };
    let ledger = match ledger {
        Some(ledger) => Some(ledger.finish(&l.log, &results)?),
        None => None,
    };
    let report = Report {
        log: &l.log,
        models: &results,
        by: a.by,
        full_precision: a.full_precision,
        tz: l.tz,
    };
    let exporter = a.format.exporter();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    reported(report::export(exporter, &report, &mut out))?;
    // Put in place only once the whole run has succeeded.
    ledger.map_or(Ok(()), OutputFile::commit)
}

/// `--ledger`: the ledger's rows, made as the models bill (`report::ledger`).
fn new_ledger(
    a: &ReplayArgs,
    models: &[Model],
    tz: chrono_tz::Tz,
) -> Result<Option<Ledger<OutputFile>>> {
    let Some(path) = &a.ledger else {
        return Ok(None);
    };
    // A file is written to a temporary file first (`OutputFile`); not so a pipe or device.
    let file = !std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
    let out = OutputFile::create("--ledger", path)?;
    Ledger::new(models, tz, out, file).map(Some)
}

/// A replayed log, its results and its ledger (`--ledger`).
type Replayed = (Loaded, Vec<ModelResult>, Option<Ledger<OutputFile>>);

/// How `replay` reads and bills a log, decided in one place (`Strategy::of`; the table in
/// docs/architecture.md, "Run strategies").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy<'a> {
    /// A regular file: billed block by block while it is read (`pipeline`). If it turns out
    /// not to be in time order, it is read again and billed the other way.
    BillWhileReading(&'a str),
    /// Standard input, a pipe or a device: read once, every event kept, sorted into the
    /// replay order if need be, then billed. It cannot be read a second time.
    ReadThenBill,
}

impl<'a> Strategy<'a> {
    fn of(log: Option<&'a str>) -> Strategy<'a> {
        match log {
            Some(p) if p != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_file()) => {
                Strategy::BillWhileReading(p)
            }
            _ => Strategy::ReadThenBill,
        }
    }
}

/// A log file billed while it is read (`pipeline`), its ledger made as it is billed; `None`
/// when the strategy is to read first, or the log turns out not to be in time order (whose
/// ledger so far is dropped).
fn replay_while_reading(a: &ReplayArgs) -> Result<Option<Replayed>> {
    let Strategy::BillWhileReading(path) = Strategy::of(a.common.log.as_deref()) else {
        return Ok(None);
    };
    let s = settings(&a.common)?;
    let ledger = new_ledger(a, &s.models, s.tz)?;
    let opts = billing_options(s.account_country, s.as_of, false);
    let sinks = ledger.as_ref().map(Ledger::sinks).unwrap_or_default();
    let done =
        crate::pipeline::read_and_bill_into(path, &s.read, &s.models, &opts, s.threads, &sinks)?;
    drop(sinks);
    let Some((log, results)) = done else {
        return Ok(None);
    };
    let l = loaded(&a.common, s, log)?;
    let results = warn_unpriced(&l, results, a.common.strict)?;
    Ok(Some((l, results, ledger)))
}

fn explain(a: ExplainArgs) -> Result<()> {
    check_outputs(&a.common, true, &[])?;
    let l = load(&a.common)?;
    let contact = l.log.find_contact(&a.contact).ok_or_else(|| {
        Error::Usage(format!(
            "--contact: no such contact in {} ({})",
            l.log.file, a.contact
        ))
    })?;
    let results = bill_all(&l, true, a.common.strict)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    crate::explain::write(&l.log, &results, contact, l.tz, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing the explanation", e))
}

/// Checks, before anything is read or written, that no output of the command is its log or
/// another of its outputs. `absent_is_stdin`: no LOG reads standard input (not so for
/// `compare`/`breakeven`, where no LOG compares the cards).
fn check_outputs(a: &LogArgs, absent_is_stdin: bool, more: &[(&str, Option<&Path>)]) -> Result<()> {
    let log = match a.log.as_deref() {
        Some("-") => Some(output::Input::Stdin),
        Some(p) => Some(output::Input::File(Path::new(p))),
        None if absent_is_stdin => Some(output::Input::Stdin),
        None => None,
    };
    let inputs: Vec<(&str, output::Input)> = log.map(|l| ("LOG", l)).into_iter().collect();
    let outputs: Vec<(&str, &Path)> = std::iter::once(("--rejects", a.rejects.as_deref()))
        .chain(more.iter().copied())
        .filter_map(|(label, p)| Some((label, p?)))
        .collect();
    output::check_distinct(&inputs, &outputs)
}

/// The report written, or its reader gone (`simcost ... | head`): the reader chose to stop,
/// so this is not a failure, and the run's files are still put in place.
fn reported(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_broken_pipe() => Ok(()),
        r => r,
    }
}

/// `--max-skipped`: how many rows `--skip-invalid` may skip before the run fails.
#[derive(Clone, Copy, Debug)]
enum SkipLimit {
    Rows(u64),
    Percent(rust_decimal::Decimal),
}

impl SkipLimit {
    fn parse(s: &str) -> std::result::Result<SkipLimit, String> {
        let bad =
            || format!("expected a number of rows N or a percentage P% (0% to 100%), not {s:?}");
        match s.trim().strip_suffix('%') {
            Some(p) => {
                let p: rust_decimal::Decimal = p.trim().parse().map_err(|_| bad())?;
                if p.is_sign_negative() || p > rust_decimal::Decimal::ONE_HUNDRED {
                    return Err(bad());
                }
                Ok(SkipLimit::Percent(p))
            }
            None => s.trim().parse().map(SkipLimit::Rows).map_err(|_| bad()),
        }
    }

    /// Fails (an input error) when more rows were skipped than `limit` allows; without a
    /// limit, when every row was (nothing replayed is not a success).
    fn check(limit: Option<SkipLimit>, log: &Log, rejects: Option<&Path>) -> Result<()> {
        let (skipped, rows) = (log.rejects.len() as u64, log.rows);
        let allowed = match limit {
            None => skipped < rows,
            Some(SkipLimit::Rows(n)) => skipped <= n,
            // skipped / rows <= p / 100, exactly.
            Some(SkipLimit::Percent(p)) => {
                rust_decimal::Decimal::from(skipped) * rust_decimal::Decimal::ONE_HUNDRED
                    <= p * rust_decimal::Decimal::from(rows)
            }
        };
        if allowed {
            return Ok(());
        }
        let why = match limit {
            None => format!(
                "every row was skipped as invalid ({skipped} of {rows}): nothing was replayed"
            ),
            Some(SkipLimit::Rows(n)) => format!(
                "{skipped} of {rows} rows skipped as invalid, more than --max-skipped {n} allows"
            ),
            Some(SkipLimit::Percent(p)) => format!(
                "{skipped} of {rows} rows skipped as invalid, more than --max-skipped {p}% allows"
            ),
        };
        let see = rejects
            .map(|p| format!(" (the rows and why are in {})", p.display()))
            .unwrap_or_default();
        Err(Error::Input {
            file: log.file.clone(),
            line: 0,
            msg: format!("{why}{see}"),
        })
    }
}

#[cfg(test)]
mod strategy_tests {
    use super::Strategy;

    /// Only a regular file is billed while it is read: anything else cannot be read twice,
    /// should the log turn out not to be in time order.
    #[test]
    fn only_a_regular_file_is_billed_while_it_is_read() {
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
