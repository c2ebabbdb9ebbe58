//! Retry policy as a value, and the pure decision of whether and how long to
//! wait before the next attempt.

use std::time::Duration;

use lekhika_core::provider::{ProviderError, ProviderErrorKind};

/// How often and how patiently a client retries one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 = never retry).
    pub max_attempts: u32,
    /// First backoff delay; doubles each attempt.
    pub base_delay: Duration,
    /// Backoff cap.
    pub max_delay: Duration,
    /// The longest provider-requested delay (retry-after, RetryInfo) that is
    /// honoured; a longer request ends the retries so the caller (fallback
    /// chain, scheduler) can decide.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay: max_delay.max(base_delay),
            ..Self::default()
        }
    }

    /// Exponential backoff with jitter for retry number `retry` (1-based):
    /// a random delay in `[d/2, d]` where `d = min(base * 2^(retry-1), max)`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(20)));
        let d = exp.min(self.max_delay);
        let half = d / 2;
        half + d.saturating_sub(half).mul_f64(fastrand::f64())
    }

    pub fn start(&self) -> RetryState {
        RetryState {
            policy: *self,
            attempts: 1,
        }
    }
}

/// A failed attempt: the classified error plus what the transport knows.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error: ProviderError,
    /// `x-should-retry`, or `Some(false)` once streamed text reached the caller.
    pub should_retry: Option<bool>,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Self {
            error,
            should_retry: None,
        }
    }
}

impl Failure {
    /// Never retry this one (e.g. text was already streamed to the caller).
    pub fn final_(mut self) -> Self {
        self.should_retry = Some(false);
        self
    }

    /// [`final_`](Self::final_) when `cond` holds.
    pub fn final_if(self, cond: bool) -> Self {
        if cond {
            self.final_()
        } else {
            self
        }
    }
}

/// Kinds that no header can make retryable.
fn never_retry(kind: ProviderErrorKind) -> bool {
    matches!(
        kind,
        ProviderErrorKind::QuotaExhausted
            | ProviderErrorKind::Auth
            | ProviderErrorKind::ContentBlocked
            | ProviderErrorKind::ContextTooLong
            | ProviderErrorKind::NotConfigured
            | ProviderErrorKind::Unsupported
    )
}

/// Attempt counter of one call.
#[derive(Debug, Clone)]
pub struct RetryState {
    policy: RetryPolicy,
    attempts: u32,
}

impl RetryState {
    /// `Some(delay)` when another attempt should follow after `delay`.
    pub fn next_delay(&mut self, f: &Failure) -> Option<Duration> {
        if self.attempts >= self.policy.max_attempts || never_retry(f.error.kind) {
            return None;
        }
        if !f.should_retry.unwrap_or_else(|| f.error.is_retryable()) {
            return None;
        }
        let delay = match f.error.retry_after {
            Some(d) if d > self.policy.max_retry_after => return None,
            Some(d) => d,
            None => self.policy.backoff(self.attempts),
        };
        self.attempts += 1;
        Some(delay)
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn err(kind: ProviderErrorKind) -> Failure {
        ProviderError::new("p", kind, "m").into()
    }

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let p = RetryPolicy::new(10, Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..50 {
            let d1 = p.backoff(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.backoff(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            let d9 = p.backoff(9);
            assert!(d9 >= Duration::from_millis(500) && d9 <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn honours_retry_after_and_attempt_limit() {
        let mut s = RetryPolicy::new(3, Duration::from_millis(1), Duration::from_millis(2)).start();
        let mut f = err(ProviderErrorKind::RateLimited);
        f.error.retry_after = Some(Duration::from_millis(700));
        assert_eq!(s.next_delay(&f), Some(Duration::from_millis(700)));
        assert!(s.next_delay(&f).is_some());
        assert_eq!(s.next_delay(&f), None);
    }

    #[test]
    fn quota_never_retried_even_if_header_says_so() {
        let mut s = RetryPolicy::default().start();
        let mut f = err(ProviderErrorKind::QuotaExhausted);
        f.should_retry = Some(true);
        assert_eq!(s.next_delay(&f), None);
        assert_eq!(s.next_delay(&err(ProviderErrorKind::BadRequest)), None);
        let mut f = err(ProviderErrorKind::BadRequest);
        f.should_retry = Some(true);
        assert!(s.next_delay(&f).is_some());
        let mut f = err(ProviderErrorKind::Server);
        f.should_retry = Some(false);
        assert_eq!(s.next_delay(&f), None);
    }

    #[test]
    fn too_long_retry_after_gives_up() {
        let mut s = RetryPolicy::default().start();
        let mut f = err(ProviderErrorKind::RateLimited);
        f.error.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(s.next_delay(&f), None);
    }
}
