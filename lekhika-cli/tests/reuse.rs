#![allow(clippy::unwrap_used)]

//! `--reuse`: a second identical run asks the provider nothing and costs
//! nothing; an edited chapter note re-asks only that chapter and what
//! depends on it; never another user's replies; never for a regenerate;
//! `cache stats|clear`.

mod common;

use std::path::Path;

use common::*;
use lekhika_providers::testkit::{Reply, ScriptedServer};
use serde_json::{json, Value};

/// Chapters written from the user's notes (one per chapter), then a blurb
/// from every chapter, then the book.
fn notes_flow() -> Value {
    json!({
        "nodes": [
            {"id": "brief", "type": "input", "data": {"fields": [
                {"name": "title", "type": "string", "required": true},
                {"name": "notes", "type": "list", "required": true}]}},
            {"id": "write", "type": "map", "data": {
                "items": "{{input.notes}}",
                "concurrency": 2,
                "node": {"kind": "text", "provider": "openai", "model": "gpt-4.1", "max_tokens": 400,
                         "prompt": "WRITE chapter {{item.number}} of {{input.title}}: {{item}}"}}},
            {"id": "blurb", "type": "text", "data": {
                "provider": "openai", "model": "gpt-4.1", "max_tokens": 200,
                "prompt": "BLURB for this book: {{nodes.write.output}}"}},
            {"id": "book", "type": "compile", "data": {
                "title": "{{input.title}}", "author": "Lekhika Test",
                "chapters": "{{nodes.write.output}}"}}
        ],
        "edges": [
            {"id": "e1", "source": "brief", "target": "write"},
            {"id": "e2", "source": "write", "target": "blurb"},
            {"id": "e3", "source": "write", "target": "book"},
            {"id": "e4", "source": "blurb", "target": "book"}
        ]
    })
}

fn server() -> ScriptedServer {
    ScriptedServer::openai(|b| {
        let p = prompt(b);
        if p.starts_with("BLURB") {
            Reply::text("A book about the sea, told in three turns.").usage(300, 20)
        } else {
            Reply::text(format!(
                "The chapter as asked ({}). Mira walked to the harbour and counted the boats, \
                 one by one, until the light went.",
                p.trim_start_matches("WRITE ")
            ))
            .usage(60, 120)
        }
    })
}

struct Ran {
    id: String,
    cost: i64,
    events: Vec<Value>,
}

fn run(server: &ScriptedServer, store: &Path, flow: &Path, notes: &str, extra: &[&str]) -> Ran {
    let out_dir = store.parent().unwrap().join("out");
    let mut c = cmd(Some(server), store);
    c.args(["run", flow.to_str().unwrap(), "--json", "--formats", "md"])
        .args([
            "--input",
            "title=Tide",
            "--input",
            &format!("notes={notes}"),
        ])
        .arg("--out")
        .arg(&out_dir)
        .args(extra);
    let out = run_ok(&mut c);
    let events = json_lines(&out.stdout);
    let last = events.last().unwrap().clone();
    assert_eq!(last["status"], "completed", "{last}");
    Ran {
        id: last["execution_id"].as_str().unwrap().to_string(),
        cost: last["cost"].as_i64().unwrap(),
        events,
    }
}

