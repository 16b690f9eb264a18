"""verify: walk every stream and report what does not add up.

- a broken hash chain: a row whose hash is not sha256(previous row's hash || its own content), so
  the row (or the one before it) was edited or removed behind the store's back;
- a version gap: a stream whose versions do not run 1, 2, 3, ...;
- a projection row that differs from a fresh fold of the log (or exists without its events); a
  sampled table's row (a state snapshot) against the fold of its stream up to the row's version;
- given an anchor (eventstore/anchor.py), a stream that no longer holds the event the anchor
  recorded at its head: edited and re-chained, truncated, or deleted since.

Everything is read in one REPEATABLE READ snapshot, so appends running meanwhile cannot make the
projections look wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventstore.anchor import Anchor
from eventstore.errors import EventStoreError
from eventstore.hashing import GENESIS, canonical_json, chain_hash, event_body
from eventstore.projector import ProjectionTable, Projector, Row, StoreAccess
from eventstore.rebuild import project_stream
from eventstore.rows import iter_streams


@dataclass(frozen=True, slots=True)
class StreamProblem:
    stream_id: str
    version: int
    detail: str


@dataclass(frozen=True, slots=True)
class ProjectionMismatch:
    table: str
    key: tuple[Any, ...]
    detail: str  # which columns differ, or that the row is missing / unexpected


@dataclass(slots=True)
class VerifyReport:
    streams: int = 0
    events: int = 0
    broken_chains: list[StreamProblem] = field(default_factory=list)
    version_gaps: list[StreamProblem] = field(default_factory=list)
    unreadable: list[StreamProblem] = field(default_factory=list)
    projection_mismatches: list[ProjectionMismatch] = field(default_factory=list)
    anchor_taken_at: datetime | None = None  # the anchor checked against, if any
    anchor_problems: list[StreamProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.broken_chains
            or self.version_gaps
            or self.unreadable
            or self.projection_mismatches
            or self.anchor_problems
        )

    def lines(self) -> list[str]:
        out = [f"{self.streams} streams, {self.events} events: {'OK' if self.ok else 'PROBLEMS'}"]
        out += [f"broken chain: {p.stream_id} v{p.version}: {p.detail}" for p in self.broken_chains]
        out += [f"version gap: {p.stream_id} v{p.version}: {p.detail}" for p in self.version_gaps]
        out += [f"unreadable: {p.stream_id} v{p.version}: {p.detail}" for p in self.unreadable]
        out += [f"projection: {m.table} {m.key}: {m.detail}" for m in self.projection_mismatches]
        out += [f"against the anchor: {p.stream_id} v{p.version}: {p.detail}" for p in self.anchor_problems]
        return out


def row_body(row: Any) -> bytes:
    """What the hash chain covers of a stored row, recomputed from its columns."""
    return event_body(
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        version=row["version"],
        type=row["type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        actor_role=row["actor_role"],
        actor_id=row["actor_id"],
        workflow_id=row["workflow_id"],
        run_id=row["run_id"],
        data_json=canonical_json(json.loads(row["data"])),
    )


def check_stream(stream_id: str, rows: list[Any], report: VerifyReport) -> None:
    """Versions must run 1..n and each hash must chain from the stored hash of the row before."""
    expected_version = 1
    previous = GENESIS
    for row in rows:
        version = row["version"]
        if version != expected_version:
            report.version_gaps.append(
                StreamProblem(stream_id, version, f"expected v{expected_version}, found v{version}")
            )
        recomputed = chain_hash(previous, row_body(row), row["recorded_at"])
        if recomputed != row["hash"]:
            report.broken_chains.append(
                StreamProblem(
                    stream_id, version, f"hash does not match the content (position {row['position']})"
                )
            )
        # Chain on from the stored hash, so one edited row is reported once, at that row.
        previous = row["hash"]
        expected_version = version + 1


def _comparable(table: ProjectionTable, row: Row) -> Row:
    """A row with its JSON columns parsed (stored JSONB comes back with its own spacing and order),
    and read as the table's projector reads them (ProjectionTable.canonical)."""
    if not table.json_columns:
        return tuple(row)
    return tuple(
        _json_value(table, name, value) if name in table.json_columns else value
        for name, value in zip(table.columns, row, strict=True)
    )


