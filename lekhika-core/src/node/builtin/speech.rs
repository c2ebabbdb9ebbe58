//! `speech`: narrate a book, chapter by chapter, with a text-to-speech
//! model (OpenAI's `/audio/speech` today; any provider implementing
//! `ModelProvider::synthesize_speech`).
//!
//! The book is a compile node's output, a list of chapters, or a Markdown
//! manuscript (YAML front matter gives its title and author; chapters
//! start at its top-level headings). `voice` and `instructions` are
//! templates, so a flow can take them as inputs. Each chapter is read as
//! its title (the `heading`, e.g. "Chapter
//! {number}. {title}") and then its paragraphs, without Markdown marks.
//! A chapter longer than the model's input limit (`max_chars`, OpenAI
//! 4,096 characters) is cut at paragraph ends (a longer paragraph at
//! sentence ends, then between words) and asked for in pieces; the
//! pieces' audio is joined without gaps into one file per chapter (WAV:
//! PCM data under one header; MP3: frames one after another). Pieces are
//! asked for as nested work of this node, `concurrency` at once across
//! chapters, and every call is journaled: a resumed run replays the audio
//! it has and asks only for the rest. Calls are metered per character
//! read (the catalog's `per_1k_chars`).
//!
//! Each chapter's audio is stored as an artifact of the execution
//! (`speech/NODE/001.mp3`, ...) when the engine has an artifact store, so
//! the checkpointed output stays small; without one it is inline base64.
//! Output: `{title, author, format, mime, provider, model, voice,
//! duration_seconds, characters, chapters: [{number, title,
//! duration_seconds, characters, pieces, bytes, audio: {mime, artifact |
//! base64}}]}`; the host's `audiobook` export writes it as numbered files
//! with a playlist and a chapter list.

mod piece;
mod script;
mod split;

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use self::piece::{audio_of, PieceNode, Voice};
use self::script::ChapterText;
use super::{parse_config, template, uses};
use crate::audio::{self, AudioFormat};
use crate::flow::NodeSpec;
use crate::node::sizing::literal_tokens;
use crate::node::{
    BuiltNode, CallEstimate, EstimateScope, ItemScope, Job, Node, NodeContext, NodeError,
    NodeOutput, NodePolicy, TokenSpan, VarUse, Work,
};
use crate::store::{Artifact, CallKind};
use crate::template::Template;

/// OpenAI's input limit of one speech call, in characters.
pub const DEFAULT_MAX_CHARS: usize = 4096;
const DEFAULT_CONCURRENCY: usize = 4;
const DEFAULT_HEADING: &str = "{title}";
/// Characters a chapter's heading adds, for estimates.
const HEADING_CHARS: u64 = 60;

#[derive(Deserialize)]
struct Config {
    provider: String,
    model: String,
    /// The provider's voice (template, e.g. `{{input.voice}}`).
    voice: String,
    /// Single-variable template giving the book: a compile node's output,
    /// a list of chapters, or a Markdown text.
    book: String,
    /// `mp3` (default) or `wav`.
    #[serde(default)]
    format: Option<String>,
    /// The book's title (template), when the book value has none or another.
    #[serde(default)]
    title: Option<String>,
    /// What is read before each chapter: `{number}` and `{title}` are
    /// replaced; empty reads no heading.
    #[serde(default)]
    heading: Option<String>,
    /// Characters per speech call (the model's input limit).
    #[serde(default)]
    max_chars: Option<usize>,
    /// Speech calls at once.
    #[serde(default)]
    concurrency: Option<usize>,
    /// How to read (template), for models that take it (`gpt-4o-mini-tts`).
    #[serde(default)]
    instructions: Option<String>,
    /// Speaking rate, 0.25 to 4.0.
    #[serde(default)]
    speed: Option<f32>,
}

pub struct SpeechNode {
    book: Template,
    voice_name: Template,
    title: Option<Template>,
    instructions: Option<Template>,
    heading: String,
    voice: Voice,
    max_chars: usize,
    concurrency: usize,
}

