//! What a run hands back to the user, made safe: output files are never an input or each
//! other, are written whole or not at all, and a standard output nobody can read is an error.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the run reads, as the user named it.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    File(&'a Path),
    Stdin,
}

/// Fails (a usage error) when an output is one of `inputs` or another output, through links,
/// hard links or another spelling of the path. Called before anything is read or written.
/// `inputs` and `outputs` pair a label (`LOG`, `--ledger`) with the path as given.
pub fn check_distinct(inputs: &[(&str, Input)], outputs: &[(&str, &Path)]) -> Result<()> {
    // (label, as shown, a path naming it, identity)
    let read: Vec<(&str, String, &Path, Identity)> = inputs
        .iter()
        .filter_map(|(label, input)| match input {
            Input::File(p) => Some((*label, p.display().to_string(), *p, Identity::of_input(p)?)),
            Input::Stdin => Some((
                *label,
                "- (standard input)".to_string(),
                Path::new("/dev/stdin"),
                Identity::of_stdin()?,
            )),
        })
        .collect();
    let stdout = Identity::of_stdout_file();
    let mut written: Vec<(&str, &Path, Identity)> = Vec::new();
    for &(label, path) in outputs {
        let id = Identity::of_output(label, path)?;
        if stdout.as_ref() == Some(&id) {
            return Err(Error::Usage(format!(
                "{label} {} is standard output, where the report goes: choose another file",
                path.display(),
            )));
        }
        if let Some((in_label, shown, named, _)) = read.iter().find(|r| r.3 == id) {
            return Err(Error::Usage(format!(
                "{label} {} is the same file as {in_label} {shown}{}: an output is never \
                 written over what the run reads; choose another file",
                path.display(),
                id.note(path, named),
            )));
        }
        if let Some((other, other_path, _)) = written.iter().find(|w| w.2 == id) {
            return Err(Error::Usage(format!(
                "{label} {} and {other} {} are the same file{}: give each output its own file",
                path.display(),
                other_path.display(),
                id.note(path, other_path),
            )));
        }
        written.push((label, path, id));
    }
    Ok(())
}

/// Which file a path names: device and inode for an existing file (so links and hard links
/// compare equal), else the resolved path of a file yet to be created.
#[derive(PartialEq)]
enum Identity {
    #[cfg(unix)]
    Inode {
        dev: u64,
        ino: u64,
    },
    Path(PathBuf),
}

impl Identity {
    /// An input that does not exist cannot be lost (reading it reports the error).
    fn of_input(path: &Path) -> Option<Identity> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Identity::existing(path, &meta))
    }

    /// Standard input redirected from a file (`< log.csv`) is that file.
    fn of_stdin() -> Option<Identity> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            Identity::of_descriptor(std::io::stdin().as_fd(), false)
        }
        #[cfg(not(unix))]
        None
    }

    /// Standard output when it is a regular file (`> report.txt`): an output renamed over it
    /// would unlink the report. (A pipe, like `--ledger /dev/stdout | ...`, is the user's mix.)
    fn of_stdout_file() -> Option<Identity> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            Identity::of_descriptor(std::io::stdout().as_fd(), true)
        }
        #[cfg(not(unix))]
        None
    }

    #[cfg(unix)]
    fn of_descriptor(fd: std::os::fd::BorrowedFd, only_a_file: bool) -> Option<Identity> {
        let meta = File::from(fd.try_clone_to_owned().ok()?).metadata().ok()?;
        (meta.is_file() || !only_a_file).then(|| Identity::existing(Path::new(""), &meta))
    }

    /// An output that exists (a file, or a device or pipe such as `/dev/stdout`), or the
    /// resolved path of one to be created.
    fn of_output(label: &str, path: &Path) -> Result<Identity> {
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_dir() => Ok(Identity::existing(path, &meta)),
            _ => Ok(Identity::Path(resolve_output(label, path)?)),
        }
    }

    #[cfg_attr(unix, allow(unused_variables))]
    fn existing(path: &Path, meta: &std::fs::Metadata) -> Identity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Identity::Inode {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        Identity::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }

    /// Where two spellings name one file, says which: ` (both /abs/log.csv)`.
    fn note(&self, a: &Path, b: &Path) -> String {
        if a == b {
            return String::new();
        }
        let canonical = |p: &Path| std::fs::canonicalize(p).ok();
        match self {
            Identity::Path(p) => format!(" (both {})", p.display()),
            #[cfg(unix)]
            Identity::Inode { .. } => match (canonical(a), canonical(b)) {
                (Some(x), Some(y)) if x == y => format!(" (both {})", x.display()),
                _ => " (hard links to one file)".to_string(),
            },
        }
    }
}

