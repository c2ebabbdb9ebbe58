//! The one error type of this crate.

use thiserror::Error;

/// What went wrong while building a [`crate::Book`] or exporting it.
///
/// None of these are transient: retrying the same call with the same input fails the same way,
/// except [`ExportError::Io`], which depends on the file system.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The compiled JSON does not describe a book (missing title, chapters not a list, ...).
    /// Fix the compile step's output; retrying does not help.
    #[error("invalid compiled book: {0}")]
    InvalidBook(String),
    /// The cover image could not be decoded from base64 or has an unsupported mime type.
    /// Retrying does not help.
    #[error("invalid cover image: {0}")]
    InvalidCover(String),
    /// No exporter exists for this format name, or its cargo feature is disabled.
    #[error(
        "unknown or disabled export format `{0}` (known: pdf, epub, docx, html, md; pdf, epub \
         and docx are cargo features, on by default)"
    )]
    UnknownFormat(String),
    /// The export options are out of range (negative margins, page too small ...). Retrying does not help.
    #[error("invalid export options: {0}")]
    InvalidOptions(String),
    /// The book's script needs fonts this build of the PDF exporter leaves out (Chinese,
    /// Japanese and Korean need the `pdf-cjk` cargo feature). Rebuild with the feature named in
    /// the message; retrying does not help.
    #[error("{0}")]
    MissingFonts(String),
    /// A format backend failed while rendering. This is a bug in the exporter or its library,
    /// not in the book; retrying does not help.
    #[error("{format} rendering failed: {message}")]
    Render {
        /// Format name, e.g. `pdf`.
        format: &'static str,
        /// What the backend reported.
        message: String,
    },
    /// Writing the output file failed. May succeed on retry (disk full, permissions fixed).
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path that could not be written.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ExportError {
    #[cfg_attr(
        not(any(feature = "pdf", feature = "epub", feature = "docx")),
        allow(dead_code)
    )]
    pub(crate) fn render(format: &'static str, message: impl std::fmt::Display) -> Self {
        Self::Render {
            format,
            message: message.to_string(),
        }
    }

    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Io { .. })
    }
}
