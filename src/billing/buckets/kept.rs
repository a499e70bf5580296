//! How a kept event is held while a log out of time order is read (issue 24): in 16 bytes
//! (`Compact`) when nothing shows the events' lines (no sink: the ledger, explain and reconcile
//! have one), the contact being its stream's; in 24 bytes (`Narrow`) with the line and the
//! contact; either wherever that says everything, as it is (`Wide`, 32 bytes) for the rest.
//! Ten million events are 160 MB (or 80 MB) fewer to fault in, write and read back.

use crate::event::{Country, Direction, Event, Kind};

/// A form of a kept event: `Slot`, and how an event goes in and comes back out, in a bucket
/// whose instants start at `base` (on the UTC day `day`).
pub(super) trait Form {
    type Slot: Copy;
    /// Whether its buckets may be widened (`Buckets::coarsen`): a narrow slot keeps only the
    /// instant's place in a bucket of the first width.
    const COARSENS: bool;
    /// Whether a slot holds the contact; else it is noted by stream as the event is kept
    /// (`note_contact`), and the event comes back with `UNKNOWN_CONTACT`.
    const KEEPS_CONTACT: bool;
    /// The slot for `e`, unless this form cannot hold it.
    fn pack(e: &Event, day: i32) -> Option<Self::Slot>;
    /// The instant of a slot.
    fn at(s: &Self::Slot, base: i64) -> i64;
    fn unpack(s: &Self::Slot, base: i64, day: i32) -> Event;
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
    fn pack(e: &Event, day: i32) -> Option<Compact> {
        Some(Compact {
            stream: e.stream,
            cell: e.cell,
            at: e.at as u32,
            country: e.country,
            kind: e.kind,
            day_direction: day_direction(e, day)?,
        })
    }

    #[inline(always)]
    fn at(s: &Compact, base: i64) -> i64 {
        base | i64::from(s.at)
    }

    /// The event with line 0 (nothing reads it without a sink) and `UNKNOWN_CONTACT`: no
    /// look-up per event, only where a contact is named (`StreamContacts`).
    #[inline(always)]
    fn unpack(s: &Compact, base: i64, day: i32) -> Event {
        let (day, direction) = day_and_direction(s.day_direction, day);
        Event {
            at: Compact::at(s, base),
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
    fn pack(e: &Event, day: i32) -> Option<Narrow> {
        Some(Narrow {
            at: e.at as u32,
            line: e.line,
            contact: e.contact,
            stream: e.stream,
            cell: e.cell,
            country: e.country,
            kind: e.kind,
            day_direction: day_direction(e, day)?,
        })
    }

    #[inline(always)]
    fn at(s: &Narrow, base: i64) -> i64 {
        base | i64::from(s.at)
    }

    #[inline(always)]
    fn unpack(s: &Narrow, base: i64, day: i32) -> Event {
        let (day, direction) = day_and_direction(s.day_direction, day);
        Event {
            at: Narrow::at(s, base),
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
    fn pack(e: &Event, _day: i32) -> Option<Event> {
        Some(*e)
    }

    #[inline(always)]
    fn at(e: &Event, _base: i64) -> i64 {
        e.at
    }

    #[inline(always)]
    fn unpack(e: &Event, _base: i64, _day: i32) -> Event {
        *e
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

    /// `e` through a narrow slot of the bucket `e.at` is in.
    fn narrow(e: &Event) -> Option<Event> {
        let base = e.at >> NARROW_SHIFT << NARROW_SHIFT;
        let day = utc_day(base);
        Narrow::pack(e, day).map(|s| Narrow::unpack(&s, base, day))
    }

    /// `e` through a compact slot of the bucket `e.at` is in, its contact noted by stream.
    fn compact(e: &Event) -> Option<Event> {
        let base = e.at >> NARROW_SHIFT << NARROW_SHIFT;
        let day = utc_day(base);
        let mut contacts = vec![7; e.stream as usize];
        if let Some(before) = (e.stream as usize).checked_sub(1) {
            // A stream beyond the next one: not noted.
            assert!(!note_contact(&mut vec![7; before], e));
        }
        assert!(note_contact(&mut contacts, e));
        assert!(note_contact(&mut contacts, &Event { contact: 8, ..*e }));
        let s = Compact::pack(e, day)?;
        let back = Compact::unpack(&s, base, day);
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
    fn a_narrow_slot_is_24_bytes_and_a_compact_one_16() {
        assert_eq!(std::mem::size_of::<Narrow>(), 24);
        assert_eq!(std::mem::size_of::<Compact>(), 16);
        assert_eq!(std::mem::align_of::<Compact>(), 16);
    }

    #[test]
    fn every_field_comes_back_from_a_narrow_or_compact_slot() {
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
                assert!(same(&Wide::unpack(&Wide::pack(&e, 0).unwrap(), 0, 0), &e));
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
            &Wide::unpack(&Wide::pack(&extreme, 0).unwrap(), 5, 7),
            &extreme
        ));
        assert!(narrow(&Event { day: 5, ..extreme }).is_none());
    }
}
