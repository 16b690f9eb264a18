"""Rendering a page: the Jinja2 templates beside this file, in the visitor's language, with the
headers every page carries.

Every page gets `_` (the words), `ngettext`, `say` (dates and numbers), `lang`, the language switch,
the signed-in person (if any) and the CSRF token of its forms. Templates autoescape everything.

A part of a page that is costly to render and the same for many people (pages.render_part) gets the
words of a language and nothing of the person: fragments.py keeps it, and the page around it puts
it in as it is. The templates are read and compiled once per process (a template edited is served
after a restart, as a catalog is).
"""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from entrypoints.web.i18n import LANGUAGES, NAMES, Speaker
from entrypoints.web.session import (
    LANGUAGE_COOKIE,
    csrf_token_of,
    language_of,
    queue_cookie,
    session_in,
    set_cookies,
)

templates = Environment(
    loader=PackageLoader("entrypoints.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt variable fails the test that renders it, not silently
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # no look at each template's file on every render
)

# No script but ours, no frames, no Referer (a sign-in link's address carries its secret).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def switch_links(request: Request) -> list[dict[str, str]]:
    """The language switch: this page in each language (its query kept, the language replaced)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        {
            "code": code,
            "name": NAMES[code],
            "href": f"{request.url.path}?{urlencode([*kept, ('lang', code)])}",
        }
        for code in LANGUAGES
    ]


class Part(Markup):
    """A kept part of a page (render_part's): its HTML, and its UTF-8 bytes once asked for, kept
    with it. A page around it is rendered with a mark where it goes and the bytes put in there:
    the part is neither copied into the page's text nor encoded again on each request (the round
    board's 67 KB were a tenth of its page's time, bench/pages.py)."""

    @cached_property
    def encoded(self) -> bytes:
        return str.encode(self)


# Where a part goes in a page being rendered; its number follows. Random per process, so that no
# text a person wrote can be taken for one.
_PART_MARK = f"\x00part-{secrets.token_hex(8)}-"


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    language = language_of(request)
    speaker = Speaker(language)
    session = session_in(request)
    parts: list[tuple[bytes, bytes]] = []
    for name, value in context.items():
        if isinstance(value, Part):
            where = f"{_PART_MARK}{len(parts)}\x00"
            parts.append((where.encode(), value.encoded))
            context[name] = Markup(where)
    body = templates.get_template(template).render(
        _=speaker.gettext,
        ngettext=speaker.ngettext,
        say=speaker,
        lang=language,
        languages=switch_links(request),
        person=session.person if session else None,
        csrf_token=csrf_token_of(request),
        **context,
    )
    encoded = body.encode()
    for mark, part in parts:
        encoded = encoded.replace(mark, part)
    response = HTMLResponse(encoded, status_code=status, headers=SECURITY_HEADERS)
    if "lang" in request.query_params and request.query_params["lang"] in LANGUAGES:
        # The visitor chose: remember it for the next pages (a year; it names nobody).
        queue_cookie(request, LANGUAGE_COOKIE, language, 365 * 24 * 3600)
    set_cookies(request, response)
    return response


def render_part(template: str, language: str, **context: Any) -> Part:
    """A part of a page in `language`, from `context` alone: no person, no CSRF token, no request,
    so that what it renders may be kept and given to anyone its context is the same for."""
    speaker = Speaker(language)
    # The environment autoescaped what went in: this is its output, safe to put in as it is.
    return Part(
        templates.get_template(template).render(
            _=speaker.gettext, ngettext=speaker.ngettext, say=speaker, lang=language, **context
        )
    )
