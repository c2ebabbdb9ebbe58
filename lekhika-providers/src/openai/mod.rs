//! OpenAI Chat Completions, Images and Speech; also every OpenAI-compatible
//! server (Ollama, llama.cpp, vLLM, OpenRouter, LM Studio) through its base URL.

mod convert;
mod media;
mod stream;
mod wire;

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use lekhika_core::provider::{
    DeltaSink, ImageRequest, ImageResponse, ModelProvider, ProviderError, SpeechRequest,
    SpeechResponse, TextRequest, TextResponse,
};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::config::{ConfigError, OpenAiCompat, ProviderConfig};
use crate::http::client::{is_event_stream, HttpClient};
use crate::http::drive::{drive, text_with_retries, with_retries, TextAttempt};
use crate::http::{Failure, RetryPolicy};

/// A client of one OpenAI-style endpoint.
pub struct OpenAiClient {
    http: HttpClient,
    base: String,
    compat: OpenAiCompat,
    retry: RetryPolicy,
    /// Cleared when the server rejected `stream_options` once.
    stream_usage: AtomicBool,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("provider", &self.http.provider)
            .field("base", &self.base)
            .field("compat", &self.compat)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    pub fn new(cfg: &ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::from_config(cfg, convert::classify, convert::hints)?,
            base: cfg.base_url.clone(),
            compat: cfg.openai,
            retry: cfg.retry,
            stream_usage: AtomicBool::new(cfg.openai.stream_usage),
        })
    }

    fn post(&self, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .inner
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(v) = self.http.key_header("Bearer ") {
            rb = rb.header(AUTHORIZATION, v);
        }
        rb
    }
}

#[async_trait]
impl TextAttempt for OpenAiClient {
    async fn attempt(
        &self,
        req: &TextRequest,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, Failure> {
        let body = convert::chat_body(req, self.compat, self.stream_usage.load(Ordering::Relaxed));
        let resp = self
            .http
            .send(self.post("/chat/completions", body), est, req.stream)
            .await?;
        let name = &self.http.provider;
        if req.stream && is_event_stream(&resp) {
            let mut state = stream::ChatStream::new(name);
            let emitted = drive(&self.http, resp, &mut state, on_delta).await?;
            return state
                .finish(req)
                .map_err(|e| Failure::from(self.http.scrub(e)).final_if(emitted));
        }
        // A whole JSON reply (non-streamed, or a server that ignored `stream`).
        let bytes = self.http.body(resp).await?;
        let r = convert::parse_chat(name, req, &bytes)
            .map_err(|e| Failure::from(self.http.scrub(e)))?;
        if req.stream && !r.text.is_empty() {
            on_delta(&r.text);
        }
        Ok(r)
    }

    /// Pitfall 8: a server that rejects `stream_options` gets the request
    /// once more without it (and never again).
    fn resend_after(&self, req: &TextRequest, f: &Failure) -> bool {
        req.stream
            && convert::rejects_stream_options(&f.error)
            && self.stream_usage.swap(false, Ordering::Relaxed)
    }
}

#[async_trait]
impl ModelProvider for OpenAiClient {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        text_with_retries(self, &self.http, self.retry, req, on_delta).await
    }

    async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, ProviderError> {
        with_retries(self.retry, &self.http, || async {
            let resp = self
                .http
                .send(
                    self.post("/images/generations", media::image_body(req)),
                    0,
                    false,
                )
                .await?;
            let bytes = self.http.body(resp).await?;
            media::parse_images(&self.http.provider, req, &bytes).map_err(Failure::from)
        })
        .await
    }

    async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, ProviderError> {
        with_retries(self.retry, &self.http, || async {
            let resp = self
                .http
                .send(
                    self.post("/audio/speech", media::speech_body(req)),
                    0,
                    false,
                )
                .await?;
            let ct = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = self.http.body(resp).await?;
            Ok(media::speech_response(req, ct.as_deref(), bytes))
        })
        .await
    }
}
