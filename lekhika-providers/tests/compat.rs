//! OpenAI-compatible servers that refuse request features: each refused
//! call is sent again at once in the next weaker form (inside one attempt,
//! so it works with the engine's `RetryPolicy::none()`), the form is kept
//! for later calls, and the step is reported once.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use lekhika_core::provider::{OutputFormat, TextRequest};
use lekhika_providers::testkit::{Reply, ScriptedServer, LLAMA_CPP_PYTHON_JSON_SCHEMA_500};
use lekhika_providers::{
    MaxTokensField, OpenAiClient, OpenAiCompat, ProviderConfig, ProviderSet, RetryPolicy,
};
use serde_json::{json, Value};

fn schema_req(provider: &str) -> TextRequest {
    let mut r = req(provider, "smollm2", "Plan the novel.");
    r.output = OutputFormat::JsonSchema {
        name: "plan".into(),
        schema: json!({"type": "object", "required": ["logline"],
            "properties": {"logline": {"type": "string"}}}),
    };
    r
}

/// What the engine builds: no client retries.
fn engine_cfg(server: &ScriptedServer, name: &str) -> ProviderConfig {
    server.config(name).with_retry(RetryPolicy::none())
}

fn system_of(b: &Value) -> String {
    b["messages"][0]["content"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn llama_cpp_python_refusing_json_schema_gets_json_object_with_the_schema() {
    let server = ScriptedServer::llama_cpp_python(|_| Reply::text("{\"logline\": \"A scribe.\"}"));
    let client = OpenAiClient::new(&engine_cfg(&server, "local")).unwrap();
    let r = schema_req("local");
    let res = call(&client, &r).await.0.unwrap();
    assert_eq!(res.text, "{\"logline\": \"A scribe.\"}");
    assert_eq!(res.notices.len(), 1, "{:?}", res.notices);
    let n = &res.notices[0];
    assert!(
        n.contains("provider `local` at http://127.0.0.1:")
            && n.contains("refused response_format json_schema (HTTP 500: ")
            && n.contains("Input should be 'text' or 'json_object'")
            && n.contains("sending response_format json_object with a schema"),
        "{n}"
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "refused once, sent again at once");
    assert_eq!(
        reqs[0].body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "plan", "schema": {"type": "object",
            "required": ["logline"], "properties": {"logline": {"type": "string"}}}}})
    );
    assert_eq!(
        reqs[1].body["response_format"],
        json!({"type": "json_object", "schema": {"type": "object",
            "required": ["logline"], "properties": {"logline": {"type": "string"}}}})
    );
    let system = system_of(&reqs[1].body);
    assert!(
        system.contains("matches this JSON Schema: {\"properties\":{\"logline\""),
        "the schema is in the prompt: {system}"
    );
    assert_eq!(
        reqs[1].body["max_tokens"], 300,
        "compatible servers get max_tokens"
    );

    // Remembered: the next call (from a new client of the same provider and
    // URL, as a later run in the process builds) goes straight to the weaker
    // form, and nothing is reported again.
    let again = OpenAiClient::new(&engine_cfg(&server, "local")).unwrap();
    let res = call(&again, &streaming(r)).await.0.unwrap();
    assert!(res.notices.is_empty(), "{:?}", res.notices);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].body["response_format"]["type"], "json_object");
}

#[tokio::test]
async fn the_recorded_refusal_is_the_real_body() {
    let server = ScriptedServer::llama_cpp_python(|_| Reply::text("{}"));
    let http = reqwest_like_post(
        &server,
        json!({"model": "m", "messages": [],
        "response_format": {"type": "json_schema", "json_schema": {"name": "o", "schema": {}}}}),
    )
    .await;
    assert_eq!(http.0, 500);
    assert_eq!(http.1, LLAMA_CPP_PYTHON_JSON_SCHEMA_500);
    assert!(http.1.starts_with("{\"error\":{\"message\":\"1 validation error:\\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type')"));
}

