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

// Builds with some providers turned off leave shared helpers unused.
#![cfg_attr(
    not(all(
        feature = "openai",
        feature = "anthropic",
        feature = "gemini",
        feature = "stability"
    )),
    allow(dead_code, unused_imports)
)]

pub mod catalog;
mod common;
pub mod config;
mod env;
mod fallback;
pub mod http;
pub mod providers_file;
mod router;
mod secret;
#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod testkit;

#[cfg(feature = "openai")]
mod openai;

pub use catalog::{Catalog, CatalogError, ModelCategory, ModelInfo};
pub use config::{
    ConfigError, MaxTokensField, OpenAiCompat, ProviderConfig, ProviderKind, ProviderRow,
    TimeoutSecs,
};
pub use http::{RateLimits, RetryPolicy, Timeouts};
#[cfg(feature = "openai")]
pub use openai::OpenAiClient;
pub use providers_file::{parse_provider_rows, ProvidersFileError};
pub use router::{client_for, not_configured, FallbackTarget, ProviderSet};
pub use secret::ApiKey;
#[cfg(feature = "anthropic")]
mod anthropic;
#[cfg(feature = "gemini")]
mod gemini;
#[cfg(feature = "stability")]
mod stability;

#[cfg(feature = "anthropic")]
pub use anthropic::AnthropicClient;
#[cfg(feature = "gemini")]
pub use gemini::GeminiClient;
#[cfg(feature = "stability")]
pub use stability::StabilityClient;
