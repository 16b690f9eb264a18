"""The internal round report for the programme's staff: JSON, or one of its tables as CSV."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from app.round_report import ReportTable, RoundReport, load_round_report, render_csv
from app.tokens import TokenInfo
from entrypoints.http.auth import role_in
from entrypoints.http.services import Svc

router = APIRouter(prefix="/v1", tags=["reports"])

CSV_MEDIA_TYPE = "text/csv"


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole report as JSON (`format=json`), or one table as CSV (`format=csv`, "
        "a header row first; an attachment)",
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def _file_name(round_id: str, table: ReportTable) -> str:
    # Only characters every file system and the header's quoted-string take as they are.
    return f"round-{re.sub(r'[^A-Za-z0-9._-]', '_', round_id)}-{table.value}.csv"


@router.get("/rounds/{round_id}/report", response_model=RoundReport, responses=_ANSWERS)
async def round_report(
    round_id: Annotated[
        str, Path(max_length=200, pattern=r"^[^\x00]+$", description="The round, e.g. 2026-spring")
    ],
    svc: Svc,
    who: Annotated[TokenInfo, Depends(role_in("operator", "committee"))],
    format: Annotated[
        ReportFormat, Query(description="json: the whole report; csv: the table named by `table`")
    ] = ReportFormat.JSON,
    table: Annotated[ReportTable | None, Query(description="With format=csv: the table to export")] = None,
) -> Any:
    """The round's internal report, for operators and the committee: every city of the round with
    its outcome (the not certified and those still in a phase included) and the score-based Honor
    Roll suggestion, the days each city spent in each phase with the median per phase, the
    deadlines missed, the pass rate of each criterion, and each reviewer's workload. A round no
    city applied to has an empty report."""
    if format is ReportFormat.CSV and table is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "table"),
                    "msg": "table is required with format=csv: cities, phases, criteria or reviewers",
                    "type": "value_error",
                }
            ]
        )
    if format is ReportFormat.JSON and table is not None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "table"),
                    "msg": "table picks a CSV export: send it with format=csv, "
                    "or leave it out for the whole report as JSON",
                    "type": "value_error",
                }
            ]
        )
    report = await load_round_report(svc.store, round_id, policy=svc.settings.policy(), now=datetime.now(UTC))
    if table is None:
        return report
    return Response(
        render_csv(report, table),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{_file_name(round_id, table)}"',
            "Cache-Control": "private, no-store",
        },
    )
