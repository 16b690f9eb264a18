"""Event store benchmark: append, global-log read and projection rebuild rates, next to a floor and
a peer, on one PostgreSQL server in one run.

    python -m bench.eventstore [--cities N] [--events K] [--writers 1,8] [--repeats R]

Workload: N cities, each with a realistic history of about K events made by the real decider
(register, snapshot, apply, evidence / assignment / review in bulk commands of 5 items, a
clarification, close, visit waived, decision, award, reminders, re-certification), appended one
command's events per transaction, as the workflows do. Every system writes the same events with the
same transaction boundaries into its own fresh database:

- ours:  EventStore.append: validation, stream lock, idempotency, optimistic concurrency, hash
         chain and the three projections, all in the append's transaction;
- true floor: the same rows into the events table itself (same columns, indexes and constraints)
         with ONE `INSERT ... SELECT FROM unnest(...)` per command, in autocommit (so the statement
         is the command's transaction, as ours is one call of eventstore_append), on one connection
         per writer (no pool, so no reset query on release): the cost of merely storing the rows
         with our transaction boundaries, and the floor issue 13's target is stated against;
- floor: the old floor, kept for comparison: plain single-row INSERTs, one explicit transaction
         per command, through an asyncpg pool (its default reset query on every release);
- peer:  the eventsourcing library's PostgresApplicationRecorder (psycopg, one thread per writer),
         which serialises writers with a table lock to keep its notification log gap-free.

CPU per event: this process (the client: every thread) and the embedded PostgreSQL (every process of
it, background workers included), read around each timed run (bench/cpu.py says how); with
CITYCERT_DATABASE_URL set the server is not ours to read and only the client's CPU is shown.

Targets (issue 13), at the top writer count: ours / true floor >= 0.7; ours <= 130 us of CPU per
event (client + server). The bench never fails on them: it prints "met" or "missed".

Supplementary: ours and the peer with one event per transaction, on a slice of the cities (the
peer is usually quoted that way; it is also the worst case for any store).

A warm-up pass runs first (a fresh server creates its WAL files as it goes, which slows whatever
runs first); then each (system, writers) pair runs --repeats times, the systems taking turns, and
the median is reported: the machine is shared, and single runs wander.

The last line printed is one JSON object with the figures. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from bench import results
from bench.cpu import Cpu, CpuMeter
from bench.postgres import BenchPostgres
from bench.worksheets import complete_approval, complete_evidence, earning_order, open_round
from domain import commands as c
from domain import events as ev
from domain.decider import DEFAULT_POLICY, decide
from domain.errors import DomainError
from domain.standard import get_standard
from domain.state import CityState, Phase, fold
from eventstore import Actor, Checkpoint, Correlation, EventStore, NewEvent
from readmodel import city_stream, open_city_store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CRITERIA = earning_order(len(get_standard("wwc-2022").criteria))
REVIEWER = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton"}
CHUNK = 5  # items per bulk command (evidence, assignment, review)
NO_CPU = Cpu(0.0, None)
RATIO_TARGET = 0.7  # ours / true floor at the top writer count (issue 13)
CPU_TARGET_US = 130.0  # ours, client + server CPU per event at the top writer count (issue 13)

Batch = list[NewEvent]
Workload = list[list[Batch]]  # per city, its batches in order


# --- workload ---------------------------------------------------------------------------------------


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _cycle(state: CityState, approve: int) -> list[tuple[c.Command, timedelta]]:
    """One certification cycle's commands, up to the committee (whose decision needs the state)."""
    ids = CRITERIA[:approve]
    clarify = ids[-1]
    out: list[tuple[c.Command, timedelta]] = []
    if state.phase is Phase.UNREGISTERED:
        city = state.city_id
        out.append((c.RegisterCity(city_id=city, name=city.title(), country="US", population=90_000), DAY))
        answers = {cid: ev.Answer.MET for cid in ids}
        out.append((c.TakeDataSnapshot(standard_version="wwc-2022", answers=answers), DAY))
    cohort = f"cohort-{state.cycles_started + 1}"
    window = c.ApplicationRound.model_validate(open_round(cohort))
    out.append((c.ApplyForCertification(cohort=cohort, standard_version="wwc-2022", round=window), DAY))
    for chunk in _chunks(ids):
        items = [c.EvidenceItem.model_validate(complete_evidence(cid)) for cid in chunk]
        out.append((c.SubmitEvidence(items=items), DAY))
    for chunk in _chunks(ids):
        out.append((c.AssignReviewer(**REVIEWER, criterion_ids=chunk), DAY))
    out.append((c.DeclareNoConflict(reviewer_id=REVIEWER["reviewer_id"]), DAY))
    for chunk in _chunks(ids):
        verdicts = [
            c.ReviewItem.model_validate(complete_approval(cid))
            if cid != clarify
            else c.ReviewItem(criterion_id=cid, decision=c.Verdict.REQUEST_CLARIFICATION, note="which year?")
            for cid in chunk
        ]
        out.append((c.ReviewEvidence(**REVIEWER, items=verdicts), DAY))
    answer = c.ClarificationAnswer(criterion_id=clarify, answer="2025")
    out.append((c.AnswerClarifications(items=[answer]), DAY))
    approval = c.ReviewItem.model_validate(complete_approval(clarify))
    out.append((c.ReviewEvidence(**REVIEWER, items=[approval]), DAY))
    out.append((c.CloseEvidenceSubmission(), DAY))
    out.append((c.WaiveSiteVisit(reason="virtual review"), DAY))
    return out


