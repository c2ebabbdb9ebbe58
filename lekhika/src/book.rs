//! The book of a finished run: find it, export it, store and write the files.
//! Its documents (pdf, epub, docx, html, md) render the last `compile`
//! node's book; its `audiobook` is the last `speech` node's narration
//! (see [`crate::audiobook`]).

use std::path::{Path, PathBuf};

use lekhika_core::store::{Artifact, BookRecord, ExecutionRecord, NodeKey};
use lekhika_core::util::now_ms;
use lekhika_core::RunOptions;
use lekhika_export::{export_all, Book, ExportOptions, ExportedFile};
use serde_json::Value;

use crate::audiobook::{AUDIOBOOK, CHAPTERS, PLAYLIST};
use crate::error::{LekhikaError, Result};
use crate::runtime::Lekhika;

/// The document formats.
pub const ALL_FORMATS: &[&str] = &["pdf", "epub", "docx", "html", "md"];

/// The nodes a run's book comes from: the last `compile` node (documents)
/// and the last `speech` node (the audiobook), in flow order.
#[derive(Debug, Default)]
struct BookNodes {
    compile: Option<String>,
    speech: Option<String>,
}

impl BookNodes {
    /// `formats` trimmed and lowercased; when none are named, the document
    /// formats if the flow compiles a book and `audiobook` if it narrates
    /// one.
    fn formats(&self, formats: &[String]) -> Vec<String> {
        if !formats.is_empty() {
            return formats
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect();
        }
        let mut all = Vec::new();
        if self.compile.is_some() {
            all.extend(ALL_FORMATS.iter().map(|s| s.to_string()));
        }
        if self.speech.is_some() {
            all.push(AUDIOBOOK.to_string());
        }
        all
    }

    /// [`BookNodes::formats`], its document formats, and whether the
    /// audiobook is asked for.
    fn split(&self, formats: &[String]) -> (Vec<String>, Vec<String>, bool) {
        let all = self.formats(formats);
        let docs = all.iter().filter(|f| *f != AUDIOBOOK).cloned().collect();
        let audio = all.iter().any(|f| f == AUDIOBOOK);
        (all, docs, audio)
    }

    fn speech(&self) -> Result<&str> {
        self.speech.as_deref().ok_or_else(|| {
            LekhikaError::NoBook(
                "this flow has no `speech` node, so there is no audiobook to write".into(),
            )
        })
    }
}

