//! Anthropic Messages (`POST {base}/v1/messages`).

mod convert;
mod stream;
mod tool;
mod wire;

use async_trait::async_trait;
use lekhika_core::provider::{DeltaSink, ModelProvider, ProviderError, TextRequest, TextResponse};
use reqwest::header::CONTENT_TYPE;

use crate::config::{ConfigError, ProviderConfig};
use crate::http::client::{is_event_stream, HttpClient};
use crate::http::drive::{drive, text_with_retries, TextAttempt};
use crate::http::{Failure, RetryPolicy};

/// A client of the Anthropic Messages API.
pub struct AnthropicClient {
    http: HttpClient,
    base: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("provider", &self.http.provider)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    pub fn new(cfg: &ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::from_config(cfg, convert::classify, convert::hints)?,
            base: cfg.base_url.clone(),
            retry: cfg.retry,
        })
    }
}

#[async_trait]
impl TextAttempt for AnthropicClient {
    async fn attempt(
        &self,
        req: &TextRequest,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, Failure> {
        let mut rb = self
            .http
            .inner
            .post(format!("{}/v1/messages", self.base))
            .header(CONTENT_TYPE, "application/json")
            .header("anthropic-version", convert::VERSION)
            .body(convert::messages_body(req));
        if let Some(v) = self.http.key_header("") {
            rb = rb.header("x-api-key", v);
        }
        let resp = self.http.send(rb, est, req.stream).await?;
        let name = &self.http.provider;
        if req.stream && is_event_stream(&resp) {
            let mut state = stream::MessageStream::new(name, req);
            let emitted = drive(&self.http, resp, &mut state, on_delta).await?;
            return state
                .finish(req)
                .map_err(|e| Failure::from(self.http.scrub(e)).final_if(emitted));
        }
        let bytes = self.http.body(resp).await?;
        let r = convert::parse_messages(name, req, &bytes)
            .map_err(|e| Failure::from(self.http.scrub(e)))?;
        if req.stream && !r.text.is_empty() {
            on_delta(&r.text);
        }
        Ok(r)
    }
}

#[async_trait]
impl ModelProvider for AnthropicClient {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        text_with_retries(self, &self.http, self.retry, req, on_delta).await
    }
}
