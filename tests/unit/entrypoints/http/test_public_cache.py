"""The public pages' in-process cache: given readers arriving together and a clock, how often the
projections are read, and which bodies are rendered again."""

from __future__ import annotations

import asyncio

from app.directory import PublicCertificate
from entrypoints.http.routes_public import Body, PublicCache, body


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counting_load(gate: asyncio.Event | None = None) -> tuple[list[int], object]:
    reads: list[int] = []

    async def load() -> list[PublicCertificate]:
        reads.append(1)
        if gate is not None:
            await gate.wait()  # a slow read: the other readers arrive while it runs
        return []

    return reads, load


async def test_readers_arriving_while_one_reads_wait_for_that_read() -> None:
    gate = asyncio.Event()
    reads, load = counting_load(gate)
    cache = PublicCache(load, keep_for=5, clock=Clock())  # type: ignore[arg-type]

    readers = [asyncio.create_task(cache.certificates()) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*readers)

    assert len(reads) == 1


async def test_a_read_is_kept_for_its_time_then_read_again_and_its_bodies_rendered_again() -> None:
    clock = Clock()
    reads, load = counting_load()
    cache = PublicCache(load, keep_for=5, clock=clock)  # type: ignore[arg-type]
    rendered: list[int] = []

    def render(_: list[PublicCertificate]) -> Body:
        rendered.append(1)
        return body("[]", "application/json")

    await cache.body(("directory",), render)
    clock.now += 4.9
    await cache.body(("directory",), render)
    assert (len(reads), len(rendered)) == (1, 1)

    clock.now += 0.2
    await cache.body(("directory",), render)
    assert (len(reads), len(rendered)) == (2, 2)


async def test_nothing_is_kept_when_the_cache_is_off() -> None:
    reads, load = counting_load()
    cache = PublicCache(load, keep_for=0, clock=Clock())  # type: ignore[arg-type]

    await cache.certificates()
    await cache.certificates()

    assert len(reads) == 2


def test_a_bodys_etag_is_its_contents_hash() -> None:
    assert body("a", "text/csv").etag == body(b"a", "text/csv").etag != body("b", "text/csv").etag
