//! An ordered pool: jobs (the ledger's segments) made into text by workers side by side, the
//! texts written strictly in the jobs' order by the calling thread.
//!
//! Memory is bounded: a worker starts job `i` only once `i < written + window`, so at most
//! `window` texts wait to be written, and written texts' buffers are handed back to the
//! workers. The first error (a worker's or the writer's) stops every thread and is returned.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};

/// What the workers and the writer share.
struct Board {
    /// The next job to hand out.
    next: usize,
    /// Jobs written so far.
    written: usize,
    /// Texts made, waiting to be written: job `i` at `i % window`.
    done: Vec<Option<Vec<u8>>>,
    /// Buffers of written texts, for the next jobs.
    spare: Vec<Vec<u8>>,
    /// Set by the first error (or a panic): every thread stops.
    stop: bool,
    error: Option<io::Error>,
}

struct Shared {
    board: Mutex<Board>,
    changed: Condvar,
    jobs: usize,
    window: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, board: MutexGuard<'a, Board>) -> MutexGuard<'a, Board> {
        self.changed.wait(board).unwrap_or_else(|e| e.into_inner())
    }

    /// The next job for a worker and a buffer for its text, once it is inside the window;
    /// `None` when there is none left or the pool stopped.
    fn take(&self) -> Option<(usize, Vec<u8>)> {
        let mut board = self.lock();
        loop {
            if board.stop || board.next >= self.jobs {
                return None;
            }
            if board.next < board.written + self.window {
                let job = board.next;
                board.next += 1;
                return Some((job, board.spare.pop().unwrap_or_default()));
            }
            board = self.wait(board);
        }
    }

    /// Job `job`'s text, made.
    fn put(&self, job: usize, text: Vec<u8>) {
        self.lock().done[job % self.window] = Some(text);
        self.changed.notify_all();
    }

    /// Job `job`'s text, once made; `None` if the pool stopped.
    fn ready(&self, job: usize) -> Option<Vec<u8>> {
        let mut board = self.lock();
        loop {
            if board.stop {
                return None;
            }
            if let Some(text) = board.done[job % self.window].take() {
                return Some(text);
            }
            board = self.wait(board);
        }
    }

    /// One more text written; its buffer is kept for another job.
    fn written(&self, mut text: Vec<u8>) {
        text.clear();
        let mut board = self.lock();
        board.written += 1;
        board.spare.push(text);
        drop(board);
        self.changed.notify_all();
    }

    /// Stops every thread; the first error is the one returned.
    fn fail(&self, error: Option<io::Error>) {
        let mut board = self.lock();
        board.stop = true;
        if board.error.is_none() {
            board.error = error;
        }
        drop(board);
        self.changed.notify_all();
    }
}

/// Stops the pool if its thread panics, so that no other thread waits for it forever.
struct StopOnPanic<'a>(&'a Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail(None);
        }
    }
}

