"""Search attribute keys that let operators list city workflows from Temporal's side.

This module does no I/O and imports only temporalio, so workflows import it freely and the
sandbox passes it through (see workflows/sandbox.py). Registration with a server lives at the
edges: citycert/temporal_client.py (operator service) and citycert/embedded_temporal.py (dev
server flags).
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

CERT_PHASE = SearchAttributeKey.for_keyword("CertPhase")
"""The city's phase in the programme, e.g. 'review' (domain phase value)."""
CERT_LEVEL = SearchAttributeKey.for_keyword("CertLevel")
"""The level held or recommended: Silver, Gold, Platinum."""
CERT_COHORT = SearchAttributeKey.for_keyword("CertCohort")
"""The cohort the city applied to."""
CERT_VALID_UNTIL = SearchAttributeKey.for_datetime("CertValidUntil")
"""End of the current certification's validity, for 'who lapses next' queries."""

ALL: tuple[SearchAttributeKey[Any], ...] = (CERT_PHASE, CERT_LEVEL, CERT_COHORT, CERT_VALID_UNTIL)

# The names the Temporal CLI takes in `--search-attribute NAME=TYPE`.
_CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


def cli_type_name(key: SearchAttributeKey[Any]) -> str:
    """The type as `temporal server start-dev --search-attribute` spells it."""
    return _CLI_TYPE_NAMES[key.indexed_value_type]
