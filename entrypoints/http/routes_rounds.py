"""Rounds, the committee's Honor Roll, and the announcements: under /v1/rounds with a token, and the
announced rounds under /public/ with none.

An announcement is under embargo until its round's announcement date (UTC): before it, operators
and the committee read a preview (`preview: true`) at /v1/rounds/{id}/announcement, and the public
URL answers 404 exactly as for a round that does not exist. From that date on, it is public at
/public/rounds/{id}/announcement.json|.md|.csv, with an ETag and a few minutes of public caching:
an announcement day's readers are served from the read model and caches, never from Temporal.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from app import rounds as app_rounds
from app.announcements import (
    Announcement,
    load_announcement,
    published_announcement,
    render_atom,
    render_csv,
    render_markdown,
)
from app.services import Services
from app.tokens import TokenInfo
from domain.ids import CityId, Name
from domain.rounds import (
    MAX_HONOR_ROLL,
    ChangeRound,
    CreateRound,
    DesignateHonorRoll,
    ReviewCapacity,
    Round,
    RoundId,
    is_round_id,
)
from entrypoints.http.auth import Principal, giving_anywhere, role_in
from entrypoints.http.commands import actor_of
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Body, Day, Out, Problem, checked
from entrypoints.http.openapi import answers
from entrypoints.http.services import Svc

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])
public = APIRouter(prefix="/public", tags=["public"])

RoundIdPath = Annotated[str, Path(description="The round's id, e.g. 2026-spring")]
_UNKNOWN_ROUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such round (`unknown_round`)"}
}
MARKDOWN = "text/markdown; charset=utf-8"
CSV = "text/csv; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
PUBLIC_CACHE = "public, max-age=300"  # a few minutes: an announcement day's readers hit caches


@answers(409, 422, 503)
def round_service(svc: Svc) -> Services:
    """The services, for a route that gives a round command: refused now (409), malformed for the
    domain (422), or the store unavailable (503)."""
    return svc


RoundCommands = Annotated[Services, Depends(round_service)]


# --- bodies and answers ----------------------------------------------------------------------------


class CreateRoundBody(Body):
    id: RoundId = Field(
        description="a lowercase slug, used in every URL and export", examples=["2027-spring"]
    )
    name: Name = Field(examples=["Spring 2027"])
    opens_on: Day = Field(description="the first day cities may apply")
    closes_on: Day = Field(description="the last day cities may apply")
    submission_deadline: Day = Field(description="the last day for the cities' evidence")
    announcement_on: Day = Field(
        description="the day the announcement is published (UTC); after the deadline"
    )
    review_capacity: ReviewCapacity = Field(description="how many cities the round's reviewers can take")

    def to_command(self) -> CreateRound:
        fields = self.model_dump(exclude={"id"})
        return checked(lambda: CreateRound(round_id=self.id, **fields))


class ChangeRoundBody(Body):
    """The fields to change; those left out stay as they are."""

    name: Name | None = None
    opens_on: Day | None = None
    closes_on: Day | None = None
    submission_deadline: Day | None = None
    announcement_on: Day | None = None
    review_capacity: ReviewCapacity | None = None

    def to_command(self, round_id: str) -> ChangeRound:
        fields = self.model_dump(exclude_none=True)
        return checked(lambda: ChangeRound(round_id=round_id, **fields))


class HonorRollBody(Body):
    city_ids: list[CityId] = Field(
        max_length=MAX_HONOR_ROLL,
        description="the cities on the round's Honor Roll (replacing an earlier designation; [] clears it)",
        examples=[["riverton", "marston"]],
    )

    def to_command(self, round_id: str) -> DesignateHonorRoll:
        return checked(lambda: DesignateHonorRoll(round_id=round_id, city_ids=self.city_ids))


class HonorRollOut(Out):
    city_ids: list[str]
    designated_by: str
    designated_at: datetime


class RoundChangeOut(Out):
    changed_by: str
    changed_at: datetime
    changes: dict[str, Any] = Field(description="the fields changed, with their new values")


class RoundOut(Out):
    id: str
    name: str
    opens_on: date
    closes_on: date
    submission_deadline: date
    announcement_on: date
    review_capacity: int
    open_for_applications: bool = Field(description="whether cities may apply today (UTC)")
    announced: bool = Field(description="whether the announcement is public (from its date on, UTC)")
    created_by: str
    created_at: datetime
    honor_roll: HonorRollOut | None = Field(description="the committee's designation; null: none yet")


class RoundRecordOut(RoundOut):
    changes: list[RoundChangeOut] = Field(description="every recorded change, oldest first")


def _today(svc: Services) -> date:
    """The day in UTC by the services' clock: an announcement is public from its date on."""
    return svc.clock().astimezone(UTC).date()


