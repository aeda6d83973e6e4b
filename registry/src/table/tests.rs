//! The table against a reference model: a `Vec` of `(key, pid, value)` rows in registration
//! order and a set of dead pids, under random register, unregister, death and cleanup
//! sequences (R-REG-1, R-REG-2, R-REG-3).

use std::collections::{BTreeMap, BTreeSet};

use beamish_process::{NodeId, Pid};
use proptest::prelude::*;

use super::{Inserted, KeyRule, Removed, Table};

fn pid(n: u8) -> Pid {
    Pid::from_parts(NodeId::LOCAL, u64::from(n) + 1, 0)
}

/// One step of a random sequence. Small domains, so that keys collide and owners share keys.
#[derive(Debug, Clone)]
enum Op {
    /// `pid` registers `key` with `value` (skipped for a dead pid: the dead do not register).
    Register { key: u8, pid: u8, value: u8 },
    /// `pid` removes its entries under `key` (with `value`, or all of them).
    Unregister { key: u8, pid: u8, value: Option<u8> },
    /// `pid` ends; its entries stay until its cleanup (R-REG-2).
    Die { pid: u8 },
    /// The watcher removes a dead `pid`'s entries (skipped for a live pid).
    Cleanup { pid: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4u8, 0..5u8, 0..3u8).prop_map(|(key, pid, value)| Op::Register { key, pid, value }),
        2 => (0..4u8, 0..5u8, proptest::option::of(0..3u8))
            .prop_map(|(key, pid, value)| Op::Unregister { key, pid, value }),
        1 => (0..5u8).prop_map(|pid| Op::Die { pid }),
        1 => (0..5u8).prop_map(|pid| Op::Cleanup { pid }),
    ]
}

/// The reference: every entry as a row, in registration order.
#[derive(Debug, Default)]
struct Model {
    rows: Vec<(u8, Pid, u8)>,
    dead: BTreeSet<Pid>,
}

impl Model {
    fn holds_any(&self, p: Pid) -> bool {
        self.rows.iter().any(|r| r.1 == p)
    }

    /// Removes the rows that `doomed` picks; returns how many went.
    fn remove(&mut self, mut doomed: impl FnMut(&(u8, Pid, u8)) -> bool) -> usize {
        let before = self.rows.len();
        self.rows.retain(|r| !doomed(r));
        before - self.rows.len()
    }

    fn register(&mut self, rule: KeyRule, key: u8, p: Pid, value: u8) -> Result<Inserted, Pid> {
        let mut released = None;
        if rule == KeyRule::Unique {
            if let Some(&(_, owner, _)) = self.rows.iter().find(|r| r.0 == key) {
                if owner == p || !self.dead.contains(&owner) {
                    return Err(owner);
                }
                self.remove(|r| r.0 == key && r.1 == owner);
                if !self.holds_any(owner) {
                    released = Some(owner);
                }
            }
        }
        let new_owner = !self.holds_any(p);
        self.rows.push((key, p, value));
        Ok(Inserted {
            new_owner,
            released,
        })
    }

    fn unregister(&mut self, key: u8, p: Pid, value: Option<u8>) -> Removed {
        let held = self.holds_any(p);
        let count = self.remove(|r| r.0 == key && r.1 == p && value.is_none_or(|v| r.2 == v));
        Removed {
            count,
            owner_gone: held && count > 0 && !self.holds_any(p),
        }
    }
}

/// The table holds exactly the model's rows, key by key in registration order; a unique key
/// has one entry; the owners index counts each owner's entries per key and lists no owner
/// without entries; `len` is the number of entries.
fn assert_agrees(table: &Table<u8, u8>, model: &Model) -> Result<(), TestCaseError> {
    let mut by_key: BTreeMap<u8, Vec<(Pid, u8)>> = BTreeMap::new();
    for &(k, p, v) in &model.rows {
        by_key.entry(k).or_default().push((p, v));
    }
    let mut keys: Vec<u8> = table.keys.keys().copied().collect();
    keys.sort_unstable();
    prop_assert_eq!(&keys, &by_key.keys().copied().collect::<Vec<_>>());
    for (k, expected) in &by_key {
        let got: Vec<(Pid, u8)> = table.keys[k].iter().map(|e| (e.pid, e.value)).collect();
        prop_assert_eq!(&got, expected, "entries under key {}", k);
        if table.rule == KeyRule::Unique {
            prop_assert_eq!(got.len(), 1, "a unique key has one entry");
        }
    }

    let mut counts: BTreeMap<Pid, BTreeMap<u8, usize>> = BTreeMap::new();
    for &(k, p, _) in &model.rows {
        *counts.entry(p).or_default().entry(k).or_default() += 1;
    }
    let index: BTreeMap<Pid, BTreeMap<u8, usize>> = table
        .owners
        .iter()
        .map(|(p, keys)| (*p, keys.iter().map(|(k, n)| (*k, *n)).collect()))
        .collect();
    prop_assert_eq!(&index, &counts, "the owners index");
    for p in index.keys() {
        let mut from_keys_of: Vec<(u8, usize)> = table.keys_of(*p).map(|(k, n)| (*k, n)).collect();
        from_keys_of.sort_unstable();
        let expected: Vec<(u8, usize)> = counts[p].iter().map(|(k, n)| (*k, *n)).collect();
        prop_assert_eq!(from_keys_of, expected);
    }
    prop_assert_eq!(table.len(), model.rows.len());
    Ok(())
}

