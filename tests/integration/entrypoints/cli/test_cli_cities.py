"""The everyday commands over a real PostgreSQL and a real Temporal dev server with a real worker.

Each test gets its own database and, where it sends commands, its own dev server (a third of a
second to start), so no test sees another's workflows. The CLI reaches them the way it reaches a
running `citycert dev`: through CITYCERT_* settings. Commands call asyncio.run, so they run in a
thread while the worker keeps running on the test's loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import pwd
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from app.tokens import create_token, issue_token, revoke_token, verify_token
from entrypoints.cli import context as cli_context
from entrypoints.cli.main import app
from entrypoints.cli.walkthrough import walk
from eventstore import Actor, EventStore, NewEvent
from readmodel import city_stream, load_city_state
from tests.integration.workflows.harness import CityDriver, running_worker
from tests.scenarios import TEST_COMMAND_KEY, apply, assigned_and_declared, enough_items, evidence
from tests.temporal_env import dev_server_environment

runner = CliRunner()


@dataclass
class Cli:
    """`citycert ...` with these CITYCERT_* settings, run in a thread (commands call asyncio.run)."""

    env: dict[str, str | None]

    async def __call__(self, *args: str) -> Result:
        return await asyncio.to_thread(lambda: runner.invoke(app, list(args), env=self.env))

    async def json(self, *args: str) -> Any:
        result = await self(*args, "--json")
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)


def said(result: Result) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures logging once per process; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    cli_context._logging_configured = False


def settings_env(database_url: str, data_dir: Path, **extra: str | None) -> dict[str, str | None]:
    return {
        "CITYCERT_DATABASE_URL": database_url,
        "CITYCERT_DATA_DIR": str(data_dir),
        "CITYCERT_TEMPORAL_ADDRESS": None,
        "CITYCERT_COMMAND_KEY": TEST_COMMAND_KEY.decode(),  # the tests' workers check this one
        "COLUMNS": "300",  # tables with paths (under pytest-xdist, tmp_path is longer) stay unwrapped
        **extra,
    }


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    """The CLI on this test's database, without Temporal."""
    return Cli(settings_env(database_url, tmp_path))


@dataclass
class Programme:
    cli: Cli
    env: WorkflowEnvironment
    store: EventStore

    def city(self, city_id: str) -> CityDriver:
        handle = self.env.client.get_workflow_handle(f"city-{city_id}")
        return CityDriver(self.env, self.store, city_id, handle, first_run_id="")


@pytest.fixture
async def programme(database_url: str, store: EventStore, tmp_path: Path) -> AsyncIterator[Programme]:
    """A dev server and a worker on this test's database; the CLI pointed at both."""
    async with dev_server_environment() as env, running_worker(env, store) as queue:
        target = env.client.service_client.config.target_host
        env_vars = settings_env(
            database_url, tmp_path, CITYCERT_TEMPORAL_ADDRESS=target, CITYCERT_TEMPORAL_TASK_QUEUE=queue
        )
        yield Programme(Cli(env_vars), env, store)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def lakeside_events() -> int:
    """How many events seed_lakeside records in all."""
    return sum(len(step.events) for step in walk())


async def seed_lakeside(store: EventStore, first_steps: int | None = None) -> None:
    """Record the walk-through city's two cycles (entrypoints.cli.walkthrough) straight into the store,
    or only its first `first_steps` steps."""
    steps = walk()[:first_steps]
    stream = city_stream("lakeside")
    version = await store.stream_version(stream)
    recorded = 0  # the events of the steps before this one: a step may record several
    for step in steps:
        recorded += len(step.events)
        if recorded <= version:
            continue
        events = [
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=step.at, actor=Actor(step.actor, "walk")
            )
            for e in step.events
        ]
        await store.append(stream, version, events)
        version += len(events)


# --- tokens ----------------------------------------------------------------------------------------


async def test_token_create_prints_only_the_token_and_stores_its_hash(cli: Cli, store: EventStore) -> None:
    result = await cli("token", "create", "--role", "reviewer", "--city", "riverton", "--name", "rev-ana")

    assert result.exit_code == 0, result.stderr
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n" and secret.startswith("cct_")
    info = await verify_token(store, secret)
    assert info is not None
    assert (info.role, info.city_id, info.actor_id) == ("reviewer", "riverton", "rev-ana")
    async with store.connection() as conn:
        stored = await conn.fetchval("SELECT token_hash FROM api_tokens WHERE id = $1", info.id)
        texts = await conn.fetchval(
            "SELECT count(*) FROM api_tokens WHERE position($1 in token_hash::text) > 0", secret
        )
    assert stored == hashlib.sha256(secret.encode()).digest() and texts == 0


