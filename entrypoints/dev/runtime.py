"""The local runtime behind `citycert dev` and `citycert api`.

`run_dev` starts, in order: PostgreSQL (the embedded server under data_dir, or
CITYCERT_DATABASE_URL), the Temporal dev server with its web UI (or CITYCERT_TEMPORAL_ADDRESS), a
worker in this process, the demo cohort on the first start, and the HTTP API; then it reports
ready (the box) and runs until `stop` is set (Ctrl-C). It stops in the reverse order: the API, the
worker (gracefully: in-flight activities get to finish), the dev server it started, and the
embedded PostgreSQL if this run started it (one already running, e.g. for another process, is
left running). Everything durable lives under data_dir: the event store, Temporal's SQLite file
(workflows and their timers), the operator token, the demo marker; the next start resumes there.

Start-up problems are StartupErrors whose message names the setting to change. A port already
taken is one of them, the Temporal port included: `citycert dev` does not quietly use a server it
finds there (it may hold another data directory's workflows); CITYCERT_TEMPORAL_ADDRESS does that
on purpose. `citycert api` runs the API alone over whatever the settings point at; like `dev`,
it stops on exit an embedded PostgreSQL that it started (one-shot CLI commands leave it running).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
import uvicorn
from fastapi import FastAPI
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from app.relay import relaying
from app.tokens import TokenRefused, authenticate, issue_token
from eventstore import EventStore
from runtime import telemetry
from runtime.anchors import anchor_destination, keep_anchoring
from runtime.credential_key import with_dev_credential_key
from runtime.mail_sink import MailFolder, running_sink, sink_folder
from runtime.process import StartupError, Stopped, ensure_port_free, port_answers, unless_stopped
from runtime.settings import Settings, env_name, prepare_data_dir
from runtime.smtp import SmtpServer
from runtime.store import embedded_postgres_running, open_store
from runtime.temporal import TemporalInfo, open_temporal
from workflows import search_attributes

if TYPE_CHECKING:
    from entrypoints.dev.demo_cohort import SeedReport

log = structlog.get_logger("citycert.dev")

TOKEN_FILENAME = "operator-token"
TOKEN_NAME = "dev-operator"
API_STOP_TIMEOUT = 10.0
LOOPBACK = "127.0.0.1"  # where the embedded dev server listens (runtime.embedded_temporal.HOST)

T = TypeVar("T")


def _temporal(settings: Settings, *, start_dev_server: bool) -> Any:
    """Temporal for a process that runs a worker: our search attributes registered on the way in."""
    return open_temporal(settings, start_dev_server=start_dev_server, search_attributes=search_attributes.ALL)


# --- the operator token ---------------------------------------------------------------------------


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILENAME


def read_secret(path: Path) -> str | None:
    """The secret in the token file, its permissions tightened to 0600 if they were looser."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("dev.token_file_permissions_fixed", path=str(path), was=oct(mode))
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def write_secret(path: Path, secret: str) -> None:
    """Write the secret readable by its owner only (0600), replacing the file in one step.

    The temporary file is created afresh (O_EXCL) and never through a link (O_NOFOLLOW): a file or
    symlink planted under that name by someone else makes this fail instead of writing there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass(frozen=True)
class OperatorToken:
    secret: str
    created: bool  # made by this start (the box shows the secret only then)
    expires_at: datetime


async def ensure_operator_token(store: EventStore, settings: Settings) -> OperatorToken:
    """The local operator token, made now when the file holds none the store honours.

    The store keeps only its hash; the secret lives in data_dir/operator-token (0600). A file
    whose token the store does not know (a new database), or that expired (an operator's lives
    CITYCERT_OPERATOR_TOKEN_LIFETIME, 7 days) or was revoked, is replaced by a new token."""
    path = token_path(settings)
    secret = read_secret(path)
    if secret is not None:
        try:
            info = await authenticate(store, secret)
        except TokenRefused as e:
            log.warning(
                "dev.token_refused", path=str(path), reason=e.reason, action="creating a new operator token"
            )
        else:
            if info.role == "operator":
                return OperatorToken(secret, False, info.expires_at)
            log.warning("dev.token_not_an_operator", path=str(path), action="creating a new operator token")
    issued = await issue_token(store, "operator", name=TOKEN_NAME, lifetimes=settings.token_lifetime_of)
    write_secret(path, issued.secret)
    log.info(
        "dev.token_created",
        path=str(path),
        token_id=issued.info.id,
        expires_at=issued.info.expires_at.isoformat(),
    )
    return OperatorToken(issued.secret, True, issued.info.expires_at)


# --- the HTTP API -------------------------------------------------------------------------------


class ApiServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the runtime owns Ctrl-C and stops it in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def api_server(app: FastAPI, settings: Settings) -> ApiServer:
    # Its start and stop lines repeat what our own events say; its errors still show.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        access_log=False,  # the RequestLog middleware logs each request once, with its city and role
        log_config=None,  # keep our logging (structlog) in charge of uvicorn's loggers too
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return ApiServer(config)


async def serve_api(server: ApiServer, settings: Settings) -> None:
    """Serve until server.should_exit; a bind failure becomes a StartupError naming the setting."""
    try:
        await server.serve()
    except SystemExit as e:  # uvicorn exits the process when it cannot bind or start the app
        raise StartupError(
            f"the API could not start on {settings.api_host}:{settings.api_port} (see the log above); "
            f"set {env_name('api_port')} or {env_name('api_host')}"
        ) from e


@asynccontextmanager
async def running_api(
    app: FastAPI, settings: Settings, stop: asyncio.Event
) -> AsyncIterator[asyncio.Task[None]]:
    """The API serving on settings.api_host:api_port for the block; the task, to watch it."""
    server = api_server(app, settings)
    task = asyncio.create_task(serve_api(server, settings), name="api")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise StartupError("the API stopped while starting")
            if stop.is_set():
                raise Stopped
            await asyncio.sleep(0.05)
        log.info("dev.api_started", url=f"http://{settings.api_host}:{settings.api_port}")
        yield task
    finally:
        server.should_exit = True
        await asyncio.wait({task}, timeout=API_STOP_TIMEOUT)
        if not task.done():
            server.force_exit = True  # connections still open: cut them
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.debug("dev.api_ended_with_error", error=str(task.exception()))
        log.info("dev.api_stopped")


# --- the whole runtime ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DevInfo:
    """What the box shows."""

    api_url: str
    temporal: TemporalInfo
    token: OperatorToken
    token_file: Path
    data_dir: Path
    database: str
    postgres_stops_with_us: bool
    demo: str
    mail: str = ""
    metrics: str = ""  # the /metrics URL, or why there is none
    credentials: str = ""  # where the credential key is and where its public half is published
    people: tuple[tuple[str, str, str], ...] = ()  # the demo's people to sign in as: role, e-mail, what


async def run_dev(
    settings: Settings,
    stop: asyncio.Event,
    *,
    seed: bool = True,
    on_ready: Callable[[DevInfo], None] = lambda info: None,
) -> None:
    """Start everything, call on_ready, run until `stop` is set, then stop everything in order."""
    from entrypoints.http import create_app

    settings = prepare_data_dir(settings)
    # The certificates' credentials need a signing key: a developer gets one made in the data dir.
    settings = with_dev_credential_key(settings, create=True)
    ensure_port_free(
        settings.api_host,
        settings.api_port,
        setting=env_name("api_port"),
        what="the HTTP API",
        host_setting=env_name("api_host"),
    )
    if settings.temporal_address is None:
        _check_dev_server_ports(settings)
    try:
        await asyncio.to_thread(anchor_destination, settings)  # a bucket without Object Lock: refused
        telemetry.configure_tracing("citycert-dev")
        async with AsyncExitStack() as stack:
            # Before Temporal: the client made next carries the SDK's metrics.
            metrics = stack.enter_context(
                telemetry.serving_metrics(settings, default_port=telemetry.DEV_METRICS_PORT)
            )
            pg_was_running = embedded_postgres_running(settings.pgdata)
            store = await stack.enter_async_context(open_store(settings, stop_embedded_we_started=True))
            if stop.is_set():
                raise Stopped
            client, temporal_info = await unless_stopped(
                stack.enter_async_context(_temporal(settings, start_dev_server=True)),
                stop,
            )

            worker = await _start_worker(stack, settings, store, client, stop, reminder_schedule=True)
            if metrics is not None:
                from app.worker import watching_workflows

                await stack.enter_async_context(watching_workflows(store, client, settings))

            demo_line = await _seed(settings, store, client, stop, worker, seed=seed)
            token = await ensure_operator_token(store, settings)
            anchoring = asyncio.create_task(keep_anchoring(store, settings), name="anchoring")
            stack.callback(anchoring.cancel)
            mail_line = await _start_mail(stack, store, settings)
            people = _demo_people(settings)

            app = create_app(settings, client=client, store=store)
            api = await stack.enter_async_context(running_api(app, settings, stop))

            on_ready(
                DevInfo(
                    api_url=f"http://{_url_host(settings.api_host)}:{settings.api_port}",
                    temporal=temporal_info,
                    token=token,
                    token_file=token_path(settings),
                    data_dir=settings.data_dir,
                    database=(
                        env_name("database_url")
                        if settings.database_url
                        else f"embedded, in {settings.pgdata}"
                    ),
                    postgres_stops_with_us=settings.database_url is None and not pg_was_running,
                    demo=demo_line,
                    mail=mail_line,
                    metrics=(
                        metrics.url
                        if metrics
                        else f"off (port {telemetry.DEV_METRICS_PORT} taken; set {env_name('metrics_port')})"
                    ),
                    credentials=(
                        f"signed with {settings.credential_key_file}; public key at "
                        f"{settings.public_base_url}/public/credentials/key"
                    ),
                    people=people,
                )
            )
            log.info(
                "dev.ready", api=f"{settings.api_host}:{settings.api_port}", temporal=temporal_info.address
            )
            with contextlib.suppress(Stopped):
                await unless_stopped(asyncio.Event().wait(), stop, worker, api)
            log.info("dev.stopping")
    except Stopped:
        log.info("dev.stopped_while_starting")
    log.info("dev.stopped")


async def _start_mail(stack: AsyncExitStack, store: EventStore, settings: Settings) -> str:
    """The mail relay, to CITYCERT_SMTP_URL's server, else to a local sink that keeps every mail so
    a newcomer can read what the demo sends; what the box says of it."""
    smtp = settings.smtp_server
    if smtp is None:
        folder = MailFolder(sink_folder(settings))
        port = await stack.enter_async_context(running_sink(folder))
        smtp = SmtpServer("127.0.0.1", port)
        line = f"kept by a local sink in {folder.path} (`citycert mail list`)"
    else:
        line = f"sent through {smtp}"
    await stack.enter_async_context(relaying(store, settings, smtp))
    return line


def _demo_people(settings: Settings) -> tuple[tuple[str, str, str], ...]:
    """Whom the box offers to sign in as: the demo's people, once the demo is in the store."""
    from entrypoints.dev import demo_cohort as demo

    if not demo.already_seeded(settings):
        return ()
    return tuple((p.role, p.email, p.what) for p in demo.demo_people())


