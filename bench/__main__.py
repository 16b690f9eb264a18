"""`python -m bench [flags]`: run the short benchmark set in order: the event store, the city
lifecycle on Temporal, the public directory over HTTP, then the portal's pages. Flags are passed to
each module, so give only flags all of them take (`--cities`, `--no-record`), or run one module alone
(`python -m bench.eventstore --help`, `python -m bench.lifecycle --help`, `python -m bench.directory
--help`, `python -m bench.pages --help`).

The growth benchmark (bench/growth.py) is long, so it runs only when asked:
`python -m bench growth [its flags]` runs it alone (`make bench-growth`), and
`python -m bench --with-growth [flags]` runs the short set, then growth with its own defaults."""

from __future__ import annotations

import sys

from bench import directory, eventstore, growth, lifecycle, pages

MODULES = [eventstore, lifecycle, directory, pages]

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
