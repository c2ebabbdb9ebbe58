//! A minimal `typst::World`: one in-memory main file, an optional cover image, embedded fonts.
//! Modelled on typst-cli's `SystemWorld`, without file system, packages or clock.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use super::fonts::FONTS;

static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// The world one PDF is compiled in.
pub(crate) struct BookWorld {
    main: Source,
    files: Vec<(FileId, Bytes)>,
}

fn file_id(path: &str) -> Result<FileId, String> {
    let vpath = VirtualPath::new(path).map_err(|e| format!("{e:?}"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl BookWorld {
    /// `files` are extra binary files by absolute virtual path, e.g. `("/cover.png", bytes)`.
    pub(crate) fn new(source: String, files: Vec<(&str, Vec<u8>)>) -> Result<Self, String> {
        let main = Source::new(file_id("/main.typ")?, source);
        let files = files
            .into_iter()
            .map(|(path, bytes)| Ok((file_id(path)?, Bytes::new(bytes))))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { main, files })
    }
}

impl World for BookWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotSource)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_string()));
        }
        self.files
            .iter()
            .find(|(fid, _)| *fid == id)
            .map(|(_, bytes)| bytes.clone())
            .ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