def _check_dev_server_ports(settings: Settings) -> None:
    """Before anything starts: the ports of the dev server we are about to start must be free.

    A server already answering there is not used behind the developer's back: it may keep another
    data directory's workflows. To use it on purpose, set CITYCERT_TEMPORAL_ADDRESS."""
    if settings.temporal_port == settings.temporal_ui_port:
        raise StartupError(
            f"{env_name('temporal_port')} and {env_name('temporal_ui_port')} are both "
            f"{settings.temporal_port}; give them different ports"
        )
    if port_answers(LOOPBACK, settings.temporal_port):
        raise StartupError(
            f"the Temporal dev server: port {settings.temporal_port} on {LOOPBACK} is already in use "
            f"(another `citycert dev` or `citycert worker`?); stop it or set {env_name('temporal_port')} "
            f"to a free port, or set {env_name('temporal_address')}={LOOPBACK}:{settings.temporal_port} "
            "to use the server that answers there"
        )
    for port, field, what in (
        (settings.temporal_port, "temporal_port", "the Temporal dev server"),
        (settings.temporal_ui_port, "temporal_ui_port", "the Temporal web UI"),
    ):
        ensure_port_free(LOOPBACK, port, setting=env_name(field), what=what)


async def _seed(
    settings: Settings,
    store: EventStore,
    client: Client,
    stop: asyncio.Event,
    worker: asyncio.Task[None],
    *,
    seed: bool,
) -> str:
    from entrypoints.dev import demo_cohort as demo

    if demo.already_seeded(settings):
        return f"seeded on an earlier start ({len(demo.CITIES)} fictional cities)"
    if not seed:
        return "not seeded (--no-seed); `citycert seed-demo` seeds it"
    log.info("dev.seeding_demo", cities=len(demo.CITIES))
    try:
        with quiet_activities():
            # Not cancelled on Ctrl-C: it stops itself between two commands (see demo.seed_demo).
            report = await unless_stopped(
                demo.seed_demo(store, client, settings, stop=stop), asyncio.Event(), worker
            )
    except demo.SeedStopped:
        raise Stopped from None
    except StartupError:
        raise
    except Exception as e:
        log.exception("dev.demo_seed_failed")
        return f"seeding failed ({type(e).__name__}: see the log); retry with `citycert seed-demo`"
    demo.mark_seeded(settings, report)
    there = f", {len(report.skipped)} were already there" if report.skipped else ""
    return (
        f"{len(report.seeded)} fictional cities seeded now{there}; "
        f"its announcement: /v1/rounds/{demo.COHORT}/announcement?format=md; announced, public: "
        f"/public/rounds/{demo.EARLIER_COHORT}/announcement.md"
    )


