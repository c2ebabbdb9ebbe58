//! Executions, checkpoints, stop flags, artifacts and books for one owner.

use lekhika_core::store::{
    Artifact, ArtifactMeta, BookRecord, ExecutionStatus, NodeKey, StoreError, LEGACY_STEP_BASE,
};
use serde_json::json;

use super::{record, result, uid, Stores};

pub async fn crud(s: &Stores) {
    let owner = uid("alice");
    let first = record(&owner, &uid("exec"));
    let second = record(&owner, &uid("exec"));
    s.executions.create_execution(&first).await.unwrap();
    s.executions.create_execution(&second).await.unwrap();
    assert_eq!(
        s.executions.get_execution(&owner, &first.id).await.unwrap(),
        first
    );
    let dup = s.executions.create_execution(&first).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup:?}");
    let missing = s
        .executions
        .get_execution(&owner, "no-such-id")
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );
    let listed = s.executions.list_executions(&owner).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);

    s.executions
        .set_status(
            &owner,
            &first.id,
            ExecutionStatus::Paused,
            Some("out of tokens"),
            Some("insufficient_tokens"),
            None,
        )
        .await
        .unwrap();
    let got = s.executions.get_execution(&owner, &first.id).await.unwrap();
    assert_eq!(got.status, ExecutionStatus::Paused);
    assert_eq!(got.message.as_deref(), Some("out of tokens"));
    assert_eq!(got.reason.as_deref(), Some("insufficient_tokens"));
    assert!(got.updated_at_ms >= first.updated_at_ms);

    let opts = json!({"provider": "anthropic", "formats": ["epub", "pdf"]});
    s.executions
        .set_options(&owner, &first.id, &opts)
        .await
        .unwrap();
    assert_eq!(
        s.executions
            .get_execution(&owner, &first.id)
            .await
            .unwrap()
            .options,
        opts
    );
    let err = s
        .executions
        .set_options(&owner, "no-such-id", &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

pub async fn begin_attempt_epochs(s: &Stores) {
    let owner = uid("alice");
    let rec = record(&owner, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    s.executions
        .set_status(
            &owner,
            &rec.id,
            ExecutionStatus::Failed,
            Some("boom"),
            Some("provider_error"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        s.executions
            .begin_attempt(&owner, &rec.id, None)
            .await
            .unwrap(),
        1
    );
    let got = s.executions.get_execution(&owner, &rec.id).await.unwrap();
    assert_eq!(
        (got.status, got.epoch, got.message, got.reason),
        (ExecutionStatus::Running, 1, None, None)
    );
    assert_eq!(
        s.executions
            .begin_attempt(&owner, &rec.id, None)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.executions
            .get_execution(&owner, &rec.id)
            .await
            .unwrap()
            .epoch,
        2
    );
}

pub async fn checkpoints(s: &Stores) {
    let owner = uid("alice");
    let rec = record(&owner, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    assert!(s
        .executions
        .node_results(&owner, &rec.id)
        .await
        .unwrap()
        .is_empty());
    let puts = [
        (NodeKey::node("outline"), result("the outline", 5)),
        (NodeKey::item("chapters", 1), result("chapter two", 7)),
        (NodeKey::node("chapters"), result("all chapters", 0)),
        (NodeKey::item("chapters", 0), result("chapter one", 6)),
        (NodeKey::item("chapters", 10), result("chapter eleven", 6)),
        // Item numbers span the whole u32 range (earlier versions kept
        // steps from 2^31 up; such rows must still round-trip).
        (
            NodeKey::item("chapters", LEGACY_STEP_BASE + 3),
            result("a check", 2),
        ),
    ];
    for (k, r) in &puts {
        s.executions
            .put_node_result(&owner, &rec.id, k, r, None)
            .await
            .unwrap();
    }
    // Overwrite is an upsert, not a second row.
    let newer = result("the outline, revised", 9);
    s.executions
        .put_node_result(&owner, &rec.id, &NodeKey::node("outline"), &newer, None)
        .await
        .unwrap();
    let got = s.executions.node_results(&owner, &rec.id).await.unwrap();
    let keys: Vec<NodeKey> = got.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(
        keys,
        vec![
            NodeKey::node("chapters"),
            NodeKey::item("chapters", 0),
            NodeKey::item("chapters", 1),
            NodeKey::item("chapters", 10),
            NodeKey::item("chapters", LEGACY_STEP_BASE + 3),
            NodeKey::node("outline"),
        ],
        "ordered like NodeKey's Ord (node, then None before items)"
    );
    assert_eq!(got[1].1, puts[3].1, "results round-trip unchanged");
    assert!(got[4].0.is_legacy_step());
    assert_eq!(got[4].1, puts[5].1);
    assert_eq!(got[5].1, newer);

    s.executions
        .remove_node_results(&owner, &rec.id, &["chapters".to_string()])
        .await
        .unwrap();
    let left = s.executions.node_results(&owner, &rec.id).await.unwrap();
    assert_eq!(left, vec![(NodeKey::node("outline"), newer)]);
}

pub async fn stop_flags(s: &Stores) {
    let owner = uid("alice");
    let rec = record(&owner, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    assert!(!s.executions.stop_requested(&owner, &rec.id).await.unwrap());
    s.executions.request_stop(&owner, &rec.id).await.unwrap();
    s.executions.request_stop(&owner, &rec.id).await.unwrap();
    assert!(s.executions.stop_requested(&owner, &rec.id).await.unwrap());
    s.executions.clear_stop(&owner, &rec.id).await.unwrap();
    assert!(!s.executions.stop_requested(&owner, &rec.id).await.unwrap());
    let err = s
        .executions
        .request_stop(&owner, "no-such-id")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

pub fn book(owner: &str, execution_id: &str, title: &str, created_at_ms: i64) -> BookRecord {
    BookRecord {
        id: uid("book"),
        owner: owner.to_string(),
        execution_id: execution_id.to_string(),
        title: title.to_string(),
        author: Some("A. Writer".into()),
        word_count: 52_000,
        character_count: 301_000,
        formats: vec!["epub".into(), "pdf".into()],
        created_at_ms,
    }
}

pub async fn artifacts_and_books(s: &Stores) {
    let owner = uid("alice");
    let rec = record(&owner, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    let pdf = Artifact {
        name: "book.pdf".into(),
        mime: "application/pdf".into(),
        bytes: b"%PDF-1.7 \x00\xff".to_vec(),
    };
    let epub = Artifact {
        name: "book.epub".into(),
        mime: "application/epub+zip".into(),
        bytes: vec![0x50, 0x4b, 3, 4],
    };
    s.artifacts
        .put_artifact(&owner, &rec.id, &pdf)
        .await
        .unwrap();
    s.artifacts
        .put_artifact(&owner, &rec.id, &epub)
        .await
        .unwrap();
    assert_eq!(
        s.artifacts
            .get_artifact(&owner, &rec.id, "book.pdf")
            .await
            .unwrap(),
        pdf
    );
    let bigger = Artifact {
        bytes: vec![7u8; 70_000],
        ..pdf.clone()
    };
    s.artifacts
        .put_artifact(&owner, &rec.id, &bigger)
        .await
        .unwrap();
    assert_eq!(
        s.artifacts.list_artifacts(&owner, &rec.id).await.unwrap(),
        vec![
            ArtifactMeta {
                name: "book.epub".into(),
                mime: "application/epub+zip".into(),
                size: 4
            },
            ArtifactMeta {
                name: "book.pdf".into(),
                mime: "application/pdf".into(),
                size: 70_000
            },
        ]
    );
    assert_eq!(
        s.artifacts
            .get_artifact(&owner, &rec.id, "book.pdf")
            .await
            .unwrap(),
        bigger
    );
    let err = s
        .artifacts
        .get_artifact(&owner, &rec.id, "cover.png")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    let b1 = book(&owner, &rec.id, "First", 1_000);
    let mut b2 = book(&owner, &rec.id, "Second", 2_000);
    s.artifacts.put_book(&b1).await.unwrap();
    s.artifacts.put_book(&b2).await.unwrap();
    b2.title = "Second, retitled".into();
    b2.word_count = 60_000;
    s.artifacts.put_book(&b2).await.unwrap();
    assert_eq!(s.artifacts.list_books(&owner).await.unwrap(), vec![b1, b2]);
    let orphan = book(&owner, "no-such-exec", "Orphan", 3_000);
    let err = s.artifacts.put_book(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

pub async fn call_journal(s: &Stores) {
    let owner = uid("alice");
    let rec = record(&owner, &uid("exec"));
    s.executions.create_execution(&rec).await.unwrap();
    assert!(s
        .executions
        .calls(&owner, &rec.id)
        .await
        .unwrap()
        .is_empty());
    let puts = [
        super::call("write", Some(2), "bbbb", 0),
        super::call("outline", None, "aaaa", 0),
        super::call("write", Some(2), "aaaa", 1),
        super::call("write", Some(0), "cccc", 0),
        super::call("outline", None, "zzzz", 1),
    ];
    for c in &puts {
        s.executions
            .put_call(&owner, &rec.id, c, None)
            .await
            .unwrap();
    }
    // The same (node, item, request) again replaces the entry.
    let mut again = super::call("outline", None, "aaaa", 0);
    again.cost = 99;
    again.reply = serde_json::json!({"text": "newer", "finish": "stop",
        "usage": {"input_tokens": 1, "output_tokens": 1}, "model": "m-1"});
    s.executions
        .put_call(&owner, &rec.id, &again, None)
        .await
        .unwrap();
    let got = s.executions.calls(&owner, &rec.id).await.unwrap();
    let keys: Vec<(&str, Option<u32>, &str)> = got
        .iter()
        .map(|c| (c.node.as_str(), c.item, c.request.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("outline", None, "aaaa"),
            ("outline", None, "zzzz"),
            ("write", Some(0), "cccc"),
            ("write", Some(2), "bbbb"),
            ("write", Some(2), "aaaa"),
        ],
        "by node, item (the node itself first), then seq"
    );
    assert_eq!(got[0], again, "replies, usage, cost and charge round-trip");
    assert_eq!(got[3], puts[0]);

    // Regenerating a node forgets its calls with its results.
    s.executions
        .remove_node_results(&owner, &rec.id, &["write".to_string()])
        .await
        .unwrap();
    let left: Vec<String> = s
        .executions
        .calls(&owner, &rec.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.node)
        .collect();
    assert_eq!(left, vec!["outline", "outline"]);
}
