#![allow(clippy::unwrap_used)]

//! Many workers sharing one store: the queue, leases, takeover after SIGKILL.

mod common;
#[path = "../../lekhika-store/tests/pg_common/mod.rs"]
mod pg_common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use lekhika_providers::testkit::ScriptedServer;
use serde_json::Value;

fn submit(server: &ScriptedServer, store: &str, user: &str, title: &str, chapters: u32) -> String {
    let dir = tmpdir("submit");
    let out = run_ok(
        cmd(Some(server), &dir.join("unused.db"))
            .env("LEKHIKA_STORE", store)
            .args([
                "submit",
                fixture("book.json").to_str().unwrap(),
                "--user",
                user,
                "--json",
            ])
            .args([
                "--input",
                &format!("title={title}"),
                "--input",
                &format!("chapters={chapters}"),
            ]),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "pending");
    v["execution_id"].as_str().unwrap().to_string()
}

fn status(store: &str, user: &str, id: &str) -> Value {
    let dir = tmpdir("status");
    let out = run_ok(
        cmd(None, &dir.join("unused.db"))
            .env("LEKHIKA_STORE", store)
            .args(["status", id, "--json", "--user", user]),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_drains_the_sqlite_queue() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("sqlite-queue");
    let store = dir.join("q.db").to_string_lossy().into_owned();
    let a = submit(&server, &store, "alice", "Queue A", 2);
    let b = submit(&server, &store, "bob", "Queue B", 3);
    tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &dir.join("unused.db"));
        c.env("LEKHIKA_STORE", &store)
            .args(["worker", "--max-runs", "2", "--max-concurrent", "2"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    assert_eq!(status(&store, "alice", &a)["status"], "completed");
    assert_eq!(status(&store, "bob", &b)["status"], "completed");
    assert_eq!(server.request_count(), 2 + 3 + 2);
    // Tenants stay apart: bob cannot see alice's run.
    let out = cmd(None, &dir.join("unused.db"))
        .env("LEKHIKA_STORE", &store)
        .args(["status", &a, "--user", "bob"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_postgres_one_killed_the_other_takes_over() {
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::from_millis(400)));
    let store = db.app_url.clone();
    let id = submit(&server, &store, "alice", "Two Workers", 6);

    let dir = tmpdir("pg-workers");
    let mut w1 = cmd(Some(&server), &dir.join("unused.db"));
    w1.env("LEKHIKA_STORE", &store)
        .args(["worker", "--lease", "2", "--json", "--max-concurrent", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let finished_before = tokio::task::spawn_blocking(move || {
        let mut child = w1.spawn().unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        let mut finished = Vec::new();
        for line in reader.lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if v["type"] == "node_finished" && v["item"].is_u64() {
                finished.push(v["item"].as_u64().unwrap());
                if finished.len() == 2 {
                    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
                    break;
                }
            }
        }
        let _ = child.wait();
        finished
    })
    .await
    .unwrap();
    assert_eq!(finished_before.len(), 2);
    let before: Vec<String> = server.requests().iter().map(|r| prompt(&r.body)).collect();
    assert_eq!(
        status(&store, "alice", &id)["status"],
        "running",
        "the dead worker's run is still leased"
    );

    let started = std::time::Instant::now();
    tokio::task::spawn_blocking({
        let mut c = cmd(Some(&server), &dir.join("unused.db"));
        c.env("LEKHIKA_STORE", &store)
            .args(["worker", "--lease", "2", "--max-runs", "1"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "taken over soon after the lease ran out"
    );
    let report = status(&store, "alice", &id);
    assert_eq!(report["status"], "completed");
    assert_eq!(report["nodes_done"], 4);

    let mut asked: HashMap<String, usize> = HashMap::new();
    for r in server.requests() {
        *asked.entry(prompt(&r.body)).or_insert(0) += 1;
    }
    assert_eq!(asked.len(), 7, "outline + 6 chapters");
    for i in finished_before {
        let p = before
            .iter()
            .find(|p| p.starts_with(&format!("WRITE chapter {} ", i + 1)))
            .unwrap();
        assert_eq!(
            asked[p],
            1,
            "chapter {} finished before the kill and was asked again",
            i + 1
        );
    }
    // Only what was in flight at the kill (at most the map's 2) was asked twice.
    let twice = asked.values().filter(|&&n| n > 1).count();
    assert!(twice <= 2 && asked.values().all(|&n| n <= 2), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_request_reaches_the_worker_holding_the_run() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::from_millis(500)));
    let dir = tmpdir("sqlite-stop");
    let store = dir.join("q.db").to_string_lossy().into_owned();
    let id = submit(&server, &store, "alice", "Stop Me", 8);
    let mut w = cmd(Some(&server), &dir.join("unused.db"));
    w.env("LEKHIKA_STORE", &store)
        .args(["worker", "--max-runs", "1", "--json", "--lease", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let (store2, id2) = (store.clone(), id.clone());
    let code = tokio::task::spawn_blocking(move || {
        let mut child = w.spawn().unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        let mut asked = false;
        for line in reader.lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            if !asked && v["type"] == "node_finished" && v["item"].is_u64() {
                asked = true;
                run_ok(
                    cmd(None, &tmpdir("stopper").join("unused.db"))
                        .env("LEKHIKA_STORE", &store2)
                        .args(["stop", &id2, "--user", "alice"]),
                );
            }
        }
        child.wait().unwrap().code()
    })
    .await
    .unwrap();
    assert_eq!(
        code,
        Some(0),
        "the worker finishes its one run (stopped) and exits"
    );
    let report = status(&store, "alice", &id);
    assert_eq!(report["status"], "stopped");
    assert!(report["nodes_done"].as_u64().unwrap() < 4);
    assert!(
        server.request_count() < 9,
        "the remaining chapters were never asked for"
    );
}

/// The most requests that arrived within any `window`.
fn busiest(times: &[std::time::Instant], window: Duration) -> usize {
    let mut t = times.to_vec();
    t.sort();
    (0..t.len())
        .map(|i| t[i..].iter().take_while(|x| **x - t[i] < window).count())
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_store_share_a_providers_rate_limit() {
    // 120 requests a minute: a bucket of 2, refilled at 2 a second. Two
    // processes with their own buckets would send 4 at once, then 2 more
    // within half a second; sharing the store's bucket, no second holds
    // more than 2 + 2.
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("shared-rpm");
    let providers = dir.join("providers.json");
    std::fs::write(
        &providers,
        serde_json::json!([{
            "name": "openai", "kind": "openai", "api_key": "sk-test",
            "base_url": server.url(), "requests_per_minute": 120
        }])
        .to_string(),
    )
    .unwrap();
    let store = dir.join("shared.db");
    let mut handles = Vec::new();
    for title in ["Paced One", "Paced Two"] {
        let mut c = cmd(None, &store);
        c.args(["run", fixture("book.json").to_str().unwrap(), "--json"])
            .args(["--providers", providers.to_str().unwrap()])
            .args([
                "--input",
                &format!("title={title}"),
                "--input",
                "chapters=3",
            ])
            .arg("--out")
            .arg(dir.join(title));
        handles.push(tokio::task::spawn_blocking(move || run_ok(&mut c)));
    }
    for h in handles {
        h.await.unwrap();
    }
    let times: Vec<_> = server.requests().iter().map(|r| r.received_at).collect();
    assert_eq!(times.len(), 2 * (1 + 3));
    let most = busiest(&times, Duration::from_millis(950));
    assert!(
        most <= 4,
        "{most} requests within one second: the limit was not shared"
    );
    let mut sorted = times.clone();
    sorted.sort();
    let span = *sorted.last().unwrap() - sorted[0];
    assert!(
        span >= Duration::from_millis(2700),
        "8 requests at 2 a second after a burst of 2 take 3 s, took {span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_takes_run_options_and_list_shows_runs_and_books() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::ZERO));
    let dir = tmpdir("submit-options");
    let store = dir.join("q.db");
    let out = dir.join("books");
    // --dry-run estimates without queueing.
    let est = run_ok(
        cmd(Some(&server), &store)
            .args([
                "submit",
                fixture("book.json").to_str().unwrap(),
                "--dry-run",
                "--json",
            ])
            .args(["--input", "title=Dry", "--input", "chapters=2"]),
    );
    let est: Value = serde_json::from_slice(&est.stdout).unwrap();
    assert!(
        est["total_tokens"].as_u64().unwrap_or(0) > 0 || est.get("nodes").is_some(),
        "{est}"
    );
    let queued = run_ok(
        cmd(Some(&server), &store)
            .args(["submit", fixture("book.json").to_str().unwrap(), "--json"])
            .args(["--input", "title=Harbour Lights", "--input", "chapters=2"])
            .args(["--formats", "md,html", "--max-concurrency", "1"])
            .arg("--out")
            .arg(&out),
    );
    let id = serde_json::from_slice::<Value>(&queued.stdout).unwrap()["execution_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.request_count(), 0, "submitting calls no model");
    let listed = run_ok(cmd(None, &store).args(["list", "--json"]));
    let rows: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows[0]["id"], id.as_str());
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(rows[0]["books"], serde_json::json!([]));
    let worker = run_ok(cmd(Some(&server), &store).args(["worker", "--max-runs", "1"]));
    let log = String::from_utf8_lossy(&worker.stderr);
    // The worker wrote the submitter's formats where it asked, nothing else.
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}\n{log}");
    assert!(files.iter().any(|f| f.ends_with(".md")) && files.iter().any(|f| f.ends_with(".html")));
    assert!(log.contains("wrote"), "{log}");
    let settings = run_ok(cmd(None, &store).args(["status", &id, "--json"]));
    let report: Value = serde_json::from_slice(&settings.stdout).unwrap();
    assert_eq!(report["status"], "completed");
    // list: the run and its book; --status filters; table form names the title.
    let listed = run_ok(cmd(None, &store).args(["list", "--json", "--status", "completed"]));
    let rows: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["books"][0]["title"], "Harbour Lights");
    assert!(rows[0]["books"][0]["word_count"].as_u64().unwrap() > 10);
    let none = run_ok(cmd(None, &store).args(["list", "--json", "--status", "failed"]));
    assert_eq!(
        serde_json::from_slice::<Value>(&none.stdout).unwrap(),
        serde_json::json!([])
    );
    let table = run_ok(cmd(None, &store).arg("list"));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&id) && table.contains("Harbour Lights") && table.contains("completed"),
        "{table}"
    );
    // Another user sees none of it.
    let other = run_ok(cmd(None, &store).args(["list", "--json", "--user", "bob"]));
    assert_eq!(
        serde_json::from_slice::<Value>(&other.stdout).unwrap(),
        serde_json::json!([])
    );
    let bad = cmd(None, &store)
        .args(["list", "--status", "sleeping"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown status `sleeping`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_lists_live_runners_and_their_lease_age() {
    let server = ScriptedServer::openai(|b| book_reply(b, Duration::from_millis(700)));
    let dir = tmpdir("workers-view");
    let store = dir.join("q.db");
    let idle = run_ok(cmd(None, &store).args(["workers", "--json"]));
    assert_eq!(
        serde_json::from_slice::<Value>(&idle.stdout).unwrap(),
        serde_json::json!([])
    );
    let queued = run_ok(
        cmd(Some(&server), &store)
            .args(["submit", fixture("book.json").to_str().unwrap()])
            .args([
                "--input",
                "title=Watched",
                "--input",
                "chapters=3",
                "--user",
                "carol",
            ]),
    );
    let id = String::from_utf8_lossy(&queued.stdout).trim().to_string();
    let mut worker = cmd(Some(&server), &store)
        .args(["worker", "--max-runs", "1", "--lease", "5"])
        .current_dir(&dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the worker claimed it.
    let mut seen = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let out = run_ok(cmd(None, &store).args(["workers", "--json"]));
        seen = serde_json::from_slice(&out.stdout).unwrap();
        if seen.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
    }
    let w = &seen[0];
    assert!(
        w["worker"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{}", worker.id())),
        "{seen}"
    );
    assert_eq!(w["runs"][0]["execution_id"], id.as_str());
    let expires = w["runs"][0]["expires_in_ms"].as_i64().unwrap();
    assert!(expires > 0 && expires <= 5000, "{seen}");
    // Age grows while it runs; the table shows the same.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let table = run_ok(cmd(None, &store).arg("workers"));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains(&id) && table.contains("lease left"),
        "{table}"
    );
    let later = run_ok(cmd(None, &store).args(["workers", "--json"]));
    let later: Value = serde_json::from_slice(&later.stdout).unwrap();
    if let Some(r) = later[0]["runs"].get(0) {
        assert!(r["held_for_ms"].as_i64().unwrap() >= 500, "{later}");
    }
    assert!(worker.wait().unwrap().success());
    let done = run_ok(cmd(None, &store).args(["workers", "--json"]));
    assert_eq!(
        serde_json::from_slice::<Value>(&done.stdout).unwrap(),
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_from_the_cli_then_workers_connect_as_a_login_role() {
    let Some(db) = pg_common::empty_db().await else {
        return;
    };
    let dir = tmpdir("migrate");
    let unused = dir.join("unused.db");
    // Before migrating, the app role is told what to do.
    let before = cmd(None, &unused)
        .args(["list", "--store", &db.app_url])
        .output()
        .unwrap();
    assert_ne!(before.status.code(), Some(0));
    let err = String::from_utf8_lossy(&before.stderr);
    assert!(err.contains("run `lekhika migrate --store"), "{err}");
    assert!(
        !err.contains("lekhika_app:lekhika_app@"),
        "no password in errors: {err}"
    );
    let first = run_ok(cmd(None, &unused).args(["migrate", "--store", &db.admin_url]));
    let text = String::from_utf8_lossy(&first.stdout);
    for v in [
        "0001_schema",
        "0002_security",
        "0003_calls_and_runner_leases",
        "0004_fleet",
    ] {
        assert!(text.contains(&format!("applied {v}")), "{text}");
    }
    assert!(text.contains(lekhika_store::WORKER_ROLE_SQL), "{text}");
    let again = run_ok(cmd(None, &unused).args(["migrate", "--store", &db.admin_url]));
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
    // The printed SQL works as written, and the role it makes can run things.
    let admin = pg_common::admin_client(&db.admin_url).await;
    let role = format!("lkt_w_{}", db.name.replace("lkt_", ""));
    let sql = lekhika_store::WORKER_ROLE_SQL
        .lines()
        .next()
        .unwrap()
        .replace("lekhika_worker", &role);
    admin.batch_execute(&sql).await.unwrap();
    let url = db.app_url.replacen(
        "lekhika_app:lekhika_app",
        &format!("{role}:choose-a-password"),
        1,
    );
    let listed = run_ok(cmd(None, &unused).args(["list", "--json", "--store", &url]));
    assert_eq!(
        serde_json::from_slice::<Value>(&listed.stdout).unwrap(),
        serde_json::json!([])
    );
    // A superuser is refused.
    let refused = cmd(None, &unused)
        .args(["list", "--store", &db.admin_url])
        .output()
        .unwrap();
    assert_ne!(refused.status.code(), Some(0));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("superuser") && err.contains("row-level security"),
        "{err}"
    );
    admin
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
}
