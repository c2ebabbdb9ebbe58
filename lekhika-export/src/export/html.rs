//! HTML rendering: the standalone page exporter, and the XHTML fragments EPUB reuses.
//! Every piece of book text goes through `xml_escape`; links only keep safe URL schemes.

#[cfg(feature = "html")]
use base64::Engine;

use crate::format::Labels;
use crate::model::{Block, Book, Chapter, Inline};
use crate::text::{safe_url, xml_escape};
#[cfg(feature = "html")]
use crate::{ExportError, ExportOptions};

/// Renders blocks as XHTML-compatible HTML (self-closing void elements).
pub(crate) fn render_blocks(blocks: &[Block], chapter: u32, out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                let l = (*level).clamp(2, 6);
                out.push_str(&format!("<h{l}>"));
                render_inlines(content, chapter, out);
                out.push_str(&format!("</h{l}>\n"));
            }
            Block::Paragraph(content) => {
                out.push_str("<p>");
                render_inlines(content, chapter, out);
                out.push_str("</p>\n");
            }
            Block::List { start, items } => {
                match start {
                    Some(1) => out.push_str("<ol>\n"),
                    Some(n) => out.push_str(&format!("<ol start=\"{n}\">\n")),
                    None => out.push_str("<ul>\n"),
                }
                for item in items {
                    out.push_str("<li>");
                    render_blocks(item, chapter, out);
                    out.push_str("</li>\n");
                }
                out.push_str(if start.is_some() {
                    "</ol>\n"
                } else {
                    "</ul>\n"
                });
            }
            Block::Quote(inner) => {
                out.push_str("<blockquote>\n");
                render_blocks(inner, chapter, out);
                out.push_str("</blockquote>\n");
            }
            Block::SceneBreak => out.push_str("<hr class=\"scene-break\"/>\n"),
            Block::Code { text, .. } => {
                out.push_str("<pre><code>");
                out.push_str(&xml_escape(text));
                out.push_str("</code></pre>\n");
            }
        }
    }
}

pub(crate) fn render_inlines(inlines: &[Inline], chapter: u32, out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => out.push_str(&xml_escape(t)),
            Inline::Emph(c) => wrap("em", c, chapter, out),
            Inline::Strong(c) => wrap("strong", c, chapter, out),
            Inline::Strike(c) => wrap("del", c, chapter, out),
            Inline::Code(c) => {
                out.push_str("<code>");
                out.push_str(&xml_escape(c));
                out.push_str("</code>");
            }
            Inline::Link { url, content } => match safe_url(url) {
                Some(u) => {
                    out.push_str(&format!("<a href=\"{}\">", xml_escape(u)));
                    render_inlines(content, chapter, out);
                    out.push_str("</a>");
                }
                None => render_inlines(content, chapter, out),
            },
            Inline::FootnoteRef(n) => out.push_str(&format!(
                "<sup><a class=\"noteref\" id=\"fnref-{chapter}-{n}\" href=\"#fn-{chapter}-{n}\">{n}</a></sup>"
            )),
            Inline::LineBreak => out.push_str("<br/>\n"),
        }
    }
}

fn wrap(tag: &str, content: &[Inline], chapter: u32, out: &mut String) {
    out.push_str(&format!("<{tag}>"));
    render_inlines(content, chapter, out);
    out.push_str(&format!("</{tag}>"));
}

/// A chapter as a `<section>`: label, title, body, footnotes.
pub(crate) fn render_chapter(labels: &Labels, chapter: &Chapter, out: &mut String) {
    let n = chapter.number;
    out.push_str(&format!("<section class=\"chapter\" id=\"chapter-{n}\">\n"));
    out.push_str(&format!(
        "<p class=\"chapter-label\">{}</p>\n<h1>{}</h1>\n",
        xml_escape(&labels.chapter(chapter.number)),
        xml_escape(&chapter.title)
    ));
    render_blocks(&chapter.blocks, n, out);
    if !chapter.footnotes.is_empty() {
        out.push_str("<section class=\"footnotes\">\n<hr/>\n<ol>\n");
        for note in &chapter.footnotes {
            let k = note.number;
            out.push_str(&format!("<li id=\"fn-{n}-{k}\" value=\"{k}\">"));
            render_blocks(&note.blocks, n, out);
            out.push_str(&format!(
                "<p class=\"backref\"><a href=\"#fnref-{n}-{k}\">↩</a></p></li>\n"
            ));
        }
        out.push_str("</ol>\n</section>\n");
    }
    out.push_str("</section>\n");
}

