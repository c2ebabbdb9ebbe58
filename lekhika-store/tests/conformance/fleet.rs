//! What a fleet of workers shares: the list of live runners, and rate-limit
//! buckets.

use std::time::Duration;

use lekhika_core::quota::{QuotaLimits, QuotaOp};
use lekhika_core::store::LeaseGrant;

use super::{record, uid, Stores};

const LONG: Duration = Duration::from_secs(60);

pub async fn runners_list_live_leases(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    let first = record(&a, &uid("exec"));
    let second = record(&b, &uid("exec"));
    let idle = record(&a, &uid("exec"));
    for r in [&first, &second, &idle] {
        s.executions.create_execution(r).await.unwrap();
    }
    let held = |id: &str, list: &[lekhika_core::store::RunnerLease]| {
        list.iter().find(|r| r.execution_id == id).cloned()
    };
    let LeaseGrant::Granted(l1) = s
        .executions
        .acquire_lease(&a, &first.id, "w-one", LONG)
        .await
        .unwrap()
    else {
        panic!("a free execution is granted")
    };
    let LeaseGrant::Granted(l2) = s
        .executions
        .acquire_lease(&b, &second.id, "w-two", Duration::from_millis(200))
        .await
        .unwrap()
    else {
        panic!("a free execution is granted")
    };
    let list = s.queue.runners().await.unwrap();
    let r1 = held(&first.id, &list).expect("the first lease is listed");
    assert_eq!((r1.worker.as_str(), r1.token), ("w-one", l1.token));
    assert!(r1.expires_in_ms > 50_000 && r1.held_for_ms >= 0 && r1.held_for_ms < 30_000);
    let r2 = held(&second.id, &list).expect("another tenant's lease is listed too");
    assert_eq!((r2.worker.as_str(), r2.token), ("w-two", l2.token));
    assert!(held(&idle.id, &list).is_none(), "no lease, not listed");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let list = s.queue.runners().await.unwrap();
    assert!(
        held(&second.id, &list).is_none(),
        "an expired lease is not live"
    );
    assert!(held(&first.id, &list).unwrap().held_for_ms >= 300);
    s.executions.release_lease(&l1).await.unwrap();
    assert!(held(&first.id, &s.queue.runners().await.unwrap()).is_none());
}

pub async fn shared_quota_buckets(s: &Stores) {
    let key = uid("endpoint");
    let rpm = QuotaLimits {
        requests_per_minute: Some(60), // one a second, bucket of one
        tokens_per_minute: None,
    };
    let take = |tokens| QuotaOp::Take {
        limits: rpm,
        tokens,
    };
    assert_eq!(s.quota.apply(&key, take(0)).await.unwrap(), Duration::ZERO);
    let wait = s.quota.apply(&key, take(0)).await.unwrap();
    assert!(
        wait > Duration::from_millis(800) && wait <= Duration::from_secs(1),
        "the second request waits about a second: {wait:?}"
    );
    let other = uid("endpoint");
    assert_eq!(
        s.quota.apply(&other, take(0)).await.unwrap(),
        Duration::ZERO,
        "buckets are per key"
    );
    // Tokens: a refund makes room again.
    let tpm = QuotaLimits {
        requests_per_minute: None,
        tokens_per_minute: Some(6000), // 100 a second
    };
    let key = uid("endpoint");
    let op = |tokens| QuotaOp::Take {
        limits: tpm,
        tokens,
    };
    assert_eq!(s.quota.apply(&key, op(100)).await.unwrap(), Duration::ZERO);
    assert!(s.quota.apply(&key, op(80)).await.unwrap() >= Duration::from_millis(700));
    s.quota
        .apply(
            &key,
            QuotaOp::Refund {
                limits: tpm,
                tokens: 90,
            },
        )
        .await
        .unwrap();
    assert_eq!(s.quota.apply(&key, op(80)).await.unwrap(), Duration::ZERO);
    // Unlimited never waits and never needs a row.
    let free = QuotaOp::Take {
        limits: QuotaLimits::default(),
        tokens: 1_000_000,
    };
    for _ in 0..3 {
        assert_eq!(s.quota.apply(&key, free).await.unwrap(), Duration::ZERO);
    }
}
