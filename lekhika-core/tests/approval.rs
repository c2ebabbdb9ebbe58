#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::ExecutionStatus;
use lekhika_core::testing::ScriptedModel;
use lekhika_core::RunOptions;
use serde_json::{json, Value};

fn gated_flow(when: Option<&str>) -> Value {
    let mut f = book_flow(2);
    let mut gate =
        json!({"id": "gate", "type": "approval", "data": {"prompt": "Check the outline"}});
    if let Some(w) = when {
        gate["data"]["when"] = json!(w);
        f["nodes"][0]["data"]["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "review", "type": "boolean", "default": false}));
    }
    f["nodes"].as_array_mut().unwrap().push(gate);
    f["nodes"][2]["data"]["items"] = json!("{{nodes.gate.output.chapters}}");
    let edges = f["edges"].as_array_mut().unwrap();
    edges.retain(|e| e["id"] != "e2");
    edges.push(json!({"id": "g1", "source": "outline", "target": "gate"}));
    edges.push(json!({"id": "g2", "source": "gate", "target": "write"}));
    f
}

#[tokio::test]
async fn an_approval_gate_pauses_and_writers_get_the_edited_outline() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store);
    let input = json!({"title": "Gate", "chapters": 3});
    let (events, out) = run_to_end(
        engine
            .start("u", &gated_flow(None), &input, &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Paused);
    assert_eq!(out.reason.as_deref(), Some("awaiting_approval"));
    assert_eq!(out.node.as_deref(), Some("gate"));
    let review = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RunPaused { review, .. } => review.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        review["chapters"].as_array().unwrap().len(),
        3,
        "the outline under review is shown"
    );
    let calls = model.calls();

    // Reject: the outline is rewritten with the instruction, and the gate asks again.
    let (_, out) = run_to_end(
        engine
            .reject("u", &out.execution_id, "gate", "Fewer chapters")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Paused);
    assert!(
        model.prompts()[calls].starts_with("OUTLINE")
            && model.prompts()[calls].ends_with("Fewer chapters")
    );
    let calls = model.calls();

    let edited = json!({"logline": "edited", "chapters": [{"title": "Edited One"}, {"title": "Edited Two"}]});
    let (_, out) = run_to_end(
        engine
            .approve("u", &out.execution_id, "gate", Some(edited))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let after = &model.prompts()[calls..];
    // Nothing before the gate ran again; the writers got the edited outline.
    assert!(after.iter().all(|p| !p.starts_with("OUTLINE")));
    let writes: Vec<&String> = after.iter().filter(|p| p.starts_with("WRITE")).collect();
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().any(|p| p.contains("Edited Two")));
}

#[tokio::test]
async fn a_gate_with_a_false_condition_passes_through() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let flow = gated_flow(Some("{{input.review}}"));
    let (_, out) = run_to_end(
        engine
            .start(
                "u",
                &flow,
                &json!({"title": "T", "chapters": 2}),
                &RunOptions::default(),
            )
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let (_, out) = run_to_end(
        engine
            .start(
                "u",
                &flow,
                &json!({"title": "T", "chapters": 2, "review": "true"}),
                &RunOptions::default(),
            )
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Paused);
}
