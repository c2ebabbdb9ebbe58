//! `migrate`, `list` and `workers`: setting up a shared store and watching it.

use std::collections::BTreeMap;

use lekhika::core::store::{BookRecord, ExecutionStatus, RunnerLease};
use lekhika::ExecutionSummary;
use serde_json::json;

use crate::args::Common;
use crate::error::{CliError, CliResult};
use crate::setup::setup;

fn is_postgres(store: Option<&str>) -> bool {
    store.is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

pub async fn migrate(common: &Common) -> CliResult<()> {
    let store = common.store.as_deref();
    if !is_postgres(store) {
        // SQLite files are brought up to date whenever they are opened.
        setup(common).await?;
        eprintln!("the SQLite store is up to date (it migrates itself on open)");
        return Ok(());
    }
    let url = store.unwrap_or_default();
    let applied = lekhika::Lekhika::migrate(url).await?;
    if applied.is_empty() {
        println!("the schema is up to date; nothing applied");
    } else {
        for v in &applied {
            println!("applied {v}");
        }
    }
    println!();
    println!("Workers and hosts must connect as a login role in lekhika_app (row-level");
    println!("security applies to it; superusers and table owners are refused). Create one:");
    println!();
    println!("{}", lekhika::store::WORKER_ROLE_SQL);
    Ok(())
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

pub async fn list(common: &Common, status: Option<&str>, as_json: bool) -> CliResult<()> {
    let status = match status {
        Some(s) => Some(ExecutionStatus::parse(s).ok_or_else(|| {
            CliError::bad_input(format!(
                "unknown status `{s}` (one of pending, running, interrupted, paused, completed, failed, stopped)"
            ))
        })?),
        None => None,
    };
    let s = setup(common).await?;
    let runs = s.lk.list_executions(&s.user, status).await?;
    let mut books: BTreeMap<String, Vec<BookRecord>> = BTreeMap::new();
    for b in s.lk.list_books(&s.user).await? {
        books.entry(b.execution_id.clone()).or_default().push(b);
    }
    if as_json {
        let rows: Vec<_> = runs
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["books"] = json!(books.get(&r.id).cloned().unwrap_or_default());
                v
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if runs.is_empty() {
        eprintln!("no executions for user {}", s.user);
        return Ok(());
    }
    print_runs(&runs, &books);
    Ok(())
}

fn print_runs(runs: &[ExecutionSummary], books: &BTreeMap<String, Vec<BookRecord>>) {
    let now = lekhika::core::util::now_ms();
    println!(
        "{:<36}  {:<11}  {:>8}  {:<28}  book",
        "execution", "status", "age", "title"
    );
    for r in runs {
        let mut title: String = r.title.clone().unwrap_or_default();
        if title.chars().count() > 28 {
            title = title.chars().take(27).collect::<String>() + "…";
        }
        let book = match books.get(&r.id).and_then(|b| b.last()) {
            Some(b) => format!("{} words; {}", b.word_count, b.formats.join(",")),
            None => match &r.runner {
                Some(w) => format!("(running on {})", w.worker),
                None => String::new(),
            },
        };
        println!(
            "{:<36}  {:<11}  {:>8}  {:<28}  {}",
            r.id,
            r.status.as_str(),
            age(now - r.created_at_ms),
            title,
            book
        );
    }
}

pub async fn workers(common: &Common, as_json: bool) -> CliResult<()> {
    let s = setup(common).await?;
    let leases = s.lk.runners().await?;
    if as_json {
        let mut by: BTreeMap<&str, Vec<&RunnerLease>> = BTreeMap::new();
        for l in &leases {
            by.entry(l.worker.as_str()).or_default().push(l);
        }
        let rows: Vec<_> = by
            .into_iter()
            .map(|(w, ls)| json!({"worker": w, "runs": ls}))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if leases.is_empty() {
        eprintln!("no live workers hold a run");
        return Ok(());
    }
    println!(
        "{:<28}  {:<36}  {:>8}  {:>10}",
        "worker", "execution", "held", "lease left"
    );
    for l in &leases {
        println!(
            "{:<28}  {:<36}  {:>8}  {:>10}",
            l.worker,
            l.execution_id,
            age(l.held_for_ms),
            format!("{:.1}s", l.expires_in_ms.max(0) as f64 / 1000.0)
        );
    }
    Ok(())
}