async def test_tokens_are_listed_rotated_and_revoked_without_showing_a_secret(
    cli: Cli, store: EventStore
) -> None:
    first = (
        await cli("token", "create", "--role", "reviewer", "--city", "riverton", "--name", "rev-ana")
    ).stdout
    second_city = await cli(
        "token", "create", "--role", "reviewer", "--city", "lakeside", "--name", "rev-ana"
    )
    operator = (await cli("token", "create", "--role", "operator", "--name", "ops")).stdout
    assert second_city.exit_code == 2 and "exists with the home city 'riverton'" in said(second_city)

    listed = await cli.json("token", "list")
    assert [(t["role"], t["subject"], t["city_id"], t["status"]) for t in listed] == [
        ("reviewer", "rev-ana", "riverton", "active"),
        ("operator", "ops", None, "active"),
    ]
    table = await cli("token", "list")
    for shown in (json.dumps(listed), table.stdout):
        assert first.strip() not in shown and operator.strip() not in shown and "cct_" not in shown
    ana = listed[0]["id"]

    rotated = await cli("token", "rotate", ana)
    assert rotated.exit_code == 0, rotated.stderr
    new = await verify_token(store, rotated.stdout.strip())
    assert new is not None and (new.subject, new.city_id) == ("rev-ana", "riverton")
    assert await verify_token(store, first.strip()) is None, "the old token is retired"
    again = await cli("token", "rotate", ana)
    assert again.exit_code == 2 and "a revoked token is not rotated" in said(again)

    revoked = await cli("token", "revoke", new.id)
    twice = await cli("token", "revoke", new.id)
    unknown = await cli("token", "revoke", "tok_000000000000")
    assert revoked.exit_code == 0 and f"{new.id} revoked" in revoked.stdout
    assert twice.exit_code == 0 and "already revoked" in twice.stdout
    assert unknown.exit_code == 2 and "no token 'tok_000000000000'" in said(unknown)
    statuses = {t["id"]: t["status"] for t in await cli.json("token", "list")}
    assert statuses[ana] == statuses[new.id] == "revoked"


async def test_token_create_refuses_what_cannot_be_granted(cli: Cli) -> None:
    unknown = await cli("token", "create", "--role", "mayor")
    unbound = await cli("token", "create", "--role", "city")

    assert unknown.exit_code == 2 and "unknown role 'mayor'" in said(unknown)
    assert unbound.exit_code == 2 and "a city token needs --city" in said(unbound)
    assert unknown.stdout == unbound.stdout == ""


async def test_a_bad_setting_exits_2_naming_it(cli: Cli) -> None:
    result = await Cli({**cli.env, "CITYCERT_TEMPORAL_PORT": "seven"})("city", "list")

    assert result.exit_code == 2
    assert "bad setting: CITYCERT_TEMPORAL_PORT=" in said(result)


# --- cities ----------------------------------------------------------------------------------------


async def test_register_show_and_list_a_city(programme: Programme) -> None:
    cli, city_id = programme.cli, unique("alder")

    registered = await cli.json(
        "city", "register", city_id, "--name", "Alder", "--country", "us", "--population", "120000"
    )
    shown = await cli.json("city", "show", city_id)
    listed = await cli.json("city", "list", "--phase", "registered")
    table = await cli("city", "list")

    assert [e["type"] for e in registered["events"]] == ["CityRegistered"]
    assert registered["status"]["phase"] == "registered"
    assert shown | {"city_id": city_id, "name": "Alder", "country": "US", "phase": "registered"} == shown
    assert shown["open_items"] == [] and shown["level"] is None
    assert [c["city_id"] for c in listed] == [city_id]
    assert table.exit_code == 0 and city_id in table.stdout and "Alder" in table.stdout
    # Acting without a token, the CLI records the operating-system account that ran it.
    [registered_event] = await programme.store.read_stream(city_stream(city_id))
    uid = os.getuid()
    login = pwd.getpwuid(uid).pw_name
    assert registered_event.actor == Actor("operator", f"cli:{login}(uid {uid})")
    assert [c["city_id"] for c in await cli.json("city", "list", "--phase", "certified")] == []
    # The workflow runs and holds what the store holds.
    state = await programme.city(city_id).state()
    assert state == await load_city_state(programme.store, city_id)


