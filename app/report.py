"""The cohort report: what an announcement round says about one cohort, from its decisions.

`build_cohort_report` is pure (the read model's decisions in, report out), so the CLI's
`citycert cohort report COHORT` and GET /v1/cohorts/{cohort}/report give the same answer;
`render_markdown` prints it for people. Each city counts once, by its latest decision in the
cohort; imported certifications were announced elsewhere and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.levels import Level
from eventstore import EventStore
from readmodel import CohortDecision, cohort_rows


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)


class Placed(_Entry):
    city_id: str
    level: Level


class Moved(_Entry):
    city_id: str
    from_level: Level = Field(alias="from")
    to: Level


class NotCertified(_Entry):
    city_id: str
    honor_roll: bool


class CohortReport(_Entry):
    cohort: str
    new: list[Placed] = []
    elevated: list[Moved] = []
    sustained: list[Placed] = []
    downgraded: list[Moved] = []
    not_certified: list[NotCertified] = []
    counts: dict[Level, int] = Field(description="certified cities per level")

    @property
    def certified(self) -> int:
        return sum(self.counts.values())


def build_cohort_report(cohort: str, decisions: Iterable[CohortDecision]) -> CohortReport:
    """The report of `cohort` from its decisions; decisions of other cohorts must not be passed."""
    latest: dict[str, CohortDecision] = {}
    for decision in decisions:
        seen = latest.get(decision.city_id)
        if seen is None or decision.version > seen.version:
            latest[decision.city_id] = decision
    report: dict[str, list[Any]] = {
        "new": [],
        "elevated": [],
        "sustained": [],
        "downgraded": [],
        "not_certified": [],
    }
    counts = dict.fromkeys(Level, 0)
    for city_id in sorted(latest):
        decision = latest[city_id]
        outcome = decision.outcome
        if outcome == "not_certified" or decision.level is None:
            report["not_certified"].append(NotCertified(city_id=city_id, honor_roll=decision.honor_roll))
            continue
        level = decision.level
        counts[level] += 1
        if outcome in ("new", "sustained"):
            report[outcome].append(Placed(city_id=city_id, level=level))
        else:
            assert decision.previous_level is not None, "a city moves up or down from a level it held"
            report[outcome].append(Moved(city_id=city_id, from_level=decision.previous_level, to=level))
    return CohortReport(cohort=cohort, counts=counts, **report)


async def load_cohort_report(store: EventStore, cohort: str) -> CohortReport:
    return build_cohort_report(cohort, await cohort_rows(store, cohort))


def _title(level: Level) -> str:
    return level.value.capitalize()


def render_markdown(report: CohortReport) -> str:
    """The report as a Markdown announcement, highest levels first within each section."""
    by_rank = sorted(Level, key=lambda lv: lv.rank, reverse=True)
    per_level = ", ".join(f"{report.counts[lv]} {_title(lv)}" for lv in by_rank)
    lines = [f"# Cohort {report.cohort}", "", f"{report.certified} cities certified: {per_level}."]

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", f"## {title}", ""])
        if items:
            lines.extend(f"- {item}" for item in items)
        else:
            lines.append("_None._")

    def placed(entries: list[Placed]) -> list[str]:
        ordered = sorted(entries, key=lambda e: (-e.level.rank, e.city_id))
        return [f"{e.city_id}: {_title(e.level)}" for e in ordered]

    def moved(entries: list[Moved]) -> list[str]:
        ordered = sorted(entries, key=lambda e: (-e.to.rank, e.city_id))
        return [f"{e.city_id}: {_title(e.from_level)} → {_title(e.to)}" for e in ordered]

    reached_platinum = sorted(
        [e.city_id for e in report.new if e.level is Level.PLATINUM]
        + [e.city_id for e in report.elevated if e.to is Level.PLATINUM]
    )
    section("Newly certified", placed(report.new))
    section("Reached Platinum", reached_platinum)
    section("Moved up a level", moved(report.elevated))
    section("Re-certified at their level", placed(report.sustained))
    section("Moved down a level", moved(report.downgraded))
    section(
        "Not certified",
        [f"{e.city_id}{' (Honor Roll)' if e.honor_roll else ''}" for e in report.not_certified],
    )
    return "\n".join(lines) + "\n"
