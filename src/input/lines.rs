//! A JSON Lines input read in chunks of whole lines, each read and parsed by one of several
//! threads while the others parse theirs: the input is never held whole (reading a webhook log of 2 GB
//! into one buffer spent more time in the kernel, faulting its pages in, than parsing it).

use super::recycle::Recycle;
use std::io::{self, Read};
use std::sync::Mutex;

/// Bytes of a chunk (a line longer than this is read whole into a longer one).
pub const CHUNK: usize = 4 << 20;

/// `parse(chunk)` of every chunk of `input` (about `chunk` bytes, cut at line ends), on
/// `workers` threads; the results in input order. Each worker reads its next chunk itself
/// (in turn, under a lock) and parses it at once: the kernel's copy of the file lands in the
/// cache of the core that reads it next, and no thread only reads. The lines are not counted
/// here: `parse` numbers them within its chunk. `keep`: the input's bytes, whole, are given
/// back too (else an empty vector).
pub fn parse_chunks<T, F>(
    input: impl Read + Send,
    chunk: usize,
    workers: usize,
    keep: bool,
    parse: F,
) -> io::Result<(Vec<T>, Vec<u8>)>
where
    T: Send,
    F: Fn(&[u8]) -> T + Sync,
{
    let pool: Recycle<u8> = Recycle::default();
    let chunks = Mutex::new(Chunks {
        input,
        chunk,
        carry: Vec::new(),
        seq: 0,
        done: false,
        failed: None,
        whole: keep.then(Vec::new),
    });
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let work = || {
            let mut out = Vec::new();
            loop {
                let next = chunks.lock().unwrap_or_else(|e| e.into_inner()).next(&pool);
                let Some((seq, bytes)) = next else {
                    return out;
                };
                out.push((seq, parse(&bytes)));
                pool.give(bytes);
            }
        };
        let handles: Vec<_> = (0..workers.max(1)).map(|_| scope.spawn(work)).collect();
        (handles.into_iter())
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let chunks = chunks.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = chunks.failed {
        return Err(e);
    }
    done.sort_unstable_by_key(|(seq, _)| *seq);
    let whole = chunks.whole.unwrap_or_default();
    Ok((done.into_iter().map(|(_, t)| t).collect(), whole))
}

/// The input being cut into chunks of whole lines, numbered in input order, by whichever
/// worker asks next.
struct Chunks<R> {
    input: R,
    chunk: usize,
    /// The start of a line cut by the last chunk's end.
    carry: Vec<u8>,
    seq: usize,
    /// The input ended or failed (`failed`: how).
    done: bool,
    failed: Option<io::Error>,
    /// A copy of every chunk, if the input is kept whole.
    whole: Option<Vec<u8>>,
}

impl<R: Read> Chunks<R> {
    /// The next chunk (in a buffer of `pool`) and its number; `None` at the end.
    fn next(&mut self, pool: &Recycle<u8>) -> Option<(usize, Vec<u8>)> {
        if self.done {
            return None;
        }
        match self.read(pool) {
            Ok(Some(bytes)) => {
                if let Some(w) = self.whole.as_mut() {
                    w.extend_from_slice(&bytes);
                }
                self.seq += 1;
                Some((self.seq - 1, bytes))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                (self.done, self.failed) = (true, Some(e));
                None
            }
        }
    }

    /// About `chunk` bytes of whole lines (a line longer than that whole; the last piece of
    /// the input even without a line end); `None` when nothing is left.
    fn read(&mut self, pool: &Recycle<u8>) -> io::Result<Option<Vec<u8>>> {
        let mut bytes = pool.take(self.chunk.max(self.carry.len()) + 1);
        bytes.append(&mut self.carry);
        let mut eof = fill(&mut self.input, &mut bytes, self.chunk)?;
        let mut cut = memchr::memrchr(b'\n', &bytes);
        while cut.is_none() && !eof {
            let target = bytes.len() * 2;
            eof = fill(&mut self.input, &mut bytes, target)?;
            cut = memchr::memrchr(b'\n', &bytes);
        }
        let end = match (eof, cut) {
            (false, Some(i)) => i + 1,
            _ => bytes.len(),
        };
        self.carry.extend_from_slice(&bytes[end..]);
        bytes.truncate(end);
        self.done = eof;
        if bytes.is_empty() {
            pool.give(bytes);
            return Ok(None);
        }
        Ok(Some(bytes))
    }
}

/// Reads into `buf` until it holds `target` bytes; true if the input ended first.
fn fill(input: &mut impl Read, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    let want = target.saturating_sub(buf.len());
    buf.reserve(want);
    let got = input.by_ref().take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each chunk's lines.
    fn chunks(text: &str, chunk: usize, keep: bool) -> (Vec<String>, Vec<u8>) {
        let parse = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        parse_chunks(text.as_bytes(), chunk, 2, keep, parse).unwrap()
    }

    #[test]
    fn chunks_are_whole_lines_in_order() {
        let text = "a\nbb\nccccccccccc\n\nd\nlast without an end";
        let (got, whole) = chunks(text, 4, true);
        assert_eq!(
            got,
            [
                "a\n",
                "bb\n",
                // a line longer than a chunk: read on to its end (and the next two with it)
                "ccccccccccc\n\nd\n",
                "last without an end",
            ]
        );
        assert_eq!(whole, text.as_bytes());
        let (one, whole) = chunks(text, CHUNK, false);
        assert_eq!(one, [text]);
        assert!(whole.is_empty(), "kept only when asked");
        assert!(chunks("", 4, true).0.is_empty());
    }
}
