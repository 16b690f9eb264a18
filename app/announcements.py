"""A round's public announcement: the cities it certified, in the programme's sections, and the
Honor Roll its committee designated; as JSON, Markdown and CSV, and an Atom feed of announced rounds.

Only certified cities are named (an applicant that did not qualify is never announced), by name,
region and country. Each city counts once, by its latest decision announced in the round; which
round announces a decision is domain.rounds.announced_in's answer (a late award follows the
CITYCERT_LATE_AWARDS rule). The Honor Roll is the committee's designation as recorded, never the
score-based suggestion. `build_announcement` and the renderings are pure; `load_announcement` reads
the rounds from the programme stream and the decisions and names from the read model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict, Field

from app.countries import country_name
from app.csv_cells import csv_text
from app.rounds import UnknownRound, all_rounds, find
from domain.levels import Level
from domain.rounds import LateAwards, Round, announced_in, round_recorded_as
from eventstore import EventStore
from readmodel import city_summary, round_decisions

DecisionOutcome = str  # new, elevated, sustained, downgraded, not_certified


@dataclass(frozen=True, slots=True)
class Decision:
    """A final decision as an announcement needs it (the read model's row, read in `_decisions`)."""

    city_id: str
    version: int  # a later one of the same city supersedes it
    round_id: str  # the round the city applied to
    outcome: DecisionOutcome
    level: Level | None
    previous_level: Level | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Place:
    """Where a city is, as an announcement names it."""

    name: str
    region: str | None
    country: str  # ISO 3166-1 alpha-2


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class AnnouncedCity(_Out):
    city_id: str
    name: str
    region: str | None
    country: str = Field(description="ISO 3166-1 alpha-2 code")
    country_name: str


class CertifiedCity(AnnouncedCity):
    level: Level


class MovedCity(CertifiedCity):
    previous_level: Level


class Announcement(_Out):
    round_id: str
    name: str
    announcement_on: date
    preview: bool = Field(description="true before the announcement date: under embargo, not for publication")
    certified: int = Field(description="certified cities announced")
    counts: dict[Level, int] = Field(description="certified cities announced per level")
    newly_certified: list[CertifiedCity] = Field(description="highest level first")
    reached_platinum: list[CertifiedCity] = Field(
        description="cities newly certified at Platinum or moved up to it (also in their own section)"
    )
    moved_up: list[MovedCity]
    recertified: list[CertifiedCity] = Field(description="re-certified at the level they held")
    moved_down: list[MovedCity]
    honor_roll: list[AnnouncedCity] = Field(description="as the committee designated it")


def build_announcement(
    the_round: Round,
    rounds: Sequence[Round],
    decisions: Iterable[Decision],
    places: Mapping[str, Place],
    *,
    rule: LateAwards,
    today: date,
) -> Announcement:
    """The announcement of `the_round` on `today` from the decisions of every round (each placed
    by announced_in) and the cities' places (a city missing there is named by its id)."""
    latest: dict[str, Decision] = {}
    for decision in decisions:
        award_day = decision.decided_at.astimezone(UTC).date()
        # A cycle records its round's id, or a cohort of earlier data the round adopted.
        owner = round_recorded_as(rounds, decision.round_id)
        if owner is None or announced_in(award_day, owner, rounds, rule) != the_round.round_id:
            continue
        seen = latest.get(decision.city_id)
        if seen is None or decision.version > seen.version:
            latest[decision.city_id] = decision

    def city(city_id: str) -> dict[str, object]:
        place = places.get(city_id, Place(name=city_id, region=None, country=""))
        return {
            "city_id": city_id,
            "name": place.name,
            "region": place.region,
            "country": place.country,
            "country_name": country_name(place.country) if place.country else "",
        }

    sections: dict[str, list[CertifiedCity]] = {s: [] for s in ("new", "elevated", "sustained", "downgraded")}
    for decision in latest.values():
        if decision.level is None or decision.outcome not in sections:
            continue  # not certified: never announced
        if decision.outcome in ("elevated", "downgraded"):
            assert decision.previous_level is not None, "a city moves up or down from a level it held"
            entry: CertifiedCity = MovedCity(
                **city(decision.city_id), level=decision.level, previous_level=decision.previous_level
            )
        else:
            entry = CertifiedCity(**city(decision.city_id), level=decision.level)
        sections[decision.outcome].append(entry)
    for entries in sections.values():
        entries.sort(key=lambda e: (-e.level.rank, e.name.casefold(), e.city_id))
    certified = [e for entries in sections.values() for e in entries]
    counts = {level: sum(1 for e in certified if e.level is level) for level in Level}
    platinum = [e for e in [*sections["new"], *sections["elevated"]] if e.level is Level.PLATINUM]
    roll = the_round.honor_roll.city_ids if the_round.honor_roll else ()
    return Announcement(
        round_id=the_round.round_id,
        name=the_round.name,
        announcement_on=the_round.announcement_on,
        preview=not the_round.announced(today),
        certified=len(certified),
        counts=counts,
        newly_certified=sections["new"],
        reached_platinum=sorted(platinum, key=lambda e: (e.name.casefold(), e.city_id)),
        moved_up=[e for e in sections["elevated"] if isinstance(e, MovedCity)],
        recertified=sections["sustained"],
        moved_down=[e for e in sections["downgraded"] if isinstance(e, MovedCity)],
        honor_roll=sorted(
            (AnnouncedCity(**city(c)) for c in roll), key=lambda e: (e.name.casefold(), e.city_id)
        ),
    )


async def load_announcement(
    store: EventStore, round_id: str, *, rule: LateAwards, today: date
) -> Announcement:
    """The round's announcement as of `today` (a preview before its date); UnknownRound (404)."""
    the_round = await find(store, round_id)
    rounds = await all_rounds(store)
    # Under "own_round" only the round's own decisions can be in it; else any round's late award.
    named = [the_round] if rule == "own_round" else rounds
    candidates = [name for r in named for name in r.recorded_as]
    decisions = await _decisions(store, candidates)
    roll = the_round.honor_roll.city_ids if the_round.honor_roll else ()
    places = await _places(store, {d.city_id for d in decisions} | set(roll))
    return build_announcement(the_round, rounds, decisions, places, rule=rule, today=today)


async def published_announcement(
    store: EventStore, round_id: str, *, rule: LateAwards, today: date
) -> Announcement:
    """The announcement of a round announced by `today`, as the public reads it (no token, a JSON
    or a page). UnknownRound alike for a round that does not exist and for one under embargo,
    decided before any decision is read: the embargo tells nothing, not even that the round exists."""
    the_round = await find(store, round_id)
    if not the_round.announced(today):
        raise UnknownRound(round_id)
    return await load_announcement(store, round_id, rule=rule, today=today)


async def _decisions(store: EventStore, round_ids: list[str]) -> list[Decision]:
    # The one read of the certifications table: a change of the read model's names stops here.
    return [
        Decision(
            city_id=row.city_id,
            version=row.version,
            round_id=row.round_id,
            outcome=row.outcome,
            level=row.level,
            previous_level=row.previous_level,
            decided_at=row.decided_at,
        )
        for row in await round_decisions(store, round_ids)
    ]


async def _places(store: EventStore, city_ids: Iterable[str]) -> dict[str, Place]:
    places = {}
    for city_id in sorted(city_ids):
        found = await city_summary(store, city_id)
        if found is not None:
            places[city_id] = Place(name=found.name, region=found.region, country=found.country)
    return places


# Renderings -------------------------------------------------------------------------------------

_BY_RANK = sorted(Level, key=lambda lv: lv.rank, reverse=True)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # what changes inline text


def _md(text: str) -> str:
    """Text as Markdown shows it literally (a city's name is data, not markup)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _title(level: Level) -> str:
    return level.value.capitalize()


def _where(city: AnnouncedCity) -> str:
    """ "Ottawa, Ontario, Canada": the city, its region when known, its country."""
    parts = [city.name, city.region, city.country_name or city.country]
    return ", ".join(p for p in parts if p)


def render_markdown(announcement: Announcement) -> str:
    a = announcement
    per_level = ", ".join(f"{a.counts[lv]} {_title(lv)}" for lv in _BY_RANK)
    lines = [f"# {_md(a.name)}: certified cities", ""]
    if a.preview:
        lines += [
            f"**Preview, under embargo until {a.announcement_on}: not for publication.**",
            "",
        ]
    else:
        lines += [f"Announced on {a.announcement_on}.", ""]
    lines.append(f"{a.certified} {'city' if a.certified == 1 else 'cities'} certified: {per_level}.")

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", f"## {title}", ""])
        if items:
            lines.extend(f"- {item}" for item in items)
        else:
            lines.append("_None._")

    lines.extend(["", "## Newly certified"])
    if not a.newly_certified:
        lines.extend(["", "_None._"])
    for level in _BY_RANK:
        at_level = [e for e in a.newly_certified if e.level is level]
        if at_level:
            lines.extend(["", f"### {_title(level)}", ""])
            lines.extend(f"- {_md(_where(e))}" for e in at_level)
    section("Reached Platinum", [_md(_where(e)) for e in a.reached_platinum])
    section(
        "Moved up a level",
        [f"{_md(_where(e))}: {_title(e.previous_level)} → {_title(e.level)}" for e in a.moved_up],
    )
    section("Re-certified at their level", [f"{_md(_where(e))}: {_title(e.level)}" for e in a.recertified])
    section(
        "Moved down a level",
        [f"{_md(_where(e))}: {_title(e.previous_level)} → {_title(e.level)}" for e in a.moved_down],
    )
    section("Honor Roll", [_md(_where(e)) for e in a.honor_roll])
    return "\n".join(lines) + "\n"


CSV_COLUMNS = (
    "round_id",
    "section",
    "city_id",
    "name",
    "region",
    "country",
    "country_name",
    "level",
    "previous_level",
    "reached_platinum",
)


def render_csv(announcement: Announcement) -> str:
    """One row per city announced: its section (newly_certified, moved_up, recertified,
    moved_down, honor_roll), where it is, its level and former level; Reached Platinum is a column,
    not rows of its own, so each city appears once per section."""
    a = announcement
    platinum = {e.city_id for e in a.reached_platinum}
    rows: list[tuple[object, ...]] = []
    sections: list[tuple[str, Sequence[AnnouncedCity]]] = [
        ("newly_certified", a.newly_certified),
        ("moved_up", a.moved_up),
        ("recertified", a.recertified),
        ("moved_down", a.moved_down),
        ("honor_roll", a.honor_roll),
    ]
    for name, entries in sections:
        for e in entries:
            level = e.level.value if isinstance(e, CertifiedCity) else ""
            previous = e.previous_level.value if isinstance(e, MovedCity) else ""
            reached = "" if name == "honor_roll" else str(e.city_id in platinum).lower()
            row = (
                a.round_id,
                name,
                e.city_id,
                e.name,
                e.region,
                e.country,
                e.country_name,
                level,
                previous,
                reached,
            )
            rows.append(row)
    # A name that would start a formula is kept as text (app/csv_cells.py).
    return csv_text(CSV_COLUMNS, rows)


ATOM = "http://www.w3.org/2005/Atom"


def _moment(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def render_atom(announced: Sequence[Round], base_url: str, *, today: date, title: str = "citycert") -> str:
    """An Atom feed (RFC 4287) of the announced rounds, newest first, each entry linking its
    announcement in its three formats; `base_url` is where /public/ is served (no trailing slash)."""
    ET.register_namespace("", ATOM)
    newest = sorted(announced, key=lambda r: (r.announcement_on, r.round_id), reverse=True)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    add(feed, "title", f"{title}: announced rounds")
    add(feed, "id", f"{base_url}/public/rounds.atom")
    add(feed, "link", rel="self", type="application/atom+xml", href=f"{base_url}/public/rounds.atom")
    add(feed, "updated", _moment(newest[0].announcement_on if newest else today))
    add(add(feed, "author"), "name", title)
    for r in newest:
        entry = add(feed, "entry")
        url = f"{base_url}/public/rounds/{r.round_id}/announcement"
        add(entry, "title", f"{r.name}: certified cities")
        add(entry, "id", f"{url}.json")
        add(entry, "updated", _moment(r.announcement_on))
        add(entry, "published", _moment(r.announcement_on))
        add(entry, "link", rel="alternate", type="text/markdown", href=f"{url}.md")
        add(entry, "link", rel="alternate", type="application/json", href=f"{url}.json")
        add(entry, "link", rel="alternate", type="text/csv", href=f"{url}.csv")
        add(entry, "summary", f"The cities certified in {r.name}, announced on {r.announcement_on}.")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'
