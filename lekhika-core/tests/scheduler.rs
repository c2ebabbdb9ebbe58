//! The scheduler's two ways of running a node: inline (a lone ready node,
//! as in a chain) and spawned (several ready at once). Both must fail a
//! panicking node cleanly, honour a stop, and produce the same results.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::node::{NodeContext, NodeError, NodeOutput};
use lekhika_core::store::{ExecutionStatus, ExecutionStore, NodeKey};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{Engine, Node, RunOptions};
use serde_json::{json, Value};

/// `step`: upstream sum + 1, after `sleep_ms`; ignores cancellation on
/// purpose (the scheduler must not start anything after a stop anyway).
/// `boom`: panics.
struct Step {
    runs: Arc<AtomicUsize>,
    sleep_ms: u64,
    /// Sleep by blocking the thread (a badly behaved CPU-bound node).
    blocking: bool,
}

#[async_trait]
impl Node for Step {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if self.blocking {
            std::thread::sleep(Duration::from_millis(self.sleep_ms));
        } else if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        }
        let sum: i64 = ctx
            .upstream_outputs()
            .iter()
            .map(|(_, v)| v.as_i64().unwrap_or(0))
            .sum();
        Ok(NodeOutput::new(Value::from(sum + 1)))
    }
}

struct Boom;

#[async_trait]
impl Node for Boom {
    async fn run(&self, _ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        panic!("kaboom in a node")
    }
}

fn engine(store: Arc<MemoryStore>, runs: Arc<AtomicUsize>, sleep_ms: u64) -> Engine {
    engine_with(store, runs, sleep_ms, false)
}

fn engine_with(
    store: Arc<MemoryStore>,
    runs: Arc<AtomicUsize>,
    sleep_ms: u64,
    blocking: bool,
) -> Engine {
    let model = ScriptedModel::new(|_, _| unreachable!("no model in these flows"));
    Engine::builder(model, store)
        .stop_poll(Duration::from_millis(10))
        .register(move |r| {
            let runs = runs.clone();
            r.register("step", move |_, _| {
                Ok(Box::new(Step {
                    runs: runs.clone(),
                    sleep_ms,
                    blocking,
                }))
            });
            r.register("boom", |_, _| Ok(Box::new(Boom)));
        })
        .build()
}

fn chain(kinds: &[&str]) -> Value {
    let nodes: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| json!({"id": format!("n{}", i + 1), "type": k}))
        .collect();
    let edges: Vec<Value> = (1..kinds.len())
        .map(|i| json!({"id": format!("e{i}"), "source": format!("n{i}"), "target": format!("n{}", i + 1)}))
        .collect();
    json!({"nodes": nodes, "edges": edges})
}

/// `start → leaf0..leaf{n-1} → join`.
fn fanout(n: usize, leaf: &str) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "step"})];
    let mut edges = Vec::new();
    for i in 0..n {
        nodes.push(
            json!({"id": format!("leaf{i}"), "type": if i == n / 2 { leaf } else { "step" }}),
        );
        edges.push(json!({"id": format!("a{i}"), "source": "start", "target": format!("leaf{i}")}));
        edges.push(json!({"id": format!("b{i}"), "source": format!("leaf{i}"), "target": "join"}));
    }
    nodes.push(json!({"id": "join", "type": "step"}));
    json!({"nodes": nodes, "edges": edges})
}

/// Start `doc`, ask the store to stop it after `ms`, and check that the run
/// ended stopped; returns its id.
async fn stopped_after(e: &Engine, doc: &Value, ms: u64) -> String {
    let h = e
        .start("u", doc, &json!({}), &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    e.stop("u", &id).await.unwrap();
    let o = h.wait().await.unwrap();
    assert_eq!(o.status, ExecutionStatus::Stopped, "{o:?}");
    id
}

async fn output(store: &MemoryStore, id: &str, node: &str) -> Option<Value> {
    store
        .node_results("u", id)
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| *k == NodeKey::node(node))
        .map(|(_, r)| r.output)
}

#[tokio::test]
async fn a_chain_and_a_fan_out_compute_the_same_as_a_sequential_reading() {
    let store = Arc::new(MemoryStore::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let e = engine(store.clone(), runs.clone(), 0);
    let o = e
        .start(
            "u",
            &chain(&["step"; 50]),
            &json!({}),
            &RunOptions::default(),
        )
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(o.status, ExecutionStatus::Completed);
    assert_eq!(
        output(&store, &o.execution_id, "n50").await,
        Some(json!(50))
    );
    let o = e
        .start("u", &fanout(30, "step"), &json!({}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(o.status, ExecutionStatus::Completed);
    // Each leaf outputs 2 (start's 1 + 1); join adds 1.
    assert_eq!(
        output(&store, &o.execution_id, "join").await,
        Some(json!(61))
    );
    assert_eq!(runs.load(Ordering::SeqCst), 50 + 32);
}

#[tokio::test]
async fn a_panicking_node_fails_the_run_naming_it_inline_or_spawned() {
    for (doc, lone) in [
        (chain(&["step", "boom", "step"]), true),
        (fanout(6, "boom"), false),
    ] {
        let store = Arc::new(MemoryStore::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let e = engine(store.clone(), runs.clone(), 0);
        let o = e
            .start("u", &doc, &json!({}), &RunOptions::default())
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        assert_eq!(o.status, ExecutionStatus::Failed, "lone={lone}: {o:?}");
        let msg = o.message.unwrap_or_default();
        assert!(msg.contains("panicked"), "lone={lone}: {msg}");
        if lone {
            assert_eq!(o.node.as_deref(), Some("n2"), "{msg}");
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "nothing after the panic ran"
            );
        }
        let rec = store.get_execution("u", &o.execution_id).await.unwrap();
        assert_eq!(rec.status, ExecutionStatus::Failed);
    }
}

#[tokio::test]
async fn a_stop_during_a_chain_starts_nothing_more_and_resume_finishes_it() {
    let store = Arc::new(MemoryStore::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let e = engine(store.clone(), runs.clone(), 40);
    let id = stopped_after(&e, &chain(&["step"; 20]), 130).await;
    let ran = runs.load(Ordering::SeqCst);
    assert!((2..20).contains(&ran), "ran {ran}");
    // The node in flight when the stop came finished (it ignores the
    // token) and was kept; nothing after it started.
    let kept = store.node_results("u", &id).await.unwrap().len();
    assert!(kept == ran || kept + 1 == ran, "kept {kept}, ran {ran}");
    let o = e.resume("u", &id).await.unwrap().wait().await.unwrap();
    assert_eq!(o.status, ExecutionStatus::Completed);
    assert_eq!(output(&store, &id, "n20").await, Some(json!(20)));
    assert_eq!(runs.load(Ordering::SeqCst), 20 + ran - kept);
}

/// A chain of nodes that block their thread never yield to the scheduler's
/// task; the stop watcher runs as a task of its own, so a stop from the
/// store is still seen and nothing after the current node starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_seen_while_a_chain_node_blocks_its_thread() {
    let store = Arc::new(MemoryStore::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let e = engine_with(store.clone(), runs.clone(), 100, true);
    stopped_after(&e, &chain(&["step"; 8]), 150).await;
    let ran = runs.load(Ordering::SeqCst);
    assert!(ran < 8, "all {ran} nodes ran after the stop");
}
