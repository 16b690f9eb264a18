"""Rounds: the programme's application and announcement rounds, as records in its own stream.

A round is created by an operator with its dates: cities apply while it is open (opens_on to
closes_on), send their evidence by the submission deadline, and the programme announces the
round's certified cities, with the Honor Roll the committee designates, on its announcement date.
Everything here is pure: the application layer folds the programme stream, decides with the day it
reads from the clock, and records what these functions return.

Our choice on overlapping rounds: two rounds' application windows may not overlap, so on any day
at most one round is open for applications (the programme runs one or two a year). The review and
announcement periods of one round may overlap the next round's application window. A programme
that runs rounds side by side (one per region, say) says so (`may_overlap`, the setting
CITYCERT_ROUNDS_MAY_OVERLAP).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from domain.commands import Command
from domain.errors import CommandRejected, InvalidCommand, Refusal
from domain.events import DomainEvent
from domain.ids import CityId, Name

ROUND_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
ROUND_ID_MESSAGE = (
    "must be a round id: 1 to 40 lowercase letters, digits or hyphens, starting and ending with a "
    "letter or digit, such as 2026-spring"
)
MAX_REVIEW_CAPACITY = 10_000
MAX_HONOR_ROLL = 200
_ROUND_ID = re.compile(ROUND_ID_PATTERN)

LateAwards = Literal["next_announcement", "own_round"]
"""Where an award made after its round's announcement date is announced: in the next round
announced on or after the award day (the programme's usual rule), or in its own round regardless."""
LATE_AWARD_RULES: tuple[LateAwards, ...] = ("next_announcement", "own_round")


def _round_id_in_words(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError as e:
        if any(err["type"] == "string_pattern_mismatch" for err in e.errors()):
            raise ValueError(ROUND_ID_MESSAGE) from None
        raise


RoundId = Annotated[str, StringConstraints(pattern=ROUND_ID_PATTERN), WrapValidator(_round_id_in_words)]
"""A round's id: a lowercase slug such as 2026-spring, the same in every URL and export."""


def is_round_id(value: str) -> bool:
    """Whether `value` could be a round's id (for a path, before any lookup)."""
    return _ROUND_ID.fullmatch(value) is not None


ReviewCapacity = Annotated[int, Field(ge=1, le=MAX_REVIEW_CAPACITY)]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoundDates(_Value):
    """A round's four dates, in the order they must come."""

    opens_on: date
    closes_on: date
    submission_deadline: date
    announcement_on: date

    def out_of_order(self) -> Refusal | None:
        """Why these dates are not in order, in words; None when they are."""
        if self.opens_on > self.closes_on:
            return Refusal(
                "a round must open (opens_on {opens_on}) on or before the day it closes "
                "(closes_on {closes_on})",
                opens_on=self.opens_on,
                closes_on=self.closes_on,
            )
        if self.closes_on > self.submission_deadline:
            return Refusal(
                "the submission deadline ({deadline}) must be on or after the day applications close "
                "({closes_on})",
                deadline=self.submission_deadline,
                closes_on=self.closes_on,
            )
        if self.submission_deadline >= self.announcement_on:
            return Refusal(
                "the announcement ({announcement_on}) must come after the submission deadline ({deadline})",
                announcement_on=self.announcement_on,
                deadline=self.submission_deadline,
            )
        return None


class HonorRoll(_Value):
    """The cities the committee named on a round's Honor Roll, and who named them when."""

    city_ids: tuple[str, ...]
    designated_by: str
    designated_at: AwareDatetime


class Round(RoundDates):
    round_id: str
    name: str
    review_capacity: int
    created_by: str
    created_at: AwareDatetime
    honor_roll: HonorRoll | None = None  # None: not designated yet
    # The free-text cohorts recorded before rounds were records that are this round (AdoptCohorts):
    # their cycles and decisions are the round's.
    cohorts: tuple[str, ...] = ()

    @property
    def recorded_as(self) -> tuple[str, ...]:
        """Every value a cycle of this round records as its cohort: the round's id, then those adopted."""
        return (self.round_id, *self.cohorts)

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on

    def announced(self, today: date) -> bool:
        """Whether the announcement is public on `today` (from its date on, in UTC)."""
        return today >= self.announcement_on

    def window(self) -> str:
        return f"{self.opens_on} to {self.closes_on}"


# Events ---------------------------------------------------------------------------------------


class RoundCreated(DomainEvent):
    round_id: str
    name: str
    opens_on: date
    closes_on: date
    submission_deadline: date
    announcement_on: date
    review_capacity: int
    created_by: str
    created_at: AwareDatetime


class RoundChanged(DomainEvent):
    """What changed of a round (a field left None did not change), by whom and when."""

    round_id: str
    changed_by: str
    changed_at: AwareDatetime
    name: str | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    submission_deadline: date | None = None
    announcement_on: date | None = None
    review_capacity: int | None = None


class HonorRollDesignated(DomainEvent):
    """The committee's Honor Roll of a round; it replaces the round's earlier designation."""

    round_id: str
    city_ids: tuple[str, ...]
    designated_by: str
    designated_at: AwareDatetime


class CohortsAdopted(DomainEvent):
    """Cohorts recorded as free text before rounds were records, adopted by a round: what cities
    applied to under those names is the round's from now on (the events keep the names)."""

    round_id: str
    cohorts: tuple[str, ...]
    adopted_by: str
    adopted_at: AwareDatetime


ROUND_EVENTS: tuple[type[DomainEvent], ...] = (
    RoundCreated,
    RoundChanged,
    HonorRollDesignated,
    CohortsAdopted,
)

# Commands -------------------------------------------------------------------------------------


class CreateRound(Command):
    kind: Literal["CreateRound"] = "CreateRound"
    round_id: RoundId
    name: Name
    opens_on: date
    closes_on: date
    submission_deadline: date
    announcement_on: date
    review_capacity: ReviewCapacity

    @model_validator(mode="after")
    def _dates_in_order(self) -> CreateRound:
        wrong = _dates(self).out_of_order()
        if wrong:
            raise ValueError(wrong.english())
        return self


_CHANGEABLE = ("name", "opens_on", "closes_on", "submission_deadline", "announcement_on", "review_capacity")


class ChangeRound(Command):
    """Change some of a round's name, dates and capacity (the others stay as they are)."""

    kind: Literal["ChangeRound"] = "ChangeRound"
    round_id: RoundId
    name: Name | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    submission_deadline: date | None = None
    announcement_on: date | None = None
    review_capacity: ReviewCapacity | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeRound:
        if all(getattr(self, name) is None for name in _CHANGEABLE):
            raise ValueError(f"say what to change: one or more of {', '.join(_CHANGEABLE)}")
        return self


class DesignateHonorRoll(Command):
    """The committee names a round's Honor Roll (replacing an earlier one; an empty list clears it)."""

    kind: Literal["DesignateHonorRoll"] = "DesignateHonorRoll"
    round_id: RoundId
    city_ids: list[CityId] = Field(max_length=MAX_HONOR_ROLL)

    @model_validator(mode="after")
    def _once_each(self) -> DesignateHonorRoll:
        twice = sorted({c for c in self.city_ids if self.city_ids.count(c) > 1})
        if twice:
            raise ValueError(f"cities named more than once: {', '.join(twice)}")
        return self


class AdoptCohorts(Command):
    """An operator makes cohorts recorded as free text (before rounds were records) the round's."""

    kind: Literal["AdoptCohorts"] = "AdoptCohorts"
    round_id: RoundId
    cohorts: list[Name] = Field(min_length=1, max_length=MAX_HONOR_ROLL)


ROUND_COMMANDS: tuple[type[Command], ...] = (CreateRound, ChangeRound, DesignateHonorRoll, AdoptCohorts)
RoundCommand = CreateRound | ChangeRound | DesignateHonorRoll | AdoptCohorts


def _dates(source: CreateRound | RoundDates) -> RoundDates:
    return RoundDates(
        opens_on=source.opens_on,
        closes_on=source.closes_on,
        submission_deadline=source.submission_deadline,
        announcement_on=source.announcement_on,
    )


# Rules ----------------------------------------------------------------------------------------


def find_round(rounds: Iterable[Round], round_id: str) -> Round | None:
    return next((r for r in rounds if r.round_id == round_id), None)


def round_recorded_as(rounds: Iterable[Round], cohort: str) -> str | None:
    """The id of the round a cycle's recorded cohort belongs to (its own id, or one it adopted)."""
    return next((r.round_id for r in rounds if cohort in r.recorded_as), None)


def _overlapping(candidate: RoundDates, others: Iterable[Round]) -> Round | None:
    return next(
        (r for r in others if candidate.opens_on <= r.closes_on and r.opens_on <= candidate.closes_on),
        None,
    )


def utc_day(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("rounds are decided with an aware datetime for now")
    return now.astimezone(UTC).date()


def decide_round(
    rounds: tuple[Round, ...],
    command: RoundCommand,
    *,
    now: datetime,
    by: str,
    may_overlap: bool = False,
) -> list[DomainEvent]:
    """The events `command` causes given the rounds recorded so far, by `by` at `now`;
    CommandRejected (409) when the rules do not allow it now, InvalidCommand (422) for dates that
    a change would put out of order. `may_overlap`: rounds' application windows may overlap."""
    today = utc_day(now)
    match command:
        case CreateRound():
            return [_create(rounds, command, now, by, may_overlap)]
        case ChangeRound():
            return [_change(rounds, command, now, today, by, may_overlap)]
        case AdoptCohorts():
            return [_adopt(rounds, command, now, by)]
        case DesignateHonorRoll():
            found = _known(rounds, command.round_id)
            if found.announced(today):
                raise CommandRejected(
                    "round {round} was announced on {day}: its Honor Roll "
                    "is part of the published announcement and can no longer be changed",
                    round=found.round_id,
                    day=found.announcement_on,
                )
            return [
                HonorRollDesignated(
                    round_id=found.round_id,
                    city_ids=tuple(command.city_ids),
                    designated_by=by,
                    designated_at=now,
                )
            ]


def _known(rounds: tuple[Round, ...], round_id: str) -> Round:
    found = find_round(rounds, round_id)
    if found is None:
        raise CommandRejected(
            "there is no round {round}; {known}", round=round_id, known=_known_rounds(rounds)
        )
    return found


def _known_rounds(rounds: Iterable[Round]) -> Refusal:
    ids = [r.round_id for r in rounds]
    return Refusal("the rounds are {ids}", ids=ids) if ids else Refusal("no round has been created yet")


def _create(
    rounds: tuple[Round, ...], command: CreateRound, now: datetime, by: str, may_overlap: bool
) -> RoundCreated:
    same = find_round(rounds, command.round_id)
    if same is not None:
        raise CommandRejected(
            "round {round} exists already (created on {day} by "
            "{created_by}); a round id is used once: change that round or choose another id",
            round=command.round_id,
            day=same.created_at.date(),
            created_by=same.created_by,
        )
    clash = None if may_overlap else _overlapping(_dates(command), rounds)
    if clash is not None:
        raise CommandRejected(_overlap_message(command.round_id, _dates(command), clash))
    # A round whose dates are all past may be created: it records a round the programme ran before
    # citycert (the cohorts already in the data become rounds).
    return RoundCreated(**command.model_dump(exclude={"kind"}), created_by=by, created_at=now)


def _adopt(rounds: tuple[Round, ...], command: AdoptCohorts, now: datetime, by: str) -> CohortsAdopted:
    found = _known(rounds, command.round_id)
    for cohort in command.cohorts:
        owner = next((r for r in rounds if cohort in r.recorded_as), None)
        if owner is not None:
            whose = (
                Refusal("a round's own id")
                if owner.round_id == cohort
                else Refusal("adopted by round {round}", round=owner.round_id)
            )
            raise CommandRejected(
                "cohort {cohort!r} is {whose} already: a cohort belongs to one round",
                cohort=cohort,
                whose=whose,
            )
    adopted = tuple(dict.fromkeys(command.cohorts))
    return CohortsAdopted(round_id=found.round_id, cohorts=adopted, adopted_by=by, adopted_at=now)


def _overlap_message(round_id: str, dates: RoundDates, clash: Round) -> Refusal:
    return Refusal(
        "round {round} would be open for applications ({opens_on} to {closes_on}) "
        "while round {other} is ({other_opens_on} to {other_closes_on}); at most one round is open at a time",
        round=round_id,
        opens_on=dates.opens_on,
        closes_on=dates.closes_on,
        other=clash.round_id,
        other_opens_on=clash.opens_on,
        other_closes_on=clash.closes_on,
    )


def _change(
    rounds: tuple[Round, ...], command: ChangeRound, now: datetime, today: date, by: str, may_overlap: bool
) -> RoundChanged:
    found = _known(rounds, command.round_id)
    if found.announced(today):
        raise CommandRejected(
            "round {round} was announced on {day}; an announced round's record stands as it was published",
            round=found.round_id,
            day=found.announcement_on,
        )
    changes = {
        name: value
        for name in _CHANGEABLE
        if (value := getattr(command, name)) is not None and value != getattr(found, name)
    }
    if not changes:
        raise CommandRejected("round {round} already is as asked: nothing changes", round=found.round_id)
    if "announcement_on" in changes and changes["announcement_on"] < today:
        raise CommandRejected(
            "the announcement cannot be moved into the past ({day}); the earliest it can be is today, "
            "{today}",
            day=changes["announcement_on"],
            today=today,
        )
    after = found.model_copy(update=changes)
    wrong = _dates(after).out_of_order()
    if wrong:
        raise InvalidCommand(wrong)
    others = (r for r in rounds if r.round_id != found.round_id)
    clash = None if may_overlap else _overlapping(after, others)
    if clash is not None:
        raise CommandRejected(_overlap_message(found.round_id, after, clash))
    return RoundChanged(round_id=found.round_id, changed_by=by, changed_at=now, **changes)


def evolve_rounds(rounds: tuple[Round, ...], event: DomainEvent) -> tuple[Round, ...]:
    """The rounds after one of their events (in creation order)."""
    match event:
        case RoundCreated():
            created = Round(**event.model_dump())
            return (*rounds, created)
        case RoundChanged():
            changes = {n: v for n in _CHANGEABLE if (v := getattr(event, n)) is not None}
            return tuple(r.model_copy(update=changes) if r.round_id == event.round_id else r for r in rounds)
        case CohortsAdopted():
            return tuple(
                r.model_copy(update={"cohorts": (*r.cohorts, *event.cohorts)})
                if r.round_id == event.round_id
                else r
                for r in rounds
            )
        case HonorRollDesignated():
            roll = HonorRoll(
                city_ids=event.city_ids, designated_by=event.designated_by, designated_at=event.designated_at
            )
            return tuple(
                r.model_copy(update={"honor_roll": roll}) if r.round_id == event.round_id else r
                for r in rounds
            )
    raise TypeError(f"evolve_rounds does not know event {type(event).__name__}")


# Bringing the cohorts of earlier data in ---------------------------------------------------------


class RecordedCohort(_Value):
    """A cohort as the store recorded it before rounds were records: the first and last days a
    city applied under it, and the last day a decision in it took effect (None: none yet)."""

    cohort: str
    first_applied: date
    last_applied: date
    last_decided: date | None = None


def round_id_for(cohort: str) -> str | None:
    """The round id a free-text cohort becomes: lowercase, each run of other characters a hyphen
    ("2026-Spring" and "2026 spring" are both 2026-spring); None when nothing of it is left."""
    slug = re.sub(r"[^a-z0-9]+", "-", cohort.lower()).strip("-")[:40].rstrip("-")
    return slug if slug and is_round_id(slug) else None


def adoption_plan(
    rounds: tuple[Round, ...], recorded: Iterable[RecordedCohort]
) -> tuple[list[CreateRound | AdoptCohorts], list[str]]:
    """What makes every cohort no round covers yet a round's: for each round id the cohorts become,
    the round (created, when none exists, with the dates the data shows: applications from the
    first to the last day one was made, announced the day after the last decision) and the adoption
    of the cohorts not spelled as its id. Also the cohorts that cannot become a round id."""
    covered = {name for r in rounds for name in r.recorded_as}
    groups: dict[str, list[RecordedCohort]] = {}
    unnamed: list[str] = []
    for found in sorted(recorded, key=lambda r: r.cohort):
        if found.cohort in covered:
            continue
        round_id = round_id_for(found.cohort)
        if round_id is None:
            unnamed.append(found.cohort)
        else:
            groups.setdefault(round_id, []).append(found)
    plan: list[CreateRound | AdoptCohorts] = []
    for round_id, cohorts in sorted(groups.items()):
        if find_round(rounds, round_id) is None:
            opens = min(c.first_applied for c in cohorts)
            closes = max(c.last_applied for c in cohorts)
            decided = max((c.last_decided for c in cohorts if c.last_decided), default=closes)
            plan.append(
                CreateRound(
                    round_id=round_id,
                    name=f"{round_id} (from the cohorts recorded before rounds)",
                    opens_on=opens,
                    closes_on=closes,
                    submission_deadline=closes,
                    announcement_on=max(decided, closes) + timedelta(days=1),
                    review_capacity=MAX_REVIEW_CAPACITY,
                )
            )
        others = [c.cohort for c in cohorts if c.cohort != round_id]
        if others:
            plan.append(AdoptCohorts(round_id=round_id, cohorts=others))
    return plan, unnamed


# What the application path asks -----------------------------------------------------------------


def open_rounds(rounds: Iterable[Round], today: date) -> list[Round]:
    return sorted((r for r in rounds if r.is_open(today)), key=lambda r: r.opens_on)


def announced_in(
    award_day: date, award_round_id: str, rounds: Iterable[Round], rule: LateAwards = "next_announcement"
) -> str | None:
    """The round whose announcement names an award made on `award_day` in round `award_round_id`:
    its own when it was made by that round's announcement date; a late one by `rule`, the next
    round announced on or after the award day ("next_announcement") or its own regardless
    ("own_round"). None when no round announces it (yet): a later round may, once it is created;
    an award in a cohort that is not a round is in no round's announcement."""
    if rule not in LATE_AWARD_RULES:
        raise ValueError(f"the late-award rule is one of {', '.join(LATE_AWARD_RULES)}, not {rule!r}")
    known = list(rounds)
    own = find_round(known, award_round_id)
    if own is None:
        return None
    if award_day <= own.announcement_on or rule == "own_round":
        return own.round_id
    later = sorted(
        (r for r in known if r.announcement_on >= award_day), key=lambda r: (r.announcement_on, r.round_id)
    )
    return later[0].round_id if later else None


# A round's review capacity --------------------------------------------------------------------------
#
# The capacity is how many cities the round's reviewers can take: an application beyond it is
# refused, and the city is pointed to the next round it can apply to. Not a waiting list: the
# programme runs fixed rounds with published dates, and a city kept waiting for a place that may
# never free up could not plan its evidence for the next one. Every city that applied in the round
# holds its place (a withdrawal does not give it back: the reviewers may have started, and an
# operator who wants another city in raises the capacity); a city that applied in it before (and
# withdrew, then came back) applies again in its own place. Lowering the capacity below the cities
# that applied is allowed: it is how an operator closes a round to further applications.


def refuse_beyond_capacity(
    rounds: Iterable[Round], round_id: str, applied: Collection[str], city_id: str, today: date
) -> None:
    """CommandRejected when round `round_id` has no place for `city_id`: the cities in `applied`
    (those that applied in it, under any name its cycles record) fill its review capacity and the
    city is not one of them. Nothing when the round is unknown (the city's rules refuse that)."""
    known = list(rounds)
    found = find_round(known, round_id)
    if found is None or city_id in applied or len(applied) < found.review_capacity:
        return
    raise CommandRejected(
        "round {round} is full (applications: {count}; its review capacity: {capacity}); {instead}",
        round=found.round_id,
        capacity=found.review_capacity,
        count=len(applied),
        instead=_instead_of(found, known, today),
    )


def _instead_of(full: Round, rounds: list[Round], today: date) -> Refusal:
    later = sorted(
        (
            r
            for r in rounds
            if r.round_id != full.round_id and r.closes_on >= today and r.opens_on >= full.opens_on
        ),
        key=lambda r: (r.opens_on, r.round_id),
    )
    if later:
        return Refusal(
            "apply to round {other}, open for applications {opens_on} to {closes_on}",
            other=later[0].round_id,
            opens_on=later[0].opens_on,
            closes_on=later[0].closes_on,
        )
    return Refusal(
        "apply to a later round once the programme opens one, or ask an operator to raise its capacity"
    )


# Who the Honor Roll may name -----------------------------------------------------------------------
#
# The Honor Roll names up-and-coming cities near the bar (PROGRAMME.md; domain/honor_roll.py
# suggests them by score): cities that applied in the round and were found not certified in it.
# Certified cities are announced by level in the same announcement, so naming one on the Honor Roll
# too would announce it twice; a city whose decision is still to come may yet be certified; a city
# that withdrew left the round; and a city that did not apply in the round was not reviewed in it.

RoundStanding = Literal["certified", "not_certified", "withdrawn", "undecided"]
"""Where a city's (latest) cycle in a round stands, as the Honor Roll asks it."""


def refuse_off_the_honor_roll(
    round_id: str, named: Iterable[str], standings: Mapping[str, RoundStanding]
) -> None:
    """CommandRejected naming each city of `named` the Honor Roll of round `round_id` may not name,
    and why, given where each city of the round stands (`standings`: a city absent did not apply in
    it); nothing when every city named was found not certified in it."""
    why: dict[RoundStanding | None, list[str]] = {}
    for city_id in named:
        standing = standings.get(city_id)
        if standing != "not_certified":
            why.setdefault(standing, []).append(city_id)
    if not why:
        return
    # Each reason a literal template (the catalogs' extraction finds them), in this order.
    reasons = [
        reason
        for standing, reason in (
            (None, Refusal("cities that did not apply in the round: {cities}", cities=why.get(None, []))),
            (
                "certified",
                Refusal(
                    "cities certified in the round, which its announcement names by level: {cities}",
                    cities=why.get("certified", []),
                ),
            ),
            (
                "undecided",
                Refusal(
                    "cities whose decision in the round is still to come: {cities}",
                    cities=why.get("undecided", []),
                ),
            ),
            (
                "withdrawn",
                Refusal("cities that withdrew from the round: {cities}", cities=why.get("withdrawn", [])),
            ),
        )
        if standing in why
    ]
    raise CommandRejected(
        "the Honor Roll of round {round} names cities of the round found not certified in it; "
        "it cannot name {reasons:;}",
        round=round_id,
        reasons=reasons,
    )
