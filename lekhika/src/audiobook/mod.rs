//! The audiobook of a run: the output of its last `speech` node written as
//! a directory `{title}-audiobook/` of numbered chapter files
//! (`01-the-harbour.mp3`, ...), a playlist (`playlist.m3u8`) and chapter
//! lists (`chapters.json`, `chapters.txt`). It is the `audiobook` format
//! of [`Lekhika::export_book`] and [`Lekhika::write_book`], so the CLI
//! (`--formats audiobook`, the default when a flow narrates) and both
//! bindings get it the way they get the other book files.

mod package;
mod tags;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use lekhika_core::store::ExecutionRecord;
use lekhika_export::ExportedFile;
use serde_json::Value;

pub use package::{
    chapters, format_of, package, Audiobook, NarratedChapter, Track, CHAPTERS, PLAYLIST,
};

use crate::book::write_atomically;
use crate::error::{LekhikaError, Result};
use crate::runtime::Lekhika;

/// The format name of the audiobook.
pub const AUDIOBOOK: &str = "audiobook";

/// The audiobook's directory for a book title, e.g. `salt-roads-audiobook`.
pub fn audiobook_dir(title: &str) -> String {
    format!("{}-audiobook", lekhika_export::file_stem(title))
}

fn bad(m: impl std::fmt::Display) -> LekhikaError {
    LekhikaError::Export(format!("audiobook: {m}"))
}

impl Lekhika {
    /// The output of `node` (a `speech` node) of an execution.
    pub(crate) async fn narration_of(&self, rec: &ExecutionRecord, node: &str) -> Result<Value> {
        self.node_output(rec, node, "finished narrating").await
    }

    /// The layout of the audiobook narrated by `node`.
    pub(crate) async fn audiobook_of(
        &self,
        rec: &ExecutionRecord,
        node: &str,
    ) -> Result<Audiobook> {
        let narration = self.narration_of(rec, node).await?;
        let title = narration
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Audiobook::plan(&audiobook_dir(title), &narration).map_err(bad)
    }

    /// A chapter's audio: the `speech` node's artifact, or inline.
    async fn chapter_audio(&self, rec: &ExecutionRecord, c: &NarratedChapter) -> Result<Vec<u8>> {
        match (
            c.audio.get("artifact").and_then(Value::as_str),
            c.audio.get("base64").and_then(Value::as_str),
        ) {
            (Some(name), _) => Ok(self
                .stores
                .artifacts
                .get_artifact(&rec.owner, &rec.id, name)
                .await?
                .bytes),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| bad(format!("chapter {}: bad base64 audio: {e}", c.number))),
            (None, None) => Err(bad(format!("chapter {} has no audio", c.number))),
        }
    }

    /// Every file of the audiobook narrated by `node`, in memory; the
    /// lists are stored as artifacts of the execution (the audio is the
    /// `speech` node's artifacts already).
    pub(crate) async fn audiobook_files(
        &self,
        rec: &ExecutionRecord,
        node: &str,
    ) -> Result<(Vec<ExportedFile>, Audiobook)> {
        let book = self.audiobook_of(rec, node).await?;
        let mut files = Vec::with_capacity(book.tracks.len() + 3);
        for (i, t) in book.tracks.iter().enumerate() {
            let audio = self.chapter_audio(rec, &t.chapter).await?;
            files.push(book.chapter_file(i, audio));
        }
        let index = book.index_files().map_err(bad)?;
        for f in &index {
            self.store_artifact(&rec.owner, &rec.id, f).await?;
        }
        files.extend(index);
        Ok((files, book))
    }

    /// Write the audiobook narrated by `node` under `out`, one chapter at
    /// a time, each file atomically; the lists last and the playlist
    /// after them, so a directory with a playlist is complete.
    pub(crate) async fn write_audiobook(
        &self,
        rec: &ExecutionRecord,
        node: &str,
        out: &Path,
    ) -> Result<(Vec<PathBuf>, Audiobook)> {
        let book = self.audiobook_of(rec, node).await?;
        let dir = out.join(&book.dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| LekhikaError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let mut written = Vec::with_capacity(book.tracks.len() + 3);
        for (i, t) in book.tracks.iter().enumerate() {
            let audio = self.chapter_audio(rec, &t.chapter).await?;
            let f = book.chapter_file(i, audio);
            written.push(write_file(out, f).await?);
        }
        for f in book.index_files().map_err(bad)? {
            self.store_artifact(&rec.owner, &rec.id, &f).await?;
            written.push(write_file(out, f).await?);
        }
        Ok((written, book))
    }
}

/// Write `f` under `out` atomically, off the async threads.
async fn write_file(out: &Path, f: ExportedFile) -> Result<PathBuf> {
    let path = out.join(&f.name);
    tokio::task::spawn_blocking(move || write_atomically(&path, &f.bytes).map(|()| path))
        .await
        .map_err(|e| LekhikaError::Io(format!("write task failed: {e}")))?
}
