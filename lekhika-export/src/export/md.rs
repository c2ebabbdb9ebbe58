//! Markdown exporter: clean CommonMark with the book's structure (YAML front matter as pandoc
//! reads it, title block, chapters as `#`). Only safe link targets are kept.

use crate::format::Labels;
use crate::model::{Block, Book, Inline};
use crate::text::safe_url;
use crate::{ExportError, ExportOptions};

/// Markdown output.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

impl crate::Exporter for MarkdownExporter {
    fn name(&self) -> &'static str {
        "md"
    }
    fn mime(&self) -> &'static str {
        "text/markdown; charset=utf-8"
    }
    fn extension(&self) -> &'static str {
        "md"
    }
    fn export(&self, book: &Book, opts: &ExportOptions) -> Result<Vec<u8>, ExportError> {
        Ok(render(book, &opts.labels_for(book)).into_bytes())
    }
}

/// A YAML double-quoted scalar whose content pandoc reads as Markdown text (so it is escaped
/// as Markdown first).
fn yaml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in escape(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `---` front matter with the keys pandoc reads (`title`, `subtitle`, `author`, `lang`, `date`,
/// `publisher`, `description`) plus `isbn` and `dedication`, which Lekhika reads back.
fn front_matter(book: &Book) -> String {
    let m = &book.metadata;
    let mut out = String::from("---\n");
    out.push_str(&format!("title: {}\n", yaml_string(&m.title)));
    let optional = [
        ("subtitle", &m.subtitle),
        ("author", &m.author),
        ("date", &m.date),
        ("publisher", &m.publisher),
        ("description", &m.description),
        ("isbn", &m.isbn),
        ("dedication", &book.front.dedication),
    ];
    out.push_str(&format!("lang: {}\n", m.language_tag().tag));
    for (key, value) in optional {
        if let Some(v) = value {
            out.push_str(&format!("{key}: {}\n", yaml_string(v)));
        }
    }
    out.push_str("---\n\n");
    out
}

fn render(book: &Book, labels: &Labels) -> String {
    let m = &book.metadata;
    let mut out = front_matter(book);
    out.push_str(&format!("# {}\n\n", escape(&m.title)));
    if let Some(s) = &m.subtitle {
        out.push_str(&format!("*{}*\n\n", escape(s)));
    }
    if let Some(a) = &m.author {
        out.push_str(&format!("{}\n\n", escape(&labels.byline(a))));
    }
    if let Some(d) = &book.front.dedication {
        for line in d.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(&format!("> *{}*\n>\n", escape(line.trim())));
        }
        out.push('\n');
    }
    if book.front.toc {
        out.push_str(&format!("## {}\n\n", escape(&labels.contents)));
        for ch in &book.chapters {
            out.push_str(&format!("{}. {}\n", ch.number, escape(&ch.title)));
        }
        out.push('\n');
    }
    for ch in &book.chapters {
        out.push_str(&format!(
            "# {}\n\n",
            escape(&labels.chapter_heading(ch.number, &ch.title))
        ));
        render_blocks(&ch.blocks, "", ch.number, &mut out);
        for note in &ch.footnotes {
            let mut body = String::new();
            render_blocks(&note.blocks, "    ", ch.number, &mut body);
            let body = body.trim().trim_start_matches("    ");
            out.push_str(&format!("[^{}-{}]: {}\n\n", ch.number, note.number, body));
        }
    }
    if let Some(about) = &book.back.about_author {
        out.push_str(&format!("# {}\n\n", escape(&labels.about_the_author)));
        render_blocks(about, "", 0, &mut out);
    }
    out
}

/// Footnote labels are chapter-qualified (`[^3-1]`) so they stay unique in one file.
fn render_blocks(blocks: &[Block], indent: &str, ch: u32, out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                out.push_str(indent);
                out.push_str(&"#".repeat(usize::from((*level).clamp(2, 6))));
                out.push(' ');
                out.push_str(&inlines(content, ch));
                out.push_str("\n\n");
            }
            Block::Paragraph(content) => {
                out.push_str(indent);
                out.push_str(&inlines(content, ch).replace('\n', &format!("\n{indent}")));
                out.push_str("\n\n");
            }
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    let marker = match start {
                        Some(s) => format!("{}. ", s + i as u64),
                        None => "- ".to_string(),
                    };
                    let mut body = String::new();
                    let inner_indent = format!("{indent}{}", " ".repeat(marker.len()));
                    render_blocks(item, &inner_indent, ch, &mut body);
                    let body = body.trim_end();
                    let body = body.strip_prefix(inner_indent.as_str()).unwrap_or(body);
                    out.push_str(&format!("{indent}{marker}{body}\n"));
                }
                out.push('\n');
            }
            Block::Quote(inner) => {
                let mut body = String::new();
                render_blocks(inner, "", ch, &mut body);
                for line in body.trim_end().lines() {
                    out.push_str(format!("{indent}> {line}").trim_end());
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::SceneBreak => out.push_str(&format!("{indent}* * *\n\n")),
            Block::Code { lang, text } => {
                let fence = if text.contains("```") { "~~~~" } else { "```" };
                out.push_str(&format!(
                    "{indent}{fence}{}\n",
                    lang.as_deref().unwrap_or("")
                ));
                for line in text.lines() {
                    out.push_str(&format!("{indent}{line}\n"));
                }
                out.push_str(&format!("{indent}{fence}\n\n"));
            }
        }
    }
}

fn inlines(content: &[Inline], ch: u32) -> String {
    let mut out = String::new();
    for inline in content {
        match inline {
            Inline::Text(t) => out.push_str(&escape(t)),
            Inline::Emph(c) => out.push_str(&format!("*{}*", inlines(c, ch))),
            Inline::Strong(c) => out.push_str(&format!("**{}**", inlines(c, ch))),
            Inline::Strike(c) => out.push_str(&format!("~~{}~~", inlines(c, ch))),
            Inline::Code(c) => {
                let ticks = if c.contains('`') { "`` " } else { "`" };
                let close = if c.contains('`') { " ``" } else { "`" };
                out.push_str(&format!("{ticks}{c}{close}"));
            }
            Inline::Link { url, content } => match safe_url(url) {
                Some(u) => out.push_str(&format!(
                    "[{}](<{}>)",
                    inlines(content, ch),
                    u.replace(['<', '>', '\n'], "")
                )),
                None => out.push_str(&inlines(content, ch)),
            },
            Inline::FootnoteRef(n) => out.push_str(&format!("[^{ch}-{n}]")),
            Inline::LineBreak => out.push_str("\\\n"),
        }
    }
    out
}

/// Escapes Markdown-significant characters so text stays text (raw HTML included).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut at_line_start = true;
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '|' | '&'
        ) || (at_line_start && matches!(c, '#' | '+' | '-' | '='))
        {
            out.push('\\');
        }
        out.push(c);
        at_line_start = c == '\n' || (at_line_start && c == ' ');
    }
    out
}
