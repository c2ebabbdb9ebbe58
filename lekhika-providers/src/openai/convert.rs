//! Pure mapping between core's requests and OpenAI Chat Completions JSON.

use std::borrow::Cow;

use lekhika_core::provider::{
    FinishReason, OutputFormat, ProviderError, ProviderErrorKind, Role, TextRequest, TextResponse,
    Usage,
};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::dialect::{Form, Structured};
use super::refusal::Sent;
use super::wire::{ChatRequest, ChatResponse, Message, StreamOptions, WireUsage};
use crate::common;
use crate::config::MaxTokensField;
use crate::http::client::kind_for_status;
use crate::http::headers::parse_go_duration;
use crate::http::LimitHint;

/// The JSON body of `POST {base}/chat/completions` in `form`, the request
/// form the server is believed to accept.
pub(crate) fn chat_body(req: &TextRequest, form: &Form) -> Vec<u8> {
    let structured = form.structured(&req.output);
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    // json_object needs the word JSON in the prompt; the weaker forms need
    // the schema there, since the server does not enforce it.
    let extra = match structured {
        None => None,
        Some(Structured::JsonSchema) if mentions_json(req) => None,
        Some(_) => common::json_instruction(&req.output),
    };
    if let Some(system) = common::system_with(req, extra) {
        messages.push(Message {
            role: "system",
            content: Cow::Owned(system),
        });
    }
    for m in &req.messages {
        messages.push(Message {
            role: match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: Cow::Borrowed(&m.content),
        });
    }
    let (mct, mt) = match form.max_field {
        MaxTokensField::MaxCompletionTokens => (Some(req.max_tokens), None),
        MaxTokensField::MaxTokens => (None, Some(req.max_tokens)),
    };
    let body = ChatRequest {
        model: &req.model,
        messages,
        max_completion_tokens: mct,
        max_tokens: mt,
        temperature: req.temperature.filter(|_| form.temperature),
        stream: req.stream,
        stream_options: (req.stream && form.stream_usage).then_some(StreamOptions {
            include_usage: true,
        }),
        response_format: structured.and_then(|s| response_format(&req.output, s)),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The optional features [`chat_body`] puts into a request.
pub(crate) fn sent(req: &TextRequest, form: &Form) -> Sent {
    Sent {
        response_format: form
            .structured(&req.output)
            .is_some_and(|s| s != Structured::PromptOnly),
        stream_options: req.stream && form.stream_usage,
        max_completion_tokens: form.max_field == MaxTokensField::MaxCompletionTokens,
        max_tokens: form.max_field == MaxTokensField::MaxTokens,
        temperature: req.temperature.is_some() && form.temperature,
    }
}

fn mentions_json(req: &TextRequest) -> bool {
    let has = |s: &str| s.to_ascii_lowercase().contains("json");
    req.system.as_deref().is_some_and(has) || req.messages.iter().any(|m| has(&m.content))
}

fn response_format(o: &OutputFormat, form: Structured) -> Option<Value> {
    let schema = match o {
        OutputFormat::Text => return None,
        OutputFormat::Json => None,
        OutputFormat::JsonSchema { name, schema } => Some((name, schema)),
    };
    match (form, schema) {
        (Structured::PromptOnly, _) => None,
        (Structured::JsonSchema, Some((name, schema))) => Some(json!({
            "type": "json_schema",
            "json_schema": {"name": sanitize_name(name), "schema": schema}
        })),
        (Structured::JsonObjectWithSchema, Some((_, schema))) => {
            Some(json!({"type": "json_object", "schema": schema}))
        }
        _ => Some(json!({"type": "json_object"})),
    }
}

/// OpenAI schema names allow `[a-zA-Z0-9_-]{1,64}`.
fn sanitize_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() {
        "output".into()
    } else {
        s
    }
}

pub(crate) fn map_finish(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

pub(crate) fn usage_of(u: WireUsage) -> Usage {
    Usage {
        input_tokens: u.prompt_tokens.or(u.input_tokens).unwrap_or(0),
        output_tokens: u.completion_tokens.or(u.output_tokens).unwrap_or(0),
    }
}

/// Parse a non-streamed completion.
pub(crate) fn parse_chat(
    provider: &str,
    req: &TextRequest,
    body: &[u8],
) -> Result<TextResponse, ProviderError> {
    let r: ChatResponse = serde_json::from_slice(body)
        .map_err(|e| common::bad_body(provider, "chat completion", &e, body))?;
    if let Some(err) = &r.error {
        return Err(error_from_value(provider, err, None));
    }
    let choice = r
        .choices
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.index.unwrap_or(0) == 0);
    let Some(choice) = choice else {
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::Server,
            "the completion has no choices",
        ));
    };
    let msg = choice.message.unwrap_or_default();
    let text = msg.content.unwrap_or_default();
    let usage = r.usage.map(usage_of);
    common::finish_text(
        req,
        provider,
        text,
        map_finish(choice.finish_reason.as_deref()),
        usage,
        r.model.unwrap_or_else(|| req.model.clone()),
        msg.refusal,
    )
}

