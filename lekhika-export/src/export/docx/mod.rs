//! DOCX exporter (docx-rs): Title / Heading 1..6 styles with Word's built-in names so Word's
//! navigation pane and pandoc see real headings, a TOC field, a page break before each chapter,
//! the front matter in its own section without page numbers and the text numbered from 1, the
//! book's body font and language, and core properties (title, author, language).

mod lists;
mod patch;
mod styles;

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Footer, Footnote, Hyperlink, HyperlinkType, IndentLevel, NumberingId,
    PageMargin, PageNum, PageNumType, PageSize, Paragraph, Run, SectionProperty, SpecialIndentType,
    TableOfContents,
};

use crate::format::Labels;
use crate::model::{Block, Book, Chapter, Footnote as BookFootnote, Inline};
use crate::text::safe_url;
use crate::{ExportError, ExportOptions};
use lists::{list_indent, Lists, LEVELS};
use patch::{core_xml, patch_package};
use styles::{body_fonts, lang_element, styles};

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
        let text_width = twips(opts.trim.width_mm - opts.margin_inside_mm - opts.margin_outside_mm);
        let lang = lang_element(&book.metadata.language_tag());
        patch_package(&out.into_inner(), &core_xml(book), &lang, text_width)
            .map_err(|e| ExportError::render("docx", e))
    }
}

fn twips(mm: f64) -> i32 {
    (mm / 25.4 * 1440.0).round() as i32
}

fn build(book: &Book, opts: &ExportOptions) -> Docx {
    let m = &book.metadata;
    let labels = opts.labels_for(book);
    let lists = Lists::default();
    let margin = || PageMargin {
        top: twips(opts.margin_top_mm),
        bottom: twips(opts.margin_bottom_mm),
        left: twips(opts.margin_inside_mm),
        right: twips(opts.margin_outside_mm),
        header: twips(opts.margin_top_mm / 2.0),
        footer: twips(opts.margin_bottom_mm / 2.0),
        gutter: 0,
    };
    let width = u32::try_from(twips(opts.trim.width_mm)).unwrap_or(8640);
    let height = u32::try_from(twips(opts.trim.height_mm)).unwrap_or(12960);
    let footer = Footer::new().add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .add_page_num(PageNum::new()),
    );
    // The last section (the chapters) has the page numbers, from 1.
    let mut docx = styles(Docx::new())
        .page_size(width, height)
        .page_margin(margin())
        .footer(footer)
        .page_num_type(PageNumType::new().start(1))
        .default_fonts(body_fonts(&m.language_tag()))
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
                .page_break_before(true),
        );
        let mut toc = TableOfContents::new()
            .heading_styles_range(1, 1)
            .alias(&labels.contents)
            .auto()
            // Word recomputes the page numbers when the file is opened.
            .dirty();
        // No made-up page numbers until then.
        toc.page_ref_placeholder = Some(String::new());
        docx = docx.add_table_of_contents(toc);
    }
    // End of the front matter: its own section, without a footer, so no page number.
    docx = docx.add_paragraph(
        Paragraph::new().section_property(
            SectionProperty::new()
                .page_size(PageSize::new().size(width, height))
                .page_margin(margin()),
        ),
    );
    for (i, chapter) in book.chapters.iter().enumerate() {
        docx = add_chapter(docx, &labels, &lists, chapter, i > 0);
    }
    if let Some(about) = &book.back.about_author {
        docx = docx.add_paragraph(
            text_para(&labels.about_the_author)
                .style("Heading1")
                .page_break_before(!book.chapters.is_empty()),
        );
        for p in blocks(about, &[], &lists) {
            docx = docx.add_paragraph(p);
        }
    }
    lists.register(docx)
}

/// A chapter; `new_page`: start it with a page break (the first chapter starts a new section,
/// which is a new page already).
fn add_chapter(
    mut docx: Docx,
    labels: &Labels,
    lists: &Lists,
    chapter: &Chapter,
    new_page: bool,
) -> Docx {
    let title = labels.chapter_heading(chapter.number, &chapter.title);
    docx = docx.add_paragraph(
        text_para(&title)
            .style("Heading1")
            .page_break_before(new_page),
    );
    for p in blocks(&chapter.blocks, &chapter.footnotes, lists) {
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

fn blocks(blocks: &[Block], notes: &[BookFootnote], lists: &Lists) -> Vec<Paragraph> {
    blocks_at(blocks, notes, lists, 0)
}

/// `depth`: how many lists enclose these blocks (0 at top level).
fn blocks_at(
    blocks: &[Block],
    notes: &[BookFootnote],
    lists: &Lists,
    depth: usize,
) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut after_break = true;
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                let l = (*level).clamp(2, 6);
                out.push(inline_para(content, notes, lists).style(&format!("Heading{l}")));
                after_break = true;
            }
            Block::Paragraph(content) => {
                let p = inline_para(content, notes, lists).align(AlignmentType::Both);
                out.push(if after_break {
                    p
                } else {
                    p.indent(None, Some(SpecialIndentType::FirstLine(360)), None, None)
                });
                after_break = false;
            }
            Block::List { start, items } => {
                let id = lists.open(*start, depth);
                for item in items {
                    let mut inner = blocks_at(item, notes, lists, depth + 1).into_iter();
                    if let Some(first) = inner.next() {
                        let level = IndentLevel::new(depth.min(LEVELS - 1));
                        out.push(first.numbering(NumberingId::new(id), level));
                    }
                    // Later paragraphs of the item line up with its text;
                    // nested lists keep their own numbering and indent.
                    out.extend(inner.map(|p| {
                        if p.has_numbering {
                            p
                        } else {
                            p.indent(Some(list_indent(depth)), None, None, None)
                        }
                    }));
                }
                after_break = true;
            }
            Block::Quote(inner) => {
                out.extend(
                    blocks_at(inner, notes, lists, depth)
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

fn inline_para(content: &[Inline], notes: &[BookFootnote], lists: &Lists) -> Paragraph {
    let mut p = Paragraph::new();
    push_inlines(&mut p, content, Fmt::default(), notes, lists);
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

fn push_inlines(
    p: &mut Paragraph,
    content: &[Inline],
    f: Fmt,
    notes: &[BookFootnote],
    lists: &Lists,
) {
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
                lists,
            ),
            Inline::Strong(c) => push_inlines(p, c, Fmt { bold: true, ..f }, notes, lists),
            Inline::Strike(c) => push_inlines(p, c, Fmt { strike: true, ..f }, notes, lists),
            Inline::Code(c) => {
                let run =
                    styled_run(c, f).fonts(docx_rs::RunFonts::new().ascii("DejaVu Sans Mono"));
                *p = std::mem::take(p).add_run(run);
            }
            Inline::Link { url, content } => {
                let Some(url) = safe_url(url).filter(|u| !u.starts_with('#')) else {
                    // `javascript:` and other unsafe targets: the text without the link.
                    push_inlines(p, content, f, notes, lists);
                    continue;
                };
                let mut inner = Paragraph::new();
                push_inlines(&mut inner, content, f, notes, lists);
                let mut link = Hyperlink::new(url, HyperlinkType::External);
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
                    for para in blocks(&def.blocks, &[], lists) {
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
