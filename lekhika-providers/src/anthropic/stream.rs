//! Messages stream: named events from `message_start` to `message_stop`.

use lekhika_core::provider::{ProviderError, ProviderErrorKind, TextRequest, TextResponse, Usage};

use super::convert::{error_from_value, map_finish, usage_into};
use super::wire::StreamEvent;
use crate::common;
use crate::http::drive::StreamState;
use crate::http::SseEvent;

#[derive(Debug, Default)]
pub(crate) struct MessageStream {
    provider: String,
    text: String,
    stop_reason: Option<String>,
    /// Cumulative: each report replaces the last, never adds.
    usage: Usage,
    saw_usage: bool,
    model: Option<String>,
    done: bool,
}

impl MessageStream {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_string(),
            ..Self::default()
        }
    }

    pub(crate) fn finish(self, req: &TextRequest) -> Result<TextResponse, ProviderError> {
        if !self.done {
            return Err(ProviderError::new(
                self.provider,
                ProviderErrorKind::StreamCut,
                format!(
                    "the stream ended before message_stop ({} characters received)",
                    self.text.len()
                ),
            ));
        }
        let usage = if self.saw_usage {
            self.usage
        } else {
            common::estimate_usage(req, &self.text)
        };
        common::finish_text(
            &self.provider,
            self.text,
            map_finish(self.stop_reason.as_deref()),
            usage,
            self.model.unwrap_or_else(|| req.model.clone()),
            None,
        )
    }
}

impl StreamState for MessageStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Option<String>, ProviderError> {
        let parsed: Result<StreamEvent, _> = serde_json::from_str(&ev.data);
        let name = ev.event.clone();
        let data = match parsed {
            Ok(d) => d,
            Err(e) if name.as_deref() == Some("error") => {
                return Err(ProviderError::new(
                    &self.provider,
                    ProviderErrorKind::Server,
                    format!("error event ({e}): {}", ev.data),
                ))
            }
            Err(_) => return Ok(None), // unknown, non-JSON event
        };
        let kind = name.unwrap_or_else(|| data.kind.clone());
        match kind.as_str() {
            "message_start" => {
                if let Some(m) = data.message {
                    self.model = m.model.or(self.model.take());
                    if let Some(u) = m.usage {
                        usage_into(u, &mut self.usage);
                        self.saw_usage = true;
                    }
                }
            }
            "content_block_delta" => {
                if let Some(d) = data.delta {
                    if d.kind.as_deref() == Some("text_delta") {
                        if let Some(t) = d.text.filter(|t| !t.is_empty()) {
                            self.text.push_str(&t);
                            return Ok(Some(t));
                        }
                    }
                }
            }
            "message_delta" => {
                if let Some(r) = data.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason = Some(r);
                }
                if let Some(u) = data.usage {
                    usage_into(u, &mut self.usage);
                    self.saw_usage = true;
                }
            }
            "message_stop" => self.done = true,
            "error" => {
                let v: serde_json::Value = serde_json::from_str(&ev.data).unwrap_or_default();
                return Err(error_from_value(&self.provider, &v, None));
            }
            _ => {} // ping, content_block_start/stop, unknown
        }
        Ok(None)
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
