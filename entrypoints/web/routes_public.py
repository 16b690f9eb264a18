"""The public's pages, with no sign-in: the directory of certified cities with each one's page, a
certificate's verification, and the announced rounds with each one's announcement.

Each page reads exactly what its JSON under /public/ reads, through the same functions: the
directory from the same in-memory cache of public certificates (app/public_cache.py), a
certificate through `load_certificate` with the same `visible_on` (the rounds' embargo), a city's
page through the same `public_city` over the same rows as /public/cities/{id}, an
announcement through the same `published_announcement` (one 404 for an unknown round and for one
under embargo), all by the services' clock. So a page and its JSON never disagree.

No session is loaded and no cookie set (but the language the visitor chose): a public page is the
same for everyone in one language, and carries nothing of the visitor.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from app import directory as d
from app import rounds as app_rounds
from app.announcements import published_announcement
from app.public_cache import cache_of
from domain.ids import is_city_id
from domain.rounds import Round, announced_in, is_round_id, round_recorded_as
from entrypoints.web.fragments import kept, version_of
from entrypoints.web.i18n import Speaker
from entrypoints.web.pages import render, render_part
from entrypoints.web.public import (
    announcement_sections,
    certificate_view,
    city_view,
    counts_words,
    directory_choices,
    directory_rows,
    read_filter,
)
from entrypoints.web.routes import say_to
from entrypoints.web.session import PageError, language_of, services_of
from readmodel.directory import AwardRow, certificates_of_number, issued_certificates

router = APIRouter(include_in_schema=False)


def cached(request: Request, response: Response, *, shared: bool) -> Response:
    """The caching its JSON has: a directory or an announcement kept by any cache for
    CITYCERT_PUBLIC_MAX_AGE (an announcement day's readers), a certificate revalidated every time
    (a revoked one must never show valid). Each language is its own copy (Vary); a page that sets a
    cookie (the language switch) is kept by no one."""
    if "set-cookie" in response.headers:
        return response
    max_age = int(services_of(request).settings.public_max_age.total_seconds())
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if shared else "no-cache"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@router.get("/directory")
async def directory_page(request: Request) -> Response:
    """The cities certified now, filtered by the form's choices (a GET form: the page's address
    names the filter, to keep or share)."""
    svc = services_of(request)
    say = say_to(request)
    asked, where, errors = read_filter(request.query_params, say)
    certificates = await cache_of(request.app.state, svc).certificates()
    found = d.directory(certificates, "", where)
    page = render(
        request,
        "public_directory.html",
        status=422 if errors else 200,
        asked=asked,
        choices=directory_choices(certificates, say),
        errors_found=errors,
        filtered=any(asked.values()) and not errors,
        rows=directory_rows(found, say),
    )
    return cached(request, page, shared=not errors)


# A certificate's verification is the same for every reader of a language: its part of the page
# is kept (fragments.py) by number and language, at the log's version and the day in UTC (what
# the embargo and the validity shown count in), and only until the moment the clock alone would
# change what it says (its city's next certificate end), so a revoked or suspended certificate shows
# so on the next request (an event) and an expired one from the second it ends.
CERTIFICATES_KEPT = 512


@dataclass(frozen=True, slots=True)
class _Verification:
    number: str
    body: Markup
    until: datetime | None  # when the clock alone makes it untrue; None: not before the day ends


@router.get("/certificates/{number}")
async def certificate_page(number: str, request: Request) -> Response:
    """A certificate's verification: its status first and plainly, then its facts, its signed
    credential (while in force) and the programme's key to check it with."""
    svc = services_of(request)
    now = svc.clock()
    today = now.astimezone(UTC).date()
    language = language_of(request)

    async def verification() -> _Verification:
        # The rounds and the certificate are read at once, on two pooled connections (one round
        # trip's wait, not three: visible_on and the round's name would each read the rounds);
        # what is shown is what load_certificate shows, by the same functions.
        rounds, (awards, holdings) = await asyncio.gather(
            app_rounds.list_rounds(svc.store), certificates_of_number(svc.store, number.upper())
        )
        visible = d.announced(rounds, today=today, rule=svc.settings.late_awards)
        found = d.certificate_numbered(
            d.public_certificates(awards, holdings, now=now, visible=visible), number
        )
        if found is None:
            _ = say_to(request).gettext
            raise PageError(
                404,
                _("Certificate not found"),
                _(
                    "No certificate is numbered {number}. Check the number as the certificate shows it, "
                    "such as CC-2026-LAKESIDE-2.",
                    number=number,
                ),
            )
        owner = round_recorded_as(rounds, found.round)
        its_round = next((r for r in rounds if r.round_id == owner), None)
        view = certificate_view(found, Speaker(language), its_round=its_round, today=today)
        ends = [a.valid_until for a in awards if a.valid_until > now]
        body = render_part("_public_certificate_body.html", language, certificate=view)
        return _Verification(found.number, body, min(ends, default=None))

    slots = kept(request, "certificates", CERTIFICATES_KEPT)
    slot, version = (number.upper(), language), (await version_of(request), today)
    shown = await slots.get(slot, version, verification)
    if shown.until is not None and now >= shown.until:  # kept before one of its city's ended
        slots.drop(slot)
        shown = await slots.get(slot, version, verification)
    page = render(request, "public_certificate.html", number=shown.number, body=shown.body)
    return not_modified_or(request, cached(request, page, shared=False))


