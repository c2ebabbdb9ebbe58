//! Lekhika's AI provider clients behind [`lekhika_core::provider::ModelProvider`].
//!
//! - [`ProviderSet`] routes each request by its `provider` name to a client
//!   configured from host rows ([`ProviderRow`]) or environment variables, and
//!   falls back to other providers when one is overloaded or rate limited.
//! - Clients: [`OpenAiClient`] (also every OpenAI-compatible server),
//!   [`AnthropicClient`], [`GeminiClient`], [`StabilityClient`], each behind a
//!   cargo feature of the same name.
//! - [`http`]: retry policy, process-wide rate limiter and SSE decoder.
//! - [`Catalog`]: models and prices from data; produces the wallet's `PriceBook`.
//!
//! Error handling: every failure is a [`ProviderError`](lekhika_core::provider::ProviderError)
//! whose kind says whether a retry helps; API keys never appear in errors or `Debug` output.

mod common;
pub mod config;
pub mod http;
mod secret;

#[cfg(feature = "openai")]
mod openai;

pub use config::{ConfigError, MaxTokensField, OpenAiCompat, ProviderConfig, ProviderKind, ProviderRow};
#[cfg(feature = "openai")]
pub use openai::OpenAiClient;
pub use secret::ApiKey;