@contextlib.contextmanager
def quiet_activities() -> Iterator[None]:
    """While the demo is seeded (before the API serves anyone), keep its few hundred
    record_events lines out of the console; warnings and errors still show."""
    logger = logging.getLogger("citycert.activities")
    level = logger.level
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


async def _start_worker(
    stack: AsyncExitStack,
    settings: Settings,
    store: EventStore,
    client: Client,
    stop: asyncio.Event,
    *,
    reminder_schedule: bool,
) -> asyncio.Task[None]:
    """A worker in this process, polling once this returns; stopped gracefully when `stack` closes."""
    import activities
    import workflows
    from app.worker import run_worker

    worker_stop, worker_started = asyncio.Event(), asyncio.Event()
    worker = asyncio.create_task(
        run_worker(
            settings,
            workflows=workflows.WORKFLOWS,
            activities=activities.build_activities(store),
            stop=worker_stop,
            client=client,
            started=worker_started,
            reminder_schedule=reminder_schedule,
        ),
        name="worker",
    )
    stack.push_async_callback(_stop_worker, worker, worker_stop)
    await unless_stopped(worker_started.wait(), stop, worker)
    return worker


async def _stop_worker(worker: asyncio.Task[None], worker_stop: asyncio.Event) -> None:
    worker_stop.set()
    if not worker.done():
        await worker  # run_worker shuts down gracefully: in-flight activities finish first
    elif not worker.cancelled() and worker.exception() is not None:
        log.error("dev.worker_failed", error=str(worker.exception()))


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


