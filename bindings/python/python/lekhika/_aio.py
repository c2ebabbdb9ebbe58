"""Coroutines around the native module's futures: the Rust future starts when
the coroutine is first awaited, on the running event loop, so
``asyncio.run(lk.report(id))`` and ``asyncio.create_task(lk.run(...))`` work
like with any ``async def``."""

from typing import Any, Awaitable, Callable


async def wrap(start: Callable[[], Awaitable[Any]]) -> Any:
    return await start()


__all__ = ["wrap"]
