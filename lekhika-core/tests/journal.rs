#![allow(clippy::unwrap_used)]

//! The call journal seen from host-written nodes: a node that runs again
//! (retry after its own timeout or a retryable failure) replays the calls it
//! completed and asks only for the rest; nested work asked through
//! `NodeContext::run_nested` replays the same way; a changed prompt is asked
//! anew; regenerate forgets the journal.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{engine, run_to_end};
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::node::{BuiltNode, ItemScope, Job};
use lekhika_core::provider::{ChatMessage, TextRequest};
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{EventKind, Node, NodeContext, NodeError, NodeOutput, RunOptions};
use serde_json::{json, Value};

fn ask(prompt: &str) -> TextRequest {
    TextRequest {
        provider: "scripted".into(),
        model: "m".into(),
        system: None,
        messages: vec![ChatMessage::user(prompt)],
        temperature: None,
        max_tokens: 50,
        output: Default::default(),
        stream: false,
    }
}

/// Asks "first" and "second", then fails (retryably) the first `fail` times.
struct TwoCalls {
    fail: u32,
    failed: AtomicU32,
}

#[async_trait]
impl Node for TwoCalls {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let a = ctx.generate_text(&ask("first")).await?;
        let b = ctx.generate_text(&ask("second")).await?;
        if self.failed.fetch_add(1, Ordering::SeqCst) < self.fail {
            return Err(NodeError::Failed {
                message: "a host hiccup".into(),
                retryable: true,
            });
        }
        Ok(NodeOutput::new(json!([a.text, b.text])))
    }
}

fn one_node(kind: &str, data: Value) -> Value {
    json!({"nodes": [{"id": "n", "type": kind, "data": data}], "edges": []})
}

#[tokio::test]
async fn a_retried_host_node_replays_its_finished_calls() {
    let model = ScriptedModel::new(|r, _| {
        Ok(ScriptedModel::reply(
            format!("re: {}", r.messages[0].content),
            3,
            4,
        ))
    });
    let store = Arc::new(MemoryStore::new());
    let e = lekhika_core::Engine::builder(model.clone(), store.clone())
        .register(|r| {
            r.register("two_calls", |_, _| {
                Ok(Box::new(TwoCalls {
                    fail: 2,
                    failed: AtomicU32::new(0),
                }))
            })
        })
        .build();
    let doc = one_node(
        "two_calls",
        json!({"retry": {"attempts": 3, "base_ms": 1, "max_ms": 2}}),
    );
    let (events, out) = run_to_end(
        e.start("u", &doc, &json!({}), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    assert_eq!(
        model.calls(),
        2,
        "three attempts, two calls asked once each"
    );
    let replays = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CallReplayed { .. }))
        .count();
    assert_eq!(replays, 4, "attempts 2 and 3 replay both calls");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::NodeRetrying { .. }))
            .count(),
        2
    );
    // The node's usage counts each call once; so does the run's.
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    assert_eq!(results[0].1.usage.input_tokens, 6);
    assert_eq!(out.usage.input_tokens, 6);
    assert_eq!(results[0].1.output, json!(["re: first", "re: second"]));
    let calls = store.calls("u", &out.execution_id).await.unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].seq, calls[1].seq), (0, 1));
}

