//! Printed labels follow the book's language in every format, and a host's
//! overrides (e.g. from an export node's `options.labels`) win.
#![allow(clippy::unwrap_used)]
mod common;

use common::{have, out_dir, run, squash};
use lekhika_export::{export_all, Book, ExportOptions};
use serde_json::json;

fn book(language: &str) -> Book {
    Book::from_compiled(&json!({
        "title": "Titel", "author": "A. Autor", "language": language,
        "publisher": "Verlag X", "date": "2025-03-01", "isbn": "978-3-16-148410-0",
        "about_author": "Schreibt Bücher.",
        "chapters": [
            {"title": "Erstes", "content": "Ein Absatz."},
            {"title": "Zweites", "content": "Noch ein Absatz."}
        ]
    }))
    .unwrap()
}

/// Each format's text (PDF through pdftotext when installed), lower-cased,
/// as is and with all whitespace removed (the PDF sets chapter labels in
/// letter-spaced capitals, which pdftotext splits).
fn texts(book: &Book, opts: &ExportOptions, name: &str) -> Vec<(String, String, String)> {
    let files = export_all(book, &["md", "html", "epub", "docx", "pdf"], opts).unwrap();
    let mut out = Vec::new();
    for f in files {
        // Kept for inspection.
        let ext = f.name.rsplit('.').next().unwrap_or("bin").to_string();
        std::fs::write(out_dir("labels").join(format!("{name}.{ext}")), &f.bytes).unwrap();
        let text = match f.name.rsplit('.').next().unwrap() {
            "md" | "html" => String::from_utf8(f.bytes).unwrap(),
            "epub" | "docx" => unzip_text(&f.bytes),
            "pdf" => {
                if !have("pdftotext", &["-v"]) {
                    continue;
                }
                let path = out_dir("labels").join(format!("{name}.pdf"));
                std::fs::write(&path, &f.bytes).unwrap();
                let (ok, text, err) = run("pdftotext", &[path.to_str().unwrap(), "-"]);
                assert!(ok, "{err}");
                text
            }
            other => panic!("unexpected {other}"),
        };
        // Word's name for the TOC part is an identifier, not printed text.
        let lower = text
            .to_lowercase()
            .replace("w:docpartgallery w:val=\"table of contents\"", "");
        out.push((f.name, squash(&lower), lower));
    }
    out
}

fn key(s: &str) -> String {
    squash(&s.to_lowercase())
}

/// Every text entry of a zip (XHTML, navigation, Word XML) concatenated.
fn unzip_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        if f.read_to_string(&mut s).is_ok() {
            all.push_str(&s);
        }
    }
    all
}

#[test]
fn a_german_book_prints_german_labels_in_every_format() {
    for (name, text, raw) in texts(&book("de-DE"), &ExportOptions::default(), "de") {
        for want in ["Inhalt", "Kapitel 1", "Kapitel 2", "Über den Autor"] {
            assert!(text.contains(&key(want)), "{name} lacks {want:?}");
        }
        // Markdown has no copyright page; the others do.
        if !name.ends_with(".md") {
            for want in ["Alle Rechte vorbehalten.", "Verlag: Verlag X"] {
                assert!(text.contains(&key(want)), "{name} lacks {want:?}");
            }
        }
        for english in [
            "Contents",
            "Chapter 1",
            "About the Author",
            "All rights reserved",
        ] {
            assert!(
                !(raw.contains(&english.to_lowercase())
                    || (name.ends_with(".pdf") && text.contains(&key(english)))),
                "{name} still says {english:?}"
            );
        }
    }
}

#[test]
fn hindi_and_traditional_chinese_defaults() {
    let hi = book("hi").default_labels();
    assert_eq!(hi.contents, "विषय-सूची");
    assert_eq!(hi.chapter(2), "अध्याय 2");
    assert_eq!(book("zh-Hant-TW").default_labels().contents, "目錄");
    assert_eq!(book("zh-CN").default_labels().contents, "目录");
    assert_eq!(book("sw").default_labels().contents, "Contents");
}

