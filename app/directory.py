"""What the public reads about certificates: each one's status in words, the directory of certified
cities, and the programme's certifications as open data (CSV, JSON, a data dictionary, DCAT).

Everything here is shaping, pure and given the moment (`now`): the rows come from
readmodel/directory.py (projections only); `load_public_certificates` at the end is the one
function that reads them.

How a certificate's status is told:
- it ended under the ROUNDS rules (a CertificationEnded kept in the city's state): revoked, ended
  (superseded or withdrawn) or expired (lapsed), with the end's date;
- it is the city's current certificate: suspended, expired once its validity has passed (before the
  timer's lapse is recorded), else valid;
- it ended silently (awarded before the ROUNDS rules: a re-certification replaced it, a lapse
  recorded no end): expired once its validity has passed, else superseded when the city holds, or
  held, a later certificate, else ended with no reason known.

A certificate under embargo is left out everywhere (`visible` says which are not: `announced`, the
programme's rounds, or `outside`, a given set of rounds), and one left out is never named as the
certificate that superseded another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field

from app.credentials import CertificateFacts, CertificateStatus
from app.csv_cells import GUARDED_CELLS, csv_text
from app.rounds import list_rounds
from domain.events import EndReason
from domain.levels import Level
from domain.rounds import LateAwards, Round, announced_in, find_round, round_recorded_as
from domain.standard import StandardError, get_standard
from eventstore import EventStore
from readmodel.directory import AwardRow, CityHolding, certificates_of_number, issued_certificates

Status = Literal["valid", "suspended", "expired", "ended", "revoked"]
STATUSES: tuple[Status, ...] = ("valid", "suspended", "expired", "ended", "revoked")
END_REASONS = tuple(reason.value for reason in EndReason)
# A certificate in the directory: its city holds it now (a suspended one is shown as suspended,
# so a reader who knew the city certified learns why it is not valid, rather than finding nothing).
HELD = frozenset({"valid", "suspended"})


class PublicCertificate(BaseModel):
    """A certificate as anyone may check it."""

    model_config = ConfigDict(frozen=True)

    number: str = Field(description="The certificate's number, e.g. CC-2026-LAKESIDE-2")
    city_id: str = Field(description="The city's id in the programme")
    city: str = Field(description="The city's name")
    region: str | None = Field(description="The city's state, province or region, when recorded")
    country: str = Field(description="The city's country: its ISO 3166-1 alpha-2 code")
    country_name: str = Field(description="The country's name in English")
    level: Level = Field(description="The level certified")
    standard: str = Field(description="The version of the standard it was certified under")
    standard_name: str | None = Field(description="That standard's name")
    round: str = Field(
        description="The id of the round it was awarded in (a cohort of earlier data that a round "
        "adopted is shown as that round's id), or the period it was imported with"
    )
    imported: bool = Field(description="Awarded before the programme ran on citycert, and imported")
    valid_from: date = Field(description="The first day it is valid (UTC)")
    valid_until: date = Field(description="The day its validity ends (UTC)")
    status: Status = Field(description="valid, suspended, expired, ended or revoked")
    end_reason: str | None = Field(
        description="Why it ended or expired: superseded, lapsed, withdrawn or revoked (none while "
        "held, nor when an old certificate ended without a recorded reason)"
    )
    ended_on: date | None = Field(description="The day it ended, expired or was revoked (UTC)")
    superseded_by: str | None = Field(description="The number of the certificate that replaced it")
    current: bool = Field(description="Whether it is the certificate its city holds now")
    statement: str = Field(description="Its status in words")
    reason_given: str | None = Field(
        default=None,
        description="The programme's reason, in its own words, for a revocation or a suspension "
        "(a page in another language shows it as written)",
    )


class DirectoryEntry(BaseModel):
    """A certified city in the public directory."""

    model_config = ConfigDict(frozen=True)

    city_id: str
    city: str
    region: str | None
    country: str
    country_name: str
    level: Level
    standard: str
    round: str
    valid_from: date
    valid_until: date
    certificate_number: str
    status: Literal["valid", "suspended"]
    verification_url: str = Field(description="The certificate's public verification page")


class Directory(BaseModel):
    cities: list[DirectoryEntry]


class OpenDataCertification(BaseModel):
    """One certification in the programme's open data (the data dictionary describes each field)."""

    model_config = ConfigDict(frozen=True)

    certificate_number: str
    city_id: str
    city: str
    region: str | None
    country: str
    level: Level
    standard: str
    round: str
    valid_from: date
    valid_until: date
    status: Status
    end_reason: str | None
    ended_on: date | None
    verification_url: str


