#!/usr/bin/env python3
"""A fleet of `lekhika worker` processes on one PostgreSQL: throughput.

For 1, 2 and 4 workers (each running 2 executions at once), queue RUNS
executions and time how long the fleet takes to finish them all:

- `chain`: a chain of NODES built-in template nodes (no model), so every
  node is one checkpoint: node checkpoints per second through the store.
- `book`: the test book flow (outline + 6 chapters, 7 model calls) against
  a loopback OpenAI-compatible server that answers at once: runs per
  minute when the model costs nothing, i.e. the engine's and the store's
  own share of a book.

Where the time goes: PostgreSQL's own execution time per statement
(pg_stat_statements, when the server preloads it) and the CPU seconds of
the worker processes and of the server, per checkpoint.

Usage (a cluster of your own, fsync on, as benchmarks should run):

    LEKHIKA_PG_PORT=55433 LEKHIKA_PG_DIR=/tmp/lekhika-pg-bench LEKHIKA_PG_FSYNC=on \\
    LEKHIKA_PG_OPTS="-c shared_preload_libraries=pg_stat_statements" \\
        bash lekhika-store/scripts/start-test-postgres.sh
    cargo build --release -p lekhika-cli
    python3 benches/fleet.py --admin postgres://postgres@127.0.0.1:55433/postgres \\
        --app postgres://lekhika_app:lekhika_app@127.0.0.1:55433/postgres
"""

import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "lekhika-cli" / "tests" / "fixtures" / "book.json"
TICKS = os.sysconf("SC_CLK_TCK")


def with_db(url: str, db: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{db}" + (f"?{query}" if query else "")


def psql(url: str, sql: str) -> str:
    psql_bin = shutil.which("psql") or sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1]
    out = subprocess.run([str(psql_bin), url, "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def chain_flow(n: int) -> dict:
    nodes = [{"id": f"n{i}", "type": "template", "position": {"x": 0, "y": 0},
              "data": {"template": "step"}} for i in range(1, n + 1)]
    edges = [{"id": f"e{i}", "source": f"n{i - 1}", "target": f"n{i}"} for i in range(2, n + 1)]
    return {"nodes": nodes, "edges": edges}


class Answerer(BaseHTTPRequestHandler):
    """OpenAI chat completions, streamed or not, answered at once."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("OUTLINE"):
            n = int(prompt.split("exactly ")[1].split(" ")[0]) if "exactly " in prompt else 6
            text = json.dumps({"chapters": [{"title": f"Part {i}"} for i in range(1, n + 1)]})
        else:
            text = "The rain fell on the old town. Mira counted the boats. " * 40
        usage = {"prompt_tokens": 100, "completion_tokens": 400, "total_tokens": 500}
        if body.get("stream"):
            chunks = [{"choices": [{"index": 0, "delta": {"content": text}}]},
                      {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}]
            data = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            ctype = "text/event-stream"
        else:
            data = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                            "finish_reason": "stop"}], "usage": usage})
            ctype = "application/json"
        raw = data.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def cpu_seconds(pid: int) -> float:
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_cpu() -> float:
    """CPU seconds of every postgres process (server and backends) so far."""
    total = 0.0
    for p in pathlib.Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(p.name))
            except OSError:
                pass
    return total


def phase(args, workload: str, workers: int, env: dict, flow: pathlib.Path, tmp: pathlib.Path) -> dict:
    db = f"lkb_{workload}_{workers}_{os.getpid()}"
    psql(args.admin, f'DROP DATABASE IF EXISTS "{db}"')
    psql(args.admin, f'CREATE DATABASE "{db}"')
    admin, app = with_db(args.admin, db), with_db(args.app, db)
    subprocess.run([args.lekhika, "migrate", "--store", admin], check=True, capture_output=True)
    run_env = dict(env, LEKHIKA_STORE=app, LEKHIKA_USER="bench")
    for i in range(args.runs):
        subprocess.run([args.lekhika, "submit", str(flow), "--input", f"title=Bench {i}",
                        "--input", "chapters=6", "--formats", "md", "--out", str(tmp / "books")],
                       check=True, capture_output=True, env=run_env)
    stats = psql(admin, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'") == "1"
    if not stats:
        try:
            psql(admin, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            psql(admin, "SELECT pg_stat_statements_reset()")
            stats = True
        except subprocess.CalledProcessError:
            stats = False
    else:
        psql(admin, "SELECT pg_stat_statements_reset()")
    pg_cpu0 = postgres_cpu()
    t0 = time.monotonic()
    procs = [subprocess.Popen([args.lekhika, "worker", "--max-concurrent", str(args.concurrent)],
                              env=run_env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    while True:
        done = int(psql(admin, "SELECT count(*) FROM engine_executions WHERE status = 'completed'"))
        if done == args.runs:
            break
        if time.monotonic() - t0 > 1800:
            sys.exit(f"{workload} with {workers} workers: only {done} of {args.runs} finished")
        time.sleep(0.05)
    took = time.monotonic() - t0
    worker_cpu = sum(cpu_seconds(p.pid) for p in procs)
    pg_cpu = postgres_cpu() - pg_cpu0
    for p in procs:
        p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    checkpoints = int(psql(admin, "SELECT count(*) FROM node_results"))
    calls = int(psql(admin, "SELECT count(*) FROM calls"))
    top = []
    if stats:
        rows = psql(admin, "SELECT round(total_exec_time::numeric, 1), calls, "
                           "regexp_replace(left(query, 70), '\\s+', ' ', 'g') FROM pg_stat_statements "
                           f"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '{db}') "
                           "ORDER BY total_exec_time DESC LIMIT 6")
        top = [r.split("|", 2) for r in rows.splitlines() if r]
    psql(args.admin, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return {"workload": workload, "workers": workers, "runs": args.runs, "seconds": round(took, 2),
            "checkpoints": checkpoints, "checkpoints_per_s": round(checkpoints / took, 1),
            "runs_per_min": round(args.runs / took * 60, 1), "model_calls": calls,
            "worker_cpu_ms_per_checkpoint": round(worker_cpu * 1000 / checkpoints, 3),
            "postgres_cpu_ms_per_checkpoint": round(pg_cpu * 1000 / checkpoints, 3),
            "top_statements": top}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--admin", required=True, help="superuser URL of the cluster")
    ap.add_argument("--app", required=True, help="URL of a login role in lekhika_app on the cluster")
    ap.add_argument("--lekhika", default=str(ROOT / "target" / "release" / "lekhika"))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--concurrent", type=int, default=2, help="executions per worker at once")
    ap.add_argument("--workloads", default="chain,book")
    args = ap.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answerer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items()
           if not (k.endswith("_API_KEY") or k.endswith("_BASE_URL") or k.startswith("LEKHIKA_"))}
    env.update(OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=f"http://127.0.0.1:{server.server_port}/v1")

    with tempfile.TemporaryDirectory(prefix="lekhika-fleet-") as d:
        tmp = pathlib.Path(d)
        chain = tmp / "chain.json"
        chain.write_text(json.dumps(chain_flow(args.nodes)))
        flows = {"chain": chain, "book": BOOK}
        print(f"# load average at start: {os.getloadavg()}", file=sys.stderr)
        for workload in args.workloads.split(","):
            for w in (int(x) for x in args.workers.split(",")):
                r = phase(args, workload, w, env, flows[workload], tmp)
                print(json.dumps(r), flush=True)
        print(f"# load average at end: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
