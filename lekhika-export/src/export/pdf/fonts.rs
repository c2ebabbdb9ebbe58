//! Fonts compiled into the binary: typst-assets (Libertinus Serif, New Computer Modern, DejaVu
//! Sans Mono) plus Noto fonts for Devanagari, CJK and emoji (SIL OFL 1.1, see `fonts/LICENSE-*`).

use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

const NOTO: &[&[u8]] = &[
    include_bytes!("../../../fonts/NotoSerifDevanagari-Regular.ttf"),
    include_bytes!("../../../fonts/NotoSerifDevanagari-Bold.ttf"),
    include_bytes!("../../../fonts/NotoSansDevanagari-Regular.ttf"),
    include_bytes!("../../../fonts/NotoSansDevanagari-Bold.ttf"),
    // All Noto Sans CJK regions (JP, KR, SC, TC, HK and Mono) in one 19 MB collection.
    include_bytes!("../../../fonts/NotoSansCJK-Regular.ttc"),
];

#[cfg(feature = "pdf-emoji")]
const EMOJI: &[&[u8]] = &[include_bytes!("../../../fonts/NotoColorEmoji.ttf")];
#[cfg(not(feature = "pdf-emoji"))]
const EMOJI: &[&[u8]] = &[];

/// Every embedded font face, parsed once per process.
pub(crate) struct Fonts {
    pub(crate) book: LazyHash<FontBook>,
    pub(crate) fonts: Vec<Font>,
}

pub(crate) static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .chain(NOTO.iter().copied())
        .chain(EMOJI.iter().copied())
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// Font fallback list for body text, CJK region chosen from the book's language.
pub(crate) fn body_fonts(
    primary_language: &str,
    region: Option<&str>,
    script_hint: &str,
) -> Vec<&'static str> {
    let cjk = match (primary_language, region) {
        ("ja", _) => "Noto Sans CJK JP",
        ("ko", _) => "Noto Sans CJK KR",
        ("zh", Some("TW")) => "Noto Sans CJK TC",
        ("zh", Some("HK" | "MO")) => "Noto Sans CJK HK",
        ("zh", _) if script_hint.contains("hant") => "Noto Sans CJK TC",
        _ => "Noto Sans CJK SC",
    };
    vec![
        "Libertinus Serif",
        "Noto Serif Devanagari",
        cjk,
        "Noto Color Emoji",
    ]
}
