"""How every command prints: a rich table (or text) on a terminal, JSON with --json."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()
errors = Console(stderr=True)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    # Values are text, never markup: a city named "[bold]" must print as it is.
    table = Table(*columns, title=Text(title))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console.print(table)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """JSON of `data` with --json, else whatever `human` prints."""
    if as_json:
        print_json(data)
    else:
        human()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr; raise the returned Exit."""
    # Plain and unwrapped, so scripts reading stderr get the message as one line.
    errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)
