"""A certification standard as data, its validating loader, and scoring against it.

Standards ship as JSON files under `domain/standards/` and are part of the code: a workflow that
scores a city against `wwc-2022` must get the same answer on every replay, so a published standard
is never edited in place; a new version gets a new file.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.errors import DomainError
from domain.levels import Level

_T = TypeVar("_T")


class StandardError(DomainError):
    """A standard file that cannot be used, or a question it cannot answer."""


class UnknownStandard(StandardError):
    pass


class UnknownCriteria(StandardError):
    def __init__(self, version: str, unknown: Iterable[str]) -> None:
        self.unknown = sorted(set(unknown))
        super().__init__(f"unknown criteria for {version}: {', '.join(self.unknown)}")


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


class Criterion(_Frozen):
    id: str = Field(min_length=1)
    practice_area: str
    title: str = Field(min_length=1)
    description: str = ""
    prerequisites: tuple[str, ...] = ()
    checklist: Checklist
    required_documents: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class LevelRule(_Frozen):
    name: Level
    min_score: float = Field(gt=0, le=1)
    required_criteria: tuple[str, ...] = ()


class Score(_Frozen):
    """What a set of approved criteria earns: points after prerequisites, share, and level."""

    points: int
    possible: int
    score: float
    level: Level | None
    earned: tuple[str, ...]


class Standard(_Frozen):
    version: str = Field(min_length=1)
    # A correction of a published version is a new revision beside it, never an edit: a cycle
    # records the revision it was reviewed against, and old histories keep theirs.
    revision: int = Field(1, ge=1)
    name: str
    effective_from: str
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

    def score(self, approved: Iterable[str]) -> Score:
        """Score approved criteria: a criterion earns its point only when every prerequisite,
        transitively, is approved too; the level is the highest whose share and required
        criteria are both met."""
        approved_set = set(approved)
        self.check_known(approved_set)
        by_id = {c.id: c for c in self.criteria}

        def earns(cid: str) -> bool:
            return cid in approved_set and all(earns(p) for p in by_id[cid].prerequisites)

        earned = tuple(c.id for c in self.criteria if earns(c.id))
        possible = len(self.criteria)
        share = len(earned) / possible
        level: Level | None = None
        for rule in sorted(self.levels, key=lambda r: r.min_score):
            if share >= rule.min_score and set(rule.required_criteria) <= set(earned):
                level = rule.name
        return Score(points=len(earned), possible=possible, score=share, level=level, earned=earned)

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


def parse_standard(raw: str | bytes | dict[str, Any], *, source: str = "standard") -> Standard:
    """Validate a standard; a bad one is refused with every problem named."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError as e:
        raise StandardError(f"{source}: not valid JSON: {e}") from e
    try:
        return Standard.model_validate(data)
    except ValidationError as e:
        details = "; ".join(_describe(err) for err in e.errors())
        raise StandardError(f"{source} is invalid: {details}") from e


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
    if version not in available_versions():
        raise UnknownStandard(
            f"unknown standard version {version!r}; available: {', '.join(available_versions())}"
        )
    known = revisions(version)
    wanted = known[-1] if revision is None else revision
    if wanted not in known:
        raise UnknownStandard(
            f"standard {version} has no revision {wanted}; shipped: {', '.join(map(str, known))}"
        )
    path = _index()[(version, wanted)]
    std = parse_standard(path.read_text(encoding="utf-8"), source=f"standard {version} revision {wanted}")
    return std
