//! Fonts compiled into the binary: Libertinus Serif and DejaVu Sans Mono (the faces of
//! typst-assets that a book uses), Noto Serif/Sans Devanagari, and with their features Noto
//! Sans/Serif CJK (`pdf-cjk`, `pdf-cjk-full`) and Noto Color Emoji (`pdf-emoji`); SIL OFL 1.1 and
//! the Bitstream Vera licence, see `fonts/LICENSE-*`. And the font lists a book's language sets
//! its text in.
//!
//! The files are stored zlib-compressed (`fonts/*.z`, made by `fonts/pack.py`): ~12 MB less in
//! the binary. A file is inflated the first time typst asks for one of its faces, once per
//! process; the font book is built from `fonts/index.json` (typst's description of every face),
//! so a Latin book never inflates the CJK collection.

use std::sync::{LazyLock, OnceLock};

use serde::{Deserialize, Serialize};
use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

use crate::format::LanguageTag;
use crate::model::Book;
use crate::ExportError;

/// One font file compiled into the binary, zlib-compressed when its name ends in `.z`.
struct Packed {
    name: &'static str,
    data: &'static [u8],
}

macro_rules! packed {
    ($name:literal) => {
        Packed {
            name: $name,
            data: include_bytes!(concat!("../../../fonts/", $name)),
        }
    };
}

const FILES: &[Packed] = &[
    packed!("LibertinusSerif-Regular.otf.z"),
    packed!("LibertinusSerif-Bold.otf.z"),
    packed!("LibertinusSerif-Italic.otf.z"),
    packed!("LibertinusSerif-BoldItalic.otf.z"),
    packed!("DejaVuSansMono.ttf.z"),
    packed!("DejaVuSansMono-Bold.ttf.z"),
    packed!("DejaVuSansMono-Oblique.ttf.z"),
    packed!("DejaVuSansMono-BoldOblique.ttf.z"),
    packed!("NotoSerifDevanagari-Regular.ttf.z"),
    packed!("NotoSerifDevanagari-Bold.ttf.z"),
    packed!("NotoSansDevanagari-Regular.ttf.z"),
    packed!("NotoSansDevanagari-Bold.ttf.z"),
    // Noto Sans CJK JP, KR, SC, TC, HK: each region's standard character set (fonts/README.md).
    #[cfg(all(feature = "pdf-cjk", not(feature = "pdf-cjk-full")))]
    packed!("NotoSansCJK-Regular-subset.ttc.z"),
    // Every Noto Sans CJK face (and Mono), every ideograph: 19 MB, stored as is (deflate saves 20 %).
    #[cfg(feature = "pdf-cjk-full")]
    packed!("NotoSansCJK-Regular.ttc"),
    // Noto Serif CJK JP (Mincho) for Japanese text, JIS X 0208 subset.
    #[cfg(feature = "pdf-cjk")]
    packed!("NotoSerifCJKjp-Regular-subset.otf.z"),
    #[cfg(feature = "pdf-emoji")]
    packed!("NotoColorEmoji.ttf.z"),
];

/// One face of a font file, as listed in `fonts/index.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct IndexEntry {
    /// `Packed::name` without `.z`.
    file: String,
    /// The face's index in a collection (0 for a single font).
    index: u32,
    info: FontInfo,
}

const INDEX: &str = include_str!("../../../fonts/index.json");

fn file_key(packed: &Packed) -> &'static str {
    packed.name.strip_suffix(".z").unwrap_or(packed.name)
}

/// The file's font data, inflated if it is compressed. Empty if it does not inflate (a packing
/// bug the font index test catches): typst then finds no face in it.
fn unpack(packed: &Packed) -> Bytes {
    if packed.name.ends_with(".z") {
        Bytes::new(miniz_oxide::inflate::decompress_to_vec_zlib(packed.data).unwrap_or_default())
    } else {
        Bytes::new(packed.data)
    }
}

