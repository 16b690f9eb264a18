"""Directory benchmark: the public directory as an announcement day's readers reach it, next to a
floor served by the same server in the same run.

    python -m bench.directory [--cities 300] [--requests 3000] [--concurrency 1,8,32,128] [--repeats 3]

PostgreSQL (CITYCERT_DATABASE_URL's server, or an embedded one in a temporary folder, removed at the
end) is seeded with --cities certified cities: each one's whole cycle decided by the real decider
and appended through the store's own append with the city projector (valid hash chains and
projections), as bench/growth.py seeds; no Temporal. Then two API processes (uvicorn, one worker
each, `create_app` as shipped: middleware, request log, error handlers) on that database:

- ours: GET /public/directory with the shipped cache (CITYCERT_PUBLIC_CACHE_FOR, 5 s): at most one
  read of the projections every 5 s, the rendered body served from memory in between;
- floor: GET /bench/floor on the SAME server: a route answering a constant body, the directory's
  own bytes read once at start-up, with the same headers; no cache lookup, no ETag check. What is
  left is the server, the middleware and HTTP itself;
- uncached: GET /public/directory on the second process, whose cache is off (0 s): every request
  reads the projections and renders the body, which is what the cache saves.

Neither process has a Temporal client: the one they get raises on any use, so a run that finishes
shows the directory never reaches Temporal.

The driver is a small HTTP/1.1 client of its own (asyncio streams, keep-alive, one connection per
concurrent reader), much cheaper per request than httpx, so that on a shared 2-core machine the
server, not the client, is what is measured. For each concurrency, in each of --repeats rounds, the
floor, ours and uncached each answer --requests requests after a warm-up; the best round of each
is kept: requests per second (and ours / floor), and the p50 and p99 latency of that round
(uncached answers a fifth as many requests: it is slow, and only its order of magnitude matters). Its
figures go to bench/results/directory.csv; the last line printed is one JSON object with them. The
benchmark never fails on a figure (and no test times anything).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import results
from bench.postgres import BenchPostgres

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 200
DIRECTORY = "/public/directory"
FLOOR = "/bench/floor"
COUNTRIES = (("US", "Ohio"), ("CA", "Ontario"), ("MX", "Jalisco"), ("US", "Texas"), ("BR", "Paraná"))
ROUNDS = ("2025-fall", "2026-spring", "2026-fall")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DSN_VARIABLE = "CITYCERT_BENCH_DIRECTORY_DSN"  # the database the server children read


# --- the data -------------------------------------------------------------------------------------


def certified_city(index: int) -> tuple[str, list[Any]]:
    """City `index`'s whole cycle to an award, decided by the real decider: its events."""
    from domain import CityState, ProgrammePolicy, decide, fold
    from domain.deadlines import due_timer_commands
    from eventstore import Actor, Correlation, NewEvent
    from workflows.city import COMMANDS

    policy = ProgrammePolicy()
    plan = _plan()
    city_id = f"city-{index:05d}"
    country, region = COUNTRIES[index % len(COUNTRIES)]
    round_id = ROUNDS[index % len(ROUNDS)]
    state = CityState.initial(city_id)
    now = T0 + timedelta(minutes=index)
    correlation = Correlation(f"city-{city_id}", "run-1")
    out: list[Any] = []

    def record(command: Any, actor: tuple[str, str]) -> None:
        nonlocal state
        events = decide(state, command, now=now, policy=policy)
        state = fold(state, events)
        who = Actor(actor[0], actor[1])
        out.extend(
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=now, actor=who, correlation=correlation
            )
            for e in events
        )

    for step in plan.steps:
        payload = step.for_city(city_id)
        if step.name == "RegisterCity":
            payload = {**payload, "name": f"Bench City {index:05d}", "country": country, "region": region}
        elif step.name == "ApplyForCertification":
            opened = {"round_id": round_id, "opens_on": date(2000, 1, 1), "closes_on": date(2099, 12, 31)}
            payload = {**payload, "cohort": round_id, "round": opened}
        record(COMMANDS[step.name].model_validate(payload), step.actor)
        now += timedelta(hours=1)
    now += policy.appeal_window
    for command in due_timer_commands(state, now):
        record(command, ("system", "timer"))
    assert state.certification is not None, state.phase
    return city_id, out


