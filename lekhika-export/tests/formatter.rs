//! The professional formatter: one test per cleaning rule, typography, numbering, counts.

#![allow(clippy::unwrap_used)]

use lekhika_export::format::*;
use lekhika_export::model::{parse_markdown, plain_text, Block, Inline};
use lekhika_export::Book;
use serde_json::json;

#[test]
fn strips_preambles() {
    for pre in [
        "Sure, here is chapter 3:",
        "Certainly! Here's Chapter 3: The Storm",
        "Here's the chapter",
        "Of course. Below is the revised draft:",
        "**Sure, here is the chapter:**",
    ] {
        let out = strip_preamble(&format!("{pre}\n\n---\n\nThe rain fell.\n"));
        assert_eq!(out, "The rain fell.\n", "preamble {pre:?}");
    }
    // Story text that merely starts with "Sure" is kept.
    let story = "Sure footed, the goat climbed the hill without a pause.\n";
    assert_eq!(strip_preamble(story), story);
}

#[test]
fn strips_trailing_offers() {
    let md =
        "The end came.\n\n---\n\nLet me know if you'd like any changes or a different ending!\n";
    assert_eq!(strip_trailing_offers(md), "The end came.\n");
    let md = "Body.\n\nI hope you enjoyed this chapter.\n\nWould you like me to continue with chapter 4?\n";
    assert_eq!(strip_trailing_offers(md), "Body.\n");
    let keep = "She said, \"Let me know when you arrive.\" Then she left.\n";
    assert_eq!(strip_trailing_offers(keep), keep);
}

#[test]
fn unwraps_whole_chapter_code_fence() {
    assert_eq!(
        unwrap_code_fence("```markdown\n# Title\n\nText.\n```\n").as_deref(),
        Some("# Title\n\nText.\n")
    );
    assert_eq!(
        unwrap_code_fence("```\nText.\n```").as_deref(),
        Some("Text.\n")
    );
    // Real code with a language, or text with several blocks, is left alone.
    assert_eq!(unwrap_code_fence("```rust\nfn main() {}\n```"), None);
    assert_eq!(unwrap_code_fence("```\na\n```\nmiddle\n```\nb\n```"), None);
    assert_eq!(unwrap_code_fence("Just text"), None);
}

#[test]
fn removes_duplicate_chapter_heading() {
    let title = "The Storm";
    for first in [
        "# Chapter 3: The Storm",
        "## Chapter Three - The Storm",
        "**Chapter 3: The Storm**",
        "# The Storm",
        "# CHAPTER 3",
        "Chapter 3: The Storm",
    ] {
        let out = strip_duplicate_title(title, &format!("{first}\n\nRain.\n"));
        assert_eq!(out, "Rain.\n", "heading {first:?}");
    }
    let other = "# Before the Storm\n\nRain.\n";
    assert_eq!(strip_duplicate_title(title, other), other);
    assert_eq!(
        strip_duplicate_title(title, "Chapter 3: The Storm\n=====\n\nRain.\n"),
        "Rain.\n"
    );
}

#[test]
fn cleans_everything_together() {
    let md = "Sure, here is chapter 3:\n\n```markdown\n# Chapter 3: The Storm\n\nRain.\n```\n\nLet me know if you want edits.";
    assert_eq!(clean_chapter("Chapter 3: The Storm", md), "Rain.\n");
}

#[test]
fn normalizes_chapter_titles() {
    assert_eq!(normalize_chapter_title("Chapter 3: The Storm"), "The Storm");
    assert_eq!(normalize_chapter_title("## Chapter IV — Night"), "Night");
    assert_eq!(normalize_chapter_title("**7. Dawn**"), "Dawn");
    assert_eq!(normalize_chapter_title("Chapter 5"), "Chapter 5");
    assert_eq!(
        normalize_chapter_title("Chapterhouse Dune"),
        "Chapterhouse Dune"
    );
    assert_eq!(normalize_chapter_title("1984"), "1984");
}

fn heading_levels(blocks: &[Block]) -> Vec<u8> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading { level, .. } => Some(*level),
            _ => None,
        })
        .collect()
}

#[test]
fn normalizes_heading_levels() {
    let mut p = parse_markdown("# A\n\ntext\n\n## B\n\n### C\n").blocks;
    normalize_heading_levels(&mut p);
    assert_eq!(heading_levels(&p), vec![2, 3, 4]);
    let mut p = parse_markdown("### A\n\n#### B\n\n### C\n").blocks;
    normalize_heading_levels(&mut p);
    assert_eq!(heading_levels(&p), vec![2, 3, 2]);
}

