//! Fresh memory faulted in before it is first written, by a thread that runs only when a core
//! would otherwise be idle (Linux `SCHED_IDLE`). A fresh page costs the thread that first
//! writes it: on this machine 0.33 ms a MB in 4 KB pages, and up to 2.3 ms a MB in 2 MB pages
//! the host must back again. Written by the thread that gives ids (the one the parsing threads
//! wait on), that work stalled the reading while the cores idled some 15% of it (issue 24). A
//! page the pager has not reached yet is faulted in by its writer as before: the pager moves
//! work, it never changes a result.

/// How much is faulted in at a time: the lock on the process's map is held that long, and
/// a writer's fault waits behind it.
#[cfg(target_os = "linux")]
const STEP: usize = 2 << 20;

/// Asks for the `len` bytes from address `start` to be faulted in as written, soon, on the
/// pager's thread (started at the first ask). A hint: nothing happens where the system has no
/// such thread or call.
pub fn ahead(start: usize, len: usize) {
    #[cfg(target_os = "linux")]
    imp::ahead(start, len);
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len);
}

#[cfg(target_os = "linux")]
mod imp {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::OnceLock;

    static PAGER: OnceLock<Option<Sender<(usize, usize)>>> = OnceLock::new();

    pub fn ahead(start: usize, len: usize) {
        if let Some(tx) = PAGER.get_or_init(start_pager) {
            // The pager never stops: a send cannot fail but at the process's exit.
            let _ = tx.send((start, len));
        }
    }

    /// The pager's thread, at idle priority; None if no thread can be made (the asks are then
    /// dropped: each page is faulted in by its writer).
    fn start_pager() -> Option<Sender<(usize, usize)>> {
        let (tx, rx) = channel::<(usize, usize)>();
        std::thread::Builder::new()
            .name("pager".into())
            .spawn(move || {
                idle_priority();
                for (start, len) in rx {
                    populate(start, len);
                }
            })
            .ok()?;
        Some(tx)
    }

    /// This thread runs only when no other thread wants its core.
    fn idle_priority() {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: sets this thread's own policy; a failure leaves it at the usual one.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    }

    /// Faults in `start..start + len` as written, `STEP` bytes at a time.
    fn populate(start: usize, len: usize) {
        let page = 4096;
        let (mut at, end) = (start & !(page - 1), start.saturating_add(len));
        while at < end {
            let n = (end - at).min(super::STEP);
            // SAFETY: populating changes no memory's contents: a page present stays as it is,
            // an absent one of an anonymous map comes zeroed as its first write would find it
            // (simcost maps no file). The range may no longer be its asker's (freed since):
            // unmapped, the call fails (and the ask is dropped); mapped again, its pages are
            // faulted in early, their contents the same.
            let failed = unsafe { libc::madvise(at as *mut _, n, libc::MADV_POPULATE_WRITE) };
            if failed != 0 {
                return;
            }
            at += n;
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// Whether each 4 KB page of `len` bytes from `start` (page-aligned) is resident.
    fn resident(start: usize, len: usize) -> Vec<bool> {
        let mut v = vec![0u8; len.div_ceil(4096)];
        // SAFETY: the range is a map owned by the test; `v` has a byte per page.
        let r = unsafe { libc::mincore(start as *mut _, len, v.as_mut_ptr()) };
        assert_eq!(r, 0);
        v.iter().map(|b| b & 1 == 1).collect()
    }

    /// A fresh map, untouched: none of its pages resident. Asked ahead, its pages come in
    /// on the pager's thread (waited for: the pager runs only when a core idles), zeros
    /// still; a range freed before the pager reaches it is dropped without harm.
    #[test]
    fn pages_asked_ahead_are_faulted_in_as_zeros_by_the_pager() {
        let len = 64 * 4096;
        // SAFETY: a fresh private anonymous map, checked, unmapped at the end.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        let start = p as usize;
        assert!(
            resident(start, len).iter().all(|r| !r),
            "fresh: not resident"
        );
        super::ahead(start + 4096, len - 2 * 4096);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !resident(start, len)[1..63].iter().all(|r| *r) {
            assert!(std::time::Instant::now() < deadline, "the pager never came");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let pages = resident(start, len);
        assert!(!pages[0] && !pages[63], "only the range asked for");
        // SAFETY: the map made above, `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) };
        assert!(bytes.iter().all(|b| *b == 0), "populating writes nothing");
        // SAFETY: unmapped once; the pager may still be asked for it: harmless.
        unsafe { libc::munmap(p, len) };
        super::ahead(start, len);
    }
}
