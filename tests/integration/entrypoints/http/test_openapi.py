"""The OpenAPI document tells the truth: schemathesis generates requests from it, valid and
invalid, for every role's token and none, and every answer must be one the document describes.

The app runs on the test's event loop (its asyncpg pool and Temporal client live there), while
Hypothesis drives generation synchronously: it runs in a worker thread and hands each request
back to the loop. Valid commands really reach the time-skipping Temporal server and are recorded.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from domain.commands import MAX_DOCUMENTS, MAX_ITEMS, MAX_POPULATION
from domain.ids import CITY_ID_PATTERN, LINE_PATTERN, TEXT_PATTERN, URL_MAX
from tests.integration.entrypoints.http.conftest import Api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Per operation and generation mode: enough to reach every documented branch of a small API,
# few enough that the five roles together run in well under a minute on two shared cores.
MAX_EXAMPLES = 15
CITY = "lakeside"  # registered before generation, so a city token and pinned paths reach a real city
REVIEWER_HOME = "riverton"
ROLES = ["operator", "committee", "reviewer", "city", "none"]
API_BASE = "http://citycert.test"


@dataclass
class Exploration:
    cases: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def failed(
        self, case: Case, role: str, error: AssertionError | FailureGroup, headers: dict[str, str]
    ) -> None:
        titles = [f.title for f in error.exceptions] if isinstance(error, FailureGroup) else [str(error)]
        key = f"{case.method} {case.path} as {role}: {'; '.join(sorted(titles))}"
        self.failures[key] += 1
        # A FailureGroup's text has the response and a curl command; a bare assertion's does not.
        curl = case.as_curl_command(headers=headers)
        example = str(error) if isinstance(error, FailureGroup) else f"{error}\n{curl}"
        self.examples.setdefault(key, example)

    def summary(self) -> str:
        lines = [
            f"{sum(self.failures.values())} failing cases of {self.cases}, "
            f"{len(self.failures)} distinct failures (operation, role, checks):"
        ]
        for key, count in self.failures.most_common():
            lines.append(f"- {count} x {key}\n  {self.examples[key][:1500]}")
        return "\n".join(lines)


async def _headers(api: Api, role: str) -> dict[str, str]:
    if role == "none":
        return {}
    if role == "city":
        return await api.city(CITY)
    if role == "reviewer":
        return await api.reviewer(home=REVIEWER_HOME)
    if role == "committee":
        return await api.committee()
    return await api.operator()


def _request_kwargs(case: Case, headers: dict[str, str]) -> dict[str, Any]:
    """The requests-style arguments schemathesis serializes, as httpx takes them."""
    sent = case.as_transport_kwargs(base_url=API_BASE, headers=headers)
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "headers": sent.get("headers"),
        "params": sent.get("params"),
    }
    if "json" in sent:
        request["json"] = sent["json"]
    elif "files" in sent:  # multipart (a document upload): its parts, and any plain fields
        request["files"] = [(name, _part(value)) for name, value in sent["files"]]
        if sent.get("data"):
            request["data"] = sent["data"]
    elif "data" in sent:
        request["content"] = sent["data"]
    return request


def _part(value: Any) -> Any:
    """A multipart part as httpx sends it: a negative case may make its content a number or a
    list, which goes as its JSON text."""
    if isinstance(value, tuple):
        filename, content, *rest = value
        if not isinstance(content, str | bytes):
            content = json.dumps(content)
        return (filename, content, *rest)
    return value if isinstance(value, str | bytes) else json.dumps(value)


async def _send(api: Api, sent: dict[str, Any]) -> httpx.Response:
    """The request, its body read first: a multipart body is a stream, and the checks read it."""
    request = api.http.build_request(**sent)
    request.read()
    return await api.http.send(request)


# Hypothesis draws the same cases for every role that sends a token: the token is given, not drawn
# (its value is never looked at while drawing), and derandomize seeds every run alike. Drawing is
# most of this test's time, so a process draws them once, with a stand-in token, and each role's
# test sends them with its own (the stand-in never goes out: the role's headers replace it). The
# anonymous role draws its own: without a given token the header itself is generated and fuzzed.
# `make test`'s --dist loadfile keeps the five roles' tests on one worker, so they share the drawing.
STAND_IN = "Bearer the-role-s-own-token"
_drawn: dict[tuple[str, tuple[str, ...]], list[Case]] = {}


def _cases(document: dict[str, Any], header_names: tuple[str, ...]) -> list[Case]:
    """Every operation's cases in both generation modes, drawn once per document and header names."""
    key = (json.dumps(document, sort_keys=True), header_names)
    if key not in _drawn:
        _drawn[key] = _draw(document, {name: STAND_IN for name in header_names})
    return _drawn[key]


