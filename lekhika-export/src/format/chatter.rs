//! What AI models say around a chapter ("Sure! Here is chapter 2:", "Let me know if ..."), as
//! data, one entry per language the labels support. The cleaner checks every language's entry
//! (a model may chatter in English in a Hindi book), always on one line or paragraph at the very
//! start or end of a chapter.

/// The chatter patterns of one language. Matching is on lower-cased text with the Devanagari
/// nukta removed (ज़ and ज match), and full-width colons read as `:`.
#[derive(Debug, Clone, Copy)]
pub struct Chatter {
    /// BCP 47 primary language subtag.
    pub language: &'static str,
    /// How a preamble line starts ("sure", "ज़रूर", "承知しました").
    pub preamble_starts: &'static [&'static str],
    /// Words that make such a line a preamble even without a final colon ("chapter", "अध्याय").
    pub preamble_hints: &'static [&'static str],
    /// How a trailing offer starts ("let me know", "अगर आप चाहें", "いかがでしょうか").
    pub offer_starts: &'static [&'static str],
    /// The word for "chapter" before a number ("chapter 3", "अध्याय 3", "kapitel 3").
    pub chapter_words: &'static [&'static str],
}

/// Every language's patterns; English first.
pub const CHATTER: &[Chatter] = &[
    Chatter {
        language: "en",
        preamble_starts: &[
            "sure",
            "certainly",
            "of course",
            "absolutely",
            "okay",
            "ok,",
            "ok!",
            "ok.",
            "alright",
            "great",
            "here's",
            "here is",
            "here are",
            "below is",
            "as requested",
            "i've written",
            "i have written",
        ],
        preamble_hints: &["chapter", "here", "draft", "story"],
        offer_starts: &[
            "let me know",
            "please let me know",
            "i hope you",
            "i hope this",
            "i hope that",
            "would you like",
            "feel free to",
            "if you'd like",
            "if you would like",
            "if you want",
            "shall i",
            "should i continue",
            "do you want me",
            "want me to",
            "i can also",
            "i'd be happy to",
            "i would be happy to",
        ],
        chapter_words: &["chapter"],
    },
    Chatter {
        language: "de",
        preamble_starts: &[
            "gerne",
            "gern",
            "natürlich",
            "sicher",
            "selbstverständlich",
            "klar",
            "okay",
            "alles klar",
            "hier ist",
            "hier sind",
            "hier kommt",
            "nachfolgend",
        ],
        preamble_hints: &["kapitel", "hier", "entwurf", "geschichte"],
        offer_starts: &[
            "lass mich wissen",
            "lassen sie mich wissen",
            "sag mir",
            "sagen sie mir",
            "ich hoffe",
            "möchtest du",
            "möchten sie",
            "soll ich",
            "wenn du möchtest",
            "wenn sie möchten",
            "falls du",
            "falls sie",
        ],
        chapter_words: &["kapitel"],
    },
    Chatter {
        language: "fr",
        preamble_starts: &[
            "bien sûr",
            "bien sur",
            "certainement",
            "d'accord",
            "d’accord",
            "absolument",
            "voici",
            "très bien",
            "avec plaisir",
        ],
        preamble_hints: &["chapitre", "voici", "brouillon", "histoire"],
        offer_starts: &[
            "n'hésitez pas",
            "n’hésitez pas",
            "dites-moi",
            "faites-moi savoir",
            "j'espère",
            "j’espère",
            "voulez-vous",
            "souhaitez-vous",
            "si vous le souhaitez",
            "si vous voulez",
            "dois-je",
        ],
        chapter_words: &["chapitre"],
    },
    Chatter {
        language: "es",
        preamble_starts: &[
            "claro",
            "por supuesto",
            "desde luego",
            "ciertamente",
            "aquí está",
            "aquí tienes",
            "aquí tiene",
            "a continuación",
            "¡claro",
            "¡por supuesto",
            "perfecto",
        ],
        preamble_hints: &["capítulo", "aquí", "borrador", "historia"],
        offer_starts: &[
            "avísame",
            "házmelo saber",
            "espero que",
            "¿quieres",
            "¿te gustaría",
            "si quieres",
            "si lo deseas",
            "no dudes en",
            "¿deseas",
        ],
        chapter_words: &["capítulo", "capitulo"],
    },
    Chatter {
        language: "pt",
        preamble_starts: &[
            "claro",
            "com certeza",
            "certamente",
            "aqui está",
            "aqui estão",
            "segue",
            "a seguir",
            "perfeito",
        ],
        preamble_hints: &["capítulo", "aqui", "rascunho", "história"],
        offer_starts: &[
            "me avise",
            "avise-me",
            "espero que",
            "quer que eu",
            "gostaria que eu",
            "se quiser",
            "se desejar",
            "fique à vontade",
        ],
        chapter_words: &["capítulo", "capitulo"],
    },
    Chatter {
        language: "it",
        preamble_starts: &[
            "certo",
            "certamente",
            "certo!",
            "ecco",
            "sicuro",
            "va bene",
            "perfetto",
            "di seguito",
        ],
        preamble_hints: &["capitolo", "ecco", "bozza", "storia"],
        offer_starts: &[
            "fammi sapere",
            "mi faccia sapere",
            "spero che",
            "vuoi che",
            "desideri che",
            "se vuoi",
            "se desideri",
            "sentiti libero",
        ],
        chapter_words: &["capitolo"],
    },
    Chatter {
        language: "hi",
        preamble_starts: &[
            "ज़रूर",
            "जरूर",
            "बिल्कुल",
            "बिलकुल",
            "अवश्य",
            "ठीक है",
            "यह रहा",
            "ये रहा",
            "यह है",
            "यहाँ",
            "यहां",
            "प्रस्तुत है",
            "नीचे",
        ],
        preamble_hints: &["अध्याय", "यह रहा", "ये रहा", "प्रस्तुत", "मसौदा"],
        offer_starts: &[
            "मुझे बताएं",
            "मुझे बताइए",
            "मुझे बताएँ",
            "बताइए",
            "बताएं",
            "आशा है",
            "उम्मीद है",
            "अगर आप चाहें",
            "यदि आप चाहें",
            "अगर आप चाहते",
            "यदि आप चाहते",
            "क्या आप चाहेंगे",
            "क्या मैं",
        ],
        chapter_words: &["अध्याय"],
    },
    Chatter {
        language: "mr",
        preamble_starts: &[
            "नक्कीच",
            "नक्की",
            "अर्थातच",
            "ठीक आहे",
            "हा घ्या",
            "हे घ्या",
            "येथे",
            "खाली",
        ],
        preamble_hints: &["अध्याय", "प्रकरण", "हा घ्या", "हे घ्या"],
        offer_starts: &[
            "मला कळवा",
            "कळवा",
            "आशा आहे",
            "तुम्हाला हवे असल्यास",
            "तुम्हाला हवं असल्यास",
            "मी पुढे",
        ],
        chapter_words: &["अध्याय", "प्रकरण"],
    },
    Chatter {
        language: "ne",
        preamble_starts: &["पक्कै", "अवश्य", "हुन्छ", "यो रह्यो", "यहाँ", "तल"],
        preamble_hints: &["अध्याय", "यो रह्यो"],
        offer_starts: &[
            "मलाई थाहा दिनुहोस्",
            "थाहा दिनुहोस्",
            "आशा छ",
            "यदि तपाईं चाहनुहुन्छ",
            "तपाईं चाहनुहुन्छ भने",
        ],
        chapter_words: &["अध्याय"],
    },
    Chatter {
        language: "zh",
        preamble_starts: &[
            "好的",
            "当然",
            "當然",
            "没问题",
            "沒問題",
            "以下是",
            "下面是",
            "这是",
            "這是",
            "为您",
            "為您",
        ],
        preamble_hints: &["章", "以下", "下面"],
        offer_starts: &[
            "如果您",
            "如果你需要",
            "如果你想",
            "希望您",
            "希望你喜欢",
            "希望这",
            "需要我",
            "是否需要",
            "请告诉我",
            "請告訴我",
            "欢迎",
            "歡迎",
        ],
        chapter_words: &[],
    },
    Chatter {
        language: "ja",
        preamble_starts: &[
            "承知しました",
            "承知いたしました",
            "かしこまりました",
            "もちろん",
            "はい",
            "了解しました",
            "わかりました",
            "以下が",
            "以下は",
            "こちらが",
            "こちらは",
        ],
        preamble_hints: &["章", "以下", "こちら", "原稿"],
        offer_starts: &[
            "いかがでしょうか",
            "ご希望",
            "ご要望",
            "修正が必要",
            "修正をご希望",
            "お気軽に",
            "何かご",
            "続きを書",
            "次の章も",
            "楽しんでいただけ",
        ],
        chapter_words: &[],
    },
    Chatter {
        language: "ko",
        preamble_starts: &[
            "물론",
            "네,",
            "네!",
            "알겠습니다",
            "좋습니다",
            "다음은",
            "여기",
        ],
        preamble_hints: &["다음은", "여기", "챕터"],
        offer_starts: &[
            "더 필요",
            "수정이 필요",
            "원하시면",
            "원하신다면",
            "도움이 되",
            "마음에 드셨",
            "다음 장도",
        ],
        chapter_words: &[],
    },
];

