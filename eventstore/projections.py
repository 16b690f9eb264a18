"""Transitional (see eventstore/transition.py): the city tables' column lists moved to
readmodel.projector; api/ still imports them from here."""

from __future__ import annotations

from typing import Any

from eventstore.transition import city_programme_module

_MOVED = ("STATUS_COLUMNS", "CERTIFICATION_COLUMNS", "REVIEW_COLUMNS")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(city_programme_module(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
