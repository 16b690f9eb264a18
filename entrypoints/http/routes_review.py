"""Reviewers: their decisions on a city's evidence, and their queue of open items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

import readmodel
from app.assignment import assign_automatically, check_may_see_evidence
from app.errors import NotFound, UnknownCity
from app.tokens import TokenInfo
from domain import commands as cmd
from domain.worksheet import Worksheet
from entrypoints.http.auth import CityIdPath, CityReader, Principal, acting_on_city, giving, note
from entrypoints.http.commands import actor_of, command_out, send
from entrypoints.http.errors import forbidden
from entrypoints.http.models import (
    AreaAssignmentOut,
    AutomaticAssignmentOut,
    CommandOut,
    ConflictBody,
    LeadReviewerBody,
    PracticeAreaAssignmentBody,
    Problem,
    ReviewsBody,
    SignOffBody,
)
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
    reviewer never reads their home city's, nor any city's before declaring no conflict with it
    (403)."""
    if who.role == "reviewer" and who.city_id == city_id:
        raise forbidden(
            f"conflict of interest: reviewer {who.actor_id} is from {city_id} and may not review it"
        )
    # The worksheet shows the evidence: a reviewer declares no conflict with the city first.
    await check_may_see_evidence(svc.store, city_id, who.role, who.actor_id)
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


# --- reviewers: practice areas, the lead, conflicts, sign-off ---------------------------------------


def _not_home_city(who: TokenInfo, city_id: str) -> None:
    assert who.city_id is not None  # a reviewer token always carries its home city
    if who.city_id == city_id:
        raise forbidden(
            f"conflict of interest: reviewer {who.actor_id} is from {city_id} and may not review it"
        )


@router.post("/cities/{city_id}/review/assignments", response_model=CommandOut)
async def assign_practice_area(
    city_id: CityIdPath,
    body: PracticeAreaAssignmentBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.AssignPracticeArea))],
) -> CommandOut:
    """Give a reviewer one practice area of the city's cycle: its criteria waiting for a reviewer,
    and those submitted in it later. Refused (409) for a reviewer from the city or with a conflict
    declared with it, on their record or in the cycle."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/cities/{city_id}/review/assignments/automatic", response_model=AutomaticAssignmentOut)
async def assign_automatically_by_area(
    city_id: CityIdPath,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(acting_on_city("operator"))],
) -> AutomaticAssignmentOut:
    """Give every practice area of the city's cycle that waits for a reviewer to the least loaded
    reviewer of that area (open criteria across cities) with room within their capacity, ties
    broken by id; never one from the city or with a conflict declared with it. Refused (409), with
    each area's reason and nothing assigned, when an area has nobody eligible."""
    done = await assign_automatically(commands, city_id, actor_of(who))
    events = [e for outcome in done.outcomes for e in command_out(outcome).events]
    return AutomaticAssignmentOut(
        city_id=city_id,
        assignments=[
            AreaAssignmentOut(
                practice_area=a.practice_area, reviewer_id=a.reviewer_id, criterion_ids=list(a.criterion_ids)
            )
            for a in done.assignments
        ],
        events=events,
        status=done.outcomes[-1].summary,
    )


@router.post("/cities/{city_id}/review/lead", response_model=CommandOut)
async def assign_lead_reviewer(
    city_id: CityIdPath,
    body: LeadReviewerBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.AssignLeadReviewer))],
) -> CommandOut:
    """Name the cycle's lead reviewer: they may decide any item, and sign off the review of the
    levels the programme chooses (CITYCERT_LEAD_SIGNOFF_LEVELS) before the committee decides."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/cities/{city_id}/review/no-conflict", response_model=CommandOut)
async def declare_no_conflict(
    city_id: CityIdPath,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.DeclareNoConflict))],
) -> CommandOut:
    """The token's reviewer declares they have no conflict of interest with the city: they may
    then see its evidence and decide the items assigned to them."""
    _not_home_city(who, city_id)
    return await send(commands, city_id, cmd.DeclareNoConflict(reviewer_id=who.actor_id), who)


@router.post("/cities/{city_id}/review/conflict", response_model=CommandOut)
async def declare_conflict(
    city_id: CityIdPath,
    body: ConflictBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.DeclareConflict))],
) -> CommandOut:
    """The token's reviewer declares a conflict of interest with the city: their open items and
    practice areas go back to awaiting assignment, and they are never assigned the city's items in
    this cycle."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/cities/{city_id}/review/sign-off", response_model=CommandOut)
async def sign_off_review(
    city_id: CityIdPath,
    body: SignOffBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.SignOffReview))],
) -> CommandOut:
    """The cycle's lead reviewer signs off the review behind the recommended level (a second
    review), which the committee's decision waits for when the level is one the programme chooses."""
    _not_home_city(who, city_id)
    return await send(commands, city_id, body.to_command(who.actor_id), who)
