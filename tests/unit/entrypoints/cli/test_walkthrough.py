"""Lakeside's story through the pure decider: new Silver, then elevated to Gold."""

from __future__ import annotations

from domain import Level, Outcome, Phase, fold
from domain import events as ev
from domain.state import CityState
from entrypoints.cli.walkthrough import walk


def test_lakeside_is_certified_silver_then_elevated_to_gold() -> None:
    steps = walk()
    awards = [e for s in steps for e in s.events if isinstance(e, ev.CertificationAwarded)]
    assert [(a.level, a.outcome) for a in awards] == [
        (Level.SILVER, Outcome.NEW),
        (Level.GOLD, Outcome.ELEVATED),
    ]
    final = steps[-1].state
    assert final.phase is Phase.CERTIFIED and final.level is Level.GOLD
    # The state at the end is exactly the fold of every event recorded on the way.
    everything = [e for s in steps for e in s.events]
    assert fold(CityState.initial("lakeside"), everything) == final
