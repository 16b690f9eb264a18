"""The portal's sign-in pages: the form, the e-mailed link's landing, sign-out; and what every
page module shares (redirects, the CSRF check, the signed-in person).

Every page loads the session first (session.load_session). Every POST checks its form's CSRF token
before anything else. None of these routes is in the API's OpenAPI document.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import AppError, Unavailable
from app.sign_in import (
    ConfirmFirst,
    Limits,
    LinkRefused,
    TooManySignInRequests,
    end_session,
    opening,
    request_link,
    start_session,
)
from domain.people import Person
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.pages import SECURITY_HEADERS, render
from entrypoints.web.session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    PageError,
    csrf_ok,
    key_of,
    language_of,
    load_session,
    queue_cookie,
    services_of,
    session_in,
    set_cookies,
    sign_in_nonce,
)
from runtime.settings import Settings

router = APIRouter(include_in_schema=False, dependencies=[Depends(load_session)])

MAX_EMAIL = 254
LINK_REFUSALS = {
    "unknown": (404, N_("This link is not one we sent. Check that you copied the whole link.")),
    "used": (410, N_("This link was used already. Each link works once.")),
    "expired": (410, N_("This link has expired. A link works for a short time only.")),
}


def say_to(request: Request) -> Speaker:
    return Speaker(language_of(request))


def redirect(request: Request, to: str) -> Response:
    response = RedirectResponse(to, status_code=303, headers=SECURITY_HEADERS)
    set_cookies(request, response)
    return response


def check_form(request: Request, token: str) -> None:
    if not csrf_ok(request, token):
        _ = say_to(request).gettext
        raise PageError(
            403,
            _("This form cannot be sent"),
            _("The form expired or did not come from this site. Go back, reload the page and try again."),
        )


def signed_in(request: Request) -> Person:
    session = session_in(request)
    if session is None:
        raise PageError(
            401,
            say_to(request).gettext("Sign in first"),
            say_to(request).gettext("This page is for people signed in. Ask for a sign-in link first."),
        )
    return session.person


Signed = Annotated[Person, Depends(signed_in)]
FormToken = Annotated[str, Form(max_length=200)]


# --- sign in --------------------------------------------------------------------------------------


@router.get("/")
async def start(request: Request) -> Response:
    if session_in(request) is not None:
        return redirect(request, "/home")
    return render(request, "sign_in.html", email="", error=None)


@router.post("/sign-in")
async def ask_for_link(
    request: Request,
    csrf_token: FormToken = "",
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_form(request, csrf_token)
    say = say_to(request)
    address = email.strip()
    if not address:
        error = say.gettext("Enter your e-mail address")
    elif len(address) > MAX_EMAIL or "@" not in address.strip("@") or any(c.isspace() for c in address):
        error = say.gettext("Enter an e-mail address in the right form, like name@city.gov")
    else:
        error = None
    if error is not None:
        return render(request, "sign_in.html", status=422, email=address, error=error)
    svc = services_of(request)
    settings = svc.settings
    minutes = int(settings.sign_in_window.total_seconds() // 60)
    # The link is bound to this browser's nonce, given whether the address is known or not (the
    # answer says nothing of it), and kept if it has one: two links asked for here both work here.
    nonce = sign_in_nonce(request) or secrets.token_urlsafe(24)
    queue_cookie(request, SIGN_IN_COOKIE, nonce, int(settings.sign_in_link_lifetime.total_seconds()))
    try:
        await request_link(
            svc.store,
            address,
            # Behind a proxy this is the proxy's address unless uvicorn is told to trust its
            # X-Forwarded-For (--proxy-headers, --forwarded-allow-ips).
            client=request.client.host if request.client else "unknown",
            key=key_of(request),
            portal_url=portal_url(settings),
            lifetime=settings.sign_in_link_lifetime,
            limits=Limits(settings.sign_in_window, settings.sign_in_per_address, settings.sign_in_per_client),
            browser=nonce,
        )
    except TooManySignInRequests:
        return render(request, "too_many.html", status=429, minutes=minutes)
    except AppError as e:
        raise _unavailable(request, e) from None
    lifetime = int(settings.sign_in_link_lifetime.total_seconds() // 60)
    return render(request, "check_email.html", email=address, minutes=lifetime)


@router.get("/sign-in/link")
async def link_landing(request: Request, token: str = "") -> Response:
    """Opening the link uses nothing (a mail scanner may fetch it): in the browser that asked for it,
    a page that goes on by itself; in another, a question naming the account, answered by a button."""
    if not token or len(token) > 200:
        return _refused(request, "unknown")
    try:
        found = await opening(services_of(request).store, token, browser=sign_in_nonce(request))
    except LinkRefused as e:
        return _refused(request, e.reason)
    except AppError as e:
        raise _unavailable(request, e) from None
    if not found.same_browser:
        return render(request, "confirm_sign_in.html", token=token, shown=found.shown)
    return render(request, "landing.html", token=token)


@router.post("/sign-in/link")
async def use_link(
    request: Request,
    csrf_token: FormToken = "",
    token: Annotated[str, Form(max_length=200)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_form(request, csrf_token)
    svc = services_of(request)
    settings = svc.settings
    try:
        started = await start_session(
            svc.store,
            token,
            idle=settings.session_idle,
            lifetime=settings.session_lifetime,
            browser=sign_in_nonce(request),
            confirmed=confirmed == "yes",
        )
    except LinkRefused as e:
        return _refused(request, e.reason)
    except ConfirmFirst as e:
        return render(request, "confirm_sign_in.html", token=token, shown=e.shown)
    except AppError as e:
        raise _unavailable(request, e) from None
    earlier = request.cookies.get(SESSION_COOKIE)
    if earlier:
        await end_session(svc.store, earlier)
    queue_cookie(request, SESSION_COOKIE, started.secret, int(settings.session_lifetime.total_seconds()))
    return redirect(request, "/home")


def portal_url(settings: Settings) -> str:
    """Where mailed links point: CITYCERT_PUBLIC_URL, else the address the API serves on. Never the
    request's Host header: anyone may send one, and a link mailed to someone else pointing at the
    sender's host would hand them its secret."""
    return settings.public_base_url


def _refused(request: Request, reason: str) -> Response:
    status, words = LINK_REFUSALS.get(reason, LINK_REFUSALS["unknown"])
    return render(request, "link_refused.html", status=status, reason=say_to(request).gettext(words))


@router.post("/sign-out")
async def sign_out(request: Request, csrf_token: FormToken = "") -> Response:
    check_form(request, csrf_token)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await end_session(services_of(request).store, secret)
    request.state.session = None
    response = render(request, "signed_out.html")
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
    return response


def _unavailable(request: Request, error: AppError) -> PageError:
    _ = say_to(request).gettext
    if isinstance(error, Unavailable):
        return PageError(
            503, _("Sorry, there is a problem"), _("The service is unavailable. Try again soon.")
        )
    return PageError(500, _("Sorry, there is a problem"), _("Something went wrong. Try again later."))
