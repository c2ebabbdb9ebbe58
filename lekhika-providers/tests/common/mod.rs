//! Helpers shared by the integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use lekhika_core::provider::{
    ChatMessage, ModelProvider, OutputFormat, ProviderError, TextRequest, TextResponse,
};

/// The recorded provider payloads, copied into `tests/fixtures/providers`
/// from the shared fixtures (see its SOURCES.md); `$LEKHIKA_SHARED` points
/// at another copy of `shared/` instead.
pub fn fixtures() -> PathBuf {
    match std::env::var_os("LEKHIKA_SHARED") {
        Some(shared) => PathBuf::from(shared).join("fixtures/providers"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/providers"),
    }
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// The `body` and `headers` of a recorded/*.json file.
pub fn recorded(name: &str) -> (serde_json::Value, Vec<(String, String)>) {
    let v: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("recorded/{name}"))).unwrap();
    let headers = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "content-type")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (v["body"].clone(), headers)
}

pub fn req(provider: &str, model: &str, prompt: &str) -> TextRequest {
    TextRequest {
        provider: provider.into(),
        model: model.into(),
        system: Some("You are a careful book writer.".into()),
        messages: vec![ChatMessage::user(prompt)],
        temperature: Some(0.7),
        max_tokens: 300,
        output: OutputFormat::Text,
        stream: false,
    }
}

pub fn streaming(mut r: TextRequest) -> TextRequest {
    r.stream = true;
    r
}

/// Run a call, collecting deltas.
pub async fn call(
    p: &dyn ModelProvider,
    r: &TextRequest,
) -> (Result<TextResponse, ProviderError>, Vec<String>) {
    let mut deltas = Vec::new();
    let mut sink = |d: &str| deltas.push(d.to_string());
    let res = p.generate_text(r, &mut sink).await;
    (res, deltas)
}
