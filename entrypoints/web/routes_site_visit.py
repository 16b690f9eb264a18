"""The site-visit page: where a city's visit stands, and the visit's actions its phase takes:
schedule it, reschedule it (saying why), record it held (what it found, the day, a finding per
criterion the review decided: confirm, overturn an approval, clear a rejection) or waive it (why).

For the committee and the operators, as the JSON API's POST /v1/cities/{id}/site-visit is; the
domain checks again (domain/authority.py). Each action is the command the JSON API gives, through
the same command service (app/commands.py): recorded, the page says so; refused, the form shows the
domain's reason beside it. With htmx the form alone is replaced; without it, the whole page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app import rounds as app_rounds
from domain import Actor
from domain import commands as cmd
from domain import events as ev
from domain.ids import TEXT_MAX
from domain.people import Person, PersonRole
from domain.rounds import round_recorded_as
from domain.rules import PROGRAMME_REVIEW
from entrypoints.web.committee import cycle_seen
from entrypoints.web.pages import render
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.routes_committee import give
from entrypoints.web.session import PageError, load_session, services_of
from entrypoints.web.site_visit import (
    CHOICES,
    COMPLETE,
    NO_FINDING,
    RESCHEDULE,
    SCHEDULE,
    WAIVE,
    VisitPage,
    visit_page,
)
from readmodel import city_state, city_stream

router = APIRouter(include_in_schema=False, dependencies=[Depends(load_session)])

ACTORS = {PersonRole.COMMITTEE: "committee", PersonRole.OPERATOR: "operator"}
Words = Annotated[str, Form(max_length=TEXT_MAX + 1000)]
Day = Annotated[str, Form(max_length=40)]
FINDING_FIELD, NOTE_FIELD = "finding-", "note-"  # a criterion's row: finding-DM1, note-DM1


def may_act(request: Request, person: Person) -> None:
    if person.role not in ACTORS:
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("This page is for the committee and the operators"),
            _("Only the programme's standard committee and its operators see and record site visits."),
        )


def _actor(person: Person) -> Actor:
    return Actor(role=ACTORS[person.role], id=person.id)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _here(city_id: str) -> str:
    return f"/committee/cities/{city_id}/site-visit"


async def _shaped(request: Request, city_id: str) -> VisitPage:
    store = services_of(request).store
    state = await city_state(store, city_id)
    if state is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Page not found"), _("No city of that id takes part in the programme."))
    recorded = await store.read_stream(city_stream(city_id))
    events = [(r.occurred_at, cast(ev.DomainEvent, store.to_domain(r))) for r in recorded]
    seen = await asyncio.to_thread(cycle_seen, events, None)
    round_id = None
    if seen is not None:
        round_id = round_recorded_as(await app_rounds.all_rounds(store), seen.cycle.cohort)
    return visit_page(state, seen, say_to(request), city_id=city_id, round_id=round_id)


async def _page(
    request: Request,
    city_id: str,
    *,
    status: int = 200,
    action: str = "",
    errors_found: dict[str, str] | None = None,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    values: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    page = await _shaped(request, city_id)
    return render(
        request,
        "site_visit_action.html" if _is_htmx(request) and status != 200 else "site_visit.html",
        status=status,
        page=page,
        action=action,  # the form answered; htmx swaps it alone
        failed=action if status != 200 else "",
        errors_found=errors_found or {},
        refusal=refusal,
        refusal_lang=refusal_lang,
        values=values or {},
        done=done if done in {SCHEDULE, RESCHEDULE, COMPLETE, WAIVE} else "",
    )


async def _act(
    request: Request,
    city_id: str,
    person: Person,
    action: str,
    command_of: Callable[[], cmd.HumanCommand],
    values: dict[str, str],
) -> Response:
    """Give the action's command: recorded, the page says so; refused, its form says why."""
    refused = await give(request, city_id, command_of, _actor(person))
    if refused is not None:
        status, words, lang = refused
        return await _page(
            request, city_id, status=status, action=action, refusal=words, refusal_lang=lang, values=values
        )
    to = f"{_here(city_id)}?done={action}#visit"
    if _is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return redirect(request, to)


def _day(request: Request, text: str, *, required: bool) -> tuple[date | None, str | None]:
    """The form's day (an <input type=date> sends 2026-12-01), or the words of what is wrong."""
    _ = say_to(request).gettext
    if not text.strip():
        return None, _("Enter the day of the visit") if required else None
    try:
        return date.fromisoformat(text.strip()), None
    except ValueError:
        return None, _("Enter the day as a date, for example 2026-12-01")


def _words_error(request: Request, text: str, missing: str) -> str | None:
    _ = say_to(request).gettext
    if not text.strip():
        return missing
    if len(text.strip()) > TEXT_MAX:
        return _("Write {n} characters or fewer", n=say_to(request).number(TEXT_MAX))
    return None


