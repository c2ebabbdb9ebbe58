//! Rate limits shared by every process using one store: a provider's
//! requests and tokens per minute hold for the whole fleet (PostgreSQL: all
//! workers; a SQLite file: every process on the machine), not per process.
//!
//! Provider clients ask a [`SharedQuota`] before each request; stores
//! implement it with one row per bucket and [`Bucket::take`], the one copy
//! of the arithmetic.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::store::StoreResult;

/// Limits of one provider endpoint and key; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLimits {
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

impl QuotaLimits {
    pub fn is_unlimited(&self) -> bool {
        self.requests_per_minute.is_none() && self.tokens_per_minute.is_none()
    }
}

/// One change to a bucket pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaOp {
    /// If a request of `tokens` fits under `limits`, take it (zero wait);
    /// otherwise take nothing and return how long to wait.
    Take { limits: QuotaLimits, tokens: u64 },
    /// Give back tokens taken but not used (the estimate was larger than
    /// the reply); returns zero.
    Refund { limits: QuotaLimits, tokens: u64 },
}

impl QuotaOp {
    /// Apply to the stored buckets (`None`: never used) at `now_ms`; the
    /// one copy of the arithmetic every store uses.
    pub fn apply(
        self,
        requests: &mut Option<Bucket>,
        tokens_bucket: &mut Option<Bucket>,
        now_ms: i64,
    ) -> Duration {
        match self {
            Self::Take { limits, tokens } => {
                Bucket::take(requests, tokens_bucket, limits, tokens, now_ms)
            }
            Self::Refund { limits, tokens } => {
                if let (Some(tpm), Some(b)) = (limits.tokens_per_minute, tokens_bucket.as_mut()) {
                    b.refill(tpm, now_ms);
                    b.avail = (b.avail + tokens as f64).min(Bucket::rate(tpm).1);
                }
                Duration::ZERO
            }
        }
    }

    fn is_noop(&self) -> bool {
        match self {
            Self::Take { limits, .. } => limits.is_unlimited(),
            Self::Refund { limits, tokens } => limits.tokens_per_minute.is_none() || *tokens == 0,
        }
    }
}

/// A budget shared by every process of a store: one row (or entry) per
/// bucket key, changed under a lock.
#[async_trait]
pub trait SharedQuota: Send + Sync {
    /// Apply `op` to bucket `key`; the wait a `Take` must sleep before
    /// trying again (zero: taken).
    async fn apply(&self, key: &str, op: QuotaOp) -> StoreResult<Duration>;
}

/// Whether `op` needs the store at all (unlimited takes and empty refunds don't).
pub fn needs_store(op: &QuotaOp) -> bool {
    !op.is_noop()
}

/// The requests and tokens buckets of one key (`None`: never used).
type BucketPair = (Option<Bucket>, Option<Bucket>);

/// Buckets of one process: the [`SharedQuota`] of in-memory stores, and of
/// provider clients used without a store.
#[derive(Debug, Default)]
pub struct MemoryQuota {
    buckets: std::sync::Mutex<std::collections::HashMap<String, BucketPair>>,
}

impl MemoryQuota {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SharedQuota for MemoryQuota {
    async fn apply(&self, key: &str, op: QuotaOp) -> StoreResult<Duration> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (r, t) = map.entry(key.to_string()).or_default();
        Ok(op.apply(r, t, crate::util::now_ms()))
    }
}

/// One continuously refilled token bucket holding a second's worth of a
/// per-minute limit (so a limit is paced evenly, never spent in one burst);
/// a request larger than the bucket passes when the bucket is full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Available units.
    pub avail: f64,
    /// When `avail` was last brought up to date (ms since the epoch).
    pub at_ms: i64,
}

impl Bucket {
    fn rate(per_minute: u32) -> (f64, f64) {
        let per_ms = f64::from(per_minute.max(1)) / 60_000.0;
        let capacity = (per_ms * 1000.0).max(1.0);
        (per_ms, capacity)
    }

    /// A full bucket for `per_minute`.
    pub fn full(per_minute: u32, now_ms: i64) -> Self {
        Self {
            avail: Self::rate(per_minute).1,
            at_ms: now_ms,
        }
    }

    fn refill(&mut self, per_minute: u32, now_ms: i64) {
        let (per_ms, capacity) = Self::rate(per_minute);
        let dt = (now_ms - self.at_ms).max(0) as f64;
        self.avail = (self.avail + dt * per_ms).min(capacity);
        self.at_ms = now_ms.max(self.at_ms);
    }

    /// Time until `amount` fits (capped at the bucket's size).
    fn wait_for(&self, per_minute: u32, amount: f64) -> Duration {
        let (per_ms, capacity) = Self::rate(per_minute);
        let need = amount.min(capacity) - self.avail;
        if need <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_millis((need / per_ms).ceil() as u64)
        }
    }

    /// Refill both buckets to `now_ms`, then take one request of `tokens`
    /// if both allow it (zero), or nothing (the wait).
    pub fn take(
        requests: &mut Option<Bucket>,
        tokens_bucket: &mut Option<Bucket>,
        limits: QuotaLimits,
        tokens: u64,
        now_ms: i64,
    ) -> Duration {
        let mut wait = Duration::ZERO;
        if let Some(rpm) = limits.requests_per_minute {
            let b = requests.get_or_insert_with(|| Bucket::full(rpm, now_ms));
            b.refill(rpm, now_ms);
            wait = wait.max(b.wait_for(rpm, 1.0));
        }
        if let Some(tpm) = limits.tokens_per_minute {
            let b = tokens_bucket.get_or_insert_with(|| Bucket::full(tpm, now_ms));
            b.refill(tpm, now_ms);
            wait = wait.max(b.wait_for(tpm, tokens as f64));
        }
        if wait.is_zero() {
            if let Some(b) = requests.as_mut() {
                b.avail -= 1.0;
            }
            if let Some(b) = tokens_bucket.as_mut() {
                b.avail -= tokens as f64;
            }
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_requests_and_waits_for_tokens() {
        let limits = QuotaLimits {
            requests_per_minute: Some(120),
            tokens_per_minute: None,
        };
        let (mut r, mut t) = (None, None);
        assert_eq!(Bucket::take(&mut r, &mut t, limits, 0, 0), Duration::ZERO);
        assert_eq!(Bucket::take(&mut r, &mut t, limits, 0, 0), Duration::ZERO);
        assert_eq!(
            Bucket::take(&mut r, &mut t, limits, 0, 0),
            Duration::from_millis(500)
        );
        assert_eq!(Bucket::take(&mut r, &mut t, limits, 0, 500), Duration::ZERO);
        let tpm = QuotaLimits {
            requests_per_minute: None,
            tokens_per_minute: Some(6000),
        };
        let (mut r, mut t) = (None, None);
        assert_eq!(Bucket::take(&mut r, &mut t, tpm, 5000, 0), Duration::ZERO);
        assert!(Bucket::take(&mut r, &mut t, tpm, 50, 0) >= Duration::from_secs(49));
    }
}
