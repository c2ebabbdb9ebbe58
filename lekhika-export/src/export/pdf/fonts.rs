//! Fonts compiled into the binary: typst-assets (Libertinus Serif, New Computer Modern, DejaVu
//! Sans Mono) plus Noto fonts for Devanagari, CJK and emoji (SIL OFL 1.1, see `fonts/LICENSE-*`),
//! and the font lists a book's language sets its text in.

use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

use crate::format::LanguageTag;

const NOTO: &[&[u8]] = &[
    include_bytes!("../../../fonts/NotoSerifDevanagari-Regular.ttf"),
    include_bytes!("../../../fonts/NotoSerifDevanagari-Bold.ttf"),
    include_bytes!("../../../fonts/NotoSansDevanagari-Regular.ttf"),
    include_bytes!("../../../fonts/NotoSansDevanagari-Bold.ttf"),
    // All Noto Sans CJK regions (JP, KR, SC, TC, HK and Mono) in one 19 MB collection.
    include_bytes!("../../../fonts/NotoSansCJK-Regular.ttc"),
    // Noto Serif CJK JP (Mincho) for Japanese text, JIS X 0208 subset (2.3 MB).
    include_bytes!("../../../fonts/NotoSerifCJKjp-Regular-subset.otf"),
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

/// The Noto Sans CJK face of the language's region (Japanese forms for Japanese, Traditional
/// for Taiwan and Hong Kong, ...; Simplified Chinese otherwise).
pub(crate) fn cjk_sans(lang: &LanguageTag) -> &'static str {
    match lang.primary.as_str() {
        "ja" => "Noto Sans CJK JP",
        "ko" => "Noto Sans CJK KR",
        "zh" if matches!(lang.region.as_deref(), Some("HK" | "MO")) => "Noto Sans CJK HK",
        "zh" if lang.is_traditional_chinese() => "Noto Sans CJK TC",
        _ => "Noto Sans CJK SC",
    }
}

/// Font fallback list for body text, as a Typst array. In CJK books the Latin face covers only
/// Latin text (`latin-in-cjk`), so quotes, dashes and ellipses come from the CJK face, full
/// width and centred; Japanese is set in a Mincho (serif) face, with the gothic face for kanji
/// outside the Mincho subset.
pub(crate) fn body_fonts(lang: &LanguageTag) -> String {
    let sans = cjk_sans(lang);
    let fonts: Vec<String> = if lang.is_cjk() {
        let mut f = vec!["(name: \"Libertinus Serif\", covers: \"latin-in-cjk\")".to_string()];
        if lang.primary == "ja" {
            f.push("\"Noto Serif CJK JP\"".into());
        }
        f.push(format!("\"{sans}\""));
        f.push("\"Noto Serif Devanagari\"".into());
        f
    } else {
        vec![
            "\"Libertinus Serif\"".to_string(),
            "\"Noto Serif Devanagari\"".to_string(),
            format!("\"{sans}\""),
        ]
    };
    format!("({}, \"Noto Color Emoji\")", fonts.join(", "))
}
