"""The per-stream hash chain: hash_n = sha256(hash_{n-1} || body_n || recorded_at_n).

body_n is the canonical JSON of event n's envelope and data (computed here, before the append);
recorded_at comes from the database clock inside the append, which finishes the hash there.

`verify` recomputes the chain from the stored rows, so the canonical form must come out the same
before the data goes into JSONB and after it comes back. JSONB keeps numbers exactly but gives a
float such as 1e20 back as an integer (and -0.0 as 0), so integral floats are canonicalised as
integers on both sides.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

GENESIS = bytes(32)  # the "previous hash" of a stream's first event
_FORMAT = "citycert-event-v1"  # bump if the canonical form ever changes; verify can dispatch on it


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


# json.dumps with these options builds a JSONEncoder on every call (about a microsecond, for each
# event appended); one encoder made once writes the same text.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_text(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: the text the store writes (JSONB keeps the values, not
    the text, so this is for the hash and for comparisons)."""
    return _ENCODER.encode(value)


# An integral float prints as "80.0", "-0.0" or "1e+16"; JSONB gives the last two back as 0 and an
# integer. Seeing neither pattern in the text means there is nothing to normalise.
_INTEGRAL_FLOAT = re.compile(r"\.0(?![0-9])|e\+")


def canonical_json(value: Any, text: str | None = None) -> str:
    """The canonical form that survives a JSONB round trip: json_text with integral floats written
    as integers. Pass `text` if json_text(value) is already at hand."""
    text = json_text(value) if text is None else text
    # Most texts hold neither ".0" nor "e+" at all: two substring searches (memchr fast) rule the
    # pattern out for a tenth of the regex's cost, which runs only when one of them is there.
    if (".0" in text or "e+" in text) and _INTEGRAL_FLOAT.search(text):
        return json_text(_normalise(value))
    return text


def timestamp_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_body(
    *,
    event_id: UUID,
    stream_id: str,
    version: int,
    type: str,
    schema_version: int,
    occurred_at: datetime,
    actor_role: str,
    actor_id: str,
    workflow_id: str | None,
    run_id: str | None,
    data_json: str,
) -> bytes:
    """Everything hashed about an event except recorded_at, which only the database knows when it
    writes the row (eventstore_append appends it to the body, in timestamp_text's format).

    The body is the canonical JSON array of the envelope's fields and the data: `data_json` is
    canonical_json(data), spliced in as its last element, so the data (the bulk of the bytes) is
    encoded once and that same text is what the store writes. The envelope's few fields are
    written out here as json.dumps writes them (strings through its own escaping, ensure_ascii
    off; integers as int's repr; None as null), without building and encoding a list per event:
    byte for byte the canonical_json of the list (tests/unit/eventstore/test_hashing.py)."""
    return (
        f'["{_FORMAT}",{_string(str(event_id))},{_string(stream_id)},{int.__repr__(version)},'
        f"{_string(type)},{int.__repr__(schema_version)},{_string(timestamp_text(occurred_at))},"
        f"{_string(actor_role)},{_string(actor_id)},{_nullable(workflow_id)},{_nullable(run_id)},"
        f"{data_json}]"
    ).encode()


_string = json.encoder.encode_basestring  # json.dumps' own escaping of a str, ensure_ascii off


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


def chain_hash(previous: bytes, body: bytes, recorded_at: datetime) -> bytes:
    """sha256(previous hash || body || recorded_at as text): what eventstore_append computes."""
    return hashlib.sha256(previous + body + timestamp_text(recorded_at).encode()).digest()
