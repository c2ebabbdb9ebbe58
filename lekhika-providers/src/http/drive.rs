//! Reads an SSE reply into a provider's pure stream state machine.

use async_trait::async_trait;
use lekhika_core::provider::{DeltaSink, ProviderError, TextRequest, TextResponse};

use super::client::HttpClient;
use super::retry::Failure;
use super::sse::{SseDecoder, SseEvent};

/// A provider's stream parser: fed whole events, never bytes.
pub(crate) trait StreamState {
    /// Handle one event; returns the text delta it carried, if any. An
    /// error event (even after HTTP 200) returns the classified error.
    fn on_event(&mut self, ev: &SseEvent) -> Result<Option<String>, ProviderError>;
    /// The terminal event was seen; reading stops.
    fn is_done(&self) -> bool;
    /// `n` bytes of the body arrived (before they are decoded).
    fn on_bytes(&mut self, n: usize) {
        let _ = n;
    }
}

/// Feed every read of `resp` through an [`SseDecoder`] into `state`,
/// passing text deltas to `on_delta` in order. Once a delta has reached the
/// caller, failures are marked final: a retry would repeat the text.
/// Returns whether any delta was passed on.
pub(crate) async fn drive<S: StreamState>(
    http: &HttpClient,
    mut resp: reqwest::Response,
    state: &mut S,
    on_delta: DeltaSink<'_>,
) -> Result<bool, Failure> {
    let mut dec = SseDecoder::new();
    let mut emitted = false;
    let seal = |f: Failure, emitted: bool| if emitted { f.final_() } else { f };
    loop {
        let chunk = match http.chunk(&mut resp).await {
            Ok(c) => c,
            Err(f) => return Err(seal(f, emitted)),
        };
        let end = chunk.is_none();
        let events = match chunk {
            Some(bytes) => {
                state.on_bytes(bytes.len());
                dec.push(&bytes)
            }
            None => dec.finish(),
        };
        for ev in &events {
            match state.on_event(ev) {
                Ok(Some(d)) if !d.is_empty() => {
                    on_delta(&d);
                    emitted = true;
                }
                Ok(_) => {}
                Err(e) => return Err(seal(http.scrub(e).into(), emitted)),
            }
            if state.is_done() {
                return Ok(emitted);
            }
        }
        if end {
            return Ok(emitted);
        }
    }
}

/// Run `op` under `policy`, sleeping between attempts as [`super::RetryState`] says.
/// For calls without streamed output (images, speech).
pub(crate) async fn with_retries<T, F, Fut>(
    policy: super::RetryPolicy,
    http: &HttpClient,
    mut op: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut retry = policy.start();
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(f) => match retry.next_delay(&f) {
                Some(d) => tokio::time::sleep(d).await,
                None => return Err(http.scrub(f.error)),
            },
        }
    }
}

/// One attempt at a text generation call, for [`text_with_retries`].
#[async_trait]
pub(crate) trait TextAttempt: Send + Sync {
    /// Send the request once; `est` is the token estimate the rate limiter
    /// reserved.
    async fn attempt(
        &self,
        req: &TextRequest,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, Failure>;
}

/// `generate_text` of every text provider: attempts under `policy`,
/// refunding the rate limiter's unused reservation on success; a final
/// error has the key redacted.
pub(crate) async fn text_with_retries(
    client: &impl TextAttempt,
    http: &HttpClient,
    policy: super::RetryPolicy,
    req: &TextRequest,
    on_delta: DeltaSink<'_>,
) -> Result<TextResponse, ProviderError> {
    let est = crate::common::estimated_tokens(req);
    let mut retry = policy.start();
    loop {
        match client.attempt(req, est, &mut *on_delta).await {
            Ok(r) => {
                http.limiter.refund(est, r.usage.total());
                return Ok(r);
            }
            Err(f) => match retry.next_delay(&f) {
                Some(d) => tokio::time::sleep(d).await,
                None => return Err(http.scrub(f.error)),
            },
        }
    }
}
