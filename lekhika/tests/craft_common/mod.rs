//! A scripted OpenAI-compatible "author" for the book-craft tests: answers
//! every role of examples/flows/*.json (style, architect, writer, reviewer,
//! clerk, continuity editor, art director, image) by the system prompt it
//! receives, deterministically, and can cut every reply at N words.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::{NodeKey, NodeResult};
use lekhika_core::{Engine, RunOptions, RunOutcome};
use lekhika_providers::testkit::{RecordedRequest, Reply, ScriptedServer};
use lekhika_providers::ProviderSet;
use serde_json::{json, Value};

pub const OWNER: &str = "author@example.com";
pub const CONTINUE: &str = "Continue exactly where you stopped";
/// A 1×1 PNG.
pub const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// Knobs of the scripted model.
#[derive(Clone, Default)]
pub struct Script {
    /// Cut every reply at this many words (finish reason `length`).
    pub chunk_words: Option<usize>,
    /// First drafts come out at this fraction of the asked words (default 1.0).
    pub draft_ratio: Option<f64>,
    /// Chapter 4 ends in Lisbon; chapter 5's draft opens in Rome.
    pub plant_contradiction: bool,
    /// Give every chapter its own bible character (Char{k}, alias Alias{k}).
    pub bible_cast: bool,
    /// The first style guide comes back empty (finish reason `stop`).
    pub empty_style_once: Arc<std::sync::atomic::AtomicBool>,
    /// The first outline has 1 chapter, whatever was asked.
    pub short_plan_once: Arc<std::sync::atomic::AtomicBool>,
    /// Every reply ends normally after at most this many words (a model
    /// that stops short on its own).
    pub max_reply_words: Option<usize>,
    /// Writers write this many times the words they are asked for.
    pub overwrite: Option<f64>,
    /// This chapter's first draft says one sentence 90 times.
    pub loop_chapter: Option<u64>,
    /// Reviewer scores in call order (default: 9 for every call).
    pub review_scores: Arc<Mutex<Vec<f64>>>,
}

fn flows_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/flows")
}

pub fn flow(name: &str) -> Value {
    let text = std::fs::read_to_string(flows_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn flow_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(flows_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    v.sort();
    v
}

pub struct Rig {
    pub server: ScriptedServer,
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
}

pub fn rig(script: Script) -> Rig {
    // Usage as a real server reports it: the prompt's tokens (about 4
    // bytes each, 4 per message), the reply's (4 bytes each).
    let server =
        ScriptedServer::openai(move |body| script.reply(body).input_tokens(prompt_tokens(body)));
    let set = ProviderSet::new().with(server.config("openai")).unwrap();
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(Arc::new(set), store.clone())
        .prices(lekhika_providers::Catalog::default_catalog().price_book())
        .artifacts(store.clone())
        .register(lekhika::nodes::register)
        .build();
    Rig {
        server,
        engine,
        store,
    }
}

impl Rig {
    pub async fn start(&self, doc: &Value, input: Value) -> RunOutcome {
        let h = self
            .engine
            .start(OWNER, doc, &input, &RunOptions::default())
            .await
            .unwrap();
        h.wait().await.unwrap()
    }

    pub async fn approve(&self, id: &str, gate: &str, edited: Option<Value>) -> RunOutcome {
        let h = self.engine.approve(OWNER, id, gate, edited).await.unwrap();
        h.wait().await.unwrap()
    }

    pub async fn results(&self, id: &str) -> BTreeMap<(String, Option<u32>), NodeResult> {
        use lekhika_core::store::ExecutionStore;
        self.store
            .node_results(OWNER, id)
            .await
            .unwrap()
            .into_iter()
            .map(|(NodeKey { node, item }, r)| ((node, item), r))
            .collect()
    }

    pub async fn output(&self, id: &str, node: &str) -> Value {
        self.results(id)
            .await
            .remove(&(node.to_string(), None))
            .unwrap_or_else(|| panic!("no output of {node}"))
            .output
    }

    /// Requests whose system prompt contains `role`.
    pub fn requests_of(&self, role: &str) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| system_of(&r.body).contains(role))
            .collect()
    }
}

/// Prompt tokens of a chat request: 1 per 4 bytes of every message, 4 per message.
pub fn prompt_tokens(body: &Value) -> u64 {
    messages(body)
        .iter()
        .map(|(_, c)| (c.len() as u64).div_ceil(4) + 4)
        .sum::<u64>()
        + 3
}

