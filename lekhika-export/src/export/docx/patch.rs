//! Fixes applied to the packed DOCX archive (what docx-rs cannot make through its API).

use crate::model::Book;
use crate::text::xml_escape;

pub(super) fn core_xml(book: &Book) -> String {
    let m = &book.metadata;
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cp:coreProperties \
         xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
         xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
    );
    x.push_str(&format!("<dc:title>{}</dc:title>", xml_escape(&m.title)));
    if let Some(s) = &m.subtitle {
        x.push_str(&format!("<dc:subject>{}</dc:subject>", xml_escape(s)));
    }
    x.push_str(&format!(
        "<dc:creator>{}</dc:creator>",
        xml_escape(m.author.as_deref().unwrap_or(""))
    ));
    if let Some(d) = &m.description {
        x.push_str(&format!(
            "<dc:description>{}</dc:description>",
            xml_escape(d)
        ));
    }
    x.push_str(&format!(
        "<dc:language>{}</dc:language>",
        xml_escape(&m.language_tag().tag)
    ));
    x.push_str(
        "<dcterms:created xsi:type=\"dcterms:W3CDTF\">1970-01-01T00:00:00Z</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">1970-01-01T00:00:00Z</dcterms:modified>\
         </cp:coreProperties>",
    );
    x
}

/// Fixes docx-rs cannot make through its API, applied to the packed archive:
/// `docProps/core.xml` (title, creator, language) is replaced; the book's
/// language (`lang`, a `<w:lang>` element) goes into the document defaults of
/// `word/styles.xml`; and the table of contents is marked as a Word "Table of
/// Contents" part (without it LibreOffice prints the field codes), its cached
/// entries are unescaped once (docx-rs escapes the heading text twice:
/// "Cartographer&amp;apos;s") and its page numbers' tab stop is put at the
/// right margin (docx-rs puts it at 80,000 twips).
pub(super) fn patch_package(
    docx: &[u8],
    core: &str,
    lang: &str,
    text_width: i32,
) -> zip::result::ZipResult<Vec<u8>> {
    super::super::zip_patch::patch_entries(docx, |name, data| match name {
        "docProps/core.xml" => core.as_bytes().to_vec(),
        "word/document.xml" => match String::from_utf8(data) {
            Ok(xml) => patch_toc(&xml, text_width).into_bytes(),
            Err(e) => e.into_bytes(),
        },
        "word/styles.xml" => match String::from_utf8(data) {
            Ok(xml) => default_language(&xml, lang).into_bytes(),
            Err(e) => e.into_bytes(),
        },
        _ => data,
    })
}

/// Puts `lang` (a `<w:lang .../>` element) last in the default run properties.
fn default_language(styles: &str, lang: &str) -> String {
    if let Some(at) = styles.find("</w:rPr></w:rPrDefault>") {
        let mut out = styles.to_string();
        out.insert_str(at, lang);
        return out;
    }
    styles.replacen(
        "<w:rPr /></w:rPrDefault>",
        &format!("<w:rPr>{lang}</w:rPr></w:rPrDefault>"),
        1,
    )
}

fn patch_toc(xml: &str, text_width: i32) -> String {
    const TOC_FIELD: &str = "<w:instrText>TOC ";
    let Some(field) = xml.find(TOC_FIELD) else {
        return xml.to_string();
    };
    // The TOC's own content control is the last one opened before its field.
    let Some(open) = xml[..field].rfind("<w:sdt><w:sdtPr>") else {
        return xml.to_string();
    };
    let end = xml[field..]
        .find("</w:sdtContent>")
        .map_or(xml.len(), |e| field + e);
    let mut toc = unescape_once(&xml[open..end]);
    if let Some(close) = toc.find("</w:sdtPr>") {
        toc.insert_str(
            close,
            "<w:docPartObj><w:docPartGallery w:val=\"Table of Contents\" />\
             <w:docPartUnique /></w:docPartObj>",
        );
    }
    let toc = toc.replace(
        "w:leader=\"dot\" w:pos=\"80000\"",
        &format!("w:leader=\"dot\" w:pos=\"{text_width}\""),
    );
    format!("{}{toc}{}", &xml[..open], &xml[end..])
}

/// Undoes one level of XML escaping of text that was escaped twice (`&amp;apos;` -> `&apos;`),
/// in one left-to-right pass so text that was really `&apos;` stays escaped once.
fn unescape_once(xml: &str) -> String {
    const DOUBLED: &[(&str, &str)] = &[
        ("&amp;amp;", "&amp;"),
        ("&amp;apos;", "&apos;"),
        ("&amp;quot;", "&quot;"),
        ("&amp;lt;", "&lt;"),
        ("&amp;gt;", "&gt;"),
    ];
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find("&amp;") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match DOUBLED.iter().find(|(from, _)| rest.starts_with(from)) {
            Some((from, to)) => {
                out.push_str(to);
                rest = &rest[from.len()..];
            }
            None => {
                out.push_str("&amp;");
                rest = &rest["&amp;".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::unescape_once;

    #[test]
    fn unescapes_one_level() {
        assert_eq!(
            unescape_once("Cartographer&amp;apos;s &amp;amp;apos; &amp;x"),
            "Cartographer&apos;s &amp;apos; &amp;x"
        );
    }
}
