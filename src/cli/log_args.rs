//! The options every command that reads a log shares, and what they load: the log, the
//! models, the billing options; the rejects file, the unpriced warning, the output checks.

use crate::billing::{self, BillingOptions, ModelResult};
use crate::error::{Error, Result};
use crate::event::Country;
use crate::input::{self, Log, ReadOptions};
use crate::output::{self, OutputFile};
use crate::rates::fx::FxTable;
use crate::rates::{Model, RateSet, RateSource};
use crate::report::{self};
use clap::Args;
use std::path::{Path, PathBuf};

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
    /// Time zone of naive timestamps and of calendar months (IANA name).
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub(crate) tz: String,
    /// Read a field from a differently named column, e.g. `--map timestamp=sent_at`; a column
    /// the log lacks is an error; `--map account=` leaves an optional field unread.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub(crate) map: Vec<String>,
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
    /// --max-skipped then fails the run).
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
    /// Threads for reading the log and replaying the models (default: one per core); the
    /// result is the same for any number.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
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
    pub(crate) account_country: Option<Country>,
    pub(crate) as_of: Option<i32>,
    pub(crate) threads: usize,
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
    pub(crate) account_country: Option<Country>,
    pub(crate) as_of: Option<i32>,
    pub(crate) threads: usize,
}

pub(crate) fn settings(a: &LogArgs) -> Result<Settings> {
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
            export: a.export.options()?,
        },
        models,
        tz,
        account_country,
        as_of,
        threads,
    })
}

/// The log read with `s`, its rejected rows written out and counted on stderr.
pub(crate) fn loaded(a: &LogArgs, s: Settings, log: Log) -> Result<Loaded> {
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

pub(crate) fn billing_options(
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

pub(crate) fn bill_all(l: &Loaded, keep_lines: bool, strict: bool) -> Result<Vec<ModelResult>> {
    let opts = billing_options(l.account_country, l.as_of, keep_lines);
    let results = billing::bill_all(&l.log, None, &l.models, &opts, l.threads);
    warn_unpriced(l, results, strict)
}

/// Says which models left messages unpriced (an error with `--strict`).
pub(crate) fn warn_unpriced(
    l: &Loaded,
    results: Vec<ModelResult>,
    strict: bool,
) -> Result<Vec<ModelResult>> {
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
    let inputs: Vec<(&str, output::Input)> = log.map(|l| ("LOG", l)).into_iter().collect();
    let outputs: Vec<(&str, &Path)> = std::iter::once(("--rejects", a.rejects.as_deref()))
        .chain(more.iter().copied())
        .filter_map(|(label, p)| Some((label, p?)))
        .collect();
    output::check_distinct(&inputs, &outputs)
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
