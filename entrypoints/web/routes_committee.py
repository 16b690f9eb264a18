"""The committee's pages: the rounds, a round's board, deciding a city's level or its appeal,
designating the round's Honor Roll, and previewing the announcement before its date.

The board and the preview are for the committee and the operators (as the JSON API's round report
and preview are); the decisions are the committee's alone, checked here and again by the domain
(domain/authority.py). Every decision is the command the JSON API gives, through the same command
service (app/commands.py) or app/rounds.py: recorded, the board shows it; refused, the form shows
the domain's reason beside it. With htmx the form alone is replaced; without it, the whole page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError

from app import errors
from app import rounds as app_rounds
from app.announcements import load_announcement
from app.round_report import CityLog, RoundReport, build_round_report, round_city_logs
from domain import Actor
from domain import commands as cmd
from domain import events as ev
from domain.ids import TEXT_MAX
from domain.levels import Level
from domain.people import Person, PersonRole
from domain.rounds import DesignateHonorRoll, Round, is_round_id, round_recorded_as
from entrypoints.web.committee import CityCard, card, cycle_seen, levels_up_to, place_of, round_board
from entrypoints.web.dashboard import LEVELS
from entrypoints.web.fragments import keeps_parts, kept, kept_folds, read_version_early, version_of
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.pages import render, render_part
from entrypoints.web.refusals import form_words, in_words
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.session import PageError, language_of, load_session, services_of, session_in
from readmodel import city_state, city_stream

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_version_early), Depends(load_session)])

# The pages of a decision: the whole page, and its form alone (what htmx swaps).
LEVEL_FORM = ("committee_decision.html", "_committee_decide_level.html")
APPEAL_FORM = ("committee_appeal.html", "_committee_decide_appeal.html")
READERS = frozenset({PersonRole.COMMITTEE, PersonRole.OPERATOR})
NOT_CERTIFIED = "none"  # the decision form's value for "not certified"
Rationale = Annotated[str, Form(max_length=TEXT_MAX + 1000)]


# --- who may -----------------------------------------------------------------------------------


def may_read(request: Request, person: Person) -> None:
    if person.role not in READERS:
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("This page is for the committee"),
            _("Only the programme's standard committee and its operators see the round board."),
        )


def may_decide(request: Request, person: Person) -> None:
    if person.role is not PersonRole.COMMITTEE:
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("Only the committee decides"),
            _("The committee's members decide levels, appeals and the Honor Roll; you may read the board."),
        )


def actor(person: Person) -> Actor:
    return Actor(role="committee", id=person.id)


def _not_found(request: Request, what: str) -> PageError:
    _ = say_to(request).gettext
    words = {
        "round": _("No round of that id was created."),
        "city": _("No city of that id takes part in the programme."),
    }
    return PageError(404, _("Page not found"), words[what])


def _today(request: Request) -> date:
    return services_of(request).clock().astimezone(UTC).date()


async def _round(request: Request, round_id: str) -> Round:
    try:
        return await app_rounds.find(services_of(request).store, round_id)
    except app_rounds.UnknownRound:
        raise _not_found(request, "round") from None


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _after(request: Request, to: str) -> Response:
    """Recorded: htmx follows to the page that shows it; without script, a redirect."""
    if _is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": to})
    return redirect(request, to)


def _refusal(request: Request, e: errors.AppError) -> tuple[int, str, str | None]:
    """The status, the reason in the page's language, and the reason's language if not the page's."""
    status = 403 if isinstance(e, errors.Forbidden) else 422 if isinstance(e, errors.Invalid) else 409
    return status, *in_words(say_to(request), e)


# --- the rounds and a round's board --------------------------------------------------------------


@router.get("/committee")
async def rounds(request: Request, person: Signed) -> Response:
    may_read(request, person)
    found = await app_rounds.list_rounds(services_of(request).store)
    return render(request, "committee_rounds.html", rounds=found, today=_today(request))


BoardData = tuple[Round, RoundReport, list[CityLog]]
# A round's board data and its rendered cities, kept while no event is recorded
# (fragments.py): reading the round's cities' logs, building its report, shaping and rendering its
# 60-odd KB of cards is nearly all of the page's time (bench/pages.py). Their version is the
# log's and the hour, which the report's time in a running phase counts to; the cards'
# slot is the round, the language and whether the reader may decide (the committee's buttons).
# Nothing of the person is in them: their name and the sign-out form's token are in the page.
BOARDS_KEPT = 16


