//! Exports of a finished book: `ExportedFile`s in memory, or files on disk.

use std::path::Path;

use lekhika::Lekhika;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors;

/// One rendered file of a book.
#[pyclass(module = "lekhika", frozen)]
pub struct ExportedFile {
    /// File name, e.g. `book.epub`.
    #[pyo3(get)]
    name: String,
    /// MIME type, e.g. `application/epub+zip`.
    #[pyo3(get)]
    mime: String,
    bytes: Vec<u8>,
}

impl From<lekhika::export::ExportedFile> for ExportedFile {
    fn from(f: lekhika::export::ExportedFile) -> Self {
        Self {
            name: f.name,
            mime: f.mime,
            bytes: f.bytes,
        }
    }
}

#[pymethods]
impl ExportedFile {
    /// The file's contents.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }
    /// The format: the file name's extension (`pdf`, `epub`, `docx`, `html`, `md`).
    #[getter]
    fn format(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or("")
    }
    fn __len__(&self) -> usize {
        self.bytes.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "ExportedFile(name={:?}, mime={:?}, {} bytes)",
            self.name,
            self.mime,
            self.bytes.len()
        )
    }
}

/// The formats asked for; none: all the flow makes (the five documents of
/// a `compile` node, the `audiobook` of a `speech` node).
fn formats(f: Option<Vec<String>>) -> Vec<String> {
    f.unwrap_or_default()
}

pub async fn export(
    lk: &Lekhika,
    user: &str,
    id: &str,
    f: Option<Vec<String>>,
    options: Option<serde_json::Value>,
) -> PyResult<Vec<lekhika::export::ExportedFile>> {
    lk.export_book(user, id, &formats(f), options.as_ref())
        .await
        .map_err(errors::from_lekhika)
}

pub async fn write(
    lk: &Lekhika,
    user: &str,
    id: &str,
    f: Option<Vec<String>>,
    out: &Path,
    options: Option<serde_json::Value>,
) -> PyResult<Vec<String>> {
    let paths = lk
        .write_book(user, id, &formats(f), out, options.as_ref())
        .await
        .map_err(errors::from_lekhika)?;
    Ok(paths
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}
