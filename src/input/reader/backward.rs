//! A log newest first (issue 24) read from its end: blocks cut backwards from the end of the
//! file, each converted as any block (its rows in file order, on every core), given ids and
//! its events reversed into time order here, so that billing takes them as it takes a
//! time-ordered log's, while the file is read. A child of `reader`: it drives `Ids`.
//!
//! Only where it is safe (`read_input` decides what input comes here, this module what rows
//! do): a block with a quote (a quoted newline cannot be cut from the end), a record longer
//! than a block, a bad row, or a row later than the one after it in the file (no longer newest
//! first) stops it; the caller then reads the file again the usual way (`Read::FallBack`).

use super::{convert_blocks, Batches, Cut, Ids};
use crate::event::Event;
use crate::input::blocks::{line_ends, Block, BLOCK_BYTES};
use crate::input::recycle::Recycle;
use crate::input::rows::{Parser, Row, Rows};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

/// The bytes of a block cut from the end; 0: `BLOCK_BYTES`. Tests make it small so that a
/// small log spans many blocks (the results never depend on it).
#[doc(hidden)]
pub static FROM_END_BLOCK_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Lines are numbered from the end while reading (the lines before a block are not counted
/// yet): a row's line is `BASE - (line ends from its line to the end of the file)`, made
/// right once the whole file is counted (`Numbering::fix`). Below `u32::MAX`: a row's line
/// fits an event's.
const BASE: u64 = u32::MAX as u64 - 1;

/// How reading from the end went.
pub(super) enum Read {
    /// Every row read and handed out in time order.
    Done,
    /// Stopped (see the module's text): nothing of it is of use, read the file again.
    FallBack,
}

/// Whether the first block's events (`events`, in file order) show a log newest first: never
/// later than the one before, and not all of one instant.
pub(super) fn newest_first(events: &[Event]) -> bool {
    events.windows(2).all(|w| w[0].at >= w[1].at)
        && events.first().map(|e| e.at) != events.last().map(|e| e.at)
}

/// Reads the data rows of the file at `path` from its end, converted by `threads` threads with
/// `parser`, given ids in `ids` and handed out in time order as `batch` says.
pub(super) fn read_from_end(
    path: &str,
    (parser, threads, delimiter): (&Parser, usize, u8),
    progress: Option<&indicatif::ProgressBar>,
    ids: &mut Ids,
    batch: &mut Batches,
) -> std::io::Result<Read> {
    let file = File::open(path)?;
    let (data_start, header_lines) = header_end(&file, delimiter)?;
    let size = file.metadata()?.len();
    let workers = super::workers(threads);
    let (block_tx, block_rx) = sync_channel::<Cut>(workers * 2);
    let block_rx: Mutex<Option<Receiver<Cut>>> = Mutex::new(Some(block_rx));
    let (spare_bytes, spare_rows) = (&Recycle::default(), &Recycle::default());
    let (read, lines_after) = std::thread::scope(|scope| {
        let (rows_tx, rows_rx) = sync_channel::<(u64, Rows)>(workers * 2);
        let file = &file;
        let cutter = scope
            .spawn(move || cut_from_end(file, (data_start, size), block_tx, progress, spare_bytes));
        for _ in 0..workers {
            let (rows_tx, block_rx) = (rows_tx.clone(), &block_rx);
            scope.spawn(move || convert_blocks(block_rx, rows_tx, parser, spare_bytes, spare_rows));
        }
        drop(rows_tx);
        let read = add_from_end(rows_rx, ids, spare_rows, batch);
        // Unblock the cutter and the workers if this stopped early.
        *block_rx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let lines = cutter
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (read, lines)
    });
    if let Read::Done = read {
        let numbering = Numbering {
            lines: 1 + header_lines + lines_after,
        };
        for r in &mut ids.log.rejects {
            r.line = numbering.fix(r.line);
        }
        ids.log.rejects.sort_by_key(|r| r.line);
        ids.log.in_time_order = true;
    }
    Ok(read)
}

/// The line ends of the whole file, plus one: what turns a line counted from the end into
/// its line.
struct Numbering {
    lines: u64,
}

impl Numbering {
    fn fix(&self, line: u64) -> u64 {
        (line + self.lines).saturating_sub(BASE)
    }
}

/// Where the header ends (the first data byte) and the line ends before it: the header
/// parsed as the csv crate does (blank lines before it skipped, quotes obeyed).
fn header_end(file: &File, delimiter: u8) -> std::io::Result<(u64, u64)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(std::io::BufReader::new(file));
    let mut rec = csv::ByteRecord::new();
    rdr.read_byte_record(&mut rec)
        .map_err(std::io::Error::other)?;
    let end = rdr.position().byte();
    let mut head = vec![0; end as usize + 1];
    let n = file.read_at(&mut head, 0)?;
    head.truncate(n);
    Ok((end, line_ends(&head, 0, (end as usize).min(n))))
}

