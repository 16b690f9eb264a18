"""`python -m bench [flags]`: run every benchmark module in order: the event store, then the city
lifecycle on Temporal. Flags are passed to each module, so give only flags both take (`--cities`),
or run one module alone (`python -m bench.eventstore --help`, `python -m bench.lifecycle --help`)."""

from __future__ import annotations

import sys

from bench import eventstore, lifecycle

MODULES = [eventstore, lifecycle]

if __name__ == "__main__":
    for module in MODULES:
        module.main(sys.argv[1:])
