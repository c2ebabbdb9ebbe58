//! The words a book prints around its text: "Contents", "Chapter 3", the
//! copyright page. Defaults follow the book's language; a host overrides
//! any of them with [`LabelOverrides`] (e.g. from an export node's config).

use serde::{Deserialize, Serialize};

/// Every printed label of a book, in its language. `{n}`, `{year}`,
/// `{holder}`, `{isbn}`, `{publisher}` and `{date}` are placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels {
    /// Title of the table of contents.
    pub contents: String,
    /// Title of the author's biography.
    pub about_the_author: String,
    /// Label above a chapter title; `{n}` is the chapter number.
    pub chapter: String,
    /// First copyright line; `{year}` and `{holder}` (either may be empty).
    pub copyright: String,
    pub all_rights_reserved: String,
    /// `{isbn}`.
    pub isbn: String,
    /// `{publisher}`.
    pub published_by: String,
    /// `{date}`.
    pub first_published: String,
    /// The byline under a title; `{author}`.
    pub by: String,
}

/// Labels to use instead of the language's defaults; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelOverrides {
    pub contents: Option<String>,
    pub about_the_author: Option<String>,
    pub chapter: Option<String>,
    pub copyright: Option<String>,
    pub all_rights_reserved: Option<String>,
    pub isbn: Option<String>,
    pub published_by: Option<String>,
    pub first_published: Option<String>,
    pub by: Option<String>,
}

