//! Wallets: idempotent grants and reservations, a never-negative balance,
//! execution limits, ledger consistency and monthly allocations.

use std::sync::Arc;

use lekhika_core::store::StoreError;
use lekhika_core::wallet::{
    LedgerKind, ReserveOutcome, ReserveRequest, TierFeatures, TierPolicy, Wallet,
};
use tokio::task::JoinSet;

use super::{uid, Stores};

fn req(user: &str, key: &str, execution: &str, amount: i64, limit: Option<i64>) -> ReserveRequest {
    ReserveRequest {
        user_id: user.to_string(),
        key: key.to_string(),
        execution_id: execution.to_string(),
        node_id: format!("node-of-{key}"),
        amount,
        execution_limit: limit,
    }
}

fn nums(w: &Wallet) -> (i64, i64, i64, i64) {
    (w.balance, w.reserved, w.total_earned, w.total_spent)
}

pub async fn grant_idempotent(s: &Stores) {
    let u = uid("alice");
    assert_eq!(s.wallet.wallet(&u).await.unwrap(), None);
    let w = s
        .wallet
        .grant(&u, 100, "grant:welcome", Some("welcome"))
        .await
        .unwrap();
    assert_eq!(nums(&w), (100, 0, 100, 0));
    let again = s
        .wallet
        .grant(&u, 100, "grant:welcome", Some("welcome"))
        .await
        .unwrap();
    assert_eq!(again, w, "same key: nothing changes");
    let err = s
        .wallet
        .grant(&u, -5, "grant:negative", None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err:?}");
    s.wallet.grant(&u, 0, "grant:zero", None).await.unwrap();
    let ledger = s.wallet.ledger(&u, None).await.unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!(
        (ledger[0].kind, ledger[0].amount, ledger[0].note.as_deref()),
        (LedgerKind::Grant, 100, Some("welcome"))
    );
    let w = s
        .wallet
        .grant(&u, 30, "allocation:2026-11", None)
        .await
        .unwrap();
    assert_eq!(w.current_period.as_deref(), Some("2026-11"));
    assert_eq!(w.balance, 130);
    let w = s.wallet.set_level(&u, Some("pro")).await.unwrap();
    assert_eq!((w.level.as_deref(), w.balance), (Some("pro"), 130));
    let fresh = s.wallet.set_level(&uid("carol"), None).await.unwrap();
    assert_eq!(nums(&fresh), (0, 0, 0, 0));
}

