//! PDF: qpdf clean, text of every script extractable, all fonts embedded, pages rendered for review.

#![cfg(feature = "pdf")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use lekhika_export::{exporter_for, ExportOptions};

fn sample_pdf(name: &str) -> std::path::PathBuf {
    let book = sample_book();
    let path = out_dir("pdf").join(name);
    let t = std::time::Instant::now();
    exporter_for("pdf")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    eprintln!("sample PDF rendered in {:?}", t.elapsed());
    path
}

#[test]
fn pdf_is_a_pdf_with_expected_size() {
    let path = sample_pdf("bytes.pdf");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    if !have("pdfinfo", &["-v"]) {
        return;
    }
    let (ok, info, err) = run("pdfinfo", &[path.to_str().unwrap()]);
    assert!(ok, "{err}");
    // 6 × 9 in = 432 × 648 pt.
    assert!(info.contains("432 x 648 pts"), "{info}");
    assert!(info.contains("Title:           The Long Road"), "{info}");
    assert!(info.contains("Author:          Asha Verma"), "{info}");
}

#[test]
fn qpdf_check_is_clean() {
    let path = sample_pdf("qpdf.pdf");
    if !have("qpdf", &["--version"]) {
        return;
    }
    let (ok, out, err) = run("qpdf", &["--check", path.to_str().unwrap()]);
    assert!(ok, "qpdf --check failed:\n{out}\n{err}");
    assert!(
        out.contains("No syntax or stream encoding errors found"),
        "{out}"
    );
}

#[cfg(feature = "pdf-cjk")]
#[test]
fn pdftotext_returns_english_hindi_and_cjk() {
    let path = sample_pdf("text.pdf");
    if !have("pdftotext", &["-v"]) {
        return;
    }
    let (ok, text, err) = run("pdftotext", &[path.to_str().unwrap(), "-"]);
    assert!(ok, "{err}");
    let flat = squash(&text);
    for needle in [
        "TheLongRoad",
        "Itwasa“quiet”morning",
        "Contents",
        "TheBeginning",
        &squash(HINDI),
        &squash(CJK),
        "日本語のテキスト",
        "한국어",
        "<script>alert(",
        "AbouttheAuthor",
    ] {
        assert!(flat.contains(needle), "pdftotext lacks {needle:?}:\n{text}");
    }
    assert!(!flat.contains("Sure,hereis"), "preamble leaked");
}

#[test]
fn pdffonts_shows_every_font_embedded() {
    let path = sample_pdf("fonts.pdf");
    if !have("pdffonts", &["-v"]) {
        return;
    }
    let (ok, out, err) = run("pdffonts", &[path.to_str().unwrap()]);
    assert!(ok, "{err}");
    let rows: Vec<&str> = out
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(rows.len() >= 3, "expected several fonts:\n{out}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type [encoding...] emb sub uni object ID: emb is the 5th column from the end.
        let emb = cols[cols.len() - 5];
        assert_eq!(emb, "yes", "font not embedded: {row}\n{out}");
    }
    let mut families = vec!["Libertinus", "NotoSerifDevanagari"];
    if cfg!(feature = "pdf-cjk") {
        families.push("NotoSansCJK");
    }
    for family in families {
        assert!(out.contains(family), "{family} missing:\n{out}");
    }
}

#[test]
fn pages_render_for_review() {
    let path = sample_pdf("pages.pdf");
    if !have("pdftoppm", &["-v"]) {
        return;
    }
    let prefix = out_dir("pdf").join("page");
    let (ok, _, err) = run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "12",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let pngs = std::fs::read_dir(out_dir("pdf"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("page-")
        })
        .count();
    assert!(pngs >= 8, "expected at least 8 pages, got {pngs}");
}

#[test]
fn custom_trim_and_margins() {
    let book = sample_book();
    let opts = ExportOptions {
        trim: lekhika_export::TrimSize::A5,
        margin_inside_mm: 25.0,
        ..ExportOptions::default()
    };
    let pdf = exporter_for("pdf").unwrap().export(&book, &opts).unwrap();
    let path = out_dir("pdf").join("a5.pdf");
    std::fs::write(&path, pdf).unwrap();
    if !have("pdfinfo", &["-v"]) {
        return;
    }
    let (_, info, _) = run("pdfinfo", &[path.to_str().unwrap()]);
    assert!(info.contains("419.528 x 595.276 pts"), "{info}");
}

