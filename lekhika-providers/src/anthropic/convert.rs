//! Pure mapping between core's requests and Anthropic Messages JSON.

use lekhika_core::provider::{
    FinishReason, ProviderError, ProviderErrorKind, Role, TextRequest, TextResponse, Usage,
};
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::tool;
use super::wire::{Message, MessagesRequest, MessagesResponse, WireUsage};
use crate::common;
use crate::http::client::kind_for_status;
use crate::http::headers::parse_rfc3339_from_now;
use crate::http::LimitHint;

/// The `anthropic-version` header value.
pub(crate) const VERSION: &str = "2023-06-01";

/// The JSON body of `POST {base}/v1/messages`: the system prompt is a
/// top-level string. A request with a JSON Schema forces the answer tool
/// (see [`tool`]); plain JSON is asked for in the system prompt.
pub(crate) fn messages_body(req: &TextRequest) -> Vec<u8> {
    let forced = tool::forced(&req.output);
    let instruction = match forced {
        Some(_) => None,
        None => common::json_instruction(&req.output),
    };
    let body = MessagesRequest {
        model: &req.model,
        max_tokens: req.max_tokens.max(1),
        system: common::system_with(req, instruction),
        messages: req
            .messages
            .iter()
            .map(|m| Message {
                role: match m.role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                },
                content: &m.content,
            })
            .collect(),
        temperature: req.temperature.map(|t| t.clamp(0.0, 1.0)),
        stream: req.stream,
        tools: forced.as_ref().map(|t| [tool::tool_json(t)]),
        tool_choice: forced.as_ref().map(|_| tool::choice_json()),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The finish reason; a forced tool's `tool_use` stop is a normal end.
pub(crate) fn finish_of(reason: Option<&str>, forced: bool) -> FinishReason {
    match reason {
        Some("tool_use") if forced => FinishReason::Stop,
        r => map_finish(r),
    }
}

pub(crate) fn map_finish(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// Input counts everything billed as input (cache writes and reads included).
pub(crate) fn usage_into(u: WireUsage, into: &mut Usage) {
    let cache = u.cache_creation_input_tokens.unwrap_or(0) + u.cache_read_input_tokens.unwrap_or(0);
    if let Some(i) = u.input_tokens {
        into.input_tokens = i + cache;
    }
    if let Some(o) = u.output_tokens {
        into.output_tokens = o;
    }
}

pub(crate) fn parse_messages(
    provider: &str,
    req: &TextRequest,
    body: &[u8],
) -> Result<TextResponse, ProviderError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| common::bad_body(provider, "message", &e, body))?;
    if v.get("type").and_then(Value::as_str) == Some("error") {
        return Err(error_from_value(provider, &v, None));
    }
    let r: MessagesResponse =
        serde_json::from_value(v).map_err(|e| common::bad_body(provider, "message", &e, body))?;
    let forced = tool::forced(&req.output);
    let answer = forced.as_ref().and_then(|t| {
        r.content
            .iter()
            .find(|b| b.kind == "tool_use" && b.name.as_deref() == Some(tool::ANSWER))
            .or_else(|| r.content.iter().find(|b| b.kind == "tool_use"))
            .and_then(|b| b.input.as_ref())
            .map(|input| tool::answer_text(input, t.wrapped))
    });
    let text: String = answer.unwrap_or_else(|| {
        r.content
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect()
    });
    let usage = r.usage.map(|u| {
        let mut usage = Usage::default();
        usage_into(u, &mut usage);
        usage
    });
    common::finish_text(
        req,
        provider,
        text,
        finish_of(r.stop_reason.as_deref(), forced.is_some()),
        usage,
        r.model.unwrap_or_else(|| req.model.clone()),
        None,
    )
}

/// Classify a non-2xx reply, keeping the body whole in the message.
pub(crate) fn classify(provider: &str, status: u16, body: &str) -> ProviderError {
    let mut e = match serde_json::from_str::<Value>(body) {
        Ok(v) if v.get("error").is_some() => error_from_value(provider, &v, Some(status)),
        _ => ProviderError::new(provider, kind_for_status(status), ""),
    };
    e.message = if body.trim().is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        body.trim().to_string()
    };
    e.with_status(status)
}

/// `{"type":"error","error":{"type","message"}}` from a body or an SSE `error` event.
pub(crate) fn error_from_value(provider: &str, v: &Value, status: Option<u16>) -> ProviderError {
    let err = v.get("error").unwrap_or(v);
    let typ = err.get("type").and_then(Value::as_str).unwrap_or("");
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    let lower = message.to_ascii_lowercase();
    let kind = match typ {
        _ if matches!(status, Some(401 | 403)) => ProviderErrorKind::Auth,
        "authentication_error" | "permission_error" => ProviderErrorKind::Auth,
        "billing_error" => ProviderErrorKind::QuotaExhausted,
        "rate_limit_error" => ProviderErrorKind::RateLimited,
        "overloaded_error" => ProviderErrorKind::Overloaded,
        "api_error" => ProviderErrorKind::Server,
        "timeout_error" => ProviderErrorKind::Timeout,
        "request_too_large" => ProviderErrorKind::ContextTooLong,
        "invalid_request_error" if lower.contains("credit balance") => {
            ProviderErrorKind::QuotaExhausted
        }
        "invalid_request_error"
            if lower.contains("prompt is too long")
                || lower.contains("context") && lower.contains("token") =>
        {
            ProviderErrorKind::ContextTooLong
        }
        "invalid_request_error" | "not_found_error" => ProviderErrorKind::BadRequest,
        _ => status.map_or(ProviderErrorKind::Server, kind_for_status),
    };
    let mut e = ProviderError::new(provider, kind, format!("{typ}: {message}"));
    e.status = status;
    e
}

/// `anthropic-ratelimit-{requests,tokens}-{remaining,reset}` (reset is RFC 3339).
pub(crate) fn hints(h: &HeaderMap) -> LimitHint {
    let now = std::time::SystemTime::now();
    let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    LimitHint {
        remaining_requests: get("anthropic-ratelimit-requests-remaining")
            .and_then(|v| v.trim().parse().ok()),
        reset_requests: get("anthropic-ratelimit-requests-reset")
            .and_then(|v| parse_rfc3339_from_now(v, now)),
        remaining_tokens: get("anthropic-ratelimit-tokens-remaining")
            .or_else(|| get("anthropic-ratelimit-input-tokens-remaining"))
            .and_then(|v| v.trim().parse().ok()),
        reset_tokens: get("anthropic-ratelimit-tokens-reset")
            .or_else(|| get("anthropic-ratelimit-input-tokens-reset"))
            .and_then(|v| parse_rfc3339_from_now(v, now)),
    }
}
