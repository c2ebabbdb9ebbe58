//! Small pure helpers shared by the provider modules.

use lekhika_core::provider::{
    FinishReason, OutputFormat, ProviderError, ProviderErrorKind, TextRequest, TextResponse, Usage,
};
use lekhika_core::wallet::estimate_prompt_tokens;

/// All prompt text of a request (system + messages).
pub(crate) fn prompt_text(req: &TextRequest) -> String {
    let mut s = req.system.clone().unwrap_or_default();
    for m in &req.messages {
        s.push('\n');
        s.push_str(&m.content);
    }
    s
}

/// Tokens to reserve with the rate limiter: prompt upper bound plus the output limit.
pub(crate) fn estimated_tokens(req: &TextRequest) -> u64 {
    estimate_prompt_tokens(&prompt_text(req)) + u64::from(req.max_tokens)
}

/// Instruction added for providers without a native JSON mode (and for
/// OpenAI's `json_object`, which demands the word "JSON" in the prompt).
pub(crate) fn json_instruction(output: &OutputFormat) -> Option<String> {
    match output {
        OutputFormat::Text => None,
        OutputFormat::Json => Some(
            "Respond with a single valid JSON object and nothing else: no prose, no code fences."
                .to_string(),
        ),
        OutputFormat::JsonSchema { schema, .. } => Some(format!(
            "Respond with a single valid JSON object and nothing else (no prose, no code fences) \
             that matches this JSON Schema: {schema}"
        )),
    }
}

/// System prompt with an extra instruction appended.
pub(crate) fn system_with(req: &TextRequest, extra: Option<String>) -> Option<String> {
    match (req.system.clone(), extra) {
        (Some(s), Some(e)) => Some(format!("{s}\n\n{e}")),
        (s, e) => s.or(e),
    }
}

/// The final response, or `ContentBlocked` when a refusal or filter left no
/// text. Without `usage` from the server, it is estimated for the model's
/// tokenizer family (`lekhika_core::tokens`) and flagged as estimated.
pub(crate) fn finish_text(
    req: &TextRequest,
    provider: &str,
    text: String,
    finish: FinishReason,
    usage: Option<Usage>,
    model: String,
    refusal: Option<String>,
) -> Result<TextResponse, ProviderError> {
    let blocked = text.trim().is_empty()
        && (finish == FinishReason::ContentFilter
            || refusal.as_deref().is_some_and(|r| !r.is_empty()));
    if blocked {
        let why = refusal
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("the model stopped with {finish:?} and produced no text"));
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::ContentBlocked,
            why,
        ));
    }
    let usage_estimated = usage.is_none();
    let usage = usage.unwrap_or_else(|| lekhika_core::tokens::estimate_usage(req, &text));
    Ok(TextResponse {
        text,
        finish,
        usage,
        usage_estimated,
        model,
        notices: Vec::new(),
        served_by: None,
    })
}

/// A JSON body that failed to parse: the server did not speak the protocol.
pub(crate) fn bad_body(
    provider: &str,
    what: &str,
    e: &serde_json::Error,
    body: &[u8],
) -> ProviderError {
    let text = String::from_utf8_lossy(body);
    ProviderError::new(
        provider,
        ProviderErrorKind::Server,
        format!(
            "unparseable {what} ({e}): {}",
            crate::http::client::truncate(&text)
        ),
    )
}

/// MIME type of an output format name (`png`, `jpeg`, `mp3`, ...).
pub(crate) fn mime_of_format(format: &str) -> String {
    match format.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg".into(),
        "webp" => "image/webp".into(),
        "png" => "image/png".into(),
        "mp3" => "audio/mpeg".into(),
        "wav" => "audio/wav".into(),
        "opus" => "audio/opus".into(),
        "aac" => "audio/aac".into(),
        "flac" => "audio/flac".into(),
        "pcm" => "audio/pcm".into(),
        other => format!("application/{other}"),
    }
}