/// Shared stylesheet for HTML and EPUB. Font stacks follow the document's language (`lang` on
/// `<html>`): Japanese in a Mincho face, Chinese in Song/Ming faces of its script, Korean in
/// Batang/Myeongjo, Devanagari in a Devanagari serif.
pub(crate) const CSS: &str = r#"
body { font-family: Georgia, "Noto Serif", "Libertinus Serif", serif;
  line-height: 1.6; color: #222; }
body:lang(hi), body:lang(mr), body:lang(ne), body:lang(sa) {
  font-family: "Noto Serif Devanagari", "Kohinoor Devanagari", "Nirmala UI", "Mangal", serif;
  line-height: 1.8; }
body:lang(ja) { font-family: "Noto Serif CJK JP", "Noto Serif JP", "Hiragino Mincho ProN",
  "Yu Mincho", "YuMincho", "MS PMincho", serif; line-height: 1.8; }
body:lang(zh) { font-family: "Noto Serif CJK SC", "Noto Serif SC", "Songti SC", "STSong",
  "SimSun", serif; line-height: 1.8; }
body:lang(zh-Hant), body:lang(zh-TW), body:lang(zh-HK), body:lang(zh-MO) {
  font-family: "Noto Serif CJK TC", "Noto Serif TC", "Songti TC", "PMingLiU", "MingLiU", serif; }
body:lang(ko) { font-family: "Noto Serif CJK KR", "Noto Serif KR", "AppleMyungjo", "Batang",
  serif; line-height: 1.8; }
.page { max-width: 38em; margin: 0 auto; padding: 2em 1.2em; }
p { margin: 0; text-indent: 1.5em; text-align: justify; hyphens: auto; -epub-hyphens: auto; }
p:lang(ja), p:lang(zh), p:lang(ko) { text-indent: 1em; hyphens: none; -epub-hyphens: none; }
h1 + p, h2 + p, h3 + p, h4 + p, hr + p, .chapter-label + h1 + p, blockquote p { text-indent: 0; }
h1, h2, h3, h4, h5, h6 { font-weight: normal; line-height: 1.25; text-align: center; }
h2, h3, h4, h5, h6 { text-align: left; }
h1 { font-size: 1.8em; margin: 0.2em 0 1.5em; }
h2 { font-size: 1.3em; margin: 1.5em 0 0.6em; }
.chapter { margin-top: 4em; }
.chapter-label { text-align: center; text-transform: uppercase; letter-spacing: 0.15em;
  font-size: 0.85em; color: #666; text-indent: 0; margin-top: 3em; }
.chapter-label:lang(hi), .chapter-label:lang(mr), .chapter-label:lang(ne),
.chapter-label:lang(ja), .chapter-label:lang(zh), .chapter-label:lang(ko) { letter-spacing: 0; }
ul, ol { margin: 0.8em 0 0.8em 1.5em; padding-left: 1em; }
li { margin: 0.25em 0; }
li p, li + li p { text-indent: 0; text-align: left; }
li + p, ul + p, ol + p { text-indent: 0; }
hr.scene-break { border: 0; text-align: center; margin: 1.5em 0; }
hr.scene-break::after { content: "* * *"; color: #555; }
blockquote { margin: 1em 2em; font-style: italic; }
blockquote:lang(ja), blockquote:lang(zh), blockquote:lang(ko) { font-style: normal; }
pre { white-space: pre-wrap; font-size: 0.85em; background: #f6f6f6; padding: 0.8em; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; }
.footnotes { font-size: 0.85em; margin-top: 2em; }
.footnotes p { text-indent: 0; }
.title-page { text-align: center; margin: 4em 0 6em; }
.title-page h1 { font-size: 2.4em; margin-bottom: 0.3em; }
.title-page p { text-indent: 0; text-align: center; }
.subtitle { font-size: 1.3em; font-style: italic; }
.author { font-size: 1.2em; margin-top: 2em; }
.copyright, .dedication { text-align: center; margin: 3em 0; }
.copyright p, .dedication p { text-indent: 0; text-align: center; }
.dedication { font-style: italic; }
nav.toc ol { list-style: none; padding: 0; margin-left: 0; }
nav.toc li { margin: 0.3em 0; }
.cover img { display: block; max-width: 100%; margin: 0 auto; }
"#;

/// Print rules of the standalone HTML page (`trim` sets the page size): every chapter, the
/// contents, copyright and dedication start a new page, headings stay with their text.
#[cfg(feature = "html")]
fn print_css(opts: &ExportOptions) -> String {
    format!(
        r#"
@media print {{
  @page {{ size: {w:.1}mm {h:.1}mm; margin: {t:.1}mm {o:.1}mm {b:.1}mm {i:.1}mm; }}
  body {{ color: #000; }}
  .page {{ max-width: none; margin: 0; padding: 0; }}
  .cover {{ break-after: page; page-break-after: always; margin: 0; }}
  .copyright, .dedication, nav.toc, .chapter {{ break-before: page; page-break-before: always; }}
  .chapter {{ margin-top: 0; padding-top: 3em; }}
  h1, h2, h3, h4, .chapter-label {{ break-after: avoid; page-break-after: avoid; }}
  p {{ orphans: 2; widows: 2; }}
  a {{ color: inherit; text-decoration: none; }}
  pre {{ background: none; }}
}}
"#,
        w = opts.trim.width_mm,
        h = opts.trim.height_mm,
        t = opts.margin_top_mm,
        b = opts.margin_bottom_mm,
        i = opts.margin_inside_mm,
        o = opts.margin_outside_mm,
    )
}

/// Title page, copyright and dedication as HTML.
pub(crate) fn render_front(book: &Book, labels: &Labels, out: &mut String) {
    let m = &book.metadata;
    out.push_str("<section class=\"title-page\">\n");
    out.push_str(&format!(
        "<h1 class=\"title\">{}</h1>\n",
        xml_escape(&m.title)
    ));
    if let Some(s) = &m.subtitle {
        out.push_str(&format!("<p class=\"subtitle\">{}</p>\n", xml_escape(s)));
    }
    if let Some(a) = &m.author {
        out.push_str(&format!("<p class=\"author\">{}</p>\n", xml_escape(a)));
    }
    if let Some(p) = &m.publisher {
        out.push_str(&format!("<p class=\"publisher\">{}</p>\n", xml_escape(p)));
    }
    out.push_str("</section>\n");
    let copyright = if book.front.copyright {
        labels.copyright_lines(&book.metadata)
    } else {
        Vec::new()
    };
    if !copyright.is_empty() {
        out.push_str("<section class=\"copyright\">\n");
        for line in copyright {
            out.push_str(&format!("<p>{}</p>\n", xml_escape(&line)));
        }
        out.push_str("</section>\n");
    }
    if let Some(d) = &book.front.dedication {
        out.push_str("<section class=\"dedication\">\n");
        for line in d.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(&format!("<p>{}</p>\n", xml_escape(line.trim())));
        }
        out.push_str("</section>\n");
    }
}

/// Standalone, styled, single-page HTML.
#[cfg(feature = "html")]
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExporter;

#[cfg(feature = "html")]
impl crate::Exporter for HtmlExporter {
    fn name(&self) -> &'static str {
        "html"
    }
    fn mime(&self) -> &'static str {
        "text/html; charset=utf-8"
    }
    fn extension(&self) -> &'static str {
        "html"
    }
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError> {
        Ok(render_page(book, &opts.labels_for(book), &print_css(opts)).into_bytes())
    }
}

#[cfg(feature = "html")]
fn render_page(book: &Book, labels: &Labels, print_css: &str) -> String {
    let m = &book.metadata;
    let lang = xml_escape(&m.language_tag().tag);
    let mut out = String::with_capacity(book.chapters.len() * 20_000 + 4096);
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <title>{}</title>\n",
        xml_escape(&m.title)
    ));
    if let Some(a) = &m.author {
        out.push_str(&format!(
            "<meta name=\"author\" content=\"{}\"/>\n",
            xml_escape(a)
        ));
    }
    if let Some(d) = &m.description {
        out.push_str(&format!(
            "<meta name=\"description\" content=\"{}\"/>\n",
            xml_escape(d)
        ));
    }
    out.push_str(&format!(
        "<style>{CSS}{print_css}</style>\n</head>\n<body>\n<main class=\"page\">\n"
    ));
    if let Some(cover) = &book.cover {
        let data = base64::engine::general_purpose::STANDARD.encode(&cover.bytes);
        out.push_str(&format!(
            "<figure class=\"cover\"><img src=\"data:{};base64,{data}\" alt=\"{}\"/></figure>\n",
            xml_escape(&cover.mime),
            xml_escape(&m.title)
        ));
    }
    render_front(book, labels, &mut out);
    if book.front.toc {
        out.push_str(&format!(
            "<nav class=\"toc\">\n<h2>{}</h2>\n<ol>\n",
            xml_escape(&labels.contents)
        ));
        for ch in &book.chapters {
            out.push_str(&format!(
                "<li><a href=\"#chapter-{}\">{} · {}</a></li>\n",
                ch.number,
                xml_escape(&labels.chapter(ch.number)),
                xml_escape(&ch.title)
            ));
        }
        if book.back.about_author.is_some() {
            out.push_str(&format!(
                "<li><a href=\"#about-author\">{}</a></li>\n",
                xml_escape(&labels.about_the_author)
            ));
        }
        out.push_str("</ol>\n</nav>\n");
    }
    for chapter in &book.chapters {
        render_chapter(labels, chapter, &mut out);
    }
    if let Some(about) = &book.back.about_author {
        out.push_str(&format!(
            "<section class=\"chapter\" id=\"about-author\">\n<h1>{}</h1>\n",
            xml_escape(&labels.about_the_author)
        ));
        render_blocks(about, 0, &mut out);
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
