//! Rewriting single entries of a zip container (DOCX core properties, EPUB package fixes).

use std::io::{Cursor, Read, Write};

/// Copies `archive`, passing each entry through `patch(name, bytes)`. Entry order and each
/// entry's compression method are kept (EPUB needs `mimetype` first and stored).
pub(crate) fn patch_entries(
    archive: &[u8],
    mut patch: impl FnMut(&str, Vec<u8>) -> Vec<u8>,
) -> zip::result::ZipResult<Vec<u8>> {
    let mut input = zip::ZipArchive::new(Cursor::new(archive))?;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(archive.len())));
    for i in 0..input.len() {
        let mut file = input.by_index(i)?;
        let name = file.name().to_string();
        let method = file.compression();
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        writer.start_file(name.as_str(), options)?;
        writer.write_all(&patch(&name, data))?;
    }
    Ok(writer.finish()?.into_inner())
}
