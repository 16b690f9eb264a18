"""What every benchmark does with its figures besides printing them: a row in a CSV history
(bench/results/<bench>.csv: the commit, the date, then the figures), so a change's effect can be read
across commits; and, for the growth benchmark, how a cost grows with the work (flat, linear, worse).

Pure helpers, tested in tests/unit/bench/; only `current_commit` runs a process (git)."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
FIXED = ("commit", "date")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def append_history(path: Path, figures: Mapping[str, Any], *, commit: str, date: str) -> list[str]:
    """Append one row (commit, date, then `figures`) to the CSV at `path`, creating it if needed.

    A figure no earlier row has becomes a new column at the end (the file is rewritten with the
    wider header, earlier rows left blank there); a column this row lacks is left blank. Returns the
    header written."""
    rows: list[dict[str, str]] = []
    header: list[str] = list(FIXED)
    if path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or FIXED)
            rows = [dict(r) for r in reader]
    row = {"commit": commit, "date": date, **{k: _cell(v) for k, v in figures.items() if k not in FIXED}}
    header += [k for k in row if k not in header]
    rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return header


def current_commit(root: Path | None = None) -> str:
    """The checked-out commit's short sha, "+dirty" when the work tree has changes ("unknown"
    outside git): a row then says which code it measured."""
    cwd = root or RESULTS.parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def record(bench: str, figures: Mapping[str, Any], folder: Path = RESULTS) -> Path:
    """Append the run's figures to bench/results/<bench>.csv with the commit and today's UTC time."""
    path = folder / f"{bench}.csv"
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    append_history(path, figures, commit=current_commit(), date=date)
    return path


# --- growth curves ----------------------------------------------------------------------------------

FLAT = "flat"
SUBLINEAR = "sublinear"
LINEAR = "linear"
WORSE = "worse than linear"


def growth_exponent(sizes: Sequence[float], values: Sequence[float]) -> float | None:
    """The least-squares slope of log(value) over log(size): 0 flat, 1 linear, 2 quadratic. None
    with fewer than two usable points (a size or value <= 0)."""
    points = [(math.log(x), math.log(y)) for x, y in zip(sizes, values, strict=True) if x > 0 and y > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx


def classify(sizes: Sequence[float], values: Sequence[float]) -> str:
    """How a cost grows with the work: "flat" (exponent < 0.25: no real growth, or noise),
    "sublinear" (< 0.75), "linear" (<= 1.25) or "worse than linear"; "unknown" without two points.

    The bands are wide on purpose: the benchmarks run on a shared machine, and a tenfold step in size
    makes an exponent of 0.25 a 1.8x change, more than noise usually is."""
    b = growth_exponent(sizes, values)
    if b is None:
        return "unknown"
    if b < 0.25:
        return FLAT
    if b < 0.75:
        return SUBLINEAR
    if b <= 1.25:
        return LINEAR
    return WORSE
