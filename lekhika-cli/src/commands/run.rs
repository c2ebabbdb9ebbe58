//! `run`, `resume`, `regenerate`, `approve`, `reject`: start or continue a
//! run, follow its events, write the book.

use std::path::PathBuf;

use lekhika::{FlowDoc, LekhikaError, RunRequest, RunSettings};
use lekhika_core::exec::EngineError;
use lekhika_core::store::{ExecutionStatus, RunnerInfo};
use lekhika_core::{RunHandle, RunOutcome};
use serde_json::{json, Value};

use crate::args::{Follow, RunArgs};
use crate::error::{
    CliError, CliResult, AWAITING_APPROVAL, CONTENT_BLOCKED, NODE_FAILED, OUT_OF_TOKENS, PROVIDER,
    STOPPED,
};
use crate::progress::Progress;
use crate::setup::{run_settings, setup, Setup};
use crate::{commands::info::print_estimate, inputs};

/// The run `run` and `submit` ask for: flow, inputs, models, concurrency,
/// and where the book goes (kept in the run's host settings).
pub fn request(args: &RunArgs, s: &Setup) -> CliResult<RunRequest> {
    let settings = RunSettings {
        max_concurrency: args.max_concurrency,
        reuse: args.reuse,
        host: json!({
            "out": args.follow.out.clone().map(|p| p.to_string_lossy().into_owned()),
            "formats": args.follow.formats.clone(),
        }),
        ..run_settings(&args.models, s)?
    };
    Ok(RunRequest::new(
        FlowDoc::from_path(&args.flow)?,
        inputs::collect(&args.inputs)?,
        settings,
    ))
}

pub async fn run(args: RunArgs) -> CliResult<()> {
    let s = setup(&args.common).await?;
    let req = request(&args, &s)?;
    if args.dry_run {
        let est = s.lk.estimate(&req)?;
        return print_estimate(&est, args.follow.json);
    }
    let handle = s.lk.start(req).await?;
    follow(&s, handle, &args.follow).await
}

/// Continue a run. If another process holds it, wait while that process
/// may be dead (its lease expires unrenewed); a live one is refused (exit
/// 6). A completed run whose book files are missing (killed while writing
/// them) gets them written; with all of them there, there is nothing to do.
pub async fn resume(s: Setup, id: &str, f: &Follow) -> CliResult<()> {
    let mut on_wait = |r: &RunnerInfo| {
        eprintln!(
            "execution {id} is held by runner {} whose lease expires in {:.1} s; \
             waiting to see whether it is still alive...",
            r.worker,
            r.expires_in_ms.max(0) as f64 / 1000.0
        );
    };
    match s.lk.resume(&s.user, id, &mut on_wait).await {
        Ok(handle) => follow(&s, handle, f).await,
        Err(LekhikaError::Engine(EngineError::AlreadyCompleted(_))) => finish_book(&s, id, f).await,
        Err(e) => Err(e.into()),
    }
}

