#![allow(clippy::unwrap_used)]
mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{ProviderError, ProviderErrorKind};
use lekhika_core::store::{ExecutionStatus, ExecutionStore, StoreError};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{EngineError, RunOptions};
use serde_json::{json, Value};

fn input(n: usize) -> Value {
    json!({"title": "The Test", "chapters": n})
}

#[tokio::test]
async fn react_flow_document_with_ui_fields_runs_to_a_book() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let h = engine
        .start("alice", &book_flow(3), &input(5), &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let (events, outcome) = run_to_end(h).await;
    assert_eq!(outcome.status, ExecutionStatus::Completed, "{outcome:?}");
    assert!(matches!(
        events.first().map(|e| &e.kind),
        Some(EventKind::RunStarted { .. })
    ));
    assert!(matches!(
        events.last().map(|e| &e.kind),
        Some(EventKind::RunFinished { .. })
    ));
    assert!(events.iter().all(|e| e.execution_id == id));
    // 1 outline + 5 chapters + 1 blurb
    assert_eq!(model.calls(), 7);
    let results = store.node_results("alice", &id).await.unwrap();
    let book = results
        .iter()
        .find(|(k, _)| k.node == "book" && k.item.is_none())
        .map(|(_, r)| r.output.clone())
        .unwrap();
    assert_eq!(book["title"], "The Test");
    let chapters = book["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 5);
    assert_eq!(chapters[2]["title"], "Part 3");
    assert!(chapters[2]["content"]
        .as_str()
        .unwrap()
        .contains("WRITE chapter 3: Part 3 of The Test"));
    assert!(book["word_count"].as_u64().unwrap() > 0);
    // Token deltas were streamed for text nodes.
    assert!(events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::TokenDelta { node, .. } if node == "write")));
    // Another user cannot see it.
    assert!(store.get_execution("mallory", &id).await.is_err());
}

