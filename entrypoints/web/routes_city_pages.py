"""A city's pages beyond its dashboard, for its staff: applying to an open round, the criteria board,
a criterion's evidence (uploads into its required-document slots, the checklist items claimed) and
the answer to a reviewer's question, the decision (accept or appeal) and the certificate.

Every action is the command the JSON API gives, through the same application layer (the command
service, the documents service, the rounds): a refusal shows the domain's reason beside the form,
and nothing is recorded. The programme's staff (committee, operators) see these pages; only the
city's own staff act on them. Uploads are checked against the city's state before any is stored,
so a submission the domain refuses stores no document. A new submission of a criterion (after a
rejection) keeps the documents already in its slots unless the city removes them or chooses another
in their place, so it does not upload them again; an appeal brings new documents for the criteria it
contests, in the same way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

import readmodel
from app import errors
from app.media import Unrecognised, recognise
from app.rounds import list_rounds
from domain import Actor, CommandRejected, InvalidCommand, decide
from domain import commands as cmd
from domain.errors import Refusal as DomainRefusal
from domain.ids import DOCUMENT_ID_PATTERN
from domain.people import Person, PersonRole
from domain.state import CityState
from entrypoints.web import city_pages
from entrypoints.web.i18n import N_
from entrypoints.web.pages import render
from entrypoints.web.refusals import form_words, in_words, say_refusal
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.routes_city import may_see, session_role
from entrypoints.web.session import PageError, csrf_ok, load_session, services_of
from readmodel.questions import open_questions
from readmodel.worksheet import city_worksheet

router = APIRouter(include_in_schema=False, dependencies=[Depends(load_session)])

# The paths that take documents: the body limit lets them carry a document (entrypoints/http/app.py).
UPLOAD_PAGES = re.compile(r"/cities/[^/]+/(?:criteria/[^/]+/(?:evidence|answer)|decision/appeal)")
MAX_FORM_FILES = 12
PLACEHOLDER = "https://upload.invalid/"  # a stand-in link for the domain's check before storing


class Refusal(Exception):
    """An action not recorded: its status and the reason (in `lang` when it is not the page's)."""

    def __init__(self, status: int, reason: str, lang: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.lang = lang


def staff_only(request: Request, person: Person, city_id: str) -> Actor:
    """The actor of a city's action: its own staff only (the domain checks the role again)."""
    may_see(request, person, city_id)
    if person.role is not PersonRole.CITY:
        _ = say_to(request).gettext
        raise PageError(
            403, _("You cannot act for this city"), _("Only the city's own staff act on its pages.")
        )
    return Actor(role="city", id=person.id)


async def state_of(request: Request, city_id: str) -> CityState:
    state = await readmodel.city_state(services_of(request).store, city_id)
    if state is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Page not found"), _("No city of that id takes part in the programme."))
    return state


def refused(e: errors.AppError, request: Request) -> Refusal:
    if isinstance(e, errors.Unavailable):
        return Refusal(503, say_to(request).gettext("The service is unavailable. Try again soon."))
    status = 403 if isinstance(e, errors.Forbidden) else 422 if isinstance(e, errors.Invalid) else 409
    return Refusal(status, *in_words(say_to(request), e))


async def give(request: Request, city_id: str, command: cmd.HumanCommand, actor: Actor) -> None:
    try:
        await services_of(request).commands.give(city_id, command, actor)
    except errors.AppError as e:
        raise refused(e, request) from None


def precheck(request: Request, state: CityState, command: cmd.Command) -> None:
    """The domain's answer on the stored state, before a document is stored for the command."""
    svc = services_of(request)
    try:
        decide(state, command, now=svc.clock(), policy=svc.commands.policy)
    except CommandRejected as e:
        raise Refusal(409, *in_words(say_to(request), e)) from None
    except InvalidCommand as e:
        raise Refusal(422, *in_words(say_to(request), e)) from None


def built(request: Request, make: Any) -> Any:
    try:
        return make()
    except ValidationError as e:
        raise Refusal(422, form_words(say_to(request), e)) from None


# --- applying to an open round -------------------------------------------------------------------


async def apply_page(
    request: Request, city_id: str, *, status: int = 200, refusal: Refusal | None = None, chosen: str = ""
) -> Response:
    state = await state_of(request, city_id)
    today = services_of(request).clock().date()
    rounds = city_pages.open_rounds(await list_rounds(services_of(request).store), today)
    return render(
        request,
        "city_apply.html",
        status=status,
        city_id=city_id,
        city_name=state.name,
        rounds=rounds,
        standards=city_pages.open_standards(today),
        chosen=chosen or (rounds[0].round_id if len(rounds) == 1 else ""),
        refusal=refusal,
    )


@router.get("/cities/{city_id}/apply")
async def application_form(request: Request, city_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    return await apply_page(request, city_id)


@router.post("/cities/{city_id}/apply")
async def apply(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    round_id: Annotated[str, Form(max_length=100)] = "",
    standard_version: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_form(request, csrf_token)
    actor = staff_only(request, person, city_id)
    _ = say_to(request).gettext
    try:
        if not round_id:
            raise Refusal(422, _("Choose the round to apply to."))
        if not standard_version:
            raise Refusal(422, _("Choose the standard to apply under."))
        command = built(
            request, lambda: cmd.ApplyForCertification(cohort=round_id, standard_version=standard_version)
        )
        await give(request, city_id, command, actor)
    except Refusal as r:
        return await apply_page(request, city_id, status=r.status, refusal=r, chosen=round_id)
    return redirect(request, f"/cities/{city_id}")


# --- the criteria board --------------------------------------------------------------------------


@router.get("/cities/{city_id}/criteria")
async def criteria_board(request: Request, city_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    state = await state_of(request, city_id)
    store = services_of(request).store
    sheet = await city_worksheet(store, city_id)
    areas = []
    if sheet is not None:
        areas = city_pages.board(state, sheet, await open_questions(store, state), say_to(request))
    return render(
        request,
        "city_criteria.html",
        city_id=city_id,
        city_name=state.name,
        areas=areas,
        cycle=sheet is not None,
        submission_due=city_pages.submission_due(state),
    )


# --- a criterion's evidence, and the answer to the reviewer's question ----------------------------


async def criterion_page(
    request: Request,
    city_id: str,
    criterion_id: str,
    *,
    status: int = 200,
    refusal: Refusal | None = None,
    form: str = "",
    kept: dict[str, Any] | None = None,
) -> Response:
    """The criterion's page; after a refusal, the form refused keeps what was written in it (the
    documents chosen are chosen again: a browser never refills a file field)."""
    state = await state_of(request, city_id)
    store = services_of(request).store
    sheet = await city_worksheet(store, city_id)
    found = city_pages.find_criterion(sheet, criterion_id) if sheet else None
    if found is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Page not found"), _("The city's current cycle has no criterion of that id."))
    question = next((q for q in await open_questions(store, state) if q.criterion_id == criterion_id), None)
    in_place = city_pages.documents_in_place(found)
    return render(
        request,
        "city_criterion.html",
        in_place=in_place,
        in_slot={n: [d for d in in_place if d.slot == n] for n in {d.slot for d in in_place}},
        status=status,
        city_id=city_id,
        city_name=state.name,
        c=found,
        status_words=say_to(request).gettext(city_pages.STATUSES[found.status]),
        question=question,
        takes_evidence=state.phase in city_pages.TAKES_EVIDENCE,
        may_act=session_role(request) is PersonRole.CITY,
        refusal=refusal,
        refused_form=form,
        kept=kept or {},
    )


@router.get("/cities/{city_id}/criteria/{criterion_id}")
async def criterion(request: Request, city_id: str, criterion_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    return await criterion_page(request, city_id, criterion_id)


async def read_form(request: Request, *, max_files: int = MAX_FORM_FILES, max_fields: int = 100) -> FormData:
    """The multipart form, its CSRF token checked before any of its documents is used."""
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields)
    except MultiPartException as e:
        raise PageError(400, say_to(request).gettext("This form cannot be sent"), str(e)) from None
    token = form.get("csrf_token")
    if not isinstance(token, str) or not csrf_ok(request, token):
        await form.close()
        check_form(request, "")
    return form


def files_in(form: FormData, prefix: str) -> dict[int, UploadFile]:
    """The documents chosen in the form's `prefix`N fields, by N (empty file fields left out)."""
    found: dict[int, UploadFile] = {}
    for key, value in form.multi_items():
        number = key[len(prefix) :]
        chosen = isinstance(value, UploadFile) and bool(value.filename) and value.size != 0
        if key.startswith(prefix) and number.isdigit() and chosen:
            assert isinstance(value, UploadFile)
            found[int(number)] = value
    return found


def title_of(upload: UploadFile, fallback: str) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    cleaned = " ".join(stem.split())[:200]
    return cleaned or fallback


async def check_documents(request: Request, uploads: dict[int, UploadFile]) -> None:
    """Each document recognised and within the size allowed before any is stored, so one refused
    leaves none of the others recorded (the documents service checks each again as it stores it)."""
    max_bytes = services_of(request).documents.max_bytes
    for upload in uploads.values():
        name = upload.filename or ""
        if upload.size is not None and upload.size > max_bytes:
            say = say_to(request)
            raise Refusal(
                413,
                say.gettext(
                    "{name}: a document may be at most {size} bytes", name=name, size=say.number(max_bytes)
                ),
            )
        try:
            await asyncio.to_thread(recognise, upload.file)
        except Unrecognised as e:
            raise Refusal(
                415,
                *say_refusal(
                    say_to(request),
                    DomainRefusal(N_("{name}: not accepted: {why}"), name=name, why=e.refusal),
                ),
            ) from None
        upload.file.seek(0)


async def store_documents(
    request: Request, city_id: str, uploads: dict[int, UploadFile], actor: Actor, fallback: str
) -> list[cmd.UploadedDocument]:
    """Store and record each document, in its slot (0: supporting, in no slot)."""
    given = []
    for slot, upload in sorted(uploads.items()):
        try:
            stored = await services_of(request).documents.upload(
                city_id, title_of(upload, fallback), upload.file, actor
            )
        except errors.AppError as e:
            raise refused(e, request) from None
        given.append(cmd.UploadedDocument(document_id=stored.document_id, slot=slot or None))
    return given


async def give_with_uploads(
    request: Request,
    city_id: str,
    state: CityState,
    uploads: dict[int, UploadFile],
    actor: Actor,
    criterion_id: str,
    command_of: Callable[[list[Any]], cmd.HumanCommand],
) -> None:
    """Give the command built around the uploaded documents: the domain's answer first (with
    placeholders where the documents will be), then every document checked, then stored, so a
    refused command or document leaves nothing stored."""
    precheck(request, state, built(request, lambda: command_of(placeholders(uploads))))
    await check_documents(request, uploads)
    documents = await store_documents(request, city_id, uploads, actor, criterion_id)
    await give(request, city_id, built(request, lambda: command_of(documents)), actor)


def placeholders(uploads: dict[int, UploadFile]) -> list[cmd.DocumentLink]:
    return [cmd.DocumentLink(title="upload", url=PLACEHOLDER, slot=slot or None) for slot in sorted(uploads)]


def numbers(form: FormData, name: str) -> list[int]:
    given = [v for v in form.getlist(name) if isinstance(v, str) and v.isdigit() and len(v) < 4]
    return sorted({int(v) for v in given if int(v) > 0})


@router.post("/cities/{city_id}/criteria/{criterion_id}/evidence")
async def submit_evidence(request: Request, city_id: str, criterion_id: str, person: Signed) -> Response:
    form = await read_form(request)
    try:
        actor = staff_only(request, person, city_id)
        uploads = files_in(form, "slot_")
        narrative = form.get("narrative")
        narrative = narrative.strip() if isinstance(narrative, str) else ""
        claims = numbers(form, "claim")
        removed = {v for v in form.getlist("remove") if isinstance(v, str) and len(v) <= 100}
        _ = say_to(request).gettext
        try:
            # The documents already in the criterion's slots stay unless removed or replaced: a new
            # submission after a question or a rejection does not ask for them again.
            state = await state_of(request, city_id)
            sheet = await city_worksheet(services_of(request).store, city_id)
            found = city_pages.find_criterion(sheet, criterion_id) if sheet else None
            in_place = city_pages.documents_in_place(found) if found else []
            kept = city_pages.kept_documents(in_place, removed, {n for n in uploads if n})
            if not uploads and not kept:
                raise Refusal(422, _("Choose at least one document to upload."))

            def item(documents: list[Any]) -> cmd.SubmitEvidence:
                return cmd.SubmitEvidence(
                    items=[
                        cmd.EvidenceItem(
                            criterion_id=criterion_id,
                            documents=[*kept, *documents],
                            narrative=narrative,
                            claims=claims,
                        )
                    ]
                )

            await give_with_uploads(request, city_id, state, uploads, actor, criterion_id, item)
        except Refusal as r:
            return await criterion_page(
                request,
                city_id,
                criterion_id,
                status=r.status,
                refusal=r,
                form="evidence",
                kept={"narrative": narrative, "claims": claims, "removed": removed},
            )
    finally:
        await form.close()
    return redirect(request, f"/cities/{city_id}/criteria/{criterion_id}")


@router.post("/cities/{city_id}/criteria/{criterion_id}/answer")
async def answer_question(request: Request, city_id: str, criterion_id: str, person: Signed) -> Response:
    form = await read_form(request)
    try:
        actor = staff_only(request, person, city_id)
        text = form.get("answer")
        text = text.strip() if isinstance(text, str) else ""
        slot = form.get("attachment_slot")
        slot_n = int(slot) if isinstance(slot, str) and slot.isdigit() and int(slot) < 1000 else 0
        attachment = files_in(form, "attachment")
        uploads = {slot_n: attachment[min(attachment)]} if attachment else {}
        _ = say_to(request).gettext
        try:
            if not text:
                raise Refusal(422, _("Write the answer to the reviewer's question."))

            def answered(documents: list[Any]) -> cmd.AnswerClarifications:
                one = cmd.ClarificationAnswer(criterion_id=criterion_id, answer=text, documents=documents)
                return cmd.AnswerClarifications(items=[one])

            state = await state_of(request, city_id)
            await give_with_uploads(request, city_id, state, uploads, actor, criterion_id, answered)
        except Refusal as r:
            return await criterion_page(
                request,
                city_id,
                criterion_id,
                status=r.status,
                refusal=r,
                form="answer",
                kept={"answer": text, "slot": slot_n},
            )
    finally:
        await form.close()
    return redirect(request, f"/cities/{city_id}/criteria/{criterion_id}")


def attachment(title: str) -> str:
    """Content-Disposition for a download named after the document's title: a plain ASCII name for
    old browsers, and the title itself in UTF-8 (RFC 6266) for the rest."""
    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in " ._-") else "_" for ch in title)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(title, safe='')}"


@router.get("/cities/{city_id}/documents/{document_id}")
async def document(request: Request, city_id: str, document_id: str, person: Signed) -> Response:
    """One of the city's documents, as an attachment (never rendered here: nosniff), to those who
    see the city's pages."""
    may_see(request, person, city_id)
    docs = services_of(request).documents
    _ = say_to(request).gettext
    missing = PageError(404, _("Page not found"), _("The city has no document of that id."))
    if not re.fullmatch(DOCUMENT_ID_PATTERN, document_id):
        raise missing
    try:
        found = await docs.find(city_id, document_id)
        chunks = await docs.open(found)
    except errors.NotFound:
        raise missing from None
    except errors.AppError:
        raise PageError(
            503, _("Sorry, there is a problem"), _("The service is unavailable. Try again soon.")
        ) from None
    return StreamingResponse(
        chunks,
        media_type=found.media_type,
        headers={
            "Content-Disposition": attachment(found.title),
            "Content-Length": str(found.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# --- the decision: accept it or appeal it ---------------------------------------------------------


def htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def moved(request: Request, to: str) -> Response:
    """After an action: the next page (htmx follows with a full load, the whole page changes)."""
    if htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return redirect(request, to)


async def decision_page(
    request: Request,
    city_id: str,
    *,
    status: int = 200,
    refusal: Refusal | None = None,
    form: str = "",
    grounds: str = "",
    contested: list[str] | None = None,
) -> Response:
    """The decision's page; for htmx, the refused form alone (or, no decision waiting any more,
    a full load of the page, which says so)."""
    state = await state_of(request, city_id)
    found = city_pages.decision(state, say_to(request))
    partial = form if htmx(request) else ""
    if partial and found is None:
        return Response(status_code=204, headers={"HX-Redirect": f"/cities/{city_id}/decision"})
    return render(
        request,
        f"city_{partial}.html" if partial else "city_decision.html",
        status=status,
        city_id=city_id,
        city_name=state.name,
        decision=found,
        may_act=session_role(request) is PersonRole.CITY,
        refusal=refusal,
        refused_form=form,
        grounds=grounds,
        contested=contested or [],
    )


@router.get("/cities/{city_id}/decision")
async def decision(request: Request, city_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    return await decision_page(request, city_id)


@router.post("/cities/{city_id}/decision/accept")
async def accept(request: Request, city_id: str, person: Signed, csrf_token: FormToken = "") -> Response:
    check_form(request, csrf_token)
    actor = staff_only(request, person, city_id)
    try:
        await give(request, city_id, cmd.AcceptDecision(), actor)
    except Refusal as r:
        return await decision_page(request, city_id, status=r.status, refusal=r, form="accept")
    return moved(request, f"/cities/{city_id}/certificate")


# An appeal's form has a file field, a slot choice and the criterion's id for each criterion it may
# contest (every one not approved, when the city was not certified), each file field a part.
APPEAL_FILES = cmd.MAX_ITEMS
APPEAL_FIELDS = 4 * cmd.MAX_ITEMS + 10


def appeal_documents(form: FormData) -> dict[str, tuple[int, UploadFile]]:
    """The new evidence chosen in the appeal's form, by criterion: its slot (0: supporting) and file."""
    files = files_in(form, "appeal_file_")
    chosen = {}
    for n, upload in files.items():
        criterion_id, slot = form.get(f"appeal_for_{n}"), form.get(f"appeal_slot_{n}")
        if isinstance(criterion_id, str) and criterion_id:
            slot_n = int(slot) if isinstance(slot, str) and slot.isdigit() and int(slot) < 1000 else 0
            chosen[criterion_id] = (slot_n, upload)
    return chosen


@router.post("/cities/{city_id}/decision/appeal")
async def appeal(request: Request, city_id: str, person: Signed) -> Response:
    form = await read_form(request, max_files=APPEAL_FILES, max_fields=APPEAL_FIELDS)
    try:
        actor = staff_only(request, person, city_id)
        given = form.get("grounds")
        grounds = given if isinstance(given, str) else ""
        contested = sorted({v for v in form.getlist("criteria") if isinstance(v, str) and v})
        chosen = appeal_documents(form)
        _ = say_to(request).gettext
        try:
            if not grounds.strip():
                raise Refusal(422, _("Write the grounds of the appeal."))
            if len(grounds) > 20_000:
                raise Refusal(
                    422, _("The grounds may be at most {n} characters.", n=say_to(request).number(20_000))
                )
            stray = sorted(set(chosen) - set(contested))
            if stray:
                raise Refusal(
                    422,
                    _(
                        "New evidence was chosen for {criteria}, which the appeal does not contest: "
                        "tick the criterion, or take the document off.",
                        criteria=", ".join(stray),
                    ),
                )
            # The documents are stored one per criterion, each into its slot (0: supporting).
            uploads = {n: upload for n, (_slot, upload) in enumerate(chosen.values(), start=1)}
            slots = {n: slot for n, (slot, _upload) in enumerate(chosen.values(), start=1)}

            # An upheld appeal sends its evidence to a fresh reviewer as the criterion's new
            # submission: it carries the documents already in place too, the new one taking the
            # place of those in its slot, so the reviewer sees the whole evidence, not the new
            # document alone.
            sheet = await city_worksheet(services_of(request).store, city_id)
            in_place = {}
            for cid, (slot, _upload) in chosen.items():
                found = city_pages.find_criterion(sheet, cid) if sheet else None
                here = city_pages.documents_in_place(found) if found else []
                in_place[cid] = city_pages.kept_documents(here, set(), {slot} if slot else set())

            def filed(documents: dict[int, Any]) -> cmd.FileAppeal:
                evidence = [
                    cmd.EvidenceItem(criterion_id=cid, documents=[*in_place[cid], documents[n]])
                    for n, cid in enumerate(chosen, start=1)
                ]
                return cmd.FileAppeal(grounds=grounds.strip(), criteria=contested, evidence=evidence)

            def placed(n: int) -> cmd.DocumentLink:
                return cmd.DocumentLink(title="upload", url=PLACEHOLDER, slot=slots[n] or None)

            precheck(
                request,
                await state_of(request, city_id),
                built(request, lambda: filed({n: placed(n) for n in uploads})),
            )
            await check_documents(request, uploads)
            stored = {}
            for n, upload in uploads.items():
                one = await store_documents(request, city_id, {slots[n]: upload}, actor, "appeal")
                stored[n] = one[0]
            await give(request, city_id, built(request, lambda: filed(stored)), actor)
        except Refusal as r:
            return await decision_page(
                request,
                city_id,
                status=r.status,
                refusal=r,
                form="appeal",
                grounds=grounds,
                contested=contested,
            )
    finally:
        await form.close()
    return moved(request, f"/cities/{city_id}")


# --- the certificate ------------------------------------------------------------------------------


@router.get("/cities/{city_id}/certificate")
async def certificate(request: Request, city_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    state = await state_of(request, city_id)
    now = services_of(request).clock()
    return render(
        request,
        "city_certificate.html",
        city_id=city_id,
        city_name=state.name,
        certificate=city_pages.certificate(state, now, say_to(request)),
    )
