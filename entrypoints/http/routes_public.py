"""What anyone may read, with no token: a certificate's verification (JSON under /public/, and a
plain page at /certificates/{number}), a certified city's page, the directory of certified cities,
and the programme's certifications as open data with their data dictionary and DCAT description.
A certificate appears once the round announcing its award is announced (`visible`), never before.

All of it is read from the projections (readmodel/directory.py), never from Temporal. The directory
and the open data are the same for every reader, so on an announcement day they are served from
memory: `PublicCache` reads the certificates at most once per CITYCERT_PUBLIC_CACHE_FOR (5 s; the
readers arriving while one read runs wait for it rather than start their own), renders each body
once per read, and answers its ETag's holders 304. It stays correct by age alone: nothing is kept
longer than that, and readers' caches are told CITYCERT_PUBLIC_MAX_AGE (60 s), so a change (an
award, a revocation) reaches every reader within the sum of the two. A certificate's verification
is read afresh each time (one city's rows): a revoked certificate must never be shown valid.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import directory as d
from app.rounds import list_rounds
from app.services import Services
from domain.ids import is_city_id
from domain.levels import Level
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Problem
from entrypoints.http.openapi import answers
from entrypoints.http.services import services


async def if_none_match(
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            description="ETags the reader holds: 304, with no body, when the body's is among them",
        ),
    ] = None,
) -> None:
    """Declared so the document names the header; `_answer` reads it."""


@answers(503)
async def public_services(request: Request) -> Services:
    """The services (503 while the API starts). Every dependency here is a coroutine: FastAPI runs
    a plain function's in a worker thread, and that hop cost more than the rest of a cached answer."""
    return services(request)


Svc = Annotated[Services, Depends(public_services)]


router = APIRouter(prefix="/public", tags=["public"], dependencies=[Depends(if_none_match)])
pages = APIRouter(include_in_schema=False)

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
JSON_LD = "application/ld+json"
RENDERED_KEPT = 256  # bodies kept per read: one per filter combination asked, bounded
NumberPath = Annotated[str, Path(description="The certificate's number, e.g. CC-2026-LAKESIDE-2")]


async def visible(svc: Services, now: datetime) -> d.Visible:
    """Which certificates the public may see on this day: those whose award a round has announced
    (the programme's rounds, its late-award rule), by the services' clock as the announcements."""
    today = now.astimezone(UTC).date()
    return d.announced(await list_rounds(svc.store), today=today, rule=svc.settings.late_awards)


# --- the cache -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    content: bytes
    media_type: str
    etag: str


def body(content: str | bytes, media_type: str) -> Body:
    raw = content.encode() if isinstance(content, str) else content
    return Body(raw, media_type, f'"{hashlib.sha256(raw).hexdigest()[:32]}"')


class PublicCache:
    """The public certificates of one read, and the bodies rendered from it, for `keep_for`
    seconds (0: read every time)."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[d.PublicCertificate]]],
        keep_for: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._keep_for = keep_for
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self._certificates: list[d.PublicCertificate] = []
        self._bodies: dict[tuple[Any, ...], Body] = {}
        self.reads = 0  # how many times the projections were read (for the benchmark's report)

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self._keep_for

    async def certificates(self) -> list[d.PublicCertificate]:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another reader may have read while this one waited
                    self._certificates = await self._load()
                    self._bodies = {}
                    self._read_at = self._clock()
                    self.reads += 1
        return self._certificates

    async def body(self, key: tuple[Any, ...], render: Callable[[list[d.PublicCertificate]], Body]) -> Body:
        certificates = await self.certificates()
        found = self._bodies.get(key)
        if found is None:
            found = render(certificates)
            if len(self._bodies) >= RENDERED_KEPT:
                self._bodies.pop(next(iter(self._bodies)))  # the oldest
            self._bodies[key] = found
        return found


async def public_cache(request: Request, svc: Svc) -> PublicCache:
    """The app's cache (made on its first public read: no await in between, so one per app)."""
    found: PublicCache | None = getattr(request.app.state, "public_cache", None)
    if found is None:

        async def load() -> list[d.PublicCertificate]:
            now = svc.clock()
            return await d.load_public_certificates(svc.store, now=now, visible=await visible(svc, now))

        found = PublicCache(load, svc.settings.public_cache_for.total_seconds())
        request.app.state.public_cache = found
    return found


Cache = Annotated[PublicCache, Depends(public_cache)]


def _matches(request: Request, etag: str) -> bool:
    """If-None-Match holds this ETag (weak comparison, as a GET's revalidation uses), or `*`."""
    given = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    return "*" in given or etag in [t.removeprefix("W/") for t in given]


def _answer(request: Request, found: Body, cache_control: str) -> Response:
    headers = {"ETag": found.etag, "Cache-Control": cache_control}
    if _matches(request, found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.content, media_type=found.media_type, headers=headers)


