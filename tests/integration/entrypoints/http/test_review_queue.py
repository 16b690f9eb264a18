"""GET /v1/review-queue over HTTP: a reviewer's page merges the items assigned to them with the
ones waiting on any reviewer, soonest due first; an operator's is every open item, filtered by
reviewer, city or both. Each is read off an index in its order (migration 0019;
tests/integration/readmodel/test_queue_plans.py)."""

from __future__ import annotations

from typing import Any

from tests.integration.entrypoints.http.conftest import CRITERIA, Api
from tests.scenarios import evidence_json

CITIES = ("ashford", "brookline", "carver")  # submitted in this order: due in it, or by id on a tie


def cities(queue: list[dict[str, Any]]) -> list[str]:
    return [item["city_id"] for item in queue]


async def test_each_queue_is_soonest_due_first_across_assigned_and_unassigned_items(api: Api) -> None:
    # Given three cities with one item each: ashford's waiting on any reviewer, brookline's
    # assigned to rev-ana, carver's to rev-bo
    operator = await api.operator()
    for city_id in CITIES:
        await api.register(city_id)
        staff = await api.city(city_id)
        await api.post(
            f"/v1/cities/{city_id}/application", staff, {"round_id": "c", "standard_version": "wwc-2022"}
        )
        await api.post(f"/v1/cities/{city_id}/evidence", staff, {"items": [evidence_json(CRITERIA[0])]})
    for city_id, reviewer, home in (("brookline", "rev-ana", "riverton"), ("carver", "rev-bo", "elmira")):
        assignment = {"reviewer_id": reviewer, "reviewer_home_city": home, "criterion_ids": CRITERIA[:1]}
        await api.post(f"/v1/cities/{city_id}/reviewer-assignments", operator, assignment)
    everything = await api.get("/v1/review-queue", operator)
    assert [(i["due_at"], i["city_id"]) for i in everything] == sorted(
        (i["due_at"], i["city_id"]) for i in everything
    )

    # When rev-ana reads their queue, then it is their item and the unassigned one, never rev-bo's
    ana = await api.reviewer()
    assert cities(await api.get("/v1/review-queue", ana)) == ["ashford", "brookline"]
    assert cities(await api.get("/v1/review-queue", ana, limit=1)) == ["ashford"]
    # When an operator reads it, then every item, or those the filters given name
    assert cities(everything) == list(CITIES)
    assert cities(await api.get("/v1/review-queue", operator, limit=2)) == ["ashford", "brookline"]
    assert cities(await api.get("/v1/review-queue", operator, reviewer_id="rev-ana")) == ["brookline"]
    assert cities(await api.get("/v1/review-queue", operator, city_id="ashford")) == ["ashford"]
    both = await api.get("/v1/review-queue", operator, reviewer_id="rev-bo", city_id="carver")
    assert [(i["city_id"], i["reviewer_id"]) for i in both] == [("carver", "rev-bo")]
    assert await api.get("/v1/review-queue", operator, reviewer_id="rev-bo", city_id="ashford") == []
