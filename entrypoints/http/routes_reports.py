"""Reference reads: the standards, and the service's health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from domain.standard import (
    Crosswalk,
    Standard,
    StandardError,
    available_versions,
    crosswalk,
    get_standard,
    revisions,
)
from entrypoints.http.auth import Principal
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Problem, StandardSummary
from entrypoints.http.services import Svc

log = structlog.get_logger("citycert.api")

router = APIRouter(prefix="/v1", tags=["reference"])


_UNKNOWN_STANDARD: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such standard or revision (`unknown_standard`)"}
}
Version = Annotated[str, Path(max_length=100)]
Revision = Annotated[
    int | None,
    Query(ge=1, le=1000, description="A revision of the version (default: its newest)"),
]


def _shipped(version: str, revision: int | None = None) -> Standard:
    try:
        return get_standard(version, revision)
    except StandardError as e:
        raise ApiError(404, "unknown_standard", str(e)) from e


@router.get("/standards", response_model=list[StandardSummary])
async def standards(who: Principal) -> list[StandardSummary]:
    """The shipped standards (each version's newest revision), with the days cities may apply under
    each and whether that is today."""
    now = datetime.now(UTC)
    return [
        StandardSummary(
            version=std.version,
            revision=std.revision,
            revisions=revisions(std.version),
            name=std.name,
            open_for_applications=std.open_for_applications,
            open_now=std.is_open(now),
            share_rounding=std.share_rounding,
        )
        for std in (get_standard(v) for v in available_versions())
    ]


@router.get("/standards/{version}", response_model=Standard, responses=_UNKNOWN_STANDARD)
async def standard(version: Version, who: Principal, revision: Revision = None) -> Standard:
    """A certification standard: practice areas, criteria (checklists, required documents,
    prerequisites, tags), level rules with their requirements, the rounding of shares, the days it
    is open for applications. Each criterion's `provenance` says which of its fields are the
    programme's public record (`public`) and which are ours, written to be plausible
    (`illustrative`); the standard's `provenance` says the same of its parts, in words."""
    return _shipped(version, revision)


@router.get("/standards/{version}/crosswalk", response_model=Crosswalk, responses=_UNKNOWN_STANDARD)
async def standard_crosswalk(
    version: Version,
    who: Principal,
    from_version: Annotated[
        str,
        Query(alias="from", max_length=100, description="The older version, e.g. wwc-2018"),
    ],
) -> Crosswalk:
    """What a city certified under `from` finds again in `version`: each criterion that carries
    over older ones (and which), the new criteria, and the older ones nothing continues."""
    return crosswalk(_shipped(version), _shipped(from_version))


health = APIRouter(tags=["reference"])


@health.get(
    "/health",
    response_model=dict[str, str],
    responses={
        503: {
            "model": dict[str, str],
            "description": "The check of each service, or (while the API starts) a Problem `starting`",
        }
    },
)
async def healthcheck(svc: Svc) -> Any:
    """Whether the database and Temporal answer (no token needed); 503 when either does not."""
    checks: dict[str, str] = {}
    try:
        await svc.store.ping()
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = "unavailable"  # why goes to the log only: nobody signed in asks here
        log.warning("health.database_unavailable", error=str(e))
    try:
        await svc.client.workflow_service.get_system_info(
            GetSystemInfoRequest(), retry=False, timeout=timedelta(seconds=3)
        )
        checks["temporal"] = "ok"
    except Exception as e:
        checks["temporal"] = "unavailable"
        log.warning("health.temporal_unavailable", error=str(e))
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(checks, status_code=200 if healthy else 503)