# --- the page ----------------------------------------------------------------------------------------


@router.get("/committee/cities/{city_id}/site-visit")
async def site_visit(request: Request, city_id: str, person: Signed, done: str = "") -> Response:
    may_act(request, person)
    return await _page(request, city_id, done=done)


# --- its actions -------------------------------------------------------------------------------------


@router.post("/committee/cities/{city_id}/site-visit/schedule")
async def schedule(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = "", visit_date: Day = ""
) -> Response:
    check_form(request, csrf_token)
    may_act(request, person)
    day, wrong = _day(request, visit_date, required=True)
    values = {"visit_date": visit_date}
    if day is None or wrong:
        found = {"visit_date": wrong or ""}
        return await _page(request, city_id, status=422, action=SCHEDULE, errors_found=found, values=values)
    return await _act(
        request, city_id, person, SCHEDULE, lambda: cmd.ScheduleSiteVisit(visit_date=day), values
    )


@router.post("/committee/cities/{city_id}/site-visit/reschedule")
async def reschedule(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    visit_date: Day = "",
    reason: Words = "",
) -> Response:
    check_form(request, csrf_token)
    may_act(request, person)
    _ = say_to(request).gettext
    day, wrong = _day(request, visit_date, required=True)
    found = {"visit_date": wrong} if wrong else {}
    if (why := _words_error(request, reason, _("Enter why the visit moves"))) is not None:
        found["reason"] = why
    values = {"visit_date": visit_date, "reason": reason}
    if found or day is None:
        return await _page(request, city_id, status=422, action=RESCHEDULE, errors_found=found, values=values)
    return await _act(
        request,
        city_id,
        person,
        RESCHEDULE,
        lambda: cmd.RescheduleSiteVisit(visit_date=day, reason=reason),
        values,
    )


@router.post("/committee/cities/{city_id}/site-visit/complete")
async def complete(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    held_on: Day = "",
    findings: Words = "",
) -> Response:
    check_form(request, csrf_token)
    may_act(request, person)
    _ = say_to(request).gettext
    day, wrong = _day(request, held_on, required=False)
    found = {"held_on": wrong} if wrong else {}
    if (what := _words_error(request, findings, _("Enter what the visit found"))) is not None:
        found["findings"] = what
    # A row per criterion the page listed: finding-<id> (a choice, "" for none) and note-<id>.
    form = await request.form()
    values = {"held_on": held_on, "findings": findings}
    rows: list[tuple[str, str, str]] = []  # a criterion's id, its finding, the note
    known = {value for value, _words in CHOICES}
    for key, value in form.multi_items():
        if not key.startswith(FINDING_FIELD) or not isinstance(value, str):
            continue
        criterion_id = key.removeprefix(FINDING_FIELD)
        note = form.get(NOTE_FIELD + criterion_id)
        note = note.strip() if isinstance(note, str) else ""
        values[key], values[NOTE_FIELD + criterion_id] = value, note
        if value not in known:
            found[key] = _("Choose a finding for {criterion}, or no finding", criterion=criterion_id)
        elif value != NO_FINDING:
            rows.append((criterion_id, value, note))
    if found:
        return await _page(request, city_id, status=422, action=COMPLETE, errors_found=found, values=values)
    state = await city_state(services_of(request).store, city_id)
    per_criterion = state is None or state.cycle is None or state.cycle.rules >= PROGRAMME_REVIEW

    def command() -> cmd.CompleteSiteVisit:
        # Built here, so a criterion id or a note the command refuses is shown as its reason.
        if per_criterion:
            chosen = [
                cmd.CriterionFinding(criterion_id=cid, finding=ev.SiteFinding(value), note=note)
                for cid, value, note in rows
            ]
            return cmd.CompleteSiteVisit(findings=findings, visit_date=day, criterion_findings=chosen)
        # The first rules take the approvals the visit overturned, by id (the form offers no more).
        overturned = [cid for cid, value, _note in rows if value == ev.SiteFinding.OVERTURN.value]
        return cmd.CompleteSiteVisit(findings=findings, visit_date=day, overturned=overturned)

    return await _act(request, city_id, person, COMPLETE, command, values)


@router.post("/committee/cities/{city_id}/site-visit/waive")
async def waive(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = "", reason: Words = ""
) -> Response:
    check_form(request, csrf_token)
    may_act(request, person)
    _ = say_to(request).gettext
    values = {"reason": reason}
    if (why := _words_error(request, reason, _("Enter why the visit is waived"))) is not None:
        return await _page(
            request, city_id, status=422, action=WAIVE, errors_found={"reason": why}, values=values
        )
    # Who approves the waiver is the application layer's to fill: the signed-in person.
    return await _act(request, city_id, person, WAIVE, lambda: cmd.WaiveSiteVisit(reason=reason), values)
