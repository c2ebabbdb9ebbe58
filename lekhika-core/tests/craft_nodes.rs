//! Book-craft node kinds on the in-process scripted model: every nested
//! call of `continuity` / `phrase_check` is metered under its own wallet key
//! and counted in the node's usage; `bible` filters entries per chapter.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{ProviderError, ProviderErrorKind, TextRequest};
use lekhika_core::store::{ExecutionStatus, ExecutionStore};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::wallet::{LedgerKind, MemoryWalletStore, ModelPrice, PriceBook, WalletStore};
use lekhika_core::{Engine, RunOptions};
use serde_json::{json, Value};

fn flow() -> Value {
    let rewrite = json!({"kind": "text", "provider": "scripted", "model": "m", "max_tokens": 100,
        "prompt": "REWRITE {{item.number}} {{item.draft}}"});
    json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": [{"name": "plan", "type": "select", "required": true}]}},
        {"id": "codex", "type": "bible", "data": {
            "entries": "{{nodes.plan.output.bible}}", "chapters": "{{nodes.plan.output.chapters}}",
            "entry_format": "{name}: {description}", "match_fields": ["beats"]}},
        {"id": "plan", "type": "template", "data": {"template": "{{input.plan}}"}},
        {"id": "write", "type": "map", "data": {"items": "{{nodes.codex.output.chapters}}", "node":
            {"kind": "text", "provider": "scripted", "model": "m", "max_tokens": 100,
             "prompt": "WRITE {{item.number}} [{{item.bible}}]"}}},
        {"id": "cont", "type": "continuity", "data": {
            "chapters": "{{nodes.write.output}}", "outline": "{{nodes.codex.output.chapters}}",
            "instruction": "FIX: {issue}", "max_rounds": 2,
            "check": {"kind": "text", "provider": "scripted", "model": "m", "max_tokens": 100, "output": "json",
                      "prompt": "CHECK {{item.ending}} | {{item.opening}}"},
            "rewrite": rewrite}},
        {"id": "slop", "type": "phrase_check", "data": {
            "chapters": "{{nodes.cont.output.chapters}}", "phrases": ["tapestry of"], "ngram": 0,
            "instruction": "HITS: {hits}", "rewrite": rewrite}}
    ], "edges": [
        {"source": "in", "target": "plan"}, {"source": "plan", "target": "codex"},
        {"source": "codex", "target": "write"}, {"source": "write", "target": "cont"},
        {"source": "cont", "target": "slop"}
    ]})
}

fn answer(req: &TextRequest) -> String {
    let p = &req.messages[0].content;
    if let Some(rest) = p.strip_prefix("WRITE ") {
        let k: u32 = rest.split(' ').next().unwrap().parse().unwrap();
        // Chapter 3 opens in the wrong place and uses a stock phrase.
        return if k == 3 {
            "open ROME a tapestry of words end HOME".into()
        } else {
            "open HOME plain words end HOME".into()
        };
    }
    if let Some(rest) = p.strip_prefix("CHECK ") {
        let ok = !rest.contains("| open ROME");
        return json!({"consistent": ok, "issue": "opens in ROME", "fix": "later"}).to_string();
    }
    if p.starts_with("REWRITE ") {
        return "open HOME plain words end HOME".into();
    }
    "?".into()
}

/// An engine on `model` whose user `u` has a funded wallet and whose model
/// `scripted/m` costs 1 token per token.
async fn metered(model: Arc<ScriptedModel>) -> (Engine, Arc<MemoryStore>, Arc<MemoryWalletStore>) {
    let store = Arc::new(MemoryStore::new());
    let wallet = Arc::new(MemoryWalletStore::new());
    wallet.grant("u", 1_000_000, "g", None).await.unwrap();
    let engine = Engine::builder(model, store.clone())
        .wallet(wallet.clone())
        .prices(PriceBook::new([ModelPrice {
            provider: "scripted".into(),
            model: "m".into(),
            input_per_1k: 1000.0,
            output_per_1k: 1000.0,
            ..Default::default()
        }]))
        .build();
    (engine, store, wallet)
}

