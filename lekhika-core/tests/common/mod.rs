#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{ProviderError, TextRequest, TextResponse};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{Engine, Event, RunHandle, RunOutcome};
use serde_json::{json, Value};

/// A React Flow book document: brief → outline → map(write) → compile, plus a blurb off the outline.
pub fn book_flow(concurrency: usize) -> Value {
    json!({
        "nodes": [
            {"id": "brief", "type": "input", "position": {"x": 0, "y": 0}, "width": 180, "height": 60,
             "selected": true, "dragging": false, "measured": {"width": 180, "height": 60},
             "data": {"label": "Brief", "fields": [
                {"name": "title", "type": "string", "required": true},
                {"name": "chapters", "type": "integer", "default": 20}
             ]}},
            {"id": "outline", "type": "text", "position": {"x": 200, "y": 0},
             "data": {"provider": "scripted", "model": "planner", "max_tokens": 800, "output": "json",
                      "system": "You plan books.",
                      "prompt": "OUTLINE {{input.title}} in {{input.chapters}} chapters"}},
            {"id": "write", "type": "map", "position": {"x": 400, "y": 0},
             "data": {"items": "{{nodes.outline.output.chapters}}", "concurrency": concurrency,
                      "expected_items": "{{input.chapters}}",
                      "node": {"kind": "text", "provider": "scripted", "model": "writer", "max_tokens": 400,
                               "prompt": "WRITE chapter {{item.number}}: {{item.title}} of {{input.title}}"}}},
            {"id": "blurb", "type": "text", "position": {"x": 400, "y": 200},
             "data": {"provider": "scripted", "model": "writer", "max_tokens": 100,
                      "prompt": "BLURB for {{input.title}}: {{nodes.outline.output.logline}}"}},
            {"id": "book", "type": "compile", "position": {"x": 600, "y": 0},
             "data": {"title": "{{input.title}}", "chapters": "{{nodes.write.output}}",
                      "titles": "{{nodes.outline.output.chapters}}"}}
        ],
        "edges": [
            {"id": "e1", "source": "brief", "target": "outline", "animated": true, "style": {"stroke": "#999"}},
            {"id": "e2", "source": "outline", "target": "write", "sourceHandle": "out", "targetHandle": "in"},
            {"id": "e3", "source": "outline", "target": "blurb"},
            {"id": "e4", "source": "write", "target": "book"}
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1}
    })
}

/// Answers the book flow: an outline of N chapters, then chapter texts.
pub fn book_answer(req: &TextRequest) -> Result<TextResponse, ProviderError> {
    let p = &req.messages[0].content;
    if let Some(rest) = p.strip_prefix("OUTLINE ") {
        let n: usize = rest
            .split(" in ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        let chapters: Vec<Value> = (1..=n)
            .map(|i| json!({"title": format!("Part {i}")}))
            .collect();
        return Ok(ScriptedModel::reply(
            json!({"logline": "A test book", "chapters": chapters}).to_string(),
            100,
            200,
        ));
    }
    Ok(ScriptedModel::reply(
        format!("Text for {p}. It was a dark night."),
        50,
        100,
    ))
}

pub fn engine(model: Arc<ScriptedModel>, store: Arc<MemoryStore>) -> Engine {
    Engine::builder(model, store.clone())
        .artifacts(store)
        .stop_poll(std::time::Duration::from_millis(20))
        .build()
}

/// Collect every event of a run, then its outcome.
pub async fn run_to_end(mut h: RunHandle) -> (Vec<Event>, RunOutcome) {
    let mut events = h.events().expect("events");
    let mut all = Vec::new();
    while let Some(e) = events.recv().await {
        let end = e.kind.is_terminal();
        all.push(e);
        if end {
            break;
        }
    }
    (all, h.wait().await.expect("run task"))
}

/// (node, item) → number of NodeFinished events.
pub fn finished(events: &[Event]) -> HashMap<(String, Option<u32>), usize> {
    let mut m = HashMap::new();
    for e in events {
        if let EventKind::NodeFinished { node, item, .. } = &e.kind {
            *m.entry((node.clone(), *item)).or_insert(0) += 1;
        }
    }
    m
}
