//! The book's language as typed ("Hindi", "hi", "Japanese", "ja") is resolved once, and
//! labels, quotes and the AI clean-up follow it.

#![allow(clippy::unwrap_used)]

use lekhika_export::format::{
    clean_chapter, is_offer, is_preamble, normalize_chapter_title, smarten,
};
use lekhika_export::model::blocks_plain_text;
use lekhika_export::Book;
use serde_json::json;

fn book(language: &str, chapters: serde_json::Value) -> Book {
    Book::from_compiled(&json!({"title": "T", "language": language, "chapters": chapters})).unwrap()
}

#[test]
fn names_and_codes_give_the_same_tag_and_labels() {
    for (given, tag, contents, chapter) in [
        ("English", "en", "Contents", "Chapter 1"),
        ("english", "en", "Contents", "Chapter 1"),
        ("Hindi", "hi", "विषय-सूची", "अध्याय 1"),
        ("hindi", "hi", "विषय-सूची", "अध्याय 1"),
        ("hi", "hi", "विषय-सूची", "अध्याय 1"),
        ("hi-IN", "hi-IN", "विषय-सूची", "अध्याय 1"),
        ("Japanese", "ja", "目次", "第1章"),
        ("ja", "ja", "目次", "第1章"),
        ("日本語", "ja", "目次", "第1章"),
    ] {
        let b = book(given, json!([{"title": "x", "content": "y"}]));
        assert_eq!(b.metadata.language, tag, "{given}");
        let labels = b.default_labels();
        assert_eq!(labels.contents, contents, "{given}");
        assert_eq!(labels.chapter(1), chapter, "{given}");
    }
}

#[test]
fn hindi_and_japanese_chatter_is_removed() {
    let hi = "ज़रूर! यह रहा अध्याय 2:\n\nरात गहरी थी।\n\nअगर आप चाहें तो मैं अगला अध्याय लिख सकता हूँ।\n";
    assert_eq!(clean_chapter("नया दिन", hi), "रात गहरी थी।\n");
    let ja = "承知しました！以下が第1章です：\n\n雨が降っていた。\n\nいかがでしょうか？修正があればお知らせください。\n";
    assert_eq!(clean_chapter("雨", ja), "雨が降っていた。\n");
    // Story text that merely starts like chatter stays.
    assert!(!is_preamble("बिल्कुल सन्नाटा छा रहा था।"));
    assert!(!is_preamble("はい、と彼女は言った。"));
    assert!(!is_offer("何かが変わった。"));
    // Other label languages.
    for line in [
        "Gerne! Hier ist Kapitel 3:",
        "Bien sûr ! Voici le chapitre 3 :",
        "¡Claro! Aquí está el capítulo 3:",
        "Claro! Aqui está o capítulo 3:",
        "Certo! Ecco il capitolo 3:",
        "नक्कीच! हा घ्या अध्याय ३:",
        "पक्कै! यो रह्यो अध्याय ३:",
        "好的！以下是第3章：",
        "물론입니다! 다음은 3장입니다:",
    ] {
        assert!(is_preamble(line), "{line}");
    }
}

#[test]
fn chapter_prefixes_in_every_language_are_stripped() {
    for (title, want) in [
        ("अध्याय 2: नया दिन", "नया दिन"),
        ("अध्याय २ — नया दिन", "नया दिन"),
        ("第1章 雨", "雨"),
        ("第十二章：雨", "雨"),
        ("Kapitel 3: Der Sturm", "Der Sturm"),
        ("제3장 비", "비"),
    ] {
        assert_eq!(normalize_chapter_title(title), want, "{title}");
    }
    // A repeated "अध्याय 2" heading at the top of a chapter goes.
    assert_eq!(
        clean_chapter("नया दिन", "## अध्याय 2: नया दिन\n\nरात।\n"),
        "रात।\n"
    );
}

#[test]
fn english_quotes_are_curly_everywhere_with_elisions() {
    // Given as a name, English still gets its typography (it used to be left straight).
    let b = book(
        "English",
        json!([
            {"title": "One", "content": "\"Hello,\" she said. 'Twas the night; we'd 'em all."},
            {"title": "Two", "content": "'Tis 'cause of the '90s, the Joneses' dog said 'no'."}
        ]),
    );
    let one = blocks_plain_text(&b.chapters[0].blocks);
    let two = blocks_plain_text(&b.chapters[1].blocks);
    assert_eq!(
        one.trim(),
        "“Hello,” she said. ’Twas the night; we’d ’em all."
    );
    assert_eq!(
        two.trim(),
        "’Tis ’cause of the ’90s, the Joneses’ dog said ‘no’."
    );
    assert!(!one.contains(['"', '\'']) && !two.contains(['"', '\'']));
}

#[test]
fn quotes_follow_the_language() {
    assert_eq!(smarten("\"Hallo\", geht's?", "German"), "„Hallo“, geht’s?");
    assert_eq!(smarten("\"नमस्ते\" -- ठीक है...", "Hindi"), "“नमस्ते” — ठीक है…");
    assert_eq!(
        smarten("彼は\"はい\"と言った...", "Japanese"),
        "彼は「はい」と言った……"
    );
    assert_eq!(smarten("他说\"好\"", "zh-CN"), "他说“好”");
    assert_eq!(smarten("他說\"好\"", "zh-TW"), "他說「好」");
    // Apostrophes inside words stay apostrophes in CJK books too.
    assert_eq!(smarten("don't", "ja"), "don’t");
}

#[test]
fn an_unknown_language_is_und_everywhere_and_still_exports() {
    let b = book(
        "Klingon",
        json!([{"title": "A", "content": "\"Qapla'\" -- yes..."}]),
    );
    assert_eq!(b.metadata.language, "und");
    let files = lekhika_export::export_all(
        &b,
        &["pdf", "epub", "docx", "html", "md"],
        &lekhika_export::ExportOptions::default(),
    )
    .unwrap();
    let html = String::from_utf8(files[3].bytes.clone()).unwrap();
    assert!(html.contains("<html lang=\"und\">"));
    assert!(!html.contains("Klingon"));
    // Unknown languages get English labels and no quote rules.
    assert!(html.contains("Chapter 1") && html.contains("&quot;Qapla&#39;&quot;"));
}