#[test]
fn typst_markup_injection_is_inert() {
    let book = lekhika_export::Book::from_compiled(&serde_json::json!({
        "title": "T #set page(width: 1cm) ]",
        "chapters": [{"title": "A #pagebreak() $x$", "content": "#set text(size: 1pt)\n\nText with #emph[x] and $math$ and @ref <label> // comment /* c */ \\"}]
    }))
    .unwrap();
    let source = lekhika_export::export::typst_source(&book, &ExportOptions::default());
    assert!(!source.contains("#set text(size: 1pt)"));
    let pdf = exporter_for("pdf")
        .unwrap()
        .export(&book, &ExportOptions::default())
        .unwrap();
    let path = out_dir("pdf").join("inject.pdf");
    std::fs::write(&path, pdf).unwrap();
    if !have("pdftotext", &["-v"]) {
        return;
    }
    let (_, text, _) = run("pdftotext", &[path.to_str().unwrap(), "-"]);
    let flat = squash(&text);
    assert!(flat.contains("#settext(size:1pt)"), "{text}");
    assert!(
        flat.contains("#emph[x]and$math$and@ref<label>//comment/*c*/"),
        "{text}"
    );
}

#[cfg(all(feature = "pdf-cjk", feature = "epub", feature = "docx"))]
#[test]
fn hindi_cjk_and_minimal_books_export_to_every_format() {
    let books = [
        serde_json::json!({"title": "किताब", "language": "hi", "author": "लेखक",
            "chapters": [{"title": "पहला अध्याय", "content": format!("{HINDI}।\n\n\"उद्धरण\" -- ठीक है...")}]}),
        serde_json::json!({"title": "書", "language": "zh-Hant-TW",
            "chapters": [{"title": "第一章", "content": "這是一本書。"}]}),
        serde_json::json!({"title": "Empty"}),
    ];
    for json in books {
        let book = lekhika_export::Book::from_compiled(&json).unwrap();
        let files = lekhika_export::export_all(
            &book,
            &["pdf", "epub", "docx", "html", "md"],
            &ExportOptions::default(),
        )
        .unwrap();
        assert_eq!(files.len(), 5);
        assert!(files.iter().all(|f| !f.bytes.is_empty()));
        if json["language"] == "hi" {
            // Hindi gets curly quotes, dashes and ellipses like print Hindi.
            let md = String::from_utf8(files[4].bytes.clone()).unwrap();
            assert!(md.contains("“उद्धरण” — ठीक है…"), "{md}");
            let path = out_dir("pdf").join("hindi-book.pdf");
            std::fs::write(&path, &files[0].bytes).unwrap();
            if have("pdftotext", &["-v"]) {
                let (_, text, _) = run("pdftotext", &[path.to_str().unwrap(), "-"]);
                assert!(text.contains(HINDI), "{text}");
                assert!(text.contains("अध्याय 1"), "{text}");
            }
        }
    }
}

/// The novel in `language` as a PDF in the test output directory, and its text.
fn novel_pdf(language: &str, name: &str) -> (std::path::PathBuf, Option<String>) {
    let book = lekhika_export::Book::from_compiled(&novel_json(language)).unwrap();
    let path = out_dir("novels").join(format!("{name}.pdf"));
    exporter_for("pdf")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    let text =
        have("pdftotext", &["-v"]).then(|| run("pdftotext", &[path.to_str().unwrap(), "-"]).1);
    (path, text)
}

