#![allow(clippy::unwrap_used)]

//! Exactly-once model calls, black-box through the `lekhika` binary against
//! a loopback OpenAI (or Anthropic) server that plays every role of the
//! novel flow, replying in 100–300 ms:
//! - kill -9 at random moments, then `resume`, 20 times: the book is
//!   written in all formats; no prompt is asked again unless it was in
//!   flight at a kill; the wallet is charged exactly what a clean run costs.
//! - two resumes at once, or a resume while the run is alive: one runs.
//! - cut streams and mid-stream overloads retry the call, nothing else.
//! - a kill while the book is being written: `resume` writes it.
//!
//! Each runs on SQLite and (with LEKHIKA_TEST_PG_ADMIN_URL) PostgreSQL.

mod common;
#[path = "../../lekhika/tests/craft_common/mod.rs"]
mod craft_common;
#[path = "../../lekhika-store/tests/pg_common/mod.rs"]
mod pg_common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use craft_common::Script;
use lekhika_providers::testkit::{RecordedRequest, Reply, ScriptedServer};
use serde_json::{json, Value};

/// Short leases, so a killed runner's execution can be resumed within a second.
const LEASE: &str = "1";

/// A reply completed this long before a kill may not have been recorded by
/// the killed process yet: it counts as in flight.
const RECORDING_MARGIN: Duration = Duration::from_millis(100);

fn novel() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/flows/novel.json")
}

/// The novel flow with its fan-outs two at a time: a longer run, so a kill
/// cycle spans several replies (calls finish, and are recorded, between kills).
fn slow_novel() -> PathBuf {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(novel()).unwrap()).unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        if n["data"].get("concurrency").is_some() {
            n["data"]["concurrency"] = 2.into();
        }
    }
    let path = tmpdir("slow-novel").join("novel.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn novel_inputs(chapters: u32) -> Vec<String> {
    [
        "title=Salt Roads".to_string(),
        format!("chapters={chapters}"),
        "chapter_words=300".into(),
        "genre=literary adventure".into(),
        "premise=A cartographer crosses a continent.".into(),
        "review_outline=false".into(),
    ]
    .to_vec()
}

/// A stable hash (FNV-1a) for picking delays and faults by request.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// The request body as a key: what was asked.
fn asked(r: &RecordedRequest) -> String {
    r.body.to_string()
}

/// The scripted novelist, answering in 100–300 ms (by prompt, so a clean run
/// and a killed one get the same replies at the same pace). Its replies stop
/// at 120 words (the writer continues them) and its first drafts come out at
/// half length (the writer expands them): each chapter takes several calls,
/// as with real models.
fn novel_script() -> Script {
    Script {
        chunk_words: Some(120),
        draft_ratio: Some(0.5),
        ..Script::default()
    }
}

fn novel_server() -> ScriptedServer {
    let script = novel_script();
    ScriptedServer::openai(move |b| {
        let delay = 100 + fnv(&b.to_string()) % 201;
        script.reply(b).delay(Duration::from_millis(delay))
    })
}

/// Where a test keeps its executions.
enum Store {
    Sqlite(PathBuf),
    Postgres(pg_common::TestDb),
}

impl Store {
    fn sqlite(tag: &str) -> Self {
        Store::Sqlite(tmpdir(tag).join("store.db"))
    }

    /// A fresh migrated database, or `None` when no PostgreSQL is configured.
    async fn postgres() -> Option<Self> {
        pg_common::fresh_db().await.map(Store::Postgres)
    }

    fn location(&self) -> String {
        match self {
            Store::Sqlite(p) => p.to_string_lossy().into_owned(),
            Store::Postgres(db) => db.app_url.clone(),
        }
    }

    /// A `lekhika` command on this store, as `user`, with short leases.
    fn cmd(&self, server: Option<&ScriptedServer>, user: &str) -> Command {
        let dir = tmpdir("cmd");
        let mut c = cmd(server, &dir.join("unused.db"));
        c.env("LEKHIKA_STORE", self.location())
            .env("LEKHIKA_USER", user)
            .env("LEKHIKA_LEASE", LEASE);
        c
    }
}

fn grant(store: &Store, user: &str) {
    run_ok(
        store
            .cmd(None, user)
            .args(["wallet", "grant", user, "100000000"]),
    );
}

