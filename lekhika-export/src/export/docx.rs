//! DOCX exporter (docx-rs): Title / Heading 1..6 styles with Word's built-in names so Word's
//! navigation pane and pandoc see real headings, a TOC field, a page break before each chapter,
//! page-number footer, and core properties (title, author, language).

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Footer, Footnote, Hyperlink, HyperlinkType, PageMargin, PageNum,
    Paragraph, Run, SpecialIndentType, Style, StyleType, TableOfContents,
};

use crate::format::Labels;
use crate::model::{Block, Book, Chapter, Footnote as BookFootnote, Inline};
use crate::text::xml_escape;
use crate::{ExportError, ExportOptions};

/// DOCX output.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocxExporter;

impl crate::Exporter for DocxExporter {
    fn name(&self) -> &'static str {
        "docx"
    }
    fn mime(&self) -> &'static str {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    }
    fn extension(&self) -> &'static str {
        "docx"
    }
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError> {
        opts.validate()?;
        let mut out = Cursor::new(Vec::new());
        build(book, opts)
            .pack(&mut out)
            .map_err(|e| ExportError::render("docx", e))?;
        replace_core_properties(&out.into_inner(), &core_xml(book))
            .map_err(|e| ExportError::render("docx", e))
    }
}

fn twips(mm: f64) -> i32 {
    (mm / 25.4 * 1440.0).round() as i32
}

fn styles(docx: Docx) -> Docx {
    let heading = |level: usize, size: usize| {
        Style::new(format!("Heading{level}"), StyleType::Paragraph)
            .name(format!("heading {level}"))
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .outline_lvl(level - 1)
    };
    docx.add_style(
        Style::new("Title", StyleType::Paragraph)
            .name("Title")
            .based_on("Normal")
            .q_format(true)
            .size(56)
            .align(AlignmentType::Center),
    )
    .add_style(
        Style::new("Subtitle", StyleType::Paragraph)
            .name("Subtitle")
            .based_on("Normal")
            .q_format(true)
            .size(32)
            .italic()
            .align(AlignmentType::Center),
    )
    .add_style(heading(1, 36).align(AlignmentType::Center))
    .add_style(heading(2, 28))
    .add_style(heading(3, 26))
    .add_style(heading(4, 24))
    .add_style(heading(5, 24))
    .add_style(heading(6, 24))
    .add_style(
        Style::new("Quote", StyleType::Paragraph)
            .name("Quote")
            .based_on("Normal")
            .italic()
            .indent(Some(720), None, Some(720), None),
    )
    .add_style(
        Style::new("SourceCode", StyleType::Paragraph)
            .name("Source Code")
            .based_on("Normal")
            .size(18)
            .fonts(
                docx_rs::RunFonts::new()
                    .ascii("DejaVu Sans Mono")
                    .hi_ansi("DejaVu Sans Mono"),
            ),
    )
}

fn build(book: &Book, opts: &ExportOptions) -> Docx {
    let m = &book.metadata;
    let labels = opts.labels_for(book);
    let margin = PageMargin {
        top: twips(opts.margin_top_mm),
        bottom: twips(opts.margin_bottom_mm),
        left: twips(opts.margin_inside_mm),
        right: twips(opts.margin_outside_mm),
        header: twips(opts.margin_top_mm / 2.0),
        footer: twips(opts.margin_bottom_mm / 2.0),
        gutter: 0,
    };
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_page_num(PageNum::new()),
    );
    let mut docx = styles(Docx::new())
        .page_size(
            u32::try_from(twips(opts.trim.width_mm)).unwrap_or(8640),
            u32::try_from(twips(opts.trim.height_mm)).unwrap_or(12960),
        )
        .page_margin(margin)
        .footer(footer)
        .default_size((opts.font_size_pt * 2.0).round() as usize);

    // Title page.
    docx = docx.add_paragraph(text_para(&m.title).style("Title"));
    if let Some(s) = &m.subtitle {
        docx = docx.add_paragraph(text_para(s).style("Subtitle"));
    }
    if let Some(a) = &m.author {
        docx = docx.add_paragraph(text_para(a).align(AlignmentType::Center));
    }
    if book.front.copyright {
        let mut first = true;
        for line in labels.copyright_lines(m) {
            docx = docx.add_paragraph(
                text_para(&line)
                    .align(AlignmentType::Center)
                    .page_break_before(std::mem::take(&mut first)),
            );
        }
    }
    if let Some(d) = &book.front.dedication {
        let mut first = true;
        for line in d.lines().filter(|l| !l.trim().is_empty()) {
            docx = docx.add_paragraph(
                Paragraph::new()
                    .add_run(Run::new().add_text(line.trim()).italic())
                    .align(AlignmentType::Center)
                    .page_break_before(std::mem::take(&mut first)),
            );
        }
    }
    if book.front.toc {
        docx = docx.add_paragraph(
            text_para(&labels.contents)
                .style("TOCHeading")
                .align(AlignmentType::Center)
                .page_break_before(true),
        );
        docx = docx.add_table_of_contents(
            TableOfContents::new()
                .heading_styles_range(1, 1)
                .alias(&labels.contents)
                .auto(),
        );
    }
    for chapter in &book.chapters {
        docx = add_chapter(docx, &labels, chapter);
    }
    if let Some(about) = &book.back.about_author {
        docx = docx.add_paragraph(
            text_para(&labels.about_the_author)
                .style("Heading1")
                .page_break_before(true),
        );
        for p in blocks(about, &[]) {
            docx = docx.add_paragraph(p);
        }
    }
    docx
}

