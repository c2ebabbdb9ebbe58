//! Anthropic Messages against loopback servers.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use lekhika_core::provider::{FinishReason, OutputFormat, ProviderErrorKind, Usage};
use lekhika_providers::testkit::{Protocol, Reply, ScriptedServer};
use lekhika_providers::AnthropicClient;
use serde_json::json;

#[tokio::test]
async fn recorded_message_and_request_on_the_wire() {
    let (body, headers) = recorded("anthropic_messages_200.json");
    let server = ScriptedServer::anthropic(move |_| {
        let mut r = Reply::json(200, &body);
        for (k, v) in &headers {
            r = r.header(k, v);
        }
        r
    });
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let mut r = req("anthropic", "claude-3-5-sonnet-20240620", "Hello");
    r.temperature = Some(1.7); // clamped to Anthropic's 0..1
    let res = call(&client, &r).await.0.unwrap();
    assert!(res.text.starts_with("Hello! It's nice to meet you."));
    assert_eq!(res.finish, FinishReason::Stop);
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 16,
            output_tokens: 35
        }
    );
    assert_eq!(res.model, "claude-3-5-sonnet-20240620");

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("test-key"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    let b = &sent.body;
    assert_eq!(
        b["system"], "You are a careful book writer.",
        "system is top-level"
    );
    assert_eq!(b["messages"], json!([{"role": "user", "content": "Hello"}]));
    assert_eq!(b["max_tokens"], 300);
    assert_eq!(b["temperature"], 1.0);
}

async fn stream_fixture(name: &str, split: usize) -> (AnthropicClient, ScriptedServer) {
    let bytes = fixture(&format!("anthropic-fixtures/{name}"));
    let server = ScriptedServer::anthropic(move |_| Reply::sse(bytes.clone()).split_every(split));
    (
        AnthropicClient::new(&server.config("anthropic")).unwrap(),
        server,
    )
}

#[tokio::test]
async fn sdk_fixture_streams() {
    let r = streaming(req("anthropic", "claude", "x"));
    let (c, _s) = stream_fixture("basic_response.txt", 1).await;
    let (res, deltas) = call(&c, &r).await;
    let res = res.unwrap();
    assert_eq!(res.text, "Hello there!");
    assert_eq!(deltas, vec!["Hello", " there", "!"]);
    // message_start says 1 output token, message_delta 6: taken, not summed.
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 11,
            output_tokens: 6
        }
    );
    assert_eq!(res.model, "claude-3-opus-latest");

    let (c, _s) = stream_fixture("fallback_response.txt", 17).await;
    let res = call(&c, &r).await.0.unwrap();
    assert_eq!(
        res.text, "Hello there!",
        "unknown content block types are skipped"
    );

    let (c, _s) = stream_fixture("incomplete_partial_json_response.txt", 5).await;
    let res = call(&c, &r).await.0.unwrap();
    assert!(res
        .text
        .starts_with("I'll create a comprehensive tax guide"));
    assert!(res.text.ends_with("Let me do that for you now."));
    assert_eq!(
        res.finish,
        FinishReason::Length,
        "max_tokens maps to Length"
    );
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 450,
            output_tokens: 124
        }
    );

    let (c, _s) = stream_fixture("tool_use_response.txt", 9).await;
    let res = call(&c, &r).await.0.unwrap();
    assert_eq!(res.text, "I'll check the current weather in Paris for you.");
    assert_eq!(res.finish, FinishReason::Other("tool_use".into()));

    let (c, _s) = stream_fixture("refusal_response.txt", 3).await;
    let e = call(&c, &r).await.0.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ContentBlocked);
}

#[tokio::test]
async fn overloaded_error_event_after_200_is_retried_then_succeeds() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = calls.clone();
    let server = ScriptedServer::anthropic(move |_| {
        if c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::sse(
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n\
                 event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            )
        } else {
            Reply::text("second time lucky").usage(3, 4)
        }
    });
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("anthropic", "c", "x"))).await;
    assert_eq!(res.unwrap().text, "second time lucky");
    assert_eq!(deltas.concat(), "second time lucky");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn error_kinds_and_retry_after() {
    let cases = [
        (
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            ProviderErrorKind::Auth,
        ),
        (
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            ProviderErrorKind::ContextTooLong,
        ),
        (
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#,
            ProviderErrorKind::QuotaExhausted,
        ),
        (
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"}}"#,
            ProviderErrorKind::BadRequest,
        ),
        (
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ProviderErrorKind::Overloaded,
        ),
        (
            500,
            r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
            ProviderErrorKind::Server,
        ),
    ];
    for (status, body, kind) in cases {
        let server =
            ScriptedServer::start(Protocol::Anthropic, move |_| Reply::error(status, body));
        let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
        let e = call(&client, &req("anthropic", "c", "x"))
            .await
            .0
            .unwrap_err();
        assert_eq!(e.kind, kind, "{body}");
        assert_eq!(e.status, Some(status));
        assert_eq!(e.message, body, "JSON error body kept intact");
        let expected_calls = if kind.is_retryable() { 3 } else { 1 };
        assert_eq!(server.request_count(), expected_calls, "{body}");
    }

    // 429 with retry-after: 1 is honoured (about a second between attempts).
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::anthropic(move |_| {
        if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::error(
                429,
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
            )
            .header("retry-after", "1")
        } else {
            Reply::text("ok")
        }
    });
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let t = Instant::now();
    let res = call(&client, &req("anthropic", "c", "x")).await.0.unwrap();
    assert_eq!(res.text, "ok");
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn json_mode_is_an_instruction_in_the_system_prompt() {
    let server = ScriptedServer::anthropic(|_| Reply::text("{}"));
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let mut r = req("anthropic", "c", "x");
    r.output = OutputFormat::JsonSchema {
        name: "o".into(),
        schema: json!({"type": "object", "required": ["title"]}),
    };
    call(&client, &r).await.0.unwrap();
    let system = server.requests()[0].body["system"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(system.starts_with("You are a careful book writer."));
    assert!(
        system.contains("JSON") && system.contains("\"required\":[\"title\"]"),
        "{system}"
    );
}
