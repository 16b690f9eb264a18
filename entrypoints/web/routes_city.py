"""The signed-in home, and a city's pages for its staff: the dashboard, and closing the submission.

An action is a command given through the command service (app/commands.py), as the JSON API
gives it: recorded, the page shows the city as it now is; refused, the form shows the domain's
reason beside it. With htmx the form alone is replaced; without it, the whole page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

import readmodel
from app import errors
from domain import Actor
from domain import commands as cmd
from domain.people import Person, PersonRole
from entrypoints.web.dashboard import dashboard
from entrypoints.web.fragments import keeps_parts, kept, read_version_early, version_of
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.pages import render, render_part
from entrypoints.web.refusals import in_words
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.session import PageError, language_of, load_session, services_of, session_in
from readmodel.questions import open_questions

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_version_early), Depends(load_session)])

ROLE_WORDS = {
    PersonRole.REVIEWER: N_("You review cities' evidence for the programme."),
    PersonRole.COMMITTEE: N_("You sit on the programme's standard committee."),
    PersonRole.OPERATOR: N_("You run the programme."),
    PersonRole.CITY: N_("You work for a city taking part in the programme."),
}


@router.get("/home")
async def home(request: Request, person: Signed) -> Response:
    """Each role's start page: city staff their city's dashboard, reviewers their queue, the
    committee its rounds, operators theirs; a person of no page (city staff with no city) is told
    their role."""
    if person.role is PersonRole.CITY and person.city_id:
        return redirect(request, f"/cities/{person.city_id}")
    if person.role is PersonRole.REVIEWER:
        return redirect(request, "/review")
    if person.role is PersonRole.COMMITTEE:
        return redirect(request, "/committee")
    if person.role is PersonRole.OPERATOR:
        return redirect(request, "/operator")
    return render(request, "role_home.html", role_words=say_to(request).gettext(ROLE_WORDS[person.role]))


def may_see(request: Request, person: Person, city_id: str) -> None:
    """A city's staff see their own city; operators and the committee any; reviewers none here."""
    _ = say_to(request).gettext
    if person.role is PersonRole.CITY and person.city_id != city_id:
        raise PageError(
            403,
            _("You cannot see this city's pages"),
            _("You work for another city: only its own staff and the programme see a city's pages."),
        )
    if person.role is PersonRole.REVIEWER:
        raise PageError(
            403,
            _("You cannot see this city's pages"),
            _("Reviewers see a city's evidence from their queue, once they declare no conflict with it."),
        )


@dataclass(frozen=True, slots=True)
class KeptBoard:
    """A city's dashboard as kept for a language: all of it but the form, which carries a token."""

    city_name: str
    board: Markup  # the phase, the certification, what is asked
    waiting: Markup  # what others are doing
    may_close_submission: bool


# A city's dashboard, rendered once per version of the log (fragments.py) in its slot: the city and
# the language. Reading its state and open questions was a round trip per page (bench/pages.py);
# whether the reader may act (the role) and their token are the page's, rendered each time.
BOARDS_KEPT = 512


async def kept_board(request: Request, city_id: str) -> KeptBoard:
    store = services_of(request).store
    language = language_of(request)

    async def read() -> KeptBoard:
        state = await readmodel.city_state(store, city_id)
        if state is None:
            _ = say_to(request).gettext
            raise PageError(404, _("Page not found"), _("No city of that id takes part in the programme."))
        questions = await open_questions(store, state)
        board = dashboard(state, questions, Speaker(language))
        shown = {"city_id": city_id, "city_name": state.name, "board": board}
        return KeptBoard(
            state.name,
            render_part("_dashboard_board.html", language, **shown),
            render_part("_dashboard_waiting.html", language, **shown),
            board.may_close_submission,
        )

    return await kept(request, "city_dashboards", BOARDS_KEPT).get(
        (city_id, language), await version_of(request), read
    )


async def dashboard_page(
    request: Request,
    city_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    partial: bool = False,
) -> Response:
    kept_one = await kept_board(request, city_id)
    return render(
        request,
        "_close_submission.html" if partial else "dashboard.html",
        status=status,
        city_id=city_id,
        city_name=kept_one.city_name,
        board=kept_one.board,
        waiting=kept_one.waiting,
        may_close_submission=kept_one.may_close_submission,
        refusal=refusal,
        refusal_lang=refusal_lang,
        may_act=session_role(request) is PersonRole.CITY,
    )


def session_role(request: Request) -> PersonRole | None:
    session = session_in(request)
    return session.person.role if session else None


@router.get("/cities/{city_id}")
@keeps_parts
async def city_dashboard(request: Request, city_id: str, person: Signed) -> Response:
    may_see(request, person, city_id)
    return await dashboard_page(request, city_id)


@router.post("/cities/{city_id}/submission/close")
async def close_submission(
    request: Request,
    city_id: str,
    person: Signed,
    csrf_token: FormToken = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_form(request, csrf_token)
    may_see(request, person, city_id)
    partial = request.headers.get("hx-request") == "true"
    _ = say_to(request).gettext
    if person.role is not PersonRole.CITY:
        raise PageError(
            403, _("You cannot close this submission"), _("Only the city's own staff close its submission.")
        )
    if confirmed != "yes":
        refusal = _("Confirm that the city has submitted all the evidence it claims.")
        return await dashboard_page(request, city_id, status=422, refusal=refusal, partial=partial)
    try:
        await services_of(request).commands.give(
            city_id, cmd.CloseEvidenceSubmission(), Actor(role="city", id=person.id)
        )
    except (errors.Refused, errors.Invalid, errors.Forbidden) as e:
        # The domain's reason, in the page's language (refusals.py).
        status = 403 if isinstance(e, errors.Forbidden) else 422 if isinstance(e, errors.Invalid) else 409
        words, lang = in_words(say_to(request), e)
        return await dashboard_page(
            request, city_id, status=status, refusal=words, refusal_lang=lang, partial=partial
        )
    except errors.Unavailable:
        refusal = _("The service is unavailable. Try again soon.")
        return await dashboard_page(request, city_id, status=503, refusal=refusal, partial=partial)
    if partial:
        # The whole page changes (the phase, what is asked): htmx follows with a full load.
        return Response(status_code=204, headers={"HX-Redirect": f"/cities/{city_id}"})
    return redirect(request, f"/cities/{city_id}")