fn add_chapter(mut docx: Docx, labels: &Labels, chapter: &Chapter) -> Docx {
    let title = format!("{}: {}", labels.chapter(chapter.number), chapter.title);
    docx = docx.add_paragraph(text_para(&title).style("Heading1").page_break_before(true));
    for p in blocks(&chapter.blocks, &chapter.footnotes) {
        docx = docx.add_paragraph(p);
    }
    docx
}

fn text_para(text: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(text))
}

#[derive(Clone, Copy, Default)]
struct Fmt {
    bold: bool,
    italic: bool,
    strike: bool,
}

fn blocks(blocks: &[Block], notes: &[BookFootnote]) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut after_break = true;
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                let l = (*level).clamp(2, 6);
                out.push(inline_para(content, notes).style(&format!("Heading{l}")));
                after_break = true;
            }
            Block::Paragraph(content) => {
                let p = inline_para(content, notes).align(AlignmentType::Both);
                out.push(if after_break {
                    p
                } else {
                    p.indent(None, Some(SpecialIndentType::FirstLine(360)), None, None)
                });
                after_break = false;
            }
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    let marker = match start {
                        Some(s) => format!("{}.\t", s + i as u64),
                        None => "•\t".to_string(),
                    };
                    let mut inner = self::blocks(item, notes).into_iter();
                    if let Some(first) = inner.next() {
                        let mut p = Paragraph::new().add_run(Run::new().add_text(marker));
                        p.children.extend(first.children);
                        out.push(p.indent(
                            Some(720),
                            Some(SpecialIndentType::Hanging(360)),
                            None,
                            None,
                        ));
                    }
                    out.extend(inner.map(|p| p.indent(Some(720), None, None, None)));
                }
                after_break = true;
            }
            Block::Quote(inner) => {
                out.extend(
                    self::blocks(inner, notes)
                        .into_iter()
                        .map(|p| p.style("Quote")),
                );
                after_break = true;
            }
            Block::SceneBreak => {
                out.push(text_para("*   *   *").align(AlignmentType::Center));
                after_break = true;
            }
            Block::Code { text, .. } => {
                for line in text.lines() {
                    out.push(text_para(line).style("SourceCode"));
                }
                after_break = true;
            }
        }
    }
    out
}

fn inline_para(content: &[Inline], notes: &[BookFootnote]) -> Paragraph {
    let mut p = Paragraph::new();
    push_inlines(&mut p, content, Fmt::default(), notes);
    p
}

fn styled_run(text: &str, f: Fmt) -> Run {
    let mut r = Run::new().add_text(text);
    if f.bold {
        r = r.bold();
    }
    if f.italic {
        r = r.italic();
    }
    if f.strike {
        r = r.strike();
    }
    r
}

fn push_inlines(p: &mut Paragraph, content: &[Inline], f: Fmt, notes: &[BookFootnote]) {
    for inline in content {
        match inline {
            Inline::Text(t) => *p = std::mem::take(p).add_run(styled_run(t, f)),
            Inline::Emph(c) => push_inlines(
                p,
                c,
                Fmt {
                    italic: !f.italic,
                    ..f
                },
                notes,
            ),
            Inline::Strong(c) => push_inlines(p, c, Fmt { bold: true, ..f }, notes),
            Inline::Strike(c) => push_inlines(p, c, Fmt { strike: true, ..f }, notes),
            Inline::Code(c) => {
                let run =
                    styled_run(c, f).fonts(docx_rs::RunFonts::new().ascii("DejaVu Sans Mono"));
                *p = std::mem::take(p).add_run(run);
            }
            Inline::Link { url, content } => {
                let mut inner = Paragraph::new();
                push_inlines(&mut inner, content, f, notes);
                let mut link = Hyperlink::new(url.trim(), HyperlinkType::External);
                for child in inner.children {
                    if let docx_rs::ParagraphChild::Run(run) = child {
                        link = link.add_run(*run);
                    }
                }
                *p = std::mem::take(p).add_hyperlink(link);
            }
            Inline::FootnoteRef(n) => {
                let mut note = Footnote::new();
                if let Some(def) = notes.iter().find(|d| d.number == *n) {
                    for para in blocks(&def.blocks, &[]) {
                        note = note.add_content(para);
                    }
                }
                *p = std::mem::take(p).add_run(Run::new().add_footnote_reference(note));
            }
            Inline::LineBreak => {
                *p = std::mem::take(p)
                    .add_run(Run::new().add_break(docx_rs::BreakType::TextWrapping))
            }
        }
    }
}

fn core_xml(book: &Book) -> String {
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
        xml_escape(&m.language)
    ));
    x.push_str(
        "<dcterms:created xsi:type=\"dcterms:W3CDTF\">1970-01-01T00:00:00Z</dcterms:created>\
         <dcterms:modified xsi:type=\"dcterms:W3CDTF\">1970-01-01T00:00:00Z</dcterms:modified>\
         </cp:coreProperties>",
    );
    x
}

/// docx-rs has no setters for title / creator / language, so the packed archive is copied with
/// `docProps/core.xml` replaced.
fn replace_core_properties(docx: &[u8], core: &str) -> zip::result::ZipResult<Vec<u8>> {
    super::zip_patch::patch_entries(docx, |name, data| {
        if name == "docProps/core.xml" {
            core.as_bytes().to_vec()
        } else {
            data
        }
    })
}
