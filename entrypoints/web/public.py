"""What the public's pages show, shaped for their templates: a certificate's status in the visitor's
language, the directory's filter form and its rows, and an announcement's sections.

Nothing here decides anything: the status, the directory and the announcement are app/directory.py's
and app/announcements.py's, read exactly as the JSON under /public/ reads them; this only words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from babel import Locale

from app import directory as d
from app.announcements import Announcement, CertifiedCity, MovedCity
from app.countries import country_name
from domain.levels import Level
from domain.rounds import Round
from entrypoints.web.dashboard import LEVELS
from entrypoints.web.i18n import N_, Speaker

STATUS_WORDS = {
    "valid": N_("Valid"),
    "suspended": N_("Suspended"),
    "expired": N_("Expired"),
    "ended": N_("Ended"),
    "revoked": N_("Revoked"),
}
_BY_RANK = sorted(Level, key=lambda lv: lv.rank, reverse=True)
FILTERS = ("level", "country", "region", "standard", "round")


def level_words(level: Level, say: Speaker) -> str:
    return say.gettext(LEVELS[level.value])


def country_words(code: str, say: Speaker) -> str:
    """The country's name in the visitor's language (Babel's territories), else in English."""
    if not code:
        return ""
    return str(Locale.parse(say.language).territories.get(code.upper()) or country_name(code))


def place_words(city: str, region: str | None, country: str, say: Speaker) -> str:
    """ "Lakeside, Ohio, Estados Unidos": the city, its region when known, its country."""
    return ", ".join(p for p in (city, region, country_words(country, say)) if p)


def statement(c: d.PublicCertificate, say: Speaker) -> str:
    """The certificate's status in words, as app/directory.py tells it, in the visitor's language:
    the programme's own reason for a revocation or a suspension is quoted as it was written."""
    _ = say.gettext
    on = say.date(c.ended_on or c.valid_until)
    reason = c.reason_given
    match c.status:
        case "valid":
            return _(
                "This certificate is valid: {city} is certified {level} until {until}.",
                city=c.city,
                level=level_words(c.level, say),
                until=say.date(c.valid_until),
            )
        case "suspended":
            if reason:
                return _(
                    "This certificate is suspended by the programme: {reason}. It is not valid while "
                    "suspended.",
                    reason=reason,
                )
            return _("This certificate is suspended by the programme. It is not valid while suspended.")
        case "expired":
            return _("This certificate expired on {day}.", day=on)
        case "revoked":
            if reason:
                return _("This certificate was revoked on {day}: {reason}.", day=on, reason=reason)
            return _("This certificate was revoked on {day}.", day=on)
    # ended
    if c.end_reason == "withdrawn":
        return _("This certificate ended on {day}: {city} left the programme.", day=on, city=c.city)
    if c.end_reason == "superseded" or c.superseded_by:
        if c.superseded_by:
            return _(
                "This certificate was superseded on {day} by certificate {number}, after a new "
                "decision of the programme.",
                day=on,
                number=c.superseded_by,
            )
        return _("This certificate was superseded on {day}, after a new decision of the programme.", day=on)
    return _("This certificate is no longer held.")


@dataclass(frozen=True, slots=True)
class Fact:
    term: str
    value: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateView:
    number: str
    status: str
    status_words: str
    statement: str
    facts: list[Fact]
    in_force: bool  # a credential is issued only for a valid certificate
    credential_href: str


def certificate_view(
    c: d.PublicCertificate, say: Speaker, *, its_round: Round | None = None, today: date | None = None
) -> CertificateView:
    """The page's facts; the round named and linked when it is one of the programme's rounds (a
    cohort of earlier data by the round that adopted it) and its announcement is public."""
    _ = say.gettext
    round_words, round_href = c.round, None
    if its_round is not None:
        round_words = its_round.name
        if today is not None and its_round.announced(today):
            round_href = f"/rounds/{its_round.round_id}"
    standard = f"{c.standard_name}, {c.standard}" if c.standard_name else c.standard
    facts = [
        Fact(_("City"), place_words(c.city, c.region, c.country, say), city_path(c.city_id)),
        Fact(_("Level"), level_words(c.level, say)),
        Fact(_("Standard"), standard),
        Fact(_("Round"), round_words, round_href),
        Fact(_("Valid from"), say.date(c.valid_from)),
        Fact(_("Valid until"), say.date(c.valid_until)),
    ]
    if c.ended_on is not None:
        facts.append(Fact(_("Ended on"), say.date(c.ended_on)))
    if c.superseded_by:
        facts.append(Fact(_("Superseded by"), c.superseded_by, d.verification_path(c.superseded_by)))
    return CertificateView(
        number=c.number,
        status=c.status,
        status_words=_(STATUS_WORDS[c.status]),
        statement=statement(c, say),
        facts=facts,
        in_force=c.status == "valid",
        credential_href=f"/public/certificates/{c.number}/credential",
    )


# --- the directory ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    words: str


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    city: str
    place: str
    level: str
    standard: str
    round: str
    valid_until: str
    status: str
    status_words: str
    href: str
    city_href: str  # the city's own page


@dataclass
class DirectoryForm:
    """The filters as asked (kept as typed, to show back), what each may be, and what was wrong."""

    asked: dict[str, str]
    choices: dict[str, list[Choice]]
    errors: dict[str, str] = field(default_factory=dict)


def read_filter(
    query: Mapping[str, str], say: Speaker
) -> tuple[dict[str, str], d.DirectoryFilter, dict[str, str]]:
    """The directory's filter from the form's query, as /public/directory reads its parameters
    (a level of the programme's, a two-letter country), with what was wrong in words; an empty
    field is no filter."""
    _ = say.gettext
    asked = {name: query.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    level: Level | None = None
    if asked["level"]:
        try:
            level = Level(asked["level"])
        except ValueError:
            errors["level"] = _("Choose a level from the list")
    country = asked["country"] or None
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        errors["country"] = _("Choose a country from the list")
        country = None
    for name, longest in (("region", 200), ("standard", 100), ("round", 200)):
        if len(asked[name]) > longest:
            errors[name] = _("This is longer than any value in the list")
    if errors:
        return asked, d.DirectoryFilter(), errors
    return (
        asked,
        d.DirectoryFilter(
            level=level,
            country=country,
            region=asked["region"] or None,
            standard=asked["standard"] or None,
            round=asked["round"] or None,
        ),
        {},
    )


def directory_choices(certificates: Iterable[d.PublicCertificate], say: Speaker) -> dict[str, list[Choice]]:
    """What each filter may be: the values of the cities certified now (all of them, not the filtered)."""
    held = [c for c in certificates if c.current and c.status in d.HELD]
    countries = sorted({c.country for c in held}, key=lambda code: country_words(code, say).casefold())
    regions = sorted({c.region for c in held if c.region}, key=str.casefold)
    return {
        "level": [Choice(lv.value, level_words(lv, say)) for lv in _BY_RANK],
        "country": [Choice(code, country_words(code, say)) for code in countries],
        "region": [Choice(r, r) for r in regions],
        "standard": [Choice(s, s) for s in sorted({c.standard for c in held})],
        "round": [Choice(r, r) for r in sorted({c.round for c in held}, reverse=True)],
    }


def directory_rows(found: d.Directory, say: Speaker) -> list[DirectoryRow]:
    return [
        DirectoryRow(
            city=e.city,
            place=place_words(e.city, e.region, e.country, say),
            level=level_words(e.level, say),
            standard=e.standard,
            round=e.round,
            valid_until=say.date(e.valid_until),
            status=e.status,
            status_words=say.gettext(STATUS_WORDS[e.status]),
            href=d.verification_path(e.certificate_number),
            city_href=city_path(e.city_id),
        )
        for e in found.cities
    ]


# --- an announcement -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Named:
    place: str
    words: str  # its level, or its move ("Silver to Gold"); empty on the Honor Roll


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    slug: str
    cities: list[Named]
    by_level: list[tuple[str, list[Named]]] = field(default_factory=list)  # newly certified only


def _named(e: CertifiedCity, say: Speaker) -> Named:
    words = level_words(e.level, say)
    if isinstance(e, MovedCity):
        words = say.gettext("{before} to {after}", before=level_words(e.previous_level, say), after=words)
    return Named(place_words(e.name, e.region, e.country, say), words)


def announcement_sections(a: Announcement, say: Speaker) -> list[Section]:
    """The announcement's sections in the programme's order, the newly certified by level."""
    _ = say.gettext

    def named(entries: Sequence[CertifiedCity]) -> list[Named]:
        return [_named(e, say) for e in entries]

    # Under its level's heading a newly certified city needs no level beside its name.
    newly = [
        (
            level_words(lv, say),
            [
                Named(place_words(e.name, e.region, e.country, say), "")
                for e in a.newly_certified
                if e.level is lv
            ],
        )
        for lv in _BY_RANK
        if any(e.level is lv for e in a.newly_certified)
    ]
    return [
        Section(_("Newly certified"), "newly-certified", named(a.newly_certified), newly),
        Section(_("Reached Platinum"), "reached-platinum", named(a.reached_platinum)),
        Section(_("Moved up a level"), "moved-up", named(a.moved_up)),
        Section(_("Re-certified at their level"), "recertified", named(a.recertified)),
        Section(_("Moved down a level"), "moved-down", named(a.moved_down)),
        Section(
            _("Honor Roll"),
            "honor-roll",
            [Named(place_words(e.name, e.region, e.country, say), "") for e in a.honor_roll],
        ),
    ]


def counts_words(a: Announcement, say: Speaker) -> str:
    """ "2 cities certified: 1 Gold, 1 Silver" in the visitor's language."""
    total = say.ngettext("{n} city certified", "{n} cities certified", a.certified)
    per_level = ", ".join(f"{say.number(a.counts.get(lv, 0))} {level_words(lv, say)}" for lv in _BY_RANK)
    return f"{total}: {per_level}"


# --- a certified city's page -----------------------------------------------------------------------


def city_path(city_id: str) -> str:
    """A certified city's public page (its staff's own pages are under /cities/)."""
    return f"/directory/{city_id}"


@dataclass(frozen=True, slots=True)
class CertificationRow:
    number: str
    href: str
    level: str
    standard: str
    round: str
    valid_from: str
    valid_until: str
    status: str
    status_words: str


@dataclass(frozen=True, slots=True)
class AnnouncedIn:
    name: str
    href: str
    on: str


@dataclass(frozen=True, slots=True)
class CityView:
    city_id: str
    name: str
    place: str
    current: CertificateView | None  # the certificate it holds now (valid or suspended)
    current_facts: list[Fact]  # its number, linked to its verification, then its facts
    past: list[CertificationRow]  # every other certificate, the latest first
    rounds: list[AnnouncedIn]  # the announcements that named it, the latest first


def _row(c: d.PublicCertificate, say: Speaker, rounds: Mapping[str, Round]) -> CertificationRow:
    owner = rounds.get(c.round)
    return CertificationRow(
        number=c.number,
        href=d.verification_path(c.number),
        level=level_words(c.level, say),
        standard=c.standard,
        round=owner.name if owner is not None else c.round,
        valid_from=say.date(c.valid_from),
        valid_until=say.date(c.valid_until),
        status=c.status,
        status_words=say.gettext(STATUS_WORDS[c.status]),
    )


def city_view(
    city: d.PublicCity,
    say: Speaker,
    *,
    rounds_of: Mapping[str, Round],
    announced_by: Mapping[str, Round],
    today: date,
) -> CityView:
    """The city's page: the certificate it holds now with its facts, the others as rows, and the
    rounds whose announcement named one of its awards (`announced_by`: a certificate's number to
    that round; `rounds_of`: a recorded cohort to the round it belongs to)."""
    held = next((c for c in city.certificates if c.current and c.status in d.HELD), None)
    current, facts = None, []
    if held is not None:
        current = certificate_view(held, say, its_round=rounds_of.get(held.round), today=today)
        # Its facts after the first, the city, which the page's heading names.
        facts = [
            Fact(say.gettext("Certificate"), held.number, d.verification_path(held.number)),
            *current.facts[1:],
        ]
    past = [_row(c, say, rounds_of) for c in reversed(city.certificates) if c is not held]
    named: dict[str, Round] = {}
    for c in city.certificates:
        if (r := announced_by.get(c.number)) is not None and r.announced(today):
            named[r.round_id] = r
    shown = sorted(named.values(), key=lambda r: (r.announcement_on, r.round_id), reverse=True)
    return CityView(
        city_id=city.city_id,
        name=city.city,
        place=place_words(city.city, city.region, city.country, say),
        current=current,
        current_facts=facts,
        past=past,
        rounds=[AnnouncedIn(r.name, f"/rounds/{r.round_id}", say.date(r.announcement_on)) for r in shown],
    )
