//! Growing a short text by appending: most models stop near their own
//! habitual length (LongWriter: ~2,000 words; small local models far less)
//! with a normal finish, whatever length was asked, and a rewrite "at about
//! N words" comes back just as short. So while a text is under its budget,
//! the writer is asked to *continue* it — seeing its own prompt (beats,
//! states, bible), only the end of the text so far (`tail_words`), and the
//! words still missing — and each reply is appended. Prompts stay flat
//! however long the chapter grows. A reply that adds nothing, or mostly
//! repeats the text so far, ends the loop (the text so far is kept).
//!
//! Every reply goes through the call journal, so a chapter that is retried
//! or resumed replays the steps it has and asks only for the rest.

use serde::Deserialize;

use super::degenerate::norm_words;
use super::session::Session;
use super::{fill, tail_words};
use crate::node::{NodeError, VarUse};
use crate::template::Template;
use crate::text::word_count;

fn d_tail() -> usize {
    400
}
fn d_steps() -> u32 {
    12
}
fn d_step_words() -> u64 {
    800
}

/// `length.append` of a `text` node.
#[derive(Deserialize)]
pub(crate) struct AppendConfig {
    /// Template (`{{item.*}}` works); placeholders `{tail}`, `{delivered}`,
    /// `{requested}`, `{missing}`, `{step}`.
    prompt: String,
    /// Words of the text so far shown to the writer.
    #[serde(default = "d_tail")]
    tail_words: usize,
    /// Appends at most.
    #[serde(default = "d_steps")]
    max_steps: u32,
    /// Words asked for per step at most.
    #[serde(default = "d_step_words")]
    step_words: u64,
}

pub(crate) struct Append {
    prompt: Template,
    tail_words: usize,
    pub max_steps: u32,
    step_words: u64,
}

/// Share of a reply's 8-word passages already in the text beyond which
/// the reply is a repeat, not progress.
const REPEAT_SHARE: f64 = 0.5;
const PASSAGE: usize = 8;

impl Append {
    pub fn build(c: AppendConfig) -> Result<Self, String> {
        if c.tail_words == 0 || c.step_words == 0 {
            return Err("`length.append.tail_words` and `step_words` must be at least 1".into());
        }
        Ok(Self {
            prompt: Template::parse(&c.prompt)
                .map_err(|e| format!("`length.append.prompt`: {e}"))?,
            tail_words: c.tail_words,
            max_steps: c.max_steps,
            step_words: c.step_words,
        })
    }

    pub fn variables(&self, out: &mut Vec<VarUse>) {
        crate::node::builtin::uses(&self.prompt, false, out);
    }

    /// Append to `text` until it reaches `until` words (or the loop stops
    /// making progress). Returns the text and the steps taken.
    pub async fn grow(
        &self,
        s: &mut Session<'_>,
        mut text: String,
        requested: u64,
        until: u64,
    ) -> Result<(String, u32), NodeError> {
        let template = s.ctx.render(&self.prompt)?;
        let mut steps = 0;
        let mut words = word_count(&text);
        while words < until && steps < self.max_steps {
            steps += 1;
            let missing = requested.saturating_sub(words).max(1);
            let instruction = fill(
                &template,
                &[
                    ("tail", tail_words(&text, self.tail_words)),
                    ("delivered", words.to_string()),
                    ("requested", requested.to_string()),
                    ("missing", missing.to_string()),
                    ("step", missing.min(self.step_words).to_string()),
                ],
            );
            s.ctx.progress(format!(
                "{words} words for a budget of {requested}; continuing ({steps})"
            ));
            let tail = format!("[…] {}", tail_words(&text, self.tail_words));
            let reply = match s.write(Some((&tail, &instruction))).await {
                Ok(r) => r,
                // An empty continuation: the writer has nothing to add.
                Err(NodeError::InvalidOutput(_)) => break,
                Err(e) => return Err(e),
            };
            let added = word_count(&reply);
            if added < 10 || repeats(&text, &reply) {
                s.ctx
                    .progress("the continuation added nothing new; keeping the text so far");
                break;
            }
            text = join(&text, &reply);
            words = word_count(&text);
        }
        Ok((text, steps))
    }
}

/// `reply` mostly says again what `text` already says.
pub(crate) fn repeats(text: &str, reply: &str) -> bool {
    let have = norm_words(text);
    let new = norm_words(reply);
    if new.len() < PASSAGE {
        return false;
    }
    let seen: std::collections::HashSet<&[String]> = have.windows(PASSAGE).collect();
    let old = new.windows(PASSAGE).filter(|w| seen.contains(w)).count();
    old as f64 / (new.len() + 1 - PASSAGE) as f64 > REPEAT_SHARE
}

/// Join a continuation to the text without a seam: a new paragraph when
/// the text ends a sentence, else a space (it continues mid-sentence).
pub(crate) fn join(text: &str, reply: &str) -> String {
    let (a, b) = (text.trim_end(), reply.trim_start());
    let ends_sentence = a.ends_with(['.', '!', '?', '"', '”', '…', '»', '*']);
    let sep = if ends_sentence { "\n\n" } else { " " };
    format!("{a}{sep}{b}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_repeats() {
        assert_eq!(join("One. ", " Two."), "One.\n\nTwo.");
        assert_eq!(
            join("She walked to the", "harbour."),
            "She walked to the harbour."
        );
        let text = "a b c d e f g h i j k l m n o p";
        assert!(repeats(text, "c d e f g h i j k l m"));
        assert!(!repeats(text, "q r s t u v w x y z aa bb cc"));
    }
}