fn run(rule: KeyRule, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut table: Table<u8, u8> = Table::new(rule);
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Register { key, pid: n, value } => {
                let p = pid(n);
                if model.dead.contains(&p) {
                    continue;
                }
                let dead = model.dead.clone();
                let got = table.insert(key, p, value, |owner| !dead.contains(&owner));
                prop_assert_eq!(got, model.register(rule, key, p, value), "{:?}", op);
            }
            Op::Unregister { key, pid: n, value } => {
                let p = pid(n);
                let got = table.remove(p, &key, |v| value.is_none_or(|want| *v == want));
                prop_assert_eq!(got, model.unregister(key, p, value), "{:?}", op);
            }
            Op::Die { pid: n } => {
                model.dead.insert(pid(n));
            }
            Op::Cleanup { pid: n } => {
                let p = pid(n);
                if !model.dead.contains(&p) {
                    continue;
                }
                let expected = model.remove(|r| r.1 == p);
                prop_assert_eq!(table.remove_owner(p), expected, "{:?}", op);
                prop_assert!(table.keys_of(p).next().is_none());
            }
        }
        assert_agrees(&table, &model)?;
    }
    Ok(())
}

proptest! {
    /// R-REG-1, R-REG-2, R-REG-3 on a unique table: a key has at most one entry, refused
    /// while its owner lives (the caller included) and taken over once it is dead; the owners
    /// index agrees with the entries; removing an owner removes exactly its entries.
    #[test]
    fn r_reg_1_unique_table_agrees_with_the_model(ops in proptest::collection::vec(op(), 0..80)) {
        run(KeyRule::Unique, ops)?;
    }

    /// R-REG-1, R-REG-2, R-REG-3 on a duplicate table: every registration is kept, the same
    /// owner's included, in registration order; unregister removes only the caller's matching
    /// entries; removing an owner removes exactly its entries.
    #[test]
    fn r_reg_1_duplicate_table_agrees_with_the_model(
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        run(KeyRule::Duplicate, ops)?;
    }
}

/// The counts behind `new_owner` and `owner_gone`, step by step on a duplicate table.
#[test]
fn counts_duplicates_and_forgets_empty_owners() {
    let mut t: Table<&str, u32> = Table::new(KeyRule::Duplicate);
    let alive = |_| true;
    let first = Inserted {
        new_owner: true,
        released: None,
    };
    let again = Inserted {
        new_owner: false,
        released: None,
    };
    assert_eq!(t.insert("a", pid(1), 1, alive), Ok(first));
    assert_eq!(t.insert("a", pid(1), 2, alive), Ok(again));
    assert_eq!(t.insert("b", pid(1), 3, alive), Ok(again));
    assert_eq!(t.insert("a", pid(2), 4, alive), Ok(first));
    assert_eq!(t.len(), 4);
    let removed = |count, owner_gone| Removed { count, owner_gone };
    assert_eq!(t.remove(pid(1), &"a", |v| *v == 2), removed(1, false));
    assert_eq!(t.owners[&pid(1)][&"a"], 1);
    assert_eq!(t.remove(pid(1), &"a", |_| true), removed(1, false));
    assert_eq!(t.remove(pid(1), &"b", |_| true), removed(1, true));
    assert!(!t.owners.contains_key(&pid(1)));
    assert_eq!(t.remove_owner(pid(2)), 1);
    assert_eq!(t.len(), 0);
    assert!(t.keys.is_empty() && t.owners.is_empty());
}

/// R-REG-1, R-REG-2: a unique key is refused while its owner lives and taken over from a
/// dead one, which is released if that was its last entry.
#[test]
fn r_reg_2_unique_key_of_a_dead_owner_is_taken_over() {
    let mut t: Table<&str, u32> = Table::new(KeyRule::Unique);
    t.insert("k", pid(1), 1, |_| true).unwrap();
    assert_eq!(t.insert("k", pid(1), 2, |_| false), Err(pid(1)));
    assert_eq!(t.insert("k", pid(2), 2, |_| true), Err(pid(1)));
    assert_eq!(
        t.insert("k", pid(2), 2, |_| false),
        Ok(Inserted {
            new_owner: true,
            released: Some(pid(1)),
        })
    );
    assert_eq!(t.first_owner("k"), Some(pid(2)));
    assert_eq!(t.remove_owner(pid(1)), 0);
}
