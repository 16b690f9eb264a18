"""The site visit as it happened and deadlines extended, over HTTP: a visit held last week is
recorded with its findings per criterion without being scheduled first, and an operator extends a
running deadline with a reason, refused (409) when the new date is past or nothing runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.standard import get_standard
from tests.integration.entrypoints.http.conftest import CRITERIA, Api
from tests.scenarios import approval_json, evidence_json


async def reviewed(api: Api, city_id: str, approve: list[str], reject: list[str]) -> dict[str, str]:
    """Register, apply, submit, review (these approved, those rejected) and close: a visit is due.
    The operator's headers."""
    operator, staff, reviewer = await api.operator(), await api.city(city_id), await api.reviewer()
    await api.register(city_id)
    base = f"/v1/cities/{city_id}"
    await api.post(f"{base}/application", staff, {"round_id": "2026-fall", "standard_version": "wwc-2022"})
    items = [evidence_json(cid) for cid in [*approve, *reject]]
    await api.post(f"{base}/evidence", staff, {"items": items})
    # The operator assigns the reviewer, who declares no conflict with the city before deciding.
    assignment = {
        "reviewer_id": "rev-ana",
        "reviewer_home_city": "riverton",
        "criterion_ids": [*approve, *reject],
    }
    await api.post(f"{base}/reviewer-assignments", operator, assignment)
    await api.post(f"{base}/review/no-conflict", reviewer)
    verdicts = [
        *(approval_json(cid) for cid in approve),
        *({"criterion_id": cid, "decision": "reject", "note": "outdated"} for cid in reject),
    ]
    await api.post(f"{base}/reviews", reviewer, {"items": verdicts})
    closed = await api.post(f"{base}/evidence/close", staff)
    assert closed["status"]["phase"] == "site_visit"
    return operator


def of_type(response: Any, kind: str) -> dict[str, Any]:
    [event] = [e for e in response["events"] if e["type"] == kind]
    return dict(event["data"])


async def test_a_visit_held_last_week_is_recorded_with_its_findings_without_scheduling(api: Api) -> None:
    assert api.env is not None
    kept, overturned, cleared = CRITERIA[0], CRITERIA[1], CRITERIA[2]
    await reviewed(api, "westbrook", approve=[kept, overturned], reject=[cleared])
    committee = await api.committee()
    today = (await api.env.get_current_time()).date()

    # A date in the future is not a visit held: 409, saying so
    tomorrow = today + timedelta(days=1)
    refused = await api.post(
        "/v1/cities/westbrook/site-visit",
        committee,
        {"action": "complete", "findings": "x", "date": str(tomorrow)},
        expect=409,
    )
    assert f"visit date {tomorrow} is in the future" in refused["detail"]
    # A timestamp is not a date: 422
    await api.post(
        "/v1/cities/westbrook/site-visit",
        committee,
        {"action": "complete", "findings": "x", "date": f"{today}T09:00:00Z"},
        expect=422,
    )

    held = today - timedelta(days=7)
    visited = await api.post(
        "/v1/cities/westbrook/site-visit",
        committee,
        {
            "action": "complete",
            "findings": "Seen in use; one board does not exist",
            "date": str(held),
            "criterion_findings": [
                {"criterion_id": kept, "finding": "confirm"},
                {"criterion_id": overturned, "finding": "overturn", "note": "no such board"},
                {"criterion_id": cleared, "finding": "clear", "note": "the 2025 inventory is published"},
            ],
        },
    )
    assert [e["type"] for e in visited["events"]] == ["SiteVisitCompleted", "LevelRecommended", "DeadlineSet"]
    completed = of_type(visited, "SiteVisitCompleted")
    assert completed["visit_date"] == str(held)
    assert completed["overturned"] == [overturned]
    assert [(f["criterion_id"], f["finding"]) for f in completed["criterion_findings"]] == [
        (kept, "confirm"),
        (overturned, "overturn"),
        (cleared, "clear"),
    ]
    earned = get_standard("wwc-2022").score([kept, cleared]).points  # the kept and the cleared
    assert of_type(visited, "LevelRecommended")["points"] == earned
    assert visited["status"]["phase"] == "committee"


async def test_a_reschedule_says_why_and_a_waiver_names_its_approver(api: Api) -> None:
    assert api.env is not None
    operator = await reviewed(api, "eastbrook", approve=CRITERIA[:2], reject=[])
    today = (await api.env.get_current_time()).date()
    base = "/v1/cities/eastbrook/site-visit"
    await api.post(base, operator, {"action": "schedule", "date": str(today + timedelta(days=5))})
    moved = await api.post(
        base,
        operator,
        {"action": "reschedule", "date": str(today + timedelta(days=9)), "reason": "mayor away"},
    )
    assert of_type(moved, "SiteVisitRescheduled") == {
        "previous_date": str(today + timedelta(days=5)),
        "visit_date": str(today + timedelta(days=9)),
        "reason": "mayor away",
    }
    waived = await api.post(
        base, await api.committee(), {"action": "waive", "reason": "virtual tour instead"}
    )
    assert of_type(waived, "SiteVisitWaived") == {"reason": "virtual tour instead", "approved_by": "chair"}


async def test_an_operator_extends_a_running_deadline_with_a_reason(api: Api) -> None:
    assert api.env is not None
    operator = await reviewed(api, "northbrook", approve=CRITERIA[:2], reject=[])
    now = await api.env.get_current_time()
    base = "/v1/cities/northbrook/deadline-extensions"
    later = now + timedelta(days=60)

    extended = await api.post(
        base, operator, {"deadline": "visit_scheduling", "due_at": later.isoformat(), "reason": "site closed"}
    )
    data = of_type(extended, "DeadlineExtended")
    assert (data["deadline"], data["reason"], data["extended_by"]) == (
        "visit_scheduling",
        "site closed",
        "op-1",
    )

    past = await api.post(
        base,
        operator,
        {"deadline": "visit_scheduling", "due_at": (now - timedelta(days=1)).isoformat(), "reason": "r"},
        expect=409,
    )
    assert "is in the past" in past["detail"]
    not_running = await api.post(
        base, operator, {"deadline": "committee", "due_at": later.isoformat(), "reason": "r"}, expect=409
    )
    assert "the committee deadline is not running" in not_running["detail"]
    # A phase's deadline names no criterion; a criterion's must: 422
    await api.post(
        base,
        operator,
        {"deadline": "committee", "criterion_id": CRITERIA[0], "due_at": later.isoformat(), "reason": "r"},
        expect=422,
    )
    # Only an operator extends a deadline
    await api.post(
        base,
        await api.committee(),
        {"deadline": "visit_scheduling", "due_at": later.isoformat(), "reason": "r"},
        expect=403,
    )
