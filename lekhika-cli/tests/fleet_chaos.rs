#![allow(clippy::unwrap_used)]

//! A fleet under fire, on PostgreSQL: 4 `lekhika worker` processes drain 40
//! queued runs of 4 users while the test SIGKILLs a random worker every
//! 0.8–2.5 seconds and starts a new one in its place. Every run completes; each
//! wallet paid exactly the sum of its runs' reported costs; no run was held
//! by two workers at once; no prompt was asked twice unless it was in flight
//! at a kill.

mod common;
#[path = "../../lekhika-store/tests/pg_common/mod.rs"]
mod pg_common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use lekhika_providers::testkit::ScriptedServer;
use serde_json::Value;

const WORKERS: usize = 4;
const USERS: usize = 4;
const RUNS: usize = 40;
const CHAPTERS: u32 = 6;
/// Seconds; a killed worker's runs are taken over this long after its last renewal.
const LEASE: &str = "2";
/// A reply finished this long before a kill may not have been recorded yet.
const RECORDING_MARGIN: Duration = Duration::from_millis(150);

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

struct Rng(u64);

impl Rng {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

/// What a worker said, as the test heard it: (when, line).
type Log = Arc<Mutex<Vec<(Instant, String)>>>;

struct Worker {
    child: Child,
    pid: u32,
    log: Log,
    /// When the test killed it.
    killed_at: Option<Instant>,
}

fn start_worker(env: &[(String, String)], store: &str, dir: &std::path::Path) -> Worker {
    let mut c = cmd(None, &dir.join("unused.db"));
    c.envs(env.iter().map(|(k, v)| (k, v)))
        .env("LEKHIKA_STORE", store)
        .env("LEKHIKA_LEASE", LEASE)
        .args(["worker", "--max-concurrent", "1"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let log: Log = Arc::default();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push((Instant::now(), line));
        }
    });
    Worker {
        pid: child.id(),
        child,
        log,
        killed_at: None,
    }
}

