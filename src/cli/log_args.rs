//! The options every command that reads a log shares, and what they load: the log, the
//! models, the billing options; the rejects file, the unpriced warning, the output checks.

use crate::accounts::Accounts;
use crate::billing::{self, BillingOptions, ModelResult};
use crate::error::{Error, Result};
use crate::event::Country;
use crate::input::source::Source;
use crate::input::{self, Log, ReadOptions};
use crate::output::{self, OutputFile};
use crate::rates::fx::FxTable;
use crate::rates::{Model, RateSet, RateSource};
use crate::report::{self};
use clap::Args;
use std::path::{Path, PathBuf};

/// The most `--threads` may ask for (0: one per core).
const MAX_THREADS: u64 = 1024;

/// Options shared by every command that reads a log.
#[derive(Args)]
pub(crate) struct LogArgs {
    /// The conversation log (CSV); `-` or nothing reads standard input.
    pub(crate) log: Option<String>,
    /// Replay only this model (repeatable); default: every model of the rate directory.
    #[arg(long = "model", value_name = "NAME")]
    pub(crate) models: Vec<String>,
    /// Load rate cards from this directory instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub(crate) rates: Option<PathBuf>,
    /// Time zone of naive timestamps and of calendar months (IANA name; default UTC); an
    /// account's `tz` in --accounts cuts its months instead.
    #[arg(long, value_name = "TZ")]
    pub(crate) tz: Option<String>,
    /// The accounts file (CSV `account,country,registered,tz,currency,portfolio`, every column
    /// but account optional): each account's home country, registration date and time zone.
    #[arg(long, value_name = "FILE")]
    pub(crate) accounts: Option<PathBuf>,
    /// Read a field from a differently named column, e.g. `--map timestamp=sent_at`; a column
    /// the log lacks is an error; `--map account=` leaves an optional field unread.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub(crate) map: Vec<String>,
    /// Read a field's value as another (repeatable; FROM in any case), e.g.
    /// `--map-value direction:eingehend=in --map-value kind:Vorlage=template`.
    #[arg(long = "map-value", value_name = "FIELD:FROM=TO")]
    pub(crate) map_values: Vec<String>,
    /// Read a known export: a shipped profile (twilio, infobip, meta-webhook) or a profile
    /// FILE.toml of your own (column names, value maps, contact per direction, ...).
    #[arg(long, value_name = "NAME|FILE.toml")]
    pub(crate) source: Option<String>,
    /// The account's country for fee tiers; default: the highest tier among the month's countries.
    #[arg(long, value_name = "CC")]
    pub(crate) account_country: Option<String>,
    /// Skip bad rows (counted in the report) instead of stopping. Without --max-skipped any
    /// number may be skipped, but not every row: a run with nothing replayed fails (exit 3).
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// With --skip-invalid: fail (exit 3) when more rows than N, or than P% of the rows, are
    /// skipped; the rejects file is still written. `100%` accepts a run with every row skipped.
    #[arg(long, value_name = "N|P%", requires = "skip_invalid", value_parser = SkipLimit::parse)]
    pub(crate) max_skipped: Option<SkipLimit>,
    /// With --skip-invalid: write the skipped rows to FILE, each as its line, its reason and
    /// every field it had, byte for byte (put in place once the log is read, also when
    /// --max-skipped then fails the run). `-`: standard output (the report then needs
    /// --output).
    #[arg(long, value_name = "FILE", requires = "skip_invalid")]
    pub(crate) rejects: Option<PathBuf>,
    /// A longer record (a row, quoted line ends included) stops the reading: a bound on memory
    /// for a file with no line end or an unclosed quote.
    #[arg(long, value_name = "BYTES", default_value_t = input::DEFAULT_MAX_RECORD_BYTES)]
    pub(crate) max_record_bytes: usize,
    /// A message the rate card cannot price is an error instead of a warning.
    #[arg(long)]
    pub(crate) strict: bool,
    /// whatsapp-meta: apply the rules and rates in force on DATE (YYYY-MM-DD) to all traffic.
    #[arg(long, value_name = "DATE")]
    pub(crate) as_of: Option<String>,
    /// Threads for reading the log and replaying the models (default: one per core; 0 to
    /// 1024); the result is the same for any number.
    // Bounded: each thread has buffers sized by the count, so 2^32 would abort on allocation.
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_THREADS))]
    pub(crate) threads: Option<usize>,
    /// Write the report to FILE instead of standard output (put in place, whole, only when
    /// the run succeeds; never the log or another output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// No warnings on standard error (skipped rows, unpriced messages); errors still are.
    /// What they count stays in the report.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) export: ExportArgs,
}

