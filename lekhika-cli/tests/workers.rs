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
            .args(["--input", &format!("title={title}"), "--input", "chapters=3"])
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