class OpenData(BaseModel):
    licence: str = Field(description="The licence the data is published under (a URL)")
    publisher: str
    modified: date | None = Field(description="The day of the latest change in the data (UTC)")
    certifications: list[OpenDataCertification]


# --- status ----------------------------------------------------------------------------------------


def _day(moment: datetime) -> date:
    return moment.date() if moment.tzinfo is None else moment.astimezone(UTC).date()


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def _standard_name(version: str) -> str | None:
    try:
        return get_standard(version).name
    except StandardError:
        return None


@dataclass(frozen=True)
class _Told:
    status: Status
    end_reason: str | None
    ended_on: date | None
    superseded_by: str | None
    statement: str
    reason_given: str | None = None


def _told(award: AwardRow, holding: CityHolding, later: AwardRow | None, now: datetime, name: str) -> _Told:
    """The status of `award`, its city's holding and the next certificate it issued (if shown)."""
    until = _day(award.valid_until)
    held = holding.certification
    ended = next((e for e in reversed(holding.ended) if e.number == award.certificate_number), None)
    if ended is not None:
        on = _day(ended.ended_at)
        match ended.reason:
            case EndReason.REVOKED:
                why = f": {ended.detail}" if ended.detail else ""
                said = f"This certificate was revoked on {on}{why}."
                return _Told("revoked", ended.reason, on, None, said, ended.detail or None)
            case EndReason.LAPSED:
                return _Told("expired", ended.reason, on, None, f"This certificate expired on {on}.")
            case EndReason.WITHDRAWN:
                said = f"This certificate ended on {on}: {name} left the programme."
                return _Told("ended", ended.reason, on, None, said)
            case _:
                # Named only when the new decision was an award: one that found the city not
                # certified also supersedes, and issues nothing.
                by = later if later is not None and later.valid_from == ended.ended_at else None
                return _superseded(ended.reason, on, by)
    if held is not None and held.number == award.certificate_number:
        if held.suspended_because is not None:
            said = (
                f"This certificate is suspended by the programme: {held.suspended_because}. "
                "It is not valid while suspended."
            )
            return _Told("suspended", None, None, None, said, held.suspended_because)
        if award.valid_until <= now:
            return _Told("expired", EndReason.LAPSED, until, None, f"This certificate expired on {until}.")
        level = award.level.value.title()
        said = f"This certificate is valid: {name} is certified {level} until {until}."
        return _Told("valid", None, None, None, said)
    # Ended before every end was recorded (see the module's docstring).
    if award.valid_until <= now:
        return _Told("expired", EndReason.LAPSED, until, None, f"This certificate expired on {until}.")
    if later is not None:
        return _superseded(EndReason.SUPERSEDED, _day(later.valid_from), later)
    return _Told("ended", None, None, None, "This certificate is no longer held.")


def _superseded(reason: str, on: date, later: AwardRow | None) -> _Told:
    by = f" by certificate {later.certificate_number}" if later is not None else ""
    said = f"This certificate was superseded on {on}{by}, after a new decision of the programme."
    return _Told("ended", reason, on, later.certificate_number if later else None, said)


# Whether the public may see an award's certificate yet.
Visible = Callable[[AwardRow], bool]


def outside(hidden_rounds: frozenset[str]) -> Visible:
    """Every certificate but those of these rounds."""
    return lambda award: award.round_id not in hidden_rounds


@dataclass(frozen=True)
class Announced:
    """A certificate is public once the round whose announcement names its award is announced
    (domain.rounds.announced_in: a late award in the next announcement, by the programme's rule),
    as the announcements themselves are; an award no announcement names yet waits for one. An
    imported certification, or one of a cohort that is no round (before rounds were records), was
    never under embargo. Knowing the rounds, it also says which round a certificate belongs to."""

    rounds: tuple[Round, ...]
    today: date
    rule: LateAwards

    def __call__(self, award: AwardRow) -> bool:
        # A cycle records its round's id, or a cohort of earlier data the round adopted.
        owner = round_recorded_as(self.rounds, award.round_id)
        if award.outcome == "imported" or owner is None:
            return True
        named = announced_in(_day(award.decided_at), owner, self.rounds, self.rule)
        found = find_round(self.rounds, named) if named is not None else None
        return found is not None and found.announced(self.today)

    def round_of(self, recorded: str) -> str:
        """The id of the round a certificate's recorded cohort belongs to: its own, or that of the
        round that adopted it ("2026-Spring" of earlier data is round 2026-spring's); as recorded
        when no round has it."""
        return round_recorded_as(self.rounds, recorded) or recorded


