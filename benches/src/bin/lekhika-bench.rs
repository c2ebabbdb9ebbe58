//! `lekhika-bench`: Lekhika's side of `benches/compare.sh`. Prints one JSON
//! line per workload, the shape `benches/peer/langgraph_bench.py` prints:
//! `{workload, nodes, wall_s, per_node_us, peak_rss_mb, notes}`.
//!
//! Each workload runs in a child process of its own, so `peak_rss_mb` is
//! that workload's peak (getrusage), as in the peer script.
//!
//! ```text
//! lekhika-bench [--only W1,W3] [--reps N] [--cli PATH] [--startup-runs N]
//! ```
//! `--cli PATH` also times `PATH --version` and a one-node `PATH run` as
//! cold processes (median of `--startup-runs`, default 20).

use std::process::{Command, ExitCode};
use std::time::Instant;

use lekhika_benches::measure::{load_average, median, round, runs};
use lekhika_benches::{workloads, BenchError, Record};
use serde_json::json;

const WORKLOADS: &[&str] = &[
    "W1_chain",
    "W2_fanout_static",
    "W2_fanout_send",
    "W3_book",
    "W4_ckpt_chain",
    "W5_resume",
    "S_chain_1k",
    "S_chain_10k",
    "S_chain_100k",
    "X_export",
];

struct Args {
    only: Option<Vec<String>>,
    reps: usize,
    child: Option<String>,
    cli: Option<String>,
    startup_runs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        only: None,
        reps: 3,
        child: None,
        cli: None,
        startup_runs: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--only" => a.only = Some(value()?.split(',').map(|s| s.trim().to_string()).collect()),
            "--reps" => a.reps = value()?.parse().map_err(|_| "--reps takes a number")?,
            "--child" => a.child = Some(value()?),
            "--cli" => a.cli = Some(value()?),
            "--startup-runs" => {
                a.startup_runs = value()?
                    .parse()
                    .map_err(|_| "--startup-runs takes a number")?
            }
            "-h" | "--help" => return Err(
                "usage: lekhika-bench [--only W1,W3] [--reps N] [--cli PATH] [--startup-runs N]"
                    .into(),
            ),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

fn runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Run one workload in this process and print its line(s).
fn child(name: &str, reps: usize) -> Result<(), BenchError> {
    let rt = runtime()?;
    let records: Vec<Record> = match name {
        "W1_chain" => vec![rt.block_on(workloads::w1_chain(reps))?],
        "W2_fanout_static" => vec![rt.block_on(workloads::w2_fanout_static(reps))?],
        "W2_fanout_send" => vec![rt.block_on(workloads::w2_fanout_map(reps))?],
        "W3_book" => vec![rt.block_on(workloads::w3_book(reps))?],
        "W4_ckpt_chain" => vec![rt.block_on(workloads::w4_ckpt_chain(reps))?],
        "W5_resume" => vec![rt.block_on(workloads::w5_resume(reps))?],
        "S_chain_1k" => vec![rt.block_on(workloads::scale(1_000, reps))?],
        "S_chain_10k" => vec![rt.block_on(workloads::scale(10_000, reps))?],
        "S_chain_100k" => vec![rt.block_on(workloads::scale(100_000, reps))?],
        #[cfg(feature = "export")]
        "X_export" => lekhika_benches::export::export_vs_pandoc(reps)?,
        other => {
            return Err(BenchError::unexpected(
                "child",
                format!("no workload `{other}`"),
            ))
        }
    };
    for r in records {
        println!("{}", r.to_json());
    }
    Ok(())
}

const ONE_NODE_FLOW: &str =
    r#"{"nodes":[{"id":"hello","type":"template","data":{"template":"Hello"}}],"edges":[]}"#;

/// Median wall time of `runs` cold runs of `cmd args`.
fn cold(cmd: &str, args: &[&str], n: usize) -> Result<Vec<f64>, BenchError> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let t = Instant::now();
        let o = Command::new(cmd).args(args).output()?;
        times.push(t.elapsed().as_secs_f64());
        if !o.status.success() {
            return Err(BenchError::unexpected(
                "startup",
                format!("{cmd} {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
            ));
        }
    }
    Ok(times)
}

fn startup(cli: &str, n: usize) -> Result<Vec<Record>, BenchError> {
    let dir = std::env::temp_dir().join(format!("lekhika-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let flow = dir.join("one.json");
    std::fs::write(&flow, ONE_NODE_FLOW)?;
    let store = dir.join("store.sqlite");
    let out = dir.join("out");
    let version = cold(cli, &["--version"], n)?;
    let (flow_s, store_s, out_s) = (
        flow.to_string_lossy().to_string(),
        store.to_string_lossy().to_string(),
        out.to_string_lossy().to_string(),
    );
    let run_args = [
        "run", &flow_s, "--store", &store_s, "--out", &out_s, "--json",
    ];
    let one = cold(cli, &run_args, n)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        Record::new("S0_startup_version", 0, median(&version))
            .note("what", "fresh process: lekhika --version")
            .note("runs_s", runs(&version)),
        Record::new("S0_startup_minimal", 1, median(&one))
            .note("what", "fresh process: lekhika run of a 1-node template flow on a SQLite file (store open + migrate + run + status)")
            .note("runs_s", runs(&one)),
    ])
}

fn selected(only: &Option<Vec<String>>, name: &str) -> bool {
    match only {
        None => true,
        Some(ps) => ps.iter().any(|p| name.starts_with(p.as_str())),
    }
}

fn parent(a: &Args) -> Result<(), BenchError> {
    let exe = std::env::current_exe()?;
    eprintln!(
        "{}",
        json!({"meta": {"lekhika": env!("CARGO_PKG_VERSION"), "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
               "loadavg_at_start": load_average()}, "reps": a.reps})
    );
    let t_all = Instant::now();
    if let Some(cli) = &a.cli {
        if selected(&a.only, "S0_startup") {
            for r in startup(cli, a.startup_runs)? {
                println!(
                    "{}",
                    r.to_json().as_object().map_or(json!(null), |o| {
                        let mut o = o.clone();
                        o.insert("peak_rss_mb".into(), json!(null));
                        json!(o)
                    })
                );
            }
        }
    }
    let built = |n: &&&str| cfg!(feature = "export") || !n.starts_with("X_");
    for name in WORKLOADS
        .iter()
        .filter(built)
        .filter(|n| selected(&a.only, n))
    {
        let o = Command::new(&exe)
            .args(["--child", name, "--reps", &a.reps.to_string()])
            .output()?;
        if !o.status.success() {
            println!(
                "{}",
                json!({"workload": name, "error": String::from_utf8_lossy(&o.stderr).chars().rev().take(2000).collect::<String>().chars().rev().collect::<String>()})
            );
            continue;
        }
        print!("{}", String::from_utf8_lossy(&o.stdout));
    }
    eprintln!(
        "{}",
        json!({"total_bench_s": round(t_all.elapsed().as_secs_f64(), 2), "loadavg_at_end": load_average()})
    );
    Ok(())
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let result = match &a.child {
        Some(name) => child(name, a.reps),
        None => parent(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lekhika-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
