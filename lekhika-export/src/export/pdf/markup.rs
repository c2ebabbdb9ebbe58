//! Typst markup from the book model. Every piece of book text is escaped: in markup every ASCII
//! punctuation character gets a backslash (so no `#`, `[`, `*`, `$`, `<`, `=`, `/`, `"` ... can
//! start markup, a link or a smart quote), and values in code go in escaped string literals.

use crate::format::Labels;
use crate::model::{Block, Book, Chapter, Inline};
use crate::ExportOptions;

const PREAMBLE: &str = include_str!("preamble.typ");

/// Escapes text for Typst markup mode.
pub(crate) fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Typst string literal.
pub(crate) fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn length_mm(v: f64) -> String {
    format!("{v:.2}mm")
}

/// The complete Typst source of a book. `cover_path` is the virtual path of the cover image.
pub(crate) fn book_source(book: &Book, opts: &ExportOptions, cover_path: Option<&str>) -> String {
    let m = &book.metadata;
    let labels = opts.labels_for(book);
    let tag = m.language_tag();
    let lang = tag.primary.clone();
    let region = tag
        .region
        .clone()
        .filter(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
    let lang_ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
    let mut s = String::with_capacity(book.chapters.len() * 40_000 + 8192);
    s.push_str(&format!("#let book-title = {}\n", string_literal(&m.title)));
    s.push_str(&format!(
        "#let book-title-content = [{}]\n",
        escape_markup(&m.title)
    ));
    let authors = m
        .author
        .as_deref()
        .map(|a| format!("({},)", string_literal(a)))
        .unwrap_or_else(|| "()".to_string());
    s.push_str(&format!("#let book-authors = {authors}\n"));
    s.push_str(&format!(
        "#let book-lang = {}\n#let book-region = {}\n",
        string_literal(if lang_ok { &lang } else { "en" }),
        region.map_or_else(|| "none".to_string(), |r| string_literal(&r))
    ));
    s.push_str(&format!(
        "#let body-fonts = {}\n#let cjk-bold-font = {}\n",
        super::fonts::body_fonts(&tag),
        string_literal(super::fonts::cjk_sans(&tag))
    ));
    // CJK and Devanagari need more room between lines than Latin text; CJK paragraphs are
    // indented by one full-width character.
    let (leading, indent) = if tag.is_cjk() {
        ("0.95em", "1em")
    } else if tag.is_devanagari() {
        ("0.8em", "1.3em")
    } else {
        ("0.62em", "1.3em")
    };
    s.push_str(&format!(
        "#let body-leading = {leading}\n#let body-indent = {indent}\n"
    ));
    s.push_str(&format!(
        "#let trim-width = {}\n#let trim-height = {}\n#let margin-inside = {}\n\
         #let margin-outside = {}\n#let margin-top = {}\n#let margin-bottom = {}\n#let body-size = {:.2}pt\n",
        length_mm(opts.trim.width_mm),
        length_mm(opts.trim.height_mm),
        length_mm(opts.margin_inside_mm),
        length_mm(opts.margin_outside_mm),
        length_mm(opts.margin_top_mm),
        length_mm(opts.margin_bottom_mm),
        opts.font_size_pt
    ));
    s.push_str(PREAMBLE);
    s.push('\n');
    let recto = if opts.chapters_on_recto {
        ", to: \"odd\""
    } else {
        ""
    };

    if let Some(path) = cover_path {
        s.push_str(&format!(
            "#page(margin: 0pt)[#image({}, width: 100%, height: 100%, fit: \"cover\")]\n",
            string_literal(path)
        ));
        s.push_str(&format!("#pagebreak(weak: true{recto})\n"));
    }
    // Front matter: nothing justified, nothing indented.
    s.push_str("#[\n#set par(justify: false, first-line-indent: 0pt)\n");
    if book.front.title_page {
        push_title_pages(book, recto, &mut s);
    }
    let copyright = if book.front.copyright {
        labels.copyright_lines(m)
    } else {
        Vec::new()
    };
    if !copyright.is_empty() {
        // On the back of the title page.
        s.push_str("#pagebreak(weak: true)\n");
        s.push_str("#align(left + bottom)[\n#set text(size: 0.8em)\n");
        for line in copyright {
            s.push_str(&escape_markup(&line));
            s.push_str("\n\n");
        }
        s.push_str("]\n");
    }
    if let Some(d) = &book.front.dedication {
        s.push_str(&format!(
            "#pagebreak(weak: true{recto})\n#v(25%)\n#align(center)[\n#emph[\n"
        ));
        for line in d.lines().filter(|l| !l.trim().is_empty()) {
            s.push_str(&escape_markup(line.trim()));
            s.push_str(" #linebreak()\n");
        }
        s.push_str("]]\n");
    }
    s.push_str("]\n");
    if book.front.toc {
        s.push_str(&format!(
            "#pagebreak(weak: true{recto})\n#outline(title: [{}], depth: 1, indent: auto)\n",
            escape_markup(&labels.contents)
        ));
    }
    // Main matter: running headers, page numbers from 1.
    s.push_str(&format!("#pagebreak(weak: true{recto})\n"));
    s.push_str(
        "#set page(numbering: \"1\", header: running-header, footer: running-footer)\n\
         #counter(page).update(1)\n",
    );
    for (i, chapter) in book.chapters.iter().enumerate() {
        if i > 0 {
            s.push_str(&format!("#pagebreak(weak: true{recto})\n"));
        }
        push_chapter(&labels, chapter, &mut s);
    }
    if let Some(about) = &book.back.about_author {
        s.push_str(&format!("#pagebreak(weak: true{recto})\n"));
        s.push_str(&format!(
            "#chapter-opening(\"\")\n#heading(level: 1, outlined: true)[{}]\n\n",
            escape_markup(&labels.about_the_author)
        ));
        push_blocks(about, &[], &mut s);
        s.push_str("#metadata(none) <chapter-end>\n");
    }
    s
}

/// The half-title (the title alone, on a right-hand page), then the title page (title,
/// subtitle, author, publisher), also on a right-hand page when chapters are.
fn push_title_pages(book: &Book, recto: &str, s: &mut String) {
    let m = &book.metadata;
    s.push_str(&format!(
        "#pagebreak(weak: true{recto})\n#v(24%)\n#align(center)[#text(size: 1.45em, hyphenate: false)[{}]]\n",
        escape_markup(&m.title)
    ));
    s.push_str(&format!(
        "#pagebreak({})\n",
        &recto.trim_start_matches(", ")
    ));
    s.push_str("#v(22%)\n#align(center)[\n");
    s.push_str(&format!(
        "#text(size: 2.3em, hyphenate: false)[{}]\n",
        escape_markup(&m.title)
    ));
    if let Some(sub) = &m.subtitle {
        s.push_str(&format!(
            "\n#v(0.6em)\n#text(size: 1.25em, style: \"italic\")[{}]\n",
            escape_markup(sub)
        ));
    }
    if let Some(a) = &m.author {
        s.push_str(&format!(
            "\n#v(3em)\n#text(size: 1.3em)[{}]\n",
            escape_markup(a)
        ));
    }
    s.push_str("]\n");
    if let Some(p) = &m.publisher {
        s.push_str(&format!(
            "#align(center + bottom)[#text(size: 0.9em)[{}]]\n",
            escape_markup(p)
        ));
    }
}

/// How the contents number chapters: "1." — or the chapter label itself where it is a Typst
/// numbering pattern, i.e. Chinese, Japanese and Korean ("第1章", "제1장"), whose contents
/// read like their chapter openings.
fn toc_numbering(labels: &Labels) -> String {
    const COUNTING: &str = "一壹あいアイㄱ가①⓵";
    let pattern = labels.chapter.replace("{n}", "1");
    let cjk_affixes = pattern.chars().filter(|&c| c != '1').all(|c| {
        (('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{AC00}'..='\u{D7A3}').contains(&c))
            && !COUNTING.contains(c)
    });
    if labels.chapter.matches("{n}").count() == 1 && pattern.chars().count() > 1 && cjk_affixes {
        pattern
    } else {
        "1.".to_string()
    }
}

fn push_chapter(labels: &Labels, chapter: &Chapter, s: &mut String) {
    let label = labels.chapter(chapter.number);
    s.push_str(&format!(
        "#chapter-opening({}, spaced: {})\n#heading(level: 1, outlined: true, numbering: {})[{}]\n\n",
        string_literal(&label),
        label.is_ascii(),
        string_literal(&toc_numbering(labels)),
        escape_markup(&chapter.title)
    ));
    push_blocks(&chapter.blocks, &chapter.footnotes, s);
    s.push_str("#metadata(none) <chapter-end>\n");
}

fn push_blocks(blocks: &[Block], notes: &[crate::model::Footnote], s: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                s.push_str(&format!("#heading(level: {})[", (*level).clamp(2, 6)));
                push_inlines(content, notes, s);
                s.push_str("]\n\n");
            }
            Block::Paragraph(content) => {
                push_inlines(content, notes, s);
                s.push_str("\n\n");
            }
            Block::List { start, items } => {
                match start {
                    Some(n) => s.push_str(&format!("#enum(start: {n}")),
                    None => s.push_str("#list("),
                }
                for (i, item) in items.iter().enumerate() {
                    if i > 0 || start.is_some() {
                        s.push_str(", ");
                    }
                    let mut body = String::new();
                    push_blocks(item, notes, &mut body);
                    s.push('[');
                    s.push_str(body.trim_end());
                    s.push(']');
                }
                s.push_str(")\n\n");
            }
            Block::Quote(inner) => {
                s.push_str("#quote(block: true)[");
                push_blocks(inner, notes, s);
                s.push_str("]\n\n");
            }
            Block::SceneBreak => s.push_str("#scene-break\n\n"),
            Block::Code { text, .. } => {
                s.push_str(&format!("#raw(block: true, {})\n\n", string_literal(text)));
            }
        }
    }
}

