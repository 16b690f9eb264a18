"""The benchmarks' pure helpers: the CSV history and the growth classification (no servers)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.results import FLAT, LINEAR, SUBLINEAR, WORSE, append_history, classify, growth_exponent


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_the_first_row_creates_the_file_with_commit_and_date_first(tmp_path: Path) -> None:
    path = tmp_path / "results" / "eventstore.csv"
    append_history(path, {"append_eps_8": 7400, "verify_ok": True, "none": None}, commit="abc", date="d1")
    header, rows = _read(path)
    assert header == ["commit", "date", "append_eps_8", "verify_ok", "none"]
    assert rows == [{"commit": "abc", "date": "d1", "append_eps_8": "7400", "verify_ok": "true", "none": ""}]


def test_a_new_figure_widens_the_header_and_old_rows_stay_blank_there(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    append_history(path, {"a": 1, "b": 2}, commit="c1", date="d1")
    append_history(path, {"b": 3, "c": [1, 2]}, commit="c2", date="d2")
    header, rows = _read(path)
    assert header == ["commit", "date", "a", "b", "c"]
    assert rows[0] == {"commit": "c1", "date": "d1", "a": "1", "b": "2", "c": ""}
    assert rows[1] == {"commit": "c2", "date": "d2", "a": "", "b": "3", "c": "[1,2]"}


def test_figures_cannot_overwrite_the_commit_or_the_date(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    append_history(path, {"commit": "forged", "x": 1}, commit="real", date="d")
    _, rows = _read(path)
    assert rows[0]["commit"] == "real"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5.0, 5.2, 4.9], FLAT),
        ([1.0, 3.0, 10.0], SUBLINEAR),
        ([1.0, 10.0, 100.0], LINEAR),
        ([1.0, 100.0, 10_000.0], WORSE),
    ],
)
def test_classify_reads_the_log_log_slope(values: list[float], expected: str) -> None:
    assert classify([1e3, 1e4, 1e5], values) == expected


def test_the_exponent_of_a_power_law_is_its_power() -> None:
    b = growth_exponent([10, 100, 1000], [3 * 10**1.5, 3 * 100**1.5, 3 * 1000**1.5])
    assert b is not None and abs(b - 1.5) < 1e-9


def test_too_few_usable_points_is_unknown() -> None:
    assert classify([1000], [1.0]) == "unknown"
    assert classify([1000, 10_000], [0.0, 1.0]) == "unknown"
    assert growth_exponent([10, 10], [1.0, 2.0]) is None
