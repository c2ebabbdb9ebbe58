//! `lekhika::write_manuscript`: a finished manuscript (Markdown with front matter, or the
//! compiled-book JSON) to all five formats, without a run or a store.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lekhika-manuscript-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn all() -> Vec<String> {
    lekhika::ALL_FORMATS.iter().map(|s| s.to_string()).collect()
}

const MD: &str = "---\ntitle: \"The Quiet Harbour\"\nauthor: Asha Verma\nlang: Hindi\ncover-image: cover.png\n---\n\n# अध्याय 1: बंदरगाह\n\nरात गहरी थी। \"तुम कहाँ थे?\"\n\n# अध्याय 2: सुबह\n\nसुबह हुई।\n";

#[test]
fn a_markdown_manuscript_exports_to_all_five_formats() {
    let dir = tmpdir("md");
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    )
    .unwrap();
    std::fs::write(dir.join("cover.png"), png).unwrap();
    let md = dir.join("book.md");
    std::fs::write(&md, MD).unwrap();
    let out = dir.join("out");
    let written = lekhika::write_manuscript(&md, &all(), &out, None).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for ext in ["pdf", "epub", "docx", "html", "md"] {
        assert!(
            names.contains(&format!("the-quiet-harbour.{ext}")),
            "{names:?}"
        );
    }
    assert!(std::fs::read(out.join("the-quiet-harbour.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    let html = std::fs::read_to_string(out.join("the-quiet-harbour.html")).unwrap();
    assert!(
        html.contains("<html lang=\"hi\">"),
        "the language name was resolved"
    );
    assert!(html.contains("अध्याय 2") && html.contains("“तुम कहाँ थे?”"));
    assert!(
        html.contains("data:image/png;base64,"),
        "cover-image became the cover"
    );
    let md_out = std::fs::read_to_string(out.join("the-quiet-harbour.md")).unwrap();
    assert!(
        md_out.starts_with("---\ntitle: \"The Quiet Harbour\"\n"),
        "{md_out}"
    );
}

#[test]
fn a_compiled_book_json_manuscript_exports_too() {
    let dir = tmpdir("json");
    let path = dir.join("book.json");
    std::fs::write(
        &path,
        r#"{"title": "地図", "language": "Japanese", "chapters": [{"title": "一", "content": "本文。"}]}"#,
    )
    .unwrap();
    let files =
        lekhika::export_manuscript(&path, &["epub".to_string(), "md".to_string()], None).unwrap();
    assert_eq!(files.len(), 2);
    let md = String::from_utf8(files[1].bytes.clone()).unwrap();
    assert!(md.contains("lang: ja") && md.contains("第1章"), "{md}");
}

#[test]
fn bad_manuscripts_are_bad_input_naming_the_file() {
    let dir = tmpdir("bad");
    let missing = dir.join("missing.md");
    let e = lekhika::write_manuscript(&missing, &all(), &dir, None).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("missing.md"),
        "{e}"
    );
    let unclosed = dir.join("unclosed.md");
    std::fs::write(&unclosed, "---\ntitle: x\n# One\n").unwrap();
    let e = lekhika::export_manuscript(&unclosed, &all(), None).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("never closed"),
        "{e}"
    );
    let odd = dir.join("book.rtf");
    std::fs::write(&odd, "x").unwrap();
    assert!(lekhika::read_manuscript(&odd).unwrap_err().is_bad_input());
    let good = dir.join("good.md");
    std::fs::write(&good, "# T\n\n# One\n\nText.\n").unwrap();
    let e = lekhika::export_manuscript(&good, &["rtf".to_string()], None).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
}
