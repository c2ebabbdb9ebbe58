//! Scripted replies and their rendering in each protocol's exact wire form.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Protocol, RecordedRequest};

/// How the model "stopped" in a scripted text reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// stop / end_turn / STOP
    Done,
    /// length / max_tokens / MAX_TOKENS
    Length,
}

#[derive(Debug, Clone)]
enum Body {
    Text {
        text: String,
        stop: Stop,
        usage: Option<(u64, u64)>,
    },
    Raw {
        status: u16,
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// What the server answers to one request.
#[derive(Debug, Clone)]
pub struct Reply {
    body: Body,
    headers: Vec<(String, String)>,
    split: Option<usize>,
    pause: Duration,
    delay: Duration,
    cut_after: Option<usize>,
    /// Send the usage chunk a stream asked for with `stream_options`.
    stream_usage: bool,
}

impl Reply {
    fn with(body: Body) -> Self {
        Self {
            body,
            headers: Vec::new(),
            split: None,
            pause: Duration::ZERO,
            delay: Duration::ZERO,
            cut_after: None,
            stream_usage: true,
        }
    }

    /// Never send usage in a stream, whatever `stream_options` asked (as
    /// llama-cpp-python's server does).
    pub fn without_stream_usage(mut self) -> Self {
        self.stream_usage = false;
        self
    }

    /// A successful text reply; streamed when the request asked for a stream.
    pub fn text(text: impl Into<String>) -> Self {
        Self::with(Body::Text {
            text: text.into(),
            stop: Stop::Done,
            usage: None,
        })
    }

    /// Rewrite a text reply's text (e.g. wrap JSON in prose, as a server
    /// that ignores `response_format` might answer); other replies are kept.
    pub fn map_text(mut self, f: impl FnOnce(&str) -> String) -> Self {
        if let Body::Text { text, .. } = &mut self.body {
            *text = f(text);
        }
        self
    }

    /// The model hit its output limit.
    pub fn truncated(mut self) -> Self {
        if let Body::Text { stop, .. } = &mut self.body {
            *stop = Stop::Length;
        }
        self
    }

    /// Token usage to report (default: 10 input, 1 per 4 bytes of text output).
    pub fn usage(mut self, input: u64, output: u64) -> Self {
        if let Body::Text { usage, .. } = &mut self.body {
            *usage = Some((input, output));
        }
        self
    }

    /// Report `input` prompt tokens (and the default output count: 1 per 4
    /// bytes of text).
    pub fn input_tokens(mut self, input: u64) -> Self {
        if let Body::Text { usage, text, .. } = &mut self.body {
            *usage = Some((input, (text.len() as u64).div_ceil(4)));
        }
        self
    }

    /// Any status and body, sent as is.
    pub fn raw(status: u16, content_type: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Self::with(Body::Raw {
            status,
            content_type: content_type.into(),
            bytes: bytes.into(),
        })
    }

    /// A JSON body with a status (errors: pass the provider's error JSON).
    pub fn json(status: u16, body: &Value) -> Self {
        Self::raw(status, "application/json", body.to_string())
    }

    /// An error status with a body string kept byte for byte.
    pub fn error(status: u16, body: &str) -> Self {
        Self::raw(status, "application/json", body.as_bytes().to_vec())
    }

    /// A 200 `text/event-stream` with these exact bytes.
    pub fn sse(bytes: impl Into<Vec<u8>>) -> Self {
        Self::raw(200, "text/event-stream", bytes)
    }

    /// Image bytes (`accept: image/*` style), with `finish-reason: SUCCESS`.
    pub fn image(mime: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Self::raw(200, mime, bytes)
            .header("finish-reason", "SUCCESS")
            .header("seed", "42")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Send the body as chunks of `n` bytes (splitting events and UTF-8).
    pub fn split_every(mut self, n: usize) -> Self {
        self.split = Some(n.max(1));
        self
    }

    /// Sleep between chunks so each arrives in its own read.
    pub fn pause(mut self, d: Duration) -> Self {
        self.pause = d;
        self
    }

    /// Wait before answering.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    /// Close the connection after `n` body bytes (a cut stream).
    pub fn cut_after(mut self, n: usize) -> Self {
        self.cut_after = Some(n);
        self
    }

    pub(crate) fn delay_before(&self) -> Duration {
        self.delay
    }

    pub(crate) fn pacing(&self) -> (Option<usize>, Duration, Option<usize>) {
        (self.split, self.pause, self.cut_after)
    }

    pub(crate) fn extra_headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Status, content type and body bytes for `req` in `protocol`.
    pub(crate) fn render(
        &self,
        protocol: Protocol,
        req: &RecordedRequest,
    ) -> (u16, String, Vec<u8>) {
        match &self.body {
            Body::Raw {
                status,
                content_type,
                bytes,
            } => (*status, content_type.clone(), bytes.clone()),
            Body::Text { text, stop, usage } => {
                let usage = usage.unwrap_or((10, (text.len() as u64).div_ceil(4)));
                let model = req.model();
                let tool = (protocol == Protocol::Anthropic)
                    .then(|| forced_tool_input(req, text))
                    .flatten();
                if let Some((name, input)) = &tool {
                    let body = if req.is_stream() {
                        anthropic_tool_stream(name, input, *stop, usage, &model).into_bytes()
                    } else {
                        anthropic_tool_json(name, input, *stop, usage, &model)
                            .to_string()
                            .into_bytes()
                    };
                    let ct = if req.is_stream() {
                        "text/event-stream"
                    } else {
                        "application/json"
                    };
                    return (200, ct.into(), body);
                }
                if req.is_stream() {
                    let body = match protocol {
                        Protocol::OpenAi => {
                            openai_stream(text, *stop, usage, &model, req, self.stream_usage)
                        }
                        Protocol::Anthropic => anthropic_stream(text, *stop, usage, &model),
                        Protocol::Gemini => gemini_stream(text, *stop, usage, &model),
                    };
                    (200, "text/event-stream".into(), body.into_bytes())
                } else {
                    let v = match protocol {
                        Protocol::OpenAi => openai_json(text, *stop, usage, &model),
                        Protocol::Anthropic => anthropic_json(text, *stop, usage, &model),
                        Protocol::Gemini => gemini_json(text, *stop, usage, &model, true),
                    };
                    (200, "application/json".into(), v.to_string().into_bytes())
                }
            }
        }
    }
}

/// Split text into up to three pieces on character boundaries.
fn pieces(text: &str) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if chars.len() < 3 {
        return vec![text];
    }
    let (a, b) = (chars[chars.len() / 3], chars[2 * chars.len() / 3]);
    vec![&text[..a], &text[a..b], &text[b..]]
}

fn openai_json(text: &str, stop: Stop, (i, o): (u64, u64), model: &str) -> Value {
    json!({"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null, "finish_reason": if stop == Stop::Length { "length" } else { "stop" }}],
        "usage": {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o}})
}

fn openai_stream(
    text: &str,
    stop: Stop,
    (i, o): (u64, u64),
    model: &str,
    req: &RecordedRequest,
    send_usage: bool,
) -> String {
    let chunk = |choices: Value| {
        json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": choices})
    };
    let mut s = String::new();
    let mut push = |v: Value| s.push_str(&format!("data: {v}\n\n"));
    push(chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
    ));
    for p in pieces(text) {
        push(chunk(
            json!([{"index": 0, "delta": {"content": p}, "finish_reason": null}]),
        ));
    }
    let fr = if stop == Stop::Length {
        "length"
    } else {
        "stop"
    };
    push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": fr}]),
    ));
    if send_usage && req.body.pointer("/stream_options/include_usage") == Some(&Value::Bool(true)) {
        let mut u = chunk(json!([]));
        u["usage"] = json!({"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o});
        push(u);
    }
    s.push_str("data: [DONE]\n\n");
    s
}

fn anthropic_json(text: &str, stop: Stop, (i, o): (u64, u64), model: &str) -> Value {
    json!({"id": "msg_test", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": if stop == Stop::Length { "max_tokens" } else { "end_turn" }, "stop_sequence": null,
        "usage": {"input_tokens": i, "output_tokens": o}})
}

fn anthropic_stream(text: &str, stop: Stop, (i, o): (u64, u64), model: &str) -> String {
    let mut s = String::new();
    let mut ev = |name: &str, v: Value| s.push_str(&format!("event: {name}\ndata: {v}\n\n"));
    ev(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_test", "type": "message",
        "role": "assistant", "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": i, "output_tokens": 1}}}),
    );
    ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}}),
    );
    ev("ping", json!({"type": "ping"}));
    for p in pieces(text) {
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": p}}),
        );
    }
    ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    let sr = if stop == Stop::Length {
        "max_tokens"
    } else {
        "end_turn"
    };
    ev(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": sr, "stop_sequence": null},
        "usage": {"output_tokens": o}}),
    );
    ev("message_stop", json!({"type": "message_stop"}));
    s
}

