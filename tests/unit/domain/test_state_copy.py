"""The state's own model_copy (domain/state.py, _Value) gives what pydantic's gives: every
scenario's events folded both ways end in equal states, with the same fields set at every level
(what a dump that leaves unset fields out reads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from domain import events as ev
from domain.decider import decide
from domain.errors import DomainError
from domain.state import CityState, _Value, fold
from tests.scenarios import SCENARIOS, Scenario
from tests.unit.domain.scenario_runner import T0


def scenario_events(scenario: Scenario) -> list[ev.DomainEvent]:
    state, now, recorded = CityState.initial(scenario.city_id), T0, []
    for step in scenario.steps:
        now += step.after
        try:
            events = decide(state, step.command_at(now), now=now)
        except DomainError:
            continue
        recorded += events
        state = fold(state, events)
    return recorded


def fields_set(value: Any) -> Iterator[tuple[str, frozenset[str]]]:
    """Every model's fields set within `value`, by where it sits."""
    if isinstance(value, BaseModel):
        yield type(value).__name__, frozenset(value.model_fields_set)
        for name in type(value).model_fields:
            yield from fields_set(getattr(value, name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from fields_set(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from fields_set(v)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_a_fold_with_the_states_copy_equals_one_with_pydantics(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = scenario_events(scenario)
    ours = fold(CityState.initial(scenario.city_id), events)
    monkeypatch.setattr(_Value, "model_copy", BaseModel.model_copy)
    theirs = fold(CityState.initial(scenario.city_id), events)

    assert ours == theirs
    assert ours.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)
    assert list(fields_set(ours)) == list(fields_set(theirs))


def test_the_copy_changes_only_what_it_is_given_and_leaves_the_original() -> None:
    scenario = SCENARIOS[0]
    events = scenario_events(scenario)
    cycle = next(
        s.cycle
        for s in (fold(CityState.initial(scenario.city_id), events[:n]) for n in range(len(events)))
        if s.cycle is not None and s.cycle.items
    )
    item = next(iter(cycle.items.values()))

    copied = cycle.model_copy(update={"submission_closed": not cycle.submission_closed})

    assert copied.submission_closed is not cycle.submission_closed
    assert copied.items is cycle.items  # a shallow copy, as pydantic's
    assert copied.model_fields_set == cycle.model_fields_set | {"submission_closed"}
    assert cycle.model_copy() == cycle
    assert cycle.model_copy(deep=True).items[item.criterion_id] is not item
