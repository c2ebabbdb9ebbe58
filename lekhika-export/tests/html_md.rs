//! HTML and Markdown exporters, registry and export_all.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use lekhika_export::{export_all, exporter_for, ExportError, ExportOptions};

#[test]
fn html_escapes_injected_markup() {
    let book = sample_book();
    let html = String::from_utf8(
        exporter_for("html")
            .unwrap()
            .export(&book, &ExportOptions::default())
            .unwrap(),
    )
    .unwrap();
    assert!(!html.contains("<script"), "raw <script> leaked into HTML");
    assert!(html.contains("&lt;script&gt;alert(‘pwned’)&lt;/script&gt;"));
    assert!(!html.contains("<b>with</b>"), "metadata markup leaked");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<style>"));
    assert!(html.contains(HINDI));
    assert!(html.contains(CJK));
    assert!(html.contains("data:image/png;base64,"));
    // Formatter ran: preamble, offer and duplicate heading are gone; typography applied.
    assert!(!html.contains("Sure, here is"));
    assert!(!html.contains("Let me know"));
    assert!(html.contains("“quiet” morning — the kind that… waited"));
    assert_eq!(html.matches("<h1>The Beginning</h1>").count(), 1);
    // Footnote, scene break, list, quote, code.
    assert!(html.contains("href=\"#fn-1-1\""));
    assert!(html.contains("<hr class=\"scene-break\"/>"));
    assert!(html.contains("<blockquote>"));
    assert!(html.contains("<code>let x = &quot;code&quot;;</code>"));
}

#[test]
fn html_drops_unsafe_link_schemes() {
    let book = lekhika_export::Book::from_compiled(&serde_json::json!({
        "title": "T",
        "chapters": [{"title": "A", "content": "[click](javascript:alert(1)) <img src=x onerror=alert(1)>"}]
    }))
    .unwrap();
    let html = String::from_utf8(
        exporter_for("html")
            .unwrap()
            .export(&book, &ExportOptions::default())
            .unwrap(),
    )
    .unwrap();
    assert!(!html.contains("javascript:"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn markdown_round_trips_structure_and_escapes() {
    let book = sample_book();
    let md = String::from_utf8(
        exporter_for("markdown")
            .unwrap()
            .export(&book, &ExportOptions::default())
            .unwrap(),
    )
    .unwrap();
    assert!(md.starts_with("---\ntitle: \"The Long Road\"\n"), "{md}");
    assert!(md.contains("---\n\n# The Long Road\n"), "{md}");
    assert!(md.contains("\nby Asha Verma\n"), "{md}");
    assert!(md.contains("# Chapter 1: The Beginning"));
    assert!(md.contains("## The Market"));
    assert!(
        md.contains("\\<script\\>"),
        "raw HTML must be escaped in Markdown"
    );
    assert!(md.contains("[^1-1]: Cats rarely are."));
    // Re-parsing the output keeps the script as text.
    let reparsed = lekhika_export::model::parse_markdown(&md);
    let text = lekhika_export::model::blocks_plain_text(&reparsed.blocks);
    assert!(text.contains("<script>alert("));
    assert!(md.contains(HINDI));
}

#[test]
fn registry_and_export_all() {
    for name in ["pdf", "epub", "docx", "html", "md"] {
        let e = exporter_for(name).unwrap();
        assert_eq!(e.name(), name);
    }
    assert!(matches!(
        exporter_for("rtf"),
        Err(ExportError::UnknownFormat(_))
    ));
    let book = sample_book();
    let files = export_all(&book, &["md", "html"], &ExportOptions::default()).unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].name, "the-long-road.md");
    assert_eq!(files[1].mime, "text/html; charset=utf-8");
    // Unknown formats fail before any work.
    assert!(export_all(&book, &["md", "nope"], &ExportOptions::default()).is_err());
    let dir = out_dir("write_to");
    let path = dir.join("book.md");
    exporter_for("md")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), files[0].bytes);
}

#[test]
fn options_are_validated() {
    let opts = ExportOptions {
        margin_inside_mm: 100.0,
        ..ExportOptions::default()
    };
    assert!(matches!(
        opts.validate(),
        Err(ExportError::InvalidOptions(_))
    ));
    assert!(export_all(&sample_book(), &["md"], &opts).is_err());
}

