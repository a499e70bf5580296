//! `simcost rates export DIR`: the built-in rate directory written out, to start a contract's
//! cards from (then `--rates DIR`).

use crate::error::{Error, Result};
use crate::output::OutputFile;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct RatesArgs {
    #[command(subcommand)]
    action: RatesAction,
}

#[derive(Subcommand)]
enum RatesAction {
    /// Write the built-in model files, price cards and fx.csv to DIR (made if missing);
    /// refuses to overwrite a file that is already there.
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

pub(crate) fn run(a: RatesArgs) -> Result<()> {
    let RatesAction::Export { dir } = a.action;
    let files = crate::rates::embedded_files();
    // Every file checked before any is written: a refusal leaves the directory as it was.
    if let Some((name, _)) = files.iter().find(|(n, _)| dir.join(n).exists()) {
        return Err(Error::Usage(format!(
            "rates export: {} exists; simcost never overwrites a rate file (export into an \
             empty directory)",
            dir.join(name).display()
        )));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    for (name, text) in files {
        let path = dir.join(name);
        let mut f = OutputFile::create("rates export", &path)?;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        f.commit()?;
    }
    eprintln!(
        "simcost: wrote {} rate files to {}; edit them, then pass --rates {}",
        files.len(),
        dir.display(),
        dir.display()
    );
    Ok(())
}
