"""The signed-in home, and a city's pages for its staff: the dashboard, and closing the submission.

An action is a command given through the command service (app/commands.py), as the JSON API
gives it: recorded, the page shows the city as it now is; refused, the form shows the domain's
reason beside it. With htmx the form alone is replaced; without it, the whole page comes back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

import readmodel
from app import errors
from domain import Actor
from domain import commands as cmd
from domain.people import Person, PersonRole
from entrypoints.web.dashboard import dashboard
from entrypoints.web.i18n import N_
from entrypoints.web.pages import render
from entrypoints.web.refusals import in_words
from entrypoints.web.routes import FormToken, Signed, check_form, redirect, say_to
from entrypoints.web.session import PageError, load_session, services_of, session_in
from readmodel.questions import open_questions

router = APIRouter(include_in_schema=False, dependencies=[Depends(load_session)])

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


async def dashboard_page(
    request: Request,
    city_id: str,
    *,
    status: int = 200,
    refusal: str | None = None,
    refusal_lang: str | None = None,
    partial: bool = False,
) -> Response:
    store = services_of(request).store
    state = await readmodel.city_state(store, city_id)
    if state is None:
        _ = say_to(request).gettext
        raise PageError(404, _("Page not found"), _("No city of that id takes part in the programme."))
    questions = await open_questions(store, state)
    return render(
        request,
        "_close_submission.html" if partial else "dashboard.html",
        status=status,
        city_id=city_id,
        city_name=state.name,
        board=dashboard(state, questions, say_to(request)),
        refusal=refusal,
        refusal_lang=refusal_lang,
        may_act=session_role(request) is PersonRole.CITY,
    )


def session_role(request: Request) -> PersonRole | None:
    session = session_in(request)
    return session.person.role if session else None


@router.get("/cities/{city_id}")
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