/// One chapter to read: its number, title and the pieces of its text.
struct Plan {
    number: usize,
    title: String,
    pieces: Vec<String>,
    characters: usize,
}

impl SpeechNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        for (k, v) in [
            ("provider", &c.provider),
            ("model", &c.model),
            ("voice", &c.voice),
        ] {
            if v.trim().is_empty() {
                problems.push(format!("`{k}` must not be empty"));
            }
        }
        let format = match c.format.as_deref() {
            None => AudioFormat::Mp3,
            Some(f) => AudioFormat::parse(f).unwrap_or_else(|| {
                problems.push(format!("`format` must be mp3 or wav, not `{f}`"));
                AudioFormat::Mp3
            }),
        };
        let max_chars = c.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
        if max_chars < 20 {
            problems.push("`max_chars` must be at least 20".into());
        }
        let concurrency = c.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            problems.push("`concurrency` must be at least 1".into());
        }
        if let Some(s) = c.speed {
            if !(0.25..=4.0).contains(&s) {
                problems.push(format!("`speed` must be between 0.25 and 4.0, not {s}"));
            }
        }
        let mut parse = |field: &str, src: Option<&str>| {
            src.map(|s| template(field, s))
                .transpose()
                .unwrap_or_else(|e| {
                    problems.push(e);
                    None
                })
        };
        let book = parse("book", Some(&c.book));
        let title = parse("title", c.title.as_deref());
        let instructions = parse("instructions", c.instructions.as_deref());
        let voice_name = parse("voice", Some(&c.voice));
        match (book, voice_name) {
            (Some(book), Some(voice_name)) if problems.is_empty() => Ok(Self {
                book,
                voice_name,
                title,
                instructions,
                heading: c.heading.unwrap_or_else(|| DEFAULT_HEADING.to_string()),
                voice: Voice {
                    provider: c.provider,
                    model: c.model,
                    voice: c.voice,
                    format,
                    instructions: None,
                    speed: c.speed,
                },
                max_chars,
                concurrency,
            }),
            _ => Err(problems),
        }
    }

    /// A chapter's pieces: its heading, then its paragraphs.
    fn plan(&self, number: usize, chapter: &ChapterText) -> Result<Plan, NodeError> {
        let title = chapter.title.trim().to_string();
        let heading = self
            .heading
            .replace("{number}", &number.to_string())
            .replace("{title}", &title);
        let mut paragraphs = Vec::new();
        if !heading.trim().is_empty() {
            paragraphs.push(spoken_heading(heading.trim()));
        }
        paragraphs.extend(script::paragraphs(&chapter.body, &title));
        let pieces = split::pieces(&paragraphs, self.max_chars);
        if pieces.is_empty() {
            return Err(NodeError::InvalidOutput(format!(
                "chapter {number} ({title}) has nothing to read"
            )));
        }
        Ok(Plan {
            number,
            title,
            characters: pieces.iter().map(|p| p.chars().count()).sum(),
            pieces,
        })
    }

    /// The chapters' plans when the book is known before the run (its
    /// template names a run input that is given).
    fn known_plans(&self, scope: &dyn EstimateScope) -> Option<Vec<Plan>> {
        let mut vars = self.book.variables();
        let (path, None) = (vars.next()?, vars.next()) else {
            return None;
        };
        if self.book.literal_bytes() > 0 {
            return None;
        }
        let book = script::narration(&scope.input(path)?).ok()?;
        let plans = book
            .chapters
            .iter()
            .enumerate()
            .map(|(i, c)| self.plan(i + 1, c))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        (!plans.is_empty()).then_some(plans)
    }

    /// The voice of this run: its name and `instructions` rendered, with a
    /// regeneration's instruction added.
    fn voice(&self, ctx: &NodeContext) -> Result<Voice, NodeError> {
        let name = ctx.render(&self.voice_name)?.trim().to_string();
        if name.is_empty() {
            return Err(NodeError::failed(
                "`voice` came out empty: name one of the provider's voices",
            ));
        }
        let mut text = match &self.instructions {
            Some(t) => ctx.render(t)?,
            None => String::new(),
        };
        if let Some(extra) = ctx.instruction() {
            if !text.trim().is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(extra);
        }
        Ok(Voice {
            voice: name,
            instructions: (!text.trim().is_empty()).then_some(text),
            ..self.voice.clone()
        })
    }

    /// Keep a chapter's audio: an artifact when the engine stores files,
    /// else inline.
    async fn keep(
        &self,
        ctx: &NodeContext,
        number: usize,
        bytes: Vec<u8>,
    ) -> Result<Value, NodeError> {
        let f = self.voice.format;
        if !ctx.can_store_artifacts() {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            return Ok(json!({"mime": f.mime(), "base64": b64}));
        }
        let name = format!("speech/{}/{number:03}.{}", ctx.node_id(), f.as_str());
        ctx.put_artifact(&Artifact {
            name: name.clone(),
            mime: f.mime().to_string(),
            bytes,
        })
        .await?;
        Ok(json!({"mime": f.mime(), "artifact": name}))
    }
}

