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
from eventstore import EventStore
from readmodel import open_city_store
from runtime.embedded_postgres import create_database_if_missing, start_server, with_database
from tests.integration.workflows.harness import (
    REVIEWER_FROM_ELSEWHERE,
    CityDriver,
    import_certification,
    running_worker,
    start_city,
)
from tests.scenarios import (
    CITY_STAFF,
    COMMITTEE,
    OPERATOR,
    REVIEWER,
    SILVER_SCORE,
    apply,
    approval_json,
    certify,
    evidence_json,
)
from tests.temporal_env import time_skipping_environment

HERE = Path(__file__).parent
# What the recording shows: cycles opened under the programme's review rules (domain/rules.py:
# revision 2 of the standards, worksheets, assigned reviewers who declared no conflict, phase
# clocks), recorded through a local activity, the decision accepted instead of an appeal window.
LABEL = "programme-review"
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
        # Two cycles (new Silver, elevated Gold), with a clarification answered and one expired.
        city = await start_city(env, store, queue, "harbor")
        await city.do("RegisterCity", city_id="harbor", name="Harbor", country="US", population=95_000)
        assert await city.walk(certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER)) == []
        await city.do("ApplyForCertification", CITY_STAFF, cohort="2027-fall", standard_version="wwc-2022")
        await city.do("SubmitEvidence", CITY_STAFF, items=[evidence_json(c) for c in ("DM1", "DM2")])
        await city.do("AssignReviewer", OPERATOR, **REVIEWER_FROM_ELSEWHERE, criterion_ids=["DM1", "DM2"])
        await city.do("DeclareNoConflict", REVIEWER, reviewer_id=REVIEWER_FROM_ELSEWHERE["reviewer_id"])
        ask = [
            {"criterion_id": c, "decision": "request_clarification", "note": "Which year?"}
            for c in ("DM1", "DM2")
        ]
        await city.do("ReviewEvidence", REVIEWER, **REVIEWER_FROM_ELSEWHERE, items=ask)
        await city.do("AnswerClarifications", CITY_STAFF, items=[{"criterion_id": "DM1", "answer": "2025"}])
        await env.sleep(timedelta(days=26))  # DM2 expires; DM1's reviewer is escalated
        await city.do("CloseEvidenceSubmission", CITY_STAFF)
        await city.do("ReviewEvidence", REVIEWER, **REVIEWER_FROM_ELSEWHERE, items=[approval_json("DM1")])
        held = (await env.get_current_time()).date() - timedelta(days=1)  # a visit that took place
        await city.do("CompleteSiteVisit", COMMITTEE, findings="seen on site", visit_date=held.isoformat())
        await city.do("DecideLevel", COMMITTEE, level=None, rationale="not enough")
        await city.do("AcceptDecision", CITY_STAFF)
        await save_runs(city)

        # An imported certification, a reminder, then a withdrawal that ends the workflow.
        city = await start_city(env, store, queue, "summit")
        await city.do("RegisterCity", city_id="summit", name="Summit", country="CA", population=41_000)
        await import_certification(city, "silver", "wwc-2018", held_days=1000, days_left=60)
        await city.handle.signal("remind", 90)
        await env.sleep(timedelta(days=61))  # lapses
        await city.do("Withdraw", OPERATOR, reason="Council ended the data programme")
        await city.handle.result()
        await save_runs(city)


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