/// How an export's file, times and numbers are spelled (README "Reading exports").
#[derive(Args)]
pub(crate) struct ExportArgs {
    /// The field delimiter: one character (`;`, `|`, ...) or `tab`; default: detected from the
    /// header line (the most frequent of `,` `;` tab `|`, else `,`).
    #[arg(long, value_name = "CHAR")]
    pub(crate) delimiter: Option<String>,
    /// The text's encoding when it has no BOM: a WHATWG label (`windows-1252`, `iso-8859-1`,
    /// `utf-16le`, ...); default UTF-8. UTF-16 with a BOM is read without it.
    #[arg(long, value_name = "NAME")]
    pub(crate) encoding: Option<String>,
    /// Read timestamps with this chrono strftime format (e.g. `%d.%m.%Y %H:%M`); without an
    /// offset in it, times are read in --tz.
    #[arg(long, value_name = "FMT")]
    pub(crate) timestamp_format: Option<String>,
    /// Read national numbers (`050 555 1234`) by this country's numbering plan (ISO code).
    #[arg(long, value_name = "CC")]
    pub(crate) default_country: Option<String>,
}

impl ExportArgs {
    /// The options checked: a mistake here is a usage error, never a silent default.
    pub(crate) fn options(&self) -> Result<input::ExportOptions> {
        let usage = |flag: &str, m: String| Error::Usage(format!("{flag}: {m}"));
        let delimiter = self
            .delimiter
            .as_deref()
            .map(|d| match d {
                "tab" | "\\t" | "\t" => Ok(b'\t'),
                d if d.len() == 1 && !matches!(d.as_bytes()[0], b'"' | b'\r' | b'\n') => {
                    Ok(d.as_bytes()[0])
                }
                d => Err(usage(
                    "--delimiter",
                    format!("one ASCII character other than a quote or a line end, or `tab` ({d})"),
                )),
            })
            .transpose()?;
        let encoding = self
            .encoding
            .as_deref()
            .map(|e| {
                input::encoding_for_label(e).ok_or_else(|| {
                    usage(
                        "--encoding",
                        format!(
                            "unknown encoding label ({e}); e.g. windows-1252, iso-8859-1, utf-16le"
                        ),
                    )
                })
            })
            .transpose()?;
        let timestamp_format = self
            .timestamp_format
            .as_deref()
            .map(|f| input::timestamp::check_format(f).map_err(|m| usage("--timestamp-format", m)))
            .transpose()?;
        let default_country = self
            .default_country
            .as_deref()
            .map(|c| input::phone::plan_country(c).map_err(|m| usage("--default-country", m)))
            .transpose()?;
        Ok(input::ExportOptions {
            delimiter,
            encoding,
            timestamp_format,
            default_country,
        })
    }
}

/// What every command needs first: the log, the selected models and the billing options.
pub(crate) struct Loaded {
    pub(crate) log: Log,
    pub(crate) models: Vec<Model>,
    pub(crate) tz: chrono_tz::Tz,
    /// Each account's properties (`--accounts`, `--tz`, `--account-country`).
    pub(crate) accounts: Accounts,
    pub(crate) as_of: Option<i32>,
    pub(crate) threads: usize,
    /// `--quiet`: no warnings.
    pub(crate) quiet: bool,
    /// `--rates`: the rate directory, or `None` for the built-in cards.
    pub(crate) rates: Option<PathBuf>,
}

pub(crate) fn load(a: &LogArgs) -> Result<Loaded> {
    let s = settings(a)?;
    let log = input::read_log(a.log.as_deref(), &s.read)?;
    loaded(a, s, log)
}

/// What a command takes from its options before reading the log.
pub(crate) struct Settings {
    pub(crate) read: ReadOptions,
    pub(crate) models: Vec<Model>,
    pub(crate) tz: chrono_tz::Tz,
    pub(crate) accounts: Accounts,
    pub(crate) as_of: Option<i32>,
    pub(crate) threads: usize,
}

