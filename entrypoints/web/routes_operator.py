"""The operators' pages: the cities (filtered by phase and round, each city's state and events,
its reviewers assigned), the people (added, deactivated) and the reviewers' profiles, the rounds
(created, their dates changed), the mail's outbox and failures, the health of the store and of the
city workflows, and the API tokens (created with the secret shown once, revoked).

Every page is for a person with the role operator, checked here; every action is the application
layer's function the JSON API and the CLI call (app/people.py, app/rounds.py, app/tokens.py, the
command service for an assignment), which checks again: refused, the page shows its reason beside
the form, in its words, and nothing is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

import readmodel
from app import assignment as app_assignment
from app import errors
from app import people as app_people
from app import rounds as app_rounds
from app import tokens as app_tokens
from app.relay import failures, outbox, release_held
from app.supervision import running_city_workflows, stopped_workflows
from domain import Actor, Phase
from domain import commands as cmd
from domain.ids import TEXT_MAX, is_city_id
from domain.people import Person, PersonRole, ReviewerProfile, new_person
from domain.rounds import ChangeRound, CreateRound, Round, find_round, is_round_id
from entrypoints.web import operator as view
from entrypoints.web.dashboard import PHASES
from entrypoints.web.fragments import keeps_parts, kept, read_version_early, version_of
from entrypoints.web.i18n import Speaker
from entrypoints.web.pages import render, render_part
from entrypoints.web.refusals import in_words, say_refusal
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.session import PageError, language_of, load_session, services_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_version_early), Depends(load_session)])

Text = Annotated[str, Form(max_length=1000)]
Many = Annotated[Sequence[str], Form(max_length=50)]
# A form's fields by name, to the element ids its error summary links to.
PERSON_FIELDS = {name: name for name in ("name", "email", "role", "language", "city_id")}
ROUND_FIELDS = {
    name: name
    for name in (
        "round_id",
        "name",
        "opens_on",
        "closes_on",
        "submission_deadline",
        "announcement_on",
        "review_capacity",
    )
}
CITIES_PAGE = 100  # cities on a page of the list
ROUND_FILTER_MAX = 200  # as the JSON API's ?round= takes
EVENTS_SHOWN = 200  # a city's latest events on its page; the API and CLI page through all of them


def may_operate(request: Request, person: Person) -> None:
    if person.role is not PersonRole.OPERATOR:
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("This page is for the programme's operators"),
            _("Only the people who run the programme see and change its cities, people, rounds and tokens."),
        )


def actor(person: Person) -> Actor:
    return Actor(role="operator", id=person.id)


def _not_found(request: Request, words: str) -> PageError:
    return PageError(404, say_to(request).gettext("Page not found"), words)


def _today(request: Request) -> date:
    return services_of(request).clock().astimezone(UTC).date()


def _said(request: Request, e: errors.AppError) -> view.Problem:
    """A refused action's reason, the domain's or the application's, in the page's language."""
    words, lang = in_words(say_to(request), e)
    return view.said(words, lang=lang)


def _status(e: errors.AppError) -> int:
    if isinstance(e, errors.Forbidden):
        return 403
    if isinstance(e, errors.NotFound):
        return 404
    return 422 if isinstance(e, errors.Invalid) else 409


# --- the start page and the cities ----------------------------------------------------------------


@router.get("/operator")
async def operator_home(request: Request, person: Signed) -> Response:
    may_operate(request, person)
    return render(request, "operator_home.html")


# The list is the same for every operator reading it in a language: its part of the page (all but
# the header with the person's name and the sign-out form's token) is kept (fragments.py) by the
# filter, the page and the language, at the log's version (the cities' rows are projections written
# with their events, the rounds the programme stream's).
CITY_LISTS_KEPT = 256


@router.get("/operator/cities")
@keeps_parts
async def cities(
    request: Request, person: Signed, phase: str = "", round: str = "", page: str = "1"
) -> Response:
    may_operate(request, person)
    store = services_of(request).store
    language = language_of(request)
    chosen = Phase(phase) if phase in {p.value for p in Phase} else None
    number = int(page) if page.isdigit() and 0 < len(page) < 7 and int(page) > 0 else 1
    # A round no round could be named (too long, a NUL) matches no city, as an unknown one does.
    readable = len(round) <= ROUND_FILTER_MAX and "\x00" not in round

    def listing(round_id: Sequence[str] | None) -> Awaitable[list[readmodel.CityStatus]]:
        return readmodel.list_cities(
            store,
            phase=chosen,
            round_id=round_id,
            limit=CITIES_PAGE + 1,  # one more than shown: whether a next page exists
            offset=(number - 1) * CITIES_PAGE,
        )

    async def body() -> Markup:
        # The rounds are read once: the filter's choices, and what an asked round records as its
        # cohorts (its id and the cohorts of earlier data it adopted). With no round asked, the
        # rounds and the cities are read at once, on two pooled connections.
        found: list[readmodel.CityStatus]
        if not readable:
            rounds, found = await app_rounds.list_rounds(store), []
        elif round:
            rounds = await app_rounds.list_rounds(store)
            found = await listing(_recorded_as(rounds, round))
        else:
            rounds, found = await asyncio.gather(app_rounds.list_rounds(store), listing(None))
        kept_filter = {k: v for k, v in (("phase", chosen.value if chosen else ""), ("round", round)) if v}

        def page_link(n: int) -> str:
            return "/operator/cities?" + urlencode({**kept_filter, "page": str(n)})

        say = Speaker(language)
        return render_part(
            "_operator_cities_body.html",
            language,
            cities=[view.city_row(c, say) for c in found[:CITIES_PAGE]],
            first=(number - 1) * CITIES_PAGE + 1,
            paged=number > 1 or len(found) > CITIES_PAGE,
            previous=page_link(number - 1) if number > 1 else None,
            next=page_link(number + 1) if len(found) > CITIES_PAGE else None,
            phases=view.phase_choices(say),
            rounds=rounds,
            phase=chosen.value if chosen else "",
            round_id=round,
        )

    slot = (language, chosen, round if readable else "\x00", number)
    shown = await kept(request, "operator_cities", CITY_LISTS_KEPT).get(slot, await version_of(request), body)
    return render(request, "operator_cities.html", body=shown)


def _recorded_as(rounds: Sequence[Round], round_id: str) -> tuple[str, ...]:
    """app.rounds.recorded_as, of rounds already read."""
    found = find_round(rounds, round_id) if is_round_id(round_id) else None
    return found.recorded_as if found is not None else (round_id,)


async def _city_page(request: Request, city_id: str, *, status: int = 200, **form: Any) -> Response:
    say = say_to(request)
    store = services_of(request).store
    summary = await readmodel.city_summary(store, city_id)
    state = await readmodel.city_state(store, city_id)
    if summary is None or state is None:
        raise _not_found(request, say.gettext("No city of that id takes part in the programme."))
    recorded = await store.read_stream(readmodel.city_stream(city_id))
    reviewers = await app_people.list_people(store, role=PersonRole.REVIEWER, active=True)
    cycle = state.cycle
    return render(
        request,
        "operator_city.html",
        status=status,
        city=view.city_row(summary, say),
        summary=summary,
        cycle=cycle,
        events=list(reversed(recorded))[:EVENTS_SHOWN],
        event_count=len(recorded),
        reviewers=[r for r in reviewers if r.city_id != city_id],
        areas=view.practice_areas(cycle.standard_version) if cycle else [],
        problem=form.get("problem"),
        problem_of=form.get("problem_of"),
        done=form.get("done"),
    )


@router.get("/operator/cities/{city_id}")
async def city(request: Request, city_id: str, person: Signed, done: str = "") -> Response:
    may_operate(request, person)
    return await _city_page(request, city_id, done=done in {"area", "lead", "auto"})


async def _assign(
    request: Request, city_id: str, person: Person, command: cmd.HumanCommand, which: str
) -> Response:
    commands = services_of(request).commands
    return await _assigned(request, city_id, which, lambda: commands.give(city_id, command, actor(person)))


async def _assigned(
    request: Request, city_id: str, which: str, assign: Callable[[], Awaitable[object]]
) -> Response:
    """The city's page after `assign`: its refusal in the page's language, else the notice."""
    try:
        await assign()
    except (errors.Refused, errors.Invalid, errors.Forbidden, errors.NotFound) as e:
        return await _city_page(
            request, city_id, status=_status(e), problem=_said(request, e), problem_of=which
        )
    except errors.Unavailable:
        words = say_to(request).gettext("The service is unavailable. Try again soon.")
        return await _city_page(
            request, city_id, status=503, problem=view.said(words, lang=None), problem_of=which
        )
    return redirect(request, f"/operator/cities/{city_id}?done={which}")


async def _reviewer(request: Request, city_id: str, reviewer_id: str, which: str) -> Person | Response:
    try:
        found = await app_people.get_person(services_of(request).store, reviewer_id)
    except app_people.UnknownPerson:
        found = None
    if found is None or found.role is not PersonRole.REVIEWER or not found.active:
        words = say_to(request).gettext("Choose an active reviewer.")
        return await _city_page(
            request, city_id, status=422, problem=view.said(words, lang=None), problem_of=which
        )
    return found


@router.post("/operator/cities/{city_id}/practice-areas")
async def assign_practice_area(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    reviewer_id: Text = "",
    practice_area: Text = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    reviewer = await _reviewer(request, city_id, reviewer_id, "area")
    if isinstance(reviewer, Response):
        return reviewer
    try:
        command = cmd.AssignPracticeArea(
            reviewer_id=reviewer.id, reviewer_home_city=reviewer.city_id or "", practice_area=practice_area
        )
    except ValidationError as e:
        return await _city_page(
            request,
            city_id,
            status=422,
            problem=view.invalid(say_to(request), e, {"practice_area": "practice-area"}),
            problem_of="area",
        )
    return await _assign(request, city_id, person, command, "area")


@router.post("/operator/cities/{city_id}/automatic-assignment")
async def assign_automatically(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = ""
) -> Response:
    """Every practice area waiting for a reviewer, to the least loaded eligible reviewer (the JSON
    API's POST /v1/cities/{city_id}/review/assignments/automatic): refused, the plan's reason for
    each area nobody can take."""
    check_form(request, csrf_token)
    may_operate(request, person)
    commands = services_of(request).commands
    by = actor(person)
    return await _assigned(
        request, city_id, "auto", lambda: app_assignment.assign_automatically(commands, city_id, by)
    )


@router.post("/operator/cities/{city_id}/lead-reviewer")
async def assign_lead_reviewer(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = "", reviewer_id: Text = ""
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    reviewer = await _reviewer(request, city_id, reviewer_id, "lead")
    if isinstance(reviewer, Response):
        return reviewer
    command = cmd.AssignLeadReviewer(reviewer_id=reviewer.id, reviewer_home_city=reviewer.city_id or "")
    return await _assign(request, city_id, person, command, "lead")


# --- people and reviewers -----------------------------------------------------------------------


async def _people_page(request: Request, *, status: int = 200, **form: Any) -> Response:
    say = say_to(request)
    store = services_of(request).store
    return render(
        request,
        "operator_people.html",
        status=status,
        people=await app_people.list_people(store, limit=app_people.MAX_PAGE),
        roles=dict(view.role_choices(say)),
        role_choices=view.role_choices(say),
        problem=form.get("problem"),
        typed=form.get("typed", {}),
        added=form.get("added"),
    )


@router.get("/operator/people")
async def people(request: Request, person: Signed, added: str = "") -> Response:
    may_operate(request, person)
    return await _people_page(request, added=added or None)


@router.post("/operator/people")
async def add_person(
    request: Request,
    person: Signed,
    csrf_token: FormToken = "",
    name: Text = "",
    email: Text = "",
    role: Text = "",
    language: Text = "",
    city_id: Text = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    typed = {"name": name, "email": email, "role": role, "language": language, "city_id": city_id}
    fields: dict[str, Any] = {k: v.strip() for k, v in typed.items() if v.strip()}
    try:
        added = await app_people.add_person(services_of(request).store, new_person(fields))
    except ValidationError as e:
        rules = view.person_rules(say_to(request), typed)
        problem = view.invalid(say_to(request), e, PERSON_FIELDS, rules)
        return await _people_page(request, status=422, problem=problem, typed=typed)
    except errors.AppError as e:
        return await _people_page(request, status=_status(e), problem=_said(request, e), typed=typed)
    return redirect(request, f"/operator/people?added={added.id}")


@router.post("/operator/people/{person_id}/deactivation")
async def deactivate(
    request: Request, person_id: str, person: Signed, csrf_token: FormToken = ""
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    try:
        await app_people.deactivate_person(services_of(request).store, person_id)
    except app_people.UnknownPerson:
        raise _not_found(request, say_to(request).gettext("No person of that id is known.")) from None
    except errors.AppError as e:
        return await _people_page(request, status=_status(e), problem=_said(request, e))
    return redirect(request, "/operator/people")


def _profile_fields(person_id: str, ticked: list[str]) -> dict[str, str]:
    first = ticked[0] if ticked else (view.practice_areas() or [("", "")])[0][0]
    return {
        "organisation": f"organisation-{person_id}",
        "practice_areas": f"area-{person_id}-{first}",
        "capacity": f"capacity-{person_id}",
        "conflicts": f"conflicts-{person_id}",
    }


async def _reviewers_page(request: Request, *, status: int = 200, **form: Any) -> Response:
    store = services_of(request).store
    rows = []
    for reviewer in await app_people.list_people(store, role=PersonRole.REVIEWER, active=True):
        try:
            profile = await app_people.get_reviewer_profile(store, reviewer.id)
        except app_people.NoReviewerProfile:
            profile = None
        typed = form.get("typed") if form.get("problem_of") == reviewer.id else None
        rows.append(view.reviewer_row(reviewer, profile, typed))
    return render(
        request,
        "operator_reviewers.html",
        status=status,
        reviewers=rows,
        areas=view.practice_areas(),
        problem=form.get("problem"),
        problem_of=form.get("problem_of"),
        typed=form.get("typed", {}),
    )


@router.get("/operator/reviewers")
async def reviewers(request: Request, person: Signed) -> Response:
    may_operate(request, person)
    return await _reviewers_page(request)


@router.post("/operator/reviewers/{person_id}/profile")
async def set_profile(
    request: Request,
    person_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    organisation: Text = "",
    practice_areas: Many = (),  # none ticked: the profile says why it needs one
    capacity: Text = "",
    conflicts: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    store = services_of(request).store
    typed = {
        "organisation": organisation,
        "practice_areas": list(practice_areas),
        "capacity": capacity,
        "conflicts": conflicts,
    }

    async def refused(status: int, problem: view.Problem) -> Response:
        return await _reviewers_page(
            request, status=status, problem=problem, problem_of=person_id, typed=typed
        )

    try:
        profile = ReviewerProfile.model_validate(
            {
                "organisation": organisation.strip(),
                "practice_areas": list(practice_areas),
                "capacity": capacity.strip(),
                "conflicts": view.conflicts_typed(conflicts),
            }
        )
        await app_people.set_reviewer_profile(store, person_id, profile)
    except ValidationError as e:
        return await refused(
            422, view.invalid(say_to(request), e, _profile_fields(person_id, list(practice_areas)))
        )
    except app_people.UnknownPerson:
        raise _not_found(request, say_to(request).gettext("No person of that id is known.")) from None
    except errors.AppError as e:
        return await refused(_status(e), _said(request, e))
    return redirect(request, "/operator/reviewers")


# --- rounds ---------------------------------------------------------------------------------------


def _round_form(r: Round) -> view.RoundForm:
    return view.RoundForm(
        round_id=r.round_id,
        name=r.name,
        opens_on=r.opens_on.isoformat(),
        closes_on=r.closes_on.isoformat(),
        submission_deadline=r.submission_deadline.isoformat(),
        announcement_on=r.announcement_on.isoformat(),
        review_capacity=str(r.review_capacity),
    )


async def _rounds_page(request: Request, *, status: int = 200, **form: Any) -> Response:
    return render(
        request,
        "operator_rounds.html",
        status=status,
        rounds=await app_rounds.list_rounds(services_of(request).store),
        today=_today(request),
        typed=form.get("typed", view.RoundForm()),
        problem=form.get("problem"),
    )


@router.get("/operator/rounds")
async def rounds(request: Request, person: Signed) -> Response:
    may_operate(request, person)
    return await _rounds_page(request)


def _round_fields(typed: view.RoundForm) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": typed.name.strip() or None}
    for name in ("opens_on", "closes_on", "submission_deadline", "announcement_on"):
        fields[name] = getattr(typed, name).strip() or None
    fields["review_capacity"] = typed.review_capacity.strip() or None
    return fields


@router.post("/operator/rounds")
async def create_round(
    request: Request,
    person: Signed,
    csrf_token: FormToken = "",
    round_id: Text = "",
    name: Text = "",
    opens_on: Text = "",
    closes_on: Text = "",
    submission_deadline: Text = "",
    announcement_on: Text = "",
    review_capacity: Text = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    typed = view.RoundForm(
        round_id, name, opens_on, closes_on, submission_deadline, announcement_on, review_capacity
    )
    svc = services_of(request)
    try:
        command = CreateRound.model_validate({"round_id": round_id.strip(), **_round_fields(typed)})
        await app_rounds.create_round(
            svc.store, command, actor(person), now=svc.clock(), may_overlap=svc.settings.rounds_may_overlap
        )
    except ValidationError as e:
        return await _rounds_page(
            request, status=422, problem=view.invalid(say_to(request), e, ROUND_FIELDS), typed=typed
        )
    except errors.AppError as e:
        return await _rounds_page(request, status=_status(e), problem=_said(request, e), typed=typed)
    return redirect(request, "/operator/rounds")


async def _round_page(
    request: Request,
    round_id: str,
    *,
    status: int = 200,
    typed: view.RoundForm | None = None,
    problem: view.Problem | None = None,
) -> Response:
    try:
        record = await app_rounds.show_round(services_of(request).store, round_id)
    except app_rounds.UnknownRound:
        raise _not_found(request, say_to(request).gettext("No round of that id was created.")) from None
    return render(
        request,
        "operator_round.html",
        status=status,
        round=record.round,
        changes=record.changes,
        typed=typed or _round_form(record.round),
        announced=record.round.announced(_today(request)),
        problem=problem,
    )


@router.get("/operator/rounds/{round_id}")
async def show_round(request: Request, round_id: str, person: Signed) -> Response:
    may_operate(request, person)
    return await _round_page(request, round_id)


@router.post("/operator/rounds/{round_id}")
async def change_round(
    request: Request,
    round_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    name: Text = "",
    opens_on: Text = "",
    closes_on: Text = "",
    submission_deadline: Text = "",
    announcement_on: Text = "",
    review_capacity: Text = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    svc = services_of(request)
    try:
        current = _round_form(await app_rounds.find(svc.store, round_id))
    except app_rounds.UnknownRound:
        raise _not_found(request, say_to(request).gettext("No round of that id was created.")) from None
    typed = view.RoundForm(
        round_id, name, opens_on, closes_on, submission_deadline, announcement_on, review_capacity
    )
    was = _round_fields(current)
    # Only what the form changed: the round's other fields stay as they are.
    changed = {k: v for k, v in _round_fields(typed).items() if v != was[k]}
    if not changed:
        words = say_to(request).gettext("Nothing was changed: change a date, the name or the capacity.")
        return await _round_page(
            request, round_id, status=422, typed=typed, problem=view.said(words, lang=None)
        )
    try:
        command = ChangeRound.model_validate({"round_id": round_id, **changed})
        await app_rounds.change_round(
            svc.store, command, actor(person), now=svc.clock(), may_overlap=svc.settings.rounds_may_overlap
        )
    except ValidationError as e:
        return await _round_page(
            request, round_id, status=422, typed=typed, problem=view.invalid(say_to(request), e, ROUND_FIELDS)
        )
    except errors.AppError as e:
        return await _round_page(request, round_id, status=_status(e), typed=typed, problem=_said(request, e))
    return redirect(request, f"/operator/rounds/{round_id}")


# --- mail, health, tokens ----------------------------------------------------------------------------


@router.get("/operator/mail")
async def mail(request: Request, person: Signed, released: str = "") -> Response:
    may_operate(request, person)
    store = services_of(request).store
    return render(
        request,
        "operator_mail.html",
        outbox=await outbox(store),
        failed=await failures(store),
        statuses=view.DELIVERY_STATUSES,
        released=int(released) if released.isdigit() and len(released) < 10 else None,
    )


@router.post("/operator/mail/release")
async def release(request: Request, person: Signed, csrf_token: FormToken = "") -> Response:
    """Send the decisions' mail held for an operator's release (CITYCERT_MAIL_HOLD_DECISIONS), as
    `citycert mail release` does: every held delivery goes out on the relay's next round."""
    check_form(request, csrf_token)
    may_operate(request, person)
    count = await release_held(services_of(request).store)
    return redirect(request, f"/operator/mail?released={count}")


async def _health_page(
    request: Request,
    *,
    status: int = 200,
    report: dict[str, Any] | None = None,
    problem: view.Problem | None = None,
    restarted: str | None = None,
) -> Response:
    svc = services_of(request)
    try:
        try:
            running: set[str] | None = await running_city_workflows(svc.client)
        except RPCError as e:
            if e.status is not RPCStatusCode.UNIMPLEMENTED:
                raise
            running = set()  # a server without visibility (the test server): describe every city
        stopped = await stopped_workflows(svc.store, svc.client, running=running)
        workflows_problem = None
    except Exception as e:  # Temporal unreachable: the page says so rather than failing
        stopped, workflows_problem = [], str(e) or type(e).__name__
    return render(
        request,
        "operator_health.html",
        status=status,
        stopped=stopped,
        problem=problem,
        restarted=restarted,
        workflows_problem=workflows_problem,
        phases={p: say_to(request).gettext(w[0]) for p, w in PHASES.items()},
        report=report,
    )


@router.get("/operator/health")
async def health(request: Request, person: Signed) -> Response:
    may_operate(request, person)
    return await _health_page(request)


@router.get("/operator/health/restarted/{city_id}")
async def restarted(request: Request, city_id: str, person: Signed) -> Response:
    may_operate(request, person)
    # Only a city the store holds is named: the address is no way to put words on the page.
    known = is_city_id(city_id) and await readmodel.city_summary(services_of(request).store, city_id)
    return await _health_page(request, restarted=city_id if known else None)


@router.post("/operator/cities/{city_id}/workflow/restart")
async def restart_workflow(
    request: Request, city_id: str, person: Signed, csrf_token: FormToken = ""
) -> Response:
    """A new run of a stopped city workflow from the city's events folded, as `citycert workflow
    restart` starts one (the command service refuses a running or withdrawn city's)."""
    check_form(request, csrf_token)
    may_operate(request, person)
    try:
        await services_of(request).commands.restart(city_id, actor(person))
    except errors.UnknownCity:
        raise _not_found(
            request, say_to(request).gettext("No city of that id takes part in the programme.")
        ) from None
    except errors.AppError as e:
        return await _health_page(request, status=_status(e), problem=_said(request, e))
    return redirect(request, f"/operator/health/restarted/{city_id}")


@router.post("/operator/health/verify")
async def verify(request: Request, person: Signed, csrf_token: FormToken = "") -> Response:
    """The store's checks as `citycert verify` runs them: hash chains, version gaps, projections,
    every stream against the newest anchor, every document against its hash. It can be slow."""
    check_form(request, csrf_token)
    may_operate(request, person)
    from app.documents import verify_documents
    from runtime.anchors import anchor_destination
    from runtime.documents import document_store
    from runtime.keys import anchor_key

    svc = services_of(request)
    lines: list[str] = []
    try:
        latest = await asyncio.to_thread(
            lambda: anchor_destination(svc.settings).latest(anchor_key(svc.settings))
        )
    except Exception as e:  # an anchor that cannot be trusted or read is itself the finding
        latest = None
        lines.append(f"the newest anchor cannot be trusted or read: {e}")
    found = await svc.store.verify(latest[1] if latest else None)
    checked, documents = await verify_documents(svc.store, document_store(svc.settings))
    lines += found.lines()
    lines += [f"document {p.document_id} of {p.city_id}: {p.problem} ({p.location})" for p in documents]
    ok = found.ok and not documents and not (lines and lines[0].startswith("the newest anchor"))
    report = {
        "ok": ok,
        "lines": lines,
        "documents": checked,
        "anchor": str(latest[0]) if latest else None,
    }
    return await _health_page(request, report=report)


async def _tokens_page(request: Request, *, status: int = 200, **form: Any) -> Response:
    store = services_of(request).store
    return render(
        request,
        "operator_tokens.html",
        status=status,
        tokens=await app_tokens.list_tokens(store),
        now=await app_tokens.database_now(store),
        statuses=view.TOKEN_STATUSES,
        # The role in words, as the people page says it (the table had the API's role names).
        roles=dict(view.role_choices(say_to(request))),
        role_choices=view.role_choices(say_to(request)),
        issued=form.get("issued"),
        problem=form.get("problem"),
        typed=form.get("typed", {}),
    )


@router.get("/operator/tokens")
async def tokens(request: Request, person: Signed) -> Response:
    may_operate(request, person)
    return await _tokens_page(request)


@router.post("/operator/tokens")
async def create_token(
    request: Request,
    person: Signed,
    csrf_token: FormToken = "",
    role: Text = "",
    city_id: Text = "",
    name: Text = "",
) -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    svc = services_of(request)
    typed = {"role": role, "city_id": city_id, "name": name}
    try:
        issued = await app_tokens.issue_token(
            svc.store,
            role.strip(),
            city_id.strip() or None,
            name.strip() or None,
            lifetimes=svc.settings.token_lifetime_of,
        )
    except app_tokens.TokenError as e:
        words, lang = say_refusal(say_to(request), e.refusal)
        return await _tokens_page(request, status=422, problem=view.said(words, lang=lang), typed=typed)
    # The secret is on this answer only (never stored, never redirected to): the page says so.
    return await _tokens_page(request, status=201, issued=issued)


@router.post("/operator/tokens/{token_id}/revocation")
async def revoke(request: Request, token_id: str, person: Signed, csrf_token: FormToken = "") -> Response:
    check_form(request, csrf_token)
    may_operate(request, person)
    store = services_of(request).store
    await app_tokens.revoke_token(store, token_id)
    if await app_tokens.get_token(store, token_id) is None:
        raise _not_found(request, say_to(request).gettext("No token of that id was created."))
    return redirect(request, "/operator/tokens")
