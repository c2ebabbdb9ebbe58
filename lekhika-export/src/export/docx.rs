//! DOCX exporter (docx-rs): Title / Heading 1..6 styles with Word's built-in names so Word's
//! navigation pane and pandoc see real headings, a TOC field, a page break before each chapter,
//! page-number footer, and core properties (title, author, language).

use std::io::Cursor;

use std::cell::RefCell;

use docx_rs::{
    AbstractNumbering, AlignmentType, Docx, Footer, Footnote, Hyperlink, HyperlinkType,
    IndentLevel, Level, LevelJc, LevelOverride, LevelText, NumberFormat, Numbering, NumberingId,
    PageMargin, PageNum, Paragraph, Run, SpecialIndentType, Start, Style, StyleType,
    TableOfContents,
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
        let text_width = twips(opts.trim.width_mm - opts.margin_inside_mm - opts.margin_outside_mm);
        patch_package(&out.into_inner(), &core_xml(book), text_width)
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
    let lists = Lists::default();
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
    for chapter in &book.chapters {
        docx = add_chapter(docx, &labels, &lists, chapter);
    }
    if let Some(about) = &book.back.about_author {
        docx = docx.add_paragraph(
            text_para(&labels.about_the_author)
                .style("Heading1")
                .page_break_before(true),
        );
        for p in blocks(about, &[], &lists) {
            docx = docx.add_paragraph(p);
        }
    }
    lists.register(docx)
}

fn add_chapter(mut docx: Docx, labels: &Labels, lists: &Lists, chapter: &Chapter) -> Docx {
    let title = format!("{}: {}", labels.chapter(chapter.number), chapter.title);
    docx = docx.add_paragraph(text_para(&title).style("Heading1").page_break_before(true));
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
                let mut inner = Paragraph::new();
                push_inlines(&mut inner, content, f, notes, lists);
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

/// Fixes docx-rs cannot make through its API, applied to the packed archive:
/// `docProps/core.xml` (title, creator, language) is replaced, and the
/// table of contents is marked as a Word "Table of Contents" part (without
/// it LibreOffice prints the field codes) with its page numbers' tab stop
/// at the right margin (docx-rs puts it at 80,000 twips).
fn patch_package(docx: &[u8], core: &str, text_width: i32) -> zip::result::ZipResult<Vec<u8>> {
    super::zip_patch::patch_entries(docx, |name, data| match name {
        "docProps/core.xml" => core.as_bytes().to_vec(),
        "word/document.xml" => match String::from_utf8(data) {
            Ok(xml) => patch_toc(&xml, text_width).into_bytes(),
            Err(e) => e.into_bytes(),
        },
        _ => data,
    })
}

fn patch_toc(xml: &str, text_width: i32) -> String {
    const TOC_FIELD: &str = "<w:instrText>TOC ";
    let Some(field) = xml.find(TOC_FIELD) else {
        return xml.to_string();
    };
    let mut out = xml.to_string();
    // The TOC's own content control is the last one opened before its field.
    if let Some(open) = out[..field].rfind("<w:sdt><w:sdtPr>") {
        if let Some(close) = out[open..field].find("</w:sdtPr>") {
            out.insert_str(
                open + close,
                "<w:docPartObj><w:docPartGallery w:val=\"Table of Contents\" />\
                 <w:docPartUnique /></w:docPartObj>",
            );
        }
    }
    out.replace(
        "w:leader=\"dot\" w:pos=\"80000\"",
        &format!("w:leader=\"dot\" w:pos=\"{text_width}\""),
    )
}

/// Word list numbering: one abstract definition per list kind (bullets,
/// numbers) and one instance per list, so every numbered list starts at
/// its own first number and Word's list tools work on the result.
#[derive(Default)]
struct Lists {
    /// Per list: its first number (`None`: bulleted) and nesting depth.
    lists: RefCell<Vec<(Option<u64>, usize)>>,
}

/// Abstract numbering ids (docx-rs reserves 1 for its default).
const BULLETS: usize = 10;
const NUMBERS: usize = 11;
/// The first list instance id (1 is docx-rs's default instance).
const FIRST_LIST: usize = 10;
const LEVELS: usize = 6;

/// Left indent of list text at `depth`, in twips.
fn list_indent(depth: usize) -> i32 {
    720 * (depth as i32 + 1)
}

impl Lists {
    /// A new list at `depth` (numbered from `start`, or bulleted); returns
    /// its numbering id.
    fn open(&self, start: Option<u64>, depth: usize) -> usize {
        let mut l = self.lists.borrow_mut();
        l.push((start, depth));
        FIRST_LIST + l.len() - 1
    }

    /// Add the definitions and every list instance to the document.
    fn register(self, mut docx: Docx) -> Docx {
        let lists = self.lists.into_inner();
        if lists.is_empty() {
            return docx;
        }
        let level = |depth: usize, format: &str, text: String| {
            Level::new(
                depth,
                Start::new(1),
                NumberFormat::new(format),
                LevelText::new(text),
                LevelJc::new("left"),
            )
            .indent(
                Some(list_indent(depth)),
                Some(SpecialIndentType::Hanging(360)),
                None,
                None,
            )
        };
        let mut bullets = AbstractNumbering::new(BULLETS);
        let mut numbers = AbstractNumbering::new(NUMBERS);
        for depth in 0..LEVELS {
            let mark = ["•", "◦", "▪"][depth % 3];
            bullets = bullets.add_level(level(depth, "bullet", mark.to_string()));
            let format = ["decimal", "lowerLetter", "lowerRoman"][depth % 3];
            numbers = numbers.add_level(level(depth, format, format!("%{}.", depth + 1)));
        }
        docx = docx
            .add_abstract_numbering(bullets)
            .add_abstract_numbering(numbers);
        for (i, (start, depth)) in lists.into_iter().enumerate() {
            let id = FIRST_LIST + i;
            docx = docx.add_numbering(match start {
                None => Numbering::new(id, BULLETS),
                Some(s) => Numbering::new(id, NUMBERS).add_override(
                    LevelOverride::new(depth.min(LEVELS - 1))
                        .start(usize::try_from(s).unwrap_or(1)),
                ),
            });
        }
        docx
    }
}
