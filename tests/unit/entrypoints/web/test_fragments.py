"""The kept parts of pages (entrypoints/web/fragments.py): a slot gives what it keeps while the
version is the same, makes it anew when the version moves, makes it once however many ask at the
same time, keeps slots apart, and gives up the least recently used past its size. And what a kept
part is rendered with: the words of a language, nothing of a person."""

from __future__ import annotations

import asyncio

import pytest

from entrypoints.web.fragments import Kept
from entrypoints.web.pages import render_part


class Maker:
    """Makes a value naming how many times it was asked to, after letting others run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.made = 0

    async def __call__(self) -> str:
        self.made += 1
        await asyncio.sleep(0)
        return f"{self.name} #{self.made}"


async def test_a_slot_gives_what_it_keeps_until_the_version_moves() -> None:
    kept, board = Kept(4), Maker("board")
    assert await kept.get("spring", 1, board) == "board #1"
    assert await kept.get("spring", 1, board) == "board #1"
    # When something is recorded (the version moves), the next asking makes it anew
    assert await kept.get("spring", 2, board) == "board #2"
    assert board.made == 2


async def test_many_asking_at_once_wait_for_one_making() -> None:
    kept, board = Kept(4), Maker("board")
    answers = await asyncio.gather(*(kept.get("spring", 1, board) for _ in range(8)))
    assert answers == ["board #1"] * 8 and board.made == 1


async def test_slots_are_kept_apart_and_the_least_recently_used_goes_first() -> None:
    kept = Kept(2)
    rosa, teo, ana = Maker("rosa"), Maker("teo"), Maker("ana")
    assert await kept.get(("rosa", "en"), 1, rosa) == "rosa #1"
    assert await kept.get(("teo", "en"), 1, teo) == "teo #1"
    assert await kept.get(("rosa", "en"), 1, rosa) == "rosa #1"  # Rosa's is used again: Teo's is older
    assert await kept.get(("ana", "en"), 1, ana) == "ana #1"
    assert len(kept) == 2
    assert await kept.get(("rosa", "en"), 1, rosa) == "rosa #1"
    assert await kept.get(("teo", "en"), 1, teo) == "teo #2"  # given up, so made again


async def test_a_failed_making_keeps_nothing_and_the_next_asking_tries_again() -> None:
    kept, board = Kept(4), Maker("board")

    async def fails() -> str:
        raise LookupError("no round of that id")

    with pytest.raises(LookupError):
        await kept.get("autumn", 1, fails)
    assert len(kept) == 0
    assert await kept.get("autumn", 1, board) == "board #1"


def test_a_part_is_rendered_in_its_language_and_escaped() -> None:
    cities = ["<Lakeside>"]
    english = render_part("_reviewer_queue_body.html", "en", cities=[], count=0)
    spanish = render_part("_reviewer_queue_body.html", "es", cities=[], count=0)
    assert "Nothing waits on you now." in english
    assert "Nothing waits on you now." not in spanish and "Su cola de revisión" in spanish
    assert "csrf" not in english and cities[0] not in english
