//! A small book flow runs end to end through lekhika-core's executor on each
//! text provider (streaming, over loopback servers), with usage reaching the wallet.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use lekhika_core::exec::EventKind;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::wallet::{MemoryWalletStore, WalletStore};
use lekhika_core::{Engine, RunOptions};
use lekhika_providers::testkit::{Protocol, RecordedRequest, Reply, ScriptedServer};
use lekhika_providers::{Catalog, ProviderSet};
use serde_json::{json, Value};

fn book_flow() -> Value {
    json!({
        "nodes": [
            {"id": "brief", "type": "input", "position": {"x": 0, "y": 0},
             "data": {"label": "Brief", "fields": [
                {"name": "title", "type": "string", "required": true},
                {"name": "chapters", "type": "integer", "default": 3}]}},
            {"id": "outline", "type": "text", "position": {"x": 200, "y": 0},
             "data": {"provider": "x", "model": "x", "max_tokens": 800, "output": "json",
                      "system": "You plan books.",
                      "prompt": "OUTLINE {{input.title}} in {{input.chapters}} chapters"}},
            {"id": "write", "type": "map", "position": {"x": 400, "y": 0},
             "data": {"items": "{{nodes.outline.output.chapters}}", "concurrency": 2,
                      "expected_items": "{{input.chapters}}",
                      "node": {"kind": "text", "provider": "x", "model": "x", "max_tokens": 400,
                               "prompt": "WRITE chapter {{item.number}}: {{item.title}} of {{input.title}}"}}},
            {"id": "book", "type": "compile", "position": {"x": 600, "y": 0},
             "data": {"title": "{{input.title}}", "chapters": "{{nodes.write.output}}",
                      "titles": "{{nodes.outline.output.chapters}}"}}
        ],
        "edges": [
            {"id": "e1", "source": "brief", "target": "outline"},
            {"id": "e2", "source": "outline", "target": "write"},
            {"id": "e3", "source": "write", "target": "book"}
        ]
    })
}

fn answer(r: &RecordedRequest) -> Reply {
    let prompt = r.prompt_text();
    if prompt.contains("OUTLINE") {
        let chapters: Vec<Value> = (1..=3)
            .map(|i| json!({"title": format!("Part {i}")}))
            .collect();
        Reply::text(json!({"logline": "A test", "chapters": chapters}).to_string()).usage(100, 200)
    } else {
        let line = prompt
            .lines()
            .find(|l| l.contains("WRITE"))
            .unwrap_or("")
            .to_string();
        Reply::text(format!(
            "Chapter text for «{line}». The monsoon came early."
        ))
        .usage(50, 100)
    }
}

async fn run_on(protocol: Protocol, provider: &str, model: &str) {
    let server = ScriptedServer::start(protocol, answer);
    let set = ProviderSet::new().with(server.config(provider)).unwrap();
    let catalog = Catalog::default_catalog();
    let price = catalog
        .price_book()
        .get(provider, model)
        .cloned()
        .expect("model priced in the catalog");
    let store = Arc::new(MemoryStore::new());
    let wallet = Arc::new(MemoryWalletStore::new());
    wallet.grant("u", 1_000_000, "test", None).await.unwrap();
    let engine = Engine::builder(Arc::new(set), store.clone())
        .artifacts(store.clone())
        .wallet(wallet.clone())
        .prices(catalog.price_book())
        .stop_poll(Duration::from_millis(20))
        .build();
    let options = RunOptions {
        provider: Some(provider.into()),
        model: Some(model.into()),
        ..RunOptions::default()
    };
    let mut h = engine
        .start(
            "u",
            &book_flow(),
            &json!({"title": "The Test", "chapters": 3}),
            &options,
        )
        .await
        .unwrap();
    let mut events = h.events().unwrap();
    let mut deltas = 0;
    while let Some(e) = events.recv().await {
        if matches!(e.kind, EventKind::TokenDelta { .. }) {
            deltas += 1;
        }
        if e.kind.is_terminal() {
            break;
        }
    }
    let out = h.wait().await.unwrap();
    assert_eq!(
        out.status,
        ExecutionStatus::Completed,
        "{provider}: {out:?}"
    );
    assert!(deltas > 0, "{provider}: streamed deltas reached the events");

    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let book = results
        .iter()
        .find(|(k, _)| k.node == "book" && k.item.is_none())
        .map(|(_, r)| r.output.clone())
        .unwrap();
    let chapters = book["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 3, "{provider}");
    assert!(chapters[1]["content"]
        .as_str()
        .unwrap()
        .contains("WRITE chapter 2: Part 2 of The Test"));

    // 1 outline + 3 chapters, all streamed to the provider, priced from the catalog.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "{provider}");
    assert!(reqs.iter().all(|r| r.is_stream()));
    let expected = price.cost(100, 200) + 3 * price.cost(50, 100);
    assert_eq!(out.cost, expected, "{provider}");
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.total_spent, expected, "{provider}");
    assert_eq!(w.reserved, 0);
}

#[tokio::test]
async fn book_flow_on_openai() {
    run_on(Protocol::OpenAi, "openai", "gpt-5-mini").await;
}

#[tokio::test]
async fn book_flow_on_anthropic() {
    run_on(Protocol::Anthropic, "anthropic", "claude-sonnet-4-5").await;
}

#[tokio::test]
async fn book_flow_on_gemini() {
    run_on(Protocol::Gemini, "gemini", "gemini-2.5-flash").await;
}
