//! Text measures shared by validators, compile and reports.

/// Words in `text`: runs of non-space characters, where each CJK
/// ideograph, kana or hangul syllable counts as one word.
pub fn word_count(text: &str) -> u64 {
    let mut count = 0u64;
    let mut in_word = false;
    for c in text.chars() {
        if is_cjk(c) {
            count += 1;
            in_word = false;
        } else if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            in_word = true;
            count += 1;
        }
    }
    count
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_words_and_cjk() {
        assert_eq!(super::word_count("The  cat sat.\nOn a mat"), 6);
        assert_eq!(super::word_count("猫が好き"), 4);
        assert_eq!(super::word_count("हिन्दी में लिखी"), 3);
    }
}
