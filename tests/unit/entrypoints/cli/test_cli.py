"""The command line a programme officer uses to look at a standard and score against it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from domain.standard import get_standard
from entrypoints.cli.main import app

runner = CliRunner()


def test_standard_show_json_has_the_documented_shape() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-2022", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == "wwc-2022"
    assert {"id": "DM", "name": "Data Management"} in data["practice_areas"]
    assert len(data["criteria"]) == 43
    dm2 = next(c for c in data["criteria"] if c["id"] == "DM2")
    assert dm2["practice_area"] == "DM" and dm2["prerequisites"] == ["DM1"] and dm2["title"]
    assert [(lv["name"], lv["min_score"]) for lv in data["levels"]] == [
        ("silver", 0.51),
        ("gold", 0.68),
        ("platinum", 0.85),
    ]


def test_standard_show_as_a_table() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-2018"])
    assert result.exit_code == 0
    assert "45 criteria" in result.stdout


def test_standard_score_applies_prerequisites() -> None:
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", "DM2,DM3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"score": 1 / 43, "points": 1, "level": None}


def test_standard_score_reaches_a_level() -> None:
    ids = ",".join(get_standard("wwc-2022").in_earning_order()[:30])
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", ids, "--json"])
    assert json.loads(result.stdout)["level"] == "gold"


def test_unknown_criteria_exit_2_naming_them() -> None:
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", "DM1,QQ 7,ZZ 1", "--json"])
    assert result.exit_code == 2
    assert "QQ 7, ZZ 1" in result.stderr
    assert result.stdout == ""


def test_unknown_standard_exits_2() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-1990"])
    assert result.exit_code == 2
    assert "unknown standard version 'wwc-1990'" in result.stderr


def test_the_walkthrough_walks_lakeside_to_gold() -> None:
    result = runner.invoke(app, ["walkthrough"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "CertificationAwarded" in result.stdout
    assert "Lakeside holds gold" in result.stdout


def test_review_approve_reads_items_met_for_every_criterion_or_one() -> None:
    import pytest
    import typer

    from entrypoints.cli.cities import _items_met

    # "1,3" is every named criterion's, "ID=2" one criterion's, and they add up
    assert _items_met(["1,3", "B=2"], ["A", "B"]) == {"A": [1, 3], "B": [1, 2, 3]}
    assert _items_met([], ["A"]) == {}
    for bad in (["A=one"], ["C=1"], [""]):
        with pytest.raises(typer.Exit):
            _items_met(bad, ["A", "B"])


def test_standard_show_says_illustrative_beside_what_is_not_public() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-2018"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    dg1 = next(line for line in result.stdout.splitlines() if "DG1" in line)
    assert "Comprehensive Data Inventory" in dg1 and "Comprehensive Data Inventory (illustrative)" not in dg1
    assert "3 of 4 (illustrative)" in dg1
    dg2 = next(line for line in result.stdout.splitlines() if "DG2 " in line)
    assert "(illustrative)" in dg2.split("│")[3]  # its title is not public
    assert "open for applications from 2018-01-01 until 2022-07-31" in result.stdout


def test_standard_show_reads_an_older_revision() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-2022", "--revision", "1", "--json"])
    data = json.loads(result.stdout)
    assert data["revision"] == 1 and data["criteria"][0]["id"] == "DM 1"


def test_standard_list_says_which_are_open_now() -> None:
    result = runner.invoke(app, ["standard", "list", "--json"])
    listed = {row["version"]: row["open_now"] for row in json.loads(result.stdout)}
    assert listed == {"wwc-2018": False, "wwc-2022": True}


def test_standard_crosswalk_shows_what_carries_over() -> None:
    result = runner.invoke(app, ["standard", "crosswalk", "wwc-2022", "--from", "wwc-2018", "--json"])
    assert result.exit_code == 0, result.output
    walk = json.loads(result.stdout)
    carried = {item["criterion_id"]: item["carries_over_from"] for item in walk["carried_over"]}
    assert "DG1" in carried["DM2"]
    table = runner.invoke(
        app, ["standard", "crosswalk", "wwc-2022", "--from", "wwc-2018"], env={"COLUMNS": "200"}
    )
    assert "not continued from wwc-2018" in table.stdout


def test_standard_score_names_what_blocks_a_criterion_and_what_the_next_level_needs() -> None:
    std = get_standard("wwc-2022")
    dependent = next(c for c in std.criteria if c.prerequisites)
    result = runner.invoke(
        app, ["standard", "score", "wwc-2022", "--approved", dependent.id], env={"COLUMNS": "300"}
    )
    assert f"{dependent.id} blocked by {dependent.prerequisites[0]}" in result.stdout
    assert "the next level needs: a share of 51 %" in result.stdout