/// A request forcing a tool (`tool_choice: {type: "tool", name}`) answered
/// with JSON text: the tool's name and input, as a model fills it (a value
/// that is not an object goes under the input schema's first required
/// property). `None` when nothing is forced or the text is not JSON.
fn forced_tool_input(req: &RecordedRequest, text: &str) -> Option<(String, Value)> {
    let choice = req.body.get("tool_choice")?;
    if choice.get("type").and_then(Value::as_str) != Some("tool") {
        return None;
    }
    let name = choice.get("name").and_then(Value::as_str)?.to_string();
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    if v.is_object() {
        return Some((name, v));
    }
    let key = req.body.get("tools")?.as_array()?.iter().find_map(|t| {
        (t.get("name").and_then(Value::as_str) == Some(&name))
            .then(|| {
                t.pointer("/input_schema/required/0")
                    .and_then(Value::as_str)
            })
            .flatten()
    })?;
    let mut input = serde_json::Map::new();
    input.insert(key.to_string(), v);
    Some((name, Value::Object(input)))
}

fn tool_stop(stop: Stop) -> &'static str {
    if stop == Stop::Length {
        "max_tokens"
    } else {
        "tool_use"
    }
}

fn anthropic_tool_json(
    name: &str,
    input: &Value,
    stop: Stop,
    (i, o): (u64, u64),
    model: &str,
) -> Value {
    json!({"id": "msg_test", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "tool_use", "id": "toolu_test", "name": name, "input": input}],
        "stop_reason": tool_stop(stop), "stop_sequence": null,
        "usage": {"input_tokens": i, "output_tokens": o}})
}

