"""One city's certification as a Temporal workflow: every command an Update, every step an event
in the store, every deadline a timer (on the time-skipping server, so 30 days take no time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities.names import RECORD_EVENTS, RecordEventsInput, RecordEventsResult
from activities.recording import CityActivities
from domain import Level, Phase
from domain import commands as cmd
from eventstore import EventStore
from readmodel import load_city_state
from tests.integration.workflows.harness import (
    CRITERIA,
    DOCS,
    REVIEWER_FROM_ELSEWHERE,
    import_certification,
    refusal,
    run_history_lengths,
    running_worker,
    start_city,
)
from tests.polling import eventually
from tests.scenarios import (
    CITY_STAFF,
    COMMITTEE,
    DAY,
    GOLD_SCORE,
    OPERATOR,
    REVIEWER,
    SILVER_SCORE,
    apply,
    approval_json,
    certification_lapses,
    certify,
    evidence_json,
    reapply,
    register,
    signed,
)
from tests.temporal_env import time_skipping_environment
from workflows import search_attributes
from workflows.city import CityCertificationWorkflow, GiveCommand
from workflows.contracts import command_event_id, command_proof
from workflows.reminders import ReminderSweepInput, ReminderSweepWorkflow


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    # One server per test: the time-skipping clock is global to a server, and a test's leftover
    # timers would fire into the next test's sleeps.
    async with time_skipping_environment() as environment:
        yield environment


async def test_a_city_goes_from_registration_to_gold(env: WorkflowEnvironment, store: EventStore) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "lakeside")
        await city.do("RegisterCity", city_id="lakeside", name="Lakeside", country="US", population=182_000)
        snapshot = await city.do(
            "TakeDataSnapshot",
            CITY_STAFF,
            standard_version="wwc-2022",
            answers=dict.fromkeys(CRITERIA[:30], "met"),
        )
        # The Update answers with receipts; the event itself is in the store
        [taken] = await store.events_by_id([snapshot.events[0].event_id])
        assert (taken.type, taken.data["indicative_level"]) == ("DataSnapshotTaken", "gold")
        await city.do("ApplyForCertification", CITY_STAFF, cohort="2026-fall", standard_version="wwc-2022")
        items = [evidence_json(cid) for cid in CRITERIA[:30]]
        await city.do("SubmitEvidence", CITY_STAFF, items=items)
        verdicts = [approval_json(cid) for cid in CRITERIA[:30]]
        await city.do("AssignReviewer", OPERATOR, **REVIEWER_FROM_ELSEWHERE, criterion_ids=CRITERIA[:30])
        await city.do("DeclareNoConflict", REVIEWER, reviewer_id=REVIEWER_FROM_ELSEWHERE["reviewer_id"])
        await city.do("ReviewEvidence", REVIEWER, **REVIEWER_FROM_ELSEWHERE, items=verdicts)
        closed = await city.do("CloseEvidenceSubmission", CITY_STAFF)
        # The review completes with the close, and the clock of the visit's scheduling starts
        assert [e.type for e in closed.events] == [
            "EvidenceSubmissionClosed",
            "EvidenceReviewCompleted",
            "DeadlineSet",
        ]
        await city.do("WaiveSiteVisit", COMMITTEE, reason="Visited virtually")
        decided = await city.do("DecideLevel", COMMITTEE, level="gold", rationale="Clear Gold")
        assert decided.status.phase is Phase.APPEAL_WINDOW

        # Thirty days pass with no appeal: the window's timer awards the certification.
        await env.sleep(timedelta(days=31))
        state = await city.state()
        assert state.phase is Phase.CERTIFIED and state.level is not None and state.level.value == "gold"
        stored = await city.stored_types()
        assert stored[-1] == "CertificationAwarded"
        assert len(stored) == state.version, "the store holds exactly the events the workflow folded"
        assert await load_city_state(store, "lakeside") == state
        report = await store.verify()
        assert report.ok, report


async def test_a_refused_command_records_nothing_and_says_why(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "riverton")
        await city.do("RegisterCity", city_id="riverton", name="Riverton", country="CA", population=75_000)
        refusal = await city.refused("DecideLevel", COMMITTEE, level="gold", rationale="too early")
        assert (refusal.type, refusal.non_retryable) == ("CommandRejected", True)
        assert "DecideLevel needs the city to be committee" in refusal.message
        assert "allowed now: TakeDataSnapshot, ApplyForCertification" in refusal.message
        assert await city.stored_types() == ["CityRegistered"]
        history = await city.handle.fetch_history()
        accepted = [
            e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]
        assert len(accepted) == 1, "only the registration entered the workflow's history"


async def test_a_command_given_under_a_request_id_is_findable_and_its_result_is_small(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "harbor")
        await city.do("RegisterCity", city_id="harbor", name="Harbor", country="US", population=60_000)
        # When a city's evidence is given under a request id
        await city.do("ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-2022")
        evidence = cmd.SubmitEvidence(
            items=[
                cmd.EvidenceItem(criterion_id=cid, documents=DOCS, narrative="x" * 2_000)
                for cid in CRITERIA[:3]
            ]
        )
        result = await city.handle.execute_update(
            CityCertificationWorkflow.give, signed("harbor", evidence, CITY_STAFF, request_id="req-1")
        )
        # Then its events carry the ids a caller can derive from that request id, to look them up
        assert [r.event_id for r in result.events] == [command_event_id("req-1", i) for i in range(3)]
        found = await store.events_by_id([command_event_id("req-1", i) for i in range(3)])
        assert [e.data["criterion_id"] for e in found] == CRITERIA[:3]
        # and the Update's result in the history holds receipts, not the narratives again
        history = await city.handle.fetch_history()
        completed = [
            e.workflow_execution_update_completed_event_attributes.outcome.success.payloads[0].data
            for e in history.events
            if e.HasField("workflow_execution_update_completed_event_attributes")
        ]
        assert len(completed) == 3, "registration, application, evidence"
        assert b"x" * 2_000 not in completed[2] and str(result.events[0].event_id).encode() in completed[2]


async def test_a_countersignature_recorded_under_another_name_than_its_giver_is_refused(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "summit")
        await city.do("RegisterCity", city_id="summit", name="Summit", country="CA", population=41_000)
        now = datetime.now(UTC)
        period = {
            "valid_from": (now - timedelta(days=10)).isoformat(),
            "valid_until": (now + timedelta(days=300)).isoformat(),
        }
        # Given an entry point (or anyone holding the command key) naming someone else as proposer
        refusal = await city.refused(
            "ProposeImport",
            OPERATOR,
            level="gold",
            cohort="2024",
            standard_version="wwc-2018",
            proposed_by="someone-else",
            **period,
        )
        # Then the workflow refuses it as not authorized, and nothing is recorded
        assert refusal.type == "NotAuthorized" and "names 'someone-else' as proposed_by" in refusal.message
        await city.do(
            "ProposeImport",
            OPERATOR,
            level="gold",
            cohort="2024",
            standard_version="wwc-2018",
            proposed_by=OPERATOR.id,
            **period,
        )
        forged = await city.refused("CountersignImport", COMMITTEE, countersigned_by="chair-2")
        assert forged.type == "NotAuthorized"
        assert await city.stored_types() == ["CityRegistered", "CertificationImportProposed"]


async def test_an_assigned_reviewer_and_the_city_are_told_when_their_due_dates_are_near(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        # Given DM1 assigned to rev-ana (due in ten days) and DM2 submitted
        city = await start_city(env, store, queue, "northgate")
        await city.do("RegisterCity", city_id="northgate", name="Northgate", country="US", population=70_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="2026-fall", standard_version="wwc-2022")
        items = [{"criterion_id": cid, "documents": DOCS} for cid in ("DM1", "DM2")]
        await city.do("SubmitEvidence", CITY_STAFF, items=items)
        await city.do(
            "AssignReviewer",
            OPERATOR,
            reviewer_id="rev-ana",
            reviewer_home_city="riverton",
            criterion_ids=["DM1"],
        )
        # When eight and a half days pass, then the workflow's own timer told the reviewer
        await env.sleep(timedelta(days=8, hours=12))
        await eventually(city.stored_types, lambda types: "ReviewDueSoon" in types)
        async with store.connection() as conn:
            kinds = [
                r["kind"]
                for r in await conn.fetch("SELECT kind FROM notification_outbox ORDER BY created_at")
            ]
        assert "review_due_soon" in kinds and kinds.count("reviewer_assigned") == 1
        # and two days later the overdue review is escalated, as before
        await env.sleep(timedelta(days=2))
        await eventually(city.stored_types, lambda types: types[-1] == "ReviewEscalated")
        assert (await city.stored_types()).count("ReviewDueSoon") == 1


async def test_each_refusal_carries_the_type_the_api_answers_by(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """IneligibleCity and InvalidCommand are 422 (change the request), CommandRejected 409 (wait)."""
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "eastvale")
        small = await city.refused(
            "RegisterCity", city_id="eastvale", name="E", country="US", population=9_000
        )
        assert (small.type, small.non_retryable) == ("IneligibleCity", True)
        assert "population 9,000 is below the minimum of 30,000" in small.message

        await city.do("RegisterCity", city_id="eastvale", name="Eastvale", country="US", population=90_000)
        old_standard = await city.refused(
            "ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-1999"
        )
        assert (old_standard.type, old_standard.non_retryable) == ("InvalidCommand", True)
        assert "unknown standard version 'wwc-1999'" in old_standard.message

        await city.do("ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-2022")
        no_such_criterion = await city.refused(
            "SubmitEvidence", CITY_STAFF, items=[{"criterion_id": "ZZ 9", "documents": DOCS}]
        )
        assert (no_such_criterion.type, no_such_criterion.message) == (
            "InvalidCommand",
            "not criteria of wwc-2022: ZZ 9",
        )

        timer_only = await city.refused("SendReminder", OPERATOR, threshold_days=90)
        assert (timer_only.type, timer_only.non_retryable) == ("InvalidCommand", True)
        assert "SendReminder is given by the city's own timers, not by a person" in timer_only.message

        assert await city.stored_types() == ["CityRegistered", "ApplicationSubmitted", "DeadlineSet"]


async def test_a_client_that_reaches_temporal_without_citycert_cannot_command_a_city(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    """A plain temporalio client, with no token and no key, tried to record a committee decision as
    "chair" and to withdraw a city: every way in is refused before anything is recorded."""
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "oldtown")
        await city.do(
            "RegisterCity", OPERATOR, city_id="oldtown", name="Oldtown", country="US", population=60_000
        )
        withdraw = cmd.Withdraw(reason="gone")
        decision = cmd.DecideLevel(level=Level.PLATINUM, rationale="trust me")

        # No proof at all, a proof made with another key, a proof for another city
        unsigned = GiveCommand(command=withdraw, actor=OPERATOR)
        forged = GiveCommand(
            command=withdraw, actor=OPERATOR, proof=command_proof(b"x" * 32, "oldtown", OPERATOR, withdraw)
        )
        borrowed = signed("elsewhere", withdraw, OPERATOR)
        for request in (unsigned, forged, borrowed):
            refused = await refusal(city.handle.execute_update(CityCertificationWorkflow.give, request))
            assert (refused.type, refused.non_retryable) == ("Unsigned", True)
            assert "does not carry the application layer's proof" in refused.message
        # A proof, but a role that may not give the command (defence in depth behind the API's check)
        as_staff = await refusal(
            city.handle.execute_update(
                CityCertificationWorkflow.give, signed("oldtown", decision, CITY_STAFF)
            )
        )
        assert as_staff.type == "NotAuthorized" and "a city may not give DecideLevel" in as_staff.message
        # The retired untyped Update carries no proof: refused whatever it says
        retired = await refusal(city.do_by_name("Withdraw", OPERATOR, reason="gone"))
        assert retired.type == "NotAuthorized" and "the command Update is retired" in retired.message

        assert await city.stored_types() == ["CityRegistered"], "nothing was recorded"
        assert (await city.state()).phase is Phase.REGISTERED


async def test_a_reviewer_from_the_city_itself_is_refused(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "portmore")
        await city.do("RegisterCity", city_id="portmore", name="Portmore", country="JM", population=180_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-2022")
        await city.do("SubmitEvidence", CITY_STAFF, items=[{"criterion_id": "DM1", "documents": DOCS}])
        refusal = await city.refused(
            "ReviewEvidence",
            REVIEWER,
            reviewer_id="rev-local",
            reviewer_home_city="portmore",
            items=[{"criterion_id": "DM1", "decision": "approve"}],
        )
        assert refusal.type == "CommandRejected" and "conflict of interest" in refusal.message
        assert (await city.stored_types())[-1] == "EvidenceSubmitted"


async def test_an_unanswered_clarification_expires_after_25_days(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "bayview")
        await city.do("RegisterCity", city_id="bayview", name="Bayview", country="US", population=40_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-2022")
        await city.do("SubmitEvidence", CITY_STAFF, items=[{"criterion_id": "DM1", "documents": DOCS}])
        await city.do("AssignReviewer", OPERATOR, **REVIEWER_FROM_ELSEWHERE, criterion_ids=["DM1"])
        await city.do("DeclareNoConflict", REVIEWER, reviewer_id=REVIEWER_FROM_ELSEWHERE["reviewer_id"])
        await city.do(
            "ReviewEvidence",
            REVIEWER,
            **REVIEWER_FROM_ELSEWHERE,
            items=[{"criterion_id": "DM1", "decision": "request_clarification", "note": "Which year?"}],
        )
        await env.sleep(timedelta(days=24))
        assert "ClarificationExpired" not in await city.stored_types()
        await env.sleep(timedelta(days=2))
        assert (await city.stored_types())[-1] == "ClarificationExpired"
        state = await city.state()
        assert state.cycle is not None and state.cycle.items["DM1"].status.value == "rejected"


async def test_three_cycles_new_silver_elevated_gold_then_lapsed_with_flat_histories(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "millbrook")
        refusals = await city.walk(
            [
                register("millbrook"),
                *certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER),
                *certify(reapply("2027-fall", after=400 * DAY), GOLD_SCORE, Level.GOLD),
                # Nobody re-certifies this time: three years on, the certification lapses.
                certification_lapses(after=3 * 365 * DAY + DAY),
            ]
        )
        assert refusals == []
        state = await city.state()
        assert state.phase is Phase.REGISTERED and state.certification is None

        async with store.connection() as conn:
            rows = await conn.fetch(
                "SELECT level, outcome FROM certifications WHERE city_id = $1 ORDER BY version", "millbrook"
            )
        assert [(r["level"], r["outcome"]) for r in rows] == [("silver", "new"), ("gold", "elevated")]
        assert (await city.stored_types())[-1] == "CertificationEnded"

        lengths = await run_history_lengths(env.client, "city-millbrook", city.first_run_id)
        assert len(lengths) == 4, lengths  # Silver, Gold, lapse, and the run waiting now
        silver_run, gold_run = lengths[0], lengths[1]
        assert abs(gold_run - silver_run) <= 10, f"a cycle's history stays the same size: {lengths}"
        assert max(lengths) < 150, lengths


async def test_a_retry_after_the_commit_records_each_event_once(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    real = CityActivities(store)
    failures: list[int] = []

    @activity.defn(name=RECORD_EVENTS)
    async def record_then_crash_once(input: RecordEventsInput) -> RecordEventsResult:
        result = await real.record_events(input)
        if activity.info().attempt == 1:
            failures.append(result.version)
            raise RuntimeError("worker lost its connection after the commit")
        return result

    async with running_worker(env, store, [record_then_crash_once, real.find_due_reminders]) as queue:
        city = await start_city(env, store, queue, "eastport")
        await city.do("RegisterCity", city_id="eastport", name="Eastport", country="US", population=31_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="c", standard_version="wwc-2022")
        await city.do(
            "SubmitEvidence",
            CITY_STAFF,
            items=[{"criterion_id": cid, "documents": DOCS} for cid in CRITERIA[:5]],
        )
    assert failures == [1, 3, 8], "every append committed, then its activity failed once"
    assert await city.stored_types() == [
        "CityRegistered",
        "ApplicationSubmitted",
        "DeadlineSet",
        *["EvidenceSubmitted"] * 5,
    ]
    report = await store.verify()
    assert report.ok, report


async def test_the_reminder_sweep_signals_a_city_once_per_threshold(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "northgate")
        await city.do("RegisterCity", city_id="northgate", name="Northgate", country="MX", population=300_000)
        await import_certification(city, "gold", "wwc-2018", held_days=900, days_left=100)
        first = await env.client.execute_workflow(
            ReminderSweepWorkflow.run,
            ReminderSweepInput(),
            id="sweep-1",
            task_queue=queue,
        )
        assert first.signalled == ["northgate:180"]
        await eventually(lambda: city.stored_types(), lambda types: types[-1] == "ReminderSent")
        second = await env.client.execute_workflow(
            ReminderSweepWorkflow.run,
            ReminderSweepInput(),
            id="sweep-2",
            task_queue=queue,
        )
        assert second.signalled == [], "the 180-day reminder is not sent twice"
        async with store.connection() as conn:
            queued = await conn.fetch("SELECT city_id, kind FROM notification_outbox ORDER BY created_at")
        assert [(r["city_id"], r["kind"]) for r in queued][-1:] == [
            ("northgate", "certification_expiry_reminder")
        ]
        assert [r["kind"] for r in queued].count("certification_expiry_reminder") == 1


async def test_search_attributes_follow_the_phase(env: WorkflowEnvironment, store: EventStore) -> None:
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "westfield")
        await city.do("RegisterCity", city_id="westfield", name="Westfield", country="US", population=50_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="2026-fall", standard_version="wwc-2022")
        described = await city.handle.describe()
        attrs = described.typed_search_attributes
        assert attrs.get(search_attributes.CERT_PHASE) == "evidence"
        assert attrs.get(search_attributes.CERT_COHORT) == "2026-fall"