def announced(rounds: Sequence[Round], *, today: date, rule: LateAwards) -> Announced:
    """Which certificates the public may see on `today` by these rounds (see Announced)."""
    return Announced(tuple(rounds), today, rule)


def _round_of(visible: Visible) -> Callable[[str], str]:
    """How certificates seen through `visible` name their round: by the round's id when it knows
    the rounds, else as recorded."""
    return visible.round_of if isinstance(visible, Announced) else (lambda recorded: recorded)


async def visible_on(store: EventStore, now: datetime, *, rule: LateAwards) -> Announced:
    """Which certificates the public may see at `now`: `announced` by the programme's rounds as
    recorded, on that day in UTC (the one test every public reader, JSON or page, applies)."""
    return announced(await list_rounds(store), today=now.astimezone(UTC).date(), rule=rule)


def public_certificates(
    awards: Iterable[AwardRow],
    holdings: dict[str, CityHolding],
    *,
    now: datetime,
    visible: Visible = lambda award: True,
) -> list[PublicCertificate]:
    """Every certificate the public may see, with its status at `now`, by city then issue; each
    names its round by the round's id when `visible` knows the rounds (`announced`)."""
    round_of = _round_of(visible)
    by_city: dict[str, list[AwardRow]] = {}
    for award in awards:
        if visible(award) and award.city_id in holdings:
            by_city.setdefault(award.city_id, []).append(award)
    shown: list[PublicCertificate] = []
    for city_id in sorted(by_city):
        holding = holdings[city_id]
        issued = sorted(by_city[city_id], key=lambda a: (a.decided_at, a.version))
        held = holding.certification.number if holding.certification else None
        for index, award in enumerate(issued):
            later = issued[index + 1] if index + 1 < len(issued) else None
            told = _told(award, holding, later, now, holding.name)
            shown.append(
                PublicCertificate(
                    number=award.certificate_number,
                    city_id=city_id,
                    city=holding.name,
                    region=holding.region,
                    country=holding.country,
                    country_name=_country_name(holding.country),
                    level=award.level,
                    standard=award.standard_version,
                    standard_name=_standard_name(award.standard_version),
                    round=round_of(award.round_id),
                    imported=award.outcome == "imported",
                    valid_from=_day(award.valid_from),
                    valid_until=_day(award.valid_until),
                    status=told.status,
                    end_reason=told.end_reason,
                    ended_on=told.ended_on,
                    superseded_by=told.superseded_by,
                    current=held == award.certificate_number,
                    statement=told.statement,
                    reason_given=told.reason_given,
                )
            )
    return shown


def certificate_numbered(certificates: Sequence[PublicCertificate], number: str) -> PublicCertificate | None:
    return next((c for c in certificates if c.number == number.upper()), None)


def verification_path(number: str) -> str:
    return f"/certificates/{number}"


class PublicCity(BaseModel):
    """A certified city as anyone may see it: where it is, and every certificate it was issued."""

    city_id: str
    city: str
    region: str | None
    country: str
    country_name: str
    certificates: list[PublicCertificate] = Field(description="Every certificate, the earliest first")


def public_city(certificates: Sequence[PublicCertificate], city_id: str) -> PublicCity | None:
    """The city's public page; None for a city with no certificate the public may see (the programme
    names only the cities it certified)."""
    its = [c for c in certificates if c.city_id == city_id]
    if not its:
        return None
    first = its[0]
    return PublicCity(
        city_id=city_id,
        city=first.city,
        region=first.region,
        country=first.country,
        country_name=first.country_name,
        certificates=its,
    )


# --- the directory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilter:
    level: Level | None = None
    country: str | None = None
    region: str | None = None
    standard: str | None = None
    round: str | None = None

    def admits(self, c: PublicCertificate) -> bool:
        return (
            (self.level is None or c.level == self.level)
            and (self.country is None or c.country == self.country.upper())
            and (self.region is None or (c.region or "").casefold() == self.region.casefold())
            and (self.standard is None or c.standard == self.standard)
            and (self.round is None or c.round == self.round)
        )


