"""The standards as people read them through the API: which are open for applications, what is the
public record and what is illustrative, what carries over between versions; and a city's snapshot
saying what blocks a criterion."""

from __future__ import annotations

from domain.standard import get_standard
from readmodel import city_stream
from tests.integration.entrypoints.http.conftest import Api


async def test_the_listing_says_which_standards_are_open_for_applications_today(api: Api) -> None:
    listed = {s["version"]: s for s in await api.get("/v1/standards", await api.operator())}
    assert listed["wwc-2022"]["open_now"] is True
    assert listed["wwc-2022"]["open_for_applications"] == {"from": "2022-08-01", "until": None}
    assert listed["wwc-2018"]["open_now"] is False
    assert listed["wwc-2018"]["open_for_applications"]["until"] == "2022-07-31"
    assert listed["wwc-2018"]["revisions"] == [1, 2] and listed["wwc-2018"]["revision"] == 2


async def test_a_standard_read_says_illustrative_beside_what_is_not_public(api: Api) -> None:
    std = await api.get("/v1/standards/wwc-2022", await api.city("riverton"))
    dm1 = next(c for c in std["criteria"] if c["id"] == "DM1")
    assert dm1["title"] == "Implementing Data Strategy and Governance"
    assert dm1["provenance"]["title"] == "public"
    assert dm1["provenance"]["checklist"] == "illustrative"
    assert dm1["provenance"]["required_documents"] == "illustrative"
    assert std["share_rounding"] == "whole_percent"
    assert "illustrative" in std["provenance"]["checklists, required documents, prerequisites, tags"]


async def test_an_older_revision_is_read_by_number(api: Api) -> None:
    operator = await api.operator()
    first = await api.get("/v1/standards/wwc-2022", operator, revision=1)
    assert first["revision"] == 1 and first["criteria"][0]["id"] == "DM 1"
    missing = await api.get("/v1/standards/wwc-2022", operator, expect=404, revision=9)
    assert missing["error"] == "unknown_standard" and "no revision 9" in missing["detail"]


async def test_a_re_certifying_city_reads_what_carries_over_from_2018(api: Api) -> None:
    walk = await api.get("/v1/standards/wwc-2022/crosswalk", await api.operator(), **{"from": "wwc-2018"})
    assert (walk["version"], walk["from_version"]) == ("wwc-2022", "wwc-2018")
    carried = {item["criterion_id"]: item["carries_over_from"] for item in walk["carried_over"]}
    assert "DG1" in carried["DM2"]
    assert set(walk["new"]).isdisjoint(carried)
    unknown = await api.get(
        "/v1/standards/wwc-2022/crosswalk", await api.operator(), expect=404, **{"from": "wwc-1999"}
    )
    assert unknown["error"] == "unknown_standard"


async def test_an_application_under_a_closed_standard_is_refused_with_the_ones_open_now(api: Api) -> None:
    # Given a registered city, when it applies under wwc-2018, closed since 2022
    await api.register("riverton", country="CA")
    body = {"round_id": "2026-fall", "standard_version": "wwc-2018"}
    refused = await api.post("/v1/cities/riverton/application", await api.city("riverton"), body, expect=409)
    # Then it is refused, saying why and which standards are open, and nothing is recorded
    assert refused["error"] == "command_rejected"
    assert "wwc-2018 is not open for applications" in refused["detail"]
    assert "open now: wwc-2022" in refused["detail"]
    assert len(await api.store.read_stream(city_stream("riverton"))) == 1


async def test_the_snapshot_says_which_prerequisite_blocks_a_criterion(api: Api) -> None:
    # Given a criterion with a prerequisite, claimed met without it
    dependent = next(c for c in get_standard("wwc-2022").criteria if c.prerequisites)
    await api.register("riverton", country="CA")
    staff = await api.city("riverton")
    body = {"standard_version": "wwc-2022", "answers": {dependent.id: "met"}}
    # When the city takes a snapshot
    taken = await api.post("/v1/cities/riverton/snapshot", staff, body)
    # Then the roadmap says it is blocked by its prerequisite, and the city's state keeps that
    assert taken["blocked_by"][dependent.id] == list(dependent.prerequisites)
    state = await api.get("/v1/cities/riverton/state", staff)
    assert state["snapshot"]["blocked_by"][dependent.id] == list(dependent.prerequisites)
