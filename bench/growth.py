"""Growth benchmark: how each cost grows with the work, on one PostgreSQL (and Temporal) server.

    python -m bench.growth [--cities 1000,10000,100000] [--open 1000,10000] [--quick]

The store grows in stages (--cities; about 9.4 events a city, so 10^3, 10^4 and 10^5 cities make a
store of about 10^4, 10^5 and 10^6 events). At each stage, with the store that size:

- append p50: --probes new cities, each a RegisterCity append then an ApplyForCertification append
  onto it, one writer, one at a time (the probes stay in the store);
- page-read p50: read_all pages of --page events after --pages checkpoints drawn at random from the
  whole log;
- verify and projections rebuild: the whole store, once each (events per second, and the seconds);
- the read queries (readmodel/queries.py), --repeats times each: the first and the
  last page of the city list (100 a page, as the API's default; the last page twice, reached by
  OFFSET and by key, `after` the id before it, as the API's `?after=`), the whole city list (the CLI's),
  the decisions of round cohort-0 (what its announcement reads), the certified cities in the city
  list, every public certificate (what the public directory and the open data read, their cache
  aside), the review queue and a reviewer's queue (50), the certifications expiring within 180 days.

How the data is made: every city's events come from the real decider (RegisterCity,
ApplyForCertification to cohort-<i mod 10>, SubmitEvidence of 5 items; every 20th city the whole
cycle of bench/lifecycle.py, 23 criteria, through the award: 54 events) and are written through the
store's own append, one append per city (its whole history in one batch), --seed-writers at a time:
valid, hash-chained rows with their projections, made as fast as the store takes them.

Then, unless --open is empty: the Temporal dev server and a worker for ours with
max_cached_workflows=--max-cached (small, to force eviction). City workflows are opened
(RegisterCity and ApplyForCertification Updates) in stages of --open; at each stage the worker's RSS,
and the round trip of a SubmitEvidence command to --probes cities opened first (long evicted: the
worker replays their history) next to the same command to the cities opened last (cached).

Each curve is classified by the slope of log(cost) over log(size): flat (< 0.25), sublinear,
linear (0.75-1.25) or worse. Printed as a table, drawn in bench/results/growth.png (matplotlib),
appended to bench/results/growth.csv, and the last line is one JSON object. Nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import results
from bench.lifecycle import (
    Driver,
    Plan,
    WorkerProcess,
    cycle_plan,
    our_system,
    signed_request,
    start_temporal,
)
from bench.postgres import BenchPostgres
from bench.worksheets import open_round
from domain import CityState, ProgrammePolicy, decide, fold
from domain.deadlines import due_timer_commands
from domain.state import Phase
from eventstore import Actor, Checkpoint, Correlation, EventStore, NewEvent
from readmodel import city_stream, open_city_store
from readmodel import queries as q
from workflows.city import COMMANDS

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FULL_EVERY = 20  # every 20th city runs the whole cycle (a decision, an award)
COHORTS = 10
PARTIAL_ITEMS = 5
POLICY = ProgrammePolicy()
CHART = results.RESULTS / "growth.png"
CHART_LIMIT = 200 * 1024  # commit the chart only below this size


# --- the data -----------------------------------------------------------------------------------------


def _plan() -> Plan:
    return cycle_plan(23, POLICY.appeal_window)


def city_events(plan: Plan, index: int, prefix: str = "g") -> tuple[str, list[NewEvent]]:
    """City `index`'s history from the decider: a partial one (register, apply, 5 items of
    evidence), or every FULL_EVERY-th city a whole cycle through the award."""
    city_id = f"{prefix}-{index:07d}"
    full = index % FULL_EVERY == 0
    steps = plan.steps if full else plan.steps[:3]
    state = CityState.initial(city_id)
    now = T0 + timedelta(seconds=index)
    out: list[NewEvent] = []
    correlation = Correlation(f"city-{city_id}", "run-1")

    def record(command: Any, actor: tuple[str, str]) -> None:
        nonlocal state
        events = decide(state, command, now=now, policy=POLICY)
        state = fold(state, events)
        who = Actor(actor[0], actor[1])
        out.extend(
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=now, actor=who, correlation=correlation
            )
            for e in events
        )

    for step in steps:
        payload = step.for_city(city_id)
        if step.name == "ApplyForCertification":
            cohort = f"cohort-{index % COHORTS}"
            payload = {**payload, "cohort": cohort, "round": open_round(cohort)}
        elif step.name == "SubmitEvidence" and not full:
            payload = {"items": payload["items"][:PARTIAL_ITEMS]}
        record(COMMANDS[step.name].model_validate(payload), step.actor)
        now += timedelta(hours=1)
    if full:
        now += POLICY.appeal_window
        for command in due_timer_commands(state, now):
            record(command, ("system", "timer"))
        assert state.phase is Phase.CERTIFIED, state.phase
    return city_id, out


async def seed(store: EventStore, plan: Plan, start: int, stop: int, writers: int) -> tuple[int, float]:
    """Cities start..stop-1 through the store's append, one append per city; (events, seconds)."""
    cities = iter(range(start, stop))
    events = 0

    async def writer() -> None:
        nonlocal events
        for index in cities:
            city_id, batch = city_events(plan, index)
            await store.append(city_stream(city_id), 0, batch)
            events += len(batch)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return events, time.perf_counter() - started