def directory(
    certificates: Iterable[PublicCertificate], base_url: str, where: DirectoryFilter = DirectoryFilter()
) -> Directory:
    """The cities holding a certificate now, filtered, by name (then id, for two of one name)."""
    held = [c for c in certificates if c.current and c.status in HELD and where.admits(c)]
    held.sort(key=lambda c: (c.city.casefold(), c.city_id))
    return Directory(
        cities=[
            DirectoryEntry(
                city_id=c.city_id,
                city=c.city,
                region=c.region,
                country=c.country,
                country_name=c.country_name,
                level=c.level,
                standard=c.standard,
                round=c.round,
                valid_from=c.valid_from,
                valid_until=c.valid_until,
                certificate_number=c.number,
                status="suspended" if c.status == "suspended" else "valid",
                verification_url=base_url + verification_path(c.number),
            )
            for c in held
        ]
    )


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    # RFC 4180, a city or region named like a formula kept as text (app/csv_cells.py).
    return csv_text(header, rows)


DIRECTORY_COLUMNS = tuple(DirectoryEntry.model_fields)


def directory_csv(found: Directory) -> str:
    return _csv(DIRECTORY_COLUMNS, ([getattr(e, k) for k in DIRECTORY_COLUMNS] for e in found.cities))


# --- open data -------------------------------------------------------------------------------------

OPEN_DATA_COLUMNS = tuple(OpenDataCertification.model_fields)
OPEN_DATA_TITLE = "Certifications of the city data-excellence programme"


def open_data(
    certificates: Iterable[PublicCertificate], base_url: str, *, licence: str, publisher: str
) -> OpenData:
    """Every certification the public may see, by city then issue."""
    rows = [
        OpenDataCertification(
            certificate_number=c.number,
            city_id=c.city_id,
            city=c.city,
            region=c.region,
            country=c.country,
            level=c.level,
            standard=c.standard,
            round=c.round,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            status=c.status,
            end_reason=c.end_reason,
            ended_on=c.ended_on,
            verification_url=base_url + verification_path(c.number),
        )
        for c in certificates
    ]
    changes = [d for r in rows for d in (r.valid_from, r.ended_on) if d is not None]
    return OpenData(
        licence=licence, publisher=publisher, modified=max(changes, default=None), certifications=rows
    )


def open_data_csv(data: OpenData) -> str:
    return _csv(OPEN_DATA_COLUMNS, ([getattr(r, k) for k in OPEN_DATA_COLUMNS] for r in data.certifications))


_MEANINGS: dict[str, tuple[str, str]] = {
    "certificate_number": ("string", "The certificate's number, as the city quotes it (unique)"),
    "city_id": ("string", "The city's id in the programme: lowercase letters, digits and hyphens"),
    "city": ("string", "The city's name"),
    "region": ("string", "The city's state, province or region; empty when not recorded"),
    "country": ("string", "The city's country, as an ISO 3166-1 alpha-2 code"),
    "level": ("string", "The level certified"),
    "standard": ("string", "The version of the certification standard it was awarded under"),
    "round": (
        "string",
        "The id of the round it was awarded in (a cohort of earlier data a round adopted, such as "
        "2026-Spring, is shown as that round's id); for an imported certification, as recorded",
    ),
    "valid_from": ("date", "The first day the certification is valid (UTC, YYYY-MM-DD)"),
    "valid_until": ("date", "The day its validity ends (UTC, YYYY-MM-DD)"),
    "status": ("string", "Its status on the day the data was read"),
    "end_reason": (
        "string",
        "Why it ended or expired; empty while held, and for an old certificate that ended without "
        "a recorded reason",
    ),
    "ended_on": ("date", "The day it ended, expired or was revoked (UTC, YYYY-MM-DD); empty while held"),
    "verification_url": ("string", "Its public verification page"),
}
_ALLOWED: dict[str, list[str]] = {
    "level": [level.value for level in Level],
    "status": list(STATUSES),
    "end_reason": list(END_REASONS),
}
_REQUIRED = frozenset(OPEN_DATA_COLUMNS) - {"region", "end_reason", "ended_on"}
assert set(_MEANINGS) == set(OPEN_DATA_COLUMNS), "every open data field has its meaning"


