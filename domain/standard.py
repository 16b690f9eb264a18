"""A certification standard as data, its validating loader, and scoring against it.

Standards ship as JSON files under `domain/standards/` and are part of the code: a workflow that
scores a city against `wwc-2022` must get the same answer on every replay, so a published standard
is never edited in place; a new version gets a new file.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.errors import DomainError, Refusal
from domain.levels import Level

_T = TypeVar("_T")


class StandardError(DomainError):
    """A standard file that cannot be used, or a question it cannot answer."""


class UnknownStandard(StandardError):
    pass


class UnknownCriteria(StandardError):
    def __init__(self, version: str, unknown: Iterable[str]) -> None:
        self.unknown = sorted(set(unknown))
        super().__init__(Refusal("unknown criteria for {version}: {ids}", version=version, ids=self.unknown))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PracticeArea(_Frozen):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class Checklist(_Frozen):
    items: tuple[str, ...] = Field(min_length=1)
    min_met: int = Field(ge=1)

    @model_validator(mode="after")
    def _rule_fits(self) -> Checklist:
        if self.min_met > len(self.items):
            raise ValueError(f"checklist asks {self.min_met} of only {len(self.items)} items")
        return self


Provenance = Literal["public", "illustrative"]


class CriterionProvenance(_Frozen):
    """Which of a criterion's fields come from the programme's public record and which are ours,
    written to be plausible where the public record gives only the pattern."""

    title: Provenance = "public"
    checklist: Provenance = "illustrative"
    required_documents: Provenance = "illustrative"
    prerequisites: Provenance = "illustrative"
    tags: Provenance = "illustrative"


class Criterion(_Frozen):
    id: str = Field(min_length=1)
    practice_area: str
    title: str = Field(min_length=1)
    description: str = ""
    prerequisites: tuple[str, ...] = ()
    checklist: Checklist
    required_documents: tuple[str, ...] = ()
    # "equity" and "outcome" are read by the level rules (`TagRequirement`); others only shown.
    tags: tuple[str, ...] = ()
    provenance: CriterionProvenance | None = None  # None: a standard written before it was recorded
    # The criteria of other versions this one continues, by version: what a re-certifying city
    # earned before that this criterion asks again (`crosswalk`).
    carries_over_from: dict[str, tuple[str, ...]] = Field(default_factory=dict)


class TagRequirement(_Frozen):
    """At least `at_least` earned criteria carry `tag` (2022: progress on one resident outcome)."""

    tag: str = Field(min_length=1)
    at_least: int = Field(1, ge=1)

    def describe(self) -> str:
        return f"at least {self.at_least} earned criterion tagged {self.tag!r}"


class LevelRule(_Frozen):
    name: Level
    min_score: float = Field(gt=0, le=1)
    required_criteria: tuple[str, ...] = ()
    required_tags: tuple[TagRequirement, ...] = ()

    def unmet(self, earned: Iterable[str], standard: Standard) -> list[str]:
        """This level's requirements (besides the share) that `earned` does not meet, in words."""
        earned_set = set(earned)
        missing = [f"criterion {cid}" for cid in self.required_criteria if cid not in earned_set]
        for req in self.required_tags:
            have = sum(1 for c in standard.criteria if c.id in earned_set and req.tag in c.tags)
            if have < req.at_least:
                missing.append(f"{req.describe()} (has {have})")
        return missing


class ApplicationWindow(_Frozen):
    """The days, both included, on which cities may apply under a standard; no end: still open."""

    from_: date | None = Field(None, alias="from")
    until: date | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def is_open(self, on: date) -> bool:
        return (self.from_ is None or self.from_ <= on) and (self.until is None or on <= self.until)

    def describe(self) -> str:
        return self.in_words().english()

    def in_words(self) -> Refusal:
        """`describe` as a refusal names it (domain/errors.py), to be said in a person's language."""
        if self.from_ and self.until:
            return Refusal("open for applications from {start} until {end}", start=self.from_, end=self.until)
        if self.from_:
            return Refusal("open for applications from {start} with no end date", start=self.from_)
        if self.until:
            return Refusal("open for applications from the start until {end}", end=self.until)
        return Refusal("open for applications from the start with no end date")


class Score(_Frozen):
    """What a set of approved criteria earns: points after prerequisites, share, and level."""

    points: int
    possible: int
    score: float  # the exact share
    level: Level | None
    earned: tuple[str, ...]
    # The share as compared with the bands, after the standard's `share_rounding`.
    compared_share: float = 0.0
    # Why the next level up is not reached (requirements other than the share), in words.
    next_level_unmet: tuple[str, ...] = ()


ShareRounding = Literal["exact", "whole_percent"]