def city_history(index: int, events_wanted: int) -> list[Batch]:
    """One city's history as batches (one per command), at least `events_wanted` events long."""
    city_id = f"bench-{index:05d}"
    state = CityState.initial(city_id)
    now = T0 + timedelta(minutes=index)
    batches: list[Batch] = []
    total = 0
    actor = Actor("city", f"{city_id}-staff")
    correlation = Correlation(f"city-{city_id}", "run-1")
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, city_id)

    def run(command: c.Command, wait: timedelta) -> None:
        nonlocal state, now, total
        now += wait
        events = decide(state, command, now=now)
        batches.append(
            [
                NewEvent.from_domain(
                    e,
                    event_id=uuid.uuid5(namespace, str(total + i)),
                    occurred_at=now,
                    actor=actor,
                    correlation=correlation,
                )
                for i, e in enumerate(events)
            ]
        )
        total += len(events)
        state = fold(state, events)

    approve = 30
    while total < events_wanted:
        for command, wait in _cycle(state, approve):
            run(command, wait)
        if state.recommended_level in DEFAULT_POLICY.lead_signoff_levels:  # a second review first
            run(c.AssignLeadReviewer(reviewer_id="rev-lead", reviewer_home_city="riverton"), DAY)
            run(c.DeclareNoConflict(reviewer_id="rev-lead"), timedelta(0))
            run(c.SignOffReview(reviewer_id="rev-lead"), timedelta(0))
        run(c.DecideLevel(level=state.recommended_level, rationale="as recommended"), DAY)
        run(c.CloseAppealWindow(), 31 * DAY)
        cert = state.certification
        if cert is not None:
            for days in (180, 90):
                now = max(now, cert.valid_until - timedelta(days=days))
                with contextlib.suppress(DomainError):  # not due in this timeline
                    run(c.SendReminder(threshold_days=days), timedelta(0))
        approve = min(approve + 4, len(CRITERIA))  # aim higher next cycle
    # Keep whole commands: stop after the batch that reaches the wanted size.
    kept: list[Batch] = []
    count = 0
    for batch in batches:
        if count >= events_wanted:
            break
        kept.append(batch)
        count += len(batch)
    return kept


def stream_of(batches: list[Batch]) -> str:
    return city_stream(batches[0][0].data["city_id"])


def event_count(workload: Workload) -> int:
    return sum(len(batch) for batches in workload for batch in batches)


# --- systems under test ---------------------------------------------------------------------------


@dataclass
class Result:
    system: str
    writers: int
    events: int
    seconds: float
    cpu: Cpu = NO_CPU

    @property
    def eps(self) -> float:
        return self.events / self.seconds

    def cpu_us(self, part: str = "total") -> float | None:
        """CPU microseconds per event: "client", "server" or "total" (None: not measured)."""
        seconds = getattr(self.cpu, part)
        return None if seconds is None else 1e6 * seconds / self.events


