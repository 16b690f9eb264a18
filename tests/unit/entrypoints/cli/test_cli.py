"""The command line a programme officer uses to look at a standard and score against it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from entrypoints.cli.main import app

runner = CliRunner()


def test_standard_show_json_has_the_documented_shape() -> None:
    result = runner.invoke(app, ["standard", "show", "wwc-2022", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == "wwc-2022"
    assert {"id": "DM", "name": "Data Management"} in data["practice_areas"]
    assert len(data["criteria"]) == 43
    dm2 = next(c for c in data["criteria"] if c["id"] == "DM 2")
    assert dm2["practice_area"] == "DM" and dm2["prerequisites"] == ["DM 1"] and dm2["title"]
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
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", "DM 2,DM 3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"score": 1 / 43, "points": 1, "level": None}


def test_standard_score_reaches_a_level() -> None:
    data = json.loads(runner.invoke(app, ["standard", "show", "wwc-2022", "--json"]).stdout)
    ids = ",".join(c["id"] for c in data["criteria"][:30])
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", ids, "--json"])
    assert json.loads(result.stdout)["level"] == "gold"


def test_unknown_criteria_exit_2_naming_them() -> None:
    result = runner.invoke(app, ["standard", "score", "wwc-2022", "--approved", "DM 1,QQ 7,ZZ 1", "--json"])
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
