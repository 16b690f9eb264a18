"""A reviewer's pages: their queue, the conflict-of-interest declaration that opens a city's
evidence, the city's worksheet with several decisions at once, a criterion's worksheet with its
decision, and the city's uploaded documents viewed in the browser.

Every decision and declaration is a command given through the command service, as the JSON API
gives it (DeclareNoConflict, DeclareConflict, ReviewEvidence): refused, the form says the domain's
reason beside it and nothing is recorded. Whether the evidence may be seen is app/assignment.py's
check_may_see_evidence, as for the API's worksheet; the documents are app/documents.py's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup
from pydantic import ValidationError

import readmodel
from app import errors
from app.assignment import check_may_see_evidence
from app.tokens import TokenInfo
from domain import Actor
from domain import commands as cmd
from domain.ids import DOCUMENT_ID_PATTERN
from domain.people import Person, PersonRole
from domain.state import CityState
from domain.worksheet import CriterionWorksheet, Worksheet
from entrypoints.web.fragments import keeps_parts, kept, read_version_early, version_of
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.pages import render, render_part
from entrypoints.web.refusals import form_words, in_words
from entrypoints.web.reviewer import cannot_earn_said, decidable, queue, shortfalls_said, status_words
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.session import PageError, language_of, load_session, services_of
from readmodel.clarifications import clarification_thread

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_version_early), Depends(load_session)])

QUEUE_LIMIT = 500
DECISIONS = {
    "approve": cmd.Verdict.APPROVE,
    "reject": cmd.Verdict.REJECT,
    "ask": cmd.Verdict.REQUEST_CLARIFICATION,
}
# Viewed in the browser rather than saved: formats a browser shows without running anything.
INLINE = {"application/pdf", "image/png", "image/jpeg", "text/plain"}

Words = Annotated[str, Form(max_length=4000)]
Choice = Annotated[str, Form(max_length=20)]
Many = Annotated[list[str], Form(max_length=200)]


def reviewer_only(request: Request, person: Person) -> None:
    if person.role is not PersonRole.REVIEWER:
        _ = say_to(request).gettext
        raise PageError(
            403, _("This page is for reviewers"), _("Only the programme's reviewers review cities' evidence.")
        )


def not_home_city(request: Request, person: Person, city_id: str) -> None:
    if person.city_id == city_id:
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("You cannot review this city"),
            _("This is your home city: a reviewer never reviews the city they come from."),
        )


async def open_cycle_of(request: Request, city_id: str) -> CityState:
    _ = say_to(request).gettext
    state = await readmodel.city_state(services_of(request).store, city_id)
    if state is None:
        raise PageError(404, _("Page not found"), _("No city of that id takes part in the programme."))
    if state.cycle is None:
        raise PageError(404, _("Nothing to review"), _("This city has no certification cycle open."))
    return state


async def may_see_evidence(request: Request, person: Person, state: CityState) -> bool:
    """Whether the reviewer may see the city's evidence now (the application layer's check). False:
    they have not declared yet. A conflict declared is a 403 in words."""
    try:
        await check_may_see_evidence(services_of(request).store, state.city_id, "reviewer", person.id)
    except errors.Forbidden:
        assert state.cycle is not None
        if person.id in state.cycle.conflicts_declared:
            _ = say_to(request).gettext
            raise PageError(
                403,
                _("You cannot see this city's evidence"),
                _("You declared a conflict of interest with this city: its evidence is for other reviewers."),
            ) from None
        return False
    return True


def refusal_of(request: Request, error: errors.AppError) -> tuple[int, str, str | None]:
    """The status, the reason in the page's language, and the reason's language if not the page's."""
    status = 403 if isinstance(error, errors.Forbidden) else 422 if isinstance(error, errors.Invalid) else 409
    return status, *in_words(say_to(request), error)


# A review's fields by the labels its forms give them, for a validation error's words.
REVIEW_FIELDS = {
    "criterion_id": N_("Criterion"),
    "checklist_met": N_("Checklist items you found met"),
    "note": N_("Note to the city"),
    "override": N_("Reason to approve all the same (override)"),
    "items": N_("Criteria chosen"),
}


