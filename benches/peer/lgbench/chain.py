"""W1: a chain of trivial nodes (its builder is shared by W4 and W5)."""
from __future__ import annotations

import asyncio
import time

from .common import ChainState, END, START, StateGraph, T_IMPORT, emit, med, r6


# --------------------------------------------------------------------------- W1 / W4 chain
def inc(s: ChainState) -> dict:
    return {"count": s["count"] + 1}


async def ainc(s: ChainState) -> dict:
    return {"count": s["count"] + 1}


def build_chain(n: int, fn=inc, fail_at: int | None = None, counter: dict | None = None):
    """n sequential nodes n1..nN. Optional fail_at (1-indexed) raises on its first call.
    counter: dict name -> executions (mutated)."""
    b = StateGraph(ChainState)
    names = [f"n{i}" for i in range(1, n + 1)]
    if counter is None and fail_at is None:
        for nm in names:
            b.add_node(nm, fn)
    else:
        failed = {"done": False}

        def make(nm: str, pos: int):
            def node(s: ChainState) -> dict:
                if counter is not None:
                    counter[nm] = counter.get(nm, 0) + 1
                if fail_at is not None and pos == fail_at and not failed["done"]:
                    failed["done"] = True
                    raise RuntimeError(f"injected failure at {nm}")
                return {"count": s["count"] + 1}

            return node

        for pos, nm in enumerate(names, start=1):
            b.add_node(nm, make(nm, pos))
    b.add_edge(START, names[0])
    for a, c in zip(names, names[1:]):
        b.add_edge(a, c)
    b.add_edge(names[-1], END)
    return b


def w1(reps: int) -> None:
    n = 1000
    t0 = time.perf_counter()
    g = build_chain(n).compile()
    compile_s = time.perf_counter() - t0
    cfg = {"recursion_limit": n + 10}
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = g.invoke({"count": 0}, cfg)
        times.append(time.perf_counter() - t)
        assert out["count"] == n, out
    # async variant (same topology, `async def` nodes, ainvoke) for reference
    ga = build_chain(n, fn=ainc).compile()
    atimes = []

    async def arun():
        for _ in range(reps):
            t = time.perf_counter()
            out = await ga.ainvoke({"count": 0}, cfg)
            atimes.append(time.perf_counter() - t)
            assert out["count"] == n

    asyncio.run(arun())
    # scaling check: per-node cost vs chain length (sync invoke, no checkpointer)
    scaling = {}
    for k in (100, 500, 2000):
        gk = build_chain(k).compile()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            gk.invoke({"count": 0}, {"recursion_limit": k + 10})
            ts.append(time.perf_counter() - t)
        scaling[str(k)] = round(med(ts) / k * 1e6, 2)
        del gk
    emit(
        "W1_chain",
        n,
        med(times),
        {
            "api": "sync invoke, sync def nodes",
            "recursion_limit": n + 10,
            "runs_s": [r6(x) for x in times],
            "build_compile_s": r6(compile_s),
            "async_variant_median_s": r6(med(atimes)),
            "async_variant_per_node_us": round(med(atimes) / n * 1e6, 2),
            "async_variant_runs_s": [r6(x) for x in atimes],
            "per_node_us_by_chain_length": scaling,
            "import_langgraph_s": r6(T_IMPORT),
        },
    )
