//! The contact id of each phone number, in a table whose slot for a number is known before it
//! is looked up. With a million contacts nearly every lookup misses the cache; the reader asks
//! for the slots of the rows a little ahead (`prefetch`), so the misses overlap instead of
//! coming one after another. Each contact's streams are kept apart, by contact id
//! (`ContactStreams`): a slot is 16 bytes, four to a cache line.

/// What the table keeps per number: its contact id and its inbound rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    pub contact: u32,
    /// Inbound rows from the number (the mapping guard: `Log::busiest_contact`), in what
    /// would be the slot's padding.
    pub inbound: u32,
}

/// A contact's streams in its first two accounts, whichever they are: (account, stream) twice,
/// so that finding the stream of a row takes no hash lookup of its own. Most contacts write
/// to one or two accounts; a log of many accounts has ids past any fixed few (before, the
/// streams of accounts 0 to 3 were kept here, and every row of a log of 50,000 accounts
/// looked its stream up in a table of a million, a cache miss on the thread giving ids).
/// 16 bytes, aligned: one never straddles two cache lines (`ContactStreams`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct AccountStreams([u32; 4]);

impl AccountStreams {
    /// No stream yet (`u32::MAX` is never an account or a stream id: there are fewer events
    /// than that).
    pub const NONE: AccountStreams = AccountStreams([u32::MAX; 4]);

    /// The contact's stream in `account`, which becomes `new` if it has none yet; `None` for
    /// an account past the two kept here.
    #[inline]
    pub fn get_or_make(&mut self, account: u32, new: u32) -> Option<u32> {
        let [a0, s0, a1, s1] = &mut self.0;
        if *a0 == account {
            return Some(*s0);
        }
        if *a1 == account {
            return Some(*s1);
        }
        for (a, s) in [(a0, s0), (a1, s1)] {
            if *a == u32::MAX {
                (*a, *s) = (account, new);
                return Some(new);
            }
        }
        None
    }
}

/// Each contact's streams by contact id, numbers and other contacts alike (ids are given to
/// both in order of first appearance): 16 bytes a contact, on 2 MB pages once large. Apart
/// from the number table so that its slots are half the size; the reader asks for a
/// contact's streams once its slot has given the contact, some rows ahead.
#[derive(Default)]
pub struct ContactStreams(Vec<AccountStreams>);

impl ContactStreams {
    /// Streams (none yet) for the next contact id.
    #[inline]
    pub fn push(&mut self) {
        // Moved rarely and into huge pages: a million contacts' streams are 16 MB.
        let len = self.0.len() + 1;
        crate::huge_pages::make_room_ahead(&mut self.0, len);
        self.0.push(AccountStreams::NONE);
    }

    /// The streams of `contact`, an id pushed before.
    #[inline]
    pub fn get_mut(&mut self, contact: u32) -> &mut AccountStreams {
        &mut self.0[contact as usize]
    }

    /// Asks the CPU to start loading the streams of `contact` (a hint only).
    #[inline]
    pub fn prefetch(&self, contact: u32) {
        if let Some(s) = self.0.get(contact as usize) {
            crate::prefetch::prefetch(s);
        }
    }
}

/// One slot: 16 bytes, so that a slot never straddles two cache lines (it was 32, with the
/// contact's streams: a million contacts' table took 96 MB of fresh pages, now half). All
/// zeros is an empty slot (`Slots`).
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Slot {
    /// The number's key plus one (`key`); `EMPTY` in an empty slot.
    number: u64,
    known: Known,
}

/// An empty slot's `number`: never a key plus one (numbers have at most 17 digits).
const EMPTY: u64 = 0;

impl Slot {
    /// All zeros, as a fresh page has it.
    const EMPTY: Slot = Slot {
        number: EMPTY,
        known: Known {
            contact: 0,
            inbound: 0,
        },
    };
}

/// What a slot keeps for `number`.
fn key(number: u64) -> u64 {
    number + 1
}

/// Log2 of the number of shards: eight, so that a shard of a million contacts' table is tens of
/// MB, on 2 MB pages (`huge_pages`). With 64 shards of 1-2 MB none was: every slot's read
/// missed the TLB too, and the reader's prefetches waited on page walks (the notifications
/// log, a million contacts in no order: 0.2 CPU-s, issue 24).
const SHARD_BITS: u32 = 3;

/// The contact id of each phone number: open addressing with linear probing, in shards by the
/// top bits of the hash. A shard doubles on its own, when 0.375 to 0.59 full (by shard,
/// so that the shards, which fill alike, do not all grow at once): growing moves an eighth
/// of the table at a time (from 2 MB a shard, within its own map: `Slots`). One table doubling at a million numbers stalled the reader for some
/// 40 ms, and with it the threads waiting on its rows.
pub struct NumberTable {
    /// An array, not a `Vec`: a shard's index is the hash's top bits, always in range, so
    /// reading it takes no bounds check (three a row: ask, find, enter).
    shards: [Shard; 1 << SHARD_BITS],
}

struct Shard {
    slots: Slots,
    /// 64 minus log2 of the slot count: the hash's bits below the shard's pick the slot.
    shift: u32,
    len: usize,
    /// The shard grows past `fill`/256 of its slots (`FILL_FROM` and up, by shard); beside
    /// `shift` (the shard's fields in 48 bytes).
    fill: u32,
    limit: usize,
    /// Halfway to `limit`: the pager is asked to fault in the slots of the next doubling.
    ahead: usize,
}

