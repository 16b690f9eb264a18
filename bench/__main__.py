"""`python -m bench [flags]`: run the short benchmark set in order: the event store, then the city
lifecycle on Temporal. Flags are passed to each module, so give only flags both take (`--cities`),
or run one module alone (`python -m bench.eventstore --help`, `python -m bench.lifecycle --help`).

The growth benchmark (bench/growth.py) is long, so it runs only when asked:
`python -m bench growth [its flags]` runs it alone (`make bench-growth`), and
`python -m bench --with-growth [flags]` runs the short set, then growth with its own defaults."""

from __future__ import annotations

import sys

from bench import eventstore, growth, lifecycle

MODULES = [eventstore, lifecycle]

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["growth"]:
        growth.main(argv[1:])
    else:
        with_growth = "--with-growth" in argv
        argv = [a for a in argv if a != "--with-growth"]
        for module in MODULES:
            module.main(argv)
        if with_growth:
            growth.main([])
