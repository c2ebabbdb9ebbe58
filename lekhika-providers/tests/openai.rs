//! OpenAI Chat Completions (and compatible servers) against loopback servers.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use lekhika_core::provider::{FinishReason, ModelProvider, OutputFormat, ProviderErrorKind, Usage};
use lekhika_providers::testkit::{Protocol, Reply, ScriptedServer};
use lekhika_providers::{MaxTokensField, OpenAiClient, OpenAiCompat, ProviderConfig, ProviderKind};
use serde_json::{json, Value};

#[tokio::test]
async fn recorded_completion_and_request_on_the_wire() {
    let (body, headers) = recorded("openai_chat_200.json");
    let server = ScriptedServer::openai(move |_| {
        let mut r = Reply::json(200, &body);
        for (k, v) in &headers {
            r = r.header(k, v);
        }
        r
    });
    // The official API wants max_completion_tokens.
    let mut cfg = server.config("openai");
    cfg.openai = OpenAiCompat::for_base_url("https://api.openai.com/v1");
    let client = OpenAiClient::new(&cfg).unwrap();
    let (res, deltas) = call(&client, &req("openai", "gpt-4o", "Hello")).await;
    let res = res.unwrap();
    assert_eq!(res.text, "Hello! How can I assist you today?");
    assert_eq!(res.finish, FinishReason::Stop);
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 21,
            output_tokens: 9
        }
    );
    assert_eq!(res.model, "gpt-4o-2024-08-06");
    assert!(deltas.is_empty());

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer test-key"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let b = &sent.body;
    assert_eq!(b["model"], "gpt-4o");
    assert_eq!(
        b["messages"][0],
        json!({"role": "system", "content": "You are a careful book writer."})
    );
    assert_eq!(
        b["messages"][1],
        json!({"role": "user", "content": "Hello"})
    );
    assert_eq!(b["max_completion_tokens"], 300);
    assert!(b.get("max_tokens").is_none());
    assert!((b["temperature"].as_f64().unwrap() - 0.7).abs() < 1e-6);
    assert!(b.get("stream").is_none() && b.get("stream_options").is_none());
}

#[tokio::test]
async fn compatible_server_gets_max_tokens_and_stream_options() {
    let server =
        ScriptedServer::openai(|_| Reply::text("Namaste, world").usage(7, 3).split_every(5));
    let client = OpenAiClient::new(&server.config("ollama")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("ollama", "llama3.2", "Hi"))).await;
    let res = res.unwrap();
    assert_eq!(res.text, "Namaste, world");
    assert_eq!(deltas.concat(), res.text);
    assert!(deltas.len() >= 2, "{deltas:?}");
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 7,
            output_tokens: 3
        }
    );
    let b = &server.requests()[0].body;
    assert_eq!(b["max_tokens"], 300);
    assert!(b.get("max_completion_tokens").is_none());
    assert_eq!(b["stream"], true);
    assert_eq!(b["stream_options"], json!({"include_usage": true}));
}

/// What a recorded stream says, parsed independently of the crate.
fn expected_from_stream(raw: &str) -> (String, String, Option<String>, Option<Value>) {
    let (mut text, mut refusal, mut finish, mut usage) = (String::new(), String::new(), None, None);
    for line in raw.lines() {
        let Some(d) = line.strip_prefix("data: ") else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(d) else {
            continue;
        };
        if !v["usage"].is_null() {
            usage = Some(v["usage"].clone());
        }
        for c in v["choices"].as_array().into_iter().flatten() {
            if c["index"] != 0 {
                continue;
            }
            text.push_str(c["delta"]["content"].as_str().unwrap_or(""));
            refusal.push_str(c["delta"]["refusal"].as_str().unwrap_or(""));
            if let Some(f) = c["finish_reason"].as_str() {
                finish = Some(f.to_string());
            }
        }
    }
    (text, refusal, finish, usage)
}

