"""W4 (checkpointed chain on SQLite) and W5 (resume after a failure)."""
from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

from .common import emit, fresh_db, med, r6, rm_db
from .chain import build_chain


# --------------------------------------------------------------------------- W4 checkpointed chain
def w4(reps: int) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    n = 200
    cfg_base = {"recursion_limit": n + 10}
    # baseline: same chain, no checkpointer
    g0 = build_chain(n).compile()
    base = []
    for _ in range(reps):
        t = time.perf_counter()
        out = g0.invoke({"count": 0}, cfg_base)
        base.append(time.perf_counter() - t)
        assert out["count"] == n

    builder = build_chain(n)
    results: dict[str, list[float]] = {}
    extra: dict[str, Any] = {}
    for durability in ("async", "sync", "exit"):
        ts = []
        for rep in range(reps):
            path = fresh_db(f"w4_{durability}")
            conn = sqlite3.connect(path, check_same_thread=False)
            saver = SqliteSaver(conn)
            saver.setup()  # schema creation excluded from timing
            g = builder.compile(checkpointer=saver)
            cfg = {**cfg_base, "configurable": {"thread_id": f"w4-{durability}-{rep}"}}
            t = time.perf_counter()
            out = g.invoke({"count": 0}, cfg, durability=durability)
            ts.append(time.perf_counter() - t)
            assert out["count"] == n
            if rep == 0:
                ncp = conn.execute("select count(*) from checkpoints").fetchone()[0]
                nwr = conn.execute("select count(*) from writes").fetchone()[0]
                avg_cp, max_cp = conn.execute(
                    "select avg(length(checkpoint)), max(length(checkpoint)) from checkpoints").fetchone()
                sync_mode = conn.execute("pragma synchronous").fetchone()[0]
                jm = conn.execute("pragma journal_mode").fetchone()[0]
                conn.execute("pragma wal_checkpoint(TRUNCATE)")
                size = os.path.getsize(path)
                extra[durability] = {"checkpoint_rows": ncp, "write_rows": nwr, "db_bytes": size,
                                     "avg_checkpoint_blob_bytes": round(avg_cp or 0),
                                     "max_checkpoint_blob_bytes": max_cp}
                extra["sqlite_pragmas"] = {"journal_mode": jm, "synchronous": sync_mode}
            conn.close()
            rm_db(path)
        results[durability] = ts

    # decomposition variants (all durability='async'): where does checkpoint time go?
    from langgraph.checkpoint.memory import InMemorySaver

    def variant(make_saver) -> list[float]:
        ts = []
        for rep in range(reps):
            saver, cleanup = make_saver()
            g = builder.compile(checkpointer=saver)
            cfg = {**cfg_base, "configurable": {"thread_id": f"w4-var-{rep}"}}
            t = time.perf_counter()
            out = g.invoke({"count": 0}, cfg)
            ts.append(time.perf_counter() - t)
            assert out["count"] == n
            cleanup()
        return ts

    def sqlite_file(sync_pragma: str | None):
        def mk():
            path = fresh_db("w4var")
            conn = sqlite3.connect(path, check_same_thread=False)
            saver = SqliteSaver(conn)
            saver.setup()
            if sync_pragma:
                conn.execute(f"pragma synchronous={sync_pragma}")
            return saver, lambda: (conn.close(), rm_db(path))
        return mk

    def sqlite_mem():
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()
        return saver, conn.close

    variants = {
        "sqlite_file_synchronous_NORMAL": variant(sqlite_file("NORMAL")),
        "sqlite_file_synchronous_OFF": variant(sqlite_file("OFF")),
        "sqlite_memory": variant(sqlite_mem),
        "InMemorySaver": variant(lambda: (InMemorySaver(), lambda: None)),
    }

    m_base = med(base)
    m = med(results["async"])
    emit(
        "W4_ckpt_chain",
        n,
        m,
        {
            "api": "sync invoke, SqliteSaver(sqlite3 file on ext4 disk), durability='async' (LangGraph default); fresh DB + thread_id per run",
            "runs_s": [r6(x) for x in results["async"]],
            "no_ckpt_median_s": r6(m_base),
            "no_ckpt_per_node_us": round(m_base / n * 1e6, 2),
            "ckpt_overhead_per_node_us": round((m - m_base) / n * 1e6, 2),
            "durability_sync_median_s": r6(med(results["sync"])),
            "durability_sync_per_node_us": round(med(results["sync"]) / n * 1e6, 2),
            "durability_exit_median_s": r6(med(results["exit"])),
            "durability_exit_per_node_us": round(med(results["exit"]) / n * 1e6, 2),
            "db_stats": extra,
            "variants_async_per_node_us": {k: round(med(v) / n * 1e6, 2) for k, v in variants.items()},
        },
    )


# --------------------------------------------------------------------------- W5 resume
def w5(reps: int) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    n, fail_at = 200, 150
    first_runs, resume_runs, reran, first_counts, next_nodes, finals = [], [], [], [], [], []
    reran_range = None
    for rep in range(reps):
        counter: dict = {}
        path = fresh_db("w5")
        conn = sqlite3.connect(path, check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()
        g = build_chain(n, fail_at=fail_at, counter=counter).compile(checkpointer=saver)
        cfg = {"recursion_limit": n + 10, "configurable": {"thread_id": f"w5-{rep}"}}
        t = time.perf_counter()
        err = None
        try:
            g.invoke({"count": 0}, cfg)
        except RuntimeError as e:
            err = str(e)
        first_runs.append(time.perf_counter() - t)
        assert err and "n150" in err, err
        first_counts.append(sum(counter.values()))
        snap = g.get_state(cfg)
        next_nodes.append(list(snap.next))
        before = dict(counter)
        t = time.perf_counter()
        out = g.invoke(None, cfg)
        resume_runs.append(time.perf_counter() - t)
        finals.append(out["count"])
        delta = {k: counter.get(k, 0) - before.get(k, 0) for k in counter}
        ran = sorted((int(k[1:]) for k, v in delta.items() if v > 0))
        reran.append(len(ran))
        reran_range = [ran[0], ran[-1]] if ran else None
        conn.close()
        rm_db(path)
    m = med(resume_runs)
    emit(
        "W5_resume",
        med(reran),
        m,
        {
            "api": "sync invoke, SqliteSaver file, durability='async' (default); node n150 raises RuntimeError once; resume = invoke(None, same thread_id)",
            "nodes_total": n,
            "fail_at": fail_at,
            "nodes_executed_first_run": first_counts,
            "state_next_after_failure": next_nodes[0],
            "nodes_rerun_on_resume": reran,
            "rerun_range": reran_range,
            "expected_rerun": n - fail_at + 1,
            "final_count": finals,
            "wall_s_is": "resume invoke only (median)",
            "resume_runs_s": [r6(x) for x in resume_runs],
            "failing_first_run_median_s": r6(med(first_runs)),
            "failing_first_run_s": [r6(x) for x in first_runs],
        },
    )
