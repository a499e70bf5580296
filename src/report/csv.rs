use super::cell::text;
use super::{groups, scope_label, BreakevenReport, CardsReport, CompareReport, Exporter, Report};
use crate::analysis::breakeven::{Pair, Scope};
use crate::analysis::cards::SessionVsMessage;
use crate::analysis::compare::{Comparison, CountryRow};
use crate::analysis::curve::Cheaper;
use crate::billing::Stats;
use std::io::Write;

/// How a CSV is written for a spreadsheet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvDialect {
    /// `,` between cells, `.` in numbers (RFC 4180; en-US spreadsheets).
    #[default]
    Standard,
    /// `;` between cells, `,` in numbers: what Excel and LibreOffice expect in German, French,
    /// Italian... locales, so amounts import as numbers.
    ExcelEu,
}

/// Columns of text; every other column holds numbers (amounts, counts, k, volumes), written
/// with the dialect's decimal separator. (Booleans and dates carry no `.`.)
const TEXT_COLUMNS: &[&str] = &[
    "level",
    "row",
    "section",
    "model",
    "model_a",
    "model_b",
    "models",
    "channel",
    "currency",
    "model_currency",
    "country",
    "month",
    "account",
    "cheaper_below",
    "cheaper_above",
    "cheapest",
    "cheapest_channel",
    "other_channel_best",
    "date",
];

/// A CSV being written: the header, then rows whose number cells follow the dialect.
pub(crate) struct Sheet<W: Write> {
    w: ::csv::Writer<W>,
    decimal_comma: bool,
    numeric: Vec<bool>,
}

impl<W: Write> Sheet<W> {
    pub(crate) fn new(out: W, dialect: CsvDialect, header: &[&str]) -> std::io::Result<Sheet<W>> {
        let eu = dialect == CsvDialect::ExcelEu;
        let mut w = ::csv::WriterBuilder::new()
            .delimiter(if eu { b';' } else { b',' })
            .from_writer(out);
        w.write_record(header)?;
        Ok(Sheet {
            w,
            decimal_comma: eu,
            numeric: header.iter().map(|h| !TEXT_COLUMNS.contains(h)).collect(),
        })
    }

    pub(crate) fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> std::io::Result<()> {
        if !self.decimal_comma {
            return Ok(self.w.write_record(cells.iter().map(|c| c.as_ref()))?);
        }
        let cells = cells.iter().enumerate().map(|(i, c)| {
            let c = c.as_ref();
            match self.numeric.get(i) {
                Some(true) => c.replace('.', ","),
                _ => c.to_string(),
            }
        });
        Ok(self.w.write_record(cells.collect::<Vec<_>>())?)
    }

    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// One row per model and group, then a `TOTAL` row per model after every model's groups;
/// amounts at full precision. The first column, `level`, says what a row is (`country`,
/// `month`, `account`, or `total`): the rows of one level add up to the `total` rows, fees
/// included (a country's share of each account-month's fee by message count, as compare splits
/// them). Text from the user's files goes through [`text`] (no cell a spreadsheet would
/// evaluate); amounts and counts are written as they are, so they stay numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsvExporter {
    pub dialect: CsvDialect,
}

