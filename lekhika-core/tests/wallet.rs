#![allow(clippy::unwrap_used)]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{ProviderError, ProviderErrorKind};
use lekhika_core::store::ExecutionStatus;
use lekhika_core::testing::ScriptedModel;
use lekhika_core::wallet::{
    LedgerKind, MemoryWalletStore, ModelPrice, PriceBook, ReserveOutcome, ReserveRequest,
    TierFeatures, TierPolicy, WalletStore,
};
use lekhika_core::{Engine, EngineError, Event, RunOptions, RunOutcome};
use serde_json::json;

fn prices() -> PriceBook {
    PriceBook::new(["planner", "writer"].map(|m| ModelPrice {
        provider: "scripted".into(),
        model: m.into(),
        input_per_1k: 10.0,
        output_per_1k: 20.0,
        ..Default::default()
    }))
}

/// Run the book flow (one chapter writer at a time) for `user` to its end.
async fn run_book(
    engine: &Engine,
    user: &str,
    chapters: u32,
    opts: &RunOptions,
) -> (Vec<Event>, RunOutcome) {
    let input = json!({"title": "T", "chapters": chapters});
    let h = engine
        .start(user, &book_flow(1), &input, opts)
        .await
        .unwrap();
    run_to_end(h).await
}

fn metered(
    model: Arc<ScriptedModel>,
    store: Arc<MemoryStore>,
    wallet: Arc<MemoryWalletStore>,
) -> Engine {
    Engine::builder(model, store.clone())
        .artifacts(store)
        .wallet(wallet)
        .prices(prices())
        .stop_poll(Duration::from_millis(20))
        .build()
}

/// Ledger and wallet agree: grants - settled = balance + reserved; nothing left open.
async fn assert_consistent(w: &MemoryWalletStore, user: &str) {
    let wallet = w.wallet(user).await.unwrap().unwrap();
    let ledger = w.ledger(user, None).await.unwrap();
    let sum = |k: LedgerKind| {
        ledger
            .iter()
            .filter(|e| e.kind == k)
            .map(|e| e.amount)
            .sum::<i64>()
    };
    assert_eq!(sum(LedgerKind::Grant), wallet.total_earned);
    assert_eq!(sum(LedgerKind::Settle), wallet.total_spent);
    assert_eq!(
        wallet.total_earned - wallet.total_spent,
        wallet.balance + wallet.reserved
    );
    assert!(wallet.balance >= 0);
    // Every key settles or releases at most once.
    let mut keys = std::collections::HashMap::new();
    for e in &ledger {
        if matches!(e.kind, LedgerKind::Settle | LedgerKind::Release) {
            *keys.entry(e.key.clone()).or_insert(0) += 1;
        }
    }
    assert!(
        keys.values().all(|&n| n == 1),
        "a reservation was closed twice"
    );
}

#[tokio::test]
async fn exact_balances_after_a_run_with_known_usage() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet.grant("u", 10_000, "signup", None).await.unwrap();
    let engine = metered(model, store, wallet.clone());
    let h = engine
        .start(
            "u",
            &book_flow(2),
            &json!({"title": "T", "chapters": 5}),
            &RunOptions::default(),
        )
        .await
        .unwrap();
    let (events, out) = run_to_end(h).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    // outline 100 in / 200 out → ceil(1 + 4) = 5; 5 chapters and a blurb at 50/100 → ceil(0.5 + 2) = 3 each.
    assert_eq!(out.cost, 5 + 5 * 3 + 3);
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.balance, 10_000 - 23);
    assert_eq!(w.total_spent, 23);
    assert_eq!(w.reserved, 0);
    assert_consistent(&wallet, "u").await;
    let costs: i64 = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NodeFinished { cost, .. } => Some(*cost),
            _ => None,
        })
        .sum();
    assert_eq!(costs, 23);
    let report = engine.report("u", &out.execution_id).await.unwrap();
    assert_eq!(report.cost, 23);
    assert_eq!(report.usage.input_tokens, 100 + 6 * 50);
}

