use super::{groups, Exporter, Report};
use std::io::Write;

/// One row per model and group, then a `TOTAL` row per model; amounts at full precision.
pub struct CsvExporter;

pub const COLUMNS: [&str; 17] = [
    "messages_in",
    "messages_out",
    "sessions_opened",
    "sessions_charged",
    "business_initiated_charged",
    "business_initiated_free",
    "rejected_in_session",
    "dropped",
    "outside_window",
    "assumed_category",
    "unpriced",
    "cost",
    "fees",
    "total",
    "complete",
    "free_tier",
    "carried_forward",
];

impl Exporter for CsvExporter {
    fn write(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        let mut header = vec!["model", "channel", "currency", report.by.name()];
        header.extend(COLUMNS);
        w.write_record(&header)?;
        for m in report.models {
            let complete = if m.totals().unpriced == 0 {
                "true"
            } else {
                "false"
            };
            let rows = groups(m, report.by, report.log);
            let total_row = super::Group {
                key: "TOTAL".into(),
                stats: m.totals(),
                fees: Some(m.fee_total()),
            };
            for g in rows.iter().chain(std::iter::once(&total_row)) {
                let s = &g.stats;
                let mut rec = vec![
                    m.name.clone(),
                    m.channel.to_string(),
                    m.currency.clone(),
                    g.key.clone(),
                ];
                for n in [
                    s.messages_in,
                    s.messages_out,
                    s.sessions_opened,
                    s.sessions_charged,
                    s.business_initiated_charged,
                    s.business_initiated_free,
                    s.rejected_in_session,
                    s.dropped,
                    s.outside_window,
                    s.assumed_category,
                    s.unpriced,
                ] {
                    rec.push(n.to_string());
                }
                rec.push(s.cost.to_string());
                rec.push(g.fees.map(|f| f.to_string()).unwrap_or_default());
                rec.push(g.total().to_string());
                rec.push(complete.to_string());
                rec.push(s.free_tier.to_string());
                rec.push(s.carried_forward.to_string());
                w.write_record(&rec)?;
            }
        }
        w.flush()
    }
}
