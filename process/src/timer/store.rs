//! The pending timers of one node, as plain data: a slab of entries and a min-heap of
//! `(deadline, slot)`. No clock, no locks, no tokio: the service (`timer/mod.rs`) owns one
//! behind a mutex, and the property test below drives it with made-up times.
//!
//! Times are *ticks*, whole milliseconds since the service's epoch. A timer is due at a tick
//! `d` and fires from the first look at a time `now >= d`, never before.
//!
//! Cancel is O(1): it frees the entry and leaves its heap item behind, *stale*. A heap item
//! `(d, slot)` is live while the slot holds an entry whose deadline is `d`; a stale item that
//! happens to match a newer entry (same slot, same deadline) fires that entry at its own
//! deadline, and the entry's own item is stale afterwards, so every entry still fires once and
//! on time. When stale items outnumber live ones the heap is rebuilt from the slab (O(n), after
//! at least n/2 cancels: O(1) amortized), so a server that resets an idle timer on every
//! message does not grow the heap without bound.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What a store holds per timer besides its deadline: a one-shot or a repeating delivery.
pub(crate) trait Payload: Sized {
    /// The period in ticks of a repeating timer (at least 1), 0 for a one-shot one.
    fn period(&self) -> u64;
    /// A handle to fire a repeating timer with while its entry stays in the store.
    fn again(&self) -> Self;
}

/// Where a timer lives: its slot, and the id that makes it this timer and no later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) slot: u32,
    pub(crate) id: u64,
}

enum Slot<P> {
    Free { next: u32 },
    Taken { id: u64, deadline: u64, payload: P },
}

const NONE: u32 = u32::MAX;

/// The pending timers (see the module docs).
pub(crate) struct Store<P> {
    slots: Vec<Slot<P>>,
    /// Head of the free list of slots, [`NONE`] if every slot is taken.
    free: u32,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    live: usize,
}

impl<P: Payload> Store<P> {
    pub(crate) fn new() -> Store<P> {
        Store {
            slots: Vec::new(),
            free: NONE,
            heap: BinaryHeap::new(),
            live: 0,
        }
    }

    /// Timers pending.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Adds a timer due at tick `deadline`, named by `id` (unique per store).
    pub(crate) fn insert(&mut self, id: u64, deadline: u64, payload: P) -> Key {
        let taken = Slot::Taken {
            id,
            deadline,
            payload,
        };
        let slot = if self.free == NONE {
            let slot = u32::try_from(self.slots.len()).expect("fewer than 2^32 pending timers");
            assert!(slot != NONE, "fewer than 2^32 - 1 pending timers");
            self.slots.push(taken);
            slot
        } else {
            let slot = self.free;
            let old = std::mem::replace(&mut self.slots[slot as usize], taken);
            let Slot::Free { next } = old else {
                unreachable!("the free list holds free slots")
            };
            self.free = next;
            slot
        };
        self.heap.push(Reverse((deadline, slot)));
        self.live += 1;
        Key { slot, id }
    }

    /// The deadline of the timer `key`, if it is still pending.
    pub(crate) fn deadline(&self, key: Key) -> Option<u64> {
        match self.slots.get(key.slot as usize)? {
            Slot::Taken { id, deadline, .. } if *id == key.id => Some(*deadline),
            _ => None,
        }
    }

    /// Removes the timer `key`: its deadline and payload, or `None` if it has fired (a
    /// one-shot timer) or was cancelled already.
    pub(crate) fn cancel(&mut self, key: Key) -> Option<(u64, P)> {
        self.deadline(key)?;
        let (deadline, payload) = self.take(key.slot);
        if self.heap.len() > 2 * self.live + 64 {
            self.rebuild();
        }
        Some((deadline, payload))
    }

    fn take(&mut self, slot: u32) -> (u64, P) {
        let old = std::mem::replace(
            &mut self.slots[slot as usize],
            Slot::Free { next: self.free },
        );
        self.free = slot;
        self.live -= 1;
        match old {
            Slot::Taken {
                deadline, payload, ..
            } => (deadline, payload),
            Slot::Free { .. } => unreachable!("taken from a taken slot"),
        }
    }