/// A completed run: write whichever of its book files are missing.
async fn finish_book(s: &Setup, id: &str, f: &Follow) -> CliResult<()> {
    let (out, formats) = book_target(&s.lk, &s.user, id, f).await?;
    let (written, present) = match s.lk.write_missing(&s.user, id, &formats, &out, None).await {
        Ok(x) => x,
        Err(lekhika::LekhikaError::NoBook(_)) => (Vec::new(), Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let paths = |v: &[PathBuf]| -> Vec<String> {
        v.iter().map(|p| p.to_string_lossy().into_owned()).collect()
    };
    if f.json {
        let mut files = paths(&present);
        files.extend(paths(&written));
        println!(
            "{}",
            json!({"type": "result", "execution_id": id, "status": "completed",
                   "files": files, "written": paths(&written)})
        );
    } else if written.is_empty() {
        eprintln!(
            "execution {id} is complete and its book is written in {}: nothing to do",
            out.display()
        );
        println!("{id}");
    } else {
        for p in &written {
            eprintln!("wrote {}", p.display());
        }
        println!("{id}");
    }
    Ok(())
}

/// Where a run's book goes: the flags, else the run's own choice, else
/// `./out` in every format the flow makes (no formats: the documents of
/// a `compile` node, the audiobook of a `speech` node).
pub(crate) async fn book_target(
    lk: &lekhika::Lekhika,
    user: &str,
    id: &str,
    f: &Follow,
) -> CliResult<(PathBuf, Vec<String>)> {
    let host = lk.settings(user, id).await?.host;
    let out = f
        .out
        .clone()
        .or_else(|| host.get("out").and_then(Value::as_str).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("out"));
    let formats: Vec<String> = f
        .formats
        .clone()
        .or_else(|| {
            serde_json::from_value(host.get("formats").cloned().unwrap_or(Value::Null))
                .ok()
                .flatten()
        })
        .unwrap_or_default();
    Ok((out, formats))
}

pub async fn regenerate(
    s: Setup,
    id: &str,
    node: &str,
    instruction: Option<&str>,
    f: &Follow,
) -> CliResult<()> {
    let handle = s.lk.regenerate(&s.user, id, node, instruction).await?;
    follow(&s, handle, f).await
}

pub async fn approve(
    s: Setup,
    id: &str,
    node: &str,
    edit: Option<PathBuf>,
    f: &Follow,
) -> CliResult<()> {
    let edited = match edit {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", p.display())))?;
            Some(serde_json::from_str(&text).unwrap_or(Value::String(text)))
        }
        None => None,
    };
    let handle = s.lk.approve(&s.user, id, node, edited).await?;
    follow(&s, handle, f).await
}

pub async fn reject(
    s: Setup,
    id: &str,
    node: &str,
    instruction: &str,
    f: &Follow,
) -> CliResult<()> {
    let handle = s.lk.reject(&s.user, id, node, instruction).await?;
    follow(&s, handle, f).await
}

/// Show events until the run ends; Ctrl-C stops it. Then act on the outcome.
pub async fn follow(s: &Setup, mut handle: RunHandle, f: &Follow) -> CliResult<()> {
    let mut progress = Progress::new(f.json);
    let mut events = handle.events();
    let stop = handle.stop_token();
    let id = handle.execution_id().to_string();
    if !f.json {
        eprintln!("execution id: {id}");
    }
    if let Some(ev) = events.as_mut() {
        loop {
            tokio::select! {
                e = ev.recv() => match e {
                    Some(e) => {
                        let end = e.kind.is_terminal();
                        progress.on_event(&e);
                        if end { break; }
                    }
                    None => break,
                },
                _ = tokio::signal::ctrl_c() => stop.cancel(),
            }
        }
    }
    let outcome = handle.wait().await?;
    conclude(s, &outcome, f).await
}

async fn conclude(s: &Setup, o: &RunOutcome, f: &Follow) -> CliResult<()> {
    let id = &o.execution_id;
    match o.status {
        ExecutionStatus::Completed => {
            let (out, formats) = book_target(&s.lk, &s.user, id, f).await?;
            let files = match s.lk.write_book(&s.user, id, &formats, &out, None).await {
                Ok(files) => files,
                // A flow without a book (e.g. an outline-only flow).
                Err(lekhika::LekhikaError::NoBook(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            if f.json {
                let files: Vec<String> = files
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                println!(
                    "{}",
                    json!({"type": "result", "execution_id": id, "status": "completed", "files": files,
                           "usage": o.usage, "cost": o.cost})
                );
            } else {
                for p in &files {
                    eprintln!("wrote {}", p.display());
                }
                println!("{id}");
            }
            Ok(())
        }
        status => {
            if f.json {
                println!(
                    "{}",
                    json!({"type": "result", "execution_id": id, "status": status.as_str(),
                           "reason": o.reason, "node": o.node, "message": o.message})
                );
            } else {
                println!("{id}");
            }
            let msg = o.message.clone().unwrap_or_default();
            let again = &s.again;
            let node = o.node.clone().unwrap_or_default();
            let code = o
                .failure
                .as_ref()
                .map(|f| f.code.as_str())
                .or(o.reason.as_deref());
            Err(match (status, code) {
                (ExecutionStatus::Stopped, _) => CliError::new(
                    STOPPED,
                    format!("stopped; continue with `lekhika resume {id}{again}`"),
                ),
                (ExecutionStatus::Paused, Some("awaiting_approval")) => CliError::new(
                    AWAITING_APPROVAL,
                    format!(
                        "{msg}\napprove with `lekhika approve {id} {node}{again}` (or --edit FILE), \
                         or `lekhika reject {id} {node}{again} --instruction TEXT`"
                    ),
                ),
                (ExecutionStatus::Paused, _) => CliError::new(
                    OUT_OF_TOKENS,
                    format!(
                        "{msg}\nadd tokens with `lekhika wallet grant {} AMOUNT{again}`, then `lekhika resume {id}{again}`",
                        s.user
                    ),
                ),
                (_, Some("content_blocked")) => CliError::new(
                    CONTENT_BLOCKED,
                    format!(
                        "{msg}\nthe provider blocked this content, and resuming would ask the same again: \
                         change the prompt (`lekhika regenerate {id} {node}{again} --instruction TEXT`) \
                         or run the flow with another provider for it (`--node-provider {node}=NAME`)"
                    ),
                ),
                (_, Some("provider_error")) => CliError::new(
                    PROVIDER,
                    format!("{msg}\nresume with `lekhika resume {id}{again}`"),
                ),
                (_, Some("invalid_output" | "node_failed" | "template_error" | "timeout")) => {
                    CliError::new(
                        NODE_FAILED,
                        format!(
                            "{msg}\nstep `{node}` failed; see `lekhika status {id}{again}`, then \
                             `lekhika regenerate {id} {node}{again} [--instruction TEXT]` or `lekhika resume {id}{again}`"
                        ),
                    )
                }
                _ => CliError::other(format!("{msg}\nresume with `lekhika resume {id}{again}`")),
            })
        }
    }
}
