//! The model interface core calls and `lekhika-providers` implements.
//!
//! Core never speaks HTTP: a node asks a [`ModelProvider`] for text, images
//! or speech with plain request values and gets plain response values back.
//! Provider clients classify every failure into a [`ProviderError`] whose
//! [`ProviderErrorKind`] says whether a retry can help.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Who speaks in a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One turn of a conversation. The system prompt is separate
/// ([`TextRequest::system`]) because providers place it differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Structured output mode.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputFormat {
    #[default]
    Text,
    /// Any JSON object.
    Json,
    /// JSON matching this schema (providers that support schemas get it;
    /// others get JSON mode and core validates the reply).
    JsonSchema {
        name: String,
        schema: serde_json::Value,
    },
}

/// One text generation call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextRequest {
    /// Provider name as configured by the host, e.g. `openai`, `anthropic`, `gemini`, `ollama`.
    pub provider: String,
    pub model: String,
    pub system: Option<String>,
    pub messages: Vec<ChatMessage>,
    pub temperature: Option<f32>,
    pub max_tokens: u32,
    #[serde(default)]
    pub output: OutputFormat,
    /// Ask the provider to stream; deltas go to the callback passed with the call.
    #[serde(default)]
    pub stream: bool,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    /// Cut by the output token limit (`length`, `max_tokens`, `MAX_TOKENS`).
    Length,
    ContentFilter,
    Other(String),
}

/// Tokens the provider reported for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
    /// Add `other` (saturating: a sum never wraps).
    pub fn add(&mut self, other: Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextResponse {
    pub text: String,
    pub finish: FinishReason,
    pub usage: Usage,
    /// The server reported no usage: `usage` is Lekhika's estimate
    /// ([`crate::tokens`]), shown as estimated in reports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub usage_estimated: bool,
    /// The model that answered, as the provider named it.
    pub model: String,
    /// What the provider client changed to get this reply and reports once
    /// (e.g. a server refused `json_schema`, so JSON is now asked for in
    /// the prompt). The engine emits each as a `provider_notice` event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Set when a provider of the fallback chain answered instead of the
    /// one asked: whose reply this is (and what it is priced as).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<ServedBy>,
}

/// The provider and model that answered a request in place of the one asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedBy {
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    pub provider: String,
    pub model: String,
    pub prompt: String,
    pub negative_prompt: Option<String>,
    /// `1024x1024` style size (OpenAI) or `2:3` style aspect ratio (Stability).
    pub size: Option<String>,
    pub aspect_ratio: Option<String>,
    /// `png`, `jpeg` or `webp`.
    pub output_format: Option<String>,
    pub seed: Option<u64>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedImage {
    pub mime: String,
    #[serde(with = "crate::util::base64_bytes")]
    pub bytes: Vec<u8>,
}

impl fmt::Debug for GeneratedImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GeneratedImage({}, {} bytes)",
            self.mime,
            self.bytes.len()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResponse {
    pub images: Vec<GeneratedImage>,
    pub usage: Usage,
    /// Set when a fallback provider answered (see [`TextResponse::served_by`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<ServedBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechRequest {
    pub provider: String,
    pub model: String,
    pub input: String,
    pub voice: String,
    /// `mp3`, `wav`, `opus`, ...
    pub format: Option<String>,
    /// How to speak (OpenAI `gpt-4o-mini-tts`: "a calm narrator, unhurried");
    /// models without it ignore it. Left out of the request when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Speaking rate, 1.0 normal (OpenAI: 0.25 to 4.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f32>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechResponse {
    pub mime: String,
    #[serde(with = "crate::util::base64_bytes")]
    pub bytes: Vec<u8>,
}

impl fmt::Debug for SpeechResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SpeechResponse({}, {} bytes)",
            self.mime,
            self.bytes.len()
        )
    }
}

