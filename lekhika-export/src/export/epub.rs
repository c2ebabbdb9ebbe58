//! EPUB 3 exporter (epub-builder): cover, nav document, one XHTML file per chapter.
//! Book text is escaped by the shared HTML renderer; metadata is escaped by epub-builder.

use epub_builder::{EpubBuilder, EpubContent, EpubVersion, ReferenceType, ZipLibrary};

use super::html::{render_blocks, render_chapter, render_front, CSS};
use crate::format::Labels;
use crate::model::Book;
use crate::text::xml_escape;
use crate::{ExportError, ExportOptions};

/// EPUB 3 output.
#[derive(Debug, Clone, Copy, Default)]
pub struct EpubExporter;

impl crate::Exporter for EpubExporter {
    fn name(&self) -> &'static str {
        "epub"
    }
    fn mime(&self) -> &'static str {
        "application/epub+zip"
    }
    fn extension(&self) -> &'static str {
        "epub"
    }
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError> {
        let raw =
            build(book, &opts.labels_for(book)).map_err(|e| ExportError::render("epub", e))?;
        fix_package(&raw, &dc_elements(book)).map_err(|e| ExportError::render("epub", e))
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (what `dc:date` accepts), else `None`.
fn w3c_date(date: &str) -> Option<String> {
    let d = date.trim();
    let d = d.get(..10.min(d.len()))?;
    let ok = match d.len() {
        4 | 7 | 10 => d.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        }),
        _ => false,
    };
    ok.then(|| d.to_string())
}

fn xhtml(book: &Book, title: &str, body: &str) -> String {
    let lang = xml_escape(&book.metadata.language_tag().tag);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" \
         lang=\"{lang}\" xml:lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n\
         <link rel=\"stylesheet\" type=\"text/css\" href=\"stylesheet.css\"/>\n</head>\n<body>\n{body}</body>\n</html>\n",
        xml_escape(title)
    )
}

fn build(book: &Book, labels: &Labels) -> Result<Vec<u8>, epub_builder::Error> {
    let m = &book.metadata;
    let mut builder = EpubBuilder::new(ZipLibrary::new()?)?;
    builder.epub_version(EpubVersion::V30);
    builder.set_title(m.title.clone());
    builder.add_language(m.language_tag().tag);
    if let Some(a) = &m.author {
        builder.add_author(a.clone());
    }
    if let Some(d) = &m.description {
        builder.add_description(d.clone());
    }
    builder.set_generator("Lekhika");
    builder.set_toc_name(labels.contents.clone());
    builder.stylesheet(CSS.as_bytes())?;

    if let Some(cover) = &book.cover {
        let path = format!("images/cover.{}", cover.extension());
        builder.add_cover_image(&path, cover.bytes.as_slice(), cover.mime.as_str())?;
        let body = format!(
            "<section class=\"cover\" epub:type=\"cover\"><img src=\"{}\" alt=\"{}\"/></section>\n",
            xml_escape(&path),
            xml_escape(&m.title)
        );
        let page = xhtml(book, &m.title, &body);
        builder.add_content(
            EpubContent::new("cover.xhtml", page.as_bytes()).reftype(ReferenceType::Cover),
        )?;
    }

    let mut front = String::new();
    render_front(book, labels, &mut front);
    let page = xhtml(book, &m.title, &front);
    builder.add_content(
        EpubContent::new("title.xhtml", page.as_bytes())
            .title(m.title.clone())
            .reftype(ReferenceType::TitlePage),
    )?;

    for chapter in &book.chapters {
        let mut body = String::new();
        render_chapter(labels, chapter, &mut body);
        let toc_title = format!("{} · {}", labels.chapter(chapter.number), chapter.title);
        let page = xhtml(book, &chapter.title, &body);
        let mut content = EpubContent::new(
            format!("chapter_{:03}.xhtml", chapter.number),
            page.as_bytes(),
        )
        .title(toc_title);
        if chapter.number == 1 {
            content = content.reftype(ReferenceType::Text);
        }
        builder.add_content(content)?;
    }

    if let Some(about) = &book.back.about_author {
        let about_title = &labels.about_the_author;
        let mut body = format!(
            "<section class=\"chapter\" id=\"about-author\">\n<h1>{}</h1>\n",
            xml_escape(about_title)
        );
        render_blocks(about, 0, &mut body);
        body.push_str("</section>\n");
        let page = xhtml(book, about_title, &body);
        builder.add_content(
            EpubContent::new("about.xhtml", page.as_bytes()).title(about_title.clone()),
        )?;
    }

    let mut out = Vec::new();
    builder.generate(&mut out)?;
    Ok(out)
}

/// `dc:publisher`, `dc:date` and the ISBN as `dc:source`, which epub-builder has no keys for, as Dublin Core elements
/// (what reading systems and catalogues read), escaped.
fn dc_elements(book: &Book) -> String {
    let m = &book.metadata;
    let mut out = String::new();
    if let Some(p) = &m.publisher {
        out.push_str(&format!("<dc:publisher>{}</dc:publisher>\n", xml_escape(p)));
    }
    if let Some(date) = m.date.as_deref().and_then(w3c_date) {
        out.push_str(&format!("<dc:date>{}</dc:date>\n", xml_escape(&date)));
    }
    if let Some(isbn) = &m.isbn {
        out.push_str(&format!(
            "<dc:source>urn:isbn:{}</dc:source>\n",
            xml_escape(isbn.trim())
        ));
    }
    out
}

/// Fixes to `content.opf`: epub-builder 0.8.3 gives `dc:language` and `dc:creator` the same ids
/// (`epub-creator-0`), which epubcheck rejects (RSC-005), so the language ids are renamed; and
/// `dc` (the Dublin Core elements above) goes at the end of the metadata.
fn fix_package(epub: &[u8], dc: &str) -> zip::result::ZipResult<Vec<u8>> {
    super::zip_patch::patch_entries(epub, |name, data| {
        if name != "OEBPS/content.opf" {
            return data;
        }
        match String::from_utf8(data) {
            Ok(opf) => opf
                .replace(
                    "<dc:language id=\"epub-creator-",
                    "<dc:language id=\"epub-lang-",
                )
                .replacen("</metadata>", &format!("{dc}</metadata>"), 1)
                .into_bytes(),
            Err(e) => e.into_bytes(),
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::w3c_date;

    #[test]
    fn dates() {
        assert_eq!(
            w3c_date("2025-03-01T10:00:00Z").as_deref(),
            Some("2025-03-01")
        );
        assert_eq!(w3c_date("2025").as_deref(), Some("2025"));
        assert_eq!(w3c_date("March 2025"), None);
    }
}
