#![allow(clippy::unwrap_used)]

//! The `speech` node on the engine, against a speech model that returns
//! real WAV audio (a tone of 60 ms per word): chapters come out in book
//! order with their titles; a long chapter is asked for in pieces within
//! the input limit and joined into one file whose duration is the sum of
//! the pieces'; audio is kept as artifacts (or inline without an artifact
//! store); a run that failed half-way replays the recorded audio on resume
//! and asks only for the rest.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use common::run_to_end;
use lekhika_core::audio::{wav, AudioFormat};
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{
    DeltaSink, ModelProvider, ProviderError, ProviderErrorKind, SpeechRequest, SpeechResponse,
    TextRequest, TextResponse,
};
use lekhika_core::store::{ArtifactStore, ExecutionStatus, ExecutionStore, NodeKey, NodeResult};
use lekhika_core::wallet::{ModelPrice, PriceBook};
use lekhika_core::{Engine, Node, NodeContext, NodeError, NodeOutput, RunOptions};
use serde_json::{json, Value};

const RATE: u32 = 24_000;
const MS_PER_WORD: u32 = 60;

/// Speaks every input as a tone, `MS_PER_WORD` per word; fails (for good)
/// the first time it is asked to read a text containing `fail_on`.
#[derive(Default)]
struct Narrator {
    asked: Mutex<Vec<SpeechRequest>>,
    fail_on: Option<String>,
    failed: Mutex<bool>,
}

fn tone(words: usize) -> Vec<u8> {
    let n = words.max(1) * (RATE * MS_PER_WORD / 1000) as usize;
    let samples: Vec<i16> = (0..n)
        .map(|i| {
            ((i as f64 * 440.0 * std::f64::consts::TAU / f64::from(RATE)).sin() * 8000.0) as i16
        })
        .collect();
    wav::pcm16(RATE, 1, &samples)
}

fn seconds(text: &str) -> f64 {
    text.split_whitespace().count().max(1) as f64 * f64::from(MS_PER_WORD) / 1000.0
}

#[async_trait]
impl ModelProvider for Narrator {
    async fn generate_text(
        &self,
        req: &TextRequest,
        _on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        Err(ProviderError::new(
            req.provider.clone(),
            ProviderErrorKind::Unsupported,
            "no text here",
        ))
    }

    async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, ProviderError> {
        self.asked.lock().unwrap().push(req.clone());
        if let Some(f) = &self.fail_on {
            let mut failed = self.failed.lock().unwrap();
            if req.input.contains(f.as_str()) && !*failed {
                *failed = true;
                return Err(ProviderError::new(
                    req.provider.clone(),
                    ProviderErrorKind::BadRequest,
                    "refused once",
                ));
            }
        }
        assert_eq!(req.format.as_deref(), Some("wav"));
        Ok(SpeechResponse {
            mime: "audio/wav".into(),
            bytes: tone(req.input.split_whitespace().count()),
        })
    }
}

fn book() -> Value {
    let long: Vec<String> = (1..=12)
        .map(|i| format!("Paragraph {i} tells how the boats came home in the evening light."))
        .collect();
    json!({
        "title": "Salt Roads",
        "author": "A. Writer",
        "chapters": [
            {"title": "The Harbour", "content": long.join("\n\n")},
            {"title": "The Hill", "content": "# The Hill\n\nGrass *moved* in the wind."},
            {"title": "Home", "content": "They went home."}
        ]
    })
}

/// A host node standing for the writing part of a flow: the finished book.
struct Written;

#[async_trait]
impl Node for Written {
    async fn run(&self, _ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        Ok(NodeOutput::new(book()))
    }
}

fn speech(book: &str) -> Value {
    json!({"id": "narrate", "type": "speech", "data": {
        "provider": "scripted", "model": "tts", "voice": "alloy", "format": "wav",
        "book": book, "heading": "Chapter {number}: {title}",
        "max_chars": 200, "concurrency": 3, "retry": {"attempts": 1}
    }})
}

