//! `simcost breakeven`: break-even volumes, session against per-message, and the chart.

use super::compare::DecideArgs;
use super::log_args::*;
use crate::analysis::breakeven;
use crate::error::Result;
use crate::output::OutputFile;
use crate::report::{self};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(crate) struct BreakevenArgs {
    #[command(flatten)]
    pub(crate) decide: DecideArgs,
    /// Draw cost against monthly volume to FILE (SVG): one line per model, crossings marked.
    /// Put in place only when the run succeeds.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,
}

/// `--plot`: the chart of `scope`, drawn but not yet put in place.
pub(crate) fn draw(
    path: &Path,
    l: &Loaded,
    scope: &breakeven::Scope,
    currency: &str,
) -> Result<OutputFile> {
    let names: Vec<String> = l.models.iter().map(|m| m.name.clone()).collect();
    // The file's name, not its path: the title of a chart someone forwards.
    let file = Path::new(&l.log.file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| l.log.file.clone());
    let title = format!(
        "{file} ({})",
        report::scope_label(Some(&l.log), scope.account)
    );
    let mut f = OutputFile::create("--plot", path)?;
    let shown = path.display().to_string();
    report::plot::write_svg(&mut f, &shown, scope, &names, currency, &title)?;
    Ok(f)
}

pub(crate) fn run(a: BreakevenArgs) -> Result<()> {
    super::compare::run(&a.decide, Some(a.plot.as_deref()))
}
