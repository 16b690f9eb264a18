"""People over the HTTP API: operators keep them, a city's contacts are readable by operators, the
committee and that city, bad details are refused with the reason in words, erasure leaves an id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.entrypoints.http.conftest import Api

ANA = {"name": "Ana Souza", "email": "ana.souza@example.org", "language": "pt"}


async def add(api: Api, expect: int = 201, **fields: Any) -> Any:
    return await api.post("/v1/people", await api.operator(), {**ANA, **fields}, expect=expect)


async def test_an_operator_adds_shows_lists_updates_and_deactivates_a_person(api: Api) -> None:
    operator = await api.operator()
    await api.register("lakeside")

    # Given city staff added by an operator, answered with their id,
    created = await add(api, role="city", city_id="lakeside")
    person_id = created["id"]
    assert created == {"id": person_id} and person_id.startswith("per_")
    shown = await api.get(f"/v1/people/{person_id}", operator)
    assert shown | {**ANA, "role": "city", "city_id": "lakeside", "active": True, "erased_at": None} == shown

    # when their language changes and a reviewer is added,
    patched = await api.http.patch(f"/v1/people/{person_id}", headers=operator, json={"language": "es"})
    await add(api, email="rev@example.org", role="reviewer", city_id="riverton")

    # then the listing has both, filtered by role or city, a page at a time,
    assert patched.status_code == 200 and patched.json()["language"] == "es"
    assert patched.json()["name"] == ANA["name"]
    assert [p["role"] for p in await api.get("/v1/people", operator)] == ["city", "reviewer"]
    assert [p["id"] for p in await api.get("/v1/people", operator, role="city")] == [person_id]
    assert [p["role"] for p in await api.get("/v1/people", operator, city_id="riverton")] == ["reviewer"]
    assert [p["role"] for p in await api.get("/v1/people", operator, limit=1, offset=1)] == ["reviewer"]
    # and the staff member is the city's contact until deactivated.
    assert [p["id"] for p in await api.get("/v1/cities/lakeside/contacts", operator)] == [person_id]
    deactivated = await api.post(f"/v1/people/{person_id}/deactivation", operator)
    assert deactivated["active"] is False and deactivated["name"] == ANA["name"]
    assert await api.get("/v1/cities/lakeside/contacts", operator) == []
    assert [p["role"] for p in await api.get("/v1/people", operator, active="true")] == ["reviewer"]


async def test_a_city_s_contacts_are_for_operators_the_committee_and_that_city(api: Api) -> None:
    await api.register("lakeside")
    await api.register("riverton")
    person_id = (await add(api, role="city", city_id="lakeside"))["id"]

    for allowed in (await api.operator(), await api.committee(), await api.city("lakeside")):
        contacts = await api.get("/v1/cities/lakeside/contacts", allowed)
        assert [(p["id"], p["email"]) for p in contacts] == [(person_id, ANA["email"])]
    other_city = await api.get("/v1/cities/lakeside/contacts", await api.city("riverton"), expect=403)
    reviewer = await api.get("/v1/cities/lakeside/contacts", await api.reviewer(home="riverton"), expect=403)
    unknown = await api.get("/v1/cities/atlantis/contacts", await api.committee(), expect=404)

    assert other_city["error"] == reviewer["error"] == "forbidden"
    assert unknown["error"] == "unknown_city"
    await api.get("/v1/cities/lakeside/contacts", {}, expect=401)


async def test_only_operators_keep_people(api: Api) -> None:
    person_id = (await add(api, role="committee"))["id"]

    for role_headers in (await api.committee(), await api.city("lakeside"), await api.reviewer()):
        refused = await api.post("/v1/people", role_headers, {**ANA, "role": "operator"}, expect=403)
        assert refused["error"] == "forbidden"
        await api.get("/v1/people", role_headers, expect=403)
        await api.get(f"/v1/people/{person_id}", role_headers, expect=403)
        await api.post(f"/v1/people/{person_id}/erasure", role_headers, expect=403)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"email": "ana.example.org", "role": "committee"}, "an e-mail address is name@example.org"),
        ({"language": "fr", "role": "committee"}, "unknown language 'fr': citycert speaks en, es, pt"),
        ({"role": "city"}, "city staff needs city_id: the city they work for"),
        ({"role": "reviewer", "city_id": None}, "a reviewer needs city_id: their home city"),
        (
            {"role": "operator", "city_id": "lakeside"},
            "an operator is not bound to a city; leave out city_id",
        ),
        ({"role": "mayor"}, "unknown role 'mayor'"),
    ],
)
async def test_bad_details_are_refused_with_the_reason_in_words(
    api: Api, fields: dict[str, Any], reason: str
) -> None:
    refused = await add(api, expect=422, **fields)

    assert refused["error"] == "invalid_request"
    assert any(reason in problem["msg"] for problem in refused["detail"]), refused
    assert await api.get("/v1/people", await api.operator()) == []


async def test_a_duplicate_or_a_city_not_registered_is_refused_in_words(api: Api) -> None:
    await add(api, role="committee")

    duplicate = await add(api, expect=422, email="ANA.SOUZA@example.org", role="operator")
    unregistered = await add(api, expect=422, email="x@example.org", role="city", city_id="atlantis")

    assert (
        duplicate["error"] == "duplicate_person" and "already has the e-mail address" in duplicate["detail"]
    )
    assert unregistered["error"] == "invalid_person"
    assert unregistered["detail"] == "no city 'atlantis' is registered; register it before adding its staff"


async def test_an_erased_person_keeps_an_id_role_and_city_and_nothing_else(api: Api) -> None:
    operator = await api.operator()
    await api.register("lakeside")
    person_id = (await add(api, role="city", city_id="lakeside"))["id"]

    erased = await api.post(f"/v1/people/{person_id}/erasure", operator)
    shown = await api.get(f"/v1/people/{person_id}", operator)
    patch = await api.http.patch(f"/v1/people/{person_id}", headers=operator, json={"name": "Ana"})

    assert erased == shown
    assert (shown["id"], shown["role"], shown["city_id"]) == (person_id, "city", "lakeside")
    assert (shown["name"], shown["email"], shown["language"], shown["active"]) == (None, None, None, False)
    assert shown["erased_at"] is not None
    assert patch.status_code == 409 and patch.json()["error"] == "person_erased"
    assert await api.get("/v1/cities/lakeside/contacts", operator) == []
    # The city's history still reads: nothing of the person was ever in it.
    assert [e["type"] for e in await api.get("/v1/cities/lakeside/events", operator)] == ["CityRegistered"]


async def test_an_unknown_person_is_404(api: Api) -> None:
    operator = await api.operator()

    for path in ("/v1/people/per_0123456789abcdef", "/v1/people/nobody"):
        assert (await api.get(path, operator, expect=404))["error"] == "unknown_person"
    await api.post("/v1/people/per_0123456789abcdef/deactivation", operator, expect=404)


async def test_the_people_routes_document_exactly_their_refusals(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()

    def statuses(method: str, path: str) -> list[int]:
        return sorted(int(code) for code in document["paths"][path][method]["responses"])

    assert statuses("post", "/v1/people") == [201, 401, 403, 413, 422, 503]
    assert statuses("get", "/v1/people") == [200, 401, 403, 422, 503]
    assert statuses("get", "/v1/people/{person_id}") == [200, 401, 403, 404, 503]
    assert statuses("patch", "/v1/people/{person_id}") == [200, 401, 403, 404, 409, 413, 422, 503]
    assert statuses("post", "/v1/people/{person_id}/erasure") == [200, 401, 403, 404, 503]
    assert statuses("get", "/v1/cities/{city_id}/contacts") == [200, 401, 403, 404, 503]
    body = document["paths"]["/v1/people"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    new_person = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(new_person["discriminator"]["mapping"]) == {"city", "reviewer", "committee", "operator"}
