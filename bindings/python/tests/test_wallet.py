"""Wallets and tier policies: grants, ledger, levels, metered runs, pauses."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import OpenAIServer, book_flow


def test_grant_show_ledger_and_levels() -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:")
        w = lk
        assert await w.wallet("ana") is None
        after = await w.grant("ana", 500, key="welcome", note="hello")
        assert after["balance"] == 500 and after["total_earned"] == 500
        again = await w.grant("ana", 500, key="welcome")  # same key: nothing changes
        assert again["balance"] == 500
        await w.grant("ana", 25)
        shown = await w.wallet("ana")
        assert shown is not None and shown["balance"] == 525 and shown["level"] is None
        ledger = await w.ledger("ana")
        assert [(e["kind"], e["amount"], e["key"]) for e in ledger][0] == ("grant", 500, "welcome")
        assert len(ledger) == 2 and ledger[0]["note"] == "hello"
        with pytest.raises(lekhika.ConfigError):
            await w.grant("ana", 0)

        policy = {"level": "pro", "monthly_allocation": 1000, "per_execution_limit": 300,
                  "features": {"allowed_models": ["gpt-4o-mini"], "allowed_export_formats": ["md"]}}
        await w.put_tier_policy(policy)
        stored = await w.tier_policy("pro")
        assert stored is not None and stored["per_execution_limit"] == 300
        assert stored["features"]["allowed_models"] == ["gpt-4o-mini"]
        assert await w.tier_policy("none") is None
        leveled = await w.set_tier("ana", "pro")
        assert leveled["level"] == "pro"
        with pytest.raises(lekhika.ConfigError, match="tier policy"):
            await w.put_tier_policy({"level": "x"})

    asyncio.run(main())


def test_metered_run_pauses_on_an_empty_wallet_and_resumes(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        await lk.grant("bo", 2)
        with pytest.raises(lekhika.InsufficientTokens) as e:
            await lk.run(book_flow(), {"title": "Rivers", "chapters": 2}, user="bo")
        assert isinstance(e.value, lekhika.RunPaused)
        assert e.value.reason == "insufficient_tokens" and e.value.node == "outline"
        assert server.requests == []  # nothing was called, nothing spent

        await lk.grant("bo", 1000)
        run = await lk.resume(e.value.execution_id, user="bo")
        outcome = await run.wait(check=True)
        wallet = await lk.wallet("bo")
        assert wallet is not None
        assert outcome.cost > 0 and wallet["total_spent"] == outcome.cost
        assert wallet["balance"] == 1002 - outcome.cost and wallet["reserved"] == 0
        kinds = [x["kind"] for x in await lk.ledger("bo", outcome.execution_id)]
        assert kinds.count("reserve") == 3 and kinds.count("settle") == 3
        # Another user cannot see the run.
        with pytest.raises(lekhika.NotFound):
            await lk.report(outcome.execution_id, user="eve")

    asyncio.run(main())


def test_tier_policies_deny_models_and_limit_executions(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        w = lk
        await w.put_tier_policy({"level": "free", "monthly_allocation": 0, "per_execution_limit": None,
                                 "features": {"allowed_models": ["gpt-5-nano"]}})
        await w.grant("cy", 10_000)
        await w.set_tier("cy", "free")
        with pytest.raises(lekhika.TierDenied) as e:
            await lk.start(book_flow(), {"title": "T"}, user="cy")
        assert e.value.level == "free" and any("gpt-4o-mini" in p for p in e.value.problems)

        await w.put_tier_policy({"level": "free", "monthly_allocation": 0, "per_execution_limit": 6,
                                 "features": {}})
        with pytest.raises(lekhika.ExecutionLimitExceeded):
            await lk.run(book_flow(), {"title": "T", "chapters": 3}, user="cy")

        # Metered users need priced models.
        flow = book_flow()
        flow["nodes"][1]["data"]["model"] = "unpriced-model"
        with pytest.raises(lekhika.MissingPrices) as m:
            await lk.start(flow, {"title": "T"}, user="cy")
        assert m.value.models == ["openai/unpriced-model"]

    asyncio.run(main())