async def test_a_city_registered_with_its_countrys_name_is_recorded_with_its_code(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("curitiba")

    registered = await cli.json(
        "city", "register", city_id, "--name", "Curitiba", "--country", "Brasil", "--population", "1900000"
    )

    assert registered["status"]["country"] == "BR"
    [stored] = await programme.store.read_stream(city_stream(city_id))
    assert stored.data["country"] == "BR"
    unknown = await cli(
        "city", "register", unique("x"), "--name", "X", "--country", "Canadia", "--population", "90000"
    )
    assert unknown.exit_code == 2
    assert "--country: 'Canadia' is not a country name or code we know; send an ISO 3166 code" in said(
        unknown
    )


async def test_an_ineligible_city_is_refused_with_the_reason_and_nothing_is_recorded(
    programme: Programme,
) -> None:
    city_id = unique("hamlet")

    result = await programme.cli(
        "city", "register", city_id, "--name", "Hamlet", "--country", "US", "--population", "900"
    )

    assert result.exit_code == 2
    assert "Hamlet is not eligible" in said(result)
    assert "population 900 is below the minimum of 30,000" in said(result)
    assert result.stdout == ""
    assert await programme.store.stream_version(city_stream(city_id)) == 0
    with pytest.raises(RPCError) as no_workflow:
        await programme.env.client.get_workflow_handle(f"city-{city_id}").describe()
    assert no_workflow.value.status == RPCStatusCode.NOT_FOUND


async def test_bad_input_exits_2_before_anything_is_touched(cli: Cli) -> None:
    bad_id = await cli("city", "register", "Not An Id", "--name", "X", "--country", "US", "--population", "1")
    bad_country = await cli(
        "city", "register", "ok-id", "--name", "X", "--country", "Canadia", "--population", "1"
    )
    bad_level = await cli("city", "list", "--level", "bronze")
    unknown = await cli("city", "show", "nowhere")
    no_history = await cli("history", "nowhere")

    assert bad_id.exit_code == 2 and "ID must be a city id: 2 to 63 lowercase letters" in said(bad_id)
    assert bad_country.exit_code == 2 and "--country" in said(bad_country)
    assert bad_level.exit_code == 2 and "bronze" in bad_level.stderr
    assert unknown.exit_code == 2 and "no city 'nowhere' is registered" in said(unknown)
    assert no_history.exit_code == 2 and "no city 'nowhere' is registered" in said(no_history)


async def test_commands_that_need_a_worker_say_so_when_no_temporal_runs(
    cli: Cli, store: EventStore, tmp_path: Path
) -> None:
    # A port nothing listens on, and no address: the CLI must not start a server of its own.
    nothing_listens = Cli({**cli.env, "CITYCERT_TEMPORAL_PORT": "1"})

    token = tmp_path / "rev-ana.token"
    token.write_text(await create_token(store, "reviewer", city="riverton", name="rev-ana"))
    result = await nothing_listens("review", "approve", "alder", "DM1", "--token-file", str(token))

    assert result.exit_code == 1
    assert "no Temporal server runs on 127.0.0.1:1: start `citycert dev`" in said(result)


# --- reviews ---------------------------------------------------------------------------------------


def _met(values: list[str]) -> list[str]:
    return [arg for value in values for arg in ("--met", value)]


async def test_review_decides_many_items_in_one_update_and_refuses_a_conflict_of_interest(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("birch")
    await cli.json("city", "register", city_id, "--name", "Birch", "--country", "CA", "--population", "80000")
    city = programme.city(city_id)
    assert (
        await city.walk(
            [
                apply("2026-fall"),
                evidence(["DM1", "DM2", "DM3", "DM4"]),
                *assigned_and_declared(["DM1", "DM2", "DM3", "DM4"]),
            ]
        )
        == []
    )
    ana = Cli(
        {**cli.env, "CITYCERT_TOKEN": await create_token(programme.store, "reviewer", "riverton", "rev-ana")}
    )
    bo = await create_token(programme.store, "reviewer", city=city_id, name="rev-bo")

    # An approval names the checklist items found met, per criterion ("ID=1,2") or for all named
    met = [f"{cid}={','.join(map(str, enough_items(cid)))}" for cid in ("DM1", "DM2")]
    approved = await ana.json("review", "approve", city_id, "DM1", "DM2", "--note", "fine", *_met(met))
    asked = await ana("review", "clarify", city_id, "DM3", "--note", "Which year?")
    conflicted = await Cli({**cli.env, "CITYCERT_TOKEN": bo})("review", "reject", city_id, "DM4")
    no_question = await ana("review", "clarify", city_id, "DM4")
    # Below the checklist it is refused, saying so, unless an override says why it stands
    short = await ana("review", "approve", city_id, "DM4", "--met", "1")
    overridden = await ana.json(
        "review", "approve", city_id, "DM4", "--met", "1", "--override", "Seen on the site visit"
    )
    assert short.exit_code != 0 and "DM4 needs" in said(short) and "found met (1)" in said(short)
    [kept] = overridden["events"]
    assert (kept["data"]["checklist_met"], kept["data"]["override"]) == ([1], "Seen on the site visit")
    assert [e["data"]["checklist_met"] for e in approved["events"]] == [
        enough_items("DM1"),
        enough_items("DM2"),
    ]

    assert [e["type"] for e in approved["events"]] == ["EvidenceApproved", "EvidenceApproved"]
    assert {e["data"]["criterion_id"] for e in approved["events"]} == {"DM1", "DM2"}
    assert asked.exit_code == 0 and "ClarificationRequested" in asked.stdout
    assert conflicted.exit_code == 2
    assert f"conflict of interest: reviewer rev-bo is from {city_id} and may not review that city" in said(
        conflicted
    )
    assert no_question.exit_code == 2 and "needs a note saying what to clarify" in said(no_question)
    # Two criteria, one Update: register, apply, evidence, assign, declare, approve, clarify, the
    # override.
    history = await city.handle.fetch_history()
    accepted = [
        e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 8
    # The refused review recorded nothing; the store shows the open items.
    stored = [e.type for e in await programme.store.read_stream(city_stream(city_id))]
    assert stored.count("EvidenceRejected") == 0
    shown = await cli.json("city", "show", city_id)
    open_items = {i["criterion_id"]: i["waiting_on"] for i in shown["open_items"]}
    assert open_items == {"DM3": "city"}
    assert all(datetime.fromisoformat(i["due_at"]) for i in shown["open_items"])
    # The decisions name the token's identity.
    actors = {
        e.actor
        for e in await programme.store.read_stream(city_stream(city_id))
        if e.type.startswith("Evidence")
    }
    assert Actor("reviewer", "rev-ana") in actors
    # The worksheet shows each decision on its checklist, and the override
    sheet = await cli.json("city", "worksheet", city_id)
    by_id = {c["criterion_id"]: c for c in sheet["criteria"]}
    assert (by_id["DM4"]["checklist_met"], by_id["DM4"]["override"]) == ([1], "Seen on the site visit")
    assert by_id["DM3"]["status"] == "clarification_requested"
    table = await cli("city", "worksheet", city_id)
    assert table.exit_code == 0 and "DM4" in table.stdout and "override" in table.stdout


async def test_review_acts_only_with_a_reviewer_s_token(cli: Cli, store: EventStore, tmp_path: Path) -> None:
    # Given no token, a flag naming someone, a city's token, a revoked one and an unreadable file,
    named = await cli("review", "approve", "alder", "DM1", "--reviewer", "rev-ana", "--home-city", "riverton")
    none = await cli("review", "approve", "alder", "DM1")
    staff = await Cli({**cli.env, "CITYCERT_TOKEN": await create_token(store, "city", "alder", "staff")})(
        "review", "approve", "alder", "DM1"
    )
    leaver = await issue_token(store, "reviewer", "riverton", "rev-leaver")
    await revoke_token(store, leaver.info.id)
    revoked = await Cli({**cli.env, "CITYCERT_TOKEN": leaver.secret})("review", "approve", "alder", "DM1")
    missing = await cli("review", "approve", "alder", "DM1", "--token-file", str(tmp_path / "none"))

    # then nothing is reviewed, each refusal saying why.
    assert named.exit_code == 2 and "No such option: --reviewer" in said(named)
    assert none.exit_code == 2 and "set CITYCERT_TOKEN or give --token-file PATH" in said(none)
    assert staff.exit_code == 2 and "a city token may not review" in said(staff)
    assert revoked.exit_code == 2 and f"the token {leaver.info.id} was revoked at" in said(revoked)
    assert missing.exit_code == 2 and "cannot read --token-file" in said(missing)


# --- city lists and history ---------------------------------------------------------------------------


async def test_city_list_filters_by_level_and_cohort(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)

    gold = await cli.json("city", "list", "--level", "gold")
    silver = await cli.json("city", "list", "--level", "silver")
    cohort = await cli.json("city", "list", "--round", "2029-spring", "--phase", "certified")

    assert [c["city_id"] for c in gold] == ["lakeside"] and silver == []
    assert [c["city_id"] for c in cohort] == ["lakeside"]


async def test_history_as_of_shows_the_state_at_that_moment(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store, first_steps=3)  # registered, snapshot taken, applied
    async with store.connection() as conn:
        then: datetime = await conn.fetchval("SELECT max(recorded_at) FROM events")
    await asyncio.sleep(0.01)
    await seed_lakeside(store)

    earlier = await cli.json("history", "lakeside", "--as-of", then.isoformat())
    now = await cli.json("history", "lakeside")
    table = await cli("history", "lakeside", "--as-of", then.isoformat())
    before_anything = await cli.json("history", "lakeside", "--as-of", "2001-01-01")
    bad = await cli("history", "lakeside", "--as-of", "last tuesday")

    assert [e["type"] for e in earlier["events"]] == [
        "CityRegistered",
        "DataSnapshotTaken",
        "ApplicationSubmitted",
        "DeadlineSet",  # the application starts the submission's clock
    ]
    assert earlier["events"][0] | {"version": 1, "actor": "operator:walk"} == earlier["events"][0]
    assert earlier["state"]["phase"] == "evidence" and earlier["state"]["version"] == 4
    assert earlier["state"]["certification"] is None
    assert now["state"]["phase"] == "certified" and now["state"]["certification"]["level"] == "gold"
    assert len(now["events"]) == now["state"]["version"] > 4
    assert table.exit_code == 0 and f"4 of {len(now['events'])} events as of" in table.stdout
    assert before_anything["events"] == [] and before_anything["state"]["phase"] == "unregistered"
    assert bad.exit_code == 2 and "--as-of 'last tuesday' is not a date or time" in said(bad)


async def test_site_visit_scheduled_rescheduled_then_recorded_as_held_with_findings(
    programme: Programme,
) -> None:
    from datetime import UTC, timedelta

    from tests.scenarios import CRITERIA, close, review

    cli, city_id = programme.cli, unique("elm")
    await cli.json("city", "register", city_id, "--name", "Elm", "--country", "US", "--population", "90000")
    first, second = CRITERIA[0], CRITERIA[1]
    steps = [
        apply("2026-fall"),
        evidence([first, second]),
        *assigned_and_declared([first, second]),
        review(approve=[first, second]),
        close(),
    ]
    assert await programme.city(city_id).walk(steps) == []
    today = datetime.now(UTC).date()

    scheduled = await cli.json("site-visit", "schedule", city_id, "--date", str(today + timedelta(days=5)))
    assert [e["type"] for e in scheduled["events"]] == ["SiteVisitScheduled"]
    moved = await cli.json(
        "site-visit",
        "reschedule",
        city_id,
        "--date",
        str(today + timedelta(days=9)),
        "--reason",
        "mayor away",
    )
    assert [e["data"]["reason"] for e in moved["events"]] == ["mayor away"]
    future = await cli(
        "site-visit", "complete", city_id, "--findings", "x", "--date", str(today + timedelta(days=1))
    )
    assert future.exit_code == 2 and "is in the future" in said(future)

    held = await cli.json(
        "site-visit",
        "complete",
        city_id,
        "--findings",
        "the visit came early",
        "--date",
        str(today - timedelta(days=1)),
        "--confirm",
        first,
        "--overturn",
        second,
    )
    assert [e["type"] for e in held["events"]] == ["SiteVisitCompleted", "LevelRecommended", "DeadlineSet"]
    completed = held["events"][0]["data"]
    assert completed["visit_date"] == str(today - timedelta(days=1)) and completed["overturned"] == [second]
    assert held["status"]["phase"] == "committee"