async def _version(request: Request) -> tuple[object, ...]:
    svc = services_of(request)
    hour = svc.clock().replace(minute=0, second=0, microsecond=0)
    return (await version_of(request), hour)


async def _board_data(request: Request, round_id: str, version: tuple[object, ...]) -> BoardData:
    async def read() -> BoardData:
        svc = services_of(request)
        the_round = await _round(request, round_id)
        names = the_round.recorded_as  # its id, and the cohorts of earlier data it adopted
        logs = await round_city_logs(svc.store, names, kept=kept_folds(request))
        policy, now = svc.settings.policy(), svc.clock()
        report = await asyncio.to_thread(
            build_round_report,
            round_id,
            logs,
            policy=policy,
            now=now,
            recorded_as=names,
            folds=kept_folds(request),
        )
        return the_round, report, logs

    return await kept(request, "board_data", BOARDS_KEPT).get(round_id, version, read)


@router.get("/committee/rounds/{round_id}")
@keeps_parts
async def board(request: Request, round_id: str, person: Signed) -> Response:
    may_read(request, person)
    version = await _version(request)
    language = language_of(request)
    may_act = person.role is PersonRole.COMMITTEE

    async def cards() -> tuple[str, Markup]:
        the_round, report, logs = await _board_data(request, round_id, version)

        def shape_and_render() -> Markup:
            shaped = round_board(report, logs, Speaker(language), the_round.recorded_as, kept_folds(request))
            return render_part(
                "_committee_board_body.html",
                language,
                round=the_round,
                board=shaped,
                announced=the_round.announced(_today(request)),
                may_act=may_act,
                designated=set(the_round.honor_roll.city_ids) if the_round.honor_roll else set(),
            )

        return the_round.name, await asyncio.to_thread(shape_and_render)

    slot = (round_id, language, may_act)
    name, body = await kept(request, "board_cards", BOARDS_KEPT * 6).get(slot, version, cards)
    return render(request, "committee_board.html", round_name=name, body=body)


# --- a city awaiting the committee ------------------------------------------------------------------


async def _city_card(request: Request, city_id: str) -> tuple[CityCard, str | None]:
    """The city's card from its latest cycle, and the round that cycle applied to."""
    store = services_of(request).store
    state = await city_state(store, city_id)
    if state is None:
        raise _not_found(request, "city")
    recorded = await store.read_stream(city_stream(city_id))
    events = [(r.occurred_at, cast(ev.DomainEvent, store.to_domain(r))) for r in recorded]
    seen = await asyncio.to_thread(cycle_seen, events, None)
    if seen is None:
        _ = say_to(request).gettext
        raise PageError(
            404, _("Nothing to decide"), _("{city} has not applied for certification.", city=state.name)
        )
    shaped = card(
        seen,
        city_id=city_id,
        name=state.name,
        region=state.region,
        country=state.country,
        phase=state.phase,
        say=say_to(request),
    )
    if state.cycle is None:
        return shaped, None
    # The round its cycle applied to (the cohort may be an earlier data's name the round adopted).
    return shaped, round_recorded_as(await app_rounds.all_rounds(store), seen.cycle.cohort)


async def _decision_page(
    request: Request,
    city_id: str,
    form: tuple[str, str],
    *,
    status: int = 200,
    errors_found: dict[str, str] | None = None,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    chosen: str = "",
    rationale: str = "",
) -> Response:
    shaped, round_id = await _city_card(request, city_id)
    return render(
        request,
        form[1] if _is_htmx(request) and status != 200 else form[0],
        status=status,
        city=shaped,
        round_id=round_id,
        levels=[
            (lv.value, say_to(request).gettext(LEVELS[lv.value]))
            for lv in levels_up_to(shaped.recommended_level)
        ],
        errors_found=errors_found or {},
        refusal=refusal,
        refusal_lang=refusal_lang,
        chosen=chosen,
        rationale=rationale,
        may_act=_role(request) is PersonRole.COMMITTEE,
    )


def _role(request: Request) -> PersonRole | None:
    session = session_in(request)
    return session.person.role if session else None


