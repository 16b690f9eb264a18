"""`python -m bench [flags]`: run every benchmark module in order (for now, the event store's)."""

from __future__ import annotations

import sys

from bench import eventstore

MODULES = [eventstore]

if __name__ == "__main__":
    for module in MODULES:
        module.main(sys.argv[1:])
