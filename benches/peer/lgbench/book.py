"""W3: outline + chapters with simulated model latency, bounded concurrency."""
from __future__ import annotations

import asyncio
import time

from .common import BookState, END, START, Send, StateGraph, emit, med, r6


# --------------------------------------------------------------------------- W3 book
W3_SLEEP = 0.05
W3_CHAPTERS = 50
W3_MAXC = 10


def w3(reps: int) -> None:
    stats = {"active": 0, "max_active": 0, "starts": []}

    async def outline(s: BookState) -> dict:
        await asyncio.sleep(W3_SLEEP)
        return {"outline": list(range(W3_CHAPTERS))}

    def fan(s: BookState):
        return [Send("chapter", {"idx": i}) for i in s["outline"]]

    async def chapter(s: dict) -> dict:
        stats["active"] += 1
        stats["max_active"] = max(stats["max_active"], stats["active"])
        stats["starts"].append(time.perf_counter())
        try:
            await asyncio.sleep(W3_SLEEP)
        finally:
            stats["active"] -= 1
        return {"chapters": [s["idx"]]}

    async def compile_book(s: BookState) -> dict:  # trivial, no simulated latency
        return {"book": ",".join(map(str, sorted(s["chapters"])))}

    b = StateGraph(BookState)
    b.add_node("outline", outline)
    b.add_node("chapter", chapter)
    b.add_node("compile", compile_book)
    b.add_edge(START, "outline")
    b.add_conditional_edges("outline", fan, ["chapter"])
    b.add_edge("chapter", "compile")
    b.add_edge("compile", END)
    g = b.compile()
    cfg = {"max_concurrency": W3_MAXC}
    ideal = W3_SLEEP + (W3_CHAPTERS // W3_MAXC) * W3_SLEEP  # outline + 5 waves; compile ~0
    times = []
    max_actives = []
    waves = []

    async def run():
        for _ in range(reps):
            stats["max_active"] = 0
            stats["starts"] = []
            t = time.perf_counter()
            out = await g.ainvoke({"outline": [], "chapters": [], "book": ""}, cfg)
            times.append(time.perf_counter() - t)
            assert len(out["chapters"]) == W3_CHAPTERS
            max_actives.append(stats["max_active"])
            # count "waves": chapter starts separated by > W3_SLEEP/2 gaps
            st = sorted(stats["starts"])
            w = 1 + sum(1 for a, c in zip(st, st[1:]) if c - a > W3_SLEEP / 2)
            waves.append(w)

    asyncio.run(run())

    # reference floor: same schedule in plain asyncio (Semaphore(10) + gather), no LangGraph
    async def plain_once() -> float:
        sem = asyncio.Semaphore(W3_MAXC)

        async def ch(i: int) -> int:
            async with sem:
                await asyncio.sleep(W3_SLEEP)
                return i

        t = time.perf_counter()
        await asyncio.sleep(W3_SLEEP)  # outline
        res = await asyncio.gather(*(ch(i) for i in range(W3_CHAPTERS)))
        ",".join(map(str, sorted(res)))  # compile
        return time.perf_counter() - t

    plain = [asyncio.run(plain_once()) for _ in range(reps)]
    m = med(times)
    emit(
        "W3_book",
        W3_CHAPTERS + 2,
        m,
        {
            "api": "async ainvoke, async def nodes; fan-out via Send; config max_concurrency=10",
            "sleep_s": W3_SLEEP,
            "outline_sleeps": True,
            "compile_sleeps": False,
            "ideal_s": round(ideal, 3),
            "efficiency": round(ideal / m, 4),
            "overhead_vs_ideal_ms": round((m - ideal) * 1e3, 2),
            "observed_max_concurrency": max(max_actives),
            "observed_chapter_waves": waves,
            "runs_s": [r6(x) for x in times],
            "plain_asyncio_reference_median_s": r6(med(plain)),
            "plain_asyncio_reference_efficiency": round(ideal / med(plain), 4),
            "langgraph_overhead_vs_plain_asyncio_ms": round((m - med(plain)) * 1e3, 2),
        },
    )
