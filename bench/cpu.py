"""CPU seconds a benchmark spends: its own process (the client: every thread of it) and the
PostgreSQL server it started.

The client is getrusage(RUSAGE_SELF): user + system time of every thread of this process (the
eventsourcing peer writes from threads). The server is the embedded PostgreSQL's process tree read
through /proc (psutil): the postmaster's own time, the time of every process alive under it now
(backends, WAL writer, checkpointer, autovacuum) and its children's time (the backends that ended,
which the postmaster waited for). Between two readings that is everything the server spent,
background work included: writing the WAL is part of what a row costs. A server that is not ours
(CITYCERT_DATABASE_URL) has no process to read: its CPU is None."""

from __future__ import annotations

import contextlib
import resource
from dataclasses import dataclass
from pathlib import Path


def postmaster_pid(data_folder: Path) -> int | None:
    """The postmaster of the PostgreSQL in `data_folder` (first line of postmaster.pid), if any."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((data_folder / "postmaster.pid").read_text().splitlines()[0])
    return None


def server_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    import psutil

    try:
        postmaster = psutil.Process(pid)
        t = postmaster.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in postmaster.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                c = child.cpu_times()
                total += c.user + c.system
    except psutil.Error:
        return None
    return float(total)


def client_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Cpu:
    client: float
    server: float | None

    @property
    def total(self) -> float | None:
        return None if self.server is None else self.client + self.server


class CpuMeter:
    """`with CpuMeter(pid) as meter: ...`, then meter.used: the CPU seconds spent inside."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.used = Cpu(0.0, None)

    def __enter__(self) -> CpuMeter:
        self._client = client_seconds()
        self._server = server_seconds(self.server_pid)
        return self

    def __exit__(self, *exc: object) -> None:
        server = server_seconds(self.server_pid)
        spent = None if server is None or self._server is None else server - self._server
        self.used = Cpu(client_seconds() - self._client, spent)
