"""Anchors: signed records of every stream's head, kept outside the database.

A hash chain alone proves only that a stream is consistent with itself: whoever can write the
events table can edit an event and re-chain everything after it, or drop a stream's last events,
or a whole stream, and `verify` would find nothing wrong. An anchor is the list of every stream's
(version, hash) at one moment, with an HMAC-SHA256 over it made with a key the database never
holds, written to files (a folder under the data directory by default). `verify` against the
latest anchor then catches an edited, re-chained, truncated or deleted stream: the event at each
anchored version must still be there, with the hash the anchor recorded. A forged anchor does not
carry a valid HMAC. What happened after the latest anchor is covered by the next one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventstore.projector import StoreAccess

_FORMAT = "citycert-anchor-1"
_HEADS = """
SELECT DISTINCT ON (stream_id) stream_id, version, hash
  FROM events ORDER BY stream_id, version DESC
"""


class AnchorError(ValueError):
    """An anchor file that cannot be trusted: unreadable, or its HMAC does not match the key."""


@dataclass(frozen=True, slots=True)
class StreamHead:
    stream_id: str
    version: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class Anchor:
    taken_at: datetime
    heads: tuple[StreamHead, ...]  # by stream id
    mac: bytes

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": _FORMAT,
                "taken_at": self.taken_at.isoformat(),
                "heads": [[h.stream_id, h.version, h.hash.hex()] for h in self.heads],
                "hmac_sha256": self.mac.hex(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, key: bytes) -> Anchor:
        """The anchor in `text`; AnchorError if it is malformed or was not signed with `key`."""
        try:
            raw: Any = json.loads(text)
            if raw["format"] != _FORMAT:
                raise AnchorError(f"not an anchor of format {_FORMAT}: {raw['format']!r}")
            taken_at = datetime.fromisoformat(raw["taken_at"])
            heads = tuple(StreamHead(s, int(v), bytes.fromhex(h)) for s, v, h in raw["heads"])
            mac = bytes.fromhex(raw["hmac_sha256"])
        except (KeyError, TypeError, ValueError) as e:
            raise AnchorError(f"unreadable anchor: {e}") from e
        if not hmac.compare_digest(mac, _mac(key, taken_at, heads)):
            raise AnchorError("its HMAC does not match the anchor key: the file was changed, or forged")
        return cls(taken_at, heads, mac)


def _mac(key: bytes, taken_at: datetime, heads: tuple[StreamHead, ...]) -> bytes:
    body = json.dumps(
        [_FORMAT, taken_at.isoformat(), [[h.stream_id, h.version, h.hash.hex()] for h in heads]],
        separators=(",", ":"),
    )
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


async def take_anchor(store: StoreAccess, key: bytes) -> Anchor:
    """Every stream's head now, signed with `key`."""
    async with store.connection() as conn:
        rows = await conn.fetch(_HEADS)
    taken_at = datetime.now(UTC)
    heads = tuple(StreamHead(r["stream_id"], r["version"], bytes(r["hash"])) for r in rows)
    return Anchor(taken_at, heads, _mac(key, taken_at, heads))


class AnchorFolder:
    """Anchors as files in a folder, one per moment, never overwritten (readable by the owner only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, anchor: Anchor) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"anchor-{anchor.taken_at.strftime('%Y%m%dT%H%M%S.%fZ')}.json"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(anchor.to_json())
            f.flush()
            os.fsync(f.fileno())
        return target

    def files(self) -> list[Path]:
        """The anchor files, oldest first (their names sort by the moment they were taken)."""
        return sorted(self.path.glob("anchor-*.json"))

    def latest(self, key: bytes) -> tuple[Path, Anchor] | None:
        """The newest anchor and its file, or None when there is none yet; AnchorError (naming the
        file) when the newest one cannot be trusted: an attacker must not get to pick an older one."""
        files = self.files()
        if not files:
            return None
        newest = files[-1]
        try:
            return newest, Anchor.from_json(newest.read_text(), key)
        except AnchorError as e:
            raise AnchorError(f"{newest}: {e}") from None
