//! Language-aware typography on text nodes (never on code, URLs or non-Latin scripts' marks).

use crate::model::{Block, Inline};

/// Quote characters of a language: (open double, close double, open single, close single).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotes {
    double: (char, char),
    single: (char, char),
}

/// Typographic conventions for a language, or `None` when the text is left untouched
/// (Hindi and other Indic scripts, CJK, and every language without a rule here).
pub fn quotes_for(primary_language: &str) -> Option<Quotes> {
    match primary_language {
        "en" | "nl" | "pt" | "it" | "es" | "ga" | "cy" | "id" | "ms" | "sw" | "tl" | "" => {
            Some(Quotes {
                double: ('“', '”'),
                single: ('‘', '’'),
            })
        }
        "de" => Some(Quotes {
            double: ('„', '“'),
            single: ('‚', '‘'),
        }),
        "fr" => Some(Quotes {
            double: ('«', '»'),
            single: ('‹', '›'),
        }),
        _ => None,
    }
}

/// Applies typography to a plain string with no surrounding context.
pub fn smarten(text: &str, primary_language: &str) -> String {
    match quotes_for(primary_language) {
        Some(q) => smarten_with(text, q, &mut None),
        None => text.to_string(),
    }
}

/// Applies typography to every text node of `blocks` (code blocks and inline code untouched).
pub fn apply_typography(blocks: &mut [Block], primary_language: &str) {
    let Some(q) = quotes_for(primary_language) else {
        return;
    };
    for block in blocks {
        match block {
            Block::Heading { content, .. } | Block::Paragraph(content) => {
                smarten_inlines(content, q, &mut None)
            }
            Block::List { items, .. } => {
                for item in items {
                    apply_typography(item, primary_language);
                }
            }
            Block::Quote(inner) => apply_typography(inner, primary_language),
            Block::SceneBreak | Block::Code { .. } => {}
        }
    }
}

fn smarten_inlines(inlines: &mut [Inline], q: Quotes, prev: &mut Option<char>) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => *t = smarten_with(t, q, prev),
            Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => smarten_inlines(c, q, prev),
            Inline::Link { content, .. } => smarten_inlines(content, q, prev),
            Inline::Code(c) => *prev = c.chars().last(),
            Inline::FootnoteRef(_) => *prev = Some('1'),
            Inline::LineBreak => *prev = None,
        }
    }
}

fn is_opening_context(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(c) => c.is_whitespace() || "([{<—–-/“‘„‚«‹".contains(c),
    }
}

/// The worker: quotes by context, `---`/`--` dashes, ` - ` as a dash, `...` as an ellipsis.
fn smarten_with(text: &str, q: Quotes, prev: &mut Option<char>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let emitted: char;
        match c {
            '"' => {
                emitted = if is_opening_context(*prev) {
                    q.double.0
                } else {
                    q.double.1
                };
                out.push(emitted);
            }
            '\'' => {
                let apostrophe_year =
                    is_opening_context(*prev) && next.is_some_and(|n| n.is_ascii_digit());
                emitted = if apostrophe_year || !is_opening_context(*prev) {
                    q.single.1
                } else {
                    q.single.0
                };
                out.push(emitted);
            }
            '.' if next == Some('.') && chars.get(i + 2) == Some(&'.') => {
                emitted = '…';
                out.push(emitted);
                i += 3;
                while chars.get(i) == Some(&'.') {
                    i += 1;
                }
                *prev = Some(emitted);
                continue;
            }
            '-' if next == Some('-') => {
                let triple = chars.get(i + 2) == Some(&'-');
                let between_digits = !triple
                    && prev.is_some_and(|p| p.is_ascii_digit())
                    && chars.get(i + 2).is_some_and(|n| n.is_ascii_digit());
                emitted = if between_digits { '–' } else { '—' };
                out.push(emitted);
                i += if triple { 3 } else { 2 };
                *prev = Some(emitted);
                continue;
            }
            '-' if prev.is_some_and(char::is_whitespace)
                && next.is_some_and(char::is_whitespace) =>
            {
                emitted = '—';
                out.push(emitted);
            }
            _ => {
                emitted = c;
                out.push(c);
            }
        }
        *prev = Some(emitted);
        i += 1;
    }
    out
}
