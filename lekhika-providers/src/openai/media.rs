//! OpenAI Images and Speech: pure request building and reply parsing.

use base64::Engine;
use lekhika_core::provider::{
    GeneratedImage, ImageRequest, ImageResponse, ProviderError, ProviderErrorKind, SpeechRequest,
    SpeechResponse,
};

use super::convert::usage_of;
use super::wire;
use crate::common;

/// `POST {base}/images/generations` body. GPT image models always answer in
/// base64 and reject `response_format`; DALL·E is asked for `b64_json`.
pub(crate) fn image_body(req: &ImageRequest) -> Vec<u8> {
    let dalle = req.model.starts_with("dall-e");
    let body = wire::ImageRequest {
        model: &req.model,
        prompt: &req.prompt,
        n: 1,
        size: req.size.as_deref(),
        response_format: dalle.then_some("b64_json"),
        output_format: if dalle {
            None
        } else {
            req.output_format.as_deref()
        },
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

pub(crate) fn parse_images(
    provider: &str,
    req: &ImageRequest,
    body: &[u8],
) -> Result<ImageResponse, ProviderError> {
    let r: wire::ImageResponse = serde_json::from_slice(body)
        .map_err(|e| common::bad_body(provider, "image reply", &e, body))?;
    let format = r
        .output_format
        .or_else(|| req.output_format.clone())
        .unwrap_or_else(|| "png".into());
    let mut images = Vec::new();
    for d in r.data {
        match (d.b64_json, d.url) {
            (Some(b64), _) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| {
                        ProviderError::new(
                            provider,
                            ProviderErrorKind::Server,
                            format!("bad base64 image: {e}"),
                        )
                    })?;
                images.push(GeneratedImage {
                    mime: common::mime_of_format(&format),
                    bytes,
                });
            }
            (None, Some(_)) => {
                return Err(ProviderError::new(
                    provider,
                    ProviderErrorKind::Unsupported,
                    "the server returned an image URL instead of base64 data",
                ))
            }
            (None, None) => {}
        }
    }
    if images.is_empty() {
        return Err(ProviderError::new(
            provider,
            ProviderErrorKind::Server,
            "the reply holds no image",
        ));
    }
    Ok(ImageResponse {
        images,
        usage: r.usage.map(usage_of).unwrap_or_default(),
        served_by: None,
    })
}

/// `POST {base}/audio/speech` body.
pub(crate) fn speech_body(req: &SpeechRequest) -> Vec<u8> {
    let body = wire::SpeechRequest {
        model: &req.model,
        input: &req.input,
        voice: &req.voice,
        response_format: req.format.as_deref(),
        instructions: req.instructions.as_deref(),
        speed: req.speed,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

pub(crate) fn speech_response(
    req: &SpeechRequest,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> SpeechResponse {
    let mime = content_type
        .filter(|c| c.starts_with("audio/"))
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .unwrap_or_else(|| common::mime_of_format(req.format.as_deref().unwrap_or("mp3")));
    SpeechResponse { mime, bytes }
}