/// A bare HTTP/1.1 POST, to see the server's bytes without the client.
async fn reqwest_like_post(server: &ScriptedServer, body: Value) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let b = body.to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        b.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(b.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[tokio::test]
async fn a_server_ignoring_response_format_is_left_alone() {
    let server = ScriptedServer::openai(|_| {
        Reply::text("Sure! Here is the plan:\n```json\n{\"logline\": \"x\"}\n```")
    });
    let client = OpenAiClient::new(&engine_cfg(&server, "vllm")).unwrap();
    let res = call(&client, &schema_req("vllm")).await.0.unwrap();
    assert!(
        res.text.contains("{\"logline\": \"x\"}"),
        "the reply is passed on whole"
    );
    assert!(res.notices.is_empty());
    assert_eq!(server.request_count(), 1);
    assert_eq!(
        server.requests()[0].body["response_format"]["type"],
        "json_schema"
    );
}

#[tokio::test]
async fn a_server_refusing_every_response_format_ends_with_the_schema_in_the_prompt() {
    let server = ScriptedServer::openai(|b| {
        if b.get("response_format").is_some() {
            Reply::error(
                400,
                r#"{"error":{"message":"Unrecognized request argument supplied: response_format","type":"invalid_request_error","param":null,"code":null}}"#,
            )
        } else {
            Reply::text("{\"logline\": \"y\"}")
        }
    });
    let client = OpenAiClient::new(&engine_cfg(&server, "old")).unwrap();
    let res = call(&client, &schema_req("old")).await.0.unwrap();
    assert_eq!(res.text, "{\"logline\": \"y\"}");
    assert_eq!(res.notices.len(), 3, "{:?}", res.notices);
    let types: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["response_format"]["type"].clone())
        .collect();
    assert_eq!(
        types,
        vec![
            json!("json_schema"),
            json!("json_object"),
            json!("json_object"),
            Value::Null
        ]
    );
    let reqs = server.requests();
    assert!(reqs[1].body["response_format"].get("schema").is_some());
    assert!(reqs[2].body["response_format"].get("schema").is_none());
    assert!(system_of(&reqs[3].body).contains("matches this JSON Schema"));
    // Plain JSON requests learn on their own ladder: json_object, then none.
    let mut plain = req("old", "m", "x");
    plain.output = OutputFormat::Json;
    let res = call(&client, &plain).await.0.unwrap();
    assert_eq!(res.notices.len(), 1);
    assert_eq!(server.request_count(), 6);
}

#[tokio::test]
async fn token_field_and_temperature_refusals() {
    // An official-looking dialect (max_completion_tokens) at a server that wants max_tokens.
    let server = ScriptedServer::openai(|b| {
        if b.get("max_completion_tokens").is_some() {
            return Reply::error(
                400,
                r#"{"error":{"message":"Unrecognized request argument supplied: max_completion_tokens","type":"invalid_request_error"}}"#,
            );
        }
        if b.get("temperature").is_some() {
            return Reply::error(
                400,
                r#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#,
            );
        }
        Reply::text("fine")
    });
    let cfg = engine_cfg(&server, "azure").with_openai_compat(OpenAiCompat {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        stream_usage: true,
    });
    let client = OpenAiClient::new(&cfg).unwrap();
    let res = call(&client, &req("azure", "m", "x")).await.0.unwrap();
    assert_eq!(res.text, "fine");
    assert_eq!(res.notices.len(), 2, "{:?}", res.notices);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].body["max_tokens"], 300);
    assert!(reqs[2].body.get("max_completion_tokens").is_none());
    assert!(reqs[2].body.get("temperature").is_none());
}

#[tokio::test]
async fn concurrent_refused_calls_step_once_and_report_once() {
    let server = ScriptedServer::llama_cpp_python(|_| {
        Reply::text("{\"logline\": \"z\"}").delay(std::time::Duration::from_millis(20))
    });
    let client = Arc::new(OpenAiClient::new(&engine_cfg(&server, "busy")).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            call(c.as_ref(), &schema_req("busy")).await.0.unwrap()
        }));
    }
    let mut notices = 0;
    for t in tasks {
        notices += t.await.unwrap().notices.len();
    }
    assert_eq!(notices, 1);
    let object = server
        .requests()
        .iter()
        .filter(|r| r.body["response_format"]["type"] == "json_object")
        .count();
    assert_eq!(object, 6, "every call got its answer in the weaker form");
    assert!(server
        .requests()
        .iter()
        .filter(|r| r.body["response_format"]["type"] == "json_object")
        .all(|r| r.body["response_format"].get("schema").is_some()));
}