/// The file an output path names, links followed (so a link to a file writes the file and
/// keeps the link), in a directory that exists. `label` names the option in errors.
fn resolve_output(label: &str, path: &Path) -> Result<PathBuf> {
    let usage = |what: &str| Error::Usage(format!("{label}: {what} ({})", path.display()));
    let mut p = path.to_path_buf();
    // A link to a file not yet written is followed by hand: `canonicalize` needs the file.
    for _ in 0..40 {
        if let Ok(target) = std::fs::canonicalize(&p) {
            if target.is_dir() {
                return Err(usage("is a directory"));
            }
            return Ok(target);
        }
        let meta = std::fs::symlink_metadata(&p);
        if meta.is_ok_and(|m| m.file_type().is_symlink()) {
            let to = std::fs::read_link(&p).map_err(|_| usage("cannot read the link"))?;
            p = directory_of(&p).join(to);
            continue;
        }
        let name = p.file_name().ok_or_else(|| usage("not a file name"))?;
        let dir = std::fs::canonicalize(directory_of(&p))
            .map_err(|_| usage("its directory does not exist"))?;
        return Ok(dir.join(name));
    }
    Err(usage("too many levels of links"))
}

fn directory_of(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// An output file written whole or not at all: the bytes go to a temporary file beside the
/// target (`.NAME.XXXXXX.simcost-tmp`), renamed over it by `commit`. Dropped without a commit
/// (an error, a failed run), the temporary file is removed and the target is as it was; a
/// killed process may leave the temporary file, never a part-written target. A device or
/// pipe (`/dev/stdout`) is written directly: there is nothing there to lose or rename.
pub struct OutputFile {
    /// The path as the user gave it, for messages.
    shown: String,
    sink: BufWriter<Sink>,
}

enum Sink {
    /// The temporary file, the target it is renamed to, and how much of it is on its way to disk.
    Temp(tempfile::NamedTempFile, PathBuf, Writeback),
    Direct(File),
    /// `-`: standard output.
    Stdout(std::io::Stdout),
}

/// Whether an output path is `-`, standard output.
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}

impl OutputFile {
    /// Starts writing the output named `path` by the option `label`.
    pub fn create(label: &str, path: &Path) -> Result<OutputFile> {
        let shown = path.display().to_string();
        let io = |e| Error::io(format!("creating {shown}"), e);
        let sink = match std::fs::metadata(path) {
            _ if is_stdout(path) => Sink::Stdout(std::io::stdout()),
            Ok(m) if !m.is_file() && !m.is_dir() => Sink::Direct(File::create(path).map_err(io)?),
            _ => {
                let target = resolve_output(label, path)?;
                let existing = std::fs::metadata(&target).ok();
                let name = target.file_name().unwrap_or_default().to_string_lossy();
                let prefix = format!(".{name}.");
                let mut b = tempfile::Builder::new();
                b.prefix(&prefix).suffix(".simcost-tmp");
                #[cfg(unix)]
                {
                    // The usual mode of a new file (0666 less the umask) instead of 0600.
                    use std::os::unix::fs::PermissionsExt;
                    b.permissions(std::fs::Permissions::from_mode(0o666));
                }
                let temp = b.tempfile_in(directory_of(&target)).map_err(io)?;
                if let Some(m) = &existing {
                    // A file replaced keeps its own mode (a private ledger stays private).
                    temp.as_file()
                        .set_permissions(m.permissions())
                        .map_err(io)?;
                }
                Sink::Temp(temp, target, Writeback::default())
            }
        };
        Ok(OutputFile {
            shown,
            sink: BufWriter::with_capacity(1 << 16, sink),
        })
    }

