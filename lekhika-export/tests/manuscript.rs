//! A Markdown manuscript (front matter + `#` chapters) becomes the same book, and Lekhika's own
//! Markdown export reads back.

#![allow(clippy::unwrap_used)]

mod common;

use common::novel_json;
use lekhika_export::{export_all, Book, ExportOptions};

#[test]
fn the_markdown_export_reads_back_as_the_same_book() {
    for language in ["English", "Hindi", "Japanese"] {
        let mut json = novel_json(language);
        json["author"] = "A. Writer".into();
        json["about_author"] = "Writes *books*.".into();
        json["dedication"] = "For R.".into();
        let book = Book::from_compiled(&json).unwrap();
        let md = export_all(&book, &["md"], &ExportOptions::default()).unwrap();
        let md = String::from_utf8(md[0].bytes.clone()).unwrap();
        let back = Book::from_manuscript(&md).unwrap();
        assert_eq!(back.metadata.title, book.metadata.title, "{language}");
        assert_eq!(back.metadata.author, book.metadata.author, "{language}");
        assert_eq!(back.metadata.language, book.metadata.language, "{language}");
        assert_eq!(back.front.dedication, book.front.dedication, "{language}");
        let titles = |b: &Book| {
            b.chapters
                .iter()
                .map(|c| c.title.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(&back), titles(&book), "{language}");
        assert_eq!(
            back.chapters[0].blocks, book.chapters[0].blocks,
            "{language}"
        );
        assert!(back.back.about_author.is_some(), "{language}");
        // And every format comes out of it.
        let files = export_all(
            &back,
            &["pdf", "epub", "docx", "html", "md"],
            &ExportOptions::default(),
        )
        .unwrap();
        assert_eq!(files.len(), 5);
    }
}

#[test]
fn a_hand_written_manuscript_with_front_matter() {
    let md = "---\ntitle: A Garden\nauthor: [Ann, Bo]\nlanguage: Japanese\ndate: 2025-04-01\n---\n\n# 第1章　春\n\n花が咲いた。\n\n# 第2章　夏\n\n暑い。\n";
    let book = Book::from_manuscript(md).unwrap();
    assert_eq!(book.metadata.language, "ja");
    assert_eq!(book.metadata.author.as_deref(), Some("Ann, Bo"));
    assert_eq!(book.metadata.date.as_deref(), Some("2025-04-01"));
    let titles: Vec<_> = book.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["春", "夏"]);
    assert!(matches!(
        Book::from_manuscript("---\ntitle: x\n"),
        Err(lekhika_export::ExportError::InvalidBook(_))
    ));
}
