//! The exporter trait, options, format registry and `export_all`.

#[cfg(feature = "docx")]
mod docx;
#[cfg(feature = "epub")]
mod epub;
#[cfg(any(feature = "html", feature = "epub"))]
mod html;
#[cfg(feature = "md")]
mod md;
mod options;
#[cfg(feature = "pdf")]
mod pdf;
mod settings;
#[cfg(any(feature = "docx", feature = "epub"))]
mod zip_patch;

use std::path::Path;

pub use options::{ExportOptions, TrimSize};
pub use settings::TRIM_NAMES;

#[cfg(feature = "docx")]
pub use docx::DocxExporter;
#[cfg(feature = "epub")]
pub use epub::EpubExporter;
#[cfg(feature = "html")]
pub use html::HtmlExporter;
#[cfg(feature = "md")]
pub use md::MarkdownExporter;
#[cfg(feature = "pdf")]
pub use pdf::{typst_source, PdfExporter};

use crate::{Book, ExportError};

/// One output format.
pub trait Exporter: Send + Sync {
    /// Short format name: `pdf`, `epub`, `docx`, `html`, `md`.
    fn name(&self) -> &'static str;
    /// MIME type of the output.
    fn mime(&self) -> &'static str;
    /// File extension without the dot.
    fn extension(&self) -> &'static str;
    /// Renders the book.
    ///
    /// # Errors
    /// [`ExportError::Render`] when the backend fails, [`ExportError::InvalidOptions`] for bad options.
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError>;

    /// Renders the book and writes it to `path`.
    ///
    /// # Errors
    /// As [`Exporter::export`], plus [`ExportError::Io`] (retryable) when writing fails.
    fn write_to(&self, book: &Book, opts: &ExportOptions, path: &Path) -> Result<(), ExportError> {
        let bytes = self.export(book, opts)?;
        std::fs::write(path, bytes).map_err(|source| ExportError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

/// An exported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// File name derived from the title, e.g. `the-long-road.pdf`.
    pub name: String,
    /// MIME type.
    pub mime: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// The exporter for a format name (case-insensitive; `markdown` and `htm` are aliases).
///
/// # Errors
/// [`ExportError::UnknownFormat`] when the name is unknown or its cargo feature is disabled.
pub fn exporter_for(name: &str) -> Result<Box<dyn Exporter>, ExportError> {
    match name.trim().to_ascii_lowercase().as_str() {
        #[cfg(feature = "pdf")]
        "pdf" => Ok(Box::new(PdfExporter)),
        #[cfg(feature = "epub")]
        "epub" => Ok(Box::new(EpubExporter)),
        #[cfg(feature = "docx")]
        "docx" => Ok(Box::new(DocxExporter)),
        #[cfg(feature = "html")]
        "html" | "htm" => Ok(Box::new(HtmlExporter)),
        #[cfg(feature = "md")]
        "md" | "markdown" => Ok(Box::new(MarkdownExporter)),
        _ => Err(ExportError::UnknownFormat(name.to_string())),
    }
}

/// Exports `book` to every format in `formats`, in that order. All names are checked before
/// any rendering starts.
///
/// # Errors
/// The first [`ExportError`]; no partial result is returned.
pub fn export_all(
    book: &Book,
    formats: &[&str],
    opts: &ExportOptions,
) -> Result<Vec<ExportedFile>, ExportError> {
    opts.validate()?;
    let exporters = formats
        .iter()
        .map(|f| exporter_for(f))
        .collect::<Result<Vec<_>, _>>()?;
    let stem = file_stem(&book.metadata.title);
    exporters
        .iter()
        .map(|e| {
            Ok(ExportedFile {
                name: format!("{stem}.{}", e.extension()),
                mime: e.mime().to_string(),
                bytes: e.export(book, opts)?,
            })
        })
        .collect()
}

/// True for combining marks that belong to the letter before them: vowel signs and viramas of
/// the Indic scripts (मानचित्रकार keeps its ्), Thai vowels, and combining diacritics.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F
        | 0x0900..=0x0DFF
        | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
        && !c.is_alphanumeric()
        && !matches!(c, '\u{0964}' | '\u{0965}')
}

/// A file-system-safe stem from a title: letters and digits of any script (with their
/// combining marks), `-` elsewhere.
pub fn file_stem(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() || (is_combining_mark(c) && !out.is_empty() && !out.ends_with('-')) {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() > 80 {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "book".to_string()
    } else {
        out
    }
}
