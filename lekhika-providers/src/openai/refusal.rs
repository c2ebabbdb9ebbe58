//! Recognises a compatible server refusing one request feature (as opposed
//! to a fault, a limit or a bad value), from the status and error body.
//! Real wordings this matches are in the tests below; their sources are in
//! docs/providers.md.

use lekhika_core::provider::{ProviderError, ProviderErrorKind};
use serde_json::Value;

use super::dialect::Refused;

/// Which optional features a refused request carried.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sent {
    pub response_format: bool,
    pub stream_options: bool,
    pub max_completion_tokens: bool,
    pub max_tokens: bool,
    pub temperature: bool,
}

/// Words servers use when they do not accept a field at all.
const NOT_ACCEPTED: &[&str] = &[
    "unsupported",
    "not supported",
    "does not support",
    "unrecognized",
    "unknown",
    "not permitted",
    "extra inputs",
    "extra_forbidden",
    "unexpected",
    "not allowed",
    "not implemented",
];

/// Further words for a `response_format` whose type or schema is not accepted.
const FORMAT_NOT_ACCEPTED: &[&str] = &[
    "must be",
    "input should be",
    "literal_error",
    "invalid",
    "not valid",
];

/// The feature `err` says the server does not accept, if that is what it says.
pub(crate) fn refused(err: &ProviderError, sent: Sent) -> Option<Refused> {
    let status_fits = matches!(err.status, Some(400 | 422 | 500 | 501));
    let kind_fits = matches!(
        err.kind,
        ProviderErrorKind::BadRequest | ProviderErrorKind::Server
    );
    if !status_fits || !kind_fits {
        return None;
    }
    let text = err.message.to_ascii_lowercase();
    let param = error_param(&err.message);
    let names = |field: &str| text.contains(field) || param.as_deref() == Some(field);
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if sent.stream_options && names("stream_options") {
        return Some(Refused::StreamOptions);
    }
    if sent.response_format
        && (names("response_format")
            || text.contains("json_schema")
            || text.contains("json_object"))
        && (says(NOT_ACCEPTED) || says(FORMAT_NOT_ACCEPTED))
    {
        return Some(Refused::ResponseFormat);
    }
    if sent.max_completion_tokens && names("max_completion_tokens") && says(NOT_ACCEPTED) {
        return Some(Refused::MaxCompletionTokens);
    }
    // OpenAI's reasoning models: "Unsupported parameter: 'max_tokens' is not
    // supported with this model. Use 'max_completion_tokens' instead."
    if sent.max_tokens
        && names("max_tokens")
        && (says(NOT_ACCEPTED) || text.contains("max_completion_tokens"))
    {
        return Some(Refused::MaxTokens);
    }
    if sent.temperature && names("temperature") && says(NOT_ACCEPTED) {
        return Some(Refused::Temperature);
    }
    None
}

/// `error.param` of an OpenAI-style error body.
fn error_param(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.pointer("/error/param")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

/// A short reason for a notice: the status and the start of the server's
/// own message (`error.message`, or `error` when it is a string).
pub(crate) fn summary(err: &ProviderError) -> String {
    let v: Option<Value> = serde_json::from_str(&err.message).ok();
    let inner = v.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
    });
    let msg = inner
        .unwrap_or(&err.message)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = msg.chars().take(200).collect();
    let more = if cut.len() < msg.len() { "…" } else { "" };
    match err.status {
        Some(s) => format!("HTTP {s}: {cut}{more}"),
        None => format!("{cut}{more}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> ProviderError {
        let kind = crate::http::client::kind_for_status(status);
        ProviderError::new("p", kind, body).with_status(status)
    }

    fn all() -> Sent {
        Sent {
            response_format: true,
            stream_options: true,
            max_completion_tokens: true,
            max_tokens: false,
            temperature: true,
        }
    }

    #[test]
    fn response_format_refusals_of_real_servers() {
        for (status, body) in [
            // llama.cpp's llama-server before json_schema support (and ik_llama.cpp).
            (
                500,
                r#"{"error":{"code":500,"message":"response_format type must be one of \"text\" or \"json_object\", but got: json_schema","type":"server_error"}}"#,
            ),
            // LM Studio, asked for json_object.
            (
                400,
                r#"{"error":"'response_format.type' must be 'json_schema' or 'text'"}"#,
            ),
            // OpenAI, a schema it will not take.
            (
                400,
                r#"{"error":{"message":"Invalid schema for response_format 'output': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'.","type":"invalid_request_error","param":"response_format","code":null}}"#,
            ),
        ] {
            assert_eq!(
                refused(&err(status, body), all()),
                Some(Refused::ResponseFormat),
                "{body}"
            );
        }
    }

    #[test]
    fn other_features() {
        let so = r#"{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}"#;
        assert_eq!(refused(&err(400, so), all()), Some(Refused::StreamOptions));
        let mct = r#"{"error":{"message":"Unrecognized request argument supplied: max_completion_tokens","type":"invalid_request_error"}}"#;
        assert_eq!(
            refused(&err(400, mct), all()),
            Some(Refused::MaxCompletionTokens)
        );
        let mt = r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;
        let sent = Sent {
            max_tokens: true,
            max_completion_tokens: false,
            ..all()
        };
        assert_eq!(refused(&err(400, mt), sent), Some(Refused::MaxTokens));
        let temp = r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#;
        assert_eq!(refused(&err(400, temp), all()), Some(Refused::Temperature));
    }

    #[test]
    fn faults_limits_and_bad_values_are_not_refusals() {
        let not = [
            (
                500,
                r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
            ),
            (
                429,
                r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
            ),
            (
                400,
                r#"{"error":{"message":"max_completion_tokens is too large: 200000. This model supports at most 16384 completion tokens.","type":"invalid_request_error","param":"max_completion_tokens"}}"#,
            ),
            (
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","code":"context_length_exceeded"}}"#,
            ),
            (
                503,
                r#"{"error":{"message":"response_format unsupported while loading"}}"#,
            ),
        ];
        for (status, body) in not {
            let mut e = err(status, body);
            if body.contains("context_length") {
                e.kind = ProviderErrorKind::ContextTooLong;
            }
            assert_eq!(refused(&e, all()), None, "{body}");
        }
        // A feature the request did not carry is never the one refused.
        let so =
            r#"{"error":{"message":"Unrecognized request argument supplied: stream_options"}}"#;
        assert_eq!(refused(&err(400, so), Sent::default()), None);
    }

    #[test]
    fn summary_is_short_and_flat() {
        let e = err(500, &format!("line one\n  line two {}", "x".repeat(400)));
        let s = summary(&e);
        assert!(s.starts_with("HTTP 500: line one line two"));
        assert!(s.chars().count() < 220, "{s}");
        let e = err(
            400,
            r#"{"error":"'response_format.type' must be 'json_schema' or 'text'"}"#,
        );
        assert_eq!(
            summary(&e),
            "HTTP 400: 'response_format.type' must be 'json_schema' or 'text'"
        );
    }
}
