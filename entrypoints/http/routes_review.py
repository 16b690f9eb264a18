"""Reviewers: their decisions on a city's evidence, and their queue of open items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

import readmodel
from app.errors import NotFound, UnknownCity
from app.tokens import TokenInfo
from domain import commands as cmd
from domain.worksheet import Worksheet
from entrypoints.http.auth import CityIdPath, CityReader, Principal, giving, note
from entrypoints.http.commands import send
from entrypoints.http.errors import forbidden
from entrypoints.http.models import CommandOut, Problem, ReviewsBody
from entrypoints.http.services import Commands, Svc
from readmodel import ReviewItem

router = APIRouter(prefix="/v1", tags=["review"])


@router.post("/cities/{city_id}/reviews", response_model=CommandOut)
async def review(
    city_id: CityIdPath,
    body: ReviewsBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ReviewEvidence))],
) -> CommandOut:
    """Approve, reject or ask for clarification, item by item. A reviewer never reviews their
    home city (403; the domain refuses it as well). An approval names the checklist items found
    met (`checklist_met`, by number); in a cycle under the programme's review rules it is refused
    (409, saying what falls short) below the criterion's "k of n" or with a required document
    missing from the submission decided on, unless `override` gives the reason it stands anyway
    (recorded with it). See the worksheet: GET /v1/cities/{city_id}/worksheet."""
    assert who.city_id is not None  # a reviewer token always carries its home city
    if who.city_id == city_id:
        raise forbidden(
            f"conflict of interest: reviewer {who.actor_id} is from {city_id} and may not review it"
        )
    return await send(commands, city_id, body.to_command(who.actor_id, who.city_id), who)


@router.get(
    "/review-queue",
    response_model=list[ReviewItem],
    responses={403: {"model": Problem, "description": "A city token (`forbidden`)"}},
)
async def review_queue(
    request: Request,
    svc: Svc,
    who: Principal,
    reviewer_id: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    city_id: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[ReviewItem]:
    """Open evidence items, soonest due first. A reviewer sees their own and the unassigned ones
    (never their home city's); operators and the committee see all, optionally filtered."""
    if who.role == "reviewer":
        assert who.city_id is not None  # a reviewer token always carries its home city
        return await readmodel.reviewer_queue(svc.store, who.actor_id, who.city_id, limit=limit)
    if who.role in ("operator", "committee"):
        note(request, city_id=city_id)
        return await readmodel.review_queue(svc.store, reviewer_id=reviewer_id, city_id=city_id, limit=limit)
    raise forbidden("the review queue is for reviewers, the committee and operators")


@router.get(
    "/cities/{city_id}/worksheet",
    response_model=Worksheet,
    responses={
        404: {
            "model": Problem,
            "description": "No such city (`unknown_city`), also for an id no city could have; or no "
            "open certification cycle (`no_open_cycle`); checked after the token's rights",
        }
    },
)
async def worksheet(city_id: CityIdPath, svc: Svc, who: CityReader) -> Worksheet:
    """The review worksheet of the city's open cycle, criterion by criterion: the checklist items
    (marked illustrative where the standard says its texts are), those the city claims and those an
    approval found met, each required-document slot with the documents in it (clarification
    answers' included), the evidence's status, what an approval would be refused for now, and
    whether the criterion cannot earn its point because a prerequisite is not approved. A
    reviewer never reads their home city's (403)."""
    if who.role == "reviewer" and who.city_id == city_id:
        raise forbidden(
            f"conflict of interest: reviewer {who.actor_id} is from {city_id} and may not review it"
        )
    try:
        found = await readmodel.city_worksheet(svc.store, city_id)
    except readmodel.NoCity:
        raise UnknownCity(city_id) from None
    if found is None:
        raise NotFound(
            f"{city_id} has no open certification cycle: a worksheet is a cycle's (apply first)",
            code="no_open_cycle",
        )
    return found