#[tokio::test]
async fn every_recorded_sdk_stream_decodes_in_awkward_splits() {
    let dir = fixtures().join("openai-python-snapshots");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 12);
    for (i, path) in files.iter().enumerate() {
        let raw = std::fs::read(path).unwrap();
        let (text, refusal, finish, usage) = expected_from_stream(&String::from_utf8_lossy(&raw));
        let split = [1usize, 3, 7, 61][i % 4];
        let bytes = raw.clone();
        let server = ScriptedServer::openai(move |_| Reply::sse(bytes.clone()).split_every(split));
        let client = OpenAiClient::new(&server.config("openai")).unwrap();
        let (res, deltas) = call(&client, &streaming(req("openai", "gpt-4o", "x"))).await;
        let name = path.file_name().unwrap().to_string_lossy();
        if !refusal.is_empty() && text.is_empty() {
            let e = res.unwrap_err();
            assert_eq!(e.kind, ProviderErrorKind::ContentBlocked, "{name}");
            assert!(e.message.contains(&refusal), "{name}: {}", e.message);
            continue;
        }
        let res = res.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(res.text, text, "{name}");
        assert_eq!(
            deltas.concat(),
            text,
            "{name}: deltas in order equal the text"
        );
        let want_finish = match finish.as_deref() {
            Some("length") => FinishReason::Length,
            Some("stop") | None => FinishReason::Stop,
            Some(o) => FinishReason::Other(o.into()),
        };
        assert_eq!(res.finish, want_finish, "{name}");
        let u = usage.expect("every snapshot has a usage chunk");
        assert_eq!(
            res.usage.input_tokens,
            u["prompt_tokens"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            res.usage.output_tokens,
            u["completion_tokens"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn usage_chunk_with_null_or_absent_choices_crlf_and_comments() {
    // Pitfalls 1, 2, 7: usage-only chunks with null / absent choices, CRLF,
    // `:` comments, an unknown named event and multi-byte text split everywhere.
    let body = ": OPENROUTER PROCESSING\r\n\r\n\
        data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Kathā \"}}]}\r\n\r\n\
        event: vendor_stats\r\ndata: not json at all\r\n\r\n\
        data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"कथा 📖\"},\"finish_reason\":\"stop\"}]}\r\n\r\n\
        data: {\"choices\":null,\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}\r\n\r\n\
        data: {\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\r\n\r\n\
        data: [DONE]\r\n\r\n";
    let server = ScriptedServer::openai(move |_| Reply::sse(body).split_every(2));
    let client = OpenAiClient::new(&server.config("vllm")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("vllm", "m", "x"))).await;
    let res = res.unwrap();
    assert_eq!(res.text, "Kathā कथा 📖");
    assert_eq!(deltas, vec!["Kathā ", "कथा 📖"]);
    // Cumulative usage: the latest report is taken, never summed.
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 5,
            output_tokens: 6
        }
    );
}

#[tokio::test]
async fn error_object_inside_a_200_stream_is_classified() {
    let body = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":500}}\n\n";
    let server = ScriptedServer::openai(move |_| Reply::sse(body));
    let cfg = server
        .config("openai")
        .with_retry(lekhika_providers::RetryPolicy::none());
    let client = OpenAiClient::new(&cfg).unwrap();
    let (res, _) = call(&client, &streaming(req("openai", "m", "x"))).await;
    let e = res.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Server);
    assert_eq!(
        e.status,
        Some(500),
        "numeric error.code is tolerated and used"
    );
    assert!(e.message.contains("The server had an error"));
}

