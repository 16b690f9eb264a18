"""The mail outbox as /metrics shows it: a real relay, a real PostgreSQL, an SMTP server that is
down and then back (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from eventstore import EventStore
from runtime.mail_sink import MailFolder, running_sink
from tests.integration.app.test_relay import NO_WAIT, free_port, person, relay, run_certified


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_outbox_and_its_failures_show_while_the_smtp_server_is_down(
    store: EventStore, tmp_path: Path
) -> None:
    await run_certified(store)
    await person(store, "Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    retried = value("citycert_mail_delivery_failures_total", outcome="retrying")
    port = free_port()
    down = relay(store, port, backoff=NO_WAIT)
    # The server is down: one delivery waits, and the failure is counted
    await down.run_once()
    assert value("citycert_mail_outbox", state="pending") == 1
    assert value("citycert_mail_outbox", state="queued") == 0
    assert value("citycert_mail_delivery_failures_total", outcome="retrying") == retried + 1
    # Back: the mail goes out and the outbox is empty again
    async with running_sink(MailFolder(tmp_path / "mail"), port=port):
        assert (await down.run_once()).sent == 1
    assert value("citycert_mail_outbox", state="pending") == 0
