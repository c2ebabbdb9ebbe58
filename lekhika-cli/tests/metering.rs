#![allow(clippy::unwrap_used)]

//! Images are metered like text: reserved and charged at the catalog's
//! per-image price, in the ledger, and in the estimate.

mod common;

use common::*;
use lekhika_providers::testkit::{Reply, ScriptedServer};
use serde_json::{json, Value};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn cover_flow() -> Value {
    json!({
        "nodes": [
            {"id": "brief", "type": "input", "data": {"fields": [{"name": "title", "type": "string", "required": true}]}},
            {"id": "cover", "type": "image", "data": {
                "provider": "openai", "model": "gpt-image-1", "size": "1024x1536",
                "prompt": "A cover for {{input.title}}"}},
            {"id": "blurb", "type": "text", "data": {
                "provider": "openai", "model": "gpt-4.1", "max_tokens": 200,
                "prompt": "BLURB for {{input.title}}"}}
        ],
        "edges": [
            {"id": "e1", "source": "brief", "target": "cover"},
            {"id": "e2", "source": "brief", "target": "blurb"}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_reserved_charged_and_estimated_at_its_catalog_price() {
    let server = ScriptedServer::openai(|b| {
        if b["model"] == "gpt-image-1" {
            Reply::json(200, &json!({"created": 1, "data": [{"b64_json": PNG}]}))
        } else {
            Reply::text("A fine blurb.").usage(40, 10)
        }
    });
    let dir = tmpdir("image-metering");
    let flow = dir.join("cover.json");
    std::fs::write(&flow, cover_flow().to_string()).unwrap();
    let store = dir.join("s.db");
    // The catalog's gpt-image-1 costs 420 wallet tokens per image.
    let est = run_ok(cmd(None, &store).args([
        "estimate",
        flow.to_str().unwrap(),
        "--json",
        "--input",
        "title=Tide",
    ]));
    let est: Value = serde_json::from_slice(&est.stdout).unwrap();
    let cover = est["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "cover")
        .unwrap()
        .clone();
    assert_eq!(cover["expected"]["cost"], 420, "{est}");
    assert_eq!(cover["expected"]["calls"], 1);
    assert!(
        est["expected"]["cost"].as_i64().unwrap() > 420,
        "the blurb adds to it: {est}"
    );
    assert_eq!(est["missing_prices"], json!([]));

    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "10000"]));
    let mut c = cmd(Some(&server), &store);
    c.args([
        "run",
        flow.to_str().unwrap(),
        "--input",
        "title=Tide",
        "--json",
    ]);
    let out = run_ok(&mut c);
    let last = json_lines(&out.stdout).pop().unwrap();
    assert_eq!(last["status"], "completed", "{last}");
    let cost = last["cost"].as_i64().unwrap();
    let shown = run_ok(cmd(None, &store).args(["wallet", "show", "local", "--json"]));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["wallet"]["total_spent"].as_i64().unwrap(), cost);
    assert_eq!(shown["wallet"]["reserved"], 0);
    let ledger = shown["ledger"].as_array().unwrap();
    let image_settle = ledger
        .iter()
        .find(|e| e["node_id"] == "cover" && e["kind"] == "settle")
        .unwrap_or_else(|| panic!("no settle entry for the cover: {shown}"));
    assert_eq!(image_settle["amount"], 420);
    let image_reserve = ledger
        .iter()
        .find(|e| e["node_id"] == "cover" && e["kind"] == "reserve")
        .unwrap();
    assert_eq!(image_reserve["amount"], 420);
    assert!(cost > 420, "text and image together: {cost}");
    // The status report prices it too.
    let rep = run_ok(cmd(None, &store).args([
        "status",
        last["execution_id"].as_str().unwrap(),
        "--json",
    ]));
    let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
    let node = rep["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "cover")
        .unwrap()
        .clone();
    assert_eq!(node["cost"], 420, "{rep}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metered_run_refuses_an_image_model_without_a_per_image_price() {
    let server = ScriptedServer::openai(|_| {
        Reply::json(200, &json!({"created": 1, "data": [{"b64_json": PNG}]}))
    });
    let dir = tmpdir("image-unpriced");
    let store = dir.join("s.db");
    run_ok(cmd(None, &store).args(["wallet", "grant", "local", "10000"]));
    // A model the catalog does not know, and one it prices per token only.
    for (model, says) in [
        (
            "dall-e-unpriced",
            "no price in the model catalog for openai/dall-e-unpriced",
        ),
        ("gpt-4.1", "openai/gpt-4.1 (no per-image price)"),
    ] {
        let mut flow = cover_flow();
        flow["nodes"][1]["data"]["model"] = json!(model);
        let path = dir.join(format!("{model}.json"));
        std::fs::write(&path, flow.to_string()).unwrap();
        let est = run_ok(cmd(None, &store).args([
            "estimate",
            path.to_str().unwrap(),
            "--json",
            "--input",
            "title=Tide",
        ]));
        let est: Value = serde_json::from_slice(&est.stdout).unwrap();
        assert!(
            est["missing_prices"]
                .as_array()
                .unwrap()
                .contains(&json!(format!("openai/{model}"))),
            "{est}"
        );
        let out = cmd(Some(&server), &store)
            .args(["run", path.to_str().unwrap(), "--input", "title=Tide"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
    assert_eq!(
        server.request_count(),
        0,
        "nothing is asked that cannot be charged"
    );
}
