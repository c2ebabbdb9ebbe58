//! Export throughput: a generated 30-chapter, ~90k-word book to EPUB,
//! DOCX, HTML, Markdown and PDF with `lekhika-export`, against pandoc
//! converting the same book from Markdown.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use lekhika_export::{export_all, Book, ExportOptions};
use serde_json::{json, Value};

use crate::error::BenchError;
use crate::measure::{median, round, runs, Record};

/// The formats, in the order they are reported.
pub const FORMATS: [&str; 5] = ["epub", "docx", "html", "md", "pdf"];

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
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
            }
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

/// The compile node's output for a book of `chapters` chapters of 30
/// paragraphs of 100 words (30 chapters ≈ 90k words), as in
/// `lekhika-export/tests/big_book.rs`.
///
/// `variant` changes every paragraph (same sizes), so successive exports
/// of different variants cannot reuse each other's cached layout (typst
/// memoizes layout within a process).
pub fn compiled_book(chapters: usize, variant: usize) -> Value {
    let list: Vec<Value> = (1..=chapters)
        .map(|n| {
            let mut content = format!("# Chapter {n}: Part {n}\n\n");
            for p in 0..30 {
                if p == 15 {
                    content.push_str("## Interlude\n\n* * *\n\n");
                }
                content.push_str(&paragraph(variant * 10_000 + n * 100 + p, 100));
                content.push_str("\n\n");
            }
            json!({"title": format!("Chapter {n}: Part {n}"), "content": content})
        })
        .collect();
    json!({"title": "Ninety Thousand", "author": "Load Test", "language": "en", "chapters": list})
}

/// The 30-chapter book (variant `variant`), parsed into the export model.
pub fn big_book(variant: usize) -> Result<Book, BenchError> {
    Ok(Book::from_compiled(&compiled_book(30, variant))?)
}

/// Export `book` to `format` once; returns the file's size.
pub fn export_once(book: &Book, format: &str) -> Result<usize, BenchError> {
    let files = export_all(book, &[format], &ExportOptions::default())?;
    Ok(files.iter().map(|f| f.bytes.len()).sum())
}

/// Is there a pandoc on PATH, and which PDF engine will it use?
pub fn pandoc_pdf_engine() -> Option<&'static str> {
    let have = |cmd: &str| {
        Command::new(cmd)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !have("pandoc") {
        return None;
    }
    ["pdflatex", "weasyprint", "wkhtmltopdf"]
        .into_iter()
        .find(|e| have(e))
}

fn pandoc_once(md: &Path, out: &Path, pdf_engine: Option<&str>) -> Result<f64, BenchError> {
    let mut cmd = Command::new("pandoc");
    cmd.arg(md).arg("-s").arg("-o").arg(out);
    if let Some(e) = pdf_engine {
        cmd.arg(format!("--pdf-engine={e}"));
    }
    let t = Instant::now();
    let o = cmd.output()?;
    let d = t.elapsed().as_secs_f64();
    if !o.status.success() {
        return Err(BenchError::unexpected(
            "export",
            format!(
                "pandoc -> {}: {}",
                out.display(),
                String::from_utf8_lossy(&o.stderr)
            ),
        ));
    }
    Ok(d)
}

/// One record per format: our median export time, pandoc's from our
/// Markdown export (the same text), and the ratio.
pub fn export_vs_pandoc(reps: usize) -> Result<Vec<Record>, BenchError> {
    let t = Instant::now();
    let book = big_book(0)?;
    let model_s = t.elapsed().as_secs_f64();
    let words = book.stats().word_count;
    let dir: PathBuf =
        std::env::temp_dir().join(format!("lekhika-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let md = dir.join("book.md");
    let files = export_all(&book, &["md"], &ExportOptions::default())?;
    for f in &files {
        std::fs::write(&md, &f.bytes)?;
    }
    let pdf_engine = pandoc_pdf_engine();
    let mut out = Vec::new();
    for format in FORMATS {
        // A different book per repetition: no run reuses another's layout.
        let mut ours = Vec::new();
        let mut bytes = 0;
        for rep in 0..reps.max(1) {
            let variant = if rep == 0 {
                book.clone()
            } else {
                big_book(rep)?
            };
            let t = Instant::now();
            bytes = export_once(&variant, format)?;
            ours.push(t.elapsed().as_secs_f64());
        }
        let m = median(&ours);
        let mut r = Record::new(&format!("X_export_{format}"), 0, m)
            .note("words", words)
            .note("bytes", bytes)
            .note("runs_s", runs(&ours))
            .note(
                "runs_are",
                "one different book per repetition; the first pdf run also loads the fonts",
            )
            .note("book_model_s", round(model_s, 6));
        if let Some(engine) = pdf_engine {
            let target = dir.join(format!("pandoc.{format}"));
            let engine = (format == "pdf").then_some(engine);
            let mut theirs = Vec::new();
            for _ in 0..reps.max(1) {
                theirs.push(pandoc_once(&md, &target, engine)?);
            }
            let p = median(&theirs);
            r = r
                .note("pandoc_s", round(p, 6))
                .note("pandoc_runs_s", runs(&theirs))
                .note(
                    "pandoc_cmd",
                    match engine {
                        Some(e) => format!("pandoc book.md -s -o book.{format} --pdf-engine={e}"),
                        None => format!("pandoc book.md -s -o book.{format}"),
                    },
                )
                .note("speedup_vs_pandoc", round(p / m, 2));
        } else {
            r = r.note("pandoc_s", Value::Null);
        }
        out.push(r);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
