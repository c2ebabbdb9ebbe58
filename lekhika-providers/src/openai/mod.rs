//! OpenAI Chat Completions, Images and Speech; also every OpenAI-compatible
//! server (Ollama, llama.cpp, vLLM, OpenRouter, LM Studio) through its base URL.

mod convert;
mod dialect;
mod media;
mod refusal;
mod stream;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use lekhika_core::provider::{
    DeltaSink, ImageRequest, ImageResponse, ModelProvider, ProviderError, ProviderErrorKind,
    SpeechRequest, SpeechResponse, TextRequest, TextResponse,
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
    /// The request form this server accepts, shared by every client of the
    /// same provider name and base URL in the process.
    dialect: Arc<dialect::Dialect>,
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
            dialect: dialect::Dialect::shared(&cfg.name, &cfg.base_url, cfg.openai),
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

/// Most refusals one call steps down from: the response format's three
/// steps and one for each other feature (the token fields flip once).
const MAX_STEPS: usize = 6;

/// A request that failed; `silent` when it was a stream whose body
/// brought not a single byte.
struct SendError {
    failure: Failure,
    silent: bool,
}

impl From<Failure> for SendError {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            silent: false,
        }
    }
}

impl OpenAiClient {
    /// Send `req` once in `form`.
    async fn send_in(
        &self,
        req: &TextRequest,
        form: &dialect::Form,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, SendError> {
        let body = convert::chat_body(req, form);
        let resp = self
            .http
            .send(self.post("/chat/completions", body), est, req.stream)
            .await?;
        let name = &self.http.provider;
        if req.stream && is_event_stream(&resp) {
            let mut state = stream::ChatStream::new(name);
            let driven = drive(&self.http, resp, &mut state, on_delta).await;
            let silent = state.silent();
            let done = match driven {
                Ok(emitted) => state
                    .finish(req)
                    .map_err(|e| Failure::from(self.http.scrub(e)).final_if(emitted)),
                Err(f) => Err(f),
            };
            return done.map_err(|failure| SendError { failure, silent });
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
}

#[async_trait]
impl TextAttempt for OpenAiClient {
    /// One attempt: a server that refuses a request feature (a json_schema
    /// response format, stream_options, max_completion_tokens, ...) gets
    /// the request again at once in the next weaker form, which is then
    /// used for every later call to this server (pitfall 8 and its kin).
    async fn attempt(
        &self,
        req: &TextRequest,
        est: u64,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, Failure> {
        let mut stepped = Vec::new();
        // Notices of the steps this call took: reported with its reply.
        let mut mine = Vec::new();
        // The request without streaming, once a stream came back empty.
        let mut unstreamed: Option<TextRequest> = None;
        loop {
            let form = self.dialect.form();
            let cur = unstreamed.as_ref().unwrap_or(req);
            let f = match self.send_in(cur, &form, est, &mut *on_delta).await {
                Ok(mut r) => {
                    if unstreamed.is_some() && !r.text.is_empty() {
                        on_delta(&r.text);
                    }
                    r.notices.append(&mut mine);
                    r.notices.extend(self.dialect.take_notices());
                    return Ok(r);
                }
                Err(SendError { failure, silent }) => {
                    // A server may fail a request only inside its stream,
                    // where its reason is lost: llama-cpp-python answers 200
                    // and closes the stream at once when the prompt does not
                    // fit its context window. Asked once without streaming,
                    // it says why (HTTP 400 context_length_exceeded), or
                    // answers.
                    if silent
                        && unstreamed.is_none()
                        && failure.error.kind == ProviderErrorKind::StreamCut
                    {
                        let mut r = req.clone();
                        r.stream = false;
                        unstreamed = Some(r);
                        continue;
                    }
                    failure
                }
            };
            let sent = convert::sent(cur, &form);
            let refused = refusal::refused(&f.error, sent).filter(|what| {
                // The token fields flip once per call, never back and forth.
                stepped.len() < MAX_STEPS
                    && (*what == dialect::Refused::ResponseFormat || !stepped.contains(what))
            });
            let Some(what) = refused else {
                self.dialect.orphan(mine);
                return Err(f);
            };
            let who = format!("provider `{}` at {}", self.http.provider, self.base);
            let why = refusal::summary(&f.error);
            match self.dialect.step_down(&form, &req.output, what, &who, &why) {
                dialect::Step::Stepped(note) => mine.push(note),
                dialect::Step::Again => {}
                dialect::Step::NoWeaker => {
                    self.dialect.orphan(mine);
                    return Err(f);
                }
            }
            stepped.push(what);
        }
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
