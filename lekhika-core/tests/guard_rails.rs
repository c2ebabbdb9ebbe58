//! Issue 24's guard rails on the in-process scripted model: empty replies,
//! plans with the wrong chapter count and reviewer scores off their scale
//! are invalid output, regenerated (or re-asked) with feedback, never a
//! finished node.
#![allow(clippy::unwrap_used)]
mod common;

use std::sync::Arc;

use common::*;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::RunOptions;
use serde_json::{json, Value};

fn one_node(data: Value, fields: Value) -> Value {
    json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": fields}},
        {"id": "n", "type": "text", "data": data}
    ], "edges": [{"source": "in", "target": "n"}]})
}

async fn run(model: Arc<ScriptedModel>, flow: &Value, input: Value) -> (String, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model, store.clone());
    let h = engine
        .start("u", flow, &input, &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let (_, out) = run_to_end(h).await;
    let _ = out;
    (id, store)
}

async fn result(store: &MemoryStore, id: &str, node: &str) -> Option<Value> {
    store
        .node_results("u", id)
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k.node == node && k.item.is_none())
        .map(|(_, r)| r.output)
}

#[tokio::test]
async fn an_empty_reply_is_regenerated_with_feedback_not_a_finished_node() {
    // The first reply is whitespace only (a server that ended its stream
    // early with a normal finish); the regeneration gets real text.
    let model = ScriptedModel::new(|_, n| {
        Ok(ScriptedModel::reply(
            if n == 0 { " \n " } else { "A style guide." },
            5,
            5,
        ))
    });
    let flow = one_node(
        json!({"provider": "scripted", "model": "m", "max_tokens": 50, "prompt": "STYLE"}),
        json!([]),
    );
    let (id, store) = run(model.clone(), &flow, json!({})).await;
    assert_eq!(model.calls(), 2);
    let prompts = model.prompts();
    assert_eq!(prompts[0], "STYLE");
    assert!(
        prompts[1].starts_with("STYLE") && prompts[1].contains("the reply was empty"),
        "{}",
        prompts[1]
    );
    assert_eq!(
        result(&store, &id, "n").await,
        Some(json!("A style guide."))
    );
    let rec = store.get_execution("u", &id).await.unwrap();
    assert_eq!(rec.status, ExecutionStatus::Completed);

    // Always empty: the run fails saying why, after the regenerations.
    let model = ScriptedModel::new(|_, _| Ok(ScriptedModel::reply("", 5, 0)));
    let (id, store) = run(model.clone(), &flow, json!({})).await;
    assert_eq!(model.calls(), 3, "the first try and two regenerations");
    let rec = store.get_execution("u", &id).await.unwrap();
    assert_eq!(rec.status, ExecutionStatus::Failed);
    assert!(
        rec.message.as_deref().unwrap_or("").contains("empty"),
        "{:?}",
        rec.message
    );
    assert_eq!(result(&store, &id, "n").await, None);
}

fn plan_flow() -> Value {
    one_node(
        json!({"provider": "scripted", "model": "m", "max_tokens": 500, "output": "json",
            "prompt": "PLAN {{input.chapters}}",
            "json_schema": {"type": "object", "required": ["chapters"], "properties": {
                "chapters": {"type": "array", "minItems": "{{input.chapters}}",
                             "maxItems": "{{input.chapters}}", "items": {"type": "string"}}}}}),
        json!([{"name": "chapters", "type": "integer", "default": 3}]),
    )
}

fn plan(n: usize) -> String {
    json!({"chapters": (1..=n).map(|k| format!("c{k}")).collect::<Vec<_>>()}).to_string()
}