/// As the API streams a forced tool: the block starts with `input: {}`,
/// then `input_json_delta` pieces of the input's JSON text.
fn anthropic_tool_stream(
    name: &str,
    input: &Value,
    stop: Stop,
    (i, o): (u64, u64),
    model: &str,
) -> String {
    let mut s = String::new();
    let mut ev = |event: &str, v: Value| s.push_str(&format!("event: {event}\ndata: {v}\n\n"));
    ev(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_test", "type": "message",
        "role": "assistant", "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": i, "output_tokens": 1}}}),
    );
    ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "tool_use", "id": "toolu_test", "name": name, "input": {}}}),
    );
    ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0,
        "delta": {"type": "input_json_delta", "partial_json": ""}}),
    );
    let text = input.to_string();
    for p in pieces(&text) {
        ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": p}}),
        );
    }
    ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    ev(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": tool_stop(stop), "stop_sequence": null},
        "usage": {"output_tokens": o}}),
    );
    ev("message_stop", json!({"type": "message_stop"}));
    s
}

fn gemini_json(text: &str, stop: Stop, (i, o): (u64, u64), model: &str, last: bool) -> Value {
    let mut cand = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
    if last {
        cand["finishReason"] = json!(if stop == Stop::Length {
            "MAX_TOKENS"
        } else {
            "STOP"
        });
    }
    json!({"candidates": [cand],
        "usageMetadata": {"promptTokenCount": i, "candidatesTokenCount": o, "totalTokenCount": i + o},
        "modelVersion": model})
}

fn gemini_stream(text: &str, stop: Stop, usage: (u64, u64), model: &str) -> String {
    let ps = pieces(text);
    let n = ps.len();
    let mut s = String::new();
    for (k, p) in ps.into_iter().enumerate() {
        // Cumulative usage in every chunk, as Gemini sends it.
        let so_far = (usage.0, usage.1 * (k as u64 + 1) / n as u64);
        let v = gemini_json(p, stop, so_far, model, k + 1 == n);
        s.push_str(&format!("data: {v}\r\n\r\n"));
    }
    s
}
