"""Stopping runs: cancelling the asyncio task, Run.stop(), and a stop through the store."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import OpenAIServer, book_flow


def hold_chapters_after_first(server: OpenAIServer) -> threading.Event:
    """Chapter 1 answers at once; later chapters wait until the returned event is set."""
    gate = threading.Event()

    def delay(body: Dict[str, Any]) -> float:
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("WRITE") and "Part 1 " not in prompt:
            gate.wait(30)
        return 0.0

    server.delay = delay
    return gate


async def wait_status(lk: lekhika.Lekhika, execution_id: str, status: str) -> Dict[str, Any]:
    for _ in range(200):
        report = await lk.report(execution_id)
        if report["status"] == status:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"run never became {status}: {report['status']}")


def test_cancelling_the_task_stops_the_run_and_keeps_finished_work(
    server: OpenAIServer, providers: List[Dict[str, Any]]
) -> None:
    gate = hold_chapters_after_first(server)

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        ids: List[str] = []
        first_chapter = asyncio.Event()

        def on_event(e: Dict[str, Any]) -> None:
            ids.append(e["execution_id"])
            if e["type"] == "checkpoint_saved" and e["node"] == "write" and e.get("item") == 0:
                loop.call_soon_threadsafe(first_chapter.set)

        loop = asyncio.get_running_loop()
        task = asyncio.create_task(
            lk.run(book_flow(concurrency=1), {"title": "Rivers", "chapters": 3}, on_event=on_event)
        )
        await asyncio.wait_for(first_chapter.wait(), 20)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        report = await wait_status(lk, ids[0], "stopped")
        assert time.monotonic() - started < 5, "stop must not wait for the held chapter"
        done = {(n["node"], n.get("item")) for n in report["nodes"]}
        assert ("outline", None) in done and ("write", 0) in done
        assert ("write", 1) not in done and ("book", None) not in done

        gate.set()
        run = await lk.resume(ids[0])
        assert (await run.wait(check=True)).ok
        prompts = server.prompts()
        assert sum(p.startswith("OUTLINE") for p in prompts) == 1
        assert sum("Part 1 " in p for p in prompts) == 1

    try:
        asyncio.run(main())
    finally:
        gate.set()


def test_run_stop_and_store_stop(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    gate = hold_chapters_after_first(server)

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        run = await lk.start(book_flow(concurrency=1), {"title": "Rivers", "chapters": 3})
        async for e in run:
            if e["type"] == "checkpoint_saved" and e.get("item") == 0:
                run.stop()
        outcome = await run.wait()
        assert outcome.status == "stopped" and outcome.reason == "stopped"
        with pytest.raises(lekhika.RunStopped):
            outcome.raise_for_status()

        # A stop requested through the store (as another process would).
        run2 = await lk.resume(run.execution_id)
        await asyncio.sleep(0.3)
        await lk.stop(run.execution_id)
        with pytest.raises(lekhika.RunStopped) as e:
            await asyncio.wait_for(run2.wait(check=True), 10)
        assert e.value.execution_id == run.execution_id

    try:
        asyncio.run(main())
    finally:
        gate.set()