/// `(contents, about, chapter, copyright, rights, isbn, publisher, first published, by)`.
type Row = [&'static str; 9];

const EN: Row = [
    "Contents",
    "About the Author",
    "Chapter {n}",
    "Copyright © {year} {holder}",
    "All rights reserved.",
    "ISBN {isbn}",
    "Published by {publisher}",
    "First published {date}",
    "by {author}",
];

fn row(language: &str, region: Option<&str>) -> Row {
    match (language, region) {
        ("de", _) => [
            "Inhalt",
            "Über den Autor",
            "Kapitel {n}",
            "Copyright © {year} {holder}",
            "Alle Rechte vorbehalten.",
            "ISBN {isbn}",
            "Verlag: {publisher}",
            "Erstveröffentlichung {date}",
            "von {author}",
        ],
        ("fr", _) => [
            "Table des matières",
            "À propos de l’auteur",
            "Chapitre {n}",
            "Copyright © {year} {holder}",
            "Tous droits réservés.",
            "ISBN {isbn}",
            "Publié par {publisher}",
            "Première publication {date}",
            "par {author}",
        ],
        ("es", _) => [
            "Índice",
            "Sobre el autor",
            "Capítulo {n}",
            "Copyright © {year} {holder}",
            "Todos los derechos reservados.",
            "ISBN {isbn}",
            "Publicado por {publisher}",
            "Primera edición {date}",
            "por {author}",
        ],
        ("pt", _) => [
            "Sumário",
            "Sobre o autor",
            "Capítulo {n}",
            "Copyright © {year} {holder}",
            "Todos os direitos reservados.",
            "ISBN {isbn}",
            "Publicado por {publisher}",
            "Primeira edição {date}",
            "por {author}",
        ],
        ("it", _) => [
            "Indice",
            "L’autore",
            "Capitolo {n}",
            "Copyright © {year} {holder}",
            "Tutti i diritti riservati.",
            "ISBN {isbn}",
            "Pubblicato da {publisher}",
            "Prima edizione {date}",
            "di {author}",
        ],
        ("hi", _) => [
            "विषय-सूची",
            "लेखक के बारे में",
            "अध्याय {n}",
            "कॉपीराइट © {year} {holder}",
            "सर्वाधिकार सुरक्षित।",
            "ISBN {isbn}",
            "प्रकाशक: {publisher}",
            "प्रथम प्रकाशन {date}",
            "लेखक: {author}",
        ],
        ("mr", _) => [
            "अनुक्रमणिका",
            "लेखकाविषयी",
            "अध्याय {n}",
            "कॉपीराइट © {year} {holder}",
            "सर्व हक्क राखीव.",
            "ISBN {isbn}",
            "प्रकाशक: {publisher}",
            "प्रथम आवृत्ती {date}",
            "लेखक: {author}",
        ],
        ("ne", _) => [
            "विषयसूची",
            "लेखकको बारेमा",
            "अध्याय {n}",
            "प्रतिलिपि अधिकार © {year} {holder}",
            "सर्वाधिकार सुरक्षित।",
            "ISBN {isbn}",
            "प्रकाशक: {publisher}",
            "पहिलो प्रकाशन {date}",
            "लेखक: {author}",
        ],
        ("zh", Some("TW" | "HK" | "MO")) => [
            "目錄",
            "關於作者",
            "第{n}章",
            "版權所有 © {year} {holder}",
            "保留一切權利。",
            "ISBN {isbn}",
            "出版者：{publisher}",
            "初版 {date}",
            "{author} 著",
        ],
        ("zh", _) => [
            "目录",
            "关于作者",
            "第{n}章",
            "版权所有 © {year} {holder}",
            "保留一切权利。",
            "ISBN {isbn}",
            "出版者：{publisher}",
            "初版 {date}",
            "{author} 著",
        ],
        ("ja", _) => [
            "目次",
            "著者について",
            "第{n}章",
            "Copyright © {year} {holder}",
            "無断転載を禁じます。",
            "ISBN {isbn}",
            "発行：{publisher}",
            "初版発行 {date}",
            "{author} 著",
        ],
        ("ko", _) => [
            "차례",
            "저자 소개",
            "제{n}장",
            "Copyright © {year} {holder}",
            "모든 권리 보유.",
            "ISBN {isbn}",
            "펴낸곳: {publisher}",
            "초판 발행 {date}",
            "{author} 지음",
        ],
        _ => EN,
    }
}

impl Labels {
    /// The defaults for a language given by name or tag ("Hindi", `hi-IN`, `zh-Hant`).
    pub fn for_tag(tag: &super::LanguageTag) -> Self {
        let region = if tag.is_traditional_chinese() {
            Some("TW")
        } else {
            tag.region.as_deref()
        };
        Self::for_language(&tag.primary, region)
    }

    /// The defaults for a primary language (`de`, `hi`, `zh`...) and
    /// optional region (`TW` picks Traditional Chinese); English otherwise.
    pub fn for_language(primary_language: &str, region: Option<&str>) -> Self {
        let [contents, about, chapter, copyright, rights, isbn, publisher, first, by] =
            row(primary_language, region);
        Self {
            contents: contents.into(),
            about_the_author: about.into(),
            chapter: chapter.into(),
            copyright: copyright.into(),
            all_rights_reserved: rights.into(),
            isbn: isbn.into(),
            published_by: publisher.into(),
            first_published: first.into(),
            by: by.into(),
        }
    }

    /// These labels with `o`'s replacements.
    pub fn with(mut self, o: &LabelOverrides) -> Self {
        let pairs = [
            (&mut self.contents, &o.contents),
            (&mut self.about_the_author, &o.about_the_author),
            (&mut self.chapter, &o.chapter),
            (&mut self.copyright, &o.copyright),
            (&mut self.all_rights_reserved, &o.all_rights_reserved),
            (&mut self.isbn, &o.isbn),
            (&mut self.published_by, &o.published_by),
            (&mut self.first_published, &o.first_published),
            (&mut self.by, &o.by),
        ];
        for (label, replacement) in pairs {
            if let Some(r) = replacement {
                label.clone_from(r);
            }
        }
        self
    }

    /// The label above chapter `n`'s title ("Chapter 3", "अध्याय 3", "第3章").
    pub fn chapter(&self, n: u32) -> String {
        self.chapter.replace("{n}", &n.to_string())
    }

    /// A chapter's label and title on one line, for formats with a single
    /// heading: "Chapter 3: The Storm", "अध्याय 3: तूफ़ान", "第3章　嵐".
    pub fn chapter_heading(&self, n: u32, title: &str) -> String {
        let label = self.chapter(n);
        let cjk = label.chars().last().is_some_and(|c| {
            crate::format::is_cjk_word_char(c) || ('\u{AC00}'..='\u{D7A3}').contains(&c)
        });
        if cjk {
            format!("{label}\u{3000}{title}")
        } else {
            format!("{label}: {title}")
        }
    }

    /// The byline for `author` ("by A. Autor", "लेखक: …", "… 著").
    pub fn byline(&self, author: &str) -> String {
        self.by.replace("{author}", author)
    }

    /// The copyright page's lines, from the book's metadata: the copyright
    /// line and the rights line when there is a holder (the author, else the
    /// publisher), then ISBN, publisher and date when known. Empty when the
    /// metadata has none of these: a book without them has no copyright page
    /// rather than a bare "Copyright ©".
    pub fn copyright_lines(&self, m: &crate::Metadata) -> Vec<String> {
        let year = m
            .date
            .as_deref()
            .and_then(|d| d.trim().get(..4))
            .filter(|y| y.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or("");
        let holder = m.author.as_deref().or(m.publisher.as_deref());
        let mut lines = Vec::new();
        if let Some(holder) = holder.map(str::trim).filter(|h| !h.is_empty()) {
            let first = self
                .copyright
                .replace("{year}", year)
                .replace("{holder}", holder);
            lines.push(first.split_whitespace().collect::<Vec<_>>().join(" "));
            lines.push(self.all_rights_reserved.clone());
        }
        if let Some(isbn) = &m.isbn {
            lines.push(self.isbn.replace("{isbn}", isbn));
        }
        if let Some(p) = &m.publisher {
            lines.push(self.published_by.replace("{publisher}", p));
        }
        if let Some(d) = &m.date {
            lines.push(self.first_published.replace("{date}", d));
        }
        lines
    }
}

impl Default for Labels {
    fn default() -> Self {
        Self::for_language("en", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_row_has_its_placeholders() {
        for lang in [
            "en", "de", "fr", "es", "pt", "it", "hi", "mr", "ne", "zh", "ja", "ko",
        ] {
            for region in [None, Some("TW")] {
                let l = Labels::for_language(lang, region);
                assert!(l.chapter.contains("{n}"), "{lang}");
                assert!(l.copyright.contains("{year}") && l.copyright.contains("{holder}"));
                assert!(l.isbn.contains("{isbn}"), "{lang}");
                assert!(l.published_by.contains("{publisher}"), "{lang}");
                assert!(l.first_published.contains("{date}"), "{lang}");
                assert!(l.by.contains("{author}"), "{lang}");
            }
        }
    }

    #[test]
    fn language_region_and_overrides() {
        assert_eq!(Labels::for_language("hi", None).chapter(3), "अध्याय 3");
        assert_eq!(Labels::for_language("zh", None).contents, "目录");
        assert_eq!(Labels::for_language("zh", Some("TW")).contents, "目錄");
        assert_eq!(Labels::for_language("xx", None), Labels::default());
        let o = LabelOverrides {
            contents: Some("Table of Contents".into()),
            chapter: Some("Part {n}".into()),
            ..LabelOverrides::default()
        };
        let l = Labels::for_language("en", None).with(&o);
        assert_eq!(l.contents, "Table of Contents");
        assert_eq!(l.chapter(2), "Part 2");
        assert_eq!(l.about_the_author, "About the Author");
    }
}
