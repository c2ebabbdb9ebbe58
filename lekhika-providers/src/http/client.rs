//! The one place that does network I/O: sends a request through the shared
//! rate limiter, classifies non-2xx replies with the provider's classifier
//! (keeping the JSON error body), and maps transport failures to kinds.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lekhika_core::provider::{ProviderError, ProviderErrorKind};
use reqwest::header::HeaderMap;

use super::headers;
use super::ratelimit::{LimitHint, RateLimiter};
use super::retry::Failure;
use crate::secret::ApiKey;

/// Maps a non-2xx reply (status, body text) to a classified error.
pub(crate) type Classify = fn(provider: &str, status: u16, body: &str) -> ProviderError;
/// Reads a provider's rate-limit headers.
pub(crate) type HintReader = fn(&HeaderMap) -> LimitHint;

/// Timeouts of one provider's client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Whole non-streamed request.
    pub request: Duration,
    /// Longest silence between two reads of a stream.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            request: Duration::from_secs(600),
            read: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// The defaults for a server at `base_url`. A server on this machine or
    /// the local network (llama.cpp, llama-cpp-python, Ollama, vLLM on a
    /// workstation) usually answers one request at a time on a CPU or one
    /// GPU: a request queued behind another sends nothing until its turn,
    /// and a long chapter takes many minutes. Such servers get 30 minutes
    /// per request and 15 minutes of silence instead of 10 and 2, so a
    /// queued request is not cut and asked again (which would queue it
    /// behind itself).
    pub fn for_base_url(base_url: &str) -> Self {
        if is_local_server(base_url) {
            Self {
                connect: Duration::from_secs(15),
                request: Duration::from_secs(1800),
                read: Duration::from_secs(900),
            }
        } else {
            Self::default()
        }
    }
}

/// The URL's host is this machine or a private network.
pub(crate) fn is_local_server(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url.trim()) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_unspecified(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => {
            let d = host.to_ascii_lowercase();
            d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d == "host.docker.internal"
                || !d.contains('.')
        }
    }
}

/// Longest error body kept in a message.
const MAX_ERROR_BODY: usize = 4000;

pub(crate) struct HttpClient {
    pub(crate) inner: reqwest::Client,
    pub(crate) provider: String,
    pub(crate) key: ApiKey,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) timeouts: Timeouts,
    pub(crate) classify: Classify,
    pub(crate) hints: HintReader,
}

impl HttpClient {
    pub(crate) fn build_reqwest(t: Timeouts) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .connect_timeout(t.connect)
            .read_timeout(t.read)
            .build()
            .map_err(|e| format!("could not build the HTTP client: {}", e.without_url()))
    }

    pub(crate) fn error(
        &self,
        kind: ProviderErrorKind,
        message: impl Into<String>,
    ) -> ProviderError {
        ProviderError::new(
            self.provider.clone(),
            kind,
            self.key.redact(&message.into()),
        )
    }

    /// Remove the key from an error built elsewhere.
    pub(crate) fn scrub(&self, mut e: ProviderError) -> ProviderError {
        e.message = self.key.redact(&e.message);
        e
    }

    pub(crate) fn transport_error(&self, e: &reqwest::Error, during_stream: bool) -> Failure {
        let kind = if e.is_timeout() {
            ProviderErrorKind::Timeout
        } else if during_stream && (e.is_body() || e.is_decode()) {
            ProviderErrorKind::StreamCut
        } else {
            ProviderErrorKind::Network
        };
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        self.error(kind, msg).into()
    }

    /// Send once: rate limit, then the request; a non-2xx reply becomes a
    /// classified [`Failure`] carrying retry-after and x-should-retry.
    pub(crate) async fn send(
        &self,
        rb: reqwest::RequestBuilder,
        est_tokens: u64,
        streaming: bool,
    ) -> Result<reqwest::Response, Failure> {
        self.limiter.acquire(est_tokens).await;
        lekhika_core::provider::note_request(&self.provider);
        let rb = if streaming {
            rb
        } else {
            rb.timeout(self.timeouts.request)
        };
        let resp = rb
            .send()
            .await
            .map_err(|e| self.transport_error(&e, false))?;
        self.limiter.observe((self.hints)(resp.headers()));
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let retry_after = headers::retry_after(resp.headers(), SystemTime::now());
        let should_retry = headers::should_retry(resp.headers());
        let body = match resp.bytes().await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => format!("(error body unreadable: {})", e.without_url()),
        };
        let mut err = self.scrub((self.classify)(&self.provider, status, truncate(&body)));
        err.status = Some(status);
        if retry_after.is_some() {
            err.retry_after = retry_after;
        }
        Err(Failure {
            error: err,
            should_retry,
        })
    }

    /// The whole body of a 2xx reply.
    pub(crate) async fn body(&self, resp: reqwest::Response) -> Result<Vec<u8>, Failure> {
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| self.transport_error(&e, true))
    }

    /// The next read of a streamed body; `None` at end.
    pub(crate) async fn chunk(
        &self,
        resp: &mut reqwest::Response,
    ) -> Result<Option<Vec<u8>>, Failure> {
        resp.chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|e| self.transport_error(&e, true))
    }
}

