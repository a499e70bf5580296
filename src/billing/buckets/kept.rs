//! How a kept event is held while a log out of time order is read (issue 24): in 8 bytes
//! (`Packed`) when nothing shows the events' lines and the log's instants are whole seconds
//! (most logs), the contact being its stream's and the country its cell's; in 16 bytes
//! (`Compact`) without the line and the contact for any instant; in 24 bytes (`Narrow`) with
//! the line and the contact (a sink shows them: the ledger, explain and reconcile); each
//! wherever that says everything, as it is (`Wide`, 32 bytes) for the rest. Ten million
//! events are 240 MB (or 160, or 80) fewer to fault in, write and read back.

use crate::event::{Country, Direction, Event, Kind};

/// Where a bucket's instants start, as the forms read their slots from it (16 bytes: a
/// bucket's head is then a cache line).
#[derive(Clone, Copy)]
pub(super) struct Origin {
    /// The whole second at or before the bucket's first instant (microseconds): kept rather
    /// than the first instant, as `Packed` counts seconds from it at every event.
    pub start: i64,
    /// The UTC day of the bucket's first instant.
    pub day: i32,
    /// How far the bucket's first instant is past `start`, in microseconds.
    pub past_second: u32,
}

impl Origin {
    pub fn of(base: i64) -> Origin {
        let past_second = base.rem_euclid(MICROS_PER_SECOND);
        Origin {
            start: base.wrapping_sub(past_second),
            day: utc_day(base),
            past_second: past_second as u32,
        }
    }

    /// The bucket's first instant (microseconds).
    #[inline(always)]
    pub fn base(&self) -> i64 {
        self.start.wrapping_add(i64::from(self.past_second))
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A form of a kept event: `Slot`, and how an event goes in and comes back out, in a bucket
/// of origin `o`.
pub(super) trait Form {
    type Slot: Copy;
    /// Whether its buckets may be widened (`Buckets::coarsen`): a narrow slot keeps only the
    /// instant's place in a bucket of the first width.
    const COARSENS: bool;
    /// Whether a slot holds the contact; else it is noted by stream as the event is kept
    /// (`note_contact`), and the event comes back with `UNKNOWN_CONTACT`.
    const KEEPS_CONTACT: bool;
    /// Whether a slot holds the country; else it is noted by cell as the event is kept
    /// (`note_country`: a cell is one account's month in one country).
    const KEEPS_COUNTRY: bool = true;
    /// The streams and cells a slot holds (below these ids), checked as each is noted.
    const MOST_STREAMS: u32 = u32::MAX;
    const MOST_CELLS: u32 = u32::MAX;
    /// For a form whose slots hold their instant as a whole second (`second`): how many
    /// seconds a bucket spans, so that a count by second puts a bucket in time order with
    /// nothing left to sort; else 0.
    const SECONDS: usize = 0;
    /// The slot for `e`, unless this form cannot hold it.
    fn pack(e: &Event, o: &Origin) -> Option<Self::Slot>;
    /// The instant of a slot.
    fn at(s: &Self::Slot, o: &Origin) -> i64;
    /// The second of a slot from the whole second at or before its bucket's first instant,
    /// below `SECONDS`.
    fn second(_s: &Self::Slot) -> usize {
        0
    }
    /// The event of a slot; `countries`: each cell's country, for a form that does not keep it.
    fn unpack(s: &Self::Slot, o: &Origin, countries: &[Country]) -> Event;
}

/// The contact of an event that comes back from a compact slot: its stream's is kept apart
/// (`StreamContacts`), and naming it by this id fails loudly.
pub const UNKNOWN_CONTACT: u32 = u32::MAX;

/// Notes `e`'s contact as its stream's (a stream is one account's contact: always the same
/// one) if `e` is the first event of its stream; false if it is not known whether it is:
/// the reader numbers the streams as they first come, so a stream beyond the next one means
/// the events are not given in the order read (and the contacts cannot be kept this way).
#[inline(always)]
pub(super) fn note_contact(contacts: &mut Vec<u32>, e: &Event) -> bool {
    let stream = e.stream as usize;
    if stream < contacts.len() {
        return true;
    }
    if stream > contacts.len() {
        return false;
    }
    contacts.push(e.contact);
    true
}

/// Notes `e`'s country as its cell's (a cell is one account's month in one country) if `e`
/// is the first event of its cell; false if the cell is beyond the next one (the reader
/// numbers cells as they first come, as streams) or noted with another country.
#[inline(always)]
pub(super) fn note_country(countries: &mut Vec<Country>, e: &Event) -> bool {
    let cell = e.cell as usize;
    if let Some(&country) = countries.get(cell) {
        return country == e.country;
    }
    if cell > countries.len() {
        return false;
    }
    countries.push(e.country);
    true
}

/// The width of a bucket (as a shift of instants) whose instants a `Narrow` slot holds: 2^32
/// microseconds, about 72 minutes.
pub(super) const NARROW_SHIFT: u32 = 32;

/// 24 bytes: the instant's low 32 bits (its bucket gives the rest), the day as a difference
/// from the bucket's first UTC day (a zone is less than a day away, a bucket 72 minutes
/// long), shifted left by one beside the direction, the other fields as they are. Laid out
/// so that it is written in two stores that never straddle a cache line (16 bytes copied
/// from the event, then 8), not five.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub(super) struct Narrow {
    line: u32,
    contact: u32,
    stream: u32,
    cell: u32,
    at: u32,
    country: Country,
    kind: Kind,
    day_direction: u8,
}

/// 16 bytes, for events whose line nothing shows: a `Narrow` slot without the line and the
/// contact (its stream's, `note_contact`), written in one 16-byte store that never straddles a
/// cache line.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub(super) struct Compact {
    stream: u32,
    cell: u32,
    at: u32,
    country: Country,
    kind: Kind,
    day_direction: u8,
}

