"""The HTTP API (FastAPI): JSON under /v1. Entry points build it with `create_app`."""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
