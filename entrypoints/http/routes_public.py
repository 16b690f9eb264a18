"""What anyone may read, with no token: a certificate's verification (JSON under /public/; the page
a person reads at /certificates/{number} is the portal's, entrypoints/web/routes_public.py), a
certified city's page, the directory of certified cities,
the programme's certifications as open data with their data dictionary and DCAT description, and
each standard's levels (the achievements the credentials name).
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

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from app import credentials as cr
from app import directory as d
from app.credentials import CredentialError, CredentialSigner
from app.public_cache import Body, PublicCache, body, cache_of
from app.services import Services
from domain.ids import is_city_id
from domain.levels import Level
from domain.standard import StandardError
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Problem
from entrypoints.http.openapi import answers
from entrypoints.http.routes_public_credentials import signer_of
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

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
JSON_LD = "application/ld+json"
NumberPath = Annotated[str, Path(description="The certificate's number, e.g. CC-2026-LAKESIDE-2")]


async def visible(svc: Services, now: datetime) -> d.Visible:
    """Which certificates the public may see on this day: those whose award a round has announced
    (the programme's rounds, its late-award rule), by the services' clock as the announcements."""
    return await d.visible_on(svc.store, now, rule=svc.settings.late_awards)


async def public_cache(request: Request, svc: Svc) -> PublicCache:
    """The app's cache of public certificates (app/public_cache.py), shared with the portal's pages."""
    return cache_of(request.app.state, svc)


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


@router.get(
    "/certificates/{number}/credential",
    response_model=dict[str, Any],
    responses={
        **_UNKNOWN_CERTIFICATE,
        409: {
            "model": Problem,
            "description": "The certificate is not in force (`not_in_force`: ended, suspended or revoked): "
            "no credential says it is",
        },
    },
)
async def certificate_credential(
    number: NumberPath, svc: Svc, signer: Annotated[CredentialSigner, Depends(signer_of)]
) -> dict[str, Any]:
    """The certificate as a signed credential (a W3C Verifiable Credential, Open Badges 3.0,
    eddsa-jcs-2022) anyone can verify offline against /public/credentials/key; 404 without a key
    or for an unknown number. Signed afresh on each request."""
    now = svc.clock()
    facts = await d.load_credential_facts(svc.store, number, now=now, visible=await visible(svc, now))
    if facts is None:
        raise ApiError(404, "unknown_certificate", _unknown(number))
    try:
        return signer.issue(facts, created=now)
    except CredentialError as e:
        raise ApiError(409, "not_in_force", str(e)) from None


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


# --- the standards' levels (the achievements the credentials name) -------------------------------

_UNKNOWN_LEVEL: dict[int | str, dict[str, Any]] = {
    404: {
        "model": Problem,
        "description": "No standard of this version is shipped, or it has no such level (`unknown_standard`)",
    }
}
VersionPath = Annotated[str, Path(max_length=100, description="The standard's version, e.g. wwc-2022")]
LevelPath = Annotated[Level, Path(description="The level: silver, gold or platinum")]


@router.get(
    "/standards/{version}/levels/{level}",
    response_model=cr.PublicLevel,
    responses={**_NOT_MODIFIED, **_UNKNOWN_LEVEL},
)
async def standard_level(version: VersionPath, level: LevelPath, request: Request, svc: Svc) -> Response:
    """A level of a standard, as the credentials' achievement names it (no token): its name, its
    bar (the share of the standard's criteria it needs, and how a share is compared with it), the
    criteria it requires whatever the share, with their titles, and its other requirements; from
    the standard's newest revision."""
    try:
        described = cr.public_level(version, level, public_url=_base(request))
    except (StandardError, LookupError) as e:
        raise ApiError(404, "unknown_standard", str(e)) from None
    return _answer(request, body(described.model_dump_json(), JSON), _shared(svc))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