async def run_api(settings: Settings, stop: asyncio.Event) -> None:
    """The API alone, over the configured (or already running local) PostgreSQL and Temporal."""
    from entrypoints.http import create_app

    ensure_port_free(
        settings.api_host,
        settings.api_port,
        setting=env_name("api_port"),
        what="the HTTP API",
        host_setting=env_name("api_host"),
    )
    telemetry.configure_tracing("citycert-api")
    # The key an earlier `citycert dev` made, if no key file is set; none is made here.
    settings = with_dev_credential_key(settings, create=False)
    try:
        async with AsyncExitStack() as stack:
            stack.enter_context(telemetry.serving_metrics(settings))  # before Temporal: its SDK's too
            # Temporal first: without it there is nothing to serve, and no database is started.
            client, info = await unless_stopped(
                stack.enter_async_context(_temporal(settings, start_dev_server=False)),
                stop,
            )
            store = await stack.enter_async_context(open_store(settings, stop_embedded_we_started=True))
            app = create_app(settings, client=client, store=store)
            api = await stack.enter_async_context(running_api(app, settings, stop))
            url = f"http://{_url_host(settings.api_host)}:{settings.api_port}"
            log.info("api.ready", url=url, docs=f"{url}/docs", temporal=info.address)
            with contextlib.suppress(Stopped):
                await unless_stopped(asyncio.Event().wait(), stop, api)
    except Stopped:
        pass