def _rationale_error(request: Request, rationale: str) -> str | None:
    _ = say_to(request).gettext
    if not rationale.strip():
        return _("Enter the committee's rationale")
    if len(rationale.strip()) > TEXT_MAX:
        return _("The rationale must be {n} characters or fewer", n=say_to(request).number(TEXT_MAX))
    return None


async def give(
    request: Request, city_id: str, command_of: Callable[[], cmd.HumanCommand], by: Actor
) -> tuple[int, str, str | None] | None:
    """Give the command (the committee's pages and the site visit's); None when recorded, else the
    status, the reason in the page's language, and the reason's language if not the page's."""
    try:
        command = command_of()
    except ValidationError as e:
        return 422, form_words(say_to(request), e), None
    try:
        await services_of(request).commands.give(city_id, command, by)
    except (errors.Refused, errors.Invalid, errors.Forbidden, errors.NotFound) as e:
        return _refusal(request, e)
    except errors.Unavailable:
        return 503, say_to(request).gettext("The service is unavailable. Try again soon."), None
    return None


@router.get("/committee/cities/{city_id}/decision")
async def decision_form(request: Request, city_id: str, person: Signed) -> Response:
    may_read(request, person)
    return await _decision_page(request, city_id, LEVEL_FORM)


@router.post("/committee/cities/{city_id}/decision")
async def decide_level(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    level: Annotated[str, Form(max_length=20)] = "",
    rationale: Rationale = "",
) -> Response:
    check_form(request, csrf_token)
    may_decide(request, person)
    _ = say_to(request).gettext
    page = LEVEL_FORM
    found: dict[str, str] = {}
    if level not in {*(lv.value for lv in Level), NOT_CERTIFIED}:
        found["level"] = _("Choose the level the committee decides, or not certified")
    if (wrong := _rationale_error(request, rationale)) is not None:
        found["rationale"] = wrong
    if found:
        return await _decision_page(
            request, city_id, page, status=422, errors_found=found, chosen=level, rationale=rationale
        )
    decided = None if level == NOT_CERTIFIED else Level(level)
    refused = await give(
        request, city_id, lambda: cmd.DecideLevel(level=decided, rationale=rationale), actor(person)
    )
    if refused is not None:
        status, words, lang = refused
        return await _decision_page(
            request,
            city_id,
            page,
            status=status,
            refusal=words,
            refusal_lang=lang,
            chosen=level,
            rationale=rationale,
        )
    round_id = (await _city_card(request, city_id))[1]
    return _after(request, f"/committee/rounds/{round_id}#city-{city_id}" if round_id else "/committee")


@router.get("/committee/cities/{city_id}/appeal-decision")
async def appeal_form(request: Request, city_id: str, person: Signed) -> Response:
    may_read(request, person)
    return await _decision_page(request, city_id, APPEAL_FORM)


@router.post("/committee/cities/{city_id}/appeal-decision")
async def decide_appeal(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    upheld: Annotated[str, Form(max_length=10)] = "",
    level: Annotated[str, Form(max_length=20)] = "",
    rationale: Rationale = "",
) -> Response:
    check_form(request, csrf_token)
    may_decide(request, person)
    _ = say_to(request).gettext
    page = APPEAL_FORM
    found: dict[str, str] = {}
    if upheld not in {"yes", "no"}:
        found["upheld"] = _("Choose whether the committee upholds the appeal or dismisses it")
    if level not in {"", *(lv.value for lv in Level)}:
        found["level"] = _("Choose a level the appeal grants, or none")
    if (wrong := _rationale_error(request, rationale)) is not None:
        found["rationale"] = wrong
    if found:
        return await _decision_page(
            request, city_id, page, status=422, errors_found=found, chosen=upheld, rationale=rationale
        )
    granted = Level(level) if level and upheld == "yes" else None
    refused = await give(
        request,
        city_id,
        lambda: cmd.DecideAppeal(upheld=upheld == "yes", level=granted, rationale=rationale),
        actor(person),
    )
    if refused is not None:
        status, words, lang = refused
        return await _decision_page(
            request,
            city_id,
            page,
            status=status,
            refusal=words,
            refusal_lang=lang,
            chosen=upheld,
            rationale=rationale,
        )
    round_id = (await _city_card(request, city_id))[1]
    return _after(request, f"/committee/rounds/{round_id}#city-{city_id}" if round_id else "/committee")


# --- the Honor Roll ----------------------------------------------------------------------------------


