//! lekhika-export: Lekhika's book model, professional formatter and exporters.
//!
//! ```text
//! compile node JSON --Book::from_compiled--> Book --export_all(["pdf","epub",..])--> files
//! ```
//!
//! Every format sits behind a cargo feature (`pdf`, `epub`, `docx`, `html`, `md`, all default).

mod error;
pub mod export;
pub mod format;
pub mod model;
mod text;

pub use error::ExportError;
pub use export::{
    export_all, exporter_for, file_stem, ExportOptions, ExportedFile, Exporter, TrimSize,
};
pub use format::{BookStats, LabelOverrides, Labels};
pub use model::{BackMatter, Block, Book, Chapter, Cover, Footnote, FrontMatter, Inline, Metadata};

impl Book {
    /// Word and character counts (see [`BookStats`]).
    pub fn stats(&self) -> BookStats {
        format::book_stats(self)
    }
}
