"""The round report finds a round's cities by the cohort their opening events recorded: given the
migrated store, when that read is planned, then it can use migration 0017's partial index, on a
generic plan too (the one a prepared statement settles on), so it never needs to scan every event.

The tables here are tiny, so sequential scans are turned off for the transaction: the question is
whether the index matches the query's WHERE clause (without it, the plan is a disabled Seq Scan)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from eventstore import EventStore
from readmodel.queries import OPENING_TYPES, ROUND_STREAMS, round_city_ids
from tests.integration.eventstore.stories import CityRun

INDEX = "events_opening_cohort"


def scans(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every node of a JSON plan that reads a relation: its type and the index it reads, if any."""
    found = (
        [(plan["Node Type"], plan.get("Index Name"))]
        if "Relation Name" in plan or "Index Name" in plan
        else []
    )
    return found + [scan for child in plan.get("Plans", []) for scan in scans(child)]


async def planned(conn: asyncpg.Connection, sql: str, *args: object) -> list[tuple[str, str | None]]:
    (row,) = await conn.fetch(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return scans(json.loads(row[0])[0]["Plan"])


async def test_a_rounds_cities_are_found_through_the_partial_cohort_index(store: EventStore) -> None:
    # Given two cities, one applied under the round's id and one under a cohort it adopted
    for city_id, cohort in (("upper", "2026-Spring"), ("lower", "2026-spring")):
        city = CityRun(store, city_id)
        await city.register()
        await city.apply(cohort)
    async with store.connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        # When the read is planned with its names bound (a custom plan)
        custom = await planned(conn, ROUND_STREAMS, ["2026-spring", "2026-Spring"])
        # and as a prepared statement's generic plan, which knows no parameter's value
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE round_streams(text[]) AS {ROUND_STREAMS}")
        generic = await planned(conn, "EXECUTE round_streams('{2026-spring}')")
        await conn.execute("DEALLOCATE round_streams")
        predicate = await conn.fetchval(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = $1::regclass", INDEX
        )
    # Then both read the index, and no plan scans the events table itself
    for plan in (custom, generic):
        assert INDEX in {index for _, index in plan} and "Seq Scan" not in {node for node, _ in plan}, plan
    assert all(f"'{name}'" in predicate for name in OPENING_TYPES), predicate
    # and the read still finds both cities
    assert await round_city_ids(store, ["2026-spring", "2026-Spring"]) == ["lower", "upper"]
