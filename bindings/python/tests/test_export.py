"""Exports of a finished book: bytes in every format, and files on disk."""

from __future__ import annotations

import asyncio
import pathlib
import zipfile
import io
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import OpenAIServer, book_flow


def test_export_every_format_to_bytes_and_files(
    server: OpenAIServer, providers: List[Dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    async def main() -> None:
        lk = await lekhika.open(str(tmp_path / "store.db"), providers=providers)
        outcome = await lk.run(book_flow(), {"title": "Rivers", "chapters": 2})
        files = await lk.export_book(outcome.execution_id)
        by_format = {f.format: f for f in files}
        assert set(by_format) == set(lekhika.ALL_FORMATS) == {"pdf", "epub", "docx", "html", "md"}
        assert by_format["pdf"].data.startswith(b"%PDF-") and by_format["pdf"].mime == "application/pdf"
        epub = zipfile.ZipFile(io.BytesIO(by_format["epub"].data))
        assert epub.read("mimetype") == b"application/epub+zip"
        docx = zipfile.ZipFile(io.BytesIO(by_format["docx"].data))
        assert "It was a dark night" in docx.read("word/document.xml").decode()
        html = by_format["html"].data.decode()
        assert "<html" in html and "Rivers" in html and "Part 2" in html
        md = by_format["md"].data.decode()
        assert "Rivers" in md and "Text for WRITE chapter Part 1 of Rivers" in md
        assert len(by_format["md"]) == len(by_format["md"].data)

        out = tmp_path / "out"
        paths = await lk.write_book(outcome.execution_id, out, ["md", "html"])
        assert sorted(pathlib.Path(p).suffix for p in paths) == [".html", ".md"]
        assert pathlib.Path(paths[0]).read_bytes() == next(f.data for f in files if pathlib.Path(paths[0]).name == f.name)

        with pytest.raises(lekhika.ExportError):
            await lk.export_book(outcome.execution_id, ["rtf"])

        # Export options: printed labels and page size, checked before rendering.
        [md_de] = await lk.export_book(
            outcome.execution_id, ["md"], options={"labels": {"contents": "Inhalt", "chapter": "Teil {n}"}}
        )
        text = md_de.data.decode()
        assert "## Inhalt" in text and "Teil 2" in text and "Chapter 2" not in text
        with pytest.raises(lekhika.ConfigError, match="unknown trim `letter`"):
            await lk.export_book(outcome.execution_id, ["pdf"], options={"trim": "letter"})

    asyncio.run(main())


def test_export_before_the_book_exists(server: OpenAIServer, providers: List[Dict[str, Any]]) -> None:
    server.fail = lambda b: (400, {"error": {"message": "no", "type": "invalid_request_error"}})

    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        out = await lk.run(book_flow(), {"title": "T"}, check=False)
        assert out.status == "failed"
        with pytest.raises(lekhika.ConfigError, match="has not finished"):
            await lk.export_book(out.execution_id)

    asyncio.run(main())


def test_a_manuscript_exports_without_a_store(tmp_path: pathlib.Path) -> None:
    md = tmp_path / "harbour.md"
    md.write_text('---\ntitle: "The Quiet Harbour"\nauthor: Asha Verma\nlang: en\n---\n\n'
                  "# Chapter 1: Night\n\nIt was late. \"Where were you?\"\n\n# Chapter 2: Morning\n\nMorning came.\n",
                  encoding="utf-8")

    async def main() -> None:
        files = await lekhika.Lekhika.export_manuscript(md, ["html", "md"])
        by = {f.name: f for f in files}
        assert set(by) == {"the-quiet-harbour.html", "the-quiet-harbour.md"}
        html = by["the-quiet-harbour.html"].data.decode()
        assert "Chapter 2" in html and "\u201cWhere were you?\u201d" in html
        written = await lekhika.Lekhika.write_manuscript(md, tmp_path / "out")
        names = sorted(pathlib.Path(p).name for p in written)
        assert names == [f"the-quiet-harbour.{e}" for e in ("docx", "epub", "html", "md", "pdf")]
        assert (tmp_path / "out" / "the-quiet-harbour.pdf").read_bytes().startswith(b"%PDF")
        try:
            await lekhika.Lekhika.export_manuscript(tmp_path / "missing.md", ["md"])
        except lekhika.ConfigError as e:
            assert e.code == "config" and "missing.md" in str(e)
        else:
            raise AssertionError("a missing manuscript must be an error")

    asyncio.run(main())