#[tokio::test]
async fn nested_calls_are_metered_once_each_and_counted_in_usage() {
    let model = ScriptedModel::new(|req, _| Ok(ScriptedModel::reply(answer(req), 10, 5)));
    let (engine, store, wallet) = metered(model.clone()).await;
    let plan = json!({
        "chapters": (1..=4).map(|k| json!({"beats": [format!("beat with {}", if k == 2 { "the Smith" } else { "nobody" })]})).collect::<Vec<_>>(),
        "bible": [{"name": "Ana", "description": "ALWAYS", "always": true},
                  {"name": "Bo", "aliases": ["the Smith"], "description": "SMITH"},
                  {"name": "Cy", "description": "NEVER"}]
    });
    let h = engine
        .start("u", &flow(), &json!({"plan": plan}), &RunOptions::default())
        .await
        .unwrap();
    let out = h.wait().await.unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);

    // Bible: always-on entries everywhere, Bo only where an alias is mentioned, Cy nowhere.
    let prompts = model.prompts();
    let writes: Vec<&String> = prompts.iter().filter(|p| p.starts_with("WRITE")).collect();
    assert_eq!(writes.len(), 4);
    for w in &writes {
        assert!(w.contains("Ana: ALWAYS") && !w.contains("NEVER"));
        assert_eq!(w.contains("Bo: SMITH"), w.starts_with("WRITE 2 "));
    }
    // Continuity: 3 joins, then the 2 around chapter 3; one rewrite of chapter 3.
    assert_eq!(prompts.iter().filter(|p| p.starts_with("CHECK")).count(), 5);
    let rewrites: Vec<&String> = prompts
        .iter()
        .filter(|p| p.starts_with("REWRITE"))
        .collect();
    assert_eq!(rewrites.len(), 1);
    assert!(
        rewrites[0].starts_with("REWRITE 3 open ROME")
            && rewrites[0].contains("FIX: opens in ROME")
    );
    // The rewrite also removed the stock phrase: phrase_check finds nothing.
    let results: std::collections::HashMap<_, _> = store
        .node_results("u", &out.execution_id)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, r)| ((k.node, k.item), r))
        .collect();
    assert_eq!(
        results[&("slop".to_string(), None)].output["rewritten"],
        json!([])
    );
    let cont = &results[&("cont".to_string(), None)];
    assert_eq!(cont.output["rewritten"], json!([3]));
    // Usage of the 6 nested calls is the continuity node's own.
    assert_eq!(cont.usage.input_tokens, 60);
    assert_eq!(cont.usage.output_tokens, 30);

    // Every call reserved and settled under its own key; the wallet paid for all of them.
    let ledger = wallet.ledger("u", Some(&out.execution_id)).await.unwrap();
    let settles: Vec<_> = ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::Settle)
        .collect();
    assert_eq!(settles.len(), model.calls(), "one settle per model call");
    let mut keys: Vec<&String> = settles.iter().map(|e| &e.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), model.calls(), "no two calls share a wallet key");
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.total_spent, out.cost);
    assert_eq!(w.total_spent, 15 * model.calls() as i64);
}

