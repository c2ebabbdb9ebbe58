//! `Book::from_compiled`: the JSON that core's `compile` node produces.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::{parse_markdown, BackMatter, Book, Chapter, Cover, FrontMatter, Metadata};
use crate::error::ExportError;
use crate::format;

#[derive(Deserialize)]
struct Compiled {
    title: String,
    subtitle: Option<String>,
    author: Option<String>,
    language: Option<String>,
    description: Option<String>,
    publisher: Option<String>,
    isbn: Option<String>,
    date: Option<String>,
    dedication: Option<String>,
    about_author: Option<String>,
    cover: Option<CompiledCover>,
    #[serde(default)]
    chapters: Vec<CompiledChapter>,
}

#[derive(Deserialize)]
struct CompiledCover {
    mime: String,
    base64: String,
}

#[derive(Deserialize)]
struct CompiledChapter {
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
}

const COVER_MIMES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
];

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Book {
    /// Builds a book from the compile node's JSON and runs the professional formatter on it
    /// (AI-output cleaning, typography for the book's language, chapter numbering).
    ///
    /// Shape: `{"title", "subtitle"?, "author"?, "language"?, "description"?, "publisher"?,
    /// "isbn"?, "date"?, "dedication"?, "about_author"?, "cover": {"mime","base64"}?,
    /// "chapters": [{"title", "content"}]}`; chapter content is Markdown.
    ///
    /// # Errors
    /// [`ExportError::InvalidBook`] when the JSON does not have that shape or the title is empty;
    /// [`ExportError::InvalidCover`] when the cover is not valid base64 of a supported image type.
    pub fn from_compiled(value: &Value) -> Result<Book, ExportError> {
        let mut book = Self::from_compiled_unformatted(value, true)?;
        format::format_book(&mut book);
        Ok(book)
    }

    /// Like [`Book::from_compiled`] but without typography and heading normalisation; with
    /// `clean == false` the chapter Markdown is also parsed as is (no AI-output cleaning).
    ///
    /// # Errors
    /// As [`Book::from_compiled`].
    pub fn from_compiled_unformatted(value: &Value, clean: bool) -> Result<Book, ExportError> {
        let compiled =
            Compiled::deserialize(value).map_err(|e| ExportError::InvalidBook(e.to_string()))?;
        let title = compiled.title.trim().to_string();
        if title.is_empty() {
            return Err(ExportError::InvalidBook("title is empty".into()));
        }
        let cover = compiled.cover.map(decode_cover).transpose()?;
        let language = format::resolve_language(compiled.language.as_deref().unwrap_or_default());
        let labels = format::Labels::for_tag(&format::LanguageTag::parse(&language));
        let chapters = compiled
            .chapters
            .into_iter()
            .enumerate()
            .map(|(i, ch)| {
                let markdown = if clean {
                    format::clean_chapter(&ch.title, &ch.content)
                } else {
                    ch.content
                };
                let parsed = parse_markdown(&markdown);
                let title = if ch.title.trim().is_empty() {
                    labels.chapter(u32::try_from(i + 1).unwrap_or(u32::MAX))
                } else {
                    ch.title.trim().to_string()
                };
                Chapter {
                    number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    title,
                    blocks: parsed.blocks,
                    footnotes: parsed.footnotes,
                }
            })
            .collect();
        let about_author = non_empty(compiled.about_author).map(|md| parse_markdown(&md).blocks);
        Ok(Book {
            metadata: Metadata {
                title,
                subtitle: non_empty(compiled.subtitle),
                author: non_empty(compiled.author),
                language,
                description: non_empty(compiled.description),
                publisher: non_empty(compiled.publisher),
                isbn: non_empty(compiled.isbn),
                date: non_empty(compiled.date),
            },
            cover,
            front: FrontMatter {
                dedication: non_empty(compiled.dedication),
                ..FrontMatter::default()
            },
            chapters,
            back: BackMatter { about_author },
        })
    }
}

fn decode_cover(cover: CompiledCover) -> Result<Cover, ExportError> {
    let mime = cover.mime.trim().to_ascii_lowercase();
    let mime = if mime == "image/jpg" {
        "image/jpeg".to_string()
    } else {
        mime
    };
    if !COVER_MIMES.contains(&mime.as_str()) {
        return Err(ExportError::InvalidCover(format!(
            "unsupported mime type `{mime}`"
        )));
    }
    let data = cover.base64.trim();
    let data = data.split_once("base64,").map_or(data, |(_, d)| d);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| ExportError::InvalidCover(e.to_string()))?;
    if bytes.is_empty() {
        return Err(ExportError::InvalidCover("empty image".into()));
    }
    Ok(Cover { bytes, mime })
}
