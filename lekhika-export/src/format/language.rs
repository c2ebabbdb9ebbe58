//! A book's language as people type it ("Hindi", "hindi", "हिन्दी", "hi", "hi_in", "Japanese",
//! "ja") resolved once to a BCP 47 tag ("hi", "hi-IN", "ja"), which labels, fonts, hyphenation,
//! quotes and metadata then use.

/// Language names (English and native, lower case) and three-letter codes, with their tag.
const NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("eng", "en"),
    ("british english", "en-GB"),
    ("american english", "en-US"),
    ("hindi", "hi"),
    ("hin", "hi"),
    ("हिन्दी", "hi"),
    ("हिंदी", "hi"),
    ("japanese", "ja"),
    ("jpn", "ja"),
    ("日本語", "ja"),
    ("german", "de"),
    ("deutsch", "de"),
    ("deu", "de"),
    ("ger", "de"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("castellano", "es"),
    ("spa", "es"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("portugues", "pt"),
    ("por", "pt"),
    ("brazilian portuguese", "pt-BR"),
    ("italian", "it"),
    ("italiano", "it"),
    ("ita", "it"),
    ("marathi", "mr"),
    ("मराठी", "mr"),
    ("mar", "mr"),
    ("nepali", "ne"),
    ("नेपाली", "ne"),
    ("nep", "ne"),
    ("chinese", "zh"),
    ("mandarin", "zh"),
    ("zho", "zh"),
    ("chi", "zh"),
    ("中文", "zh"),
    ("汉语", "zh"),
    ("漢語", "zh-Hant"),
    ("simplified chinese", "zh-Hans"),
    ("chinese (simplified)", "zh-Hans"),
    ("简体中文", "zh-Hans"),
    ("traditional chinese", "zh-Hant"),
    ("chinese (traditional)", "zh-Hant"),
    ("繁體中文", "zh-Hant"),
    ("korean", "ko"),
    ("kor", "ko"),
    ("한국어", "ko"),
    ("dutch", "nl"),
    ("nederlands", "nl"),
    ("nld", "nl"),
    ("bengali", "bn"),
    ("bangla", "bn"),
    ("বাংলা", "bn"),
    ("tamil", "ta"),
    ("தமிழ்", "ta"),
    ("telugu", "te"),
    ("gujarati", "gu"),
    ("punjabi", "pa"),
    ("urdu", "ur"),
    ("arabic", "ar"),
    ("russian", "ru"),
    ("русский", "ru"),
    ("ukrainian", "uk"),
    ("polish", "pl"),
    ("polski", "pl"),
    ("turkish", "tr"),
    ("türkçe", "tr"),
    ("swedish", "sv"),
    ("svenska", "sv"),
    ("danish", "da"),
    ("norwegian", "nb"),
    ("finnish", "fi"),
    ("greek", "el"),
    ("czech", "cs"),
    ("indonesian", "id"),
    ("bahasa indonesia", "id"),
    ("malay", "ms"),
    ("swahili", "sw"),
    ("kiswahili", "sw"),
    ("vietnamese", "vi"),
    ("tiếng việt", "vi"),
    ("thai", "th"),
    ("hebrew", "he"),
    ("irish", "ga"),
    ("welsh", "cy"),
    ("tagalog", "tl"),
    ("filipino", "fil"),
    ("sanskrit", "sa"),
    ("संस्कृतम्", "sa"),
];

/// The BCP 47 tag for a language name or code, in canonical case (`hi-IN`, `zh-Hant-TW`).
/// Empty input gives `en`; a name nobody knows gives `und` ("undetermined"), never the name
/// itself, so no export writes `lang="Klingon"`.
pub fn resolve_language(input: &str) -> String {
    let t = input.trim();
    if t.is_empty() {
        return "en".to_string();
    }
    let lower = t.to_lowercase();
    // "Hindi (India)" / "Japanese language": the first word is enough.
    let candidates = [
        lower.clone(),
        lower
            .split(['(', ','])
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
        lower.trim_end_matches(" language").to_string(),
    ];
    for c in &candidates {
        if let Some((_, tag)) = NAMES.iter().find(|(name, _)| name == c) {
            return (*tag).to_string();
        }
    }
    canonical_tag(t).unwrap_or_else(|| "und".to_string())
}

/// `t` as a well-formed BCP 47 tag in canonical case, if it is one: a 2–3 letter primary
/// subtag (ISO 639), then a 4-letter script (title case), a 2-letter or 3-digit region (upper
/// case), or other 1–8 character subtags (lower case). `_` is read as `-`.
fn canonical_tag(t: &str) -> Option<String> {
    let mut parts = t.split(['-', '_']);
    let primary = parts.next()?.to_ascii_lowercase();
    let alpha = |s: &str| s.chars().all(|c| c.is_ascii_alphabetic());
    if !(2..=3).contains(&primary.len()) || !alpha(&primary) {
        return None;
    }
    let mut out = primary;
    for (i, part) in parts.enumerate() {
        if part.is_empty() || part.len() > 8 || !part.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        out.push('-');
        if part.len() == 4 && alpha(part) && i == 0 {
            let mut c = part.chars();
            out.extend(c.next().map(|f| f.to_ascii_uppercase()));
            out.push_str(&c.as_str().to_ascii_lowercase());
        } else if (part.len() == 2 && alpha(part))
            || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit()))
        {
            out.push_str(&part.to_ascii_uppercase());
        } else {
            out.push_str(&part.to_ascii_lowercase());
        }
    }
    Some(out)
}

