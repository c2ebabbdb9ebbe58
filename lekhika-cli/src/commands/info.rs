//! `status`, `validate`, `estimate`, `export`, `stop`.

use std::path::Path;

use lekhika::{FlowDoc, RunRequest, RunSettings};
use lekhika_core::exec::estimate::Estimate;

use crate::args::{Common, Inputs, ModelChoice};
use crate::error::{CliError, CliResult};
use crate::inputs;
use crate::setup::{run_settings, setup};

pub async fn status(common: &Common, id: &str, json: bool) -> CliResult<()> {
    let s = setup(common).await?;
    let r = s.lk.report(&s.user, id).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).map_err(|e| CliError::other(e.to_string()))?
        );
        return Ok(());
    }
    println!("execution {}", r.execution_id);
    println!("status    {}", r.status.as_str());
    if let Some(runner) = &r.runner {
        println!(
            "runner    {} (its lease is renewed while it runs; {:.0} s left)",
            runner.worker,
            runner.expires_in_ms.max(0) as f64 / 1000.0
        );
    }
    if let Some(m) = &r.message {
        println!("message   {m}");
    }
    println!(
        "steps     {} of {} done (attempt {})",
        r.nodes_done, r.nodes_total, r.epoch
    );
    println!(
        "tokens    {} in, {} out; cost {}",
        r.usage.input_tokens, r.usage.output_tokens, r.cost
    );
    println!(
        "calls     {} model replies from {} HTTP requests ({} retried, failed or given up)",
        r.calls, r.requests, r.retries
    );
    if r.reused_calls > 0 {
        println!(
            "reused    {} replies served from earlier runs (--reuse): no request, no charge ({} in, {} out not asked again)",
            r.reused_calls, r.reused_usage.input_tokens, r.reused_usage.output_tokens
        );
    }
    if r.usage_estimated.total() > 0 {
        println!(
            "          of which estimated: {} in, {} out (the server reported no usage, or the call was abandoned)",
            r.usage_estimated.input_tokens, r.usage_estimated.output_tokens
        );
    }
    if let Some(l) = &r.length {
        println!(
            "length    score {:.1} on average, {:.1} at least, over {} chapters (LongWriter's length score)",
            l.mean, l.min, l.chapters
        );
    }
    if r.abandoned_calls > 0 {
        println!(
            "          {} calls abandoned mid-reply (cut and retried, or stopped): their tokens are counted, not charged",
            r.abandoned_calls
        );
    }
    println!();
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}  models / notes",
        "node", "seconds", "in", "out", "cost", "attempts", "requests"
    );
    for n in &r.nodes {
        let name = match n.item {
            Some(i) => format!("{}[{}]", n.node, i + 1),
            None => n.node.clone(),
        };
        // The models that answered this node's calls (a writer and its
        // reviewer are different models), else the one it is set to.
        let mut notes = if n.models.is_empty() {
            match (&n.provider, &n.model) {
                (Some(p), Some(m)) => format!("{p}/{m}"),
                _ => String::new(),
            }
        } else {
            n.models
                .iter()
                .map(|u| match u.calls {
                    1 => format!("{}/{}", u.provider, u.model),
                    c => format!("{}/{} ×{c}", u.provider, u.model),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(w) = n.metrics.get("words").and_then(|v| v.as_u64()) {
            notes.push_str(&format!("  {w} words"));
        }
        if let Some(ls) = n.metrics.get("length_score").and_then(|v| v.as_f64()) {
            notes.push_str(&format!("  length score {ls:.0}"));
        }
        println!(
            "{:<22} {:>9.2} {:>9} {:>9} {:>7} {:>8} {:>8}  {}",
            name,
            n.duration_ms as f64 / 1000.0,
            n.usage.input_tokens,
            n.usage.output_tokens,
            n.cost,
            n.attempts,
            n.requests,
            notes
        );
    }
    if !r.providers.is_empty() {
        println!();
        println!(
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
            "provider", "calls", "requests", "retries", "in", "out", "cost"
        );
        for (p, t) in &r.providers {
            println!(
                "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
                p,
                t.calls,
                t.requests,
                t.retries,
                t.usage.input_tokens,
                t.usage.output_tokens,
                t.cost
            );
        }
    }
    Ok(())
}

pub async fn validate(common: &Common, flow: &Path) -> CliResult<()> {
    let s = setup(common).await?;
    let f =
        s.lk.validate(&FlowDoc::from_path(flow)?, &RunSettings::default())?;
    println!(
        "{}: valid flow with {} nodes",
        flow.display(),
        f.nodes.len()
    );
    for w in &f.warnings {
        eprintln!("warning: {w}");
    }
    if !f.inputs.is_empty() {
        println!("inputs:");
        for field in &f.inputs {
            let req = if field.required { " (required)" } else { "" };
            let def = field
                .default
                .as_ref()
                .map(|d| format!(" [default {d}]"))
                .unwrap_or_default();
            println!("  {:<16} {}{req}{def}", field.name, field.field_type);
        }
    }
    Ok(())
}

pub async fn estimate(
    common: &Common,
    flow: &Path,
    inp: &Inputs,
    models: &ModelChoice,
    json: bool,
) -> CliResult<()> {
    let s = setup(common).await?;
    let req = RunRequest::new(
        FlowDoc::from_path(flow)?,
        inputs::collect(inp)?,
        run_settings(models, &s)?,
    );
    print_estimate(&s.lk.estimate(&req)?, json)
}

pub fn print_estimate(est: &Estimate, json: bool) -> CliResult<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(est).map_err(|e| CliError::other(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{:<20} {:<28} {:>6} {:>11} {:>11} {:>9}   {:>6} {:>11} {:>9}",
        "node", "model", "calls", "in", "out", "cost", "calls", "in (worst)", "cost"
    );
    let cost = |c: Option<i64>| c.map_or("no price".to_string(), |c| c.to_string());
    for n in &est.nodes {
        println!(
            "{:<20} {:<28} {:>6} {:>11} {:>11} {:>9}   {:>6} {:>11} {:>9}",
            n.node,
            format!("{}/{}", n.provider, n.model),
            n.expected.calls,
            n.expected.input_tokens,
            n.expected.output_tokens,
            cost(n.expected.cost),
            n.worst.calls,
            n.worst.input_tokens,
            cost(n.worst.cost),
        );
    }
    println!(
        "expected:   {} calls, {} input + {} output tokens, wallet cost {}",
        est.expected.calls,
        est.expected.input_tokens,
        est.expected.output_tokens,
        est.expected.cost
    );
    println!(
        "worst case: {} calls, {} input + {} output tokens, wallet cost {} (every loop at its limit)",
        est.worst.calls, est.worst.input_tokens, est.worst.output_tokens, est.worst.cost
    );
    if !est.missing_prices.is_empty() {
        println!(
            "no price in the catalog for: {}",
            est.missing_prices.join(", ")
        );
    }
    Ok(())
}

pub async fn export(common: &Common, id: &str, formats: &[String], out: &Path) -> CliResult<()> {
    if lekhika::manuscript::is_manuscript_path(id) {
        return export_manuscript(Path::new(id), formats, out).await;
    }
    let s = setup(common).await?;
    for p in s.lk.write_book(&s.user, id, formats, out, None).await? {
        println!("{}", p.display());
    }
    Ok(())
}

/// `lekhika export book.md|book.json --formats ... --out DIR`: no store, no run.
async fn export_manuscript(path: &Path, formats: &[String], out: &Path) -> CliResult<()> {
    let (path, formats, out) = (path.to_path_buf(), formats.to_vec(), out.to_path_buf());
    let written =
        tokio::task::spawn_blocking(move || lekhika::write_manuscript(&path, &formats, &out, None))
            .await
            .map_err(|e| CliError::other(format!("export task failed: {e}")))??;
    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}

pub async fn stop(common: &Common, id: &str) -> CliResult<()> {
    let s = setup(common).await?;
    s.lk.stop(&s.user, id).await?;
    println!("stop requested for {id}");
    Ok(())
}