/// Typst's description of each face of `data`, in collection order.
fn describe(file: &str, data: &[u8]) -> Vec<IndexEntry> {
    (0..)
        .map_while(|index| {
            FontInfo::new(data, index).map(|info| IndexEntry {
                file: file.to_string(),
                index,
                info,
            })
        })
        .collect()
}

/// Every embedded font face: described up front, inflated and parsed when first used.
pub(crate) struct Fonts {
    pub(crate) book: LazyHash<FontBook>,
    /// Per face of the book: its file in `FILES` and its index there.
    faces: Vec<(usize, u32)>,
    files: Vec<OnceLock<Bytes>>,
    fonts: Vec<OnceLock<Option<Font>>>,
}

impl Fonts {
    fn load() -> Self {
        let index: Vec<IndexEntry> = serde_json::from_str(INDEX).unwrap_or_default();
        let files: Vec<OnceLock<Bytes>> = FILES.iter().map(|_| OnceLock::new()).collect();
        let mut faces = Vec::new();
        let mut infos = Vec::new();
        for (f, packed) in FILES.iter().enumerate() {
            let key = file_key(packed);
            let mut listed: Vec<IndexEntry> =
                index.iter().filter(|e| e.file == key).cloned().collect();
            if listed.is_empty() {
                // Not in the index (a test fails until it is): describe it the slow way.
                listed = describe(key, files[f].get_or_init(|| unpack(packed)));
            }
            for entry in listed {
                faces.push((f, entry.index));
                infos.push(entry.info);
            }
        }
        Self {
            book: LazyHash::new(FontBook::from_infos(infos)),
            fonts: faces.iter().map(|_| OnceLock::new()).collect(),
            faces,
            files,
        }
    }

    /// The face at `index` of the book, inflating its file on first use.
    pub(crate) fn font(&self, index: usize) -> Option<Font> {
        let (file, face) = *self.faces.get(index)?;
        self.fonts[index]
            .get_or_init(|| {
                let data = self.files[file].get_or_init(|| unpack(&FILES[file]));
                Font::new(data.clone(), face)
            })
            .clone()
    }
}

pub(crate) static FONTS: LazyLock<Fonts> = LazyLock::new(Fonts::load);