/// A resolved tag split into what exporters need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag {
    /// The whole tag, e.g. `zh-Hant-TW`.
    pub tag: String,
    /// Primary language subtag, lower case, e.g. `zh`.
    pub primary: String,
    /// Script subtag if any, e.g. `Hant`.
    pub script: Option<String>,
    /// Region subtag if any, e.g. `TW`.
    pub region: Option<String>,
}

impl LanguageTag {
    /// Resolves a name or code (see [`resolve_language`]) and splits it.
    pub fn parse(input: &str) -> Self {
        let tag = resolve_language(input);
        let mut parts = tag.split('-');
        let primary = parts.next().unwrap_or("und").to_string();
        let mut script = None;
        let mut region = None;
        for p in parts {
            if p.len() == 4 && script.is_none() && region.is_none() {
                script = Some(p.to_string());
            } else if (p.len() == 2 || p.len() == 3) && region.is_none() {
                region = Some(p.to_string());
            }
        }
        Self {
            tag,
            primary,
            script,
            region,
        }
    }

    /// Chinese, Japanese or Korean.
    pub fn is_cjk(&self) -> bool {
        matches!(self.primary.as_str(), "zh" | "ja" | "ko")
    }

    /// Chinese written in traditional characters (zh-Hant, or Taiwan, Hong Kong, Macau).
    pub fn is_traditional_chinese(&self) -> bool {
        self.primary == "zh"
            && (self.script.as_deref() == Some("Hant")
                || matches!(self.region.as_deref(), Some("TW" | "HK" | "MO")))
    }

    /// A language written in Devanagari (Hindi, Marathi, Nepali, Sanskrit, ...).
    pub fn is_devanagari(&self) -> bool {
        matches!(
            self.primary.as_str(),
            "hi" | "mr" | "ne" | "sa" | "kok" | "mai" | "bho"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_resolve_to_one_tag() {
        for (input, tag) in [
            ("English", "en"),
            ("english", "en"),
            ("", "en"),
            ("Hindi", "hi"),
            ("HINDI", "hi"),
            ("hindi", "hi"),
            ("हिन्दी", "hi"),
            ("hi", "hi"),
            ("hi-IN", "hi-IN"),
            ("hi_in", "hi-IN"),
            ("Japanese", "ja"),
            ("日本語", "ja"),
            ("ja", "ja"),
            ("JA-jp", "ja-JP"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("Traditional Chinese", "zh-Hant"),
            ("Hindi (India)", "hi"),
            ("es-419", "es-419"),
            ("Klingon", "und"),
            ("en US", "und"),
        ] {
            assert_eq!(resolve_language(input), tag, "{input:?}");
        }
    }

    #[test]
    fn tags_split() {
        let t = LanguageTag::parse("zh-hant-tw");
        assert_eq!(t.primary, "zh");
        assert_eq!(t.script.as_deref(), Some("Hant"));
        assert_eq!(t.region.as_deref(), Some("TW"));
        assert!(t.is_traditional_chinese() && t.is_cjk());
        assert!(LanguageTag::parse("Hindi").is_devanagari());
        assert_eq!(LanguageTag::parse("Japanese").primary, "ja");
    }
}