def _out(r: Round, today: date) -> dict[str, Any]:
    roll = r.honor_roll
    return {
        "id": r.round_id,
        "name": r.name,
        "opens_on": r.opens_on,
        "closes_on": r.closes_on,
        "submission_deadline": r.submission_deadline,
        "announcement_on": r.announcement_on,
        "review_capacity": r.review_capacity,
        "open_for_applications": r.is_open(today),
        "announced": r.announced(today),
        "created_by": r.created_by,
        "created_at": r.created_at,
        "honor_roll": None
        if roll is None
        else HonorRollOut(
            city_ids=list(roll.city_ids), designated_by=roll.designated_by, designated_at=roll.designated_at
        ),
    }


# --- /v1/rounds ------------------------------------------------------------------------------------


@router.post("", response_model=RoundOut, status_code=201)
async def create_round(
    body: CreateRoundBody,
    svc: RoundCommands,
    who: Annotated[TokenInfo, Depends(giving_anywhere(CreateRound))],
) -> RoundOut:
    """Create a round (operators): its dates in order (opens_on <= closes_on <= submission_deadline
    < announcement_on), its id not used before, its application window clear of every other
    round's (at most one round is open at a time). A round in the past may be recorded."""
    overlap = svc.settings.rounds_may_overlap
    created = await app_rounds.create_round(
        svc.store, body.to_command(), actor_of(who), now=svc.clock(), may_overlap=overlap
    )
    return RoundOut(**_out(created, _today(svc)))


@router.get("", response_model=list[RoundOut])
async def list_rounds(svc: Svc, who: Principal) -> list[RoundOut]:
    """Every round, the latest announcement first."""
    return [RoundOut(**_out(r, _today(svc))) for r in await app_rounds.list_rounds(svc.store)]


@router.get("/{round_id}", response_model=RoundRecordOut, responses=_UNKNOWN_ROUND)
async def show_round(round_id: RoundIdPath, svc: Svc, who: Principal) -> RoundRecordOut:
    """The round, its Honor Roll, and every change of it (who, when, what)."""
    record = await app_rounds.show_round(svc.store, round_id)
    changes = [
        RoundChangeOut(changed_by=c.changed_by, changed_at=c.changed_at, changes=c.changes)
        for c in record.changes
    ]
    return RoundRecordOut(**_out(record.round, _today(svc)), changes=changes)


@router.patch("/{round_id}", response_model=RoundOut, responses=_UNKNOWN_ROUND)
async def change_round(
    round_id: RoundIdPath,
    body: ChangeRoundBody,
    svc: RoundCommands,
    who: Annotated[TokenInfo, Depends(giving_anywhere(ChangeRound))],
) -> RoundOut:
    """Change a round's name, dates or capacity (operators), until its announcement date; the
    announcement may not be moved into the past."""
    command = body.to_command(_checked_id(round_id))
    overlap = svc.settings.rounds_may_overlap
    changed = await app_rounds.change_round(
        svc.store, command, actor_of(who), now=svc.clock(), may_overlap=overlap
    )
    return RoundOut(**_out(changed, _today(svc)))


@router.put("/{round_id}/honor-roll", response_model=RoundOut, responses=_UNKNOWN_ROUND)
async def designate_honor_roll(
    round_id: RoundIdPath,
    body: HonorRollBody,
    svc: RoundCommands,
    who: Annotated[TokenInfo, Depends(giving_anywhere(DesignateHonorRoll))],
) -> RoundOut:
    """Designate the round's Honor Roll (the committee), replacing an earlier designation, until
    the announcement date. It is published with the announcement as designated; the score-based
    suggestion never is."""
    command = body.to_command(_checked_id(round_id))
    designated = await app_rounds.designate_honor_roll(svc.store, command, actor_of(who), now=svc.clock())
    return RoundOut(**_out(designated, _today(svc)))


def _checked_id(round_id: str) -> str:
    """A path that no round could have is an unknown round (404), not a malformed body."""
    if not is_round_id(round_id):
        raise app_rounds.UnknownRound(round_id)
    return round_id


