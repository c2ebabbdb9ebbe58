//! The work queue: claims, leases, expiry and fencing.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use lekhika_core::store::{ExecutionStatus, LeaseGrant, NodeKey, StoreError};
use tokio::task::JoinSet;

use super::{record, result, uid, Stores};

const LONG: Duration = Duration::from_secs(60);

pub async fn claim_renew_release(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    assert_eq!(
        s.queue.claim("w1", LONG).await.unwrap(),
        None,
        "empty queue"
    );
    let older = record(&a, &uid("exec"));
    let newer = record(&b, &uid("exec"));
    let mut done = record(&a, &uid("exec"));
    done.status = ExecutionStatus::Completed;
    let mut paused = record(&a, &uid("exec"));
    paused.status = ExecutionStatus::Paused;
    for r in [&older, &newer, &done, &paused] {
        s.executions.create_execution(r).await.unwrap();
    }

    let l1 = s
        .queue
        .claim("w1", LONG)
        .await
        .unwrap()
        .expect("oldest pending");
    assert_eq!(
        (
            l1.execution_id.as_str(),
            l1.owner.as_str(),
            l1.worker.as_str()
        ),
        (older.id.as_str(), a.as_str(), "w1")
    );
    assert!(l1.expires_at_ms > lekhika_core::util::now_ms() + 50_000);
    assert_eq!(
        s.executions
            .get_execution(&a, &older.id)
            .await
            .unwrap()
            .status,
        ExecutionStatus::Running
    );
    let l2 = s
        .queue
        .claim("w2", LONG)
        .await
        .unwrap()
        .expect("next pending, other tenant");
    assert_eq!(
        (l2.execution_id.as_str(), l2.owner.as_str()),
        (newer.id.as_str(), b.as_str())
    );
    assert!(l2.token > l1.token, "tokens increase per claim");
    assert_eq!(
        s.queue.claim("w3", LONG).await.unwrap(),
        None,
        "completed/paused are not claimable"
    );

    assert!(s.executions.renew_lease(&l1, LONG).await.unwrap());
    s.executions
        .put_node_result(
            &a,
            &older.id,
            &NodeKey::node("n"),
            &result("x", 1),
            Some(&l1),
        )
        .await
        .unwrap();
    s.executions.release_lease(&l1).await.unwrap();
    assert!(
        !s.executions.renew_lease(&l1, LONG).await.unwrap(),
        "released lease cannot be renewed"
    );
    let err = s
        .executions
        .put_node_result(
            &a,
            &older.id,
            &NodeKey::node("n"),
            &result("y", 1),
            Some(&l1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // Released while still `running` (a run of an earlier version, without
    // a lease): left to `resume`; no worker takes it.
    assert_eq!(s.queue.claim("w3", LONG).await.unwrap(), None);
    let _ = l2;
}

pub async fn expiry_and_fencing(s: &Stores) {
    let a = uid("alice");
    let rec = record(&a, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    let old = s
        .queue
        .claim("w1", Duration::from_millis(200))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.queue.claim("w2", LONG).await.unwrap(),
        None,
        "lease still live"
    );
    s.executions
        .begin_attempt(&a, &rec.id, Some(&old))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;

    let new = s
        .queue
        .claim("w2", LONG)
        .await
        .unwrap()
        .expect("expired lease is claimable");
    assert_eq!(new.execution_id, rec.id);
    assert!(new.token > old.token);

    let conflict = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Conflict(_)));
    let k = NodeKey::node("chapter");
    assert!(conflict(
        s.executions
            .put_node_result(&a, &rec.id, &k, &result("stale", 1), Some(&old))
            .await
            .map(|_| ())
    ));
    assert!(conflict(
        s.executions
            .set_status(&a, &rec.id, ExecutionStatus::Failed, None, None, Some(&old))
            .await
    ));
    assert!(conflict(
        s.executions
            .begin_attempt(&a, &rec.id, Some(&old))
            .await
            .map(|_| ())
    ));
    assert!(
        !s.executions.renew_lease(&old, LONG).await.unwrap(),
        "lost lease is not renewed"
    );
    s.executions.release_lease(&old).await.unwrap();
    assert!(
        s.executions
            .node_results(&a, &rec.id)
            .await
            .unwrap()
            .is_empty(),
        "stale write refused"
    );

    // The new holder is unaffected by the old one's release.
    assert_eq!(
        s.executions
            .begin_attempt(&a, &rec.id, Some(&new))
            .await
            .unwrap(),
        2
    );
    s.executions
        .put_node_result(&a, &rec.id, &k, &result("fresh", 1), Some(&new))
        .await
        .unwrap();
    s.executions
        .set_status(
            &a,
            &rec.id,
            ExecutionStatus::Completed,
            None,
            None,
            Some(&new),
        )
        .await
        .unwrap();
    assert!(s.executions.renew_lease(&new, LONG).await.unwrap());
    assert_eq!(
        s.executions.node_results(&a, &rec.id).await.unwrap(),
        vec![(k, result("fresh", 1))]
    );

    // A stop request is visible to the holder through the execution row.
    s.executions.request_stop(&a, &rec.id).await.unwrap();
    assert!(s
        .executions
        .stop_requested(&new.owner, &new.execution_id)
        .await
        .unwrap());
}

