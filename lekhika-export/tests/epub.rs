//! EPUB 3: epubcheck clean, structure and escaping.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::*;
use lekhika_export::{exporter_for, ExportOptions};

fn entries(epub: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(epub)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            (f.name().to_string(), s)
        })
        .collect()
}

#[test]
fn epub_structure_and_escaping() {
    let book = sample_book();
    let epub = exporter_for("epub")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap();
    let files = entries(&epub);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "mimetype");
    for expected in [
        "OEBPS/nav.xhtml",
        "OEBPS/cover.xhtml",
        "OEBPS/chapter_001.xhtml",
        "OEBPS/chapter_002.xhtml",
        "OEBPS/chapter_003.xhtml",
        "OEBPS/images/cover.png",
        "OEBPS/content.opf",
    ] {
        assert!(names.contains(&expected), "missing {expected} in {names:?}");
    }
    let ch1 = &files
        .iter()
        .find(|(n, _)| n == "OEBPS/chapter_001.xhtml")
        .unwrap()
        .1;
    assert!(!ch1.contains("<script"));
    assert!(ch1.contains("&lt;script&gt;"));
    let opf = &files
        .iter()
        .find(|(n, _)| n == "OEBPS/content.opf")
        .unwrap()
        .1;
    assert!(opf.contains("<dc:language"));
    assert!(opf.contains(">en</dc:language>"));
    assert!(
        opf.contains("<dc:publisher>Lekhika Press</dc:publisher>"),
        "{opf}"
    );
    assert!(opf.contains("<dc:date>2025-03-01</dc:date>"), "{opf}");
    assert!(!opf.contains("dcterms:publisher") && !opf.contains("dcterms:date"));
    assert!(opf.contains("<dc:creator"));
    assert!(opf.contains("cover-image"));
    assert!(!opf.contains("<b>with</b>"));
    let ch2 = &files
        .iter()
        .find(|(n, _)| n == "OEBPS/chapter_002.xhtml")
        .unwrap()
        .1;
    assert!(ch2.contains(HINDI));
}

#[test]
fn epubcheck_reports_no_errors_or_warnings() {
    if !have_epubcheck() {
        return;
    }
    let book = sample_book();
    let path = out_dir("epub").join("sample.epub");
    exporter_for("epub")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    let (ok, stdout, stderr) = run("java", &["-jar", EPUBCHECK_JAR, path.to_str().unwrap()]);
    assert!(ok, "epubcheck failed:\n{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains("0 fatals / 0 errors / 0 warnings"),
        "epubcheck output:\n{all}"
    );
}

/// The stylesheet and a chapter of an EPUB of `json`.
fn css_and_chapter(json: serde_json::Value) -> (String, String, Vec<u8>) {
    let book = lekhika_export::Book::from_compiled(&json).unwrap();
    let epub = exporter_for("epub")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap();
    let files = entries(&epub);
    let get = |n: &str| files.iter().find(|(f, _)| f == n).unwrap().1.clone();
    (
        get("OEBPS/stylesheet.css"),
        get("OEBPS/chapter_001.xhtml"),
        epub,
    )
}

#[test]
fn japanese_and_hindi_books_get_their_fonts_and_language_and_pass_epubcheck() {
    for (language, tag, family) in [
        ("Japanese", "ja", "\"Noto Serif CJK JP\""),
        ("Hindi", "hi", "\"Noto Serif Devanagari\""),
    ] {
        let (css, chapter, epub) = css_and_chapter(serde_json::json!({
            "title": "本", "language": language, "publisher": "P", "date": "2025",
            "chapters": [{"title": "一", "content": "本文。\n\n- 一つ\n- 二つ\n\n後。"}]
        }));
        assert!(
            chapter.contains(&format!("lang=\"{tag}\" xml:lang=\"{tag}\"")),
            "{chapter}"
        );
        // The font stack for this language names its own face first.
        let rule = css
            .lines()
            .skip_while(|l| !l.contains(&format!("body:lang({tag})")))
            .take(2)
            .collect::<String>();
        assert!(rule.contains(family), "{language}: {rule}");
        // Japanese is not set in the Simplified Chinese face.
        let ja = css
            .lines()
            .skip_while(|l| !l.starts_with("body:lang(ja)"))
            .take(2)
            .collect::<String>();
        assert!(!ja.contains("SC"), "{ja}");
        let path = out_dir("epub").join(format!("{tag}.epub"));
        std::fs::write(&path, &epub).unwrap();
        if have_epubcheck() {
            let (ok, out, err) = run("java", &["-jar", EPUBCHECK_JAR, path.to_str().unwrap()]);
            assert!(
                ok && out.contains("0 fatals / 0 errors / 0 warnings"),
                "{out}\n{err}"
            );
        }
    }
}

#[test]
fn list_items_are_not_indented_like_paragraphs() {
    let (css, chapter, _) = css_and_chapter(serde_json::json!({
        "title": "T", "chapters": [{"title": "A", "content": "Text.\n\n- one\n- two\n\nMore."}]
    }));
    assert!(chapter.contains("<li><p>one</p>"), "{chapter}");
    assert!(css.contains("li p, li + li p { text-indent: 0;"), "{css}");
    assert!(
        css.contains("ul, ol { margin: 0.8em 0"),
        "lists have space around them: {css}"
    );
}
