"""Turns the asyncio futures of the native module into coroutines, so that
``asyncio.create_task(lk.run(...))`` works like with any ``async def``."""

from typing import Awaitable, TypeVar

T = TypeVar("T")


async def wrap(fut: Awaitable[T]) -> T:
    return await fut


__all__ = ["wrap"]