/// 8 bytes, for events whose line nothing shows, in a log whose instants are whole seconds:
/// a `Compact` slot without the country (its cell's, `note_country`), the instant as the
/// second from the bucket's (13 bits: a bucket is 4,295 seconds), the stream in 24 bits, the
/// cell in 20, the kind in 3, the direction and the day's difference from the bucket's UTC
/// day (-4 to 3: a zone is less than a day away) in 4. Half a compact slot's bytes to fault
/// in, write and read back, and a bucket sorted by one count of its seconds.
#[derive(Clone, Copy)]
pub(super) struct Packed(u64);

/// Where `Packed`'s fields lie in its word, from the top: the second first.
const SECOND_AT: u32 = 51;
const STREAM_AT: u32 = 27;
const CELL_AT: u32 = 7;
const KIND_AT: u32 = 4;
const DIRECTION_AT: u32 = 3;
/// The largest stream and cell a packed slot holds, and its days' offset from the bucket's.
const PACKED_STREAMS: u32 = 1 << (SECOND_AT - STREAM_AT);
const PACKED_CELLS: u32 = 1 << (STREAM_AT - CELL_AT);
const PACKED_DAY_OFFSET: i32 = 4;
const PACKED_SECONDS: u64 = 1 << (64 - SECOND_AT);

/// The inverse of 15,625 (a million's odd factor: a million is 2^6 x 15,625) modulo 2^64,
/// by Newton's iteration (each step doubles the bits that are right; 15,625 is its own
/// inverse modulo 8).
const INVERSE_15625: u64 = {
    let mut inverse: u64 = 15_625;
    let mut i = 0;
    while i < 5 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(15_625u64.wrapping_mul(inverse)));
        i += 1;
    }
    assert!(inverse.wrapping_mul(15_625) == 1);
    inverse
};

/// `micros` in seconds if it is whole seconds, else a number of 2^44 or more (beyond any
/// bucket's). A multiply and a rotation where a division and its check took a multiply
/// (high half), a shift, a multiply and a compare: `micros` times the inverse of 15,625 is
/// `micros / 15,625` when that is exact, with its six low bits those of `micros`; rotated
/// right by six, the seconds if those bits are 0, else a low bit moved to the top. And if
/// 15,625 does not divide it, the product is above 2^64 / 15,625 (the products of the
/// exact quotients below it are the multiples of 15,625 there), rotated still 2^44 or more.
#[inline(always)]
fn exact_seconds(micros: u64) -> u64 {
    micros.wrapping_mul(INVERSE_15625).rotate_right(6)
}
const PACKED_DAYS: u32 = 1 << DIRECTION_AT;

/// The kinds by their discriminant (`kind as u8`), which a packed slot keeps in 3 bits.
const KINDS: [Kind; 8] = [
    Kind::Marketing,
    Kind::Utility,
    Kind::Authentication,
    Kind::Template,
    Kind::FreeForm,
    Kind::Welcome,
    Kind::NotDelivered,
    Kind::EntryPoint,
];

