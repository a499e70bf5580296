//! The replay order: by instant, then at one instant by account and contact name, one
//! contact's messages in input order.

use crate::event::Event;
use crate::input::Log;

/// The log's events in replay order: by instant; at the same instant by account and contact
/// (by name, so the order of the rows does not matter), and one contact's messages of the same
/// instant in input order.
pub fn replay_order(log: &Log) -> Vec<u32> {
    replay_order_on(log, 1)
}

/// `replay_order` with the work shared among `threads` threads (the order is the same).
pub fn replay_order_on(log: &Log, threads: usize) -> Vec<u32> {
    let ev = &log.events;
    let (order, rank) = std::thread::scope(|s| {
        let rank = s.spawn(|| log.contacts.ranks());
        let mut order: Vec<u32> = (0..ev.len() as u32).collect();
        // Exported logs are usually in time order already: then there is nothing to sort.
        if !log.in_time_order && !ev.windows(2).all(|w| w[0].at <= w[1].at) {
            // Each instant read once, in input order, and sorted with its index: the pairs are
            // distinct, so an unstable sort gives the stable order, without a scattered read of
            // the events at every comparison.
            let mut keyed: Vec<(i64, u32)> = (ev.iter().enumerate())
                .map(|(i, e)| (e.at, i as u32))
                .collect();
            keyed.sort_unstable();
            order = keyed.into_iter().map(|(_, i)| i).collect();
        }
        let rank = rank.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (order, rank)
    });
    // Ties sorted in pieces of the order cut between instants, a piece per thread.
    let mut order = order;
    let threads = threads.max(1);
    let mut pieces: Vec<&mut [u32]> = Vec::new();
    let mut rest: &mut [u32] = &mut order;
    for t in (1..threads).rev() {
        let mut cut = rest.len() - rest.len() / (t + 1);
        while cut > 0
            && cut < rest.len()
            && ev[rest[cut] as usize].at == ev[rest[cut - 1] as usize].at
        {
            cut += 1;
        }
        let (piece, tail) = rest.split_at_mut(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    std::thread::scope(|s| {
        for piece in pieces {
            let rank = &rank;
            s.spawn(move || sort_ties(piece, log, rank));
        }
    });
    order
}

/// Sorts each run of one instant in `order` by account and contact rank, stably.
fn sort_ties(order: &mut [u32], log: &Log, rank: &[u32]) {
    let ev = &log.events;
    // Each event's key read once, not at every comparison. Within a run the indexes rise
    // (the order is the input order, stably sorted by instant), so sorting (key, index)
    // keeps one contact's messages in input order.
    let mut keyed: Vec<(u64, u32)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let at = ev[order[start] as usize].at;
        let mut end = start + 1;
        while end < order.len() && ev[order[end] as usize].at == at {
            end += 1;
        }
        if end - start > 1 {
            keyed.clear();
            keyed.extend(order[start..end].iter().map(|&i| {
                let e = &ev[i as usize];
                (
                    ((log.account_of(e) as u64) << 32) | rank[e.contact as usize] as u64,
                    i,
                )
            }));
            keyed.sort_unstable();
            for (slot, (_, i)) in order[start..end].iter_mut().zip(&keyed) {
                *slot = *i;
            }
        }
        start = end;
    }
}

/// What putting one instant's events in the replay order needs: names, not ids (which are
/// given in order of appearance while a log is being read).
pub trait Names {
    fn account(&self, ev: &Event) -> &str;
    /// The contact's name, made in `buf` if need be.
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str;
}

/// Events of one instant in the replay order: by account name, then contact name.
pub(super) fn by_names(names: &dyn Names, a: &Event, b: &Event) -> std::cmp::Ordering {
    if a.stream == b.stream {
        return std::cmp::Ordering::Equal;
    }
    let (mut x, mut y) = ([0; 16], [0; 16]);
    (names.account(a).cmp(names.account(b)))
        .then_with(|| names.contact(a, &mut x).cmp(names.contact(b, &mut y)))
}

impl Names for Log {
    fn account(&self, ev: &Event) -> &str {
        self.account_name(self.account_of(ev))
    }
    fn contact<'a>(&'a self, ev: &Event, buf: &'a mut [u8; 16]) -> &'a str {
        self.contacts.name_in(ev.contact, buf)
    }
}

/// The replay order of `run`, events of one instant in input order, into `order`: by account
/// and contact name, one contact's events in input order (a stable sort), as `replay_order`
/// gives. Most instants are already in it: then nothing is sorted.
pub(super) fn instant_order(run: &[Event], names: &dyn Names, order: &mut Vec<usize>) {
    order.clear();
    order.extend(0..run.len());
    if run.len() < 2 {
        return;
    }
    let cmp = |a: &Event, b: &Event| by_names(names, a, b);
    if run.windows(2).all(|w| cmp(&w[0], &w[1]).is_le()) {
        return;
    }
    order.sort_by(|&a, &b| cmp(&run[a], &run[b]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Script;

    /// A script's names, as a log gives them.
    impl Names for Script {
        fn account(&self, ev: &Event) -> &str {
            &self.accounts()[self.streams()[ev.stream as usize].0 as usize]
        }
        fn contact<'a>(&'a self, ev: &Event, _: &'a mut [u8; 16]) -> &'a str {
            &self.contacts()[ev.contact as usize]
        }
    }

    #[test]
    fn an_instant_is_replayed_by_account_then_contact_then_input_order() {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .account("b")
            .contact("carol")
            .outbound("template")
            .account("a")
            .contact("dave")
            .outbound("template")
            .account("b")
            .contact("carol")
            .inbound()
            .account("a")
            .contact("alice")
            .outbound("template");
        let mut order = Vec::new();
        instant_order(s.events(), &s, &mut order);
        // a/alice (3), a/dave (1), then b/carol's two messages in input order (0, 2).
        assert_eq!(order, [3, 1, 0, 2]);
    }

    #[test]
    fn an_instant_in_order_is_left_as_it_is() {
        let s = Script::new()
            .at("2026-03-02 08:00")
            .account("a")
            .contact("bob")
            .inbound()
            .contact("alice")
            .account("b")
            .inbound();
        let mut order = vec![7];
        instant_order(s.events(), &s, &mut order);
        assert_eq!(order, [0, 1]);
    }
}
