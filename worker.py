"""Runs the citycert Temporal worker: `python -m worker [--log-level INFO]` (or `citycert worker`).

The worker itself is composed in app/worker.py; this is only the process around it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import NoReturn

import structlog

from app.worker import run_process
from app.worker_pool import SLOT_VARIABLE


def main(argv: Sequence[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(prog="worker", description="Run the citycert Temporal worker.")
    parser.add_argument("--log-level", default=os.environ.get("CITYCERT_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    slot = os.environ.get(SLOT_VARIABLE)
    if slot is not None:  # a child of `citycert worker --processes N`: its lines say which one
        structlog.contextvars.bind_contextvars(worker_process=int(slot))
    run_process(args.log_level)


if __name__ == "__main__":
    main()