impl Exporter for CsvExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let level = report.by.name();
        let mut header = vec!["level", "model", "channel", "currency", level];
        header.extend(Stats::EARLY_COUNTS);
        header.extend(["cost", "fees", "total", "complete"]);
        header.extend(Stats::LATE_COUNTS);
        let mut w = Sheet::new(out, self.dialect, &header)?;
        let mut totals = Vec::new();
        for m in report.models {
            let complete = if m.totals().unpriced == 0 {
                "true"
            } else {
                "false"
            };
            let total_row = super::Group {
                key: "TOTAL".into(),
                stats: m.totals(),
                fees: Some(m.fee_total()),
            };
            let record = |level: &str, g: &super::Group| {
                let s = &g.stats;
                let mut rec = vec![
                    level.to_string(),
                    text(m.name.as_str()).into_owned(),
                    m.channel.to_string(),
                    text(m.currency.as_str()).into_owned(),
                    text(g.key.as_str()).into_owned(),
                ];
                rec.extend(s.early_counts().map(|n| n.to_string()));
                rec.push(s.cost.to_string());
                rec.push(g.fees.unwrap_or_default().to_string());
                rec.push(g.total().to_string());
                rec.push(complete.to_string());
                rec.extend(s.late_counts().map(|n| n.to_string()));
                rec
            };
            for g in groups(m, report.by, report.log) {
                w.row(&record(level, &g))?;
            }
            totals.push(record("total", &total_row));
        }
        for t in totals {
            w.row(&t)?;
        }
        w.flush()
    }

    fn compare(&self, r: &CompareReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = Sheet::new(
            out,
            self.dialect,
            &[
                "level",
                "row",
                "model",
                "channel",
                "model_currency",
                "currency",
                "fx_factor",
                "messages",
                "fees",
                "total",
                "unpriced",
                "complete",
                "cheapest",
                "difference_from_cheapest",
            ],
        )?;
        let c = r.comparison;
        for row in &c.countries {
            for (i, col) in c.columns.iter().enumerate() {
                // Charges and the fee share apart, as in every other CSV; `total` their sum.
                w.row(&[
                    "country".to_string(),
                    text(row.country.to_string()).into_owned(),
                    text(col.model.as_str()).into_owned(),
                    col.channel.to_string(),
                    text(col.conversion.from.as_str()).into_owned(),
                    text(c.currency.as_str()).into_owned(),
                    col.conversion.factor().to_string(),
                    (row.costs[i] - row.fees[i]).to_string(),
                    row.fees[i].to_string(),
                    row.costs[i].to_string(),
                    row.unpriced[i].to_string(),
                    (row.unpriced[i] == 0).to_string(),
                    (row.cheapest == Some(i)).to_string(),
                    row.cheapest
                        .map(|b| (row.costs[i] - row.costs[b]).to_string())
                        .unwrap_or_default(),
                ])?;
            }
        }
        for (i, col) in c.columns.iter().enumerate() {
            w.row(&[
                "total".to_string(),
                "TOTAL".to_string(),
                text(col.model.as_str()).into_owned(),
                col.channel.to_string(),
                text(col.conversion.from.as_str()).into_owned(),
                text(c.currency.as_str()).into_owned(),
                col.conversion.factor().to_string(),
                col.messages.to_string(),
                col.fees.to_string(),
                col.total.to_string(),
                col.unpriced.to_string(),
                col.complete().to_string(),
                (c.cheapest == Some(i)).to_string(),
                c.cheapest
                    .map(|_| col.difference.to_string())
                    .unwrap_or_default(),
            ])?;
        }
        w.flush()
    }

    fn cards(&self, r: &CardsReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = Sheet::new(
            out,
            self.dialect,
            &[
                "country",
                "model",
                "channel",
                "currency",
                "date",
                "messages_per_session",
                "support_conversation",
                "business_initiated",
            ],
        )?;
        for row in r.rows {
            for (i, (name, channel, _)) in r.d.models.iter().enumerate() {
                let v =
                    |x: Option<rust_decimal::Decimal>| x.map(|d| d.to_string()).unwrap_or_default();
                w.row(&[
                    text(row.country.to_string()).into_owned(),
                    text(name.as_str()).into_owned(),
                    channel.to_string(),
                    text(r.d.currency).into_owned(),
                    r.date.to_string(),
                    r.messages_per_session.to_string(),
                    v(row.support[i]),
                    v(row.initiated[i]),
                ])?;
            }
        }
        w.flush()
    }

    fn breakeven(&self, r: &BreakevenReport, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = Sheet::new(out, self.dialect, &BREAKEVEN_COLUMNS)?;
        // Every text value below is a model name, currency, account or country, made inert once.
        let names: Vec<String> = (r.d.models.iter())
            .map(|m| text(m.0.as_str()).into_owned())
            .collect();
        let cur = text(r.d.currency).into_owned();
        for scope in r.scopes {
            let account = text(scope_label(r.d.log, scope.account)).into_owned();
            for pair in &scope.pairs {
                pair_rows(&mut w, scope, pair, &account, &names, &cur)?;
            }
        }
        for s in r.sessions {
            session_row(&mut w, s)?;
        }
        if let Some(c) = r.channels {
            for row in &c.countries {
                channel_row(&mut w, c, row, &names, &cur)?;
            }
        }
        w.flush()
    }
}

/// One row of the breakeven CSV: `section` and the named columns filled, the others empty.
fn breakeven_row<W: Write>(
    w: &mut Sheet<W>,
    section: &str,
    fill: &[(&str, String)],
) -> std::io::Result<()> {
    let mut row = vec![String::new(); BREAKEVEN_COLUMNS.len()];
    row[0] = section.to_string();
    for (k, v) in fill {
        if let Some(i) = BREAKEVEN_COLUMNS.iter().position(|c| c == k) {
            row[i] = v.clone();
        }
    }
    w.row(&row)
}