impl Default for NumberTable {
    fn default() -> Self {
        NumberTable {
            shards: std::array::from_fn(|i| {
                Shard::with_slots(16, FILL_FROM + i * (64 >> SHARD_BITS))
            }),
        }
    }
}

/// The first shard's fill limit in 256ths (the last's is 56 more): 96 to 152, 0.375 to 0.59
/// full (was a quarter to a half). Linear probing with this hash stays short there (a mean of
/// 1.11 slots read per number found, a million numbers, `probe_lengths`), and a million
/// contacts' table is smaller: peak memory 4-31 MB lower on every shape, the fresh pages
/// cleared fewer. At 120 to 176 the searches for new numbers (longer near 0.7) cost the newest
/// first log 2-7% CPU in three sittings (docs/performance.md, tenth pass).
const FILL_FROM: usize = 96;

/// Slots in all from which `NumberTable::busiest` reads the table on two threads (1M slots:
/// 16 MB; a thread costs ~50 us, the scan of 1M slots ~1 ms).
const BUSIEST_APART: usize = 1 << 20;

/// The number of `shards` with the most inbound rows, then the lowest contact id.
fn busiest_of(shards: &[Shard]) -> Option<(u32, u32)> {
    let slots = shards.iter().flat_map(|s| s.slots.iter());
    (slots.filter(|s| s.number != EMPTY && s.known.inbound > 0))
        .map(|s| (s.known.contact, s.known.inbound))
        .max_by_key(|&(contact, n)| (n, std::cmp::Reverse(contact)))
}

/// Fibonacci hashing: the multiply spreads the low digits into the top bits.
fn hash(number: u64) -> u64 {
    number.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A number's hash, made once when its slot is asked for (`NumberTable::prefetch`) and
/// given back when the number is looked up some rows later (`contact_of`).
#[derive(Clone, Copy, Default)]
pub struct Hashed(u64);

impl NumberTable {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len).sum()
    }

    fn shard(&self, h: u64) -> usize {
        (h >> (64 - SHARD_BITS)) as usize
    }

    /// The number with the most inbound rows (its contact id and count), if any has one. A
    /// large table is read by two threads, half the shards each: the scan is serial work
    /// between reading and billing, with the other core idle (issue 24: 5.5 ms on
    /// by_contact's 1M numbers, 9 ms on notifications'). The most rows, then the lowest
    /// contact: a total order, so the halves' answers combine exactly.
    pub fn busiest(&self) -> Option<(u32, u32)> {
        self.busiest_apart_from(BUSIEST_APART)
    }

    /// `busiest`, read on two threads from `apart` slots in all.
    fn busiest_apart_from(&self, apart: usize) -> Option<(u32, u32)> {
        let key = |&(contact, n): &(u32, u32)| (n, std::cmp::Reverse(contact));
        let slots: usize = self.shards.iter().map(|s| s.slots.len()).sum();
        if slots < apart {
            return busiest_of(&self.shards);
        }
        let (first, second) = self.shards.split_at(self.shards.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| busiest_of(second));
            let mine = busiest_of(first);
            // The scan cannot panic; were the thread's lost, the reading would be re-raised.
            let theirs = other
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            mine.into_iter().chain(theirs).max_by_key(key)
        })
    }

    /// Asks the CPU to start loading `number`'s slot and the next (a hint only: it changes no
    /// result). The next is in the same cache line three times in four, and otherwise where
    /// the search goes on when the home slot is another number's: read unasked, that line was
    /// 46% of `Shard::entry`'s samples on the notifications log (with 32-byte slots; a branch
    /// to ask only past a line's end cost more than the second ask: mispredicted). `hashed`:
    /// the number's hash (`hashed`), kept for `contact_of` (hashed once).
    #[inline]
    pub fn prefetch(&self, hashed: Hashed) {
        let h = hashed.0;
        let shard = &self.shards[self.shard(h)];
        let home = shard.home(h);
        crate::prefetch::prefetch(shard.slots.at(home));
        crate::prefetch::prefetch(shard.slots.at((home + 1) & (shard.slots.len() - 1)));
    }

    /// `number`'s hash, as `prefetch` gives it.
    #[inline]
    pub fn hashed(number: u64) -> Hashed {
        Hashed(hash(number))
    }

    /// The entry of `number`, made with `new` if the number is not in the table yet; true
    /// when it was made.
    pub fn entry(&mut self, number: u64, new: Known) -> (&mut Known, bool) {
        debug_assert_ne!(key(number), EMPTY);
        let h = hash(number);
        let i = self.shard(h);
        self.shards[i].entry(h, key(number), new)
    }

    /// Counts `rows` more inbound rows of `number`, which the table has (else nothing).
    pub fn count_inbound(&mut self, number: u64, rows: u32) {
        let h = hash(number);
        let i = self.shard(h);
        if let Some(known) = self.shards[i].find(h, key(number)) {
            known.inbound = known.inbound.saturating_add(rows);
        }
    }

    /// The contact of `number` if the table has it, its inbound rows counted one more if
    /// `inbound`; nothing made. (The reader finds a row's contact some rows ahead, its slot
    /// asked for by then, and asks for the contact's streams with it.) `hashed`: the
    /// number's hash (`prefetch`; another number's can only make it not found).
    #[inline]
    pub fn contact_of(&mut self, number: u64, hashed: Hashed, inbound: bool) -> Option<u32> {
        let h = hashed.0;
        // The reader passes each row's hash some rows on: a slip there would only lose the
        // contacts found ahead, silently, so the tests check it.
        debug_assert_eq!(h, hash(number), "the hash of another number");
        let i = self.shard(h);
        self.shards[i].find(h, key(number)).map(|known| {
            known.inbound = known.inbound.saturating_add(inbound as u32);
            known.contact
        })
    }
}

