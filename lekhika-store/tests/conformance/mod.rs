//! One conformance suite for every store: generic async checks taking the
//! four core traits as `dyn` handles (bundled in `lekhika_store::Stores`).
//! A test binary instantiates it with `conformance_suite!(factory)`, where
//! `factory` is an `async fn() -> Option<Stores>` giving a fresh, empty
//! store (`None` = backend unavailable, test skipped).
#![allow(dead_code)]

pub mod executions;
pub mod fleet;
pub mod isolation;
pub mod queue;
pub mod reuse;
pub mod wallet;

use lekhika_core::provider::Usage;
use lekhika_core::store::{ExecutionRecord, ExecutionStatus, NodeResult};
use serde_json::json;

pub use lekhika_store::Stores;

/// Generate one `#[tokio::test]` per conformance check for a factory.
/// `extra` checks (ones core's in-memory store fails) are listed separately.
#[allow(unused_macros)]
macro_rules! conformance_suite {
    ($make:path) => {
        conformance_suite!(@tests $make;
            executions::crud, executions::begin_attempt_epochs, executions::checkpoints,
            executions::stop_flags, executions::artifacts_and_books, executions::call_journal,
            isolation::others_executions, isolation::others_artifacts_and_books, isolation::others_wallet_and_ledger,
            isolation::others_calls, reuse::reuse_by_content,
            queue::claim_renew_release, queue::expiry_and_fencing, queue::concurrent_claims_are_exclusive,
            queue::runner_leases, queue::concurrent_lease_takers_are_exclusive,
            fleet::runners_list_live_leases, fleet::shared_quota_buckets,
            wallet::grant_idempotent, wallet::reserve_settle_release_idempotent,
            wallet::never_negative_under_concurrency, wallet::execution_limit, wallet::ledger_sums_match_wallet,
            wallet::ensure_period_once, wallet::sums_never_wrap);
    };
    (@tests $make:path; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(stores) = $make().await else { return };
                conformance::$module::$name(&stores).await;
            }
        )*
    };
}
#[allow(unused_imports)]
pub(crate) use conformance_suite;

static SEQ: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);

/// A pending execution owned by `owner`; `created_at_ms` increases per call.
pub fn record(owner: &str, id: &str) -> ExecutionRecord {
    let t = 1_700_000_000_000 + SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    ExecutionRecord {
        id: id.to_string(),
        owner: owner.to_string(),
        engine_id: Some("engine-1".into()),
        flow: (&json!({"nodes": [{"id": "a"}], "edges": []})).into(),
        input: json!({"title": "A Book", "chapters": 3}),
        options: json!({"concurrency": 2}),
        status: ExecutionStatus::Pending,
        message: None,
        reason: None,
        epoch: 0,
        created_at_ms: t,
        updated_at_ms: t,
        runner: None,
    }
}

/// A distinctive recorded call of `node` (and `item`) for `request`.
pub fn call(
    node: &str,
    item: Option<u32>,
    request: &str,
    seq: u32,
) -> lekhika_core::store::CallRecord {
    lekhika_core::store::CallRecord {
        node: node.to_string(),
        item,
        request: request.to_string(),
        seq,
        kind: lekhika_core::store::CallKind::Text,
        provider: "mock".into(),
        model: "m-1".into(),
        reply: json!({"text": format!("reply to {request}"), "finish": "stop",
                      "usage": {"input_tokens": 12, "output_tokens": 34}, "model": "m-1"}),
        usage: Usage {
            input_tokens: 12,
            output_tokens: 34,
        },
        cost: 46,
        charge: Some(format!("charge/{node}/{request}")),
        recorded_at_ms: 1_700_000_000_000,
        requests: 1 + seq % 3,
        content: None,
        reused_from: None,
    }
}

/// A distinctive node result.
pub fn result(text: &str, cost: u64) -> NodeResult {
    NodeResult {
        output: json!({"text": text}),
        usage: Usage {
            input_tokens: 123,
            output_tokens: 456,
        },
        cost,
        attempts: 1,
        provider: Some("mock".into()),
        model: Some("m-1".into()),
        started_at_ms: 10,
        finished_at_ms: 20,
        metrics: json!({"words": text.split_whitespace().count()}),
        charges: vec![lekhika_core::store::Charge {
            key: format!("charge/{text}"),
            amount: cost as i64,
        }],
    }
}

/// A unique id so checks never collide inside one store.
pub fn uid(prefix: &str) -> String {
    format!("{prefix}-{}", lekhika_core::util::new_id())
}
