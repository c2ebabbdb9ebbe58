//! `submit` and `worker`: many processes sharing one store as their only
//! coordinator. Workers claim queued runs under leases renewed while they
//! run; a dead worker's runs are taken over from their checkpoints.

use std::time::Duration;

use std::sync::Arc;

use lekhika_core::store::ExecutionStatus;
use lekhika_core::RunHandle;
use serde_json::json;
use tokio::task::JoinSet;

use crate::args::{Common, Follow, RunArgs};
use crate::error::{CliError, CliResult};
use crate::progress::Progress;
use crate::setup::{setup, Setup};

pub async fn submit(args: RunArgs) -> CliResult<()> {
    let s = setup(&args.common).await?;
    let req = super::run::request(&args, &s)?;
    if args.dry_run {
        let est = s.lk.estimate(&req)?;
        return crate::commands::info::print_estimate(&est, args.follow.json);
    }
    let id = s.lk.submit(req).await?;
    if args.follow.json {
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
    let s = Arc::new(setup(common).await?);
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
                    set.spawn(run_one(s.clone(), handle, as_json));
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

async fn run_one(s: Arc<Setup>, mut handle: RunHandle, as_json: bool) {
    let id = handle.execution_id().to_string();
    let owner = handle.owner().to_string();
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
        Ok(o) if o.status == ExecutionStatus::Completed => {
            match write_book(&s, &owner, &id).await {
                Ok(files) => {
                    for f in files {
                        eprintln!("run {id}: wrote {}", f.display());
                    }
                    eprintln!("run {id}: completed");
                }
                Err(e) => eprintln!(
                    "run {id}: completed, but its book could not be written: {}",
                    e.message
                ),
            }
        }
        // The run released its lease as it ended.
        Ok(o) => eprintln!("run {id}: {}", o.status.as_str()),
        Err(e) => eprintln!("run {id}: {e}"),
    }
}

/// The book of a completed run, where and in the formats its submitter
/// asked (`lekhika export ID` writes it anywhere later).
async fn write_book(s: &Setup, owner: &str, id: &str) -> CliResult<Vec<std::path::PathBuf>> {
    let none = Follow {
        json: false,
        out: None,
        formats: None,
    };
    let (out, formats) = super::run::book_target(&s.lk, owner, id, &none).await?;
    match s.lk.write_book(owner, id, &formats, &out, None).await {
        Ok(files) => Ok(files),
        Err(lekhika::LekhikaError::NoBook(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}
