"""The package is Lekhika's host API, translated: the same methods as the Rust
facade (and the Node package), stubs that match the bindings' signatures, and
TypedDicts that match the data the bindings return."""

from __future__ import annotations

import ast
import asyncio
import inspect
import pathlib
from typing import Any, Dict, List, Set, Tuple

import lekhika
from conftest import OpenAIServer, book_flow

#: Python's blocking twins of host API methods (documented in the README).
BLOCKING_TWINS = {"open", "run", "report"}

STUB = pathlib.Path(lekhika.__file__).parent / "_lekhika.pyi"


def runtime_methods() -> Set[str]:
    return {n for n in dir(lekhika.Lekhika) if not n.startswith("_")}


def stub_classes() -> Dict[str, ast.ClassDef]:
    tree = ast.parse(STUB.read_text())
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def test_methods_are_exactly_the_host_api() -> None:
    api = set(lekhika.api_methods())
    assert "start" in api and "list_executions" in api
    expected = api | {f"{m}_blocking" for m in BLOCKING_TWINS}
    have = runtime_methods()
    assert have - expected == set(), f"methods the host API does not have: {have - expected}"
    assert expected - have == set(), f"host API methods missing here: {expected - have}"


def declared_params(f: ast.FunctionDef) -> List[str]:
    a = f.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return [n for n in names if n != "self"]


def test_stubs_match_the_bindings() -> None:
    cls = stub_classes()["Lekhika"]
    stub = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    assert set(stub) == runtime_methods()
    for name, f in stub.items():
        sig = inspect.signature(getattr(lekhika.Lekhika, name))
        runtime = [p.name for p in sig.parameters.values() if p.name not in ("self", "cls")]
        assert declared_params(f) == runtime, f"{name}: stub {declared_params(f)} != runtime {runtime}"


def typed_dict(name: str) -> Tuple[Set[str], Set[str]]:
    """(required, optional) keys of a TypedDict in the stub."""
    cls = stub_classes()[name]
    total = not any(k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False
                    for k in cls.keywords)
    required: Set[str] = set()
    optional: Set[str] = set()
    for item in cls.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            ann = ast.unparse(item.annotation)
            (required if total and not ann.startswith("NotRequired[") else optional).add(item.target.id)
    return required, optional


def conforms(name: str, value: Any) -> None:
    assert isinstance(value, dict), f"{name}: {value!r}"
    required, optional = typed_dict(name)
    keys = set(value)
    assert required <= keys, f"{name} lacks {required - keys}"
    assert keys <= required | optional, f"{name} has undeclared {keys - required - optional}"


def test_typed_dicts_match_the_data(server: OpenAIServer, providers: List[Dict[str, Any]], tmp_path: pathlib.Path) -> None:
    async def main() -> None:
        lk = await lekhika.open("sqlite::memory:", providers=providers)
        info = lk.validate(book_flow())
        conforms("FlowInfo", info)
        conforms("FlowNodeInfo", info["nodes"][0])
        conforms("InputField", info["inputs"][0])
        est = lk.estimate(book_flow(), {"title": "T", "chapters": 2})
        conforms("Estimate", est)
        conforms("NodeEstimate", est["nodes"][0])
        conforms("NodeFigures", est["nodes"][0]["expected"])
        conforms("Figures", est["worst"])

        await lk.put_tier_policy({"level": "pro", "monthly_allocation": 0, "per_execution_limit": None,
                                  "features": {"allowed_models": None}})
        policy = await lk.tier_policy("pro")
        conforms("TierPolicy", policy)
        conforms("Wallet", await lk.grant("ana", 100_000, key="g"))

        out = await lk.run(book_flow(), {"title": "Rivers", "chapters": 2}, user="ana")
        conforms("Usage", out.usage)
        report = await lk.report(out.execution_id, user="ana")
        conforms("ExecutionReport", report)
        for n in report["nodes"]:
            conforms("NodeReport", n)
            conforms("Usage", n["usage"])
        for p in report["providers"].values():
            conforms("ProviderTotals", p)
        for entry in await lk.ledger("ana", out.execution_id):
            conforms("LedgerEntry", entry)
        summaries = await lk.list_executions(user="ana")
        assert [s["id"] for s in summaries] == [out.execution_id]
        conforms("ExecutionSummary", summaries[0])
        conforms("RunSettings", await lk.settings(out.execution_id, user="ana"))
        await lk.write_book(out.execution_id, tmp_path, ["md"], user="ana")
        books = await lk.list_books(user="ana")
        assert books and books[0]["execution_id"] == out.execution_id
        conforms("BookRecord", books[0])

        # While a run holds its lease, the fleet view lists it.
        server.delay = lambda b: 0.5
        handle = await lk.start(book_flow(), {"title": "Slow", "chapters": 1}, user="ana")
        leases = [r for r in await lk.runners() if r["execution_id"] == handle.execution_id]
        assert len(leases) == 1, leases
        conforms("RunnerLease", leases[0])
        await handle.wait()
        server.delay = lambda b: 0.0

        failed = await lk.run({"nodes": [{"id": "x", "type": "text", "data": {
            "provider": "openai", "model": "gpt-4o-mini", "max_tokens": 5, "prompt": "FAIL permanently"}}],
            "edges": []}, user="ana", check=False)
        if failed.failure is not None:
            conforms("NodeFailure", failed.failure)

    asyncio.run(main())


def test_errors_carry_stable_codes(tmp_path: pathlib.Path) -> None:
    lk = lekhika.open_blocking("sqlite::memory:")
    cases = [
        (lambda: lk.validate({"nodes": [{"id": "a", "type": "nope"}], "edges": []}), lekhika.FlowError, "invalid_flow"),
        (lambda: lk.validate(str(tmp_path / "missing.json")), lekhika.ConfigError, "invalid_argument"),
        (lambda: lk.report_blocking("missing"), lekhika.NotFound, "not_found"),
    ]
    for call, cls, code in cases:
        try:
            call()
        except cls as e:
            assert e.code == code and e.retryable is False
        else:
            raise AssertionError(f"{code} not raised")
