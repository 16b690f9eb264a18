"""The public certificates of one read of the projections, kept in memory for a few seconds and
shared by every public reader of one app: the JSON directory and open data under /public/
(entrypoints/http/routes_public.py) and the portal's directory page, so that on an announcement day
they read the projections at most once per CITYCERT_PUBLIC_CACHE_FOR, and a page and its JSON
show the same read.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app import directory as d
from app.services import Services

RENDERED_KEPT = 256  # bodies kept per read: one per filter combination asked, bounded


@dataclass(frozen=True)
class Body:
    content: bytes
    media_type: str
    etag: str


def body(content: str | bytes, media_type: str) -> Body:
    raw = content.encode() if isinstance(content, str) else content
    return Body(raw, media_type, f'"{hashlib.sha256(raw).hexdigest()[:32]}"')


class PublicCache:
    """The public certificates of one read, and the bodies rendered from it, for `keep_for`
    seconds (0: read every time)."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[d.PublicCertificate]]],
        keep_for: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._keep_for = keep_for
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self._certificates: list[d.PublicCertificate] = []
        self._bodies: dict[tuple[Any, ...], Body] = {}
        self.reads = 0  # how many times the projections were read (for the benchmark's report)

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self._keep_for

    async def certificates(self) -> list[d.PublicCertificate]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another reader may have read while this one waited
                    self._certificates = await self._load()
                    self._bodies = {}
                    self._read_at = self._clock()
                    self.reads += 1
        return self._certificates

    async def body(self, key: tuple[Any, ...], render: Callable[[list[d.PublicCertificate]], Body]) -> Body:
        certificates = await self.certificates()
        found = self._bodies.get(key)
        if found is None:
            found = render(certificates)
            if len(self._bodies) >= RENDERED_KEPT:
                self._bodies.pop(next(iter(self._bodies)))  # the oldest
            self._bodies[key] = found
        return found


def cache_of(state: Any, svc: Services) -> PublicCache:
    """The app's cache, kept on its `state` (made on its first public read: no await in between,
    so one per app)."""
    found: PublicCache | None = getattr(state, "public_cache", None)
    if found is None:

        async def load() -> list[d.PublicCertificate]:
            now = svc.clock()
            visible = await d.visible_on(svc.store, now, rule=svc.settings.late_awards)
            return await d.load_public_certificates(svc.store, now=now, visible=visible)

        found = PublicCache(load, svc.settings.public_cache_for.total_seconds())
        state.public_cache = found
    return found