/// What went wrong talking to a provider; decides retry behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderErrorKind {
    /// Key missing, wrong or revoked. Not retryable.
    Auth,
    /// Too many requests; retry after the delay the provider gave.
    RateLimited,
    /// Provider overloaded (Anthropic 529, 503). Retryable; fallback candidate.
    Overloaded,
    /// 5xx. Retryable.
    Server,
    /// Prompt plus output exceed the model's context. Not retryable as is.
    ContextTooLong,
    /// Safety / moderation block. Not retryable.
    ContentBlocked,
    /// Quota or spend limit exhausted (OpenAI `insufficient_quota`, 402). Never retried.
    QuotaExhausted,
    /// The request was malformed for this provider. Not retryable.
    BadRequest,
    /// Connection failed or reset. Retryable.
    Network,
    /// No reply in time. Retryable.
    Timeout,
    /// A stream ended before its terminal event. Retryable.
    StreamCut,
    /// The provider has no such capability (e.g. speech on Anthropic).
    Unsupported,
    /// No provider of that name is configured.
    NotConfigured,
}

impl ProviderErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::Overloaded
                | Self::Server
                | Self::Network
                | Self::Timeout
                | Self::StreamCut
        )
    }
}

/// A classified provider failure. Never contains an API key: provider
/// clients build messages from the reply body, never from request headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{provider} {kind:?}{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct ProviderError {
    pub provider: String,
    pub kind: ProviderErrorKind,
    pub message: String,
    pub status: Option<u16>,
    /// Delay the provider asked for (retry-after, retry-after-ms, RetryInfo).
    #[serde(default, with = "crate::util::opt_duration_ms")]
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(
        provider: impl Into<String>,
        kind: ProviderErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
        }
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    pub fn with_retry_after(mut self, d: Option<Duration>) -> Self {
        self.retry_after = d;
        self
    }
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// Streamed text pieces go here as they arrive.
pub type DeltaSink<'a> = &'a mut (dyn FnMut(&str) + Send);

/// The one interface core uses to reach AI models. `lekhika-providers`
/// implements it for real providers (routing by [`TextRequest::provider`]);
/// tests and hosts may implement it for anything else.
#[async_trait]
pub trait ModelProvider: Send + Sync {
    /// Generate text. When `req.stream` is set, text deltas are passed to
    /// `on_delta` as they arrive; the response still carries the whole text.
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError>;

    async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, ProviderError> {
        Err(ProviderError::new(
            req.provider.clone(),
            ProviderErrorKind::Unsupported,
            "image generation is not supported by this provider",
        ))
    }

    async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, ProviderError> {
        Err(ProviderError::new(
            req.provider.clone(),
            ProviderErrorKind::Unsupported,
            "speech synthesis is not supported by this provider",
        ))
    }
}

/// HTTP requests provider clients made for the model call in progress, by
/// provider name: how the engine counts what a provider saw (failed tries,
/// a capability fallback inside a client, a fallback to another provider).
/// The engine runs each try of a call inside [`RequestTally::scope`];
/// clients call [`note_request`] once per HTTP request they send.
#[derive(Debug, Clone, Default)]
pub struct RequestTally(std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u32>>>);

tokio::task_local! {
    static TALLY: RequestTally;
}

impl RequestTally {
    /// Run `f` with this tally counting the requests made inside it.
    pub async fn scope<F: std::future::Future>(&self, f: F) -> F::Output {
        TALLY.scope(self.clone(), f).await
    }

    /// The counts so far, by provider; the tally starts again from zero.
    pub fn take(&self) -> std::collections::BTreeMap<String, u32> {
        self.0
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

/// Count one HTTP request to `provider` for the call in progress (a no-op
/// outside an engine call).
pub fn note_request(provider: &str) {
    let _ = TALLY.try_with(|t| {
        if let Ok(mut m) = t.0.lock() {
            let n = m.entry(provider.to_string()).or_insert(0);
            *n = n.saturating_add(1);
        }
    });
}