/// Lower case, Devanagari nukta removed, full-width `：`/`！` as ASCII.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|&c| c != '\u{093C}')
        .map(|c| match c {
            // Precomposed nukta letters (क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़) to their base letters.
            '\u{0958}'..='\u{095F}' => {
                ['क', 'ख', 'ग', 'ज', 'ड', 'ढ', 'फ', 'य'][c as usize - 0x0958]
            }
            '：' => ':',
            '！' => '!',
            c => c,
        })
        .collect()
}

/// True if any language's pattern list (chosen by `pick`) has a prefix of `folded`.
pub(crate) fn starts_with_any(
    folded: &str,
    pick: impl Fn(&Chatter) -> &'static [&'static str],
) -> bool {
    CHATTER
        .iter()
        .flat_map(|c| pick(c).iter())
        .any(|p| folded.starts_with(&fold(p)))
}

/// True if `folded` contains any language's word from `pick`.
pub(crate) fn contains_any(
    folded: &str,
    pick: impl Fn(&Chatter) -> &'static [&'static str],
) -> bool {
    CHATTER
        .iter()
        .flat_map(|c| pick(c).iter())
        .any(|p| folded.contains(&fold(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_language_has_patterns() {
        for lang in [
            "en", "de", "fr", "es", "pt", "it", "hi", "mr", "ne", "zh", "ja", "ko",
        ] {
            let c = CHATTER.iter().find(|c| c.language == lang);
            let c = c.unwrap_or_else(|| panic!("no chatter patterns for {lang}"));
            assert!(!c.preamble_starts.is_empty() && !c.offer_starts.is_empty());
        }
        assert_eq!(fold("ज़रूर：！"), "जरूर:!");
    }
}