def _draw(document: dict[str, Any], headers: dict[str, str]) -> list[Case]:
    schema = schemathesis.openapi.from_dict(document)
    drawn: list[Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # The role's token is given, not generated: a negative case that only drops or garbles
            # it would be undone by the token sent anyway and then judged as if it had not been.
            explicit = {"headers": headers} if headers else {}
            strategies = [operation.as_strategy(mode, **explicit)]
            if "{city_id}" in operation.path:
                strategies.append(operation.as_strategy(mode, path_parameters={"city_id": CITY}, **explicit))

            @given(case=st.one_of(strategies))
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[p for p in settings.default.phases if p.name != "shrink"],
            )
            def one(case: Case) -> None:
                drawn.append(case)

            try:
                one()
            except Unsatisfiable:
                # An operation with nothing to get wrong (no parameters, no body) has no negative case.
                if mode is GenerationMode.POSITIVE:
                    raise
    return drawn


def _explore(
    api: Api, document: dict[str, Any], role: str, headers: dict[str, str], loop: asyncio.AbstractEventLoop
) -> Exploration:
    """Send every operation's cases in both generation modes; collect failures instead of stopping."""
    found = Exploration()
    for case in _cases(document, tuple(sorted(headers))):
        found.cases += 1
        sent = _request_kwargs(case, headers)
        response = asyncio.run_coroutine_threadsafe(_send(api, sent), loop).result()
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as e:
            found.failed(case, role, e, headers)
    return found


@pytest.mark.parametrize("role", ROLES)
async def test_every_answer_is_one_the_openapi_document_describes(api: Api, role: str) -> None:
    await api.register(CITY)
    document = (await api.http.get("/openapi.json")).json()
    headers = await _headers(api, role)
    found = await asyncio.to_thread(_explore, api, document, role, headers, asyncio.get_running_loop())
    print(found.summary())  # the numbers, shown with `pytest -s`
    assert found.cases > 0
    assert not found.failures, found.summary()


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


