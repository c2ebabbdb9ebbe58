//! Google Gemini Developer API (`generateContent`, streaming with `alt=sse`)
//! and Imagen (`:predict`).

mod convert;
mod stream;
mod wire;

use async_trait::async_trait;
use lekhika_core::provider::{
    DeltaSink, ImageRequest, ImageResponse, ModelProvider, ProviderError, TextRequest, TextResponse,
};
use reqwest::header::CONTENT_TYPE;

use crate::config::{ConfigError, ProviderConfig};
use crate::http::client::{is_event_stream, HttpClient};
use crate::http::drive::{drive, text_with_retries, with_retries, TextAttempt};
use crate::http::{Failure, RetryPolicy};

/// A client of the Gemini Developer API.
pub struct GeminiClient {
    http: HttpClient,
    base: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiClient")
            .field("provider", &self.http.provider)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl GeminiClient {
    pub fn new(cfg: &ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::from_config(cfg, convert::classify, convert::hints)?,
            base: cfg.base_url.clone(),
            retry: cfg.retry,
        })
    }

    fn post(&self, url: String, body: Vec<u8>) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .inner
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(v) = self.http.key_header("") {
            rb = rb.header("x-goog-api-key", v);
        }
        rb
    }
}

#[async_trait]
impl TextAttempt for GeminiClient {
    async fn attempt(
        &self,
        req: &TextRequest,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, Failure> {
        let name = &self.http.provider;
        let model = convert::model_segment(name, &req.model)?;
        let url = if req.stream {
            format!("{}/models/{model}:streamGenerateContent?alt=sse", self.base)
        } else {
            format!("{}/models/{model}:generateContent", self.base)
        };
        let resp = self
            .http
            .send(self.post(url, convert::generate_body(req)), est, req.stream)
            .await?;
        if req.stream && is_event_stream(&resp) {
            let mut state = stream::GenerateStream::new(name);
            let emitted = drive(&self.http, resp, &mut state, on_delta).await?;
            return state
                .finish(req)
                .map_err(|e| Failure::from(self.http.scrub(e)).final_if(emitted));
        }
        let bytes = self.http.body(resp).await?;
        let r = convert::parse_generate(name, req, &bytes)
            .map_err(|e| Failure::from(self.http.scrub(e)))?;
        if req.stream && !r.text.is_empty() {
            on_delta(&r.text);
        }
        Ok(r)
    }
}

#[async_trait]
impl ModelProvider for GeminiClient {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        text_with_retries(self, &self.http, self.retry, req, on_delta).await
    }

    async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, ProviderError> {
        let name = &self.http.provider;
        let model = convert::model_segment(name, &req.model)?;
        let url = format!("{}/models/{model}:predict", self.base);
        with_retries(self.retry, &self.http, || async {
            let resp = self
                .http
                .send(self.post(url.clone(), convert::predict_body(req)), 0, false)
                .await?;
            let bytes = self.http.body(resp).await?;
            convert::parse_predict(name, &bytes).map_err(Failure::from)
        })
        .await
    }
}
