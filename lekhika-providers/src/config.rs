//! Provider configuration: typed values built once from host rows or env vars.

use std::fmt;
use std::sync::Arc;

use lekhika_core::quota::SharedQuota;

use serde::{Deserialize, Serialize};

use crate::fallback::FallbackTarget;
use crate::http::{RateLimits, RetryPolicy, Timeouts};
use crate::secret::ApiKey;

/// Which wire protocol a configured provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions, or any OpenAI-compatible server.
    #[serde(alias = "openai-compatible", alias = "ollama")]
    OpenAi,
    Anthropic,
    /// Google Gemini Developer API (`google` accepted).
    #[serde(alias = "google")]
    Gemini,
    Stability,
}

impl ProviderKind {
    /// The kind a provider name implies (`openai`, `anthropic`/`claude`,
    /// `gemini`/`google`, `stability`); anything else is OpenAI-compatible.
    pub fn from_name(name: &str) -> Self {
        match name.to_ascii_lowercase().as_str() {
            "anthropic" | "claude" => Self::Anthropic,
            "gemini" | "google" => Self::Gemini,
            "stability" | "stabilityai" | "stability-ai" => Self::Stability,
            _ => Self::OpenAi,
        }
    }

    /// The public endpoint used when no base URL is configured.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
            Self::Gemini => "https://generativelanguage.googleapis.com/v1beta",
            Self::Stability => "https://api.stability.ai",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Stability => "stability",
        }
    }
}

/// Which field carries the output limit on an OpenAI-style server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_completion_tokens` (api.openai.com; required by reasoning models).
    MaxCompletionTokens,
    /// `max_tokens` (what most compatible servers understand).
    MaxTokens,
}

/// Dialect switches for OpenAI-compatible servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAiCompat {
    pub max_tokens_field: MaxTokensField,
    /// Send `stream_options.include_usage`. When a server rejects it with a
    /// 400 the client retries once without it and remembers.
    pub stream_usage: bool,
}

impl OpenAiCompat {
    /// Defaults for a base URL: the official API gets `max_completion_tokens`,
    /// every other server `max_tokens`.
    pub fn for_base_url(base_url: &str) -> Self {
        let official = base_url.contains("api.openai.com");
        Self {
            max_tokens_field: if official {
                MaxTokensField::MaxCompletionTokens
            } else {
                MaxTokensField::MaxTokens
            },
            stream_usage: true,
        }
    }
}

/// Everything one provider client needs. `Debug` never shows the key.
#[derive(Clone)]
pub struct ProviderConfig {
    /// The name requests use (`TextRequest::provider`), e.g. `openai`, `ollama`.
    pub name: String,
    pub kind: ProviderKind,
    pub api_key: ApiKey,
    /// Base URL without trailing slash; see [`ProviderKind::default_base_url`].
    pub base_url: String,
    pub retry: RetryPolicy,
    pub rate_limits: RateLimits,
    pub timeouts: Timeouts,
    pub openai: OpenAiCompat,
    /// Where `rate_limits` are kept: `None` for this process's buckets, or
    /// a store's [`SharedQuota`] so the limits hold for every process
    /// sharing that store (a fleet of workers on one PostgreSQL).
    pub quota: Option<Arc<dyn SharedQuota>>,
}

impl ProviderConfig {
    pub fn new(name: impl Into<String>, kind: ProviderKind, api_key: impl Into<ApiKey>) -> Self {
        let base = kind.default_base_url().to_string();
        Self {
            name: name.into(),
            kind,
            api_key: api_key.into(),
            openai: OpenAiCompat::for_base_url(&base),
            timeouts: Timeouts::for_base_url(&base),
            base_url: base,
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            quota: None,
        }
    }