    /// Puts the finished file in place of the target.
    pub fn commit(self) -> Result<()> {
        let shown = self.shown;
        let io = |e| Error::io(format!("writing {shown}"), e);
        match self.sink.into_inner().map_err(|e| io(e.into_error()))? {
            Sink::Direct(mut f) => f.flush().map_err(io),
            Sink::Stdout(mut f) => f.flush().map_err(io),
            Sink::Temp(temp, target, _) => {
                // On disk before the rename, so a crash cannot leave an empty target.
                temp.as_file().sync_all().map_err(io)?;
                temp.persist(target).map(drop).map_err(|e| io(e.error))
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sink.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.sink.write_all(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sink.flush()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Temp(t, _, w) => {
                let n = t.write(buf)?;
                w.wrote(t.as_file(), n);
                Ok(n)
            }
            Sink::Direct(f) => f.write(buf),
            Sink::Stdout(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Temp(t, _, _) => t.flush(),
            Sink::Direct(f) => f.flush(),
            Sink::Stdout(f) => f.flush(),
        }
    }
}

/// Starts the disk writing of a temporary file's bytes as they are written, so that the
/// `sync_all` before its rename waits only for the last few megabytes: without it a 3 GB ledger
/// waited a second or more at the end for the whole file to reach the disk (docs/performance.md).
#[derive(Default)]
struct Writeback {
    /// Bytes written to the file.
    written: u64,
    /// Bytes whose writing to disk has been started.
    started: u64,
}

impl Writeback {
    /// The range handed to the kernel at once.
    const STEP: u64 = 8 << 20;

    fn wrote(&mut self, file: &File, n: usize) {
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            start_writeback(file, self.started, self.written - self.started);
            self.started = self.written;
        }
    }
}

/// Asks the kernel to start writing a range to disk without waiting for it. Only advice: an
/// error here (a file system without writeback) changes nothing, and a failed write still
/// surfaces at the `sync_all`.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, from: u64, len: u64) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: a plain system call on a descriptor this process owns; no memory is passed.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            from as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: u64) {}

/// Set before `main` by `probe_stdout` when descriptor 1 was closed at start-up.
pub static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Run by the binary before Rust's runtime starts (src/main.rs): the runtime reopens a closed
/// descriptor 1 on /dev/null, after which every write "succeeds" and the report is lost with
/// exit 0. Only this early can a closed stdout be told from a /dev/null chosen by the user.
#[cfg(unix)]
pub extern "C" fn probe_stdout() {
    // SAFETY: fcntl(F_GETFD) only asks whether descriptor 1 is open.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED_AT_START.store(true, Ordering::Relaxed);
    }
}

/// Fails when standard output was closed (`simcost replay log >&-`): nothing would see the
/// report. Checked before anything is read or written.
pub fn check_stdout() -> Result<()> {
    if STDOUT_CLOSED_AT_START.load(Ordering::Relaxed) {
        return Err(Error::io(
            "standard output",
            std::io::Error::other(
                "it is closed, so the report would be lost (send it to a file or to /dev/null)",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writeback_is_started_a_step_at_a_time_and_the_file_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ledger.csv");
        let mut out = OutputFile::create("--ledger", &target).unwrap();
        let chunk = vec![b'x'; 3 << 20];
        for _ in 0..7 {
            out.write_all(&chunk).unwrap();
        }
        out.flush().unwrap();
        match out.sink.get_ref() {
            // 21 MB written: writing was started at 9 MB and 18 MB (3 MB writes, 8 MB steps).
            Sink::Temp(_, _, w) => assert_eq!((w.written, w.started), (21 << 20, 18 << 20)),
            _ => panic!("a file path is written through a temporary file"),
        }
        out.commit().unwrap();
        assert_eq!(std::fs::metadata(&target).unwrap().len(), 21 << 20);
    }
}
