//! `simcost rates`: the rate cards. `rates export DIR` writes the built-in rate directory out, to
//! start a contract's cards from (then `--rates DIR`); `rates import-meta FILE... --into DIR`
//! merges Meta's downloadable rate sheets into DIR's whatsapp-meta card files
//! (rates/README.md "whatsapp-meta: importing Meta's sheets").

use super::parse_date;
use crate::error::{Error, Result};
use crate::output::OutputFile;
use crate::rates::import_meta::{read_sheet, CardFile};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(crate) struct RatesArgs {
    #[command(subcommand)]
    command: RatesCommand,
}

#[derive(Subcommand)]
enum RatesCommand {
    /// Write the built-in model files, price cards and fx.csv to DIR (made if missing);
    /// refuses to overwrite a file that is already there.
    Export {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Merge Meta's rate sheets (the per-market price CSV, the volume-tier CSV; any currency)
    /// into DIR's whatsapp-meta-prices.csv and whatsapp-meta-tiers.csv.
    ImportMeta(ImportArgs),
}

#[derive(Args)]
struct ImportArgs {
    /// Meta's sheets, as downloaded (CSV).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The rate directory whose card files are updated (created if missing).
    #[arg(long, value_name = "DIR")]
    into: PathBuf,
    /// The card date of a sheet whose title gives none (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    effective_from: Option<String>,
    /// Replace a different value already in the card for the same date, market, currency and
    /// column (without it that is an error naming both values).
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(a: RatesArgs) -> Result<()> {
    match a.command {
        RatesCommand::ImportMeta(a) => import_meta(a),
        RatesCommand::Export { dir } => export(&dir),
    }
}

fn read(path: &Path) -> Result<String> {
    crate::input::read_text(path)
}

/// Reads every sheet, merges them into the card files in memory, and writes the files only when
/// every sheet merged: a conflict leaves DIR as it was.
fn import_meta(a: ImportArgs) -> Result<()> {
    let date = a
        .effective_from
        .as_deref()
        .map(|d| parse_date("effective-from", d))
        .transpose()?;
    if !a.into.is_dir() {
        return Err(Error::Usage(format!(
            "--into: not a directory ({})",
            a.into.display()
        )));
    }
    let mut cards: Vec<CardFile> = Vec::new();
    let mut report = Vec::new();
    for file in &a.files {
        let shown = file.display().to_string();
        let sheet = read_sheet(&shown, &read(file)?, date)?;
        let target = a.into.join(sheet.kind.file());
        let name = target.display().to_string();
        let i = match cards.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                let text = target.exists().then(|| read(&target)).transpose()?;
                cards.push(CardFile::open(&name, sheet.kind, text.as_deref())?);
                cards.len() - 1
            }
        };
        let card = &mut cards[i];
        let m = card.merge(&sheet, &shown, a.force)?;
        report.push(format!(
            "{shown}: {} rows into {}: {} added, {} unchanged, {} cells filled, {} replaced",
            sheet.rows.len(),
            card.name,
            m.added,
            m.unchanged,
            m.filled,
            m.replaced
        ));
    }
    for card in &cards {
        let mut out = OutputFile::create("--into", Path::new(&card.name))?;
        out.write_all(card.text()?.as_bytes())
            .map_err(|e| Error::io(format!("writing {}", card.name), e))?;
        out.commit()?;
    }
    for line in report {
        println!("{line}");
    }
    Ok(())
}

/// `rates export DIR`: every built-in rate file written to DIR, none over an existing file.
fn export(dir: &Path) -> Result<()> {
    let files = crate::rates::embedded_files();
    // Every file checked before any is written: a refusal leaves the directory as it was.
    if let Some((name, _)) = files.iter().find(|(n, _)| dir.join(n).exists()) {
        return Err(Error::Usage(format!(
            "rates export: {} exists; simcost never overwrites a rate file (export into an \
             empty directory)",
            dir.join(name).display()
        )));
    }
    std::fs::create_dir_all(dir)
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
