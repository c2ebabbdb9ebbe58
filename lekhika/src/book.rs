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

/// `formats`, or every format when none is named.
fn or_all(formats: &[String]) -> Vec<String> {
    if formats.is_empty() {
        ALL_FORMATS.iter().map(|s| s.to_string()).collect()
    } else {
        formats.to_vec()
    }
}

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

    /// Export the run's book to `formats` (none: all five) with `options` (their JSON form,
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
        let names: Vec<String> = or_all(formats)
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
                formats: or_all(formats),
                created_at_ms: now_ms(),
            })
            .await?;
        Ok(files)
    }

    /// [`Lekhika::export_book`], then write the files into `out`. Each file
    /// is written atomically (a temporary file in `out`, synced, then
    /// renamed), so a file that exists is complete, even after a crash.
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
            write_atomically(&path, &f.bytes)?;
            written.push(path);
        }
        Ok(written)
    }

    /// The book files of a finished run in `out`, by format: their paths,
    /// and whether each is there.
    pub async fn book_files(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        out: &Path,
    ) -> Result<Vec<(String, PathBuf, bool)>> {
        let value = self.compiled_book(user, id).await?;
        let book = Book::from_compiled(&value)
            .map_err(|e| LekhikaError::Export(format!("cannot read the book: {e}")))?;
        let stem = lekhika_export::file_stem(&book.metadata.title);
        formats
            .iter()
            .map(|f| {
                let ext = lekhika_export::exporter_for(f)
                    .map_err(|e| LekhikaError::Export(e.to_string()))?
                    .extension();
                let path = out.join(format!("{stem}.{ext}"));
                let there = path.is_file();
                Ok((f.trim().to_ascii_lowercase(), path, there))
            })
            .collect()
    }

    /// Write only the book files missing in `out` (a run killed while its
    /// book was being written). Returns the files written and those that
    /// were already there.
    pub async fn write_missing(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        out: &Path,
        options: Option<&Value>,
    ) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
        let files = self.book_files(user, id, &or_all(formats), out).await?;
        let (present, missing): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| f.2);
        let missing: Vec<String> = missing.into_iter().map(|f| f.0).collect();
        let written = if missing.is_empty() {
            Vec::new()
        } else {
            self.write_book(user, id, &missing, out, options).await?
        };
        Ok((written, present.into_iter().map(|f| f.1).collect()))
    }
}

/// Write `bytes` to `path` so that `path` is either absent, the old file,
/// or the complete new one: a temporary file beside it, synced, renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let io = |what: &str, p: &Path, e: std::io::Error| {
        LekhikaError::Io(format!("cannot {what} {}: {e}", p.display()))
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("create", &tmp, e))?;
    f.write_all(bytes).map_err(|e| io("write", &tmp, e))?;
    f.sync_all().map_err(|e| io("sync", &tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("write", path, e)
    })?;
    // The rename itself survives a crash once the directory is synced.
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
