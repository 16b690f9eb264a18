"""Search attribute keys that let operators list city workflows from Temporal's side.

This module does no I/O and imports only temporalio, so workflows import it freely and the
sandbox passes it through (see workflows/sandbox.py). Registration with a server lives in
runtime/temporal.py (operator service) and runtime/embedded_temporal.py (dev server flags).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

if TYPE_CHECKING:  # only for the annotations: this module imports nothing of the domain
    from domain import CityState

CERT_PHASE = SearchAttributeKey.for_keyword("CertPhase")
"""The city's phase in the programme, e.g. 'review' (domain phase value)."""
CERT_LEVEL = SearchAttributeKey.for_keyword("CertLevel")
"""The level held or recommended: Silver, Gold, Platinum."""
CERT_COHORT = SearchAttributeKey.for_keyword("CertCohort")
"""The cohort the city applied to."""
CERT_VALID_UNTIL = SearchAttributeKey.for_datetime("CertValidUntil")
"""End of the current certification's validity, for 'who lapses next' queries."""

ALL: tuple[SearchAttributeKey[Any], ...] = (CERT_PHASE, CERT_LEVEL, CERT_COHORT, CERT_VALID_UNTIL)


def of_state(state: CityState) -> dict[str, Any]:
    """Each attribute's value for a city in `state` (None: unset), by the key's name: what its
    workflow keeps them at (workflows/city.py `_publish`) and what a run is started with."""
    cert = state.certification
    return {
        CERT_PHASE.name: state.phase.value,
        CERT_LEVEL.name: state.level.value if state.level else None,
        CERT_COHORT.name: state.cycle.cohort if state.cycle else (cert.cohort if cert else None),
        CERT_VALID_UNTIL.name: cert.valid_until if cert else None,
    }


def at_start(state: CityState) -> TypedSearchAttributes:
    """The attributes a city's run is started with, for a city in `state`: the run finds them as
    already published (Temporal gives them to it as if carried) and upserts only what differs, so a
    registration's first record upserts nothing and operators see the phase from the start."""
    values = of_state(state)
    return TypedSearchAttributes(
        [SearchAttributePair(key, values[key.name]) for key in ALL if values[key.name] is not None]
    )
