"""Every CSV the programme exports keeps a text that would start a formula as text: given a cell,
when it is written, then a spreadsheet shows it and never runs it."""

from __future__ import annotations

import csv
import io

import pytest

from app.csv_cells import FORMULA_START, GUARD, csv_text, guarded


@pytest.mark.parametrize("start", FORMULA_START)
def test_a_text_that_would_start_a_formula_is_written_after_a_single_quote(start: str) -> None:
    assert guarded(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


def test_other_cells_are_written_as_they_are() -> None:
    assert [guarded(v) for v in ("Lakeside", "O'Hare", "", None, -3, 2.5, "a=b")] == [
        "Lakeside",
        "O'Hare",
        "",
        "",
        "-3",  # a number cannot hold a formula, and stays a number
        "2.5",
        "a=b",
    ]


def test_a_table_is_rfc_4180_with_its_text_cells_guarded() -> None:
    text = csv_text(["city", "region"], [["=1+1", "@SUM(A1)"], ["Bexley, Ohio", None]])

    assert text.endswith("\r\n")
    header, first, second = list(csv.reader(io.StringIO(text)))
    assert header == ["city", "region"]
    assert first == [GUARD + "=1+1", GUARD + "@SUM(A1)"]
    assert second == ["Bexley, Ohio", ""]
