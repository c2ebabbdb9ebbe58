//! Gemini generateContent / streamGenerateContent and Imagen against loopback servers.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use lekhika_core::provider::{FinishReason, ModelProvider, OutputFormat, ProviderErrorKind, Usage};
use lekhika_providers::testkit::{Protocol, Reply, ScriptedServer};
use lekhika_providers::GeminiClient;
use serde_json::json;

#[tokio::test]
async fn recorded_reply_and_request_on_the_wire() {
    let (body, _) = recorded("gemini_generateContent_200.json");
    let server = ScriptedServer::gemini(move |_| Reply::json(200, &body));
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let mut r = req("gemini", "gemini-1.5-flash", "Say hello");
    r.output = OutputFormat::Json;
    let res = call(&client, &r).await.0.unwrap();
    assert_eq!(res.text, "Hello, world!\n");
    assert_eq!(res.finish, FinishReason::Stop);
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 5,
            output_tokens: 5
        }
    );
    assert_eq!(res.model, "gemini-1.5-flash-002");

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-1.5-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some("test-key"));
    assert!(!sent.path.contains("key="), "the key never goes in the URL");
    let b = &sent.body;
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "Say hello"}]}])
    );
    assert_eq!(
        b["systemInstruction"],
        json!({"parts": [{"text": "You are a careful book writer."}]})
    );
    assert_eq!(b["generationConfig"]["maxOutputTokens"], 300);
    assert_eq!(
        b["generationConfig"]["responseMimeType"],
        "application/json"
    );
}

#[tokio::test]
async fn recorded_sse_stream_with_cumulative_usage_and_thoughts() {
    let raw = fixture("gemini/stream_sse_excerpt.txt");
    let server = ScriptedServer::gemini(move |_| Reply::sse(raw.clone()).split_every(11));
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let (res, deltas) = call(
        &client,
        &streaming(req("gemini", "models/gemini-2.5-flash", "Tetris")),
    )
    .await;
    let res = res.unwrap();
    assert!(res.text.starts_with("Okay, let's create a Tetris game"));
    assert!(res.text.ends_with("sound, high scores, etc."));
    assert_eq!(deltas.len(), 2);
    assert_eq!(deltas.concat(), res.text);
    // Last chunk's cumulative usage (not the sum), thinking counted as output.
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 4,
            output_tokens: 5947 + 2042
        }
    );
    assert_eq!(res.model, "gemini-2.5-flash");
    assert_eq!(
        server.requests()[0].path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn scripted_stream_truncated_maps_max_tokens_to_length() {
    let server =
        ScriptedServer::gemini(|_| Reply::text("Once upon a time").truncated().usage(9, 30));
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("gemini", "gemini-2.5-flash", "x"))).await;
    let res = res.unwrap();
    assert_eq!(res.finish, FinishReason::Length);
    assert_eq!(deltas.concat(), "Once upon a time");
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 30
        }
    );
}

