//! ProviderSet routing, configuration, fallback and shared rate limits.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use lekhika_core::provider::{ModelProvider, ProviderErrorKind};
use lekhika_providers::testkit::{Reply, ScriptedServer};
use lekhika_providers::{FallbackTarget, ProviderRow, ProviderSet, RateLimits, RetryPolicy};

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn unknown_provider_says_which_env_var_to_set() {
    let set = ProviderSet::from_vars(vars(&[("OPENAI_API_KEY", "sk-x")])).unwrap();
    assert_eq!(set.names(), ["openai"]);
    for (name, var) in [
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("stability", "STABILITY_API_KEY"),
        ("ollama", "OLLAMA_BASE_URL"),
        ("my-vllm", "MY_VLLM_BASE_URL"),
    ] {
        let e = call(&set, &req(name, "m", "x")).await.0.unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::NotConfigured);
        assert!(e.message.contains(var), "{name}: {}", e.message);
    }
}

#[tokio::test]
async fn env_vars_route_to_openai_compatible_and_native_servers() {
    let ollama = ScriptedServer::openai(|_| Reply::text("from ollama"));
    let anthropic = ScriptedServer::anthropic(|_| Reply::text("from claude"));
    let env = anthropic.env("anthropic");
    assert_eq!(env[0], ("ANTHROPIC_BASE_URL".to_string(), anthropic.url()));
    let set = ProviderSet::from_vars(vars(&[
        ("OLLAMA_BASE_URL", &ollama.url()),
        ("ANTHROPIC_API_KEY", "ak-1"),
        ("ANTHROPIC_BASE_URL", &anthropic.url()),
    ]))
    .unwrap();
    assert_eq!(
        call(&set, &req("ollama", "llama3", "x"))
            .await
            .0
            .unwrap()
            .text,
        "from ollama"
    );
    assert_eq!(
        call(&set, &req("Anthropic", "c", "x"))
            .await
            .0
            .unwrap()
            .text,
        "from claude"
    );
    assert_eq!(
        ollama.requests()[0].header("authorization"),
        None,
        "no key, no header"
    );
    assert_eq!(anthropic.requests()[0].header("x-api-key"), Some("ak-1"));
}

#[tokio::test]
async fn host_rows_with_user_override_and_inactive_rows() {
    let global = ScriptedServer::openai(|_| Reply::text("host key"));
    let mine = ScriptedServer::openai(|_| Reply::text("user key"));
    let gem = ScriptedServer::gemini(|_| Reply::text("gemini"));
    let rows: Vec<ProviderRow> = serde_json::from_value(serde_json::json!([
        {"name": "openai", "api_key": "sk-host", "base_url": global.url(), "is_active": true},
        {"name": "openai", "api_key": "sk-user", "base_url": mine.url(), "is_active": true, "user_id": "u1"},
        {"name": "openai", "api_key": "sk-other", "base_url": global.url(), "user_id": "u2"},
        {"name": "google", "api_key": "g-1", "base_url": gem.url()},
        {"name": "anthropic", "api_key": "a-1", "is_active": false}
    ]))
    .unwrap();
    let for_u1 = ProviderSet::from_rows(&rows, Some("u1")).unwrap();
    assert_eq!(for_u1.names(), ["google", "openai"]);
    assert_eq!(
        call(&for_u1, &req("openai", "m", "x"))
            .await
            .0
            .unwrap()
            .text,
        "user key"
    );
    assert_eq!(
        call(&for_u1, &req("google", "gemini-2.5-flash", "x"))
            .await
            .0
            .unwrap()
            .text,
        "gemini"
    );
    let host = ProviderSet::from_rows(&rows, None).unwrap();
    assert_eq!(
        call(&host, &req("openai", "m", "x")).await.0.unwrap().text,
        "host key"
    );
    assert_eq!(
        global.requests()[0].header("authorization"),
        Some("Bearer sk-host")
    );
    let e = call(&host, &req("anthropic", "c", "x"))
        .await
        .0
        .unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::NotConfigured);
    assert!(
        !format!("{rows:?}").contains("sk-user"),
        "rows never print keys"
    );
}

