//! What a narrator reads: the chapters of a book (a `compile` node's
//! output, a list of chapters, or a Markdown manuscript split at its
//! headings), each as plain paragraphs without Markdown marks.

use serde_json::Value;

use crate::node::NodeError;

/// A book to narrate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Narration {
    pub title: String,
    pub author: Option<String>,
    pub chapters: Vec<ChapterText>,
}

/// One chapter: its title and its body (Markdown).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChapterText {
    pub title: String,
    pub body: String,
}

fn text_field(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

/// The chapters of `book`: a compiled book (`{title, author, chapters:
/// [{title, content}]}`), a list of chapters (texts or `{title, content}`),
/// or a Markdown manuscript.
pub(crate) fn narration(book: &Value) -> Result<Narration, NodeError> {
    match book {
        Value::Object(_) => {
            let list = book
                .get("chapters")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    NodeError::InvalidOutput(
                        "the book to narrate has no `chapters` list (give a compile node's output)"
                            .into(),
                    )
                })?;
            Ok(Narration {
                title: text_field(book, &["title"]).unwrap_or_default(),
                author: text_field(book, &["author"]),
                chapters: chapters_of(list)?,
            })
        }
        Value::Array(list) => Ok(Narration {
            title: String::new(),
            author: None,
            chapters: chapters_of(list)?,
        }),
        Value::String(s) => Ok(manuscript(s)),
        other => Err(NodeError::InvalidOutput(format!(
            "the book to narrate must be a compiled book, a list of chapters or a text, not {}",
            crate::util::json_kind(other)
        ))),
    }
}

fn chapters_of(list: &[Value]) -> Result<Vec<ChapterText>, NodeError> {
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let numbered = || format!("Chapter {}", i + 1);
            match c {
                Value::String(s) => Ok(ChapterText {
                    title: numbered(),
                    body: s.clone(),
                }),
                Value::Object(_) => Ok(ChapterText {
                    title: text_field(c, &["title"])
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or_else(numbered),
                    body: text_field(c, &["content", "text", "chapter"]).ok_or_else(|| {
                        NodeError::InvalidOutput(format!("chapter {} has no text", i + 1))
                    })?,
                }),
                other => Err(NodeError::InvalidOutput(format!(
                    "chapter {} is {}, not a text",
                    i + 1,
                    crate::util::json_kind(other)
                ))),
            }
        })
        .collect()
}

/// An ATX heading's level and text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    let level = t.chars().take_while(|&c| c == '#').count();
    let rest = &t[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')))
        .then(|| (level, rest.trim().trim_end_matches('#').trim()))
}

/// YAML front matter (`---` lines around `key: value` lines, as pandoc
/// and `lekhika export book.md` read it): its `title` and `author`, and
/// the text after it. A text without it is all body.
fn front_matter(text: &str) -> (Option<String>, Option<String>, &str) {
    let start = text.trim_start_matches('\u{feff}');
    let Some(rest) = start
        .strip_prefix("---\n")
        .or_else(|| start.strip_prefix("---\r\n"))
    else {
        return (None, None, text);
    };
    let mut offset = 0;
    let (mut title, mut author) = (None, None);
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let t = line.trim_end();
        if t == "---" || t == "..." {
            return (title, author, &rest[offset..]);
        }
        let nested = line.starts_with([' ', '\t', '-', '#']) || t.is_empty();
        let Some((k, v)) = t.split_once(':').filter(|_| !nested) else {
            if nested {
                continue;
            }
            // A line that is not `key: value`: a scene break, not front matter.
            return (None, None, text);
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
            .unwrap_or(v)
            .trim();
        match k.trim() {
            "title" if !v.is_empty() => title = Some(v.to_string()),
            "author" if !v.is_empty() => author = Some(v.to_string()),
            _ => {}
        }
    }
    // No closing line: not front matter.
    (None, None, text)
}

