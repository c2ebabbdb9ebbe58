//! Shared test helpers: sample books and the external validators.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};

pub const HINDI: &str = "हिन्दी में लिखी गई किताब";
pub const CJK: &str = "这是一本用中文写的书";
pub const INJECTION: &str = "<script>alert('pwned')</script>";

pub fn cover_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(include_bytes!("cover.png"))
}

/// A multilingual sample book exercising every block type, AI clutter and an injection attempt.
pub fn sample_json() -> Value {
    json!({
        "title": "The Long Road",
        "subtitle": "A Novel of Many Tongues",
        "author": "Asha Verma",
        "language": "en",
        "description": "A sample book <b>with</b> markup & ampersands.",
        "publisher": "Lekhika Press",
        "isbn": "978-3-16-148410-0",
        "date": "2025-03-01",
        "dedication": "For everyone who writes.",
        "about_author": "Asha Verma writes in *three* languages.",
        "cover": {"mime": "image/png", "base64": cover_base64()},
        "chapters": [
            {"title": "Chapter 1: The Beginning", "content": format!(
                "Sure, here is chapter 1:\n\n# Chapter 1: The Beginning\n\nIt was a \"quiet\" morning -- the kind that... waited. \
                 The hero's cat wasn't impressed.[^1]\n\n## The Market\n\nShe said: {INJECTION} and left.\n\n\
                 > A quote to remember.\n\n- first item\n- second *item*\n\n1. one\n2. two\n\n* * *\n\n\
                 After the break, `let x = \"code\";` stayed literal. A [link](https://example.com) too.\n\n\
                 [^1]: Cats rarely are.\n\nLet me know if you'd like any changes!\n")},
            {"title": "हिन्दी अध्याय", "content": format!(
                "```markdown\n## {HINDI}\n\n{HINDI}। यह कहानी \"सच\" है... क्षत्रिय और श्री ने पढ़ा।\n```\n")},
            {"title": "中文章节", "content": format!(
                "{CJK}。日本語のテキストも少しあります。한국어 문장도 있습니다.\n\nEmoji: 📚✨\n")}
        ]
    })
}

pub fn sample_book() -> lekhika_export::Book {
    lekhika_export::Book::from_compiled(&sample_json()).unwrap()
}

/// Directory for test artefacts (inside the cargo target dir, kept for inspection).
pub fn out_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("lekhika-export").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn require() -> bool {
    std::env::var("LEKHIKA_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1")
}

/// True if `program` runs. When it does not and LEKHIKA_REQUIRE_VALIDATORS=1, panics;
/// otherwise prints that the check is skipped.
pub fn have(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !ok {
        assert!(
            !require(),
            "validator `{program}` is missing and LEKHIKA_REQUIRE_VALIDATORS=1"
        );
        eprintln!(
            "SKIPPED: `{program}` not installed (set LEKHIKA_REQUIRE_VALIDATORS=1 to fail instead)"
        );
    }
    ok
}

pub const EPUBCHECK_JAR: &str = "/usr/share/java/epubcheck.jar";

pub fn have_epubcheck() -> bool {
    let ok = Path::new(EPUBCHECK_JAR).exists() && have("java", &["-version"]);
    if !ok {
        assert!(
            !require(),
            "epubcheck ({EPUBCHECK_JAR}) missing and LEKHIKA_REQUIRE_VALIDATORS=1"
        );
        eprintln!("SKIPPED: epubcheck not installed");
    }
    ok
}

/// Runs a command, returns (success, stdout, stderr).
pub fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Removes all whitespace (pdftotext may break lines anywhere).
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A short novel in English, Hindi or Japanese, the language given as the flows give it (a name
/// such as "Hindi", or a code): chatter around chapters, dialogue, a list, bold and italic
/// text, a long chapter title that wraps, and no author (like the novel flow).
pub fn novel_json(language: &str) -> Value {
    let primary = lekhika_export::format::LanguageTag::parse(language).primary;
    let (title, chapters) = match primary.as_str() {
        "hi" => (
            "मानचित्रकार की बेटी",
            vec![
                ("एक बहुत लंबा अध्याय शीर्षक जो पंक्ति में नहीं समाता और दूसरी पंक्ति में जाता है", "ज़रूर! यह रहा अध्याय 1:\n\nरात गहरी थी। \"तुम कहाँ थे?\" उसने पूछा -- और चुप हो गई...\n\nउसके पास तीन चीज़ें थीं:\n\n- एक पुराना नक्शा\n- एक *टूटी हुई* कलम\n- **अंतिम** पत्र\n\nफिर वह *धीरे-धीरे* चली गई।\n\nअगर आप चाहें तो मैं अगला अध्याय लिख सकता हूँ।\n"),
                ("दूसरा दिन", "सुबह हुई। उसने *नक्शा* खोला और **पहाड़** की ओर देखा।\n"),
            ],
        ),
        "ja" => (
            "地図職人の娘",
            vec![
                ("とても長い章のタイトルは一行に収まらずに二行目へ折り返してしまうものです", "承知しました！以下が第1章です：\n\n夜は深かった。\"どこにいたの\"と彼女は尋ねた――そして黙った……\n\n骨の髄まで冷えていた。持ち物は三つ：\n\n- 古い地図\n- *折れた*ペン\n- **最後の**手紙\n\n彼女は**ゆっくりと**歩き出した。\n\nいかがでしょうか？修正があればお知らせください。\n"),
                ("二日目", "朝が来た。彼女は地図を開き、山を見た。\n"),
            ],
        ),
        _ => (
            "The Cartographer's Daughter",
            vec![
                ("A Very Long Chapter Title That Does Not Fit on One Line and Wraps to a Second", "Sure! Here is chapter 1:\n\n'Twas a dark night. \"Where were you?\" she asked -- and fell silent...\n\nShe carried three things:\n\n- an old map\n- a *broken* pen\n- the **last** letter\n\nThen she walked away, *slowly*.\n\nLet me know if you'd like any changes!\n"),
                ("The Second Day", "Morning came. She opened the map and looked at the **mountain**. It wasn't far.\n"),
            ],
        ),
    };
    let chapters: Vec<Value> = chapters
        .into_iter()
        .map(|(t, c)| json!({"title": t, "content": c}))
        .collect();
    json!({"title": title, "language": language, "chapters": chapters})
}
