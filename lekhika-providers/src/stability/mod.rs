//! Stability AI v2beta stable-image generation (multipart, `accept: image/*`).

mod convert;

use async_trait::async_trait;
use lekhika_core::provider::{
    DeltaSink, GeneratedImage, ImageRequest, ImageResponse, ModelProvider, ProviderError,
    ProviderErrorKind, TextRequest, TextResponse, Usage,
};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

use crate::common;
use crate::config::{ConfigError, ProviderConfig};
use crate::http::client::HttpClient;
use crate::http::drive::with_retries;
use crate::http::{Failure, RetryPolicy};

/// A client of Stability AI's image API.
pub struct StabilityClient {
    http: HttpClient,
    base: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for StabilityClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StabilityClient")
            .field("provider", &self.http.provider)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl StabilityClient {
    pub fn new(cfg: &ProviderConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpClient::from_config(cfg, convert::classify, convert::hints)?,
            base: cfg.base_url.clone(),
            retry: cfg.retry,
        })
    }
}

#[async_trait]
impl ModelProvider for StabilityClient {
    async fn generate_text(
        &self,
        req: &TextRequest,
        _on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        Err(ProviderError::new(
            &req.provider,
            ProviderErrorKind::Unsupported,
            "Stability AI generates images only; route text to another provider",
        ))
    }

    async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, ProviderError> {
        let (endpoint, _) = convert::endpoint(&req.model);
        let url = format!("{}/v2beta/stable-image/generate/{endpoint}", self.base);
        let name = &self.http.provider;
        with_retries(self.retry, &self.http, || async {
            let boundary = convert::boundary_for(req);
            let (ct, body) = convert::multipart(req, &boundary);
            let mut rb = self
                .http
                .inner
                .post(url.clone())
                .header(CONTENT_TYPE, ct)
                .header(ACCEPT, "image/*")
                .body(body);
            if let Some(v) = self.http.key_header("Bearer ") {
                rb = rb.header(AUTHORIZATION, v);
            }
            let resp = self.http.send(rb, 0, false).await?;
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let finish = header("finish-reason");
            let mime = header("content-type")
                .filter(|c| c.starts_with("image/"))
                .unwrap_or_else(|| {
                    common::mime_of_format(req.output_format.as_deref().unwrap_or("png"))
                });
            convert::check_finish(name, finish.as_deref()).map_err(Failure::from)?;
            let bytes = self.http.body(resp).await?;
            Ok(ImageResponse {
                images: vec![GeneratedImage { mime, bytes }],
                usage: Usage::default(),
                served_by: None,
            })
        })
        .await
    }
}