/// A Markdown manuscript, after its front matter (title, author):
/// chapters start at its top-level headings (at the level below a single
/// title heading); text before the first is a chapter of its own, and a
/// text without headings is one chapter.
fn manuscript(text: &str) -> Narration {
    let (front_title, author, text) = front_matter(text);
    let levels: Vec<usize> = text
        .lines()
        .filter_map(|l| heading(l).map(|h| h.0))
        .collect();
    let top = levels.iter().copied().min().unwrap_or(0);
    let tops = levels.iter().filter(|&&l| l == top).count();
    let has_deeper = levels.iter().any(|&l| l > top);
    let (title_level, chapter_level) = match (top, tops, has_deeper) {
        (0, _, _) => (None, 0),
        (t, 1, true) => (
            Some(t),
            levels
                .iter()
                .copied()
                .filter(|&l| l > t)
                .min()
                .unwrap_or(t + 1),
        ),
        (t, _, _) => (None, t),
    };
    let mut title = String::new();
    let mut chapters: Vec<ChapterText> = Vec::new();
    let mut current = ChapterText {
        title: String::new(),
        body: String::new(),
    };
    for line in text.lines() {
        match heading(line) {
            Some((l, t)) if Some(l) == title_level && title.is_empty() => title = t.to_string(),
            Some((l, t)) if l == chapter_level => {
                if !current.title.is_empty() || !current.body.trim().is_empty() {
                    chapters.push(current);
                }
                current = ChapterText {
                    title: t.to_string(),
                    body: String::new(),
                };
            }
            _ => {
                current.body.push_str(line);
                current.body.push('\n');
            }
        }
    }
    if !current.title.is_empty() || !current.body.trim().is_empty() {
        chapters.push(current);
    }
    for (i, c) in chapters.iter_mut().enumerate() {
        if c.title.trim().is_empty() {
            c.title = if title.is_empty() {
                format!("Chapter {}", i + 1)
            } else {
                title.clone()
            };
        }
    }
    Narration {
        title: front_title.unwrap_or(title),
        author,
        chapters,
    }
}

/// Letters and digits, lowercased: for comparing titles.
fn key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The paragraphs a narrator reads from a chapter body in Markdown:
/// headings, quotes and list items as plain text; emphasis, links, images,
/// HTML tags, footnote marks, code and scene breaks left out. A first
/// heading that repeats the chapter's title is dropped (it is read once).
pub(crate) fn paragraphs(body: &str, chapter_title: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut in_code = false;
    let flush = |para: &mut Vec<String>, out: &mut Vec<String>| {
        let text = para.join(" ");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().any(char::is_alphanumeric) {
            out.push(text);
        }
        para.clear();
    };
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_code = !in_code;
            flush(&mut para, &mut out);
            continue;
        }
        if in_code {
            continue;
        }
        if t.is_empty() || is_break(t) {
            flush(&mut para, &mut out);
            continue;
        }
        if let Some((_, h)) = heading(t) {
            flush(&mut para, &mut out);
            let first = out.is_empty();
            let k = key(h);
            let repeats = !k.is_empty() && {
                let title = key(chapter_title);
                !title.is_empty() && (k.contains(&title) || title.contains(&k))
            };
            if !(first && repeats) {
                para.push(inline(h));
                flush(&mut para, &mut out);
            }
            continue;
        }
        para.push(inline(strip_block_marks(t)));
    }
    flush(&mut para, &mut out);
    out
}

/// A thematic break or scene break: `***`, `---`, `* * *`, `___`, `⁂`, `#`.
fn is_break(t: &str) -> bool {
    let marks: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    marks == "#"
        || marks == "⁂"
        || (marks.chars().count() >= 3
            && marks
                .chars()
                .all(|c| matches!(c, '*' | '-' | '_' | '~' | '·' | '•')))
}

/// A line without its quote (`>`) and list (`-`, `*`, `+`, `1.`) marks.
fn strip_block_marks(mut t: &str) -> &str {
    loop {
        let before = t;
        t = t.trim_start_matches('>').trim_start();
        for m in ["- ", "* ", "+ "] {
            if let Some(rest) = t.strip_prefix(m) {
                t = rest.trim_start();
            }
        }
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") ")) {
            t = t[digits + 2..].trim_start();
        }
        if t == before {
            return t;
        }
    }
}

