//! Markdown (as AI models write it) to the book model, with pulldown-cmark.
//!
//! Raw HTML is never interpreted: it becomes plain [`Inline::Text`], which every renderer escapes.

use std::collections::HashMap;
use std::iter::Peekable;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag};

use super::{Block, Footnote, Inline};

/// Result of parsing one chapter's Markdown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedMarkdown {
    /// Body blocks.
    pub blocks: Vec<Block>,
    /// Footnotes numbered in order of first reference (unreferenced definitions follow).
    pub footnotes: Vec<Footnote>,
}

/// Parses Markdown into blocks and footnotes. Never fails: anything unknown becomes text.
pub fn parse_markdown(markdown: &str) -> ParsedMarkdown {
    let source = scene_break_lines(markdown);
    let options = Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let mut state = State::default();
    let mut events = Parser::new_ext(&source, options).peekable();
    let blocks = parse_blocks(&mut events, &mut state);
    let mut footnotes = Vec::new();
    for (label, number) in &state.order {
        let blocks = state.definitions.remove(label).unwrap_or_default();
        footnotes.push(Footnote {
            number: *number,
            blocks,
        });
    }
    let mut rest: Vec<_> = state.definitions.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, blocks) in rest {
        let number = u32::try_from(footnotes.len() + 1).unwrap_or(u32::MAX);
        footnotes.push(Footnote { number, blocks });
    }
    ParsedMarkdown { blocks, footnotes }
}

