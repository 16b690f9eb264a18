"""The cohort report as a pure function of a cohort's decisions, and as Markdown."""

from __future__ import annotations

from typing import Any

from app.report import build_cohort_report, render_markdown
from domain import Level
from readmodel.queries import CohortDecision, DecisionOutcome

COHORT = "2027-spring"


def row(
    city_id: str, outcome: DecisionOutcome, level: str | None, previous: str | None = None, **kw: Any
) -> CohortDecision:
    return CohortDecision(
        city_id=city_id,
        version=kw.get("version", 10),
        outcome=outcome,
        level=Level(level) if level else None,
        previous_level=Level(previous) if previous else None,
        honor_roll=kw.get("honor_roll", False),
    )


def test_each_city_is_placed_by_its_latest_decision_in_the_cohort() -> None:
    report = build_cohort_report(
        COHORT,
        [
            row("zeta", "new", "silver"),
            row("alpha", "new", "platinum"),
            row("bravo", "elevated", "gold", "silver"),
            row("charlie", "downgraded", "silver", "gold"),
            row("echo", "sustained", "gold", "gold"),
            row("delta", "not_certified", None, honor_roll=True),
            # A city not certified first, certified later in the same cohort: the later one counts.
            row("hotel", "not_certified", None, version=12),
            row("hotel", "new", "silver", version=30),
        ],
    )
    dumped = report.model_dump(mode="json")
    assert dumped["new"] == [
        {"city_id": "alpha", "level": "platinum"},
        {"city_id": "hotel", "level": "silver"},
        {"city_id": "zeta", "level": "silver"},
    ]
    assert dumped["elevated"] == [{"city_id": "bravo", "from": "silver", "to": "gold"}]
    assert dumped["downgraded"] == [{"city_id": "charlie", "from": "gold", "to": "silver"}]
    assert dumped["sustained"] == [{"city_id": "echo", "level": "gold"}]
    assert dumped["not_certified"] == [{"city_id": "delta", "honor_roll": True}]
    assert dumped["counts"] == {"silver": 3, "gold": 2, "platinum": 1}


def test_an_empty_cohort_has_an_empty_report() -> None:
    report = build_cohort_report("none", [])
    assert report.counts == {"silver": 0, "gold": 0, "platinum": 0} and report.new == []
    assert "0 cities certified" in render_markdown(report)


def test_the_markdown_announcement() -> None:
    report = build_cohort_report(
        COHORT,
        [
            row("alpha", "new", "platinum"),
            row("zeta", "new", "silver"),
            row("bravo", "elevated", "platinum", "gold"),
            row("delta", "not_certified", None, honor_roll=True),
            row("foxtrot", "not_certified", None),
        ],
    )
    text = render_markdown(report)
    assert text.startswith("# Cohort 2027-spring\n\n3 cities certified: 2 Platinum, 0 Gold, 1 Silver.\n")
    assert "## Newly certified\n\n- alpha: Platinum\n- zeta: Silver\n" in text
    assert "## Reached Platinum\n\n- alpha\n- bravo\n" in text
    assert "## Moved up a level\n\n- bravo: Gold → Platinum\n" in text
    assert "## Re-certified at their level\n\n_None._\n" in text
    assert "## Not certified\n\n- delta (Honor Roll)\n- foxtrot\n" in text
