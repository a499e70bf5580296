//! A JSON Lines input read in chunks of whole lines, each parsed on one of several threads
//! while the next is read: the input is never held whole (reading a webhook log of 2 GB
//! into one buffer spent more time in the kernel, faulting its pages in, than parsing it).

use super::recycle::Recycle;
use std::io::{self, Read};
use std::sync::{mpsc, Mutex};

/// Bytes of a chunk (a line longer than this is read whole into a longer one).
pub const CHUNK: usize = 4 << 20;

/// `parse(chunk)` of every chunk of `input` (about `chunk` bytes, cut at line ends), on
/// `workers` threads; the results in input order. The lines are not counted here (the reading
/// thread only reads): `parse` numbers them within its chunk. `keep`: the input's bytes,
/// whole, are given back too (else an empty vector).
pub fn parse_chunks<T, F>(
    mut input: impl Read,
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
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(workers);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, T)>();
    let mut whole = Vec::new();
    let (read, mut done) = std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            let (done_tx, work_rx, parse, pool) = (done_tx.clone(), &work_rx, &parse, &pool);
            scope.spawn(move || loop {
                let next = work_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((seq, bytes)) = next else {
                    return;
                };
                let out = parse(&bytes);
                pool.give(bytes);
                if done_tx.send((seq, out)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let kept = keep.then_some(&mut whole);
        let read = read_chunks(&mut input, chunk, &pool, kept, |seq, bytes| {
            // The workers outlive this loop: a send fails only if every one panicked, and
            // the scope then passes the panic on.
            let _ = work_tx.send((seq, bytes));
        });
        drop(work_tx);
        (read, done_rx.iter().collect::<Vec<_>>())
    });
    read?;
    done.sort_unstable_by_key(|(seq, _)| *seq);
    Ok((done.into_iter().map(|(_, t)| t).collect(), whole))
}

/// Cuts `input` into chunks of whole lines and hands each to `send` with its number; a copy
/// of each goes to `whole` if given.
fn read_chunks(
    input: &mut impl Read,
    chunk: usize,
    pool: &Recycle<u8>,
    mut whole: Option<&mut Vec<u8>>,
    mut send: impl FnMut(usize, Vec<u8>),
) -> io::Result<()> {
    let mut seq = 0;
    let mut carry = Vec::new();
    loop {
        let mut bytes = pool.take(chunk.max(carry.len()) + 1);
        bytes.append(&mut carry);
        let mut eof = fill(input, &mut bytes, chunk)?;
        let mut cut = memchr::memrchr(b'\n', &bytes);
        while cut.is_none() && !eof {
            let target = bytes.len() * 2;
            eof = fill(input, &mut bytes, target)?;
            cut = memchr::memrchr(b'\n', &bytes);
        }
        let end = match (eof, cut) {
            (false, Some(i)) => i + 1,
            _ => bytes.len(),
        };
        carry.extend_from_slice(&bytes[end..]);
        bytes.truncate(end);
        if bytes.is_empty() {
            pool.give(bytes);
            return Ok(());
        }
        if let Some(w) = whole.as_deref_mut() {
            w.extend_from_slice(&bytes);
        }
        send(seq, bytes);
        seq += 1;
        if eof {
            return Ok(());
        }
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
