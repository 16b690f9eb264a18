"""The score-based Honor Roll suggestion: one rule for every city not certified.

The Honor Roll names up-and-coming cities near the Silver bar; the committee designates it, and
this only suggests. A city not certified is suggested when its share, compared as the standard
compares shares with its bands (whole percents where it says so), is at least the Silver bar less
the programme's margin (ProgrammePolicy.honor_roll_margin): above the bar included, whatever level
was recommended and whatever kept the city from a level (the committee, a requirement unmet).

Why not the `honor_roll` flag the decider records (LevelRecommended, CityNotCertified): it is set
at the recommendation and only when no level was recommended, from the exact share. A city
recommended Silver that the committee did not certify (58 %) went without it, while one recommended
nothing at 46.5 % had it. The recorded flags stay as they were (histories replay unchanged); the
readers that suggest (the round report) ask this function instead.
"""

from __future__ import annotations

from domain.standard import Standard

# 0.51 - 0.05 is 0.45999... in binary floating point: a share of exactly the bar less the margin
# (46 %) must count.
_SLACK = 1e-9


def suggested_for_honor_roll(standard: Standard, points: int, margin: float) -> bool:
    """Whether a city not certified with `points` under `standard` is suggested for the Honor Roll."""
    return standard.compared_share(points) >= standard.silver_threshold - margin - _SLACK