fn status(store: &Path, id: &str, user: &str) -> Value {
    let out = run_ok(cmd(None, store).args(["status", id, "--json", "--user", user]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn prompts_since(server: &ScriptedServer, from: usize) -> Vec<String> {
    server.requests()[from..]
        .iter()
        .map(|r| prompt(&r.body))
        .collect()
}

const NOTES: &str = "the storm,the wreck,the lighthouse";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_identical_run_asks_nothing_and_costs_nothing() {
    let server = server();
    let dir = tmpdir("reuse");
    let flow = dir.join("notes.json");
    std::fs::write(&flow, notes_flow().to_string()).unwrap();
    let store = dir.join("s.db");
    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "100000"]));

    let first = run(&server, &store, &flow, NOTES, &["--reuse"]);
    let first_book = std::fs::read_to_string(dir.join("out/tide.md")).unwrap();
    let asked = server.request_count();
    assert_eq!(asked, 4, "three chapters and a blurb");
    assert!(first.cost > 0);

    // The same run again: every reply served from the first, for nothing.
    let second = run(&server, &store, &flow, NOTES, &["--reuse"]);
    assert_eq!(server.request_count(), asked, "no request the second time");
    assert_eq!(second.cost, 0);
    let reused: Vec<&Value> = second
        .events
        .iter()
        .filter(|e| e["type"] == "call_reused")
        .collect();
    assert_eq!(reused.len(), 4, "{:?}", second.events);
    assert!(reused
        .iter()
        .all(|e| e["from_execution"] == first.id.as_str()));
    let rep = status(&store, &second.id, "local");
    assert_eq!(rep["reused_calls"], 4, "{rep}");
    assert_eq!(rep["requests"], 0);
    assert_eq!(rep["cost"], 0);
    assert_eq!(rep["usage"], json!({"input_tokens": 0, "output_tokens": 0}));
    let finished = second
        .events
        .iter()
        .find(|e| e["type"] == "run_finished")
        .unwrap();
    assert_eq!(
        finished["usage"],
        json!({"input_tokens": 0, "output_tokens": 0}),
        "{finished}"
    );
    assert_eq!(rep["reused_usage"]["input_tokens"], 3 * 60 + 300);
    // The same book, word for word.
    assert_eq!(
        std::fs::read_to_string(dir.join("out/tide.md")).unwrap(),
        first_book
    );
    let st = run_ok(cmd(None, &store).args(["cache", "stats", "--json"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(
        st["stats"]["replies"], 4,
        "the second run paid for nothing new: {st}"
    );
    assert_eq!(st["stats"]["executions"], 1, "{st}");
    assert_eq!(st["stats"]["reused"], 4, "{st}");
    assert_eq!(st["stats"]["cost"], first.cost, "{st}");
    // The ledger names the run that paid, and the wallet did not move.
    let shown = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["wallet"]["total_spent"].as_i64().unwrap(), first.cost);
    let notes: Vec<&Value> = shown["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reuse")
        .collect();
    assert_eq!(notes.len(), 4, "{shown}");
    for n in &notes {
        assert_eq!(n["execution_id"], second.id.as_str());
        assert_eq!(n["amount"], 0);
        assert!(
            n["note"].as_str().unwrap().contains(&first.id),
            "names the execution that paid: {n}"
        );
    }

    // Without --reuse the provider is asked again: reuse is opt-in.
    run(&server, &store, &flow, NOTES, &[]);
    assert_eq!(server.request_count(), asked + 4);

    // A regenerate wants a new reply, even one identical request.
    let before = server.request_count();
    let mut c = cmd(Some(&server), &store);
    c.args(["regenerate", &second.id, "blurb", "--json"]);
    run_ok(&mut c);
    assert_eq!(
        prompts_since(&server, before)
            .iter()
            .filter(|p| p.starts_with("BLURB"))
            .count(),
        1,
        "the regenerated blurb is asked of the provider"
    );

    // Another user never gets Alice's replies.
    let before = server.request_count();
    let bob = run(&server, &store, &flow, NOTES, &["--reuse", "--user", "bob"]);
    assert_eq!(server.request_count(), before + 4);
    assert_eq!(status(&store, &bob.id, "bob")["reused_calls"], 0);

    // cache stats, then clear: the next --reuse run asks again.
    let st = run_ok(cmd(None, &store).args(["cache", "stats", "--json"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    // Three runs paid (first, without --reuse, the regenerated blurb's attempt).
    assert_eq!(st["stats"]["executions"], 3, "{st}");
    let text = run_ok(cmd(None, &store).args(["cache", "stats"]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("reusable    9 replies from 3 runs"), "{text}");
    let cleared = run_ok(cmd(None, &store).args(["cache", "clear"]));
    assert!(String::from_utf8_lossy(&cleared.stdout).contains("forgot"));
    let st = run_ok(cmd(None, &store).args(["cache", "stats", "--json"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["stats"]["replies"], 0, "{st}");
    let before = server.request_count();
    run(&server, &store, &flow, NOTES, &["--reuse"]);
    assert_eq!(
        server.request_count(),
        before + 4,
        "asked again after clear"
    );
    // Bob's cache is his own: still there.
    let st = run_ok(cmd(None, &store).args(["cache", "stats", "--json", "--user", "bob"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["stats"]["replies"], 4, "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_one_chapter_note_re_asks_only_that_chapter_and_what_depends_on_it() {
    let server = server();
    let dir = tmpdir("reuse-edit");
    let flow = dir.join("notes.json");
    std::fs::write(&flow, notes_flow().to_string()).unwrap();
    let store = dir.join("s.db");
    run(&server, &store, &flow, NOTES, &["--reuse"]);
    let before = server.request_count();
    let edited = run(
        &server,
        &store,
        &flow,
        "the storm,the wreck at dawn,the lighthouse",
        &["--reuse"],
    );
    let asked = prompts_since(&server, before);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked
        .iter()
        .any(|p| p.starts_with("WRITE chapter 2") && p.contains("the wreck at dawn")));
    assert!(asked.iter().any(|p| p.starts_with("BLURB")));
    let rep = status(&store, &edited.id, "local");
    assert_eq!(rep["reused_calls"], 2, "chapters 1 and 3: {rep}");
    assert_eq!(rep["requests"], 2);
    let text = run_ok(cmd(None, &store).args(["status", &edited.id]));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("reused    2 replies served from earlier runs"),
        "{text}"
    );
}