@functools.cache
def _plan() -> Any:
    from bench.lifecycle import cycle_plan
    from domain import ProgrammePolicy

    return cycle_plan(23, ProgrammePolicy().appeal_window)


async def seed(dsn: str, cities: int) -> float:
    """--cities certified cities through the store's append; the seconds it took."""
    from readmodel import city_stream, open_city_store

    store = await open_city_store(dsn, min_size=2, max_size=2)
    try:
        await store.migrate()
        started = time.perf_counter()
        for index in range(cities):
            city_id, events = certified_city(index)
            await store.append(city_stream(city_id), 0, events)
        return time.perf_counter() - started
    finally:
        await store.close()


# --- the server (a child process) -----------------------------------------------------------------


class NoTemporal:
    """The servers' Temporal client: any use is an error, so the directory provably needs none."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the public directory reached Temporal ({name})")


async def serve(dsn: str, port: int, cache_for: float) -> None:
    import uvicorn
    from fastapi.responses import Response

    from entrypoints.http import create_app
    from readmodel import open_city_store
    from runtime.logging import configure_logging
    from runtime.settings import Settings

    configure_logging("INFO", json=True, stream=open(os.devnull, "w"), forward_temporal_core=False)  # noqa: SIM115
    store = await open_city_store(dsn, min_size=4, max_size=4)
    settings = Settings(
        command_key="bench-command-key-0123456789abcdef0123",
        public_cache_for=timedelta(seconds=cache_for),
    )
    app = create_app(settings, client=NoTemporal(), store=store)  # type: ignore[arg-type]
    floor: dict[str, Any] = {}

    async def constant() -> Response:
        return Response(floor["body"], media_type="application/json", headers=floor["headers"])

    app.add_api_route(FLOOR, constant, include_in_schema=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    # The floor's body: the directory's own bytes and headers, as this server answers them.
    status, headers, body = await fetch_once(port, DIRECTORY)
    assert status == 200, status
    floor["body"] = body
    floor["headers"] = {k: v for k, v in headers.items() if k in ("etag", "cache-control")}
    print("ready", flush=True)
    await task
    await store.close()


# --- the driver -----------------------------------------------------------------------------------


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


def _request(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n".encode()


async def fetch_once(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request(path, port))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


@dataclass(frozen=True)
class Run:
    target: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    target: str, port: int, path: str, concurrency: int, requests: int, *, request: bytes | None = None
) -> Run:
    """`requests` GETs of `path` over `concurrency` keep-alive connections (after a warm-up); the
    request's bytes as given (headers of a page's reader), else a plain GET of `path`."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    request = request or _request(path, port)
    left = 0
    latencies: list[float] = []

    async def reader_loop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kept: bool) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            started = time.perf_counter()
            writer.write(request)
            status, _, _ = await _read_response(reader)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            if kept:
                latencies.append(time.perf_counter() - started)

    async def burst(count: int, kept: bool) -> None:
        nonlocal left
        left = count
        await asyncio.gather(*(reader_loop(r, w, kept) for r, w in connections))

    try:
        await burst(WARMUP, kept=False)
        started = time.perf_counter()
        await burst(requests, kept=True)
        seconds = time.perf_counter() - started
    finally:
        for _, writer in connections:
            writer.close()
    return Run(target, concurrency, len(latencies), seconds, latencies)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(dsn: str, cache_for: float) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.directory", "--serve", str(port), str(cache_for)],
        cwd=ROOT,
        env={**os.environ, DSN_VARIABLE: dsn},  # not in its arguments: a password would show in ps
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        child.kill()
        raise RuntimeError(f"the directory server did not start (said {line!r})")
    return child, port


