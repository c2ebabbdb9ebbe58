//! OpenAI speech against the loopback server's real audio: the request as
//! OpenAI takes it (`instructions` and `speed` only when set), audio that
//! decodes to the length of the text, and the refusal of an input over the
//! 4,096-character limit (not retried: a bad request).

#![allow(clippy::unwrap_used)]

use lekhika_core::audio::{self, AudioFormat};
use lekhika_core::provider::{ModelProvider, ProviderErrorKind, SpeechRequest};
use lekhika_providers::testkit::{speech_seconds, Reply, ScriptedServer};
use lekhika_providers::OpenAiClient;
use serde_json::json;

fn req(input: &str, format: &str) -> SpeechRequest {
    SpeechRequest {
        provider: "openai".into(),
        model: "gpt-4o-mini-tts".into(),
        input: input.into(),
        voice: "alloy".into(),
        format: Some(format.into()),
        instructions: None,
        speed: None,
    }
}

#[tokio::test]
async fn speech_is_real_audio_of_the_texts_length() {
    let server = ScriptedServer::openai(Reply::speech);
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let text = "The boats came home in the evening light.";
    for format in ["wav", "mp3"] {
        let s = client.synthesize_speech(&req(text, format)).await.unwrap();
        let f = AudioFormat::parse(format).unwrap();
        assert_eq!(s.mime, f.mime());
        let d = audio::duration_seconds(f, &s.bytes).unwrap();
        assert!((d - speech_seconds(text, format)).abs() < 1e-9, "{format}");
    }
    let styled = SpeechRequest {
        instructions: Some("A calm narrator.".into()),
        speed: Some(1.25),
        ..req("Hello.", "wav")
    };
    client.synthesize_speech(&styled).await.unwrap();
    let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies[0],
        json!({"model": "gpt-4o-mini-tts", "input": text, "voice": "alloy", "response_format": "wav"})
    );
    assert_eq!(bodies[2]["instructions"], "A calm narrator.");
    assert_eq!(bodies[2]["speed"], 1.25);
}

#[tokio::test]
async fn an_input_over_the_limit_is_a_bad_request() {
    let server = ScriptedServer::openai(Reply::speech);
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let e = client
        .synthesize_speech(&req(&"a".repeat(4097), "mp3"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    assert!(e.message.contains("maximum length 4096"), "{e}");
    assert_eq!(server.request_count(), 1);
}
