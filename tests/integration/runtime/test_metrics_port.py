"""Where /metrics listens, and what a port already taken does (real sockets on 127.0.0.1)."""

from __future__ import annotations

import socket

import pytest

from runtime import telemetry
from runtime.process import StartupError
from runtime.settings import Settings


def test_no_port_set_serves_no_metrics() -> None:
    with telemetry.serving_metrics(Settings()) as endpoint:
        assert endpoint is None


def test_a_port_set_and_taken_stops_start_up_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(StartupError, match="CITYCERT_METRICS_PORT"),
            telemetry.serving_metrics(Settings(metrics_port=port)),
        ):
            pass
        # `citycert dev`'s default port taken: no metrics, and start-up goes on
        with telemetry.serving_metrics(Settings(), default_port=port) as endpoint:
            assert endpoint is None
