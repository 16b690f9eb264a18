"""The HTTP API (FastAPI). Entry points build it with `create_app`; nothing else imports `api`.

`create_app` is imported lazily, so `api.report` (used by the CLI's cohort report) loads without
FastAPI and the rest of the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from api.app import create_app

        return create_app
    raise AttributeError(name)