class Standard(_Frozen):
    version: str = Field(min_length=1)
    # A correction of a published version is a new revision beside it, never an edit: a cycle
    # records the revision it was reviewed against, and old histories keep theirs.
    revision: int = Field(1, ge=1)
    name: str
    effective_from: str
    # Absent from the first revisions: open on every day, as they were used.
    open_for_applications: ApplicationWindow = ApplicationWindow()
    # How a share is compared with the bands: "exact", or "whole_percent" (rounded half up to a
    # whole percent first, as the 2018 programme did: 30 of 45 is 67 %, Gold).
    share_rounding: ShareRounding = "exact"
    # Where the standard's parts come from (public record or ours), in words, by part.
    provenance: dict[str, str] = Field(default_factory=dict)
    practice_areas: tuple[PracticeArea, ...]
    criteria: tuple[Criterion, ...]
    levels: tuple[LevelRule, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Standard:
        problems = _problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def criterion_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise UnknownCriteria(self.version, [criterion_id])

    def check_known(self, criterion_ids: Iterable[str]) -> None:
        unknown = set(criterion_ids) - self.criterion_ids
        if unknown:
            raise UnknownCriteria(self.version, unknown)

    def level_rule(self, level: Level) -> LevelRule:
        return next(rule for rule in self.levels if rule.name == level)

    def is_open(self, at: datetime | date) -> bool:
        """Whether a city may apply under this standard on `at`'s day (UTC for a moment)."""
        day = at.date() if isinstance(at, datetime) else at
        return self.open_for_applications.is_open(day)

    def earned(self, approved: Iterable[str]) -> tuple[str, ...]:
        """The approved criteria that earn their point: every prerequisite, transitively, is
        approved too. In the standard's order."""
        approved_set = set(approved)
        self.check_known(approved_set)
        by_id = {c.id: c for c in self.criteria}

        def earns(cid: str) -> bool:
            return cid in approved_set and all(earns(p) for p in by_id[cid].prerequisites)

        return tuple(c.id for c in self.criteria if earns(c.id))

    def blocked_by(self, earned: Iterable[str]) -> dict[str, list[str]]:
        """For each criterion not earned, the direct prerequisites not earned that keep it from
        earning its point (criteria without such prerequisites are left out)."""
        earned_set = set(earned)
        return {
            c.id: missing
            for c in self.criteria
            if c.id not in earned_set and (missing := [p for p in c.prerequisites if p not in earned_set])
        }

    def _whole_percent(self, points: int) -> int:
        # Half up, in integers: no float lands 66.5 on the wrong side.
        possible = len(self.criteria)
        return (200 * points + possible) // (2 * possible)

    def compared_share(self, points: int) -> float:
        if self.share_rounding == "whole_percent":
            return self._whole_percent(points) / 100
        return points / len(self.criteria)

    def _share_reaches(self, points: int, rule: LevelRule) -> bool:
        if self.share_rounding == "whole_percent":
            return self._whole_percent(points) >= round(rule.min_score * 100)
        return points / len(self.criteria) >= rule.min_score

    def score(self, approved: Iterable[str]) -> Score:
        """Score approved criteria: a criterion earns its point only when every prerequisite,
        transitively, is approved too. A level is reached when its share (after the standard's
        rounding) and its requirements are met and every lower level is reached too; the level is
        the highest reached."""
        earned = self.earned(approved)
        possible = len(self.criteria)
        level: Level | None = None
        next_unmet: tuple[str, ...] = ()
        for rule in self.ordered_levels:
            unmet = rule.unmet(earned, self)
            if not self._share_reaches(len(earned), rule):
                unmet.insert(0, f"a share of {round(rule.min_score * 100)} %")
            if unmet:
                next_unmet = tuple(unmet)
                break
            level = rule.name
        return Score(
            points=len(earned),
            possible=possible,
            score=len(earned) / possible,
            level=level,
            earned=earned,
            compared_share=self.compared_share(len(earned)),
            next_level_unmet=next_unmet,
        )

    def in_earning_order(self) -> tuple[str, ...]:
        """Every criterion, in an order a city working toward the top level could take them: the
        levels' requirements first (for a tag, its tagged criteria with the fewest prerequisites),
        then the rest in the standard's order, each after its prerequisites. Every prefix earns a
        point per criterion, and a prefix that covers the requirements reaches the level its share
        allows."""
        by_id = {c.id: c for c in self.criteria}
        order: list[str] = []

        def depth(cid: str) -> int:
            return 1 + sum(depth(p) for p in by_id[cid].prerequisites)

        def take(cid: str) -> None:
            if cid in order:
                return
            for p in by_id[cid].prerequisites:
                take(p)
            order.append(cid)

        top = self.ordered_levels[-1]
        for cid in top.required_criteria:
            take(cid)
        for req in top.required_tags:
            tagged = sorted((c for c in self.criteria if req.tag in c.tags), key=lambda c: depth(c.id))
            for c in tagged[: req.at_least]:
                take(c.id)
        for c in self.criteria:
            take(c.id)
        return tuple(order)

    @property
    def ordered_levels(self) -> list[LevelRule]:
        """The level rules, Silver first."""
        return sorted(self.levels, key=lambda r: r.name.rank)

    @property
    def silver_threshold(self) -> float:
        return min(rule.min_score for rule in self.levels)


def _problems(std: Standard) -> list[str]:
    problems: list[str] = []
    area_ids = [a.id for a in std.practice_areas]
    problems += [f"duplicate practice area id {a!r}" for a in _duplicates(area_ids)]
    ids = [c.id for c in std.criteria]
    problems += [f"duplicate criterion id {c!r}" for c in _duplicates(ids)]
    known = set(ids)
    for c in std.criteria:
        if c.practice_area not in area_ids:
            problems.append(f"criterion {c.id!r} names unknown practice area {c.practice_area!r}")
        for p in c.prerequisites:
            if p not in known:
                problems.append(f"criterion {c.id!r} requires unknown criterion {p!r}")
    cycle = _find_cycle({c.id: [p for p in c.prerequisites if p in known] for c in std.criteria})
    if cycle:
        problems.append("prerequisites form a cycle: " + " -> ".join(cycle))
    names = [rule.name for rule in std.levels]
    problems += [f"level {n.value!r} defined twice" for n in _duplicates(names)]
    if set(names) != set(Level):
        missing = sorted(level.value for level in set(Level) - set(names))
        if missing:
            problems.append(f"levels missing: {', '.join(missing)}")
    ordered = [rule for lvl in Level for rule in std.levels if rule.name == lvl]
    for lower, higher in itertools.pairwise(ordered):
        if higher.min_score <= lower.min_score:
            problems.append(
                f"thresholds not increasing: {higher.name.value} ({higher.min_score}) "
                f"<= {lower.name.value} ({lower.min_score})"
            )
    for rule in std.levels:
        for cid in rule.required_criteria:
            if cid not in known:
                problems.append(f"level {rule.name.value!r} requires unknown criterion {cid!r}")
        for tag_req in rule.required_tags:
            tagged = sum(1 for c in std.criteria if tag_req.tag in c.tags)
            if tagged < tag_req.at_least:
                problems.append(
                    f"level {rule.name.value!r} requires {tag_req.describe()}, "
                    f"but only {tagged} criteria carry that tag"
                )
    problems += _not_cumulative(ordered)
    window = std.open_for_applications
    if window.from_ and window.until and window.until < window.from_:
        problems.append(f"open for applications until {window.until} before it opens on {window.from_}")
    return problems


def _not_cumulative(ordered: list[LevelRule]) -> list[str]:
    """A higher level carries every lower level's requirements: each required criterion, and
    each tag requirement at least as high."""
    problems: list[str] = []
    for i, higher in enumerate(ordered):
        for lower in ordered[:i]:
            for cid in lower.required_criteria:
                if cid not in higher.required_criteria:
                    problems.append(
                        f"level {higher.name.value!r} lacks criterion {cid}, which the lower level "
                        f"{lower.name.value!r} requires"
                    )
            for req in lower.required_tags:
                if not any(h.tag == req.tag and h.at_least >= req.at_least for h in higher.required_tags):
                    problems.append(
                        f"level {higher.name.value!r} lacks {req.describe()}, which the lower level "
                        f"{lower.name.value!r} requires"
                    )
    return problems


def crosswalk_problems(std: Standard, lookup: Callable[[str], Standard]) -> list[str]:
    """Every criterion a crosswalk entry names exists in the version it names."""
    problems: list[str] = []
    for c in std.criteria:
        for version, ids in c.carries_over_from.items():
            if version == std.version:
                problems.append(f"criterion {c.id!r} carries over from its own version {version}")
                continue
            try:
                other = lookup(version)
            except StandardError:
                problems.append(f"criterion {c.id!r} carries over from unknown standard {version!r}")
                continue
            problems += [
                f"criterion {c.id!r} carries over from {version} criterion {cid!r}, which {version} lacks"
                for cid in ids
                if cid not in other.criterion_ids
            ]
    return problems


def _duplicates(values: list[_T]) -> list[_T]:
    seen: set[_T] = set()
    dups: list[_T] = []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.add(v)
    return dups


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in graph.get(node, []):
            found = visit(nxt)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in graph:
        found = visit(start)
        if found:
            return found
    return None


def parse_standard(
    raw: str | bytes | dict[str, Any],
    *,
    source: str = "standard",
    others: Callable[[str], Standard] | None = None,
) -> Standard:
    """Validate a standard; a bad one is refused with every problem named. With `others` (a
    version's newest standard by name), the criteria its crosswalk names are checked too."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError as e:
        raise StandardError(f"{source}: not valid JSON: {e}") from e
    try:
        std = Standard.model_validate(data)
    except ValidationError as e:
        details = "; ".join(_describe(err) for err in e.errors())
        raise StandardError(f"{source} is invalid: {details}") from e
    problems = crosswalk_problems(std, others) if others is not None else []
    if problems:
        raise StandardError(f"{source} is invalid: {'; '.join(problems)}")
    return std


def _describe(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "standard"
    return f"{where}: {str(err['msg']).removeprefix('Value error, ')}"


def _shipped() -> dict[tuple[str, int], Any]:
    """Every shipped standard file, by (version, revision): `<version>.json` is a version's newest
    revision, `<version>.r<N>.json` an older one kept so that cycles reviewed against it still
    decide as they did."""
    folder = resources.files("domain") / "standards"
    found: dict[tuple[str, int], Any] = {}
    for path in folder.iterdir():
        if not path.name.endswith(".json"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        found[(str(data.get("version")), int(data.get("revision", 1)))] = path
    return found


@cache
def _index() -> dict[tuple[str, int], Any]:
    return _shipped()


def available_versions() -> list[str]:
    return sorted({version for version, _ in _index()})


def revisions(version: str) -> list[int]:
    """The shipped revisions of `version`, oldest first."""
    return sorted(rev for v, rev in _index() if v == version)


@cache
def get_standard(version: str, revision: int | None = None) -> Standard:
    """The shipped standard `version` at `revision` (its newest when None), loaded once per process.

    The version is matched against the shipped ones before it names a file: a caller's text never
    becomes a path (`../../x` would otherwise tell whether any JSON file exists, and what it holds)."""
    return _load(version, revision, frozenset())


def _load(version: str, revision: int | None, loading: frozenset[str]) -> Standard:
    """Load and validate one standard; `loading` are the versions whose crosswalks led here. It is
    passed down, not kept in a module: workers load standards on several threads at once, and a
    shared record of what is loading made one thread's load look like another's loop."""
    if version not in available_versions():
        raise UnknownStandard(
            Refusal(
                "unknown standard version {version!r}; available: {versions}",
                version=version,
                versions=list(available_versions()),
            )
        )
    known = revisions(version)
    wanted = known[-1] if revision is None else revision
    if wanted not in known:
        raise UnknownStandard(
            Refusal(
                "standard {version} has no revision {revision}; shipped: {revisions}",
                version=version,
                revision=wanted,
                revisions=list(known),
            )
        )
    path = _index()[(version, wanted)]
    chain = loading | {version}

    def crosswalked(other: str) -> Standard:
        if other in chain:
            raise StandardError(f"standards {', '.join(sorted(chain))} name each other's criteria in a loop")
        return _load(other, None, chain)

    return parse_standard(
        path.read_text(encoding="utf-8"), source=f"standard {version} revision {wanted}", others=crosswalked
    )


def open_versions(at: datetime | date) -> list[str]:
    """The versions a city may apply under on `at`'s day (each version's newest revision decides)."""
    return [v for v in available_versions() if get_standard(v).is_open(at)]


class CarriedOver(_Frozen):
    criterion_id: str
    title: str
    carries_over_from: tuple[str, ...]


class Crosswalk(_Frozen):
    """What a city certified under `from_version` finds again in `version`: the criteria that
    continue older ones, the new ones, and the older criteria nothing continues."""

    version: str
    from_version: str
    carried_over: tuple[CarriedOver, ...]
    new: tuple[str, ...]
    retired: tuple[str, ...]


def crosswalk(newer: Standard, older: Standard) -> Crosswalk:
    carried = tuple(
        CarriedOver(criterion_id=c.id, title=c.title, carries_over_from=c.carries_over_from[older.version])
        for c in newer.criteria
        if c.carries_over_from.get(older.version)
    )
    continued = {cid for item in carried for cid in item.carries_over_from}
    return Crosswalk(
        version=newer.version,
        from_version=older.version,
        carried_over=carried,
        new=tuple(c.id for c in newer.criteria if not c.carries_over_from.get(older.version)),
        retired=tuple(c.id for c in older.criteria if c.id not in continued),
    )
