"""The shipped standards, the loader that refuses bad ones, and scoring."""

from __future__ import annotations

import copy
import json
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from domain.levels import Level
from domain.standard import StandardError, UnknownCriteria, UnknownStandard, get_standard, parse_standard


def raw(version: str = "wwc-2022") -> dict[str, Any]:
    text = (resources.files("domain") / "standards" / f"{version}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return copy.deepcopy(data)


class TestShippedStandards:
    def test_2022_has_43_criteria_in_the_8_practice_areas(self) -> None:
        std = get_standard("wwc-2022")
        assert len(std.criteria) == 43
        assert [a.name for a in std.practice_areas] == [
            "Data Management",
            "Leadership & Capacity",
            "Performance & Analytics",
            "Data-Driven Budgeting & Finance",
            "Results-Driven Contracting",
            "Rigorous Evaluations",
            "Open Data",
            "Stakeholder Engagement",
        ]
        assert Counter(c.practice_area for c in std.criteria)["DM"] == 9

    def test_2022_levels_are_51_68_85_and_platinum_needs_the_outcome_criteria(self) -> None:
        std = get_standard("wwc-2022")
        assert [(r.name, r.min_score) for r in std.levels] == [
            (Level.SILVER, 0.51),
            (Level.GOLD, 0.68),
            (Level.PLATINUM, 0.85),
        ]
        outcomes = {c.id for c in std.criteria if "outcome" in c.tags}
        assert outcomes and set(std.level_rule(Level.PLATINUM).required_criteria) == outcomes

    def test_2018_is_kept_with_45_criteria(self) -> None:
        assert len(get_standard("wwc-2018").criteria) == 45

    def test_an_unknown_version_lists_the_known_ones(self) -> None:
        with pytest.raises(UnknownStandard, match="available: wwc-2018, wwc-2022"):
            get_standard("wwc-2030")


class TestScoring:
    std = get_standard("wwc-2022")

    def test_a_criterion_whose_prerequisite_is_missing_earns_nothing(self) -> None:
        assert self.std.criterion("DM 2").prerequisites == ("DM 1",)
        result = self.std.score(["DM 2", "DM 3"])
        assert (result.points, result.earned) == (1, ("DM 3",))

    def test_platinum_share_without_the_outcome_criteria_is_gold(self) -> None:
        everything_but_outcomes = [c.id for c in self.std.criteria if "outcome" not in c.tags]
        result = self.std.score(everything_but_outcomes)
        assert result.score >= 0.85 and result.level is Level.GOLD

    def test_levels_follow_the_share_of_points(self) -> None:
        ids = [c.id for c in self.std.criteria]  # in this order every prerequisite comes first
        assert self.std.score(ids[:21]).level is None  # 48.8 %
        assert self.std.score(ids[:22]).level is Level.SILVER  # 51.2 %
        assert self.std.score(ids[:29]).level is Level.SILVER  # 67.4 %
        assert self.std.score(ids[:30]).level is Level.GOLD  # 69.8 %
        assert self.std.score(ids).level is Level.PLATINUM

    def test_unknown_ids_are_named(self) -> None:
        with pytest.raises(UnknownCriteria, match="unknown criteria for wwc-2022: XX 1, YY 2"):
            self.std.score(["DM 1", "YY 2", "XX 1"])


class TestLoaderRefusesBadStandards:
    def refused(self, data: dict[str, Any]) -> str:
        with pytest.raises(StandardError) as info:
            parse_standard(data, source="test standard")
        return str(info.value)

    def test_duplicate_ids(self) -> None:
        data = raw()
        data["criteria"].append(copy.deepcopy(data["criteria"][0]))
        assert "duplicate criterion id 'DM 1'" in self.refused(data)

    def test_unknown_prerequisite(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM 77"]
        assert "criterion 'DM 1' requires unknown criterion 'DM 77'" in self.refused(data)

    def test_cyclic_prerequisites(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM 4"]  # DM 4 -> DM 2 -> DM 1 -> DM 4
        assert "prerequisites form a cycle: DM 1 -> DM 4 -> DM 2 -> DM 1" in self.refused(data)

    def test_thresholds_not_increasing(self) -> None:
        data = raw()
        data["levels"][1]["min_score"] = 0.5
        assert "thresholds not increasing: gold (0.5) <= silver (0.51)" in self.refused(data)

    def test_a_level_requiring_an_unknown_criterion(self) -> None:
        data = raw()
        data["levels"][2]["required_criteria"] = ["PA 99"]
        assert "level 'platinum' requires unknown criterion 'PA 99'" in self.refused(data)

    def test_a_checklist_asking_more_than_it_has(self) -> None:
        data = raw()
        data["criteria"][0]["checklist"] = {"items": ["a", "b"], "min_met": 3}
        assert "checklist asks 3 of only 2 items" in self.refused(data)

    def test_not_json(self) -> None:
        with pytest.raises(StandardError, match="not valid JSON"):
            parse_standard("{", source="broken.json")

    def test_every_problem_is_named_at_once(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM 77"]
        data["levels"][2]["required_criteria"] = ["PA 99"]
        message = self.refused(data)
        assert "DM 77" in message and "PA 99" in message


def test_a_version_is_never_a_path_into_the_package() -> None:
    # Both name real JSON files: neither is a shipped standard's version.
    for version in ("../standards/wwc-2022", "standards/wwc-2018", "/etc/passwd"):
        with pytest.raises(UnknownStandard, match="unknown standard version"):
            get_standard(version)
