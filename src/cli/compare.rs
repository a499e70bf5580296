//! `simcost compare` (and the shared part of `breakeven`): models side by side in one currency,
//! on a log or on the rate cards themselves.

use super::log_args::*;
use super::{parse_date, reported, Format};
use crate::analysis::{breakeven, cards, compare};
use crate::error::{Error, Result};
use crate::event::Country;
use crate::output::OutputFile;
use crate::rates::fx::FxTable;
use crate::rates::Model;
use crate::report::{self, BreakevenReport, CardsReport, CompareReport, Decision};
use clap::Args;
use std::path::Path;

/// Options of the commands that compare models (`compare`, `breakeven`).
#[derive(Args)]
pub(crate) struct DecideArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    /// Compare the rate cards themselves (no LOG): a support conversation and a
    /// business-initiated message per country at card prices (`breakeven`: session against
    /// per-message pricing).
    #[arg(long)]
    pub(crate) cards: bool,
    /// Every Viber model (with --whatsapp or --model: those too).
    #[arg(long)]
    pub(crate) viber: bool,
    /// Every WhatsApp model.
    #[arg(long)]
    pub(crate) whatsapp: bool,
    /// Every model of channel NAME (repeatable; --viber is --channel viber).
    #[arg(long = "channel", value_name = "NAME")]
    pub(crate) channels: Vec<String>,
    /// The currency of the report; other currencies convert with the rate directory's fx.csv.
    #[arg(long, default_value = "EUR", value_name = "CODE")]
    pub(crate) currency: String,
    /// Convert with the latest rates of fx.csv dated on or before DATE (default: the latest).
    #[arg(long, value_name = "DATE")]
    pub(crate) fx_date: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// CSV for spreadsheets: `standard` (`,` and `1.5`) or `excel-eu` (`;` and `1,5`, for
    /// German, French, Italian... locales).
    #[arg(long, value_enum, default_value = "standard", value_name = "DIALECT")]
    pub(crate) csv_dialect: crate::report::CsvDialect,
    /// Print amounts in the table at full precision instead of rounded to cents.
    #[arg(long)]
    pub(crate) full_precision: bool,
    /// With --cards: business messages in the typical support conversation.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub(crate) messages_per_session: u32,
    /// The card prices of DATE (default: today; with a LOG, its last day).
    #[arg(long, value_name = "DATE")]
    pub(crate) date: Option<String>,
    /// With --cards: only these countries (comma-separated ISO codes).
    #[arg(long, value_delimiter = ',', value_name = "CC,...")]
    pub(crate) countries: Vec<String>,
}

/// `compare` and `breakeven`: `plot` is `Some` for breakeven.
pub(crate) fn run(a: &DecideArgs, plot: Option<Option<&std::path::Path>>) -> Result<()> {
    if a.cards && a.common.log.is_some() {
        return Err(Error::Usage(
            "--cards compares the rate cards themselves: give no LOG".into(),
        ));
    }
    // Without --cards, no LOG reads standard input, as every command that reads a log does.
    check_outputs(&a.common, !a.cards, &[("--plot", plot.flatten())])?;
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
    let convert = |on| compare::conversions(&own, &currency, fx.as_ref(), on);
    let conv = convert(fx_date)?;
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
    if a.cards {
        decide_on_cards(a, plot, &models, &conv, d, given_date)
    } else {
        // Without --fx-date, the rates of the log's last day (`decide_on_log`).
        decide_on_log(a, plot, models, (&conv, &convert), d, given_date)
    }
}

/// The models `compare`/`breakeven` compare and the rate directory's FX table:
/// --channel (and --viber / --whatsapp, its short forms) select every model of the channel,
/// --model adds named ones.
pub(crate) fn decision_models(a: &DecideArgs) -> Result<(Vec<Model>, Option<FxTable>)> {
    let channels = selected_channels(a)?;
    let all = every_model(&a.common)?;
    let mut names: Vec<String> = all
        .iter()
        .filter(|m| channels.contains(&m.channel))
        .map(|m| m.name.clone())
        .collect();
    names.extend(a.common.models.iter().cloned());
    load_rates(&a.common, &names)
}

/// The channels of --channel, --viber and --whatsapp, each checked against the registry.
fn selected_channels(a: &DecideArgs) -> Result<Vec<crate::channel::Channel>> {
    let flags = [(a.viber, "viber"), (a.whatsapp, "whatsapp")];
    let named = flags.iter().filter(|(on, _)| *on).map(|(_, n)| *n);
    (a.channels.iter().map(String::as_str).chain(named))
        .map(|n| {
            crate::channel::named(n).ok_or_else(|| {
                let names = crate::channel::CHANNELS.iter().map(|c| c.name);
                Error::Usage(format!(
                    "--channel: unknown channel ({n}); use {}",
                    crate::channel::listed(names)
                ))
            })
        })
        .collect()
}

