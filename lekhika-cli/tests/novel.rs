#![allow(clippy::unwrap_used)]

//! The example novel flow, driven through the real binary against a
//! scripted loopback model that plays every role of the flow.

mod common;
#[path = "../../lekhika/tests/craft_common/mod.rs"]
mod craft_common;

use std::path::Path;

use common::*;
use craft_common::Script;
use lekhika_providers::testkit::ScriptedServer;
use serde_json::Value;

fn novel() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flows/novel.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_novel_flow_with_12_chapters_writes_all_five_formats() {
    let script = Script::default();
    let server = ScriptedServer::openai(move |b| script.reply(b));
    let dir = tmpdir("novel");
    let store = dir.join("store.db");
    let out_dir = dir.join("book");
    let out = tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &store);
        c.arg("run")
            .arg(novel())
            .args([
                "--input",
                "title=The Map of Salt",
                "--input",
                "chapters=12",
                "--input",
                "chapter_words=300",
            ])
            .args([
                "--input",
                "genre=literary adventure",
                "--input",
                "premise=A cartographer crosses a continent.",
            ])
            .args(["--input", "review_outline=false"])
            .args(["--json", "--out"])
            .arg(&out_dir);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&out.stdout);
    let result = lines.last().unwrap();
    assert_eq!(result["status"], "completed", "{result}");
    let written: Vec<&str> = result["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(written.len(), 5, "{written:?}");
    for ext in ["pdf", "epub", "docx", "html", "md"] {
        let p = out_dir.join(format!("the-map-of-salt.{ext}"));
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 500)
                .unwrap_or(false),
            "{}",
            p.display()
        );
    }
    let md = std::fs::read_to_string(out_dir.join("the-map-of-salt.md")).unwrap();
    let chapters = md.lines().filter(|l| l.starts_with("# Chapter ")).count();
    assert_eq!(chapters, 12, "12 chapters in the book");
    let id = result["execution_id"].as_str().unwrap();
    let st = run_ok(cmd(None, &store).args(["status", id, "--json"]));
    let report: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(report["status"], "completed");
    assert!(report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["metrics"]["length_score"].is_number()));
}

/// SIGKILL while the continuity pass is checking chapter joins (one at a
/// time here): the resumed run finds the checks journaled before the kill
/// and does not ask for them again; the wallet charges each kept call once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_the_continuity_pass_keeps_the_checks_it_finished() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use craft_common::system_of;

    let script = Script {
        plant_contradiction: true,
        ..Script::default()
    };
    let server = ScriptedServer::openai(move |b| {
        let r = script.reply(b);
        if system_of(b).contains("continuity editor") {
            r.delay(Duration::from_millis(150))
        } else {
            r
        }
    });
    let dir = tmpdir("novel-kill");
    let store = dir.join("store.db");
    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "100000000"]));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(novel()).unwrap()).unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        if n["id"] == "continuity" {
            n["data"]["concurrency"] = 1.into();
        }
    }
    let flow = dir.join("novel.json");
    std::fs::write(&flow, doc.to_string()).unwrap();

    let mut c = cmd(Some(&server), &store);
    c.arg("run").arg(&flow);
    for kv in [
        "title=Salt Roads",
        "chapters=6",
        "chapter_words=300",
        "genre=literary adventure",
        "premise=A cartographer crosses a continent.",
        "review_outline=false",
    ] {
        c.args(["--input", kv]);
    }
    let out_dir = dir.join("book");
    c.args(["--json", "--formats", "md", "--out"])
        .arg(&out_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(id) = v["execution_id"].as_str() {
                let _ = tx.send(id.to_string());
            }
        }
    });
    let id = rx.recv_timeout(Duration::from_secs(60)).unwrap();

    let db = lekhika_store::SqliteStore::open(&store).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while continuity_steps(&db, &id).await < 3 {
        assert!(
            Instant::now() < deadline,
            "the continuity pass never started"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let saved = continuity_steps(&db, &id).await;
    assert!(
        (3..5).contains(&saved),
        "{saved} checks saved before the kill"
    );

    let out = tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &store);
        c.args(["resume", &id, "--json"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    // The book is written where the first run asked, with the contradiction fixed.
    let md = std::fs::read_to_string(out_dir.join("salt-roads.md")).unwrap();
    assert_eq!(
        md.lines().filter(|l| l.starts_with("# Chapter ")).count(),
        6
    );
    assert!(
        !md.contains("Mara is in Rome."),
        "chapter 5 was not rewritten"
    );

    // Checks in the order asked (one at a time): the saved ones once each.
    let checks: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| system_of(&r.body).contains("continuity editor"))
        .map(|r| prompt(&r.body))
        .collect();
    for (i, p) in checks.iter().take(saved).enumerate() {
        let n = checks.iter().filter(|q| *q == p).count();
        assert_eq!(n, 1, "check {} was saved and asked again", i + 1);
    }
    // 5 joins, the 2 around the rewritten chapter 5, and at most the one
    // check the kill interrupted.
    assert!(
        (7..=8).contains(&checks.len()),
        "{} continuity checks",
        checks.len()
    );

    let show = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let w: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(w["wallet"]["reserved"], 0);
    let st = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let report: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(report["cost"], w["wallet"]["total_spent"]);
    assert!(report["cost"].as_i64().unwrap() > 0);
}

/// How many calls of the `continuity` node the call journal holds.
async fn continuity_steps(db: &lekhika_store::SqliteStore, id: &str) -> usize {
    use lekhika_core::store::ExecutionStore;
    db.calls("local", id)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.node == "continuity")
        .count()
}
