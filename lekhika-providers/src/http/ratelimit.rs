//! Rate limiting per provider, endpoint and API key.
//!
//! Every client built for the same `(provider name, base URL, key)` shares
//! one [`RateLimiter`], so all runs in the process draw from the same
//! budget. Configured limits are token buckets refilled continuously, each
//! holding one second's worth (so a per-minute limit is paced evenly, never
//! spent in one burst). With a [`SharedQuota`] (a store's, see
//! `ProviderConfig::quota`) the configured limits hold for every process
//! sharing that store: the buckets live in the store, keyed by base URL and
//! a hash of the key. Providers' headers (`x-ratelimit-*`,
//! `anthropic-ratelimit-*`) tighten it further until their reset time.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lekhika_core::quota::{QuotaLimits, QuotaOp, SharedQuota};
use tokio::time::Instant;

/// Configured limits; `None` means "no limit of ours" (headers still apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

/// What one reply's headers said about the remaining budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitHint {
    pub remaining_requests: Option<u64>,
    pub reset_requests: Option<Duration>,
    pub remaining_tokens: Option<u64>,
    pub reset_tokens: Option<Duration>,
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    avail: f64,
    last: Instant,
}

impl Bucket {
    fn new(per_minute: u32, now: Instant) -> Self {
        let per_sec = f64::from(per_minute.max(1)) / 60.0;
        let capacity = per_sec.max(1.0);
        Self {
            capacity,
            per_sec,
            avail: capacity,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.avail = (self.avail + dt * self.per_sec).min(self.capacity);
        self.last = now;
    }

    /// Time until `amount` (capped at capacity, so huge requests still pass) is available.
    fn wait_for(&self, amount: f64) -> Duration {
        let need = amount.min(self.capacity) - self.avail;
        if need <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(need / self.per_sec)
        }
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
    /// Server said: this many requests left until the instant.
    server_requests: Option<(u64, Instant)>,
    server_tokens: Option<(u64, Instant)>,
}

/// Configured limits held in a store for every process sharing it.
#[derive(Clone)]
struct Fleet {
    quota: Arc<dyn SharedQuota>,
    key: String,
    limits: QuotaLimits,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("limits", &self.limits)
            .finish()
    }
}

/// A shared limiter; obtain one with [`RateLimiter::shared`].
#[derive(Debug, Default)]
pub struct RateLimiter {
    state: Mutex<State>,
    fleet: Mutex<Option<Fleet>>,
}

/// The bucket key of an endpoint and API key in a shared store: the same in
/// every process and release (FNV-1a of the key; the key itself is never stored).
pub fn quota_key(base_url: &str, api_key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in api_key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{}|{h:016x}", base_url.trim_end_matches('/'))
}

type Registry = Mutex<HashMap<(String, String, u64), Arc<RateLimiter>>>;

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(Default::default)
}