Append = Callable[[int, int, Batch], Awaitable[None]]  # (writer, city, batch)


async def _drive(
    workload: Workload, writers: int, append: Append, server_pid: int | None
) -> tuple[float, Cpu]:
    """`writers` concurrent writers, each taking whole cities from a shared queue; the seconds and
    the CPU (client and server) they took."""
    cities: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(workload)):
        cities.put_nowait(i)

    async def writer(index: int) -> None:
        while not cities.empty():
            city = cities.get_nowait()
            for batch in workload[city]:
                await append(index, city, batch)

    with CpuMeter(server_pid) as meter:
        started = time.perf_counter()
        await asyncio.gather(*(writer(i) for i in range(writers)))
        seconds = time.perf_counter() - started
    return seconds, meter.used


async def bench_ours(
    dsn: str, workload: Workload, writers: int, server_pid: int | None = None
) -> tuple[Result, EventStore]:
    store = await open_city_store(dsn, min_size=writers, max_size=writers)
    await store.migrate()
    versions = [0] * len(workload)
    streams = [stream_of(batches) for batches in workload]

    async def append(writer: int, city: int, batch: Batch) -> None:
        result = await store.append(streams[city], versions[city], batch)
        versions[city] = result.version

    seconds, cpu = await _drive(workload, writers, append, server_pid)
    return Result("ours", writers, sum(versions), seconds, cpu), store


_FLOOR_INSERT = """
    INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,
                        actor_role, actor_id, workflow_id, run_id, data, hash)
    VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10, $11, $12)
"""


FloorRows = list[list[list[tuple[Any, ...]]]]  # per city, per batch, its rows


def floor_rows(workload: Workload) -> FloorRows:
    """The rows ours writes, as the floors write them: the hash is 32 bytes made of the event id
    (computing none is part of what a floor does not do)."""
    rows: FloorRows = []
    for batches in workload:
        stream, version, city_rows = stream_of(batches), 0, []
        for batch in batches:
            batch_rows = []
            for e in batch:
                version += 1
                corr = e.correlation
                batch_rows.append(
                    (
                        e.event_id,
                        stream,
                        version,
                        e.type,
                        1,
                        e.occurred_at,
                        e.actor.role,
                        e.actor.id,
                        corr.workflow_id if corr else None,
                        corr.run_id if corr else None,
                        json.dumps(e.data),
                        e.event_id.bytes * 2,  # 32 bytes, as a hash
                    )
                )
            city_rows.append(batch_rows)
        rows.append(city_rows)
    return rows


async def bench_floor(dsn: str, workload: Workload, writers: int, server_pid: int | None = None) -> Result:
    """The old floor: the same rows into the same (migrated) events table by plain single-row
    INSERTs in an explicit transaction, through a pool (with asyncpg's default reset on release)."""
    async with await open_city_store(dsn) as store:
        await store.migrate()
    rows = floor_rows(workload)
    next_batch = [0] * len(workload)
    async with asyncpg.create_pool(dsn, min_size=writers, max_size=writers) as pool:

        async def append(writer: int, city: int, batch: Batch) -> None:
            index = next_batch[city]
            next_batch[city] += 1
            async with pool.acquire() as conn, conn.transaction():
                for row in rows[city][index]:
                    await conn.execute(_FLOOR_INSERT, *row)

        seconds, cpu = await _drive(workload, writers, append, server_pid)
    return Result("floor", writers, event_count(workload), seconds, cpu)


# One statement per command, so in autocommit it is the command's transaction (as ours, one call of
# eventstore_append, is). The stream and the first version are scalars, as in ours.
_TRUE_FLOOR_INSERT = """
    INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,
                        actor_role, actor_id, workflow_id, run_id, data, hash)
    SELECT u.event_id, $1, $2 + u.n, u.type, u.schema_version, u.occurred_at, now(), u.actor_role,
           u.actor_id, u.workflow_id, u.run_id, u.data::jsonb, u.hash
      FROM unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[], $7::text[], $8::text[],
                  $9::text[], $10::text[], $11::text[], $12::bytea[])
           WITH ORDINALITY AS u(event_id, type, schema_version, occurred_at, actor_role, actor_id,
                                workflow_id, run_id, data, hash, n)
"""


