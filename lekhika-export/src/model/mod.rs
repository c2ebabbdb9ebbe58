//! The book model (the intermediate representation every format renders from).

mod compiled;
mod front_matter;
mod manuscript;
mod markdown;

pub use front_matter::{split_front_matter, FrontMatterKeys, FrontValue};
pub use manuscript::manuscript_to_compiled;
pub use markdown::parse_markdown;

/// Descriptive metadata of a book.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// Book title (required, non-empty).
    pub title: String,
    /// Optional subtitle.
    pub subtitle: Option<String>,
    /// Author name as printed on the title page.
    pub author: Option<String>,
    /// BCP 47 language tag, e.g. `en`, `en-GB`, `hi`, `zh-Hans`, `ja`. Defaults to `en`.
    /// [`Book::from_compiled`] resolves names ("Hindi", "japanese") to their tag; exporters
    /// resolve again through [`Metadata::language_tag`], so a hand-built book may hold either.
    pub language: String,
    /// Blurb / description.
    pub description: Option<String>,
    /// Publisher name.
    pub publisher: Option<String>,
    /// ISBN as given (not validated).
    pub isbn: Option<String>,
    /// Publication date as given, ideally ISO 8601 (`2025-03-01` or `2025`).
    pub date: Option<String>,
}

impl Metadata {
    /// The book's language resolved to a BCP 47 tag ("Hindi" and "hi_in" become `hi`, `hi-IN`).
    pub fn language_tag(&self) -> crate::format::LanguageTag {
        crate::format::LanguageTag::parse(&self.language)
    }

    /// Primary language subtag in lower case (`en` for `en-GB`, `hi` for "Hindi").
    pub fn primary_language(&self) -> String {
        self.language_tag().primary
    }

    /// The region subtag if the tag has one (`GB` for `en-GB`).
    pub fn region(&self) -> Option<String> {
        self.language_tag().region
    }
}

/// Primary language subtag of a language name or BCP 47 tag, lower case (`hi` for "Hindi").
pub fn primary_language(tag: &str) -> String {
    crate::format::LanguageTag::parse(tag).primary
}

/// A cover image.
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    /// Raw image bytes.
    pub bytes: Vec<u8>,
    /// `image/png`, `image/jpeg`, `image/gif`, `image/webp` or `image/svg+xml`.
    pub mime: String,
}

impl Cover {
    /// File extension matching the mime type.
    pub fn extension(&self) -> &'static str {
        match self.mime.as_str() {
            "image/jpeg" | "image/jpg" => "jpg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            "image/svg+xml" => "svg",
            _ => "png",
        }
    }
}

/// Which front matter pages a book carries.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter {
    /// Print a title page.
    pub title_page: bool,
    /// Print a copyright page.
    pub copyright: bool,
    /// Dedication text, if any (plain text, may contain line breaks).
    pub dedication: Option<String>,
    /// Print a table of contents.
    pub toc: bool,
}

impl Default for FrontMatter {
    fn default() -> Self {
        Self {
            title_page: true,
            copyright: true,
            dedication: None,
            toc: true,
        }
    }
}

/// Back matter.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackMatter {
    /// "About the author" as rich text.
    pub about_author: Option<Vec<Block>>,
}

/// One chapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Chapter {
    /// 1-based chapter number, assigned consecutively by [`Book::renumber`].
    pub number: u32,
    /// Chapter title without any "Chapter N:" prefix.
    pub title: String,
    /// Body.
    pub blocks: Vec<Block>,
    /// Footnote definitions, numbered in order of first reference.
    pub footnotes: Vec<Footnote>,
}

/// A footnote definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Footnote {
    /// Number shown at the reference (1-based, per chapter).
    pub number: u32,
    /// Footnote body.
    pub blocks: Vec<Block>,
}

/// A block of rich text.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading inside a chapter; level 2..=6 after formatting (level 1 is the chapter title).
    Heading {
        /// Heading level.
        level: u8,
        /// Heading text.
        content: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A bullet (`start == None`) or numbered list.
    List {
        /// First number of an ordered list.
        start: Option<u64>,
        /// Items, each a sequence of blocks.
        items: Vec<Vec<Block>>,
    },
    /// A block quotation.
    Quote(Vec<Block>),
    /// A scene break (`***`, `* * *`, `#`).
    SceneBreak,
    /// Preformatted code.
    Code {
        /// Info string language, if any.
        lang: Option<String>,
        /// Code text.
        text: String,
    },
}

/// Inline rich text.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Plain text (never markup: renderers escape it).
    Text(String),
    /// Emphasis (italic).
    Emph(Vec<Inline>),
    /// Strong (bold).
    Strong(Vec<Inline>),
    /// Strikethrough.
    Strike(Vec<Inline>),
    /// Inline code.
    Code(String),
    /// Hyperlink.
    Link {
        /// Target URL as written.
        url: String,
        /// Link text.
        content: Vec<Inline>,
    },
    /// Reference to footnote `number` of the current chapter.
    FootnoteRef(u32),
    /// Hard line break.
    LineBreak,
}

/// A complete book, ready to export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Book {
    /// Metadata.
    pub metadata: Metadata,
    /// Optional cover image.
    pub cover: Option<Cover>,
    /// Front matter.
    pub front: FrontMatter,
    /// Chapters in reading order.
    pub chapters: Vec<Chapter>,
    /// Back matter.
    pub back: BackMatter,
}

impl Book {
    /// Assigns chapter numbers 1, 2, 3 ... in order.
    pub fn renumber(&mut self) {
        for (i, chapter) in self.chapters.iter_mut().enumerate() {
            chapter.number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }

    /// The book's labels in its language's default wording ("Contents",
    /// "Chapter 3", the copyright lines); exporters apply
    /// [`crate::ExportOptions::labels`] on top.
    pub fn default_labels(&self) -> crate::format::Labels {
        crate::format::Labels::for_tag(&self.metadata.language_tag())
    }

    /// Lines of the copyright page ("Copyright © 2025 Author", "All rights reserved.", ISBN ...).
    pub fn copyright_lines(&self) -> Vec<String> {
        self.default_labels().copyright_lines(&self.metadata)
    }

    /// The label printed above a chapter title, e.g. "Chapter 3".
    pub fn chapter_label(&self, chapter: &Chapter) -> String {
        self.default_labels().chapter(chapter.number)
    }
}

/// Plain text of inlines (footnote references and code included as text, markup dropped).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_plain(inlines, &mut out);
    out
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for inline in inlines {
        match inline {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => push_plain(c, out),
            Inline::Link { content, .. } => push_plain(content, out),
            Inline::FootnoteRef(_) => {}
            Inline::LineBreak => out.push('\n'),
        }
    }
}

/// Plain text of blocks, one block per line.
pub fn blocks_plain_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading { content, .. } | Block::Paragraph(content) => {
                push_plain(content, &mut out)
            }
            Block::List { items, .. } => {
                for item in items {
                    out.push_str(&blocks_plain_text(item));
                }
            }
            Block::Quote(inner) => out.push_str(&blocks_plain_text(inner)),
            Block::SceneBreak => {}
            Block::Code { text, .. } => out.push_str(text),
        }
        out.push('\n');
    }
    out
}
