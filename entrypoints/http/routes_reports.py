"""Reference and reporting reads: the standards, cohort reports, and the service's health."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from app.report import CohortReport, load_cohort_report
from app.tokens import TokenInfo
from domain.standard import Standard, StandardError, get_standard
from entrypoints.http.auth import Principal, role_in
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Problem
from entrypoints.http.services import Svc

log = structlog.get_logger("citycert.api")

router = APIRouter(prefix="/v1", tags=["reference"])


@router.get(
    "/standards/{version}",
    response_model=Standard,
    responses={404: {"model": Problem, "description": "No such standard (`unknown_standard`)"}},
)
async def standard(version: Annotated[str, Path(max_length=100)], who: Principal) -> Standard:
    """A certification standard: practice areas, criteria (checklists, prerequisites), level rules."""
    try:
        return get_standard(version)
    except StandardError as e:
        raise ApiError(404, "unknown_standard", str(e)) from e


@router.get("/cohorts/{cohort}/report", response_model=CohortReport)
async def cohort_report(
    cohort: Annotated[str, Path(max_length=200, pattern=r"^[^\x00]+$")],
    svc: Svc,
    who: Annotated[TokenInfo, Depends(role_in("operator", "committee"))],
) -> CohortReport:
    """The cohort's announcement: new, elevated, sustained, downgraded and not certified cities."""
    return await load_cohort_report(svc.store, cohort)


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
