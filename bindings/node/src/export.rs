//! Book exports: to Buffers, or to files in a directory.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::engine::Lekhika;
use crate::error::js;
use crate::types::ExportedFile;

fn formats_or_all(formats: Option<Vec<String>>) -> Vec<String> {
    match formats {
        Some(f) if !f.is_empty() => f,
        _ => lekhika::ALL_FORMATS.iter().map(|s| s.to_string()).collect(),
    }
}

#[napi]
impl Lekhika {
    /// The compiled book of a finished execution (the output of its last `compile` node).
    #[napi]
    pub async fn compiled_book(
        &self,
        user: String,
        execution_id: String,
    ) -> napi::Result<serde_json::Value> {
        self.inner
            .compiled_book(&user, &execution_id)
            .await
            .map_err(js)
    }

    /// Render the book to `formats` (pdf, epub, docx, html, md; default all).
    /// `options`: trim, font_size_pt, margins_mm, chapters_on_recto, labels
    /// (default: the flow's export node's). The files are also stored as
    /// artifacts of the execution.
    #[napi]
    pub async fn export_book(
        &self,
        user: String,
        execution_id: String,
        formats: Option<Vec<String>>,
        options: Option<serde_json::Value>,
    ) -> napi::Result<Vec<ExportedFile>> {
        let files = self
            .inner
            .export_book(
                &user,
                &execution_id,
                &formats_or_all(formats),
                options.as_ref(),
            )
            .await
            .map_err(js)?;
        Ok(files
            .into_iter()
            .map(|f| ExportedFile {
                name: f.name,
                mime: f.mime,
                bytes: Buffer::from(f.bytes),
            })
            .collect())
    }

    /// Export, then write the files into `dir`; returns their paths.
    #[napi]
    pub async fn write_book(
        &self,
        user: String,
        execution_id: String,
        formats: Option<Vec<String>>,
        dir: String,
        options: Option<serde_json::Value>,
    ) -> napi::Result<Vec<String>> {
        let paths = self
            .inner
            .write_book(
                &user,
                &execution_id,
                &formats_or_all(formats),
                std::path::Path::new(&dir),
                options.as_ref(),
            )
            .await
            .map_err(js)?;
        Ok(paths
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect())
    }
}
