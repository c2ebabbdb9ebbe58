"""Checked with `mypy --strict` by test_typing.py: the stubs describe the API."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import lekhika


async def write(flow_path: str) -> Optional[bytes]:
    lk: lekhika.Lekhika = await lekhika.open("sqlite::memory:", providers=[{"name": "openai", "api_key": "k"}],
                                             nodes={"echo": lambda ctx: ctx["input"]})
    flow: lekhika.Flow = lk.load_flow(flow_path)
    ids: List[str] = flow.node_ids
    est: Dict[str, Any] = lk.estimate(flow, {"title": "T"})
    run: lekhika.Run = await lk.start(flow, {"title": "T"}, user="ana")
    async for event in run:
        if event["type"] == "token_delta":
            print(event["text"], ids, est["cost"])
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
    wallet = await lk.wallets.grant("ana", 10)
    balance: int = wallet["balance"]
    print(balance)
    return files[0].data


def blocking() -> str:
    lk = lekhika.open_blocking()
    out = lk.run_blocking({"nodes": [], "edges": []}, None, on_event=lambda e: None)
    report: Dict[str, Any] = lk.report_blocking(out.execution_id)
    return str(report["status"])