def _shared(svc: Services) -> str:
    return f"public, max-age={int(svc.settings.public_max_age.total_seconds())}"


def _base(request: Request) -> str:
    """Where the public reaches these pages: CITYCERT_PUBLIC_URL (as the credentials name them),
    else the address this request came to."""
    public_url: str | None = request.app.state.services.settings.public_url
    return (public_url or str(request.base_url)).rstrip("/")


_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag sent in If-None-Match is still the body's"}
}


def _text(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}}}


# JSON-LD is JSON: the document says what it holds (a dcat:Dataset), the rest is DCAT's.
_DATASET: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            JSON_LD: {
                "schema": {
                    "type": "object",
                    "required": ["@context", "@id", "@type", "dcat:distribution"],
                    "properties": {"@type": {"const": "dcat:Dataset"}},
                }
            }
        }
    }
}


# --- certificates ----------------------------------------------------------------------------------

_UNKNOWN_CERTIFICATE: dict[int | str, dict[str, Any]] = {
    404: {
        "model": Problem,
        "description": "No certificate has this number (`unknown_certificate`), also for a number no "
        "certificate could have",
    }
}


async def _certificate(svc: Services, number: str) -> d.PublicCertificate:
    now = svc.clock()
    found = await d.load_certificate(svc.store, number, now=now, visible=await visible(svc, now))
    if found is None:
        raise ApiError(404, "unknown_certificate", _unknown(number))
    return found


def _unknown(number: str) -> str:
    return (
        f"no certificate is numbered {number!r}: check the number as the certificate shows it, "
        "such as CC-2026-LAKESIDE-2"
    )


@router.get(
    "/certificates/{number}",
    response_model=d.PublicCertificate,
    responses={**_NOT_MODIFIED, **_UNKNOWN_CERTIFICATE},
)
async def verify_certificate(number: NumberPath, request: Request, svc: Svc) -> Response:
    """A certificate as anyone may check it (no token): the city, the level, the standard, the
    round, its validity and its status (valid, suspended, expired, ended or revoked, with the end's
    reason and date), in words too. Always read afresh (an ETag saves the body)."""
    found = await _certificate(svc, number)
    return _answer(request, body(found.model_dump_json(), JSON), "no-cache")


_UNKNOWN_CITY: dict[int | str, dict[str, Any]] = {
    404: {
        "model": Problem,
        "description": "No certified city has this id (`unknown_city`): the programme names only the "
        "cities it certified",
    }
}
CityIdPath = Annotated[str, Path(description="The city's id, e.g. lakeside")]


@router.get("/cities/{city_id}", response_model=d.PublicCity, responses={**_NOT_MODIFIED, **_UNKNOWN_CITY})
async def certified_city(city_id: CityIdPath, request: Request, svc: Svc) -> Response:
    """A certified city's public page (no token): where it is, and every certificate it was issued
    with each one's status, the earliest first (the page its credentials name). Read afresh."""
    now = svc.clock()
    # An id no city could have is not looked up (it might hold what PostgreSQL's text refuses).
    found = (
        await d.load_city(svc.store, city_id, now=now, visible=await visible(svc, now))
        if is_city_id(city_id)
        else None
    )
    if found is None:
        raise ApiError(404, "unknown_city", f"no certified city has the id {city_id!r}")
    return _answer(request, body(found.model_dump_json(), JSON), "no-cache")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<main>
<h1>{heading}</h1>
<p><strong>{statement}</strong></p>
{details}
</main>
</body>
</html>
"""


def _page(title: str, heading: str, statement: str, details: list[tuple[str, str]]) -> str:
    rows = "\n".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in details)
    return _PAGE.format(
        title=html.escape(title),
        heading=html.escape(heading),
        statement=html.escape(statement),
        details=f"<dl>\n{rows}\n</dl>" if rows else "",
    )


def certificate_page(c: d.PublicCertificate) -> str:
    """The verification page: the certificate's facts as a list of terms, its status first."""
    place = ", ".join(p for p in (c.city, c.region, c.country_name) if p)
    details = [
        ("Certificate number", c.number),
        ("City", place),
        ("Level", c.level.value.title()),
        ("Standard", f"{c.standard_name} ({c.standard})" if c.standard_name else c.standard),
        ("Round", c.round),
        ("Valid from", c.valid_from.isoformat()),
        ("Valid until", c.valid_until.isoformat()),
        ("Status", c.status),
    ]
    if c.ended_on is not None:
        details.append(("Ended on", c.ended_on.isoformat()))
    return _page(f"Certificate {c.number}", f"Certificate {c.number}", c.statement, details)


