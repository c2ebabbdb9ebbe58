//! The work queue: claims, leases, expiry and fencing.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use lekhika_core::store::{ExecutionStatus, NodeKey, StoreError};
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

    assert!(s.queue.renew(&l1, LONG).await.unwrap());
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
    s.queue.release(&l1).await.unwrap();
    assert!(
        !s.queue.renew(&l1, LONG).await.unwrap(),
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
    // Released while still `running`: without a lease it belongs to a
    // process running it directly (e.g. `lekhika run` on a shared store),
    // so no worker may take it.
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
        !s.queue.renew(&old, LONG).await.unwrap(),
        "lost lease is not renewed"
    );
    s.queue.release(&old).await.unwrap();
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
    assert!(s.queue.renew(&new, LONG).await.unwrap());
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
