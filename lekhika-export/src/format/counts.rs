//! Word and character counts (the seed's `books.word_count` / `books.character_count`).

use crate::model::{blocks_plain_text, Book};

/// Counts for a whole book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BookStats {
    /// Words: whitespace-separated tokens with at least one letter or digit; every Han, Hiragana
    /// and Katakana character counts as one word (Hangul is counted by spaces, like Korean is written).
    pub word_count: u64,
    /// Characters: Unicode scalar values that are not whitespace.
    pub character_count: u64,
}

/// True for characters counted one word each (Han ideographs, kana, CJK compatibility).
pub fn is_cjk_word_char(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0xFF66..=0xFF9D    // Half-width Katakana
        | 0x20000..=0x2FA1F) // Extensions B..F, compatibility supplement
}

/// Word count of a text (see [`BookStats::word_count`]).
pub fn count_words(text: &str) -> u64 {
    let mut words = 0u64;
    let mut in_token = false;
    let mut token_has_alnum = false;
    for c in text.chars() {
        if c.is_whitespace() || is_cjk_word_char(c) {
            if in_token && token_has_alnum {
                words += 1;
            }
            in_token = false;
            token_has_alnum = false;
            if is_cjk_word_char(c) {
                words += 1;
            }
        } else {
            in_token = true;
            token_has_alnum |= c.is_alphanumeric();
        }
    }
    if in_token && token_has_alnum {
        words += 1;
    }
    words
}

/// Character count of a text (see [`BookStats::character_count`]).
pub fn count_characters(text: &str) -> u64 {
    text.chars().filter(|c| !c.is_whitespace()).count() as u64
}

/// Counts chapter titles, bodies and footnotes of a book (front matter excluded).
pub fn book_stats(book: &Book) -> BookStats {
    let mut stats = BookStats::default();
    for chapter in &book.chapters {
        let mut text = chapter.title.clone();
        text.push('\n');
        text.push_str(&blocks_plain_text(&chapter.blocks));
        for note in &chapter.footnotes {
            text.push_str(&blocks_plain_text(&note.blocks));
        }
        stats.word_count += count_words(&text);
        stats.character_count += count_characters(&text);
    }
    stats
}