#[test]
fn novels_in_three_languages_by_name_and_code_have_their_labels_and_fonts() {
    for (language, name, contents, chapter, face) in [
        ("English", "en-name", "Contents", "CHAPTER1", "Libertinus"),
        (
            "Hindi",
            "hi-name",
            "विषय-सूची",
            "अध्याय1",
            "NotoSerifDevanagari",
        ),
        ("hi", "hi-code", "विषय-सूची", "अध्याय1", "NotoSerifDevanagari"),
        #[cfg(feature = "pdf-cjk")]
        ("Japanese", "ja-name", "目次", "第1章", "NotoSerifCJKjp"),
        #[cfg(feature = "pdf-cjk")]
        ("ja", "ja-code", "目次", "第1章", "NotoSerifCJKjp"),
    ] {
        let (path, text) = novel_pdf(language, name);
        if let Some(text) = text {
            let flat = squash(&text);
            assert!(flat.contains(contents), "{language}: no {contents}: {text}");
            assert!(flat.contains(chapter), "{language}: no {chapter}: {text}");
            for chatter in [
                "Sure!",
                "ज़रूर",
                "जरूर!",
                "承知しました",
                "Letmeknow",
                "अगरआपचाहें",
                "いかがでしょうか",
            ] {
                assert!(
                    !flat.contains(&squash(chatter)),
                    "{language}: {chatter} printed"
                );
            }
            // No bare copyright line: the novel has no author.
            assert!(
                !flat.contains("Copyright©") && !flat.contains("©"),
                "{language}: {text}"
            );
            if language == "English" {
                assert!(flat.contains("’Twasadarknight.“Wherewereyou?”"), "{text}");
            }
            if chapter == "第1章" {
                // The contents number chapters like their openings.
                let toc = &flat[flat.find("目次").unwrap()..];
                assert!(toc.starts_with("目次第1章"), "{toc}");
            }
        }
        if have("pdffonts", &["-v"]) {
            let (_, fonts, _) = run("pdffonts", &[path.to_str().unwrap()]);
            assert!(fonts.contains(face), "{language}: {face} missing:\n{fonts}");
            if language.starts_with('J') || language == "ja" {
                // Not the Simplified Chinese face.
                assert!(!fonts.contains("CJKsc"), "{fonts}");
            }
        }
    }
}

#[test]
fn pdf_language_metadata_is_the_resolved_tag() {
    let (path, _) = novel_pdf("Hindi", "hi-lang");
    if !have("qpdf", &["--version"]) {
        return;
    }
    // Uncompressed object streams, so the catalog can be read.
    let plain = out_dir("novels").join("hi-lang-qdf.pdf");
    let (_, _, err) = run(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            path.to_str().unwrap(),
            plain.to_str().unwrap(),
        ],
    );
    let raw = String::from_utf8_lossy(&std::fs::read(&plain).unwrap()).into_owned();
    assert!(raw.contains("/Lang (hi)"), "PDF /Lang is not hi: {err}");
    assert!(!raw.contains("/Lang (Hindi)") && !raw.contains("/Lang (en)"));
}

/// The PDF of a one-chapter book with all streams uncompressed (qpdf --qdf), or None without qpdf.
fn plain_pdf(language: &str, content: &str, name: &str) -> Option<String> {
    let book = lekhika_export::Book::from_compiled(&serde_json::json!({
        "title": "T", "language": language, "chapters": [{"title": "A", "content": content}]
    }))
    .unwrap();
    let path = out_dir("novels").join(format!("{name}.pdf"));
    exporter_for("pdf")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    if !have("qpdf", &["--version"]) {
        return None;
    }
    let plain = out_dir("novels").join(format!("{name}-qdf.pdf"));
    run(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            path.to_str().unwrap(),
            plain.to_str().unwrap(),
        ],
    );
    Some(String::from_utf8_lossy(&std::fs::read(plain).unwrap()).into_owned())
}

#[test]
fn devanagari_italic_is_slanted_not_upright() {
    // tan(12°) = 0.2126: the shear of the slanted words' transformation matrix.
    let Some(italic) = plain_pdf("hi", "वह *धीरे-धीरे* चली गई।", "hi-italic")
    else {
        return;
    };
    assert!(italic.contains("0.21255"), "no slant");
    let upright = plain_pdf("hi", "वह धीरे-धीरे चली गई।", "hi-upright").unwrap();
    assert!(!upright.contains("0.21255"));
}

#[cfg(feature = "pdf-cjk")]
#[test]
fn cjk_bold_is_drawn_heavier() {
    // Bold CJK text is filled and stroked (text render mode 2); regular text is only filled.
    let Some(bold) = plain_pdf("ja", "彼女は**ゆっくりと**歩いた。", "ja-bold") else {
        return;
    };
    assert!(bold.contains("2 Tr"), "CJK bold is not emboldened");
    let regular = plain_pdf("ja", "彼女はゆっくりと歩いた。", "ja-regular").unwrap();
    assert!(!regular.contains("2 Tr"));
}

