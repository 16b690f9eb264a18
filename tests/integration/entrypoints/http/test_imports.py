"""Importing a certification through the API, against the real PostgreSQL and Temporal (with a
worker): capped at the programme's validity, proposed by an operator and countersigned by another
person on the committee, or recorded at once while the store's migration mode is on."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from app.days import end_of, start_of
from app.errors import Refused
from app.programme import PROGRAMME_STREAM
from domain import Actor
from domain import commands as cmd
from domain.calendar import add_years
from readmodel import city_stream
from tests.integration.entrypoints.http.conftest import Api

IMPORT = "/v1/cities/{}/imported-certification"
COUNTERSIGN = "/v1/cities/{}/imported-certification/countersignature"
REJECT = "/v1/cities/{}/imported-certification/rejection"
MODE = "/v1/programme/migration-mode"


def held(level: str = "gold", *, days: int = 400, left: int = 600) -> dict[str, Any]:
    """A certification held by a city, its validity in days as people write them."""
    today = datetime.now(UTC).date()
    return {
        "level": level,
        "standard_version": "wwc-2018",
        "round_id": "2024",
        "valid_from": (today - timedelta(days=days)).isoformat(),
        "valid_until": (today + timedelta(days=left)).isoformat(),
    }


def last_day_allowed(first: date) -> date:
    """The last day an import awarded on `first` may hold: three calendar years on, less a day."""
    return add_years(datetime.combine(first, time(0), tzinfo=UTC), 3).date() - timedelta(days=1)


async def test_a_platinum_certification_valid_until_2199_is_refused_saying_the_limit(api: Api) -> None:
    await api.register("ashford")
    body = {**held("platinum", days=1), "valid_until": "2199-12-31"}
    refused = await api.post(IMPORT.format("ashford"), await api.operator(), body, expect=422)
    assert refused["error"] == "invalid_command"
    assert "at most the programme's validity (3 years)" in refused["detail"]
    # In days, as they were given: the last day allowed, and the one sent, each held whole.
    latest = last_day_allowed(datetime.now(UTC).date() - timedelta(days=1))
    assert f"valid_until at the latest the end of {latest.isoformat()} (UTC)" in refused["detail"]
    assert "not the end of 2199-12-31 (UTC)" in refused["detail"]
    assert len(await api.store.read_stream(city_stream("ashford"))) == 1, "nothing was recorded"


async def test_an_import_takes_plain_dates_and_holds_the_whole_last_day(api: Api) -> None:
    await api.register("alderney")
    today = datetime.now(UTC).date()
    first = today - timedelta(days=30)
    last = last_day_allowed(first)  # the longest allowed
    body = {**held(), "valid_from": first.isoformat(), "valid_until": last.isoformat()}
    proposed = await api.post(IMPORT.format("alderney"), await api.operator(), body)
    # The answer shows the days as given; the event records the moments that bound them, in UTC.
    assert (proposed["valid_from"], proposed["valid_until"]) == (first.isoformat(), last.isoformat())
    data = proposed["events"][0]["data"]
    assert datetime.fromisoformat(data["valid_from"]) == datetime.combine(first, time(0), tzinfo=UTC)
    assert datetime.fromisoformat(data["valid_until"]) == datetime.combine(
        last + timedelta(days=1), time(0), tzinfo=UTC
    ), "held until 00:00 UTC the day after its last day"

    signed = await api.post(COUNTERSIGN.format("alderney"), await api.committee(), {})
    assert datetime.fromisoformat(signed["status"]["valid_until"]).date() == last + timedelta(days=1)

    one_day_more = {**body, "valid_until": (last + timedelta(days=1)).isoformat()}
    await api.register("aldford")
    refused = await api.post(IMPORT.format("aldford"), await api.operator(), one_day_more, expect=422)
    assert f"at the latest the end of {last.isoformat()} (UTC)" in refused["detail"]


async def test_an_import_refuses_moments_and_backwards_periods_in_words(api: Api) -> None:
    await api.register("alnwick")
    operator = await api.operator()
    moments = {**held(), "valid_from": "2024-06-01T00:00:00Z"}
    refused = await api.post(IMPORT.format("alnwick"), operator, moments, expect=422)
    assert refused["detail"] == [
        {
            "loc": ["body", "valid_from"],
            "msg": "valid_from must be an ISO 8601 date, such as 2026-03-01",
            "type": "value_error",
        }
    ]
    backwards = {**held(), "valid_from": "2025-06-01", "valid_until": "2025-05-31"}
    [problem] = (await api.post(IMPORT.format("alnwick"), operator, backwards, expect=422))["detail"]
    assert problem["msg"] == "valid_until, the certification's last day, must not be before valid_from"
    expired = {**held(), "valid_from": "2020-06-01", "valid_until": "2023-05-31"}
    refused = await api.post(IMPORT.format("alnwick"), operator, expired, expect=409)
    assert refused["detail"].endswith("expired at the end of 2023-05-31 (UTC)")
    assert len(await api.store.read_stream(city_stream("alnwick"))) == 1, "nothing was recorded"


async def test_an_operators_import_holds_nothing_until_another_person_countersigns_it(api: Api) -> None:
    await api.register("brookfield")
    operator = await api.operator()  # "op-1"
    await api.post(IMPORT.format("brookfield"), await api.committee(), held(), expect=403)  # never alone
    proposed = await api.post(IMPORT.format("brookfield"), operator, held())
    assert [e["type"] for e in proposed["events"]] == ["CertificationImportProposed"]
    assert proposed["events"][0]["data"]["proposed_by"] == "op-1"
    assert (proposed["status"]["phase"], proposed["status"]["level"]) == ("import_proposed", None)
    listed = await api.get("/v1/cities", operator, phase="import_proposed")
    assert [c["city_id"] for c in listed] == ["brookfield"], "the committee can find what waits on it"

    # An operator cannot countersign at all; the proposer cannot, under a committee token either.
    await api.post(COUNTERSIGN.format("brookfield"), operator, {}, expect=403)
    same_person = await api.as_("committee", name="op-1")
    refused = await api.post(COUNTERSIGN.format("brookfield"), same_person, {}, expect=409)
    assert "op-1 proposed this import and cannot countersign it" in refused["detail"]
    assert (await api.get("/v1/cities/brookfield", operator))["level"] is None

    signed = await api.post(COUNTERSIGN.format("brookfield"), await api.committee(), {"note": "checked"})
    assert [e["type"] for e in signed["events"]] == ["CertificationImported"]
    data = signed["events"][0]["data"]
    assert (data["proposed_by"], data["countersigned_by"], data["note"]) == ("op-1", "chair", "checked")
    assert data["migration_mode"] is None
    assert (signed["status"]["phase"], signed["status"]["level"]) == ("certified", "gold")
    stored = await api.store.read_stream(city_stream("brookfield"))
    assert [(e.type, e.actor.role, e.actor.id) for e in stored[1:]] == [
        ("CertificationImportProposed", "operator", "op-1"),
        ("CertificationImported", "committee", "chair"),
    ]
    assert stored[-1].schema_version == 2


async def test_a_rejected_import_leaves_the_city_uncertified(api: Api) -> None:
    await api.register("cresthaven")
    await api.post(IMPORT.format("cresthaven"), await api.operator(), held())
    body = {"reason": "the programme has no record of it"}
    rejected = await api.post(REJECT.format("cresthaven"), await api.committee(), body)
    assert [e["type"] for e in rejected["events"]] == ["CertificationImportRejected"]
    assert rejected["events"][0]["data"] == {
        "proposed_by": "op-1",
        "rejected_by": "chair",
        "reason": "the programme has no record of it",
    }
    assert (rejected["status"]["phase"], rejected["status"]["level"]) == ("registered", None)
    await api.post(COUNTERSIGN.format("cresthaven"), await api.committee(), {}, expect=409)


async def test_migration_mode_records_an_operators_import_directly_and_is_itself_recorded(api: Api) -> None:
    operator = await api.operator()
    assert await api.get(MODE, operator) == {
        "on": False,
        "since": None,
        "switched_on_by": None,
        "reason": None,
        "switches": [],
    }
    refused = await api.http.put(MODE, headers=await api.committee(), json={"on": True, "reason": "x"})
    assert refused.status_code == 403, "only an operator switches it"

    switched = await api.http.put(
        MODE, headers=operator, json={"on": True, "reason": "bringing in 2018-2025"}
    )
    assert switched.status_code == 200, switched.text
    on = switched.json()
    assert (on["on"], on["switched_on_by"], on["reason"]) == (True, "op-1", "bringing in 2018-2025")
    again = await api.http.put(MODE, headers=operator, json={"on": True, "reason": "again"})
    assert again.status_code == 409 and "already on" in again.json()["detail"]

    await api.register("dalton")
    imported = await api.post(IMPORT.format("dalton"), operator, held("silver"))
    assert [e["type"] for e in imported["events"]] == ["CertificationImported"]
    data = imported["events"][0]["data"]
    assert data["proposed_by"] == "op-1" and data["countersigned_by"] is None
    mode = data["migration_mode"]
    assert (mode["switched_on_by"], mode["reason"]) == ("op-1", "bringing in 2018-2025")
    assert datetime.fromisoformat(mode["since"]) == datetime.fromisoformat(on["since"])
    assert (imported["status"]["phase"], imported["status"]["level"]) == ("certified", "silver")

    off = await api.http.put(MODE, headers=operator, json={"on": False, "reason": "migration done"})
    assert off.status_code == 200 and off.json()["on"] is False
    assert [(s["on"], s["switched_by"], s["reason"]) for s in off.json()["switches"]] == [
        (True, "op-1", "bringing in 2018-2025"),
        (False, "op-1", "migration done"),
    ]
    stored = await api.store.read_stream(PROGRAMME_STREAM)
    assert [(e.type, e.actor.role, e.actor.id) for e in stored] == [
        ("MigrationModeSwitchedOn", "operator", "op-1"),
        ("MigrationModeSwitchedOff", "operator", "op-1"),
    ]

    await api.register("elmwood")
    proposed = await api.post(IMPORT.format("elmwood"), operator, held())
    assert [e["type"] for e in proposed["events"]] == ["CertificationImportProposed"], "off: a proposal again"
    assert (await api.store.verify()).ok, "the programme stream is chained like any other"


async def test_the_command_service_names_the_actor_and_the_stores_mode_whatever_it_is_given(api: Api) -> None:
    """The application layer signs what the workflow trusts: an entry point that put another
    proposer or a migration mode of its own into the command is overruled."""
    await api.register("fairbanks")
    transport = api.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    commands = transport.app.state.services.commands  # type: ignore[attr-defined]
    period = held()
    forged = cmd.ProposeImport.model_validate(
        {
            **{k: v for k, v in period.items() if k != "round_id"},
            "cohort": period["round_id"],
            "valid_from": start_of(date.fromisoformat(period["valid_from"])),
            "valid_until": end_of(date.fromisoformat(period["valid_until"])),
            "proposed_by": "someone-else",
            "migration_mode": {
                "since": "2026-01-01T00:00:00Z",
                "switched_on_by": "nobody",
                "reason": "forged",
            },
        }
    )
    outcome = await commands.give("fairbanks", forged, Actor(role="operator", id="op-1"))
    assert [e.type for e in outcome.events] == ["CertificationImportProposed"], "migration mode is off"
    assert outcome.events[0].data["proposed_by"] == "op-1"
    with pytest.raises(Refused, match="op-1 proposed this import and cannot countersign it"):
        await commands.give(
            "fairbanks", cmd.CountersignImport(countersigned_by="cmt-ben"), Actor(role="committee", id="op-1")
        )
