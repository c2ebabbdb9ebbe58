//! Paragraph styles of the DOCX exporter, with Word's built-in names so Word's navigation pane
//! and pandoc see real headings; the body font and language of the book.

use docx_rs::{AlignmentType, Docx, LineSpacing, RunFonts, Style, StyleType};

use crate::format::LanguageTag;

/// Space after a heading and before the text that follows it, in twips (12 pt).
const AFTER_HEADING: u32 = 240;

pub(super) fn styles(docx: Docx) -> Docx {
    let heading = |level: usize, size: usize| {
        Style::new(format!("Heading{level}"), StyleType::Paragraph)
            .name(format!("heading {level}"))
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .outline_lvl(level - 1)
            .line_spacing(LineSpacing::new().before(360).after(AFTER_HEADING))
    };
    docx.add_style(
        Style::new("Title", StyleType::Paragraph)
            .name("Title")
            .based_on("Normal")
            .q_format(true)
            .size(56)
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().before(2880).after(AFTER_HEADING)),
    )
    .add_style(
        Style::new("Subtitle", StyleType::Paragraph)
            .name("Subtitle")
            .based_on("Normal")
            .q_format(true)
            .size(32)
            .italic()
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().after(720)),
    )
    .add_style(
        heading(1, 36)
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().before(1440).after(720)),
    )
    .add_style(heading(2, 28))
    .add_style(heading(3, 26))
    .add_style(heading(4, 24))
    .add_style(heading(5, 24))
    .add_style(heading(6, 24))
    // The title of the table of contents: looks like a chapter title, but is no heading, so
    // the contents do not list themselves.
    .add_style(
        Style::new("TOCHeading", StyleType::Paragraph)
            .name("TOC Heading")
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(36)
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().before(1440).after(720)),
    )
    .add_style(
        Style::new("Quote", StyleType::Paragraph)
            .name("Quote")
            .based_on("Normal")
            .italic()
            .indent(Some(720), None, Some(720), None)
            .line_spacing(LineSpacing::new().before(120).after(120)),
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

/// The body fonts for a language: a serif Latin face, and the serif (Mincho / Song / Batang)
/// face of the East Asian script or the Devanagari face that Word and LibreOffice ship.
pub(super) fn body_fonts(lang: &LanguageTag) -> RunFonts {
    let east_asia = match lang.primary.as_str() {
        "ja" => "Yu Mincho",
        "ko" => "Batang",
        "zh" if lang.is_traditional_chinese() => "PMingLiU",
        _ => "SimSun",
    };
    RunFonts::new()
        .ascii("Georgia")
        .hi_ansi("Georgia")
        .east_asia(east_asia)
        .cs(if lang.is_devanagari() {
            "Nirmala UI"
        } else {
            "Times New Roman"
        })
}

/// `<w:lang>` for the document defaults: the tag for Latin text, and for East Asian
/// (`w:eastAsia`) or complex-script (`w:bidi`, where Word keeps Hindi) text when the book is in
/// such a language.
pub(super) fn lang_element(lang: &LanguageTag) -> String {
    let tag = crate::text::xml_escape(&lang.tag);
    if lang.is_cjk() {
        format!("<w:lang w:val=\"{tag}\" w:eastAsia=\"{tag}\" />")
    } else if lang.is_devanagari() {
        format!("<w:lang w:val=\"{tag}\" w:bidi=\"{tag}\" />")
    } else {
        format!("<w:lang w:val=\"{tag}\" />")
    }
}
