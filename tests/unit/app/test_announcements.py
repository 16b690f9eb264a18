"""A round's announcement as a pure function of the rounds, the decisions and the cities' places,
and its three renderings (JSON, Markdown, CSV) and the Atom feed of announced rounds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from xml.etree import ElementTree as ET

from app.announcements import (
    ATOM,
    CSV_COLUMNS,
    Decision,
    Place,
    build_announcement,
    render_atom,
    render_csv,
    render_markdown,
)
from domain import Level
from domain.rounds import HonorRoll, LateAwards, Round

CREATED_AT = datetime(2026, 1, 5, tzinfo=UTC)
SPRING = Round(
    round_id="2027-spring",
    name="Spring 2027",
    opens_on=date(2027, 2, 1),
    closes_on=date(2027, 3, 31),
    submission_deadline=date(2027, 5, 31),
    announcement_on=date(2027, 9, 15),
    review_capacity=40,
    created_by="op-1",
    created_at=CREATED_AT,
    honor_roll=HonorRoll(city_ids=("delta",), designated_by="chair", designated_at=CREATED_AT),
)
FALL = SPRING.model_copy(
    update={
        "round_id": "2027-fall",
        "name": "Fall 2027",
        "opens_on": date(2027, 8, 1),
        "closes_on": date(2027, 9, 30),
        "submission_deadline": date(2027, 11, 30),
        "announcement_on": date(2028, 3, 1),
        "honor_roll": None,
    }
)
ROUNDS = (SPRING, FALL)
PLACES = {
    "alpha": Place("Alpha", "Ontario", "CA"),
    "bravo": Place("Bravo", "Texas", "US"),
    "charlie": Place("Charlie", None, "MX"),
    "delta": Place("Delta", "Nevada", "US"),
    "echo": Place("Echo", "Ohio", "US"),
    "foxtrot": Place("Foxtrot", "Utah", "US"),
    "golf": Place("Golf", "Iowa", "US"),
    "hotel": Place("Hotel [north]", "Maine", "US"),
}
BY_DAY = datetime(2027, 7, 1, 12, tzinfo=UTC)
LATE = datetime(2027, 10, 1, 12, tzinfo=UTC)


def decided(
    city_id: str,
    outcome: str,
    level: str | None,
    previous: str | None = None,
    *,
    round_id: str = "2027-spring",
    at: datetime = BY_DAY,
    version: int = 10,
) -> Decision:
    return Decision(
        city_id=city_id,
        version=version,
        round_id=round_id,
        outcome=outcome,
        level=Level(level) if level else None,
        previous_level=Level(previous) if previous else None,
        decided_at=at,
    )


DECISIONS = [
    decided("alpha", "new", "platinum"),
    decided("golf", "new", "silver"),
    decided("bravo", "elevated", "gold", "silver"),
    decided("charlie", "downgraded", "silver", "gold"),
    decided("echo", "sustained", "gold", "gold"),
    decided("delta", "not_certified", None),
    decided("foxtrot", "not_certified", None),
    # Not certified first, certified later in the round: the later decision stands.
    decided("hotel", "not_certified", None, version=12),
    decided("hotel", "new", "gold", version=30),
]


def announce(
    decisions: list[Decision],
    *,
    today: date = date(2027, 9, 15),
    rule: LateAwards = "next_announcement",
    of: Round = SPRING,
) -> Any:
    return build_announcement(of, ROUNDS, decisions, PLACES, rule=rule, today=today)


def names(entries: list[Any]) -> list[str]:
    return [e.city_id for e in entries]


def test_only_certified_cities_are_announced_in_the_programme_s_sections() -> None:
    a = announce(DECISIONS)
    assert not a.preview
    assert names(a.newly_certified) == ["alpha", "hotel", "golf"]  # highest level first
    assert names(a.reached_platinum) == ["alpha"]
    assert names(a.moved_up) == ["bravo"] and a.moved_up[0].previous_level is Level.SILVER
    assert names(a.recertified) == ["echo"]
    assert names(a.moved_down) == ["charlie"]
    assert a.certified == 6 and a.counts == {Level.SILVER: 2, Level.GOLD: 3, Level.PLATINUM: 1}
    named = {e.city_id for e in [*a.newly_certified, *a.moved_up, *a.recertified, *a.moved_down]}
    assert "foxtrot" not in named and "delta" not in named  # not certified: never named


def test_the_honor_roll_is_the_committee_s_designation_and_says_where_each_city_is() -> None:
    a = announce(DECISIONS)
    assert [e.model_dump() for e in a.honor_roll] == [
        {
            "city_id": "delta",
            "name": "Delta",
            "region": "Nevada",
            "country": "US",
            "country_name": "United States",
        }
    ]
    assert announce(DECISIONS, of=FALL).honor_roll == []  # none designated: none published


def test_before_the_announcement_date_it_is_a_preview() -> None:
    assert announce(DECISIONS, today=date(2027, 9, 14)).preview
    assert "Preview, under embargo until 2027-09-15: not for publication." in render_markdown(
        announce(DECISIONS, today=date(2027, 9, 14))
    )


def test_a_late_award_is_announced_by_the_programme_s_rule() -> None:
    late = [decided("alpha", "new", "gold", at=LATE)]
    assert names(announce(late).newly_certified) == []
    assert names(announce(late, of=FALL).newly_certified) == ["alpha"]
    assert names(announce(late, rule="own_round").newly_certified) == ["alpha"]
    assert names(announce(late, rule="own_round", of=FALL).newly_certified) == []
    # An award of the fall round is never in the spring announcement, whatever the rule.
    assert announce([decided("golf", "new", "gold", round_id="2027-fall")]).certified == 0


def test_the_markdown_announcement_reads_as_the_programme_publishes_it() -> None:
    text = render_markdown(announce(DECISIONS))
    assert text == (
        "# Spring 2027: certified cities\n"
        "\n"
        "Announced on 2027-09-15.\n"
        "\n"
        "6 cities certified: 1 Platinum, 3 Gold, 2 Silver.\n"
        "\n"
        "## Newly certified\n"
        "\n"
        "### Platinum\n"
        "\n"
        "- Alpha, Ontario, Canada\n"
        "\n"
        "### Gold\n"
        "\n"
        "- Hotel \\[north\\], Maine, United States\n"
        "\n"
        "### Silver\n"
        "\n"
        "- Golf, Iowa, United States\n"
        "\n"
        "## Reached Platinum\n"
        "\n"
        "- Alpha, Ontario, Canada\n"
        "\n"
        "## Moved up a level\n"
        "\n"
        "- Bravo, Texas, United States: Silver → Gold\n"
        "\n"
        "## Re-certified at their level\n"
        "\n"
        "- Echo, Ohio, United States: Gold\n"
        "\n"
        "## Moved down a level\n"
        "\n"
        "- Charlie, Mexico: Gold → Silver\n"
        "\n"
        "## Honor Roll\n"
        "\n"
        "- Delta, Nevada, United States\n"
    )


def test_an_empty_round_says_so_in_each_section() -> None:
    text = render_markdown(announce([], of=FALL, today=date(2028, 3, 1)))
    assert "0 cities certified: 0 Platinum, 0 Gold, 0 Silver." in text
    assert text.count("_None._") == 6


def test_the_csv_has_one_row_per_city_and_section() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(announce(DECISIONS)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [
        (r["section"], r["city_id"], r["level"], r["previous_level"], r["reached_platinum"]) for r in rows
    ] == [
        ("newly_certified", "alpha", "platinum", "", "true"),
        ("newly_certified", "hotel", "gold", "", "false"),
        ("newly_certified", "golf", "silver", "", "false"),
        ("moved_up", "bravo", "gold", "silver", "false"),
        ("recertified", "echo", "gold", "", "false"),
        ("moved_down", "charlie", "silver", "gold", "false"),
        ("honor_roll", "delta", "", "", ""),
    ]
    assert rows[0]["country_name"] == "Canada" and rows[5]["region"] == ""


def test_a_csv_cell_that_would_run_as_a_formula_is_kept_as_text() -> None:
    places = {**PLACES, "alpha": Place("=HYPERLINK(1)", "Ontario", "CA")}
    a = build_announcement(
        SPRING, ROUNDS, DECISIONS[:1], places, rule="next_announcement", today=date(2027, 9, 15)
    )
    assert next(csv.DictReader(io.StringIO(render_csv(a))))["name"] == "'=HYPERLINK(1)"


def test_the_json_announcement_names_its_round_and_sections() -> None:
    dumped = announce(DECISIONS).model_dump(mode="json")
    assert dumped["round_id"] == "2027-spring" and dumped["announcement_on"] == "2027-09-15"
    assert dumped["moved_up"] == [
        {
            "city_id": "bravo",
            "name": "Bravo",
            "region": "Texas",
            "country": "US",
            "country_name": "United States",
            "level": "gold",
            "previous_level": "silver",
        }
    ]


def test_the_atom_feed_lists_announced_rounds_newest_first() -> None:
    feed = ET.fromstring(render_atom([SPRING, FALL], "https://cert.example.org", today=date(2028, 3, 2)))
    ns = {"a": ATOM}
    entries = feed.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == [
        "Fall 2027: certified cities",
        "Spring 2027: certified cities",
    ]
    assert feed.findtext("a:updated", namespaces=ns) == "2028-03-01T00:00:00Z"
    links = {link.get("type"): link.get("href") for link in entries[1].findall("a:link", ns)}
    assert links["text/markdown"] == "https://cert.example.org/public/rounds/2027-spring/announcement.md"
    assert entries[1].findtext("a:id", namespaces=ns) == (
        "https://cert.example.org/public/rounds/2027-spring/announcement.json"
    )
    assert feed.find("a:author/a:name", ns) is not None


def test_an_empty_feed_is_still_a_valid_feed() -> None:
    feed = ET.fromstring(render_atom([], "https://cert.example.org", today=date(2027, 1, 2)))
    assert feed.tag == f"{{{ATOM}}}feed" and feed.findall(f"{{{ATOM}}}entry") == []
    assert feed.findtext(f"{{{ATOM}}}updated") == "2027-01-02T00:00:00Z"


def test_a_decision_under_a_cohort_the_round_adopted_is_announced_with_the_round() -> None:
    # Given a city decided under "2027-Spring", a cohort of the data before rounds were records,
    # which the spring round adopted
    spring = SPRING.model_copy(update={"cohorts": ("2027-Spring",)})
    decisions = [decided("alpha", "new", "gold", round_id="2027-Spring")]
    announcement = build_announcement(
        spring, (spring, FALL), decisions, PLACES, rule="next_announcement", today=date(2027, 9, 15)
    )
    assert [(e.city_id, e.level) for e in announcement.newly_certified] == [("alpha", Level.GOLD)]
    # Not adopted: in no round's announcement.
    assert announce(decisions).newly_certified == []