impl Shard {
    fn with_slots(n: usize, fill: usize) -> Shard {
        Shard::of(Slots::zeroed(n), fill)
    }

    /// An empty shard of `slots`, growing past `fill`/256 of them.
    fn of(slots: Slots, fill: usize) -> Shard {
        let n = slots.len();
        Shard {
            slots,
            shift: 64 - n.trailing_zeros(),
            len: 0,
            fill: fill as u32,
            limit: n * fill / 256,
            ahead: n * fill / 512,
        }
    }

    /// The home slot of hash `h`: the bits below the shard's.
    fn home(&self, h: u64) -> usize {
        ((h << SHARD_BITS) >> self.shift) as usize
    }

    /// The entry of the number whose key is `number` (`key`) and hash `h`.
    fn entry(&mut self, h: u64, number: u64, new: Known) -> (&mut Known, bool) {
        if self.len >= self.limit {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let n = self.slots[i].number;
            if n == number {
                return (&mut self.slots[i].known, false);
            }
            if n == EMPTY {
                self.len += 1;
                if self.len == self.ahead {
                    self.slots.ask_ahead();
                }
                self.slots[i] = Slot { number, known: new };
                return (&mut self.slots[i].known, true);
            }
            i = (i + 1) & mask;
        }
    }

    /// The entry of the number whose key is `number` and hash `h`, if the shard has it.
    #[inline]
    fn find(&mut self, h: u64, number: u64) -> Option<&mut Known> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let n = self.slots.at(i).number;
            if n == number {
                return Some(&mut self.slots.at_mut(i).known);
            }
            if n == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Doubles the slots: in place where the shard's map has room (`Slots::extend`: only the
    /// new half is fresh memory), else into a new map.
    fn grow(&mut self) {
        let old = self.slots.len();
        if self.slots.extend(2 * old) {
            self.shift -= 1;
            self.limit = 2 * old * self.fill as usize / 256;
            self.ahead = self.limit / 2;
            return self.rehash_in_place(old);
        }
        let mut bigger = Shard::with_slots(2 * old, self.fill as usize);
        for s in self.slots.iter() {
            if s.number != EMPTY {
                bigger.entry(hash(s.number - 1), s.number, s.known);
            }
        }
        *self = bigger;
    }

    /// Moves the entries of the first `old` slots, the shard's before it doubled, to their
    /// places in the doubled shard. A home in twice the slots is at least the old home
    /// doubled, so an entry's new place is at or past its old one unless it was far from its
    /// home: taken from the last slot down, each goes to the first free slot from its new
    /// home, a search that meets only slots already done (or the new half). One whose home
    /// is below its old slot, or whose search would wrap past the end into the slots not
    /// yet done, is set aside and entered once the rest are placed (a few at most: those far
    /// from home near the start, and the search wrapped at the end).
    fn rehash_in_place(&mut self, old: usize) {
        let mut aside = Vec::new();
        for i in (0..old).rev() {
            let s = self.slots[i];
            if s.number == EMPTY {
                continue;
            }
            self.slots[i] = Slot::EMPTY;
            let home = self.home(hash(s.number - 1));
            let free = (home >= i)
                .then(|| (home..self.slots.len()).find(|&j| self.slots[j].number == EMPTY))
                .flatten();
            match free {
                Some(j) => self.slots[j] = s,
                None => aside.push(s),
            }
        }
        let mask = self.slots.len() - 1;
        for s in aside {
            let mut j = self.home(hash(s.number - 1));
            while self.slots[j].number != EMPTY {
                j = (j + 1) & mask;
            }
            self.slots[j] = s;
        }
    }
}

/// A shard's slots on pages the system hands out zeroed (an anonymous map), all empty: a new
/// shard is not written before use. (Filled with empty slots as a `Vec`, each new shard was
/// written whole once more after the system had cleared its pages: on the notifications log,
/// a million contacts, the fill was most of the time spent growing, issue 24.) From 2 MB, the
/// map starts on a 2 MB boundary, is asked for on huge pages, and has room (address space,
/// none of it written) for the shard to double in place `ROOM_DOUBLINGS` times
/// (`Slots::extend`): each new shard was fresh memory the system cleared, twice the final
/// table's in all (the notifications log: 40 of its 76 fresh 2 MB pages).
struct Slots {
    slots: std::ptr::NonNull<Slot>,
    len: usize,
    /// Slots the map has room for (`len` and up): the map is `room` slots from `slots`.
    room: usize,
}

