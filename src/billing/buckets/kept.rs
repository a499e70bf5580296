//! How a kept event is held while a log out of time order is read (issue 24): in 24 bytes
//! rather than an `Event`'s 32 (`Narrow`) wherever that says everything, as it is (`Wide`)
//! for the rest. Ten million events are 80 MB fewer to fault in, write and read back.

use crate::event::{Country, Direction, Event, Kind};

/// A form of a kept event: `Slot`, and how an event goes in and comes back out, in a bucket
/// whose instants start at `base` (on the UTC day `day`).
pub(super) trait Form {
    type Slot: Copy;
    /// Whether its buckets may be widened (`Buckets::coarsen`): a narrow slot keeps only the
    /// instant's place in a bucket of the first width.
    const COARSENS: bool;
    /// The slot for `e`, unless this form cannot hold it.
    fn pack(e: &Event, day: i32) -> Option<Self::Slot>;
    /// The instant of a slot.
    fn at(s: &Self::Slot, base: i64) -> i64;
    fn unpack(s: &Self::Slot, base: i64, day: i32) -> Event;
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

/// Any event, as it is.
pub(super) enum Wide {}

impl Form for Narrow {
    type Slot = Narrow;
    const COARSENS: bool = false;

    #[inline(always)]
    fn pack(e: &Event, day: i32) -> Option<Narrow> {
        // Within -64..=63, the day difference is a 7-bit signed number.
        let delta = e.day.wrapping_sub(day);
        if delta.wrapping_add(64) as u32 >= 128 {
            return None;
        }
        let outbound = u8::from(e.direction == Direction::Outbound);
        Some(Narrow {
            at: e.at as u32,
            line: e.line,
            contact: e.contact,
            stream: e.stream,
            cell: e.cell,
            country: e.country,
            kind: e.kind,
            day_direction: (delta as u8) << 1 | outbound,
        })
    }

    #[inline(always)]
    fn at(s: &Narrow, base: i64) -> i64 {
        base | i64::from(s.at)
    }

    #[inline(always)]
    fn unpack(s: &Narrow, base: i64, day: i32) -> Event {
        let direction = if s.day_direction & 1 == 0 {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        Event {
            at: Narrow::at(s, base),
            day: day + i32::from(s.day_direction as i8 >> 1),
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
    use crate::event::{Category, Script};

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

    #[test]
    fn a_narrow_slot_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Narrow>(), 24);
    }

    #[test]
    fn every_field_comes_back_from_a_narrow_slot() {
        let template = Script::new().at("2026-03-02 23:59").inbound().events()[0];
        let kinds = [
            Kind::FreeForm,
            Kind::Welcome,
            Kind::Template(None),
            Kind::Template(Some(Category::Marketing)),
            Kind::Template(Some(Category::Utility)),
            Kind::Template(Some(Category::Authentication)),
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
                assert!(same(&Wide::unpack(&Wide::pack(&e, 0).unwrap(), 0, 0), &e));
            }
        }
    }

    #[test]
    fn a_narrow_slot_holds_days_up_to_63_from_its_buckets_and_no_further() {
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
            }
            for delta in [-65, 64, 100_000, i32::MIN / 2] {
                let e = Event {
                    at,
                    day: first + delta,
                    ..template
                };
                assert!(narrow(&e).is_none(), "{at} {delta}");
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
