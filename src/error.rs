//! Errors and the exit code of each, written down in one place.

use thiserror::Error;

/// Exit codes of the `simcost` binary.
///
/// A closed standard output (`>&-`) or one that fails (`> /dev/full`) is `IO`: the report is
/// lost. A broken pipe (`simcost ... | head`) is not: the reader chose to stop reading, so the
/// run ends quietly with `OK` and its output files are still put in place.
pub mod exit {
    pub const OK: i32 = 0;
    /// Output could not be written (a file, or standard output closed or failing), or
    /// another I/O failure.
    pub const IO: i32 = 1;
    /// Bad command line (clap uses 2 as well), including an output that is the log or
    /// another output.
    pub const USAGE: i32 = 2;
    /// Bad input log: `FILE:LINE: what is wrong (the value)`; also `--skip-invalid` skipping
    /// every row, or more than `--max-skipped` allows.
    pub const INPUT: i32 = 3;
    /// Bad rate directory or model file.
    pub const RATES: i32 = 4;
    /// `--strict` and a message the rate card cannot price.
    pub const UNPRICED: i32 = 5;
    /// `reconcile`: the bill differs from the replay beyond `--tolerance` (the report is
    /// written first, so a pipeline can fail on it and still read why).
    pub const BILL_DIFFERS: i32 = 6;
}

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    /// A bad row or file of the input log. `line` is 0 for a whole-file problem.
    #[error("{}", located(file, *line, msg))]
    Input {
        file: String,
        line: u64,
        msg: String,
    },
    /// A bad rate directory: `FILE:LINE` for a CSV row, `FILE: key` for TOML.
    #[error("{}", located(file, *line, msg))]
    Rates {
        file: String,
        line: u64,
        msg: String,
    },
    #[error("{0}")]
    Unpriced(String),
    #[error("{0}")]
    BillDiffers(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

fn located(file: &str, line: u64, msg: &str) -> String {
    if line == 0 {
        format!("{file}: {msg}")
    } else {
        format!("{file}:{line}: {msg}")
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Input { .. } => exit::INPUT,
            Error::Rates { .. } => exit::RATES,
            Error::Unpriced(_) => exit::UNPRICED,
            Error::BillDiffers(_) => exit::BILL_DIFFERS,
            Error::Io { .. } => exit::IO,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the error is a closed pipe on output (`simcost ... | head`): exit quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