/// 2 MB: the size of a huge page, from which a shard's map has room to double in place.
const HUGE_PAGE: usize = 2 << 20;

/// How many times a shard of 2 MB or more can double in place (`Slots`): 64 times its
/// slots, at most `ROOM_MAX` bytes more, in address space only (8 shards of 2 MB: 1 GB).
const ROOM_DOUBLINGS: u32 = 6;
const ROOM_MAX: usize = 1 << 30;

impl Slots {
    /// `len` empty slots, with room to double in place from 2 MB (`Slots`).
    fn zeroed(len: usize) -> Slots {
        let bytes = len * std::mem::size_of::<Slot>();
        let room = match bytes >= HUGE_PAGE {
            true => (len << ROOM_DOUBLINGS).min(len + ROOM_MAX / std::mem::size_of::<Slot>()),
            false => len,
        };
        Self::with_room(len, room)
    }

    /// `len` empty slots in a map with room for `room` (where the system gives that much
    /// address space; else for `len`).
    fn with_room(len: usize, room: usize) -> Slots {
        let array = |n| std::alloc::Layout::array::<Slot>(n).expect("a shard fits in memory");
        let bytes = array(len).size();
        let reserved = (room > len)
            .then(|| map_with_room(array(room).size(), bytes))
            .flatten();
        let (slots, room) = match reserved {
            Some(map) => (map, room),
            None => (zeroed_pages(array(len)), len),
        };
        Slots {
            slots: slots.cast(),
            len,
            room,
        }
    }

    /// Makes the slots `len` (more than now) in place if the map has room, the new ones empty
    /// (never written: zeros); false if not.
    fn extend(&mut self, len: usize) -> bool {
        if len > self.room {
            return false;
        }
        let size = std::mem::size_of::<Slot>();
        // SAFETY: slots `self.len..len` lie in the map (`room`), owned by `self`.
        unsafe {
            let from = self.slots.as_ptr().add(self.len).cast();
            populate(from, (len - self.len) * size);
        }
        self.len = len;
        true
    }

    /// Asks the pager (`crate::pager`) to fault in the slots of the next doubling in place,
    /// if the map has room for it: then `extend` finds them there, instead of the thread
    /// giving ids faulting them in (at 1M numbers, 48 MB in 2 MB pages: 5% of the reading's
    /// samples, issue 24).
    fn ask_ahead(&self) {
        if 2 * self.len <= self.room {
            let size = std::mem::size_of::<Slot>();
            let next = self.slots.as_ptr() as usize + self.len * size;
            crate::pager::ahead(next, self.len * size);
        }
    }

    /// Slot `i`, which is below the slot count (a home slot, `Shard::home`, or one masked
    /// with the count less one): read with no bounds check, as the slots asked for and
    /// found are once a row.
    #[inline]
    fn at(&self, i: usize) -> &Slot {
        debug_assert!(i < self.len);
        // SAFETY: `i < len` (above), and `slots` holds `len` slots (`deref`).
        unsafe { &*self.slots.as_ptr().add(i) }
    }

