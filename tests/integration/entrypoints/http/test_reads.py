"""The reads no request can make costly: a city's events one bounded page at a time (each page read
alone in SQL, the next named by a Link header), and its state now from the projection."""

from __future__ import annotations

from typing import Any

from domain.levels import Level
from entrypoints.http.routes_cities import EVENTS_PAGE, MAX_EVENTS_PAGE
from readmodel import city_stream, load_city_state
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.eventstore.stories import CityRun

ALL_CRITERIA = 43  # a cycle of every wwc-2022 criterion: more events than a default page


async def long_city(api: Api, city_id: str = "lakeside") -> CityRun:
    """A city certified on every criterion, its events recorded through the store (no workflow is
    needed to read them)."""
    run = CityRun(api.store, city_id)
    await run.register()
    await run.certify(approved=ALL_CRITERIA, level=Level.GOLD)
    assert run.state.version > EVENTS_PAGE
    return run


async def every_page(
    api: Api, path: str, headers: dict[str, str], **params: Any
) -> list[list[dict[str, Any]]]:
    """Follow the next links from the first page to the last."""
    pages: list[list[dict[str, Any]]] = []
    url: str | None = path
    while url is not None:
        response = await api.http.get(url, headers=headers, params=params if not pages else None)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = response.links.get("next", {}).get("url")
    return pages


async def test_a_long_stream_pages_through_every_event_once_in_order(api: Api) -> None:
    run = await long_city(api)
    await long_city(api, "fairview")
    headers = await api.city("lakeside")
    recorded = [e.event_id for e in await api.store.read_stream(city_stream("lakeside"))]

    for params in ({}, {"limit": 7}, {"limit": MAX_EVENTS_PAGE}):
        pages = await every_page(api, "/v1/cities/lakeside/events", headers, **params)
        limit = params.get("limit", EVENTS_PAGE)
        events = [e for page in pages for e in page]
        assert [e["version"] for e in events] == list(range(1, run.state.version + 1)), params
        assert [e["event_id"] for e in events] == [str(i) for i in recorded]
        assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
        assert len(pages) == -(-run.state.version // limit)  # no empty page at the end


async def test_the_first_page_is_bounded_and_names_the_next(api: Api) -> None:
    await long_city(api)
    response = await api.http.get("/v1/cities/lakeside/events", headers=await api.operator())

    assert response.status_code == 200
    assert [e["version"] for e in response.json()] == list(range(1, EVENTS_PAGE + 1))
    assert (
        response.links["next"]["url"] == f"/v1/cities/lakeside/events?after={EVENTS_PAGE}&limit={EVENTS_PAGE}"
    )


async def test_after_is_the_cursor_and_from_version_still_works(api: Api) -> None:
    run = await long_city(api)
    operator = await api.operator()

    after = await api.http.get(
        "/v1/cities/lakeside/events", headers=operator, params={"after": 5, "limit": 3}
    )
    assert [e["version"] for e in after.json()] == [6, 7, 8]
    assert after.links["next"]["url"] == "/v1/cities/lakeside/events?after=8&limit=3"
    older = await api.get("/v1/cities/lakeside/events", operator, from_version=6, limit=3)
    assert older == after.json()
    last = await api.http.get(
        "/v1/cities/lakeside/events", headers=operator, params={"after": run.state.version - 2}
    )
    assert [e["version"] for e in last.json()] == [run.state.version - 1, run.state.version]
    assert "link" not in last.headers
    assert await api.get("/v1/cities/lakeside/events", operator, after=run.state.version) == []


async def test_bad_paging_parameters_are_refused_saying_which_and_why(api: Api) -> None:
    await api.register("lakeside")
    operator = await api.operator()
    cases = [
        ({"limit": 0}, "limit", "limit must be at least 1"),
        ({"limit": MAX_EVENTS_PAGE + 1}, "limit", f"limit must be at most {MAX_EVENTS_PAGE:,}"),
        ({"after": -1}, "after", "after must be at least 0"),
        ({"after": "soon"}, "after", "after must be a whole number"),
        ({"from_version": 0}, "from_version", "from_version must be at least 1"),
        ({"after": 3, "from_version": 4}, "from_version", "give after or from_version, not both"),
    ]
    for params, name, message in cases:
        response = await api.http.get("/v1/cities/lakeside/events", headers=operator, params=params)
        assert response.status_code == 422, (params, response.text)
        body = response.json()
        assert body["error"] == "invalid_request"
        assert any(p["loc"] == ["query", name] and message in p["msg"] for p in body["detail"]), body


async def test_the_state_now_is_the_projection_and_equals_the_fold(api: Api) -> None:
    # Given a city's events, the API's state now is the projection's, which is the fold of them;
    run = await long_city(api)
    headers = await api.city("lakeside")

    now = await api.get("/v1/cities/lakeside/state", headers)

    assert now == run.state.model_dump(mode="json")
    assert now == (await load_city_state(api.store, "lakeside")).model_dump(mode="json")
    # as of a moment in the past, the fold of the events recorded by then.
    events = await api.store.read_stream(city_stream("lakeside"))
    applied = run.results[1].version
    then = await api.get(
        "/v1/cities/lakeside/state", headers, as_of=events[applied - 1].recorded_at.isoformat()
    )
    assert (then["version"], then["phase"]) == (applied, "evidence")
    assert then == (
        await load_city_state(api.store, "lakeside", as_of=events[applied - 1].recorded_at)
    ).model_dump(mode="json")
    before = await api.get("/v1/cities/lakeside/state", headers, as_of="2001-01-01T00:00:00Z")
    assert (before["version"], before["phase"]) == (0, "unregistered")


async def test_the_openapi_document_states_the_paging_parameters_and_their_bounds(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    operation = document["paths"]["/v1/cities/{city_id}/events"]["get"]
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}

    assert set(query) == {"after", "from_version", "limit"}
    assert {k: query["limit"]["schema"][k] for k in ("type", "minimum", "maximum", "default")} == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_EVENTS_PAGE,
        "default": EVENTS_PAGE,
    }
    assert (query["after"]["schema"]["minimum"], query["after"]["schema"]["default"]) == (0, 0)
    assert query["from_version"]["deprecated"] is True
    assert "Link" in operation["responses"]["200"]["headers"]
    assert "422" in operation["responses"]


