//! Large arrays read at random (a model's cells and months, the engines' stream states) put
//! on 2 MB pages where the system allows it (Linux, transparent huge pages `madvise` or
//! `always`): with 4 KB pages each random read of an array of tens of MB misses the TLB as
//! well as the cache, and the page walk costs about as much again (issue 24: a log of many
//! accounts).

/// Vectors from this size are asked for on huge pages.
const HUGE_FROM: usize = 4 << 20;

const HUGE_PAGE: usize = 2 << 20;

/// How much a vector grows at a time; more than `Vec`'s 2 since each move writes the whole
/// vector into fresh pages (the pages never written are only address space).
const GROWTH: usize = 4;

/// Makes room in `v` for `len` values in all, as `Vec::reserve` does (at least doubling);
/// a vector of at least `HUGE_FROM` bytes is moved into a fresh allocation asked for on huge
/// pages before any of it is written.
pub fn make_room<T>(v: &mut Vec<T>, len: usize) {
    if len <= v.capacity() {
        return;
    }
    let capacity = len.max(GROWTH * v.capacity());
    if (2 * len).saturating_mul(std::mem::size_of::<T>()) < HUGE_FROM {
        v.reserve(len - v.len());
        return;
    }
    // Moved, not grown in place (`realloc` would keep the pages written so far at 4 KB):
    // a log's streams and cells mostly appear early, so most of the array would stay small
    // pages (measured: the notifications log's billing 11% slower that way).
    let mut fresh = Vec::with_capacity(capacity);
    advise(&fresh);
    fresh.append(v);
    *v = fresh;
}

/// `make_room` for an array that grows as a log is read and is written as it grows (a
/// model's cells and account-months): once on huge pages, it is moved into an allocation of
/// `AHEAD` times its room (at most `AHEAD_MAX` bytes more), so that it rarely moves again.
/// Room never written is only address space; each move wrote the whole array into fresh
/// pages, which this machine clears slowly (issue 24: the cells' moves were 1.4-1.8% of
/// accounts_50k's samples). Where that much address space is refused, it grows as
/// `make_room`. (The engines' stream states too, since issue 24's twelfth pass: fewer fresh
/// pages on every shape.)
pub fn make_room_ahead<T>(v: &mut Vec<T>, len: usize) {
    if len <= v.capacity() {
        return;
    }
    let size = std::mem::size_of::<T>().max(1);
    if (2 * len).saturating_mul(size) < HUGE_FROM {
        return make_room(v, len);
    }
    let more =
        (AHEAD.saturating_mul(v.capacity())).min(v.capacity().saturating_add(AHEAD_MAX / size));
    let mut fresh = Vec::new();
    if fresh.try_reserve_exact(len.max(more)).is_err() {
        return make_room(v, len);
    }
    advise(&fresh);
    fresh.append(v);
    *v = fresh;
}

/// How much `make_room_ahead` grows an array on huge pages at a time, and the most address
/// space it adds at a time.
const AHEAD: usize = 64;
const AHEAD_MAX: usize = 1 << 30;

/// Asks for the whole 2 MB pages of `v`'s allocation to be huge pages (a hint: ignored where
/// the system has none).
fn advise<T>(v: &Vec<T>) {
    // SAFETY: the range is `v`'s allocation.
    unsafe { advise_range(v.as_ptr() as usize, v.capacity() * std::mem::size_of::<T>()) }
}

/// `advise` for the `len` bytes from address `start` (the number table's shards,
/// `input::numbers`).
///
/// # Safety
/// The range is memory the caller owns.
#[cfg(target_os = "linux")]
pub unsafe fn advise_range(start: usize, len: usize) {
    let end = start + len;
    let first = start.next_multiple_of(HUGE_PAGE);
    let last = end & !(HUGE_PAGE - 1);
    if last > first {
        // SAFETY: the range lies inside the caller's memory; `MADV_HUGEPAGE` changes how its
        // pages are backed, never their contents, and its failure changes nothing.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub unsafe fn advise_range(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_whether_or_not_the_vector_moves_to_huge_pages() {
        for n in [10usize, 1 << 20] {
            let mut v: Vec<u64> = (0..n as u64).collect();
            make_room(&mut v, 2 * n);
            assert!(v.capacity() >= 2 * n);
            assert!(v.iter().copied().eq(0..n as u64), "{n}");
            let cap = v.capacity();
            make_room(&mut v, 2 * n);
            assert_eq!(v.capacity(), cap, "room enough: no move");
        }
    }

    /// An array on huge pages grows to 64 times its room at a move (`make_room`: 4 times),
    /// its values kept across the moves.
    #[test]
    fn an_array_made_room_ahead_for_moves_rarely_and_keeps_its_values() {
        let mut v: Vec<u64> = Vec::new();
        let mut moves = 0;
        let mut at = v.as_ptr();
        for n in 0..(1u64 << 20) {
            make_room_ahead(&mut v, n as usize + 1);
            v.push(n);
            if v.as_ptr() != at {
                (moves, at) = (moves + 1, v.as_ptr());
            }
        }
        // 1M values of 8 bytes: doubling up to 256K values (2 MB, as `Vec` grows a small
        // one: at most 17 moves from 4), then one move to 64 x 256K (4 MB asked for; 2 MB of
        // room), which holds the rest
        assert!(v.iter().copied().eq(0..1u64 << 20));
        assert!(moves <= 18, "{moves} moves");
        assert!(v.capacity() >= 64 * (256 << 10), "{}", v.capacity());
        // a small one grows as `make_room` does
        let mut small: Vec<u64> = vec![1, 2];
        make_room_ahead(&mut small, 3);
        assert!(small.capacity() < 64);
    }
}