#[tokio::test]
async fn a_run_that_runs_dry_pauses_and_resumes_after_a_grant_with_only_the_rest() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet.grant("u", 40, "g1", None).await.unwrap();
    let engine = metered(model.clone(), store, wallet.clone());
    let opts = RunOptions {
        max_concurrency: Some(1),
        ..RunOptions::default()
    };
    let (events, out) = run_book(&engine, "u", 12, &opts).await;
    assert_eq!(out.status, ExecutionStatus::Paused, "{out:?}");
    assert_eq!(out.reason.as_deref(), Some("insufficient_tokens"));
    assert!(out
        .message
        .as_deref()
        .unwrap()
        .contains("insufficient tokens"));
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::RunPaused { .. })
    ));
    assert_consistent(&wallet, "u").await;
    let calls_before = model.calls();
    assert!(calls_before > 2 && calls_before < 14, "{calls_before}");

    wallet.grant("u", 1_000, "g2", None).await.unwrap();
    let (_, out) = run_to_end(engine.resume("u", &out.execution_id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    // Every prompt was sent exactly once across both runs: nothing re-run.
    let prompts = model.prompts();
    assert_eq!(prompts.len(), 14);
    let unique: std::collections::HashSet<_> = prompts.iter().collect();
    assert_eq!(unique.len(), 14);
    assert_eq!(out.cost, 5 + 13 * 3);
    assert_eq!(
        wallet.wallet("u").await.unwrap().unwrap().total_spent,
        5 + 13 * 3
    );
    assert_consistent(&wallet, "u").await;
}

#[tokio::test]
async fn no_double_charge_across_stop_crash_retries_and_regenerate() {
    let flaky = Arc::new(AtomicBool::new(true));
    let f = flaky.clone();
    let model = ScriptedModel::with_delay(Duration::from_millis(20), move |r, _| {
        if r.messages[0].content.starts_with("WRITE chapter 2:") && f.swap(false, Ordering::SeqCst)
        {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::Overloaded,
                "busy",
            ));
        }
        book_answer(r)
    });
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet.grant("u", 100_000, "g", None).await.unwrap();
    let engine = metered(model.clone(), store, wallet.clone());
    let mut flow = book_flow(2);
    flow["nodes"][2]["data"]["node"]["retry"] = json!({"attempts": 3, "base_ms": 1, "max_ms": 2});
    let mut h = engine
        .start(
            "u",
            &flow,
            &json!({"title": "T", "chapters": 8}),
            &RunOptions::default(),
        )
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let mut ev = h.events().unwrap();
    while let Some(e) = ev.recv().await {
        if matches!(e.kind, EventKind::NodeFinished { item: Some(3), .. }) {
            h.stop();
        }
        if e.kind.is_terminal() {
            break;
        }
    }
    assert_eq!(h.wait().await.unwrap().status, ExecutionStatus::Stopped);
    assert_consistent(&wallet, "u").await;

    // A crashed process leaves a reservation open; resume must release it.
    let r = wallet
        .reserve(&ReserveRequest {
            user_id: "u".into(),
            key: format!("{id}/write/7/e1/a1/c0"),
            execution_id: id.clone(),
            node_id: "write".into(),
            amount: 50,
            execution_limit: None,
        })
        .await
        .unwrap();
    assert_eq!(r, ReserveOutcome::Reserved);
    let (_, out) = run_to_end(engine.resume("u", &id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    assert!(wallet.open_reservations("u", &id).await.unwrap().is_empty());
    assert_consistent(&wallet, "u").await;
    // Charged exactly for finished work: outline, blurb and 8 chapters.
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.total_spent, 5 + 3 + 8 * 3);
    assert_eq!(out.cost, w.total_spent);

    // Regenerate charges only the new work, once.
    let (_, out) = run_to_end(
        engine
            .regenerate("u", &id, "blurb", Some("shorter"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.total_spent, 5 + 3 + 8 * 3 + 3);
    assert_consistent(&wallet, "u").await;
}

#[tokio::test]
async fn hundreds_of_parallel_reservations_never_overdraw() {
    let wallet = Arc::new(MemoryWalletStore::new());
    wallet.grant("u", 1_000, "g", None).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..300 {
        let w = wallet.clone();
        set.spawn(async move {
            w.reserve(&ReserveRequest {
                user_id: "u".into(),
                key: format!("k{i}"),
                execution_id: "x".into(),
                node_id: "n".into(),
                amount: 7,
                execution_limit: None,
            })
            .await
            .unwrap()
        });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        if r.unwrap() == ReserveOutcome::Reserved {
            ok += 1;
        }
    }
    assert_eq!(ok, 142);
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!((w.balance, w.reserved), (6, 994));
}

#[tokio::test]
async fn the_estimate_bounds_the_real_cost() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet.grant("u", 100_000, "g", None).await.unwrap();
    let engine = metered(model, store, wallet.clone());
    let input = json!({"title": "T", "chapters": 6});
    let est = engine
        .estimate(&book_flow(2), &input, &RunOptions::default())
        .unwrap();
    assert!(est.missing_prices.is_empty());
    let write = est.nodes.iter().find(|n| n.node == "write").unwrap();
    assert!(
        write.expected.calls >= 6,
        "map estimated from expected_items: {write:?}"
    );
    let (_, out) = run_to_end(
        engine
            .start("u", &book_flow(2), &input, &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert!(
        est.worst.cost >= out.cost,
        "estimate {} < real {}",
        est.worst.cost,
        out.cost
    );
    assert!(est.expected.cost <= est.worst.cost);
    // and bounds the largest reservation any single call made
    let biggest = wallet
        .ledger("u", Some(&out.execution_id))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == LedgerKind::Reserve)
        .map(|e| e.amount)
        .max()
        .unwrap();
    assert!(est.worst.cost >= biggest, "{} < {biggest}", est.worst.cost);
}

#[tokio::test]
async fn tier_features_are_enforced_before_anything_is_spent() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet
        .put_tier_policy(&TierPolicy {
            level: "starter".into(),
            monthly_allocation: 500,
            per_execution_limit: Some(30),
            features: TierFeatures {
                allowed_models: Some(vec!["planner".into()]),
                allowed_node_kinds: None,
                allowed_export_formats: None,
            },
        })
        .await
        .unwrap();
    wallet.set_level("u", Some("starter")).await.unwrap();
    let engine = metered(model.clone(), store, wallet.clone());
    let err = engine
        .start(
            "u",
            &book_flow(1),
            &json!({"title": "T"}),
            &RunOptions::default(),
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(err, EngineError::TierDenied { .. }));
    assert!(
        err.to_string()
            .contains("model `scripted/writer` is not included"),
        "{err}"
    );
    assert_eq!(model.calls(), 0);
    assert_eq!(wallet.wallet("u").await.unwrap().unwrap().total_spent, 0);
}

#[tokio::test]
async fn the_per_execution_limit_pauses_the_run_and_allocation_is_granted_once_a_period() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    wallet
        .put_tier_policy(&TierPolicy {
            level: "pro".into(),
            monthly_allocation: 5_000,
            per_execution_limit: Some(40),
            features: TierFeatures::default(),
        })
        .await
        .unwrap();
    wallet.set_level("u", Some("pro")).await.unwrap();
    let engine = metered(model, store, wallet.clone());
    let (_, out) = run_book(&engine, "u", 10, &RunOptions::default()).await;
    assert_eq!(out.status, ExecutionStatus::Paused);
    assert_eq!(out.reason.as_deref(), Some("execution_limit_exceeded"));
    assert!(out.cost <= 40);
    // The allocation arrived once, even across two runs in the same period.
    let _ = engine
        .resume("u", &out.execution_id)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let grants: Vec<_> = wallet
        .ledger("u", None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == LedgerKind::Grant)
        .collect();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].amount, 5_000);
    assert!(wallet
        .wallet("u")
        .await
        .unwrap()
        .unwrap()
        .current_period
        .is_some());
    assert_consistent(&wallet, "u").await;
}

#[tokio::test]
async fn a_user_without_a_wallet_runs_unmetered_with_usage_recorded() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let (store, wallet) = (
        Arc::new(MemoryStore::new()),
        Arc::new(MemoryWalletStore::new()),
    );
    let engine = metered(model, store, wallet.clone());
    let (_, out) = run_book(&engine, "solo", 2, &RunOptions::default()).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    assert_eq!(out.usage.output_tokens, 200 + 3 * 100);
    assert!(wallet.wallet("solo").await.unwrap().is_none());
    assert!(wallet.ledger("solo", None).await.unwrap().is_empty());
}