#[test]
fn english_typography() {
    assert_eq!(
        smarten(
            "\"Hello,\" she said -- it's 'fine'... Pages 10--20 --- done. A - B",
            "en"
        ),
        "“Hello,” she said — it’s ‘fine’… Pages 10–20 — done. A — B"
    );
    assert_eq!(smarten("Back in the '90s", "en"), "Back in the ’90s");
    assert_eq!(smarten("\"Hallo\"", "de"), "„Hallo“");
    assert_eq!(smarten("\"Bonjour\"", "fr"), "«Bonjour»");
}

#[test]
fn hindi_gets_curly_quotes_and_cjk_its_own_marks() {
    let hindi = "\"क्षत्रिय\" -- श्री... ने 'पढ़ा'।";
    assert_eq!(smarten(hindi, "hi"), "“क्षत्रिय” — श्री… ने ‘पढ़ा’।");
    assert_eq!(smarten("\"你好\"...", "zh"), "“你好”……");
    assert_eq!(
        smarten("\"日本語\" -- テスト", "ja"),
        "「日本語」 —— テスト"
    );
    // Languages without a rule are left alone.
    let ru = "\"Привет\" -- да...";
    assert_eq!(smarten(ru, "ru"), ru);
    // Devanagari inside an English book keeps every code point (only ASCII quotes change).
    let mixed = smarten("He wrote \"हिन्दी में\".", "en");
    assert_eq!(mixed, "He wrote “हिन्दी में”.");
}

#[test]
fn typography_skips_code_and_spans_inline_boundaries() {
    let mut blocks =
        parse_markdown("\"*Go*\" -- run `a -- \"b\"...`\n\n```\nx -- \"y\"\n```\n").blocks;
    apply_typography(&mut blocks, "en");
    let Block::Paragraph(inl) = &blocks[0] else {
        panic!()
    };
    assert_eq!(plain_text(inl), "“Go” — run a -- \"b\"...");
    assert!(inl.contains(&Inline::Code("a -- \"b\"...".into())));
    assert_eq!(
        blocks[1],
        Block::Code {
            lang: None,
            text: "x -- \"y\"\n".into()
        }
    );
}

#[test]
fn counts_words_and_characters() {
    assert_eq!(count_words("Hello, world — it's  fine."), 4);
    assert_eq!(count_words("हिन्दी में लिखी गई किताब"), 5);
    assert_eq!(count_words("这是一本书"), 5);
    assert_eq!(count_words("日本語とEnglish mixed"), 6);
    assert_eq!(count_words("한국어 문장도 있습니다"), 3);
    assert_eq!(count_characters("a b\nc"), 3);
    assert_eq!(count_characters("किताब"), 5);
}

#[test]
fn book_is_numbered_and_counted() {
    let book = Book::from_compiled(&json!({
        "title": "T",
        "chapters": [
            {"title": "Chapter 7: One", "content": "# Chapter 7: One\n\nalpha beta"},
            {"title": "Chapter 2: Two", "content": "gamma"},
            {"title": "Three", "content": "delta 中文"}
        ]
    }))
    .unwrap();
    let titles: Vec<_> = book
        .chapters
        .iter()
        .map(|c| (c.number, c.title.as_str()))
        .collect();
    assert_eq!(titles, vec![(1, "One"), (2, "Two"), (3, "Three")]);
    assert_eq!(
        book.chapters[0].blocks.len(),
        1,
        "duplicate heading removed"
    );
    let stats = book.stats();
    // Titles count too: One + alpha beta, Two + gamma, Three + delta + 2 Han characters.
    assert_eq!(stats.word_count, 3 + 2 + 4);
    assert_eq!(
        stats.character_count,
        "Onealphabeta".len() as u64 + 8 + 10 + 2
    );
    assert_eq!(chapter_label("hi", 3), "अध्याय 3");
}

#[test]
fn compiled_json_validation() {
    assert!(Book::from_compiled(&json!({"chapters": []})).is_err());
    assert!(Book::from_compiled(&json!({"title": "  "})).is_err());
    let bad_cover = json!({"title": "T", "cover": {"mime": "image/png", "base64": "!!!"}});
    assert!(matches!(
        Book::from_compiled(&bad_cover),
        Err(lekhika_export::ExportError::InvalidCover(_))
    ));
    let minimal = Book::from_compiled(&json!({"title": "T"})).unwrap();
    assert_eq!(minimal.metadata.language, "en");
    assert!(minimal.chapters.is_empty());
}