/// Turns lines that are only `#` (or `# # #`, `⁂`) outside code fences into `***`, the
/// CommonMark scene break, so they do not become empty headings.
fn scene_break_lines(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fence: Option<&str> = None;
    for line in markdown.lines() {
        let trimmed = line.trim();
        if let Some(marker) = fence {
            if trimmed.starts_with(marker) {
                fence = None;
            }
        } else if trimmed.starts_with("```") {
            fence = Some("```");
        } else if trimmed.starts_with("~~~") {
            fence = Some("~~~");
        } else if matches!(trimmed, "#" | "# # #" | "###" | "⁂" | "~~~~" | "* * * *") {
            out.push_str("\n***\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[derive(Default)]
struct State {
    /// Footnote label -> number, in order of first reference.
    order: Vec<(String, u32)>,
    definitions: HashMap<String, Vec<Block>>,
}

impl State {
    fn footnote_number(&mut self, label: &str) -> u32 {
        if let Some((_, n)) = self.order.iter().find(|(l, _)| l == label) {
            return *n;
        }
        let n = u32::try_from(self.order.len() + 1).unwrap_or(u32::MAX);
        self.order.push((label.to_string(), n));
        n
    }
}

type Events<'a> = Peekable<Parser<'a>>;

fn is_inline_event(event: &Event<'_>) -> bool {
    match event {
        Event::Text(_)
        | Event::Code(_)
        | Event::InlineHtml(_)
        | Event::Html(_)
        | Event::FootnoteReference(_)
        | Event::SoftBreak
        | Event::HardBreak
        | Event::InlineMath(_)
        | Event::DisplayMath(_)
        | Event::TaskListMarker(_) => true,
        Event::Start(tag) => matches!(
            tag,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. }
                | Tag::Superscript
                | Tag::Subscript
        ),
        _ => false,
    }
}

/// Parses blocks until the end of the enclosing container (consumes that end event).
fn parse_blocks(events: &mut Events<'_>, state: &mut State) -> Vec<Block> {
    let mut blocks = Vec::new();
    while let Some(event) = events.peek() {
        if is_inline_event(event) {
            let inlines = parse_inlines(events, state, true);
            if !inlines.is_empty() {
                blocks.push(Block::Paragraph(inlines));
            }
            continue;
        }
        let Some(event) = events.next() else { break };
        match event {
            Event::End(_) => break,
            Event::Rule => blocks.push(Block::SceneBreak),
            Event::Start(Tag::Paragraph) => {
                let inlines = parse_inlines(events, state, false);
                if !inlines.is_empty() {
                    blocks.push(Block::Paragraph(inlines));
                }
            }
            Event::Start(Tag::Heading { level, .. }) => {
                let content = parse_inlines(events, state, false);
                blocks.push(Block::Heading {
                    level: heading_level(level),
                    content,
                });
            }
            Event::Start(Tag::BlockQuote(_)) => {
                blocks.push(Block::Quote(parse_blocks(events, state)));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split_whitespace()
                        .next()
                        .map(str::to_string)
                        .filter(|s| !s.is_empty()),
                    CodeBlockKind::Indented => None,
                };
                let mut text = String::new();
                for event in events.by_ref() {
                    match event {
                        Event::Text(t) => text.push_str(&t),
                        Event::End(_) => break,
                        _ => {}
                    }
                }
                blocks.push(Block::Code { lang, text });
            }
            Event::Start(Tag::HtmlBlock) => {
                let mut text = String::new();
                for event in events.by_ref() {
                    match event {
                        Event::Html(t) | Event::Text(t) => text.push_str(&t),
                        Event::End(_) => break,
                        _ => {}
                    }
                }
                let text = text.trim_end().to_string();
                if !text.is_empty() {
                    blocks.push(Block::Paragraph(vec![Inline::Text(text)]));
                }
            }
            Event::Start(Tag::List(start)) => {
                let mut items = Vec::new();
                while let Some(event) = events.next() {
                    match event {
                        Event::Start(Tag::Item) => items.push(parse_blocks(events, state)),
                        Event::End(_) => break,
                        _ => {}
                    }
                }
                blocks.push(Block::List { start, items });
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let body = parse_blocks(events, state);
                state.definitions.insert(label.to_string(), body);
            }
            Event::Start(_) => {
                // Tables, definition lists, metadata: keep their text as a paragraph.
                let inner = parse_blocks(events, state);
                blocks.extend(inner);
            }
            _ => {}
        }
    }
    blocks
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Parses inlines. With `loose` (inline content directly in a tight list item) it stops before
/// the next block-level event; otherwise it consumes the closing end event.
fn parse_inlines(events: &mut Events<'_>, state: &mut State, loose: bool) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::new();
    while let Some(event) = events.peek() {
        if loose && !is_inline_event(event) {
            break;
        }
        let Some(event) = events.next() else { break };
        match event {
            Event::End(_) => break,
            Event::Text(t) | Event::InlineHtml(t) | Event::Html(t) => push_text(&mut out, &t),
            Event::InlineMath(t) | Event::DisplayMath(t) => push_text(&mut out, &t),
            Event::Code(t) => out.push(Inline::Code(t.to_string())),
            Event::SoftBreak => push_text(&mut out, " "),
            Event::HardBreak => out.push(Inline::LineBreak),
            Event::FootnoteReference(label) => {
                out.push(Inline::FootnoteRef(state.footnote_number(&label)))
            }
            Event::TaskListMarker(done) => push_text(&mut out, if done { "☑ " } else { "☐ " }),
            Event::Start(Tag::Emphasis) => {
                out.push(Inline::Emph(parse_inlines(events, state, false)))
            }
            Event::Start(Tag::Strong) => {
                out.push(Inline::Strong(parse_inlines(events, state, false)))
            }
            Event::Start(Tag::Strikethrough) => {
                out.push(Inline::Strike(parse_inlines(events, state, false)))
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                let content = parse_inlines(events, state, false);
                out.push(Inline::Link {
                    url: dest_url.to_string(),
                    content,
                });
            }
            Event::Start(Tag::Image { .. }) => {
                // Images are not fetched; keep the alt text.
                let alt = parse_inlines(events, state, false);
                out.push(Inline::Emph(alt));
            }
            Event::Start(_) => out.extend(parse_inlines(events, state, false)),
            _ => {}
        }
    }
    out
}

fn push_text(out: &mut Vec<Inline>, text: &str) {
    if let Some(Inline::Text(last)) = out.last_mut() {
        last.push_str(text);
    } else {
        out.push(Inline::Text(text.to_string()));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_rich_text() {
        let md = "# Title\n\nHello *world* and **bold** `code` [l](http://x).[^n]\n\n> quoted\n\n- a\n- b\n\n1. one\n\n***\n\n#\n\n```rust\nfn x() {}\n```\n\n[^n]: The note.\n";
        let p = parse_markdown(md);
        assert!(matches!(p.blocks[0], Block::Heading { level: 1, .. }));
        let Block::Paragraph(inl) = &p.blocks[1] else {
            panic!("{:?}", p.blocks[1])
        };
        assert!(inl.contains(&Inline::Emph(vec![Inline::Text("world".into())])));
        assert!(inl.contains(&Inline::Code("code".into())));
        assert!(inl.contains(&Inline::FootnoteRef(1)));
        assert!(matches!(p.blocks[2], Block::Quote(_)));
        let Block::List { start: None, items } = &p.blocks[3] else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(p.blocks[4], Block::List { start: Some(1), .. }));
        assert_eq!(p.blocks[5], Block::SceneBreak);
        assert_eq!(p.blocks[6], Block::SceneBreak);
        assert!(matches!(&p.blocks[7], Block::Code { lang: Some(l), .. } if l == "rust"));
        assert_eq!(p.footnotes.len(), 1);
        assert_eq!(p.footnotes[0].number, 1);
    }

    #[test]
    fn raw_html_is_text() {
        let p = parse_markdown("Hi <script>alert(1)</script> there\n\n<div>block</div>\n");
        let text = crate::model::blocks_plain_text(&p.blocks);
        assert!(text.contains("<script>alert(1)</script>"));
        assert!(text.contains("<div>block</div>"));
    }

    #[test]
    fn spaced_asterisks_are_scene_break() {
        let p = parse_markdown("a\n\n* * *\n\nb\n");
        assert_eq!(p.blocks[1], Block::SceneBreak);
    }
}
