//! `simcost completions SHELL`: the shell completion script (clap_complete) on standard output.

use crate::error::{Error, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

#[derive(Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish (e.g. `simcost completions bash >
    /// ~/.local/share/bash-completion/completions/simcost`).
    #[arg(value_enum)]
    pub(crate) shell: Shell,
    /// Write the script to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<std::path::PathBuf>,
}

pub(crate) fn run(a: CompletionsArgs) -> Result<()> {
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "simcost", &mut script);
    let path = a.output.unwrap_or_else(|| "-".into());
    let mut out = crate::output::OutputFile::create("--output", &path)?;
    super::reported(
        out.write_all(&script)
            .map_err(|e| Error::io("writing the completion script", e)),
    )?;
    super::reported(out.commit())
}
