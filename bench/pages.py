"""The portal's pages: how fast each main page renders on demo-sized data, against a floor.

`python -m bench.pages [--cities N] [--requests N] [--concurrency 1,8] [--repeats N] [--misses N]
[--pages round_board,...] [--no-record]`

It starts a throwaway PostgreSQL (bench/postgres.py) and seeds a demo-sized programme through the
store's append, each city's events decided by the real decider (as bench/directory.py does): a
spring round of the rounds table with --cities cities in it, most certified and a few waiting on
the reviewer, and a few certified cities of an earlier round that the public directory shows. The
people signed in are kept as the portal keeps them: a city's staff member, a reviewer (the one the
seeded reviews name), a committee member and an operator, each with a session started from a sign-in link
(app/sign_in.py, as the portal's tests sign in), so the pages read real sessions.

The app (entrypoints.http.create_app, pages and API together) runs in a child process without a
Temporal client (the one it gets raises on any use: the pages read only the store). The pages:

- the sign-in page (`/`, nobody signed in);
- a city's dashboard (`/cities/{id}`, its staff signed in);
- the reviewer's queue (`/review`);
- the committee's round board (`/committee/rounds/{id}`);
- the operators' list of cities (`/operator/cities`, its first page);
- a certificate's public verification page (`/certificates/{number}`, nobody signed in; the
  portal has no HTML directory page yet, and the directory's JSON is bench/directory.py's).

The floor, in the same process: for each page, a constant answer of that page's own bytes (read
once from the page itself), so the floor costs what the server and the driver cost for that size
and nothing else. For each concurrency, in each of --repeats rounds, the floor and the page each
answer --requests requests after a warm-up over keep-alive connections (the driver is
bench/directory.py's small HTTP/1.1 client, with the session's cookie); the best round of each is
kept. Per page: requests per second, ours / floor, and the p50 and p99 latency. The targets (a
ratio of at least 0.5, no page above 100 ms p99) are printed beside the figures; the benchmark
never fails on a figure, and no test times anything.

The dashboard, the round board, the reviewer's queue, the operators' list and the certificate page
keep their costly part between requests until an event is recorded (entrypoints/web/fragments.py),
and nothing is recorded while the pages are measured: their figures are those of a kept part. The
server runs the app's lifespan, so the log's watcher asks whether an event was recorded every
CITYCERT_WEB_EVENTS_POLL_MS (the default, 100 ms, unless set in the environment) and a page asks
nothing; set it to 0 to measure pages that ask on every request, as before the watcher. What the
first reader after an event waits for is measured too: per page, --misses requests one after
another, each after the server gave up every kept part (a bench-only route), on a new connection
each; their median and slowest.

The figures go to bench/results/pages.csv; the last line printed is one JSON object with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import results
from bench.directory import Run, _free_port, _read_response, drive, stop_server
from bench.postgres import BenchPostgres

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 50
SPRING = "2026-spring"  # the round the committee's board shows (in the rounds table)
EARLIER = "2025-fall"  # certified cities the public sees (a round the table does not hold: no embargo)
REVIEWER_ID = "per_be0c000000000a1a"  # the reviewer person, and the id the seeded reviews name
REVIEWER_HOME = "riverton"
SIGN_IN_KEY = "bench-pages-sign-in-key-0123456789abcdef"
COMMAND_KEY = "bench-command-key-0123456789abcdef0123"
VISITOR = "bench-visitor-0123456789abcdef"  # a browser's visitor cookie, as any page gives one
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ENV = "CITYCERT_BENCH_PAGES"  # the database and the sessions, for the server child (not in ps)
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0


# --- the data -------------------------------------------------------------------------------------


def _city_events(index: int, round_id: str, *, certified: bool) -> tuple[str, list[Any]]:
    """City `index`'s cycle in `round_id` by the real decider: to an award, or left with its
    evidence waiting on the reviewer (assigned, no conflict declared, nothing reviewed yet)."""
    from bench.directory import _plan
    from domain import CityState, ProgrammePolicy, decide, fold
    from domain.deadlines import due_timer_commands
    from eventstore import Actor, Correlation, NewEvent
    from workflows.city import COMMANDS

    policy = ProgrammePolicy()
    city_id = f"city-{index:03d}"
    state = CityState.initial(city_id)
    now = T0 + timedelta(minutes=index)
    correlation = Correlation(f"city-{city_id}", "run-1")
    out: list[Any] = []

    def record(command: Any, actor: tuple[str, str]) -> None:
        nonlocal state
        events = decide(state, command, now=now, policy=policy)
        state = fold(state, events)
        out.extend(
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=now, actor=Actor(*actor), correlation=correlation
            )
            for e in events
        )

    for step in _plan().steps:
        if not certified and step.name == "ReviewEvidence":
            break
        payload = _as_demo_reviewer(step.for_city(city_id))
        actor = (step.actor[0], REVIEWER_ID) if step.actor[0] == "reviewer" else step.actor
        if step.name == "RegisterCity":
            payload = {**payload, "name": f"Bench City {index:03d}", "country": "US", "region": "Ohio"}
        elif step.name == "ApplyForCertification":
            opened = {"round_id": round_id, "opens_on": date(2000, 1, 1), "closes_on": date(2099, 12, 31)}
            payload = {**payload, "cohort": round_id, "round": opened}
        record(COMMANDS[step.name].model_validate(payload), actor)
        now += timedelta(hours=1)
    if certified:
        now += policy.appeal_window
        for command in due_timer_commands(state, now):
            record(command, ("system", "timer"))
        assert state.certification is not None, state.phase
    return city_id, out


def _as_demo_reviewer(payload: dict[str, Any]) -> dict[str, Any]:
    if "reviewer_id" in payload:
        return {**payload, "reviewer_id": REVIEWER_ID}
    return payload


@dataclass(frozen=True)
class Seeded:
    seconds: float
    staff_city: str
    sessions: dict[str, str]  # role -> session secret


async def seed(dsn: str, cities: int, waiting: int, public: int) -> Seeded:
    """The round and its cities, the public's certified cities, the people and their sessions."""
    from app.people import add_person
    from app.rounds import create_round
    from app.sign_in import Limits, link_secret, request_link, start_session
    from domain import Actor
    from domain.people import new_person
    from domain.rounds import CreateRound
    from readmodel import city_stream, open_city_store

    store = await open_city_store(dsn, min_size=2, max_size=2)
    try:
        await store.migrate()
        started = time.perf_counter()
        today = datetime.now(UTC).date()
        spring = CreateRound(
            round_id=SPRING,
            name="Spring 2026",
            opens_on=today - timedelta(days=30),
            closes_on=today + timedelta(days=30),
            submission_deadline=today + timedelta(days=60),
            announcement_on=today + timedelta(days=90),
            review_capacity=400,
        )
        await create_round(store, spring, Actor(role="operator", id="bench"), may_overlap=True)
        plan = [(SPRING, i >= waiting) for i in range(cities)] + [(EARLIER, True)] * public
        for index, (round_id, certified) in enumerate(plan):
            city_id, events = _city_events(index, round_id, certified=certified)
            await store.append(city_stream(city_id), 0, events)
        staff_city = "city-000" if waiting == 0 else f"city-{waiting:03d}"  # certified: a full dashboard
        people = {
            "city": ({"role": "city", "city_id": staff_city}, None),
            "reviewer": ({"role": "reviewer", "city_id": REVIEWER_HOME}, REVIEWER_ID),
            "committee": ({"role": "committee"}, None),
            "operator": ({"role": "operator"}, None),
        }
        sessions = {}
        key = SIGN_IN_KEY.encode()
        limits = Limits(window=timedelta(minutes=15), per_address=10, per_client=10)
        for role, (fields, person_id) in people.items():
            email = f"{role}@bench.example"
            person = new_person({"name": f"Bench {role}", "email": email, "language": "en", **fields})
            added = await add_person(store, person, person_id=person_id)
            # As a person signs in: a link requested by address, then opened (its secret is the one
            # the mail would carry).
            await request_link(
                store,
                email,
                client="bench",
                key=key,
                portal_url="http://127.0.0.1",
                lifetime=timedelta(minutes=15),
                limits=limits,
            )
            async with store.connection() as conn:
                link_id = await conn.fetchval(
                    "SELECT id FROM sign_in_links WHERE person_id = $1 ORDER BY expires_at DESC LIMIT 1",
                    added.id,
                )
            opened = await start_session(
                store,
                link_secret(key, link_id),
                idle=timedelta(hours=8),
                lifetime=timedelta(hours=12),
                confirmed=True,  # no browser asked for this link: the bench is the person
            )
            sessions[role] = opened.secret
        return Seeded(time.perf_counter() - started, staff_city, sessions)
    finally:
        await store.close()