const _: () = {
    let mut i = 0;
    while i < KINDS.len() {
        assert!(KINDS[i] as usize == i);
        i += 1;
    }
};

/// Any event, as it is.
pub(super) enum Wide {}

/// The day's difference from `day` beside the direction bit (`day_direction`), if it is
/// within -64..=63 (a 7-bit signed number).
#[inline(always)]
fn day_direction(e: &Event, day: i32) -> Option<u8> {
    let delta = e.day.wrapping_sub(day);
    if delta.wrapping_add(64) as u32 >= 128 {
        return None;
    }
    Some((delta as u8) << 1 | u8::from(e.direction == Direction::Outbound))
}

/// The day and direction of a `day_direction` byte, in a bucket of first UTC day `day`.
#[inline(always)]
fn day_and_direction(day_direction: u8, day: i32) -> (i32, Direction) {
    let direction = if day_direction & 1 == 0 {
        Direction::Inbound
    } else {
        Direction::Outbound
    };
    (day + i32::from(day_direction as i8 >> 1), direction)
}

impl Form for Compact {
    type Slot = Compact;
    const COARSENS: bool = false;
    const KEEPS_CONTACT: bool = false;

    #[inline(always)]
    fn pack(e: &Event, o: &Origin) -> Option<Compact> {
        Some(Compact {
            stream: e.stream,
            cell: e.cell,
            at: e.at as u32,
            country: e.country,
            kind: e.kind,
            day_direction: day_direction(e, o.day)?,
        })
    }

    #[inline(always)]
    fn at(s: &Compact, o: &Origin) -> i64 {
        o.base() | i64::from(s.at)
    }

    /// The event with line 0 (nothing reads it without a sink) and `UNKNOWN_CONTACT`: no
    /// look-up per event, only where a contact is named (`StreamContacts`).
    #[inline(always)]
    fn unpack(s: &Compact, o: &Origin, _countries: &[Country]) -> Event {
        let (day, direction) = day_and_direction(s.day_direction, o.day);
        Event {
            at: Compact::at(s, o),
            day,
            line: 0,
            contact: UNKNOWN_CONTACT,
            stream: s.stream,
            cell: s.cell,
            country: s.country,
            direction,
            kind: s.kind,
        }
    }
}

impl Form for Narrow {
    type Slot = Narrow;
    const COARSENS: bool = false;
    const KEEPS_CONTACT: bool = true;

    #[inline(always)]
    fn pack(e: &Event, o: &Origin) -> Option<Narrow> {
        Some(Narrow {
            at: e.at as u32,
            line: e.line,
            contact: e.contact,
            stream: e.stream,
            cell: e.cell,
            country: e.country,
            kind: e.kind,
            day_direction: day_direction(e, o.day)?,
        })
    }

    #[inline(always)]
    fn at(s: &Narrow, o: &Origin) -> i64 {
        o.base() | i64::from(s.at)
    }

    #[inline(always)]
    fn unpack(s: &Narrow, o: &Origin, _countries: &[Country]) -> Event {
        let (day, direction) = day_and_direction(s.day_direction, o.day);
        Event {
            at: Narrow::at(s, o),
            day,
            line: s.line,
            contact: s.contact,
            stream: s.stream,
            cell: s.cell,
            country: s.country,
            direction,
            kind: s.kind,
        }
    }
}

impl Form for Wide {
    type Slot = Event;
    const COARSENS: bool = true;
    const KEEPS_CONTACT: bool = true;

    #[inline(always)]
    fn pack(e: &Event, _o: &Origin) -> Option<Event> {
        Some(*e)
    }

    #[inline(always)]
    fn at(e: &Event, _o: &Origin) -> i64 {
        e.at
    }

    #[inline(always)]
    fn unpack(e: &Event, _o: &Origin, _countries: &[Country]) -> Event {
        *e
    }
}

impl Form for Packed {
    type Slot = Packed;
    const COARSENS: bool = false;
    const KEEPS_CONTACT: bool = false;
    const KEEPS_COUNTRY: bool = false;
    const MOST_STREAMS: u32 = PACKED_STREAMS;
    const MOST_CELLS: u32 = PACKED_CELLS;
    /// A bucket's 2^32 microseconds from the whole second before it: 4,296 seconds begun.
    const SECONDS: usize = ((1u64 << NARROW_SHIFT) / MICROS_PER_SECOND as u64) as usize + 2;

