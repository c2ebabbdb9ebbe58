//! The finished book: compiled JSON, exports to bytes, files on disk.

use std::path::PathBuf;

use pyo3::prelude::*;

use super::{Lekhika, LOCAL};
use crate::book::{self, ExportedFile};
use crate::convert::Json;
use crate::errors;

#[pymethods]
impl Lekhika {
    /// The compiled book (output of the flow's last `compile` node).
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn compiled_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk
                .compiled_book(&user, &execution_id)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json(v))
        })
    }

    /// Render the finished book in `formats` (pdf, epub, docx, html, md,
    /// audiobook; default: all the flow makes) to `ExportedFile`s; also
    /// stored as artifacts.
    /// `options` (trim, font_size_pt, margins_mm, chapters_on_recto,
    /// labels) default to those of the flow's export node.
    #[pyo3(signature = (execution_id, formats = None, *, user = LOCAL.to_string(), options = None))]
    fn export_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        formats: Option<Vec<String>>,
        user: String,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            book::export(&lk, &user, &execution_id, formats, options)
                .await
                .map(|files| {
                    files
                        .into_iter()
                        .map(ExportedFile::from)
                        .collect::<Vec<_>>()
                })
        })
    }

    /// The user's books (title, author, word count, formats, ...), oldest first.
    #[pyo3(signature = (*, user = LOCAL.to_string()))]
    fn list_books<'py>(&self, py: Python<'py>, user: String) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk.list_books(&user).await.map_err(errors::from_lekhika)?;
            Ok(Json::of(&v))
        })
    }

    /// `export_book`, then write the files into `out_dir`; returns their paths.
    #[pyo3(signature = (execution_id, out_dir, formats = None, *, user = LOCAL.to_string(), options = None))]
    fn write_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        out_dir: PathBuf,
        formats: Option<Vec<String>>,
        user: String,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            book::write(&lk, &user, &execution_id, formats, &out_dir, options).await
        })
    }
}
