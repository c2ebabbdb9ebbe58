#![allow(clippy::unwrap_used)]

//! The command line as people expect it: strict inputs, forgiving flows,
//! quiet logs, follow-up commands that work, exit codes that say what to do.

mod common;

use std::time::Duration;

use common::*;
use lekhika_providers::testkit::{Reply, ScriptedServer};
use serde_json::{json, Value};

fn book(server: &ScriptedServer, store: &std::path::Path, inputs: &[&str]) -> std::process::Output {
    let mut c = cmd(Some(server), store);
    c.args(["run", fixture("book.json").to_str().unwrap()]);
    for i in inputs {
        c.args(["--input", i]);
    }
    c.arg("--out").arg(store.parent().unwrap().join("out"));
    c.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_strict_and_name_what_was_meant() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("strict-inputs");
    let store = dir.join("s.db");
    for (inputs, says) in [
        (
            vec!["title=T", "chapter=3"],
            "unknown input `chapter`: did you mean `chapters`? this flow's inputs are `title`, `chapters`, `genre`",
        ),
        (vec!["title="], "input `title` is required and cannot be empty"),
        (vec!["title=   "], "input `title` is required and cannot be empty"),
        (vec!["title=T", "chapters=-1"], "input `chapters` must be at least 1, got -1"),
        (vec!["title=T", "chapters=5000"], "input `chapters` must be at most 100, got 5000"),
        (vec!["title=T", "chapters=three"], "input `chapters` must be integer"),
    ] {
        let out = book(&server, &store, &inputs);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{inputs:?}: {err}");
        assert!(err.contains(says), "{inputs:?}: {err}");
    }
    assert_eq!(
        server.request_count(),
        0,
        "nothing was asked for a bad brief"
    );
    // The same checks hold for `estimate` and `submit`.
    let out = cmd(None, &store)
        .args(["estimate", fixture("book.json").to_str().unwrap()])
        .args(["--input", "title=T", "--input", "chapter=3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cmd(None, &store)
        .args(["submit", fixture("book.json").to_str().unwrap()])
        .args(["--input", "titel=T"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `title`?"));
}

/// The book fixture with what editors and hosts add to `data`, and one typo.
fn decorated_book() -> Value {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("book.json")).unwrap()).unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        let data = n["data"].as_object_mut().unwrap();
        data.insert("description".into(), json!("what this step does"));
        data.insert("icon".into(), json!("✍"));
        data.insert("color".into(), json!("#aa3300"));
        data.insert("width".into(), json!(240));
        data.insert("handles".into(), json!({"source": ["out"]}));
        data.insert("myHostTag".into(), json!({"owner": "ops"}));
    }
    doc["nodes"][1]["data"]["temprature"] = json!(0.3);
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_keep_their_editors_keys_and_validate_warns_about_the_rest() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("forgiving");
    let flow = dir.join("decorated.json");
    std::fs::write(&flow, decorated_book().to_string()).unwrap();
    let store = dir.join("s.db");
    let out = run_ok(cmd(None, &store).args(["validate", flow.to_str().unwrap()]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "warning: node `outline`: `temprature` is not a setting of a `text` node; ignored"
        ),
        "{err}"
    );
    assert!(err.contains("`myHostTag` is not a setting"), "{err}");
    for quiet in ["description", "icon", "color", "width", "handles"] {
        assert!(
            !err.contains(&format!("`{quiet}`")),
            "{quiet} is an editor's key: {err}"
        );
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid flow with 4 nodes"));
    // And the flow runs.
    let mut c = cmd(Some(&server), &store);
    c.args([
        "run",
        flow.to_str().unwrap(),
        "--input",
        "title=Decorated",
        "--input",
        "chapters=2",
    ])
    .args(["--formats", "md", "--out"])
    .arg(dir.join("out"));
    run_ok(&mut c);
    assert_eq!(server.request_count(), 3);
}

/// A chain of `n` template nodes (no model).
fn chain(n: usize) -> Value {
    let nodes: Vec<Value> = (1..=n)
        .map(|i| json!({"id": format!("n{i}"), "type": "template", "data": {"template": "step"}}))
        .collect();
    let edges: Vec<Value> = (2..=n)
        .map(|i| json!({"id": format!("e{i}"), "source": format!("n{}", i - 1), "target": format!("n{i}")}))
        .collect();
    json!({"nodes": nodes, "edges": edges})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_logged_to_a_file_prints_stages_not_a_line_per_node() {
    let dir = tmpdir("quiet-log");
    let flow = dir.join("chain.json");
    std::fs::write(&flow, chain(3000).to_string()).unwrap();
    let out = run_ok(cmd(None, &dir.join("s.db")).args(["run", flow.to_str().unwrap()]));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines = err.lines().count();
    assert!(lines < 20, "{lines} lines for 3,000 steps:\n{err}");
    assert!(
        err.contains("running execution") && err.contains("finished:"),
        "{err}"
    );
    // A small model flow still shows every step.
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let out = book(&server, &dir.join("s.db"), &["title=Logged", "chapters=3"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("outline") && err.contains("done in"), "{err}");
    assert!(err.contains("write") && err.contains("3/3 items"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_commands_carry_user_and_store_and_exit_codes_say_what_to_do() {
    let dir = tmpdir("hints");
    let store = dir.join("elsewhere.db");
    // A provider that always fails: resumable (3), and the hint works as printed.
    let down = ScriptedServer::openai(|_| {
        Reply::error(500, r#"{"error":{"message":"down","type":"server_error"}}"#)
    });
    let mut c = cmd(Some(&down), &dir.join("unused.db"));
    c.env_remove("LEKHIKA_STORE")
        .args([
            "run",
            fixture("book.json").to_str().unwrap(),
            "--input",
            "title=Hints",
        ])
        .args(["--user", "bob", "--store", store.to_str().unwrap()]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    let hint = err
        .lines()
        .find_map(|l| l.split("resume with `").nth(1))
        .and_then(|l| l.strip_suffix('`'))
        .unwrap_or_else(|| panic!("no resume hint: {err}"))
        .to_string();
    assert!(
        hint.contains("--user bob") && hint.contains(store.to_str().unwrap()),
        "{hint}"
    );
    // Copying it reaches the same run (which fails again the same way).
    let words: Vec<&str> = hint.split_whitespace().skip(1).collect();
    let mut again = cmd(Some(&down), &dir.join("unused.db"));
    again.env_remove("LEKHIKA_STORE").args(&words);
    let out = again.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Output that stays invalid: a failed step (7), not an I/O error.
    let babbler = ScriptedServer::openai(|_| Reply::text("I cannot produce JSON today."));
    let out = book(&babbler, &dir.join("b.db"), &["title=Babble"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains("step `outline` failed") && err.contains("lekhika regenerate"),
        "{err}"
    );

    // Content the provider blocks: resuming would repeat it (8).
    let censor = ScriptedServer::openai(|_| {
        Reply::error(
            400,
            r#"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}"#,
        )
    });
    let out = book(&censor, &dir.join("c.db"), &["title=Blocked"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(
        err.contains("resuming would ask the same again")
            && err.contains("--node-provider outline=NAME"),
        "{err}"
    );
    assert_eq!(censor.request_count(), 1, "a block is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_and_docs_agree_on_exit_codes() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md"),
    )
    .unwrap();
    for (code, words) in [
        (1, "other failure"),
        (2, "bad input"),
        (3, "provider failure"),
        (4, "out of tokens"),
        (5, "awaiting approval"),
        (6, "busy"),
        (7, "a step failed"),
        (8, "content blocked"),
        (130, "stopped"),
    ] {
        assert!(
            docs.lines()
                .any(|l| l.starts_with(&format!("| {code} |")) && l.contains(words)),
            "docs/cli.md lacks exit code {code} ({words})"
        );
    }
    let help = run_ok(std::process::Command::new(bin()).arg("--help"));
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["7", "8"] {
        assert!(
            help.contains(&format!("{code} ")),
            "--help lists exit codes: {help}"
        );
    }
}

#[test]
fn every_command_in_help_is_in_the_docs() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md"),
    )
    .unwrap();
    let help = run_ok(std::process::Command::new(bin()).arg("--help"));
    let help = String::from_utf8_lossy(&help.stdout);
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 16, "{commands:?}");
    for c in commands {
        assert!(
            docs.contains(&format!("lekhika {c}")),
            "docs/cli.md does not show `lekhika {c}`"
        );
    }
}
