//! Transport shared by every provider: one client, retry policy, rate
//! limiter and SSE decoder.

pub(crate) mod client;
pub(crate) mod drive;
pub mod headers;
pub mod ratelimit;
pub mod retry;
pub mod sse;

pub use client::Timeouts;
pub use ratelimit::{quota_key, LimitHint, RateLimiter, RateLimits};
pub use retry::{Failure, RetryPolicy, RetryState};
pub use sse::{SseDecoder, SseEvent};