impl Lekhika {
    /// The compiled book of an execution: the output of its last `compile` node.
    pub async fn compiled_book(&self, user: &str, id: &str) -> Result<Value> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        self.compiled_book_of(&rec).await
    }

    /// The `compile` and `speech` nodes of an execution's flow.
    fn book_nodes(&self, rec: &ExecutionRecord) -> Result<BookNodes> {
        let options: RunOptions = serde_json::from_value(rec.options.clone()).unwrap_or_default();
        let flow = self.engine.load(&rec.flow, &options)?;
        let order = flow.graph.topo_order().unwrap_or_default();
        let last = |kind: &str| {
            order
                .iter()
                .rev()
                .find(|&&i| flow.nodes[i].kind == kind)
                .map(|&i| flow.graph.ids[i].to_string())
        };
        Ok(BookNodes {
            compile: last("compile"),
            speech: last("speech"),
        })
    }

    async fn compiled_book_of(&self, rec: &ExecutionRecord) -> Result<Value> {
        let compile = self.book_nodes(rec)?.compile.ok_or_else(|| {
            LekhikaError::NoBook(
                "this flow has no `compile` node, so there is no book to export".into(),
            )
        })?;
        self.node_output(rec, &compile, "finished").await
    }

    /// The output of `node` of an execution; `NoBook` when it has not
    /// `done` (e.g. "finished") yet.
    pub(crate) async fn node_output(
        &self,
        rec: &ExecutionRecord,
        node: &str,
        done: &str,
    ) -> Result<Value> {
        let results = self
            .stores
            .executions
            .node_results(&rec.owner, &rec.id)
            .await?;
        results
            .into_iter()
            .find(|(k, _)| *k == NodeKey::node(node.to_string()))
            .map(|(_, r)| r.output)
            .ok_or_else(|| {
                LekhikaError::NoBook(format!(
                    "node `{node}` has not {done}; resume the run first"
                ))
            })
    }

    /// Export the run's book to `formats` (none: the document formats when
    /// the flow compiles a book, and `audiobook` when it narrates one) with
    /// `options` (their JSON form, see `ExportOptions::from_json`; `None`:
    /// those of the flow's `export` node, else the defaults). The files are
    /// also stored as artifacts of the execution (of the audiobook its
    /// playlist and chapter lists: its audio is the `speech` node's
    /// artifacts already) and a book record is saved. The audiobook's files
    /// are named `{title}-audiobook/...`.
    pub async fn export_book(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        options: Option<&Value>,
    ) -> Result<Vec<ExportedFile>> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        let nodes = self.book_nodes(&rec)?;
        let (formats, docs, audio) = nodes.split(formats);
        let mut files = Vec::new();
        let mut about = None;
        if !docs.is_empty() || !audio {
            let (rendered, book) = self.export_documents(&rec, &docs, options).await?;
            files = rendered;
            about = Some(book);
        }
        if audio {
            let (audiobook, book) = self.audiobook_files(&rec, nodes.speech()?).await?;
            files.extend(audiobook);
            about.get_or_insert_with(|| about_narration(&book));
        }
        self.record_book(&rec, formats, &about.unwrap_or_default())
            .await?;
        Ok(files)
    }

    /// Save the book record of an export in `formats` of the book `about`
    /// (a compiled book, or the title and author of a narration).
    async fn record_book(
        &self,
        rec: &ExecutionRecord,
        formats: Vec<String>,
        about: &Value,
    ) -> Result<()> {
        let text = |k: &str| about.get(k).and_then(Value::as_str).map(str::to_string);
        let count = |k: &str| about.get(k).and_then(Value::as_u64).unwrap_or(0);
        self.stores
            .artifacts
            .put_book(&BookRecord {
                id: format!("{}:book", rec.id),
                owner: rec.owner.clone(),
                execution_id: rec.id.clone(),
                title: text("title")
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "Untitled".to_string()),
                author: text("author").filter(|a| !a.is_empty()),
                word_count: count("word_count"),
                character_count: count("character_count"),
                formats,
                created_at_ms: now_ms(),
            })
            .await?;
        Ok(())
    }

    /// Render the compiled book to the document `formats` and store the
    /// files as artifacts; the files and the compiled book.
    async fn export_documents(
        &self,
        rec: &ExecutionRecord,
        formats: &[String],
        options: Option<&Value>,
    ) -> Result<(Vec<ExportedFile>, Value)> {
        let opts = match options.filter(|v| !v.is_null()) {
            Some(v) => {
                ExportOptions::from_json(v).map_err(|e| LekhikaError::Config(e.to_string()))?
            }
            None => crate::nodes::flow_export_options(&rec.flow),
        };
        let value = self.compiled_book_of(rec).await?;
        let book = Book::from_compiled(&value)
            .map_err(|e| LekhikaError::Export(format!("cannot read the book: {e}")))?;
        let names = formats.to_vec();
        let files = tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            export_all(&book, &refs, &opts)
        })
        .await
        .map_err(|e| LekhikaError::Export(format!("export task failed: {e}")))?
        .map_err(|e| LekhikaError::Export(e.to_string()))?;
        for f in &files {
            self.store_artifact(&rec.owner, &rec.id, f).await?;
        }
        Ok((files, value))
    }

    pub(crate) async fn store_artifact(
        &self,
        user: &str,
        id: &str,
        f: &ExportedFile,
    ) -> Result<()> {
        let artifact = Artifact {
            name: f.name.clone(),
            mime: f.mime.clone(),
            bytes: f.bytes.clone(),
        };
        Ok(self
            .stores
            .artifacts
            .put_artifact(user, id, &artifact)
            .await?)
    }

    /// [`Lekhika::export_book`], then write the files into `out` (the
    /// audiobook in its own directory there, one chapter in memory at a
    /// time). Each file is written atomically (a temporary file in its
    /// directory, synced, then renamed), so a file that exists is
    /// complete, even after a crash; the audiobook's playlist is written
    /// last.
    pub async fn write_book(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        out: &Path,
        options: Option<&Value>,
    ) -> Result<Vec<PathBuf>> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        let nodes = self.book_nodes(&rec)?;
        let (formats, docs, audio) = nodes.split(formats);
        let mut written = Vec::new();
        let mut about = None;
        if !docs.is_empty() || !audio {
            let (files, book) = self.export_documents(&rec, &docs, options).await?;
            std::fs::create_dir_all(out)
                .map_err(|e| LekhikaError::Io(format!("cannot create {}: {e}", out.display())))?;
            for f in &files {
                let path = out.join(&f.name);
                write_atomically(&path, &f.bytes)?;
                written.push(path);
            }
            about = Some(book);
        }
        if audio {
            let (paths, book) = self.write_audiobook(&rec, nodes.speech()?, out).await?;
            written.extend(paths);
            about.get_or_insert_with(|| about_narration(&book));
        }
        self.record_book(&rec, formats, &about.unwrap_or_default())
            .await?;
        Ok(written)
    }

    /// The book files of a finished run in `out`, by format: their paths,
    /// and whether each is there. The audiobook's path is its playlist
    /// (written last); it is there when its playlist, chapter list and
    /// every chapter file are.
    pub async fn book_files(
        &self,
        user: &str,
        id: &str,
        formats: &[String],
        out: &Path,
    ) -> Result<Vec<(String, PathBuf, bool)>> {
        let rec = self.stores.executions.get_execution(user, id).await?;
        let nodes = self.book_nodes(&rec)?;
        let mut stem: Option<String> = None;
        let mut list = Vec::new();
        for f in nodes.formats(formats) {
            if f == AUDIOBOOK {
                let book = self.audiobook_of(&rec, nodes.speech()?).await?;
                let dir = out.join(&book.dir);
                let there = book
                    .tracks
                    .iter()
                    .map(|t| t.file.as_str())
                    .chain([CHAPTERS, PLAYLIST])
                    .all(|name| dir.join(name).is_file());
                list.push((f, dir.join(PLAYLIST), there));
                continue;
            }
            if stem.is_none() {
                let value = self.compiled_book_of(&rec).await?;
                let book = Book::from_compiled(&value)
                    .map_err(|e| LekhikaError::Export(format!("cannot read the book: {e}")))?;
                stem = Some(lekhika_export::file_stem(&book.metadata.title));
            }
            let ext = lekhika_export::exporter_for(&f)
                .map_err(|e| LekhikaError::Export(e.to_string()))?
                .extension();
            let path = out.join(format!("{}.{ext}", stem.as_deref().unwrap_or("book")));
            let there = path.is_file();
            list.push((f, path, there));
        }
        Ok(list)
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
        let files = self.book_files(user, id, formats, out).await?;
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

/// The book record's view of a narration: its title and author.
fn about_narration(book: &crate::audiobook::Audiobook) -> Value {
    serde_json::json!({"title": book.title, "author": book.author})
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
