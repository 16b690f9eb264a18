"""Rounds and announcements over HTTP: who may create and change a round, the refusals in words,
the committee's Honor Roll, and the embargo (public before the date: not found, exactly as an
unknown round; from the date: the announcement with no token, cached by ETag); the Atom feed.

The API here reads the time from the time-skipping Temporal server, so the awards the workflows
make and the announcement dates are on one clock: a wait of 31 days moves both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from entrypoints.http import create_app
from tests.integration.entrypoints.http.conftest import Api, app_client
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.polling import eventually
from tests.scenarios import CRITERIA, GOLD_SCORE, SILVER_SCORE, apply, to_committee

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class TemporalClock:
    """The time-skipping server's time, as last read (read again after each wait)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def rounds_api(api: Api) -> AsyncIterator[tuple[Api, TemporalClock]]:
    """The API of `api`, on the same store, worker and token table, with the Temporal server's clock."""
    assert api.env is not None and api.settings is not None
    clock = TemporalClock(await api.env.get_current_time())
    app = create_app(api.settings, client=api.env.client, store=api.store)
    app.state.services = replace(app.state.services, clock=clock)
    async with app_client(app) as http:
        yield replace(api, http=http), clock


def days(opens: int, closes: int, deadline: int, announced: int, *, today: date) -> dict[str, str]:
    """A round's dates as days from `today`."""
    at = {
        "opens_on": opens,
        "closes_on": closes,
        "submission_deadline": deadline,
        "announcement_on": announced,
    }
    return {k: (today + timedelta(days=v)).isoformat() for k, v in at.items()}


def a_round(round_id: str, name: str, dates: dict[str, str], capacity: int = 20) -> dict[str, Any]:
    return {"id": round_id, "name": name, **dates, "review_capacity": capacity}