fn flow() -> Value {
    json!({"nodes": [{"id": "book", "type": "written", "data": {}}, speech("{{nodes.book.output}}")],
           "edges": [{"id": "e", "source": "book", "target": "narrate"}]})
}

fn engine(model: Arc<Narrator>, store: Arc<MemoryStore>, artifacts: bool) -> Engine {
    let b = Engine::builder(model, store.clone())
        .register(|r| r.register("written", |_, _| Ok(Box::new(Written))));
    if artifacts { b.artifacts(store) } else { b }.build()
}

/// The speech node's output.
fn narrated(results: &[(NodeKey, NodeResult)]) -> Value {
    results
        .iter()
        .find(|(k, _)| k.node == "narrate" && k.item.is_none())
        .map(|(_, r)| r.output.clone())
        .unwrap()
}

/// The narrated chapters' audio, by number.
async fn audio(store: &MemoryStore, id: &str, out: &Value) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for c in out["chapters"].as_array().unwrap() {
        let a = &c["audio"];
        v.push(match a["artifact"].as_str() {
            Some(name) => store.get_artifact("u", id, name).await.unwrap().bytes,
            None => base64::engine::general_purpose::STANDARD
                .decode(a["base64"].as_str().unwrap())
                .unwrap(),
        });
    }
    v
}