@pages.get("/certificates/{number}", response_class=HTMLResponse)
async def certificate_html(number: str, svc: Svc) -> HTMLResponse:
    """The same verification, as a page a person reads (the portal's templates may replace it)."""
    try:
        found = await _certificate(svc, number)
    except ApiError as e:
        text = _page(
            "Certificate not found", "Certificate not found", e.detail[:1].upper() + e.detail[1:], []
        )
        return HTMLResponse(text, status_code=404, headers={"Cache-Control": "no-cache"})
    return HTMLResponse(certificate_page(found), headers={"Cache-Control": "no-cache"})


# --- the directory ---------------------------------------------------------------------------------


async def directory_filter(
    level: Annotated[Level | None, Query(description="Only cities certified at this level")] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only cities of this country (ISO 3166-1 alpha-2)"),
    ] = None,
    region: Annotated[
        str | None, Query(max_length=200, description="Only cities of this region (any case)")
    ] = None,
    standard: Annotated[
        str | None,
        Query(max_length=100, description="Only certifications under this standard, e.g. wwc-2022"),
    ] = None,
    round: Annotated[
        str | None, Query(max_length=200, description="Only certifications of this round")
    ] = None,
) -> d.DirectoryFilter:
    return d.DirectoryFilter(level=level, country=country, region=region, standard=standard, round=round)


Where = Annotated[d.DirectoryFilter, Depends(directory_filter)]


@router.get("/directory", response_model=d.Directory, responses=_NOT_MODIFIED)
async def certified_cities(where: Where, request: Request, svc: Svc, cache: Cache) -> Response:
    """The cities certified now (a suspended certificate shown as such), by name: level, validity,
    standard, round, certificate number and its verification page; filtered by each parameter
    given."""
    base = _base(request)

    def render(certificates: list[d.PublicCertificate]) -> Body:
        return body(d.directory(certificates, base, where).model_dump_json(), JSON)

    found = await cache.body(("directory", where, base), render)
    return _answer(request, found, _shared(svc))


@router.get("/directory.csv", response_class=Response, responses={**_text("text/csv"), **_NOT_MODIFIED})
async def certified_cities_csv(where: Where, request: Request, svc: Svc, cache: Cache) -> Response:
    """The same directory as CSV, a header row first."""
    base = _base(request)

    def render(certificates: list[d.PublicCertificate]) -> Body:
        return body(d.directory_csv(d.directory(certificates, base, where)), CSV)

    found = await cache.body(("directory.csv", where, base), render)
    return _answer(request, found, _shared(svc))


# --- open data -------------------------------------------------------------------------------------


def _open_data(svc: Services, certificates: list[d.PublicCertificate], base: str) -> d.OpenData:
    settings = svc.settings
    return d.open_data(
        certificates, base, licence=settings.open_data_licence, publisher=settings.programme_name
    )


@router.get("/open-data/certifications.json", response_model=d.OpenData, responses=_NOT_MODIFIED)
async def open_data_json(request: Request, svc: Svc, cache: Cache) -> Response:
    """Every certification the programme awarded or imported, ended ones included, with its status
    (the data dictionary describes each field), under the programme's open data licence."""
    base = _base(request)

    def render(certificates: list[d.PublicCertificate]) -> Body:
        return body(_open_data(svc, certificates, base).model_dump_json(), JSON)

    return _answer(request, await cache.body(("open-data.json", base), render), _shared(svc))


@router.get(
    "/open-data/certifications.csv", response_class=Response, responses={**_text("text/csv"), **_NOT_MODIFIED}
)
async def open_data_csv(request: Request, svc: Svc, cache: Cache) -> Response:
    """The same certifications as CSV, a header row first."""
    base = _base(request)

    def render(certificates: list[d.PublicCertificate]) -> Body:
        return body(d.open_data_csv(_open_data(svc, certificates, base)), CSV)

    return _answer(request, await cache.body(("open-data.csv", base), render), _shared(svc))


@router.get("/open-data/data-dictionary.json", response_model=dict[str, Any], responses=_NOT_MODIFIED)
async def open_data_dictionary(request: Request, svc: Svc) -> Response:
    """The open data's fields (a Frictionless Table Schema): each one's name, type, meaning and,
    where they are few, its allowed values."""
    return _answer(request, body(_json(d.data_dictionary()), JSON), _shared(svc))


@router.get("/open-data/dcat.jsonld", response_class=Response, responses={**_DATASET, **_NOT_MODIFIED})
async def open_data_dcat(request: Request, svc: Svc, cache: Cache) -> Response:
    """The data set described in DCAT as JSON-LD: a dcat:Dataset with its CSV and JSON
    distributions, its licence, its publisher and the day it last changed."""
    base = _base(request)

    def render(certificates: list[d.PublicCertificate]) -> Body:
        data = _open_data(svc, certificates, base)
        settings = svc.settings
        described = d.dcat(
            base,
            licence=settings.open_data_licence,
            publisher=settings.programme_name,
            modified=data.modified,
        )
        return body(_json(described), JSON_LD)

    return _answer(request, await cache.body(("dcat", base), render), _shared(svc))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