# --- measurements -----------------------------------------------------------------------------------


def p50_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


async def timed(call: Callable[[], Awaitable[Any]], repeats: int) -> float:
    """The p50 in ms of `repeats` calls."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return p50_ms(samples)


async def append_p50(store: EventStore, plan: Plan, stage: int, probes: int) -> float:
    samples = []
    for i in range(probes):
        city_id, events = city_events(plan, i * FULL_EVERY + 1, prefix=f"probe{stage}")  # partial
        register, apply = events[:1], events[1:2]
        stream = city_stream(city_id)
        for version, batch in ((0, register), (1, apply)):
            started = time.perf_counter()
            await store.append(stream, version, batch)
            samples.append(time.perf_counter() - started)
    return p50_ms(samples)


async def page_read_p50(store: EventStore, pages: int, page: int) -> float:
    async with store.connection() as conn:
        rows = await conn.fetch(
            "SELECT transaction_id::text::bigint AS t, position FROM events ORDER BY random() LIMIT $1", pages
        )
    samples = []
    for row in rows:
        after = Checkpoint(row["t"], row["position"])
        started = time.perf_counter()
        await store.read_all(after, page)
        samples.append(time.perf_counter() - started)
    return p50_ms(samples)


async def query_p50s(store: EventStore, cities: int, repeats: int) -> dict[str, float]:
    from app.directory import load_public_certificates, outside

    now = T0 + timedelta(days=365 * 3)
    before_last = await q.list_cities(store, limit=1, offset=max(0, cities - 101))
    last_page_after = before_last[0].city_id if before_last else None
    queries: dict[str, Callable[[], Awaitable[Any]]] = {
        "city_list_first_page": lambda: q.list_cities(store, limit=100),
        "city_list_last_page": lambda: q.list_cities(store, limit=100, offset=max(0, cities - 100)),
        # The same page read by its key (the API's `after`): the last page's id before it.
        "city_list_last_page_after": lambda: q.list_cities(store, limit=100, after=last_page_after),
        "city_list_all": lambda: q.list_cities(store),
        "round_decisions": lambda: q.round_decisions(store, ["cohort-0"]),
        "directory_certified": lambda: q.list_cities(store, phase=Phase.CERTIFIED),
        "review_queue": lambda: q.review_queue(store, limit=50),
        "reviewer_queue": lambda: q.reviewer_queue(store, "rev-ana", "riverton", limit=50),
        "expiring_180d": lambda: q.expiring_certifications(store, now, 180),
        # What the public directory and the open data read (their cache aside): every certificate.
        "public_certificates": lambda: load_public_certificates(store, now=now, visible=outside(frozenset())),
    }
    return {name: await timed(call, repeats) for name, call in queries.items()}


@dataclass
class StoreStage:
    cities: int
    events: int
    seed_seconds: float
    append_p50_ms: float
    page_read_p50_ms: float
    verify_seconds: float
    verify_eps: float
    verify_ok: bool
    rebuild_seconds: float
    rebuild_eps: float
    queries: dict[str, float] = field(default_factory=dict)


async def store_stages(args: argparse.Namespace, postgres: BenchPostgres, plan: Plan) -> list[StoreStage]:
    dsn = await postgres.database("bench_growth")
    store = await open_city_store(dsn, min_size=args.seed_writers, max_size=args.seed_writers)
    stages: list[StoreStage] = []
    try:
        await store.migrate()
        seeded, seed_seconds = 0, 0.0
        for stage, target in enumerate(args.cities):
            events, seconds = await seed(store, plan, seeded, target, args.seed_writers)
            seed_seconds += seconds
            seeded = target
            print(f"  seeded {target:,} cities ({events:,} events more) in {seconds:.1f} s", flush=True)
            appended = await append_p50(store, plan, stage, args.probes)
            async with store.connection() as conn:
                total_events = await conn.fetchval("SELECT count(*) FROM events")
                total_cities = await conn.fetchval("SELECT count(*) FROM city_status")
            pages = await page_read_p50(store, args.pages, args.page)
            queries = await query_p50s(store, total_cities, args.repeats)
            started = time.perf_counter()
            rebuilt = await store.rebuild_projections()
            rebuild_seconds = time.perf_counter() - started
            started = time.perf_counter()
            verified = await store.verify()
            verify_seconds = time.perf_counter() - started
            stages.append(
                StoreStage(
                    cities=total_cities,
                    events=total_events,
                    seed_seconds=seed_seconds,
                    append_p50_ms=appended,
                    page_read_p50_ms=pages,
                    verify_seconds=verify_seconds,
                    verify_eps=verified.events / verify_seconds,
                    verify_ok=verified.ok,
                    rebuild_seconds=rebuild_seconds,
                    rebuild_eps=rebuilt.events / rebuild_seconds,
                    queries=queries,
                )
            )
            print(
                f"  {total_cities:,} cities, {total_events:,} events: append p50 {appended:.2f} ms, page "
                f"p50 {pages:.1f} ms, rebuild {rebuild_seconds:.1f} s, verify {verify_seconds:.1f} s "
                f"(ok={verified.ok})",
                flush=True,
            )
    finally:
        await store.close()
    await postgres.drop("bench_growth")
    return stages


@dataclass
class WorkflowStage:
    open: int
    rss_mib: float
    evicted_p50_ms: float
    cached_p50_ms: float


async def workflow_stages(
    args: argparse.Namespace, postgres: BenchPostgres, plan: Plan, folder: Path
) -> list[WorkflowStage]:
    from runtime.settings import Settings
    from runtime.temporal import connect

    dsn = await postgres.database("bench_growth_open")
    store = await open_city_store(dsn)
    try:
        await store.migrate()
    finally:
        await store.close()
    stages: list[WorkflowStage] = []
    async with AsyncExitStack() as stack:
        temporal = await start_temporal(folder)
        stack.push_async_callback(asyncio.to_thread, temporal.stop)
        client = await connect(Settings(temporal_address=temporal.address))
        system = our_system(plan, POLICY.appeal_window)
        queue = f"bench-growth-{uuid.uuid4().hex[:8]}"
        worker = WorkerProcess(
            "ours",
            address=temporal.address,
            dsn=dsn,
            task_queue=queue,
            folder=folder,
            log_level="WARNING",
            max_cached_workflows=args.max_cached,
        )
        await worker.start()
        stack.push_async_callback(worker.stop)
        driver = Driver(client, system, plan.steps[:2], queue, args.concurrency)
        opened = 0
        submit = plan.steps[2]
        for stage, target in enumerate(args.open):
            started = time.perf_counter()
            await driver.run([f"open-{i:06d}" for i in range(opened, target)], driver.commands)
            seconds = time.perf_counter() - started
            print(
                f"  opened {target:,} city workflows ({(target - opened) * 2 / seconds:.0f} Updates/s)",
                flush=True,
            )
            opened = target
            await asyncio.sleep(1.0)
            worker.check()
            rss = worker.memory().rss_mib
            # Probes: a different slice of the first-opened (evicted) and last-opened (cached) each stage.
            first = range(stage * args.probes, (stage + 1) * args.probes)
            last = range(target - (stage + 1) * args.probes, target - stage * args.probes)

            async def command(index: int) -> float:
                city = f"open-{index:06d}"
                handle = client.get_workflow_handle(system.workflow_id(city))
                started = time.perf_counter()
                await handle.execute_update("give", signed_request(submit, city))
                return time.perf_counter() - started

            cached = [await command(i) for i in last]  # first: the evicted probes will push them out
            evicted = [await command(i) for i in first]
            stages.append(WorkflowStage(target, rss, p50_ms(evicted), p50_ms(cached)))
            print(
                f"  {target:,} open: worker RSS {rss:.0f} MiB; SubmitEvidence p50 to an evicted city "
                f"{p50_ms(evicted):.1f} ms, to a cached one {p50_ms(cached):.1f} ms",
                flush=True,
            )
    return stages


# --- report -------------------------------------------------------------------------------------------


@dataclass
class Curve:
    name: str
    unit: str
    size_label: str
    sizes: list[float]
    values: list[float]

    @property
    def shape(self) -> str:
        return results.classify(self.sizes, self.values)


def curves(store: list[StoreStage], flows: list[WorkflowStage]) -> list[Curve]:
    out: list[Curve] = []
    if store:
        events = [float(s.events) for s in store]
        cities = [float(s.cities) for s in store]
        out += [
            Curve("append p50", "ms", "events", events, [s.append_p50_ms for s in store]),
            Curve("page read p50", "ms", "events", events, [s.page_read_p50_ms for s in store]),
            Curve("verify", "s", "events", events, [s.verify_seconds for s in store]),
            Curve("projections rebuild", "s", "events", events, [s.rebuild_seconds for s in store]),
        ]
        for name in store[0].queries:
            out.append(Curve(name, "ms", "cities", cities, [s.queries[name] for s in store]))
    if flows:
        opened = [float(f.open) for f in flows]
        out += [
            Curve("worker RSS", "MiB", "open workflows", opened, [f.rss_mib for f in flows]),
            Curve(
                "command, evicted city p50",
                "ms",
                "open workflows",
                opened,
                [f.evicted_p50_ms for f in flows],
            ),
            Curve(
                "command, cached city p50",
                "ms",
                "open workflows",
                opened,
                [f.cached_p50_ms for f in flows],
            ),
        ]
    return out


def _size(value: float) -> str:
    return f"{value:,.0f}"


def table(rows: list[Curve]) -> str:
    lines = []
    for curve in rows:
        points = ", ".join(f"{_size(x)}: {y:,.2f}" for x, y in zip(curve.sizes, curve.values, strict=True))
        exponent = results.growth_exponent(curve.sizes, curve.values)
        slope = "" if exponent is None else f" (slope {exponent:.2f})"
        lines.append(
            f"  {curve.name:<26} {curve.unit:>3} by {curve.size_label:<15} {points}  -> {curve.shape}{slope}"
        )
    return "\n".join(lines)


def chart(rows: list[Curve], path: Path) -> int:
    """The curves on log-log axes, one panel per kind of size; the PNG's size in bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[Curve]] = {}
    for curve in rows:
        groups.setdefault(f"{curve.unit} by {curve.size_label}", []).append(curve)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.6), squeeze=False)
    for ax, (title, members) in zip(axes[0], groups.items(), strict=True):
        for curve in members:
            ax.plot(curve.sizes, curve.values, marker="o", label=f"{curve.name} ({curve.shape})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.stat().st_size


def figures_of(store: list[StoreStage], flows: list[WorkflowStage], rows: list[Curve]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for s in store:
        key = f"{s.cities}c"
        figures[f"events_{key}"] = s.events
        figures[f"append_p50_ms_{key}"] = round(s.append_p50_ms, 2)
        figures[f"page_read_p50_ms_{key}"] = round(s.page_read_p50_ms, 2)
        figures[f"verify_eps_{key}"] = round(s.verify_eps)
        figures[f"verify_ok_{key}"] = s.verify_ok
        figures[f"rebuild_eps_{key}"] = round(s.rebuild_eps)
        for name, value in s.queries.items():
            figures[f"{name}_p50_ms_{key}"] = round(value, 2)
    for f in flows:
        figures[f"worker_rss_mib_{f.open}open"] = round(f.rss_mib, 1)
        figures[f"evicted_command_p50_ms_{f.open}open"] = round(f.evicted_p50_ms, 1)
        figures[f"cached_command_p50_ms_{f.open}open"] = round(f.cached_p50_ms, 1)
    figures["shapes"] = {curve.name: curve.shape for curve in rows}
    return figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from runtime.logging import configure_logging

    configure_logging("WARNING")
    folder = Path(tempfile.mkdtemp(prefix="citycert-growth-"))
    plan = _plan()
    load = os.getloadavg()[0]
    print(
        f"growth: the store at {', '.join(_size(c) for c in args.cities)} cities; "
        f"{', '.join(_size(o) for o in args.open) or 'no'} open workflows (max_cached_workflows="
        f"{args.max_cached}); {os.cpu_count()} CPUs, load average {load:.1f}\n"
        "  data: the real decider's events (register, apply, 5 items of evidence; every 20th city a "
        "whole cycle through the award),\n"
        f"  written by the store's own append, one append per city, {args.seed_writers} writers",
        flush=True,
    )
    postgres = BenchPostgres(folder)
    try:
        await asyncio.to_thread(postgres.start)
        store = await store_stages(args, postgres, plan) if args.cities else []
        flows = await workflow_stages(args, postgres, plan, folder) if args.open else []
    except BaseException:
        print(f"growth bench failed; the logs are in {folder}", file=sys.stderr)
        await postgres.stop()
        raise
    await postgres.stop()
    shutil.rmtree(folder, ignore_errors=True)
    rows = curves(store, flows)
    print("cost by size (slope of log cost over log size: flat < 0.25, linear 0.75-1.25):")
    print(table(rows))
    figures = figures_of(store, flows, rows)
    if store:
        seeded = store[-1]
        figures["seed_eps"] = round(seeded.events / seeded.seed_seconds)
        print(
            f"  seeding: {seeded.events:,} events in {seeded.seed_seconds:.0f} s through the store's append"
        )
    figures["seed"] = "decider events via EventStore.append, one append per city"
    figures["load_before"] = round(load, 2)
    figures["load_after"] = round(os.getloadavg()[0], 2)
    if not args.no_chart and rows:
        size = chart(rows, args.chart)
        small = "small enough to commit" if size < CHART_LIMIT else "too big to commit"
        print(f"  chart: {args.chart} ({size / 1024:.0f} KB, {small})")
    return figures


def _sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.growth", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--cities", type=_sizes, default="1000,10000,100000", help="store stages, in cities")
    parser.add_argument(
        "--open", type=_sizes, default="1000,10000", help="open workflow stages ('' skips); 1000,10000"
    )
    parser.add_argument("--max-cached", type=int, default=50, help="the worker's max_cached_workflows; 50")
    parser.add_argument("--concurrency", type=int, default=32, help="cities opened at once; default 32")
    parser.add_argument("--probes", type=int, default=20, help="appends / commands timed per stage; 20")
    parser.add_argument("--pages", type=int, default=20, help="log pages read per stage; default 20")
    parser.add_argument("--page", type=int, default=1000, help="events per page; default 1000")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each read query; default 5")
    parser.add_argument("--seed-writers", type=int, default=4, help="concurrent appends seeding; 4")
    parser.add_argument("--chart", type=Path, default=CHART, help=f"the PNG; default {CHART}")
    parser.add_argument("--no-chart", action="store_true", help="draw no chart")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 200,1000 cities, 100,300 open, 5 probes"
    )
    if parser.parse_args(argv).quick:  # smaller defaults; flags given still win
        parser.set_defaults(cities="200,1000", open="100,300", probes=5, pages=5, repeats=3, max_cached=20)
    args = parser.parse_args(argv)
    if args.probes >= args.max_cached:
        parser.error("--probes must be below --max-cached: the cached probes must fit in the cache")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    figures = asyncio.run(run(args))
    if not args.no_record:
        path = results.record("growth", figures)
        print(f"(appended to {path.relative_to(results.RESULTS.parent.parent)})")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