    /// Unless the instant is not a whole second or the day is beyond what the slot holds.
    /// The stream and the cell are checked as they are noted (`MOST_STREAMS`, `MOST_CELLS`),
    /// and the second is below `SECONDS` in any bucket (its 2^32 microseconds from its
    /// first instant, `o.past_second` from `o.start`).
    #[inline(always)]
    fn pack(e: &Event, o: &Origin) -> Option<Packed> {
        let second = exact_seconds(e.at.wrapping_sub(o.start) as u64);
        let day = e.day.wrapping_sub(o.day).wrapping_add(PACKED_DAY_OFFSET) as u32;
        let fits = second < PACKED_SECONDS && day < PACKED_DAYS;
        fits.then(|| {
            Packed(
                second << SECOND_AT
                    | u64::from(e.stream) << STREAM_AT
                    | u64::from(e.cell) << CELL_AT
                    | u64::from(e.kind as u8) << KIND_AT
                    | u64::from(e.direction == Direction::Outbound) << DIRECTION_AT
                    | u64::from(day),
            )
        })
    }

    #[inline(always)]
    fn at(s: &Packed, o: &Origin) -> i64 {
        o.start
            .wrapping_add(Packed::second(s) as i64 * MICROS_PER_SECOND)
    }

    #[inline(always)]
    fn second(s: &Packed) -> usize {
        (s.0 >> SECOND_AT) as usize
    }

    /// The event with line 0 and `UNKNOWN_CONTACT`, as from a compact slot; its country its
    /// cell's.
    #[inline(always)]
    fn unpack(s: &Packed, o: &Origin, countries: &[Country]) -> Event {
        let field = |at: u32, bits: u32| (s.0 >> at) as u32 & ((1 << bits) - 1);
        let cell = field(CELL_AT, STREAM_AT - CELL_AT);
        let direction = match field(DIRECTION_AT, 1) {
            0 => Direction::Inbound,
            _ => Direction::Outbound,
        };
        Event {
            at: Packed::at(s, o),
            day: o.day + field(0, DIRECTION_AT) as i32 - PACKED_DAY_OFFSET,
            line: 0,
            contact: UNKNOWN_CONTACT,
            stream: field(STREAM_AT, SECOND_AT - STREAM_AT),
            cell,
            country: countries[cell as usize],
            direction,
            kind: KINDS[field(KIND_AT, CELL_AT - KIND_AT) as usize],
        }
    }
}

