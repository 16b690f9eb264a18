"""Anchors: what the hash chain alone cannot see (a history rewritten and re-chained, a stream cut
short or deleted) is found against a signed anchor kept outside the database."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from domain import commands as c
from eventstore import AnchorError, AnchorFolder, EventStore, take_anchor
from eventstore.hashing import GENESIS, chain_hash
from eventstore.verify import row_body
from tests.integration.eventstore.stories import DAY
from tests.integration.eventstore.test_verify import behind_the_stores_back, certified_city

KEY = b"k" * 32


async def rechain(conn, stream_id: str) -> None:  # type: ignore[no-untyped-def]
    """Recompute the stream's whole hash chain from its rows as they are now: what a forger with
    table rights does after editing an event, so that the chain checks out again."""
    rows = await conn.fetch("SELECT * FROM events WHERE stream_id = $1 ORDER BY version", stream_id)
    previous = GENESIS
    for row in rows:
        previous = chain_hash(previous, row_body(row), row["recorded_at"])
        await conn.execute("UPDATE events SET hash = $1 WHERE event_id = $2", previous, row["event_id"])


async def test_a_history_rewritten_and_rechained_passes_the_chain_but_not_the_anchor(
    store: EventStore, tmp_path: Path
) -> None:
    await certified_city(store)
    folder = AnchorFolder(tmp_path)
    folder.write(await take_anchor(store, KEY))
    async with behind_the_stores_back(store) as conn:
        # The decider's rationale and the level, made up after the fact.
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{rationale}', '\"a better story\"')"
            " WHERE stream_id = 'city-lakeside' AND type = 'LevelDecided'"
        )
        await rechain(conn, "city-lakeside")
    await store.rebuild_projections()

    assert (await store.verify()).ok, "the chain and the projections alone cannot tell"
    found = folder.latest(KEY)
    assert found is not None
    report = await store.verify(found[1])

    assert not report.ok
    [problem] = report.anchor_problems
    assert problem.stream_id == "city-lakeside"
    assert "history before the anchor was rewritten" in problem.detail


async def test_a_stream_cut_short_or_deleted_after_the_anchor_is_reported(
    store: EventStore, tmp_path: Path
) -> None:
    lakeside = await certified_city(store)
    await certified_city(store, "hillcrest")
    anchor = await take_anchor(store, KEY)
    last = lakeside.state.version
    async with behind_the_stores_back(store) as conn:
        await conn.execute("DELETE FROM events WHERE stream_id = 'city-lakeside' AND version = $1", last)
        await conn.execute("DELETE FROM events WHERE stream_id = 'city-hillcrest'")

    report = await store.verify(anchor)

    assert report.broken_chains == [] and report.version_gaps == [], "each remaining chain is whole"
    assert [(p.stream_id, p.version) for p in report.anchor_problems] == [
        ("city-hillcrest", last),
        ("city-lakeside", last),
    ]
    details = {p.stream_id: p.detail for p in report.anchor_problems}
    assert "the stream is gone" in details["city-hillcrest"]
    assert f"the stream ends at v{last - 1}" in details["city-lakeside"]


async def test_appends_after_the_anchor_are_fine(store: EventStore) -> None:
    run = await certified_city(store)
    anchor = await take_anchor(store, KEY)
    await run.do(c.SendReminder(threshold_days=180), wait=920 * DAY)
    await certified_city(store, "newtown")  # a stream the anchor has not seen

    report = await store.verify(anchor)

    assert report.ok, report.lines()
    assert report.anchor_problems == [] and report.anchor_taken_at == anchor.taken_at


async def test_an_anchor_edited_by_hand_or_signed_with_another_key_is_not_trusted(
    store: EventStore, tmp_path: Path
) -> None:
    await certified_city(store)
    folder = AnchorFolder(tmp_path)
    path = folder.write(await take_anchor(store, KEY))
    assert folder.latest(KEY) is not None

    with pytest.raises(AnchorError, match="HMAC does not match"):
        folder.latest(b"another key" * 3)
    edited = json.loads(path.read_text())
    edited["heads"][0][1] -= 1  # as if the stream had been one event shorter: a deletion hidden
    path.write_text(json.dumps(edited))
    with pytest.raises(AnchorError, match=str(path)):
        folder.latest(KEY)


async def test_an_anchor_file_is_private_and_never_overwritten(store: EventStore, tmp_path: Path) -> None:
    folder = AnchorFolder(tmp_path / "anchors")
    assert folder.latest(KEY) is None, "no anchor yet is not a problem"
    anchor = await take_anchor(store, KEY)

    path = folder.write(anchor)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        folder.write(anchor)