fn list(store: &str, user: &str) -> Vec<Value> {
    let dir = tmpdir("list");
    let out = run_ok(
        cmd(None, &dir.join("unused.db"))
            .env("LEKHIKA_STORE", store)
            .args(["list", "--json", "--user", user]),
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn json_of(store: &str, args: &[&str]) -> Value {
    let dir = tmpdir("q");
    let out = run_ok(
        cmd(None, &dir.join("unused.db"))
            .env("LEKHIKA_STORE", store)
            .args(args),
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each worker's hold on each execution: from "claimed" until it said the
/// run ended, or until it was killed.
fn holds(workers: &[Worker], end: Instant) -> Vec<(String, u32, Instant, Instant)> {
    let mut out = Vec::new();
    for w in workers {
        let log = w.log.lock().unwrap();
        let mut open: HashMap<String, Instant> = HashMap::new();
        for (at, line) in log.iter() {
            if let Some(id) = line.split(": claimed ").nth(1) {
                open.insert(id.trim().to_string(), *at);
            } else if let Some(rest) = line.strip_prefix("run ") {
                if let Some((id, _)) = rest.split_once(':') {
                    if let Some(from) = open.remove(id) {
                        out.push((id.to_string(), w.pid, from, *at));
                    }
                }
            }
        }
        let until = w.killed_at.unwrap_or(end);
        for (id, from) in open {
            out.push((id, w.pid, from, until));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_forty_runs_random_kills() {
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    let store = db.app_url.clone();
    let server = ScriptedServer::openai(|b| {
        let delay = 150 + fnv(&b.to_string()) % 301;
        book_reply(b, Duration::ZERO).delay(Duration::from_millis(delay))
    });
    let dir = tmpdir("chaos");
    let users: Vec<String> = (0..USERS).map(|u| format!("writer{u}")).collect();
    for u in &users {
        run_ok(
            cmd(None, &dir.join("unused.db"))
                .env("LEKHIKA_STORE", &store)
                .args(["wallet", "grant", u, "100000000"]),
        );
    }
    // 40 runs, round-robin over the users; each writes its book as Markdown.
    let mut ids: HashMap<String, String> = HashMap::new();
    for i in 0..RUNS {
        let user = &users[i % USERS];
        let v = json_of(
            &store,
            &[
                "submit",
                fixture("book.json").to_str().unwrap(),
                "--json",
                "--user",
                user,
                "--input",
                &format!("title=Chaos Book {i}"),
                "--input",
                &format!("chapters={CHAPTERS}"),
                "--formats",
                "md",
                "--out",
                dir.join("books").to_str().unwrap(),
            ],
        );
        ids.insert(
            v["execution_id"].as_str().unwrap().to_string(),
            user.clone(),
        );
    }

    let began = Instant::now();
    let (env, store2, dir2) = (server.env("openai"), store.clone(), dir.clone());
    let (workers, kill_times) = tokio::task::spawn_blocking(move || {
        let mut rng = Rng(0xc4a0_5eed);
        let mut live: Vec<Worker> = (0..WORKERS)
            .map(|_| start_worker(&env, &store2, &dir2))
            .collect();
        let mut dead: Vec<Worker> = Vec::new();
        let mut kills: Vec<Instant> = Vec::new();
        let users: Vec<String> = (0..USERS).map(|u| format!("writer{u}")).collect();
        loop {
            let pause = Instant::now() + Duration::from_millis(rng.between(800, 2500));
            let mut done = false;
            while Instant::now() < pause {
                std::thread::sleep(Duration::from_millis(250));
                let completed: usize = users
                    .iter()
                    .map(|u| {
                        list(&store2, u)
                            .iter()
                            .filter(|r| r["status"] == "completed")
                            .count()
                    })
                    .sum();
                if completed == RUNS {
                    done = true;
                    break;
                }
            }
            if done {
                break;
            }
            assert!(
                began.elapsed() < Duration::from_secs(600),
                "the fleet never finished"
            );
            let victim = rng.between(0, WORKERS as u64 - 1) as usize;
            let mut w = live.remove(victim);
            let at = Instant::now();
            unsafe { libc::kill(w.pid as i32, libc::SIGKILL) };
            let _ = w.child.wait();
            w.killed_at = Some(at);
            kills.push(at);
            dead.push(w);
            live.insert(victim, start_worker(&env, &store2, &dir2));
        }
        for mut w in live {
            unsafe { libc::kill(w.pid as i32, libc::SIGTERM) };
            let _ = w.child.wait();
            w.killed_at = Some(Instant::now());
            dead.push(w);
        }
        (dead, kills)
    })
    .await
    .unwrap();
    let end = Instant::now();
    eprintln!(
        "chaos: {} runs by {} worker processes, {} kills, {:.1}s",
        RUNS,
        workers.len(),
        kill_times.len(),
        (end - began).as_secs_f64()
    );
    assert!(kill_times.len() >= 3, "the test must actually kill workers");

    // Every run completed, and its book was written.
    for u in &users {
        for r in list(&store, u) {
            assert_eq!(r["status"], "completed", "{r}");
            assert_eq!(r["books"].as_array().map(Vec::len), Some(1), "{r}");
        }
    }
    let written = std::fs::read_dir(dir.join("books")).unwrap().count();
    assert_eq!(written, RUNS, "one Markdown book per run");

    // Each wallet paid exactly what its runs report, and holds nothing back.
    for u in &users {
        let mut reported = 0i64;
        for (id, owner) in &ids {
            if owner == u {
                let rep = json_of(&store, &["status", id, "--json", "--user", u]);
                reported += rep["cost"].as_i64().unwrap();
            }
        }
        let w = json_of(&store, &["wallet", "show", u, "--json", "--user", u])["wallet"].clone();
        assert!(reported > 0);
        assert_eq!(w["total_spent"].as_i64().unwrap(), reported, "{u}: {w}");
        assert_eq!(w["reserved"], 0, "{u}: {w}");
    }

    // No run was held by two workers at once.
    let mut by_run: HashMap<String, Vec<(u32, Instant, Instant)>> = HashMap::new();
    for (id, pid, from, to) in holds(&workers, end) {
        by_run.entry(id).or_default().push((pid, from, to));
    }
    assert_eq!(by_run.len(), RUNS, "every run was claimed");
    for (id, mut hs) in by_run {
        hs.sort_by_key(|h| h.1);
        for pair in hs.windows(2) {
            let ((p1, _, end1), (p2, start2, _)) = (pair[0], pair[1]);
            assert!(
                end1 <= start2,
                "run {id} held by {p1} and {p2} at once ({:?} overlap)",
                end1 - start2
            );
        }
    }

    // A prompt asked more than once was in flight at a kill each extra time.
    let reqs = server.requests();
    let mut asked: HashMap<String, Vec<&lekhika_providers::testkit::RecordedRequest>> =
        HashMap::new();
    for r in &reqs {
        asked.entry(r.body.to_string()).or_default().push(r);
    }
    assert_eq!(
        asked.len(),
        RUNS * (1 + CHAPTERS as usize),
        "every prompt was asked"
    );
    let mut again = 0;
    for (body, rs) in &asked {
        let extra = rs.len() - 1;
        if extra == 0 {
            continue;
        }
        again += extra;
        let in_flight_at_kills = kill_times
            .iter()
            .filter(|&&k| {
                rs.iter().any(|r| {
                    r.received_at <= k && r.replied_at.is_none_or(|t| t + RECORDING_MARGIN >= k)
                })
            })
            .count();
        assert!(
            extra <= in_flight_at_kills,
            "asked {} times but in flight at only {in_flight_at_kills} kills: {body}",
            rs.len()
        );
    }
    eprintln!(
        "chaos: {} requests for {} prompts; {again} asked again (in flight at kills)",
        reqs.len(),
        asked.len()
    );
}