async def bench_true_floor(
    dsn: str, workload: Workload, writers: int, server_pid: int | None = None
) -> Result:
    """The true floor: the same rows and transactions as ours, one unnest INSERT per command in
    autocommit, each writer on its own connection (no pool: no reset round trip on release)."""
    async with await open_city_store(dsn) as store:
        await store.migrate()
    prepared: list[list[tuple[Any, ...]]] = []  # per city, per batch: the statement's arguments
    for city_rows in floor_rows(workload):
        args = []
        for batch_rows in city_rows:
            columns = list(zip(*batch_rows, strict=True))
            # columns: event_id, stream, version, type, schema_version, occurred_at, role, id,
            # workflow_id, run_id, data, hash
            first = columns[2][0] - 1
            args.append((columns[1][0], first, columns[0], columns[3], *columns[4:]))
        prepared.append(args)
    next_batch = [0] * len(workload)
    connections = [await asyncpg.connect(dsn) for _ in range(writers)]
    try:
        for conn in connections:  # prepare once per connection, outside the timed part
            await conn.prepare(_TRUE_FLOOR_INSERT)

        async def append(writer: int, city: int, batch: Batch) -> None:
            index = next_batch[city]
            next_batch[city] += 1
            await connections[writer].execute(_TRUE_FLOOR_INSERT, *prepared[city][index])

        seconds, cpu = await _drive(workload, writers, append, server_pid)
    finally:
        for conn in connections:
            await conn.close()
    return Result("true_floor", writers, event_count(workload), seconds, cpu)


