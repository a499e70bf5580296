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
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    crate::explain::write(&l.log, &results, contact, &l.accounts, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing the explanation", e))
}