def data_dictionary() -> dict[str, Any]:
    """The open data's fields: a Table Schema (Frictionless Data), each field with its type, its
    meaning and, where they are few, its allowed values."""
    fields = []
    for name in OPEN_DATA_COLUMNS:
        kind, meaning = _MEANINGS[name]
        field: dict[str, Any] = {"name": name, "type": kind, "description": meaning}
        constraints: dict[str, Any] = {"required": name in _REQUIRED}
        if name in _ALLOWED:
            constraints["enum"] = _ALLOWED[name]
        field["constraints"] = constraints
        fields.append(field)
    return {
        "title": OPEN_DATA_TITLE,
        "description": "The fields of certifications.csv and of each record of certifications.json. "
        + GUARDED_CELLS,
        "fields": fields,
        "primaryKey": ["certificate_number"],
    }


OPEN_DATA_PATH = "/public/open-data"
DISTRIBUTIONS = (
    ("certifications.csv", "text/csv", "CSV"),
    ("certifications.json", "application/json", "JSON"),
)


def dcat(base_url: str, *, licence: str, publisher: str, modified: date | None) -> dict[str, Any]:
    """The data set described in DCAT (W3C Data Catalog Vocabulary), as JSON-LD."""
    here = f"{base_url}{OPEN_DATA_PATH}"
    dictionary = f"{here}/data-dictionary.json"
    dataset: dict[str, Any] = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": f"{here}/dcat.jsonld#dataset",
        "@type": "dcat:Dataset",
        "dct:title": OPEN_DATA_TITLE,
        "dct:description": (
            "Every certification the programme awarded or imported: the city, its region and "
            "country, the level, the standard, the round, the validity, the certificate's number "
            "and its status. Rounds appear once their announcement date has come."
        ),
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": publisher},
        "dct:license": {"@id": licence},
        "dcat:keyword": ["cities", "open data", "certification", "data-driven government"],
        "dcat:landingPage": {"@id": f"{base_url}/public/directory"},
        "dct:conformsTo": {"@id": dictionary},
        "dcat:distribution": [
            {
                "@id": f"{here}/{file}#distribution",
                "@type": "dcat:Distribution",
                "dct:title": f"{OPEN_DATA_TITLE} ({label})",
                "dcat:downloadURL": {"@id": f"{here}/{file}"},
                "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}"},
                "dct:format": label,
                "dct:license": {"@id": licence},
                "dct:conformsTo": {"@id": dictionary},
            }
            for file, media, label in DISTRIBUTIONS
        ],
    }
    if modified is not None:
        dataset["dct:modified"] = {"@value": modified.isoformat(), "@type": "xsd:date"}
    return dataset


# --- reading ---------------------------------------------------------------------------------------


async def load_public_certificates(
    store: EventStore, *, now: datetime, visible: Visible
) -> list[PublicCertificate]:
    """Every certificate the public may see at `now` (those under embargo left out)."""
    awards, holdings = await issued_certificates(store)
    return public_certificates(awards, holdings, now=now, visible=visible)


async def load_certificate(
    store: EventStore, number: str, *, now: datetime, visible: Visible
) -> PublicCertificate | None:
    """The certificate of this number, if the public may see it (None: unknown or malformed)."""
    awards, holdings = await certificates_of_number(store, number.upper())
    shown = public_certificates(awards, holdings, now=now, visible=visible)
    return certificate_numbered(shown, number)


async def load_city(store: EventStore, city_id: str, *, now: datetime, visible: Visible) -> PublicCity | None:
    """A city's public page, if it holds or held a certificate the public may see."""
    awards, holdings = await issued_certificates(store, city_id=city_id)
    return public_city(public_certificates(awards, holdings, now=now, visible=visible), city_id)


async def load_credential_facts(
    store: EventStore, number: str, *, now: datetime, visible: Visible
) -> CertificateFacts | None:
    """What the certificate of this number says, for its signed credential (app/credentials.py):
    the award's exact moments, the status the public sees at `now`; None as load_certificate."""
    awards, holdings = await certificates_of_number(store, number.upper())
    shown = certificate_numbered(public_certificates(awards, holdings, now=now, visible=visible), number)
    award = next((a for a in awards if a.certificate_number == number.upper()), None)
    if shown is None or award is None:
        return None
    return CertificateFacts(
        number=shown.number,
        city_id=shown.city_id,
        city_name=shown.city,
        country=shown.country,
        region=shown.region,
        level=shown.level,
        standard_version=shown.standard,
        round_id=None if shown.imported else shown.round,
        valid_from=award.valid_from,
        valid_until=award.valid_until,
        status=CertificateStatus(shown.status),
    )