pub(crate) fn settings(a: &LogArgs) -> Result<Settings> {
    let tz: chrono_tz::Tz = match &a.tz {
        None => chrono_tz::UTC,
        Some(z) => z
            .parse()
            .map_err(|_| Error::Usage(format!("--tz: unknown time zone ({z})")))?,
    };
    let map = a
        .map
        .iter()
        .map(|m| {
            m.split_once('=')
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .ok_or_else(|| Error::Usage(format!("--map takes FIELD=COLUMN ({m})")))
        })
        .collect::<Result<Vec<_>>>()?;
    let map_values = a
        .map_values
        .iter()
        .map(|m| parse_map_value(m))
        .collect::<Result<Vec<_>>>()?;
    let source = a.source.as_deref().map(Source::load).transpose()?;
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
    let accounts = load_accounts(a, tz, account_country)?;
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
            // (the payloads of a webhook log kept only for the rejects file)
            keep_rejected: a.rejects.is_some(),
            threads,
            max_record_bytes: a.max_record_bytes,
            accounts: Some(accounts.clone()),
            map_values,
            export: export_options(&a.export, source.as_ref())?,
            source,
            ..ReadOptions::default()
        },
        models,
        tz,
        accounts,
        as_of,
        threads,
    })
}

/// Inbound rows from which on one contact holding more than half of them is suspect.
const GUARD_INBOUND_ROWS: u64 = 20;
/// Outbound WhatsApp messages from which on the share outside every window is looked at.
const GUARD_OUTBOUND: u64 = 20;

/// A column of the log that a replayed model's channel bills by but simcost does not read
/// (SMS `segments`), once per channel and column.
fn unread_columns(header: &[String], results: &[ModelResult]) -> Vec<String> {
    let mut channels: Vec<_> = (results.iter())
        .filter_map(|r| crate::channel::named(r.channel))
        .collect();
    channels.dedup();
    let has = |c: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(c));
    (channels.iter())
        .flat_map(|ch| {
            ch.unread_columns
                .iter()
                .map(move |(c, what)| (ch.name, c, what))
        })
        .filter(|(_, c, _)| has(c))
        .map(|(ch, c, what)| format!("{ch}: the log's column {c} is not read; {what}"))
        .collect()
}

/// What looks like a mapping mistake in a replayed log (RULES.md §1: nothing silent): said on
/// stderr and kept in `Log::warnings` for the JSON report. Two signs: one contact holding more
/// than half of the inbound rows (the contact column names the business on inbound rows), and
/// more than 90% of a WhatsApp model's delivered outbound messages free-form outside every
/// window (the customer is spelled differently on inbound and outbound rows).
pub(crate) fn warn_mapping(log: &mut Log, results: &[ModelResult]) {
    let mut warnings = Vec::new();
    if let Some((contact, n)) = log.busiest_contact {
        if log.inbound_rows >= GUARD_INBOUND_ROWS && 2 * n > log.inbound_rows {
            warnings.push(format!(
                "contact {} sent {n} of the {} inbound rows (more than half): is the contact column the business's own number on inbound rows? Read the customer by direction (--map contact_inbound=From --map contact_outbound=To) or use --source",
                log.contact_name(contact),
                log.inbound_rows
            ));
        }
    }
    let windowed =
        |r: &&ModelResult| crate::channel::named(r.channel).is_some_and(|c| c.warn_outside_window);
    for r in results.iter().filter(windowed) {
        let t = r.totals();
        let delivered = t.messages_out.saturating_sub(t.not_delivered);
        if delivered >= GUARD_OUTBOUND && 10 * t.outside_window > 9 * delivered {
            warnings.push(format!(
                "{}: {} of {delivered} outbound messages fell outside every customer service window (more than 90%): are inbound and outbound rows naming the customer in different columns or spellings (--map contact_inbound/contact_outbound), or are the directions swapped (--map-value direction:...)?",
                r.name, t.outside_window
            ));
        }
    }
    warnings.extend(unread_columns(&log.header, results));
    for w in &warnings {
        eprintln!("simcost: warning: {w}");
    }
    if log.business_number_changes > 0 {
        eprintln!(
            "simcost: warning: {} rows name another business number than the first of their contact's stream (the stream keeps the first)",
            log.business_number_changes
        );
    }
    log.warnings = warnings;
}