    /// Point at another endpoint (an OpenAI-compatible server, a proxy, a
    /// loopback test server). Resets the OpenAI dialect and the timeouts to
    /// that URL's defaults ([`Timeouts::for_base_url`]: longer for a server
    /// on this machine or the local network).
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        self.base_url = url.trim().trim_end_matches('/').to_string();
        self.openai = OpenAiCompat::for_base_url(&self.base_url);
        self.timeouts = Timeouts::for_base_url(&self.base_url);
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Keep the rate limits in `quota` (see [`ProviderConfig::quota`]).
    pub fn with_quota(mut self, quota: Arc<dyn SharedQuota>) -> Self {
        self.quota = Some(quota);
        self
    }

    pub fn with_timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = t;
        self
    }

    pub fn with_openai_compat(mut self, c: OpenAiCompat) -> Self {
        self.openai = c;
        self
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field("shared_quota", &self.quota.is_some())
            .finish_non_exhaustive()
    }
}

/// The seed's `ai_providers` row as the host hands it over.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProviderRow {
    /// Provider name (`openai`, `anthropic`, `google`, `ollama`, ...).
    pub name: String,
    /// Wire protocol; derived from the name when absent.
    #[serde(default)]
    pub kind: Option<ProviderKind>,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default = "yes", alias = "active")]
    pub is_active: bool,
    /// A user's own key; `None` for the host-wide row.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub tokens_per_minute: Option<u32>,
    /// Providers to try, in order, when this one fails with a retryable
    /// error: names, or `{"provider", "model"}` objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<FallbackTarget>,
    /// Seconds to wait: `{"connect", "request", "read"}` (any of them; the
    /// rest keep the defaults for the row's URL, see [`Timeouts::for_base_url`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<TimeoutSecs>,
}

/// A providers-file row's timeouts, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSecs {
    /// Connecting to the server.
    pub connect: Option<f64>,
    /// A whole non-streamed request.
    pub request: Option<f64>,
    /// The longest silence between two reads of a stream (a local server
    /// that answers one request at a time sends nothing to the ones queued).
    pub read: Option<f64>,
}

impl TimeoutSecs {
    fn apply(&self, t: Timeouts) -> Timeouts {
        let secs = |v: Option<f64>, d: std::time::Duration| {
            v.filter(|s| s.is_finite() && *s > 0.0)
                .map_or(d, |s| std::time::Duration::from_secs_f64(s.min(86_400.0)))
        };
        Timeouts {
            connect: secs(self.connect, t.connect),
            request: secs(self.request, t.request),
            read: secs(self.read, t.read),
        }
    }
}

fn yes() -> bool {
    true
}

impl fmt::Debug for ProviderRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRow")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url)
            .field("is_active", &self.is_active)
            .field("user_id", &self.user_id)
            .field("fallback", &self.fallback)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl ProviderRow {
    /// The typed configuration of this row. Google rows become `gemini`-kind
    /// clients that still answer to the row's name.
    pub fn to_config(&self) -> ProviderConfig {
        let kind = self
            .kind
            .unwrap_or_else(|| ProviderKind::from_name(&self.name));
        let mut cfg = ProviderConfig::new(
            self.name.trim().to_ascii_lowercase(),
            kind,
            self.api_key.clone().unwrap_or_default(),
        );
        if let Some(url) = self.base_url.as_deref().filter(|u| !u.trim().is_empty()) {
            cfg = cfg.with_base_url(url);
        }
        cfg.rate_limits = RateLimits {
            requests_per_minute: self.requests_per_minute,
            tokens_per_minute: self.tokens_per_minute,
        };
        if let Some(t) = &self.timeouts {
            cfg.timeouts = t.apply(cfg.timeouts);
        }
        cfg
    }
}

/// A configuration that cannot become a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The crate was built without the cargo feature for this kind; rebuild with it.
    #[error(
        "provider `{name}` needs lekhika-providers' `{feature}` feature, which this build lacks"
    )]
    FeatureDisabled { name: String, feature: &'static str },
    /// The TLS/HTTP stack could not start; not retryable.
    #[error("provider `{name}`: {message}")]
    Http { name: String, message: String },
    /// A fallback chain names an unusable target; fix the configuration.
    #[error("provider `{primary}`: {message}")]
    BadFallback { primary: String, message: String },
}