pub async fn reserve_settle_release_idempotent(s: &Stores) {
    let u = uid("alice");
    let w = &s.wallet;
    assert_eq!(
        w.reserve(&req(&u, "k0", "e1", 10, None)).await.unwrap(),
        ReserveOutcome::Unmetered
    );
    w.grant(&u, 100, "g", None).await.unwrap();
    assert_eq!(
        w.reserve(&req(&u, "k1", "e1", 50, None)).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        w.reserve(&req(&u, "k1", "e1", 50, None)).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        nums(&w.wallet(&u).await.unwrap().unwrap()),
        (50, 50, 100, 0)
    );
    assert_eq!(
        w.reserve(&req(&u, "k2", "e1", 51, None)).await.unwrap(),
        ReserveOutcome::InsufficientTokens {
            needed: 51,
            available: 50
        }
    );
    w.settle(&u, "k1", 30).await.unwrap();
    w.settle(&u, "k1", 45).await.unwrap();
    w.release(&u, "k1").await.unwrap();
    assert_eq!(
        nums(&w.wallet(&u).await.unwrap().unwrap()),
        (70, 0, 100, 30)
    );

    assert_eq!(
        w.reserve(&req(&u, "k2", "e1", 20, None)).await.unwrap(),
        ReserveOutcome::Reserved
    );
    w.release(&u, "k2").await.unwrap();
    w.release(&u, "k2").await.unwrap();
    w.settle(&u, "k2", 20).await.unwrap();
    assert_eq!(
        nums(&w.wallet(&u).await.unwrap().unwrap()),
        (70, 0, 100, 30)
    );
    // A settled or released key stays used: reserving it again changes nothing.
    assert_eq!(
        w.reserve(&req(&u, "k2", "e1", 20, None)).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        nums(&w.wallet(&u).await.unwrap().unwrap()),
        (70, 0, 100, 30)
    );

    // Over-run: the extra comes from the balance, down to zero at most.
    assert_eq!(
        w.reserve(&req(&u, "k3", "e1", 10, None)).await.unwrap(),
        ReserveOutcome::Reserved
    );
    w.settle(&u, "k3", 500).await.unwrap();
    assert_eq!(
        nums(&w.wallet(&u).await.unwrap().unwrap()),
        (0, 0, 100, 100)
    );
    let settle = w
        .ledger(&u, Some("e1"))
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap();
    assert_eq!(
        (settle.kind, settle.amount, settle.key.as_str()),
        (LedgerKind::Settle, 70, "k3")
    );
    assert_eq!(settle.node_id.as_deref(), Some("node-of-k3"));

    let err = w.settle(&u, "never-reserved", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    w.release(&u, "never-reserved").await.unwrap();
    let kinds: Vec<LedgerKind> = w
        .ledger(&u, Some("e1"))
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    use LedgerKind::*;
    assert_eq!(
        kinds,
        vec![Reserve, Settle, Reserve, Release, Reserve, Settle]
    );
}

pub async fn never_negative_under_concurrency(s: &Stores) {
    let u = uid("alice");
    s.wallet.grant(&u, 1_000, "g", None).await.unwrap();
    let mut set = JoinSet::new();
    for i in 0..200 {
        let w = Arc::clone(&s.wallet);
        let u = u.clone();
        set.spawn(async move {
            w.reserve(&req(&u, &format!("k{i}"), "e1", 7, None))
                .await
                .unwrap()
        });
    }
    let (mut ok, mut short) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            ReserveOutcome::Reserved => ok += 1,
            ReserveOutcome::InsufficientTokens { available, .. } => {
                assert!(
                    (0..7).contains(&available),
                    "refused while {available} was free"
                );
                short += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, short), (142, 58));
    let w = s.wallet.wallet(&u).await.unwrap().unwrap();
    assert_eq!(nums(&w), (6, 994, 1_000, 0));
    assert_eq!(
        s.wallet.open_reservations(&u, "e1").await.unwrap().len(),
        142
    );
}

pub async fn execution_limit(s: &Stores) {
    let u = uid("alice");
    let w = &s.wallet;
    w.grant(&u, 1_000, "g", None).await.unwrap();
    assert_eq!(
        w.reserve(&req(&u, "a", "e1", 60, Some(100))).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        w.reserve(&req(&u, "b", "e1", 50, Some(100))).await.unwrap(),
        ReserveOutcome::ExecutionLimitExceeded {
            needed: 50,
            limit: 100,
            used: 60
        }
    );
    // Another execution has its own budget.
    assert_eq!(
        w.reserve(&req(&u, "c", "e2", 90, Some(100))).await.unwrap(),
        ReserveOutcome::Reserved
    );
    w.settle(&u, "a", 20).await.unwrap();
    assert_eq!(
        w.reserve(&req(&u, "b", "e1", 50, Some(100))).await.unwrap(),
        ReserveOutcome::Reserved
    );
    w.release(&u, "b").await.unwrap();
    assert_eq!(
        w.reserve(&req(&u, "d", "e1", 80, Some(100))).await.unwrap(),
        ReserveOutcome::Reserved
    );
    assert_eq!(
        w.reserve(&req(&u, "e", "e1", 1, Some(100))).await.unwrap(),
        ReserveOutcome::ExecutionLimitExceeded {
            needed: 1,
            limit: 100,
            used: 100
        }
    );
}

