//! SQLite across processes: a writer killed with SIGKILL loses no returned
//! write and leaves a sound file; two processes share one queue.
//!
//! The child processes are this test binary itself, re-run with an env var
//! naming the role (`child_*` tests do nothing without it).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

mod conformance;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use lekhika_core::store::{ExecutionQueue, ExecutionStore, NodeKey};
use lekhika_core::wallet::{LedgerKind, ReserveOutcome, ReserveRequest, WalletStore};
use lekhika_store::SqliteStore;

const DB_ENV: &str = "LEKHIKA_STORE_CHILD_DB";
const EXEC: &str = "exec-kill";

fn temp_db(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("lekhika-store-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{tag}-{}.db", lekhika_core::util::new_id()))
}

/// The text after `marker` (libtest may print `test name ... ` before it on the same line).
fn after(line: &str, marker: &str) -> Option<String> {
    line.find(marker)
        .map(|i| line[i + marker.len()..].to_string())
}

fn spawn_child(test: &str, db: &std::path::Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(DB_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Child: reserve, settle and checkpoint node after node, forever; print
/// `PUT i` only after the put returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_checkpoint_writer() {
    let Ok(path) = std::env::var(DB_ENV) else {
        return;
    };
    let store = SqliteStore::open(&path).unwrap();
    for i in 0u32.. {
        let key = format!("{EXEC}:1:chapters:{i}");
        let req = ReserveRequest {
            user_id: "alice".into(),
            key: key.clone(),
            execution_id: EXEC.into(),
            node_id: "chapters".into(),
            amount: 3,
            execution_limit: None,
        };
        assert_eq!(store.reserve(&req).await.unwrap(), ReserveOutcome::Reserved);
        store.settle("alice", &key, 2).await.unwrap();
        let r = conformance::result(&format!("chapter {i}"), 2);
        store
            .put_node_result("alice", EXEC, &NodeKey::item("chapters", i), &r, None)
            .await
            .unwrap();
        println!("PUT {i}");
    }
}

#[test]
fn sigkill_mid_run_keeps_every_returned_put() {
    if std::env::var(DB_ENV).is_ok() {
        return;
    }
    let db = temp_db("kill");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&db).unwrap();
        store
            .create_execution(&conformance::record("alice", EXEC))
            .await
            .unwrap();
        store
            .grant("alice", 1_000_000, "welcome", None)
            .await
            .unwrap();
    });

    let mut child = spawn_child("child_checkpoint_writer", &db);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked: Option<u32> = None;
    for line in lines.by_ref() {
        if let Some(i) = after(&line.unwrap(), "PUT ") {
            acked = Some(i.parse().unwrap());
            if acked >= Some(300) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
                           // Whatever the child printed before it died was a returned put.
    for line in lines {
        if let Some(i) = after(&line.unwrap(), "PUT ") {
            acked = Some(i.parse().unwrap());
        }
    }
    child.wait().unwrap();
    let acked = acked.expect("child wrote nothing");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    rt.block_on(async {
        let store = SqliteStore::open(&db).unwrap();
        let results = store.node_results("alice", EXEC).await.unwrap();
        let have: HashSet<u32> = results.iter().filter_map(|(k, _)| k.item).collect();
        for i in 0..=acked {
            assert!(
                have.contains(&i),
                "returned put {i} lost (acked up to {acked})"
            );
        }
        assert!(
            have.len() as u32 <= acked + 2,
            "at most the in-flight put is extra"
        );
        // The ledger stays consistent across the kill.
        let w = store.wallet("alice").await.unwrap().unwrap();
        let ledger = store.ledger("alice", None).await.unwrap();
        let sum = |k: LedgerKind| {
            ledger
                .iter()
                .filter(|e| e.kind == k)
                .map(|e| e.amount)
                .sum::<i64>()
        };
        let open = store.open_reservations("alice", EXEC).await.unwrap();
        assert!(open.len() <= 1, "only the in-flight call may hold tokens");
        assert_eq!(w.total_earned, sum(LedgerKind::Grant));
        assert_eq!(w.total_spent, sum(LedgerKind::Settle));
        assert_eq!(w.reserved, open.iter().map(|e| e.amount).sum::<i64>());
        assert_eq!(w.balance + w.reserved, w.total_earned - w.total_spent);
        let settled = ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::Settle)
            .count() as u32;
        assert!(settled > acked, "every checkpointed node was settled first");
    });
}

/// Child: claim from the shared file until idle; print each claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_queue_worker() {
    let Ok(path) = std::env::var(DB_ENV) else {
        return;
    };
    let store = SqliteStore::open(&path).unwrap();
    let me = format!("worker-{}", std::process::id());
    while let Some(lease) = store.claim(&me, Duration::from_secs(60)).await.unwrap() {
        println!("CLAIM {} {}", lease.execution_id, lease.token);
    }
}

#[test]
fn two_processes_share_one_queue() {
    if std::env::var(DB_ENV).is_ok() {
        return;
    }
    let db = temp_db("queue");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut ids = HashSet::new();
    rt.block_on(async {
        let store = SqliteStore::open(&db).unwrap();
        for i in 0..200 {
            let r = conformance::record(&format!("user{}", i % 7), &format!("q-{i}"));
            store.create_execution(&r).await.unwrap();
            ids.insert(r.id);
        }
    });
    let children: Vec<_> = (0..3)
        .map(|_| spawn_child("child_queue_worker", &db))
        .collect();
    let (mut claimed, mut tokens, mut per_child) = (Vec::new(), HashSet::new(), Vec::new());
    for mut c in children {
        let out = BufReader::new(c.stdout.take().unwrap());
        let mut n = 0;
        for line in out.lines() {
            let line = line.unwrap();
            if let Some(rest) = after(&line, "CLAIM ") {
                let (id, token) = rest.split_once(' ').unwrap();
                claimed.push(id.to_string());
                assert!(tokens.insert(token.parse::<u64>().unwrap()), "token reused");
                n += 1;
            }
        }
        assert!(c.wait().unwrap().success());
        per_child.push(n);
    }
    assert_eq!(
        claimed.len(),
        200,
        "each execution claimed exactly once: {per_child:?}"
    );
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), ids);
}

/// Many openers of one new store file at once (processes started together
/// on a fresh machine) all get it: switching the new file to WAL answers
/// SQLITE_BUSY without the busy handler, so the open waits for it.
#[test]
fn openers_of_a_fresh_file_at_once_all_succeed() {
    for round in 0..20 {
        let db = temp_db(&format!("fresh-{round}"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    SqliteStore::open(&db)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for o in openers {
            assert_eq!(o.join().unwrap(), Ok(()), "round {round}");
        }
    }
}