# --- the server (a child process) -----------------------------------------------------------------


def _cookie(session: str | None) -> str:
    from entrypoints.web.session import SESSION_COOKIE, VISITOR_COOKIE

    cookie = f"{VISITOR_COOKIE}={VISITOR}"
    return f"{cookie}; {SESSION_COOKIE}={session}" if session else cookie


def _request(path: str, port: int, cookie: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n"
        f"Accept-Language: en\r\nCookie: {cookie}\r\n\r\n"
    ).encode()


async def fetch(port: int, path: str, cookie: str) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request(path, port, cookie))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    cookie: str

    @property
    def floor(self) -> str:
        return f"/bench/floor/{self.name}"


async def serve(config: dict[str, Any], port: int) -> None:
    import uvicorn
    from fastapi.responses import Response

    from bench.directory import NoTemporal
    from entrypoints.http import create_app
    from readmodel import open_city_store
    from runtime.logging import configure_logging
    from runtime.settings import Settings

    configure_logging("INFO", json=True, stream=open(os.devnull, "w"), forward_temporal_core=False)  # noqa: SIM115
    store = await open_city_store(config["dsn"], min_size=4, max_size=4)
    settings = Settings(command_key=COMMAND_KEY, sign_in_key=SIGN_IN_KEY)
    app = create_app(settings, client=NoTemporal(), store=store)  # type: ignore[arg-type]
    floors: dict[str, tuple[bytes, str]] = {}

    async def constant(name: str) -> Response:
        body, media_type = floors[name]
        return Response(body, media_type=media_type)

    async def forget() -> Response:
        app.state.kept_parts = {}  # as when an event is recorded: every kept part made anew
        return Response(status_code=204)

    app.add_api_route("/bench/floor/{name}", constant, include_in_schema=False)
    app.add_api_route("/bench/forget", forget, include_in_schema=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    # Each floor answers its page's own bytes, as this server renders them.
    for page in pages(config):
        status, headers, body = await fetch(port, page.path, page.cookie)
        assert status == 200, (page.path, status, body[:500])
        floors[page.name] = (body, headers.get("content-type", "text/html").split(";")[0])
    print("ready", flush=True)
    await task
    await store.close()


def pages(config: dict[str, Any]) -> list[Page]:
    sessions = config["sessions"]
    found = [
        Page("sign_in", "/", _cookie(None)),
        Page("dashboard", f"/cities/{config['staff_city']}", _cookie(sessions["city"])),
        Page("review_queue", "/review", _cookie(sessions["reviewer"])),
        Page("round_board", f"/committee/rounds/{SPRING}", _cookie(sessions["committee"])),
        Page("operator_cities", "/operator/cities", _cookie(sessions["operator"])),
    ]
    if config.get("certificate"):
        found.append(Page("certificate", f"/certificates/{config['certificate']}", _cookie(None)))
    return found


def start_server(config: dict[str, Any]) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.pages", "--serve", str(port)],
        cwd=ROOT,
        env={**os.environ, ENV: json.dumps(config)},  # not in its arguments: secrets would show in ps
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        child.kill()
        raise RuntimeError(f"the pages' server did not start (said {line!r})")
    return child, port


# --- the driver -----------------------------------------------------------------------------------


async def _certificate_number(port: int) -> str | None:
    status, _, body = await fetch(port, "/public/directory", _cookie(None))
    listed = json.loads(body).get("cities", []) if status == 200 else []
    return listed[0]["certificate_number"] if listed else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = round(os.getloadavg()[0], 2)
    postgres = BenchPostgres()
    await asyncio.to_thread(postgres.start)
    servers: list[subprocess.Popen[str]] = []
    try:
        dsn = await postgres.database("bench_pages")
        seeded = await seed(dsn, args.cities, args.waiting, args.public)
        print(
            f"seeded {args.cities} cities in {SPRING} ({args.waiting} waiting on the reviewer) and "
            f"{args.public} certified in {EARLIER} in {seeded.seconds:.1f} s",
            flush=True,
        )
        config: dict[str, Any] = {"dsn": dsn, "sessions": seeded.sessions, "staff_city": seeded.staff_city}
        # A first server finds a certificate's number from the public directory; the measured one
        # then has the certificate's page among its pages (and its floor).
        first, port = start_server(config)
        servers.append(first)
        config["certificate"] = await _certificate_number(port)
        stop_server(servers.pop())
        child, port = start_server(config)
        servers.append(child)
        figures: dict[str, Any] = {"cities": args.cities, "load_start": load_start}
        chosen = [p for p in pages(config) if not args.pages or p.name in args.pages.split(",")]
        for page in chosen:
            _, _, body = await fetch(port, page.path, page.cookie)
            figures[f"{page.name}_bytes"] = len(body)
            for concurrency in [int(c) for c in args.concurrency.split(",")]:
                best: dict[str, Run] = {}
                for _ in range(args.repeats):
                    for target, path in (("floor", page.floor), ("ours", page.path)):
                        done = await drive(
                            target,
                            port,
                            path,
                            concurrency,
                            args.requests,
                            request=_request(path, port, page.cookie),
                        )
                        if target not in best or done.rps > best[target].rps:
                            best[target] = done
                floor, ours = best["floor"], best["ours"]
                ratio = ours.rps / floor.rps
                p99 = ours.percentile_ms(0.99)
                print(
                    f"{page.name:>13} at {concurrency:>2}: ours {ours.rps:6.0f} req/s "
                    f"(p50 {ours.percentile_ms(0.5):6.2f} ms, p99 {p99:6.2f}"
                    f"{'' if p99 <= TARGET_P99_MS else ' ABOVE 100 ms'}); floor {floor.rps:6.0f} req/s "
                    f"(p50 {floor.percentile_ms(0.5):5.2f}); ours/floor {ratio:.2f}"
                    f"{'' if ratio >= TARGET_RATIO else ' (below 0.5)'}",
                    flush=True,
                )
                at = f"{page.name}_{concurrency}"
                figures[f"{at}_rps"] = round(ours.rps)
                figures[f"{at}_p50_ms"] = round(ours.percentile_ms(0.5), 3)
                figures[f"{at}_p99_ms"] = round(p99, 3)
                figures[f"{at}_floor_rps"] = round(floor.rps)
                figures[f"{at}_floor_p99_ms"] = round(floor.percentile_ms(0.99), 3)
                figures[f"{at}_ratio"] = round(ratio, 3)
            if args.misses:
                waited = []
                for _ in range(args.misses):
                    await fetch(port, "/bench/forget", page.cookie)
                    started = time.perf_counter()
                    status, _, _ = await fetch(port, page.path, page.cookie)
                    waited.append((time.perf_counter() - started) * 1000)
                    assert status == 200, (page.path, status)
                waited.sort()
                median, slowest = waited[len(waited) // 2], waited[-1]
                print(
                    f"{page.name:>13}, nothing kept: p50 {median:6.2f} ms, slowest {slowest:6.2f} ms",
                    flush=True,
                )
                figures[f"{page.name}_miss_p50_ms"] = round(median, 3)
                figures[f"{page.name}_miss_max_ms"] = round(slowest, 3)
        ratios = [v for k, v in figures.items() if k.endswith("_ratio")]
        p99s = [v for k, v in figures.items() if k.endswith("_p99_ms") and "floor" not in k]
        figures["ratio_min"] = min(ratios)
        figures["p99_max_ms"] = max(p99s)
        figures["load_end"] = round(os.getloadavg()[0], 2)
        return figures
    finally:
        for server in servers:
            stop_server(server)
        await postgres.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=summary)
    parser.add_argument("--cities", type=int, default=12, help="cities in the spring round; default 12")
    parser.add_argument("--waiting", type=int, default=3, help="of them, waiting on the reviewer; default 3")
    parser.add_argument(
        "--public", type=int, default=6, help="certified cities of an earlier round; default 6"
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement; default 300")
    parser.add_argument("--concurrency", default="1,8", help="concurrent readers; default 1,8")
    parser.add_argument("--repeats", type=int, default=2, help="rounds per page (best kept); default 2")
    parser.add_argument("--pages", default="", help="only these pages (names, commas between); default all")
    parser.add_argument(
        "--misses", type=int, default=20, help="requests per page with nothing kept; default 20 (0: none)"
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    args = parser.parse_args(argv)
    args.waiting = min(args.waiting, args.cities - 1)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    figures = asyncio.run(run(args))
    if not args.no_record:
        path = results.record("pages", vars(args) | figures)
        print(f"(appended to {path.relative_to(results.RESULTS.parent.parent)})")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(json.loads(os.environ[ENV]), int(sys.argv[2])))
    else:
        main()
