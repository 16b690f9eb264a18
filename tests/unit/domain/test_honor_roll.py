"""The Honor Roll suggestion: one rule, the share as the standard compares it against the Silver bar
less the margin, for every city not certified."""

from __future__ import annotations

from domain.honor_roll import suggested_for_honor_roll
from domain.policy import ProgrammePolicy
from domain.standard import get_standard

MARGIN = ProgrammePolicy().honor_roll_margin


def test_a_city_at_or_above_the_bar_less_the_margin_is_suggested_below_it_not() -> None:
    standard = get_standard("wwc-2022")
    bar = standard.silver_threshold
    shares = {p: standard.compared_share(p) for p in range(len(standard.criteria) + 1)}
    lowest = min(p for p, share in shares.items() if share >= bar - MARGIN - 1e-9)
    assert suggested_for_honor_roll(standard, lowest, MARGIN)
    assert not suggested_for_honor_roll(standard, lowest - 1, MARGIN)
    # Above the bar too: a city the committee did not certify there is as near as one could be.
    above = min(p for p, share in shares.items() if share >= bar)
    assert suggested_for_honor_roll(standard, above, MARGIN)
    assert suggested_for_honor_roll(standard, len(standard.criteria), MARGIN)


def test_the_share_is_compared_as_the_standard_compares_it() -> None:
    standard = get_standard("wwc-2018")
    assert standard.share_rounding == "whole_percent"
    possible = len(standard.criteria)
    bar = standard.silver_threshold
    # The most points below the bar whose whole percent is above their exact share, and a margin
    # that puts the bar less the margin at that whole percent: the exact share falls short of it.
    points = max(p for p in range(possible) if p / possible < standard.compared_share(p) < bar)
    margin = bar - standard.compared_share(points)
    assert points / possible < bar - margin
    assert suggested_for_honor_roll(standard, points, margin)