async def test_who_may_create_and_change_a_round_and_the_refusals_in_words(
    rounds_api: tuple[Api, TemporalClock],
) -> None:
    api, clock = rounds_api
    today = clock().date()
    operator, committee = await api.operator(), await api.committee()
    await api.register("lakeside")
    spring = a_round("2031-spring", "Spring 2031", days(10, 40, 60, 120, today=today))

    # A city's token, a reviewer's, the committee's may not create a round.
    for headers in (await api.city("lakeside"), await api.reviewer(), committee):
        refused = await api.post("/v1/rounds", headers, spring, expect=403)
        assert refused["error"] == "forbidden"
    assert await api.get("/v1/rounds", operator) == []

    created = await api.post("/v1/rounds", operator, spring, expect=201)
    assert created["id"] == "2031-spring" and created["created_by"] == "op-1"
    assert created["open_for_applications"] is False and created["announced"] is False
    assert created["honor_roll"] is None

    # Dates out of order, a bad id, an id used twice, an overlapping window: each says why.
    disorder = await api.post(
        "/v1/rounds",
        operator,
        {**spring, "id": "2032-fall", "announcement_on": spring["submission_deadline"]},
        422,
    )
    assert "the announcement" in str(disorder["detail"]) and "must come after the submission deadline" in str(
        disorder["detail"]
    )
    bad_id = await api.post("/v1/rounds", operator, {**spring, "id": "Spring 2031"}, 422)
    assert "must be a round id" in str(bad_id["detail"])
    again = await api.post("/v1/rounds", operator, spring, 409)
    assert "round 2031-spring exists already" in again["detail"]
    overlap = await api.post("/v1/rounds", operator, {**spring, "id": "2031-extra"}, 409)
    assert "at most one round is open at a time" in overlap["detail"]

    # Any token reads the rounds; a city's may not change one; an operator does, and it is recorded.
    staff = await api.city("lakeside")
    assert [r["id"] for r in await api.get("/v1/rounds", staff)] == ["2031-spring"]
    assert (
        await api.http.patch("/v1/rounds/2031-spring", headers=staff, json={"name": "x"})
    ).status_code == 403
    changed = await api.http.patch("/v1/rounds/2031-spring", headers=operator, json={"review_capacity": 35})
    assert changed.status_code == 200, changed.text
    assert changed.json()["review_capacity"] == 35
    shown = await api.get("/v1/rounds/2031-spring", staff)
    assert [c["changes"] for c in shown["changes"]] == [{"review_capacity": 35}]
    nothing = await api.http.patch("/v1/rounds/2031-spring", headers=operator, json={})
    assert nothing.status_code == 422 and "say what to change" in nothing.text
    await api.get("/v1/rounds/2099-never", staff, expect=404)
    unknown = await api.http.patch("/v1/rounds/2099-never", headers=operator, json={"name": "x"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_round"

    # The Honor Roll is the committee's, and names registered cities found not certified in the
    # round (test_round_rules.py walks them there); Lakeside did not apply in it.
    roll = await api.http.put(
        "/v1/rounds/2031-spring/honor-roll", headers=operator, json={"city_ids": ["lakeside"]}
    )
    assert roll.status_code == 403
    unknown_city = await api.http.put(
        "/v1/rounds/2031-spring/honor-roll", headers=committee, json={"city_ids": ["nowhere"]}
    )
    assert unknown_city.status_code == 422 and "no city is registered as nowhere" in unknown_city.text
    not_in_it = await api.http.put(
        "/v1/rounds/2031-spring/honor-roll", headers=committee, json={"city_ids": ["lakeside"]}
    )
    assert not_in_it.status_code == 409
    assert "cities that did not apply in the round: lakeside" in not_in_it.json()["detail"]
    designated = await api.http.put(
        "/v1/rounds/2031-spring/honor-roll", headers=committee, json={"city_ids": []}
    )
    assert designated.status_code == 200, designated.text
    assert designated.json()["honor_roll"]["city_ids"] == []
    assert designated.json()["honor_roll"]["designated_by"] == "chair"


async def test_an_announcement_is_under_embargo_until_its_date_then_public(
    rounds_api: tuple[Api, TemporalClock],
) -> None:
    api, clock = rounds_api
    assert api.env is not None
    today = clock().date()
    operator, committee = await api.operator(), await api.committee()
    # The fall round is open now and announced in 20 days; the winter round follows it.
    fall = a_round("2030-fall", "Fall 2030", days(-10, 5, 6, 20, today=today))
    winter = a_round("2031-winter", "Winter 2031", days(6, 30, 40, 90, today=today))
    for body in (fall, winter):
        await api.post("/v1/rounds", operator, body, expect=201)

    runner = HttpRunner(api, per_city_staff=True)
    for city_id in ("alpha", "bravo", "delta"):
        await api.register(city_id)
    for city_id, approved in (("alpha", GOLD_SCORE), ("bravo", SILVER_SCORE), ("delta", CRITERIA[:10])):
        assert await runner.walk(city_id, to_committee(apply("2030-fall"), approved)) == []
    decide = "/v1/cities/{}/decision"
    await api.post(decide.format("alpha"), committee, {"level": "gold", "rationale": "r"})
    await api.post(decide.format("bravo"), committee, {"level": "silver", "rationale": "r"})
    await api.post(decide.format("delta"), committee, {"level": None, "rationale": "r"})
    # Bravo accepts its decision: awarded today, in its round. Alpha waits out the appeal window:
    # awarded after the fall announcement, so announced in the next round's (the default rule).
    await api.post("/v1/cities/bravo/decision/accept", await api.city("bravo"), {})
    roll = await api.http.put(
        "/v1/rounds/2030-fall/honor-roll", headers=committee, json={"city_ids": ["delta"]}
    )
    assert roll.status_code == 200, roll.text

    # Before the date: a preview for operators and the committee, nothing for the public.
    clock.now = await api.env.get_current_time()
    assert clock().date() < date.fromisoformat(fall["announcement_on"])
    preview = await api.get("/v1/rounds/2030-fall/announcement", committee)
    assert preview["preview"] is True
    assert [c["city_id"] for c in preview["newly_certified"]] == ["bravo"]
    assert [c["city_id"] for c in preview["honor_roll"]] == ["delta"]
    await api.get("/v1/rounds/2030-fall/announcement", await api.city("bravo"), expect=403)
    markdown = await api.http.get(
        "/v1/rounds/2030-fall/announcement", headers=operator, params={"format": "md"}
    )
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "Preview, under embargo until" in markdown.text
    embargoed = await api.http.get("/public/rounds/2030-fall/announcement.json")
    unknown = await api.http.get("/public/rounds/2099-never/announcement.json")
    assert embargoed.status_code == unknown.status_code == 404
    assert embargoed.json()["error"] == unknown.json()["error"] == "unknown_round"
    assert embargoed.json()["detail"].replace("2030-fall", "X") == unknown.json()["detail"].replace(
        "2099-never", "X"
    )
    assert (await api.http.get("/public/rounds/2030-fall/announcement.md")).status_code == 404
    assert _feed_titles(await api.http.get("/public/rounds.atom")) == []

    # A month later (the appeal window has closed, alpha is awarded), the fall round is announced.
    await api.env.sleep(timedelta(days=31))
    await eventually(
        lambda: api.get("/v1/cities", operator, phase="appeal_window"), lambda waiting: waiting == []
    )
    clock.now = await api.env.get_current_time()
    published = await api.http.get("/public/rounds/2030-fall/announcement.json")  # no token
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["preview"] is False
    assert [(c["city_id"], c["name"], c["country_name"], c["level"]) for c in body["newly_certified"]] == [
        ("bravo", "Bravo", "United States", "silver")
    ]
    assert [c["city_id"] for c in body["honor_roll"]] == ["delta"]
    named = str(body)
    assert "delta" not in str(body["newly_certified"]) and "alpha" not in named  # late: next round
    assert published.headers["cache-control"] == "public, max-age=300"
    etag = published.headers["etag"]
    again = await api.http.get("/public/rounds/2030-fall/announcement.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag

    md = await api.http.get("/public/rounds/2030-fall/announcement.md")
    assert md.headers["content-type"].startswith("text/markdown") and md.headers["etag"] != etag
    assert "### Silver\n\n- Bravo, United States" in md.text and "## Honor Roll\n\n- Delta" in md.text
    csv_text = await api.http.get("/public/rounds/2030-fall/announcement.csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert [line.split(",")[1:3] for line in csv_text.text.splitlines()[1:]] == [
        ["newly_certified", "bravo"],
        ["honor_roll", "delta"],
    ]

    # The winter round is still under embargo; its preview holds the late award.
    assert (await api.http.get("/public/rounds/2031-winter/announcement.json")).status_code == 404
    winter_preview = await api.get("/v1/rounds/2031-winter/announcement", operator)
    assert [c["city_id"] for c in winter_preview["newly_certified"]] == ["alpha"]

    # The feed lists the announced round only, linking its announcement.
    feed = await api.http.get("/public/rounds.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml") and "etag" in feed.headers
    assert _feed_titles(feed) == ["Fall 2030: certified cities"]
    assert "/public/rounds/2030-fall/announcement.md" in feed.text

    # An announced round's record and Honor Roll stand.
    late_roll = await api.http.put(
        "/v1/rounds/2030-fall/honor-roll", headers=committee, json={"city_ids": []}
    )
    assert late_roll.status_code == 409 and "was announced on" in late_roll.text
    change = await api.http.patch("/v1/rounds/2030-fall", headers=operator, json={"name": "Autumn 2030"})
    assert change.status_code == 409


def _feed_titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    feed = ET.fromstring(response.text)
    return [entry.findtext(f"{ATOM}title") or "" for entry in feed.findall(f"{ATOM}entry")]


async def test_the_public_routes_need_no_token_and_the_rounds_routes_do(api: Api) -> None:
    assert (await api.http.get("/v1/rounds")).status_code == 401
    assert (await api.http.get("/public/rounds.atom")).status_code == 200
