//! The `export` node kind: page size and printed labels come from the
//! node's `options`; bad options are refused when the flow loads.
#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;

use async_trait::async_trait;
use lekhika_core::flow::FlowJson;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::{ArtifactStore, ExecutionStatus};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{Engine, Node, NodeContext, NodeError, NodeOutput, RunOptions};
use serde_json::{json, Value};

/// Two chapters, as a writer map would produce them.
struct Chapters;

#[async_trait]
impl Node for Chapters {
    async fn run(&self, _ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        Ok(NodeOutput::new(json!([
            {"title": "Erstes", "content": "Ein Absatz."},
            {"title": "Zweites", "content": "Noch ein Absatz."}
        ])))
    }
}

fn engine(store: Arc<MemoryStore>) -> Engine {
    let model = ScriptedModel::new(|_, _| unreachable!("no model in this flow"));
    Engine::builder(model, store.clone())
        .artifacts(store)
        .register(|r| {
            lekhika::nodes::register(r);
            r.register("chapters", |_, _| Ok(Box::new(Chapters)));
        })
        .build()
}

fn flow(options: Value) -> Value {
    json!({
        "nodes": [
            {"id": "ch", "type": "chapters", "data": {}},
            {"id": "book", "type": "compile", "data": {
                "chapters": "{{nodes.ch.output}}", "title": "Titel", "language": "de",
                "author": "A. Autor", "about_author": "Schreibt Bücher."}},
            {"id": "export", "type": "export", "data": {
                "book": "{{nodes.book.output}}", "formats": ["md", "pdf"], "options": options}}
        ],
        "edges": [
            {"id": "e1", "source": "ch", "target": "book"},
            {"id": "e2", "source": "book", "target": "export"}
        ]
    })
}

#[tokio::test]
async fn export_options_set_trim_and_labels() {
    let store = Arc::new(MemoryStore::new());
    let e = engine(store.clone());
    let doc = flow(json!({"trim": "5x8", "labels": {"about_the_author": "Zur Person"}}));
    let o = e
        .start("u", &doc, &json!({}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(o.status, ExecutionStatus::Completed, "{o:?}");
    let md = store
        .get_artifact("u", &o.execution_id, "titel.md")
        .await
        .unwrap();
    let md = String::from_utf8(md.bytes).unwrap();
    // German defaults from the book's language, the override on top.
    for want in ["## Inhalt", "# Kapitel 1: Erstes", "# Zur Person"] {
        assert!(md.contains(want), "lacks {want:?}:\n{md}");
    }
    let pdf = store
        .get_artifact("u", &o.execution_id, "titel.pdf")
        .await
        .unwrap();
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let path = std::env::temp_dir().join(format!("lekhika-export-node-{}.pdf", std::process::id()));
    std::fs::write(&path, &pdf.bytes).unwrap();
    match Command::new("pdfinfo").arg(&path).output() {
        Ok(out) => {
            let info = String::from_utf8_lossy(&out.stdout);
            assert!(info.contains("360 x 576 pts"), "5 x 8 in:\n{info}");
        }
        Err(_) => assert!(
            std::env::var("LEKHIKA_REQUIRE_VALIDATORS").as_deref() != Ok("1"),
            "pdfinfo missing"
        ),
    }
    let _ = std::fs::remove_file(&path);
    // What `lekhika run --out` and the bindings' write_book use.
    let opts = lekhika::nodes::flow_export_options(&FlowJson::from_value(&doc));
    assert_eq!(opts.trim, lekhika_export::TrimSize::DIGEST_5X8);
    assert_eq!(opts.labels.about_the_author.as_deref(), Some("Zur Person"));
}

#[tokio::test]
async fn bad_export_options_are_refused_when_the_flow_loads() {
    let e = engine(Arc::new(MemoryStore::new()));
    for (options, needle) in [
        (json!({"trim": "letter"}), "unknown trim `letter`"),
        (json!({"font_size_pt": 99}), "font size"),
        (json!({"labels": {"toc": "x"}}), "unknown field `toc`"),
    ] {
        let err = e
            .load(&flow(options), &RunOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("node `export`: `options`") && err.contains(needle),
            "{err}"
        );
    }
}
