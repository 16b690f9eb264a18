"""citycert's own processes as the compose file runs them: `citycert worker` and `citycert api`,
configured only through CITYCERT_* variables, each logging to a file a test can read.

The processes themselves are tests/processes.ChildProcess.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.processes import ChildProcess, children

REPO = Path(__file__).resolve().parents[2]
CITYCERT = Path(sys.executable).with_name("citycert")  # the console script of this venv
IMAGE_LIKE = Path(__file__).resolve().parent / "image_like"  # sitecustomize: imports as in the image


def citycert_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its CITYCERT_* variables, plus `settings`; Python
    imports as in the image (without the packages the Dockerfile leaves out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYCERT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(IMAGE_LIKE), env.get("PYTHONPATH")) if p)
    return {**env, **settings}


# The compose file's services run as plain child processes.
Service = ChildProcess
services = children
