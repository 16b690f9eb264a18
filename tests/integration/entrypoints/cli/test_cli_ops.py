"""Operators' tools over a real PostgreSQL and, for the workflow checks, a real Temporal dev server
with a real worker: replay histories, rebuild projections, verify the store and the workflows,
restart a city workflow that stopped."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus

from app.commands import CommandService, RestartOutcome
from app.errors import WorkflowNotRunning, WorkflowRunning
from domain import ProgrammePolicy
from domain import commands as cmd
from eventstore import EventStore
from readmodel import load_city_state
from tests.conftest import Databases
from tests.integration.entrypoints.cli.test_cli_cities import (  # the shared CLI harness, and its fixtures
    Cli,
    Programme,
    cli,
    lakeside_events,
    programme,
    restore_logging,
    said,
    seed_lakeside,
    unique,
)
from tests.polling import eventually
from tests.scenarios import CITY_STAFF, CRITERIA, DOCS, OPERATOR, TEST_COMMAND_KEY, apply

__all__ = ["cli", "programme", "restore_logging"]  # fixtures used by name

HISTORIES = Path(__file__).parents[3] / "histories"


async def verify(cli: Cli, *args: str) -> tuple[int, Any]:
    """`citycert verify --json`: its exit code and its report (exit 1 still prints the report)."""
    result = await cli("verify", *args, "--json")
    assert result.exit_code in (0, 1), (result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def command_service(programme: Programme) -> CommandService:
    """The application's command service on the test's store, dev server and worker."""
    queue = programme.cli.env["CITYCERT_TEMPORAL_TASK_QUEUE"]
    assert queue is not None
    return CommandService(
        programme.store,
        programme.env.client,
        policy=ProgrammePolicy(),
        task_queue=queue,
        command_timeout=30,
        command_key=TEST_COMMAND_KEY,
    )


async def register(programme: Programme, name: str) -> str:
    city_id = unique(name)
    await programme.cli.json(
        "city", "register", city_id, "--name", name.title(), "--country", "US", "--population", "90000"
    )
    return city_id


# --- replay ----------------------------------------------------------------------------------------


async def test_replay_of_the_recorded_histories_passes(cli: Cli) -> None:
    result = await cli("replay", "--histories", str(HISTORIES))
    only_harbor = await cli.json("replay", "--histories", str(HISTORIES), "--city", "harbor")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "5 of 5 histories replay with this code" in result.stdout
    assert only_harbor["ok"] and only_harbor["replayed"] == 3
    assert all(Path(r["source"]).name.startswith("harbor-") for r in only_harbor["results"])


async def test_replay_of_a_tampered_history_fails_naming_it(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "histories"
    folder.mkdir()
    shutil.copy(HISTORIES / "summit-run1.json", folder)
    original = (HISTORIES / "harbor-run1.json").read_text(encoding="utf-8")
    # The recorded run called another activity than today's code does: a non-determinism.
    (folder / "harbor-run1.json").write_text(original.replace('"record_events"', '"record_events_v0"', 1))
    (folder / "broken.json").write_text("{not json")

    table = await cli("replay", "--histories", str(folder))
    data = json.loads((await cli("replay", "--histories", str(folder), "--json")).stdout)

    assert table.exit_code == 1
    assert "2 of 3 histories do not replay" in table.stdout and "harbor-run1.json" in table.stdout
    assert "1 of 3 histories replay with this code" in table.stdout
    failures = {Path(r["source"]).name: r["failure"] for r in data["results"] if not r["ok"]}
    assert not data["ok"] and set(failures) == {"harbor-run1.json", "broken.json"}
    assert failures["harbor-run1.json"].startswith("[TMPRL1100] Nondeterminism error: Activity type")
    assert "record_events_v0" in failures["harbor-run1.json"]
    assert "unreadable history" in failures["broken.json"]


async def test_replay_refuses_bad_input(cli: Cli, tmp_path: Path) -> None:
    missing = await cli("replay", "--histories", str(tmp_path / "nowhere"))
    empty = await cli("replay", "--histories", str(tmp_path))
    both = await cli("replay", "--histories", str(HISTORIES), "--query", "CertPhase = 'review'")
    bad_city = await cli("replay", "--city", "Not A City", "--histories", str(HISTORIES))

    assert [r.exit_code for r in (missing, empty, both, bad_city)] == [2, 2, 2, 2]
    assert "is not a directory" in said(missing) and "no histories (*.json)" in said(empty)
    assert "cannot be used with --histories" in said(both) and "not city ids" in said(bad_city)


async def test_replay_fetches_the_histories_of_the_city_workflows_from_temporal(programme: Programme) -> None:
    cli = programme.cli
    oak, pine = await register(programme, "oak"), await register(programme, "pine")
    assert await programme.city(pine).walk([apply("2026-fall")]) == []

    everything = await eventually(lambda: cli.json("replay"), lambda d: d["replayed"] == 2)
    one = await cli.json("replay", "--city", oak)
    applied = await eventually(
        lambda: cli.json("replay", "--query", "CertPhase = 'evidence'"), lambda d: d["replayed"] == 1
    )
    bad_query = await cli("replay", "--query", "NoSuchField = 1")

    assert everything["ok"] and {r["workflow_id"] for r in everything["results"]} == {
        f"city-{oak}",
        f"city-{pine}",
    }
    assert one["ok"] and [r["workflow_id"] for r in one["results"]] == [f"city-{oak}"]
    assert [r["workflow_id"] for r in applied["results"]] == [f"city-{pine}"]
    assert bad_query.exit_code == 2 and "Temporal refused the visibility query" in said(bad_query)


# --- verify ----------------------------------------------------------------------------------------


async def test_verify_is_ok_when_the_store_and_the_running_workflows_agree(programme: Programme) -> None:
    cli = programme.cli
    elm, fir = await register(programme, "elm"), await register(programme, "fir")
    assert await programme.city(elm).walk([apply("2026-fall")]) == []
    # A withdrawn city's workflow has ended for good, as it should: not a finding.
    await programme.city(fir).do("Withdraw", OPERATOR, reason="left the programme")

    data = await eventually(lambda: cli.json("verify"), lambda d: d["workflows"]["checked"] == 1)
    table = await cli("verify")

    assert data["ok"] and data["store"]["ok"] and data["workflows"]["ok"]
    assert data["store"]["streams"] == 2
    assert data["workflows"]["mismatches"] == [] and data["workflows"]["not_running"] == []
    assert table.exit_code == 0 and "workflows: 1 running city workflows compared" in table.stdout
    assert table.stdout.rstrip().endswith("OK")


async def test_verify_reports_a_terminated_workflow_and_restart_resumes_it_from_the_store(
    programme: Programme,
) -> None:
    cli, client = programme.cli, programme.env.client
    oak = await register(programme, "oak")
    assert await programme.city(oak).walk([apply("2026-fall")]) == []
    before = await load_city_state(programme.store, oak)
    submission = cmd.SubmitEvidence(
        items=[cmd.EvidenceItem(criterion_id=c, documents=DOCS) for c in CRITERIA[:2]]
    )
    terminated = await client.get_workflow_handle(f"city-{oak}").describe()
    await client.get_workflow_handle(f"city-{oak}").terminate(reason="an operator's mistake")

    code, found = await eventually(lambda: verify(cli), lambda r: r[1]["workflows"]["not_running"] != [])
    table = await cli("verify")

    assert code == 1 and found["store"]["ok"] and not found["ok"] and not found["workflows"]["ok"]
    assert found["workflows"]["not_running"] == [
        {
            "city_id": oak,
            "phase": "evidence",
            "workflow_id": f"city-{oak}",
            "status": "terminated",
            "run_id": terminated.run_id,
        }
    ]
    assert table.exit_code == 1 and "PROBLEMS FOUND" in table.stdout
    assert f"city-{oak}" in table.stdout and "terminated" in table.stdout
    assert "citycert workflow restart CITY" in table.stdout

    # Meanwhile the city's commands are refused, saying what the operator must do.
    with pytest.raises(WorkflowNotRunning, match=f"citycert workflow restart {oak}"):
        await command_service(programme).give(oak, submission, CITY_STAFF)

    restarted = await cli.json("workflow", "restart", oak)

    assert restarted | {"city_id": oak, "workflow_id": f"city-{oak}", "previous": "terminated"} == restarted
    assert restarted["run_id"] != terminated.run_id
    assert restarted["status"]["phase"] == "evidence" and restarted["status"]["version"] == before.version
    described = await client.get_workflow_handle(f"city-{oak}").describe()
    assert described.run_id == restarted["run_id"] and described.status is WorkflowExecutionStatus.RUNNING
    # The new run holds what the store holds, and takes the city's next command.
    assert await programme.city(oak).state() == before
    outcome = await command_service(programme).give(oak, submission, CITY_STAFF)
    assert [e.type for e in outcome.events] == ["EvidenceSubmitted", "EvidenceSubmitted"]
    assert outcome.summary.version == before.version + 2
    healthy = await eventually(lambda: verify(cli), lambda r: r[0] == 0)
    assert healthy[1]["workflows"]["not_running"] == [] and healthy[1]["workflows"]["checked"] == 1


async def test_a_city_with_no_workflow_is_reported_missing_until_it_is_restarted(
    programme: Programme,
) -> None:
    cli = programme.cli
    await seed_lakeside(programme.store)  # a stream recorded straight into the store: no workflow

    code, found = await verify(cli)
    table = await cli("workflow", "restart", "lakeside")
    code_after, after = await eventually(lambda: verify(cli), lambda r: r[1]["workflows"]["checked"] == 1)

    assert code == 1 and found["store"]["ok"]
    [missing] = found["workflows"]["not_running"]
    assert missing == {
        "city_id": "lakeside",
        "phase": "certified",
        "workflow_id": "city-lakeside",
        "status": "missing",
        "run_id": None,
    }
    assert table.exit_code == 0, table.stderr
    assert (
        "restarted city-lakeside (it was missing)" in table.stdout
        and f"certified at v{lakeside_events()}" in table.stdout
    )
    assert await programme.city("lakeside").state() == await load_city_state(programme.store, "lakeside")
    assert code_after == 0 and after["ok"] and after["workflows"]["not_running"] == []


async def test_restart_refuses_a_running_workflow_a_withdrawn_city_and_an_unknown_one(
    programme: Programme,
) -> None:
    cli = programme.cli
    ash, yew = await register(programme, "ash"), await register(programme, "yew")
    await programme.city(yew).do("Withdraw", OPERATOR, reason="left the programme")
    running = await programme.env.client.get_workflow_handle(f"city-{ash}").describe()

    of_running = await cli("workflow", "restart", ash)
    of_withdrawn = await cli("workflow", "restart", yew)
    of_unknown = await cli("workflow", "restart", "atlantis")
    of_no_city = await cli("workflow", "restart", "Not A City")

    assert [r.exit_code for r in (of_running, of_withdrawn, of_unknown, of_no_city)] == [2, 2, 2, 2]
    assert f"the workflow of '{ash}' is running (run {running.run_id}): there is nothing to restart" in (
        said(of_running)
    )
    assert f"'{yew}' has withdrawn: its workflow ended for good" in said(of_withdrawn)
    assert "no city 'atlantis' is registered" in said(of_unknown) and "not city ids" in said(of_no_city)
    still = await programme.env.client.get_workflow_handle(f"city-{ash}").describe()
    assert still.run_id == running.run_id and still.status is WorkflowExecutionStatus.RUNNING


async def test_two_restarts_at_once_start_one_run(programme: Programme) -> None:
    client, service = programme.env.client, command_service(programme)
    elm = await register(programme, "elm")
    await client.get_workflow_handle(f"city-{elm}").terminate(reason="an operator's mistake")

    # Through the app function both entry points call (CliRunner swaps sys.stdout, so two CLI
    # invocations cannot share a process at once).
    outcomes = await asyncio.gather(
        service.restart(elm, OPERATOR), service.restart(elm, OPERATOR), return_exceptions=True
    )

    [won] = [o for o in outcomes if isinstance(o, RestartOutcome)]
    [lost] = [o for o in outcomes if not isinstance(o, RestartOutcome)]
    assert isinstance(lost, WorkflowRunning) and f"the workflow of '{elm}' is running" in str(lost)
    assert won.previous == "terminated"
    described = await client.get_workflow_handle(f"city-{elm}").describe()
    assert described.run_id == won.run_id and described.status is WorkflowExecutionStatus.RUNNING


async def test_verify_reports_a_workflow_whose_state_is_not_the_stores(
    programme: Programme, databases: Databases, tmp_path: Path
) -> None:
    ash = await register(programme, "ash")
    await eventually(lambda: programme.cli.json("verify"), lambda d: d["workflows"]["checked"] == 1)
    # The same Temporal, another (empty) database: the workflow remembers events the store lacks.
    elsewhere = Cli({**programme.cli.env, "CITYCERT_DATABASE_URL": await databases.migrated()})

    result = await elsewhere("verify", "--json")
    table = await elsewhere("verify")

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["store"]["ok"] and not data["ok"]
    [mismatch] = data["workflows"]["mismatches"]
    assert mismatch["city_id"] == ash and mismatch["workflow_id"] == f"city-{ash}"
    assert mismatch["detail"].startswith("workflow at v1, stream at v0; differs in version, phase")
    assert table.exit_code == 1 and "PROBLEMS FOUND" in table.stdout and f"city-{ash}" in table.stdout


async def test_verify_reports_an_event_edited_behind_the_stores_back(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)
    clean = await cli.json("verify", "--skip-workflows")
    async with store.connection() as conn:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{population}', '1000000')"
            " WHERE stream_id = 'city-lakeside' AND version = 1"
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")

    result = await cli("verify", "--skip-workflows", "--json")
    table = await cli("verify", "--skip-workflows")

    assert clean["ok"] and clean["store"]["events"] == lakeside_events() and clean["workflows"]["skipped"]
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [(p["stream_id"], p["version"]) for p in data["store"]["broken_chains"]] == [("city-lakeside", 1)]
    assert table.exit_code == 1
    assert "broken chain: city-lakeside v1: hash does not match the content" in table.stdout


async def test_an_anchor_lets_verify_see_a_stream_cut_short_that_the_chain_cannot(
    cli: Cli, store: EventStore
) -> None:
    await seed_lakeside(store)
    no_anchor = await cli("verify", "--skip-workflows")
    anchored = await cli.json("anchor")
    async with store.connection() as conn:  # the last event goes, leaving a chain that is whole
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            "DELETE FROM events WHERE stream_id = 'city-lakeside'"
            " AND version = (SELECT max(version) FROM events WHERE stream_id = 'city-lakeside')"
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")

    result = await cli("verify", "--skip-workflows", "--json")
    table = await cli("verify", "--skip-workflows")

    assert "anchor: none yet" in no_anchor.stdout
    assert anchored["streams"] == 1 and Path(anchored["file"]).is_file()
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["store"]["broken_chains"] == [] and data["store"]["version_gaps"] == []
    [problem] = data["store"]["anchor"]["problems"]
    assert (
        problem["stream_id"] == "city-lakeside"
        and "events recorded before the anchor were removed" in (problem["detail"])
    )
    assert table.exit_code == 1 and f"anchor: checked against {anchored['file']}" in table.stdout


async def test_verify_needs_temporal_unless_told_to_skip_the_workflows(cli: Cli) -> None:
    nothing_listens = Cli({**cli.env, "CITYCERT_TEMPORAL_PORT": "1"})

    result = await nothing_listens("verify")

    assert result.exit_code == 1
    assert "or check the store alone with --skip-workflows" in said(result)


# --- projections -----------------------------------------------------------------------------------


async def test_projections_rebuild_restores_what_verify_found_missing(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)
    async with store.connection() as conn:
        await conn.execute("DELETE FROM city_status")
    broken = await cli("verify", "--skip-workflows", "--json")

    rebuilt = await cli.json("projections", "rebuild")
    table = await cli("projections", "rebuild")
    after = await cli.json("verify", "--skip-workflows")

    assert broken.exit_code == 1
    missing = json.loads(broken.stdout)["store"]["projection_mismatches"]
    assert missing == [{"table": "city_status", "key": ["lakeside"], "detail": "row missing"}]
    assert rebuilt | {"streams": 1, "events": lakeside_events()} == rebuilt
    assert (
        table.exit_code == 0
        and f"rebuilt the projections of 1 cities from {lakeside_events()} events" in table.stdout
    )
    assert after["ok"]
    assert [c["city_id"] for c in await cli.json("city", "list", "--level", "gold")] == ["lakeside"]


# --- migrate ---------------------------------------------------------------------------------------


async def test_migrate_applies_the_migrations_as_the_owner_and_then_the_runtime_can_start(
    databases: Databases, tmp_path: Path
) -> None:
    from eventstore.migrations import shipped_migrations
    from runtime.embedded_postgres import ensure_runtime_login
    from tests.integration.entrypoints.cli.test_cli_cities import settings_env

    # Given an empty database, its owner's URL and a runtime login (the cluster's roles exist),
    await databases.migrated()
    owner = await databases.create()
    runtime = await ensure_runtime_login(owner)
    as_runtime = Cli(settings_env(runtime, tmp_path))
    both = Cli(settings_env(runtime, tmp_path, CITYCERT_DATABASE_OWNER_URL=owner))

    # a process holding only the runtime's URL refuses to start on it,
    refused = await as_runtime("city", "list")
    assert refused.exit_code == 1 and "citycert migrate" in said(refused)
    # and so does `citycert migrate` itself without the owner's URL,
    cannot = await as_runtime("migrate")
    assert cannot.exit_code == 1 and "names the role that owns the schema" in said(cannot), said(cannot)
    # `citycert migrate` with the owner's URL applies every migration, once,
    assert (await both.json("migrate"))["applied"] == [m.version for m in shipped_migrations()]
    assert (await both("migrate")).stdout.strip() == "nothing to migrate"
    # and then the runtime starts.
    listed = await as_runtime("city", "list", "--json")
    assert listed.exit_code == 0, said(listed)
