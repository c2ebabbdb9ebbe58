"""Loading and validating flows (dict, JSON string, path), estimates, errors."""

from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, List

import pytest

import lekhika
from conftest import book_flow, node


@pytest.fixture
def lk(providers: List[Dict[str, Any]]) -> lekhika.Lekhika:
    return lekhika.open_blocking("sqlite::memory:", providers=providers)


def test_validate_from_dict_json_string_and_paths(lk: lekhika.Lekhika, tmp_path: pathlib.Path) -> None:
    doc = book_flow()
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(doc))
    for given in (doc, json.dumps(doc), str(path), path):
        info = lk.validate(given)
        assert [n["id"] for n in info["nodes"]] == ["brief", "outline", "write", "book"]
        assert [n["kind"] for n in info["nodes"]] == ["input", "text", "map", "compile"]
        assert [f["name"] for f in info["inputs"]] == ["title", "chapters"]


def test_invalid_flow_lists_every_problem(lk: lekhika.Lekhika) -> None:
    doc = book_flow()
    node(doc, "outline")["type"] = "no_such_kind"
    doc["edges"].append({"id": "bad", "source": "book", "target": "ghost"})
    with pytest.raises(lekhika.FlowError) as e:
        lk.validate(doc)
    problems = e.value.problems
    assert isinstance(e.value, lekhika.LekhikaError)
    assert e.value.code == "invalid_flow" and e.value.retryable is False
    assert len(problems) >= 2
    assert any(p["id"] == "outline" and "no_such_kind" in p["message"] for p in problems)
    assert any(p["scope"] == "edge" and p["id"] == "bad" for p in problems)


def test_bad_json_and_missing_file_are_config_errors(lk: lekhika.Lekhika, tmp_path: pathlib.Path) -> None:
    with pytest.raises(lekhika.FlowError, match="JSON"):
        lk.validate("{not json")
    with pytest.raises(lekhika.ConfigError, match="cannot read") as e:
        lk.validate(str(tmp_path / "missing.json"))
    assert e.value.code == "invalid_argument"
    with pytest.raises(TypeError):
        lk.validate(42)  # type: ignore[arg-type]
    with pytest.raises(lekhika.ConfigError, match="unknown field `providr`"):
        lk.estimate(book_flow(), {"title": "T"}, providr="openai")  # type: ignore[call-arg]


def test_invalid_input_and_estimate(lk: lekhika.Lekhika) -> None:
    with pytest.raises(lekhika.InvalidInput) as e:
        lk.estimate(book_flow(), {"chapters": 2})
    assert any("title" in p for p in e.value.problems)
    est = lk.estimate(book_flow(), {"title": "Rivers", "chapters": 4})
    by_node = {n["node"]: n for n in est["nodes"]}
    assert by_node["outline"]["model"] == "gpt-4o-mini"
    assert by_node["write"]["expected"]["calls"] >= 4
    assert by_node["write"]["worst"]["calls"] >= by_node["write"]["expected"]["calls"]
    assert est["expected"]["cost"] > 0 and est["missing_prices"] == []
    assert est["worst"]["cost"] >= est["expected"]["cost"]


def test_provider_not_configured_names_what_to_set() -> None:
    bare = lekhika.open_blocking("sqlite::memory:")
    with pytest.raises(lekhika.ConfigError, match="OPENAI_API_KEY"):
        bare.check_flow(book_flow())


def test_node_kinds_and_catalog(providers: List[Dict[str, Any]]) -> None:
    catalog = {"models": [{"provider": "openai", "model_id": "house-model", "name": "House", "category": "text",
                           "input_per_1k": 1.0, "output_per_1k": 2.0, "is_default": True}]}
    lk = lekhika.open_blocking("sqlite::memory:", providers=providers, catalog=catalog,
                               nodes={"shout": lambda ctx: "x"})
    assert {"input", "text", "map", "compile", "export", "shout"} <= set(lk.node_kinds())
    # `provider` alone picks the catalog's default text model.
    est = lk.estimate(book_flow(), {"title": "T"}, provider="openai")
    assert {n["model"] for n in est["nodes"]} == {"house-model"}
    assert est["expected"]["cost"] > 0
    with pytest.raises(lekhika.ConfigError, match="catalog"):
        lekhika.open_blocking("sqlite::memory:", catalog="{\"models\": 5}")