#[tokio::test]
async fn overloaded_primary_falls_back_after_its_retries() {
    let primary = ScriptedServer::openai(|_| {
        Reply::error(
            503,
            r#"{"error":{"message":"Service overloaded","type":"server_error","param":null,"code":null}}"#,
        )
    });
    let backup =
        ScriptedServer::anthropic(|b| Reply::text(format!("backup answered with {}", b["model"])));
    let set = ProviderSet::new()
        .with(primary.config("openai"))
        .unwrap()
        .with(backup.config("anthropic"))
        .unwrap()
        .with_fallback(
            "openai",
            FallbackTarget::new("anthropic", Some("claude-haiku-4-5")),
        );
    let (res, deltas) = call(&set, &streaming(req("openai", "gpt-5-mini", "x"))).await;
    assert_eq!(
        res.unwrap().text,
        "backup answered with \"claude-haiku-4-5\""
    );
    assert_eq!(deltas.concat(), "backup answered with \"claude-haiku-4-5\"");
    assert_eq!(
        primary.request_count(),
        3,
        "primary used all its attempts first"
    );
    assert_eq!(backup.request_count(), 1);

    // Quota exhaustion is not a reason to spend another provider's money.
    let quota = ScriptedServer::openai(|_| {
        Reply::error(
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        )
    });
    let set = ProviderSet::new()
        .with(quota.config("openai"))
        .unwrap()
        .with(backup.config("anthropic"))
        .unwrap()
        .with_fallback("openai", FallbackTarget::new("anthropic", None));
    let e = call(&set, &req("openai", "m", "x")).await.0.unwrap_err();
    assert_eq!(e.kind, ProviderErrorKind::QuotaExhausted);
    assert_eq!(quota.request_count(), 1, "never retried");
    assert_eq!(backup.request_count(), 1, "no fallback");
}

#[tokio::test]
async fn a_providers_file_chain_moves_to_the_second_provider_and_says_so_once() {
    let first = ScriptedServer::openai(|_| {
        Reply::error(
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
        )
    });
    let second = ScriptedServer::anthropic(|b| Reply::text(format!("second: {}", b["model"])));
    let text = serde_json::json!([
        {"name": "openai", "api_key": "k1", "base_url": first.url(),
         "fallback": [{"provider": "claude", "model": "claude-haiku-4-5"}]},
        {"name": "claude", "kind": "anthropic", "api_key": "k2", "base_url": second.url()}
    ])
    .to_string();
    let rows = lekhika_providers::parse_provider_rows(&text).unwrap();
    // As the engine builds it: no client retries (it retries each call itself).
    let set = ProviderSet::from_rows(&rows, None)
        .unwrap()
        .with_client_retry(RetryPolicy::none())
        .unwrap();
    set.check_fallbacks().unwrap();
    for i in 0..3 {
        let res = call(&set, &req("openai", "gpt-5-mini", "x"))
            .await
            .0
            .unwrap();
        assert_eq!(res.text, "second: \"claude-haiku-4-5\"");
        assert_eq!(res.notices.len(), usize::from(i == 0), "{:?}", res.notices);
        if i == 0 {
            assert!(
                res.notices[0].starts_with("provider `openai` failed (Server: ")
                    && res.notices[0]
                        .contains("its fallback `claude` (model `claude-haiku-4-5`) answered"),
                "{}",
                res.notices[0]
            );
        }
    }
    assert_eq!(first.request_count(), 3, "one request per call");
    assert_eq!(second.request_count(), 3);
    assert!(second
        .requests()
        .iter()
        .all(|r| r.header("x-api-key") == Some("k2")));
}

