"""The lists that grew with the store read a page off an index in the order they answer, on every
plan: given the migrated store, when each is planned, with its values bound (a custom plan) and as
the generic plan a prepared statement settles on (asyncpg prepares each statement once), then it
reads migration 0019's indexes (the review queues) or the primary key (the city list by key) and
sorts nothing, so a page costs the same however many items or cities there are (bench/growth.py).

The tables here are tiny, so sequential and bitmap scans and sorts are turned off for the
transaction: the question is whether an index serves the query's WHERE and its ORDER BY (where
none can, the plan still holds the disabled Seq Scan or Sort)."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from eventstore import EventStore
from readmodel.queries import REVIEWERS_QUEUE, UNASSIGNED, cities_sql, queue_sql
from tests.integration.eventstore.stories import CRITERIA, REVIEWER, CityRun, evidence


def nodes(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every node of a JSON plan: its type and the index it reads, if any."""
    return [(plan["Node Type"], plan.get("Index Name"))] + [
        node for child in plan.get("Plans", []) for node in nodes(child)
    ]


async def plans(
    conn: asyncpg.Connection, sql: str, args: list[Any], types: str
) -> list[list[tuple[str, str | None]]]:
    """The custom plan of `sql` with `args` bound, and its generic plan as a prepared statement."""
    (row,) = await conn.fetch(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    custom = nodes(json.loads(row[0])[0]["Plan"])
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute(f"PREPARE planned({types}) AS {sql}")
    literals = ", ".join("NULL" if a is None else f"'{a}'" for a in args)
    (row,) = await conn.fetch(f"EXPLAIN (FORMAT JSON) EXECUTE planned({literals})")
    generic = nodes(json.loads(row[0])[0]["Plan"])
    await conn.execute("DEALLOCATE planned")
    await conn.execute("RESET plan_cache_mode")
    return [custom, generic]


@pytest.fixture
async def queued(store: EventStore) -> EventStore:
    """A city with items assigned to rev-ana and items waiting on any reviewer."""
    city = CityRun(store, "lakeside")
    await city.register()
    await city.apply()
    await city.do(evidence(CRITERIA[:4]))
    await city.do(evidence_assignment(CRITERIA[:2]))
    return store


def evidence_assignment(criteria: list[str]) -> Any:
    from domain import commands as c

    return c.AssignReviewer(**REVIEWER, criterion_ids=criteria)


CASES = {
    "operators' queue": (queue_sql(by_reviewer=False, by_city=False), [50], "int", {"review_queue_due"}),
    "operators' queue by reviewer": (
        queue_sql(by_reviewer=True, by_city=False),
        ["rev-ana", 50],
        "text, int",
        {"review_queue_reviewer"},
    ),
    "a reviewer's queue": (
        REVIEWERS_QUEUE,
        ["rev-ana", "riverton", 50],
        "text, text, int",
        {"review_queue_reviewer", "review_queue_unassigned"},
    ),
    "the city list by key": (
        cities_sql(["after"]),
        ["lakeside", 100, 0],
        "text, int, int",
        {"city_status_pkey"},
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_page_is_read_off_an_index_in_its_order_on_every_plan(queued: EventStore, case: str) -> None:
    sql, args, types, indexes = CASES[case]
    async with queued.connection() as conn, conn.transaction():
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await conn.execute(f"SET LOCAL {setting} = off")
        for plan in await plans(conn, sql, args, types):
            read = {index for _, index in plan if index}
            kinds = {kind for kind, _ in plan}
            assert indexes <= read and "Seq Scan" not in kinds and "Sort" not in kinds, (case, plan)


async def test_the_unassigned_index_has_the_queries_predicate_word_for_word(store: EventStore) -> None:
    async with store.connection() as conn:
        predicate = await conn.fetchval(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = $1::regclass",
            "review_queue_unassigned",
        )
    # pg_get_expr writes it back with its own parentheses and casts: the same two conditions
    for condition in UNASSIGNED.split(" AND "):
        column, _, value = condition.partition(" ")
        assert column in predicate and value.split()[-1] in predicate, (condition, predicate)
