"""Lekhika: write whole books with AI, from Python.

A thin layer over the Rust engine. Open an engine, load a flow, run it::

    import asyncio, lekhika

    async def main() -> None:
        lk = await lekhika.open("book.db", providers=[{"name": "openai", "api_key": "sk-..."}])
        outcome = await lk.run("flow.json", {"title": "Rivers"}, on_event=print)
        await lk.write_book(outcome.execution_id, "out")

    asyncio.run(main())

The methods are those of Lekhika's host API (``api_methods()`` lists
them), the same in the CLI and the Node package. Everything is
asyncio-native (``await``); ``open_blocking``, ``run_blocking``,
``Run.wait_blocking`` and ``report_blocking`` are blocking twins. Errors
derive from :class:`LekhikaError` and carry a stable ``code`` and
``retryable``.
"""

from ._lekhika import (
    ALL_FORMATS,
    AwaitingApproval,
    ConfigError,
    ExecutionLimitExceeded,
    ExportedFile,
    ExportError,
    FlowError,
    InsufficientTokens,
    InvalidInput,
    InvalidState,
    Busy,
    Lekhika,
    LekhikaError,
    MissingPrices,
    NotFound,
    Progress,
    ProviderError,
    Run,
    RunError,
    RunFailed,
    RunOutcome,
    RunPaused,
    RunStopped,
    StoreError,
    TierDenied,
    UnknownNode,
    __version__,
    api_methods,
)

#: ``await lekhika.open(...)``: same as :meth:`Lekhika.open`.
open = Lekhika.open
#: ``lekhika.open_blocking(...)``: same as :meth:`Lekhika.open_blocking`.
open_blocking = Lekhika.open_blocking

__all__ = [
    "ALL_FORMATS",
    "AwaitingApproval",
    "ConfigError",
    "ExecutionLimitExceeded",
    "ExportedFile",
    "ExportError",
    "FlowError",
    "InsufficientTokens",
    "InvalidInput",
    "InvalidState",
    "Busy",
    "Lekhika",
    "LekhikaError",
    "MissingPrices",
    "NotFound",
    "Progress",
    "ProviderError",
    "Run",
    "RunError",
    "RunFailed",
    "RunOutcome",
    "RunPaused",
    "RunStopped",
    "StoreError",
    "TierDenied",
    "UnknownNode",
    "__version__",
    "api_methods",
    "open",
    "open_blocking",
]
