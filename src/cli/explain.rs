//! `simcost explain`: one contact's replay, message by message.

use super::log_args::*;
use crate::error::{Error, Result};
use clap::Args;
use std::io::Write;

#[derive(Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    pub(crate) common: LogArgs,
    /// The contact to explain (a phone number in any accepted format, or the id).
    #[arg(long, value_name = "NUMBER")]
    pub(crate) contact: String,
    /// `table` for people; `csv` and `json`: one record per billed message, every model.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: super::Format,
    /// CSV for spreadsheets: `standard` or `excel-eu` (`;` and a decimal comma).
    #[arg(long, value_enum, default_value = "standard", value_name = "DIALECT")]
    pub(crate) csv_dialect: crate::report::CsvDialect,
}

pub(crate) fn run(a: ExplainArgs) -> Result<()> {
    check_outputs(&a.common, true, &[])?;
    let l = load(&a.common)?;
    let contact = l.log.find_contact(&a.contact).ok_or_else(|| {
        Error::Usage(format!(
            "--contact: no such contact in {} ({})",
            l.log.file, a.contact
        ))
    })?;
    let results = bill_all(&l, true, a.common.strict)?;
    let mut out = report_out(&a.common)?;
    super::reported(
        match a.format {
            super::Format::Table => {
                crate::explain::write(&l.log, &results, contact, &l.accounts, &mut out)
            }
            super::Format::Csv => {
                let dialect = a.csv_dialect;
                crate::explain::write_csv(&l.log, &results, contact, &l.accounts, dialect, &mut out)
            }
            super::Format::Json => {
                crate::explain::write_json(&l.log, &results, contact, &l.accounts, &mut out)
            }
        }
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing the explanation", e)),
    )?;
    super::reported(out.commit())
}