pub fn system_of(body: &Value) -> String {
    messages(body)
        .into_iter()
        .find(|(r, _)| r == "system" || r == "developer")
        .map(|(_, c)| c)
        .unwrap_or_default()
}

/// (role, content) of every chat message.
pub fn messages(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let content = match &m["content"] {
                        Value::String(s) => s.clone(),
                        Value::Array(parts) => parts
                            .iter()
                            .filter_map(|p| p["text"].as_str())
                            .collect::<Vec<_>>()
                            .join(""),
                        _ => String::new(),
                    };
                    (m["role"].as_str().unwrap_or("").to_string(), content)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The conversation without the system prompt.
pub fn turns(body: &Value) -> Vec<(String, String)> {
    messages(body)
        .into_iter()
        .filter(|(r, _)| r != "system" && r != "developer")
        .collect()
}

/// The number right after `marker` in `s`.
pub fn number_after(s: &str, marker: &str) -> Option<u64> {
    let rest = &s[s.find(marker)? + marker.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// The word after `marker` (without trailing punctuation).
pub fn word_after(s: &str, marker: &str) -> Option<String> {
    let rest = &s[s.rfind(marker)? + marker.len()..];
    rest.split_whitespace().next().map(|w| {
        w.trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_string()
    })
}

/// `n` neutral words (`prefix0 prefix1 ...`), to give scripted replies a realistic size.
pub fn filler(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// The words of chapter `k`: opens in `open`, ends in `end`, `len` words in all.
pub fn chapter_words(k: u64, len: usize, open: &str, end: &str) -> Vec<String> {
    let mut w: Vec<String> = ["Mara", "is", "in"].iter().map(|s| s.to_string()).collect();
    w.push(format!("{open}."));
    for i in 0..len.saturating_sub(8) {
        w.push(format!("c{k}w{i}"));
    }
    w.extend(["Mara", "ends", "in"].iter().map(|s| s.to_string()));
    w.push(format!("{end}."));
    w
}

/// A degenerate chapter: one sentence said 90 times between the opening and the ending.
pub fn looping_words(open: &str, end: &str) -> Vec<String> {
    let mut w: Vec<String> = vec!["Mara".into(), "is".into(), "in".into(), format!("{open}.")];
    for _ in 0..90 {
        w.extend(LOOP_SENTENCE.split(' ').map(str::to_string));
    }
    w.extend(["Mara", "ends", "in"].iter().map(|s| s.to_string()));
    w.push(format!("{end}."));
    w
}

pub const LOOP_SENTENCE: &str = "The bell rang over the empty square.";

impl Script {
    /// Words a writer asked for `asked` writes (before the reply cap).
    fn writes(&self, asked: f64) -> usize {
        (asked * self.overwrite.unwrap_or(1.0)).round() as usize
    }

    /// A writer's reply: cut at `max_reply_words` with a normal finish.
    fn writer_reply(&self, mut full: Vec<String>, emitted: usize) -> Reply {
        if let Some(cap) = self.max_reply_words {
            full.truncate(cap);
        }
        self.text_reply(full, emitted)
    }

    fn text_reply(&self, full: Vec<String>, emitted: usize) -> Reply {
        let chunk = self.chunk_words.unwrap_or(usize::MAX);
        let end = emitted.saturating_add(chunk).min(full.len());
        let more = end < full.len();
        let mut text = full[emitted.min(end)..end].join(" ");
        if more {
            text.push(' ');
            Reply::text(text).truncated()
        } else {
            Reply::text(text)
        }
    }

    /// Where chapter `k`'s draft opens and ends.
    fn locations(&self, k: u64) -> (String, String) {
        let open = if self.plant_contradiction && k == 5 {
            "Rome".to_string()
        } else {
            self.planned_location(k)
        };
        (open, self.planned_location(k + 1))
    }

    fn planned_location(&self, k: u64) -> String {
        if self.plant_contradiction && k == 5 {
            "Lisbon".into()
        } else {
            format!("City{k}")
        }
    }

    pub fn reply(&self, body: &Value) -> Reply {
        if body.get("messages").is_none() {
            // Image generation.
            return Reply::json(200, &json!({"created": 0, "data": [{"b64_json": PNG_B64}]}));
        }
        let system = system_of(body);
        let turns = turns(body);
        let first = turns.first().map(|t| t.1.clone()).unwrap_or_default();
        if system.contains("style analyst") {
            if self
                .empty_style_once
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                return Reply::text("");
            }
            // About as long as the 400 words the prompt allows.
            return Reply::text(format!(
                "STYLE GUIDE: short sentences. {} Voice and accent: VOICE-MARKER, speak like a Lisbon fisherman.",
                filler("rule", 330)
            ));
        }
        if system.contains("book architect for practical") {
            let n = number_after(&first, "Exactly").unwrap_or(3);
            let w = number_after(&first, "chapters of about").unwrap_or(1000);
            let chapters: Vec<Value> = (1..=n)
                .map(|k| {
                    json!({"title": format!("Part {k}"), "goal": format!("do step {k}"),
                "words": w, "beats": [{"beat": format!("Term{k} explained"), "words": w}]})
                })
                .collect();
            let glossary: Vec<Value> = (1..=n)
                .map(|k| json!({"name": format!("Term{k}"), "description": format!("meaning {k}")}))
                .collect();
            return Reply::text(
                json!({"promise": "you will learn", "chapters": chapters, "glossary": glossary})
                    .to_string(),
            );
        }
        if system.contains("book architect") {
            let mut plan = self.outline(&first);
            if self
                .short_plan_once
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                plan["chapters"].as_array_mut().unwrap().truncate(1);
            }
            return Reply::text(plan.to_string());
        }
        if system.contains("novelist") || system.contains("practical guide") {
            return self.writer(&turns);
        }
        if system.contains("editor") && !system.contains("continuity editor") {
            let score = {
                let mut q = self.review_scores.lock().unwrap();
                if q.is_empty() {
                    9.0
                } else {
                    q.remove(0)
                }
            };
            return Reply::text(
                json!({"score": score, "notes": [format!("note for score {score}")]}).to_string(),
            );
        }
        if system.contains("continuity clerk") {
            let k = number_after(&first, "Record what chapter").unwrap_or(0);
            let loc = word_after(&first, "Mara ends in").unwrap_or_default();
            return Reply::text(json!({"chapter": k, "ending": {"location": loc, "characters": {"Mara": loc}},
                "events": ["travelled"], "bible_updates": [{"name": "Mara", "description": format!("last seen in {loc}")}]}).to_string());
        }
        if system.contains("continuity editor") {
            let (ending, rest) = first.split_once("opens:").unwrap_or((&first, ""));
            let opening = rest.split("Recorded state").next().unwrap_or("");
            let end = word_after(ending, "Mara ends in").unwrap_or_default();
            let open = word_after(opening, "Mara is in").unwrap_or_default();
            let a = number_after(&first, "Chapter").unwrap_or(0);
            return Reply::text(if end == open {
                json!({"consistent": true}).to_string()
            } else {
                json!({"consistent": false, "issue": format!("chapter {a} ends in {end} but chapter {} opens in {open}", a + 1), "fix": "later"}).to_string()
            });
        }
        if system.contains("art director") {
            return Reply::text(json!({"pages": [{"title": "Page 1", "text": "Once upon a time.", "illustration": "a fox"},
                {"title": "Page 2", "text": "The end.", "illustration": "a moon"}], "cover_prompt": "a fox under the moon"}).to_string());
        }
        if system.contains("picture books") {
            let w = number_after(&first, "About").unwrap_or(100) as usize;
            let mut t: Vec<String> = (0..w).map(|i| format!("pb{i}")).collect();
            t.insert(w / 2, "---".into());
            return self.text_reply(t, emitted(&turns));
        }
        Reply::error(
            400,
            r#"{"error": {"message": "unscripted request", "type": "invalid_request_error"}}"#,
        )
    }

    fn outline(&self, prompt: &str) -> Value {
        let n = number_after(prompt, "Plan exactly").unwrap_or(3);
        let w = number_after(prompt, "chapters of about").unwrap_or(1000);
        let chapters: Vec<Value> = (1..=n)
            .map(|k| {
                let cast = if self.bible_cast { format!(" with Char{k}") } else { String::new() };
                // Sizes of a real planner's chapter: a summary of ~50 words,
                // beats of ~15, states with who is where and open threads.
                json!({"title": format!("Chapter title {k}"), "summary": format!("Mara goes on{cast}. {}", filler("plot", 45)), "words": w,
                    "beats": [{"beat": format!("Mara arrives{cast}. {}", filler("b", 12)), "words": w / 2}, {"beat": format!("Mara leaves. {}", filler("b", 12)), "words": w - w / 2}],
                    "entry_state": {"location": self.planned_location(k), "threads": filler("thread", 25)},
                    "exit_state": {"location": self.planned_location(k + 1), "threads": filler("thread", 25)}})
            })
            .collect();
        let mut bible = vec![
            json!({"name": "Mara", "aliases": ["the heroine"], "kind": "character", "description": "ALWAYS-MARA a cartographer", "always": true}),
            json!({"name": "The Order", "kind": "lore", "description": "ALWAYS-ORDER a guild of mapmakers", "always": true}),
        ];
        if self.bible_cast {
            for k in 1..=n {
                bible.push(json!({"name": format!("Char{k}"), "aliases": [format!("Alias{k}")], "kind": "character",
                    "description": format!("CAST-{k} {}", "a person with a long and particular history. ".repeat(3))}));
            }
        }
        json!({"logline": "A cartographer crosses a continent.", "chapters": chapters, "bible": bible})
    }

    fn writer(&self, turns: &[(String, String)]) -> Reply {
        let first = turns.first().map(|t| t.1.clone()).unwrap_or_default();
        let emitted = emitted(turns);
        // The turn that asked for this text (before any continuation).
        let task_at = if emitted > 0 || turns.last().is_some_and(|t| t.1.starts_with(CONTINUE)) {
            turns.len().saturating_sub(3)
        } else {
            turns.len() - 1
        };
        let task = &turns[task_at].1;
        let k = number_after(&first, "chapter").unwrap_or(1);
        let (open, end) = self.locations(k);
        if task_at == 0 && first.starts_with("Write chapter") {
            let asked = number_after(&first, "Write about").unwrap_or(1000) as f64;
            let len = self.writes(asked * self.draft_ratio.unwrap_or(1.0));
            if self.loop_chapter == Some(k) {
                return self.text_reply(looping_words(&open, &end), emitted);
            }
            return self.writer_reply(chapter_words(k, len, &open, &end), emitted);
        }
        if task_at == 0 && first.starts_with("Here is chapter") {
            // A rewrite: fix the opening if a continuity issue names where the previous chapter ended.
            let draft = first
                .split("<<<")
                .nth(1)
                .and_then(|s| s.split(">>>").next())
                .unwrap_or("");
            let draft_open = word_after(draft, "Mara is in").unwrap_or(open.clone());
            let draft_end = word_after(draft, "Mara ends in").unwrap_or(end.clone());
            let fixed_open = first
                .split("Continuity problem to fix:")
                .nth(1)
                .and_then(|s| word_after(s.split(" but ").next().unwrap_or(""), "ends in"))
                .unwrap_or(draft_open);
            return self.text_reply(
                chapter_words(k, words(draft), &fixed_open, &draft_end),
                emitted,
            );
        }
        if task.contains("Continue it from exactly where it stops") {
            // An append: the next words of the chapter, closing it when they complete it.
            let delivered = number_after(task, "It has").unwrap_or(0) as usize;
            let requested = number_after(task, "of its").unwrap_or(0) as usize;
            let step = self.writes(number_after(task, "write the next").unwrap_or(300) as f64);
            let n = step.min(self.max_reply_words.unwrap_or(usize::MAX));
            let mut w: Vec<String> = (0..n).map(|i| format!("c{k}w{}", delivered + i)).collect();
            if delivered + n >= requested && n >= 4 {
                w.truncate(n - 4);
                w.extend(["Mara", "ends", "in"].iter().map(|s| s.to_string()));
                w.push(format!("{end}."));
            }
            return self.text_reply(w, emitted);
        }
        // A follow-up on a previous text (expand, tighten, revise): same places, new length.
        let previous = &turns[task_at - 1].1;
        let p_open = word_after(previous, "Mara is in").unwrap_or(open);
        let p_end = word_after(previous, "Mara ends in").unwrap_or(end);
        let len = number_after(task, "in about")
            .or_else(|| number_after(task, "its budget is"))
            .map(|n| self.writes(n as f64))
            .unwrap_or_else(|| words(previous));
        self.writer_reply(chapter_words(k, len, &p_open, &p_end), emitted)
    }
}

/// Words already sent in the reply being continued (0 for a fresh request).
pub fn emitted(turns: &[(String, String)]) -> usize {
    match turns {
        [.., (ra, partial), (ru, last)]
            if ra == "assistant" && ru == "user" && last.starts_with(CONTINUE) =>
        {
            words(partial)
        }
        _ => 0,
    }
}

/// The brief of a small novel.
pub fn novel_input(chapters: u64, words: u64) -> Value {
    json!({"title": "The Map of Salt", "chapters": chapters, "chapter_words": words, "genre": "literary adventure",
        "audience": "adult", "tone": "wry", "premise": "A cartographer crosses a continent.",
        "writing_sample": "The sea took what it wanted, and the town let it."})
}
