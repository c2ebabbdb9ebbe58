//! Node kinds the CLI adds to the built-ins: `export`, which renders the
//! compiled book with lekhika-export and stores the files as artifacts.

use async_trait::async_trait;
use lekhika_core::flow::NodeSpec;
use lekhika_core::node::{EstimateScope, VarUse};
use lekhika_core::store::Artifact;
use lekhika_core::template::Template;
use lekhika_core::{Node, NodeContext, NodeError, NodeOutput, Registry};
use lekhika_export::{export_all, exporter_for, Book, ExportOptions};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn register(r: &mut Registry) {
    r.register("export", |spec, _| {
        ExportNode::build(spec).map(|n| Box::new(n) as Box<dyn Node>)
    });
}

#[derive(Deserialize)]
struct Config {
    /// Single-variable template naming the compiled book, e.g. `{{nodes.book.output}}`.
    book: String,
    formats: Vec<String>,
    /// Page size, font size, margins, chapter placement and printed labels
    /// (see `ExportOptions::from_json`); defaults when absent.
    #[serde(default)]
    options: Value,
}

pub struct ExportNode {
    book: Template,
    formats: Vec<String>,
    options: ExportOptions,
}

impl ExportNode {
    fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = lekhika_core::node::builtin::parse_config(spec)?;
        let book = Template::parse(&c.book).map_err(|e| vec![format!("`book`: {e}")])?;
        let mut problems = Vec::new();
        for f in &c.formats {
            if let Err(e) = exporter_for(f) {
                problems.push(format!("`formats`: {e}"));
            }
        }
        if c.formats.is_empty() {
            problems.push("`formats` must name at least one of pdf, epub, docx, html, md".into());
        }
        let options = ExportOptions::from_json(&c.options)
            .map_err(|e| problems.push(format!("`options`: {e}")))
            .unwrap_or_default();
        if problems.is_empty() {
            Ok(Self {
                book,
                formats: c.formats.iter().map(|f| f.to_ascii_lowercase()).collect(),
                options,
            })
        } else {
            Err(problems)
        }
    }
}

#[async_trait]
impl Node for ExportNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let value = ctx.render_value(&self.book)?;
        let book = Book::from_compiled(&value)
            .map_err(|e| NodeError::failed(format!("cannot read the book: {e}")))?;
        let formats = self.formats.clone();
        let options = self.options.clone();
        let files = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = formats.iter().map(String::as_str).collect();
            export_all(&book, &refs, &options)
        })
        .await
        .map_err(|e| NodeError::failed(format!("export task failed: {e}")))?
        .map_err(|e| NodeError::failed(format!("export failed: {e}")))?;
        let mut list = Vec::new();
        for f in files {
            list.push(json!({"name": f.name, "mime": f.mime, "size": f.bytes.len()}));
            ctx.put_artifact(&Artifact {
                name: f.name,
                mime: f.mime,
                bytes: f.bytes,
            })
            .await?;
        }
        Ok(NodeOutput::new(json!({ "files": list })))
    }

    fn variables(&self) -> Vec<VarUse> {
        self.book
            .variables()
            .map(|p| VarUse {
                path: p.to_vec(),
                in_item: false,
            })
            .collect()
    }

    fn export_formats(&self) -> Vec<String> {
        self.formats.clone()
    }

    fn output_tokens(&self, _scope: &dyn EstimateScope) -> lekhika_core::node::TokenSpan {
        lekhika_core::node::TokenSpan::exact(64)
    }
}

/// The export options a flow document sets on its (last) `export` node;
/// defaults when it has none.
pub fn flow_export_options(flow: &lekhika_core::flow::FlowJson) -> ExportOptions {
    let mut problems = Vec::new();
    let doc = lekhika_core::flow::FlowDocument::parse_str(flow.as_str(), &mut problems);
    doc.nodes
        .iter()
        .rev()
        .find(|n| n.kind == "export")
        .and_then(|n| n.config.get("options"))
        .and_then(|v| ExportOptions::from_json(v).ok())
        .unwrap_or_default()
}
