//! Owner scoping: user B can neither see nor change user A's records; A's
//! records look exactly like missing ones to B.

use lekhika_core::store::{Artifact, ExecutionStatus, NodeKey, StoreError};
use lekhika_core::wallet::{LedgerKind, ReserveOutcome, ReserveRequest};
use serde_json::json;

use super::executions::book;
use super::{record, result, uid, Stores};

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

pub async fn others_executions(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    let rec = record(&a, &uid("exec"));
    let e = &s.executions;
    e.create_execution(&rec).await.unwrap();
    e.put_node_result(
        &a,
        &rec.id,
        &NodeKey::node("outline"),
        &result("mine", 3),
        None,
    )
    .await
    .unwrap();

    assert_not_found(e.get_execution(&b, &rec.id).await, "get");
    assert!(e.list_executions(&b).await.unwrap().is_empty());
    assert_not_found(
        e.set_status(&b, &rec.id, ExecutionStatus::Failed, Some("x"), None, None)
            .await,
        "set_status",
    );
    assert_not_found(e.begin_attempt(&b, &rec.id, None).await, "begin_attempt");
    assert_not_found(
        e.set_options(&b, &rec.id, &json!({"evil": true})).await,
        "set_options",
    );
    assert_not_found(
        e.put_node_result(
            &b,
            &rec.id,
            &NodeKey::node("outline"),
            &result("theirs", 1),
            None,
        )
        .await,
        "put_node_result",
    );
    assert_not_found(e.node_results(&b, &rec.id).await, "node_results");
    assert_not_found(
        e.remove_node_results(&b, &rec.id, &["outline".to_string()])
            .await,
        "remove",
    );
    assert_not_found(e.request_stop(&b, &rec.id).await, "request_stop");
    e.request_stop(&a, &rec.id).await.unwrap();
    assert_not_found(e.clear_stop(&b, &rec.id).await, "clear_stop");
    assert_not_found(e.stop_requested(&b, &rec.id).await, "stop_requested");

    // A's record is untouched by all of that.
    let got = e.get_execution(&a, &rec.id).await.unwrap();
    assert_eq!(
        (got.status, got.epoch, got.options.clone()),
        (ExecutionStatus::Pending, 0, rec.options.clone())
    );
    assert_eq!(got.message, None);
    assert!(e.stop_requested(&a, &rec.id).await.unwrap());
    let results = e.node_results(&a, &rec.id).await.unwrap();
    assert_eq!(results, vec![(NodeKey::node("outline"), result("mine", 3))]);

    // B's own execution with the same shape is independent.
    let theirs = record(&b, &uid("exec"));
    e.create_execution(&theirs).await.unwrap();
    assert_eq!(e.list_executions(&a).await.unwrap().len(), 1);
    assert_not_found(e.get_execution(&a, &theirs.id).await, "reverse get");
}

pub async fn others_artifacts_and_books(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    let rec = record(&a, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    let art = Artifact {
        name: "book.md".into(),
        mime: "text/markdown".into(),
        bytes: b"# Mine".to_vec(),
    };
    s.artifacts.put_artifact(&a, &rec.id, &art).await.unwrap();
    let mine = book(&a, &rec.id, "Mine", 1);
    s.artifacts.put_book(&mine).await.unwrap();

    assert_not_found(
        s.artifacts.get_artifact(&b, &rec.id, "book.md").await,
        "get_artifact",
    );
    assert_not_found(
        s.artifacts.list_artifacts(&b, &rec.id).await,
        "list_artifacts",
    );
    let evil = Artifact {
        bytes: b"# Theirs".to_vec(),
        ..art.clone()
    };
    assert_not_found(
        s.artifacts.put_artifact(&b, &rec.id, &evil).await,
        "put_artifact",
    );
    assert_not_found(
        s.artifacts.put_book(&book(&b, &rec.id, "Theirs", 2)).await,
        "put_book on A's execution",
    );
    assert!(s.artifacts.list_books(&b).await.unwrap().is_empty());

    assert_eq!(
        s.artifacts
            .get_artifact(&a, &rec.id, "book.md")
            .await
            .unwrap(),
        art
    );
    assert_eq!(s.artifacts.list_books(&a).await.unwrap(), vec![mine]);
}

/// B reusing A's book id must not replace A's book. Core's in-memory store
/// fails this (its `put_book` drops any book with that id, whoever owns it),
/// so it runs against the persistent stores only.
pub async fn book_id_takeover(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    let (ra, rb) = (record(&a, &uid("exec")), record(&b, &uid("exec")));
    s.executions.create_execution(&ra).await.unwrap();
    s.executions.create_execution(&rb).await.unwrap();
    let mine = book(&a, &ra.id, "Mine", 1);
    s.artifacts.put_book(&mine).await.unwrap();
    let mut takeover = book(&b, &rb.id, "Theirs", 2);
    takeover.id = mine.id.clone();
    assert!(
        s.artifacts.put_book(&takeover).await.is_err(),
        "B may not reuse A's book id"
    );
    assert_eq!(s.artifacts.list_books(&a).await.unwrap(), vec![mine]);
    assert!(s.artifacts.list_books(&b).await.unwrap().is_empty());
}

pub async fn others_wallet_and_ledger(s: &Stores) {
    let (a, b) = (uid("alice"), uid("bob"));
    let w = &s.wallet;
    w.grant(&a, 100, "welcome", None).await.unwrap();
    let req = ReserveRequest {
        user_id: a.clone(),
        key: "call-1".into(),
        execution_id: "e1".into(),
        node_id: "n1".into(),
        amount: 40,
        execution_limit: None,
    };
    assert_eq!(w.reserve(&req).await.unwrap(), ReserveOutcome::Reserved);

    assert_eq!(w.wallet(&b).await.unwrap(), None);
    assert!(w.ledger(&b, None).await.unwrap().is_empty());
    assert!(w.open_reservations(&b, "e1").await.unwrap().is_empty());
    assert_not_found(
        w.settle(&b, "call-1", 0).await,
        "settle A's reservation as B",
    );
    w.release(&b, "call-1").await.unwrap();
    // B's same-key reservation is B's own (B has no wallet: unmetered).
    let theirs = ReserveRequest {
        user_id: b.clone(),
        ..req.clone()
    };
    assert_eq!(w.reserve(&theirs).await.unwrap(), ReserveOutcome::Unmetered);
    // B's grant with A's key does not count as A's.
    w.grant(&b, 5, "welcome", None).await.unwrap();

    let wa = w.wallet(&a).await.unwrap().unwrap();
    assert_eq!((wa.balance, wa.reserved, wa.total_earned), (60, 40, 100));
    assert_eq!(w.open_reservations(&a, "e1").await.unwrap().len(), 1);
    let kinds: Vec<LedgerKind> = w
        .ledger(&a, None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec![LedgerKind::Grant, LedgerKind::Reserve]);
    assert_eq!(w.wallet(&b).await.unwrap().unwrap().balance, 5);
}

pub async fn others_calls(s: &Stores) {
    let (a, b) = (uid("alice"), uid("mallory"));
    let rec = record(&a, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    s.executions
        .put_call(&a, &rec.id, &super::call("n", None, "secret", 0), None)
        .await
        .unwrap();
    assert!(matches!(
        s.executions.calls(&b, &rec.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let planted = s
        .executions
        .put_call(&b, &rec.id, &super::call("n", None, "planted", 0), None)
        .await;
    assert!(
        matches!(planted, Err(StoreError::NotFound { .. })),
        "{planted:?}"
    );
    let calls = s.executions.calls(&a, &rec.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].request, "secret");
}