/// The UTC day (days since 1970-01-01) of instant `at` (microseconds), as a narrow bucket's
/// first instant has it (for a wide bucket's it may not fit, and is not used).
pub(super) fn utc_day(at: i64) -> i32 {
    at.div_euclid(24 * crate::event::MICROS_PER_HOUR) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    const DAY: i64 = 24 * crate::event::MICROS_PER_HOUR;

    fn same(a: &Event, b: &Event) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    /// The origin of the bucket `at` is in.
    fn origin(at: i64) -> Origin {
        Origin::of(at >> NARROW_SHIFT << NARROW_SHIFT)
    }

    /// `e` through a narrow slot of the bucket `e.at` is in.
    fn narrow(e: &Event) -> Option<Event> {
        let o = origin(e.at);
        Narrow::pack(e, &o).map(|s| Narrow::unpack(&s, &o, &[]))
    }

    /// `e` through a compact slot of the bucket `e.at` is in, its contact noted by stream.
    fn compact(e: &Event) -> Option<Event> {
        let o = origin(e.at);
        let mut contacts = vec![7; e.stream as usize];
        if let Some(before) = (e.stream as usize).checked_sub(1) {
            // A stream beyond the next one: not noted.
            assert!(!note_contact(&mut vec![7; before], e));
        }
        assert!(note_contact(&mut contacts, e));
        assert!(note_contact(&mut contacts, &Event { contact: 8, ..*e }));
        let s = Compact::pack(e, &o)?;
        let back = Compact::unpack(&s, &o, &[]);
        assert_eq!(back.contact, UNKNOWN_CONTACT);
        Some(Event {
            contact: contacts[back.stream as usize],
            ..back
        })
    }

    /// `e` as a compact slot gives it back: line 0.
    fn without_line(e: &Event) -> Event {
        Event { line: 0, ..*e }
    }

    #[test]
    fn a_narrow_slot_is_24_bytes_a_compact_one_16_and_a_packed_one_8() {
        assert_eq!(std::mem::size_of::<Narrow>(), 24);
        assert_eq!(std::mem::size_of::<Compact>(), 16);
        assert_eq!(std::mem::align_of::<Compact>(), 16);
        assert_eq!(std::mem::size_of::<Packed>(), 8);
        assert_eq!(std::mem::size_of::<Origin>(), 16);
    }

    /// `e` through a packed slot of the bucket of origin `o`: its second there, and the
    /// event back (its country its cell's in `countries`).
    fn packed(e: &Event, o: &Origin, countries: &[Country]) -> Option<(usize, Event)> {
        let s = Packed::pack(e, o)?;
        assert_eq!(Packed::at(&s, o), e.at);
        Some((Packed::second(&s), Packed::unpack(&s, o, countries)))
    }

    #[test]
    fn a_packed_slot_keeps_a_whole_second_of_its_bucket_and_the_country_of_its_cell() {
        // Bucket 5 starts at 5 x 2^32 = 21,474,836,480 us: 836,480 us past the second
        // 21,474 s, on day 0 (1970-01-01).
        let o = origin(5 << 32);
        assert_eq!(
            (o.base(), o.day, o.past_second),
            (21_474_836_480, 0, 836_480)
        );
        assert_eq!(o.start, 21_474_000_000);
        let de = Country::parse("DE").unwrap();
        let countries = [Country::parse("AZ").unwrap(), de];
        let template = Event {
            at: 21_480_000_000,
            day: 0,
            line: 9,
            contact: 4,
            stream: (1 << 24) - 1,
            cell: 1,
            country: de,
            direction: Direction::Outbound,
            kind: Kind::EntryPoint,
        };
        // 21,480 s is the sixth second after 21,474 s; the first in the bucket, 21,475 s, is
        // second 1; its last, 25,769 s (the bucket ends at 25,769,803,775 us), second 4,295.
        for (at, second) in [(21_480, 6), (21_475, 1), (25_769, 4_295)] {
            let e = Event {
                at: at * 1_000_000,
                ..template
            };
            let (got, back) = packed(&e, &o, &countries).unwrap();
            assert_eq!(got, second, "{at} s");
            assert!(same(
                &back,
                &Event {
                    line: 0,
                    contact: UNKNOWN_CONTACT,
                    ..e
                }
            ));
        }
        const { assert!(Packed::SECONDS > 4_295) };
        // Not a whole second: refused.
        let e = Event {
            at: template.at + 1,
            ..template
        };
        assert!(packed(&e, &o, &countries).is_none());
        // Days from -4 to 3 of the bucket's, no further.
        for day in [-4, -1, 0, 2, 3] {
            let e = Event { day, ..template };
            assert_eq!(packed(&e, &o, &countries).unwrap().1.day, day);
        }
        for day in [-5, 4, 100] {
            assert!(packed(&Event { day, ..template }, &o, &countries).is_none());
        }
        // Before 1970: bucket -1 starts at -4,294,967,296 us, 32,704 us past -4,295 s, on
        // day -1; -4,294 s is its second 1.
        let o = origin(-1 << 32);
        assert_eq!((o.day, o.past_second), (-1, 32_704));
        let e = Event {
            at: -4_294_000_000,
            day: -1,
            ..template
        };
        assert_eq!(packed(&e, &o, &countries).unwrap().0, 1);
    }

    #[test]
    fn whole_seconds_are_counted_and_any_other_span_is_beyond_a_bucket() {
        // 15,625 x 8,723,391,485,480,952,121 is 7,389 x 2^64 + 1.
        assert_eq!(INVERSE_15625, 8_723_391_485_480_952_121);
        for (micros, seconds) in [(0, 0), (1_000_000, 1), (4_295_000_000, 4_295)] {
            assert_eq!(exact_seconds(micros), seconds, "{micros}");
        }
        // A microsecond off, a multiple of 15,625 us or of 64 us only, the largest span of
        // a bucket (2^32 + 999,999 us) not whole: none below 2^44.
        for micros in [
            1,
            999_999,
            1_000_001,
            15_625,
            64,
            4_295_967_295,
            4_295_999_999,
        ] {
            assert!(exact_seconds(micros) >= 1 << 44, "{micros}");
        }
    }

    #[test]
    fn a_cells_country_is_noted_once_and_held_to() {
        let (de, az) = (Country::parse("DE").unwrap(), Country::parse("AZ").unwrap());
        let on = |cell, country| Event {
            cell,
            country,
            ..Script::new().inbound().events()[0]
        };
        let mut countries = Vec::new();
        assert!(note_country(&mut countries, &on(0, de)));
        assert!(note_country(&mut countries, &on(1, az)));
        assert!(note_country(&mut countries, &on(0, de)));
        assert_eq!(countries, [de, az]);
        // Another country for cell 0, a cell beyond the next: refused.
        assert!(!note_country(&mut countries, &on(0, az)));
        assert!(!note_country(&mut countries, &on(3, az)));
        assert_eq!(countries, [de, az]);
    }

    #[test]
    fn every_field_comes_back_from_a_narrow_compact_or_packed_slot() {
        let template = Script::new().at("2026-03-02 23:59").inbound().events()[0];
        let kinds = [
            Kind::FreeForm,
            Kind::Welcome,
            Kind::Template,
            Kind::Marketing,
            Kind::Utility,
            Kind::Authentication,
            Kind::NotDelivered,
            Kind::EntryPoint,
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            for direction in [Direction::Inbound, Direction::Outbound] {
                let e = Event {
                    direction,
                    kind,
                    country: Country::parse(["AZ", "de", "ZA", "zz"][i % 4]).unwrap(),
                    line: u32::MAX - i as u32,
                    contact: 1 << 31 | i as u32,
                    stream: 7 * i as u32,
                    cell: u32::MAX / (i as u32 + 1),
                    ..template
                };
                assert!(same(&narrow(&e).unwrap(), &e), "{e:?}");
                assert!(same(&compact(&e).unwrap(), &without_line(&e)), "{e:?}");
                // A packed slot holds streams and cells below 2^24 and 2^20 (checked as
                // they are noted), its country that of its cell.
                let e = Event {
                    stream: e.stream << 17 | i as u32,
                    cell: e.cell >> 12,
                    ..e
                };
                let countries = vec![e.country; e.cell as usize + 1];
                let (_, back) = packed(&e, &origin(e.at), &countries).unwrap();
                let contact = UNKNOWN_CONTACT;
                assert!(
                    same(
                        &back,
                        &Event {
                            line: 0,
                            contact,
                            ..e
                        }
                    ),
                    "{e:?}"
                );
                assert!(same(
                    &Wide::unpack(&Wide::pack(&e, &origin(0)).unwrap(), &origin(5), &[]),
                    &e
                ));
            }
        }
    }

    #[test]
    fn narrow_and_compact_slots_hold_days_up_to_63_from_their_buckets_and_no_further() {
        let template = Script::new().inbound().outbound("").events()[1];
        // Instants at and around midnight UTC, before 1970, far off; days a zone away and
        // as far as a narrow slot goes; the day of a bucket starting the day before.
        for at in [
            0,
            -1,
            DAY - 1,
            DAY,
            -DAY,
            -DAY - 1,
            20_000 * DAY + 5,
            1 << 40,
        ] {
            let first = utc_day(at >> NARROW_SHIFT << NARROW_SHIFT);
            for delta in [-64, -2, -1, 0, 1, 2, 63] {
                let e = Event {
                    at,
                    day: first + delta,
                    ..template
                };
                assert!(same(&narrow(&e).unwrap(), &e), "{at} {delta}");
                let back = compact(&e).unwrap();
                assert!(same(&back, &without_line(&e)), "{at} {delta}");
            }
            for delta in [-65, 64, 100_000, i32::MIN / 2] {
                let e = Event {
                    at,
                    day: first + delta,
                    ..template
                };
                assert!(narrow(&e).is_none(), "{at} {delta}");
                assert!(compact(&e).is_none(), "{at} {delta}");
            }
        }
        let extreme = Event {
            at: i64::MIN,
            day: i32::MIN,
            ..template
        };
        assert!(same(
            &Wide::unpack(&Wide::pack(&extreme, &origin(0)).unwrap(), &origin(7), &[]),
            &extreme
        ));
        assert!(narrow(&Event { day: 5, ..extreme }).is_none());
    }
}
