"""W2: fan-out 1 -> N -> 1, static edges and `Send`."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from .common import END, FanState, START, Send, StateGraph, emit, med, r6


# --------------------------------------------------------------------------- W2 fanout
def fan_start(s: FanState) -> dict:
    return {"count": 0}


def fan_leaf(s: Any) -> dict:
    return {"count": 1}


async def afan_leaf(s: Any) -> dict:
    return {"count": 1}


def make_join(counter: dict):
    def join(s: FanState) -> dict:
        counter["join"] = counter.get("join", 0) + 1
        return {"joined": s["count"]}

    return join


def make_ajoin(counter: dict):
    async def join(s: FanState) -> dict:
        counter["join"] = counter.get("join", 0) + 1
        return {"joined": s["count"]}

    return join


def build_fan_static(n: int, counter: dict, use_async: bool = False):
    b = StateGraph(FanState)
    b.add_node("start", fan_start)
    b.add_node("join", make_ajoin(counter) if use_async else make_join(counter))
    leaf = afan_leaf if use_async else fan_leaf
    b.add_edge(START, "start")
    for i in range(n):
        nm = f"leaf{i}"
        b.add_node(nm, leaf)
        b.add_edge("start", nm)
        b.add_edge(nm, "join")  # all leaves finish in the same superstep -> join runs once
    b.add_edge("join", END)
    return b


def build_fan_send(n: int, counter: dict, use_async: bool = False):
    b = StateGraph(FanState)
    b.add_node("start", fan_start)
    b.add_node("leaf", afan_leaf if use_async else fan_leaf)
    b.add_node("join", make_ajoin(counter) if use_async else make_join(counter))
    b.add_edge(START, "start")
    b.add_conditional_edges("start", lambda s: [Send("leaf", {"i": i}) for i in range(n)], ["leaf"])
    b.add_edge("leaf", "join")
    b.add_edge("join", END)
    return b


def w2(reps: int, mode: str) -> None:
    n = 1000
    counter: dict = {}
    builder = build_fan_static if mode == "static" else build_fan_send
    t0 = time.perf_counter()
    g = builder(n, counter).compile()
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        counter.clear()
        t = time.perf_counter()
        out = g.invoke({"count": 0})
        times.append(time.perf_counter() - t)
        assert out["joined"] == n and counter["join"] == 1, (out, counter)
    # async variant: async def nodes + ainvoke
    acounter: dict = {}
    ga = builder(n, acounter, use_async=True).compile()
    atimes = []

    async def arun():
        for _ in range(reps):
            acounter.clear()
            t = time.perf_counter()
            out = await ga.ainvoke({"count": 0})
            atimes.append(time.perf_counter() - t)
            assert out["joined"] == n and acounter["join"] == 1

    asyncio.run(arun())
    total_nodes = n + 2
    emit(
        f"W2_fanout_{mode}",
        total_nodes,
        med(times),
        {
            "fanout": ("1000 static nodes leaf0..leaf999, static edges start->leaf_i->join"
                       if mode == "static"
                       else "Send API: conditional edge from start returns 1000 Send('leaf',{i})"),
            "api": "sync invoke, sync def nodes (parallel tasks run on langchain_core thread pool, default max_workers=min(32,cpu+4))",
            "join_runs": 1,
            "runs_s": [r6(x) for x in times],
            "build_compile_s": r6(compile_s),
            "async_variant_median_s": r6(med(atimes)),
            "async_variant_per_node_us": round(med(atimes) / total_nodes * 1e6, 2),
            "async_variant_runs_s": [r6(x) for x in atimes],
        },
    )
