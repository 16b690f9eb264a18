"""The shipped standards, the loader that refuses bad ones, and scoring."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest

from domain.levels import Level
from domain.standard import (
    StandardError,
    UnknownCriteria,
    UnknownStandard,
    crosswalk,
    get_standard,
    open_versions,
    parse_standard,
)


def raw(version: str = "wwc-2022", revision: int | None = None) -> dict[str, Any]:
    name = f"{version}.json" if revision is None else f"{version}.r{revision}.json"
    text = (resources.files("domain") / "standards" / name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return copy.deepcopy(data)


class TestShippedStandards:
    def test_2022_has_the_public_43_criteria_in_the_8_practice_areas(self) -> None:
        std = get_standard("wwc-2022")
        assert (std.revision, len(std.criteria)) == (2, 43)
        assert [(a.id, a.name) for a in std.practice_areas] == [
            ("DM", "Data Management"),
            ("LC", "Leadership and Capacity"),
            ("OD", "Open Data"),
            ("PA", "Performance and Analytics"),
            ("BF", "Data-Driven Budget and Finance"),
            ("RDC", "Results-Driven Contracting"),
            ("CI", "Community Impact"),
            ("EVAL", "Evaluations"),
        ]
        per_area = Counter(c.practice_area for c in std.criteria)
        assert per_area == {"DM": 9, "LC": 7, "OD": 4, "PA": 5, "BF": 3, "RDC": 8, "CI": 3, "EVAL": 4}
        # Ids are the area and a number, no space, numbered from 1 in each area
        assert [c.id for c in std.criteria if c.practice_area == "RDC"] == [f"RDC{n}" for n in range(1, 9)]
        assert std.criterion("DM8").title == "Disaggregated Data for Decision-Making"
        assert std.criterion("CI3").title == "Promotion of Data & Evidence"
        assert std.criterion("EVAL4").title == "Adapting Evidence-Based Programs"

    def test_what_is_public_and_what_is_illustrative_is_in_the_data(self) -> None:
        for version in ("wwc-2022", "wwc-2018"):
            for crit in get_standard(version).criteria:
                assert crit.provenance is not None
                assert crit.provenance.checklist == "illustrative"
                assert crit.provenance.required_documents == "illustrative"
                assert crit.provenance.prerequisites == "illustrative"
        assert all(c.provenance and c.provenance.title == "public" for c in get_standard("wwc-2022").criteria)
        titles_2018 = {c.id: c.provenance.title for c in get_standard("wwc-2018").criteria if c.provenance}
        assert titles_2018.pop("DG1") == "public" and set(titles_2018.values()) == {"illustrative"}

    def test_2022_levels_are_51_68_85_and_each_needs_the_equity_practices_and_an_outcome(self) -> None:
        std = get_standard("wwc-2022")
        assert [(r.name, r.min_score) for r in std.levels] == [
            (Level.SILVER, 0.51),
            (Level.GOLD, 0.68),
            (Level.PLATINUM, 0.85),
        ]
        equity = {c.id for c in std.criteria if "equity" in c.tags}
        for rule in std.levels:
            assert set(rule.required_criteria) <= equity and {"DM8", "RDC8", "CI1"} <= set(
                rule.required_criteria
            )
            assert [(t.tag, t.at_least) for t in rule.required_tags] == [("outcome", 1)]

    def test_2018_has_its_own_areas_ids_bands_and_whole_percent_rounding(self) -> None:
        std = get_standard("wwc-2018")
        assert (std.revision, len(std.criteria)) == (2, 45)
        assert sorted(a.name for a in std.practice_areas) == [
            "Data Governance",
            "Evaluations",
            "General Management",
            "Open Data",
            "Performance & Analytics",
            "Repurposing",
            "Results-Driven Contracting",
            "Stakeholder Engagement",
        ]
        assert std.criterion("DG1").title == "Comprehensive Data Inventory"
        assert [(r.name, r.min_score) for r in std.levels] == [
            (Level.SILVER, 0.51),
            (Level.GOLD, 0.67),
            (Level.PLATINUM, 0.84),
        ]
        assert std.share_rounding == "whole_percent"

    def test_the_first_revisions_are_kept_as_they_were(self) -> None:
        for version, count in (("wwc-2022", 43), ("wwc-2018", 45)):
            first = get_standard(version, 1)
            assert (first.revision, len(first.criteria), first.share_rounding) == (1, count, "exact")
            assert first.is_open(datetime(2030, 1, 1, tzinfo=UTC))
        assert get_standard("wwc-2022", 1).criterion("DM 2").prerequisites == ("DM 1",)
        assert get_standard("wwc-2018", 1).level_rule(Level.GOLD).min_score == 0.68

    def test_an_unknown_version_lists_the_known_ones(self) -> None:
        with pytest.raises(UnknownStandard, match="available: wwc-2018, wwc-2022"):
            get_standard("wwc-2030")


class TestApplicationWindows:
    def test_2018_closed_when_the_2022_standard_was_released(self) -> None:
        old, new = get_standard("wwc-2018"), get_standard("wwc-2022")
        assert old.is_open(date(2022, 7, 31)) and not new.is_open(date(2022, 7, 31))
        assert not old.is_open(date(2022, 8, 1)) and new.is_open(date(2022, 8, 1))
        assert new.open_for_applications.until is None

    def test_the_versions_open_on_a_day(self) -> None:
        assert open_versions(datetime(2026, 3, 2, tzinfo=UTC)) == ["wwc-2022"]
        assert open_versions(date(2020, 1, 6)) == ["wwc-2018"]

    def test_a_window_closing_before_it_opens_is_refused(self) -> None:
        data = raw()
        data["open_for_applications"] = {"from": "2022-08-01", "until": "2022-01-01"}
        with pytest.raises(StandardError, match="until 2022-01-01 before it opens on 2022-08-01"):
            parse_standard(data, source="test standard")


class TestScoring:
    std = get_standard("wwc-2022")

    def test_a_criterion_whose_prerequisite_is_missing_earns_nothing(self) -> None:
        assert self.std.criterion("DM2").prerequisites == ("DM1",)
        result = self.std.score(["DM2", "DM3"])
        assert (result.points, result.earned) == (1, ("DM3",))

    def test_the_roadmap_names_what_blocks_a_criterion(self) -> None:
        blocked = self.std.blocked_by(["DM3"])
        assert blocked["DM2"] == ["DM1"] and blocked["DM4"] == ["DM2"]
        assert "DM1" not in blocked and "DM3" not in blocked

    def test_levels_follow_the_share_of_points_once_the_requirements_are_met(self) -> None:
        ids = self.std.in_earning_order()
        assert self.std.score(ids[:21]).level is None  # 48.8 %
        assert self.std.score(ids[:22]).level is Level.SILVER  # 51.2 %
        assert self.std.score(ids[:29]).level is Level.SILVER  # 67.4 %
        assert self.std.score(ids[:30]).level is Level.GOLD  # 69.8 %
        assert self.std.score(ids[:36]).level is Level.GOLD  # 83.7 %, 84 % rounded
        assert self.std.score(ids[:37]).level is Level.PLATINUM  # 86.0 %
        assert self.std.score(ids).level is Level.PLATINUM

    def test_in_earning_order_every_prefix_earns_each_point(self) -> None:
        ids = self.std.in_earning_order()
        assert sorted(ids) == sorted(self.std.criterion_ids)
        assert all(self.std.score(ids[:n]).points == n for n in range(len(ids) + 1))

    def test_a_city_without_the_equity_criterion_reaches_no_level_not_even_with_every_other(self) -> None:
        # Given every criterion approved but disaggregated data (an equity practice)
        everything_else = [c.id for c in self.std.criteria if c.id != "DM8"]
        # When it is scored, then the share is Platinum's but no level is reached
        result = self.std.score(everything_else)
        assert result.compared_share >= 0.85 and result.level is None
        assert result.next_level_unmet == ("criterion DM8",)

    def test_a_city_without_progress_on_an_outcome_reaches_no_level(self) -> None:
        without_outcomes = [c.id for c in self.std.criteria if "outcome" not in c.tags]
        result = self.std.score(without_outcomes)
        assert result.level is None
        assert result.next_level_unmet == ("at least 1 earned criterion tagged 'outcome' (has 0)",)

    def test_the_share_short_of_the_next_level_is_said(self) -> None:
        result = self.std.score(self.std.in_earning_order()[:30])
        assert result.level is Level.GOLD and result.next_level_unmet == ("a share of 85 %",)

    def test_unknown_ids_are_named(self) -> None:
        with pytest.raises(UnknownCriteria, match="unknown criteria for wwc-2022: XX 1, YY 2"):
            self.std.score(["DM1", "YY 2", "XX 1"])


class TestRounding:
    def test_30_of_45_is_67_percent_and_gold_under_2018_as_arlington_was_in_2020(self) -> None:
        # Given the 2018 standard, which compares whole percents
        std = get_standard("wwc-2018")
        # When 30 of its 45 criteria are earned (66.67 %)
        result = std.score(std.in_earning_order()[:30])
        # Then the share compared is 67 % and the level is Gold
        assert result.points == 30 and result.score == pytest.approx(0.6667, abs=1e-4)
        assert (result.compared_share, result.level) == (0.67, Level.GOLD)

    def test_compared_exactly_the_same_points_are_silver(self) -> None:
        data = raw("wwc-2018")
        data["share_rounding"] = "exact"
        std = parse_standard(data, source="2018 compared exactly")
        result = std.score(std.in_earning_order()[:30])
        assert (result.compared_share, result.level) == (30 / 45, Level.SILVER)

    def test_whole_percents_round_half_up_and_stay_below_a_band_they_do_not_reach(self) -> None:
        std = get_standard("wwc-2018")
        ids = std.in_earning_order()
        assert std.score(ids[:22]).compared_share == 0.49  # 48.9 %
        assert std.score(ids[:23]).level is Level.SILVER  # 51.1 %: 51 %
        assert std.score(ids[:37]).level is Level.GOLD  # 82.2 %: 82 %
        assert std.score(ids[:38]).level is Level.PLATINUM  # 84.4 %: 84 %

    def test_the_first_revisions_compare_exactly(self) -> None:
        assert get_standard("wwc-2018", 1).share_rounding == "exact"
        data = raw("wwc-2018", 1)
        assert "share_rounding" not in data


class TestCrosswalk:
    def test_a_re_certifying_city_sees_what_carries_over_from_2018(self) -> None:
        walk = crosswalk(get_standard("wwc-2022"), get_standard("wwc-2018"))
        assert (walk.version, walk.from_version) == ("wwc-2022", "wwc-2018")
        carried = {item.criterion_id: item.carries_over_from for item in walk.carried_over}
        assert "DG1" in carried["DM2"]
        assert set(walk.new) == {c.id for c in get_standard("wwc-2022").criteria} - set(carried)
        assert all(old not in {i for ids in carried.values() for i in ids} for old in walk.retired)

    def test_a_crosswalk_naming_a_criterion_the_older_version_lacks_is_refused(self) -> None:
        data = raw()
        data["criteria"][0]["carries_over_from"] = {"wwc-2018": ["DG1", "DG99"]}
        with pytest.raises(
            StandardError, match="carries over from wwc-2018 criterion 'DG99', which wwc-2018 lacks"
        ):
            parse_standard(data, source="test standard", others=get_standard)

    def test_a_crosswalk_naming_an_unknown_version_is_refused(self) -> None:
        data = raw()
        data["criteria"][0]["carries_over_from"] = {"wwc-1999": ["X1"]}
        with pytest.raises(StandardError, match="carries over from unknown standard 'wwc-1999'"):
            parse_standard(data, source="test standard", others=get_standard)


class TestLoaderRefusesBadStandards:
    def refused(self, data: dict[str, Any]) -> str:
        with pytest.raises(StandardError) as info:
            parse_standard(data, source="test standard")
        return str(info.value)

    def test_duplicate_ids(self) -> None:
        data = raw()
        data["criteria"].append(copy.deepcopy(data["criteria"][0]))
        assert "duplicate criterion id 'DM1'" in self.refused(data)

    def test_unknown_prerequisite(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM77"]
        assert "criterion 'DM1' requires unknown criterion 'DM77'" in self.refused(data)

    def test_cyclic_prerequisites(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM4"]  # DM4 -> DM2 -> DM1 -> DM4
        assert "prerequisites form a cycle: DM1 -> DM4 -> DM2 -> DM1" in self.refused(data)

    def test_thresholds_not_increasing(self) -> None:
        data = raw()
        data["levels"][1]["min_score"] = 0.5
        assert "thresholds not increasing: gold (0.5) <= silver (0.51)" in self.refused(data)

    def test_a_level_requiring_an_unknown_criterion(self) -> None:
        data = raw()
        data["levels"][2]["required_criteria"].append("PA99")
        assert "level 'platinum' requires unknown criterion 'PA99'" in self.refused(data)

    def test_a_higher_level_without_a_lower_levels_required_criterion(self) -> None:
        # Given a standard whose Platinum drops the equity criterion Silver and Gold require
        data = raw()
        data["levels"][2]["required_criteria"].remove("DM8")
        # Then the loader refuses it, naming both levels and the criterion
        assert (
            "level 'platinum' lacks criterion DM8, which the lower level 'silver' requires"
            in self.refused(data)
        )

    def test_a_higher_level_asking_fewer_of_a_tag_than_a_lower_one(self) -> None:
        data = raw()
        data["levels"][0]["required_tags"] = [{"tag": "outcome", "at_least": 2}]
        message = self.refused(data)
        assert (
            "level 'gold' lacks at least 2 earned criterion tagged 'outcome', which the lower level 'silver'"
            in (message)
        )

    def test_a_tag_requirement_no_set_of_criteria_could_meet(self) -> None:
        data = raw()
        for level in data["levels"]:
            level["required_tags"] = [{"tag": "outcome", "at_least": 9}]
        assert "criterion tagged 'outcome', but only 4 criteria carry that tag" in self.refused(data)

    def test_a_checklist_asking_more_than_it_has(self) -> None:
        data = raw()
        data["criteria"][0]["checklist"] = {"items": ["a", "b"], "min_met": 3}
        assert "checklist asks 3 of only 2 items" in self.refused(data)

    def test_not_json(self) -> None:
        with pytest.raises(StandardError, match="not valid JSON"):
            parse_standard("{", source="broken.json")

    def test_every_problem_is_named_at_once(self) -> None:
        data = raw()
        data["criteria"][0]["prerequisites"] = ["DM77"]
        data["levels"][2]["required_criteria"].append("PA99")
        message = self.refused(data)
        assert "DM77" in message and "PA99" in message


def test_a_version_is_never_a_path_into_the_package() -> None:
    # Both name real JSON files: neither is a shipped standard's version.
    for version in ("../standards/wwc-2022", "standards/wwc-2018", "/etc/passwd"):
        with pytest.raises(UnknownStandard, match="unknown standard version"):
            get_standard(version)


def test_standards_load_on_several_threads_at_once() -> None:
    """A worker decides on several threads: one thread loading wwc-2022 (whose crosswalk loads
    wwc-2018) while another loads wwc-2018 is no loop, and both standards load."""
    from concurrent.futures import ThreadPoolExecutor

    load = get_standard.__wrapped__  # uncached: every call loads the file again
    versions = ["wwc-2018", "wwc-2022"] * 40
    with ThreadPoolExecutor(8) as pool:
        loaded = list(pool.map(lambda v: load(v).version, versions))
    assert loaded == versions