/// Echoes prompts; the first ask of "second" takes 300 ms.
#[derive(Default)]
struct SlowSecond {
    asked: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl lekhika_core::provider::ModelProvider for SlowSecond {
    async fn generate_text(
        &self,
        req: &TextRequest,
        _on_delta: lekhika_core::provider::DeltaSink<'_>,
    ) -> Result<lekhika_core::provider::TextResponse, lekhika_core::provider::ProviderError> {
        let prompt = req.messages[0].content.clone();
        let first_time = {
            let mut asked = self.asked.lock().unwrap();
            asked.push(prompt.clone());
            asked.iter().filter(|p| **p == prompt).count() == 1
        };
        if prompt == "second" && first_time {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Ok(ScriptedModel::reply(prompt, 1, 1))
    }
}

#[tokio::test]
async fn a_node_timeout_retries_the_node_and_replays_the_calls_before_it() {
    // The second call is slow the first time: the node's timeout fires; the
    // retry replays the first call and asks the second again.
    let model = Arc::new(SlowSecond::default());
    let store = Arc::new(MemoryStore::new());
    let wallet = Arc::new(lekhika_core::wallet::MemoryWalletStore::new());
    lekhika_core::wallet::WalletStore::grant(&*wallet, "u", 1_000_000, "g", None)
        .await
        .unwrap();
    let e = lekhika_core::Engine::builder(model.clone(), store.clone())
        .wallet(wallet.clone())
        .prices(lekhika_core::wallet::PriceBook::new([
            lekhika_core::wallet::ModelPrice {
                provider: "scripted".into(),
                model: "m".into(),
                input_per_1k: 1000.0,
                output_per_1k: 1000.0,
                ..Default::default()
            },
        ]))
        .register(|r| {
            r.register("two_calls", |_, _| {
                Ok(Box::new(TwoCalls {
                    fail: 0,
                    failed: AtomicU32::new(0),
                }))
            })
        })
        .build();
    let doc = one_node(
        "two_calls",
        json!({"timeout_ms": 150, "retry": {"attempts": 3, "base_ms": 1, "max_ms": 2}}),
    );
    let out = e
        .start("u", &doc, &json!({}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let asked = model.asked.lock().unwrap().clone();
    assert_eq!(asked, vec!["first", "second", "second"]);
    assert_eq!(out.usage.input_tokens, 2, "the abandoned call is not paid");
    // The abandoned call's reservation was returned, not left open.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let w = lekhika_core::wallet::WalletStore::wallet(&*wallet, "u")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((w.reserved, w.total_spent), (0, out.cost));
    assert_eq!(out.cost, 4);
}

/// Runs a text node config over three jobs with `run_nested`, then fails
/// (retryably) once.
struct Panel {
    inner: BuiltNode,
    failed: AtomicU32,
}

#[async_trait]
impl Node for Panel {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let jobs = (0..3)
            .map(|i| {
                Job::new(
                    ItemScope {
                        index: i,
                        item: json!({"who": format!("judge {i}")}),
                        ..ItemScope::default()
                    },
                    None,
                )
            })
            .collect();
        let results = ctx.run_nested(&self.inner, jobs, 2).await?;
        if self.failed.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(NodeError::Failed {
                message: "the panel lost its notes".into(),
                retryable: true,
            });
        }
        Ok(NodeOutput::new(Value::Array(
            results.into_iter().map(|r| r.output).collect(),
        )))
    }
}

#[tokio::test]
async fn nested_work_of_a_host_node_is_replayed_when_the_host_runs_again() {
    let model = ScriptedModel::new(|r, _| {
        Ok(ScriptedModel::reply(
            format!("verdict of {}", r.messages[0].content),
            2,
            2,
        ))
    });
    let store = Arc::new(MemoryStore::new());
    let e = lekhika_core::Engine::builder(model.clone(), store.clone())
        .register(|r| {
            r.register("panel", |spec, registry| {
                let inner = lekhika_core::flow::NodeSpec {
                    id: spec.id.clone(),
                    kind: "text".into(),
                    config: json!({"provider": "scripted", "model": "m", "max_tokens": 20,
                                   "prompt": "{{item.who}}"})
                    .as_object()
                    .unwrap()
                    .clone(),
                };
                let inner = registry.build(&inner, &Default::default())?;
                Ok(Box::new(Panel {
                    inner,
                    failed: AtomicU32::new(0),
                }))
            })
        })
        .build();
    let doc = one_node(
        "panel",
        json!({"retry": {"attempts": 2, "base_ms": 1, "max_ms": 2}}),
    );
    let out = e
        .start("u", &doc, &json!({}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    assert_eq!(model.calls(), 3, "each judge asked once, over two attempts");
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    assert_eq!(
        results[0].1.output,
        json!([
            "verdict of judge 0",
            "verdict of judge 1",
            "verdict of judge 2"
        ])
    );
    assert_eq!(
        results[0].1.usage.input_tokens, 6,
        "nested usage is the host's"
    );
    let calls = store.calls("u", &out.execution_id).await.unwrap();
    assert!(calls.iter().all(|c| c.node == "n" && c.item.is_none()));

    // Regenerate forgets the journal: the judges are asked again.
    let again = e
        .regenerate("u", &out.execution_id, "n", None)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(again.status, ExecutionStatus::Completed);
    assert_eq!(model.calls(), 6);
}

#[tokio::test]
async fn a_changed_prompt_is_asked_anew_on_resume() {
    // A stopped run whose prompt template changes meanwhile (a regenerate
    // instruction) must not replay the old reply.
    let model =
        ScriptedModel::new(|r, _| Ok(ScriptedModel::reply(r.messages[0].content.clone(), 1, 1)));
    let store = Arc::new(MemoryStore::new());
    let e = engine(model.clone(), store.clone());
    let doc = one_node(
        "text",
        json!({"provider": "scripted", "model": "m", "max_tokens": 20, "prompt": "hello"}),
    );
    let out = e
        .start("u", &doc, &json!({}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed);
    let again = e
        .regenerate("u", &out.execution_id, "n", Some("shorter"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(again.status, ExecutionStatus::Completed);
    assert_eq!(model.prompts(), vec!["hello", "hello\n\nshorter"]);
}
