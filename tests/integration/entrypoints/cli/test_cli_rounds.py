"""`citycert round ...` against a real PostgreSQL: rounds created and changed by an operator, the
Honor Roll by a committee member's token, and announcements (a preview before the date)."""

from __future__ import annotations

import csv
import io
import json

from app.tokens import create_token
from eventstore import EventStore
from tests.integration.entrypoints.cli import test_cli_cities as cli_cities
from tests.integration.entrypoints.cli.test_cli_cities import Cli, said, seed_lakeside

cli = cli_cities.cli
restore_logging = cli_cities.restore_logging

# The walk-through city is certified Silver on 2026-06-01 (2026-spring) and moves up to Gold on
# 2029-02-25 (2029-spring): the first round is announced (its date is past), the second is not.
SPRING_2026 = ["--opens-on", "2026-01-10", "--closes-on", "2026-02-28"]
SPRING_2026 += ["--submission-deadline", "2026-04-30", "--announcement-on", "2026-06-15"]
SPRING_2029 = ["--opens-on", "2029-01-10", "--closes-on", "2029-01-31"]
SPRING_2029 += ["--submission-deadline", "2029-02-10", "--announcement-on", "2029-04-01"]


def create(round_id: str, name: str, dates: list[str]) -> list[str]:
    return ["round", "create", round_id, "--name", name, *dates, "--review-capacity", "30"]


async def test_rounds_are_created_listed_and_announced(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)
    spring = await cli.json(*create("2026-spring", "Spring 2026", SPRING_2026))
    await cli.json(*create("2029-spring", "Spring 2029", SPRING_2029))

    assert spring["id"] == "2026-spring" and spring["announced"] is True
    assert spring["created_by"].startswith("cli:")
    listed = await cli.json("round", "list")
    assert [r["id"] for r in listed] == ["2029-spring", "2026-spring"]

    published = await cli("round", "announcement", "2026-spring")
    assert published.exit_code == 0, published.stderr
    assert published.stdout.startswith("# Spring 2026: certified cities\n\nAnnounced on 2026-06-15.\n")
    assert "### Silver\n\n- Lakeside" in published.stdout and "preview" not in published.stderr

    preview = await cli("round", "announcement", "2029-spring", "--format", "json")
    assert "preview: round 2029-spring is under embargo until 2029-04-01" in said(preview)
    moved = json.loads(preview.stdout)["moved_up"]
    assert [(c["city_id"], c["previous_level"], c["level"]) for c in moved] == [
        ("lakeside", "silver", "gold")
    ]
    rows = list(
        csv.DictReader(
            io.StringIO((await cli("round", "announcement", "2029-spring", "--format", "csv")).stdout)
        )
    )
    assert [(r["section"], r["city_id"]) for r in rows] == [("moved_up", "lakeside")]


async def test_refusals_say_why_in_words(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)
    await cli.json(*create("2026-spring", "Spring 2026", SPRING_2026))

    again = await cli(*create("2026-spring", "Again", SPRING_2029))
    overlap = await cli(*create("2026-extra", "Extra", SPRING_2026))
    disorder = await cli(
        *create("2030-fall", "Fall 2030", [*SPRING_2029[:6], "--announcement-on", "2029-02-01"])
    )
    bad_id = await cli(*create("2030 Fall", "Fall 2030", SPRING_2029))
    announced = await cli("round", "change", "2026-spring", "--name", "Spring")
    unknown = await cli("round", "show", "2031-fall")

    assert again.exit_code == 2 and "round 2026-spring exists already" in said(again)
    assert overlap.exit_code == 2 and "at most one round is open at a time" in said(overlap)
    assert disorder.exit_code == 2 and "must come after the submission deadline" in said(disorder)
    assert bad_id.exit_code == 2 and "must be a round id" in said(bad_id)
    assert announced.exit_code == 2 and "was announced on 2026-06-15" in said(announced)
    assert unknown.exit_code == 2 and "there is no round '2031-fall'" in said(unknown)


async def test_the_honor_roll_takes_a_committee_member_s_token(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store)
    await cli.json(*create("2029-spring", "Spring 2029", SPRING_2029))
    chair = Cli({**cli.env, "CITYCERT_TOKEN": await create_token(store, "committee", name="chair")})
    staff = Cli({**cli.env, "CITYCERT_TOKEN": await create_token(store, "city", city="lakeside", name="s")})

    # Lakeside moves up to Gold in 2029-spring: its announcement names it by level, so the Honor
    # Roll (cities near the bar, not certified) cannot.
    certified = await chair("round", "honor-roll", "2029-spring", "lakeside")
    refused = await staff("round", "honor-roll", "2029-spring", "lakeside")
    unknown_city = await chair("round", "honor-roll", "2029-spring", "nowhere")
    cleared = await chair.json("round", "honor-roll", "2029-spring", "--clear")
    shown = await cli.json("round", "show", "2029-spring")

    assert certified.exit_code == 2
    assert "cities certified in the round, which its announcement names by level: lakeside" in said(certified)
    assert refused.exit_code == 2 and "needs a committee member's token" in said(refused)
    assert unknown_city.exit_code == 2 and "no city is registered as nowhere" in said(unknown_city)
    assert cleared["honor_roll"]["city_ids"] == [] and cleared["honor_roll"]["designated_by"] == "chair"
    assert shown["honor_roll"]["city_ids"] == []