async def seed_into_stack(settings: Settings, stop: asyncio.Event) -> SeedReport | None:
    """Seed the demo cohort into the configured stack with a worker of our own while it runs;
    None when stopped first. Uses (or starts, then stops) the local dev server like `citycert dev`."""
    from entrypoints.dev import demo_cohort as demo

    try:
        async with AsyncExitStack() as stack:
            store = await stack.enter_async_context(open_store(settings, stop_embedded_we_started=False))
            client, _ = await unless_stopped(
                stack.enter_async_context(_temporal(settings, start_dev_server=True)),
                stop,
            )
            worker = await _start_worker(stack, settings, store, client, stop, reminder_schedule=False)
            try:
                report = await unless_stopped(
                    demo.seed_demo(store, client, settings, stop=stop), asyncio.Event(), worker
                )
            except demo.SeedStopped:
                return None
            demo.mark_seeded(settings, report)
            return report
    except Stopped:
        return None


# --- the box ------------------------------------------------------------------------------------


def render_box(info: DevInfo) -> Panel:
    """One panel with everything a developer needs to start: addresses, token, demo, data."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("API", f"{info.api_url}  (docs: {info.api_url}/docs)")
    # A person signs in there with a link by e-mail: in dev it arrives in the local sink (Mail).
    grid.add_row("Portal", f"{info.api_url}/  (sign-in links arrive by mail)")
    if info.temporal.ui_url:
        reused = "" if info.temporal.started_here else "  (a dev server already running)"
        grid.add_row("Temporal UI", f"{info.temporal.ui_url}{reused}")
    else:
        grid.add_row("Temporal", f"{info.temporal.address}, namespace {info.temporal.namespace}")
    expires = info.token.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if info.token.created:  # shown once, as every token is: later starts point at the file
        grid.add_row("Operator token", Text(info.token.secret, no_wrap=True, overflow="ignore"))
        grid.add_row("", f"created now, expires {expires}; kept in {info.token_file} (mode 0600)")
    else:
        grid.add_row("Operator token", f"in {info.token_file} (mode 0600), expires {expires}")
    grid.add_row("Demo cohort", info.demo)
    for n, (role, email, what) in enumerate(info.people):
        grid.add_row("Sign in as" if n == 0 else "", f"{email}  ({role}: {what})")
    if info.people:
        # Where the link goes: the local sink unless CITYCERT_SMTP_URL names a real server.
        arrives = (
            "arrives in the local mail sink: `citycert mail list`, then `citycert mail show N`"
            if "local sink" in info.mail
            else "is mailed to that address"
        )
        grid.add_row("", f"enter the address at {info.api_url}/; the sign-in link {arrives}")
    if info.mail:
        grid.add_row("Mail", info.mail)
    if info.metrics:
        grid.add_row("Metrics", info.metrics)
    if info.credentials:
        grid.add_row("Credentials", info.credentials)
    grid.add_row("Data", str(info.data_dir))
    grid.add_row("PostgreSQL", info.database)
    stopping = ["the API", "the worker"]
    if info.temporal.started_here:
        stopping.append("the Temporal dev server")
    if info.postgres_stops_with_us:
        stopping.append("the embedded PostgreSQL")
    footer = Text(
        f"Ctrl-C stops {', '.join(stopping[:-1])} and {stopping[-1]}; "
        "the next `citycert dev` resumes with the same data.",
        style="dim",
    )
    return Panel(Group(grid, Text(""), footer), title="citycert dev", expand=False)
