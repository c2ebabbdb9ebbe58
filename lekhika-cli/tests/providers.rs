#![allow(clippy::unwrap_used)]

//! The README's main job (examples/flows/novel.json) against servers that
//! behave like real ones: an OpenAI-compatible server refusing `json_schema`
//! the way llama-cpp-python does, one that ignores it and wraps its JSON in
//! prose, Anthropic answering JSON nodes through the forced tool; and
//! fallback chains from a providers file and `--fallback`.

mod common;
#[path = "../../lekhika/tests/craft_common/mod.rs"]
mod craft_common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use craft_common::Script;
use lekhika_providers::testkit::{RecordedRequest, Reply, ScriptedServer};
use serde_json::{json, Value};

fn novel() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flows/novel.json")
}

const INPUTS: [&str; 6] = [
    "title=Salt Roads",
    "chapters=3",
    "chapter_words=300",
    "genre=literary adventure",
    "premise=A cartographer crosses a continent.",
    "review_outline=false",
];

/// `lekhika run` of the novel with --json, Markdown only, into `out`.
async fn run_novel(
    mut c: std::process::Command,
    out: &Path,
    extra: &[&str],
) -> (Vec<Value>, Output) {
    c.arg("run").arg(novel()).args(extra);
    for kv in INPUTS {
        c.args(["--input", kv]);
    }
    c.args(["--json", "--formats", "md", "--out"]).arg(out);
    let output = tokio::task::spawn_blocking(move || run_ok(&mut c))
        .await
        .unwrap();
    (json_lines(&output.stdout), output)
}

fn events<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

fn chapters_in(out: &Path) -> usize {
    let md = std::fs::read_to_string(out.join("salt-roads.md")).unwrap();
    md.lines().filter(|l| l.starts_with("# Chapter ")).count()
}

