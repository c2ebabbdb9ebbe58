//! Honest usage: calls given up mid-reply (a cut stream retried, a stop)
//! count in the run's usage with their estimated tokens, are never charged
//! and never replayed; usage a server did not report is shown as estimated.
#![allow(clippy::unwrap_used)]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{
    DeltaSink, FinishReason, ModelProvider, ProviderError, ProviderErrorKind, TextRequest,
    TextResponse, Usage,
};
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::wallet::{MemoryWalletStore, ModelPrice, PriceBook, WalletStore};
use lekhika_core::{Engine, RunOptions};
use serde_json::{json, Value};

const HALF: &str = "The sea took what it wanted, and the town let it. ";

/// Streams half a reply; then, per call number: fails with a cut stream
/// (`cut` calls), hangs (`hang`), or finishes with reported usage.
struct Streamer {
    calls: AtomicUsize,
    cut: usize,
    hang: bool,
    report_usage: bool,
}

#[async_trait]
impl ModelProvider for Streamer {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        for _ in 0..20 {
            on_delta(HALF);
        }
        if n < self.cut {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::StreamCut,
                "the stream ended before [DONE]",
            ));
        }
        if self.hang && n == 0 {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        let text = HALF.repeat(40);
        let (usage, usage_estimated) = if self.report_usage {
            (
                Usage {
                    input_tokens: 30,
                    output_tokens: 500,
                },
                false,
            )
        } else {
            (lekhika_core::tokens::estimate_usage(req, &text), true)
        };
        Ok(TextResponse {
            text,
            finish: FinishReason::Stop,
            usage,
            usage_estimated,
            model: req.model.clone(),
            notices: Vec::new(),
            served_by: None,
        })
    }
}

fn flow() -> Value {
    json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": []}},
        {"id": "n", "type": "text", "data": {"provider": "scripted", "model": "gpt-5-mini",
            "max_tokens": 2000, "prompt": "Write a chapter.",
            "retry": {"attempts": 3, "base_ms": 1, "max_ms": 2}}}
    ], "edges": [{"source": "in", "target": "n"}]})
}

async fn metered(model: Arc<Streamer>) -> (Engine, Arc<MemoryStore>, Arc<MemoryWalletStore>) {
    let store = Arc::new(MemoryStore::new());
    let wallet = Arc::new(MemoryWalletStore::new());
    wallet.grant("u", 1_000_000, "g", None).await.unwrap();
    let engine = Engine::builder(model, store.clone())
        .wallet(wallet.clone())
        .stop_poll(Duration::from_millis(20))
        .prices(PriceBook::new([ModelPrice {
            provider: "scripted".into(),
            model: "gpt-5-mini".into(),
            input_per_1k: 1000.0,
            output_per_1k: 1000.0,
            ..Default::default()
        }]))
        .build();
    (engine, store, wallet)
}

#[tokio::test]
async fn a_cut_stream_that_is_retried_counts_its_tokens_but_is_not_charged() {
    let model = Arc::new(Streamer {
        calls: AtomicUsize::new(0),
        cut: 1,
        hang: false,
        report_usage: true,
    });
    let (engine, store, wallet) = metered(model.clone()).await;
    let h = engine
        .start("u", &flow(), &json!({}), &RunOptions::default())
        .await
        .unwrap();
    let (_, out) = run_to_end(h).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    assert_eq!(model.calls.load(Ordering::SeqCst), 2);

    let calls = store.calls("u", &out.execution_id).await.unwrap();
    assert_eq!(calls.len(), 2);
    let abandoned: Vec<_> = calls.iter().filter(|c| c.is_abandoned()).collect();
    assert_eq!(abandoned.len(), 1);
    let a = abandoned[0];
    let streamed = HALF.repeat(20);
    assert_eq!(
        a.usage.output_tokens,
        lekhika_core::tokens::count_tokens("gpt-5-mini", &streamed)
    );
    assert!(a.usage.input_tokens > 0);
    assert_eq!((a.cost, a.charge.clone()), (0, None));
    assert!(a.reply["why"].as_str().unwrap().contains("before [DONE]"));

    let r = engine.report("u", &out.execution_id).await.unwrap();
    assert_eq!((r.calls, r.abandoned_calls), (1, 1));
    assert_eq!(r.usage.output_tokens, 500 + a.usage.output_tokens);
    assert_eq!(r.usage.input_tokens, 30 + a.usage.input_tokens);
    assert_eq!(
        r.usage_estimated, a.usage,
        "only the abandoned try is estimated"
    );
    // The wallet paid for the complete reply only.
    assert_eq!(r.cost, 530);
    assert_eq!(wallet.wallet("u").await.unwrap().unwrap().total_spent, 530);
    // The node's usage is the same as the run's.
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let node = results.iter().find(|(k, _)| k.node == "n").unwrap();
    assert_eq!(node.1.usage, r.usage);
}

#[tokio::test]
async fn a_call_stopped_mid_reply_counts_and_is_asked_again_on_resume() {
    let model = Arc::new(Streamer {
        calls: AtomicUsize::new(0),
        cut: 0,
        hang: true,
        report_usage: false,
    });
    let (engine, store, _wallet) = metered(model.clone()).await;
    let mut h = engine
        .start("u", &flow(), &json!({}), &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let mut events = h.events().unwrap();
    while let Some(e) = events.recv().await {
        if matches!(e.kind, EventKind::TokenDelta { .. }) {
            break;
        }
    }
    engine.stop("u", &id).await.unwrap();
    let out = h.wait().await.unwrap();
    assert_eq!(out.status, ExecutionStatus::Stopped, "{:?}", out.message);
    let r = engine.report("u", &id).await.unwrap();
    assert_eq!((r.calls, r.abandoned_calls), (0, 1));
    assert!(r.usage.output_tokens > 0);
    assert_eq!(r.usage_estimated, r.usage);
    assert_eq!(r.cost, 0);

    // The abandoned call is never replayed: the resume asks again.
    let (_, out) = run_to_end(engine.resume("u", &id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    assert_eq!(model.calls.load(Ordering::SeqCst), 2);
    let r = engine.report("u", &id).await.unwrap();
    assert_eq!((r.calls, r.abandoned_calls), (1, 1));
    // The server reported no usage for the complete reply either: all estimated.
    assert_eq!(r.usage_estimated, r.usage);
    let calls = store.calls("u", &id).await.unwrap();
    let full = calls.iter().find(|c| !c.is_abandoned()).unwrap();
    assert!(full.usage_estimated());
    assert!(r.cost > 0);
}
