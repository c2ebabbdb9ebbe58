"""Custom node kinds written in Python (sync and async), run by the Rust executor."""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import BOOK_FLOW, OpenAIServer

MIXED_FLOW: Dict[str, Any] = {
    "nodes": [
        copy.deepcopy(BOOK_FLOW["nodes"][0]),
        copy.deepcopy(BOOK_FLOW["nodes"][1]),
        {"id": "shape", "type": "shape_outline", "data": {"style": "loud"}},
        {"id": "write", "type": "map",
         "data": {"items": "{{nodes.shape.output}}", "concurrency": 2,
                  "node": {"kind": "py_writer", "words": 3}}},
        {"id": "book", "type": "compile",
         "data": {"title": "{{input.title}}", "chapters": "{{nodes.write.output}}",
                  "titles": "{{nodes.shape.output}}"}},
    ],
    "edges": [
        {"id": "e1", "source": "brief", "target": "outline"},
        {"id": "e2", "source": "outline", "target": "shape"},
        {"id": "e3", "source": "shape", "target": "write"},
        {"id": "e4", "source": "write", "target": "book"},
    ],
}


class Recorder:
    def __init__(self) -> None:
        self.contexts: List[Dict[str, Any]] = []
        self.loops: List[Any] = []
        self.threads: List[int] = []

    def shape(self, ctx: Dict[str, Any]) -> Any:
        """Sync node: reads the upstream AI node's output."""
        self.contexts.append(ctx)
        self.threads.append(threading.get_ident())
        ctx["progress"]("shaping the outline")
        chapters = ctx["upstream"]["outline"]["chapters"]
        return [{"title": c["title"].upper()} for c in chapters]

    async def writer(self, ctx: Dict[str, Any]) -> Any:
        """Async node inside a map: sees its item and the run's inputs."""
        self.contexts.append(ctx)
        self.loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0.01)
        item = ctx["item"]
        return f"Chapter {item['index'] + 1}: {item['item']['title']} of {ctx['input']['title']}."


def test_python_nodes_in_a_rust_run_flow(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    rec = Recorder()
    events: List[Dict[str, Any]] = []

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers,
                                nodes={"shape_outline": rec.shape, "py_writer": rec.writer})
        outcome = await lk.run(MIXED_FLOW, {"title": "Rivers", "chapters": 2}, on_event=events.append)
        assert outcome.ok
        # Async nodes ran on the loop that started the run.
        assert rec.loops and all(lp is asyncio.get_running_loop() for lp in rec.loops)
        book = await lk.compiled_book(outcome.execution_id)
        text = str(book)
        assert "Chapter 1: PART 1 of Rivers." in text and "Chapter 2: PART 2 of Rivers." in text
        report = await lk.report(outcome.execution_id)
        assert {n["node"] for n in report["nodes"]} >= {"outline", "shape", "write", "book"}

    asyncio.run(main())
    shape_ctx = rec.contexts[0]
    assert shape_ctx["kind"] == "shape_outline" and shape_ctx["node_id"] == "shape"
    assert shape_ctx["config"] == {"style": "loud"}
    assert shape_ctx["input"] == {"title": "Rivers", "chapters": 2}
    assert shape_ctx["user"] == "local" and shape_ctx["attempt"] == 1
    assert shape_ctx["instruction"] is None and shape_ctx["item"] is None
    assert rec.threads[0] != threading.get_ident()
    items = sorted((c["item"] for c in rec.contexts[1:]), key=lambda i: i["index"])
    assert [i["index"] for i in items] == [0, 1]
    assert items[0]["next_item"] == {"title": "PART 2"} and items[0]["prev_item"] is None
    assert rec.contexts[1]["config"] == {"words": 3}
    progress = [e for e in events if e["type"] == "progress"]
    assert progress == [{"type": "progress", "node": "shape", "message": "shaping the outline",
                         "execution_id": progress[0]["execution_id"], "at_ms": progress[0]["at_ms"]}]


def test_async_node_in_a_blocking_run_gets_its_own_loop(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    rec = Recorder()
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers,
                               nodes={"shape_outline": rec.shape, "py_writer": rec.writer})
    assert lk.run_blocking(MIXED_FLOW, {"title": "Lakes", "chapters": 2}).ok
    assert len(rec.loops) == 2


def flaky_flow() -> Dict[str, Any]:
    return {
        "nodes": [{"id": "in", "type": "input", "data": {"fields": [{"name": "x", "type": "integer"}]}},
                  {"id": "py", "type": "flaky", "data": {"retry": {"attempts": 3, "base_ms": 1, "max_ms": 5}}}],
        "edges": [{"id": "e", "source": "in", "target": "py"}],
    }


def test_python_exceptions_fail_the_node_and_retryable_ones_are_retried() -> None:
    attempts: List[int] = []

    class Busy(Exception):
        retryable = True

    def flaky(ctx: Dict[str, Any]) -> Any:
        attempts.append(ctx["attempt"])
        if ctx["input"]["x"] == 0:
            raise ValueError("x must not be zero")
        if len(attempts) == 1:
            raise Busy("try again")
        return {"double": ctx["input"]["x"] * 2, "instruction": ctx["instruction"]}

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", nodes={"flaky": flaky})
        ok = await lk.run(flaky_flow(), {"x": 21})
        assert attempts == [1, 2]
        report = await lk.report(ok.execution_id)
        py = next(n for n in report["nodes"] if n["node"] == "py")
        assert py["attempts"] == 2

        run = await lk.regenerate(ok.execution_id, "py", "be brief")
        await run.wait(check=True)
        assert attempts[-1] == 1

        attempts.clear()
        with pytest.raises(lekhika.RunFailed) as e:
            await lk.run(flaky_flow(), {"x": 0})
        assert e.value.code == "node_failed" and e.value.retryable is False
        assert "ValueError: x must not be zero" in (e.value.outcome.message or "")
        assert attempts == [1]  # not retryable: tried once

    asyncio.run(main())


def test_non_json_output_fails_clearly() -> None:
    lk = lekhika.open_blocking("sqlite::memory:", nodes={"flaky": lambda ctx: object()})
    out = lk.run_blocking(flaky_flow(), {"x": 1}, check=False)
    assert out.status == "failed" and "not JSON-able" in (out.message or "")


def test_stopping_a_run_cancels_an_awaiting_python_node() -> None:
    state: Dict[str, Any] = {"cancelled": False}
    entered = threading.Event()

    async def slow(ctx: Dict[str, Any]) -> Any:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        return 1

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", nodes={"flaky": slow})
        run = await lk.start(flaky_flow(), {"x": 1})
        while not entered.is_set():
            await asyncio.sleep(0.01)
        run.stop()
        outcome = await asyncio.wait_for(run.wait(), 5)
        assert outcome.status == "stopped"
        # The cancellation reaches the Python task through the event loop:
        # give it time on a loaded machine.
        for _ in range(500):
            if state["cancelled"]:
                break
            await asyncio.sleep(0.01)
        assert state["cancelled"]

    asyncio.run(main())