fn format_type(r: &RecordedRequest) -> Value {
    r.body["response_format"]["type"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_novel_completes_against_a_server_refusing_json_schema_like_llama_cpp_python() {
    let script = Script::default();
    let server = ScriptedServer::llama_cpp_python(move |b| script.reply(b));
    let dir = tmpdir("lcp-novel");
    let out = dir.join("book");
    let (lines, _) = run_novel(cmd(Some(&server), &dir.join("store.db")), &out, &[]).await;
    assert_eq!(lines.last().unwrap()["status"], "completed");
    assert_eq!(chapters_in(&out), 3);

    let reqs = server.requests();
    let schema = reqs
        .iter()
        .filter(|r| format_type(r) == "json_schema")
        .count();
    assert_eq!(
        schema, 1,
        "refused once (the plan), then never asked that way again"
    );
    let object: Vec<&RecordedRequest> = reqs
        .iter()
        .filter(|r| format_type(r) == "json_object")
        .collect();
    assert!(
        object.len() >= 4,
        "plan, clerks and checks: {}",
        object.len()
    );
    assert!(object
        .iter()
        .all(|r| r.body["response_format"]["schema"].is_object()));
    assert!(
        events(&lines, "call_retrying").is_empty(),
        "the refusal is not a retried fault"
    );
    let notices = events(&lines, "provider_notice");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["node"], "plan");
    assert_eq!(notices[0]["provider"], "openai");
    let m = notices[0]["message"].as_str().unwrap();
    assert!(
        m.contains("refused response_format json_schema (HTTP 500: 1 validation error:"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_novel_completes_against_a_server_ignoring_json_schema_and_wrapping_json_in_prose() {
    let script = Script::default();
    let server = ScriptedServer::openai(move |b| {
        let json_asked = b.get("response_format").is_some();
        script.reply(b).map_text(|t| {
            if json_asked {
                format!("Sure! Here is the JSON you asked for:\n```json\n{t}\n```\nLet me know if you need changes.")
            } else {
                t.to_string()
            }
        })
    });
    let dir = tmpdir("prose-novel");
    let out = dir.join("book");
    let (lines, _) = run_novel(cmd(Some(&server), &dir.join("store.db")), &out, &[]).await;
    assert_eq!(lines.last().unwrap()["status"], "completed");
    assert_eq!(chapters_in(&out), 3);
    assert!(events(&lines, "provider_notice").is_empty());
    assert!(server
        .requests()
        .iter()
        .any(|r| format_type(r) == "json_schema"));
}

/// An Anthropic body as the OpenAI-shaped one the scripted novelist reads.
fn as_openai(body: &Value) -> Value {
    let mut messages = vec![json!({"role": "system", "content": body["system"]})];
    messages.extend(body["messages"].as_array().cloned().unwrap_or_default());
    json!({"model": body["model"], "messages": messages})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_answers_the_novels_json_nodes_through_the_forced_tool() {
    let script = Script::default();
    let server = ScriptedServer::anthropic(move |b| script.reply(&as_openai(b)));
    let dir = tmpdir("anthropic-novel");
    let out = dir.join("book");
    let mut c = cmd(None, &dir.join("store.db"));
    for (k, v) in server.env("anthropic") {
        c.env(k, v);
    }
    let (lines, _) = run_novel(c, &out, &["--provider", "anthropic"]).await;
    assert_eq!(lines.last().unwrap()["status"], "completed");
    assert_eq!(chapters_in(&out), 3);
    let forced: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.body.get("tool_choice").is_some())
        .collect();
    assert!(
        forced.len() >= 4,
        "plan, clerks and checks: {}",
        forced.len()
    );
    for r in &forced {
        assert_eq!(
            r.body["tool_choice"],
            json!({"type": "tool", "name": "answer"})
        );
        assert_eq!(r.body["tools"][0]["name"], "answer");
        assert_eq!(r.body["tools"][0]["input_schema"]["type"], "object");
        let system = r.body["system"].as_str().unwrap_or_default();
        assert!(!system.contains("JSON Schema"), "{system}");
    }
}

fn providers_file(dir: &Path, rows: Value) -> PathBuf {
    let p = dir.join("providers.json");
    std::fs::write(&p, rows.to_string()).unwrap();
    p
}

fn always_500() -> ScriptedServer {
    ScriptedServer::openai(|_| {
        Reply::error(
            500,
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_providers_file_fallback_chain_moves_every_call_to_the_second_provider() {
    let first = always_500();
    let second = ScriptedServer::openai(|b| book_reply(b, std::time::Duration::ZERO));
    let dir = tmpdir("fallback-file");
    let file = providers_file(
        &dir,
        json!([
            {"name": "openai", "api_key": "k1", "base_url": first.url(), "fallback": ["backup"]},
            {"name": "backup", "api_key": "k2", "base_url": second.url()}
        ]),
    );
    let mut c = cmd(None, &dir.join("store.db"));
    let out = dir.join("book");
    c.args(["run", fixture("book.json").to_str().unwrap()])
        .arg("--providers")
        .arg(&file)
        .args([
            "--input",
            "title=Backup Book",
            "--input",
            "chapters=3",
            "--json",
        ])
        .args(["--formats", "md", "--out"])
        .arg(&out);
    let done = tokio::task::spawn_blocking(move || run_ok(&mut c))
        .await
        .unwrap();
    let lines = json_lines(&done.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    let calls = second.request_count();
    assert!(calls >= 4, "outline and chapters: {calls}");
    assert_eq!(
        first.request_count(),
        calls,
        "each call asked the first once"
    );
    assert!(second
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer k2")));
    let notices = events(&lines, "provider_notice");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0]["message"]
        .as_str()
        .unwrap()
        .contains("its fallback `backup` answered"));
    assert!(events(&lines, "call_retrying").is_empty());
    // `status` counts what each server saw, and prices the replies as the
    // fallback's (the one that answered).
    let id = lines.last().unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rep = run_ok(
        cmd(None, &dir.join("store.db"))
            .args(["status", &id, "--json", "--providers"])
            .arg(&file),
    );
    let rep: serde_json::Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(
        rep["requests"],
        (first.request_count() + calls) as u64,
        "{rep}"
    );
    assert_eq!(rep["calls"], calls as u64);
    assert_eq!(rep["retries"], first.request_count() as u64);
    assert_eq!(
        rep["providers"]["openai"]["requests"],
        first.request_count() as u64
    );
    assert_eq!(rep["providers"]["openai"]["calls"], 0);
    assert_eq!(rep["providers"]["backup"]["requests"], calls as u64);
    assert_eq!(rep["providers"]["backup"]["calls"], calls as u64);
    for n in rep["nodes"].as_array().unwrap() {
        if n["calls"].as_u64().unwrap_or(0) > 0 {
            assert!(
                n["models"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["provider"] == "backup"),
                "{n}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_every_request_the_server_saw_and_the_model_of_each_call() {
    // Every third request fails with a 500 (retried by the engine); the
    // writer of each chapter and its reviewer are different models.
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let server = ScriptedServer::openai(move |b| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 3 == 2 {
            return Reply::error(500, r#"{"error":{"message":"busy","type":"server_error"}}"#);
        }
        book_reply(b, std::time::Duration::ZERO)
    });
    let dir = tmpdir("request-counts");
    let store = dir.join("store.db");
    let out = dir.join("book");
    let mut c = cmd(Some(&server), &store);
    c.args(["run", fixture("book.json").to_str().unwrap()])
        .args([
            "--input",
            "title=Counted",
            "--input",
            "chapters=4",
            "--json",
        ])
        .args(["--node-model", "outline=gpt-4.1-mini"])
        .args(["--formats", "md", "--out"])
        .arg(&out);
    let done = tokio::task::spawn_blocking(move || run_ok(&mut c))
        .await
        .unwrap();
    let lines = json_lines(&done.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    let id = lines.last().unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rep = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let rep: serde_json::Value = serde_json::from_slice(&rep.stdout).unwrap();
    let requests = server.request_count() as u64;
    assert_eq!(rep["requests"], requests, "{rep}");
    assert_eq!(rep["calls"], 5, "outline and 4 chapters");
    assert_eq!(rep["retries"], requests - 5);
    assert!(requests > 5, "some requests failed and were retried");
    assert_eq!(rep["providers"]["openai"]["requests"], requests);
    let sum: u64 = rep["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, requests, "per node requests add up");
    let outline = rep["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "outline")
        .unwrap()
        .clone();
    assert_eq!(outline["models"][0]["model"], "gpt-4.1-mini", "{outline}");
    let chapter = rep["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "write" && n["item"] == 0)
        .unwrap()
        .clone();
    assert_eq!(chapter["models"][0]["model"], "gpt-5-mini", "{chapter}");
    // The table says the same.
    let table = run_ok(cmd(None, &store).args(["status", &id]));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&format!("5 model replies from {requests} HTTP requests")),
        "{table}"
    );
    assert!(table.contains("openai/gpt-4.1-mini"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallback_flag_names_a_provider_and_model() {
    let first = always_500();
    let second = ScriptedServer::openai(|b| book_reply(b, std::time::Duration::ZERO));
    let dir = tmpdir("fallback-flag");
    let mut c = cmd(Some(&first), &dir.join("store.db"));
    for (k, v) in second.env("backup") {
        c.env(k, v);
    }
    let out = dir.join("book");
    c.args(["run", fixture("book.json").to_str().unwrap()])
        .args(["--fallback", "openai=backup:llama3.1:8b"])
        .args([
            "--input",
            "title=Flag Book",
            "--input",
            "chapters=2",
            "--json",
        ])
        .args(["--formats", "md", "--out"])
        .arg(&out);
    let done = tokio::task::spawn_blocking(move || run_ok(&mut c))
        .await
        .unwrap();
    assert_eq!(
        json_lines(&done.stdout).last().unwrap()["status"],
        "completed"
    );
    assert!(second.request_count() >= 3);
    assert_eq!(first.request_count(), second.request_count());
    assert!(second
        .requests()
        .iter()
        .all(|r| r.body["model"] == "llama3.1:8b"));
}

#[test]
fn bad_fallbacks_and_unknown_providers_file_keys_are_errors() {
    let dir = tmpdir("fallback-bad");
    let store = dir.join("store.db");
    let file = providers_file(
        &dir,
        json!([{"name": "local", "base_url": "http://127.0.0.1:9/v1"},
               {"name": "openai", "api_key": "k", "fallbak": ["local"]}]),
    );
    let run = |extra: &[&str], file: Option<&Path>| {
        let mut c = cmd(None, &store);
        c.args(["run", fixture("book.json").to_str().unwrap()])
            .args(["--input", "title=T"])
            .args(extra);
        if let Some(f) = file {
            c.arg("--providers").arg(f);
        }
        c.output().unwrap()
    };
    let o = run(&[], Some(&file));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("row 2 (`openai`): unknown key `fallbak`"),
        "{err}"
    );
    let o = run(&["--fallback", "openai"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("--fallback takes PRIMARY=SECONDARY[:MODEL], got `openai`"));
    let o = run(&["--fallback", "openai=nowhere"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("its fallback `nowhere` is not a configured provider"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
