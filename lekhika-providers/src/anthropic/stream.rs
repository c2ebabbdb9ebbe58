//! Messages stream: named events from `message_start` to `message_stop`.

use lekhika_core::provider::{ProviderError, ProviderErrorKind, TextRequest, TextResponse, Usage};

use super::convert::{error_from_value, finish_of, usage_into};
use super::tool;
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
    /// The request forced the answer tool; `Some(wrapped)`.
    forced: Option<bool>,
    /// Inside a `tool_use` content block.
    in_tool: bool,
    /// The concatenated `input_json_delta` pieces (or the start block's input).
    tool_json: Option<String>,
    /// A non-empty input given whole in `content_block_start`.
    tool_start: Option<serde_json::Value>,
}

impl MessageStream {
    pub(crate) fn new(provider: &str, req: &TextRequest) -> Self {
        Self {
            provider: provider.to_string(),
            forced: tool::forced(&req.output).map(|t| t.wrapped),
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
        // A forced tool's input is the answer; text around it is not.
        let text = match (self.forced, self.tool_json, self.tool_start) {
            (Some(wrapped), Some(json), Some(start)) if json.is_empty() => {
                tool::answer_text(&start, wrapped)
            }
            (Some(wrapped), Some(json), _) => tool::streamed_text(&json, wrapped),
            (_, _, _) => self.text,
        };
        let usage = self.saw_usage.then_some(self.usage);
        common::finish_text(
            req,
            &self.provider,
            text,
            finish_of(self.stop_reason.as_deref(), self.forced.is_some()),
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
            "content_block_start" => {
                let block = data.content_block.unwrap_or_default();
                self.in_tool = block.kind == "tool_use" && self.forced.is_some();
                if self.in_tool && self.tool_json.is_none() {
                    // The start block's input is `{}` when pieces follow.
                    self.tool_json = Some(String::new());
                    self.tool_start = block
                        .input
                        .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()));
                }
            }
            "content_block_stop" => self.in_tool = false,
            "content_block_delta" => {
                let Some(d) = data.delta else {
                    return Ok(None);
                };
                match d.kind.as_deref() {
                    Some("text_delta") => {
                        if let Some(t) = d.text.filter(|t| !t.is_empty()) {
                            self.text.push_str(&t);
                            // Prose beside a forced tool is not the answer.
                            if self.forced.is_none() {
                                return Ok(Some(t));
                            }
                        }
                    }
                    Some("input_json_delta") if self.in_tool => {
                        if let Some(p) = d.partial_json.filter(|p| !p.is_empty()) {
                            self.tool_json.get_or_insert_with(String::new).push_str(&p);
                            // A wrapped answer is unwrapped at the end, not streamed.
                            if self.forced == Some(false) {
                                return Ok(Some(p));
                            }
                        }
                    }
                    _ => {}
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
            _ => {} // ping, unknown
        }
        Ok(None)
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
