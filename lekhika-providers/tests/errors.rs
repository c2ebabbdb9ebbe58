//! Error classification, retries and key hygiene across providers.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use lekhika_core::provider::{ImageRequest, ModelProvider, ProviderErrorKind};
use lekhika_providers::testkit::{Protocol, Reply, ScriptedServer};
use lekhika_providers::{
    ProviderConfig, ProviderKind, ProviderRow, ProviderSet, RetryPolicy, StabilityClient, Timeouts,
};
use serde_json::json;

const SECRET: &str = "sk-proj-VERYSECRET0123456789abcdef";

#[tokio::test]
async fn openai_error_kinds_and_retry_counts() {
    let cases: &[(u16, &str, ProviderErrorKind, usize)] = &[
        (
            401,
            r#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            ProviderErrorKind::Auth,
            1,
        ),
        (
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            ProviderErrorKind::QuotaExhausted,
            1,
        ),
        (
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM).","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
            ProviderErrorKind::RateLimited,
            3,
        ),
        (
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            ProviderErrorKind::ContextTooLong,
            1,
        ),
        (
            400,
            r#"{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":null}}"#,
            ProviderErrorKind::BadRequest,
            1,
        ),
        (
            400,
            r#"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}"#,
            ProviderErrorKind::ContentBlocked,
            1,
        ),
        (
            402,
            r#"{"error":{"message":"Insufficient credits","code":402}}"#,
            ProviderErrorKind::QuotaExhausted,
            1,
        ),
        (
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
            ProviderErrorKind::Server,
            3,
        ),
        (
            503,
            "<html>upstream unavailable</html>",
            ProviderErrorKind::Overloaded,
            3,
        ),
        (
            404,
            r#"{"error":"model 'llama9' not found"}"#,
            ProviderErrorKind::BadRequest,
            1,
        ),
    ];
    for &(status, body, kind, calls) in cases {
        let server = ScriptedServer::start(Protocol::OpenAi, move |_| Reply::error(status, body));
        let set = ProviderSet::new().with(server.config("openai")).unwrap();
        let e = call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
        assert_eq!(e.kind, kind, "{body}");
        assert_eq!(e.status, Some(status));
        assert_eq!(e.message, body, "the error body is kept intact");
        assert_eq!(server.request_count(), calls, "{body}");
    }
}

#[tokio::test]
async fn retry_after_ms_and_x_should_retry_are_obeyed() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let server = ScriptedServer::openai(move |_| {
        if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::error(
                429,
                r#"{"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}"#,
            )
            .header("retry-after-ms", "450")
            .header("retry-after", "30")
        } else {
            Reply::text("ok")
        }
    });
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    let t = Instant::now();
    assert_eq!(
        call(&set, &req("openai", "m", "x")).await.0.unwrap().text,
        "ok"
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(440) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // The provider says do not retry a 500; a 409 it says to retry.
    let server =
        ScriptedServer::openai(|_| Reply::error(500, "{}").header("x-should-retry", "false"));
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
    assert_eq!(server.request_count(), 1);
    let server =
        ScriptedServer::openai(|_| Reply::error(400, "{}").header("x-should-retry", "true"));
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn network_and_timeout_kinds() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cfg = ProviderConfig::new("openai", ProviderKind::OpenAi, SECRET)
        .with_base_url(format!("http://127.0.0.1:{port}/v1"))
        .with_retry(RetryPolicy::new(
            2,
            Duration::from_millis(1),
            Duration::from_millis(2),
        ));
    let set = ProviderSet::new().with(cfg).unwrap();
    let e = call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Network, "{e}");
    assert!(!e.message.contains(SECRET));

    let server = ScriptedServer::openai(|_| Reply::text("late").delay(Duration::from_millis(800)));
    let cfg = server
        .config("openai")
        .with_retry(RetryPolicy::none())
        .with_timeouts(Timeouts {
            request: Duration::from_millis(200),
            ..Timeouts::default()
        });
    let set = ProviderSet::new().with(cfg).unwrap();
    let e = call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::Timeout, "{e}");
}

