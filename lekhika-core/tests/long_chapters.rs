//! Issue 20 on the in-process model: a chapter grown by appending replays
//! the steps it has when it runs again (a failed run resumed), asking the
//! model only for the rest.
#![allow(clippy::unwrap_used)]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{ProviderError, ProviderErrorKind};
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::RunOptions;
use serde_json::json;

fn flow() -> serde_json::Value {
    json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": []}},
        {"id": "ch", "type": "text", "data": {"provider": "scripted", "model": "m", "max_tokens": 2000,
            "prompt": "WRITE 1000", "retry": {"attempts": 1},
            "length": {"target_words": 1000, "expand_prompt": "EXPAND {aim}", "tighten_prompt": "TIGHTEN {aim}",
                "append": {"prompt": "APPEND has {delivered} of {requested}, next {step}: {tail}", "tail_words": 50}}}}
    ], "edges": [{"source": "in", "target": "ch"}]})
}

/// 200 fresh words per reply, numbered by the words the text already has.
fn words_from(start: u64) -> String {
    (start..start + 200)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ")
        + "."
}

#[tokio::test]
async fn a_resumed_chapter_keeps_the_continuations_it_has() {
    let fail = Arc::new(AtomicBool::new(true));
    let f = fail.clone();
    let model = ScriptedModel::new(move |r, _| {
        let last = &r.messages.last().unwrap().content;
        let have: u64 = last
            .strip_prefix("APPEND has ")
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // The third continuation fails for good while `fail` is set.
        if have >= 600 && f.load(Ordering::SeqCst) {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::BadRequest,
                "refused",
            ));
        }
        Ok(ScriptedModel::reply(words_from(have), 10, 200))
    });
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let (_, out) = run_to_end(
        engine
            .start("u", &flow(), &json!({}), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed, "{:?}", out.message);
    // The draft, two continuations, and the failed third.
    assert_eq!(model.calls(), 4);

    fail.store(false, Ordering::SeqCst);
    let (events, out) = run_to_end(engine.resume("u", &out.execution_id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let replayed = events
        .iter()
        .filter(|e| matches!(e.kind, lekhika_core::exec::EventKind::CallReplayed { .. }))
        .count();
    assert_eq!(replayed, 3, "the draft and two continuations are replayed");
    // Asked again: the third continuation, then the rest up to ~1000 words.
    let all = model.requests();
    assert_eq!(
        all.len(),
        6,
        "the resume asked only the third and fourth continuations"
    );
    let second: Vec<_> = all[4..]
        .iter()
        .map(|r| r.messages.last().unwrap().content.clone())
        .collect();
    assert!(second[0].starts_with("APPEND has 600"), "{second:?}");
    assert!(second.iter().all(|p| p.starts_with("APPEND")), "{second:?}");
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let ch = &results.iter().find(|(k, _)| k.node == "ch").unwrap().1;
    assert_eq!(ch.metrics["delivered_words"], 1000, "{}", ch.metrics);
    assert!(ch.metrics["length_score"].as_f64().unwrap() >= 99.0);
    assert_eq!(ch.metrics["length_appends"], 4);
}
