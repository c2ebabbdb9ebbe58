//! The professional formatter: cleaning of AI output, typography, numbering and counts.
//! Everything here is a pure function of its input.

mod chatter;
mod clean;
mod counts;
mod labels;
mod language;
mod typography;

pub use chatter::{Chatter, CHATTER};
pub use clean::{
    clean_chapter, is_offer, is_preamble, normalize_chapter_title, strip_duplicate_title,
    strip_preamble, strip_trailing_offers, unwrap_code_fence,
};
pub use counts::{book_stats, count_characters, count_words, is_cjk_word_char, BookStats};
pub use labels::{LabelOverrides, Labels};
pub use language::{resolve_language, LanguageTag};
pub use typography::{apply_typography, quotes_for, smarten, Quotes};

use crate::model::{Block, Book};

/// Shifts heading levels so the highest heading inside a chapter is level 2 (level 1 is the
/// chapter title); relative levels are kept, capped at 6.
pub fn normalize_heading_levels(blocks: &mut [Block]) {
    let min = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .min();
    let Some(min) = min else { return };
    for block in blocks {
        if let Block::Heading { level, .. } = block {
            *level = (*level + 2).saturating_sub(min).clamp(2, 6);
        }
    }
}

/// The label above a chapter title ("Chapter 3", "अध्याय 3", "第3章"), in
/// the language's default wording (see [`Labels`]).
pub fn chapter_label(language: &str, number: u32) -> String {
    Labels::for_tag(&LanguageTag::parse(language)).chapter(number)
}

/// Applies numbering, heading normalisation and typography to a parsed book.
/// Text cleaning happens on Markdown before parsing ([`clean_chapter`]).
pub fn format_book(book: &mut Book) {
    book.metadata.language = resolve_language(&book.metadata.language);
    let lang = book.metadata.language.clone();
    book.renumber();
    book.metadata.title = smarten(&book.metadata.title, &lang);
    book.metadata.subtitle = book.metadata.subtitle.as_deref().map(|s| smarten(s, &lang));
    for chapter in &mut book.chapters {
        chapter.title = smarten(&normalize_chapter_title(&chapter.title), &lang);
        normalize_heading_levels(&mut chapter.blocks);
        apply_typography(&mut chapter.blocks, &lang);
        for note in &mut chapter.footnotes {
            apply_typography(&mut note.blocks, &lang);
        }
    }
    if let Some(about) = &mut book.back.about_author {
        apply_typography(about, &lang);
    }
}