#[tokio::test]
async fn safety_blocks_are_content_blocked_not_empty_text() {
    // Pitfall 5, both forms, whole and streamed.
    let prompt_block = json!({"promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}});
    let output_block = json!({"candidates": [{"finishReason": "SAFETY", "index": 0,
        "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}]});
    for body in [prompt_block, output_block] {
        for stream in [false, true] {
            let b = body.clone();
            let server = ScriptedServer::gemini(move |_| {
                if stream {
                    Reply::sse(format!("data: {b}\r\n\r\n"))
                } else {
                    Reply::json(200, &b)
                }
            });
            let client = GeminiClient::new(&server.config("gemini")).unwrap();
            let mut r = req("gemini", "gemini-2.5-flash", "x");
            r.stream = stream;
            let e = call(&client, &r).await.0.unwrap_err();
            assert_eq!(
                e.kind,
                ProviderErrorKind::ContentBlocked,
                "{body} stream={stream}"
            );
            assert_eq!(server.request_count(), 1, "never retried");
        }
    }
}

#[tokio::test]
async fn retry_info_delay_is_honoured_and_error_kinds() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::gemini(move |_| {
        if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::json(
                429,
                &json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.6s"}]}}),
            )
        } else {
            Reply::text("ok")
        }
    });
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let t = Instant::now();
    assert_eq!(
        call(&client, &req("gemini", "g", "x"))
            .await
            .0
            .unwrap()
            .text,
        "ok"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(580),
        "{:?}",
        t.elapsed()
    );

    let cases = [
        (
            400,
            json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"}}),
            ProviderErrorKind::Auth,
        ),
        (
            400,
            json!({"error": {"code": 400, "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}),
            ProviderErrorKind::ContextTooLong,
        ),
        (
            503,
            json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
            ProviderErrorKind::Overloaded,
        ),
        (
            429,
            json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}),
            ProviderErrorKind::QuotaExhausted,
        ),
    ];
    for (status, body, kind) in cases {
        let b = body.clone();
        let server = ScriptedServer::start(Protocol::Gemini, move |_| Reply::json(status, &b));
        let client = GeminiClient::new(&server.config("gemini")).unwrap();
        let e = call(&client, &req("gemini", "g", "x")).await.0.unwrap_err();
        assert_eq!(e.kind, kind, "{body}");
        assert_eq!(e.message, body.to_string());
    }
}

#[tokio::test]
async fn model_ids_never_shape_the_url() {
    let server = ScriptedServer::gemini(|_| Reply::text("x"));
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let e = call(&client, &req("gemini", "../../admin?x=1", "x"))
        .await
        .0
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::BadRequest);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn imagen_predict() {
    let server = ScriptedServer::start(Protocol::Gemini, |_| {
        Reply::json(
            200,
            &json!({"predictions": [{"bytesBase64Encoded": "aGVsbG8=", "mimeType": "image/png"}]}),
        )
    });
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let img = client
        .generate_image(&lekhika_core::provider::ImageRequest {
            provider: "gemini".into(),
            model: "imagen-4.0-generate-001".into(),
            prompt: "A lighthouse".into(),
            negative_prompt: None,
            size: None,
            aspect_ratio: Some("3:4".into()),
            output_format: None,
            seed: None,
        })
        .await
        .unwrap();
    assert_eq!(img.images[0].bytes, b"hello");
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/imagen-4.0-generate-001:predict");
    assert_eq!(sent.body["instances"][0]["prompt"], "A lighthouse");
    assert_eq!(sent.body["parameters"]["aspectRatio"], "3:4");
}

#[tokio::test]
async fn a_schema_goes_as_response_json_schema() {
    let server = ScriptedServer::gemini(|_| Reply::text("{\"title\": \"Dune\"}"));
    let client = GeminiClient::new(&server.config("gemini")).unwrap();
    let schema = json!({"type": "object", "required": ["title"],
        "properties": {"title": {"type": "string"}}, "additionalProperties": false});
    let mut r = req("gemini", "gemini-2.5-flash", "Name a book");
    r.output = OutputFormat::JsonSchema {
        name: "book".into(),
        schema: schema.clone(),
    };
    for r in [r.clone(), streaming(r)] {
        let res = call(&client, &r).await.0.unwrap();
        assert_eq!(res.text, "{\"title\": \"Dune\"}");
    }
    for sent in server.requests() {
        let g = &sent.body["generationConfig"];
        assert_eq!(g["responseMimeType"], "application/json");
        assert_eq!(
            g["responseJsonSchema"], schema,
            "plain JSON Schema, as given"
        );
        assert!(g.get("responseSchema").is_none(), "not the OpenAPI subset");
        assert_eq!(
            sent.body["systemInstruction"],
            json!({"parts": [{"text": "You are a careful book writer."}]})
        );
    }
    assert!(server.requests()[1]
        .path
        .ends_with(":streamGenerateContent?alt=sse"));
}
