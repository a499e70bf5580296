//! Buffers handed back for reuse. Each block's bytes and rows are written once and dropped
//! on another thread; a fresh buffer for every block costs a page fault per 4 KB (and the
//! kernel zeroing the page), some 40,000 faults for ten million rows.

use std::sync::Mutex;

/// A pool of emptied vectors, shared by the threads that fill and drain them.
pub struct Recycle<T> {
    spare: Mutex<Vec<Vec<T>>>,
}

/// Spare buffers kept at most: more than the blocks in flight at any time.
const KEEP: usize = 16;

impl<T> Default for Recycle<T> {
    fn default() -> Self {
        Recycle {
            spare: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Recycle<T> {
    /// An empty vector with room for at least `capacity` items: a spare one if there is one.
    pub fn take(&self, capacity: usize) -> Vec<T> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut v = spare.unwrap_or_default();
        v.reserve(capacity);
        v
    }

    /// Hands `v` back, emptied, for a later `take`.
    pub fn give(&self, mut v: Vec<T>) {
        v.clear();
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < KEEP {
            spare.push(v);
        }
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
}
