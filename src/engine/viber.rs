//! Viber's session rules (docs/billing-rules.md §3).

use super::{Billed, Charge, Engine, Outcome, Streams, Why};
use crate::event::{Category, Direction, Event, Kind, MICROS_PER_HOUR};
use crate::rates::{AfterCap, OnLimit, SessionParams};

/// A stream's session; id 0 (never given out) for none, which keeps the state at 24 bytes
/// rather than an `Option`'s 32: one of these is read per event.
#[derive(Clone, Copy, Default)]
struct Session {
    id: u32,
    ends: i64,
    /// Session messages the business sent in it.
    sent: u32,
    /// Business session messages since the customer's last message.
    in_a_row: u32,
}

const NONE: Session = Session {
    id: 0,
    ends: 0,
    sent: 0,
    in_a_row: 0,
};

pub struct ViberEngine {
    params: SessionParams,
    default_category: Category,
    /// The last session of each stream (`NONE` if none).
    open: Streams<Session>,
    next_id: u32,
}

impl ViberEngine {
    pub fn new(params: SessionParams, default_category: Category) -> ViberEngine {
        ViberEngine {
            params,
            default_category,
            open: Streams::new(),
            next_id: 1,
        }
    }

    fn start(&mut self, at: i64) -> Session {
        let s = Session {
            id: self.next_id,
            ends: at + self.params.hours * MICROS_PER_HOUR,
            sent: 0,
            in_a_row: 0,
        };
        self.next_id += 1;
        s
    }

    /// A business-initiated message of the default category (no type given).
    fn assumed(&self, billed: Billed, why: Why) -> Outcome {
        let mut o = Outcome::new(billed, Charge::Message(self.default_category), why);
        o.assumed_category = true;
        o
    }
}

impl Engine for ViberEngine {
    fn prefetch(&self, ev: &Event) {
        self.open.prefetch(ev);
    }

    fn replay(&mut self, ev: &Event) -> Outcome {
        let now = ev.at;
        let last = *self.open.get(ev);
        let current = (last.id != NONE.id && now < last.ends).then_some(last);

        if ev.direction == Direction::Inbound {
            let (s, opened) = match current {
                Some(mut s) => {
                    s.in_a_row = 0;
                    (s, false)
                }
                None => (self.start(now), true),
            };
            *self.open.get(ev) = s;
            let mut o = Outcome::new(
                Billed::Inbound,
                Charge::None,
                if opened {
                    Why::SessionOpened
                } else {
                    Why::SessionAlreadyOpen
                },
            );
            o.session = Some(s.id);
            o.opened = opened;
            o.until = s.ends;
            return o;
        }

        match ev.kind {
            Kind::Welcome => Outcome::new(Billed::Welcome, Charge::None, Why::WelcomeIsFree),
            Kind::Template(cat) => {
                let mut o = Outcome::new(
                    Billed::BusinessInitiated,
                    Charge::Message(cat.unwrap_or(self.default_category)),
                    Why::TemplateIsPerMessage,
                );
                o.assumed_category = cat.is_none();
                o
            }
            Kind::FreeForm => {
                let Some(mut s) = current else {
                    *self.open.get(ev) = NONE;
                    return self.assumed(Billed::BusinessInitiated, Why::NoOpenSession);
                };
                let mut opened = false;
                let mut why = None;
                if s.sent >= self.params.max_messages {
                    let cap = self.params.max_messages;
                    match self.params.after_cap {
                        AfterCap::End => {
                            *self.open.get(ev) = NONE;
                            return self
                                .assumed(Billed::BusinessInitiated, Why::CapReachedEnded { cap });
                        }
                        AfterCap::NewSession => {
                            s = self.start(now);
                            opened = true;
                            why = Some(Why::CapReachedNewSession { cap });
                        }
                    }
                } else if s.in_a_row >= self.params.max_consecutive {
                    let limit = self.params.max_consecutive;
                    let dropped = self.params.on_consecutive_limit == OnLimit::Drop;
                    let mut o = self.assumed(
                        Billed::RejectedInSession,
                        Why::InARowLimit { limit, dropped },
                    );
                    if dropped {
                        o.charge = Charge::None;
                        o.assumed_category = false;
                        o.dropped = true;
                    }
                    o.session = Some(s.id);
                    o.until = s.ends;
                    return o;
                }
                s.sent += 1;
                s.in_a_row += 1;
                *self.open.get(ev) = s;
                let first = s.sent == 1;
                let why = why.unwrap_or(if first {
                    Why::FirstBusinessMessage
                } else {
                    Why::InSession { sent: s.sent }
                });
                let mut o = Outcome::new(
                    Billed::Session,
                    if first { Charge::Session } else { Charge::None },
                    why,
                );
                o.session = Some(s.id);
                o.opened = opened;
                o.until = s.ends;
                o
            }
        }
    }
}
