//! Cleaning of AI chapter output, on the Markdown text (pure functions).

use super::chatter::{contains_any, fold, starts_with_any, CHATTER};

/// Runs every cleaning rule on one chapter's Markdown, in order: preamble and trailing offer,
/// a code fence wrapping the whole chapter (and the preamble / offer inside it), then a first
/// heading that repeats the chapter title.
pub fn clean_chapter(title: &str, markdown: &str) -> String {
    let text = strip_trailing_offers(&strip_preamble(markdown));
    let text = match unwrap_code_fence(&text) {
        Some(inner) => strip_trailing_offers(&strip_preamble(&inner)),
        None => text,
    };
    strip_duplicate_title(title, &text)
}

/// Removes a chapter-title prefix such as "Chapter 3:", "Chapter Three -", "3." and Markdown
/// decoration (`#`, `**`) from a title. Returns the title unchanged if nothing would remain.
pub fn normalize_chapter_title(title: &str) -> String {
    let bare = strip_decoration(title.trim());
    let without = strip_chapter_prefix(&bare);
    let out = if without.trim().is_empty() {
        bare.as_str()
    } else {
        without
    };
    out.trim().to_string()
}

/// True if `line` is a chatty preamble ("Sure, here is chapter 3:", "Here's the chapter",
/// "ज़रूर! यह रहा अध्याय 2:", "承知しました！以下が第1章です：") in any language of
/// [`super::chatter::CHATTER`].
pub fn is_preamble(line: &str) -> bool {
    let l = fold(&strip_decoration(line.trim()));
    if l.is_empty() || l.starts_with('#') || l.chars().count() > 300 {
        return false;
    }
    starts_with_any(&l, |c| c.preamble_starts)
        && (l.ends_with(':') || contains_any(&l, |c| c.preamble_hints))
}

/// True if `paragraph` is a trailing assistant offer ("Let me know if you'd like changes").
/// In any language of [`super::chatter::CHATTER`].
pub fn is_offer(paragraph: &str) -> bool {
    let l = fold(&strip_decoration(paragraph.trim()));
    let l = l.trim_start_matches(['(', '[', '（']);
    starts_with_any(l, |c| c.offer_starts)
}

/// Drops a preamble line at the start (and a `---` separator right after it).
pub fn strip_preamble(markdown: &str) -> String {
    let lines: Vec<&str> = markdown.lines().collect();
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return markdown.to_string();
    };
    if !is_preamble(lines[first]) {
        return markdown.to_string();
    }
    let mut rest = first + 1;
    while rest < lines.len() && lines[rest].trim().is_empty() {
        rest += 1;
    }
    if rest < lines.len() && is_separator(lines[rest]) {
        rest += 1;
    }
    join_lines(&lines[rest..])
}

/// Drops trailing offer paragraphs (and a separator line left before them).
pub fn strip_trailing_offers(markdown: &str) -> String {
    let mut lines: Vec<&str> = markdown.lines().collect();
    loop {
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        let end = lines.len();
        let mut start = end;
        while start > 0 && !lines[start - 1].trim().is_empty() {
            start -= 1;
        }
        if start == end {
            break;
        }
        let paragraph = lines[start..end].join(" ");
        if is_offer(&paragraph) {
            lines.truncate(start);
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            if lines.last().is_some_and(|l| is_separator(l)) {
                lines.pop();
            }
        } else {
            break;
        }
    }
    join_lines(&lines)
}

/// If the whole text is one fenced code block (```` ```markdown ```` / ```` ``` ````), returns its
/// inside. Fences with a programming-language info string are left alone.
pub fn unwrap_code_fence(markdown: &str) -> Option<String> {
    let trimmed = markdown.trim();
    let marker = if trimmed.starts_with("```") {
        "```"
    } else if trimmed.starts_with("~~~") {
        "~~~"
    } else {
        return None;
    };
    let lines: Vec<&str> = trimmed.lines().collect();
    if lines.len() < 2 {
        return None;
    }
    let info = lines[0]
        .trim()
        .trim_start_matches(marker)
        .trim()
        .to_lowercase();
    if !matches!(
        info.as_str(),
        "" | "markdown" | "md" | "text" | "txt" | "plaintext"
    ) {
        return None;
    }
    let last = lines[lines.len() - 1].trim();
    if last != marker {
        return None;
    }
    let inner = &lines[1..lines.len() - 1];
    // Another bare fence line inside means this is not one wrapper but several blocks.
    if inner.iter().any(|l| l.trim() == marker) {
        return None;
    }
    Some(join_lines(inner))
}