/// The cutter's thread: the data rows `[start, end)` of `file` cut into blocks at line ends,
/// from the end backwards, numbered in that order; lines numbered from the end (`BASE`).
/// Gives the line ends after the header once all is cut. A block that cannot be read from
/// the end (a quote, no line end in a block's bytes) is sent as a fault, and the cutting stops.
fn cut_from_end(
    file: &File,
    (start, end): (u64, u64),
    block_tx: SyncSender<Cut>,
    progress: Option<&indicatif::ProgressBar>,
    spare_bytes: &Recycle<u8>,
) -> u64 {
    let block_bytes = match FROM_END_BLOCK_BYTES.load(Ordering::Relaxed) {
        0 => BLOCK_BYTES,
        n => n,
    } as u64;
    let (mut pos, mut from_end) = (end, 0u64);
    for seq in 0.. {
        if pos <= start {
            break;
        }
        let from = pos.saturating_sub(block_bytes).max(start);
        let block = match block_start(file, (start, from, pos)) {
            Err(e) => Err(e),
            Ok(None) => Ok(stop("a record longer than a block")),
            Ok(Some(at)) => {
                let mut bytes = spare_bytes.take(0);
                bytes.resize((pos - at) as usize, 0);
                file.read_exact_at(&mut bytes, at).map(|()| {
                    if let Some(bar) = progress {
                        bar.inc(pos - at);
                    }
                    pos = at;
                    from_end += line_ends(&bytes, 0, bytes.len());
                    let block = Block::new(BASE.saturating_sub(from_end), bytes);
                    match block.plain || memchr::memchr(b'"', &block.bytes).is_none() {
                        true => block,
                        false => stop("a quote"),
                    }
                })
            }
        };
        let last = !matches!(&block, Ok(b) if b.fault.is_none());
        if block_tx.send((seq, block)).is_err() || last {
            break;
        }
    }
    from_end
}

/// Where the block of the bytes `from..pos` begins: after the first line end in them (the
/// bytes before it belong to the block before), found in a few kilobytes read ahead rather
/// than the whole block moved; `start` (the first data byte) if `from` is. `None`: no line
/// end but the last byte (the block would be empty, its record longer than a block).
fn block_start(file: &File, (start, from, pos): (u64, u64, u64)) -> std::io::Result<Option<u64>> {
    if from == start {
        return Ok(Some(start));
    }
    let mut head = [0u8; 4096];
    let mut at = from;
    while at + 1 < pos {
        let n = (head.len() as u64).min(pos - 1 - at) as usize;
        file.read_exact_at(&mut head[..n], at)?;
        if let Some(i) = memchr::memchr(b'\n', &head[..n]) {
            return Ok(Some(at + i as u64 + 1));
        }
        at += n as u64;
    }
    Ok(None)
}

/// An empty block whose fault stops reading from the end.
fn stop(why: &str) -> Block {
    let mut block = Block::new(0, Vec::new());
    block.fault = Some((0, format!("not read from the end: {why}")));
    block
}