/// A heading read as a sentence: a full stop unless it ends in punctuation.
fn spoken_heading(h: &str) -> String {
    match h.chars().last() {
        Some(c) if c.is_alphanumeric() || matches!(c, ')' | ']' | '"' | '\'' | '”' | '’') => {
            format!("{h}.")
        }
        _ => h.to_string(),
    }
}

/// Consecutive chapters asked for together: enough pieces to keep
/// `concurrency` calls busy, few enough that a long book's audio is not
/// all held in memory at once.
fn windows(plans: &[Plan], concurrency: usize) -> Vec<&[Plan]> {
    let target = (2 * concurrency).max(8);
    let mut out = Vec::new();
    let (mut start, mut n) = (0, 0);
    for (i, p) in plans.iter().enumerate() {
        n += p.pieces.len();
        if n >= target {
            out.push(&plans[start..=i]);
            start = i + 1;
            n = 0;
        }
    }
    if start < plans.len() {
        out.push(&plans[start..]);
    }
    out
}

#[async_trait]
impl Node for SpeechNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let mut book = script::narration(&ctx.render_value(&self.book)?)?;
        if let Some(t) = &self.title {
            let t = ctx.render(t)?;
            if !t.trim().is_empty() {
                book.title = t.trim().to_string();
            }
        }
        let plans = book
            .chapters
            .iter()
            .enumerate()
            .map(|(i, c)| self.plan(i + 1, c))
            .collect::<Result<Vec<_>, _>>()?;
        if plans.is_empty() {
            return Err(NodeError::InvalidOutput(
                "the book has no chapters to narrate".into(),
            ));
        }
        let voice = self.voice(ctx)?;
        // Pieces retry provider faults under this node's retry policy.
        let piece = BuiltNode {
            kind: "speech".into(),
            node: Arc::new(PieceNode {
                voice: voice.clone(),
            }),
            policy: Arc::new(NodePolicy {
                retry: ctx.policy.retry.clone(),
                ..NodePolicy::default()
            }),
        };
        let total_pieces: usize = plans.iter().map(|p| p.pieces.len()).sum();
        ctx.progress(format!(
            "narrating {} chapters in {total_pieces} speech calls",
            plans.len()
        ));
        let mut chapters = Vec::with_capacity(plans.len());
        let (mut seconds, mut characters, mut bytes) = (0.0f64, 0usize, 0usize);
        for window in windows(&plans, self.concurrency) {
            let jobs: Vec<Job> = window
                .iter()
                .flat_map(|p| p.pieces.iter())
                .enumerate()
                .map(|(k, text)| {
                    let scope = ItemScope {
                        index: u32::try_from(k).unwrap_or(u32::MAX),
                        item: json!({ "input": text }),
                        ..ItemScope::default()
                    };
                    Job::new(scope, None)
                })
                .collect();
            let mut results = ctx
                .run_nested(&piece, jobs, self.concurrency)
                .await?
                .into_iter();
            for plan in window {
                let audio = results
                    .by_ref()
                    .take(plan.pieces.len())
                    .map(|r| audio_of(&r.output))
                    .collect::<Result<Vec<_>, _>>()?;
                let refs: Vec<&[u8]> = audio.iter().map(Vec::as_slice).collect();
                let joined = audio::join(voice.format, &refs).map_err(|e| {
                    NodeError::failed(format!(
                        "chapter {} ({}): cannot join its audio: {e}",
                        plan.number, plan.title
                    ))
                })?;
                seconds += joined.duration_seconds;
                characters += plan.characters;
                bytes += joined.bytes.len();
                let len = joined.bytes.len();
                let kept = self.keep(ctx, plan.number, joined.bytes).await?;
                chapters.push(json!({
                    "number": plan.number,
                    "title": plan.title,
                    "duration_seconds": round_ms(joined.duration_seconds),
                    "characters": plan.characters,
                    "pieces": plan.pieces.len(),
                    "bytes": len,
                    "audio": kept,
                }));
                ctx.progress(format!(
                    "narrated chapter {} of {}: {}",
                    plan.number,
                    plans.len(),
                    plan.title
                ));
            }
        }
        let mut out = Map::new();
        out.insert("title".into(), book.title.into());
        if let Some(a) = book.author {
            out.insert("author".into(), a.into());
        }
        let v = &voice;
        for (k, val) in [
            ("format", json!(v.format)),
            ("mime", json!(v.format.mime())),
            ("provider", json!(v.provider)),
            ("model", json!(v.model)),
            ("voice", json!(v.voice)),
            ("duration_seconds", json!(round_ms(seconds))),
            ("characters", json!(characters)),
            ("chapters", Value::Array(chapters)),
        ] {
            out.insert(k.into(), val);
        }
        Ok(NodeOutput {
            metrics: json!({
                "chapters": plans.len(),
                "speech_calls": total_pieces,
                "characters": characters,
                "duration_seconds": round_ms(seconds),
                "bytes": bytes,
            }),
            output: Value::Object(out),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.book, false, &mut v);
        uses(&self.voice_name, false, &mut v);
        for t in [&self.title, &self.instructions].into_iter().flatten() {
            uses(t, false, &mut v);
        }
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        vec![(self.voice.provider.clone(), self.voice.model.clone())]
    }

    fn model_calls(&self) -> Vec<(String, String, CallKind)> {
        vec![(
            self.voice.provider.clone(),
            self.voice.model.clone(),
            CallKind::Speech,
        )]
    }

    /// Speech calls priced per character read. A book known before the
    /// run (a manuscript given as an input) is planned exactly; otherwise
    /// its size in tokens is turned into characters, expected as prose
    /// (about 4 a token) and at worst 6 a token, and cut into pieces
    /// filled on average (expected) or just over half (worst: greedy
    /// filling leaves every piece but a chapter's last more than half
    /// full), each chapter adding its heading and a last, shorter piece.
    fn estimate(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        let estimate = |expected: Work, worst: Work| {
            vec![CallEstimate {
                kind: CallKind::Speech,
                provider: self.voice.provider.clone(),
                model: self.voice.model.clone(),
                expected,
                worst,
            }]
        };
        if let Some(plans) = self.known_plans(scope) {
            let calls = plans.iter().map(|p| p.pieces.len() as u64).sum::<u64>();
            let chars = plans.iter().map(|p| p.characters as u64).sum::<u64>();
            let work = Work {
                calls,
                units: chars,
                ..Work::default()
            };
            return estimate(work, work);
        }
        let tokens = self.book.variables().map(|p| scope.var_tokens(p)).fold(
            TokenSpan::exact(literal_tokens(self.book.literal_bytes())),
            TokenSpan::plus,
        );
        let chapters = self
            .book
            .variables()
            .find_map(|p| scope.items(p))
            .unwrap_or(1)
            .max(1);
        let headings = chapters.saturating_mul(HEADING_CHARS);
        let max = self.max_chars as u64;
        let expected_chars = tokens.expected.saturating_mul(4).saturating_add(headings);
        let worst_chars = tokens.worst.saturating_mul(6).saturating_add(headings);
        let expected_calls = expected_chars.div_ceil(max).max(chapters);
        let worst_calls = worst_chars
            .saturating_mul(2)
            .div_ceil(max)
            .saturating_add(chapters);
        let work = |calls: u64, chars: u64| Work::units(calls, chars.div_ceil(calls.max(1)));
        estimate(
            work(expected_calls, expected_chars),
            work(worst_calls, worst_chars),
        )
    }

    fn output_tokens(&self, _scope: &dyn EstimateScope) -> TokenSpan {
        TokenSpan::exact(256)
    }

    fn override_model(&mut self, _provider: Option<&str>, _model: Option<&str>) {
        // A run's text model override does not apply to a speech model.
    }
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(config: Value) -> Result<SpeechNode, Vec<String>> {
        let Value::Object(config) = config else {
            unreachable!()
        };
        SpeechNode::build(&NodeSpec {
            id: "narrate".into(),
            kind: "speech".into(),
            config,
        })
    }

    #[test]
    fn config_is_checked() {
        let ok = json!({"provider": "openai", "model": "tts-1", "voice": "alloy",
                        "book": "{{nodes.book.output}}"});
        let n = node(ok.clone()).unwrap();
        assert_eq!(n.voice.format, AudioFormat::Mp3);
        assert_eq!(n.max_chars, DEFAULT_MAX_CHARS);
        let mut bad = ok;
        bad["format"] = json!("ogg");
        bad["speed"] = json!(9);
        bad["max_chars"] = json!(3);
        bad["voice"] = json!(" ");
        let problems = node(bad).err().unwrap().join("\n");
        for p in ["`format`", "`speed`", "`max_chars`", "`voice`"] {
            assert!(problems.contains(p), "{problems}");
        }
    }

    #[test]
    fn chapters_are_read_heading_first_in_pieces() {
        let n = node(json!({"provider": "openai", "model": "tts-1", "voice": "alloy",
            "book": "{{nodes.book.output}}", "heading": "Chapter {number}: {title}", "max_chars": 40}))
        .unwrap();
        let plan = n
            .plan(
                2,
                &ChapterText {
                    title: "The Harbour".into(),
                    body: "# The Harbour\n\nMira walked to the harbour.\n\nShe counted the boats."
                        .into(),
                },
            )
            .unwrap();
        assert_eq!(
            plan.pieces,
            [
                "Chapter 2: The Harbour.",
                "Mira walked to the harbour.",
                "She counted the boats."
            ]
        );
        let empty = ChapterText {
            title: "x".into(),
            body: "* * *".into(),
        };
        let silent = node(
            json!({"provider": "openai", "model": "tts-1", "voice": "alloy",
            "book": "{{nodes.book.output}}", "heading": ""}),
        )
        .unwrap();
        assert!(silent.plan(1, &empty).is_err());
        assert_eq!(spoken_heading("Why?"), "Why?");
    }

    #[test]
    fn windows_keep_calls_busy() {
        let plan = |n: usize| Plan {
            number: 1,
            title: String::new(),
            pieces: vec![String::new(); n],
            characters: 0,
        };
        let plans: Vec<Plan> = [1, 1, 5, 2, 9, 1].into_iter().map(plan).collect();
        let sizes: Vec<usize> = windows(&plans, 4).iter().map(|w| w.len()).collect();
        assert_eq!(sizes, [4, 1, 1]);
    }
}