/// Drops a first line (heading, bold line or plain line) that repeats the chapter title or is
/// only "Chapter N".
pub fn strip_duplicate_title(title: &str, markdown: &str) -> String {
    let lines: Vec<&str> = markdown.lines().collect();
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return markdown.to_string();
    };
    let line = lines[first].trim();
    let heading_like = line.starts_with('#')
        || (line.starts_with("**") && line.ends_with("**"))
        || (line.starts_with("__") && line.ends_with("__"));
    let candidate = comparable(line);
    let wanted = comparable(title);
    let only_label = {
        let bare = strip_decoration(line);
        let rest = strip_chapter_prefix(&bare);
        rest.trim().is_empty() && rest.len() != bare.len()
    };
    let repeats = (!wanted.is_empty() && candidate == wanted) || (heading_like && only_label);
    if !repeats {
        return markdown.to_string();
    }
    let mut rest = first + 1;
    // A setext underline belongs to the dropped heading.
    if rest < lines.len() {
        let next = lines[rest].trim();
        if !next.is_empty() && (next.chars().all(|c| c == '=') || next.chars().all(|c| c == '-')) {
            rest += 1;
        }
    }
    join_lines(&lines[rest..])
}

fn is_separator(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3 && (t.chars().all(|c| c == '-') || t.chars().all(|c| c == '*'))
}

fn join_lines(lines: &[&str]) -> String {
    let mut out = lines.join("\n");
    let trimmed_start = out.trim_start_matches(['\n', '\r']).len();
    out.drain(..out.len() - trimmed_start);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Strips `#` heading marks and surrounding `**`, `__`, `*`, `_`, quotes.
fn strip_decoration(s: &str) -> String {
    let mut t = s.trim().trim_start_matches('#').trim();
    loop {
        let before = t;
        for wrap in ["**", "__", "*", "_", "\"", "“"] {
            let close = if wrap == "“" { "”" } else { wrap };
            if t.len() > wrap.len() + close.len() && t.starts_with(wrap) && t.ends_with(close) {
                t = t[wrap.len()..t.len() - close.len()].trim();
            }
        }
        if before == t {
            break;
        }
    }
    t.to_string()
}

const NUMBER_WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
];

/// "Chapter 3: Rest" / "Chapter Three — Rest" / "CHAPTER IV. Rest" / "3. Rest" /
/// "अध्याय 3: Rest" / "Kapitel 3 – Rest" / "第3章 Rest" / "제3장 Rest" -> "Rest".
/// Returns the input if there is no such prefix.
fn strip_chapter_prefix(s: &str) -> &str {
    let t = s.trim_start();
    let after = chapter_word_prefix(t)
        .or_else(|| cjk_chapter_prefix(t))
        .or_else(|| {
            let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            (digits > 0 && t[digits..].starts_with(['.', ':', ')'])).then(|| &t[digits..])
        });
    match after {
        Some(rest) => rest.trim_start_matches(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ':' | '.' | '-' | '–' | '—' | ')' | '|' | '：' | '、' | '।'
                )
        }),
        None => s,
    }
}

/// After "<chapter word> <number>" in any language of [`CHATTER`], e.g. "Chapter 3", "अध्याय ३".
fn chapter_word_prefix(t: &str) -> Option<&str> {
    let lower = t.to_lowercase();
    let word = CHATTER
        .iter()
        .flat_map(|c| c.chapter_words.iter())
        .find(|w| lower.starts_with(*w) && lower.len() == t.len())?;
    let rest = t.get(word.len()..)?;
    let rest_trim = rest.trim_start();
    let token_len = rest_trim
        .find(|c: char| !(c.is_alphanumeric() || c == '-'))
        .unwrap_or(rest_trim.len());
    let token = rest_trim[..token_len].to_lowercase();
    let is_number = !token.is_empty()
        && (token.chars().all(char::is_numeric)
            || token.chars().all(|c| "ivxlc".contains(c))
            || token.split('-').all(|w| NUMBER_WORDS.contains(&w)));
    is_number.then(|| &rest_trim[token_len..])
}

/// After "第3章" / "第十二章" / "第 3 章" (Chinese, Japanese) or "제3장" (Korean).
fn cjk_chapter_prefix(t: &str) -> Option<&str> {
    let (open, close) = if t.starts_with('第') {
        ('第', '章')
    } else if t.starts_with('제') {
        ('제', '장')
    } else {
        return None;
    };
    let inner = t.strip_prefix(open)?;
    let end = inner.find(close)?;
    let number = inner[..end].trim();
    let ok = !number.is_empty()
        && number
            .chars()
            .all(|c| c.is_numeric() || "〇零一二三四五六七八九十百千两".contains(c));
    ok.then(|| &inner[end + close.len_utf8()..])
}

/// Lower-case, prefix-free, punctuation-free form used to compare a line with a title.
fn comparable(s: &str) -> String {
    let bare = strip_decoration(s);
    let rest = strip_chapter_prefix(&bare);
    let rest = if rest.trim().is_empty() {
        bare.as_str()
    } else {
        rest
    };
    rest.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