async def _honor_roll_page(
    request: Request,
    round_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    chosen: set[str] | None = None,
) -> Response:
    the_round, report, logs = await _board_data(request, round_id, await _version(request))
    say = say_to(request)
    shaped = await asyncio.to_thread(round_board, report, logs, say, the_round.recorded_as)
    designated = set(the_round.honor_roll.city_ids) if the_round.honor_roll else set()
    # Only the cities the Honor Roll's rule lets it name are offered (the rule still checks what is
    # ticked); the others of the round are said by why not, so none seems forgotten.
    standings = app_rounds.standings_of(report)
    candidates = [c for c in shaped.cards if standings.get(c.city_id) == "not_certified"]
    not_listed: dict[str, list[str]] = {}
    for c in shaped.cards:
        standing = standings.get(c.city_id)
        if standing is not None and standing != "not_certified":
            not_listed.setdefault(standing, []).append(c.place)
    # Named earlier (before the rule, or before an appeal gave a level): designating again leaves
    # them off, which the page says rather than offering a box the rule would refuse.
    held = []
    for city_id in sorted(designated - {c.city_id for c in candidates}):
        found = await city_state(services_of(request).store, city_id)
        held.append(place_of(found.name, found.region, found.country, say) if found else city_id)
    return render(
        request,
        "committee_honor_roll.html",
        status=status,
        round=the_round,
        candidates=candidates,
        not_listed=[
            (why, not_listed[why]) for why in ("certified", "undecided", "withdrawn") if why in not_listed
        ],
        held=held,
        checked=designated if chosen is None else chosen,
        margin=say.percent(report.honor_roll_margin),
        announced=the_round.announced(_today(request)),
        refusal=refusal,
        refusal_lang=refusal_lang,
    )


@router.get("/committee/rounds/{round_id}/honor-roll")
@keeps_parts
async def honor_roll_form(request: Request, round_id: str, person: Signed) -> Response:
    may_read(request, person)
    return await _honor_roll_page(request, round_id)


@router.post("/committee/rounds/{round_id}/honor-roll")
async def designate_honor_roll(
    request: Request,
    round_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    city_ids: Annotated[list[str], Form(max_length=300)] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    check_form(request, csrf_token)
    may_decide(request, person)
    await _round(request, round_id)
    chosen = set(city_ids)
    try:
        command = DesignateHonorRoll(round_id=round_id, city_ids=list(dict.fromkeys(city_ids)))
    except ValidationError as e:
        # The boxes name cities by id; a list the form could not have sent is said as the form's.
        words = form_words(
            say_to(request),
            e,
            {"city_ids": N_("Cities on the Honor Roll")},
            {"DesignateHonorRoll": say_to(request).gettext("Name each city once.")},
        )
        return await _honor_roll_page(request, round_id, status=422, refusal=words, chosen=chosen)
    svc = services_of(request)
    try:
        await app_rounds.designate_honor_roll(svc.store, command, actor(person), now=svc.clock())
    except (errors.Refused, errors.Invalid, errors.Forbidden) as e:
        status, words, lang = _refusal(request, e)
        return await _honor_roll_page(
            request, round_id, status=status, refusal=words, refusal_lang=lang, chosen=chosen
        )
    except errors.Unavailable:
        words = say_to(request).gettext("The service is unavailable. Try again soon.")
        return await _honor_roll_page(request, round_id, status=503, refusal=words, chosen=chosen)
    return redirect(request, f"/committee/rounds/{round_id}#honor-roll")


# --- the announcement's preview ------------------------------------------------------------------------


@router.get("/committee/rounds/{round_id}/announcement")
async def announcement_preview(request: Request, round_id: str, person: Signed) -> Response:
    may_read(request, person)
    if not is_round_id(round_id):
        raise _not_found(request, "round")
    svc = services_of(request)
    try:
        announcement = await load_announcement(
            svc.store, round_id, rule=svc.settings.late_awards, today=_today(request)
        )
    except app_rounds.UnknownRound:
        raise _not_found(request, "round") from None
    levels = [
        (lv, say_to(request).gettext(LEVELS[lv.value])) for lv in sorted(Level, key=lambda lv: -lv.rank)
    ]
    return render(
        request,
        "committee_announcement.html",
        announcement=announcement,
        levels=levels,
        level_words=dict(levels),
    )
