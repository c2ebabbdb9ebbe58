//! Pure pieces of Stability AI v2beta stable-image: endpoint choice,
//! multipart body, reply and error classification.

use lekhika_core::provider::{ImageRequest, ProviderError, ProviderErrorKind};
use serde_json::Value;

use crate::http::client::kind_for_status;
use crate::http::LimitHint;

/// The endpoint (`core`, `ultra`, `sd3`) and, for sd3, the `model` field.
pub(crate) fn endpoint(model: &str) -> (&'static str, Option<String>) {
    let m = model.trim().to_ascii_lowercase();
    if m.contains("ultra") {
        ("ultra", None)
    } else if m.starts_with("sd3") {
        ("sd3", Some(m))
    } else {
        ("core", None)
    }
}

/// A multipart/form-data body; returns (content type, bytes).
pub(crate) fn multipart(req: &ImageRequest, boundary: &str) -> (String, Vec<u8>) {
    let (_, sd3_model) = endpoint(&req.model);
    let mut fields: Vec<(&str, String)> = vec![("prompt", req.prompt.clone())];
    if let Some(n) = req.negative_prompt.as_ref().filter(|n| !n.is_empty()) {
        fields.push(("negative_prompt", n.clone()));
    }
    if let Some(ar) = &req.aspect_ratio {
        fields.push(("aspect_ratio", ar.clone()));
    }
    if let Some(seed) = req.seed {
        fields.push(("seed", seed.to_string()));
    }
    fields.push((
        "output_format",
        req.output_format.clone().unwrap_or_else(|| "png".into()),
    ));
    if let Some(m) = sd3_model {
        fields.push(("model", m));
    }
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A boundary that cannot occur in the prompt text.
pub(crate) fn boundary_for(req: &ImageRequest) -> String {
    loop {
        let b = format!("lekhika-{:016x}", fastrand::u64(..));
        if !req.prompt.contains(&b) && !req.negative_prompt.as_deref().unwrap_or("").contains(&b) {
            return b;
        }
    }
}

/// `finish-reason: CONTENT_FILTERED` on a 200 is a block, not an image.
pub(crate) fn check_finish(
    provider: &str,
    finish_reason: Option<&str>,
) -> Result<(), ProviderError> {
    match finish_reason {
        Some("CONTENT_FILTERED") => Err(ProviderError::new(
            provider,
            ProviderErrorKind::ContentBlocked,
            "the image was withheld by Stability's content filter (finish-reason CONTENT_FILTERED)",
        )),
        _ => Ok(()),
    }
}

/// `{"id","name","errors":[...]}`; 403 is content moderation.
pub(crate) fn classify(provider: &str, status: u16, body: &str) -> ProviderError {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    let name = v.get("name").and_then(Value::as_str).unwrap_or("");
    let kind = match (status, name) {
        (403, _) | (_, "content_moderation") => ProviderErrorKind::ContentBlocked,
        (402, _) | (_, "payment_required") | (_, "insufficient_balance") => {
            ProviderErrorKind::QuotaExhausted
        }
        (413, _) | (422, _) => ProviderErrorKind::BadRequest,
        _ => kind_for_status(status),
    };
    let message = if body.trim().is_empty() {
        format!("HTTP {status} with an empty body")
    } else {
        body.trim().to_string()
    };
    ProviderError::new(provider, kind, message).with_status(status)
}

pub(crate) fn hints(_: &reqwest::header::HeaderMap) -> LimitHint {
    LimitHint::default()
}
