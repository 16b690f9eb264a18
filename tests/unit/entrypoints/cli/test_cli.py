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