#[tokio::test]
async fn a_plan_with_the_wrong_chapter_count_is_regenerated_saying_so() {
    // A 1-chapter plan for a brief of 3 chapters, then the right one.
    let model =
        ScriptedModel::new(|_, n| Ok(ScriptedModel::reply(plan(if n == 0 { 1 } else { 3 }), 5, 5)));
    let (id, store) = run(model.clone(), &plan_flow(), json!({"chapters": 3})).await;
    assert_eq!(model.calls(), 2);
    let feedback = &model.prompts()[1];
    assert!(
        feedback.contains("output.chapters must have exactly 3 items, has 1"),
        "{feedback}"
    );
    // The provider is asked with the bound filled in, not the template.
    let req = &model.requests()[0];
    let schema = match &req.output {
        lekhika_core::provider::OutputFormat::JsonSchema { schema, .. } => schema.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(schema["properties"]["chapters"]["minItems"], json!(3));
    assert_eq!(schema["properties"]["chapters"]["maxItems"], json!(3));
    let out = result(&store, &id, "n").await.unwrap();
    assert_eq!(out["chapters"].as_array().unwrap().len(), 3);

    // A model that never plans 3: the run fails naming the count.
    let model = ScriptedModel::new(|_, _| Ok(ScriptedModel::reply(plan(1), 5, 5)));
    let (id, store) = run(model.clone(), &plan_flow(), json!({"chapters": 3})).await;
    let rec = store.get_execution("u", &id).await.unwrap();
    assert_eq!(rec.status, ExecutionStatus::Failed);
    assert!(
        rec.message
            .as_deref()
            .unwrap_or("")
            .contains("must have exactly 3 items, has 1"),
        "{:?}",
        rec.message
    );
}

#[tokio::test]
async fn a_schema_bound_that_is_not_a_template_or_number_fails_at_load() {
    let model = ScriptedModel::new(|_, _| Ok(ScriptedModel::reply("{}", 1, 1)));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let mut flow = plan_flow();
    flow["nodes"][1]["data"]["json_schema"]["properties"]["chapters"]["minItems"] = json!("three");
    let err = engine.load(&flow, &RunOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("`minItems` must be a number"),
        "{err}"
    );
    let mut flow = plan_flow();
    flow["nodes"][1]["data"]["json_schema"]["properties"]["chapters"]["maxItems"] =
        json!("{{input.volumes}}");
    let err = engine.load(&flow, &RunOptions::default()).unwrap_err();
    assert!(err.to_string().contains("volumes"), "{err}");
}

fn review_flow() -> Value {
    one_node(
        json!({"provider": "scripted", "model": "m", "max_tokens": 200, "prompt": "WRITE",
            "review": {"provider": "scripted", "model": "r", "max_tokens": 50,
                "prompt": "REVIEW {draft}", "threshold": 8, "max_revisions": 2,
                "json_schema": {"type": "object", "required": ["score"], "properties": {
                    "score": {"type": "number", "minimum": 1, "maximum": 10}}},
                "revise_prompt": "REVISE scored {score}: {notes}"}}),
        json!([]),
    )
}

#[tokio::test]
async fn a_review_score_of_2014_on_a_1_to_10_scale_is_rejected_not_a_pass() {
    // The reviewer first answers 2014, then, told the scale, a 6; the
    // writer revises once; the revision scores 9.
    let reviews = Arc::new(std::sync::Mutex::new(vec![2014.0, 6.0, 9.0]));
    let q = reviews.clone();
    let model = ScriptedModel::new(move |r, _| {
        let p = &r.messages[0].content;
        if p.starts_with("REVIEW") {
            let s = q.lock().unwrap().remove(0);
            return Ok(ScriptedModel::reply(
                json!({"score": s, "notes": ["tighten"]}).to_string(),
                5,
                5,
            ));
        }
        Ok(ScriptedModel::reply(
            format!("draft {}", r.messages.len()),
            5,
            5,
        ))
    });
    let (id, store) = run(model.clone(), &review_flow(), json!({})).await;
    let reviews: Vec<String> = model
        .prompts()
        .into_iter()
        .filter(|p| p.starts_with("REVIEW"))
        .collect();
    assert_eq!(reviews.len(), 3);
    assert!(
        reviews[1].contains("2014, outside the scale 1 to 10"),
        "{}",
        reviews[1]
    );
    let results = store.node_results("u", &id).await.unwrap();
    let m = &results
        .iter()
        .find(|(k, _)| k.node == "n")
        .unwrap()
        .1
        .metrics;
    assert_eq!(m["review_scores"], json!([6.0, 9.0]), "{m}");
    assert_eq!(m["revisions"], 1);
    assert_eq!(m["review_stop"], "threshold");

    // A reviewer that only ever answers 2014: invalid output, the run fails.
    let model = ScriptedModel::new(|r, _| {
        let p = &r.messages[0].content;
        Ok(ScriptedModel::reply(
            if p.starts_with("REVIEW") {
                json!({"score": 2014, "notes": []}).to_string()
            } else {
                "draft".to_string()
            },
            5,
            5,
        ))
    });
    let (id, store) = run(model, &review_flow(), json!({})).await;
    let rec = store.get_execution("u", &id).await.unwrap();
    assert_eq!(rec.status, ExecutionStatus::Failed);
    assert!(
        rec.message.as_deref().unwrap_or("").contains("2014"),
        "{:?}",
        rec.message
    );
    assert_eq!(result(&store, &id, "n").await, None);
}