def invalid_words(request: Request, error: ValidationError, verdict: cmd.Verdict) -> str:
    """A review's validation in the page's words: each field by its label; a rule across a review
    item's fields by what this decision needs (a question needs its note; a checklist item is
    counted once), one across the review's items (each criterion once)."""
    _ = say_to(request).gettext
    item = (
        _("Write a note saying what the city should clarify.")
        if verdict is cmd.Verdict.REQUEST_CLARIFICATION
        else _("Tick each checklist item once.")
    )
    because = {"ReviewItem": item, "ReviewEvidence": _("Choose each criterion once.")}
    return form_words(say_to(request), error, REVIEW_FIELDS, because)


async def give(
    request: Request, person: Person, city_id: str, command: cmd.HumanCommand
) -> tuple[int, str, str | None] | None:
    """The command given as the reviewer; None when recorded, else the status, reason and its language."""
    try:
        await services_of(request).commands.give(city_id, command, Actor(role="reviewer", id=person.id))
    except (errors.Refused, errors.Invalid, errors.Forbidden) as e:
        return refusal_of(request, e)
    except errors.Unavailable:
        return 503, say_to(request).gettext("The service is unavailable. Try again soon."), None
    return None


def finished(request: Request, to: str) -> Response:
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": to})
    return redirect(request, to)


def city_path(city_id: str) -> str:
    return f"/review/cities/{quote(city_id, safe='')}"


# --- the queue ------------------------------------------------------------------------------------


# A reviewer's queue, rendered once per version of the data (fragments.py) in their slot: their id,
# home city and language. Reading it and its cities' states and rendering a row per criterion was
# most of the page's time (bench/pages.py); the page around it carries their name and token.
QUEUES_KEPT = 256


@router.get("/review")
@keeps_parts
async def review_queue(request: Request, person: Signed) -> Response:
    reviewer_only(request, person)
    store = services_of(request).store
    language = language_of(request)
    home = person.city_id or ""

    async def rendered() -> Markup:
        items = await readmodel.reviewer_queue(store, person.id, home, limit=QUEUE_LIMIT)
        states = {}
        for city_id in dict.fromkeys(i.city_id for i in items):
            if (state := await readmodel.city_state(store, city_id)) is not None:
                states[city_id] = state
        cities = queue(items, states, person.id, Speaker(language))
        return render_part("_reviewer_queue_body.html", language, cities=cities, count=len(items))

    slot = (person.id, home, language)
    body = await kept(request, "review_queues", QUEUES_KEPT).get(slot, await version_of(request), rendered)
    return render(request, "reviewer_queue.html", body=body)


# --- a city: the declaration, then its worksheet ------------------------------------------------------


async def city_page(
    request: Request,
    person: Person,
    city_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    field_error: str | None = None,
    form: dict[str, object] | None = None,
    partial: bool = False,
) -> Response:
    state = await open_cycle_of(request, city_id)
    if not await may_see_evidence(request, person, state):
        return render(
            request,
            "reviewer_declare.html",
            status=status,
            city_id=city_id,
            city_name=state.name,
            refusal=refusal,
            refusal_lang=refusal_lang,
            field_error=field_error,
            reason=str((form or {}).get("reason", "")),
        )
    sheet = await worksheet_of(request, city_id)
    submitted = [c for c in sheet.criteria if c.status is not None]
    done = request.query_params.get("done", "")
    return render(
        request,
        "_reviewer_several.html" if partial else "reviewer_city.html",
        status=status,
        city_id=city_id,
        city_path=city_path(city_id),
        city_name=state.name,
        criteria=submitted,
        status_words=lambda c: status_words(c, say_to(request)),
        decidable=decidable,
        any_decidable=any(decidable(c) for c in submitted),
        done=next((c for c in sheet.criteria if c.criterion_id == done), None),
        refusal=refusal,
        refusal_lang=refusal_lang,
        field_error=field_error,
        form=form or {},
    )


async def worksheet_of(request: Request, city_id: str) -> Worksheet:
    found = await readmodel.city_worksheet(services_of(request).store, city_id)
    if found is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Nothing to review"), _("This city has no certification cycle open."))
    return found


@router.get("/review/cities/{city_id}")
async def city_worksheet(request: Request, city_id: str, person: Signed) -> Response:
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    return await city_page(request, person, city_id)


@router.post("/review/cities/{city_id}/no-conflict")
async def declare_no_conflict(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = ""
) -> Response:
    check_form(request, csrf_token)
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    await open_cycle_of(request, city_id)
    refused = await give(request, person, city_id, cmd.DeclareNoConflict(reviewer_id=person.id))
    if refused is not None:
        status, words, lang = refused
        return await city_page(request, person, city_id, status=status, refusal=words, refusal_lang=lang)
    return redirect(request, city_path(city_id))