/// `--map-value FIELD:FROM=TO` as (field, from, to); the field is checked against the log's
/// fields when the log is read.
fn parse_map_value(m: &str) -> Result<(String, String, String)> {
    let usage = || Error::Usage(format!("--map-value takes FIELD:FROM=TO ({m})"));
    let (field, rest) = m.split_once(':').ok_or_else(usage)?;
    let (from, to) = rest.split_once('=').ok_or_else(usage)?;
    if field.trim().is_empty() || from.trim().is_empty() {
        return Err(usage());
    }
    if crate::input::source::field_index(field).is_none() {
        return Err(Error::Usage(format!(
            "--map-value {m}: unknown field {field}; fields are {}",
            crate::input::source::all_fields()
        )));
    }
    Ok((field.trim().into(), from.trim().into(), to.trim().into()))
}

/// The log read with `s`, its rejected rows written out and counted on stderr.
pub(crate) fn loaded(a: &LogArgs, s: Settings, log: Log) -> Result<Loaded> {
    if let Some(path) = &a.rejects {
        write_rejects(&log, path)?;
    }
    if !log.rejects.is_empty() && !a.quiet {
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
        accounts: s.accounts,
        as_of: s.as_of,
        threads: s.threads,
        quiet: a.quiet,
        rates: a.rates.clone(),
    })
}

/// Every model of the rate directory, the optional ones too (`--channel` names them).
pub(crate) fn every_model(a: &LogArgs) -> Result<Vec<Model>> {
    let source = match &a.rates {
        Some(d) => RateSource::Dir(d.clone()),
        None => RateSource::Embedded,
    };
    Ok(RateSet::load(&source)?.models)
}

/// The rate directory's models named in `names` (all but the optional ones when empty) and
/// its FX table.
pub(crate) fn load_rates(a: &LogArgs, names: &[String]) -> Result<(Vec<Model>, Option<FxTable>)> {
    let source = match &a.rates {
        Some(d) => RateSource::Dir(d.clone()),
        None => RateSource::Embedded,
    };
    RateSet::load(&source)?.select_with_fx(names)
}

/// The skipped rows, written to `path` (`report::rejects`).
pub(crate) fn write_rejects(log: &Log, path: &Path) -> Result<()> {
    let mut file = OutputFile::create("--rejects", path)?;
    report::rejects::write(log, &mut file).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(format!("writing {}", path.display()), source),
        e => e,
    })?;
    file.commit()
}

/// `--accounts` read and checked (an input error, exit 3, names its line), with `--tz` and
/// `--account-country` standing in for what it lacks.
fn load_accounts(a: &LogArgs, tz: chrono_tz::Tz, country: Option<Country>) -> Result<Accounts> {
    let tz_given = a.tz.is_some();
    match &a.accounts {
        None => Ok(Accounts::new(None, tz, tz_given, country)),
        Some(p) => Accounts::load(&p.to_string_lossy(), tz, tz_given, country),
    }
}

pub(crate) fn billing_options(
    accounts: &Accounts,
    as_of: Option<i32>,
    keep_lines: bool,
) -> BillingOptions {
    BillingOptions {
        accounts: accounts.clone(),
        keep_lines,
        as_of,
        list_prices: false,
        pool_runs: false,
    }
}

pub(crate) fn bill_all(l: &Loaded, keep_lines: bool, strict: bool) -> Result<Vec<ModelResult>> {
    let mut opts = billing_options(&l.accounts, l.as_of, keep_lines);
    // compare, breakeven and explain: break-even needs each month's allowance items in order.
    opts.pool_runs = true;
    let results = billing::bill_all(&l.log, None, &l.models, &opts, l.threads);
    warn_unpriced(l, results, strict)
}