async def test_each_route_documents_the_refusals_its_dependencies_can_give(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()
    errors_of = {
        (method, path): sorted(int(code) for code in _operation(document, method, path)["responses"])
        for path, methods in document["paths"].items()
        for method in methods
    }
    # No city in the path: no unknown city; no command: no 409; no body: no 413; no token: no 401.
    assert errors_of["post", "/v1/cities"] == [201, 401, 403, 409, 413, 422, 503]
    assert errors_of["get", "/v1/cities/{city_id}"] == [200, 401, 403, 404, 503]
    assert errors_of["post", "/v1/cities/{city_id}/evidence/close"] == [200, 401, 403, 404, 409, 422, 503]
    assert errors_of["get", "/v1/cities"] == [200, 401, 422, 503]
    # A restart takes no body and no command: nothing malformed (no 422), nothing too large.
    assert errors_of["post", "/v1/cities/{city_id}/workflow/restart"] == [200, 401, 403, 404, 409, 503]
    assert errors_of["get", "/health"] == [200, 503]
    # The public side needs no token: a 304 to a reader holding the ETag, 404 for an unknown number.
    assert errors_of["get", "/public/directory"] == [200, 304, 422, 503]
    assert errors_of["get", "/public/certificates/{number}"] == [200, 304, 404, 503]
    assert errors_of["get", "/public/cities/{city_id}"] == [200, 304, 404, 503]
    assert errors_of["get", "/public/open-data/certifications.csv"] == [200, 304, 503]
    csv_answer = _operation(document, "get", "/public/directory.csv")["responses"]["200"]["content"]
    assert set(csv_answer) == {"text/csv"}
    assert "/certificates/{number}" not in document["paths"]  # the page for people
    assert errors_of["get", "/v1/tokens"] == [200, 401, 403, 503]
    assert errors_of["post", "/v1/tokens/{token_id}/revocation"] == [200, 401, 403, 404, 503]
    assert errors_of["post", "/v1/tokens/{token_id}/rotation"] == [201, 401, 403, 404, 409, 503]
    # Every route under /v1/ takes a token (so AuthenticateFirst may refuse before the body is read).
    assert [op for op, codes in errors_of.items() if op[1].startswith("/v1/") and 401 not in codes] == []
    responses = _operation(document, "post", "/v1/tokens/{token_id}/rotation")["responses"]
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RotatedTokenOut"
    }
    assert "secret" not in document["components"]["schemas"]["TokenOut"]["properties"]
    # An upload: a multipart body, too large (413) or not a document citycert accepts (415).
    uploads = [201, 401, 403, 404, 409, 413, 415, 422, 503]
    assert errors_of["post", "/v1/cities/{city_id}/documents"] == uploads
    assert errors_of["get", "/v1/cities/{city_id}/documents/{document_id}"] == [200, 401, 403, 404, 503]
    upload = _operation(document, "post", "/v1/cities/{city_id}/documents")["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    assert upload["multipart/form-data"]["schema"]["required"] == ["file", "title"]
    problem = {"$ref": "#/components/schemas/Problem"}
    unauthenticated = _operation(document, "get", "/v1/cities")["responses"]["401"]
    assert unauthenticated["content"]["application/json"]["schema"] == problem
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["error", "detail"]


async def test_the_schema_states_the_domain_s_constraints(api: Api) -> None:
    schemas = (await api.http.get("/openapi.json")).json()["components"]["schemas"]
    assert schemas["AppealBody"]["properties"]["grounds"]["pattern"] == TEXT_PATTERN
    assert schemas["EvidenceBody"]["properties"]["items"]["maxItems"] == MAX_ITEMS
    assert schemas["DocumentLink"]["properties"]["title"]["pattern"] == LINE_PATTERN
    assert schemas["DocumentLink"]["properties"]["url"]["maxLength"] == URL_MAX
    assert schemas["EvidenceItem"]["properties"]["documents"]["maxItems"] == MAX_DOCUMENTS
    assert schemas["RegisterCityBody"]["properties"]["name"]["pattern"] == LINE_PATTERN
    assert schemas["RegisterCityBody"]["properties"]["population"]["maximum"] == MAX_POPULATION
    assert schemas["RegisterCityBody"]["properties"]["id"]["pattern"] == CITY_ID_PATTERN


async def test_moments_and_dates_are_iso_8601_text_only(api: Api) -> None:
    await api.register("marston")
    operator = await api.operator()
    for as_of in ("0.5", "1700000000", "2026-01-01", "2026-01-01T00:00:00"):
        refused = await api.get("/v1/cities/marston/state", operator, expect=422, as_of=as_of)
        assert refused["error"] == "invalid_request", as_of
    await api.get("/v1/cities/marston/state", operator, as_of="2030-01-01T00:00:00+02:00")
    days = {"valid_from": 1_700_000_000, "valid_until": "2031-01-01"}
    body = {"level": "gold", "standard_version": "wwc-2022", "round_id": "c", **days}
    refused = await api.post("/v1/cities/marston/imported-certification", operator, body, expect=422)
    assert [p["loc"] for p in refused["detail"]] == [["body", "valid_from"]]
    await api.post("/v1/cities/marston/site-visit", operator, {"action": "schedule", "date": 20300101}, 422)


async def test_every_malformed_body_is_invalid_request_with_its_problems(api: Api) -> None:
    await api.register("corbin")
    staff = await api.city("corbin")
    not_utf8 = await api.http.post(
        "/v1/cities/corbin/appeal",
        headers={**staff, "Content-Type": "application/json"},
        content=b'{"grounds": "\xff"}',
    )
    nul_title = [{"criterion_id": "DM1", "documents": [{"title": "a\x00b", "url": "https://x.org"}]}]
    nul = await api.http.post("/v1/cities/corbin/evidence", headers=staff, json={"items": nul_title})
    for response in (not_utf8, nul):
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["error"] == "invalid_request"
        assert all(set(problem) == {"loc", "msg", "type"} for problem in body["detail"]), body


async def test_rounds_and_their_public_announcements_declare_every_answer(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()

    def answers(method: str, path: str) -> dict[str, Any]:
        found: dict[str, Any] = _operation(document, method, path)["responses"]
        return found

    public = "/public/rounds/{round_id}/announcement"
    for suffix, media_type in ((".json", "application/json"), (".md", "text/markdown"), (".csv", "text/csv")):
        responses = answers("get", public + suffix)
        assert sorted(responses) == ["200", "304", "404", "503"]  # no token: never 401 or 403
        assert set(responses["200"]["content"]) == {media_type}
    assert set(answers("get", "/public/rounds.atom")["200"]["content"]) == {"application/atom+xml"}
    preview = answers("get", "/v1/rounds/{round_id}/announcement")
    assert set(preview["200"]["content"]) == {"application/json", "text/markdown", "text/csv"}
    assert sorted(preview) == ["200", "401", "403", "404", "422", "503"]
    assert sorted(answers("post", "/v1/rounds")) == ["201", "401", "403", "409", "413", "422", "503"]
    assert sorted(answers("put", "/v1/rounds/{round_id}/honor-roll")) == [
        "200", "401", "403", "404", "409", "413", "422", "503"
    ]  # fmt: skip
