//! `:streamGenerateContent?alt=sse`: unnamed `data:` events, each a whole
//! GenerateContentResponse repeating cumulative usage; no `[DONE]`.

use lekhika_core::provider::{ProviderError, ProviderErrorKind, TextRequest, TextResponse, Usage};

use super::convert::{finish, piece};
use super::wire::GenerateResponse;
use crate::common;
use crate::http::drive::StreamState;
use crate::http::SseEvent;

#[derive(Debug, Default)]
pub(crate) struct GenerateStream {
    provider: String,
    text: String,
    finish: Option<String>,
    /// Latest cumulative usage (taken, never summed).
    usage: Option<Usage>,
    model: Option<String>,
}

impl GenerateStream {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_string(),
            ..Self::default()
        }
    }

    /// The stream has no terminal event: a chunk with a finishReason ends it.
    pub(crate) fn finish(self, req: &TextRequest) -> Result<TextResponse, ProviderError> {
        if self.finish.is_none() {
            return Err(ProviderError::new(
                self.provider,
                ProviderErrorKind::StreamCut,
                format!(
                    "the stream ended without a finishReason ({} characters received)",
                    self.text.len()
                ),
            ));
        }
        finish(
            &self.provider,
            req,
            self.text,
            self.finish,
            self.usage,
            self.model,
        )
    }
}

impl StreamState for GenerateStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Option<String>, ProviderError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(None);
        }
        let r: GenerateResponse = match serde_json::from_str(data) {
            Ok(r) => r,
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
        let p = piece(&self.provider, r)?;
        if p.usage.is_some() {
            self.usage = p.usage;
        }
        if p.model.is_some() {
            self.model = p.model;
        }
        if p.finish.is_some() {
            self.finish = p.finish;
        }
        if p.text.is_empty() {
            return Ok(None);
        }
        self.text.push_str(&p.text);
        Ok(Some(p.text))
    }

    fn is_done(&self) -> bool {
        false // read to the end: a last usage-only chunk may follow the finishReason
    }
}