#[tokio::test]
async fn api_keys_never_appear_in_errors_or_debug_output() {
    // Servers that echo the key back in their error bodies and stream errors.
    let echo = |r: &lekhika_providers::testkit::RecordedRequest| {
        let key = r
            .header("authorization")
            .map(|v| v.trim_start_matches("Bearer ").to_string())
            .or(r.header("x-api-key").map(str::to_string))
            .or(r.header("x-goog-api-key").map(str::to_string))
            .unwrap_or_default();
        if r.is_stream() {
            Reply::sse(format!(
                "event: error\ndata: {}\n\n",
                json!({"type":"error","error":{"type":"authentication_error","status":"UNAUTHENTICATED","message": format!("bad key {key}")}})
            ))
        } else {
            Reply::error(401, &json!({"error": {"message": format!("Incorrect API key provided: {key}"), "type": "invalid_request_error", "code": "invalid_api_key", "status": "UNAUTHENTICATED"}}).to_string())
        }
    };
    let o = ScriptedServer::start(Protocol::OpenAi, echo);
    let a = ScriptedServer::start(Protocol::Anthropic, echo);
    let g = ScriptedServer::start(Protocol::Gemini, echo);
    let rows: Vec<ProviderRow> = vec![
        serde_json::from_value(json!({"name": "openai", "api_key": SECRET, "base_url": o.url()}))
            .unwrap(),
        serde_json::from_value(
            json!({"name": "anthropic", "api_key": SECRET, "base_url": a.url()}),
        )
        .unwrap(),
        serde_json::from_value(json!({"name": "gemini", "api_key": SECRET, "base_url": g.url()}))
            .unwrap(),
    ];
    let set = ProviderSet::from_rows(&rows, None).unwrap();
    let mut seen = Vec::new();
    for p in ["openai", "anthropic", "gemini"] {
        for stream in [false, true] {
            let mut r = req(p, "gemini-2.5-flash", "x");
            r.stream = stream;
            let e = call(&set, &r).await.0.unwrap_err();
            assert_eq!(e.kind, ProviderErrorKind::Auth, "{p} {e}");
            seen.push(format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap()));
        }
    }
    assert!(
        o.requests()[0]
            .header("authorization")
            .unwrap()
            .contains(SECRET),
        "the key was sent"
    );
    seen.push(format!("{set:?} {rows:?}"));
    for row in &rows {
        seen.push(format!("{:?}", row.to_config()));
    }
    for s in &seen {
        assert!(
            !s.contains(SECRET) && !s.contains("VERYSECRET"),
            "key leaked: {s}"
        );
    }
    assert!(seen[0].contains("[REDACTED]"), "{}", seen[0]);
}

fn image_req(model: &str) -> ImageRequest {
    ImageRequest {
        provider: "stability".into(),
        model: model.into(),
        prompt: "A misty mountain cover, \"no text\"".into(),
        negative_prompt: Some("blurry".into()),
        size: None,
        aspect_ratio: Some("2:3".into()),
        output_format: Some("webp".into()),
        seed: Some(7),
    }
}

#[tokio::test]
async fn stability_multipart_image_and_content_filter() {
    let server = ScriptedServer::start(Protocol::OpenAi, |r| {
        if r.path.ends_with("/ultra") {
            Reply::raw(200, "image/webp", b"RIFF....WEBP".to_vec())
                .header("finish-reason", "CONTENT_FILTERED")
        } else if r.path.ends_with("/sd3") {
            Reply::error(
                403,
                r#"{"id":"abc","name":"content_moderation","errors":["Your request was flagged by our content moderation system."]}"#,
            )
        } else {
            Reply::raw(200, "image/webp", b"RIFF....WEBP".to_vec())
                .header("finish-reason", "SUCCESS")
                .header("seed", "7")
        }
    });
    let cfg = ProviderConfig::new("stability", ProviderKind::Stability, "sk-stab")
        .with_base_url(format!("http://{}", server.addr()))
        .with_retry(RetryPolicy::new(
            3,
            Duration::from_millis(1),
            Duration::from_millis(2),
        ));
    let client = StabilityClient::new(&cfg).unwrap();
    let img = client
        .generate_image(&image_req("stable-image-core"))
        .await
        .unwrap();
    assert_eq!(img.images[0].bytes, b"RIFF....WEBP");
    assert_eq!(img.images[0].mime, "image/webp");
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v2beta/stable-image/generate/core");
    assert_eq!(sent.header("accept"), Some("image/*"));
    assert_eq!(sent.header("authorization"), Some("Bearer sk-stab"));
    let ct = sent.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
    let body = String::from_utf8(sent.raw_body.clone()).unwrap();
    for (name, value) in [
        ("prompt", "A misty mountain cover, \"no text\""),
        ("negative_prompt", "blurry"),
        ("aspect_ratio", "2:3"),
        ("seed", "7"),
        ("output_format", "webp"),
    ] {
        let part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
        assert!(body.contains(&part), "missing {name} in {body}");
    }
    assert!(body.ends_with(&format!("--{boundary}--\r\n")));

    let e = client
        .generate_image(&image_req("stable-image-ultra"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ContentBlocked);
    let e = client
        .generate_image(&image_req("sd3.5-large"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::ContentBlocked);
    assert!(e.message.contains("content_moderation"));
    assert!(String::from_utf8_lossy(&server.requests()[2].raw_body).contains("sd3.5-large"));
    assert_eq!(server.request_count(), 3, "blocks are not retried");
    let text = call(&client, &req("stability", "m", "x"))
        .await
        .0
        .unwrap_err();
    assert_eq!(text.kind, ProviderErrorKind::Unsupported);
}