/// Makes jobs `0..jobs` into text, `make(state, job, text)` on a thread per state of
/// `workers`, and hands each text to `write` in the jobs' order, at most `window` (at least
/// 1) made ahead of the one being written. The first error stops it all and is returned.
pub fn in_order<S, M>(
    jobs: usize,
    window: usize,
    workers: Vec<S>,
    make: M,
    mut write: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()>
where
    S: Send,
    M: Fn(&mut S, usize, &mut Vec<u8>) -> io::Result<()> + Sync,
{
    let window = window.max(1);
    let shared = Shared {
        board: Mutex::new(Board {
            next: 0,
            written: 0,
            done: (0..window).map(|_| None).collect(),
            spare: Vec::new(),
            stop: false,
            error: None,
        }),
        changed: Condvar::new(),
        jobs,
        window,
    };
    if workers.is_empty() && jobs > 0 {
        return Err(io::Error::other("no worker to make the ledger's rows"));
    }
    let (shared, make) = (&shared, &make);
    std::thread::scope(|s| {
        for mut state in workers {
            s.spawn(move || {
                let _stop = StopOnPanic(shared);
                while let Some((job, mut text)) = shared.take() {
                    text.clear();
                    match make(&mut state, job, &mut text) {
                        Ok(()) => shared.put(job, text),
                        Err(e) => return shared.fail(Some(e)),
                    }
                }
            });
        }
        let _stop = StopOnPanic(shared);
        for job in 0..jobs {
            let Some(text) = shared.ready(job) else {
                break;
            };
            if let Err(e) = write(&text) {
                return shared.fail(Some(e));
            }
            shared.written(text);
        }
    });
    let error = shared.lock().error.take();
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// Job `i`'s text: its number and a length that varies, so jobs take unequal times.
    fn text_of(job: usize, text: &mut Vec<u8>) {
        for _ in 0..(job * 7919) % 13 + 1 {
            text.extend_from_slice(format!("{job};").as_bytes());
        }
        if job.is_multiple_of(5) {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }

    #[test]
    fn texts_are_written_in_the_jobs_order_for_any_number_of_workers() {
        let jobs = 200;
        let mut want = Vec::new();
        for job in 0..jobs {
            text_of(job, &mut want);
        }
        for workers in 1..=3 {
            for window in [1, 2, 3, 8] {
                let written = AtomicUsize::new(0);
                let mut got = Vec::new();
                let make = |_: &mut (), job: usize, text: &mut Vec<u8>| {
                    // Never more than `window` ahead of the writer.
                    assert!(job < written.load(SeqCst) + window, "{job} {window}");
                    text_of(job, text);
                    Ok(())
                };
                in_order(jobs, window, vec![(); workers], make, |t: &[u8]| {
                    got.extend_from_slice(t);
                    written.fetch_add(1, SeqCst);
                    Ok(())
                })
                .unwrap();
                assert!(got == want, "{workers} workers, window {window}");
            }
        }
    }

    #[test]
    fn a_workers_error_stops_everything_and_is_returned() {
        for workers in 1..=3 {
            let made = AtomicUsize::new(0);
            let mut written = Vec::new();
            let make = |_: &mut (), job: usize, text: &mut Vec<u8>| {
                made.fetch_add(1, SeqCst);
                if job == 5 {
                    return Err(io::Error::other("disk full"));
                }
                text.push(job as u8);
                Ok(())
            };
            let e = in_order(1000, 2, vec![(); workers], make, |t: &[u8]| {
                written.extend_from_slice(t);
                Ok(())
            })
            .unwrap_err();
            assert_eq!(e.to_string(), "disk full");
            // Only the jobs before the failed one, in order; the others were not started.
            assert_eq!(written, (0..written.len() as u8).collect::<Vec<_>>());
            assert!(written.len() <= 5, "{written:?}");
            // Jobs 0-4 written at most: none started past job 6 (window 2).
            assert!(made.load(SeqCst) <= 7, "{}", made.load(SeqCst));
        }
    }

    #[test]
    fn the_writers_error_stops_everything_and_is_returned() {
        for workers in 1..=3 {
            let made = AtomicUsize::new(0);
            let mut written = 0;
            let make = |_: &mut (), _: usize, text: &mut Vec<u8>| {
                made.fetch_add(1, SeqCst);
                text.push(b'x');
                Ok(())
            };
            let e = in_order(1000, 3, vec![(); workers], make, |_: &[u8]| {
                written += 1;
                match written {
                    4 => Err(io::Error::other("write error")),
                    _ => Ok(()),
                }
            })
            .unwrap_err();
            assert_eq!(e.to_string(), "write error");
            assert_eq!(written, 4);
            // Jobs 0-2 written (3 failed): none started past job 5 (window 3).
            assert!(made.load(SeqCst) <= 6, "{}", made.load(SeqCst));
        }
    }

    #[test]
    fn no_job_no_thread_needed() {
        in_order(0, 2, Vec::<()>::new(), |_, _, _| Ok(()), |_| Ok(())).unwrap();
    }
}
