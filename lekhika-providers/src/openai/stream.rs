//! Chat Completions stream: `data: {chunk}` events ending in `data: [DONE]`.

use lekhika_core::provider::{ProviderError, ProviderErrorKind, TextRequest, TextResponse, Usage};

use super::convert::{error_from_value, map_finish, usage_of};
use super::wire::ChatResponse;
use crate::common;
use crate::http::drive::StreamState;
use crate::http::SseEvent;

#[derive(Debug, Default)]
pub(crate) struct ChatStream {
    provider: String,
    text: String,
    refusal: String,
    finish: Option<String>,
    /// The latest usage seen (servers that repeat it send cumulative values).
    usage: Option<Usage>,
    model: Option<String>,
    done: bool,
    /// Bytes of the body received.
    bytes: usize,
}

impl ChatStream {
    /// Not a byte came in the stream's body.
    pub(crate) fn silent(&self) -> bool {
        self.bytes == 0
    }

    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_string(),
            ..Self::default()
        }
    }

    /// The whole response, or `StreamCut` when no finish reason came. A
    /// `[DONE]` alone is not enough: llama-cpp-python's server (with its
    /// default `interrupt_requests`) ends a stream it abandons for a newer
    /// request with `[DONE]` and no finish reason.
    pub(crate) fn finish(self, req: &TextRequest) -> Result<TextResponse, ProviderError> {
        if self.finish.is_none() {
            let how = if self.done {
                "with [DONE] but no finish reason (the server abandoned it)"
            } else {
                "before [DONE] or a finish reason"
            };
            return Err(ProviderError::new(
                self.provider,
                ProviderErrorKind::StreamCut,
                format!(
                    "the stream ended {how} ({} characters received)",
                    self.text.len()
                ),
            ));
        }
        common::finish_text(
            req,
            &self.provider,
            self.text,
            map_finish(self.finish.as_deref()),
            self.usage,
            self.model.unwrap_or_else(|| req.model.clone()),
            Some(self.refusal),
        )
    }
}

impl StreamState for ChatStream {
    fn on_bytes(&mut self, n: usize) {
        self.bytes += n;
    }

    fn on_event(&mut self, ev: &SseEvent) -> Result<Option<String>, ProviderError> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        if data.is_empty() {
            return Ok(None);
        }
        let chunk: ChatResponse = match serde_json::from_str(data) {
            Ok(c) => c,
            // Unknown non-JSON events from compatible servers are skipped.
            Err(_) if ev.event.as_deref().is_some_and(|e| e != "error") => return Ok(None),
            Err(e) => {
                return Err(common::bad_body(
                    &self.provider,
                    "stream chunk",
                    &e,
                    data.as_bytes(),
                ))
            }
        };
        if let Some(err) = &chunk.error {
            return Err(error_from_value(&self.provider, err, None));
        }
        if ev.event.as_deref() == Some("error") {
            let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
            return Err(error_from_value(&self.provider, &v, None));
        }
        if let Some(m) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = Some(m);
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(usage_of(u));
        }
        let mut delta = None;
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index.unwrap_or(0) != 0 {
                continue;
            }
            if let Some(r) = choice.finish_reason {
                self.finish = Some(r);
            }
            if let Some(d) = choice.delta.or(choice.message) {
                if let Some(r) = d.refusal {
                    self.refusal.push_str(&r);
                }
                if let Some(c) = d.content.filter(|c| !c.is_empty()) {
                    self.text.push_str(&c);
                    delta = Some(c);
                }
            }
        }
        Ok(delta)
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
