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
    assert!(opf.contains("<meta property=\"dcterms:publisher\">Lekhika Press</meta>"));
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