#[test]
fn host_overrides_win_over_the_language() {
    let opts = ExportOptions::from_json(&json!({
        "labels": {"contents": "Table of Contents", "chapter": "Part {n}",
                   "about_the_author": "The Writer", "copyright": "(c) {year} {holder}"}
    }))
    .unwrap();
    for (name, text, _) in texts(&book("en"), &opts, "overrides") {
        for want in ["Table of Contents", "Part 1", "Part 2", "The Writer"] {
            assert!(text.contains(&key(want)), "{name} lacks {want:?}");
        }
        if !name.ends_with(".md") {
            assert!(text.contains(&key("(c) 2025 A. Autor")), "{name}");
        }
        assert!(!text.contains(&key("Chapter 1")), "{name}");
    }
}

#[test]
fn labels_with_markup_characters_stay_text_and_valid() {
    let opts = ExportOptions::from_json(&json!({
        "labels": {"contents": "Q&A <Contents> #set \"x\"", "chapter": "Part {n} & <b>more</b>",
                   "about_the_author": "[Writer] *bio* $x$"}
    }))
    .unwrap();
    let book = book("en");
    let files = export_all(&book, &["md", "html", "epub", "docx", "pdf"], &opts).unwrap();
    let html = String::from_utf8(files[1].bytes.clone()).unwrap();
    assert!(html.contains("Q&amp;A &lt;Contents&gt;"), "{html}");
    assert!(!html.contains("<b>more</b>"), "{html}");
    let path = out_dir("labels").join("markup.epub");
    std::fs::write(&path, &files[2].bytes).unwrap();
    if common::have_epubcheck() {
        let (ok, out, err) = run(
            "java",
            &["-jar", common::EPUBCHECK_JAR, path.to_str().unwrap()],
        );
        assert!(ok, "epubcheck:\n{out}\n{err}");
    }
    let pdf = out_dir("labels").join("markup.pdf");
    std::fs::write(&pdf, &files[4].bytes).unwrap();
    if have("pdftotext", &["-v"]) {
        let (_, text, _) = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
        let text = key(&text);
        for want in ["Q&A <Contents> #set \"x\"", "[Writer] *bio* $x$"] {
            assert!(text.contains(&key(want)), "pdf lacks {want:?}: {text}");
        }
    }
}

#[test]
fn no_bare_copyright_line_without_a_holder() {
    let mut m = lekhika_export::Metadata {
        title: "T".into(),
        language: "en".into(),
        ..Default::default()
    };
    let l = lekhika_export::Labels::default();
    assert!(l.copyright_lines(&m).is_empty(), "nothing to print");
    m.date = Some("2025".into());
    assert_eq!(l.copyright_lines(&m), ["First published 2025"]);
    m.publisher = Some("Lekhika Press".into());
    assert_eq!(
        l.copyright_lines(&m)[..2],
        ["Copyright © 2025 Lekhika Press", "All rights reserved."]
    );
    m.author = Some("A. Autor".into());
    assert_eq!(l.copyright_lines(&m)[0], "Copyright © 2025 A. Autor");
    // In every format: a book without author, publisher or date has no copyright page.
    let b =
        Book::from_compiled(&json!({"title": "T", "chapters": [{"title": "A", "content": "x"}]}))
            .unwrap();
    for f in export_all(&b, &["html", "epub", "docx"], &ExportOptions::default()).unwrap() {
        let text = if f.name.ends_with(".html") {
            String::from_utf8(f.bytes).unwrap()
        } else {
            unzip_text(&f.bytes)
        };
        assert!(
            !text.contains("Copyright") && !text.contains('©'),
            "{}",
            f.name
        );
        assert!(
            !text.contains("class=\"copyright\""),
            "no empty copyright section"
        );
    }
}
