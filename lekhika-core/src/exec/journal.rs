//! The run's view of the call journal: every model reply recorded for this
//! execution (loaded at launch, grown as calls complete), found again by
//! the unit that asked and the request's identity.
//!
//! A request's identity is a hash of what determines its reply (provider,
//! model, prompt, parameters; not whether it streams), salted with where it
//! was asked — the attempt's *generation*, and for nested work the host's
//! nested request number, the job's position and the job's generation —
//! and numbered by occurrence within its attempt:
//! - a retried, resumed or taken-over attempt asks the same requests in the
//!   same generation, so it finds and replays them;
//! - a regeneration after invalid output is a new generation, so even an
//!   unchanged request (a whole-book pass's checks) is asked anew instead
//!   of replaying the rejected work;
//! - the same request asked twice in one attempt gets two entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::provider::Usage;
use crate::store::{CallKind, CallRecord, NodeKey};

/// Where an attempt's calls are journaled: its checkpoint unit (a node or a
/// map item; nested work uses its host's) and its generation salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JournalScope {
    pub key: NodeKey,
    pub salt: String,
    /// Its calls must be asked anew, never reused from earlier runs: an
    /// attempt regenerated after invalid output (generation > 0).
    pub fresh: bool,
}

impl JournalScope {
    /// A unit's own scope at `generation`.
    pub fn unit(key: NodeKey, generation: u32) -> Self {
        Self {
            key,
            salt: format!("g{generation}"),
            fresh: generation > 0,
        }
    }

    /// The scope of the `n`-th nested request an attempt makes.
    pub fn request(&self, n: u32) -> Self {
        Self {
            key: self.key.clone(),
            salt: format!("{}/n{n}", self.salt),
            fresh: self.fresh,
        }
    }

    /// Job `pos` of a nested request, at the job attempt's `generation`.
    pub fn job(&self, pos: usize, generation: u32) -> Self {
        Self {
            key: self.key.clone(),
            salt: format!("{}/j{pos}/g{generation}", self.salt),
            fresh: self.fresh || generation > 0,
        }
    }
}

