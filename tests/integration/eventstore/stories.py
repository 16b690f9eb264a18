"""Helpers that tell a city's story through the real decider and the real store: CityRun gives
one command at a time, or walks the steps of tests/scenarios.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain import events as ev
from domain.decider import decide
from domain.levels import Level
from domain.standard import get_standard
from domain.state import CityState, fold
from eventstore import Actor, AppendResult, Correlation, EventStore, NewEvent
from readmodel import city_stream
from tests import scenarios
from tests.scenarios import Step

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
CRITERIA = [crit.id for crit in get_standard("wwc-2022").criteria]
REVIEWER = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton"}
CITY_STAFF = Actor("city", "staff-1")
SYSTEM = Actor("system", "scheduler")


def evidence(ids: list[str]) -> c.SubmitEvidence:
    """Complete evidence (every required document in its slot, k items claimed): an approval of it
    stands under the programme's review rules."""
    return c.SubmitEvidence(items=[scenarios.complete_evidence(cid) for cid in ids])


def envelope(
    event: ev.DomainEvent, *, at: datetime = T0, actor: Actor = CITY_STAFF, event_id: uuid.UUID | None = None
) -> NewEvent:
    return NewEvent.from_domain(
        event,
        event_id=event_id or uuid.uuid4(),
        occurred_at=at,
        actor=actor,
        correlation=Correlation("city-workflow", "run-1"),
    )


class CityRun:
    """One city walking the programme: each command is decided on the current state, its events
    appended as one batch (as the workflow does), and folded into the state."""

    def __init__(self, store: EventStore, city_id: str, *, start: datetime = T0) -> None:
        self.store = store
        self.city_id = city_id
        self.stream_id = city_stream(city_id)
        self.state = CityState.initial(city_id)
        self.now = start
        self.results: list[AppendResult] = []

    async def do(
        self, command: c.Command, *, actor: Actor = CITY_STAFF, wait: timedelta = DAY
    ) -> AppendResult:
        self.now += wait
        events = decide(self.state, command, now=self.now)
        batch = [envelope(e, at=self.now, actor=actor) for e in events]
        result = await self.store.append(self.stream_id, self.state.version, batch)
        self.state = fold(self.state, events)
        self.results.append(result)
        return result

    async def walk(self, steps: Sequence[Step]) -> None:
        """Scenario steps (tests/scenarios.py) in order, each at least a day after the one before."""
        for step in steps:
            wait = max(step.after, DAY)
            actor = Actor(step.actor.role, step.actor.id)
            await self.do(step.command_at(self.now + wait), actor=actor, wait=wait)

    async def register(self) -> None:
        await self.walk([scenarios.register(self.city_id, population=150_000)])

    async def apply(self, cohort: str = "2026-spring") -> None:
        await self.walk([scenarios.apply(cohort)])

    async def review(
        self, approve: list[str], reject: tuple[str, ...] = (), clarify: tuple[str, ...] = ()
    ) -> None:
        """The reviewer's verdicts, given as the latest rules ask: the operator assigns them the
        criteria not yet theirs, and they declare no conflict first (once a cycle)."""
        cycle = self.state.cycle
        assert cycle is not None, "a review happens in a cycle"
        ids = [*approve, *reject, *clarify]
        reviewer = scenarios.REVIEWER.id
        unassigned = [cid for cid in ids if cycle.items[cid].reviewer_id != reviewer]
        before: list[Step] = [scenarios.assign(unassigned)] if unassigned else []
        if reviewer not in cycle.no_conflict_declared:
            before.append(scenarios.declare_no_conflict())
        await self.walk([*before, scenarios.review(approve, reject, clarify)])

    async def certify(self, approved: int = 23, level: Level = Level.SILVER) -> None:
        """From registered to certified: submit, assign, review, close, waive the visit, decide, award."""
        ids = CRITERIA[:approved]
        await self.walk(
            [
                scenarios.apply("2026-spring"),
                scenarios.evidence(ids),
                *scenarios.assigned_and_declared(ids),
                scenarios.review(approve=ids),
                scenarios.close(),
                scenarios.waive_visit(),
                *scenarios.signed_off_if_needed(ids),
                scenarios.decide(level),
                scenarios.appeal_window_closes(),
            ]
        )