fn push_inlines(inlines: &[Inline], notes: &[crate::model::Footnote], s: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => s.push_str(&escape_markup(t)),
            Inline::Emph(c) => wrap("emph", c, notes, s),
            Inline::Strong(c) => wrap("strong", c, notes, s),
            Inline::Strike(c) => wrap("strike", c, notes, s),
            Inline::Code(c) => s.push_str(&format!("#raw({})", string_literal(c))),
            Inline::Link { url, content } => {
                let u = url.trim();
                let lower = u.to_ascii_lowercase();
                if lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("mailto:")
                {
                    s.push_str(&format!("#link({})[", string_literal(u)));
                    push_inlines(content, notes, s);
                    s.push(']');
                } else {
                    push_inlines(content, notes, s);
                }
            }
            Inline::FootnoteRef(n) => {
                if let Some(def) = notes.iter().find(|d| d.number == *n) {
                    s.push_str("#footnote[");
                    let mut body = String::new();
                    push_blocks(&def.blocks, &[], &mut body);
                    s.push_str(body.trim_end());
                    s.push(']');
                }
            }
            Inline::LineBreak => s.push_str("#linebreak()"),
        }
    }
}

fn wrap(func: &str, content: &[Inline], notes: &[crate::model::Footnote], s: &mut String) {
    s.push('#');
    s.push_str(func);
    s.push('[');
    push_inlines(content, notes, s);
    s.push(']');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            escape_markup("#set [x] *b* $m$ <l> @r"),
            "\\#set \\[x\\] \\*b\\* \\$m\\$ \\<l\\> \\@r"
        );
        assert_eq!(escape_markup("हिन्दी “ok”"), "हिन्दी “ok”");
        assert_eq!(string_literal("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn contents_number_cjk_chapters_with_their_label() {
        let l = |lang| Labels::for_language(lang, None);
        assert_eq!(toc_numbering(&l("ja")), "第1章");
        assert_eq!(toc_numbering(&l("zh")), "第1章");
        assert_eq!(toc_numbering(&l("ko")), "제1장");
        assert_eq!(toc_numbering(&l("en")), "1.");
        assert_eq!(toc_numbering(&l("hi")), "1.");
    }
}
