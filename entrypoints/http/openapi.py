"""The OpenAPI document, made to tell the truth about errors.

Each route lists exactly the error statuses it can answer, each with the one error body
(models.Problem). They come from what the route depends on, not from literals in every route: a
dependency says what it may refuse with `@answers(...)` (the token check 401, a role check 403, a
city path 404, the command service 409/422/503...), a body adds 413 (the size cap) and 422, a
query or constrained path parameter 422. A route declares only a refusal of its own
(`responses=` on the decorator, e.g. 404 for an unknown standard); those are kept as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIRouter

from entrypoints.http.models import Problem

F = TypeVar("F", bound=Callable[..., Any])

ERRORS: dict[int, str] = {
    401: "No valid token (`unauthenticated`)",
    403: "A role or city the token does not hold (`forbidden`)",
    404: "No such city (`unknown_city`), also for an id no city could have (a city's is 2 to 63 "
    "lowercase letters, digits or hyphens); checked after the token's rights",
    409: "Not allowed now (`command_rejected`, the detail says why and what is allowed; "
    "`city_busy`: try again; `workflow_running`: a restart of a city workflow that runs)",
    413: "The body is larger than the API accepts (`too_large`)",
    415: "A document citycert does not accept (`unsupported_media_type`: an executable, a format it "
    "does not know, or a body that is not multipart/form-data; the detail says which)",
    422: "A malformed request (`invalid_request`, the detail lists every problem), a standard or "
    "criterion that does not exist (`invalid_command`) or an ineligible city (`ineligible_city`)",
    503: "The database or Temporal is unavailable, or the command was not confirmed in time: "
    "try again after Retry-After",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def answers(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency with the error statuses it may answer; every route using it lists them."""

    def mark(dependency: F) -> F:
        dependency.error_statuses = frozenset(statuses)  # type: ignore[attr-defined]
        return dependency

    return mark


def _dependencies(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependencies(sub)


def error_statuses(route: APIRoute) -> set[int]:
    """The error statuses `route` can answer, from its dependencies and parameters."""
    found: set[int] = set()
    for dependency in _dependencies(route.dependant):
        found |= getattr(dependency.call, "error_statuses", frozenset())
        if dependency.body_params:
            found |= {413, 422}
        if dependency.query_params or any(p.field_info.metadata for p in dependency.path_params):
            found.add(422)
    return found


def _problem_schemas() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {"Problem": schema, **nested}


def document(app: FastAPI, routers: Iterable[APIRouter]) -> dict[str, Any]:
    """The app's OpenAPI document with each route's true error responses."""
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue  # a page for people (HTML) is not in the document
            declared = {str(code) for code in route.responses}
            statuses = {str(code) for code in error_statuses(route)}
            for method in route.methods or ():
                responses = spec["paths"][route.path_format][method.lower()]["responses"]
                for code in list(responses):
                    # FastAPI adds a 422 of its own shape wherever there are parameters.
                    if code.startswith(("4", "5")) and code not in declared:
                        del responses[code]
                for code in sorted(statuses - declared):
                    responses[code] = {
                        "description": ERRORS[int(code)],
                        "content": {"application/json": {"schema": _PROBLEM_REF}},
                    }
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_problem_schemas())
    return spec
