//! Cutting a chapter's paragraphs into pieces a speech model accepts (at
//! most `max` characters each): whole paragraphs where they fit, a longer
//! paragraph at its sentence ends, a longer sentence between words, and a
//! longer word (rare) anywhere. Pieces are filled greedily in order, so
//! the text reads the same when the pieces' audio is joined.

/// How a segment attaches to the text before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    Paragraph,
    Space,
    Glued,
}

impl Join {
    fn as_str(self) -> &'static str {
        match self {
            Join::Paragraph => "\n\n",
            Join::Space => " ",
            Join::Glued => "",
        }
    }
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// The pieces of `paragraphs`, each at most `max` (≥ 1) characters.
pub(crate) fn pieces(paragraphs: &[String], max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut segments: Vec<(Join, String)> = Vec::new();
    for p in paragraphs {
        let mut join = Join::Paragraph;
        for (j, seg) in cut(p, max) {
            segments.push((if join == Join::Paragraph { join } else { j }, seg));
            join = Join::Space;
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for (join, seg) in segments {
        let sep = join.as_str();
        let seg_len = len(&seg);
        if !current.is_empty() && current_len + sep.len() + seg_len <= max {
            current.push_str(sep);
            current.push_str(&seg);
            current_len += sep.len() + seg_len;
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current_len = seg_len;
            current = seg;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A paragraph as segments of at most `max` characters, each with how it
/// attaches to the one before.
fn cut(paragraph: &str, max: usize) -> Vec<(Join, String)> {
    if len(paragraph) <= max {
        return vec![(Join::Space, paragraph.to_string())];
    }
    let mut out = Vec::new();
    for sentence in sentences(paragraph) {
        if len(&sentence) <= max {
            out.push((Join::Space, sentence));
            continue;
        }
        for word in sentence.split_whitespace() {
            if len(word) <= max {
                out.push((Join::Space, word.to_string()));
                continue;
            }
            let chars: Vec<char> = word.chars().collect();
            for (k, chunk) in chars.chunks(max).enumerate() {
                let join = if k == 0 { Join::Space } else { Join::Glued };
                out.push((join, chunk.iter().collect()));
            }
        }
    }
    out
}

/// Sentence ends: `.`, `!`, `?`, `…` (and closing quotes or brackets after
/// them) before a space; `。`, `！`, `？` anywhere.
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let wide = matches!(c, '。' | '！' | '？');
        if wide || matches!(c, '.' | '!' | '?' | '…') {
            let mut end = i + 1;
            while end < chars.len()
                && matches!(
                    chars[end],
                    '"' | '\'' | '”' | '’' | ')' | ']' | '»' | '」' | '』'
                )
            {
                end += 1;
            }
            if wide || end == chars.len() || chars[end].is_whitespace() {
                let s: String = chars[start..end].iter().collect();
                if !s.trim().is_empty() {
                    out.push(s.trim().to_string());
                }
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let rest: String = chars[start..].iter().collect();
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn whole_paragraphs_when_they_fit() {
        let p = strings(&["One two.", "Three four.", "Five."]);
        assert_eq!(pieces(&p, 100), ["One two.\n\nThree four.\n\nFive."]);
        assert_eq!(pieces(&p, 21), ["One two.\n\nThree four.", "Five."]);
        assert_eq!(pieces(&p, 12), ["One two.", "Three four.", "Five."]);
    }

    #[test]
    fn long_paragraphs_at_sentences_then_words() {
        let p = strings(&["He ran. “Stop!” she said. Why? It was late…"]);
        let out = pieces(&p, 20);
        assert_eq!(out, ["He ran. “Stop!”", "she said. Why?", "It was late…"]);
        let long = strings(&["abcdefghij klmnopqrstuvwxyz"]);
        assert_eq!(pieces(&long, 10), ["abcdefghij", "klmnopqrst", "uvwxyz"]);
        let cjk = strings(&["猫が好き。犬も好き。"]);
        assert_eq!(pieces(&cjk, 6), ["猫が好き。", "犬も好き。"]);
    }

    #[test]
    fn every_piece_is_within_the_limit_and_nothing_is_lost() {
        let para =
            "The rain fell on the old town. Mira walked to the harbour and counted the boats! "
                .repeat(40);
        let p = vec![para.clone(), "Short.".into(), para];
        for max in [50, 333, 4096] {
            let out = pieces(&p, max);
            assert!(out.iter().all(|s| s.chars().count() <= max), "{max}");
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(words(&out.join(" ")), words(&p.join(" ")));
        }
        assert!(pieces(&[], 10).is_empty());
    }
}
