"""Where the event log's anchors live and the key that signs them: never in the database.

CITYCERT_ANCHOR_KEY and CITYCERT_ANCHOR_DIR in production (a folder only the anchoring job may
write, ideally on storage that refuses deletes); unset, a key file (runtime/keys.py) and the
folder data_dir/anchors serve a developer's machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from eventstore import Anchor, AnchorFolder, EventStore, EventStoreError, take_anchor
from runtime.keys import anchor_key
from runtime.settings import Settings

log = structlog.get_logger("citycert.anchors")


def anchor_folder(settings: Settings) -> AnchorFolder:
    return AnchorFolder(settings.anchor_dir or settings.data_dir / "anchors")


async def anchor_now(store: EventStore, settings: Settings) -> tuple[Path, Anchor]:
    """Take an anchor of `store` and write it; the file and the anchor."""
    anchor = await take_anchor(store, anchor_key(settings))
    return anchor_folder(settings).write(anchor), anchor


async def keep_anchoring(store: EventStore, settings: Settings) -> None:
    """Anchor now and then every settings.anchor_every, until cancelled. A failed anchor is logged
    and tried again at the next turn: the log itself is not at risk, only its evidence is late."""
    while True:
        try:
            path, anchor = await anchor_now(store, settings)
            log.info("anchor.written", file=str(path), streams=len(anchor.heads))
        except (EventStoreError, OSError) as e:
            log.warning("anchor.failed", error=str(e))
        await asyncio.sleep(settings.anchor_every.total_seconds())
