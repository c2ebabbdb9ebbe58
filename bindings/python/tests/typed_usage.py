"""Checked with `mypy --strict` by test_typing.py: the stubs describe the API."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import lekhika


async def write(flow_path: str) -> Optional[bytes]:
    lk: lekhika.Lekhika = await lekhika.open("sqlite::memory:", providers=[{"name": "openai", "api_key": "k"}],
                                             nodes={"echo": lambda ctx: ctx["input"]})
    flow = flow_path
    info = lk.validate(flow)
    ids: List[str] = [n["id"] for n in info["nodes"]]
    est = lk.estimate(flow, {"title": "T"}, provider="openai")
    cost: int = est["worst"]["cost"]
    run: lekhika.Run = await lk.start(flow, {"title": "T"}, user="ana", max_concurrency=2)
    async for event in run:
        if event["type"] == "token_delta":
            print(event["text"], ids, cost)
    outcome: lekhika.RunOutcome = await run.wait()
    try:
        outcome.raise_for_status()
    except lekhika.ProviderError as e:
        retry: bool = e.retryable
        print(retry, e.outcome.status)
        return None
    except lekhika.RunPaused as e:
        print(e.reason)
    task = asyncio.create_task(lk.run(flow, {"title": "T"}))
    done: lekhika.RunOutcome = await task
    files: List[lekhika.ExportedFile] = await lk.export_book(done.execution_id, ["md"])
    wallet = await lk.grant("ana", 10)
    balance: int = wallet["balance"]
    runs = await lk.list_executions(user="ana", status="completed")
    print(balance, [r["status"] for r in runs])
    return files[0].data


def blocking() -> str:
    lk = lekhika.open_blocking()
    out = lk.run_blocking({"nodes": [], "edges": []}, None, on_event=lambda e: None)
    report = lk.report_blocking(out.execution_id)
    return report["status"]