pub async fn ledger_sums_match_wallet(s: &Stores) {
    let u = uid("alice");
    let w = &s.wallet;
    w.grant(&u, 500, "g1", None).await.unwrap();
    w.grant(&u, 250, "g2", None).await.unwrap();
    for i in 0..10 {
        let key = format!("k{i}");
        let exec = if i % 2 == 0 { "e1" } else { "e2" };
        assert_eq!(
            w.reserve(&req(&u, &key, exec, 40, None)).await.unwrap(),
            ReserveOutcome::Reserved
        );
        match i % 3 {
            0 => w.settle(&u, &key, 25 + i).await.unwrap(),
            1 => w.release(&u, &key).await.unwrap(),
            _ => {}
        }
    }
    let wallet = w.wallet(&u).await.unwrap().unwrap();
    let ledger = w.ledger(&u, None).await.unwrap();
    let sum = |k: LedgerKind| {
        ledger
            .iter()
            .filter(|e| e.kind == k)
            .map(|e| e.amount)
            .sum::<i64>()
    };
    let open: i64 = [
        w.open_reservations(&u, "e1").await.unwrap(),
        w.open_reservations(&u, "e2").await.unwrap(),
    ]
    .iter()
    .flatten()
    .map(|e| e.amount)
    .sum();
    assert_eq!(wallet.total_earned, sum(LedgerKind::Grant));
    assert_eq!(wallet.total_spent, sum(LedgerKind::Settle));
    assert_eq!(wallet.reserved, open);
    assert_eq!(open, 3 * 40, "k2, k5, k8 stay open");
    assert_eq!(
        wallet.balance + wallet.reserved,
        wallet.total_earned - wallet.total_spent
    );
    let e1 = w.ledger(&u, Some("e1")).await.unwrap();
    assert!(e1.iter().all(|e| e.execution_id.as_deref() == Some("e1")));
    assert_eq!(
        e1.len(),
        8,
        "5 reservations, 2 settles (k0, k6), 1 release (k4)"
    );
}

pub async fn ensure_period_once(s: &Stores) {
    let u = uid("alice");
    let w = &s.wallet;
    let level = uid("pro");
    let policy = TierPolicy {
        level: level.clone(),
        monthly_allocation: 500,
        per_execution_limit: Some(200),
        features: TierFeatures {
            allowed_models: Some(vec!["gpt-x".into()]),
            allowed_node_kinds: None,
            allowed_export_formats: Some(vec!["pdf".into()]),
        },
    };
    assert_eq!(w.tier_policy(&level).await.unwrap(), None);
    w.put_tier_policy(&policy).await.unwrap();
    assert_eq!(w.tier_policy(&level).await.unwrap(), Some(policy.clone()));
    let changed = TierPolicy {
        monthly_allocation: 400,
        ..policy.clone()
    };
    w.put_tier_policy(&changed).await.unwrap();
    assert_eq!(w.tier_policy(&level).await.unwrap(), Some(changed));

    let err = w.ensure_period(&u, "2026-11").await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    w.set_level(&u, Some(&level)).await.unwrap();
    let first = w.ensure_period(&u, "2026-11").await.unwrap();
    let again = w.ensure_period(&u, "2026-11").await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        (first.balance, first.current_period.as_deref()),
        (400, Some("2026-11"))
    );
    let next = w.ensure_period(&u, "2026-12").await.unwrap();
    assert_eq!(
        (
            next.balance,
            next.total_earned,
            next.current_period.as_deref()
        ),
        (800, 800, Some("2026-12"))
    );
    let grants = w.ledger(&u, None).await.unwrap();
    assert_eq!(
        grants.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        vec!["allocation:2026-11", "allocation:2026-12"]
    );
}

pub async fn sums_never_wrap(s: &Stores) {
    let w = &s.wallet;
    let u = uid("rich");
    w.grant(&u, i64::MAX - 5, "big", None).await.unwrap();
    let refused = w.grant(&u, 10, "more", None).await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden(_))),
        "{refused:?}"
    );
    let wallet = w.wallet(&u).await.unwrap().unwrap();
    assert_eq!(
        (wallet.balance, wallet.total_earned),
        (i64::MAX - 5, i64::MAX - 5)
    );
    // A limit check near the top of the range neither wraps nor panics.
    let out = w
        .reserve(&ReserveRequest {
            user_id: u.clone(),
            key: "k".into(),
            execution_id: "e".into(),
            node_id: "n".into(),
            amount: i64::MAX - 5,
            execution_limit: Some(i64::MAX - 6),
        })
        .await
        .unwrap();
    assert!(
        matches!(out, ReserveOutcome::ExecutionLimitExceeded { .. }),
        "{out:?}"
    );
    w.grant(&u, 5, "top", None).await.unwrap();
    assert_eq!(w.wallet(&u).await.unwrap().unwrap().balance, i64::MAX);
}