/// The published FX rates the conversions use, each once, in first use order.
pub(crate) fn rates_used(conv: &[crate::rates::fx::Conversion]) -> Vec<crate::rates::fx::FxRate> {
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
pub(crate) fn decide_on_cards(
    a: &DecideArgs,
    plot: Option<Option<&Path>>,
    models: &[Model],
    conv: &[crate::rates::fx::Conversion],
    d: Decision,
    given_date: Option<chrono::NaiveDate>,
) -> Result<()> {
    if plot.is_some_and(|p| p.is_some()) {
        return Err(Error::Usage(
            "--plot needs a LOG to scale (not --cards)".into(),
        ));
    }
    // The cards alone have no accounts: the file would be ignored without a word.
    if a.common.accounts.is_some() {
        return Err(Error::Usage("--accounts needs a LOG".into()));
    }
    let refs: Vec<&Model> = models.iter().collect();
    let date = given_date.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let day = crate::calendar::days_since_epoch(date);
    let countries = card_countries(a, &refs)?;
    let sessions = cards::session_vs_message(&refs, day, Some(&countries));
    let exporter = a.format.exporter(a.csv_dialect);
    let mut out = report_out(&a.common)?;
    if plot.is_some() {
        let r = BreakevenReport {
            d,
            scopes: &[],
            sessions: &sessions,
            channels: None,
        };
        reported(report::finish(exporter.breakeven(&r, &mut out), &mut out))?;
        return reported(out.commit());
    }
    let rows = cards::compare_cards(&refs, conv, &countries, day, a.messages_per_session)?;
    let r = CardsReport {
        d,
        date,
        messages_per_session: a.messages_per_session,
        rows: &rows,
        sessions: &sessions,
    };
    reported(report::finish(exporter.cards(&r, &mut out), &mut out))?;
    reported(out.commit())
}

/// The countries whose cards are compared: `--countries`, else the models' default ones.
pub(crate) fn card_countries(a: &DecideArgs, refs: &[&Model]) -> Result<Vec<Country>> {
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

type Conversion = crate::rates::fx::Conversion;
/// The conversions of every model's currency on a date (`None`: the latest rates).
type Convert<'a> = dyn Fn(Option<chrono::NaiveDate>) -> Result<Vec<Conversion>> + 'a;

/// `compare`/`breakeven` on a log: every model billed, then compared in `d`'s currency.
pub(crate) fn decide_on_log(
    a: &DecideArgs,
    plot: Option<Option<&Path>>,
    models: Vec<Model>,
    (conv, convert): (&[Conversion], &Convert<'_>),
    d: Decision,
    given_date: Option<chrono::NaiveDate>,
) -> Result<()> {
    let mut l = load(&a.common)?;
    l.models = models;
    let last_day = l.log.events.iter().map(|e| e.day).max();
    let on_last_day;
    let conv = match (&a.fx_date, last_day) {
        // No rate that early (the shipped fx.csv starts in May 2026): the rates already
        // chosen, the latest, named in the report like every rate used.
        (None, Some(day)) => match convert(Some(crate::calendar::date_from_days(day))) {
            Ok(c) => {
                on_last_day = c;
                &on_last_day[..]
            }
            Err(_) => conv,
        },
        _ => conv,
    };
    let results = bill_all(&l, false, a.common.strict)?;
    let comparison = compare::compare(&results, conv, d.currency)?;
    let scopes = breakeven::breakeven(&l.log, &results, conv)?;
    let d = Decision {
        log: Some(&l.log),
        rates_used: rates_used(conv),
        ..d
    };
    let exporter = a.format.exporter(a.csv_dialect);
    let mut out = report_out(&a.common)?;
    let Some(svg) = plot else {
        let r = CompareReport {
            d,
            comparison: &comparison,
            scopes: &scopes,
        };
        reported(report::finish(exporter.compare(&r, &mut out), &mut out))?;
        return reported(out.commit());
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
        (Some(path), Some(scope)) => Some(super::breakeven::draw(path, &l, scope, d.currency)?),
        _ => None,
    };
    let r = BreakevenReport {
        d,
        scopes: &scopes,
        sessions: &sessions,
        channels: Some(&comparison),
    };
    reported(report::finish(exporter.breakeven(&r, &mut out), &mut out))?;
    chart.map_or(Ok(()), OutputFile::commit)?;
    reported(out.commit())
}
