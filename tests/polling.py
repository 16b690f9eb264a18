"""Bounded polling for what happens asynchronously (timers, signals, visibility, other processes).

Never a timing assertion: each loop only bounds how long a broken system can make a test hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], *, attempts: int = 100, pause: float = 0.1
) -> Any:
    """Poll `read` until `ok` holds of its value, and return that value."""
    value = None
    for _ in range(attempts):
        value = await read()
        if ok(value):
            return value
        await asyncio.sleep(pause)
    raise AssertionError(f"never happened; last value {value!r}")


async def bounded(
    what: str, check: Callable[[], Awaitable[bool]], bound: float = 120.0, pause: float = 0.1
) -> None:
    """Poll `check` until it holds; AssertionError naming `what` if it never does within `bound` s."""
    for _ in range(int(bound / pause)):
        if await check():
            return
        await asyncio.sleep(pause)
    raise AssertionError(f"never happened within {bound} s: {what}")
