//! DOCX: structure, core properties, LibreOffice conversion and pandoc headings.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::*;
use lekhika_export::{exporter_for, ExportOptions};

fn part(docx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut s = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn sample_docx() -> (Vec<u8>, std::path::PathBuf) {
    let book = sample_book();
    let bytes = exporter_for("docx")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap();
    let path = out_dir("docx").join("sample.docx");
    std::fs::write(&path, &bytes).unwrap();
    (bytes, path)
}

#[test]
fn docx_has_styles_toc_breaks_and_core_properties() {
    let (bytes, _) = sample_docx();
    let styles = part(&bytes, "word/styles.xml");
    assert!(styles.contains("w:styleId=\"Heading1\""));
    assert!(styles.contains("w:val=\"heading 1\""));
    assert!(styles.contains("w:styleId=\"Title\""));
    let doc = part(&bytes, "word/document.xml");
    assert!(doc.contains("w:val=\"Heading1\""));
    assert!(doc.contains("w:val=\"Heading2\""));
    assert!(doc.contains("TOC \\o"), "TOC field missing");
    // Copyright, TOC and three chapters plus about-the-author start on new pages.
    assert!(doc.matches("<w:pageBreakBefore").count() >= 5);
    assert!(doc.contains("&lt;script&gt;"));
    assert!(doc.contains(HINDI));
    let core = part(&bytes, "docProps/core.xml");
    assert!(core.contains("<dc:title>The Long Road</dc:title>"));
    assert!(core.contains("<dc:creator>Asha Verma</dc:creator>"));
    assert!(core.contains("<dc:language>en</dc:language>"));
}

#[test]
fn pandoc_reads_headings_as_headers() {
    let (_, path) = sample_docx();
    if !have("pandoc", &["--version"]) {
        return;
    }
    let (ok, json, err) = run("pandoc", &[path.to_str().unwrap(), "-t", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let headers: Vec<(i64, String)> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["t"] == "Header")
        .map(|b| {
            let level = b["c"][0].as_i64().unwrap();
            let text: String = b["c"][2]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| match i["t"].as_str() {
                    Some("Str") => i["c"].as_str().unwrap().to_string(),
                    Some("Space") => " ".into(),
                    _ => String::new(),
                })
                .collect();
            (level, text)
        })
        .collect();
    assert!(
        headers.contains(&(1, "Chapter 1: The Beginning".into())),
        "{headers:?}"
    );
    assert!(
        headers.contains(&(1, "Chapter 3: 中文章节".into())),
        "{headers:?}"
    );
    assert!(headers.contains(&(2, "The Market".into())), "{headers:?}");
    let (ok, plain, _) = run("pandoc", &[path.to_str().unwrap(), "-t", "plain"]);
    assert!(ok);
    assert!(plain.contains("<script>alert(‘pwned’)</script>"));
}

#[test]
fn libreoffice_converts_docx_to_pdf() {
    let (_, path) = sample_docx();
    if !have("soffice", &["--version"]) {
        return;
    }
    let dir = out_dir("docx-lo");
    let profile = dir.join("profile");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let _ = std::fs::remove_file(dir.join("sample.pdf"));
    let out = std::process::Command::new("soffice")
        .env("HOME", &home)
        .args([
            &format!("-env:UserInstallation=file://{}", profile.display()),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.to_str().unwrap(),
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let pdf = dir.join("sample.pdf");
    assert!(
        pdf.exists(),
        "LibreOffice produced no PDF: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 5_000);
    if have("pdftotext", &["-v"]) {
        let (_, text, _) = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
        assert!(text.contains("The Beginning"), "{text}");
        // The table of contents is a real TOC: entries, not field codes.
        assert!(
            !text.contains("TOC \\o") && !text.contains("PAGEREF"),
            "{text}"
        );
        assert!(text.contains("Contents"), "{text}");
        // Lists are Word lists, rendered with their markers.
        assert!(text.contains("• first item"), "{text}");
        assert!(text.contains("1. one") && text.contains("2. two"), "{text}");
    }
}

#[test]
fn lists_are_word_lists_that_pandoc_reads_back() {
    let book = lekhika_export::Book::from_compiled(&serde_json::json!({
        "title": "Lists", "language": "en",
        "chapters": [{"title": "One", "content":
            "Before.\n\n- apples\n- pears\n  - green\n  - red\n\n3. three\n4. four\n\nBetween.\n\n1. again\n2. more\n"}]
    }))
    .unwrap();
    let bytes = exporter_for("docx")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap();
    let numbering = part(&bytes, "word/numbering.xml");
    assert!(
        numbering.contains("w:abstractNumId=\"10\"")
            && numbering.contains("w:abstractNumId=\"11\"")
    );
    assert!(numbering.contains("w:val=\"bullet\"") && numbering.contains("w:val=\"decimal\""));
    let doc = part(&bytes, "word/document.xml");
    assert_eq!(doc.matches("<w:numPr>").count(), 8, "one per list item");
    assert!(!doc.contains("•\t"), "no hand-made bullets");
    let path = out_dir("docx").join("lists.docx");
    std::fs::write(&path, &bytes).unwrap();
    if !have("pandoc", &["--version"]) {
        return;
    }
    let (ok, json, err) = run("pandoc", &[path.to_str().unwrap(), "-t", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let kinds: Vec<&str> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["t"].as_str())
        .filter(|t| t.ends_with("List"))
        .collect();
    assert_eq!(
        kinds,
        ["BulletList", "OrderedList", "OrderedList"],
        "{json}"
    );
    let ordered: Vec<i64> = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["t"] == "OrderedList")
        .map(|b| b["c"][0][0].as_i64().unwrap())
        .collect();
    assert_eq!(
        ordered,
        [3, 1],
        "each numbered list starts at its own number"
    );
    // The nested list is inside the bullet list's second item.
    let bullets = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["t"] == "BulletList")
        .unwrap();
    assert!(
        bullets["c"][1].to_string().contains("BulletList"),
        "{bullets}"
    );
}

fn docx_of(json: serde_json::Value) -> Vec<u8> {
    let book = lekhika_export::Book::from_compiled(&json).unwrap();
    exporter_for("docx")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap()
}

/// Converts a DOCX with LibreOffice; returns the PDF's path, or None when soffice is missing.
fn libreoffice_pdf(bytes: &[u8], name: &str) -> Option<std::path::PathBuf> {
    if !have("soffice", &["--version"]) {
        return None;
    }
    let dir = out_dir(&format!("docx-lo-{name}"));
    let path = dir.join(format!("{name}.docx"));
    std::fs::write(&path, bytes).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    let _ = std::fs::remove_file(&pdf);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = std::process::Command::new("soffice")
        .env("HOME", &home)
        .args([
            &format!(
                "-env:UserInstallation=file://{}",
                dir.join("profile").display()
            ),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            dir.to_str().unwrap(),
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        pdf.exists(),
        "LibreOffice produced no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(pdf)
}

#[test]
fn toc_entries_are_escaped_once_and_its_heading_style_exists() {
    let bytes = docx_of(serde_json::json!({
        "title": "T", "language": "ja",
        "chapters": [{"title": "Salt & Iron <Part> 'x'", "content": "本文。"}]
    }));
    let doc = part(&bytes, "word/document.xml");
    assert!(
        !doc.contains("&amp;amp;") && !doc.contains("&amp;lt;"),
        "double escape"
    );
    assert!(doc.contains("Salt &amp; Iron &lt;Part&gt;"), "{doc}");
    let styles = part(&bytes, "word/styles.xml");
    assert!(styles.contains("w:styleId=\"TOCHeading\""), "{styles}");
    assert!(doc.contains("w:val=\"TOCHeading\""));
    if let Some(pdf) = libreoffice_pdf(&bytes, "toc") {
        if have("pdftotext", &["-v"]) {
            let (_, text, _) = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
            assert!(text.contains("Salt & Iron <Part>"), "{text}");
            assert!(
                !text.contains("&amp;") && !text.contains("&apos;"),
                "{text}"
            );
        }
    }
}

#[test]
fn body_font_language_and_heading_spacing_follow_the_book() {
    for (language, lang, font) in [
        (
            "Hindi",
            "<w:lang w:val=\"hi\" w:bidi=\"hi\" />",
            "w:cs=\"Nirmala UI\"",
        ),
        (
            "Japanese",
            "<w:lang w:val=\"ja\" w:eastAsia=\"ja\" />",
            "w:eastAsia=\"Yu Mincho\"",
        ),
        ("English", "<w:lang w:val=\"en\" />", "w:ascii=\"Georgia\""),
    ] {
        let bytes = docx_of(serde_json::json!({
            "title": "T", "language": language,
            "chapters": [{"title": "A", "content": "## Part\n\nText."}]
        }));
        let styles = part(&bytes, "word/styles.xml");
        let defaults = &styles[styles.find("<w:docDefaults>").unwrap()..];
        let defaults = &defaults[..defaults.find("</w:docDefaults>").unwrap()];
        assert!(defaults.contains(lang), "{language}: {defaults}");
        assert!(defaults.contains(font), "{language}: {defaults}");
        let h2 = &styles[styles.find("w:styleId=\"Heading2\"").unwrap()..];
        let h2 = &h2[..h2.find("</w:style>").unwrap()];
        assert!(h2.contains("w:after=\"240\""), "space after headings: {h2}");
        let core = part(&bytes, "docProps/core.xml");
        let tag = if language == "Hindi" {
            "hi"
        } else if language == "Japanese" {
            "ja"
        } else {
            "en"
        };
        assert!(
            core.contains(&format!("<dc:language>{tag}</dc:language>")),
            "{core}"
        );
    }
}

#[test]
fn page_numbers_start_at_the_first_chapter_not_the_title_page() {
    let bytes = docx_of(serde_json::json!({
        "title": "Numbered", "author": "A. Writer", "language": "en",
        "chapters": [{"title": "One", "content": "First."}, {"title": "Two", "content": "Second."}]
    }));
    let doc = part(&bytes, "word/document.xml");
    let sections: Vec<&str> = doc.split("<w:sectPr").skip(1).collect();
    assert_eq!(sections.len(), 2, "front matter and text are two sections");
    let front = &sections[0][..sections[0].find("</w:sectPr>").unwrap()];
    assert!(
        !front.contains("footerReference"),
        "no folio in the front matter: {front}"
    );
    assert!(sections[1].contains("footerReference"));
    assert!(
        sections[1].contains("<w:pgNumType w:start=\"1\""),
        "{}",
        sections[1]
    );
    if let Some(pdf) = libreoffice_pdf(&bytes, "numbers") {
        if have("pdftotext", &["-v"]) {
            let page = |n: &str| {
                run(
                    "pdftotext",
                    &["-f", n, "-l", n, "-layout", pdf.to_str().unwrap(), "-"],
                )
                .1
            };
            let title = page("1");
            assert!(title.contains("Numbered"), "{title}");
            assert!(
                !title
                    .lines()
                    .any(|l| l.trim().chars().all(|c| c.is_ascii_digit()) && !l.trim().is_empty()),
                "the title page has no page number: {title}"
            );
            let (_, all, _) = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
            let pages: Vec<&str> = all.split('\u{c}').collect();
            let one = pages.iter().find(|p| p.contains("First.")).unwrap();
            assert!(
                one.lines().any(|l| l.trim() == "1"),
                "chapter 1 is page 1: {one}"
            );
        }
    }
}

#[test]
fn javascript_links_are_dropped_keeping_their_text() {
    let bytes = docx_of(serde_json::json!({
        "title": "T",
        "chapters": [{"title": "A", "content": "[click me](javascript:alert(1)) and [ok](https://example.com)"}]
    }));
    let doc = part(&bytes, "word/document.xml");
    assert!(doc.contains("click me"));
    let rels = part(&bytes, "word/_rels/document.xml.rels");
    assert!(
        !rels.contains("javascript") && !doc.contains("javascript"),
        "{rels}"
    );
    assert!(rels.contains("https://example.com"));
}
