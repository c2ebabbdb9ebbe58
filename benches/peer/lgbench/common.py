"""Shared by every workload: measurement helpers, the LangGraph import (timed), states."""
from __future__ import annotations

import json
import operator
import os
import platform
import resource
import sqlite3
import statistics
import tempfile
import time
from typing import Annotated, Any, TypedDict


REPS_DEFAULT = 3
WORKDIR = os.environ.get("LG_BENCH_TMP", os.path.join(tempfile.gettempdir(), "langgraph-bench"))


# --------------------------------------------------------------------------- utils
def peak_rss_mb() -> float:
    # Linux: ru_maxrss in KiB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return round(pages * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0), 1)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def r6(x: float) -> float:
    return round(x, 6)


def emit(workload: str, nodes: int, wall_s: float, notes: dict[str, Any]) -> None:
    print(
        json.dumps(
            {
                "workload": workload,
                "nodes": nodes,
                "wall_s": r6(wall_s),
                "per_node_us": round(wall_s / nodes * 1e6, 2) if nodes else None,
                "peak_rss_mb": peak_rss_mb(),
                "notes": notes,
            }
        ),
        flush=True,
    )


def fresh_db(tag: str) -> str:
    os.makedirs(WORKDIR, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix=f"ckpt_{tag}_", suffix=".sqlite", dir=WORKDIR)
    os.close(fd)
    os.unlink(path)
    return path


def rm_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


# --------------------------------------------------------------------------- imports
T_IMPORT0 = time.perf_counter()
from langgraph.graph import END, START, StateGraph  # noqa: E402
from langgraph.types import Send  # noqa: E402

T_IMPORT = time.perf_counter() - T_IMPORT0


def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for p in ("langgraph", "langgraph-checkpoint", "langgraph-checkpoint-sqlite", "langchain-core"):
        try:
            out[p] = version(p)
        except Exception:  # pragma: no cover
            out[p] = "?"
    out["python"] = platform.python_version()
    out["sqlite"] = sqlite3.sqlite_version
    return out


# --------------------------------------------------------------------------- states
class ChainState(TypedDict):
    count: int


class FanState(TypedDict):
    count: Annotated[int, operator.add]
    joined: int


class BookState(TypedDict):
    outline: list[int]
    chapters: Annotated[list[int], operator.add]
    book: str