/// The reader's part: blocks' rows (from the end backwards) given ids block by block, each
/// block's events put in time order and handed out.
fn add_from_end(
    rows_rx: Receiver<(u64, Rows)>,
    ids: &mut Ids,
    spare_rows: &Recycle<Row>,
    batch: &mut Batches,
) -> Read {
    let (hand_out, spare, _) = batch;
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0u64;
    // The newest instant read so far (the first row of the block after this one).
    let mut newest = i64::MIN;
    // The newest instant's events, which may go on in the next block read (`into_time_order`).
    let mut held: Vec<Event> = Vec::new();
    for (seq, rows) in rows_rx {
        pending.insert(seq, rows);
        while let Some(mut rows) = pending.remove(&next) {
            next += 1;
            let in_order = rows.rows.windows(2).all(|w| w[0].at >= w[1].at)
                && rows.rows.last().is_none_or(|r| r.at >= newest);
            if rows.failed.is_some() || !in_order {
                return Read::FallBack;
            }
            newest = rows.rows.first().map_or(newest, |r| r.at);
            let added = ids.add(&mut rows);
            spare_rows.give(rows.rows);
            if added.is_err() {
                return Read::FallBack;
            }
            let block = std::mem::take(&mut ids.log.events);
            let mut events = spare.take(block.len() + held.len());
            into_time_order(&block, &mut held, &mut events);
            spare.give(block);
            ids.log.events = events;
            ids.log.in_time_order = true;
            hand_out(ids.take_batch(spare));
        }
    }
    ids.log.events.append(&mut held);
    ids.log.in_time_order = true;
    if !ids.log.events.is_empty() {
        hand_out(ids.take_batch(spare));
    }
    Read::Done
}

/// One block's events, `block` in file order (newest first), into `out` in time order, the
/// rows of one instant in file order; `held`, the newest instant of the blocks after it
/// (which may go on in this block's oldest rows: these come first in the file), put in its
/// place, and this block's newest instant held back in turn.
fn into_time_order(block: &[Event], held: &mut Vec<Event>, out: &mut Vec<Event>) {
    let mut end = block.len();
    while end > 0 {
        let at = block[end - 1].at;
        let start = end - block[..end].iter().rev().take_while(|e| e.at == at).count();
        if end == block.len() && held.first().is_some_and(|h| h.at < at) {
            out.append(held);
        }
        out.extend_from_slice(&block[start..end]);
        if end == block.len() {
            out.append(held);
        }
        end = start;
    }
    out.append(held);
    let Some(last) = out.last().map(|e| e.at) else {
        return;
    };
    let newest = out.iter().rev().take_while(|e| e.at == last).count();
    held.extend(out.drain(out.len() - newest..));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    #[test]
    fn blocks_newest_first_come_out_in_time_order_an_instant_whole_and_in_file_order() {
        // The rows of a file newest first, (instant, line): instant 5 (lines 2-3), 4 (4-6),
        // 3 (7), 2 (8-9); read from the end in blocks cut [2..=4] [5..=7] [8..=9], so that
        // instant 4 straddles two blocks. Time order: lines 8 9 7 4 5 6 2 3.
        let at = [5, 5, 4, 4, 4, 3, 2, 2];
        let one = Script::table(&[("08:00", "a", "in", "")]).events()[0];
        let events: Vec<Event> = (at.iter().enumerate())
            .map(|(k, &t)| Event {
                at: t,
                line: k as u32 + 2,
                ..one
            })
            .collect();
        let (mut held, mut got) = (Vec::new(), Vec::new());
        for block in [&events[6..8], &events[3..6], &events[0..3]] {
            let mut out = Vec::new();
            into_time_order(block, &mut held, &mut out);
            got.extend(out.iter().map(|e| e.line));
        }
        got.extend(held.iter().map(|e| e.line));
        assert_eq!(got, [8, 9, 7, 4, 5, 6, 2, 3]);
    }
}