#[tokio::test]
async fn server_rejecting_stream_options_is_retried_without_them() {
    // Pitfall 8.
    let server = ScriptedServer::openai(|b| {
        if b.get("stream_options").is_some() {
            Reply::error(
                400,
                r#"{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}"#,
            )
        } else {
            Reply::text("fine without usage")
        }
    });
    let client = OpenAiClient::new(&server.config("llamacpp")).unwrap();
    let r = streaming(req("llamacpp", "m", "x"));
    let (res, deltas) = call(&client, &r).await;
    let res = res.unwrap();
    assert_eq!(res.text, "fine without usage");
    assert_eq!(deltas.concat(), res.text);
    assert!(
        res.usage.input_tokens > 0,
        "usage estimated when the server sends none"
    );
    assert_eq!(server.request_count(), 2);
    // Remembered: the next call goes without stream_options at once.
    let (res, _) = call(&client, &r).await;
    assert!(res.is_ok());
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn stream_cut_before_done_is_stream_cut_and_retried_when_nothing_was_emitted() {
    let server = ScriptedServer::start(Protocol::OpenAi, |_| {
        Reply::sse("data: {\"choices\":[]}\n\n")
    });
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let (res, _) = call(&client, &streaming(req("openai", "m", "x"))).await;
    assert_eq!(res.unwrap_err().kind, ProviderErrorKind::StreamCut);
    assert_eq!(
        server.request_count(),
        3,
        "retried up to the policy's attempts"
    );

    // Cut after text reached the caller: not retried (it would repeat text).
    let server =
        ScriptedServer::openai(|_| Reply::text("a long enough answer here").cut_after(420));
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("openai", "m", "x"))).await;
    let e = res.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::StreamCut, "{e}");
    assert!(!deltas.is_empty());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn json_modes_and_a_plain_json_reply_to_a_stream_request() {
    let server = ScriptedServer::openai(|_| Reply::text("{\"title\":\"Dune\"}"));
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let mut r = req("openai", "m", "Outline please");
    r.output = OutputFormat::Json;
    call(&client, &r).await.0.unwrap();
    r.output = OutputFormat::JsonSchema {
        name: "book outline".into(),
        schema: json!({"type": "object"}),
    };
    call(&client, &r).await.0.unwrap();
    let reqs = server.requests();
    assert_eq!(
        reqs[0].body["response_format"],
        json!({"type": "json_object"})
    );
    // json_object needs the word JSON somewhere in the prompt.
    assert!(reqs[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("JSON"));
    assert_eq!(
        reqs[1].body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "book_outline", "schema": {"type": "object"}}})
    );

    // Pitfall 3: a stream request answered with plain JSON is parsed, not fed to SSE.
    let server = ScriptedServer::openai(|_| {
        Reply::json(
            200,
            &json!({"choices":[{"index":0,"message":{"content":"whole"},"finish_reason":"length"}]}),
        )
    });
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("openai", "m", "x"))).await;
    let res = res.unwrap();
    assert_eq!(
        (res.text.as_str(), res.finish),
        ("whole", FinishReason::Length)
    );
    assert_eq!(deltas, vec!["whole"]);
}

#[tokio::test]
async fn images_and_speech() {
    use base64::Engine;
    let png = b"\x89PNG\r\n\x1a\nfake".to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let server = ScriptedServer::start(Protocol::OpenAi, move |r| {
        if r.path.ends_with("/images/generations") {
            Reply::json(
                200,
                &json!({"created": 1, "data": [{"b64_json": b64}],
                "usage": {"input_tokens": 12, "output_tokens": 4160, "total_tokens": 4172}}),
            )
        } else {
            Reply::raw(200, "audio/mpeg", b"ID3fake-mp3".to_vec())
        }
    });
    let client = OpenAiClient::new(&server.config("openai")).unwrap();
    let img = client
        .generate_image(&lekhika_core::provider::ImageRequest {
            provider: "openai".into(),
            model: "gpt-image-1".into(),
            prompt: "A cover".into(),
            negative_prompt: None,
            size: Some("1024x1536".into()),
            aspect_ratio: None,
            output_format: None,
            seed: None,
        })
        .await
        .unwrap();
    assert_eq!(img.images[0].bytes, png);
    assert_eq!(img.images[0].mime, "image/png");
    assert_eq!(img.usage.output_tokens, 4160);
    let speech = client
        .synthesize_speech(&lekhika_core::provider::SpeechRequest {
            provider: "openai".into(),
            model: "gpt-4o-mini-tts".into(),
            input: "Chapter one.".into(),
            voice: "alloy".into(),
            format: Some("mp3".into()),
            instructions: None,
            speed: None,
        })
        .await
        .unwrap();
    assert_eq!(speech.bytes, b"ID3fake-mp3");
    assert_eq!(speech.mime, "audio/mpeg");
    let reqs = server.requests();
    assert_eq!(
        reqs[0].body,
        json!({"model": "gpt-image-1", "prompt": "A cover", "n": 1, "size": "1024x1536"})
    );
    assert_eq!(reqs[1].path, "/v1/audio/speech");
    assert_eq!(reqs[1].body["voice"], "alloy");
    assert_eq!(reqs[1].body["response_format"], "mp3");
}

#[test]
fn config_debug_redacts_and_dialect_follows_url() {
    let cfg = ProviderConfig::new("openai", ProviderKind::OpenAi, "sk-live-SECRET-123");
    assert_eq!(
        cfg.openai.max_tokens_field,
        MaxTokensField::MaxCompletionTokens
    );
    assert!(!format!("{cfg:?}").contains("SECRET"));
    let cfg = cfg.with_base_url("http://localhost:11434/v1/");
    assert_eq!(cfg.base_url, "http://localhost:11434/v1");
    assert_eq!(cfg.openai.max_tokens_field, MaxTokensField::MaxTokens);
}