async def test_the_city_list_pages_by_the_last_id_of_the_page_before(api: Api) -> None:
    # Given three registered cities
    for city_id in ("ashford", "brookline", "carver"):
        await api.register(city_id)
    operator = await api.operator()
    # When an operator reads two, then the page after the last of them
    first = [c["city_id"] for c in await api.get("/v1/cities", operator, limit=2)]
    rest = [c["city_id"] for c in await api.get("/v1/cities", operator, limit=2, after=first[-1])]
    # Then every city comes once, in id order, and the page after the last city is empty
    assert (first, rest) == (["ashford", "brookline"], ["carver"])
    assert await api.get("/v1/cities", operator, after="carver") == []


async def test_the_city_lists_filters_combine_with_its_key_and_its_limit(api: Api) -> None:
    # Given four registered cities, two of them applied to a round
    for city_id in ("ashford", "brookline", "carver", "dover"):
        await api.register(city_id)
    for city_id in ("brookline", "dover"):
        staff = await api.city(city_id)
        await api.post(
            f"/v1/cities/{city_id}/application", staff, {"round_id": "c", "standard_version": "wwc-2022"}
        )
    operator = await api.operator()

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        return [row["city_id"] for row in rows]

    # When the list is read with a filter, then by key after a city and with a limit
    assert ids(await api.get("/v1/cities", operator, phase="evidence")) == ["brookline", "dover"]
    assert ids(await api.get("/v1/cities", operator, phase="evidence", after="brookline")) == ["dover"]
    assert ids(await api.get("/v1/cities", operator, phase="registered", limit=1, after="ashford")) == [
        "carver"
    ]
    assert ids(await api.get("/v1/cities", operator, round="c", phase="evidence", limit=1)) == ["brookline"]
    # Then each answers the cities every filter given admits, in id order
    assert await api.get("/v1/cities", operator, round="c", phase="registered") == []