/// Fails when the book's language is written in a script whose fonts this build leaves out:
/// without `pdf-cjk` a Chinese, Japanese or Korean book would be all boxes. Characters that no
/// embedded face covers in a book of another language (a Chinese quotation in an English book
/// without `pdf-cjk`, emoji without `pdf-emoji`, scripts no feature embeds such as Tamil or
/// Bengali) are drawn as the body font's .notdef box, as typst does, and the export succeeds.
pub(crate) fn check_script(book: &Book) -> Result<(), ExportError> {
    let tag = book.metadata.language_tag();
    if tag.is_cjk() && !cfg!(feature = "pdf-cjk") {
        return Err(ExportError::MissingFonts(format!(
            "PDF of a book in `{}` needs the Chinese, Japanese and Korean fonts, which this build \
             leaves out: build with the `pdf-cjk` feature (e.g. `cargo install --path lekhika-cli \
             --features pdf-cjk`)",
            tag.tag
        )));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const FONT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fonts");

    /// Every font file in `fonts/` (whichever features are on), as `Packed::name`.
    fn font_files_on_disk() -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(FONT_DIR)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                [".z", ".ttf", ".otf", ".ttc"]
                    .iter()
                    .any(|ext| n.ends_with(ext))
            })
            .collect();
        names.sort();
        names
    }

    /// `fonts/index.json` must describe every face of every font file exactly as typst does.
    /// `LEKHIKA_WRITE_FONT_INDEX=1` rewrites it from every font file in `fonts/`, compiled in
    /// or not (so any feature set will do).
    #[test]
    fn font_index_matches_the_embedded_fonts() {
        if std::env::var("LEKHIKA_WRITE_FONT_INDEX").is_ok_and(|v| v == "1") {
            let mut lines = Vec::new();
            for name in font_files_on_disk() {
                let data = std::fs::read(format!("{FONT_DIR}/{name}")).unwrap();
                let name: &'static str = Box::leak(name.into_boxed_str());
                let packed = Packed {
                    name,
                    data: Box::leak(data.into_boxed_slice()),
                };
                let faces = describe(file_key(&packed), &unpack(&packed));
                assert!(!faces.is_empty(), "{name}: no font face in it");
                lines.extend(faces.iter().map(|e| serde_json::to_string(e).unwrap()));
            }
            std::fs::write(
                format!("{FONT_DIR}/index.json"),
                format!("[\n{}\n]\n", lines.join(",\n")),
            )
            .unwrap();
            return;
        }
        let index: Vec<IndexEntry> = serde_json::from_str(INDEX).unwrap();
        let mut fresh = Vec::new();
        for packed in FILES {
            let faces = describe(file_key(packed), &unpack(packed));
            assert!(!faces.is_empty(), "{}: no font face in it", packed.name);
            fresh.extend(faces);
        }
        for entry in &fresh {
            assert!(
                index.contains(entry),
                "fonts/index.json is out of date for {} face {}: run \
                 LEKHIKA_WRITE_FONT_INDEX=1 cargo test -p lekhika-export --lib font_index",
                entry.file,
                entry.index
            );
        }
        // Every file on disk is described (so that any feature set finds its files there).
        for name in font_files_on_disk() {
            let key = name.strip_suffix(".z").unwrap_or(&name);
            assert!(
                index.iter().any(|e| e.file == key),
                "fonts/index.json lacks {name}: run \
                 LEKHIKA_WRITE_FONT_INDEX=1 cargo test -p lekhika-export --lib font_index"
            );
        }
        let fonts = Fonts::load();
        assert_eq!(
            fonts.faces.len(),
            fresh.len(),
            "faces listed twice in fonts/index.json"
        );
        // The book came from the index: nothing was inflated to build it.
        assert!(fonts.files.iter().all(|f| f.get().is_none()));
        for (i, entry) in fresh.iter().enumerate() {
            assert_eq!(fonts.book.info(i), Some(&entry.info));
            assert_eq!(fonts.font(i).unwrap().info(), &entry.info);
        }
    }

    /// Typst is handed the faces a book uses and no others: a Latin book inflates Libertinus
    /// only, never the CJK collection or the emoji.
    #[test]
    fn a_latin_book_inflates_only_libertinus() {
        use crate::Exporter;
        let book = crate::Book::from_compiled(&serde_json::json!({
            "title": "The Road", "language": "en",
            "chapters": [{"title": "One", "content": "Plain, *italic* and **bold** text."}]
        }))
        .unwrap();
        super::super::PdfExporter
            .export(&book, &crate::ExportOptions::default())
            .unwrap();
        let inflated: Vec<&str> = FILES
            .iter()
            .zip(&FONTS.files)
            .filter(|(_, data)| data.get().is_some())
            .map(|(packed, _)| packed.name)
            .collect();
        assert!(!inflated.is_empty());
        assert!(
            inflated.iter().all(|n| n.starts_with("LibertinusSerif")),
            "{inflated:?}"
        );
    }

    /// Without `pdf-cjk` the CJK families are not in the book at all; with it, every family the
    /// body font lists of every CJK language exists.
    #[test]
    fn cjk_families_are_there_exactly_with_pdf_cjk() {
        let fonts = Fonts::load();
        let has = |family: &str| fonts.book.contains_family(&family.to_lowercase());
        for lang in ["ja", "ko", "zh", "zh-Hant-TW", "zh-HK"] {
            let sans = cjk_sans(&LanguageTag::parse(lang));
            assert_eq!(has(sans), cfg!(feature = "pdf-cjk"), "{sans}");
        }
        assert_eq!(has("Noto Serif CJK JP"), cfg!(feature = "pdf-cjk"));
        assert_eq!(has("Noto Color Emoji"), cfg!(feature = "pdf-emoji"));
        assert!(has("Libertinus Serif") && has("Noto Serif Devanagari") && has("DejaVu Sans Mono"));
    }
}
