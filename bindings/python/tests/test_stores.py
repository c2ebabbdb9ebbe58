"""Stores: SQLite file (persists across opens), the default store, PostgreSQL when available."""

from __future__ import annotations

import asyncio
import os
import pathlib
import uuid
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import OpenAIServer, book_flow


def test_sqlite_file_persists_runs_across_engines(
    server: OpenAIServer, providers: List[Dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    db = tmp_path / "lekhika.db"

    async def first() -> str:
        lk = await lekhika.open(db, providers=providers)
        await lk.grant("ana", 77, key="k1")
        return (await lk.run(book_flow(), {"title": "Rivers", "chapters": 1}, user="ana")).execution_id

    execution_id = asyncio.run(first())
    assert db.exists() and db.stat().st_size > 0

    lk = lekhika.open_blocking(str(db))
    report = lk.report_blocking(execution_id, user="ana")
    assert report["status"] == "completed" and report["nodes_done"] == 4

    async def second() -> None:
        wallet = await lk.wallet("ana")
        assert wallet is not None and wallet["total_earned"] == 77
        assert (await lk.compiled_book(execution_id, user="ana"))["title"] == "Rivers"

    asyncio.run(second())


def test_default_store_lives_under_xdg_data_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    lk = lekhika.open_blocking()
    asyncio.run(lk.grant("x", 1))
    assert (tmp_path / "lekhika" / "lekhika.db").exists()


def test_unreachable_store_is_a_store_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(lekhika.StoreError) as e:
        lekhika.open_blocking(str(tmp_path / "dir.db"))
    assert e.value.retryable is False


def pg_urls() -> Any:
    admin, app = os.environ.get("LEKHIKA_TEST_PG_ADMIN_URL"), os.environ.get("LEKHIKA_TEST_PG_APP_URL")
    if admin and app:
        return admin, app
    if os.environ.get("LEKHIKA_REQUIRE_PG") == "1":
        pytest.fail("LEKHIKA_REQUIRE_PG=1 but LEKHIKA_TEST_PG_ADMIN_URL / LEKHIKA_TEST_PG_APP_URL are not set")
    pytest.skip("set LEKHIKA_TEST_PG_ADMIN_URL and LEKHIKA_TEST_PG_APP_URL to test PostgreSQL")


def test_postgres_store(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    admin, app = pg_urls()
    user = f"py-{uuid.uuid4()}"

    async def main() -> None:
        await lekhika.Lekhika.migrate(admin)
        lk = await lekhika.open(app, providers=providers)
        await lk.grant(user, 1000)
        out = await lk.run(book_flow(), {"title": "Rivers", "chapters": 1}, user=user)
        report = await lk.report(out.execution_id, user=user)
        assert report["status"] == "completed" and report["nodes_done"] == 4
        wallet = await lk.wallet(user)
        assert wallet is not None and wallet["total_spent"] == out.cost > 0
        with pytest.raises(lekhika.NotFound):
            await lk.report(out.execution_id, user="someone-else")

    asyncio.run(main())
