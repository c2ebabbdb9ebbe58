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

/// A budget shared by every process of a store.
#[async_trait]
pub trait SharedQuota: Send + Sync {
    /// If a request of `tokens` fits bucket `key` under `limits`, take it and
    /// return zero; otherwise take nothing and return how long to wait.
    async fn take(&self, key: &str, limits: QuotaLimits, tokens: u64) -> StoreResult<Duration>;
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
