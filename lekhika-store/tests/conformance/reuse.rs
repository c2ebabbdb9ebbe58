//! `--reuse`: a user's paid replies found by content key, across that
//! user's executions only; cleared on request; counted in stats.

use serde_json::json;

use super::{call, record, uid, Stores};

fn keyed(request: &str, content: &str) -> lekhika_core::store::CallRecord {
    let mut c = call("write", Some(0), request, 0);
    c.content = Some(content.to_string());
    c
}

pub async fn reuse_by_content(s: &Stores) {
    let (alice, bob) = (uid("alice"), uid("bob"));
    let first = record(&alice, &uid("exec"));
    let second = record(&alice, &uid("exec"));
    let bobs = record(&bob, &uid("exec"));
    for r in [&first, &second, &bobs] {
        s.executions.create_execution(r).await.unwrap();
    }
    let key = uid("content");
    let paid = keyed("r1", &key);
    s.executions
        .put_call(&alice, &first.id, &paid, None)
        .await
        .unwrap();
    // Entries that are not replies asked of a provider are never served.
    let mut abandoned = keyed("r2", &uid("content"));
    abandoned.reply = json!({"abandoned": true, "text": "half a reply"});
    let mut failed = keyed("r3", &uid("content"));
    failed.reply = json!({"failed_tries": true, "error": "HTTP 500"});
    for c in [&abandoned, &failed] {
        s.executions
            .put_call(&alice, &first.id, c, None)
            .await
            .unwrap();
    }

    // Served to the same user's other execution, naming the one that paid.
    let found = s
        .executions
        .reusable_call(&alice, &key, &second.id)
        .await
        .unwrap()
        .expect("alice's reply is reusable");
    assert_eq!(found.execution_id, first.id);
    assert_eq!(found.call.reply, paid.reply);
    assert_eq!(found.call.cost, paid.cost);
    // Not to the execution that holds it, and never to another user.
    assert!(s
        .executions
        .reusable_call(&alice, &key, &first.id)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .executions
        .reusable_call(&bob, &key, &bobs.id)
        .await
        .unwrap()
        .is_none());
    for c in [&abandoned, &failed] {
        let k = c.content.clone().unwrap();
        assert!(s
            .executions
            .reusable_call(&alice, &k, &second.id)
            .await
            .unwrap()
            .is_none());
    }

    // A reused copy is recorded in the second run; it is not itself a source.
    let mut copy = found.call.clone();
    copy.reused_from = Some(first.id.clone());
    copy.cost = 0;
    copy.requests = 0;
    s.executions
        .put_call(&alice, &second.id, &copy, None)
        .await
        .unwrap();
    let third = record(&alice, &uid("exec"));
    s.executions.create_execution(&third).await.unwrap();
    let again = s
        .executions
        .reusable_call(&alice, &key, &third.id)
        .await
        .unwrap()
        .expect("still reusable");
    assert_eq!(
        again.execution_id, first.id,
        "served from the run that paid"
    );
    let journal = s.executions.calls(&alice, &second.id).await.unwrap();
    assert_eq!(journal[0].reused_from.as_deref(), Some(first.id.as_str()));
    assert_eq!(journal[0].content.as_deref(), Some(key.as_str()));

    // Bob's own identical reply is his alone.
    s.executions
        .put_call(&bob, &bobs.id, &keyed("r1", &key), None)
        .await
        .unwrap();

    let stats = s.executions.reuse_stats(&alice).await.unwrap();
    assert_eq!(stats.replies, 1);
    assert_eq!(stats.executions, 1);
    assert_eq!(stats.usage, paid.usage);
    assert_eq!(stats.cost, paid.cost);
    assert_eq!(stats.reused, 1);
    assert_eq!(stats.reused_usage, paid.usage);

    assert_eq!(s.executions.clear_reusable(&alice).await.unwrap(), 1);
    assert!(s
        .executions
        .reusable_call(&alice, &key, &third.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(s.executions.reuse_stats(&alice).await.unwrap().replies, 0);
    // The journals keep their replies; only reuse forgot them.
    assert_eq!(
        s.executions.calls(&alice, &first.id).await.unwrap().len(),
        3
    );
    // Bob's cache is untouched by Alice's clear.
    let other = record(&bob, &uid("exec"));
    s.executions.create_execution(&other).await.unwrap();
    assert_eq!(
        s.executions
            .reusable_call(&bob, &key, &other.id)
            .await
            .unwrap()
            .map(|f| f.execution_id),
        Some(bobs.id.clone())
    );
}
