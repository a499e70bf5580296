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

    /// Writes a file's bytes past its first [`Writeback::AROUND_FROM`] around the page cache
    /// (`O_DIRECT`), for an output of gigabytes (the ledger): the kernel's copy of every byte
    /// into the cache and its pages' allocation were a fifth of the ledger's CPU, and the bytes
    /// are never read back (docs/performance.md, "Ledger, sixth pass"). Nothing changes for
    /// a device, a pipe, standard output or a file system that refuses it.
    pub fn around_cache(mut self) -> OutputFile {
        if let Sink::Temp(_, _, w) = self.sink.get_mut() {
            w.around = true;
        }
        self
    }

    /// Puts the finished file in place of the target.
    pub fn commit(self) -> Result<()> {
        let shown = self.shown;
        let io = |e| Error::io(format!("writing {shown}"), e);
        match self.sink.into_inner().map_err(|e| io(e.into_error()))? {
            Sink::Direct(mut f) => f.flush().map_err(io),
            Sink::Stdout(mut f) => f.flush().map_err(io),
            Sink::Temp(temp, target, mut w) => {
                w.finish(temp.as_file()).map_err(io)?;
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
            Sink::Temp(t, _, w) => w.write(t, buf),
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
/// Or, asked for ([`OutputFile::around_cache`]), past its first bytes, writes them around the
/// page cache ([`Uncached`]).
#[derive(Default)]
struct Writeback {
    /// Bytes written to the file.
    written: u64,
    /// Bytes whose writing to disk has been started.
    started: u64,
    /// Bytes past [`Writeback::AROUND_FROM`] go around the page cache.
    around: bool,
    /// Where they go once they do.
    uncached: Option<Box<Uncached>>,
}

impl Writeback {
    /// The range handed to the kernel at once.
    const STEP: u64 = 8 << 20;
    /// A file's first bytes go through the page cache (a small file is never written
    /// around it); a multiple of [`ALIGN`].
    const AROUND_FROM: u64 = 8 << 20;

    fn write(&mut self, temp: &tempfile::NamedTempFile, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(u) = &mut self.uncached {
            let n = u.write(buf)?;
            self.written += n as u64;
            return Ok(n);
        }
        let mut len = buf.len();
        if self.around {
            // Through the cache up to AROUND_FROM, so that the rest starts aligned.
            let left = Self::AROUND_FROM.saturating_sub(self.written);
            if left == 0 {
                self.around = false;
                self.uncached = Uncached::start(temp, self.written).map(Box::new);
                return self.write(temp, buf);
            }
            len = len.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        let n = temp.as_file().write(&buf[..len])?;
        self.wrote(temp.as_file(), n);
        Ok(n)
    }

    fn wrote(&mut self, file: &File, n: usize) {
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            start_writeback(file, self.started, self.written - self.started);
            self.started = self.written;
        }
    }

    /// The bytes still on their way written; the first error of any write.
    fn finish(&mut self, file: &File) -> std::io::Result<()> {
        self.uncached.take().map_or(Ok(()), |u| u.finish(file))
    }
}

/// Writes around the page cache need their buffers, offsets and lengths aligned (to the
/// device's logical block; 4 KB covers every common one).
const ALIGN: usize = 4096;

/// A staging buffer of [`Uncached`]: [`Uncached::STAGE`] bytes aligned to [`ALIGN`].
struct Stage {
    /// Room for the stage and its alignment (no `unsafe` allocation).
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl Stage {
    fn new() -> Stage {
        let mem = vec![0; Uncached::STAGE + ALIGN];
        let start = mem.as_ptr().align_offset(ALIGN);
        Stage { mem, start, len: 0 }
    }

    fn bytes(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }

    /// Takes what fits of `buf`; gives how much.
    fn push(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(Uncached::STAGE - self.len);
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&buf[..n]);
        self.len += n;
        n
    }
}

/// A file written around the page cache: the bytes gathered in aligned stages, each full one
/// written (`O_DIRECT`, at its offset) by [`Uncached::WRITERS`] threads while the next fills; the last,
/// partial one through the cache by [`Uncached::finish`]. A thread, because a write around
/// the cache returns only once the device has the bytes.
struct Uncached {
    stage: Stage,
    /// Where `stage` starts in the file.
    at: u64,
    /// Stages written, free for the next bytes.
    spare: Vec<Stage>,
    /// Stages with the writers.
    in_flight: usize,
    to_disk: Option<std::sync::mpsc::SyncSender<(Stage, u64)>>,
    written: std::sync::mpsc::Receiver<std::io::Result<Stage>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// The file, to allocate its blocks ahead of the writers.
    file: File,
    /// Where the file's blocks are allocated to (and its length set, until `finish`).
    allocated: u64,
}

impl Uncached {
    /// Bytes a write: a few MB keep the device busy.
    const STAGE: usize = 4 << 20;
    /// Writes in flight at once, a thread each: this machine's disk takes 1.2 GB/s from one
    /// writer of 4 MB blocks and 2.0 GB/s from two (`dd ... oflag=direct`, docs/performance.md
    /// "Ledger, sixth pass").
    const WRITERS: usize = 2;
    /// Stages in all: one filling, two for each writer (one being written, one waiting).
    const STAGES: usize = 2 * Self::WRITERS + 1;
    /// Blocks allocated ahead of the writers at a time: a write past the file's end or into
    /// a hole takes the file's lock alone (ext4), which made two writers one.
    const AHEAD: u64 = 64 << 20;

    /// Writes `temp` from `at` (aligned) around the cache; `None` where that cannot be opened
    /// (the bytes then keep going through the cache).
    #[cfg(target_os = "linux")]
    fn start(temp: &tempfile::NamedTempFile, at: u64) -> Option<Uncached> {
        use std::os::unix::fs::OpenOptionsExt;
        let direct = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(temp.path())
            .ok()?;
        let (to_disk, queue) = std::sync::mpsc::sync_channel::<(Stage, u64)>(Self::STAGES);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        let (done, written) = std::sync::mpsc::channel();
        let mut threads = Vec::new();
        for _ in 0..Self::WRITERS {
            let direct = direct.try_clone().ok()?;
            let cached = temp.as_file().try_clone().ok()?;
            let (queue, done) = (queue.clone(), done.clone());
            let thread = std::thread::Builder::new()
                .name("ledger-disk".into())
                .spawn(move || write_stages(direct, &cached, &queue, &done))
                .ok()?;
            threads.push(thread);
        }
        Some(Uncached {
            stage: Stage::new(),
            at,
            spare: Vec::new(),
            in_flight: 0,
            to_disk: Some(to_disk),
            written,
            threads,
            file: temp.as_file().try_clone().ok()?,
            allocated: at,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn start(_: &tempfile::NamedTempFile, _: u64) -> Option<Uncached> {
        None
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.stage.push(buf);
        if self.stage.len == Self::STAGE {
            let next = match self.spare.pop() {
                Some(s) => s,
                None if self.in_flight + 1 < Self::STAGES => Stage::new(),
                None => self.wait()?,
            };
            let full = std::mem::replace(&mut self.stage, next);
            self.allocate_to(self.at + Self::STAGE as u64);
            let sent = (self.to_disk.as_ref()).is_some_and(|t| t.send((full, self.at)).is_ok());
            if !sent {
                // The thread stopped at an error: that error.
                return Err(self.wait().err().unwrap_or_else(stopped));
            }
            self.in_flight += 1;
            self.at += Self::STAGE as u64;
        }
        Ok(n)
    }

    /// Allocates the file's blocks to `end` and some way past it, if not yet. Only advice: where
    /// the file system cannot, the writes allocate them as before.
    fn allocate_to(&mut self, end: u64) {
        if end > self.allocated {
            let len = end - self.allocated + Self::AHEAD;
            allocate(&self.file, self.allocated, len);
            self.allocated += len;
        }
    }

    /// A stage back from a writer, or its error.
    fn wait(&mut self) -> std::io::Result<Stage> {
        let mut stage = self.written.recv().map_err(|_| stopped())??;
        self.in_flight -= 1;
        stage.len = 0;
        Ok(stage)
    }

    /// Waits for the stages with the writers, then writes the last one through `file` (the
    /// cache): its length is not aligned.
    fn finish(mut self, file: &File) -> std::io::Result<()> {
        self.to_disk = None;
        while self.in_flight > 0 {
            let stage = self.wait()?;
            self.spare.push(stage);
        }
        for t in std::mem::take(&mut self.threads) {
            t.join().map_err(|_| stopped())?;
        }
        write_all_at(file, self.stage.bytes(), self.at)?;
        // The blocks allocated ahead and not written go.
        file.set_len(self.at + self.stage.len as u64)
    }
}

impl Drop for Uncached {
    fn drop(&mut self) {
        // The threads end with their queue: no write outlives the output.
        self.to_disk = None;
        for t in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
    }
}

/// A writer of [`Uncached`]: takes full stages from `queue` and writes each at its offset,
/// giving it back (or the error, and stops) through `done`. The writers share one queue, so
/// a stage goes to whichever is free; the order they finish in does not matter, each stage
/// having its own place in the file.
#[cfg(target_os = "linux")]
fn write_stages(
    direct: File,
    cached: &File,
    queue: &std::sync::Mutex<std::sync::mpsc::Receiver<(Stage, u64)>>,
    done: &std::sync::mpsc::Sender<std::io::Result<Stage>>,
) {
    let mut direct = Some(direct);
    loop {
        let next = queue
            .lock()
            .map_err(drop)
            .and_then(|q| q.recv().map_err(drop));
        let Ok((stage, at)) = next else { return };
        let result = write_at(&mut direct, cached, stage.bytes(), at);
        let failed = result.is_err();
        if done.send(result.map(|()| stage)).is_err() || failed {
            return;
        }
    }
}

fn stopped() -> std::io::Error {
    std::io::Error::other("the thread writing the file stopped")
}

/// Writes `bytes` at `at` around the cache; through `cached` from the first write the file
/// system refuses so (`EINVAL`), and on.
#[cfg(unix)]
fn write_at(
    direct: &mut Option<File>,
    cached: &File,
    bytes: &[u8],
    at: u64,
) -> std::io::Result<()> {
    if let Some(d) = direct {
        match write_all_at(d, bytes, at) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => *direct = None,
            done => return done,
        }
    }
    write_all_at(cached, bytes, at)
}

#[cfg(unix)]
fn write_all_at(file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(not(unix))]
fn write_all_at(mut file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(at))?;
    file.write_all(bytes)
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

/// Allocates `len` bytes of `file`'s blocks from `from` (its length grows to their end).
/// Only advice: an error (a file system without `fallocate`) changes nothing.
#[cfg(target_os = "linux")]
fn allocate(file: &File, from: u64, len: u64) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: a plain system call on a descriptor this process owns; no memory is passed.
    unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            0,
            from as libc::off64_t,
            len as libc::off64_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn allocate(_: &File, _: u64, _: u64) {}

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

    /// Bytes of every value in an order that repeats only every 251 bytes, so that a stage
    /// written at the wrong offset or twice shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|k| (k * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_file_written_around_the_cache_is_whole_to_its_last_byte() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ledger.csv");
        // Past the cached first 8 MB: three stages of 4 MB and a partial one; writes of odd
        // lengths, some across a stage's end, one larger than a stage.
        let want = pattern((8 << 20) + 3 * Uncached::STAGE + 12_345);
        let mut out = OutputFile::create("--ledger", &target)
            .unwrap()
            .around_cache();
        let mut rest = &want[..];
        for len in [1, 777, (3 << 20) + 5].into_iter().cycle() {
            let (now, later) = rest.split_at(len.min(rest.len()));
            out.write_all(now).unwrap();
            rest = later;
            if rest.is_empty() {
                break;
            }
        }
        out.flush().unwrap();
        match out.sink.get_ref() {
            // On a file system that takes writes around the cache (not every one does).
            Sink::Temp(_, _, w) if w.uncached.is_some() => {
                assert_eq!(
                    w.uncached.as_ref().unwrap().at,
                    (8 << 20) + 3 * Uncached::STAGE as u64
                )
            }
            Sink::Temp(..) => eprintln!("writes around the cache refused here"),
            _ => panic!("a file path is written through a temporary file"),
        }
        out.commit().unwrap();
        assert!(std::fs::read(&target).unwrap() == want);
    }

    #[test]
    fn a_file_written_around_the_cache_and_not_committed_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("ledger.csv");
        let mut out = OutputFile::create("--ledger", &target)
            .unwrap()
            .around_cache();
        out.write_all(&pattern(20 << 20)).unwrap();
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