#[tokio::test]
async fn faults_are_not_mistaken_for_refusals() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = ScriptedServer::openai(move |_| {
        h.fetch_add(1, Ordering::SeqCst);
        Reply::error(
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
        )
    });
    let client = OpenAiClient::new(&engine_cfg(&server, "flaky")).unwrap();
    let e = call(&client, &schema_req("flaky")).await.0.unwrap_err();
    assert_eq!(e.status, Some(500));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one attempt, no resend");
    // And through a set: still one request.
    let set = ProviderSet::new()
        .with(engine_cfg(&server, "flaky"))
        .unwrap();
    let _ = call(&set, &schema_req("flaky")).await;
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_stream_abandoned_with_done_and_no_finish_reason_is_cut_not_complete() {
    // llama-cpp-python's server, when another request waits for the model
    // (its default `interrupt_requests`), stops mid-reply and sends [DONE].
    let body = "data: {\"id\": \"chatcmpl-1\", \"model\": \"m\", \"created\": 1, \"object\": \"chat.completion.chunk\", \"choices\": [{\"index\": 0, \"delta\": {\"role\": \"assistant\"}, \"logprobs\": null, \"finish_reason\": null}]}\r\n\r\n\
        data: {\"id\": \"chatcmpl-1\", \"model\": \"m\", \"created\": 1, \"object\": \"chat.completion.chunk\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Once upon\"}, \"logprobs\": null, \"finish_reason\": null}]}\r\n\r\n\
        data: [DONE]\r\n\r\n";
    let server = ScriptedServer::openai(move |_| Reply::sse(body));
    let client = OpenAiClient::new(&engine_cfg(&server, "lcp")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("lcp", "m", "x"))).await;
    let e = res.unwrap_err();
    assert_eq!(
        e.kind,
        lekhika_core::provider::ProviderErrorKind::StreamCut,
        "{e}"
    );
    assert!(e.message.contains("[DONE] but no finish reason"), "{e}");
    assert!(e.is_retryable(), "the engine asks again");
    assert_eq!(deltas.concat(), "Once upon");
}

#[tokio::test]
async fn a_stream_without_usage_is_counted_for_the_models_tokenizer_and_flagged() {
    // llama-cpp-python sends no usage in streams: the reply's usage is
    // Lekhika's estimate for the model family, and says so.
    let prose = "The sea took what it wanted, and the town let it. ".repeat(40);
    let reply = prose.clone();
    let server = ScriptedServer::llama_cpp_python(move |_| Reply::text(reply.clone()));
    let client = OpenAiClient::new(&engine_cfg(&server, "local")).unwrap();
    let mut r = req("local", "smollm2-135m", "Write.");
    r.stream = true;
    let res = call(&client, &r).await.0.unwrap();
    assert!(res.usage_estimated);
    assert_eq!(
        res.usage.output_tokens,
        lekhika_core::tokens::count_tokens("smollm2-135m", &prose)
    );
    // ~4 characters per token, not the old 2-byte upper bound (2.2x too high).
    let chars_per_token = prose.len() as f64 / res.usage.output_tokens as f64;
    assert!((3.5..4.5).contains(&chars_per_token), "{chars_per_token}");
    assert_eq!(
        res.usage.input_tokens,
        lekhika_core::tokens::prompt_tokens(&r)
    );
    // A server that reports usage is taken at its word.
    let server = ScriptedServer::openai(|_| Reply::text("fine").usage(7, 3));
    let client = OpenAiClient::new(&engine_cfg(&server, "real")).unwrap();
    let res = call(&client, &req("real", "gpt-5", "x")).await.0.unwrap();
    assert!(!res.usage_estimated);
    assert_eq!((res.usage.input_tokens, res.usage.output_tokens), (7, 3));
}

#[tokio::test]
async fn a_stream_closed_without_a_word_is_asked_once_without_streaming() {
    // llama-cpp-python, when the prompt does not fit its context window:
    // 200 and an empty stream; without streaming, the real reason.
    let too_long = r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9041 tokens (9031 in the messages, 10 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
    let server = ScriptedServer::openai(move |b| {
        if b["stream"] == true {
            Reply::sse("")
        } else {
            Reply::error(400, too_long)
        }
    });
    let client = OpenAiClient::new(&engine_cfg(&server, "lcp")).unwrap();
    let (res, _) = call(&client, &streaming(req("lcp", "m", "x"))).await;
    let e = res.unwrap_err();
    assert_eq!(
        e.kind,
        lekhika_core::provider::ProviderErrorKind::ContextTooLong,
        "{e}"
    );
    assert!(e.message.contains("maximum context length is 8192"), "{e}");
    assert!(!e.is_retryable(), "asking again cannot help: {e}");
    let streamed: Vec<bool> = server
        .requests()
        .iter()
        .map(|r| r.body["stream"] == true)
        .collect();
    assert_eq!(streamed, vec![true, false]);

    // A server that only fails streams: the call is answered unstreamed,
    // and the text still reaches the caller's sink.
    let server = ScriptedServer::openai(|b| {
        if b["stream"] == true {
            Reply::sse("")
        } else {
            Reply::text("Once upon a time.")
        }
    });
    let client = OpenAiClient::new(&engine_cfg(&server, "lcp")).unwrap();
    let (res, deltas) = call(&client, &streaming(req("lcp", "m", "x"))).await;
    assert_eq!(res.unwrap().text, "Once upon a time.");
    assert_eq!(deltas.concat(), "Once upon a time.");
    assert_eq!(server.request_count(), 2);
}
