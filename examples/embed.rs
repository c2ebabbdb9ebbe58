//! Embedding Lekhika: run a small book flow in-process and export it.
//!
//! With OPENAI_API_KEY (or OPENAI_BASE_URL for Ollama & co.) set, the flow
//! runs on that provider; without, on a scripted test model, so the
//! example always runs:
//!
//!     cargo run -p lekhika --example embed -- /tmp/book

use std::sync::Arc;

use lekhika::core::memory_store::MemoryStore;
use lekhika::core::provider::ModelProvider;
use lekhika::core::testing::ScriptedModel;
use lekhika::core::{Engine, EventKind, RunOptions};
use lekhika::export::{export_all, Book, ExportOptions};
use serde_json::json;

fn flow(provider: &str, model: &str) -> serde_json::Value {
    json!({
        "nodes": [
            {"id": "brief", "type": "input", "data": {"fields": [
                {"name": "title", "required": true}, {"name": "chapters", "type": "integer", "default": 3}]}},
            {"id": "outline", "type": "text", "data": {"provider": provider, "model": model, "max_tokens": 800,
                "output": "json", "prompt": "Plan {{input.chapters}} chapter titles for a short book called {{input.title}}. Answer as JSON: {\"chapters\": [{\"title\": \"...\"}]}"}},
            {"id": "write", "type": "map", "data": {"items": "{{nodes.outline.output.chapters}}", "concurrency": 3,
                "node": {"kind": "text", "provider": provider, "model": model, "max_tokens": 1200,
                         "prompt": "Write chapter {{item.number}}, \"{{item.title}}\", of {{input.title}} in about 300 words of Markdown."}}},
            {"id": "book", "type": "compile", "data": {"title": "{{input.title}}", "chapters": "{{nodes.write.output}}",
                "titles": "{{nodes.outline.output.chapters}}"}}
        ],
        "edges": [
            {"id": "e1", "source": "brief", "target": "outline"},
            {"id": "e2", "source": "outline", "target": "write"},
            {"id": "e3", "source": "write", "target": "book"}
        ]
    })
}

fn scripted() -> Arc<ScriptedModel> {
    ScriptedModel::new(|req, _| {
        let prompt = &req.messages[0].content;
        if prompt.starts_with("Plan") {
            let chapters = json!({"chapters": [{"title": "Arrival"}, {"title": "The Map"}, {"title": "Home"}]});
            Ok(ScriptedModel::reply(chapters.to_string(), 40, 30))
        } else {
            Ok(ScriptedModel::reply(
                format!("The morning was quiet.\n\n{prompt}\n\nAnd so it went."),
                60,
                200,
            ))
        }
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "book-out".into());
    let (models, provider, model): (Arc<dyn ModelProvider>, &str, &str) =
        if std::env::var_os("OPENAI_API_KEY").is_some()
            || std::env::var_os("OPENAI_BASE_URL").is_some()
        {
            (
                Arc::new(lekhika::provider_clients::ProviderSet::from_env()?),
                "openai",
                "gpt-5-mini",
            )
        } else {
            eprintln!("no OPENAI_API_KEY / OPENAI_BASE_URL: using a scripted test model");
            (scripted(), "scripted", "scripted")
        };
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(models, store.clone())
        .artifacts(store.clone())
        .build();

    let mut run = engine
        .start(
            "me",
            &flow(provider, model),
            &json!({"title": "A Small Book"}),
            &RunOptions::default(),
        )
        .await?;
    let mut events = run.events().ok_or("no events")?;
    while let Some(e) = events.recv().await {
        match &e.kind {
            EventKind::NodeFinished {
                node, item, usage, ..
            } => {
                println!(
                    "finished {node}{} ({} tokens)",
                    item.map(|i| format!("[{i}]")).unwrap_or_default(),
                    usage.total()
                )
            }
            k if k.is_terminal() => break,
            _ => {}
        }
    }
    let outcome = run.wait().await?;
    println!("{}: {:?}", outcome.execution_id, outcome.status);

    let results =
        lekhika::core::store::ExecutionStore::node_results(&*store, "me", &outcome.execution_id)
            .await?;
    let compiled = results
        .into_iter()
        .find(|(k, _)| k.node == "book")
        .ok_or("no book")?
        .1
        .output;
    let book = Book::from_compiled(&compiled)?;
    std::fs::create_dir_all(&out)?;
    for f in export_all(&book, &["md", "html", "epub"], &ExportOptions::default())? {
        std::fs::write(std::path::Path::new(&out).join(&f.name), &f.bytes)?;
        println!("wrote {out}/{}", f.name);
    }
    Ok(())
}
