"""Approval gates: the run pauses with the output under review; approve or reject."""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import BOOK_FLOW, OpenAIServer


def gated_flow() -> Dict[str, Any]:
    f = copy.deepcopy(BOOK_FLOW)
    f["nodes"].insert(2, {"id": "review", "type": "approval", "data": {"prompt": "Check the outline"}})
    f["nodes"][3]["data"]["items"] = "{{nodes.review.output.chapters}}"
    f["edges"][1] = {"id": "e2", "source": "outline", "target": "review"}
    f["edges"].append({"id": "e4", "source": "review", "target": "write"})
    return f


def test_approve_edited_and_reject(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        with pytest.raises(lekhika.AwaitingApproval) as e:
            await lk.run(gated_flow(), {"title": "Rivers", "chapters": 2})
        gate = e.value
        assert gate.node == "review" and gate.review["chapters"][0]["title"] == "Part 1"

        # Reject: the outline is regenerated with the instruction, and the gate asks again.
        run = await lk.reject(gate.execution_id, "review", "Use river names")
        again = await run.wait()
        assert again.status == "paused" and again.reason == "awaiting_approval"
        assert "Use river names" in str(server.requests[-1]["messages"])

        edited = {"logline": "x", "chapters": [{"title": "Ganga"}]}
        run = await lk.approve(gate.execution_id, "review", edited)
        assert (await run.wait(check=True)).ok
        assert any("Ganga" in p for p in server.prompts())
        assert not any("WRITE chapter Part" in p for p in server.prompts())

    asyncio.run(main())
