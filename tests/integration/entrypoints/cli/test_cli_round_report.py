"""`citycert round report` over a real PostgreSQL: the walk-through city's two cycles recorded in the
store, its first round reported as a table, JSON and CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.round_report import ReportTable
from entrypoints.cli.round_report import TABLES
from eventstore import EventStore
from tests.integration.entrypoints.cli.test_cli_cities import Cli, said, seed_lakeside, settings_env

FIRST_ROUND = "2026-spring"  # the walk-through's first cycle (entrypoints/cli/walkthrough.py)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    return Cli(settings_env(database_url, tmp_path))


async def test_round_report_as_a_table_json_and_csv(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)

    table = await cli("round", "report", FIRST_ROUND)
    report = await cli.json("round", "report", FIRST_ROUND)
    exported = await cli("round", "report", FIRST_ROUND, "--csv", "cities")
    empty = await cli.json("round", "report", "1999-never")

    assert table.exit_code == 0, table.stderr
    assert "lakeside" in table.stdout and "median days per phase" in table.stdout
    assert [(row["city_id"], row["outcome"]) for row in report["cities"]] == [("lakeside", "new")]
    assert exported.exit_code == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(row["city_id"], row["outcome"]) for row in rows] == [("lakeside", "new")]
    assert empty["cities"] == [] and empty["sla"]["total"] == 0


async def test_round_report_refuses_an_unknown_table(cli: Cli) -> None:
    assert tuple(t.value for t in ReportTable) == TABLES  # the CLI's choices are the report's tables
    refused = await cli("round", "report", FIRST_ROUND, "--csv", "budgets")
    both = await cli("round", "report", FIRST_ROUND, "--csv", "cities", "--json")
    assert refused.exit_code == 2 and "--csv must be one of cities, phases, criteria, reviewers" in said(
        refused
    )
    assert both.exit_code == 2 and "not both" in said(both)