/// (a) Two commercial models of a scope: one row when one is cheaper at every volume, else a
/// row per crossing with the volume there and which model is cheaper either side.
fn pair_rows<W: Write>(
    w: &mut Sheet<W>,
    scope: &Scope,
    pair: &Pair,
    account: &str,
    names: &[String],
    cur: &str,
) -> std::io::Result<()> {
    let name = |c: Cheaper| match c {
        Cheaper::A => names[pair.a].clone(),
        Cheaper::B => names[pair.b].clone(),
        Cheaper::Equal => "equal".into(),
    };
    let base = [
        ("account", account.to_string()),
        ("model_a", names[pair.a].clone()),
        ("model_b", names[pair.b].clone()),
        ("currency", cur.to_string()),
        ("complete_a", scope.complete(pair.a).to_string()),
        ("complete_b", scope.complete(pair.b).to_string()),
        ("months", scope.months.round_dp(4).normalize().to_string()),
    ];
    if pair.regions.len() == 1 {
        let mut f = base.to_vec();
        f.push(("cheaper_below", name(pair.regions[0].cheaper)));
        f.push(("cheaper_above", name(pair.regions[0].cheaper)));
        breakeven_row(w, "models", &f)?;
    }
    for win in pair.regions.windows(2) {
        let Some(k) = win[0].to else { continue };
        let v = scope.volume_at(k);
        let mut f = base.to_vec();
        f.extend([
            ("k", k.to_string()),
            ("messages_per_month", v.messages.to_string()),
            ("business_messages_per_month", v.business.to_string()),
            ("sessions_a", v.sessions[pair.a].to_string()),
            ("sessions_b", v.sessions[pair.b].to_string()),
            ("cost", scope.cost_at(pair.a, k).to_string()),
            ("cheaper_below", name(win[0].cheaper)),
            ("cheaper_above", name(win[1].cheaper)),
        ]);
        breakeven_row(w, "models", &f)?;
    }
    Ok(())
}

/// (b) A card's session price against its per-message price, and the savings.
fn session_row<W: Write>(w: &mut Sheet<W>, s: &SessionVsMessage) -> std::io::Result<()> {
    let mut f = vec![
        ("models", text(s.models.join(" ")).into_owned()),
        ("country", text(s.country.to_string()).into_owned()),
        ("currency", text(s.currency.as_str()).into_owned()),
        ("session", s.session.to_string()),
        ("per_message", s.message.to_string()),
        (
            "session_cheaper_from",
            s.from.map(|n| n.to_string()).unwrap_or_default(),
        ),
    ];
    for (col, (_, saving)) in ["saving_5", "saving_10", "saving_15"]
        .iter()
        .zip(&s.savings)
    {
        f.push((col, saving.to_string()));
    }
    breakeven_row(w, "session_vs_message", &f)
}

/// (c) A country's cheapest model for the log's traffic, and the best on another channel.
fn channel_row<W: Write>(
    w: &mut Sheet<W>,
    c: &Comparison,
    row: &CountryRow,
    names: &[String],
    cur: &str,
) -> std::io::Result<()> {
    let mut f = vec![
        ("country", text(row.country.to_string()).into_owned()),
        ("currency", cur.to_string()),
    ];
    if let Some(b) = row.cheapest {
        f.extend([
            ("cheapest", names[b].clone()),
            ("cheapest_channel", c.columns[b].channel.to_string()),
            ("cheapest_cost", row.costs[b].to_string()),
            (
                "next_by",
                row.margin.map(|m| m.to_string()).unwrap_or_default(),
            ),
        ]);
    }
    if let Some((o, more)) = row.other_channel {
        f.extend([
            ("other_channel_best", names[o].clone()),
            ("other_channel_more", more.to_string()),
        ]);
    }
    breakeven_row(w, "channels", &f)
}

pub const BREAKEVEN_COLUMNS: [&str; 30] = [
    "section",
    "currency",
    "account",
    "model_a",
    "model_b",
    "k",
    "messages_per_month",
    "sessions_a",
    "sessions_b",
    "cheaper_below",
    "cheaper_above",
    "business_messages_per_month",
    "cost",
    "complete_a",
    "complete_b",
    "months",
    "models",
    "country",
    "session",
    "per_message",
    "session_cheaper_from",
    "saving_5",
    "saving_10",
    "saving_15",
    "cheapest",
    "cheapest_channel",
    "cheapest_cost",
    "next_by",
    "other_channel_best",
    "other_channel_more",
];