fn fingerprint(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

impl RateLimiter {
    /// The process-wide limiter of `(provider, base_url, api_key)`; `limits`
    /// replaces the configured limits when given (the key itself is not stored).
    pub fn shared(provider: &str, base_url: &str, api_key: &str, limits: RateLimits) -> Arc<Self> {
        let id = (
            provider.to_string(),
            base_url.to_string(),
            fingerprint(api_key),
        );
        let limiter = {
            let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
            reg.entry(id).or_default().clone()
        };
        limiter.configure(limits);
        limiter
    }

    /// Hold the configured limits in `quota` (shared by every process using
    /// the same store) instead of this process's buckets; `None` goes back
    /// to local buckets.
    pub fn share_through(
        &self,
        quota: Option<Arc<dyn SharedQuota>>,
        base_url: &str,
        api_key: &str,
        limits: RateLimits,
    ) {
        let fleet = quota.map(|quota| Fleet {
            quota,
            key: quota_key(base_url, api_key),
            limits: QuotaLimits {
                requests_per_minute: limits.requests_per_minute,
                tokens_per_minute: limits.tokens_per_minute,
            },
        });
        let local = if fleet.is_some() {
            RateLimits::default()
        } else {
            limits
        };
        *self.fleet.lock().unwrap_or_else(|e| e.into_inner()) = fleet;
        self.configure(local);
    }

    fn fleet(&self) -> Option<Fleet> {
        self.fleet
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|f| !f.limits.is_unlimited())
    }

    /// A limiter shared with nobody (tests, one-off clients).
    pub fn standalone(limits: RateLimits) -> Arc<Self> {
        let l = Arc::new(Self::default());
        l.configure(limits);
        l
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Set or change the configured limits; `None` fields remove that limit.
    pub fn configure(&self, limits: RateLimits) {
        let now = Instant::now();
        let mut s = self.lock();
        let same = |b: &Option<Bucket>, l: Option<u32>| match (b, l) {
            (Some(b), Some(l)) => (b.per_sec - f64::from(l.max(1)) / 60.0).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        };
        if !same(&s.requests, limits.requests_per_minute) {
            s.requests = limits.requests_per_minute.map(|l| Bucket::new(l, now));
        }
        if !same(&s.tokens, limits.tokens_per_minute) {
            s.tokens = limits.tokens_per_minute.map(|l| Bucket::new(l, now));
        }
    }

    /// How long to wait before a request of `tokens` may go; takes the budget when zero.
    fn try_take(&self, tokens: u64, now: Instant) -> Duration {
        let mut s = self.lock();
        let mut wait = Duration::ZERO;
        if let Some((left, until)) = s.server_requests {
            if now >= until {
                s.server_requests = None;
            } else if left == 0 {
                wait = wait.max(until - now);
            }
        }
        if let Some((left, until)) = s.server_tokens {
            if now >= until {
                s.server_tokens = None;
            } else if left < tokens {
                wait = wait.max(until - now);
            }
        }
        if let Some(b) = s.requests.as_mut() {
            b.refill(now);
            wait = wait.max(b.wait_for(1.0));
        }
        if let Some(b) = s.tokens.as_mut() {
            b.refill(now);
            wait = wait.max(b.wait_for(tokens as f64));
        }
        if wait.is_zero() {
            if let Some(b) = s.requests.as_mut() {
                b.avail -= 1.0;
            }
            if let Some(b) = s.tokens.as_mut() {
                b.avail -= tokens as f64;
            }
            if let Some((left, _)) = s.server_requests.as_mut() {
                *left = left.saturating_sub(1);
            }
            if let Some((left, _)) = s.server_tokens.as_mut() {
                *left = left.saturating_sub(tokens);
            }
        }
        wait
    }

    /// Wait until a request estimated at `tokens` fits every limit, then take it.
    pub async fn acquire(&self, tokens: u64) {
        if let Some(fleet) = self.fleet() {
            let op = QuotaOp::Take {
                limits: fleet.limits,
                tokens,
            };
            loop {
                match fleet.quota.apply(&fleet.key, op).await {
                    Ok(wait) if wait.is_zero() => break,
                    Ok(wait) => tokio::time::sleep(wait.max(Duration::from_millis(1))).await,
                    // A store hiccup must not fail the book: this request
                    // goes unpaced (the provider's own 429s and headers
                    // still apply, and the engine retries those).
                    Err(_) => break,
                }
            }
        }
        loop {
            let wait = self.try_take(tokens, Instant::now());
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Give back tokens reserved by [`acquire`](Self::acquire) but not used.
    pub fn refund(&self, estimated: u64, actual: u64) {
        if actual >= estimated {
            return;
        }
        if let Some(fleet) = self.fleet() {
            let op = QuotaOp::Refund {
                limits: fleet.limits,
                tokens: estimated - actual,
            };
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = fleet.quota.apply(&fleet.key, op).await;
                });
            }
            return;
        }
        let mut s = self.lock();
        if let Some(b) = s.tokens.as_mut() {
            b.avail = (b.avail + (estimated - actual) as f64).min(b.capacity);
        }
    }

    /// Tighten with what the provider's headers said.
    pub fn observe(&self, hint: LimitHint) {
        let now = Instant::now();
        let mut s = self.lock();
        if let Some(left) = hint.remaining_requests {
            let until = now + hint.reset_requests.unwrap_or(Duration::from_secs(1));
            s.server_requests = Some((left, until));
        }
        if let Some(left) = hint.remaining_tokens {
            let until = now + hint.reset_tokens.unwrap_or(Duration::from_secs(1));
            s.server_tokens = Some((left, until));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bucket_paces_requests() {
        let l = RateLimiter::standalone(RateLimits {
            requests_per_minute: Some(120),
            tokens_per_minute: None,
        });
        let t0 = Instant::now();
        assert_eq!(l.try_take(0, t0), Duration::ZERO);
        assert_eq!(l.try_take(0, t0), Duration::ZERO);
        let w = l.try_take(0, t0);
        assert!(
            w > Duration::from_millis(400) && w <= Duration::from_millis(500),
            "{w:?}"
        );
        assert_eq!(
            l.try_take(0, t0 + Duration::from_millis(500)),
            Duration::ZERO
        );
    }

    #[test]
    fn token_bucket_lets_a_big_request_through_then_makes_others_wait_and_refunds() {
        let l = RateLimiter::standalone(RateLimits {
            requests_per_minute: None,
            tokens_per_minute: Some(6000), // 100 per second, bucket of 100
        });
        let t0 = Instant::now();
        assert_eq!(
            l.try_take(5000, t0),
            Duration::ZERO,
            "a full bucket admits anything"
        );
        let w = l.try_take(50, t0);
        assert!(w >= Duration::from_secs(49), "{w:?}");
        l.refund(5000, 0);
        assert_eq!(l.try_take(50, t0), Duration::ZERO);
    }

    #[test]
    fn server_hint_blocks_until_reset() {
        let l = RateLimiter::standalone(RateLimits::default());
        l.observe(LimitHint {
            remaining_requests: Some(0),
            reset_requests: Some(Duration::from_secs(2)),
            ..Default::default()
        });
        let w = l.try_take(10, Instant::now());
        assert!(w > Duration::from_millis(1500), "{w:?}");
    }

    #[test]
    fn shared_by_provider_url_and_key() {
        let a = RateLimiter::shared("p", "u", "k1", RateLimits::default());
        let b = RateLimiter::shared("p", "u", "k1", RateLimits::default());
        let c = RateLimiter::shared("p", "u", "k2", RateLimits::default());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
