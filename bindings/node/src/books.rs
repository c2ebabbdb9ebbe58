//! Books: the compiled book, exports to Buffers or files, the user's books.

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::Lekhika;
use crate::error::js;
use crate::json::to_json;

/// One rendered file of a book.
#[napi(object)]
pub struct ExportedFile {
    /// File name, e.g. `the-long-road.epub`.
    pub name: String,
    pub mime: String,
    pub bytes: Buffer,
}

#[napi]
impl Lekhika {
    /// The compiled book of a finished execution (the output of its last `compile` node).
    #[napi]
    pub async fn compiled_book(&self, user: String, execution_id: String) -> napi::Result<Value> {
        self.inner
            .compiled_book(&user, &execution_id)
            .await
            .map_err(js)
    }

    /// Render the book to `formats` (pdf, epub, docx, html, md, audiobook;
    /// default: all the flow makes).
    /// `options`: trim, font_size_pt, margins_mm, chapters_on_recto, labels
    /// (default: the flow's export node's). Also stored as artifacts.
    #[napi]
    pub async fn export_book(
        &self,
        user: String,
        execution_id: String,
        formats: Option<Vec<String>>,
        options: Option<Value>,
    ) -> napi::Result<Vec<ExportedFile>> {
        let files = self
            .inner
            .export_book(
                &user,
                &execution_id,
                &formats.unwrap_or_default(),
                options.as_ref().filter(|v| !v.is_null()),
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

    /// `exportBook`, then write the files (atomically) into `dir`; their paths.
    #[napi]
    pub async fn write_book(
        &self,
        user: String,
        execution_id: String,
        dir: String,
        formats: Option<Vec<String>>,
        options: Option<Value>,
    ) -> napi::Result<Vec<String>> {
        let paths = self
            .inner
            .write_book(
                &user,
                &execution_id,
                &formats.unwrap_or_default(),
                std::path::Path::new(&dir),
                options.as_ref().filter(|v| !v.is_null()),
            )
            .await
            .map_err(js)?;
        Ok(paths
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect())
    }

    /// The user's books, oldest first.
    #[napi]
    pub async fn list_books(&self, user: String) -> napi::Result<Value> {
        let v = self.inner.list_books(&user).await.map_err(js)?;
        Ok(to_json(&v))
    }
}
