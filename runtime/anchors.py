"""Where the event log's anchors live and the key that signs them: never in the database.

In production CITYCERT_ANCHOR_KEY and CITYCERT_ANCHOR_S3_BUCKET: a bucket with Object Lock
(runtime/anchor_bucket.py), where each anchor is locked for its retention days and whoever
controls the database or the app host cannot delete or replace it. Without a bucket,
CITYCERT_ANCHOR_DIR (a folder only the anchoring job may write); unset, a key file
(runtime/keys.py) and the folder data_dir/anchors serve a developer's machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

import structlog

from eventstore import Anchor, AnchorFolder, EventStore, EventStoreError, take_anchor
from runtime.keys import anchor_key
from runtime.process import StartupError
from runtime.settings import Settings

log = structlog.get_logger("citycert.anchors")


class AnchorDestination(Protocol):
    """An AnchorFolder or an AnchorBucket: synchronous I/O (run it in a thread from async code)."""

    def write(self, anchor: Anchor) -> str | Path:
        """Write a new anchor, never over an older one; where it went."""
        ...

    def latest(self, key: bytes) -> tuple[str | Path, Anchor] | None:
        """The newest anchor (its HMAC checked) and where it is, None when there is none yet."""
        ...


def anchor_destination(settings: Settings) -> AnchorDestination:
    """The bucket when CITYCERT_ANCHOR_S3_BUCKET is set (checked: StartupError if it has no Object
    Lock or cannot be reached), else the folder. Blocking: call it in a thread from async code."""
    if settings.anchor_s3_bucket:
        from runtime.anchor_bucket import AnchorBucket  # boto3 only when a bucket is set

        bucket = AnchorBucket.from_settings(settings)
        bucket.check()
        return bucket
    return AnchorFolder(settings.anchor_dir or settings.data_dir / "anchors")


async def anchor_now(store: EventStore, settings: Settings) -> tuple[str | Path, Anchor]:
    """Take an anchor of `store` and write it; where it went and the anchor."""
    destination = await asyncio.to_thread(anchor_destination, settings)
    anchor = await take_anchor(store, anchor_key(settings))
    return await asyncio.to_thread(destination.write, anchor), anchor


async def keep_anchoring(store: EventStore, settings: Settings) -> None:
    """Anchor now and then every settings.anchor_every, until cancelled. A failed anchor is logged
    and tried again at the next turn: the log itself is not at risk, only its evidence is late.
    (A bucket without Object Lock is refused before this starts: see anchor_destination.)"""
    while True:
        try:
            where, anchor = await anchor_now(store, settings)
            log.info("anchor.written", file=str(where), streams=len(anchor.heads))
        except (EventStoreError, OSError, StartupError) as e:
            log.warning("anchor.failed", error=str(e))
        await asyncio.sleep(settings.anchor_every.total_seconds())
