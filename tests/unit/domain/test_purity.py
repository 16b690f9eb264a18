"""domain/ imports only the standard library and pydantic, so workflows can pass it through the
sandbox and its tests need no servers."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[3] / "domain"
ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core", "typing_extensions"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_nothing_but_the_standard_library_and_pydantic() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert len(files) >= 8
    offenders = {
        f"{path.relative_to(DOMAIN)}: {root}"
        for path in files
        for root in imported_roots(path)
        if root not in sys.stdlib_module_names and root not in ALLOWED_THIRD_PARTY and root != "domain"
    }
    assert offenders == set()


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import asyncpg\nfrom temporalio import workflow\nimport json\n")
    assert imported_roots(sample) - set(sys.stdlib_module_names) == {"asyncpg", "temporalio"}
