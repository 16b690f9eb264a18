"""A city's whole path over HTTP: registration to certification, every step a request whose
response comes once the events are recorded, so the next read sees them."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from temporalio.service import RPCError, RPCStatusCode

from readmodel import city_stream
from tests.integration.entrypoints.http.conftest import CRITERIA, DOCS, Api
from tests.polling import eventually
from tests.scenarios import approval_json, evidence_json


async def test_a_city_goes_from_registration_to_gold_over_http(api: Api) -> None:
    assert api.env is not None
    operator, staff, reviewer = await api.operator(), await api.city("lakeside"), await api.reviewer()
    committee = await api.committee()

    # The round the city applies to: open for applications now, announced in a year.
    today = datetime.now(UTC).date()
    days = {"opens_on": today - timedelta(days=10), "closes_on": today + timedelta(days=30)}
    days |= {
        "submission_deadline": today + timedelta(days=120),
        "announcement_on": today + timedelta(days=365),
    }
    body = {"id": "2026-fall", "name": "Fall 2026", "review_capacity": 10}
    await api.post("/v1/rounds", operator, {**body, **{k: v.isoformat() for k, v in days.items()}}, 201)

    registered = await api.register("lakeside", population=182_000)
    assert registered["status"]["phase"] == "registered"
    assert [e["type"] for e in registered["events"]] == ["CityRegistered"]

    snapshot = await api.post(
        "/v1/cities/lakeside/snapshot",
        staff,
        {"standard_version": "wwc-2022", "answers": dict.fromkeys(CRITERIA[:30], "met")},
    )
    assert snapshot["indicative_level"] == "gold"
    assert snapshot["roadmap"] == CRITERIA[30:]

    applied = await api.post(
        "/v1/cities/lakeside/application", staff, {"round_id": "2026-fall", "standard_version": "wwc-2022"}
    )
    assert applied["status"]["phase"] == "evidence" and applied["status"]["round_id"] == "2026-fall"
    items = [evidence_json(cid, narrative="see the pack") for cid in CRITERIA[:30]]
    await api.post("/v1/cities/lakeside/evidence", staff, {"items": items})

    queue = await api.get("/v1/review-queue", reviewer)
    assert len(queue) == 30 and {q["city_id"] for q in queue} == {"lakeside"}
    assert all(q["reviewer_id"] is None and q["waiting_on"] == "reviewer" for q in queue)

    # The operator assigns the reviewer, who declares no conflict with the city before deciding.
    assignment = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton", "criterion_ids": CRITERIA[:30]}
    await api.post("/v1/cities/lakeside/reviewer-assignments", operator, assignment)
    await api.post("/v1/cities/lakeside/review/no-conflict", reviewer)

    # The reviewer approves all but one, which needs a clarification first.
    asked, *rest = CRITERIA[:30]
    verdicts = [approval_json(cid) for cid in rest]
    question = {"criterion_id": asked, "decision": "request_clarification", "note": "Which year?"}
    await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [*verdicts, question]})
    waiting = await api.get("/v1/review-queue", reviewer)
    assert [(q["criterion_id"], q["waiting_on"], q["reviewer_id"]) for q in waiting] == [
        (asked, "city", "rev-ana")
    ]
    everything = await api.get("/v1/review-queue", operator, city_id="lakeside")
    assert [q["criterion_id"] for q in everything] == [asked]
    await api.post(
        "/v1/cities/lakeside/clarifications", staff, {"items": [{"criterion_id": asked, "answer": "2025"}]}
    )
    await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [approval_json(asked)]})
    closed = await api.post("/v1/cities/lakeside/evidence/close", staff)
    assert [e["type"] for e in closed["events"]] == [
        "EvidenceSubmissionClosed",
        "EvidenceReviewCompleted",
        "DeadlineSet",  # the visit is to be scheduled by then
    ]
    assert closed["status"]["phase"] == "site_visit"

    # A visit in two days' time, completed once the day has come.
    visit_day = datetime.now(UTC).date() + timedelta(days=2)
    await api.post("/v1/cities/lakeside/site-visit", operator, {"action": "schedule", "date": str(visit_day)})
    await api.env.sleep(timedelta(days=3))
    visited = await api.post(
        "/v1/cities/lakeside/site-visit", committee, {"action": "complete", "findings": "All as described"}
    )
    assert [e["type"] for e in visited["events"]] == ["SiteVisitCompleted", "LevelRecommended", "DeadlineSet"]
    status = await api.get("/v1/cities/lakeside", staff)
    assert status["phase"] == "committee" and status["recommended_level"] == "gold"
    assert status["score"] == 30 / 43

    decided = await api.post(
        "/v1/cities/lakeside/decision", committee, {"level": "gold", "rationale": "Gold"}
    )
    assert decided["status"]["phase"] == "appeal_window"

    # Thirty days pass without an appeal: the window's timer awards the certification.
    await api.env.sleep(timedelta(days=31))
    status = await eventually(
        lambda: api.get("/v1/cities/lakeside", staff), lambda s: s["phase"] == "certified"
    )
    assert status["level"] == "gold" and status["valid_until"] is not None
    assert date.fromisoformat(status["valid_until"][:10]) > date.today() + timedelta(days=3 * 365 - 60)

    assert [c["city_id"] for c in await api.get("/v1/cities", operator, level="gold")] == ["lakeside"]
    assert await api.get("/v1/cities", operator, phase="evidence") == []
    assert [c["city_id"] for c in await api.get("/v1/cities", operator, cohort="2026-fall")] == ["lakeside"]

    events = await api.get("/v1/cities/lakeside/events", staff, limit=1000)
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "CityRegistered" and events[-1]["type"] == "CertificationAwarded"
    assert events[0]["actor"] == {"role": "operator", "id": "op-1"}
    assert {"occurred_at", "recorded_at", "data"} <= set(events[-1])
    assert events[-1]["data"]["level"] == "gold"

    # The round's announcement, a year away: a preview, naming the city at its level.
    announcement = await api.get("/v1/rounds/2026-fall/announcement", committee)
    assert announcement["preview"] is True
    assert [(c["city_id"], c["level"]) for c in announcement["newly_certified"]] == [("lakeside", "gold")]
    assert announcement["counts"] == {"silver": 0, "gold": 1, "platinum": 0}

    state = await api.get("/v1/cities/lakeside/state", staff)
    assert state["phase"] == "certified" and state["version"] == len(events)
    verified = await api.store.verify()
    assert verified.ok, verified


async def test_an_ineligible_city_gets_422_and_nothing_is_recorded_or_started(api: Api) -> None:
    assert api.env is not None
    body = {"id": "smallville", "name": "Smallville", "country": "FR", "population": 12_000}
    refused = await api.post("/v1/cities", await api.operator(), body, expect=422)
    assert refused["error"] == "ineligible_city"
    assert "population 12,000 is below the minimum of 30,000" in refused["detail"]
    assert "'FR' is not in North, Central or South America" in refused["detail"]

    assert await api.store.read_stream(city_stream("smallville")) == []
    await api.get("/v1/cities/smallville", await api.operator(), expect=404)
    try:
        await api.env.client.get_workflow_handle("city-smallville").describe()
    except RPCError as e:
        assert e.status == RPCStatusCode.NOT_FOUND
    else:
        raise AssertionError("a workflow was started for an ineligible city")


async def test_registering_a_city_twice_is_a_conflict(api: Api) -> None:
    await api.register("twinford")
    again = await api.post(
        "/v1/cities",
        await api.operator(),
        {"id": "twinford", "name": "Twinford", "country": "US", "population": 50_000},
        expect=409,
    )
    assert "RegisterCity needs the city to be unregistered" in again["detail"]
    assert len(await api.store.read_stream(city_stream("twinford"))) == 1


async def test_the_state_as_of_a_moment_is_the_fold_of_what_was_recorded_by_then(api: Api) -> None:
    staff = await api.city("oakdale")
    before_anything = datetime.now(UTC)
    await asyncio.sleep(0.02)
    await api.register("oakdale")
    await asyncio.sleep(0.02)
    registered_at = datetime.now(UTC)
    await asyncio.sleep(0.02)
    await api.post(
        "/v1/cities/oakdale/application", staff, {"round_id": "c1", "standard_version": "wwc-2022"}
    )

    then = await api.get("/v1/cities/oakdale/state", staff, as_of=registered_at.isoformat())
    assert then["phase"] == "registered" and then["version"] == 1 and then["cycle"] is None
    now = await api.get("/v1/cities/oakdale/state", staff)
    # The application and its submission clock
    assert now["phase"] == "evidence" and now["version"] == 3 and now["cycle"]["cohort"] == "c1"
    empty = await api.get("/v1/cities/oakdale/state", staff, as_of=before_anything.isoformat())
    assert empty["phase"] == "unregistered" and empty["version"] == 0

    naive = await api.get("/v1/cities/oakdale/state", staff, expect=422, as_of="2026-01-01T00:00:00")
    assert naive["error"] == "invalid_request"
    await api.get("/v1/cities/oakdale/state", staff, expect=422, as_of="0001-01-01T00:00:00+14:00")


async def test_an_operator_assigns_a_reviewer_and_withdraws_a_city_and_nobody_else_may(api: Api) -> None:
    await api.register("eastbrook")
    operator, staff = await api.operator(), await api.city("eastbrook")
    await api.post(
        "/v1/cities/eastbrook/application", staff, {"round_id": "2026-fall", "standard_version": "wwc-2022"}
    )
    await api.post(
        "/v1/cities/eastbrook/evidence", staff, {"items": [{"criterion_id": "DM1", "documents": DOCS}]}
    )
    assignment = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton", "criterion_ids": ["DM1"]}

    assigned = await api.post("/v1/cities/eastbrook/reviewer-assignments", operator, assignment)
    by_staff = await api.post("/v1/cities/eastbrook/withdrawal", staff, {"reason": "no"}, expect=403)
    withdrawn = await api.post("/v1/cities/eastbrook/withdrawal", operator, {"reason": "left the programme"})
    after = await api.post("/v1/cities/eastbrook/evidence/close", staff, None, expect=409)

    assert [e["type"] for e in assigned["events"]] == ["ReviewerAssigned"]
    assert by_staff["error"] == "forbidden"
    assert [e["type"] for e in withdrawn["events"]] == ["CityWithdrawn"]
    assert withdrawn["status"]["phase"] == "withdrawn"
    assert after["error"] == "command_rejected"