    /// `at`, to write.
    #[inline]
    fn at_mut(&mut self, i: usize) -> &mut Slot {
        debug_assert!(i < self.len);
        // SAFETY: as in `at`; `&mut self` is the only way to the slots (`deref_mut`).
        unsafe { &mut *self.slots.as_ptr().add(i) }
    }
}
impl std::ops::Deref for Slots {
    type Target = [Slot];
    fn deref(&self) -> &[Slot] {
        // SAFETY: `slots` holds `len` slots, zeroed when made (a zeroed `Slot` is a valid,
        // empty one: plain integers), owned by `self`.
        unsafe { std::slice::from_raw_parts(self.slots.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [Slot] {
        // SAFETY: as in `deref`; `&mut self` is the only way to them.
        unsafe { std::slice::from_raw_parts_mut(self.slots.as_ptr(), self.len) }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        let size = self.room * std::mem::size_of::<Slot>();
        // SAFETY: the map of `room` slots made by `zeroed_pages` or `map_with_room`, freed
        // once.
        unsafe { free_pages(self.slots.cast(), size) }
    }
}

// SAFETY: `Slots` owns its slots as a `Vec<Slot>` would.
unsafe impl Send for Slots {}
unsafe impl Sync for Slots {}

/// Zeroed memory for `layout`: an anonymous map (page-aligned), which the system clears as
/// it gives each page, with no write of ours; its whole 2 MB pages asked for as huge pages,
/// every page given at once (`populate`).
#[cfg(unix)]
fn zeroed_pages(layout: std::alloc::Layout) -> std::ptr::NonNull<u8> {
    let size = layout.size().max(1);
    map_from(size, size, 1).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

/// A map of `room` bytes from a 2 MB boundary, untouched but for its first `bytes`, asked
/// for on huge pages. None if the system refuses that much address space.
#[cfg(unix)]
fn map_with_room(room: usize, bytes: usize) -> Option<std::ptr::NonNull<u8>> {
    map_from(room, bytes, HUGE_PAGE)
}

/// A map of `room` bytes from a multiple of `align` (a power of two: mapped `align` more,
/// then cut), its whole 2 MB pages asked for as huge pages, its first `bytes` faulted in as
/// written (`populate`), the rest untouched (address space only). None if refused.
#[cfg(unix)]
fn map_from(room: usize, bytes: usize, align: usize) -> Option<std::ptr::NonNull<u8>> {
    let size = room.checked_add(if align > 1 { align } else { 0 })?;
    let reserve = if room > bytes { libc::MAP_NORESERVE } else { 0 };
    // SAFETY: a fresh private anonymous map, no file; checked for failure below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | reserve,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let start = (p as usize).next_multiple_of(align);
    let (head, tail) = (start - p as usize, size - (start - p as usize) - room);
    // SAFETY: the head and tail cut off and `start..start + room` lie in the map of `size`
    // bytes at `p`, not yet touched; unmapping a part of a private map leaves the rest.
    unsafe {
        if head > 0 {
            libc::munmap(p, head);
        }
        if tail > 0 {
            libc::munmap((start + room) as *mut libc::c_void, tail);
        }
        crate::huge_pages::advise_range(start, room);
        populate(start as *mut libc::c_void, bytes);
    }
    std::ptr::NonNull::new(start as *mut u8)
}

#[cfg(not(unix))]
fn map_with_room(_room: usize, _bytes: usize) -> Option<std::ptr::NonNull<u8>> {
    None
}

/// Faults in the `size` bytes at `p` as written, now. Every page of a shard is written soon
/// (the numbers spread over it by the hash), but a search reads a slot before the first
/// write: left to faults, each page was first mapped to the zero page, then faulted again on
/// the write, and the swap flushed the other core's TLB by an interrupt (10M rows: some 4,000
/// such flushes; issue 24). A hint: a system without it (before Linux 5.14) refuses it and
/// the pages come as before.
///
/// # Safety
/// `p` is a map of `size` bytes owned by the caller.
#[cfg(target_os = "linux")]
unsafe fn populate(p: *mut std::ffi::c_void, size: usize) {
    // SAFETY: the caller's map; populating changes no contents (zeros stay zeros).
    unsafe { libc::madvise(p, size, libc::MADV_POPULATE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
unsafe fn populate(_p: *mut std::ffi::c_void, _size: usize) {}

/// Frees the map of `size` bytes at `p` that `zeroed_pages` (for a layout of that size) or
/// `map_with_room` gave.
///
/// # Safety
/// `p` came from one of them with this size and is not used after.
#[cfg(unix)]
unsafe fn free_pages(p: std::ptr::NonNull<u8>, size: usize) {
    // SAFETY: the caller's promise: `p` is a map of this size.
    unsafe { libc::munmap(p.as_ptr().cast(), size.max(1)) };
}

#[cfg(not(unix))]
fn zeroed_pages(layout: std::alloc::Layout) -> std::ptr::NonNull<u8> {
    // SAFETY: a `Slot` array's layout has a non-zero size (a shard has at least 16 slots).
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    std::ptr::NonNull::new(p).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

#[cfg(not(unix))]
unsafe fn free_pages(p: std::ptr::NonNull<u8>, size: usize) {
    let layout = std::alloc::Layout::from_size_align(size, std::mem::align_of::<Slot>())
        .expect("made with this layout");
    // SAFETY: the caller's promise: `p` came from `alloc_zeroed` of this layout.
    unsafe { std::alloc::dealloc(p.as_ptr(), layout) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot is a quarter of a cache line and a contact's streams too, each aligned to its
    /// size: neither straddles two lines.
    #[test]
    fn a_slot_and_a_contacts_streams_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 16);
        assert_eq!(std::mem::align_of::<Slot>(), 16);
        assert_eq!(std::mem::size_of::<AccountStreams>(), 16);
        assert_eq!(std::mem::align_of::<AccountStreams>(), 16);
    }
    use std::collections::HashMap;

    #[test]
    fn a_contact_keeps_the_streams_of_its_first_two_accounts_whatever_their_ids() {
        let mut streams = AccountStreams::NONE;
        assert_eq!(streams.get_or_make(49_999, 5), Some(5));
        assert_eq!(streams.get_or_make(49_999, 6), Some(5));
        assert_eq!(streams.get_or_make(0, 7), Some(7));
        assert_eq!(streams.get_or_make(0, 8), Some(7));
        assert_eq!(streams.get_or_make(49_999, 9), Some(5));
        // A third account is the caller's to look up.
        assert_eq!(streams.get_or_make(3, 10), None);
        assert_eq!(streams.get_or_make(0, 11), Some(7));
    }

    /// An empty slot is all zeros (`Slots`): the number whose key would read as empty, 0, is
    /// an entry like any other, in a fresh shard and after growth.
    #[test]
    fn the_number_zero_is_not_an_empty_slot() {
        let mut table = NumberTable::default();
        let new = |contact| Known {
            contact,
            inbound: 0,
        };
        assert!(table.entry(0, new(0)).1);
        for n in 1..1000 {
            assert!(table.entry(n * 7_919, new(n as u32)).1);
        }
        let (known, made) = table.entry(0, new(1000));
        assert!(!made);
        assert_eq!(known.contact, 0);
        assert_eq!(table.len(), 1000);
    }

    /// A number is found only once entered, with the contact it was entered with, through
    /// growth and for the number zero; finding it makes nothing and counts an inbound row
    /// when asked (worked: 1,000 numbers, each found twice, once inbound: 1 row each).
    #[test]
    fn a_number_is_found_with_its_contact_and_its_inbound_rows_counted() {
        let mut table = NumberTable::default();
        let numbers: Vec<u64> = (0..1000u64).map(|i| i * 7_919).collect();
        assert_eq!(numbers[0], 0);
        for (c, &n) in numbers.iter().enumerate() {
            assert_eq!(
                table.contact_of(n, NumberTable::hashed(n), true),
                None,
                "{n} before its entry"
            );
            let new = Known {
                contact: c as u32,
                inbound: 0,
            };
            assert!(table.entry(n, new).1);
        }
        assert_eq!(table.contact_of(1, NumberTable::hashed(1), true), None);
        assert_eq!(table.len(), 1000, "finding makes nothing");
        for (c, &n) in numbers.iter().enumerate() {
            assert_eq!(
                table.contact_of(n, NumberTable::hashed(n), false),
                Some(c as u32)
            );
            assert_eq!(
                table.contact_of(n, NumberTable::hashed(n), true),
                Some(c as u32)
            );
        }
        assert_each_found_once_inbound(&mut table, &numbers);
        // 1,000 numbers past 8 shards of 16 slots: found after growing.
        assert!(table.shards.iter().all(|s| s.slots.len() > 16));
    }

    /// Inbound rows counted in bulk (a run's, `count_inbound`) add to those counted one by
    /// one; a number not in the table is left out: 2 gets 1 + 5 = 6, 3 nothing.
    #[test]
    fn a_runs_inbound_rows_are_added_to_its_number() {
        let mut table = NumberTable::default();
        let new = Known {
            contact: 4,
            inbound: 1,
        };
        assert!(table.entry(2, new).1);
        table.count_inbound(2, 5);
        table.count_inbound(3, 7);
        assert_eq!(table.contact_of(3, NumberTable::hashed(3), false), None);
        assert_eq!(table.busiest(), Some((4, 6)));
        assert_eq!(table.len(), 1);
    }

    /// The busiest number, whether the table is read on one thread or two (half the shards
    /// each): the most inbound rows, then the lowest contact. Numbers 1-40 (contact = the
    /// number, spread over the shards by their hash); inbound rows: 1 each, then 9 more to
    /// contacts 31, 17 and 5 (10 each, a tie) and 4 more to 23 (5). The busiest is contact 5
    /// with 10, wherever 5, 17 and 31 fall; with no inbound rows, none.
    #[test]
    fn the_busiest_number_is_the_same_read_on_one_thread_or_two() {
        let mut table = NumberTable::default();
        assert_eq!(table.busiest_apart_from(0), None);
        for n in 1..=40u32 {
            let known = Known {
                contact: n,
                inbound: 0,
            };
            table.entry(n as u64, known);
        }
        assert_eq!(table.busiest_apart_from(0), None);
        for n in 1..=40u64 {
            table.count_inbound(n, 1);
        }
        for (n, more) in [(31, 9), (17, 9), (5, 9), (23, 4)] {
            table.count_inbound(n, more);
        }
        let halves = table.shards.split_at(table.shards.len() / 2);
        let in_first: Vec<u64> = (1..=40u64).filter(|&n| in_shards(halves.0, n)).collect();
        // the tie spans both halves: the combining must break it, not either half alone
        assert!([5, 17, 31].iter().any(|n| in_first.contains(n)));
        assert!([5, 17, 31].iter().any(|n| !in_first.contains(n)));
        assert_eq!(table.busiest_apart_from(usize::MAX), Some((5, 10)));
        assert_eq!(table.busiest_apart_from(0), Some((5, 10)));
    }

    /// Whether `number` is in one of `shards`.
    fn in_shards(shards: &[Shard], number: u64) -> bool {
        (shards.iter()).any(|s| s.slots.iter().any(|slot| slot.number == number))
    }

    /// A number is looked up by the hash its slot was asked for with (Fibonacci hashing,
    /// worked by hand: 1 and 2 times 0x9E3779B97F4A7C15, modulo 2^64), its inbound row counted.
    #[test]
    fn a_number_is_found_by_the_hash_its_slot_was_asked_for_with() {
        let mut table = NumberTable::default();
        assert_eq!(NumberTable::hashed(1).0, 0x9E37_79B9_7F4A_7C15);
        assert_eq!(NumberTable::hashed(2).0, 0x3C6E_F372_FE94_F82A);
        let new = Known {
            contact: 7,
            inbound: 0,
        };
        assert!(table.entry(2, new).1);
        let hashed = NumberTable::hashed(2);
        table.prefetch(hashed);
        assert_eq!(table.contact_of(2, hashed, true), Some(7));
        assert_eq!(table.contact_of(1, NumberTable::hashed(1), true), None);
        let (known, made) = table.entry(2, Known::default_for_test());
        assert!(!made);
        assert_eq!(
            *known,
            Known {
                contact: 7,
                inbound: 1
            }
        );
    }

    /// Each contact's streams kept by id as the array grows past 2 MB (moved onto huge
    /// pages): 300,000 contacts, contact c's stream in account c mod 7 is c, in account 7
    /// it is c + 1.
    #[test]
    fn contact_streams_keep_their_values_as_they_grow() {
        let mut all = ContactStreams::default();
        for c in 0..300_000u32 {
            all.push();
            assert_eq!(all.get_mut(c).get_or_make(c % 7, c), Some(c));
            if c % 2 == 0 {
                assert_eq!(all.get_mut(c).get_or_make(7, c + 1), Some(c + 1));
            }
        }
        for c in 0..300_000u32 {
            let streams = all.get_mut(c);
            assert_eq!(streams.get_or_make(c % 7, u32::MAX - 1), Some(c), "{c}");
            let in_7 = if c % 2 == 0 { c + 1 } else { u32::MAX - 1 };
            assert_eq!(streams.get_or_make(7, u32::MAX - 1), Some(in_7), "{c}");
        }
    }

    /// Numbers whose search starts at the same slot, the shard's last (so that it wraps to the
    /// first), each keep their own entry; asking ahead for them reads within the shard.
    #[test]
    fn numbers_of_one_home_slot_at_a_shards_end_each_keep_their_entry() {
        let mut table = NumberTable::default();
        let home = |t: &NumberTable, n: u64| {
            let h = hash(n);
            (t.shard(h), t.shards[t.shard(h)].home(h))
        };
        // Three numbers of shard 0's last slot (of 16; the eighth would grow it).
        let last = table.shards[0].slots.len() - 1;
        let numbers: Vec<u64> = (1_000_000u64..)
            .filter(|&n| home(&table, n) == (0, last))
            .take(3)
            .collect();
        for (c, &n) in numbers.iter().enumerate() {
            table.prefetch(NumberTable::hashed(n));
            let new = Known {
                contact: c as u32,
                inbound: 0,
            };
            assert!(table.entry(n, new).1);
        }
        // The last slot and the first two, in order of entry.
        let taken: Vec<u64> = table.shards[0].slots.iter().map(|s| s.number).collect();
        assert_eq!(taken[last], key(numbers[0]));
        assert_eq!(
            taken[..2],
            numbers[1..].iter().map(|&n| key(n)).collect::<Vec<_>>()[..]
        );
        for (c, &n) in numbers.iter().enumerate().rev() {
            let (known, made) = table.entry(n, Known::default_for_test());
            assert!(!made);
            assert_eq!(known.contact, c as u32);
        }
        assert_eq!(table.shards[0].slots.len(), 16, "no growth");
    }

    /// A shard doubled in place (its map has room) moves each entry to a slot from its
    /// new home, and one whose search would meet a slot not yet done is entered last.
    /// Worked by hand, a shard of 16 slots in a map of 64: A, B, C of home 15 (slots 15, 0
    /// and 1: wrapped), new home 31; D, E, F, G of home 2 (slots 2-5), new homes 5, 5, 5
    /// and 4. From slot 15 down: A to 31; G's new home is below its slot: set aside; F to
    /// 5, E to 6, D to 7; C and B would wrap: set aside; then G to 4, C to 0 and B to 1 (31
    /// taken, wrapped). (G searched for in place would pass F, not yet moved, at 4, land
    /// at 5, and be lost once F moves and leaves 4 empty: checked.)
    #[test]
    fn a_shard_doubled_in_place_keeps_every_entry_reachable() {
        let mut table = NumberTable::default();
        // Fill 255/256: no growth but the one asked for.
        table.shards[0] = Shard::of(Slots::with_room(16, 64), 255);
        let homes = |n: u64| {
            let h = hash(n);
            let shard = (h >> 61) as usize;
            (shard, ((h << 3) >> 60) as usize, ((h << 3) >> 59) as usize)
        };
        let find = |old, new, k| -> Vec<u64> {
            (1_000_000u64..)
                .filter(|&n| homes(n) == (0, old, new))
                .take(k)
                .collect()
        };
        let (abc, def, g) = (find(15, 31, 3), find(2, 5, 3), find(2, 4, 1));
        let numbers: Vec<u64> = abc.iter().chain(&def).chain(&g).copied().collect();
        for (c, &n) in numbers.iter().enumerate() {
            let new = Known {
                contact: c as u32,
                inbound: 0,
            };
            assert!(table.shards[0].entry(hash(n), key(n), new).1);
        }
        let taken =
            |t: &NumberTable| -> Vec<u64> { t.shards[0].slots.iter().map(|s| s.number).collect() };
        let before = taken(&table);
        let at = [15, 0, 1, 2, 3, 4, 5];
        assert_eq!(
            at.map(|i| before[i])[..],
            numbers.iter().map(|&n| key(n)).collect::<Vec<_>>()
        );
        let map = table.shards[0].slots.slots;
        table.shards[0].grow();
        assert_eq!(table.shards[0].slots.slots, map, "grown in place");
        assert_eq!(table.shards[0].slots.len(), 32);
        let after = taken(&table);
        let (a, b, c, d, e, f, g) = (0, 1, 2, 3, 4, 5, 6);
        let expected = [(31, a), (0, c), (1, b), (4, g), (5, f), (6, e), (7, d)];
        for (slot, n) in expected {
            assert_eq!(after[slot], key(numbers[n]), "slot {slot}");
        }
        assert_eq!(after.iter().filter(|&&n| n != EMPTY).count(), 7);
        for (c, &n) in numbers.iter().enumerate() {
            let found = table.contact_of(n, NumberTable::hashed(n), false);
            assert_eq!(found, Some(c as u32), "{n}");
        }
    }

    /// Shards that double in place while their maps have room (16 slots in maps of 64),
    /// then move (past 64), keep every number's contact and inbound rows: 10,000 numbers,
    /// number i's contact i, one inbound row each.
    #[test]
    fn shards_grown_in_place_then_moved_keep_every_entry() {
        let mut table = NumberTable::default();
        for (i, shard) in table.shards.iter_mut().enumerate() {
            *shard = Shard::of(Slots::with_room(16, 64), FILL_FROM + 8 * i);
        }
        let numbers: Vec<u64> = (0..10_000u64)
            .map(|i| 380_500_000_000 + i * 7_919)
            .collect();
        for (c, &n) in numbers.iter().enumerate() {
            let new = Known {
                contact: c as u32,
                inbound: 1,
            };
            assert!(table.entry(n, new).1);
        }
        assert!(table.shards.iter().all(|s| s.slots.len() > 64));
        assert_each_found_once_inbound(&mut table, &numbers);
    }

    impl Known {
        fn default_for_test() -> Known {
            Known {
                contact: u32::MAX,
                inbound: 0,
            }
        }
    }

    /// Every number of `numbers` is in `table`, as the contact of its place in the list, with
    /// one inbound row.
    fn assert_each_found_once_inbound(table: &mut NumberTable, numbers: &[u64]) {
        for (c, &n) in numbers.iter().enumerate() {
            let (known, made) = table.entry(n, Known::default_for_test());
            assert!(!made);
            let expected = Known {
                contact: c as u32,
                inbound: 1,
            };
            assert_eq!(*known, expected);
        }
    }

    #[test]
    fn a_number_keeps_its_entry_through_growth() {
        // Numbers close together and far apart, each entered twice; the table must agree with
        // a HashMap at every step, past several doublings.
        let mut table = NumberTable::default();
        let mut map: HashMap<u64, Known> = HashMap::new();
        let numbers = (0..5000u64).map(|i| 380_500_000_000 + i).chain(
            (0..5000u64).map(|i| i.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100_000_000_000_000_000),
        );
        for (k, n) in numbers.clone().chain(numbers).enumerate() {
            let new = Known {
                contact: map.len() as u32,
                inbound: k as u32,
            };
            let (known, made) = table.entry(n, new);
            match map.get(&n) {
                Some(old) => {
                    assert!(!made, "{n}");
                    assert_eq!(known, old);
                }
                None => {
                    assert!(made, "{n}");
                    assert_eq!(*known, new);
                    assert_eq!(known.inbound, k as u32);
                    map.insert(n, *known);
                }
            }
            assert_eq!(table.len(), map.len());
        }
        assert_eq!(table.len(), 10_000);
        // Every shard below its limit, which is at most 0.69 full, and none more than twice the slots
        // it needs: 10,000 numbers, some 1,250 a shard, in 4,096 slots (growing at a quarter
        // full took 8,192).
        for shard in &table.shards {
            assert!(shard.len < shard.limit, "{}", shard.len);
            assert!(
                shard.limit * 256 <= shard.slots.len() * 177,
                "{}",
                shard.limit
            );
            assert!(shard.len * 4 > shard.slots.len(), "{}", shard.len);
        }
        // 10,000 numbers past 8 shards of 16 slots: every shard has grown.
        assert!(table.shards.iter().all(|s| s.slots.len() > 16));
    }

    /// Slots read to find `number` (1: its home slot).
    fn probes(table: &NumberTable, number: u64) -> usize {
        let h = hash(number);
        let shard = &table.shards[table.shard(h)];
        let mask = shard.slots.len() - 1;
        let mut i = shard.home(h);
        let mut n = 1;
        while shard.slots[i].number != key(number) {
            i = (i + 1) & mask;
            n += 1;
        }
        n
    }

    /// The fill limits keep linear probing short: a million numbers (phone numbers in a row
    /// and spread out, as a log of a million contacts has), each found reading 1.6 slots or
    /// fewer on average (measured: 1.11, the longest 7), and none past 64.
    #[test]
    fn probe_lengths() {
        let mut table = NumberTable::default();
        let numbers: Vec<u64> =
            (0..500_000u64)
                .map(|i| 380_500_000_000 + i)
                .chain((0..500_000u64).map(|i| {
                    447_000_000_000 + i.wrapping_mul(0x2545_F491_4F6C_DD1D) % 1_000_000_000
                }))
                .collect();
        for (c, &n) in numbers.iter().enumerate() {
            let new = Known {
                contact: c as u32,
                ..Known::default_for_test()
            };
            table.entry(n, new);
        }
        let lengths: Vec<usize> = numbers.iter().map(|&n| probes(&table, n)).collect();
        let mean = lengths.iter().sum::<usize>() as f64 / lengths.len() as f64;
        let load =
            table.len() as f64 / table.shards.iter().map(|s| s.slots.len()).sum::<usize>() as f64;
        eprintln!(
            "load {load:.3}, mean probes {mean:.3}, longest {}",
            lengths.iter().max().unwrap()
        );
        assert!(mean <= 1.6, "{mean}");
        assert!(lengths.iter().all(|&n| n <= 64));
    }
}
