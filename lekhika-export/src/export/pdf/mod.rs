//! PDF exporter: typesetting with the typst crates as a library, fonts embedded in the binary.

mod fonts;
mod markup;
mod world;

use typst_layout::PagedDocument;

use crate::model::Book;
use crate::{ExportError, ExportOptions};

/// Print-ready PDF (default trim 6 × 9 in).
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfExporter;

/// The Typst source the PDF exporter compiles (useful for debugging layouts).
pub fn typst_source(book: &Book, opts: &ExportOptions) -> String {
    let cover = book
        .cover
        .as_ref()
        .map(|c| format!("/cover.{}", c.extension()));
    markup::book_source(book, opts, cover.as_deref())
}

impl crate::Exporter for PdfExporter {
    fn name(&self) -> &'static str {
        "pdf"
    }
    fn mime(&self) -> &'static str {
        "application/pdf"
    }
    fn extension(&self) -> &'static str {
        "pdf"
    }
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError> {
        opts.validate()?;
        fonts::check_script(book)?;
        let cover_path = book
            .cover
            .as_ref()
            .map(|c| format!("/cover.{}", c.extension()));
        let source = markup::book_source(book, opts, cover_path.as_deref());
        let files = match (&book.cover, &cover_path) {
            (Some(c), Some(p)) => vec![(p.as_str(), c.bytes.clone())],
            _ => Vec::new(),
        };
        let world =
            world::BookWorld::new(source, files).map_err(|e| ExportError::render("pdf", e))?;
        let document: PagedDocument = typst::compile(&world)
            .output
            .map_err(|diags| ExportError::render("pdf", join_diagnostics(&diags)))?;
        // typst memoizes every layout step in a process-wide cache that is never emptied by
        // itself: a host exporting book after book grew by ~190 MB per 90k-word book. The
        // laid-out document holds what the PDF needs, so the cache is emptied before the PDF
        // is written (peak 306 -> 263 MB for that book) and after (nothing left behind).
        // Another export running at the same time only loses cache hits.
        typst::comemo::evict(0);
        let pdf = typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
            .map_err(|diags| ExportError::render("pdf", join_diagnostics(&diags)));
        drop(document);
        typst::comemo::evict(0);
        pdf
    }
}

fn join_diagnostics(diags: &[typst::diag::SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