/// Without `pdf-cjk` there are no CJK fonts: a Chinese, Japanese or Korean book fails with an
/// error naming the feature instead of printing empty boxes; CJK words in a book of another
/// language are empty boxes and the export succeeds.
#[cfg(not(feature = "pdf-cjk"))]
#[test]
fn without_pdf_cjk_a_cjk_book_fails_clearly_and_stray_cjk_is_boxes() {
    for language in ["ja", "Chinese", "ko-KR", "zh-Hant-TW"] {
        let book = lekhika_export::Book::from_compiled(&serde_json::json!({
            "title": "書", "language": language,
            "chapters": [{"title": "第一章", "content": "これは本です。"}]
        }))
        .unwrap();
        let err = exporter_for("pdf")
            .unwrap()
            .export(&book, &ExportOptions::default())
            .unwrap_err();
        assert!(
            matches!(err, lekhika_export::ExportError::MissingFonts(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("`pdf-cjk`"), "{err}");
        assert!(!err.is_retryable());
    }
    let Some(stray) = plain_pdf("en", "He said 你好 and left.", "en-stray-cjk") else {
        return;
    };
    assert!(stray.contains("Libertinus"));
}

/// Words of page `page` with their boxes (xMin, yMin, xMax, yMax), from `pdftotext -bbox`.
fn words(pdf: &std::path::Path, page: u32) -> Vec<(String, [f64; 4])> {
    let p = page.to_string();
    let (_, html, _) = run(
        "pdftotext",
        &["-f", &p, "-l", &p, "-bbox", pdf.to_str().unwrap(), "-"],
    );
    html.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("<word ")?;
            let (attrs, rest) = l.split_once('>')?;
            let text = rest.strip_suffix("</word>")?.to_string();
            let nums: Vec<f64> = attrs
                .split('"')
                .skip(1)
                .step_by(2)
                .filter_map(|v| v.parse().ok())
                .collect();
            (nums.len() == 4).then(|| (text, [nums[0], nums[1], nums[2], nums[3]]))
        })
        .collect()
}

#[test]
fn wrapped_chapter_titles_keep_even_word_spaces_and_lists_have_room() {
    let (path, _) = novel_pdf("English", "en-layout");
    if !have("pdftotext", &["-v"]) {
        return;
    }
    // Chapter 1 opens on page 7 (half-title, blank, title, blank, contents, blank).
    let w = words(&path, 7);
    assert!(
        w.iter().any(|(t, _)| t == "Second"),
        "chapter 1 is not on page 7: {w:?}"
    );
    // Title words are the tall ones; group them by line.
    let mut lines: Vec<Vec<[f64; 4]>> = Vec::new();
    for (_, b) in w.iter().filter(|(_, b)| b[3] - b[1] > 25.0) {
        match lines.last_mut() {
            Some(line) if (line[0][1] - b[1]).abs() < 1.0 => line.push(*b),
            _ => lines.push(vec![*b]),
        }
    }
    assert!(lines.len() >= 3, "the long title wraps: {lines:?}");
    let gaps: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.windows(2).map(|p| p[1][0] - p[0][2]).collect::<Vec<_>>())
        .collect();
    let (min, max) = gaps
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), g| (lo.min(*g), hi.max(*g)));
    let height = lines[0][0][3] - lines[0][0][1];
    assert!(
        max - min < 0.5 && max < 0.35 * height,
        "title word gaps {gaps:?} (justified?)"
    );
    // A list has more room above and below it than between its items.
    let y = |word: &str| {
        w.iter()
            .find(|(t, _)| t == word)
            .map(|(_, b)| b[1])
            .unwrap()
    };
    let (para, first, second, after) = (y("carried"), y("old"), y("broken"), y("Then"));
    let (third, item_gap) = (y("letter"), second - first);
    assert!(
        first - para > item_gap + 3.0,
        "list tight below its paragraph"
    );
    assert!(
        after - third > item_gap + 3.0,
        "paragraph tight below the list"
    );
}

#[test]
fn the_book_opens_with_a_half_title_then_the_title_page() {
    let mut json = novel_json("English");
    json["author"] = "A. Writer".into();
    let book = lekhika_export::Book::from_compiled(&json).unwrap();
    let path = out_dir("novels").join("half-title.pdf");
    exporter_for("pdf")
        .unwrap()
        .write_to(&book, &ExportOptions::default(), &path)
        .unwrap();
    if !have("pdftotext", &["-v"]) {
        return;
    }
    let page = |n: &str| {
        squash(
            &run(
                "pdftotext",
                &["-f", n, "-l", n, path.to_str().unwrap(), "-"],
            )
            .1,
        )
    };
    // Recto i: the title alone; verso ii: blank; recto iii: title and author; verso iv: copyright.
    assert_eq!(page("1"), "TheCartographer’sDaughter");
    assert_eq!(page("2"), "");
    assert_eq!(page("3"), "TheCartographer’sDaughterA.Writer");
    assert!(page("4").starts_with("Copyright©A.Writer"), "{}", page("4"));
}
