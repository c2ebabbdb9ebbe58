//! Acceptance: the same novel in English, Hindi and Japanese, the language given by name and by
//! code, in every format: labels, language metadata and quotes right; epubcheck clean; the
//! DOCX converts in LibreOffice with the right text; pandoc reads the Markdown front matter.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;

use common::*;
use lekhika_export::{export_all, Book, ExportOptions};

struct Expect {
    language: &'static str,
    tag: &'static str,
    contents: &'static str,
    chapter: &'static str,
    quote: &'static str,
}

const BOOKS: &[Expect] = &[
    Expect {
        language: "English",
        tag: "en",
        contents: "Contents",
        chapter: "Chapter 1",
        quote: "“Where were you?”",
    },
    Expect {
        language: "en",
        tag: "en",
        contents: "Contents",
        chapter: "Chapter 1",
        quote: "“Where were you?”",
    },
    Expect {
        language: "Hindi",
        tag: "hi",
        contents: "विषय-सूची",
        chapter: "अध्याय 1",
        quote: "“तुम कहाँ थे?”",
    },
    Expect {
        language: "hi",
        tag: "hi",
        contents: "विषय-सूची",
        chapter: "अध्याय 1",
        quote: "“तुम कहाँ थे?”",
    },
    Expect {
        language: "Japanese",
        tag: "ja",
        contents: "目次",
        chapter: "第1章",
        quote: "「どこにいたの」",
    },
    Expect {
        language: "ja",
        tag: "ja",
        contents: "目次",
        chapter: "第1章",
        quote: "「どこにいたの」",
    },
];

fn zip_text(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut s = String::new();
        if zip.by_index(i).unwrap().read_to_string(&mut s).is_ok() {
            all.push_str(&s);
        }
    }
    all
}

#[test]
fn three_languages_by_name_and_code_in_every_format() {
    for e in BOOKS {
        let book = Book::from_compiled(&novel_json(e.language)).unwrap();
        assert_eq!(book.metadata.language, e.tag);
        let files = export_all(
            &book,
            &["md", "html", "epub", "docx", "pdf"],
            &ExportOptions::default(),
        )
        .unwrap();
        let dir = out_dir(&format!("novel-{}", e.language));
        for f in &files {
            std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
        }
        let md = String::from_utf8(files[0].bytes.clone()).unwrap();
        let html = String::from_utf8(files[1].bytes.clone()).unwrap();
        let epub = zip_text(&files[2].bytes);
        let docx = zip_text(&files[3].bytes);
        for (name, text) in [
            ("md", &md),
            ("html", &html),
            ("epub", &epub),
            ("docx", &docx),
        ] {
            for want in [e.contents, e.chapter, e.quote] {
                assert!(
                    squash(text).contains(&squash(want)),
                    "{} {name}: no {want}",
                    e.language
                );
            }
            for chatter in [
                "Sure!",
                "ज़रूर",
                "承知しました",
                "Let me know",
                "अगर आप चाहें",
                "いかがでしょうか",
            ] {
                assert!(!text.contains(chatter), "{} {name}: {chatter}", e.language);
            }
        }
        assert!(md.contains(&format!("\nlang: {}\n", e.tag)), "{md}");
        assert!(html.contains(&format!("<html lang=\"{}\">", e.tag)));
        assert!(
            epub.contains(&format!(">{}</dc:language>", e.tag)),
            "{epub}"
        );
        assert!(docx.contains(&format!("<dc:language>{}</dc:language>", e.tag)));
        assert!(docx.contains(&format!("<w:lang w:val=\"{}\"", e.tag)));
        let base = dir.join(&files[0].name);
        let stem = base.with_extension("");
        if have_epubcheck() {
            let p = stem.with_extension("epub");
            let (ok, out, err) = run("java", &["-jar", EPUBCHECK_JAR, p.to_str().unwrap()]);
            assert!(
                ok && out.contains("0 fatals / 0 errors / 0 warnings"),
                "{}: {out}\n{err}",
                e.language
            );
        }
        if have("pandoc", &["--version"]) {
            let p = stem.with_extension("md");
            let (ok, json, err) = run(
                "pandoc",
                &[p.to_str().unwrap(), "-f", "markdown-smart", "-t", "json"],
            );
            assert!(ok, "{err}");
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["meta"]["lang"]["c"][0]["c"], e.tag, "{}", e.language);
            assert!(v["meta"]["title"]["c"].is_array(), "{}", e.language);
        }
        if have("pdftotext", &["-v"]) {
            let p = stem.with_extension("pdf");
            let (_, text, _) = run("pdftotext", &[p.to_str().unwrap(), "-"]);
            for want in [e.contents, e.quote] {
                assert!(
                    squash(&text).contains(&squash(want)),
                    "{} pdf: no {want}",
                    e.language
                );
            }
        }
    }
}

#[test]
fn libreoffice_shows_the_hindi_and_japanese_docx_with_the_right_text() {
    for e in [&BOOKS[2], &BOOKS[4]] {
        if !have("soffice", &["--version"]) {
            return;
        }
        let book = Book::from_compiled(&novel_json(e.language)).unwrap();
        let files = export_all(&book, &["docx"], &ExportOptions::default()).unwrap();
        let dir = out_dir(&format!("novel-lo-{}", e.tag));
        let path = dir.join(&files[0].name);
        std::fs::write(&path, &files[0].bytes).unwrap();
        let pdf = path.with_extension("pdf");
        let _ = std::fs::remove_file(&pdf);
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::process::Command::new("soffice")
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
            "LibreOffice produced no PDF for {}",
            e.language
        );
        if have("pdftotext", &["-v"]) {
            let (_, text, _) = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
            for want in [e.contents, e.chapter, e.quote, &book.chapters[1].title] {
                assert!(
                    squash(&text).contains(&squash(want)),
                    "{}: no {want}:\n{text}",
                    e.language
                );
            }
        }
    }
}
