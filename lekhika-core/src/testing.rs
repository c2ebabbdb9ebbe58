//! A scripted in-process model for tests and examples: answers from a
//! closure, optionally after a delay, and counts calls and concurrency.
//! Real providers live in `lekhika-providers`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::provider::{
    DeltaSink, FinishReason, ModelProvider, ProviderError, TextRequest, TextResponse, Usage,
};

type Script = dyn Fn(&TextRequest, usize) -> Result<TextResponse, ProviderError> + Send + Sync;

/// Answers each call with `script(request, call_number)`.
pub struct ScriptedModel {
    script: Box<Script>,
    delay: Duration,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    log: Mutex<Vec<TextRequest>>,
}

impl ScriptedModel {
    pub fn new(
        script: impl Fn(&TextRequest, usize) -> Result<TextResponse, ProviderError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Self::with_delay(Duration::ZERO, script)
    }

    pub fn with_delay(
        delay: Duration,
        script: impl Fn(&TextRequest, usize) -> Result<TextResponse, ProviderError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            script: Box::new(script),
            delay,
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        })
    }

    /// A plain text reply with the given usage.
    pub fn reply(text: impl Into<String>, input_tokens: u64, output_tokens: u64) -> TextResponse {
        TextResponse {
            text: text.into(),
            finish: FinishReason::Stop,
            usage: Usage {
                input_tokens,
                output_tokens,
            },
            usage_estimated: false,
            model: "scripted".into(),
            notices: Vec::new(),
            served_by: None,
        }
    }

    /// Calls that reached the model (including failed ones).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The most calls that were ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request received, in arrival order.
    pub fn requests(&self) -> Vec<TextRequest> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The user prompts (first message) of every request.
    pub fn prompts(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .map(|r| {
                r.messages
                    .first()
                    .map(|m| m.content.clone())
                    .unwrap_or_default()
            })
            .collect()
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ModelProvider for ScriptedModel {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut l) = self.log.lock() {
            l.push(req.clone());
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = InFlight(&self.in_flight);
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let resp = (self.script)(req, n)?;
        if req.stream {
            for piece in resp.text.split_inclusive(' ') {
                on_delta(piece);
            }
        }
        Ok(resp)
    }
}
