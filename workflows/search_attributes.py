"""Search attribute keys that let operators list city workflows from Temporal's side.

This module does no I/O and imports only temporalio, so workflows import it freely and the
sandbox passes it through (see workflows/sandbox.py). Registration with a server lives in
runtime/temporal.py (operator service) and runtime/embedded_temporal.py (dev server flags).
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

CERT_PHASE = SearchAttributeKey.for_keyword("CertPhase")
"""The city's phase in the programme, e.g. 'review' (domain phase value)."""
CERT_LEVEL = SearchAttributeKey.for_keyword("CertLevel")
"""The level held or recommended: Silver, Gold, Platinum."""
CERT_COHORT = SearchAttributeKey.for_keyword("CertCohort")
"""The cohort the city applied to."""
CERT_VALID_UNTIL = SearchAttributeKey.for_datetime("CertValidUntil")
"""End of the current certification's validity, for 'who lapses next' queries."""

ALL: tuple[SearchAttributeKey[Any], ...] = (CERT_PHASE, CERT_LEVEL, CERT_COHORT, CERT_VALID_UNTIL)