fn md_of(json: serde_json::Value) -> String {
    let book = lekhika_export::Book::from_compiled(&json).unwrap();
    String::from_utf8(
        exporter_for("md")
            .unwrap()
            .export(&book, &ExportOptions::default())
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn markdown_front_matter_is_what_pandoc_reads() {
    let md = md_of(serde_json::json!({
        "title": "The \"Long\" Road: *one*", "subtitle": "A Novel", "author": "अनु वर्मा",
        "language": "Hindi", "date": "2025-03-01", "publisher": "Lekhika Press",
        "chapters": [{"title": "पहला", "content": "पाठ।"}]
    }));
    assert!(md.starts_with("---\ntitle: "), "{md}");
    assert!(md.contains("\nlang: hi\n"), "{md}");
    // "by" in the book's language.
    assert!(md.contains("लेखक: अनु वर्मा"), "{md}");
    assert!(!md.contains("\nby "), "{md}");
    assert!(md.contains("# अध्याय 1: पहला"), "{md}");
    let path = out_dir("md").join("front.md");
    std::fs::write(&path, &md).unwrap();
    if !have("pandoc", &["--version"]) {
        return;
    }
    let (ok, json, err) = run(
        "pandoc",
        &[path.to_str().unwrap(), "-f", "markdown-smart", "-t", "json"],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let meta = &v["meta"];
    let text = |key: &str| -> String {
        let mut out = String::new();
        for i in meta[key]["c"].as_array().unwrap_or(&Vec::new()) {
            match i["t"].as_str() {
                Some("Str") => out.push_str(i["c"].as_str().unwrap()),
                Some("Space") => out.push(' '),
                Some(_) => out.push_str(&i.to_string()),
                None => {}
            }
        }
        out
    };
    assert_eq!(text("title"), "The “Long” Road: *one*", "{meta}");
    assert_eq!(text("author"), "अनु वर्मा", "{meta}");
    assert_eq!(text("lang"), "hi", "{meta}");
    assert_eq!(text("date"), "2025-03-01", "{meta}");
    assert_eq!(text("subtitle"), "A Novel", "{meta}");
}

#[test]
fn markdown_drops_unsafe_link_targets() {
    let md = md_of(serde_json::json!({
        "title": "T",
        "chapters": [{"title": "A", "content": "[click](javascript:alert(1)) and [ok](https://example.com)"}]
    }));
    assert!(!md.contains("javascript"), "{md}");
    assert!(md.contains("click and [ok](<https://example.com>)"), "{md}");
}

#[test]
fn html_prints_each_chapter_on_a_new_page_of_the_trim_size() {
    let html = String::from_utf8(
        exporter_for("html")
            .unwrap()
            .export(&sample_book(), &ExportOptions::default())
            .unwrap(),
    )
    .unwrap();
    let print = &html[html.find("@media print").expect("print stylesheet")..];
    assert!(print.contains("@page { size: 152.4mm 228.6mm;"), "{print}");
    assert!(
        print.contains(".chapter { break-before: page; page-break-before: always; }")
            || print.contains(".copyright, .dedication, nav.toc, .chapter { break-before: page;"),
        "{print}"
    );
    let hi = lekhika_export::Book::from_compiled(&serde_json::json!({
        "title": "किताब", "language": "Hindi", "chapters": [{"title": "एक", "content": "पाठ।"}]
    }))
    .unwrap();
    let html = String::from_utf8(
        exporter_for("html")
            .unwrap()
            .export(&hi, &ExportOptions::default())
            .unwrap(),
    )
    .unwrap();
    assert!(html.contains("<html lang=\"hi\">"), "not lang=\"Hindi\"");
    assert!(html.contains("अध्याय 1") && html.contains("विषय-सूची"));
}

#[test]
fn file_names_keep_indic_words_whole() {
    use lekhika_export::file_stem;
    assert_eq!(file_stem("मानचित्रकार की बेटी"), "मानचित्रकार-की-बेटी");
    assert_eq!(file_stem("地図職人の娘"), "地図職人の娘");
    assert_eq!(file_stem("The Long Road!"), "the-long-road");
    assert_eq!(file_stem("। ॥"), "book");
}