def not_modified_or(request: Request, page: Response) -> Response:
    """The page with its ETag (its bytes' digest), or 304 Not Modified when the reader holds
    those bytes already (If-None-Match). A page setting a cookie is answered whole."""
    if page.status_code != 200 or "set-cookie" in page.headers:
        return page
    tag = '"' + hashlib.sha256(bytes(page.body)).hexdigest()[:32] + '"'
    page.headers["ETag"] = tag
    asked = request.headers.get("if-none-match", "")
    if tag in {t.strip().removeprefix("W/") for t in asked.split(",")}:
        kept_headers = {
            k: v for k, v in page.headers.items() if k.lower() not in {"content-length", "content-type"}
        }
        return Response(status_code=304, headers=kept_headers)
    return page


@router.get("/rounds")
async def announced_rounds(request: Request) -> Response:
    """The rounds whose announcement is public, the latest first (never one under embargo)."""
    svc = services_of(request)
    today = svc.clock().astimezone(UTC).date()
    shown = [r for r in await app_rounds.list_rounds(svc.store) if r.announced(today)]
    return cached(request, render(request, "public_rounds.html", rounds=shown), shared=True)


@router.get("/rounds/{round_id}")
async def round_page(round_id: str, request: Request) -> Response:
    """A round's announcement: its sections and Honor Roll; not found before its date, exactly as
    /public/rounds/{id}/announcement.json."""
    svc = services_of(request)
    today = svc.clock().astimezone(UTC).date()
    try:
        if not is_round_id(round_id):  # an id no round could have is never looked up
            raise app_rounds.UnknownRound(round_id)
        announcement = await published_announcement(
            svc.store, round_id, rule=svc.settings.late_awards, today=today
        )
    except app_rounds.UnknownRound:
        _ = say_to(request).gettext
        raise PageError(
            404,
            _("Announcement not found"),
            _("No announcement of round {round_id} is published.", round_id=round_id),
        ) from None
    say = say_to(request)
    page = render(
        request,
        "public_round.html",
        announcement=announcement,
        sections=announcement_sections(announcement, say),
        counts=counts_words(announcement, say),
    )
    return cached(request, page, shared=True)


@router.get("/directory/{city_id}")
async def city_page(city_id: str, request: Request) -> Response:
    """A certified city's page: the certificate it holds now, its past certifications and the
    rounds whose announcement named it; read afresh, as its JSON (/public/cities/{id}), so a
    revoked certificate never shows valid. A city never certified, or whose award is still under
    embargo, is not found, as there."""
    svc = services_of(request)
    now = svc.clock()
    today = now.astimezone(UTC).date()
    rule = svc.settings.late_awards
    city = None
    awards: list[AwardRow] = []
    rounds: list[Round] = []
    if is_city_id(city_id):  # an id no city could have is never looked up
        rounds = await app_rounds.list_rounds(svc.store)
        awards, holdings = await issued_certificates(svc.store, city_id=city_id)
        # The embargo as app.directory.visible_on decides it, on the rounds read once.
        visible = d.announced(rounds, today=today, rule=rule)
        city = d.public_city(d.public_certificates(awards, holdings, now=now, visible=visible), city_id)
    if city is None:
        _ = say_to(request).gettext
        raise PageError(
            404,
            _("City not found"),
            _(
                "No certified city has the id {city_id}. The directory lists every certified city.",
                city_id=city_id,
            ),
        )
    by_id = {r.round_id: r for r in rounds}

    def owner(cohort: str) -> Round | None:
        found = round_recorded_as(rounds, cohort)
        return by_id.get(found) if found is not None else None

    rounds_of = {c.round: r for c in city.certificates if (r := owner(c.round)) is not None}
    # The round whose announcement named each award (domain.rounds.announced_in, a late award in
    # the next announcement by the programme's rule); none for an imported one or a cohort that
    # is no round.
    announced_by: dict[str, Round] = {}
    for award in awards:
        its = owner(award.round_id)
        if award.outcome == "imported" or its is None:
            continue
        named = announced_in(award.decided_at.astimezone(UTC).date(), its.round_id, rounds, rule)
        if named is not None:
            announced_by[award.certificate_number] = by_id[named]
    view = city_view(city, say_to(request), rounds_of=rounds_of, announced_by=announced_by, today=today)
    return cached(request, render(request, "public_city.html", city=view), shared=False)