#[tokio::test]
async fn cyclic_flow_is_rejected_naming_the_cycle() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let mut flow = book_flow(2);
    flow["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "back", "source": "book", "target": "outline"}));
    let err = engine.load(&flow, &RunOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cycle"), "{text}");
    for n in ["outline", "write", "book"] {
        assert!(text.contains(n), "cycle should name {n}: {text}");
    }
    assert!(!text.contains("blurb ->"), "{text}");
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let flow = json!({
        "nodes": [
            {"id": "a", "type": "input", "data": {"fields": [{"name": "title"}]}},
            {"id": "a", "type": "input", "data": {}},
            {"id": "b", "type": "text", "data": {"provider": "p", "model": "m", "prompt": "{{input.missing}} {{nodes.c.output}}"}},
            {"id": "c", "type": "no_such_kind", "data": {}},
            {"id": "d", "type": "text", "data": {"provider": "p", "model": "m", "max_tokens": "many", "prompt": "x"}},
            {"id": "e", "type": "text", "data": {"provider": "p", "model": "m", "max_tokens": 5, "prompt": "{{item.title}} {{foo}}"}}
        ],
        "edges": [{"id": "x1", "source": "a", "target": "ghost"}]
    });
    let Err(EngineError::Flow(err)) = engine.load(&flow, &RunOptions::default()) else {
        panic!("expected a flow error")
    };
    // The same document as text (the typed fast path) reports the same problems.
    let Err(EngineError::Flow(from_text)) =
        engine.load(flow.to_string().as_str(), &RunOptions::default())
    else {
        panic!("expected a flow error from the text")
    };
    assert_eq!(from_text.problems, err.problems);
    let text = err.to_string();
    for needle in [
        "node `a`: duplicate node id",
        "edge `x1`: target `ghost` is not a node",
        "node `b`: config: missing field `max_tokens`",
        "node `c`: unknown kind `no_such_kind`",
        "node `d`: config: invalid type",
        "node `e`: unknown variable `{{item.title}}`",
        "node `e`: unknown variable `{{foo}}`",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[tokio::test]
async fn flow_text_that_is_not_a_flow_gets_a_clear_error() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let cases = [
        ("{\"nodes\": [", "the flow is not valid JSON: EOF while parsing"),
        ("[1, 2]", "the flow must be a JSON object with `nodes` and `edges`"),
        ("{\"nodes\": 3}", "`nodes` must be an array"),
        ("{\"nodes\": [7]}", "nodes[0] is not an object"),
        ("{\"edges\": []}", "the flow has no `nodes` array"),
        (
            "{\"nodes\": [{\"id\": \"a\", \"type\": \"input\"}], \"edges\": [{\"id\": \"e\", \"source\": \"a\"}]}",
            "edge `e`: needs string `source` and `target`",
        ),
    ];
    for (text, needle) in cases {
        let err = engine.load(text, &RunOptions::default()).unwrap_err();
        assert!(err.to_string().contains(needle), "{text}: {err}");
        let Err(EngineError::Flow(_)) = engine
            .start("alice", text, &json!({}), &RunOptions::default())
            .await
        else {
            panic!("{text}: expected a flow error from start")
        };
    }
}

#[tokio::test]
async fn a_run_started_from_json_text_keeps_that_document() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let doc = book_flow(3);
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let h = engine
        .start("alice", text.as_str(), &input(2), &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let outcome = h.wait().await.unwrap();
    assert_eq!(outcome.status, ExecutionStatus::Completed, "{outcome:?}");
    let rec = store.get_execution("alice", &id).await.unwrap();
    assert_eq!(rec.flow.as_str(), text, "the text is kept as given");
    assert_eq!(rec.flow.to_value().unwrap(), doc);
    assert_eq!(
        rec.flow.node_count(),
        doc["nodes"].as_array().unwrap().len()
    );
    // 1 outline + 2 chapters + 1 blurb
    assert_eq!(model.calls(), 4);
}

#[tokio::test]
async fn a_host_chosen_execution_id_is_used_once_and_checked() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model, store.clone());
    let opts = RunOptions {
        execution_id: Some("frontend-42".into()),
        ..RunOptions::default()
    };
    let h = engine
        .start("alice", &book_flow(2), &input(1), &opts)
        .await
        .unwrap();
    assert_eq!(h.execution_id(), "frontend-42");
    assert_eq!(h.wait().await.unwrap().status, ExecutionStatus::Completed);
    let rec = store.get_execution("alice", "frontend-42").await.unwrap();
    assert!(
        rec.options.get("execution_id").is_none(),
        "not stored with the options: {}",
        rec.options
    );
    // Taken, by this user or another: a conflict, nothing created.
    for user in ["alice", "bob"] {
        let Err(err) = engine.start(user, &book_flow(2), &input(1), &opts).await else {
            panic!("{user}: the id was taken twice")
        };
        assert!(
            matches!(err, EngineError::Store(StoreError::Conflict(_))),
            "{err}"
        );
        assert!(err.to_string().contains("already in use"), "{err}");
    }
    assert_eq!(store.list_executions("bob").await.unwrap().len(), 0);
    for bad in ["", "has space", "slash/no", &"x".repeat(129)] {
        let opts = RunOptions {
            execution_id: Some(bad.to_string()),
            ..RunOptions::default()
        };
        let err = engine
            .submit("alice", &book_flow(2), &input(1), &opts)
            .await
            .unwrap_err();
        assert!(
            err.is_bad_input() && err.to_string().contains("execution id"),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(store.list_executions("alice").await.unwrap().len(), 1);
}

#[tokio::test]
async fn models_chosen_per_node_win_over_the_run_wide_choice() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let mut opts = RunOptions {
        model: Some("everyone".into()),
        ..RunOptions::default()
    };
    opts.models.insert(
        "outline".into(),
        lekhika_core::node::ModelChoice {
            provider: None,
            model: Some("planner-small".into()),
        },
    );
    opts.models.insert(
        "write".into(),
        lekhika_core::node::ModelChoice {
            provider: Some("scripted".into()),
            model: Some("writer-big".into()),
        },
    );
    let o = engine
        .start("alice", &book_flow(2), &input(2), &opts)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(o.status, ExecutionStatus::Completed, "{o:?}");
    let mut by_prompt: Vec<(String, String)> = model
        .requests()
        .iter()
        .map(|r| {
            let p = r.messages[0]
                .content
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string();
            (p, r.model.clone())
        })
        .collect();
    by_prompt.sort();
    assert_eq!(
        by_prompt,
        [
            ("BLURB".to_string(), "everyone".to_string()),
            ("OUTLINE".into(), "planner-small".into()),
            ("WRITE".into(), "writer-big".into()),
            ("WRITE".into(), "writer-big".into()),
        ]
    );
    // Kept with the execution: a resume or regenerate uses the same models.
    let kept = engine.options("alice", &o.execution_id).await.unwrap();
    assert_eq!(kept.models, opts.models);
    // A model for a node the flow does not have is a flow error.
    let mut bad = RunOptions::default();
    bad.models.insert("ghost".into(), Default::default());
    let err = engine.load(&book_flow(2), &bad).unwrap_err().to_string();
    assert!(err.contains("node `ghost`"), "{err}");
}

#[tokio::test]
async fn unknown_template_variables_are_rejected_at_load() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let mut flow = book_flow(2);
    flow["nodes"][1]["data"]["prompt"] = json!("Outline {{input.titel}}");
    flow["nodes"][3]["data"]["prompt"] = json!("Blurb {{nodes.book.output}}");
    let err = engine
        .load(&flow, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("node `outline`: unknown variable `{{input.titel}}`: no input field `titel`"),
        "{err}"
    );
    assert!(
        err.contains(
            "node `blurb`: unknown variable `{{nodes.book.output}}`: node `book` is not upstream"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn map_over_20_items_never_exceeds_its_limit() {
    let model = ScriptedModel::with_delay(Duration::from_millis(15), |r, _| book_answer(r));
    let engine = engine(model.clone(), Arc::new(MemoryStore::new()));
    // blurb runs beside the map: run-wide concurrency 1 keeps it out of the count.
    let opts = RunOptions {
        max_concurrency: Some(1),
        ..RunOptions::default()
    };
    let h = engine
        .start("u", &book_flow(4), &input(20), &opts)
        .await
        .unwrap();
    let (events, outcome) = run_to_end(h).await;
    assert_eq!(outcome.status, ExecutionStatus::Completed);
    assert_eq!(
        model.max_in_flight(),
        4,
        "the map must use but never exceed its limit of 4"
    );
    let items = finished(&events)
        .keys()
        .filter(|(n, i)| n == "write" && i.is_some())
        .count();
    assert_eq!(items, 20);
}

#[tokio::test]
async fn stop_mid_run_then_resume_runs_everything_exactly_once() {
    let model = ScriptedModel::with_delay(Duration::from_millis(30), |r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let mut h = engine
        .start("u", &book_flow(2), &input(10), &RunOptions::default())
        .await
        .unwrap();
    let id = h.execution_id().to_string();
    let mut events = h.events().unwrap();
    let mut first = Vec::new();
    let mut items_done = 0;
    while let Some(e) = events.recv().await {
        if matches!(&e.kind, EventKind::NodeFinished { item: Some(_), .. }) {
            items_done += 1;
            if items_done == 3 {
                engine.stop("u", &id).await.unwrap();
            }
        }
        let end = e.kind.is_terminal();
        first.push(e);
        if end {
            break;
        }
    }
    let out = h.wait().await.unwrap();
    assert_eq!(out.status, ExecutionStatus::Stopped);
    assert_eq!(
        store.get_execution("u", &id).await.unwrap().status,
        ExecutionStatus::Stopped
    );
    let before = finished(&first);
    assert!(
        before.len() < 13,
        "the stop must have interrupted the run: {before:?}"
    );

    let (second, out) = run_to_end(engine.resume("u", &id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{out:?}");
    let after = finished(&second);
    let mut all: HashMap<(String, Option<u32>), usize> = before.clone();
    for (k, v) in after {
        *all.entry(k).or_insert(0) += v;
    }
    // brief, outline, blurb, write, book + 10 items: each finished exactly once overall.
    assert_eq!(all.len(), 15, "{all:?}");
    assert!(all.values().all(|&v| v == 1), "{all:?}");
    assert!(!second
        .iter()
        .any(|e| matches!(&e.kind, EventKind::NodeStarted { node, .. } if node == "outline")));
}

#[tokio::test]
async fn failure_at_item_7_then_resume_reruns_only_unfinished_work() {
    let fail = Arc::new(AtomicBool::new(true));
    let f = fail.clone();
    let model = ScriptedModel::new(move |r, _| {
        if r.messages[0].content.starts_with("WRITE chapter 7:") && f.load(Ordering::SeqCst) {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::BadRequest,
                "chapter 7 rejected",
            ));
        }
        book_answer(r)
    });
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let (first, out) = run_to_end(
        engine
            .start("u", &book_flow(1), &input(20), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(out.node.as_deref(), Some("write"));
    assert!(out.message.unwrap().contains("chapter 7 rejected"));
    assert!(matches!(
        first.last().map(|e| &e.kind),
        Some(EventKind::RunFailed { .. })
    ));
    let calls_before = model.calls();

    fail.store(false, Ordering::SeqCst);
    let (_, out) = run_to_end(engine.resume("u", &out.execution_id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let second: Vec<String> = model.prompts()[calls_before..].to_vec();
    // Items 1-6 and the outline and blurb are kept; 7..20 run now.
    assert_eq!(second.len(), 14, "{second:?}");
    assert!(second.iter().all(|p| p.starts_with("WRITE chapter")));
    for n in 1..=6 {
        assert!(!second
            .iter()
            .any(|p| p.starts_with(&format!("WRITE chapter {n}:"))));
    }
}

#[tokio::test]
async fn regenerate_reruns_exactly_the_node_and_its_descendants() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let store = Arc::new(MemoryStore::new());
    let engine = engine(model.clone(), store.clone());
    let (_, out) = run_to_end(
        engine
            .start("u", &book_flow(2), &input(3), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let before = model.calls();
    let h = engine
        .regenerate("u", &out.execution_id, "write", Some("Make it funnier."))
        .await
        .unwrap();
    let (events, out) = run_to_end(h).await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    let started: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NodeStarted {
                node, item: None, ..
            } => Some(node.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec!["write", "book"]);
    let prompts = &model.prompts()[before..];
    assert_eq!(prompts.len(), 3);
    assert!(prompts
        .iter()
        .all(|p| p.starts_with("WRITE") && p.ends_with("Make it funnier.")));
    let err = engine
        .regenerate("u", &out.execution_id, "nope", None)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, EngineError::UnknownNode(_)));
}

#[tokio::test]
async fn provider_faults_retry_the_call_with_the_providers_delay() {
    let model = ScriptedModel::new(|r, n| {
        if n < 2 {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::RateLimited,
                "slow down",
            )
            .with_retry_after(Some(Duration::from_millis(30))));
        }
        book_answer(r)
    });
    let engine = engine(model.clone(), Arc::new(MemoryStore::new()));
    let mut flow = book_flow(1);
    flow["nodes"][1]["data"]["retry"] = json!({"attempts": 3, "base_ms": 1, "max_ms": 5});
    let t = std::time::Instant::now();
    let (events, out) = run_to_end(
        engine
            .start("u", &flow, &input(1), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed);
    assert!(t.elapsed() >= Duration::from_millis(60));
    let retries: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallRetrying { delay_ms, .. } => Some(*delay_ms),
            EventKind::NodeRetrying { .. } => panic!("the node must not run again"),
            _ => None,
        })
        .collect();
    assert_eq!(retries, vec![30, 30]);
    assert_eq!(
        model.calls(),
        5,
        "3 tries of the outline's call, then a chapter and the blurb"
    );
}

#[tokio::test]
async fn non_retryable_errors_fail_at_once_naming_node_and_cause() {
    let model = ScriptedModel::new(|_, _| {
        Err(ProviderError::new(
            "scripted",
            ProviderErrorKind::QuotaExhausted,
            "insufficient_quota",
        ))
    });
    let engine = engine(model.clone(), Arc::new(MemoryStore::new()));
    let (_, out) = run_to_end(
        engine
            .start("u", &book_flow(1), &input(1), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Failed);
    assert_eq!(model.calls(), 1);
    let msg = out.message.unwrap();
    assert!(
        msg.contains("node `outline` failed") && msg.contains("insufficient_quota"),
        "{msg}"
    );
}

#[tokio::test]
async fn failed_validation_regenerates_with_the_problem_in_the_prompt() {
    let model = ScriptedModel::new(|r, _| {
        let p = &r.messages[0].content;
        if p.starts_with("WRITE") && !p.contains("rejected") {
            return Ok(ScriptedModel::reply("Too short.", 10, 10));
        }
        book_answer(r)
    });
    let engine = engine(model.clone(), Arc::new(MemoryStore::new()));
    let mut flow = book_flow(1);
    flow["nodes"][2]["data"]["node"]["validate"] = json!({"min_words": 5, "attempts": 1});
    let (_, out) = run_to_end(
        engine
            .start("u", &flow, &input(2), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{out:?}");
    let retried: Vec<String> = model
        .prompts()
        .into_iter()
        .filter(|p| p.contains("rejected"))
        .collect();
    assert_eq!(retried.len(), 2);
    assert!(
        retried[0].contains("the text has 2 words; write at least 5"),
        "{}",
        retried[0]
    );
}

#[tokio::test]
async fn inputs_are_checked_against_the_form() {
    let model = ScriptedModel::new(|r, _| book_answer(r));
    let engine = engine(model, Arc::new(MemoryStore::new()));
    let err = engine
        .start(
            "u",
            &book_flow(1),
            &json!({"chapters": "many"}),
            &RunOptions::default(),
        )
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(text.contains("input `title` is required"), "{text}");
    assert!(text.contains("input `chapters` must be integer"), "{text}");
}