def stop_server(child: subprocess.Popen[str]) -> None:
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = round(os.getloadavg()[0], 2)
    postgres = BenchPostgres()
    await asyncio.to_thread(postgres.start)
    servers: list[subprocess.Popen[str]] = []
    try:
        dsn = await postgres.database("bench_directory")
        seconds = await seed(dsn, args.cities)
        print(f"seeded {args.cities} certified cities in {seconds:.1f} s", flush=True)
        cached, port = start_server(dsn, 5.0)
        servers.append(cached)
        uncached, uncached_port = start_server(dsn, 0.0)
        servers.append(uncached)
        _, _, body = await fetch_once(port, DIRECTORY)
        listed = len(json.loads(body)["cities"])
        assert listed == args.cities, (listed, args.cities)
        targets = (("floor", port, FLOOR), ("ours", port, DIRECTORY), ("uncached", uncached_port, DIRECTORY))
        best: dict[tuple[str, int], Run] = {}
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            for _ in range(args.repeats):
                for target, at, path in targets:
                    # Uncached answers are slow: a fifth as many keep the run short, and are plenty.
                    count = args.requests if target != "uncached" else max(200, args.requests // 5)
                    done = await drive(target, at, path, concurrency, count)
                    key = (target, concurrency)
                    if key not in best or done.rps > best[key].rps:
                        best[key] = done
            floor, ours, slow = (best[(t, concurrency)] for t, _, _ in targets)
            print(
                f"concurrency {concurrency:>3}: floor {floor.rps:7.0f} req/s "
                f"(p50 {floor.percentile_ms(0.5):6.2f} ms, p99 {floor.percentile_ms(0.99):6.2f}); "
                f"ours {ours.rps:7.0f} req/s (p50 {ours.percentile_ms(0.5):6.2f}, "
                f"p99 {ours.percentile_ms(0.99):6.2f}); ours/floor {ours.rps / floor.rps:.2f}; "
                f"uncached {slow.rps:6.0f} req/s (p50 {slow.percentile_ms(0.5):6.2f})",
                flush=True,
            )
        figures: dict[str, Any] = {
            "body_bytes": len(body),
            "seed_seconds": round(seconds, 1),
            "load_start": load_start,
        }
        for (target, concurrency), done in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            figures[f"{target}_rps_{concurrency}"] = round(done.rps)
            figures[f"{target}_p50_ms_{concurrency}"] = round(done.percentile_ms(0.5), 3)
            figures[f"{target}_p99_ms_{concurrency}"] = round(done.percentile_ms(0.99), 3)
        for concurrency in sorted({c for _, c in best}):
            floor_rps = best[("floor", concurrency)].rps
            figures[f"ratio_{concurrency}"] = round(best[("ours", concurrency)].rps / floor_rps, 3)
            figures[f"ratio_uncached_{concurrency}"] = round(
                best[("uncached", concurrency)].rps / floor_rps, 3
            )
        figures["ratio_median"] = round(
            statistics.median(
                v for k, v in figures.items() if k.startswith("ratio_") and "uncached" not in k
            ),
            3,
        )
        figures["load_end"] = round(os.getloadavg()[0], 2)
        return figures
    finally:
        for child in servers:
            stop_server(child)
        await postgres.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.directory", description=summary)
    parser.add_argument("--cities", type=int, default=300, help="certified cities seeded; default 300")
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement; default 3000")
    parser.add_argument("--concurrency", default="1,8,32,128", help="concurrent readers; default 1,8,32,128")
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds per concurrency (best kept); default 3"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    figures = asyncio.run(run(args))
    if not args.no_record:
        path = results.record("directory", vars(args) | figures)
        print(f"(appended to {path.relative_to(results.RESULTS.parent.parent)})")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(os.environ[DSN_VARIABLE], int(sys.argv[2]), float(sys.argv[3])))
    else:
        main()
