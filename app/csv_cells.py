"""CSV as the programme writes it for people who open it in a spreadsheet: RFC 4180 (CRLF line
ends, a header row first) with every text cell guarded against formula injection.

A spreadsheet runs a cell that starts like a formula (`=`, `+`, `-`, `@`) and some read a leading
tab or carriage return the same way, so a city named `=HYPERLINK(...)` could run in the reader's
spreadsheet. Such a text is written with a single quote before it (`'=HYPERLINK(...)`): the
spreadsheet shows it as text, and a reader who wants the value as recorded drops that one quote.
Numbers are written as they are: a number cannot hold a formula, and `-3` must stay a number.
Every CSV the programme exports (the directory, the open data, the announcements, the round
report) writes its cells through `guarded`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
# How a guarded cell appears, in words, for the data dictionaries and the documentation.
GUARDED_CELLS = (
    "In the CSV, a text value that starts with =, +, -, @, a tab or a carriage return is written "
    "with a single quote (') before it, so that a spreadsheet shows it as text and never runs it as "
    "a formula; drop that one leading quote to read the value as recorded (the JSON holds it as "
    "recorded)."
)


def guarded(value: object) -> str:
    """The cell's text: empty for None, a number as written, a text that would start a formula
    kept as text by a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return GUARD + text if text.startswith(FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header row, then each row, every cell `guarded`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guarded(name) for name in header])
    writer.writerows([guarded(value) for value in row] for row in rows)
    return out.getvalue()
