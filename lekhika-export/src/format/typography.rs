//! Language-aware typography on text nodes (never on code, URLs or non-Latin scripts' marks).

use crate::model::{Block, Inline};

/// Quote characters of a language: (open double, close double, open single, close single).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotes {
    double: (char, char),
    single: (char, char),
    /// CJK text has no spaces to tell an opening quote from a closing one: quotes alternate.
    alternate: bool,
    /// What `...` and `--` become (`…`/`—`; `……`/`——` in CJK, where they span two cells).
    ellipsis: &'static str,
    dash: &'static str,
}

const LATIN: Quotes = Quotes {
    double: ('“', '”'),
    single: ('‘', '’'),
    alternate: false,
    ellipsis: "…",
    dash: "—",
};

/// English-style curly quotes; used by most languages in Latin script and by Hindi, Marathi,
/// Nepali and the other Indic languages in print.
const CURLY_LANGUAGES: &[&str] = &[
    "en", "nl", "pt", "it", "es", "ga", "cy", "id", "ms", "sw", "tl", "fil", "hi", "mr", "ne",
    "sa", "bn", "gu", "pa", "ta", "te", "kn", "ml", "or", "",
];

/// Typographic conventions for a language (a name or a BCP 47 tag), or `None` when the text is
/// left untouched (every language without a rule here).
pub fn quotes_for(language: &str) -> Option<Quotes> {
    let tag = super::LanguageTag::parse(language);
    let cjk = |double, single| Quotes {
        double,
        single,
        alternate: true,
        ellipsis: "……",
        dash: "——",
    };
    match tag.primary.as_str() {
        p if CURLY_LANGUAGES.contains(&p) => Some(LATIN),
        "de" => Some(Quotes {
            double: ('„', '“'),
            single: ('‚', '‘'),
            ..LATIN
        }),
        "fr" => Some(Quotes {
            double: ('«', '»'),
            single: ('‹', '›'),
            ..LATIN
        }),
        "ja" => Some(cjk(('「', '」'), ('『', '』'))),
        "zh" if tag.is_traditional_chinese() => Some(cjk(('「', '」'), ('『', '』'))),
        "zh" | "ko" => Some(cjk(('“', '”'), ('‘', '’'))),
        _ => None,
    }
}

/// Applies typography to a plain string with no surrounding context.
pub fn smarten(text: &str, language: &str) -> String {
    match quotes_for(language) {
        Some(q) => smarten_with(text, q, &mut Ctx::default()),
        None => text.to_string(),
    }
}

/// Applies typography to every text node of `blocks` (code blocks and inline code untouched).
pub fn apply_typography(blocks: &mut [Block], language: &str) {
    let Some(q) = quotes_for(language) else {
        return;
    };
    apply_quotes(blocks, q);
}

fn apply_quotes(blocks: &mut [Block], q: Quotes) {
    for block in blocks {
        match block {
            Block::Heading { content, .. } | Block::Paragraph(content) => {
                smarten_inlines(content, q, &mut Ctx::default())
            }
            Block::List { items, .. } => {
                for item in items {
                    apply_quotes(item, q);
                }
            }
            Block::Quote(inner) => apply_quotes(inner, q),
            Block::SceneBreak | Block::Code { .. } => {}
        }
    }
}

/// What the worker knows about the text before the current character.
#[derive(Default)]
struct Ctx {
    prev: Option<char>,
    double_open: bool,
    single_open: bool,
}

fn smarten_inlines(inlines: &mut [Inline], q: Quotes, ctx: &mut Ctx) {
    for inline in inlines {
        match inline {
            Inline::Text(t) => *t = smarten_with(t, q, ctx),
            Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => smarten_inlines(c, q, ctx),
            Inline::Link { content, .. } => smarten_inlines(content, q, ctx),
            Inline::Code(c) => ctx.prev = c.chars().last(),
            Inline::FootnoteRef(_) => ctx.prev = Some('1'),
            Inline::LineBreak => ctx.prev = None,
        }
    }
}

/// Words that start with an apostrophe standing for left-out letters ('twas, 'em, 'til).
const ELISIONS: &[&str] = &[
    "twas", "tis", "twere", "twill", "twould", "em", "cause", "cos", "coz", "til", "till", "bout",
    "round", "neath", "cept", "fore", "nuff", "n", "ow", "ere", "e", "im", "er", "ello", "ave",
    "appen", "kay", "sup", "scuse", "gainst", "mongst", "midst", "pon", "tween", "twixt",
];

/// True when the `'` at `i` opens one of [`ELISIONS`] (a whole word, any case).
fn starts_elision(chars: &[char], i: usize) -> bool {
    let word: String = chars[i + 1..]
        .iter()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    ELISIONS.contains(&word.as_str())
}

fn is_opening_context(prev: Option<char>) -> bool {
    match prev {
        None => true,
        Some(c) => c.is_whitespace() || "([{<—–-/“‘„‚«‹".contains(c),
    }
}

/// The worker: quotes by context (alternating in CJK), apostrophes, `---`/`--` dashes, ` - `
/// as a dash, `...` as an ellipsis.
fn smarten_with(text: &str, q: Quotes, ctx: &mut Ctx) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let prev = ctx.prev;
        let opening = if q.alternate {
            None
        } else {
            Some(is_opening_context(prev))
        };
        let emitted: char;
        match c {
            '"' => {
                let open = opening.unwrap_or(!ctx.double_open);
                ctx.double_open = open;
                emitted = if open { q.double.0 } else { q.double.1 };
                out.push(emitted);
            }
            '\'' => {
                let between_letters = prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric);
                let elided = !prev.is_some_and(char::is_alphanumeric)
                    && (next.is_some_and(|n| n.is_ascii_digit()) || starts_elision(&chars, i));
                emitted = if between_letters || elided {
                    '’'
                } else if q.alternate {
                    let open = !ctx.single_open;
                    ctx.single_open = open;
                    if open {
                        q.single.0
                    } else {
                        q.single.1
                    }
                } else if opening == Some(true) {
                    q.single.0
                } else {
                    q.single.1
                };
                out.push(emitted);
            }
            '.' if next == Some('.') && chars.get(i + 2) == Some(&'.') => {
                out.push_str(q.ellipsis);
                i += 3;
                while chars.get(i) == Some(&'.') {
                    i += 1;
                }
                ctx.prev = Some('…');
                continue;
            }
            '-' if next == Some('-') => {
                let triple = chars.get(i + 2) == Some(&'-');
                let between_digits = !triple
                    && prev.is_some_and(|p| p.is_ascii_digit())
                    && chars.get(i + 2).is_some_and(|n| n.is_ascii_digit());
                if between_digits {
                    out.push('–');
                } else {
                    out.push_str(q.dash);
                }
                i += if triple { 3 } else { 2 };
                ctx.prev = Some('—');
                continue;
            }
            '-' if !q.alternate
                && prev.is_some_and(char::is_whitespace)
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
        ctx.prev = Some(emitted);
        i += 1;
    }
    out
}
