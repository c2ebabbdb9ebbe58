//! `submit` and `worker`: many processes sharing one store as their only
//! coordinator. Workers claim queued runs under leases renewed while they
//! run; a dead worker's runs are taken over from their checkpoints.

use std::time::Duration;

use lekhika::{FlowDoc, RunRequest};
use lekhika_core::RunHandle;
use serde_json::json;
use tokio::task::JoinSet;

use crate::args::{Common, Inputs, ModelChoice};
use crate::error::{CliError, CliResult};
use crate::inputs;
use crate::progress::Progress;
use crate::setup::{run_settings, setup};

pub async fn submit(
    common: &Common,
    flow: &std::path::Path,
    inp: &Inputs,
    models: &ModelChoice,
    as_json: bool,
) -> CliResult<()> {
    let s = setup(common).await?;
    let req = RunRequest::new(
        FlowDoc::from_path(flow)?,
        inputs::collect(inp)?,
        run_settings(models, &s)?,
    );
    let id = s.lk.submit(req).await?;
    if as_json {
        println!("{}", json!({"execution_id": id, "status": "pending"}));
    } else {
        println!("{id}");
    }
    Ok(())
}

fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}", std::process::id())
}

pub async fn worker(
    common: &Common,
    max_concurrent: usize,
    as_json: bool,
    max_runs: Option<usize>,
) -> CliResult<()> {
    let s = setup(common).await?;
    let me = worker_id();
    let lease_len = crate::setup::lease(common)?.unwrap_or(lekhika_core::exec::DEFAULT_LEASE);
    eprintln!(
        "worker {me}: up to {max_concurrent} runs, lease {:.1}s",
        lease_len.as_secs_f64()
    );
    let mut set: JoinSet<()> = JoinSet::new();
    let mut claimed = 0usize;
    loop {
        while set.len() < max_concurrent.max(1) && max_runs.is_none_or(|m| claimed < m) {
            match s.lk.claim(&me, lease_len).await {
                Ok(Some(handle)) => {
                    claimed += 1;
                    eprintln!("worker {me}: claimed {}", handle.execution_id());
                    set.spawn(run_one(handle, as_json));
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!("worker {me}: claim failed: {e}");
                    break;
                }
            }
        }
        if set.is_empty() && max_runs.is_some_and(|m| claimed >= m) {
            return Ok(());
        }
        tokio::select! {
            _ = set.join_next(), if !set.is_empty() => {}
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            _ = tokio::signal::ctrl_c() => {
                set.abort_all();
                return Err(CliError::new(crate::error::STOPPED, "worker interrupted; its runs continue on other workers"));
            }
        }
    }
}

async fn run_one(mut handle: RunHandle, as_json: bool) {
    let id = handle.execution_id().to_string();
    let mut progress = Progress::new(as_json);
    if let Some(mut ev) = handle.events() {
        while let Some(e) = ev.recv().await {
            let end = e.kind.is_terminal();
            progress.on_event(&e);
            if end {
                break;
            }
        }
    }
    match handle.wait().await {
        Ok(o) if o.reason.as_deref() == Some("lease_lost") => {
            eprintln!("run {id}: lease lost, left to its new holder")
        }
        // The run released its lease as it ended.
        Ok(o) => eprintln!("run {id}: {}", o.status.as_str()),
        Err(e) => eprintln!("run {id}: {e}"),
    }
}
