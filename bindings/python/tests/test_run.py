"""Runs against the loopback provider: asyncio and blocking, events, failures, resume, regenerate."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import OpenAIServer, book_flow, node


def test_async_run_streams_tokens_to_a_callback(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    events: List[Dict[str, Any]] = []

    async def main() -> lekhika.RunOutcome:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        return await lk.run(book_flow(stream=True), {"title": "Rivers", "chapters": 3}, on_event=events.append)

    outcome = asyncio.run(main())
    assert outcome.status == "completed" and outcome.ok
    assert outcome.usage == {"input_tokens": 4 * 20, "output_tokens": 4 * 30}
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    deltas = "".join(e["text"] for e in events if e["type"] == "token_delta" and e.get("item") == 0)
    assert deltas == "Text for WRITE chapter Part 1 of Rivers. It was a dark night, and the river ran on."
    assert {e["item"] for e in events if e["type"] == "node_finished" and e["node"] == "write" and "item" in e} == {0, 1, 2}
    # Chapter writers streamed, the outline did not; every request authenticated.
    streamed = {r["messages"][-1]["content"].split()[0]: bool(r.get("stream")) for r in server.requests}
    assert streamed == {"OUTLINE": False, "WRITE": True}
    assert all(h["authorization"] == "Bearer test" for h in server.headers)


def test_async_iterator_and_async_callback(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        run = await lk.start(book_flow(stream=False), {"title": "Rivers", "chapters": 2})
        seen = [e["type"] async for e in run]
        assert seen[0] == "run_started" and seen[-1] == "run_finished"
        assert "token_delta" not in seen  # non-streaming requests give no deltas
        outcome = await run.wait()
        assert outcome.status == "completed" and outcome.execution_id == run.execution_id
        assert await run.next_event() is None

        got: List[str] = []

        async def on_event(e: Dict[str, Any]) -> None:
            await asyncio.sleep(0)
            got.append(e["type"])

        out2 = await lk.run(book_flow(), {"title": "Lakes", "chapters": 2}, on_event=on_event)
        assert out2.ok and got[-1] == "run_finished" and "token_delta" in got

        report = await lk.report(out2.execution_id)
        assert report["status"] == "completed"
        assert report["nodes_done"] == 4 and report["nodes_total"] == 4
        assert report["providers"]["openai"]["calls"] == 3
        assert report["usage"] == {"input_tokens": 60, "output_tokens": 90}

    asyncio.run(main())


def test_blocking_run_calls_back_from_engine_threads(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers)
    threads = set()
    types: List[str] = []

    def on_event(e: Dict[str, Any]) -> None:
        threads.add(threading.get_ident())
        types.append(e["type"])

    outcome = lk.run_blocking(book_flow(), {"title": "Rivers", "chapters": 2}, on_event=on_event)
    assert outcome.ok and types[-1] == "run_finished"
    assert threading.get_ident() not in threads
    assert lk.report_blocking(outcome.execution_id)["status"] == "completed"


def test_callback_exception_stops_the_run_and_propagates(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers)

    def on_event(e: Dict[str, Any]) -> None:
        if e["type"] == "node_finished":
            raise ValueError("callback broke")

    with pytest.raises(ValueError, match="callback broke"):
        lk.run_blocking(book_flow(), {"title": "Rivers"}, on_event=on_event)


def test_provider_errors_carry_retryable_and_resume_continues(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    flow = book_flow()
    node(flow, "write")["data"]["node"]["retry"] = {"attempts": 1}
    broken = {"on": True}

    def fail(body: Dict[str, Any]) -> Any:
        if broken["on"] and "Part 2" in body["messages"][-1]["content"]:
            return 400, {"error": {"message": "bad chapter", "type": "invalid_request_error", "code": None}}
        return None

    server.fail = fail

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        with pytest.raises(lekhika.ProviderError) as e:
            await lk.run(flow, {"title": "Rivers", "chapters": 3})
        err = e.value
        assert isinstance(err, lekhika.RunFailed) and isinstance(err, lekhika.RunError)
        assert err.retryable is False and err.code == "provider_error"
        assert err.outcome.status == "failed" and "bad chapter" in (err.outcome.message or "")
        outlines = sum(1 for p in server.prompts() if p.startswith("OUTLINE"))

        broken["on"] = False
        run = await lk.resume(err.execution_id)
        outcome = await run.wait(check=True)
        assert outcome.ok
        # The outline and finished chapters were kept: only Part 2 ran again.
        assert sum(1 for p in server.prompts() if p.startswith("OUTLINE")) == outlines == 1
        assert sum(1 for p in server.prompts() if "Part 1" in p) == 1

        # Resuming a completed run is refused.
        with pytest.raises(lekhika.InvalidState):
            await lk.resume(err.execution_id)
        with pytest.raises(lekhika.NotFound):
            await lk.report("no-such-id")

    asyncio.run(main())


def test_retryable_provider_error(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    flow = book_flow()
    node(flow, "outline")["data"]["retry"] = {"attempts": 1}
    server.fail = lambda body: (503, {"error": {"message": "overloaded", "type": "server_error"}})
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers)
    with pytest.raises(lekhika.ProviderError) as e:
        lk.run_blocking(flow, {"title": "Rivers"})
    assert e.value.retryable is True
    out = lk.run_blocking(flow, {"title": "Rivers"}, check=False)
    assert out.status == "failed" and out.failure is not None and out.failure["retryable"] is True


def test_regenerate_with_instruction(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        first = await lk.run(book_flow(), {"title": "Rivers", "chapters": 2})
        before = len(server.requests)
        run = await lk.regenerate(first.execution_id, "write", "Make it funnier")
        assert (await run.wait(check=True)).ok
        new = server.requests[before:]
        # Only the map's two chapters ran again, with the instruction in the prompt.
        assert len(new) == 2
        assert all("Make it funnier" in str(r["messages"]) for r in new)
        with pytest.raises(lekhika.UnknownNode) as e:
            await lk.regenerate(first.execution_id, "ghost")
        assert e.value.node == "ghost"

    asyncio.run(main())


def test_host_chosen_execution_id(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers)
    outcome = lk.run_blocking(book_flow(), {"title": "Rivers", "chapters": 1}, execution_id="frontend-42")
    assert outcome.ok and outcome.execution_id == "frontend-42"
    assert lk.report_blocking("frontend-42")["status"] == "completed"
    with pytest.raises(lekhika.StoreError, match="already in use"):
        lk.run_blocking(book_flow(), {"title": "Rivers", "chapters": 1}, execution_id="frontend-42")
    with pytest.raises(lekhika.InvalidInput, match="execution id"):
        lk.run_blocking(book_flow(), {"title": "Rivers", "chapters": 1}, execution_id="no/slashes")


def test_models_per_node(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers)
    before = len(server.requests)
    outcome = lk.run_blocking(
        book_flow(), {"title": "Rivers", "chapters": 2}, model="gpt-everyone", models={"outline": {"model": "gpt-planner"}}
    )
    assert outcome.ok
    used = sorted((r["messages"][-1]["content"].split()[0], r["model"]) for r in server.requests[before:])
    assert used == [("OUTLINE", "gpt-planner"), ("WRITE", "gpt-everyone"), ("WRITE", "gpt-everyone")]
    with pytest.raises(lekhika.FlowError, match="node `ghost`"):
        lk.run_blocking(book_flow(), {"title": "Rivers"}, models={"ghost": {"model": "x"}})
    with pytest.raises(lekhika.ConfigError, match="run option `models`: unknown field `modle`"):
        lk.run_blocking(book_flow(), {"title": "Rivers"}, models={"outline": {"modle": "x"}})


def test_reuse_serves_a_second_identical_run_without_asking(
    server: OpenAIServer, providers: List[Dict[str, Any]]
) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        first = await lk.run(book_flow(), {"title": "Rivers", "chapters": 2}, reuse=True)
        asked = len(server.requests)
        assert asked == 3
        second = await lk.run(book_flow(), {"title": "Rivers", "chapters": 2}, reuse=True)
        assert len(server.requests) == asked, "nothing asked the second time"
        assert second.usage == {"input_tokens": 0, "output_tokens": 0}
        report = await lk.report(second.execution_id)
        assert report["reused_calls"] == 3 and report["requests"] == 0
        assert (await lk.settings(second.execution_id))["reuse"] is True
        stats = await lk.reuse_stats()
        assert stats["replies"] == 3 and stats["reused"] == 3
        # Another user gets nothing of it.
        assert (await lk.reuse_stats(user="bo"))["replies"] == 0
        assert await lk.clear_reuse() == 3
        await lk.run(book_flow(), {"title": "Rivers", "chapters": 2}, reuse=True)
        assert len(server.requests) == asked + 3, "asked again after clear_reuse"
        assert first.execution_id != second.execution_id

    asyncio.run(main())
