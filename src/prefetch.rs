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

/// Asks for every cache line of `value` (a value larger than a line, which may start
/// anywhere in one).
#[inline]
pub fn prefetch_all<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let p: *const u8 = (value as *const T).cast();
        let size = std::mem::size_of::<T>();
        let mut offset = 0;
        while offset < size {
            // SAFETY: as in `prefetch`; the address is inside `value`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.wrapping_add(offset).cast(),
                )
            };
            offset += 64;
        }
        // The last line, when `value` does not start on a line.
        if size > 0 {
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.wrapping_add(size - 1).cast(),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
