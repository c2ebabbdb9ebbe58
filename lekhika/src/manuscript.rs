//! Exports from a finished manuscript, without a run: a Markdown file with YAML front matter
//! (one `#` heading per chapter) or a compiled-book JSON file, to any of the five formats.
//! What `lekhika export book.md --formats pdf,epub --out DIR` does, and what the bindings
//! call ([`export_manuscript`] for bytes, [`write_manuscript`] for files).

use std::path::{Path, PathBuf};

use base64::Engine;
use lekhika_export::model::manuscript_to_compiled;
use lekhika_export::{export_all, Book, ExportOptions, ExportedFile};
use serde_json::Value;

use crate::book::write_atomically;
use crate::error::{LekhikaError, Result};

/// The manuscript kinds by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManuscriptKind {
    /// `.md`, `.markdown`, `.txt`: Markdown with optional YAML front matter.
    Markdown,
    /// `.json`: the compiled-book JSON (`{"title", "chapters": [{"title", "content"}], ...}`).
    CompiledJson,
}

impl ManuscriptKind {
    /// The kind a path names by its extension, if any.
    pub fn of(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" | "txt" => Some(Self::Markdown),
            "json" => Some(Self::CompiledJson),
            _ => None,
        }
    }
}

/// True when `arg` names a manuscript file (by extension, or an existing file) rather than
/// an execution id.
pub fn is_manuscript_path(arg: &str) -> bool {
    let p = Path::new(arg);
    ManuscriptKind::of(p).is_some() || p.is_file()
}

/// Reads a manuscript into a formatted book. A Markdown manuscript's `cover-image` (a path
/// relative to the manuscript) becomes the cover.
///
/// # Errors
/// [`LekhikaError::Config`] (bad input) when the file cannot be read, has an unknown
/// extension, or is not a manuscript (malformed front matter, no title, invalid JSON, a
/// missing cover image).
pub fn read_manuscript(path: &Path) -> Result<Book> {
    let kind = ManuscriptKind::of(path).ok_or_else(|| {
        LekhikaError::Config(format!(
            "{}: a manuscript is a .md (Markdown with YAML front matter) or .json \
             (compiled book) file",
            path.display()
        ))
    })?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| LekhikaError::Config(format!("cannot read {}: {e}", path.display())))?;
    let bad = |e: &dyn std::fmt::Display| LekhikaError::Config(format!("{}: {e}", path.display()));
    let compiled = match kind {
        ManuscriptKind::CompiledJson => {
            serde_json::from_str::<Value>(&text).map_err(|e| bad(&e))?
        }
        ManuscriptKind::Markdown => {
            let mut v = manuscript_to_compiled(&text).map_err(|e| bad(&e))?;
            attach_cover(&mut v, path)?;
            v
        }
    };
    Book::from_compiled(&compiled).map_err(|e| bad(&e))
}

/// Replaces `cover_image` (a path relative to the manuscript) with the `cover` the compiled
/// book takes (`{"mime", "base64"}`).
fn attach_cover(compiled: &mut Value, manuscript: &Path) -> Result<()> {
    let Some(map) = compiled.as_object_mut() else {
        return Ok(());
    };
    let Some(Value::String(rel)) = map.remove("cover_image") else {
        return Ok(());
    };
    let path = manuscript
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(&rel);
    let bytes = std::fs::read(&path)
        .map_err(|e| LekhikaError::Config(format!("cover-image {}: {e}", path.display())))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => {
            return Err(LekhikaError::Config(format!(
                "cover-image {}: use a .png, .jpg, .gif, .webp or .svg file",
                path.display()
            )))
        }
    };
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    map.insert(
        "cover".into(),
        serde_json::json!({"mime": mime, "base64": data}),
    );
    Ok(())
}

/// Exports the manuscript at `path` to `formats` (pdf, epub, docx, html, md) with `options`
/// (their JSON form, see `ExportOptions::from_json`; `None`: the defaults). Blocking: PDF
/// typesetting takes about a second for a novel, so async hosts run it on a blocking thread.
///
/// # Errors
/// [`LekhikaError::Config`] for a bad manuscript, format name or options;
/// [`LekhikaError::Export`] when rendering fails.
pub fn export_manuscript(
    path: &Path,
    formats: &[String],
    options: Option<&Value>,
) -> Result<Vec<ExportedFile>> {
    let opts = match options.filter(|v| !v.is_null()) {
        Some(v) => ExportOptions::from_json(v).map_err(|e| LekhikaError::Config(e.to_string()))?,
        None => ExportOptions::default(),
    };
    let names: Vec<String> = formats
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .collect();
    for name in &names {
        lekhika_export::exporter_for(name).map_err(|e| LekhikaError::Config(e.to_string()))?;
    }
    let book = read_manuscript(path)?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    export_all(&book, &refs, &opts).map_err(|e| LekhikaError::Export(e.to_string()))
}

/// [`export_manuscript`], then writes the files into `out` (created if missing), each
/// atomically. Returns their paths.
///
/// # Errors
/// As [`export_manuscript`], plus [`LekhikaError::Io`] when writing fails.
pub fn write_manuscript(
    path: &Path,
    formats: &[String],
    out: &Path,
    options: Option<&Value>,
) -> Result<Vec<PathBuf>> {
    let files = export_manuscript(path, formats, options)?;
    std::fs::create_dir_all(out)
        .map_err(|e| LekhikaError::Io(format!("cannot create {}: {e}", out.display())))?;
    files
        .iter()
        .map(|f| {
            let p = out.join(&f.name);
            write_atomically(&p, &f.bytes)?;
            Ok(p)
        })
        .collect()
}