def _json_value(table: ProjectionTable, name: str, value: Any) -> Any:
    parsed = json.loads(value) if isinstance(value, str) else value
    reading = table.canonical.get(name)
    return reading(parsed) if reading is not None else parsed


def _compare(report: VerifyReport, table: ProjectionTable, expected: list[Row], actual: list[Row]) -> None:
    key_len = table.key_length
    want = {row[:key_len]: row for row in expected}
    have = {row[:key_len]: row for row in actual}
    for key in sorted(want.keys() | have.keys(), key=repr):
        w, h = want.get(key), have.get(key)
        if h is None:
            report.projection_mismatches.append(ProjectionMismatch(table.name, key, "row missing"))
        elif w is None:
            report.projection_mismatches.append(
                ProjectionMismatch(table.name, key, "row not backed by the log")
            )
        elif w != h:
            differing = [c for c, a, b in zip(table.columns, w, h, strict=True) if a != b]
            report.projection_mismatches.append(
                ProjectionMismatch(table.name, key, f"differs in {', '.join(differing)}")
            )


def check_against_anchor(anchor: Anchor, hashes: dict[str, list[bytes]], report: VerifyReport) -> None:
    """Each anchored head must still be in its stream, with the hash the anchor recorded.
    `hashes` holds every stream's event hashes in version order."""
    report.anchor_taken_at = anchor.taken_at
    for head in anchor.heads:
        held = hashes.get(head.stream_id)
        if held is None:
            detail = "the stream is gone: it was deleted after the anchor recorded it"
        elif len(held) < head.version:
            detail = f"the stream ends at v{len(held)}: events recorded before the anchor were removed"
        elif held[head.version - 1] != head.hash:
            detail = "the event differs from the one anchored: history before the anchor was rewritten"
        else:
            continue
        report.anchor_problems.append(StreamProblem(head.stream_id, head.version, detail))


async def _sampled_versions(conn: Any, projector: Projector[Any]) -> dict[str, dict[Any, set[int]]]:
    """The versions stored of each sampled table, by the stream's key (its first column)."""
    out: dict[str, dict[Any, set[int]]] = {}
    for table in projector.tables:
        if table.sampled:
            by_key: dict[Any, set[int]] = {}
            key, version = table.columns[:2]
            for row in await conn.fetch(f"SELECT {key}, {version} FROM {table.name}"):
                by_key.setdefault(row[0], set()).add(row[1])
            out[table.name] = by_key
    return out


async def verify(
    store: StoreAccess, projector: Projector[Any] | None, anchor: Anchor | None = None
) -> VerifyReport:
    """Walk every stream: hash chains, version gaps, (with a projector) its tables against a fresh
    fold of the log, and (with an anchor) every anchored head still in place."""
    report = VerifyReport()
    hashes: dict[str, list[bytes]] = {}
    async with store.connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        folded: dict[str, list[Row]] = {table.name: [] for table in projector.tables} if projector else {}
        sampled = await _sampled_versions(conn, projector) if projector else {}
        async for stream_id, rows in iter_streams(conn):
            report.streams += 1
            report.events += len(rows)
            check_stream(stream_id, rows, report)
            if anchor is not None:
                hashes[stream_id] = [bytes(row["hash"]) for row in rows]
            if projector is None or not stream_id.startswith(projector.stream_prefix):
                continue
            try:
                out = project_stream(store, projector, stream_id, rows, sampled)
            except EventStoreError as e:
                report.unreadable.append(StreamProblem(stream_id, rows[-1]["version"], str(e)))
                continue
            for name, table_rows in out.items():
                folded[name].extend(table_rows)
        if anchor is not None:
            check_against_anchor(anchor, hashes, report)
        if projector is None:
            return report
        stored = {
            table.name: list(await conn.fetch(f"SELECT {', '.join(table.columns)} FROM {table.name}"))
            for table in projector.tables
        }
    for table in projector.tables:
        _compare(
            report,
            table,
            [_comparable(table, row) for row in folded[table.name]],
            [_comparable(table, tuple(row)) for row in stored[table.name]],
        )
    return report