@router.post("/review/cities/{city_id}/conflict")
async def declare_conflict(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = "", reason: Words = ""
) -> Response:
    check_form(request, csrf_token)
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    await open_cycle_of(request, city_id)
    _ = say_to(request).gettext
    if not reason.strip():
        return await city_page(
            request,
            person,
            city_id,
            status=422,
            field_error=_("Say what the conflict of interest is"),
            form={"reason": reason},
        )
    refused = await give(
        request, person, city_id, cmd.DeclareConflict(reviewer_id=person.id, reason=reason.strip())
    )
    if refused is not None:
        status, words, lang = refused
        return await city_page(
            request, person, city_id, status=status, refusal=words, refusal_lang=lang, form={"reason": reason}
        )
    return redirect(request, "/review")


@router.post("/review/cities/{city_id}/reviews")
async def review_several(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    criterion: Many = [],  # noqa: B006 (FastAPI copies a default)
    decision: Choice = "",
    note: Words = "",
) -> Response:
    """One ReviewEvidence with an item per criterion chosen: approvals find the items each city
    claims met; rejections and questions carry the one note."""
    check_form(request, csrf_token)
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    state = await open_cycle_of(request, city_id)
    partial = request.headers.get("hx-request") == "true"
    form: dict[str, object] = {"criterion": criterion, "decision": decision, "note": note}
    _ = say_to(request).gettext
    if not await may_see_evidence(request, person, state):
        return await city_page(request, person, city_id, status=403)
    problem = None
    if not criterion:
        problem = _("Choose at least one criterion")
    elif decision not in DECISIONS:
        problem = _("Choose a decision")
    if problem is not None:
        return await city_page(
            request, person, city_id, status=422, field_error=problem, form=form, partial=partial
        )
    assert state.cycle is not None
    claims = {cid: sorted(item.claims) for cid, item in state.cycle.items.items()}
    verdict = DECISIONS[decision]
    try:
        items = [
            cmd.ReviewItem(
                criterion_id=c,
                decision=verdict,
                note=note.strip(),
                checklist_met=claims.get(c, []) if verdict is cmd.Verdict.APPROVE else [],
            )
            for c in criterion
        ]
        command = cmd.ReviewEvidence(
            reviewer_id=person.id, reviewer_home_city=person.city_id or "", items=items
        )
    except ValidationError as e:
        return await city_page(
            request,
            person,
            city_id,
            status=422,
            refusal=invalid_words(request, e, verdict),
            form=form,
            partial=partial,
        )
    refused = await give(request, person, city_id, command)
    if refused is not None:
        status, words, lang = refused
        return await city_page(
            request,
            person,
            city_id,
            status=status,
            refusal=words,
            refusal_lang=lang,
            form=form,
            partial=partial,
        )
    return finished(request, city_path(city_id))


# --- a criterion's worksheet ------------------------------------------------------------------------


async def criterion_page(
    request: Request,
    person: Person,
    city_id: str,
    criterion_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    field_error: str | None = None,
    form: dict[str, object] | None = None,
    partial: bool = False,
) -> Response:
    state = await open_cycle_of(request, city_id)
    if not await may_see_evidence(request, person, state):
        return redirect(request, city_path(city_id))
    sheet = await worksheet_of(request, city_id)
    found: CriterionWorksheet | None = next(
        (c for c in sheet.criteria if c.criterion_id == criterion_id), None
    )
    if found is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Page not found"), _("The city's standard has no criterion of that id."))
    thread = await clarification_thread(services_of(request).store, state, criterion_id)
    given = form or {}
    return render(
        request,
        "_reviewer_decision.html" if partial else "reviewer_criterion.html",
        status=status,
        city_id=city_id,
        city_path=city_path(city_id),
        city_name=state.name,
        criterion=found,
        criterion_path=f"{city_path(city_id)}/criteria/{quote(criterion_id, safe='')}",
        status_words=status_words(found, say_to(request)),
        shortfalls=shortfalls_said(say_to(request), state, found),
        cannot_earn=cannot_earn_said(say_to(request), found),
        may_decide=decidable(found),
        thread=thread,
        refusal=refusal,
        refusal_lang=refusal_lang,
        field_error=field_error,
        form=given,
        met=given.get("checklist_met", found.checklist_met or found.claimed),
    )