_FORMATS: dict[str, Any] = {
    "text/markdown": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
}


@router.get(
    "/{round_id}/announcement",
    response_model=Announcement,
    responses={200: {"content": _FORMATS}, **_UNKNOWN_ROUND},
)
async def round_announcement(
    round_id: RoundIdPath,
    svc: Svc,
    who: Annotated[TokenInfo, Depends(role_in("operator", "committee"))],
    format: Annotated[
        Literal["json", "md", "csv"], Query(description="json (default), md (Markdown) or csv")
    ] = "json",
) -> Response:
    """The round's announcement for operators and the committee, at any time: before the
    announcement date a preview under embargo (`preview: true`, and said so in Markdown)."""
    rule = svc.settings.late_awards
    announcement = await load_announcement(svc.store, round_id, rule=rule, today=_today(svc))
    return _rendered(announcement, format, cache="private, no-store")


# --- /public ---------------------------------------------------------------------------------------

_NOT_PUBLISHED: dict[int | str, dict[str, Any]] = {
    404: {
        "model": Problem,
        "description": "No announcement of this round is published (`unknown_round`): the round does "
        "not exist, or its announcement date has not come",
    }
}


def _text(media_type: str) -> dict[str, Any]:
    return {"content": {media_type: {"schema": {"type": "string"}}}}


_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified (If-None-Match)"}}


async def _published(svc: Services, round_id: str) -> Announcement:
    """The announcement of an announced round; the same 404 for an unknown and an embargoed one,
    decided before any decision is read."""
    hidden = ApiError(404, "unknown_round", f"no announcement of round {round_id!r} is published")
    try:
        return await published_announcement(
            svc.store, round_id, rule=svc.settings.late_awards, today=_today(svc)
        )
    except app_rounds.UnknownRound:
        raise hidden from None


@public.get(
    "/rounds/{round_id}/announcement.json",
    response_model=Announcement,
    responses={**_NOT_MODIFIED, **_NOT_PUBLISHED},
)
async def public_announcement_json(round_id: RoundIdPath, request: Request, svc: Svc) -> Response:
    """The announcement of an announced round (no token): the cities certified, by section, and
    the committee's Honor Roll."""
    return _cached(request, _rendered(await _published(svc, round_id), "json"))


@public.get(
    "/rounds/{round_id}/announcement.md",
    response_class=Response,
    responses={
        200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
        **_NOT_MODIFIED,
        **_NOT_PUBLISHED,
    },
)
async def public_announcement_markdown(round_id: RoundIdPath, request: Request, svc: Svc) -> Response:
    """The same announcement as Markdown, ready to publish."""
    return _cached(request, _rendered(await _published(svc, round_id), "md"))


@public.get(
    "/rounds/{round_id}/announcement.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **_NOT_MODIFIED,
        **_NOT_PUBLISHED,
    },
)
async def public_announcement_csv(round_id: RoundIdPath, request: Request, svc: Svc) -> Response:
    """The same announcement as CSV: one row per city and section."""
    return _cached(request, _rendered(await _published(svc, round_id), "csv"))


@public.get(
    "/rounds.atom",
    response_class=Response,
    responses={200: _text("application/atom+xml"), **_NOT_MODIFIED},
)
async def announced_rounds_feed(request: Request, svc: Svc) -> Response:
    """An Atom feed of the announced rounds (never one under embargo), newest first, each entry
    linking its announcement."""
    today = _today(svc)
    announced = [r for r in await app_rounds.list_rounds(svc.store) if r.announced(today)]
    base = str(request.base_url).rstrip("/")
    return _cached(request, Response(render_atom(announced, base, today=today), media_type=ATOM))


def _rendered(announcement: Announcement, format: str, *, cache: str = PUBLIC_CACHE) -> Response:
    headers = {"Cache-Control": cache}
    if format == "md":
        return Response(render_markdown(announcement), media_type=MARKDOWN, headers=headers)
    if format == "csv":
        return Response(render_csv(announcement), media_type=CSV, headers=headers)
    return JSONResponse(announcement.model_dump(mode="json"), headers=headers)


def _cached(request: Request, response: Response) -> Response:
    """A public answer with its ETag (its body's hash), and 304 to a reader who holds it."""
    etag = f'"{hashlib.sha256(bytes(response.body)).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": PUBLIC_CACHE}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