async fn narrate(artifacts: bool) {
    let model = Arc::new(Narrator::default());
    let store = Arc::new(MemoryStore::new());
    let e = engine(model.clone(), store.clone(), artifacts);
    let (_, out) = run_to_end(
        e.start("u", &flow(), &json!({}), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let o = &narrated(&results);
    assert_eq!(o["title"], "Salt Roads");
    assert_eq!(o["format"], "wav");
    let titles: Vec<&str> = o["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["The Harbour", "The Hill", "Home"]);
    let asked = model.asked.lock().unwrap().clone();
    assert!(asked.iter().all(|r| r.input.chars().count() <= 200));
    // Chapter 1 (12 paragraphs of ~70 characters) took several calls; its
    // heading came first, and nothing was read twice.
    assert!(o["chapters"][0]["pieces"].as_u64().unwrap() >= 4);
    assert_eq!(o["chapters"][1]["pieces"], 1);
    let inputs: Vec<&str> = asked.iter().map(|r| r.input.as_str()).collect();
    assert!(inputs
        .iter()
        .any(|i| i.starts_with("Chapter 1: The Harbour.\n\nParagraph 1 ")));
    assert!(inputs.contains(&"Chapter 2: The Hill.\n\nGrass moved in the wind."));
    let mut count = HashMap::new();
    for i in &inputs {
        *count.entry(*i).or_insert(0) += 1;
    }
    assert!(count.values().all(|&n| n == 1));
    let pieces: u64 = o["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pieces"].as_u64().unwrap())
        .sum();
    assert_eq!(inputs.len() as u64, pieces);
    // Each chapter is one WAV whose duration is the sum of its pieces'.
    let files = audio(&store, &out.execution_id, o).await;
    let mut total = 0.0;
    for (k, bytes) in files.iter().enumerate() {
        assert_eq!(AudioFormat::sniff(bytes), Some(AudioFormat::Wav));
        let w = wav::parse(bytes).unwrap();
        let expected: f64 = inputs
            .iter()
            .filter(|i| chapter_of(i) == k + 1)
            .map(|i| seconds(i))
            .sum();
        assert!(
            (w.duration_seconds() - expected).abs() < 1e-6,
            "chapter {}",
            k + 1
        );
        assert!((o["chapters"][k]["duration_seconds"].as_f64().unwrap() - expected).abs() < 1e-3);
        total += expected;
    }
    assert!((o["duration_seconds"].as_f64().unwrap() - total).abs() < 1e-2);
    assert_eq!(
        o["chapters"][0]["audio"].get("artifact").is_some(),
        artifacts
    );
}

/// The chapter a piece belongs to: its heading, or chapter 1's paragraphs
/// (the only chapter read in several pieces here).
fn chapter_of(input: &str) -> usize {
    match input.strip_prefix("Chapter ") {
        Some(rest) => rest.split(':').next().unwrap().parse().unwrap(),
        None => {
            assert!(input.starts_with("Paragraph"), "{input}");
            1
        }
    }
}

#[tokio::test]
async fn chapters_are_narrated_in_order_and_joined_as_artifacts() {
    narrate(true).await;
}

#[tokio::test]
async fn without_an_artifact_store_audio_is_inline() {
    narrate(false).await;
}

#[tokio::test]
async fn a_resumed_narration_replays_recorded_audio() {
    let model = Arc::new(Narrator {
        fail_on: Some("They went home".into()),
        ..Narrator::default()
    });
    let store = Arc::new(MemoryStore::new());
    let e = engine(model.clone(), store.clone(), true);
    let (_, first) = run_to_end(
        e.start("u", &flow(), &json!({}), &RunOptions::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first.status, ExecutionStatus::Failed);
    let before = model.asked.lock().unwrap().len();
    assert!(before >= 2);
    let (_, out) = run_to_end(e.resume("u", &first.execution_id).await.unwrap()).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let asked: Vec<String> = model
        .asked
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.input.clone())
        .collect();
    // Every text was answered once; the refused one was asked twice.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for a in &asked {
        *count.entry(a.as_str()).or_insert(0) += 1;
    }
    for (input, n) in count {
        let expected = if input.contains("They went home") {
            2
        } else {
            1
        };
        assert_eq!(n, expected, "{input}");
    }
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    assert_eq!(narrated(&results)["chapters"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn estimates_price_speech_per_character() {
    let store = Arc::new(MemoryStore::new());
    let prices = PriceBook::new([ModelPrice {
        provider: "scripted".into(),
        model: "tts".into(),
        per_1k_chars: Some(100.0),
        ..ModelPrice::default()
    }]);
    let e = Engine::builder(Arc::new(Narrator::default()), store)
        .register(|r| r.register("written", |_, _| Ok(Box::new(Written))))
        .prices(prices)
        .build();
    // A manuscript given as an input is planned exactly: 10,000 characters
    // of words in pieces of at most 200, plus the heading.
    let doc = json!({"nodes": [
        {"id": "brief", "type": "input", "data": {"fields": [{"name": "manuscript", "type": "text"}]}},
        speech("{{input.manuscript}}")],
        "edges": [{"id": "e", "source": "brief", "target": "narrate"}]});
    let text = "word ".repeat(2000);
    let est = e
        .estimate(&doc, &json!({"manuscript": text}), &RunOptions::default())
        .unwrap();
    assert!(est.missing_prices.is_empty(), "{est:?}");
    let n = est.nodes.iter().find(|n| n.node == "narrate").unwrap();
    assert_eq!((n.provider.as_str(), n.model.as_str()), ("scripted", "tts"));
    assert_eq!(n.expected, n.worst, "{n:?}");
    // "Chapter 1: Chapter 1." (21) and a paragraph break before 2,000
    // words in 50 pieces of 40 (199 characters; the spaces where pieces
    // are cut are not read): 9,973 characters at 100 per 1,000.
    assert_eq!(n.expected.calls, 51, "{n:?}");
    assert_eq!(n.expected.cost, Some(998), "{n:?}");
    assert_eq!((n.expected.input_tokens, n.expected.output_tokens), (0, 0));
    // A book written by the run is sized from its tokens: more calls and
    // characters at worst than expected, all priced per character.
    let doc = json!({"nodes": [
        {"id": "book", "type": "text", "data": {"provider": "scripted", "model": "writer",
            "prompt": "Write a story of about 2000 words.", "max_tokens": 4000}},
        speech("{{nodes.book.output}}")],
        "edges": [{"id": "e", "source": "book", "target": "narrate"}]});
    let est = e
        .estimate(&doc, &json!({}), &RunOptions::default())
        .unwrap();
    let n = est.nodes.iter().find(|n| n.node == "narrate").unwrap();
    assert!(
        n.expected.calls >= 1 && n.worst.calls > n.expected.calls,
        "{n:?}"
    );
    assert!(n.worst.cost > n.expected.cost, "{n:?}");
}