    /// The heap from the live entries only.
    fn rebuild(&mut self) {
        let items: Vec<_> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Taken { deadline, .. } => Some(Reverse((*deadline, i as u32))),
                Slot::Free { .. } => None,
            })
            .collect();
        self.heap = BinaryHeap::from(items);
    }

    fn is_live(&self, deadline: u64, slot: u32) -> bool {
        matches!(self.slots[slot as usize], Slot::Taken { deadline: d, .. } if d == deadline)
    }

    /// The earliest deadline pending, dropping the stale heap items above it.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse((d, slot))) = self.heap.peek() {
            if self.is_live(d, slot) {
                return Some(d);
            }
            self.heap.pop();
        }
        None
    }

    /// Moves up to `max` timers due at `now` (deadline `<= now`) to `out`, earliest first,
    /// with their keys. A one-shot timer leaves the store; a repeating one stays, due again at
    /// its next period after `now` (ticks it missed are skipped, not fired in a burst), and
    /// `out` gets a handle from [`Payload::again`]. Returns whether more are due.
    pub(crate) fn pop_due(&mut self, now: u64, max: usize, out: &mut Vec<(Key, P)>) -> bool {
        let mut n = 0;
        while let Some(&Reverse((d, slot))) = self.heap.peek() {
            if d > now {
                return false;
            }
            if n == max {
                return true;
            }
            self.heap.pop();
            if !self.is_live(d, slot) {
                continue;
            }
            n += 1;
            let Slot::Taken {
                id,
                deadline,
                payload,
            } = &mut self.slots[slot as usize]
            else {
                unreachable!("just seen live")
            };
            let key = Key { slot, id: *id };
            match (now - d).checked_div(payload.period()) {
                None => {
                    let (_, payload) = self.take(slot);
                    out.push((key, payload));
                }
                Some(missed) => {
                    // The first tick after `now`: d + k * period > now.
                    let next = d + (missed + 1) * payload.period();
                    *deadline = next;
                    out.push((key, payload.again()));
                    self.heap.push(Reverse((next, slot)));
                }
            }
        }
        false
    }

    /// Bytes the store's own buffers take at their capacity (not the payloads' heap data).
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot<P>>()
            + self.heap.capacity() * std::mem::size_of::<Reverse<(u64, u32)>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// A payload for tests: a name and a period.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct T {
        name: u64,
        period: u64,
    }

    impl Payload for T {
        fn period(&self) -> u64 {
            self.period
        }
        fn again(&self) -> T {
            *self
        }
    }

    fn once(name: u64) -> T {
        T { name, period: 0 }
    }

    fn fire_all(s: &mut Store<T>, now: u64) -> Vec<u64> {
        let mut out = Vec::new();
        while s.pop_due(now, 2, &mut out) {}
        out.into_iter().map(|(_, t)| t.name).collect()
    }

    /// A slab entry is 32 bytes for a boxed trait object payload (the free variant lives in
    /// the box's niche), a heap item 16.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn entries_are_small() {
        assert_eq!(std::mem::size_of::<Slot<Box<dyn Send>>>(), 32);
        assert_eq!(std::mem::size_of::<Reverse<(u64, u32)>>(), 16);
    }

    #[test]
    fn fires_in_deadline_order_and_not_before() {
        let mut s = Store::new();
        s.insert(1, 30, once(1));
        s.insert(2, 10, once(2));
        s.insert(3, 20, once(3));
        assert_eq!(s.next_deadline(), Some(10));
        assert_eq!(fire_all(&mut s, 9), Vec::<u64>::new());
        assert_eq!(fire_all(&mut s, 20), [2, 3]);
        assert_eq!(fire_all(&mut s, 30), [1]);
        assert_eq!(s.len(), 0);
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn a_cancelled_timer_never_fires_and_its_key_goes_stale() {
        let mut s = Store::new();
        let a = s.insert(1, 10, once(1));
        assert_eq!(s.cancel(a).map(|(d, t)| (d, t.name)), Some((10, 1)));
        assert_eq!(s.cancel(a), None);
        // The slot is reused, with the same deadline: the old key does not name the new timer.
        let b = s.insert(2, 10, once(2));
        assert_eq!(b.slot, a.slot);
        assert_eq!(s.deadline(a), None);
        assert_eq!(s.deadline(b), Some(10));
        assert_eq!(fire_all(&mut s, 10), [2]);
    }

    #[test]
    fn a_repeating_timer_skips_the_ticks_it_missed() {
        let mut s = Store::new();
        let k = s.insert(1, 10, T { name: 1, period: 5 });
        assert_eq!(fire_all(&mut s, 10), [1]);
        assert_eq!(s.deadline(k), Some(15));
        assert_eq!(fire_all(&mut s, 32), [1]);
        assert_eq!(s.deadline(k), Some(35));
        assert!(s.cancel(k).is_some());
        assert_eq!(fire_all(&mut s, 100), Vec::<u64>::new());
    }

    #[test]
    fn stale_items_are_dropped_when_they_outnumber_live_ones() {
        let mut s = Store::new();
        for i in 0..10_000 {
            let k = s.insert(i, 1_000 + i, once(i));
            s.cancel(k);
        }
        assert!(s.heap.len() <= 64 + 2, "{}", s.heap.len());
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A timer due this many ticks from now, repeating with this period (0: once).
        Insert { after: u64, period: u64 },
        /// Cancel the n-th timer inserted so far (mod their number).
        Cancel(usize),
        /// Let time pass, then fire what is due, a few at a time.
        Advance { ticks: u64, batch: usize },
    }

    /// A timer as the model sees it: key, next due, period, cancelled, fires, last fire.
    type Model = (Key, u64, u64, bool, u64, Option<u64>);

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..50, prop_oneof![3 => Just(0u64), 1 => 1u64..20])
                .prop_map(|(after, period)| Op::Insert { after, period }),
            2 => any::<usize>().prop_map(Op::Cancel),
            3 => (0u64..30, 1usize..5).prop_map(|(ticks, batch)| Op::Advance { ticks, batch }),
        ]
    }

    proptest! {
        /// Insert, cancel and advance in any order: no timer fires before its deadline, a
        /// one-shot timer that is not cancelled fires exactly once, a cancelled one never
        /// after its cancel, and a repeating one at most once per tick of its schedule, each
        /// tick at or after its time. Cancel answers for
        /// a pending timer only.
        #[test]
        fn the_store_never_fires_early_and_fires_each_timer_once(ops in prop::collection::vec(op(), 1..200)) {
            let mut s: Store<T> = Store::new();
            let mut now = 0u64;
            // name -> (key, next due, period, cancelled, fired count, last fire)
            let mut model: HashMap<u64, Model> = HashMap::new();
            let mut names = Vec::new();
            for op in ops {
                match op {
                    Op::Insert { after, period } => {
                        let name = names.len() as u64;
                        let key = s.insert(name, now + after, T { name, period });
                        model.insert(name, (key, now + after, period, false, 0, None));
                        names.push(name);
                    }
                    Op::Cancel(i) if !names.is_empty() => {
                        let name = names[i % names.len()];
                        let e = model.get_mut(&name).unwrap();
                        let pending = !e.3 && (e.2 > 0 || e.4 == 0);
                        let got = s.cancel(e.0);
                        prop_assert_eq!(got.is_some(), pending, "cancel of {}", name);
                        if let Some((d, _)) = got {
                            prop_assert!(d >= now, "a pending deadline in the past");
                        }
                        e.3 = true;
                    }
                    Op::Cancel(_) => {}
                    Op::Advance { ticks, batch } => {
                        now += ticks;
                        let mut out = Vec::new();
                        while s.pop_due(now, batch, &mut out) {}
                        for (key, t) in out {
                            let e = model.get_mut(&t.name).unwrap();
                            prop_assert_eq!(key, e.0);
                            prop_assert!(!e.3, "timer {} fired after its cancel", t.name);
                            // Never early: each fire at or after the tick it was due, a
                            // repeating timer's next tick the first on its schedule after now.
                            prop_assert!(now >= e.1, "timer {} fired at {} before {}", t.name, now, e.1);
                            if let Some(last) = e.5 {
                                prop_assert!(e.2 > 0, "one-shot timer {} fired twice", t.name);
                                prop_assert!(now > last, "timer {} fired twice at {}", t.name, now);
                            }
                            if let Some(missed) = (now - e.1).checked_div(e.2) {
                                e.1 += (missed + 1) * e.2;
                                prop_assert_eq!(s.deadline(key), Some(e.1));
                            }
                            e.4 += 1;
                            e.5 = Some(now);
                        }
                    }
                }
            }
            // Far in the future, every one-shot timer not cancelled has fired exactly once.
            now += 1_000;
            let mut out = Vec::new();
            while s.pop_due(now, 7, &mut out) {}
            for (_, t) in out {
                let e = model.get_mut(&t.name).unwrap();
                prop_assert!(!e.3);
                e.4 += 1;
            }
            for (name, e) in &model {
                if e.2 == 0 && !e.3 {
                    prop_assert_eq!(e.4, 1, "one-shot timer {} fired {} times", name, e.4);
                }
            }
            let repeating = model.values().filter(|e| e.2 > 0 && !e.3).count();
            prop_assert_eq!(s.len(), repeating);
        }
    }
}