@router.get("/review/cities/{city_id}/criteria/{criterion_id}")
async def criterion_worksheet(request: Request, city_id: str, criterion_id: str, person: Signed) -> Response:
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    return await criterion_page(request, person, city_id, criterion_id)


@router.post("/review/cities/{city_id}/criteria/{criterion_id}")
async def review_criterion(
    request: Request,
    city_id: str,
    criterion_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    decision: Choice = "",
    checklist_met: Many = [],  # noqa: B006 (FastAPI copies a default)
    note: Words = "",
    override: Words = "",
) -> Response:
    check_form(request, csrf_token)
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    partial = request.headers.get("hx-request") == "true"
    _ = say_to(request).gettext
    met = [int(n) for n in checklist_met if n.isdecimal() and len(n) < 4]
    form: dict[str, object] = {"decision": decision, "checklist_met": met, "note": note, "override": override}

    async def again(status: int, **why: str | None) -> Response:
        return await criterion_page(
            request, person, city_id, criterion_id, status=status, form=form, partial=partial, **why
        )

    if decision not in DECISIONS:
        return await again(422, field_error=_("Choose a decision"))
    verdict = DECISIONS[decision]
    approving = verdict is cmd.Verdict.APPROVE
    try:
        item = cmd.ReviewItem(
            criterion_id=criterion_id,
            decision=verdict,
            note=note.strip(),
            checklist_met=met if approving else [],
            override=override.strip() if approving else "",
        )
        command = cmd.ReviewEvidence(
            reviewer_id=person.id, reviewer_home_city=person.city_id or "", items=[item]
        )
    except ValidationError as e:
        return await again(422, refusal=invalid_words(request, e, verdict))
    refused = await give(request, person, city_id, command)
    if refused is not None:
        status, words, lang = refused
        return await again(status, refusal=words, refusal_lang=lang)
    return finished(request, f"{city_path(city_id)}?done={quote(criterion_id, safe='')}")


# --- documents -----------------------------------------------------------------------------------------


@router.get("/review/cities/{city_id}/documents/{document_id}")
async def document(request: Request, city_id: str, document_id: str, person: Signed) -> Response:
    """An uploaded document of the city, to a reviewer the documents service lets read it (assigned
    to the city's cycle) once they declared no conflict: shown in the browser when a browser shows
    its format without running anything (PDF, images, plain text), else saved."""
    reviewer_only(request, person)
    not_home_city(request, person, city_id)
    state = await open_cycle_of(request, city_id)
    _ = say_to(request).gettext
    if not await may_see_evidence(request, person, state):
        raise PageError(
            403,
            _("You cannot see this city's evidence yet"),
            _("Declare whether you have a conflict of interest with the city first."),
        )
    docs = services_of(request).documents
    now = datetime.now(UTC)
    who = TokenInfo(
        id="portal",
        role="reviewer",
        subject=person.id,
        city_id=person.city_id,
        created_at=now,
        expires_at=now,
    )
    if not await docs.may_read(who, city_id):
        raise PageError(
            403,
            _("You cannot see this document"),
            _("A city's documents are for the reviewers assigned to it, the committee and operators."),
        )
    try:
        if not re.fullmatch(DOCUMENT_ID_PATTERN, document_id):
            raise errors.NotFound(f"{city_id!r} has no document {document_id!r}")
        found = await docs.find(city_id, document_id)
        chunks = await docs.open(found)
    except errors.NotFound:
        raise PageError(404, _("Page not found"), _("The city has no document of that id.")) from None
    except errors.Unavailable:
        raise PageError(
            503, _("Sorry, there is a problem"), _("The service is unavailable. Try again soon.")
        ) from None
    shown = found.media_type in INLINE
    name = quote(found.title, safe="")
    headers = {
        "Content-Disposition": f"{'inline' if shown else 'attachment'}; filename*=UTF-8''{name}",
        "Content-Length": str(found.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
    }
    if found.media_type != "application/pdf":
        # Nothing in a document the city uploaded runs as this site (Chromium's PDF viewer needs
        # the page unsandboxed; it runs no script of the document's).
        headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        )
    return StreamingResponse(chunks, media_type=found.media_type, headers=headers)
