//! The book of a finished run: find it, export it, store and write the files.

use std::path::{Path, PathBuf};

use lekhika_core::store::{Artifact, BookRecord, ExecutionRecord, NodeKey};
use lekhika_core::util::now_ms;
use lekhika_core::RunOptions;
use lekhika_export::{export_all, Book, ExportOptions, ExportedFile};
use serde_json::Value;

use crate::error::{LekhikaError, Result};
use crate::runtime::Lekhika;

pub const ALL_FORMATS: &[&str] = &["pdf", "epub", "docx", "html", "md"];

impl Lekhika {
    /// The compiled book of an execution: the output of its last `compile` node.
    pub async fn compiled_book(&self, user: &str, id: &str) -> Result<Value> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        self.compiled_book_of(&rec).await
    }

    async fn compiled_book_of(&self, rec: &ExecutionRecord) -> Result<Value> {
        let options: RunOptions = serde_json::from_value(rec.options.clone()).unwrap_or_default();
        let flow = self.engine.load(&rec.flow, &options)?;
        let order = flow.graph.topo_order().unwrap_or_default();
        let compile = order
            .iter()
            .rev()
            .find(|&&i| flow.nodes[i].kind == "compile")
            .map(|&i| flow.graph.ids[i].clone())
            .ok_or_else(|| {
                LekhikaError::NoBook(
                    "this flow has no `compile` node, so there is no book to export".into(),
                )
            })?;
        let results = self
            .stores
            .executions
            .node_results(&rec.owner, &rec.id)
            .await?;
        results
            .into_iter()
            .find(|(k, _)| *k == NodeKey::node(compile.to_string()))
            .map(|(_, r)| r.output)
            .ok_or_else(|| {
                LekhikaError::NoBook(format!(
                    "node `{compile}` has not finished; resume the run first"
                ))
            })
    }

    /// Export the run's book to `formats` with `options` (their JSON form,
    /// see `ExportOptions::from_json`; `None`: those of the flow's `export`
    /// node, else the defaults). The files are also stored as artifacts of
    /// the execution and a book record is saved.
    pub async fn export_book(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        options: Option<&Value>,
    ) -> Result<Vec<ExportedFile>> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        let opts = match options.filter(|v| !v.is_null()) {
            Some(v) => {
                ExportOptions::from_json(v).map_err(|e| LekhikaError::Config(e.to_string()))?
            }
            None => crate::nodes::flow_export_options(&rec.flow),
        };
        let value = self.compiled_book_of(&rec).await?;
        let book = Book::from_compiled(&value)
            .map_err(|e| LekhikaError::Export(format!("cannot read the book: {e}")))?;
        let names: Vec<String> = formats
            .iter()
            .map(|f| f.trim().to_ascii_lowercase())
            .collect();
        let files = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            export_all(&book, &refs, &opts)
        })
        .await
        .map_err(|e| LekhikaError::Export(format!("export task failed: {e}")))?
        .map_err(|e| LekhikaError::Export(e.to_string()))?;
        for f in &files {
            let artifact = Artifact {
                name: f.name.clone(),
                mime: f.mime.clone(),
                bytes: f.bytes.clone(),
            };
            self.stores
                .artifacts
                .put_artifact(user, id, &artifact)
                .await?;
        }
        let title = value
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("Untitled")
            .to_string();
        self.stores
            .artifacts
            .put_book(&BookRecord {
                id: format!("{id}:book"),
                owner: user.to_string(),
                execution_id: id.to_string(),
                title,
                author: value
                    .get("author")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                word_count: value.get("word_count").and_then(Value::as_u64).unwrap_or(0),
                character_count: value
                    .get("character_count")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                formats: formats.to_vec(),
                created_at_ms: now_ms(),
            })
            .await?;
        Ok(files)
    }

    /// [`Lekhika::export_book`], then write the files into `out`.
    pub async fn write_book(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        out: &Path,
        options: Option<&Value>,
    ) -> Result<Vec<PathBuf>> {
        let files = self.export_book(user, id, formats, options).await?;
        std::fs::create_dir_all(out)
            .map_err(|e| LekhikaError::Io(format!("cannot create {}: {e}", out.display())))?;
        let mut written = Vec::new();
        for f in &files {
            let path = out.join(&f.name);
            std::fs::write(&path, &f.bytes)
                .map_err(|e| LekhikaError::Io(format!("cannot write {}: {e}", path.display())))?;
            written.push(path);
        }
        Ok(written)
    }
}