/// Says which models left messages unpriced (an error with `--strict`): one warning for
/// the run, naming the cards and the fix, not one per model.
pub(crate) fn warn_unpriced(
    l: &Loaded,
    results: Vec<ModelResult>,
    strict: bool,
) -> Result<Vec<ModelResult>> {
    let mut models = Vec::new();
    let mut cards: Vec<String> = Vec::new();
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
        let n: u64 = unpriced.values().sum();
        models.push(format!(
            "{}: {n} messages have no price on the card {card} and no * row ({})",
            r.name,
            list.join(", ")
        ));
        if !cards.contains(&card) {
            cards.push(card);
        }
    }
    if models.is_empty() {
        return Ok(results);
    }
    let msg = models.join("; ");
    if strict {
        return Err(Error::Unpriced(format!(
            "{msg}; --strict makes this an error"
        )));
    }
    if !l.quiet {
        let fix = match &l.rates {
            None => format!(
                "the built-in cards ({}) carry only published prices: load your contract's cards \
                 with --rates DIR (`simcost rates export DIR` writes the built-in ones to start from)",
                cards.join(", ")
            ),
            Some(d) => format!(
                "add those countries (or a * row) to {} in {}",
                cards.join(", "),
                d.display()
            ),
        };
        eprintln!("simcost: warning: {msg}; totals are incomplete. Fix: {fix}.");
    }
    Ok(results)
}

/// Checks, before anything is read or written, that no output of the command is its log or
/// another of its outputs. `absent_is_stdin`: no LOG reads standard input (not so for
/// `compare`/`breakeven`, where no LOG compares the cards).
pub(crate) fn check_outputs(
    a: &LogArgs,
    absent_is_stdin: bool,
    more: &[(&str, Option<&Path>)],
) -> Result<()> {
    let log = match a.log.as_deref() {
        Some("-") => Some(output::Input::Stdin),
        Some(p) => Some(output::Input::File(Path::new(p))),
        None if absent_is_stdin => Some(output::Input::Stdin),
        None => None,
    };
    let mut inputs: Vec<(&str, output::Input)> = log.map(|l| ("LOG", l)).into_iter().collect();
    // The accounts file is read too: no output may be written over it.
    if let Some(p) = &a.accounts {
        inputs.push(("--accounts", output::Input::File(p)));
    }
    let outputs: Vec<(&str, &Path)> = std::iter::once(("--rejects", a.rejects.as_deref()))
        .chain([("--output", a.output.as_deref())])
        .chain(more.iter().copied())
        .filter_map(|(label, p)| Some((label, p?)))
        .collect();
    // `-` is standard output: one output at most goes there, the report unless --output.
    let mut to_stdout: Vec<&str> = (outputs.iter())
        .filter(|(_, p)| output::is_stdout(p))
        .map(|(label, _)| *label)
        .collect();
    if a.output.is_none() {
        to_stdout.push("the report");
    }
    if to_stdout.len() > 1 {
        return Err(Error::Usage(format!(
            "{} would all go to standard output (-): give the report --output FILE, or the \
             others a file",
            to_stdout.join(" and ")
        )));
    }
    let files: Vec<(&str, &Path)> = (outputs.into_iter())
        .filter(|(_, p)| !output::is_stdout(p))
        .collect();
    output::check_distinct(&inputs, &files)
}

/// Where the report goes: `--output FILE` (put in place by `commit`), else standard output.
pub(crate) fn report_out(a: &LogArgs) -> Result<OutputFile> {
    OutputFile::create("--output", a.output.as_deref().unwrap_or(Path::new("-")))
}

/// `--max-skipped`: how many rows `--skip-invalid` may skip before the run fails.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SkipLimit {
    Rows(u64),
    Percent(rust_decimal::Decimal),
}

impl SkipLimit {
    pub(crate) fn parse(s: &str) -> std::result::Result<SkipLimit, String> {
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
    pub(crate) fn check(limit: Option<SkipLimit>, log: &Log, rejects: Option<&Path>) -> Result<()> {
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

/// The export options: each flag, else the source profile's value (checked as the flag is: a
/// mistake in a profile is an error too, never a silent default).
fn export_options(flags: &ExportArgs, source: Option<&Source>) -> Result<input::ExportOptions> {
    let Some(source) = source else {
        return flags.options();
    };
    for p in &source.prefixes {
        let p = p.to_ascii_lowercase();
        if !["whatsapp:", "viber:", "tel:"].contains(&p.as_str()) {
            return Err(Error::Usage(format!(
                "--source: prefixes: simcost drops whatsapp:, viber: and tel: (not {p})"
            )));
        }
    }
    let merged = ExportArgs {
        delimiter: flags.delimiter.clone().or_else(|| source.delimiter.clone()),
        encoding: flags.encoding.clone(),
        timestamp_format: (flags.timestamp_format.clone())
            .or_else(|| source.timestamp_format.clone()),
        default_country: (flags.default_country.clone()).or_else(|| source.default_country.clone()),
    };
    merged.options()
}