fn wallet(store: &Store, user: &str) -> Value {
    let out = run_ok(
        store
            .cmd(None, user)
            .args(["wallet", "show", user, "--json"]),
    );
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["wallet"].clone()
}

fn report(store: &Store, user: &str, id: &str) -> Value {
    let out = run_ok(store.cmd(None, user).args(["status", id, "--json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `lekhika run` of the novel flow writing all formats into `out`.
fn run_novel(
    store: &Store,
    server: &ScriptedServer,
    user: &str,
    chapters: u32,
    out: &Path,
) -> Command {
    run_flow(&novel(), store, server, user, chapters, out)
}

fn run_flow(
    flow: &Path,
    store: &Store,
    server: &ScriptedServer,
    user: &str,
    chapters: u32,
    out: &Path,
) -> Command {
    let mut c = store.cmd(Some(server), user);
    c.arg("run").arg(flow);
    for kv in novel_inputs(chapters) {
        c.args(["--input", &kv]);
    }
    c.args(["--json", "--out"]).arg(out);
    c
}

/// Spawn `c`; returns the child and the execution id it prints first.
fn spawn_for_id(c: Command) -> (Child, String) {
    let (child, rx) = spawn_watched(c);
    let id = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    (child, id)
}

fn kill9(child: &mut Child) {
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

/// A clean run of the novel: its requests (by body), wallet spend, duration.
struct Clean {
    asked: HashMap<String, usize>,
    requests: usize,
    spent: i64,
    took: Duration,
}

async fn clean_run(store: &Store, chapters: u32) -> Clean {
    clean_run_of(&novel(), store, chapters).await
}

async fn clean_run_of(flow: &Path, store: &Store, chapters: u32) -> Clean {
    let server = novel_server();
    grant(store, "clean");
    let out = tmpdir("clean-book");
    let t = Instant::now();
    let result = tokio::task::spawn_blocking({
        let mut c = run_flow(flow, store, &server, "clean", chapters, &out);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let last = json_lines(&result.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed", "{last}");
    let mut asked_count = HashMap::new();
    let reqs = server.requests();
    for r in &reqs {
        *asked_count.entry(asked(r)).or_insert(0) += 1;
    }
    let w = wallet(store, "clean");
    assert_eq!(w["reserved"], 0);
    Clean {
        asked: asked_count,
        requests: reqs.len(),
        spent: w["total_spent"].as_i64().unwrap(),
        took: t.elapsed(),
    }
}

/// A small deterministic generator for kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn check_book(dir: &Path, chapters: usize) {
    for ext in ["pdf", "epub", "docx", "html", "md"] {
        let p = dir.join(format!("salt-roads.{ext}"));
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(
            bytes.len() > 500,
            "{} is {} bytes",
            p.display(),
            bytes.len()
        );
        match ext {
            "pdf" => {
                assert!(bytes.starts_with(b"%PDF"));
                validate("qpdf", &["--check", p.to_str().unwrap()]);
            }
            "epub" | "docx" => assert!(bytes.starts_with(b"PK")),
            "html" => assert!(String::from_utf8_lossy(&bytes).contains("</html>")),
            _ => {}
        }
        if ext == "epub" && Path::new("/usr/share/java/epubcheck.jar").exists() {
            validate(
                "java",
                &["-jar", "/usr/share/java/epubcheck.jar", p.to_str().unwrap()],
            );
        }
    }
    let md = std::fs::read_to_string(dir.join("salt-roads.md")).unwrap();
    assert_eq!(
        md.lines().filter(|l| l.starts_with("# Chapter ")).count(),
        chapters
    );
    // No temporary files are left behind.
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "left over: {name}");
    }
}

/// Run a validator if it is installed (required with LEKHIKA_REQUIRE_VALIDATORS=1).
fn validate(program: &str, args: &[&str]) {
    match Command::new(program).args(args).output() {
        Ok(out) => assert!(
            out.status.success(),
            "{program} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => assert!(
            std::env::var("LEKHIKA_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
            "{program} is missing: {e}"
        ),
    }
}

/// 20 kill -9 at random moments of a 10-chapter novel with a wallet, each
/// followed by `resume`, then a resume to the end.
async fn twenty_kills(store: Store) {
    const CHAPTERS: u32 = 10;
    const KILLS: usize = 20;
    let flow = slow_novel();
    let clean = clean_run_of(&flow, &store, CHAPTERS).await;

    let server = novel_server();
    grant(&store, "author");
    let out = tmpdir("killed-book");
    let mut rng = Rng(0x5eed_1234_abcd);
    // Kill moments scale with how long the book takes here: 20 kills,
    // each after a random slice of work, fit in one run.
    let slice = u64::try_from(clean.took.as_millis() / 15)
        .unwrap_or(400)
        .max(100);
    let (mut child, id) = spawn_for_id(run_flow(&flow, &store, &server, "author", CHAPTERS, &out));
    let mut started = true;
    let mut cycle_start = 0usize;
    let mut in_flight: HashMap<String, usize> = HashMap::new();
    let mut in_flight_total = 0usize;
    let mut kills = 0usize;
    let began = Instant::now();
    loop {
        // A random moment: mostly after some work (mid-call, mid-checkpoint,
        // mid-export), sometimes while the resume still waits for the dead
        // runner's lease.
        let wait = if started {
            Duration::from_millis(rng.between(10, slice))
        } else {
            Duration::from_millis(rng.between(30, 1200))
        };
        let deadline = Instant::now() + wait;
        let mut ended = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                ended = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(status) = ended {
            assert!(status.success(), "a resume ended with {status}");
            break;
        }
        let at = Instant::now();
        kill9(&mut child);
        kills += 1;
        // Calls in flight at the kill: asked by this process and not
        // answered in full early enough to have been recorded.
        let reqs = server.requests();
        for r in reqs.iter().skip(cycle_start) {
            let answered_in_time = r.replied_at.is_some_and(|t| t + RECORDING_MARGIN < at);
            if !r.body.is_null() && r.received_at <= at && !answered_in_time {
                *in_flight.entry(asked(r)).or_insert(0) += 1;
                in_flight_total += 1;
            }
        }
        cycle_start = reqs.len();
        if kills == KILLS {
            break;
        }
        let mut c = store.cmd(Some(&server), "author");
        c.args(["resume", &id, "--json"]);
        let (next, first_event) = spawn_watched(c);
        child = next;
        // One kill in five lands while the resume waits for the lease.
        started = rng.between(0, 4) != 0;
        if started {
            let deadline = Instant::now() + Duration::from_secs(30);
            while first_event.try_recv().is_err() {
                assert!(Instant::now() < deadline, "a resume never started");
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    // Resume until done (the last resume may also find a completed run
    // whose book is missing some files).
    let done = tokio::task::spawn_blocking({
        let mut c = store.cmd(Some(&server), "author");
        c.args(["resume", &id, "--json"]);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let last = json_lines(&done.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed", "{last}");
    check_book(&out, CHAPTERS as usize);

    // No prompt was asked again unless it was in flight at a kill.
    let reqs = server.requests();
    let mut asked_count: HashMap<String, usize> = HashMap::new();
    for r in reqs.iter().filter(|r| !r.body.is_null()) {
        *asked_count.entry(asked(r)).or_insert(0) += 1;
    }
    let mut extra_total = 0usize;
    for (body, n) in &asked_count {
        let expected = clean.asked.get(body).copied().unwrap_or(0);
        assert!(expected > 0, "a prompt a clean run never asks: {body}");
        let extra = n.saturating_sub(expected);
        let lost = in_flight.get(body).copied().unwrap_or(0);
        assert!(
            extra <= lost,
            "asked {n} times (a clean run: {expected}), in flight at {lost} kills: {body}"
        );
        extra_total += extra;
    }
    for (body, n) in &clean.asked {
        assert!(
            asked_count.get(body).copied().unwrap_or(0) >= *n,
            "never asked: {body}"
        );
    }
    assert!(extra_total <= in_flight_total);
    eprintln!(
        "{kills} kills in {:.1}s (a clean run takes {:.1}s): {} requests (clean run {}), \
         {extra_total} asked again, {in_flight_total} in flight at the kills",
        began.elapsed().as_secs_f64(),
        clean.took.as_secs_f64(),
        reqs.len(),
        clean.requests
    );
    assert_eq!(kills, KILLS, "the run ended before {KILLS} kills");

    // The wallet paid what a clean run pays, nothing is left reserved, and
    // the run reports what the wallet paid.
    let w = wallet(&store, "author");
    assert_eq!(w["reserved"], 0, "{w}");
    assert_eq!(w["total_spent"].as_i64().unwrap(), clean.spent);
    let r = report(&store, "author", &id);
    assert_eq!(r["status"], "completed");
    assert_eq!(r["cost"].as_i64().unwrap(), clean.spent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_then_resume_on_sqlite_pay_and_ask_once() {
    twenty_kills(Store::sqlite("kills")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_then_resume_on_postgres_pay_and_ask_once() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    twenty_kills(store).await;
}

/// Two resumes at once after a kill, and a resume while the first run is
/// alive: exactly one process runs the book; the wallet pays once.
async fn one_runner(store: Store) {
    const CHAPTERS: u32 = 4;
    let clean = clean_run(&store, CHAPTERS).await;
    let server = novel_server();
    grant(&store, "author");
    let out = tmpdir("one-runner-book");

    // A resume while the first process is alive is refused (exit 6), and
    // the first run is not disturbed.
    let (mut first, id) = spawn_for_id(run_novel(&store, &server, "author", CHAPTERS, &out));
    std::thread::sleep(Duration::from_millis(400));
    let second = store
        .cmd(Some(&server), "author")
        .args(["resume", &id])
        .output()
        .unwrap();
    assert_eq!(
        second.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let msg = String::from_utf8_lossy(&second.stderr);
    assert!(msg.contains("is being run by"), "{msg}");
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run must go on"
    );

    // Killed: two resumes started together; one runs, the other is refused.
    std::thread::sleep(Duration::from_millis(600));
    kill9(&mut first);
    let spawn_resume = || {
        let mut c = store.cmd(Some(&server), "author");
        c.args(["resume", &id, "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn_resume(), spawn_resume());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(6)),
        "exit codes {codes:?}\n{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let winner = if a.status.success() { &a } else { &b };
    assert_eq!(
        json_lines(&winner.stdout).pop().unwrap()["status"],
        "completed"
    );
    let loser = if a.status.success() { &b } else { &a };
    let waited = String::from_utf8_lossy(&loser.stderr);
    assert!(
        waited.contains("waiting to see whether it is still alive"),
        "{waited}"
    );
    check_book(&out, CHAPTERS as usize);

    let w = wallet(&store, "author");
    assert_eq!(w["reserved"], 0);
    assert_eq!(w["total_spent"].as_i64().unwrap(), clean.spent);
    assert_eq!(
        report(&store, "author", &id)["cost"].as_i64().unwrap(),
        clean.spent
    );
    // Nothing was asked by both processes but what was in flight at the kill.
    assert!(
        server.request_count() <= clean.requests + 6,
        "{} requests",
        server.request_count()
    );

    // A resume of the finished run has nothing to do.
    let again = run_ok(store.cmd(Some(&server), "author").args(["resume", &id]));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("nothing to do"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runner_per_execution_on_sqlite() {
    one_runner(Store::sqlite("one-runner")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runner_per_execution_on_postgres() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    one_runner(store).await;
}

/// Every body asked more often than a clean run asks it was faulted each
/// extra time: no prompt that already had a complete reply is asked again.
fn only_faulted_prompts_repeat(
    reqs: &[RecordedRequest],
    faulted: &HashMap<String, usize>,
    clean: &HashMap<String, usize>,
) {
    let mut n: HashMap<String, usize> = HashMap::new();
    for r in reqs {
        *n.entry(asked(r)).or_insert(0) += 1;
    }
    for (body, count) in &n {
        let expected = clean.get(body).copied().unwrap_or(0);
        let f = faulted.get(body).copied().unwrap_or(0);
        assert_eq!(
            *count,
            expected + f,
            "asked {count} times, clean {expected}, faulted {f}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_third_openai_stream_cut_retries_only_that_call() {
    let store = Store::sqlite("cuts");
    let clean = clean_run(&store, 4).await;
    let script = novel_script();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let cut_once: std::sync::Mutex<HashMap<String, usize>> = Default::default();
    let faulted = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, usize>::new()));
    let record = faulted.clone();
    let server = ScriptedServer::openai(move |b| {
        let reply = script.reply(b);
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let key = b.to_string();
        let mut once = cut_once.lock().unwrap();
        // Every third stream is cut mid-reply (a prompt at most once, so a
        // call's retry gets through).
        if n % 3 == 2 && !once.contains_key(&key) {
            once.insert(key.clone(), 1);
            *record.lock().unwrap().entry(key).or_insert(0) += 1;
            return reply.cut_after(120);
        }
        reply
    });
    grant(&store, "author");
    let out = tmpdir("cuts-book");
    let done = tokio::task::spawn_blocking({
        let mut c = run_novel(&store, &server, "author", 4, &out);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&done.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    let retries = lines
        .iter()
        .filter(|l| l["type"] == "call_retrying")
        .count();
    let faulted = faulted.lock().unwrap().clone();
    assert!(faulted.values().sum::<usize>() >= 5, "{faulted:?}");
    assert_eq!(retries, faulted.values().sum::<usize>());
    assert!(
        !lines.iter().any(|l| l["type"] == "node_retrying"),
        "no node ran again"
    );
    only_faulted_prompts_repeat(&server.requests(), &faulted, &clean.asked);
    check_book(&out, 4);
    assert_eq!(
        wallet(&store, "author")["total_spent"].as_i64().unwrap(),
        clean.spent
    );
}

/// The Anthropic form of a request, as the OpenAI-shaped body the scripted
/// novelist reads.
fn as_openai(body: &Value) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let mut messages = vec![json!({"role": "system", "content": text(&body["system"])})];
    for m in body["messages"].as_array().cloned().unwrap_or_default() {
        messages.push(json!({"role": m["role"], "content": text(&m["content"])}));
    }
    json!({"model": body["model"], "messages": messages})
}

/// An Anthropic stream that starts, sends some text, then fails with an
/// `overloaded_error` event.
fn overloaded_mid_stream(model: &str) -> Reply {
    let mut s = String::new();
    let mut ev = |name: &str, v: Value| s.push_str(&format!("event: {name}\ndata: {v}\n\n"));
    ev(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_x", "type": "message",
        "role": "assistant", "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    );
    ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
        "content_block": {"type": "text", "text": ""}}),
    );
    ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "Mara is in"}}),
    );
    ev(
        "error",
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    );
    Reply::sse(s.into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anthropic_overload_mid_stream_on_every_other_reply_retries_only_that_call() {
    let store = Store::sqlite("overload");
    let script = novel_script();
    let plain = ScriptedServer::anthropic({
        let script = script.clone();
        move |b| script.reply(&as_openai(b))
    });
    // A clean run on Anthropic, for the prompts and the cost.
    grant(&store, "clean");
    let anthropic = |server: &ScriptedServer, user: &str, out: &Path| {
        let mut c = store.cmd(None, user);
        for (k, v) in server.env("anthropic") {
            c.env(k, v);
        }
        c.arg("run").arg(novel());
        for kv in novel_inputs(4) {
            c.args(["--input", &kv]);
        }
        c.args(["--provider", "anthropic", "--json", "--out"])
            .arg(out);
        c
    };
    let clean_out = tmpdir("overload-clean");
    tokio::task::spawn_blocking({
        let mut c = anthropic(&plain, "clean", &clean_out);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let mut clean: HashMap<String, usize> = HashMap::new();
    for r in plain.requests() {
        *clean.entry(asked(&r)).or_insert(0) += 1;
    }
    let clean_spent = wallet(&store, "clean")["total_spent"].as_i64().unwrap();

    let counter = std::sync::atomic::AtomicUsize::new(0);
    let once: std::sync::Mutex<HashMap<String, usize>> = Default::default();
    let faulted = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, usize>::new()));
    let record = faulted.clone();
    let server = ScriptedServer::anthropic(move |b| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let key = b.to_string();
        let mut seen = once.lock().unwrap();
        if n % 2 == 1 && !seen.contains_key(&key) && b["stream"] == true {
            seen.insert(key.clone(), 1);
            *record.lock().unwrap().entry(key).or_insert(0) += 1;
            return overloaded_mid_stream(b["model"].as_str().unwrap_or("m"));
        }
        script.reply(&as_openai(b))
    });
    grant(&store, "author");
    let out = tmpdir("overload-book");
    let done = tokio::task::spawn_blocking({
        let mut c = anthropic(&server, "author", &out);
        move || run_ok(&mut c)
    })
    .await
    .unwrap();
    let lines = json_lines(&done.stdout);
    assert_eq!(lines.last().unwrap()["status"], "completed");
    let faulted = faulted.lock().unwrap().clone();
    assert!(faulted.values().sum::<usize>() >= 5, "{faulted:?}");
    let retries: Vec<&Value> = lines
        .iter()
        .filter(|l| l["type"] == "call_retrying")
        .collect();
    assert_eq!(retries.len(), faulted.values().sum::<usize>());
    assert!(retries.iter().all(|l| l["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("verloaded")));
    only_faulted_prompts_repeat(&server.requests(), &faulted, &clean);
    check_book(&out, 4);
    assert_eq!(
        wallet(&store, "author")["total_spent"].as_i64().unwrap(),
        clean_spent
    );
}

/// Killed while the book files are being made: `resume` writes all five.
async fn kill_during_export(store: Store) {
    let server = novel_server();
    grant(&store, "author");
    let out = tmpdir("export-kill-book");
    let (mut child, id) = spawn_for_id(run_novel(&store, &server, "author", 3, &out));
    // The run is completed in the store before its files are written:
    // watch the store itself (a `status` process per look is too slow).
    let stores = lekhika_store::open(&store.location()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        assert!(Instant::now() < deadline, "the run never completed");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill"
        );
        let rec = stores
            .executions
            .get_execution("author", &id)
            .await
            .unwrap();
        if rec.status == lekhika_core::store::ExecutionStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    kill9(&mut child);
    let missing = ["pdf", "epub", "docx", "html", "md"]
        .iter()
        .filter(|e| !out.join(format!("salt-roads.{e}")).exists())
        .count();
    assert!(missing > 0, "the kill came after the book was written");
    let requests = server.request_count();
    let done = run_ok(
        store
            .cmd(Some(&server), "author")
            .args(["resume", &id, "--json"]),
    );
    let last = json_lines(&done.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["written"].as_array().unwrap().len(), missing);
    check_book(&out, 3);
    assert_eq!(
        server.request_count(),
        requests,
        "writing the book asks no model"
    );
    let again = run_ok(store.cmd(Some(&server), "author").args(["resume", &id]));
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_the_book_is_written_is_finished_by_resume_on_sqlite() {
    kill_during_export(Store::sqlite("export-kill")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_the_book_is_written_is_finished_by_resume_on_postgres() {
    let Some(store) = Store::postgres().await else {
        return;
    };
    kill_during_export(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_500_is_asked_attempts_times_per_call_not_attempts_squared() {
    let server = ScriptedServer::openai(|_| {
        Reply::error(
            500,
            r#"{"error": {"message": "boom", "type": "server_error"}}"#,
        )
    });
    let dir = tmpdir("five-hundred");
    let mut c = cmd(Some(&server), &dir.join("s.db"));
    c.args([
        "run",
        fixture("book.json").to_str().unwrap(),
        "--input",
        "title=T",
    ])
    .args(["--input", "chapters=2"]);
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The fixture's outline node has the default `retry.attempts` of 3:
    // three requests for its one call, and no node attempt on top.
    assert_eq!(server.request_count(), 3);
}

#[test]
fn estimates_never_wrap() {
    let dir = tmpdir("estimate");
    // The shipped flow bounds `chapters`; a host's flow may not.
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(novel()).unwrap()).unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        if let Some(fields) = n["data"]["fields"].as_array_mut() {
            for f in fields {
                if let Some(o) = f.as_object_mut() {
                    o.remove("maximum");
                }
            }
        }
    }
    let unbounded = dir.join("novel.json");
    std::fs::write(&unbounded, doc.to_string()).unwrap();
    let mut c = cmd(None, &dir.join("s.db"));
    c.args(["estimate"]).arg(&unbounded).arg("--json");
    for kv in novel_inputs(2_000_000_000) {
        c.args(["--input", &kv]);
    }
    let out = run_ok(&mut c);
    let est: Value = serde_json::from_slice(&out.stdout).unwrap();
    for figure in ["expected", "worst"] {
        assert!(est[figure]["cost"].as_i64().unwrap() > 0, "{}", est[figure]);
        for n in est["nodes"].as_array().unwrap() {
            assert!(n[figure]["cost"].as_i64().is_none_or(|c| c >= 0), "{n}");
        }
    }
}
