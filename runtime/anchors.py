"""Where the event log's anchors live and the key that signs them: never in the database.

CITYCERT_ANCHOR_KEY and CITYCERT_ANCHOR_DIR in production (a folder only the anchoring job may
write, ideally on storage that refuses deletes); unset, a key file created once under the data
directory (0600) and the folder data_dir/anchors serve a developer's machine.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import structlog

from eventstore import Anchor, AnchorFolder, EventStore, EventStoreError, take_anchor
from runtime.settings import Settings

log = structlog.get_logger("citycert.anchors")

KEY_FILENAME = "anchor-key"


def anchor_folder(settings: Settings) -> AnchorFolder:
    return AnchorFolder(settings.anchor_dir or settings.data_dir / "anchors")


def anchor_key(settings: Settings) -> bytes:
    """The HMAC key: the setting, else the data directory's key file (made now if missing)."""
    if settings.anchor_key is not None:
        return settings.anchor_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILENAME
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


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
