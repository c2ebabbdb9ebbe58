//! Issue 12 "Book craft", end to end on a scripted loopback OpenAI server:
//! the example flows load, the novel flow runs through its approval gate,
//! length control fills budgets when every reply is cut at 400 words, the
//! continuity pass fixes only a planted contradiction, writer prompts stay
//! flat over 40 chapters, and the reviewer loop stops at its cap and at a
//! plateau.
#![allow(clippy::unwrap_used)]

mod craft_common;

use craft_common::*;
use lekhika_core::store::ExecutionStatus;
use lekhika_core::RunOptions;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

fn text_words(v: &Value) -> usize {
    words(v.as_str().unwrap())
}

/// Writer requests that start a chapter draft (not continuations or follow-ups).
fn drafts(rig: &Rig) -> Vec<(u64, String)> {
    rig.requests_of("novelist")
        .into_iter()
        .filter_map(|r| {
            let t = turns(&r.body);
            (t.len() == 1 && t[0].1.starts_with("Write chapter")).then(|| {
                (
                    number_after(&t[0].1, "Write chapter").unwrap(),
                    format!("{}{}", system_of(&r.body), t[0].1),
                )
            })
        })
        .collect()
}

/// Start the novel and approve the outline as planned.
async fn run_novel(rig: &Rig, input: Value) -> String {
    let paused = rig.start(&flow("novel.json"), input).await;
    assert_eq!(
        paused.status,
        ExecutionStatus::Paused,
        "{:?}",
        paused.message
    );
    let done = rig.approve(&paused.execution_id, "gate", None).await;
    assert_eq!(
        done.status,
        ExecutionStatus::Completed,
        "{:?}",
        done.message
    );
    paused.execution_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_flow_loads() {
    let rig = rig(Script::default());
    let names = flow_names();
    for n in [
        "novel.json",
        "nonfiction.json",
        "picture-book.json",
        "audiobook.json",
    ] {
        assert!(names.contains(&n.to_string()), "missing {n}");
    }
    for name in &names {
        let f = rig
            .engine
            .load(&flow(name), &RunOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let kinds: Vec<&str> = f.nodes.iter().map(|n| n.kind.as_str()).collect();
        // Books are compiled; the audiobook flow narrates a finished one.
        let last = if name == "audiobook.json" {
            "speech"
        } else {
            "compile"
        };
        assert_eq!(kinds.last(), Some(&last), "{name} ends with {last}");
        for (p, m) in f.nodes.iter().flat_map(|n| n.node.models()) {
            assert_eq!(p, "openai", "{name}");
            assert!(
                [
                    "gpt-5",
                    "gpt-5-mini",
                    "gpt-5-nano",
                    "gpt-image-1",
                    "gpt-4o-mini-tts"
                ]
                .contains(&m.as_str()),
                "{name}: {m}"
            );
        }
    }
    let novel = rig
        .engine
        .load(&flow("novel.json"), &RunOptions::default())
        .unwrap();
    let fields: Vec<&str> = novel.input_fields.iter().map(|f| f.name.as_str()).collect();
    for f in [
        "title",
        "chapters",
        "chapter_words",
        "genre",
        "audience",
        "tone",
        "premise",
        "writing_sample",
    ] {
        assert!(fields.contains(&f), "novel input {f}");
    }
    // A model per role: planner and reviewer stronger than the drafter; one override replaces all.
    let models = |f: &lekhika_core::Flow, id: &str| f.node(id).unwrap().node.models();
    assert_eq!(models(&novel, "plan")[0].1, "gpt-5");
    assert_eq!(
        models(&novel, "write"),
        vec![
            ("openai".into(), "gpt-5-mini".into()),
            ("openai".into(), "gpt-5".into())
        ]
    );
    let opts = RunOptions {
        model: Some("llama3.1".into()),
        ..RunOptions::default()
    };
    let over = rig.engine.load(&flow("novel.json"), &opts).unwrap();
    for id in ["plan", "write", "state", "continuity", "polish"] {
        assert!(
            models(&over, id).iter().all(|(_, m)| m == "llama3.1"),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gate_pauses_writers_get_the_edited_outline_and_nothing_upstream_reruns() {
    let rig = rig(Script::default());
    let paused = rig.start(&flow("novel.json"), novel_input(3, 600)).await;
    assert_eq!(paused.status, ExecutionStatus::Paused);
    assert_eq!(paused.reason.as_deref(), Some("awaiting_approval"));
    assert_eq!(paused.node.as_deref(), Some("gate"));
    assert_eq!(rig.requests_of("book architect").len(), 1);
    assert_eq!(rig.requests_of("style analyst").len(), 1);
    assert!(
        rig.requests_of("novelist").is_empty(),
        "no writer before approval"
    );

    let mut outline = rig.output(&paused.execution_id, "plan").await;
    outline["chapters"][1]["title"] = json!("The Edited Crossing");
    outline["chapters"][1]["beats"][0]["beat"] = json!("EDITED-BEAT the ferry sinks");
    let done = rig
        .approve(&paused.execution_id, "gate", Some(outline))
        .await;
    assert_eq!(
        done.status,
        ExecutionStatus::Completed,
        "{:?}",
        done.message
    );

    assert_eq!(
        rig.requests_of("book architect").len(),
        1,
        "the outline was not planned again"
    );
    assert_eq!(
        rig.requests_of("style analyst").len(),
        1,
        "the style guide was not written again"
    );
    let d = drafts(&rig);
    assert_eq!(d.len(), 3);
    let ch2 = &d.iter().find(|(k, _)| *k == 2).unwrap().1;
    assert!(ch2.contains("The Edited Crossing") && ch2.contains("EDITED-BEAT"));
    // Style guide and voice from the writing sample reach every writer.
    for r in rig.requests_of("novelist") {
        assert!(system_of(&r.body).contains("VOICE-MARKER"));
    }
    let book = rig.output(&done.execution_id, "book").await;
    assert_eq!(book["chapters"].as_array().unwrap().len(), 3);
    assert_eq!(book["chapters"][1]["title"], "The Edited Crossing");
    assert_eq!(book["title"], "The Map of Salt");
    assert!(book["word_count"].as_u64().unwrap() >= 3 * 510);
    // The state step recorded schema-valid change records; the bible took them in.
    let states = rig.output(&done.execution_id, "state").await;
    assert_eq!(states[2]["ending"]["location"], "City4");
    let bible = rig.output(&done.execution_id, "bible_final").await;
    assert!(bible["text"]
        .as_str()
        .unwrap()
        .contains("last seen in City4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_cut_at_400_words_still_yield_chapters_within_budget() {
    let rig = rig(Script {
        chunk_words: Some(400),
        draft_ratio: Some(0.6),
        ..Script::default()
    });
    let id = run_novel(&rig, novel_input(3, 1500)).await;
    let results = rig.results(&id).await;
    for k in 0..3u32 {
        let r = &results[&("write".to_string(), Some(k))];
        let m = &r.metrics;
        assert_eq!(m["requested_words"], 1500);
        let delivered = m["delivered_words"].as_u64().unwrap();
        assert!(
            (1275..=1950).contains(&delivered),
            "chapter {k}: {delivered}"
        );
        assert_eq!(
            m["length_appends"], 1,
            "the 900-word draft grown by one continuation"
        );
        assert_eq!(m["length_passes"], 0, "{m}");
        assert!(m["continuations"].as_u64().unwrap() >= 3, "{m}");
        assert!(m["length_score"].as_f64().unwrap() >= 99.0, "{m}");
        assert_eq!(m["length_within_budget"], true);
        let text = r.output.as_str().unwrap();
        assert_eq!(words(text) as u64, delivered);
        assert!(text.starts_with(&format!("Mara is in City{}.", k + 1)));
        assert!(
            text.ends_with(&format!("Mara ends in City{}.", k + 2)),
            "not kept truncated"
        );
    }
    let book = rig.output(&id, "book").await;
    for ch in book["chapters"].as_array().unwrap() {
        let w = words(ch["content"].as_str().unwrap());
        assert!((1275..=1950).contains(&w));
    }
    // Every writer reply on the wire was at most 400 words.
    let max_partial = rig
        .requests_of("novelist")
        .iter()
        .flat_map(|r| turns(&r.body))
        .filter(|(role, _)| role == "assistant")
        .map(|(_, t)| words(&t))
        .max()
        .unwrap();
    assert!(
        max_partial <= 1500,
        "assistant turns carry whole drafts at most"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuity_pass_catches_the_planted_contradiction_and_rewrites_only_chapter_5() {
    let rig = rig(Script {
        plant_contradiction: true,
        ..Script::default()
    });
    let id = run_novel(&rig, novel_input(6, 300)).await;
    let drafts_out = rig.output(&id, "write").await;
    assert!(text_words(&drafts_out[4]) > 0);
    assert!(drafts_out[3]
        .as_str()
        .unwrap()
        .ends_with("Mara ends in Lisbon."));
    assert!(drafts_out[4]
        .as_str()
        .unwrap()
        .starts_with("Mara is in Rome."));

    let c = rig.output(&id, "continuity").await;
    assert_eq!(c["rewritten"], json!([5]));
    let report = c["report"].as_array().unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(
        (report[0]["earlier"].clone(), report[0]["later"].clone()),
        (json!(4), json!(5))
    );
    let issue = report[0]["issue"].as_str().unwrap();
    assert!(
        issue.contains("Lisbon") && issue.contains("Rome"),
        "{issue}"
    );
    assert_eq!(c["unresolved"], json!([]));
    let chapters = c["chapters"].as_array().unwrap();
    assert!(chapters[4]
        .as_str()
        .unwrap()
        .starts_with("Mara is in Lisbon."));
    for k in [0, 1, 2, 3, 5] {
        assert_eq!(chapters[k], drafts_out[k], "chapter {} untouched", k + 1);
    }
    // Exactly one rewrite, of chapter 5, with the contradiction as its instruction.
    let rewrites: Vec<String> = rig
        .requests_of("novelist")
        .into_iter()
        .map(|r| turns(&r.body)[0].1.clone())
        .filter(|t| t.starts_with("Here is chapter"))
        .collect();
    assert_eq!(rewrites.len(), 1);
    assert!(rewrites[0].starts_with("Here is chapter 5"));
    assert!(rewrites[0].contains(
        "Continuity problem to fix: chapter 4 ends in Lisbon but chapter 5 opens in Rome"
    ));
    // 5 joins checked, then the two joins around chapter 5 again.
    assert_eq!(rig.requests_of("continuity editor").len(), 7);
    assert_eq!(drafts(&rig).len(), 6, "no chapter drafted twice");
    let book = rig.output(&id, "book").await;
    assert!(book["chapters"][4]["content"]
        .as_str()
        .unwrap()
        .starts_with("Mara is in Lisbon."));
    // Nested checker and rewrite calls count in the continuity node's usage.
    let r = &rig.results(&id).await[&("continuity".to_string(), None)];
    assert!(r.usage.input_tokens >= 8 * 10, "{:?}", r.usage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_prompt_size_stays_flat_across_a_40_chapter_book() {
    let rig = rig(Script {
        bible_cast: true,
        ..Script::default()
    });
    let id = run_novel(&rig, novel_input(40, 200)).await;
    let mut d = drafts(&rig);
    d.sort();
    assert_eq!(d.len(), 40);
    let sizes: Vec<usize> = d.iter().map(|(_, p)| p.len()).collect();
    let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
    let bible = rig.output(&id, "bible_final").await;
    let full = bible["text"].as_str().unwrap().len();
    assert!(full > 40 * 150, "the whole bible is large: {full}");
    assert!(
        max - min < full / 20,
        "flat: {min}..{max} bytes vs a {full}-byte bible"
    );
    assert!(
        sizes[39] < sizes[0] + 64,
        "chapter 40 costs what chapter 1 does: {sizes:?}"
    );
    for (k, p) in &d {
        assert!(
            p.contains(&format!("CAST-{k} ")),
            "chapter {k} gets its own character"
        );
        assert!(
            p.contains("ALWAYS-MARA") && p.contains("ALWAYS-ORDER"),
            "always-on entries"
        );
        let others = (1..=40)
            .filter(|j| j != k && p.contains(&format!("CAST-{j} ")))
            .count();
        assert_eq!(others, 0, "chapter {k} gets no other chapter's cast");
    }
    let codex = &rig.results(&id).await[&("codex".to_string(), None)];
    assert_eq!(codex.metrics["entries_per_chapter"], json!(vec![3; 40]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chapter_that_says_one_sentence_90_times_is_rewritten_and_reported() {
    let rig = rig(Script {
        loop_chapter: Some(2),
        ..Script::default()
    });
    let id = run_novel(&rig, novel_input(3, 600)).await;
    let drafted = rig.output(&id, "write").await;
    assert_eq!(
        drafted[1].as_str().unwrap().matches(LOOP_SENTENCE).count(),
        90,
        "the draft loops"
    );
    let polish = rig.output(&id, "polish").await;
    assert_eq!(polish["rewritten"], json!([2]));
    let hits = polish["report"][0]["hits"].as_array().unwrap();
    assert_eq!(polish["report"][0]["chapter"], 2);
    assert!(
        hits[0]
            .as_str()
            .unwrap()
            .contains("\"the bell rang over the empty square\" occurs 90 times"),
        "{hits:?}"
    );
    assert_eq!(polish["remaining"], json!([]));
    let m = &rig.results(&id).await[&("polish".to_string(), None)].metrics;
    assert_eq!(m["degenerate"], json!([2]));
    // Only chapter 2 was rewritten, told what to fix.
    let rewrites: Vec<String> = rig
        .requests_of("novelist")
        .into_iter()
        .map(|r| turns(&r.body)[0].1.clone())
        .filter(|t| t.starts_with("Here is chapter"))
        .collect();
    assert_eq!(rewrites.len(), 1);
    assert!(
        rewrites[0].starts_with("Here is chapter 2") && rewrites[0].contains("occurs 90 times")
    );
    let book = rig.output(&id, "book").await;
    let ch2 = book["chapters"][1]["content"].as_str().unwrap();
    assert_eq!(ch2.matches(LOOP_SENTENCE).count(), 0, "{ch2}");
    assert!(ch2.starts_with("Mara is in City2.") && ch2.ends_with("Mara ends in City3."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_replies_short_plans_and_off_scale_scores_are_sent_back_on_the_novel_flow() {
    use std::sync::atomic::AtomicBool;
    let rig = rig(Script {
        empty_style_once: Arc::new(AtomicBool::new(true)),
        short_plan_once: Arc::new(AtomicBool::new(true)),
        review_scores: Arc::new(Mutex::new(vec![2014.0])),
        ..Script::default()
    });
    let id = run_novel(&rig, novel_input(3, 300)).await;
    // The empty style guide was asked again with feedback; the writers got the real one.
    let style = rig.requests_of("style analyst");
    assert_eq!(style.len(), 2);
    assert!(turns(&style[1].body)[0].1.contains("the reply was empty"));
    assert!(rig
        .output(&id, "style")
        .await
        .as_str()
        .unwrap()
        .contains("VOICE-MARKER"));
    // The 1-chapter plan was regenerated, told the count; the book has 3 chapters.
    let plans = rig.requests_of("book architect");
    assert_eq!(plans.len(), 2);
    assert!(
        turns(&plans[1].body)[0]
            .1
            .contains("output.chapters must have exactly 3 items, has 1"),
        "{:?}",
        turns(&plans[1].body)
    );
    let schema = &plans[0].body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["chapters"]["minItems"], 3, "{schema}");
    assert_eq!(
        rig.output(&id, "book").await["chapters"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The reviewer's 2014 was rejected and asked again; the 9 that followed passed.
    let results = rig.results(&id).await;
    let scores: Vec<Value> = (0..3u32)
        .map(|k| results[&("write".to_string(), Some(k))].metrics["review_scores"].clone())
        .collect();
    assert!(scores.iter().all(|s| s == &json!([9.0])), "{scores:?}");
    let reviews = rig.requests_of("fiction editor");
    assert_eq!(reviews.len(), 4, "three chapters, one asked twice");
    assert_eq!(
        reviews
            .iter()
            .filter(|r| turns(&r.body)[0]
                .1
                .contains("2014, outside the scale 1 to 10"))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_of_the_novel_costs_about_the_expected_estimate_and_less_than_the_worst() {
    for (chapters, words) in [(3, 1200), (8, 2500)] {
        let rig = rig(Script::default());
        let input = novel_input(chapters, words);
        let est = rig
            .engine
            .estimate(&flow("novel.json"), &input, &RunOptions::default())
            .unwrap();
        assert!(est.missing_prices.is_empty(), "{:?}", est.missing_prices);
        let id = run_novel(&rig, input).await;
        let real = rig.engine.report(OWNER, &id).await.unwrap();
        let (e, w, r) = (
            est.expected.cost as f64,
            est.worst.cost as f64,
            real.cost as f64,
        );
        eprintln!(
            "novel {chapters}x{words}: real cost {r} ({} calls), expected {e} ({} calls), worst {w} ({} calls); real/expected {:.2}, worst/expected {:.1}",
            real.calls, est.expected.calls, est.worst.calls, r / e, w / e
        );
        assert!(r >= e / 2.0 && r <= e * 2.0, "real {r} vs expected {e}");
        assert!(r < w, "real {r} vs worst {w}");
        assert!(w <= e * 20.0, "worst {w} vs expected {e}");
    }
}

/// Issue 20: run the novel with `chapters` of `words`, then check every
/// chapter's length score and the book's share of the asked words.
async fn novel_lengths(
    script: Script,
    chapters: u64,
    words_each: u64,
) -> (Rig, String, Vec<f64>, f64) {
    let rig = rig(script);
    let id = run_novel(&rig, novel_input(chapters, words_each)).await;
    let results = rig.results(&id).await;
    let scores: Vec<f64> = (0..chapters as u32)
        .map(|k| {
            results[&("write".to_string(), Some(k))].metrics["length_score"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let book = rig.output(&id, "book").await;
    let total: usize = book["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| words(c["content"].as_str().unwrap()))
        .sum();
    let share = total as f64 / (chapters * words_each) as f64;
    eprintln!(
        "{chapters} x {words_each} words: scores {scores:?}, book {total} words = {:.0} %",
        share * 100.0
    );
    (rig, id, scores, share)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_stops_at_300_words_still_writes_1200_word_chapters() {
    let (rig, id, scores, share) = novel_lengths(
        Script {
            max_reply_words: Some(300),
            ..Script::default()
        },
        4,
        1200,
    )
    .await;
    assert!(scores.iter().all(|s| *s >= 90.0), "{scores:?}");
    assert!((0.85..=1.15).contains(&share), "{share}");
    // The run's report gives the book's mean and minimum.
    let report = rig.engine.report(OWNER, &id).await.unwrap();
    let l = report.length.unwrap();
    assert_eq!(l.chapters, 4);
    assert!(l.mean >= 90.0 && l.min >= 90.0, "{l:?}");
    let results = rig.results(&id).await;
    for k in 0..4u32 {
        let r = &results[&("write".to_string(), Some(k))];
        assert!(
            r.metrics["length_appends"].as_u64().unwrap() >= 3,
            "{}",
            r.metrics
        );
        let text = r.output.as_str().unwrap();
        assert!(
            text.starts_with(&format!("Mara is in City{}.", k + 1)),
            "opens where planned"
        );
        assert!(
            text.ends_with(&format!("Mara ends in City{}.", k + 2)),
            "ends where planned"
        );
    }
    // Prompts stay flat: an append shows the end of the text so far, never all of it.
    let appends: Vec<usize> = rig
        .requests_of("novelist")
        .iter()
        .filter_map(|r| {
            let t = turns(&r.body);
            (t.len() == 3 && t[2].1.contains("Continue it from exactly where it stops"))
                .then(|| t[1].1.split_whitespace().count())
        })
        .collect();
    assert!(appends.len() >= 12, "{}", appends.len());
    assert!(appends.iter().all(|w| *w <= 401), "{appends:?}");
    // The chapters are continuous prose: no passage repeats inside one.
    let polish = rig.output(&id, "polish").await;
    assert_eq!(polish["rewritten"], json!([]), "{polish}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_stops_at_2000_words_still_writes_5000_word_chapters() {
    let (_, _, scores, share) = novel_lengths(
        Script {
            max_reply_words: Some(2000),
            ..Script::default()
        },
        4,
        5000,
    )
    .await;
    assert!(scores.iter().all(|s| *s >= 90.0), "{scores:?}");
    assert!((0.85..=1.15).contains(&share), "{share}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_writes_three_times_the_budget_is_tightened_to_it() {
    let (rig, id, scores, share) = novel_lengths(
        Script {
            overwrite: Some(3.0),
            ..Script::default()
        },
        4,
        1200,
    )
    .await;
    assert!(share <= 1.3, "{share}");
    assert!(scores.iter().all(|s| *s >= 90.0), "{scores:?}");
    let results = rig.results(&id).await;
    for k in 0..4u32 {
        let m = &results[&("write".to_string(), Some(k))].metrics;
        assert!(m["delivered_words"].as_u64().unwrap() <= 1560, "{m}");
        assert_eq!(
            m["length_passes"], 1,
            "one tighten pass aimed at a third: {m}"
        );
    }
}

fn review_flow(threshold: f64, max_revisions: u32, min_improvement: f64) -> Value {
    json!({"nodes": [
        {"id": "brief", "type": "input", "position": {"x": 0, "y": 0}, "data": {"fields": [{"name": "words", "type": "integer", "default": 200}]}},
        {"id": "chapter", "type": "text", "position": {"x": 200, "y": 0}, "data": {
            "provider": "openai", "model": "gpt-5-mini", "max_tokens": 2000,
            "system": "You are a novelist.", "prompt": "Write chapter 1: \"Test\". Write about {{input.words}} words.",
            "review": {"provider": "openai", "model": "gpt-5", "max_tokens": 500,
                "system": "You are a demanding fiction editor.",
                "prompt": "Rubric: beats, prose, voice. Chapter:\n{draft}\nAnswer JSON {\"score\", \"notes\"}.",
                "threshold": threshold, "max_revisions": max_revisions, "min_improvement": min_improvement,
                "revise_prompt": "An editor scored this chapter {score}/10; it needs {threshold}. Fix:\n{notes}"}}}
    ], "edges": [{"id": "e", "source": "brief", "target": "chapter"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_loop_stops_at_its_cap_and_at_a_plateau() {
    // Cap: scores keep improving but never reach the threshold.
    let cap = rig(Script {
        review_scores: std::sync::Arc::new(std::sync::Mutex::new(vec![3.0, 4.0, 5.0, 6.0])),
        ..Script::default()
    });
    let out = cap.start(&review_flow(8.0, 2, 0.5), json!({})).await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let m = cap.results(&out.execution_id).await[&("chapter".to_string(), None)]
        .metrics
        .clone();
    assert_eq!(m["review_scores"], json!([3.0, 4.0, 5.0]));
    assert_eq!(m["revisions"], 2);
    assert_eq!(m["review_stop"], "cap");
    assert_eq!(cap.requests_of("fiction editor").len(), 3);
    let writer = cap.requests_of("novelist");
    assert_eq!(writer.len(), 3);
    let revise = turns(&writer[1].body);
    assert!(
        revise[2].1.contains("scored this chapter 3/10; it needs 8")
            && revise[2].1.contains("note for score 3")
    );

    // Plateau: the first revision gains less than min_improvement.
    let plateau = rig(Script {
        review_scores: std::sync::Arc::new(std::sync::Mutex::new(vec![5.0, 5.2, 9.0])),
        ..Script::default()
    });
    let out = plateau.start(&review_flow(8.0, 4, 0.5), json!({})).await;
    let m = plateau.results(&out.execution_id).await[&("chapter".to_string(), None)]
        .metrics
        .clone();
    assert_eq!(m["review_scores"], json!([5.0, 5.2]));
    assert_eq!(m["revisions"], 1);
    assert_eq!(m["review_stop"], "plateau");
    assert_eq!(plateau.requests_of("fiction editor").len(), 2);
    assert_eq!(plateau.requests_of("novelist").len(), 2);

    // Threshold met at once: no revision; a worse revision is not kept.
    let worse = rig(Script {
        review_scores: std::sync::Arc::new(std::sync::Mutex::new(vec![6.0, 4.0])),
        ..Script::default()
    });
    let out = worse.start(&review_flow(8.0, 3, 0.0), json!({})).await;
    let m = worse.results(&out.execution_id).await[&("chapter".to_string(), None)]
        .metrics
        .clone();
    assert_eq!(
        (m["review_stop"].clone(), m["review_score"].clone()),
        (json!("plateau"), json!(6.0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picture_book_compiles_with_a_generated_cover_and_nonfiction_runs() {
    let rig = rig(Script::default());
    let out = rig
        .start(
            &flow("picture-book.json"),
            json!({"title": "Fox and Moon", "premise": "A fox wants the moon.", "words": 120}),
        )
        .await;
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let book = rig.output(&out.execution_id, "book").await;
    assert_eq!(
        book["cover"],
        json!({"mime": "image/png", "base64": PNG_B64})
    );
    assert_eq!(book["chapters"][0]["title"], "Page 1");
    let images: Vec<_> = rig
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/images/generations"))
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].body["prompt"], "a fox under the moon");

    let paused = rig
        .start(
            &flow("nonfiction.json"),
            json!({"title": "Sourdough", "topic": "bread", "chapters": 3, "chapter_words": 300}),
        )
        .await;
    assert_eq!(paused.reason.as_deref(), Some("awaiting_approval"));
    let done = rig.approve(&paused.execution_id, "gate", None).await;
    assert_eq!(
        done.status,
        ExecutionStatus::Completed,
        "{:?}",
        done.message
    );
    let book = rig.output(&done.execution_id, "book").await;
    assert_eq!(book["chapters"].as_array().unwrap().len(), 3);
    assert_eq!(book["chapters"][2]["title"], "Part 3");
}
