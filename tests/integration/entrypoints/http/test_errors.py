"""Every refusal has its code: 401, 403, 404, 409, 422, 503, and no input ever gets a 500."""

from __future__ import annotations

import json
import re
from typing import Any

from structlog.testing import capture_logs
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.recording import CityActivities
from app.problems import PATTERN_RULES
from app.tokens import create_token, revoke_token
from domain.errors import Refusal
from entrypoints.http import create_app
from eventstore import EventStore
from readmodel import city_stream, open_city_store
from tests.integration.entrypoints.http.conftest import CRITERIA, DOCS, Api, api_settings, app_client
from tests.integration.workflows.harness import running_worker
from tests.polling import eventually
from tests.scenarios import approval_json, evidence_json
from tests.temporal_env import free_port, time_skipping_environment


async def test_401_without_a_valid_token(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic b3A6b3A="}):
        response = await api.http.get("/v1/cities", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "unauthenticated"
    secret = await create_token(api.store, "operator", name="leaver")
    assert (
        await api.http.get("/v1/cities", headers={"Authorization": f"Bearer {secret}"})
    ).status_code == 200
    [token_id] = [r["id"] for r in await _tokens(api, "leaver")]
    assert await revoke_token(api.store, token_id)
    assert (
        await api.http.get("/v1/cities", headers={"Authorization": f"Bearer {secret}"})
    ).status_code == 401
    # No token needed to read the API's description.
    assert (await api.http.get("/openapi.json")).status_code == 200
    assert (await api.http.get("/docs")).status_code == 200


async def _tokens(api: Api, name: str) -> list[Any]:
    async with api.store.connection() as conn:
        return list(await conn.fetch("SELECT id FROM api_tokens WHERE subject = $1", name))


async def test_403_for_a_role_or_a_city_the_token_does_not_hold(api: Api) -> None:
    await api.register("elmira")
    await api.register("fairview")
    elmira = await api.city("elmira")
    apply = {"round_id": "c", "standard_version": "wwc-2022"}
    cases = [
        ("/v1/cities/fairview/application", elmira, apply),  # another city's token
        ("/v1/cities", elmira, {"id": "x1", "name": "X", "country": "US", "population": 40_000}),
        ("/v1/cities/elmira/decision", elmira, {"level": None, "rationale": "no"}),
        ("/v1/cities/elmira/application", await api.reviewer(), apply),
        ("/v1/cities/elmira/application", await api.committee(), apply),
        ("/v1/cities/elmira/reviews", await api.operator(), {"items": [{"criterion_id": "DM1"}]}),
        ("/v1/cities/elmira/clarifications", await api.operator(), {"items": []}),
    ]
    for path, headers, body in cases:
        refused = await api.post(path, headers, body, expect=403)
        assert refused["error"] == "forbidden"
    for path in ("/v1/cities/fairview", "/v1/cities/fairview/events", "/v1/cities/fairview/state"):
        await api.get(path, elmira, expect=403)
    await api.get("/v1/rounds/c/announcement", elmira, expect=403)
    await api.get("/v1/review-queue", elmira, expect=403)
    # A city token lists its own city only.
    assert [c["city_id"] for c in await api.get("/v1/cities", elmira)] == ["elmira"]
    assert await api.store.read_stream(city_stream("fairview")) != []
    assert len(await api.store.read_stream(city_stream("fairview"))) == 1, "nothing recorded"


async def test_a_reviewer_is_refused_for_their_home_city(api: Api) -> None:
    await api.register("portmore", country="JM")
    staff = await api.city("portmore")
    await api.post(
        "/v1/cities/portmore/application", staff, {"round_id": "c", "standard_version": "wwc-2022"}
    )
    await api.post("/v1/cities/portmore/evidence", staff, {"items": [evidence_json(CRITERIA[0])]})
    local = await api.reviewer(home="portmore", name="rev-local")
    body = {"items": [approval_json(CRITERIA[0])]}
    refused = await api.post("/v1/cities/portmore/reviews", local, body, expect=403)
    assert "conflict of interest" in refused["detail"]
    assert await api.get("/v1/review-queue", local) == [], "a reviewer never sees their home city's items"
    stored = [e.type for e in await api.store.read_stream(city_stream("portmore"))]
    assert stored[-1] == "EvidenceSubmitted"
    # A reviewer from elsewhere may, once assigned and declared free of conflicts.
    assignment = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton", "criterion_ids": [CRITERIA[0]]}
    await api.post("/v1/cities/portmore/reviewer-assignments", await api.operator(), assignment)
    await api.post("/v1/cities/portmore/review/no-conflict", await api.reviewer())
    await api.post("/v1/cities/portmore/reviews", await api.reviewer(), body)


async def test_404_for_an_unknown_city_standard_or_route(api: Api) -> None:
    operator = await api.operator()
    apply = {"round_id": "c", "standard_version": "wwc-2022"}
    assert (await api.post("/v1/cities/nowhere/application", operator, apply, expect=404))["error"] == (
        "unknown_city"
    )
    for path in ("/v1/cities/nowhere", "/v1/cities/nowhere/events", "/v1/cities/nowhere/state"):
        await api.get(path, operator, expect=404)
    await api.get("/v1/cities/Not%20A%20City!", operator, expect=404)
    await api.post("/v1/cities/BAD_ID/application", operator, apply, expect=404)
    assert (await api.get("/v1/standards/wwc-1999", operator, expect=404))["error"] == "unknown_standard"
    assert (await api.get("/v1/standards/wwc-2022", operator))["version"] == "wwc-2022"
    assert (await api.get("/v1/no-such-thing", operator, expect=404))["error"] == "not_found"


async def test_409_with_the_domain_message_for_a_command_not_allowed_now(api: Api) -> None:
    await api.register("riverton", country="CA")
    refused = await api.post(
        "/v1/cities/riverton/decision",
        await api.committee(),
        {"level": "gold", "rationale": "early"},
        expect=409,
    )
    assert refused["error"] == "command_rejected"
    assert refused["detail"].startswith("riverton is registered: DecideLevel needs the city to be committee")
    assert "allowed now: TakeDataSnapshot, ApplyForCertification" in refused["detail"]
    closed = await api.post("/v1/cities/riverton/evidence/close", await api.city("riverton"), expect=409)
    assert "CloseEvidenceSubmission" in closed["detail"]
    assert len(await api.store.read_stream(city_stream("riverton"))) == 1


async def test_a_refusal_carries_its_words_as_data_for_clients_that_translate(api: Api) -> None:
    # Given a registered city, when the committee decides its level before any review
    await api.register("riverton", country="CA")
    refused = await api.post(
        "/v1/cities/riverton/decision",
        await api.committee(),
        {"level": "gold", "rationale": "early"},
        expect=409,
    )
    # Then the problem has the English detail and, as data, the template and the values it names
    refusal = Refusal.from_data(refused["refusal"])
    assert refusal.english() == refused["detail"]
    assert refusal.template == "{reason} (allowed now: {allowed})"
    assert refused["refusal"]["params"]["reason"]["refusal"]["params"]["phase"] == {
        "label": ["Phase", "registered"]
    }
    # And the application layer's own refusals carry theirs too
    missing = await api.post(
        "/v1/cities/nowhere/application",
        await api.operator(),
        {"round_id": "c", "standard_version": "wwc-2022"},
        expect=404,
    )
    assert (
        Refusal.from_data(missing["refusal"]).english()
        == missing["detail"]
        == "no city 'nowhere' is registered"
    )
    # But a request the API could not read names no refusal: its problem lists the fields instead
    malformed = await api.post(
        "/v1/cities/riverton/decision", await api.committee(), {"level": 7}, expect=422
    )
    assert "refusal" not in malformed


async def test_429_with_when_to_retry_for_one_snapshot_more_than_a_day_allows(api: Api) -> None:
    # Given a city that took the ten snapshots the programme allows in a day
    await api.register("riverton", country="CA")
    staff = await api.city("riverton")
    body = {"standard_version": "wwc-2022", "answers": {"DM1": "met"}}
    for _ in range(10):
        await api.post("/v1/cities/riverton/snapshot", staff, body)
    # When it posts an eleventh, then it is told no, when to try again, and nothing is recorded
    response = await api.http.post("/v1/cities/riverton/snapshot", headers=staff, json=body)
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_frequent"
    assert "10 data snapshots in the last 24 hours" in response.json()["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 24 * 3600
    assert len(await api.store.read_stream(city_stream("riverton"))) == 11


async def test_422_for_a_malformed_body(api: Api) -> None:
    await api.register("bayview")
    staff, operator = await api.city("bayview"), await api.operator()
    cases: list[tuple[str, dict[str, str], Any]] = [
        ("/v1/cities", operator, {"id": "bayview2", "name": "B"}),  # missing fields
        ("/v1/cities", operator, {"id": "Bay View", "name": "B", "country": "US", "population": 4e4}),
        ("/v1/cities", operator, {"id": "ok-id", "name": "B", "country": "Canadia", "population": 40_000}),
        ("/v1/cities/bayview/application", staff, {"round_id": "c", "standard_version": "wwc-2022", "x": 1}),
        ("/v1/cities/bayview/application", staff, {"round_id": "c", "standard_version": "wwc-1999"}),
        (
            "/v1/cities/bayview/snapshot",
            staff,
            {"standard_version": "wwc-2022", "answers": {"DM1": "maybe"}},
        ),
        ("/v1/cities/bayview/snapshot", staff, {"standard_version": "wwc-2022", "answers": {"ZZ 9": "met"}}),
        ("/v1/cities/bayview/evidence", staff, {"items": [{"criterion_id": "DM1", "documents": []}]}),
        (
            "/v1/cities/bayview/evidence",
            staff,
            {
                "items": [
                    {"criterion_id": "DM1", "documents": DOCS},
                    {"criterion_id": "DM1", "documents": DOCS},
                ]
            },
        ),
        ("/v1/cities/bayview/evidence", staff, {"items": [{"criterion_id": "DM\x001", "documents": DOCS}]}),
        (
            "/v1/cities/bayview/evidence",
            staff,
            {"items": [{"criterion_id": "DM1", "documents": DOCS, "narrative": "nul \x00 here"}]},
        ),
        ("/v1/cities/bayview/site-visit", operator, {"action": "schedule"}),
        ("/v1/cities/bayview/site-visit", operator, {"action": "dance", "date": "2030-01-01"}),
        ("/v1/cities/bayview/site-visit", operator, {"action": "schedule", "date": "9999-12-31"}),
        # Accepted by the API's model, refused by the domain command's own check (repeated id).
        (
            "/v1/cities/bayview/site-visit",
            operator,
            {"action": "complete", "findings": "f", "overturned": ["DM1"] * 2},
        ),
        ("/v1/cities/bayview/decision", await api.committee(), {"rationale": "no level given"}),
        (
            "/v1/cities/bayview/imported-certification",
            operator,
            {
                "level": "gold",
                "standard_version": "wwc-2018",
                "round_id": "2020",
                "valid_from": "2024-01-01T00:00:00Z",  # a moment, not a day
                "valid_until": "2027-01-01",
            },
        ),
        (
            "/v1/cities/bayview/imported-certification",
            operator,
            {
                "level": "gold",
                "standard_version": "wwc-2018",
                "round_id": "2020",
                "valid_from": "2027-01-01",
                "valid_until": "2024-01-01",  # before it starts
            },
        ),
        (
            "/v1/cities/bayview/reviews",
            await api.reviewer(),
            {"items": [{"criterion_id": "DM1", "decision": "request_clarification"}]},  # no note
        ),
    ]
    for path, headers, body in cases:
        answer = await api.post(path, headers, body, expect=422)
        assert answer["error"] in {"invalid_request", "invalid_command"}, answer
    not_json = await api.http.post(
        "/v1/cities/bayview/application", headers={**staff, "content-type": "application/json"}, content=b"{"
    )
    assert not_json.status_code == 422
    assert len(await api.store.read_stream(city_stream("bayview"))) == 1, "nothing was recorded"


# Bodies no endpoint accepts; each must get a 4xx, never a 500.
GARBAGE: list[Any] = [
    None,
    [],
    "text",
    12,
    {},
    {"items": None},
    {"items": [None]},
    {"items": [{"criterion_id": 7, "documents": "x"}]},
    {"items": [{"criterion_id": "DM1", "decision": "approve", "note": {"deep": [1, 2]}}]},
    {"id": "x" * 300, "name": "", "country": "", "population": -1},
    {"id": "ok-city", "name": "N", "country": "US", "population": 10**30},
    {"level": "bronze", "rationale": "x"},
    {"level": None, "rationale": "\x00"},
    {"upheld": "maybe", "rationale": "x"},
    {"grounds": "x" * 20_000},
    {"action": "complete", "findings": "f", "overturned": ["DM1", "DM1"]},
    {"round_id": "\x00", "standard_version": "wwc-2022"},
    {"standard_version": "wwc-2022", "answers": {"": "met"}},
    {"standard_version": "../../etc/passwd", "answers": {"DM1": "met"}},
    {"level": "gold", "standard_version": "wwc-2018", "round_id": "c", "valid_from": "yesterday"},
]
POSTS = [
    ("/v1/cities", "operator"),
    ("/v1/cities/vale/imported-certification", "operator"),
    ("/v1/cities/vale/imported-certification/countersignature", "committee"),
    ("/v1/cities/vale/imported-certification/rejection", "committee"),
    ("/v1/cities/vale/snapshot", "city"),
    ("/v1/cities/vale/application", "city"),
    ("/v1/cities/vale/evidence", "city"),
    ("/v1/cities/vale/evidence/close", "city"),
    ("/v1/cities/vale/reviews", "reviewer"),
    ("/v1/cities/vale/clarifications", "city"),
    ("/v1/cities/vale/site-visit", "committee"),
    ("/v1/cities/vale/decision", "committee"),
    ("/v1/cities/vale/appeal", "city"),
    ("/v1/cities/vale/appeal/decision", "committee"),
]


async def test_no_input_gets_a_500(api: Api) -> None:
    await api.register("vale")
    headers = {
        "operator": await api.operator(),
        "city": await api.city("vale"),
        "reviewer": await api.reviewer(),
        "committee": await api.committee(),
    }
    for path, role in POSTS:
        for body in GARBAGE:
            response = await api.http.post(path, headers=headers[role], content=json.dumps(body))
            assert 400 <= response.status_code < 500, (path, body, response.status_code, response.text)
            assert "error" in response.json()
    huge = await api.http.post(
        "/v1/cities/vale/appeal", headers=headers["city"], json={"grounds": "x" * 2_000_000}
    )
    assert huge.status_code == 413

    async def chunked_body():  # type: ignore[no-untyped-def]  # no Content-Length: only bytes
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far past the 1 MB cap
            yield b"x" * 65_536

    streamed = await api.http.post(
        "/v1/cities/vale/appeal",
        headers={**headers["city"], "content-type": "application/json"},
        content=chunked_body(),
    )
    assert (streamed.status_code, streamed.json()["error"]) == (413, "too_large"), streamed.text
    assert "at most 1000000 bytes" in streamed.json()["detail"]
    odd_reads = [
        ("/v1/cities", {"level": "bronze"}),
        ("/v1/cities", {"limit": "0"}),
        ("/v1/cities", {"offset": str(10**30)}),
        ("/v1/cities", {"round": "\x00"}),
        ("/v1/cities/vale/events", {"from_version": str(2**63)}),
        ("/v1/cities/vale/events", {"after": str(2**63)}),
        ("/v1/cities/vale/events", {"limit": "1001"}),
        ("/v1/cities/vale/state", {"as_of": "not a date"}),
        ("/v1/cities/vale/state", {"as_of": "9999-12-31T23:59:59-12:00"}),
        ("/v1/review-queue", {"reviewer_id": "\x00"}),
        ("/v1/rounds/%00/announcement", {}),
        ("/v1/rounds/%00", {}),
        ("/v1/standards/" + "x" * 500, {}),
    ]
    for path, params in odd_reads:
        response = await api.http.get(path, headers=headers["operator"], params=params)
        assert 400 <= response.status_code < 500, (path, params, response.status_code, response.text)
    assert len(await api.store.read_stream(city_stream("vale"))) == 1


# What a pattern, or pydantic's own phrasing, looks like when it leaks into a message.
LEAKS = re.compile(r"\^|\$|\[\^|\\x|\]\*|\]\+|\{\d+,\d*\}|should match pattern|Input should|String should")


def _problems(answer: Any) -> list[dict[str, Any]]:
    return answer["detail"] if isinstance(answer.get("detail"), list) else []


async def test_every_refusal_says_in_words_what_to_send_never_a_pattern(api: Api) -> None:
    await api.register("vale")
    headers = {
        "operator": await api.operator(),
        "city": await api.city("vale"),
        "reviewer": await api.reviewer(),
        "committee": await api.committee(),
    }
    answers = []
    for path, role in POSTS:
        for body in GARBAGE:
            response = await api.http.post(path, headers=headers[role], content=json.dumps(body))
            answers.append(response.json())
    for path, params in [
        ("/v1/cities", {"round": "\x00", "level": "bronze", "limit": "0"}),
        ("/v1/people", {"city_id": "Not A City"}),
        ("/v1/review-queue", {"reviewer_id": "\x00"}),
        ("/v1/cities/vale/state", {"as_of": "2026-01-01"}),
    ]:
        response = await api.http.get(path, headers=headers["operator"], params=params)
        assert response.status_code == 422, (path, response.text)
        answers.append(response.json())
    problems = [p for answer in answers for p in _problems(answer)]
    assert len(problems) > 100, "the bodies above are refused with their problems"
    for problem in problems:
        assert not LEAKS.search(problem["msg"]), problem
    said = {problem["msg"] for problem in problems}
    assert (
        "city_id must be a city id: 2 to 63 lowercase letters, digits or hyphens, not starting with "
        "a hyphen, such as lakeside" in said
    )
    assert "round must not contain NUL characters" in said
    assert "level must be one of 'silver', 'gold' or 'platinum'" in said
    assert "limit must be at least 1" in said
    assert "as_of must be an ISO 8601 moment with its UTC offset, such as 2026-03-01T09:00:00Z" in said


async def test_every_pattern_the_openapi_document_states_has_its_rule_in_words(api: Api) -> None:
    """A pattern the API checks but app/problems.py cannot put in words would reach a person as a
    sentence that says nothing of what to send: none may exist."""
    document = (await api.http.get("/openapi.json")).json()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert found, "the document states its patterns"
    assert sorted(found - set(PATTERN_RULES)) == []


async def test_a_country_no_one_knows_or_that_fits_two_is_refused_in_words(api: Api) -> None:
    operator = await api.operator()
    body = {"id": "northgate", "name": "Northgate", "population": 90_000}
    unknown = await api.post("/v1/cities", operator, {**body, "country": "Canadia"}, expect=422)
    assert unknown == {
        "error": "invalid_request",
        "detail": [
            {
                "loc": ["body", "country"],
                "msg": "'Canadia' is not a country name or code we know; send an ISO 3166 code such as CA, "
                "or the country's name in English, Spanish or Portuguese",
                "type": "value_error",
            }
        ],
    }
    [ambiguous] = (await api.post("/v1/cities", operator, {**body, "country": "Korea"}, expect=422))["detail"]
    assert ambiguous["loc"] == ["body", "country"]
    assert "may be more than one country" in ambiguous["msg"] and "(KR)" in ambiguous["msg"]
    assert await api.store.read_stream(city_stream("northgate")) == [], "nothing was recorded"


async def test_503_when_the_database_is_unreachable(api: Api, database_url: str) -> None:
    assert api.env is not None
    secret = await api.token("operator", name="op-1")
    headers = {"Authorization": f"Bearer {secret}"}
    # A store on a port nothing listens on (min_size=0: the pool connects only when asked).
    dead = await open_city_store(f"postgresql://citycert@127.0.0.1:{free_port()}/citycert", min_size=0)
    closed = await open_city_store(database_url, min_size=0)
    await closed.close()
    try:
        for store in (dead, closed):
            app = create_app(api_settings(), client=api.env.client, store=store)
            async with app_client(app) as http:
                for path in ("/v1/cities", "/v1/cities/lakeside", "/v1/review-queue"):
                    response = await http.get(path, headers=headers)
                    assert response.status_code == 503, (path, response.text)
                    assert response.json()["error"] == "database_unavailable"
                    assert response.headers["retry-after"]
                    # The driver's words (addresses, ports, what failed inside) stay in the log.
                    assert re.fullmatch(
                        r"the event store is unavailable \(correlation id [0-9a-f]{12}\)",
                        response.json()["detail"],
                    ), response.json()
                response = await http.post("/v1/cities/x1/appeal", headers=headers, json={"grounds": "g"})
                assert response.status_code == 503
                health = await http.get("/health")
                assert health.status_code == 503
                assert health.json() == {"database": "unavailable", "temporal": "ok"}
    finally:
        await dead.close()


async def test_503_when_temporal_is_unreachable(api: Api) -> None:
    await api.register("northgate", country="MX")
    gone = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)
    app = create_app(api_settings(), client=gone, store=api.store)
    async with app_client(app) as http:
        response = await http.post(
            "/v1/cities/northgate/application",
            headers=await api.city("northgate"),
            json={"round_id": "c", "standard_version": "wwc-2022"},
        )
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "temporal_unavailable"
        body = {"id": "southgate", "name": "Southgate", "country": "US", "population": 40_000}
        response = await http.post("/v1/cities", headers=await api.operator(), json=body)
        assert response.status_code == 503
        assert await api.store.read_stream(city_stream("southgate")) == []
        # Reads come from the store and still work.
        assert (await http.get("/v1/cities/northgate", headers=await api.operator())).status_code == 200
        health = await http.get("/health")
        assert health.status_code == 503 and health.json()["database"] == "ok"


async def test_each_request_is_logged_once_with_its_outcome(api: Api) -> None:
    await api.register("westfield")
    staff = await api.city("westfield")
    with capture_logs() as logs:
        await api.get("/v1/cities/westfield", staff)
        await api.post("/v1/cities/westfield/decision", staff, {"level": None, "rationale": "x"}, expect=403)
        await api.http.get("/v1/cities")
    requests = [entry for entry in logs if entry["event"] == "api.request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/v1/cities/westfield", 200),
        ("POST", "/v1/cities/westfield/decision", 403),
        ("GET", "/v1/cities", 401),
    ]
    assert requests[0]["city_id"] == "westfield" and requests[0]["role"] == "city"
    assert requests[1]["role"] == "city" and requests[1]["log_level"] == "warning"
    assert requests[2]["role"] is None
    assert all(isinstance(r["duration_ms"], float) for r in requests)


async def test_a_command_the_store_cannot_record_answers_503_instead_of_hanging(store: EventStore) -> None:
    """PostgreSQL goes away under the worker: the activity retries, the API stops waiting."""
    activities = CityActivities(store)
    async with (
        time_skipping_environment() as env,
        running_worker(env, store, activities.all()) as queue,
    ):
        app = create_app(
            api_settings(temporal_task_queue=queue), client=env.client, store=store, command_timeout=1.0
        )
        async with app_client(app) as http:
            api = Api(http=http, store=store, env=env)
            await api.register("eastport")
            await api.open_round("c")
            dead = await open_city_store(f"postgresql://citycert@127.0.0.1:{free_port()}/x", min_size=0)
            activities.store = dead  # the worker's database is gone; the API's still answers
            try:
                response = await http.post(
                    "/v1/cities/eastport/application",
                    headers=await api.city("eastport"),
                    json={"round_id": "c", "standard_version": "wwc-2022"},
                )
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "not_confirmed"
            finally:
                activities.store = store
                await dead.close()
            # Once the database is back the retried activity records the command after all.
            events = await eventually(
                lambda: store.read_stream(city_stream("eastport")),
                lambda found: len(found) == 3,
                attempts=300,
            )
            assert [e.type for e in events[1:]] == ["ApplicationSubmitted", "DeadlineSet"]


async def test_an_api_holding_another_command_key_than_the_workers_says_so_and_records_nothing(
    store: EventStore,
) -> None:
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        settings = api_settings(
            temporal_task_queue=queue, command_key="a-key-the-workers-do-not-hold-" + "x" * 8
        )
        async with app_client(create_app(settings, client=env.client, store=store)) as http:
            api = Api(http=http, store=store, env=env)
            body = {"id": "keyless", "name": "Keyless", "country": "US", "population": 90_000}
            response = await http.post("/v1/cities", headers=await api.operator(), json=body)

    assert response.status_code == 503, response.text
    assert response.json()["error"] == "command_key_mismatch"
    assert "CITYCERT_COMMAND_KEY" in response.json()["detail"]
    assert await store.read_stream(city_stream("keyless")) == []
