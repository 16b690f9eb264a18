"""A scratch folder for an embedded server of a test's own."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def folder() -> Iterator[Path]:
    # Not pytest's tmp_path: its root (/tmp/pytest-of-<user>) is 0700, ours, and reset by every
    # pytest session that starts, so the server's system user (when run as root) could not enter it.
    path = Path(tempfile.mkdtemp(prefix="citycert-data-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
