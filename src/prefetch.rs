//! A cache hint: ask for memory some steps before it is read, so that the misses of a loop
//! over scattered data overlap instead of coming one after the other.

/// Asks for the cache line holding `value`.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let p: *const T = value;
        // SAFETY: a prefetch reads nothing the program can see and cannot fault; the pointer
        // is to a live value anyway.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
