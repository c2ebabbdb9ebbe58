//! Degenerate text inside one chapter: a sentence said again and again, or
//! a passage the model loops on (small local models do this when they run
//! out of things to say). Used by `phrase_check` (its hits are rewritten
//! and reported) and by the beat writer (a reply that only repeats the
//! text so far is no progress).

use std::collections::HashMap;

/// Thresholds of the checks (0 turns a check off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Repeats {
    /// Occurrences in one chapter that make a sentence or passage a hit.
    pub times: usize,
    /// Shortest sentence that counts, in words.
    pub sentence_words: usize,
    /// Length in words of the passages checked for loops.
    pub loop_ngram: usize,
}

impl Default for Repeats {
    fn default() -> Self {
        Self {
            times: 3,
            sentence_words: 4,
            loop_ngram: 8,
        }
    }
}

/// One repeated sentence or passage and how often it occurs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repeat {
    pub text: String,
    pub times: usize,
    /// A whole sentence (else a passage found by the loop check).
    pub sentence: bool,
}

impl Repeat {
    /// The hit as an instruction a writer can act on.
    pub fn hit(&self) -> String {
        if self.sentence {
            format!(
                "the sentence \"{}\" occurs {} times in this chapter; keep it at most once and write the rest anew",
                self.text, self.times
            )
        } else {
            format!(
                "the passage \"{}\" repeats {} times in this chapter; say it once and write the rest anew",
                self.text, self.times
            )
        }
    }
}

/// Lowercased words without surrounding punctuation.
pub(crate) fn norm_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Sentences of `text` (split after `.`, `!`, `?`, `…` and at line breaks).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end_mark = matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？' | '।');
        let next_is_break = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        if c == '\n' || (end_mark && next_is_break) {
            let end = i + c.len_utf8();
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Every sentence and looping passage of `text` that occurs at least
/// `r.times` times, most frequent first.
pub(crate) fn repeats(text: &str, r: Repeats) -> Vec<Repeat> {
    if r.times < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // Sentences, counted by their normalised words.
    let mut counts: HashMap<Vec<String>, (usize, usize)> = HashMap::new();
    for (i, s) in sentences(text).into_iter().enumerate() {
        let w = norm_words(s);
        if r.sentence_words > 0 && w.len() >= r.sentence_words {
            counts.entry(w).or_insert((0, i)).0 += 1;
        }
    }
    let mut found: Vec<(Vec<String>, usize, usize)> = counts
        .into_iter()
        .filter(|(_, (n, _))| *n >= r.times)
        .map(|(w, (n, first))| (w, n, first))
        .collect();
    found.sort_by_key(|(_, n, first)| (std::cmp::Reverse(*n), *first));
    let said: Vec<String> = found.iter().map(|(w, _, _)| w.join(" ")).collect();
    out.extend(found.into_iter().map(|(w, n, _)| Repeat {
        text: w.join(" "),
        times: n,
        sentence: true,
    }));
    // Loops: passages of `loop_ngram` words occurring `times` times
    // without overlapping, each reported once as its repeating unit.
    let n = r.loop_ngram;
    let w = norm_words(text);
    if n == 0 || w.len() < n * r.times {
        return out;
    }
    // Per passage: occurrences that do not overlap, and where the last ended.
    let mut seen: HashMap<&[String], (usize, usize)> = HashMap::new();
    for i in 0..=w.len() - n {
        let e = seen.entry(&w[i..i + n]).or_insert((0, 0));
        if i >= e.1 {
            e.0 += 1;
            e.1 = i + n;
        }
    }
    let hot = |i: usize| seen.get(&w[i..i + n]).is_some_and(|e| e.0 >= r.times);
    let mut i = 0;
    while i + n <= w.len() {
        if !hot(i) {
            i += 1;
            continue;
        }
        let times = seen.get(&w[i..i + n]).map_or(0, |e| e.0);
        // The repeating unit: from here to the next occurrence of this passage.
        let period = (i + 1..=w.len() - n)
            .find(|&j| w[j..j + n] == w[i..i + n])
            .map_or(n, |j| (j - i).max(n));
        let unit = w[i..(i + period).min(w.len())].join(" ");
        if !said
            .iter()
            .any(|s| s.contains(&unit) || unit.contains(s.as_str()))
        {
            out.push(Repeat {
                text: unit,
                times,
                sentence: false,
            });
        }
        // Skip the whole looping region.
        while i + n <= w.len() && hot(i) {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_said_90_times_is_one_hit() {
        let text = format!(
            "Mara is in Lisbon. {}Mara ends in Rome.",
            "The bell rang over the empty square. ".repeat(90)
        );
        let r = repeats(&text, Repeats::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].text, "the bell rang over the empty square");
        assert_eq!(r[0].times, 90);
        assert!(r[0].sentence);
        assert!(r[0].hit().contains("occurs 90 times"));
    }

    #[test]
    fn a_loop_without_sentence_ends_is_found_once() {
        let text = format!(
            "She walked on. {}and the road went on.",
            "and the road went on and on under the hills ".repeat(12)
        );
        let r = repeats(&text, Repeats::default());
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(!r[0].sentence);
        assert!(r[0].times >= 11, "{r:?}");
        assert_eq!(r[0].text.split(' ').count(), 10, "{r:?}");
    }

    #[test]
    fn ordinary_prose_has_no_hits() {
        let text = "He nodded. He nodded. \"Yes,\" she said. The rain fell on the harbour. \
                    Gulls cried. The ferry left at nine and came back at noon.";
        assert!(repeats(text, Repeats::default()).is_empty());
        assert!(repeats(
            &"A b c d e f g h. ".repeat(5),
            Repeats {
                times: 0,
                ..Repeats::default()
            }
        )
        .is_empty());
    }
}
