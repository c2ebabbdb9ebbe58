#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lekhika_providers::testkit::{Reply, ScriptedServer};
use serde_json::{json, Value};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lekhika")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fresh private directory.
pub fn tmpdir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "lekhika-cli-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The last user message of an OpenAI chat request.
pub fn prompt(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Answers the fixture book flow: an outline of N chapters, then chapter texts.
pub fn book_reply(body: &Value, delay: Duration) -> Reply {
    let p = prompt(body);
    if p.starts_with("OUTLINE") {
        let n: usize = p
            .split("exactly ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        let chapters: Vec<Value> = (1..=n)
            .map(|i| json!({"title": format!("The Turn {i}")}))
            .collect();
        return Reply::text(json!({"chapters": chapters}).to_string()).usage(120, 300);
    }
    let text = format!(
        "Sure, here is the chapter.\n\n{p}\n\nThe rain \"fell\" on the old town -- quietly... \
         Mira walked to the harbour and counted the boats.\n\n* * *\n\nLater, she *smiled*."
    );
    Reply::text(text).usage(80, 400).delay(delay)
}

/// A `lekhika` command with a private store, no stray provider env, and the server's env.
pub fn cmd(server: Option<&ScriptedServer>, store: &Path) -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.ends_with("_API_KEY") || k.ends_with("_BASE_URL") || k.starts_with("LEKHIKA_") {
            c.env_remove(k);
        }
    }
    c.env("LEKHIKA_STORE", store);
    c.env("HOME", store.parent().unwrap_or(Path::new("/tmp")));
    if let Some(s) = server {
        for (k, v) in s.env("openai") {
            c.env(k, v);
        }
    }
    c.stdin(Stdio::null());
    c
}

/// `lekhika run` of the book fixture with `--json`: `title`, `chapters`
/// and, when given, `--formats`, writing into `out`.
pub fn run_book(
    server: &ScriptedServer,
    store: &Path,
    title: &str,
    chapters: u32,
    formats: Option<&str>,
    out: &Path,
) -> Command {
    let mut c = cmd(Some(server), store);
    c.args(["run", fixture("book.json").to_str().unwrap()])
        .args(["--input", &format!("title={title}")])
        .args(["--input", &format!("chapters={chapters}")])
        .arg("--json");
    if let Some(f) = formats {
        c.args(["--formats", f]);
    }
    c.arg("--out").arg(out);
    c
}

pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every stdout line of a --json run as JSON (panics on a line that is not).
pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Spawn `c` (a `--json` run) with its JSON lines on stdout; the receiver
/// gets the execution id of its first event (the run has started).
pub fn spawn_watched(mut c: Command) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
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
    (child, rx)
}