def _psycopg_address(dsn: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    return {
        "dbname": parts.path.lstrip("/"),
        "host": query.get("host", [parts.hostname or "localhost"])[0],
        "port": parts.port or int(query.get("port", ["5432"])[0]),
        "user": parts.username or "postgres",
        "password": parts.password or "",
    }


def bench_peer(dsn: str, workload: Workload, writers: int, server_pid: int | None = None) -> Result:
    """eventsourcing's PostgreSQL application recorder, one thread per writer."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    datastore = PostgresDatastore(**_psycopg_address(dsn), pool_size=writers)
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    stored: list[list[list[StoredEvent]]] = []
    for batches in workload:
        originator, version, city_events = uuid.uuid5(uuid.NAMESPACE_URL, stream_of(batches)), 0, []
        for batch in batches:
            batch_events = []
            for e in batch:
                version += 1
                batch_events.append(StoredEvent(originator, version, e.type, json.dumps(e.data).encode()))
            city_events.append(batch_events)
        stored.append(city_events)
    cities: queue.Queue[int] = queue.Queue()
    for i in range(len(stored)):
        cities.put(i)

    def writer() -> None:
        while True:
            try:
                city = cities.get_nowait()
            except queue.Empty:
                return
            for batch in stored[city]:
                recorder.insert_events(batch)

    with CpuMeter(server_pid) as meter:
        started = time.perf_counter()
        with ThreadPoolExecutor(writers) as threads:
            for future in [threads.submit(writer) for _ in range(writers)]:
                future.result()
        seconds = time.perf_counter() - started
    datastore.close()
    return Result("peer", writers, event_count(workload), seconds, meter.used)


# --- reads and rebuild ------------------------------------------------------------------------------


async def bench_read(store: EventStore, page: int) -> tuple[int, float]:
    """Read the whole global log from the start, page after page."""
    started = time.perf_counter()
    after, count = Checkpoint.START, 0
    while True:
        result = await store.read_all(after, page)
        count += len(result.events)
        if len(result.events) < page:
            return count, time.perf_counter() - started
        after = result.checkpoint


# --- driver -----------------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _line(result: Result, spread: list[float]) -> str:
    runs = ", ".join(f"{eps:,.0f}" for eps in spread)
    cpu = f"CPU {_us(result.cpu_us())} us/event (client {_us(result.cpu_us('client'))}, "
    cpu += f"server {_us(result.cpu_us('server'))})"
    return (
        f"  {result.system:<10} {result.writers} writer(s): {result.events:>6} events, "
        f"median {result.eps:>8,.0f} events/s, {cpu}  (runs: {runs})"
    )


def _paired_ratio(
    runs: dict[tuple[str, int], list[Result]], ours: tuple[str, int], other: tuple[str, int]
) -> float | None:
    if ours not in runs or other not in runs:
        return None
    return round(statistics.median(a.eps / b.eps for a, b in zip(runs[ours], runs[other], strict=True)), 2)


def _median(results: list[Result]) -> Result:
    """The median time, and the median CPU (client and server each) of the runs."""
    seconds = statistics.median(r.seconds for r in results)
    client = statistics.median(r.cpu.client for r in results)
    servers = [r.cpu.server for r in results if r.cpu.server is not None]
    server = statistics.median(servers) if len(servers) == len(results) else None
    return Result(results[0].system, results[0].writers, results[0].events, seconds, Cpu(client, server))


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = round(os.getloadavg()[0], 2)
    server = BenchPostgres()
    await asyncio.to_thread(server.start)
    pid = server.postmaster_pid()
    try:
        started = time.perf_counter()
        workload = [city_history(i, args.events) for i in range(args.cities)]
        total = event_count(workload)
        commands = sum(len(batches) for batches in workload)
        print(
            f"workload: {args.cities} cities x ~{args.events} events = {total} events in {commands} "
            f"commands ({total / commands:.1f} events per transaction), "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        writers = [int(w) for w in args.writers.split(",")]
        top = max(writers)

        warm = await server.database("bench_warmup")
        _, store = await bench_ours(warm, workload, top, pid)
        await store.close()
        await server.drop("bench_warmup")

        systems = ["ours", "true_floor", "floor"] + ([] if args.no_peer else ["peer"])
        runs: dict[tuple[str, int], list[Result]] = {}
        kept: EventStore | None = None  # the last 'ours' store at the top writer count: read it back
        for repeat in range(args.repeats):
            for w in writers:
                for system in systems:
                    name = f"bench_{system}_{w}_{repeat}"
                    dsn = await server.database(name)
                    if system == "ours":
                        result, store = await bench_ours(dsn, workload, w, pid)
                        if w == top:
                            if kept is not None:
                                await kept.close()
                            kept = store
                        else:
                            await store.close()
                    elif system == "true_floor":
                        result = await bench_true_floor(dsn, workload, w, pid)
                    elif system == "floor":
                        result = await bench_floor(dsn, workload, w, pid)
                    else:
                        result = await asyncio.to_thread(bench_peer, dsn, workload, w, pid)
                    runs.setdefault((system, w), []).append(result)
        # Supplementary: one event per transaction (how the peer is usually quoted, and the worst
        # case for any store), on a slice of the cities, at the top writer count.
        single = [[[e] for batch in batches for e in batch] for batches in workload[: args.single_cities]]
        single_systems = [] if args.single_cities == 0 else ["ours"] + ([] if args.no_peer else ["peer"])
        for repeat in range(args.repeats):
            for system in single_systems:
                dsn = await server.database(f"bench_single_{system}_{repeat}")
                if system == "ours":
                    result, store = await bench_ours(dsn, single, top, pid)
                    await store.close()
                else:
                    result = await asyncio.to_thread(bench_peer, dsn, single, top, pid)
                runs.setdefault((f"{system}_single", top), []).append(result)

        medians = {key: _median(results) for key, results in runs.items()}
        print(f"append, one command's events per transaction (median of {args.repeats}):")
        for w in writers:
            for system in systems:
                print(_line(medians[(system, w)], [r.eps for r in runs[(system, w)]]))
        for other in systems[1:]:
            ratios = [a.eps / b.eps for a, b in zip(runs[("ours", top)], runs[(other, top)], strict=True)]
            print(
                f"  ours / {other} at {top} writers, round by round: {', '.join(f'{r:.2f}' for r in ratios)}"
            )
        ratio_true = _paired_ratio(runs, ("ours", top), ("true_floor", top))
        ours_cpu = medians[("ours", top)].cpu_us()
        assert ratio_true is not None
        print(
            f"  target: ours / true floor at {top} writers >= {RATIO_TARGET}: {ratio_true:.2f}, "
            f"{_met(ratio_true >= RATIO_TARGET)}"
        )
        if ours_cpu is None:
            print("  target: CPU per event: not measured (the server is not one this bench started)")
        else:
            print(
                f"  target: ours <= {CPU_TARGET_US:.0f} us of CPU per event at {top} writers: "
                f"{ours_cpu:.0f}, {_met(ours_cpu <= CPU_TARGET_US)}"
            )
        if single_systems:
            print(f"append, one event per transaction ({args.single_cities} cities):")
            for system in single_systems:
                key = (f"{system}_single", top)
                print(_line(medians[key], [r.eps for r in runs[key]]))

        assert kept is not None
        reads = [await bench_read(kept, args.page) for _ in range(args.repeats)]
        read_eps = statistics.median(count / seconds for count, seconds in reads)
        print(f"read global log: {reads[0][0]} events, median {read_eps:,.0f} events/s (page {args.page})")
        rebuilds = [await kept.rebuild_projections() for _ in range(args.repeats)]
        rebuild_eps = statistics.median(r.events_per_second for r in rebuilds)
        print(
            f"rebuild projections: {rebuilds[0].events} events in {rebuilds[0].streams} streams, "
            f"median {rebuild_eps:,.0f} events/s"
        )
        started = time.perf_counter()
        verified = await kept.verify()
        verify_seconds = time.perf_counter() - started
        print(f"verify: {verified.events} events in {verify_seconds:.2f} s, ok={verified.ok}")
        await kept.close()

        figures: dict[str, Any] = {
            # Other processes on the machine skew every figure: say how busy it was.
            "load_avg_start": load_start,
            "load_avg_end": round(os.getloadavg()[0], 2),
            "events": total,
            "events_per_transaction": round(total / commands, 2),
            "repeats": args.repeats,
        }
        for (system, w), result in sorted(medians.items()):
            name = system.replace("ours", "append")
            figures[f"{name}_eps_{w}"] = round(result.eps)
            for part in ("total", "client", "server"):
                value = result.cpu_us(part)
                suffix = "" if part == "total" else f"_{part}"
                figures[f"{name}_cpu_us{suffix}_{w}"] = None if value is None else round(value, 1)
        # Ratios: the median of each round's ratio. A round runs the systems back to back, so they
        # share the machine's mood of the moment; that is steadier than a ratio of medians.
        figures[f"ratio_true_floor_{top}"] = ratio_true
        figures[f"ratio_floor_{top}"] = _paired_ratio(runs, ("ours", top), ("floor", top))
        figures[f"ratio_peer_{top}"] = _paired_ratio(runs, ("ours", top), ("peer", top))
        figures[f"ratio_peer_single_{top}"] = _paired_ratio(runs, ("ours_single", top), ("peer_single", top))
        figures["read_eps"] = round(read_eps)
        figures["rebuild_eps"] = round(rebuild_eps)
        figures["verify_eps"] = round(verified.events / verify_seconds)
        figures["verify_ok"] = verified.ok
        figures["ratio_target_met"] = ratio_true >= RATIO_TARGET
        figures["cpu_target_met"] = None if ours_cpu is None else ours_cpu <= CPU_TARGET_US
        return figures
    finally:
        await server.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.eventstore", description=summary)
    parser.add_argument("--cities", type=int, default=200, help="streams (cities); default 200")
    parser.add_argument("--events", type=int, default=100, help="events per city, about; default 100")
    parser.add_argument("--writers", default="1,8", help="concurrent writer counts; default 1,8")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median); default 3")
    parser.add_argument("--page", type=int, default=1000, help="global-log page size; default 1000")
    parser.add_argument("--no-peer", action="store_true", help="skip the eventsourcing peer")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    parser.add_argument(
        "--single-cities",
        type=int,
        default=20,
        help="cities for the supplementary one-event-per-transaction run (0: skip); default 20",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    figures = asyncio.run(run(args))
    if not args.no_record:
        path = results.record("eventstore", vars(args) | figures)
        print(f"(appended to {path.relative_to(results.RESULTS.parent.parent)})")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
