"""Temporal activities: the only place workflows touch I/O (the event store, the outbox).

This package's __init__ imports nothing at module level: workflows import `activities.names`, and
that must not drag the event store's driver into the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventstore import EventStore


def build_activities(store: EventStore) -> list[Callable[..., Any]]:
    """Every activity the worker runs, bound to one event store."""
    from activities.recording import CityActivities

    return CityActivities(store).all()
