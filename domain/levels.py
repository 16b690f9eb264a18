"""Certification levels and how a new level compares to the previous one."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    # Declared lowest first: the order is the ranking.
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def rank(self) -> int:
        return list(Level).index(self) + 1


def rank(level: Level | None) -> int:
    """0 for not certified, then Silver 1, Gold 2, Platinum 3."""
    return level.rank if level is not None else 0


class Outcome(StrEnum):
    NEW = "new"
    ELEVATED = "elevated"
    SUSTAINED = "sustained"
    DOWNGRADED = "downgraded"


def outcome(previous: Level | None, new: Level) -> Outcome:
    if previous is None:
        return Outcome.NEW
    if new.rank > previous.rank:
        return Outcome.ELEVATED
    if new.rank < previous.rank:
        return Outcome.DOWNGRADED
    return Outcome.SUSTAINED
