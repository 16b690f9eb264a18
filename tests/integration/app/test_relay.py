"""The mail relay over a real PostgreSQL and real SMTP servers (aiosmtpd) on 127.0.0.1: given the
events a city's history records and the people who must hear of them, what arrives, once each,
in whose language; and what an SMTP server that is down, or refuses a mailbox, changes."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import timedelta
from pathlib import Path

from app.people import add_person, erase_person
from app.relay import MailRelay, failures, relaying, release_held
from domain import commands as c
from domain.levels import Level
from domain.people import new_person
from eventstore import EventStore
from runtime.mail_sink import MailFolder, running_sink
from runtime.settings import Settings
from runtime.smtp import SmtpServer
from tests.integration.eventstore.stories import SYSTEM, CityRun
from tests.integration.readmodel.test_reminders import certified_until
from tests.polling import eventually

NO_WAIT = (timedelta(0),) * 3  # retries at once, three of them: the backoff is not what is tested


async def person(
    store: EventStore, name: str, email: str, language: str, role: str = "city", **more: str
) -> str:
    added = await add_person(
        store, new_person({"name": name, "email": email, "language": language, "role": role, **more})
    )
    return added.id


async def reminded(store: EventStore) -> CityRun:
    """Lakeside, certified for 100 more days, and the 180-day reminder recorded."""
    run = await certified_until(store, "lakeside", days_left=100)
    await run.do(c.SendReminder(threshold_days=180), actor=SYSTEM, wait=timedelta(0))
    return run


def relay(store: EventStore, port: int, **options: object) -> MailRelay:
    return MailRelay(
        store, SmtpServer("127.0.0.1", port), mail_from="citycert <noreply@example.org>", **options
    )  # type: ignore[arg-type]


async def deliveries(store: EventStore) -> list[tuple[str, str, int]]:
    async with store.connection() as conn:
        rows = await conn.fetch("SELECT person_id, status, attempts FROM mail_deliveries ORDER BY person_id")
    return [(r["person_id"], r["status"], r["attempts"]) for r in rows]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_reminder_reaches_each_of_the_citys_staff_once_in_their_language(
    store: EventStore, tmp_path: Path
) -> None:
    # Given a certified city with a reminder recorded, and its two contacts, one reading Portuguese
    # and one English (chosen when the notice goes out, not when the event was recorded)
    await run_certified(store)
    ana = await person(store, "Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    await person(store, "Ben Ortiz", "ben@lakeside.example", "en", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        # When the relay runs, twice
        first = await relay(store, port).run_once()
        again = await relay(store, port).run_once()
    # Then each received the reminder once, in their language, with the date as they write it
    assert (first.sent, again.sent, again.handed_over) == (2, 0, 0)
    mails = {m.message["To"]: m.message for m in folder.messages()}
    assert set(mails) == {"ana@lakeside.example", "ben@lakeside.example"}
    assert mails["ana@lakeside.example"]["Subject"].startswith("Lakeside: a certificação vence em")
    assert mails["ben@lakeside.example"]["Subject"].startswith("Lakeside: the certification ends on")
    assert mails["ana@lakeside.example"]["Message-ID"].endswith(f".{ana}@citycert>")
    assert sorted(d[1] for d in await deliveries(store)) == ["sent", "sent"]


async def run_certified(store: EventStore) -> None:
    await reminded(store)
    async with store.connection() as conn:  # the import's own notice is not what these tests follow
        await conn.execute(
            "UPDATE notification_outbox SET sent_at = now() WHERE kind <> 'certification_expiry_reminder'"
        )


async def test_with_the_smtp_server_down_for_a_while_nothing_is_lost_and_it_arrives_once_back(
    store: EventStore, tmp_path: Path
) -> None:
    await run_certified(store)
    await person(store, "Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    port = free_port()
    down = relay(store, port, backoff=NO_WAIT)
    # Given the SMTP server is down: the relay tries, and keeps the delivery for later
    assert (await down.run_once()).retrying == 1
    [(_, status, attempts)] = await deliveries(store)
    assert (status, attempts) == ("pending", 1)
    # When it is back on the same port, the next round delivers it, and only once
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder, port=port):
        assert (await down.run_once()).sent == 1
        assert (await down.run_once()).sent == 0
    assert len(folder.messages()) == 1
    [(_, status, attempts)] = await deliveries(store)
    assert (status, attempts) == ("sent", 2)


async def test_a_delivery_still_failing_after_its_last_retry_is_failed_for_operators(
    store: EventStore,
) -> None:
    await run_certified(store)
    await person(store, "Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    down = relay(store, free_port(), backoff=NO_WAIT)
    outcomes = [await down.run_once() for _ in range(len(NO_WAIT) + 1)]
    assert [o.retrying for o in outcomes] == [1, 1, 1, 0] and outcomes[-1].failed == 1
    [failed] = await failures(store)
    assert (failed.city_id, failed.kind, failed.attempts) == ("lakeside", "certification_expiry_reminder", 4)
    assert "could not be reached" in failed.last_error
    assert (await down.run_once()).failed == 0  # failed stays failed: no more attempts


async def test_two_relays_at_once_send_each_delivery_once(store: EventStore, tmp_path: Path) -> None:
    await run_certified(store)
    for n in range(6):
        await person(store, f"Staff {n}", f"staff{n}@lakeside.example", "en", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        one, two = relay(store, port, batch=2), relay(store, port, batch=2)
        for _ in range(4):
            await asyncio.gather(one.run_once(), two.run_once())
    sent = [m.message_id for m in folder.messages()]
    assert len(sent) == len(set(sent)) == 6


async def test_a_person_erased_before_the_mail_went_gets_none(store: EventStore, tmp_path: Path) -> None:
    await run_certified(store)
    ana = await person(store, "Ana Lima", "ana@lakeside.example", "pt", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        await relay(store, port, batch=1).hand_over()  # her delivery is written
        await erase_person(store, ana)  # then she is erased
        assert (await relay(store, port).run_once()).skipped == 1
    assert folder.messages() == []


async def test_a_decision_held_for_release_goes_out_once_an_operator_releases_it(
    store: EventStore, tmp_path: Path
) -> None:
    # Given a city decided Gold and then awarded, with a contact reading Spanish, and decisions held
    # for an operator's release
    run = CityRun(store, "lakeside")
    await run.register()
    await person(store, "Ana Lima", "ana@lakeside.example", "es", city_id="lakeside")
    await run.certify(approved=30, level=Level.GOLD)
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        held = relay(store, port, hold_decisions=True)
        await held.run_once()
        # Then the award went out, the decision waits
        assert [str(m.message["Subject"]) for m in folder.messages()] == [
            "Lakeside: certificación Oro otorgada"
        ]
        # When an operator releases it, then the next round sends it
        assert await release_held(store) == 1
        await held.run_once()
    assert [str(m.message["Subject"]) for m in folder.messages()][1:] == [
        "Lakeside obtiene la certificación Oro"
    ]


async def test_a_process_with_an_smtp_url_relays_by_itself_until_it_stops(
    store: EventStore, tmp_path: Path
) -> None:
    # Given a reminder for a city with a contact, and a process configured with an SMTP URL (as the
    # worker's serve() is: the relay runs beside it)
    await run_certified(store)
    await person(store, "Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        settings = Settings(smtp_url=f"smtp://127.0.0.1:{port}", mail_relay_every=timedelta(milliseconds=50))
        async with relaying(store, settings):
            # Then the mail arrives without anyone asking
            kept = await eventually(lambda: asyncio.to_thread(folder.messages), lambda mails: len(mails) == 1)
    assert kept[0].message["To"] == "ana@lakeside.example"


async def test_a_reminder_queued_before_notices_existed_is_sent_from_its_event(
    store: EventStore, tmp_path: Path
) -> None:
    # Given a reminder row as releases before notices queued it: the event's own data as payload
    run = await reminded(store)
    async with store.connection() as conn:
        await conn.execute(
            "UPDATE notification_outbox SET sent_at = now() WHERE kind <> 'certification_expiry_reminder'"
        )
        await conn.execute(
            "UPDATE notification_outbox SET payload = $1 WHERE kind = 'certification_expiry_reminder'",
            json.dumps(
                {"threshold_days": 180, "valid_until": run.state.certification.valid_until.isoformat()}
            ),
        )
    await person(store, "Ana Lima", "ana@lakeside.example", "en", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    async with running_sink(folder) as port:
        assert (await relay(store, port).run_once()).sent == 1
    # Then the notice is read from the event the row names
    [mail] = folder.messages()
    assert str(mail.message["Subject"]).startswith("Lakeside: the certification ends on")


async def test_a_backlog_is_relayed_in_one_go_not_a_batch_per_round(
    store: EventStore, tmp_path: Path
) -> None:
    # Given a reminder for a city with five contacts, and a relay that takes two at a time and
    # looks for mail only once an hour
    await run_certified(store)
    for n in range(5):
        await person(store, f"Contact {n}", f"contact{n}@lakeside.example", "en", city_id="lakeside")
    folder = MailFolder(tmp_path / "mail")
    stop = asyncio.Event()
    async with running_sink(folder) as port:
        running = asyncio.create_task(relay(store, port, batch=2).run(stop, every=3600))
        try:
            # When it runs, then all five arrive without waiting for the next hour: a full batch
            # is followed by the next at once
            kept = await eventually(lambda: asyncio.to_thread(folder.messages), lambda m: len(m) == 5)
        finally:
            stop.set()
            await running
    assert len(kept) == 5
    assert sorted(d[1] for d in await deliveries(store)) == ["sent"] * 5
