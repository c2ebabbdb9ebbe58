//! A finished manuscript in Markdown (YAML front matter, one `#` heading per chapter) as the
//! compiled-book JSON every exporter starts from. Lekhika's own Markdown export reads back.
//!
//! ```text
//! ---
//! title: The Long Road        # or a first `# The Long Road` heading
//! author: Asha Verma          # also a list; subtitle, lang (or language), date, publisher,
//! lang: hi                    # description, isbn (or identifier), dedication, cover-image
//! ---
//! # Chapter 1: The Beginning  # "Chapter 1:" / "अध्याय 1:" / "第1章" prefixes are dropped
//! ...
//! # About the Author          # in the book's language: back matter, not a chapter
//! ```

use serde_json::{json, Map, Value};

use super::front_matter::{split_front_matter, FrontValue};
use super::Book;
use crate::error::ExportError;
use crate::format::{Labels, LanguageTag};

impl Book {
    /// Builds a book from a Markdown manuscript (see [`manuscript_to_compiled`]) and formats it
    /// like [`Book::from_compiled`]. A `cover-image` path is ignored here (the `lekhika` crate
    /// reads it relative to the manuscript's file).
    ///
    /// # Errors
    /// [`ExportError::InvalidBook`] when the front matter is malformed or there is no title.
    pub fn from_manuscript(markdown: &str) -> Result<Book, ExportError> {
        let mut compiled = manuscript_to_compiled(markdown)?;
        if let Some(map) = compiled.as_object_mut() {
            map.remove("cover_image");
        }
        Book::from_compiled(&compiled)
    }
}

/// Front matter keys and the compiled-book keys they fill.
const KEYS: &[(&str, &str)] = &[
    ("title", "title"),
    ("subtitle", "subtitle"),
    ("author", "author"),
    ("authors", "author"),
    ("lang", "language"),
    ("language", "language"),
    ("date", "date"),
    ("publisher", "publisher"),
    ("description", "description"),
    ("abstract", "description"),
    ("isbn", "isbn"),
    ("identifier", "isbn"),
    ("dedication", "dedication"),
    ("about_author", "about_author"),
    ("cover-image", "cover_image"),
    ("cover_image", "cover_image"),
];

/// The compiled-book JSON of a Markdown manuscript: front matter as metadata, each level-1
/// heading a chapter (its Markdown up to the next one the content), a first heading that
/// repeats the title (with the byline and contents after it) left out, and a heading "About
/// the Author" (in the book's language or English) as back matter. Without front matter the
/// first heading is the title. `cover_image` holds a `cover-image` path as written.
///
/// # Errors
/// [`ExportError::InvalidBook`] when the front matter is malformed or there is no title.
pub fn manuscript_to_compiled(markdown: &str) -> Result<Value, ExportError> {
    let (front, body) = split_front_matter(markdown)?;
    let mut meta = Map::new();
    for (key, value) in &front {
        let Some((_, field)) = KEYS.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
            continue;
        };
        let text = unescape(value_text(value).trim());
        if !text.is_empty() && !meta.contains_key(*field) {
            meta.insert((*field).to_string(), Value::String(text));
        }
    }
    let mut sections = split_chapters(body);
    let title = match meta.get("title").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None if sections.first().is_some_and(|(t, _)| !t.is_empty()) => {
            let first = sections.remove(0);
            meta.insert("title".into(), Value::String(first.0.clone()));
            first.0
        }
        None => {
            return Err(ExportError::InvalidBook(
                "the manuscript has no title: add `title:` front matter or a `# Title` heading"
                    .into(),
            ))
        }
    };
    if sections.first().is_some_and(|(t, _)| same_text(t, &title)) {
        sections.remove(0);
    }
    let language = meta
        .get("language")
        .and_then(Value::as_str)
        .unwrap_or("en")
        .to_string();
    let about_labels = [
        Labels::for_tag(&LanguageTag::parse(&language)).about_the_author,
        Labels::default().about_the_author,
    ];
    let mut chapters = Vec::new();
    for (heading, content) in sections {
        if about_labels.iter().any(|l| same_text(l, &heading)) {
            if !meta.contains_key("about_author") && !content.trim().is_empty() {
                meta.insert("about_author".into(), Value::String(content));
            }
            continue;
        }
        chapters.push(json!({"title": heading, "content": content}));
    }
    meta.insert("chapters".into(), Value::Array(chapters));
    Ok(Value::Object(meta))
}

fn value_text(v: &FrontValue) -> String {
    v.joined()
}

/// `(heading text, Markdown until the next level-1 heading)` for every ATX `#` heading outside
/// code fences; text before the first heading is dropped when there is a heading, else it is
/// one untitled section.
fn split_chapters(body: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut preface = String::new();
    let mut fence: Option<&str> = None;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if let Some(marker) = fence {
            if t.starts_with(marker) {
                fence = None;
            }
        } else if t.starts_with("```") {
            fence = Some("```");
        } else if t.starts_with("~~~") {
            fence = Some("~~~");
        } else if let Some(h) = line
            .strip_prefix("# ")
            .or(if t == "#" { Some("") } else { None })
        {
            let h = h.trim().trim_end_matches('#').trim();
            if !h.is_empty() {
                sections.push((unescape(h), String::new()));
                continue;
            }
        }
        match sections.last_mut() {
            Some((_, content)) => content.push_str(line),
            None => preface.push_str(line),
        }
    }
    if sections.is_empty() && !preface.trim().is_empty() {
        sections.push((String::new(), preface));
    }
    sections
}

/// Markdown backslash escapes (`\*`, `\&`, `\#`) removed, as Lekhika's Markdown export writes
/// them.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(char::is_ascii_punctuation) {
            continue;
        }
        out.push(c);
    }
    out
}

fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    !norm(a).is_empty() && norm(a) == norm(b)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chapters_title_block_and_back_matter() {
        let md = "---\ntitle: \"Salt \\\\& Iron\"\nlang: hi\n---\n\n# Salt \\& Iron\n\nलेखक: X\n\n## विषय-सूची\n\n1. एक\n\n# अध्याय 1: एक\n\nपाठ।\n\n```\n# not a chapter\n```\n\n# लेखक के बारे में\n\nवह लिखती है।\n";
        let v = manuscript_to_compiled(md).unwrap();
        assert_eq!(v["title"], "Salt & Iron");
        assert_eq!(v["language"], "hi");
        let chapters = v["chapters"].as_array().unwrap();
        assert_eq!(chapters.len(), 1, "{v}");
        assert_eq!(chapters[0]["title"], "अध्याय 1: एक");
        assert!(chapters[0]["content"]
            .as_str()
            .unwrap()
            .contains("# not a chapter"));
        assert_eq!(v["about_author"].as_str().unwrap().trim(), "वह लिखती है।");
    }

    #[test]
    fn first_heading_is_the_title_without_front_matter() {
        let v = manuscript_to_compiled("# My Book\n\nby me\n\n# One\n\nText.\n").unwrap();
        assert_eq!(v["title"], "My Book");
        assert_eq!(v["chapters"].as_array().unwrap().len(), 1);
        assert!(manuscript_to_compiled("just text").is_err());
    }
}