#[test]
fn fallback_targets_must_be_configured() {
    let rows: Vec<ProviderRow> = serde_json::from_value(serde_json::json!([
        {"name": "openai", "api_key": "k", "fallback": ["nowhere"]}
    ]))
    .unwrap();
    let set = ProviderSet::from_rows(&rows, None).unwrap();
    let e = set.check_fallbacks().unwrap_err().to_string();
    assert!(
        e.starts_with("provider `openai`: its fallback `nowhere` is not a configured provider"),
        "{e}"
    );
    let set = ProviderSet::from_rows(&rows[..0], None)
        .unwrap()
        .with_fallback("a", FallbackTarget::new("a", None));
    assert!(set
        .check_fallbacks()
        .unwrap_err()
        .to_string()
        .contains("itself"));
}

#[tokio::test]
async fn configured_rate_limit_is_shared_by_every_set_in_the_process() {
    let server = ScriptedServer::openai(|_| Reply::text("ok"));
    let cfg = server.config("openai").with_rate_limits(RateLimits {
        requests_per_minute: Some(240), // 4 per second, bucket of 4
        tokens_per_minute: None,
    });
    // Two independent sets (two "runs") with the same provider, URL and key.
    let a = ProviderSet::new().with(cfg.clone()).unwrap();
    let b = ProviderSet::new().with(cfg).unwrap();
    let t = Instant::now();
    let mut jobs = Vec::new();
    for i in 0..10 {
        let set = if i % 2 == 0 { a.clone() } else { b.clone() };
        jobs.push(tokio::spawn(async move {
            call(&set, &req("openai", "m", "x")).await.0.map(|r| r.text)
        }));
    }
    for j in jobs {
        assert_eq!(j.await.unwrap().unwrap(), "ok");
    }
    let took = t.elapsed();
    // 4 at once, then 6 more at 4/s: at least 1.5 s.
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(server.request_count(), 10);
}

#[tokio::test]
async fn rate_limit_headers_tighten_the_shared_limiter() {
    let server = ScriptedServer::openai(|_| {
        Reply::text("ok")
            .header("x-ratelimit-remaining-requests", "0")
            .header("x-ratelimit-reset-requests", "700ms")
            .header("x-ratelimit-remaining-tokens", "799970")
            .header("x-ratelimit-reset-tokens", "2ms")
    });
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    call(&set, &req("openai", "m", "x")).await.0.unwrap();
    let t = Instant::now();
    call(&set, &req("openai", "m", "x")).await.0.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(600),
        "{:?}",
        t.elapsed()
    );

    let anthropic = ScriptedServer::anthropic(|_| {
        let reset = httpdate_rfc3339(std::time::SystemTime::now() + Duration::from_millis(1500));
        Reply::text("ok")
            .header("anthropic-ratelimit-requests-remaining", "0")
            .header("anthropic-ratelimit-requests-reset", &reset)
    });
    let set = ProviderSet::new()
        .with(anthropic.config("anthropic"))
        .unwrap();
    call(&set, &req("anthropic", "c", "x")).await.0.unwrap();
    let t = Instant::now();
    call(&set, &req("anthropic", "c", "x")).await.0.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
}

/// An RFC 3339 UTC timestamp (seconds precision, rounded up).
fn httpdate_rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let days = secs / 86400;
    let rem = secs % 86400;
    // civil_from_days (H. Hinnant)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn speech_and_images_route_too() {
    let server = ScriptedServer::openai(|_| Reply::raw(200, "audio/mpeg", b"mp3".to_vec()));
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    let s = set
        .synthesize_speech(&lekhika_core::provider::SpeechRequest {
            provider: "openai".into(),
            model: "tts-1".into(),
            input: "hi".into(),
            voice: "nova".into(),
            format: None,
            instructions: None,
            speed: None,
        })
        .await
        .unwrap();
    assert_eq!(s.bytes, b"mp3");
    let _ = RetryPolicy::none();
}
