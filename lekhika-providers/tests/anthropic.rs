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
async fn plain_json_is_an_instruction_in_the_system_prompt() {
    let server = ScriptedServer::anthropic(|_| Reply::text("{}"));
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let mut r = req("anthropic", "c", "x");
    r.output = OutputFormat::Json;
    call(&client, &r).await.0.unwrap();
    let b = &server.requests()[0].body;
    let system = b["system"].as_str().unwrap();
    assert!(system.starts_with("You are a careful book writer."));
    assert!(system.contains("single valid JSON object"), "{system}");
    assert!(b.get("tools").is_none() && b.get("tool_choice").is_none());
}

fn outline_schema() -> OutputFormat {
    OutputFormat::JsonSchema {
        name: "outline".into(),
        schema: json!({"type": "object", "required": ["title"],
            "properties": {"title": {"type": "string"}}}),
    }
}

#[tokio::test]
async fn a_schema_forces_the_answer_tool_streamed_and_not() {
    let server = ScriptedServer::anthropic(|_| Reply::text("{\"title\": \"Kathā\"}").usage(9, 7));
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let mut r = req("anthropic", "claude-sonnet-4-5", "Plan it");
    r.output = outline_schema();
    let (res, deltas) = call(&client, &r).await;
    let res = res.unwrap();
    assert_eq!(res.text, "{\"title\":\"Kathā\"}");
    assert_eq!(
        res.finish,
        FinishReason::Stop,
        "tool_use is a normal end here"
    );
    assert!(deltas.is_empty());

    let sent = &server.requests()[0];
    let b: serde_json::Value = serde_json::from_slice(&sent.raw_body).unwrap();
    assert_eq!(
        b["system"], "You are a careful book writer.",
        "no schema sentence"
    );
    assert_eq!(
        b["tools"],
        json!([{"name": "answer",
            "description": "Give the complete answer as this tool's input, which must match its schema.",
            "input_schema": {"type": "object", "required": ["title"],
                "properties": {"title": {"type": "string"}}}}])
    );
    assert_eq!(b["tool_choice"], json!({"type": "tool", "name": "answer"}));

    // Streamed: content_block_start (tool_use, input {}) then input_json_delta pieces.
    let (res, deltas) = call(&client, &streaming(r.clone())).await;
    let res = res.unwrap();
    assert_eq!(res.text, "{\"title\":\"Kathā\"}");
    assert_eq!(
        deltas.concat(),
        res.text,
        "the tool's JSON streams as deltas"
    );
    assert!(deltas.len() >= 2, "{deltas:?}");
    assert_eq!(
        res.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 7
        }
    );
    assert_eq!(server.requests()[1].body["tool_choice"]["name"], "answer");
}

#[tokio::test]
async fn a_recorded_tool_stream_answers_with_the_tool_input_only() {
    // The SDK's recorded stream: prose, then a tool_use block in pieces.
    let (c, _s) = stream_fixture("tool_use_response.txt", 7).await;
    let mut r = streaming(req("anthropic", "claude", "x"));
    r.output = outline_schema();
    let (res, deltas) = call(&c, &r).await;
    let res = res.unwrap();
    assert_eq!(res.text, "{\"location\": \"Paris\"}");
    assert_eq!(
        deltas.concat(),
        res.text,
        "the prose before the tool is not the answer"
    );
    assert_eq!(res.finish, FinishReason::Stop);
    assert_eq!(res.usage.output_tokens, 65);
}

#[tokio::test]
async fn a_schema_that_is_not_an_object_is_wrapped_and_unwrapped() {
    let server = ScriptedServer::anthropic(|_| Reply::text("[\"one\", \"two\"]"));
    let client = AnthropicClient::new(&server.config("anthropic")).unwrap();
    let mut r = req("anthropic", "c", "x");
    r.output = OutputFormat::JsonSchema {
        name: "list".into(),
        schema: json!({"type": "array", "items": {"type": "string"}}),
    };
    for r in [r.clone(), streaming(r)] {
        let res = call(&client, &r).await.0.unwrap();
        assert_eq!(res.text, "[\"one\",\"two\"]");
    }
    let b = &server.requests()[0].body;
    assert_eq!(
        b["tools"][0]["input_schema"],
        json!({"type": "object", "properties": {"value": {"type": "array", "items": {"type": "string"}}},
            "required": ["value"]})
    );
}