/// 128-bit FNV-1a: stable across processes, platforms and versions.
fn fnv128(parts: &[&[u8]]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h = OFFSET;
    for part in parts {
        for &b in *part {
            h ^= u128::from(b);
            h = h.wrapping_mul(PRIME);
        }
        // Separate parts, so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// What determines a reply: the request's JSON (stream flag excluded by the caller).
pub(crate) fn fingerprint(kind: CallKind, request: &impl Serialize) -> u128 {
    let body = serde_json::to_vec(request).unwrap_or_default();
    fnv128(&[kind.as_str().as_bytes(), &body])
}

/// The journal identity of occurrence `n` of `fingerprint` in `scope`.
pub(crate) fn request_id(scope: &JournalScope, fingerprint: u128, n: u32) -> String {
    format!(
        "{:032x}",
        fnv128(&[
            scope.salt.as_bytes(),
            &fingerprint.to_le_bytes(),
            &n.to_le_bytes()
        ])
    )
}

#[derive(Default)]
struct UnitCalls {
    by_request: HashMap<String, Arc<CallRecord>>,
    next_seq: u32,
}

/// Recorded calls by unit, and running totals of every call of the
/// execution (what the wallet was charged).
#[derive(Default)]
pub(crate) struct Journal {
    units: Mutex<HashMap<NodeKey, UnitCalls>>,
    totals: Mutex<(Usage, i64)>,
}

impl Journal {
    /// The journal of an execution as loaded from the store.
    pub fn load(calls: Vec<CallRecord>) -> Self {
        let j = Journal::default();
        for c in calls {
            j.add(c);
        }
        j
    }

    /// The recorded reply of `request` in `unit`, if any.
    pub fn find(&self, unit: &NodeKey, request: &str) -> Option<Arc<CallRecord>> {
        self.units
            .lock()
            .ok()?
            .get(unit)?
            .by_request
            .get(request)
            .cloned()
    }

    /// The next recording number of `unit`.
    pub fn next_seq(&self, unit: &NodeKey) -> u32 {
        self.units
            .lock()
            .map(|mut m| {
                let u = m.entry(unit.clone()).or_default();
                let n = u.next_seq;
                u.next_seq = n.saturating_add(1);
                n
            })
            .unwrap_or(0)
    }

    /// Remember a call recorded by this run.
    pub fn record(&self, call: CallRecord) {
        self.add(call);
    }

    fn add(&self, call: CallRecord) {
        if let Ok(mut t) = self.totals.lock() {
            t.0.add(call.spent());
            t.1 = t.1.saturating_add(call.cost);
        }
        if let Ok(mut m) = self.units.lock() {
            let key = NodeKey {
                node: call.node.clone(),
                item: call.item,
            };
            let u = m.entry(key).or_default();
            u.next_seq = u.next_seq.max(call.seq.saturating_add(1));
            u.by_request.insert(call.request.clone(), Arc::new(call));
        }
    }

    /// Usage and wallet cost of the calls recorded under `unit`.
    pub fn unit_totals(&self, unit: &NodeKey) -> (Usage, i64) {
        let mut t = (Usage::default(), 0i64);
        if let Ok(m) = self.units.lock() {
            if let Some(u) = m.get(unit) {
                for c in u.by_request.values() {
                    t.0.add(c.spent());
                    t.1 = t.1.saturating_add(c.cost);
                }
            }
        }
        t
    }

    /// Usage and wallet cost of every recorded call of the execution.
    pub fn totals(&self) -> (Usage, i64) {
        self.totals.lock().map(|t| *t).unwrap_or_default()
    }

    /// Ledger keys of recorded calls with their amounts: charges to settle
    /// if their reservation is still open (the process died in between).
    pub fn charges(&self) -> HashMap<String, i64> {
        let mut out = HashMap::new();
        if let Ok(m) = self.units.lock() {
            for u in m.values() {
                for c in u.by_request.values() {
                    if let Some(k) = &c.charge {
                        out.insert(k.clone(), c.cost);
                    }
                }
            }
        }
        out
    }
}

/// Occurrence counters of one attempt: the n-th time it asks a request.
#[derive(Default)]
pub(crate) struct Occurrences(Mutex<HashMap<u128, u32>>);

impl Occurrences {
    pub fn next(&self, fingerprint: u128) -> u32 {
        self.0
            .lock()
            .map(|mut m| {
                let n = m.entry(fingerprint).or_insert(0);
                let k = *n;
                *n += 1;
                k
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_depend_on_salt_request_and_occurrence() {
        let s0 = JournalScope::unit(NodeKey::node("a"), 0);
        let s1 = JournalScope::unit(NodeKey::node("a"), 1);
        let f = fingerprint(CallKind::Text, &("hello", 1));
        let g = fingerprint(CallKind::Text, &("hello", 2));
        assert_ne!(f, g);
        assert_ne!(f, fingerprint(CallKind::Image, &("hello", 1)));
        let id = request_id(&s0, f, 0);
        assert_eq!(id.len(), 32);
        assert_eq!(id, request_id(&s0, f, 0), "stable");
        assert_ne!(id, request_id(&s1, f, 0), "a new generation asks anew");
        assert_ne!(
            id,
            request_id(&s0, f, 1),
            "a second occurrence is its own call"
        );
        assert_ne!(id, request_id(&s0.request(0).job(0, 0), f, 0));
        assert_ne!(
            request_id(&s0.request(0).job(0, 0), f, 0),
            request_id(&s0.request(1).job(0, 0), f, 0),
            "the same question in a later round is its own call"
        );
        // Known values: the hash must never change between versions, or
        // resumed runs would ask their recorded calls again.
        assert_eq!(fnv128(&[]), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(
            format!("{:032x}", fnv128(&[b"a"])),
            "0880954550ab1be95aa0733055b751b9"
        );
    }

    #[test]
    fn occurrences_count_per_fingerprint() {
        let o = Occurrences::default();
        assert_eq!((o.next(1), o.next(1), o.next(2), o.next(1)), (0, 1, 0, 2));
    }
}
