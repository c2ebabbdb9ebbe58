#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use lekhika_providers::testkit::ScriptedServer;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_writes_all_five_formats_and_every_json_line_parses() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("run");
    let store = dir.join("store.db");
    let out_dir = dir.join("book");
    let out = tokio::task::spawn_blocking({
        let (store, out_dir) = (store.clone(), out_dir.clone());
        let mut c = run_book(&server, &store, "The Quiet Harbour", 4, None, &out_dir);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&out.stdout);
    let id = lines[0]["execution_id"].as_str().unwrap().to_string();
    assert!(
        lines.iter().all(|l| l["execution_id"] == id.as_str()),
        "every line carries the execution id"
    );
    assert_eq!(lines[0]["type"], "run_started");
    let result = lines.last().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["status"], "completed");
    let finished = lines
        .iter()
        .filter(|l| l["type"] == "node_finished" && l["item"].is_u64())
        .count();
    assert_eq!(finished, 4);
    for ext in ["pdf", "epub", "docx", "html", "md"] {
        let p = out_dir.join(format!("the-quiet-harbour.{ext}"));
        let meta = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(meta.len() > 200, "{} is too small", p.display());
    }
    let md = std::fs::read_to_string(out_dir.join("the-quiet-harbour.md")).unwrap();
    assert!(md.contains("The Turn 3"));
    assert!(
        !md.contains("Sure, here is the chapter"),
        "the formatter strips preambles"
    );
    assert!(std::fs::read(out_dir.join("the-quiet-harbour.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    // 1 outline + 4 chapters
    assert_eq!(server.request_count(), 5);

    // status reads the same store
    let st = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let report: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(report["status"], "completed");
    assert_eq!(report["nodes_done"], 4);
    assert_eq!(report["usage"]["input_tokens"], 120 + 4 * 80);
    let human = run_ok(cmd(None, &store).args(["status", &id]));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("completed") && text.contains("write[4]") && text.contains("openai"),
        "{text}"
    );
}

#[test]
fn a_flow_with_an_edge_to_a_missing_node_exits_2_naming_it() {
    let dir = tmpdir("bad");
    for args in [vec!["validate"], vec!["run", "--input", "title=x"]] {
        let sub = args[0];
        let out = cmd(None, &dir.join("s.db"))
            .args(&args)
            .arg(fixture("bad-edge.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("edge `e-ghost`") && err.contains("ghost-node"),
            "{sub}: {err}"
        );
    }
}

#[test]
fn without_a_provider_it_says_exactly_what_to_set() {
    let dir = tmpdir("noprov");
    let out = cmd(None, &dir.join("s.db"))
        .args([
            "run",
            fixture("book.json").to_str().unwrap(),
            "--input",
            "title=x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("OPENAI_API_KEY"), "{err}");
}

#[test]
fn dry_run_estimates_without_calling_a_model() {
    let dir = tmpdir("dry");
    let out = run_ok(cmd(None, &dir.join("s.db")).args([
        "run",
        fixture("book.json").to_str().unwrap(),
        "--input",
        "title=x",
        "--input",
        "chapters=10",
        "--dry-run",
        "--json",
    ]));
    let est: Value = serde_json::from_slice(&out.stdout).unwrap();
    let write = est["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "write")
        .unwrap();
    assert!(write["expected"]["calls"].as_u64().unwrap() >= 10);
    assert!(
        write["worst"]["calls"].as_u64().unwrap() >= write["expected"]["calls"].as_u64().unwrap()
    );
    let (expected, worst) = (
        est["expected"]["cost"].as_i64().unwrap(),
        est["worst"]["cost"].as_i64().unwrap(),
    );
    assert!(expected > 0, "the built-in catalog prices gpt-4.1: {est}");
    assert!(worst >= expected, "{est}");
}

#[test]
fn models_can_be_chosen_per_node() {
    let dir = tmpdir("node-models");
    let out = run_ok(cmd(None, &dir.join("s.db")).args([
        "run",
        fixture("book.json").to_str().unwrap(),
        "--input",
        "title=x",
        "--input",
        "chapters=3",
        "--node-model",
        "write=gpt-5-nano",
        "--node-provider",
        "outline=anthropic",
        "--dry-run",
        "--json",
    ]));
    let est: Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = |id: &str| {
        est["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(node("write")["model"], "gpt-5-nano", "{est}");
    assert_eq!(node("write")["provider"], "openai", "{est}");
    let outline = node("outline");
    assert_eq!(outline["provider"], "anthropic", "{est}");
    assert!(
        outline["model"].as_str().unwrap().starts_with("claude"),
        "the catalog's default Anthropic model: {est}"
    );
    for (args, needle) in [
        (
            vec!["--node-model", "write"],
            "--node-model takes NODE=VALUE",
        ),
        (vec!["--node-model", "ghost=gpt-5"], "node `ghost`"),
    ] {
        let o = cmd(None, &dir.join("s.db"))
            .args([
                "run",
                fixture("book.json").to_str().unwrap(),
                "--input",
                "title=x",
            ])
            .args(args)
            .arg("--dry-run")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn help_of_every_subcommand_reads_well() {
    let top = std::process::Command::new(bin())
        .arg("--help")
        .output()
        .unwrap();
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout);
    let subs = [
        "run",
        "resume",
        "stop",
        "status",
        "regenerate",
        "approve",
        "reject",
        "validate",
        "estimate",
        "export",
        "wallet",
        "submit",
        "worker",
    ];
    for s in subs {
        assert!(text.contains(s), "top-level help lists {s}");
        let h = std::process::Command::new(bin())
            .args([s, "--help"])
            .output()
            .unwrap();
        assert!(h.status.success(), "{s} --help");
        let t = String::from_utf8_lossy(&h.stdout);
        assert!(t.contains("Usage: lekhika"), "{s}: {t}");
        assert!(
            t.lines().next().is_some_and(|l| l.len() > 10),
            "{s} has a one-line description: {t}"
        );
    }
    for s in [["wallet", "show"], ["wallet", "grant"]] {
        let h = std::process::Command::new(bin())
            .args(s)
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            h.status.success(),
            "{s:?} --help: {}",
            String::from_utf8_lossy(&h.stderr)
        );
    }
    let v = std::process::Command::new(bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("lekhika "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_run_then_resume_finishes_without_asking_again() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::from_millis(300)));
    let dir = tmpdir("kill");
    let store = dir.join("store.db");
    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "1000000"]));
    let out_dir = dir.join("book");
    let mut c = run_book(&server, &store, "Kill Test", 8, Some("md,html"), &out_dir);
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let (id, finished_before) = tokio::task::spawn_blocking(move || {
        let mut child = c.spawn().unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        let mut id = String::new();
        let mut finished = Vec::new();
        for line in reader.lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            id = v["execution_id"].as_str().unwrap_or_default().to_string();
            if v["type"] == "node_finished" && v["item"].is_u64() {
                finished.push(v["item"].as_u64().unwrap());
                if finished.len() == 3 {
                    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
                    break;
                }
            }
        }
        let _ = child.wait();
        (id, finished)
    })
    .await
    .unwrap();
    assert_eq!(finished_before.len(), 3);
    let before: Vec<String> = server.requests().iter().map(|r| prompt(&r.body)).collect();

    let out = tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &store);
        c.args(["resume", &id, "--json"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    assert!(lines
        .iter()
        .all(|l| l["type"] != "node_started" || l["node"] != "outline"));
    // Files go where the first run asked, in the formats it asked for.
    assert!(out_dir.join("kill-test.md").exists() && out_dir.join("kill-test.html").exists());
    assert!(!out_dir.join("kill-test.pdf").exists());

    let mut asked: HashMap<String, usize> = HashMap::new();
    for r in server.requests() {
        *asked.entry(prompt(&r.body)).or_insert(0) += 1;
    }
    assert_eq!(asked.len(), 9, "one outline and 8 chapters");
    for i in finished_before {
        let p = before
            .iter()
            .find(|p| p.starts_with(&format!("WRITE chapter {} ", i + 1)))
            .unwrap();
        assert_eq!(asked[p], 1, "finished chapter {} was asked again", i + 1);
    }
    assert_eq!(
        asked
            .iter()
            .find(|(p, _)| p.starts_with("OUTLINE"))
            .unwrap()
            .1,
        &1
    );

    // The ledger survived the kill: nothing left reserved, totals add up,
    // and exactly the finished work was charged.
    let show = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let w: Value = serde_json::from_slice(&show.stdout).unwrap();
    let w = &w["wallet"];
    assert_eq!(w["reserved"], 0);
    assert_eq!(
        w["total_earned"].as_i64().unwrap() - w["total_spent"].as_i64().unwrap(),
        w["balance"].as_i64().unwrap()
    );
    let st = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let report: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(
        report["cost"], w["total_spent"],
        "charged exactly the checkpointed work"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_tokens_exits_4_and_resumes_after_a_grant() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("tokens");
    let store = dir.join("store.db");
    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "25"]));
    let out = tokio::task::spawn_blocking({
        let mut c = run_book(&server, &store, "Tokens", 6, Some("md"), &dir.join("book"));
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    let result = lines.last().unwrap();
    assert_eq!(result["reason"], "insufficient_tokens");
    let id = result["execution_id"].as_str().unwrap().to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lekhika wallet grant local"), "{err}");

    let show = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let w: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(w["wallet"]["balance"].as_i64().unwrap() >= 0);
    let asked_before = server.request_count();

    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "100000"]));
    let out = tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &store);
        c.args(["resume", &id, "--json"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    assert_eq!(
        json_lines(&out.stdout).last().unwrap()["status"],
        "completed"
    );
    assert_eq!(
        server.request_count(),
        7,
        "outline + 6 chapters, none twice (before: {asked_before})"
    );
    let show = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let w: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(w["wallet"]["reserved"], 0);
    assert_eq!(
        w["wallet"]["total_earned"].as_i64().unwrap()
            - w["wallet"]["total_spent"].as_i64().unwrap(),
        w["wallet"]["balance"].as_i64().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_from_a_second_process_exits_130_and_resume_completes() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::from_millis(400)));
    let dir = tmpdir("stop");
    let store = dir.join("store.db");
    let mut c = run_book(&server, &store, "Stop", 6, Some("md"), &dir.join("book"));
    c.stdout(Stdio::piped()).stderr(Stdio::null());
    let store2 = store.clone();
    let (id, code) = tokio::task::spawn_blocking(move || {
        let mut child = c.spawn().unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        let mut id = String::new();
        let mut asked = false;
        for line in reader.lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            id = v["execution_id"].as_str().unwrap_or_default().to_string();
            if !asked && v["type"] == "node_finished" && v["item"].is_u64() {
                asked = true;
                run_ok(cmd(None, &store2).args(["stop", &id]));
            }
        }
        (id, child.wait().unwrap().code())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130));
    let st = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let report: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(report["status"], "stopped");
    let out = tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &store);
        c.args(["resume", &id, "--json"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    assert_eq!(
        json_lines(&out.stdout).last().unwrap()["status"],
        "completed"
    );
}

#[test]
fn export_of_a_manuscript_file_writes_every_format_without_a_store() {
    let dir = tmpdir("manuscript");
    let md = dir.join("book.md");
    std::fs::write(
        &md,
        "---\ntitle: The Quiet Harbour\nauthor: A. Writer\nlang: Japanese\n---\n\n# 第1章　港\n\n夜は深かった。\n\n# 第2章　朝\n\n朝が来た。\n",
    )
    .unwrap();
    let out_dir = dir.join("book");
    let out = run_ok(
        cmd(None, &dir.join("unused.db"))
            .args([
                "export",
                md.to_str().unwrap(),
                "--formats",
                "pdf,epub,docx,html,md",
                "--out",
            ])
            .arg(&out_dir),
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    for ext in ["pdf", "epub", "docx", "html", "md"] {
        let p = out_dir.join(format!("the-quiet-harbour.{ext}"));
        assert!(printed.contains(p.to_str().unwrap()), "{printed}");
        assert!(
            std::fs::metadata(&p).unwrap().len() > 200,
            "{}",
            p.display()
        );
    }
    let html = std::fs::read_to_string(out_dir.join("the-quiet-harbour.html")).unwrap();
    assert!(
        html.contains("<html lang=\"ja\">") && html.contains("第2章"),
        "{html}"
    );
    assert!(
        !dir.join("unused.db").exists(),
        "a manuscript export opens no store"
    );
    // A manuscript that is not one exits 2 and names the problem.
    let bad = dir.join("bad.md");
    std::fs::write(&bad, "no title here").unwrap();
    let o = cmd(None, &dir.join("unused.db"))
        .args(["export", bad.to_str().unwrap(), "--formats", "md"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no title"));
}