#[tokio::test]
async fn phrase_check_rewrites_the_flagged_chapter_with_its_draft_issue_and_neighbours() {
    let model = ScriptedModel::new(|req, _| {
        let p = &req.messages[0].content;
        assert!(
            p.starts_with("REWRITE"),
            "only rewrites call the model: {p}"
        );
        Ok(ScriptedModel::reply("clean text", 10, 5))
    });
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(model.clone(), store.clone()).build();
    let doc = json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": [
            {"name": "chapters", "type": "select", "required": true},
            {"name": "outline", "type": "select", "required": true}]}},
        {"id": "ch", "type": "template", "data": {"template": "{{input.chapters}}"}},
        {"id": "ol", "type": "template", "data": {"template": "{{input.outline}}"}},
        {"id": "slop", "type": "phrase_check", "data": {
            "chapters": "{{nodes.ch.output}}", "outline": "{{nodes.ol.output}}",
            "phrases": ["tapestry of"], "ngram": 0, "instruction": "HITS: {hits}",
            "rewrite": {"kind": "text", "provider": "scripted", "model": "m", "max_tokens": 100,
                "prompt": "REWRITE {{item.title}} | {{item.draft}} | {{item.issue}} | prev={{previous}} | next={{next_item.title}}"}}}
    ], "edges": [
        {"source": "in", "target": "ch"}, {"source": "in", "target": "ol"},
        {"source": "ch", "target": "slop"}, {"source": "ol", "target": "slop"}
    ]});
    let input = json!({
        "chapters": ["alpha text", "a tapestry of lies", "gamma"],
        "outline": [{"title": "One"}, {"title": "Two"}, {"title": "Three"}]
    });
    let out = engine
        .start("u", &doc, &input, &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    let prompts = model.prompts();
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    let hit = "- the stock phrase \"tapestry of\"";
    assert!(
        prompts[0].starts_with(&format!(
            "REWRITE Two | a tapestry of lies | {hit} | prev=alpha text | next=Three"
        )),
        "{}",
        prompts[0]
    );
    assert!(
        prompts[0].contains(&format!("HITS: {hit}")),
        "{}",
        prompts[0]
    );
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let slop = &results.iter().find(|(k, _)| k.node == "slop").unwrap().1;
    assert_eq!(
        slop.output["chapters"],
        json!(["alpha text", "clean text", "gamma"])
    );
    assert_eq!(slop.output["rewritten"], json!([2]));
    assert_eq!(slop.output["remaining"], json!([]));
    assert_eq!(slop.output["report"][0]["chapter"], 2);
    assert_eq!(slop.metrics["rounds"], 1);
    assert!(slop.metrics["rewrite_metrics"].get("2").is_some());
}

#[tokio::test]
async fn a_resumed_continuity_pass_does_not_repeat_or_rebill_the_calls_it_finished() {
    // The first run: the rewrite of chapter 3 fails for good (a revoked key),
    // after the 3 join checks finished. The resumed run makes only the calls
    // still missing: the rewrite and the 2 checks around chapter 3.
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let is_broken = broken.clone();
    let model = ScriptedModel::new(move |req, _| {
        let p = &req.messages[0].content;
        if p.starts_with("REWRITE") && is_broken.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ProviderError::new(
                "scripted",
                ProviderErrorKind::Auth,
                "key revoked",
            ));
        }
        Ok(ScriptedModel::reply(answer(req), 10, 5))
    });
    let (engine, store, wallet) = metered(model.clone()).await;
    let plan =
        json!({"chapters": (1..=4).map(|_| json!({"beats": []})).collect::<Vec<_>>(), "bible": []});
    let first = engine
        .start("u", &flow(), &json!({"plan": plan}), &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(first.status, ExecutionStatus::Failed, "{:?}", first.message);
    let id = first.execution_id;
    let prompts = model.prompts();
    let count = |ps: &[String], prefix: &str| ps.iter().filter(|p| p.starts_with(prefix)).count();
    assert_eq!(
        (
            count(&prompts, "WRITE"),
            count(&prompts, "CHECK"),
            count(&prompts, "REWRITE")
        ),
        (4, 3, 1)
    );
    // The finished checks are in the call journal under `cont`, which
    // itself has not finished.
    let journaled: Vec<(String, Option<u32>)> = store
        .calls("u", &id)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.node == "cont")
        .map(|c| (c.node, c.item))
        .collect();
    assert_eq!(journaled.len(), 3, "{journaled:?}");
    assert!(journaled.iter().all(|(_, item)| item.is_none()));
    let report = engine.report("u", &id).await.unwrap();
    assert!(report.nodes.iter().all(|n| n.node != "cont"));
    assert_eq!(report.calls, 7, "4 drafts and 3 checks were paid");

    broken.store(false, std::sync::atomic::Ordering::SeqCst);
    let done = engine.resume("u", &id).await.unwrap().wait().await.unwrap();
    assert_eq!(
        done.status,
        ExecutionStatus::Completed,
        "{:?}",
        done.message
    );
    let again: Vec<String> = model.prompts().split_off(prompts.len());
    assert_eq!(again.len(), 3, "{again:?}");
    assert!(again[0].starts_with("REWRITE 3 open ROME"), "{again:?}");
    assert_eq!(count(&again, "CHECK"), 2, "{again:?}");

    // The node's result counts every call of the pass, earlier run's included.
    let results = store.node_results("u", &id).await.unwrap();
    let cont = &results
        .iter()
        .find(|(k, _)| k.node == "cont" && k.item.is_none())
        .unwrap()
        .1;
    assert_eq!(cont.output["rewritten"], json!([3]));
    assert_eq!(cont.usage.input_tokens, 60);
    // Each successful call was settled once; the failed one was released.
    let ledger = wallet.ledger("u", Some(&id)).await.unwrap();
    let mut settled: Vec<&String> = ledger
        .iter()
        .filter(|e| e.kind == LedgerKind::Settle)
        .map(|e| &e.key)
        .collect();
    let n = settled.len();
    settled.sort();
    settled.dedup();
    assert_eq!((n, settled.len()), (model.calls() - 1, model.calls() - 1));
    let w = wallet.wallet("u").await.unwrap().unwrap();
    assert_eq!(w.total_spent, 15 * (model.calls() as i64 - 1));
    assert_eq!(w.total_spent, done.cost);
    let report = engine.report("u", &id).await.unwrap();
    assert_eq!(report.cost as i64, w.total_spent);
    assert_eq!(report.nodes.iter().filter(|n| n.node == "cont").count(), 1);
}

