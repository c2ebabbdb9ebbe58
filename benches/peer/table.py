#!/usr/bin/env python3
"""Print the comparison table of benches/compare.sh as Markdown.

    table.py LANGGRAPH.jsonl LEKHIKA.jsonl [--hyperfine startup.json]

Both inputs are JSON lines {workload, nodes, wall_s, per_node_us, peak_rss_mb, notes}.
"ratio" is peer / Lekhika: above 1 means Lekhika is faster (or smaller, or more efficient
where noted).
"""
import argparse
import json
import os


def load(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "workload" in r:
                out[r["workload"]] = r
    return out


def note(r, *keys):
    v = r
    for k in keys:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 100:
            s = f"{v:,.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.3g}"
    else:
        s = f"{v:,}" if isinstance(v, int) else str(v)
    return s + unit


def ratio(peer, ours, higher_better=False):
    if peer is None or ours is None or not ours or not peer:
        return "–"
    r = (ours / peer) if higher_better else (peer / ours)
    return f"{r:,.1f}×" if r >= 10 else f"{r:.2f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer")
    ap.add_argument("ours")
    ap.add_argument("--hyperfine")
    a = ap.parse_args()
    lg, lk = load(a.peer), load(a.ours)
    rows = []

    def row(workload, metric, target, p, o, unit="", higher_better=False):
        rows.append((workload, metric, target, fmt(p, unit), fmt(o, unit), ratio(p, o, higher_better)))

    def g(d, w, *k):
        r = d.get(w)
        return None if r is None else note(r, *k)

    for w in ("W1_chain", "W2_fanout_static", "W2_fanout_send"):
        row(w, "µs per node", "≤ 3–4 µs", g(lg, w, "per_node_us"), g(lk, w, "per_node_us"))
    for k in ("100", "500", "2000"):
        row("W1_chain", f"µs/node at {k} nodes", "flat",
            g(lg, "W1_chain", "notes", "per_node_us_by_chain_length", k),
            g(lk, "W1_chain", "notes", "per_node_us_by_chain_length", k))
    row("W3_book", "makespan s", "", g(lg, "W3_book", "wall_s"), g(lk, "W3_book", "wall_s"), " s")
    row("W3_book", "efficiency (ideal/measured), exact latency", "≥ 0.995",
        g(lg, "W3_book", "notes", "efficiency"), g(lk, "W3_book", "notes", "efficiency"), higher_better=True)
    row("W3_book", "efficiency, timer-slept latency (tokio / asyncio)", "",
        g(lg, "W3_book", "notes", "efficiency"), g(lk, "W3_book", "notes", "timer_latency_efficiency"),
        higher_better=True)
    row("W3_book", "same schedule without an engine, timer-slept", "",
        g(lg, "W3_book", "notes", "plain_asyncio_reference_efficiency"),
        g(lk, "W3_book", "notes", "timer_latency_plain_tokio_efficiency"), higher_better=True)
    row("W4_ckpt_chain", "µs per node, durable", "≤ 100 µs", g(lg, "W4_ckpt_chain", "per_node_us"),
        g(lk, "W4_ckpt_chain", "per_node_us"))
    row("W4_ckpt_chain", "µs per node, fsync each commit", "",
        g(lg, "W4_ckpt_chain", "notes", "durability_sync_per_node_us"),
        g(lk, "W4_ckpt_chain", "notes", "synchronous_full_per_node_us"))
    row("W4_ckpt_chain", "database bytes (200 nodes)", "linear",
        g(lg, "W4_ckpt_chain", "notes", "db_stats", "async", "db_bytes"),
        g(lk, "W4_ckpt_chain", "notes", "db_plus_wal_bytes"))
    lin = g(lk, "W4_ckpt_chain", "notes", "bytes_by_chain_length") or {}
    if lin:
        rows.append(("W4_ckpt_chain", "checkpoint JSON bytes/node at 100/200/400", "linear", "–",
                     " / ".join(str(lin[k]["checkpoint_json_bytes_per_node"]) for k in ("100", "200", "400") if k in lin), "–"))
        rows.append(("W4_ckpt_chain", "write(2) bytes/node at 100/200/400", "linear", "–",
                     " / ".join(str(lin[k]["written_bytes_per_node"]) for k in ("100", "200", "400") if k in lin), "–"))
    row("W5_resume", "resume s", "", g(lg, "W5_resume", "wall_s"), g(lk, "W5_resume", "wall_s"), " s")
    row("W5_resume", "nodes re-run", "51", g(lg, "W5_resume", "nodes"), g(lk, "W5_resume", "nodes"))
    for w in ("W1_chain", "W2_fanout_static", "W3_book", "W4_ckpt_chain", "W5_resume"):
        row(w, "peak RSS MB", "", g(lg, w, "peak_rss_mb"), g(lk, w, "peak_rss_mb"))
    for w in ("S_chain_1k", "S_chain_10k", "S_chain_100k"):
        if w in lk:
            rows.append((w, "validate s / run s / µs per node / peak MB",
                         "100k: ≤ 2 s, ≤ 200 MB" if w.endswith("100k") else "flat", "–",
                         f"{fmt(g(lk, w, 'notes', 'validate_s'))} / {fmt(g(lk, w, 'wall_s'))} / "
                         f"{fmt(g(lk, w, 'per_node_us'))} / {fmt(g(lk, w, 'peak_rss_mb'))}", "–"))
    s_lg = g(lg, "S0_startup_minimal", "wall_s")
    row("S0_startup_minimal", "cold 1-node run ms", "≤ 20 ms",
        None if s_lg is None else s_lg * 1e3,
        None if g(lk, "S0_startup_minimal", "wall_s") is None else g(lk, "S0_startup_minimal", "wall_s") * 1e3)
    v = g(lk, "S0_startup_version", "wall_s")
    row("S0_startup_version", "cold `--version` ms", "≤ 20 ms", None, None if v is None else v * 1e3)
    if a.hyperfine and os.path.exists(a.hyperfine):
        with open(a.hyperfine) as f:
            for res in json.load(f).get("results", []):
                words = res["command"].split()
                label = "lekhika " + (words[1] if len(words) > 1 else "")
                rows.append(("S0 (hyperfine)", label, "≤ 20 ms", "–",
                             f"{res['mean'] * 1e3:.1f} ± {res['stddev'] * 1e3:.1f} ms", "–"))
    for fmt_name in ("epub", "docx", "html", "md", "pdf"):
        w = f"X_export_{fmt_name}"
        row(w, "90k-word book, s (peer = pandoc)", "≥ 10×", g(lk, w, "notes", "pandoc_s"), g(lk, w, "wall_s"), " s")

    head = ("workload", "metric", "target", "peer", "Lekhika", "ratio peer/Lekhika")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    meta = {}
    err = os.path.splitext(a.peer)[0] + ".stderr"
    if os.path.exists(err):
        with open(err) as f:
            for line in f:
                if line.startswith('{"meta"'):
                    meta = json.loads(line).get("meta", {})
    print("\npeer = LangGraph %s (Python %s), except X_export_* where peer = pandoc. "
          "Efficiency ratio is Lekhika/peer (higher is better)." %
          (meta.get("langgraph", "?"), meta.get("python", "?")))


if __name__ == "__main__":
    main()
