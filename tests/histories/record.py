"""Record representative city histories as JSON, for the replay test (tests/workflows/test_replay.py).

Run after an intended change to the workflow (guarded by workflow.patched) to add new histories:

    .venv/bin/python -m tests.histories.record

Each recording gets its own folder, `tests/histories/<LABEL>/`, with files named
`<city>-<LABEL>-runN.json`: give LABEL a new value before recording again, so the files already
there stay (and `citycert replay --histories` can replay one recording on its own). Keep the old
files: they are the running workflows of yesterday that today's code must still replay; the
top-level `<city>-runN.json` were recorded through the older `command` Update.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from domain import Level
from domain import commands as cmd
from eventstore import EventStore
from readmodel import open_city_store
from runtime.embedded_postgres import create_database_if_missing, start_server, with_database
from tests.integration.workflows.harness import (
    CityDriver,
    registration_attributes,
    running_worker,
    start_city,
)
from tests.scenarios import (
    CITY_STAFF,
    COMMITTEE,
    OPERATOR,
    SILVER_SCORE,
    apply,
    certify,
    open_round,
)
from tests.temporal_env import time_skipping_environment

HERE = Path(__file__).parent
# What the recording shows: the ROUNDS scenarios below (applications naming an open round, awards
# with a certificate number, a suspension and its reinstatement, ends recorded as
# CertificationEnded, an application after a lapse) in runs started as citycert starts them now:
# every patch on from the start (CityWorkflowInput.patched_at_start: no patch markers), the
# deadline's timer kept while the deadline stays, and the search attributes carried across
# continue-as-new; each run started, as the command service starts a registration's, with the
# search attributes of the registered city, so recording the registration upserts none. The folder
# `patched-at-start` holds the same scenarios started without them, `rounds` those recorded before.
LABEL = "attributes-at-start"
FOLDER = HERE / LABEL


async def save_runs(city: CityDriver) -> None:
    """Every run of the city's workflow so far, oldest first, as <city>-<LABEL>-runN.json."""
    run_id: str | None = city.first_run_id
    n = 1
    while run_id:
        history = await city.env.client.get_workflow_handle(city.handle.id, run_id=run_id).fetch_history()
        (FOLDER / f"{city.city_id}-{LABEL}-run{n}.json").write_text(history.to_json(), encoding="utf-8")
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
        n += 1


async def scenarios(store: EventStore) -> None:
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        # Silver, suspended and reinstated, a re-certification begun, then a withdrawal that ends
        # the certification and the workflow.
        harbor = cmd.RegisterCity(city_id="harbor", name="Harbor", country="US", population=95_000)
        city = await start_city(
            env, store, queue, "harbor", search_attributes=registration_attributes(harbor)
        )
        await city.do("RegisterCity", **harbor.model_dump(exclude={"kind"}, exclude_none=True))
        assert await city.walk(certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER)) == []
        await city.do("SuspendCertification", COMMITTEE, reason="portal offline", suspended_by="cmt-ben")
        await city.do("ReinstateCertification", COMMITTEE, reason="back online", reinstated_by="cmt-ben")
        await city.do("ApplyForCertification", CITY_STAFF, **application("2027-fall"))
        await city.do("Withdraw", OPERATOR, reason="Council ended the data programme")
        await city.handle.result()
        await save_runs(city)

        # Silver that lapses at the end of its three calendar years, and a new application.
        summit = cmd.RegisterCity(city_id="summit", name="Summit", country="CA", population=41_000)
        city = await start_city(
            env, store, queue, "summit", search_attributes=registration_attributes(summit)
        )
        await city.do("RegisterCity", **summit.model_dump(exclude={"kind"}, exclude_none=True))
        assert await city.walk(certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER)) == []
        await env.sleep(timedelta(days=3 * 366))  # lapses
        await city.do("ApplyForCertification", CITY_STAFF, **application("2030-spring"))
        await save_runs(city)


def application(round_id: str) -> dict[str, object]:
    return {
        "cohort": round_id,
        "standard_version": "wwc-2022",
        "round": open_round(round_id).model_dump(mode="json"),
    }


async def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            await create_database_if_missing(server.get_uri(), "record")
            store = await open_city_store(with_database(server.get_uri(), "record"))
            await store.migrate()
            try:
                await scenarios(store)
            finally:
                await store.close()
        finally:
            server.cleanup()
    print("recorded:", ", ".join(sorted(p.name for p in FOLDER.glob("*.json"))))


if __name__ == "__main__":
    asyncio.run(main())