pub async fn concurrent_claims_are_exclusive(s: &Stores) {
    let owner = uid("alice");
    let mut ids = HashSet::new();
    for _ in 0..12 {
        let r = record(&owner, &uid("exec"));
        s.executions.create_execution(&r).await.unwrap();
        ids.insert(r.id);
    }
    let mut set = JoinSet::new();
    for w in 0..6 {
        let q = Arc::clone(&s.queue);
        set.spawn(async move {
            let mut got = Vec::new();
            while let Some(l) = q.claim(&format!("w{w}"), LONG).await.unwrap() {
                got.push(l);
            }
            got
        });
    }
    let mut claimed = Vec::new();
    while let Some(r) = set.join_next().await {
        claimed.extend(r.unwrap());
    }
    let got: HashSet<String> = claimed.iter().map(|l| l.execution_id.clone()).collect();
    assert_eq!(claimed.len(), 12, "each execution claimed exactly once");
    assert_eq!(got, ids);
    let tokens: HashSet<u64> = claimed.iter().map(|l| l.token).collect();
    assert_eq!(tokens.len(), 12, "every claim has its own token");
}

pub async fn runner_leases(s: &Stores) {
    let a = uid("alice");
    let rec = record(&a, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    let short = Duration::from_millis(300);
    let first = match s
        .executions
        .acquire_lease(&a, &rec.id, "cli-1", short)
        .await
        .unwrap()
    {
        LeaseGrant::Granted(l) => l,
        held => panic!("a free execution is granted, got {held:?}"),
    };
    assert_eq!(
        (first.worker.as_str(), first.owner.as_str()),
        ("cli-1", a.as_str())
    );
    let got = s.executions.get_execution(&a, &rec.id).await.unwrap();
    let runner = got.runner.clone().expect("the holder is reported");
    assert_eq!(
        (runner.worker.as_str(), runner.token),
        ("cli-1", first.token)
    );
    assert!(runner.is_live() && runner.expires_in_ms <= 300);
    s.executions
        .begin_attempt(&a, &rec.id, Some(&first))
        .await
        .unwrap();
    assert_eq!(
        s.executions
            .get_execution(&a, &rec.id)
            .await
            .unwrap()
            .live_status(),
        ExecutionStatus::Running
    );
    // A second runner is refused while the lease is live, and told who holds it.
    match s
        .executions
        .acquire_lease(&a, &rec.id, "cli-2", LONG)
        .await
        .unwrap()
    {
        LeaseGrant::Held(info) => {
            assert_eq!((info.worker.as_str(), info.token), ("cli-1", first.token));
            assert!(info.expires_in_ms > 0);
        }
        granted => panic!("a live lease must be refused, got {granted:?}"),
    }
    // Another tenant cannot even see it.
    assert!(matches!(
        s.executions
            .acquire_lease(&uid("mallory"), &rec.id, "x", LONG)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(s.executions.renew_lease(&first, short).await.unwrap());

    // The holder dies: once its lease expires the run reads as interrupted,
    // and the next taker gets a larger token that fences the old one out.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let got = s.executions.get_execution(&a, &rec.id).await.unwrap();
    assert!(!got.runner.clone().unwrap().is_live());
    assert_eq!(got.live_status(), ExecutionStatus::Interrupted);
    let second = match s
        .executions
        .acquire_lease(&a, &rec.id, "cli-2", LONG)
        .await
        .unwrap()
    {
        LeaseGrant::Granted(l) => l,
        held => panic!("an expired lease is taken over, got {held:?}"),
    };
    assert!(second.token > first.token);
    assert!(!s.executions.renew_lease(&first, LONG).await.unwrap());
    let stale = s
        .executions
        .put_call(&a, &rec.id, &super::call("n", None, "r", 0), Some(&first))
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    s.executions
        .put_call(&a, &rec.id, &super::call("n", None, "r", 0), Some(&second))
        .await
        .unwrap();
    // The old holder's release does not free the new holder's lease.
    s.executions.release_lease(&first).await.unwrap();
    assert!(matches!(
        s.executions
            .acquire_lease(&a, &rec.id, "cli-3", LONG)
            .await
            .unwrap(),
        LeaseGrant::Held(_)
    ));
    s.executions.release_lease(&second).await.unwrap();
    assert_eq!(
        s.executions
            .get_execution(&a, &rec.id)
            .await
            .unwrap()
            .runner,
        None
    );
    assert!(matches!(
        s.executions
            .acquire_lease(&a, &rec.id, "cli-3", LONG)
            .await
            .unwrap(),
        LeaseGrant::Granted(_)
    ));
}

pub async fn concurrent_lease_takers_are_exclusive(s: &Stores) {
    let a = uid("alice");
    let rec = record(&a, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    let mut set = JoinSet::new();
    for w in 0..8 {
        let (store, a, id) = (Arc::clone(&s.executions), a.clone(), rec.id.clone());
        set.spawn(async move {
            store
                .acquire_lease(&a, &id, &format!("r{w}"), LONG)
                .await
                .unwrap()
        });
    }
    let mut granted = 0;
    while let Some(r) = set.join_next().await {
        if matches!(r.unwrap(), LeaseGrant::Granted(_)) {
            granted += 1;
        }
    }
    assert_eq!(granted, 1, "exactly one of eight concurrent takers runs it");
}
