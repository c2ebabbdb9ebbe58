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
