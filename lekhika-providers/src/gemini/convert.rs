//! Pure mapping between core's requests and Gemini / Imagen JSON.

use base64::Engine;
use lekhika_core::provider::{
    FinishReason, GeneratedImage, ImageRequest, ImageResponse, OutputFormat, ProviderError,
    ProviderErrorKind, Role, TextRequest, TextResponse, Usage,
};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::wire::{
    Content, GenerateRequest, GenerateResponse, GenerationConfig, OwnedPart, PredictResponse,
    SystemInstruction, TextPart, UsageMetadata,
};
use crate::common;
use crate::http::client::kind_for_status;
use crate::http::headers::parse_go_duration;
use crate::http::LimitHint;

/// The model id as a URL path segment; `models/` prefix accepted. Anything
/// but `[A-Za-z0-9._-]` is refused so user text never shapes the URL.
pub(crate) fn model_segment(provider: &str, model: &str) -> Result<String, ProviderError> {
    let m = model.trim().trim_start_matches("models/");
    if m.is_empty()
        || !m
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::BadRequest,
            format!("invalid Gemini model id {model:?}"),
        ));
    }
    Ok(m.to_string())
}

/// The JSON body of `:generateContent` / `:streamGenerateContent`.
pub(crate) fn generate_body(req: &TextRequest) -> Vec<u8> {
    let (mime, schema) = match &req.output {
        OutputFormat::Text => (None, None),
        OutputFormat::Json => (Some("application/json"), None),
        OutputFormat::JsonSchema { schema, .. } => (Some("application/json"), Some(schema)),
    };
    let body = GenerateRequest {
        contents: req
            .messages
            .iter()
            .map(|m| Content {
                role: match m.role {
                    Role::User => "user",
                    Role::Assistant => "model",
                },
                parts: vec![TextPart { text: &m.content }],
            })
            .collect(),
        system_instruction: req.system.as_ref().map(|s| SystemInstruction {
            parts: vec![OwnedPart { text: s.clone() }],
        }),
        generation_config: GenerationConfig {
            temperature: req.temperature,
            max_output_tokens: req.max_tokens,
            response_mime_type: mime,
            response_json_schema: schema,
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

pub(crate) fn map_finish(reason: Option<&str>) -> FinishReason {
    match reason {
        None | Some("STOP") | Some("FINISH_REASON_UNSPECIFIED") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT",
        ) => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// Output tokens include thinking tokens (billed as output).
pub(crate) fn usage_of(u: UsageMetadata) -> Usage {
    Usage {
        input_tokens: u.prompt_token_count.unwrap_or(0),
        output_tokens: u.candidates_token_count.unwrap_or(0) + u.thoughts_token_count.unwrap_or(0),
    }
}

/// What one response (or stream chunk) carries.
#[derive(Debug, Default)]
pub(crate) struct Piece {
    pub text: String,
    pub finish: Option<String>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

/// Read one response; a blocked prompt or an error object is an error.
pub(crate) fn piece(provider: &str, r: GenerateResponse) -> Result<Piece, ProviderError> {
    if let Some(err) = &r.error {
        return Err(error_from_value(provider, &json!({ "error": err }), None));
    }
    let candidates = r.candidates.unwrap_or_default();
    if candidates.is_empty() {
        if let Some(fb) = r
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.clone().map(|b| (b, f)))
        {
            let (reason, f) = fb;
            let detail = f.block_reason_message.clone().unwrap_or_default();
            return Err(ProviderError::new(
                provider,
                ProviderErrorKind::ContentBlocked,
                format!("prompt blocked: {reason} {detail}")
                    .trim()
                    .to_string(),
            ));
        }
    }
    let mut p = Piece {
        usage: r.usage_metadata.map(usage_of),
        model: r.model_version,
        ..Piece::default()
    };
    if let Some(c) = candidates.into_iter().find(|c| c.index.unwrap_or(0) == 0) {
        p.finish = c.finish_reason;
        for part in c.content.and_then(|c| c.parts).unwrap_or_default() {
            if part.thought != Some(true) {
                if let Some(t) = part.text {
                    p.text.push_str(&t);
                }
            }
        }
    }
    Ok(p)
}

/// A whole reply: blocked output (finish SAFETY etc. without text) is
/// `ContentBlocked`, never an empty success.
pub(crate) fn finish(
    provider: &str,
    req: &TextRequest,
    text: String,
    finish: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
) -> Result<TextResponse, ProviderError> {
    let reason = map_finish(finish.as_deref());
    if text.is_empty() && reason == FinishReason::ContentFilter {
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::ContentBlocked,
            format!(
                "output blocked: finishReason {}",
                finish.unwrap_or_default()
            ),
        ));
    }
    common::finish_text(
        req,
        provider,
        text,
        reason,
        usage,
        model.unwrap_or_else(|| req.model.clone()),
        None,
    )
}

pub(crate) fn parse_generate(
    provider: &str,
    req: &TextRequest,
    body: &[u8],
) -> Result<TextResponse, ProviderError> {
    let r: GenerateResponse = serde_json::from_slice(body)
        .map_err(|e| common::bad_body(provider, "generateContent reply", &e, body))?;
    let p = piece(provider, r)?;
    finish(provider, req, p.text, p.finish, p.usage, p.model)
}

/// Classify a non-2xx reply, keeping the body whole in the message.
pub(crate) fn classify(provider: &str, status: u16, body: &str) -> ProviderError {
    // Some errors arrive as a one-element JSON array.
    let v = serde_json::from_str::<Value>(body).ok().map(|v| match v {
        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        v => v,
    });
    let mut e = match v {
        Some(v) if v.get("error").is_some() => error_from_value(provider, &v, Some(status)),
        _ => ProviderError::new(provider, kind_for_status(status), ""),
    };
    e.message = if body.trim().is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        body.trim().to_string()
    };
    e.with_status(status)
}

/// `{"error":{"code","message","status","details":[RetryInfo...]}}`.
pub(crate) fn error_from_value(provider: &str, v: &Value, status: Option<u16>) -> ProviderError {
    let err = v.get("error").unwrap_or(v);
    let code = err
        .get("code")
        .and_then(|c| {
            c.as_u64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        })
        .and_then(|c| u16::try_from(c).ok());
    let status = status.or(code);
    let st = err.get("status").and_then(Value::as_str).unwrap_or("");
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let lower = message.to_ascii_lowercase();
    let details = err
        .get("details")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let retry_delay = details.iter().find_map(|d| {
        let t = d.get("@type").and_then(Value::as_str)?;
        t.ends_with("RetryInfo")
            .then(|| {
                d.get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(parse_go_duration)
            })
            .flatten()
    });
    let per_day = details.iter().any(|d| d.to_string().contains("PerDay"));
    let kind = match st {
        "UNAUTHENTICATED" | "PERMISSION_DENIED" => ProviderErrorKind::Auth,
        _ if lower.contains("api key not valid") || lower.contains("api_key_invalid") => {
            ProviderErrorKind::Auth
        }
        "RESOURCE_EXHAUSTED" if per_day || lower.contains("billing") => {
            ProviderErrorKind::QuotaExhausted
        }
        "RESOURCE_EXHAUSTED" => ProviderErrorKind::RateLimited,
        "INVALID_ARGUMENT"
            if lower.contains("token") && (lower.contains("exceed") || lower.contains("limit")) =>
        {
            ProviderErrorKind::ContextTooLong
        }
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "NOT_FOUND" => ProviderErrorKind::BadRequest,
        "UNAVAILABLE" => ProviderErrorKind::Overloaded,
        "INTERNAL" | "UNKNOWN" => ProviderErrorKind::Server,
        "DEADLINE_EXCEEDED" => ProviderErrorKind::Timeout,
        _ => status.map_or(ProviderErrorKind::Server, kind_for_status),
    };
    let mut e = ProviderError::new(provider, kind, format!("{st}: {message}"))
        .with_retry_after(retry_delay);
    e.status = status;
    e
}

/// Gemini sends no rate-limit headers; its RetryInfo is read from the body.
pub(crate) fn hints(_: &HeaderMap) -> LimitHint {
    LimitHint::default()
}

/// `POST {base}/models/{model}:predict` body for Imagen.
pub(crate) fn predict_body(req: &ImageRequest) -> Vec<u8> {
    let mut params = json!({ "sampleCount": 1 });
    if let Some(ar) = &req.aspect_ratio {
        params["aspectRatio"] = json!(ar);
    }
    if let Some(fmt) = &req.output_format {
        params["outputOptions"] = json!({ "mimeType": common::mime_of_format(fmt) });
    }
    if let Some(neg) = &req.negative_prompt {
        params["negativePrompt"] = json!(neg);
    }
    serde_json::to_vec(&json!({ "instances": [{ "prompt": req.prompt }], "parameters": params }))
        .unwrap_or_default()
}

pub(crate) fn parse_predict(provider: &str, body: &[u8]) -> Result<ImageResponse, ProviderError> {
    let r: PredictResponse = serde_json::from_slice(body)
        .map_err(|e| common::bad_body(provider, "predict reply", &e, body))?;
    let mut images = Vec::new();
    let mut filtered = None;
    for p in r.predictions {
        match p.bytes_base64_encoded {
            Some(b64) => images.push(GeneratedImage {
                mime: p.mime_type.unwrap_or_else(|| "image/png".into()),
                bytes: base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| {
                        ProviderError::new(
                            provider,
                            ProviderErrorKind::Server,
                            format!("bad base64: {e}"),
                        )
                    })?,
            }),
            None => filtered = p.rai_filtered_reason.or(filtered),
        }
    }
    if images.is_empty() {
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::ContentBlocked,
            filtered.unwrap_or_else(|| "no image returned (filtered by safety settings)".into()),
        ));
    }
    Ok(ImageResponse {
        images,
        usage: Usage::default(),
        served_by: None,
    })
}
