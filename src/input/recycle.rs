//! Buffers handed back for reuse. Each block's bytes and rows are written once and dropped
//! on another thread; a fresh buffer for every block costs a page fault per 4 KB (and the
//! kernel zeroing the page), some 40,000 faults for ten million rows.

use std::sync::Mutex;

/// A pool of emptied vectors, shared by the threads that fill and drain them.
pub struct Recycle<T> {
    /// The spare vectors, and whether the pool is closed (`close`): none kept any more.
    spare: Mutex<(Vec<Vec<T>>, bool)>,
}

/// Spare buffers kept at most: more than the blocks in flight at any time.
const KEEP: usize = 16;

impl<T> Default for Recycle<T> {
    fn default() -> Self {
        Recycle {
            spare: Mutex::new((Vec::new(), false)),
        }
    }
}

impl<T> Recycle<T> {
    /// An empty vector with room for at least `capacity` items: a spare one if there is one.
    pub fn take(&self, capacity: usize) -> Vec<T> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).0.pop();
        let mut v = spare.unwrap_or_default();
        v.reserve(capacity);
        v
    }

    /// Hands `v` back, emptied, for a later `take`; once the pool is closed, `v` is freed
    /// (by the thread done with it, not one that waits on it).
    pub fn give(&self, mut v: Vec<T>) {
        v.clear();
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.0.len() < KEEP && !spare.1 {
            spare.0.push(v);
        }
    }

    /// Frees the spare vectors now and keeps none from here on: called by the last thread to
    /// take one, so that megabytes are freed while other threads still work, not when the
    /// pool is dropped by the thread that waited for them all (a millisecond of unmapping with
    /// a core idle, between reading and billing a log out of time order).
    pub fn close(&self) {
        let spare = {
            let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
            spare.1 = true;
            std::mem::take(&mut spare.0)
        };
        // Freed outside the lock: `give` on another thread does not wait for it.
        drop(spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_empty() {
        let pool = Recycle::default();
        let mut v: Vec<u32> = pool.take(100);
        assert!(v.is_empty() && v.capacity() >= 100);
        v.extend(0..100);
        let at = v.as_ptr();
        pool.give(v);
        let again = pool.take(50);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), at, "the same allocation");
        // Nothing spare: a new one.
        assert!(pool.take(10).capacity() >= 10);
    }

    #[test]
    fn a_closed_pool_keeps_nothing() {
        let pool = Recycle::default();
        pool.give(Vec::<u32>::with_capacity(100));
        pool.give(Vec::with_capacity(200));
        pool.close();
        // Both kept vectors freed: a take makes a new one, with no more room than asked.
        let v = pool.take(10);
        assert!(v.capacity() >= 10 && v.capacity() < 100);
        // Given back after the close, a vector is not kept either.
        pool.give(Vec::with_capacity(300));
        assert!(pool.take(0).capacity() == 0);
    }
}
