//! A generated 30-chapter, ~90k-word book exports to all five formats.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use lekhika_export::{export_all, ExportOptions};
use serde_json::json;

const WORDS: &[&str] = &[
    "river", "lantern", "quiet", "mountain", "letter", "stranger", "morning", "promise", "shadow",
    "garden", "whisper", "journey", "window", "ember", "harbor", "silence", "story", "road",
];

fn paragraph(seed: usize, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        let w = WORDS[(seed * 31 + i * 7) % WORDS.len()];
        if i == 0 {
            let mut c = w.chars();
            s.extend(c.next().unwrap().to_uppercase());
            s.push_str(c.as_str());
        } else {
            s.push_str(w);
        }
        if i % 13 == 12 {
            s.push(',');
        }
    }
    s.push('.');
    s
}

fn big_book() -> serde_json::Value {
    let chapters: Vec<_> = (1..=30)
        .map(|n| {
            let mut content = format!("# Chapter {n}: Part {n}\n\n");
            for p in 0..30 {
                if p == 15 {
                    content.push_str("## Interlude\n\n* * *\n\n");
                }
                content.push_str(&paragraph(n * 100 + p, 100));
                content.push_str("\n\n");
            }
            json!({"title": format!("Chapter {n}: Part {n}"), "content": content})
        })
        .collect();
    json!({"title": "Ninety Thousand", "author": "Load Test", "language": "en", "chapters": chapters})
}

#[test]
fn thirty_chapters_ninety_thousand_words_all_formats() {
    let t = Instant::now();
    let book = lekhika_export::Book::from_compiled(&big_book()).unwrap();
    eprintln!("model + formatter: {:?}", t.elapsed());
    let stats = book.stats();
    assert_eq!(book.chapters.len(), 30);
    assert!(stats.word_count >= 90_000, "{stats:?}");
    let opts = ExportOptions::default();
    for format in ["md", "html", "epub", "docx", "pdf"] {
        let t = Instant::now();
        let files = export_all(&book, &[format], &opts).unwrap();
        eprintln!(
            "{format}: {} bytes in {:?}",
            files[0].bytes.len(),
            t.elapsed()
        );
        // Zipped formats compress the generated text (18 distinct words) very well.
        let min = if matches!(format, "epub" | "docx") {
            20_000
        } else {
            100_000
        };
        assert!(files[0].bytes.len() > min, "{format} suspiciously small");
        let path = common::out_dir("big").join(&files[0].name);
        std::fs::write(&path, &files[0].bytes).unwrap();
    }
    let pdf = common::out_dir("big").join("ninety-thousand.pdf");
    if common::have("pdfinfo", &["-v"]) {
        let (_, info, _) = common::run("pdfinfo", &[pdf.to_str().unwrap()]);
        let pages: u32 = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        eprintln!("big PDF pages: {pages}");
        assert!(pages > 250, "{pages} pages");
    }
    let epub = common::out_dir("big").join("ninety-thousand.epub");
    if common::have_epubcheck() {
        let (ok, out, err) = common::run(
            "java",
            &["-jar", common::EPUBCHECK_JAR, epub.to_str().unwrap()],
        );
        assert!(
            ok && out.contains("0 fatals / 0 errors / 0 warnings"),
            "{out}\n{err}"
        );
    }
}