/// Classify a non-2xx reply; the body is kept whole in the message.
pub(crate) fn classify(provider: &str, status: u16, body: &str) -> ProviderError {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let err = v.as_ref().and_then(|v| v.get("error"));
    let mut e = match err {
        Some(err) => error_from_value(provider, err, Some(status)),
        None => ProviderError::new(provider, kind_for_status(status), String::new()),
    };
    e.message = if body.trim().is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        body.trim().to_string()
    };
    e.with_status(status)
}

/// Classify an `error` object (`{message, type, param, code}`; `code` may be
/// a string or a number), from a body or from inside a stream.
pub(crate) fn error_from_value(provider: &str, err: &Value, status: Option<u16>) -> ProviderError {
    let text = |k: &str| -> String {
        match err.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let (code, typ, message) = (text("code"), text("type"), text("message"));
    let message = if message.is_empty() {
        err.to_string()
    } else {
        message
    };
    let status = status.or_else(|| code.parse::<u16>().ok().filter(|c| (400..600).contains(c)));
    let lower = message.to_ascii_lowercase();
    let kind = if code == "insufficient_quota"
        || typ == "insufficient_quota"
        || code == "billing_hard_limit_reached"
        || lower.contains("exceeded your current quota")
    {
        ProviderErrorKind::QuotaExhausted
    } else if code == "context_length_exceeded"
        || lower.contains("maximum context length")
        || lower.contains("context length")
        || lower.contains("context window")
    {
        ProviderErrorKind::ContextTooLong
    } else if code == "content_filter" || code == "content_policy_violation" {
        ProviderErrorKind::ContentBlocked
    } else if code == "invalid_api_key" || typ == "authentication_error" {
        ProviderErrorKind::Auth
    } else if code == "rate_limit_exceeded"
        || typ == "rate_limit_error"
        || typ == "requests"
        || typ == "tokens"
    {
        ProviderErrorKind::RateLimited
    } else if typ == "overloaded_error" || code == "overloaded" {
        ProviderErrorKind::Overloaded
    } else {
        status.map_or(ProviderErrorKind::Server, kind_for_status)
    };
    let label = [typ.as_str(), code.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let mut msg = if label.is_empty() {
        message
    } else {
        format!("{label}: {message}")
    };
    if kind == ProviderErrorKind::ContextTooLong {
        msg.push_str(
            " (the prompt and reply do not fit the model's context window: give a local server a \
             larger one — llama.cpp `-c`, llama-cpp-python `--n_ctx`, Ollama `num_ctx` — or choose a \
             model with a longer window)",
        );
    }
    let mut e = ProviderError::new(provider, kind, msg);
    e.status = status;
    e
}

/// `x-ratelimit-remaining-{requests,tokens}` and `x-ratelimit-reset-*`.
pub(crate) fn hints(h: &HeaderMap) -> LimitHint {
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    LimitHint {
        remaining_requests: get("x-ratelimit-remaining-requests")
            .and_then(|v| v.trim().parse().ok()),
        reset_requests: get("x-ratelimit-reset-requests").and_then(parse_go_duration),
        remaining_tokens: get("x-ratelimit-remaining-tokens").and_then(|v| v.trim().parse().ok()),
        reset_tokens: get("x-ratelimit-reset-tokens").and_then(parse_go_duration),
    }
}