/// Cut `s` to at most [`MAX_ERROR_BODY`] bytes on a character boundary.
pub(crate) fn truncate(s: &str) -> &str {
    if s.len() <= MAX_ERROR_BODY {
        return s;
    }
    let mut end = MAX_ERROR_BODY;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// True when a reply is an SSE stream.
pub(crate) fn is_event_stream(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"))
}

/// Status-only classification shared by every provider.
pub(crate) fn kind_for_status(status: u16) -> ProviderErrorKind {
    match status {
        401 | 403 => ProviderErrorKind::Auth,
        402 => ProviderErrorKind::QuotaExhausted,
        408 => ProviderErrorKind::Timeout,
        409 => ProviderErrorKind::Server,
        413 => ProviderErrorKind::ContextTooLong,
        429 => ProviderErrorKind::RateLimited,
        503 | 529 => ProviderErrorKind::Overloaded,
        504 => ProviderErrorKind::Timeout,
        s if s >= 500 => ProviderErrorKind::Server,
        _ => ProviderErrorKind::BadRequest,
    }
}

impl HttpClient {
    /// A client for `cfg` sharing the process-wide limiter of its provider, URL and key.
    pub(crate) fn from_config(
        cfg: &crate::config::ProviderConfig,
        classify: Classify,
        hints: HintReader,
    ) -> Result<Self, crate::config::ConfigError> {
        let inner = Self::build_reqwest(cfg.timeouts).map_err(|message| {
            crate::config::ConfigError::Http {
                name: cfg.name.clone(),
                message,
            }
        })?;
        Ok(Self {
            inner,
            provider: cfg.name.clone(),
            key: cfg.api_key.clone(),
            limiter: {
                let l = RateLimiter::shared(
                    &cfg.name,
                    &cfg.base_url,
                    cfg.api_key.expose(),
                    cfg.rate_limits,
                );
                l.share_through(
                    cfg.quota.clone(),
                    &cfg.base_url,
                    cfg.api_key.expose(),
                    cfg.rate_limits,
                );
                l
            },
            timeouts: cfg.timeouts,
            classify,
            hints,
        })
    }

    /// A header value holding the key, marked sensitive so it never prints.
    pub(crate) fn key_header(&self, prefix: &str) -> Option<reqwest::header::HeaderValue> {
        if self.key.is_empty() {
            return None;
        }
        let mut v =
            reqwest::header::HeaderValue::from_str(&format!("{prefix}{}", self.key.expose()))
                .ok()?;
        v.set_sensitive(true);
        Some(v)
    }
}