/// Inline Markdown to plain text.
fn inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            // Images are not read; links read their text.
            '!' if chars.get(i + 1) == Some(&'[') => match bracketed(&chars, i + 1) {
                Some((_, end)) => i = end,
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '[' => match bracketed(&chars, i) {
                Some((text, end)) => {
                    if !text.starts_with('^') {
                        out.push_str(&inline(&text));
                    }
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            '<' => match chars[i + 1..].iter().position(|&x| x == '>') {
                Some(n)
                    if chars
                        .get(i + 1)
                        .is_some_and(|x| x.is_ascii_alphabetic() || *x == '/') =>
                {
                    i += n + 2;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            },
            '*' | '`' | '~' => i += 1,
            // `_` marks emphasis at a word's edge, not inside snake_case.
            '_' => {
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + 1).copied();
                let inside = prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric);
                if inside {
                    out.push(c);
                }
                i += 1;
            }
            '\\' if chars.get(i + 1).is_some_and(|x| x.is_ascii_punctuation()) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `[text](url)` or `[text]` (footnote) at `at`: the text and where it ends.
fn bracketed(chars: &[char], at: usize) -> Option<(String, usize)> {
    let close = at + 1 + chars[at + 1..].iter().position(|&c| c == ']')?;
    let text: String = chars[at + 1..close].iter().collect();
    if chars.get(close + 1) == Some(&'(') {
        let end = close + 2 + chars[close + 2..].iter().position(|&c| c == ')')?;
        return Some((text, end + 1));
    }
    text.starts_with('^').then_some((text, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compiled_books_and_lists() {
        let n = narration(&json!({"title": "Salt", "author": "A. Writer",
            "chapters": [{"title": "The Harbour", "content": "Boats."}, {"title": "", "content": "More."}]}))
        .unwrap();
        assert_eq!(n.title, "Salt");
        assert_eq!(n.author.as_deref(), Some("A. Writer"));
        assert_eq!(n.chapters[0].title, "The Harbour");
        assert_eq!(n.chapters[1].title, "Chapter 2");
        let l = narration(&json!(["One.", {"title": "Two", "text": "Two."}])).unwrap();
        assert_eq!(l.chapters.len(), 2);
        assert_eq!(l.chapters[0].title, "Chapter 1");
        assert!(narration(&json!({"title": "x"})).is_err());
        assert!(narration(&json!(3)).is_err());
    }

    #[test]
    fn manuscripts_split_at_headings() {
        let m = narration(&json!(
            "# Salt Roads\n\n## The Harbour\n\nBoats.\n\n## The Hill\n\nGrass.\n"
        ))
        .unwrap();
        assert_eq!(m.title, "Salt Roads");
        let titles: Vec<&str> = m.chapters.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["The Harbour", "The Hill"]);
        assert_eq!(m.chapters[1].body.trim(), "Grass.");
        let flat = narration(&json!("Intro.\n\n# One\n\nA.\n\n# Two\n\nB.")).unwrap();
        assert_eq!(flat.chapters.len(), 3);
        assert_eq!(flat.chapters[0].title, "Chapter 1");
        let plain = narration(&json!("Just a story.")).unwrap();
        assert_eq!(plain.chapters.len(), 1);
    }

    #[test]
    fn front_matter_gives_title_and_author() {
        let m = narration(&json!(
            "---\ntitle: \"The Lighthouse Keeper\"\nauthor: A. Writer\nlang: en\n---\n\n\
             # The Lighthouse\n\nLight.\n\n# The Storm\n\nRain.\n"
        ))
        .unwrap();
        assert_eq!(m.title, "The Lighthouse Keeper");
        assert_eq!(m.author.as_deref(), Some("A. Writer"));
        let titles: Vec<&str> = m.chapters.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["The Lighthouse", "The Storm"]);
        // A scene break at the top is not front matter.
        for text in [
            "---\nNo front matter here.\n",
            "---\nA scene.\n---\nAnother.\n",
        ] {
            let b = narration(&json!(text)).unwrap();
            assert_eq!((b.title.as_str(), b.author.as_deref()), ("", None));
            assert!(b.chapters[0].body.contains("scene") || b.chapters[0].body.contains("front"));
        }
    }

    #[test]
    fn markdown_becomes_plain_paragraphs() {
        let body = "# Chapter 1: The Harbour\n\nMira *walked* to the __harbour__,\nand [counted](http://x) \
                    the boats.[^1]\n\n* * *\n\n> \"Later,\" she said.\n\n- one_two item\n\n![a map](m.png)\n\n\
                    ```\ncode\n```\n\n## A Storm\n\nRain<br/> fell \\*hard\\*.";
        let p = paragraphs(body, "The Harbour");
        assert_eq!(
            p,
            [
                "Mira walked to the harbour, and counted the boats.",
                "\"Later,\" she said.",
                "one_two item",
                "A Storm",
                "Rain fell *hard*.",
            ]
        );
        // A first heading that is not the title is read.
        assert_eq!(
            paragraphs("# Prologue\n\nText.", "The Harbour")[0],
            "Prologue"
        );
    }
}