#[tokio::test]
async fn a_rejected_pass_is_written_again_instead_of_replaying_its_saved_steps() {
    // The first rewrite keeps the stock phrase, so the pass's output fails
    // its `validate` check; the regeneration must call the model again, not
    // replay the saved (rejected) rewrite.
    let model = ScriptedModel::new(|_, call| {
        let text = if call == 0 {
            "still a tapestry of lies"
        } else {
            "clean text"
        };
        Ok(ScriptedModel::reply(text, 10, 5))
    });
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(model.clone(), store.clone()).build();
    let doc = json!({"nodes": [
        {"id": "in", "type": "input", "data": {"fields": [{"name": "chapters", "type": "select", "required": true}]}},
        {"id": "ch", "type": "template", "data": {"template": "{{input.chapters}}"}},
        {"id": "slop", "type": "phrase_check", "data": {
            "chapters": "{{nodes.ch.output}}", "phrases": ["tapestry of"], "ngram": 0, "max_rounds": 1, "instruction": "HITS: {hits}",
            "validate": {"json_schema": {"type": "object", "properties": {"remaining": {"enum": [[]]}}}, "attempts": 1},
            "rewrite": {"kind": "text", "provider": "scripted", "model": "m", "max_tokens": 100,
                "prompt": "REWRITE {{item.draft}}"}}}
    ], "edges": [{"source": "in", "target": "ch"}, {"source": "ch", "target": "slop"}]});
    let input = json!({"chapters": ["alpha", "a tapestry of lies"]});
    let out = engine
        .start("u", &doc, &input, &RunOptions::default())
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, ExecutionStatus::Completed, "{:?}", out.message);
    assert_eq!(model.calls(), 2);
    let results = store.node_results("u", &out.execution_id).await.unwrap();
    let slop = &results
        .iter()
        .find(|(k, _)| k.node == "slop" && k.item.is_none())
        .unwrap()
        .1;
    assert_eq!(slop.output["chapters"], json!(["alpha", "clean text"]));
    // Both rewrites were paid and are journaled: the rejected one stays
    // in the journal (a new generation asked anew), never replayed.
    let calls = store.calls("u", &out.execution_id).await.unwrap();
    let replies: Vec<&Value> = calls.iter().map(|c| &c.reply["text"]).collect();
    assert_eq!(calls.len(), 2, "{replies:?}");
    assert_ne!(calls[0].request, calls[1].request);
    assert_eq!(
        slop.usage.input_tokens, 20,
        "the pass paid for both rewrites"
    );
}
