"""The mail relay: notifications queued by the event store become mails that arrive.

Two steps, each in its own short transaction, run by `MailRelay.run_once` every few seconds (in the
worker, and in `citycert dev`):

1. **Hand over.** A notification not yet handed over (notification_outbox.sent_at NULL) gets one
   delivery per recipient: the city's active staff, the reviewer it names, or every active
   committee member (domain/notices.py says which). A decision's deliveries may be held for an
   operator's release (CITYCERT_MAIL_HOLD_DECISIONS).
2. **Deliver.** A relay leases a batch of due deliveries (FOR UPDATE SKIP LOCKED, then a lease in
   the row), so several relays never send one delivery at once; sends each by SMTP with its own
   Message-ID, and records the outcome only while its lease holds. A temporary failure (the server
   down, 4xx) is tried again with backoff; a permanent one (5xx), or one still failing after the
   last attempt, is recorded as failed for operators (`citycert mail failures`).

Beside the mail, each relay deletes aged sign-in links and sessions every few minutes
(`sweep_sign_ins`).

What "exactly once" can mean over SMTP: a delivery is marked sent only after the server took it,
so a relay that dies between the two sends it again after its lease ends, with the same
Message-ID (a receiver may drop the duplicate). Nothing is ever lost: a delivery leaves `pending`
only as sent, failed or skipped (its recipient erased or deactivated before it went).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import structlog

from app.messages import compose
from app.sign_in import link_path, link_secret, sweep
from domain import events as ev
from domain.notices import Audience, Notice, NoticeKind, notice_for
from eventstore import EventStore
from runtime import telemetry
from runtime.keys import sign_in_key
from runtime.settings import Settings
from runtime.smtp import MailNotSent, SmtpServer

log = structlog.get_logger("citycert.relay")

# Waits before the 2nd, 3rd... attempt; after the last, a delivery still failing is failed.
BACKOFF: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
)
DECISIONS = frozenset({NoticeKind.LEVEL_DECIDED, NoticeKind.NOT_CERTIFIED, NoticeKind.APPEAL_DECIDED})
LEASE = timedelta(minutes=2)
SWEEP_EVERY = timedelta(minutes=10)  # aged sign-in rows harm nobody for a few minutes more


@contextlib.asynccontextmanager
async def relaying(
    store: EventStore, settings: Settings, smtp: SmtpServer | None = None
) -> AsyncIterator[None]:
    """The relay running beside a process (the worker, `citycert dev`) while the block runs; to
    `smtp`, else CITYCERT_SMTP_URL's server; none if neither is given."""
    smtp = smtp or settings.smtp_server
    if smtp is None:
        log.info("relay.off", reason="CITYCERT_SMTP_URL is unset")
        yield
        return
    relay = MailRelay(
        store,
        smtp,
        mail_from=settings.mail_from,
        hold_decisions=settings.mail_hold_decisions,
        sign_in_key=sign_in_key(settings),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        relay.run(stop, every=settings.mail_relay_every.total_seconds()), name="mail-relay"
    )
    log.info("relay.started", smtp=str(smtp), relay_id=relay.relay_id)
    try:
        yield
    finally:
        stop.set()
        await task


def message_id(event_id: uuid.UUID, person_id: str) -> str:
    """One per delivery, the same on every attempt: <event id.person id@citycert>."""
    return f"<{event_id}.{person_id}@citycert>"


@dataclass(frozen=True, slots=True)
class RelayRound:
    handed_over: int  # notifications given their deliveries
    sent: int
    retrying: int
    failed: int
    skipped: int


@dataclass(frozen=True, slots=True)
class Failure:
    message_id: str
    city_id: str
    kind: str
    person_id: str
    attempts: int
    last_error: str
    at: datetime


class MailRelay:
    def __init__(
        self,
        store: EventStore,
        smtp: SmtpServer,
        *,
        mail_from: str,
        hold_decisions: bool = False,
        batch: int = 50,
        backoff: Sequence[timedelta] = BACKOFF,
        lease: timedelta = LEASE,
        relay_id: str | None = None,
        sign_in_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.smtp = smtp
        self.mail_from = mail_from
        self.hold_decisions = hold_decisions
        self.batch = batch
        self.backoff = tuple(backoff)
        self.lease = lease
        self.relay_id = relay_id or uuid.uuid4().hex[:12]
        self.sign_in_key = sign_in_key  # to write sign-in links (app/sign_in.py); none: not sent
        self.swept_at: datetime | None = None

    async def run(self, stop: asyncio.Event, *, every: float = 5.0) -> None:
        """Relay until `stop` is set; a round that fails (the database away) is logged and retried.

        A full round (a whole batch handed over or delivered) is followed at once by the next: a
        backlog (the demo's seed queues hundreds of notices) drains in seconds instead of a batch
        per `every`, so a sign-in link queued behind it is not minutes late."""
        while not stop.is_set():
            full = False
            try:
                done = await self.run_once()
                delivered = done.sent + done.retrying + done.failed + done.skipped
                full = done.handed_over >= self.batch or delivered >= self.batch
            except Exception as e:  # the relay outlives a database or SMTP hiccup
                log.warning("relay.round_failed", error=str(e))
            if full:
                await asyncio.sleep(0)  # let the rest of the process run between two rounds
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def run_once(self) -> RelayRound:
        await self.sweep_sign_ins()
        handed_over = await self.hand_over()
        outcomes = await self.deliver_due()
        for outcome in ("retrying", "failed"):
            if count := outcomes.count(outcome):
                telemetry.MAIL_DELIVERY_FAILURES.labels(outcome).inc(count)
        await self.count_outbox()
        return RelayRound(
            handed_over, *(outcomes.count(o) for o in ("sent", "retrying", "failed", "skipped"))
        )

    async def sweep_sign_ins(self, now: datetime | None = None) -> None:
        """Delete aged sign-in links and sessions (app/sign_in.py `sweep`), once per SWEEP_EVERY:
        the relay is the loop every deployment runs beside the API, and the sign-in mail is its own.
        Several relays sweeping at once delete the same rows; nothing else follows from it."""
        now = now or datetime.now(UTC)
        if self.swept_at is not None and now - self.swept_at < SWEEP_EVERY:
            return
        self.swept_at = now
        try:
            swept = await sweep(self.store, now=now)
        except Exception as e:  # a failed sweep must not hold the mail back: the next one catches up
            log.warning("relay.sweep_failed", error=str(e))
            return
        if swept.sessions or swept.links:
            log.info("relay.sign_ins_swept", sessions=swept.sessions, links=swept.links)

    async def count_outbox(self) -> None:
        """Set citycert_mail_outbox: notifications not handed over, deliveries pending and failed
        (each count an index's: the partial indexes of migrations 0005 and 0011)."""
        async with self.store.connection() as conn:
            row = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL) AS queued, "
                "(SELECT count(*) FROM mail_deliveries WHERE status = 'pending') AS pending, "
                "(SELECT count(*) FROM mail_deliveries WHERE status = 'failed') AS failed"
            )
        assert row is not None
        for state in ("queued", "pending", "failed"):
            telemetry.MAIL_OUTBOX.labels(state).set(row[state])

    # --- 1. hand over ---------------------------------------------------------------------------

    async def hand_over(self) -> int:
        async with self.store.connection() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT event_id, city_id, kind, payload FROM notification_outbox WHERE sent_at IS NULL "
                "ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch,
            )
            for row in rows:
                notice = await self._notice(row)
                people = await _recipients(conn, row["city_id"], notice) if notice else []
                status = "held" if self.hold_decisions and notice and notice.kind in DECISIONS else "pending"
                if notice is not None and not people:
                    log.warning("relay.no_recipient", event_id=str(row["event_id"]), kind=row["kind"])
                await conn.executemany(
                    "INSERT INTO mail_deliveries (message_id, event_id, person_id, status) "
                    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    [(message_id(row["event_id"], p), row["event_id"], p, status) for p in people],
                )
                await conn.execute(
                    "UPDATE notification_outbox SET sent_at = now() WHERE event_id = $1", row["event_id"]
                )
        return len(rows)

    async def _notice(self, row: Any) -> Notice | None:
        """The row's notice; for a row queued before notices existed (a reminder's event data), the
        notice its event gives."""
        try:
            return Notice.model_validate_json(row["payload"])
        except ValueError:
            found = await self.store.events_by_id([row["event_id"]])
            if not found:
                return None
            return notice_for(cast(ev.DomainEvent, self.store.to_domain(found[0])))

    # --- 2. deliver -----------------------------------------------------------------------------

    async def deliver_due(self) -> list[str]:
        claimed = await self._claim()
        return [await self._deliver(row) for row in claimed]

    async def _claim(self) -> list[Any]:
        async with self.store.connection() as conn:
            return list(
                await conn.fetch(
                    """
                    UPDATE mail_deliveries d
                       SET claimed_until = now() + $2::interval, claimed_by = $3, attempts = d.attempts + 1
                      FROM (SELECT message_id FROM mail_deliveries
                             WHERE status = 'pending' AND next_attempt_at <= now()
                               AND (claimed_until IS NULL OR claimed_until < now())
                             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due,
                           notification_outbox o
                     WHERE d.message_id = due.message_id AND o.event_id = d.event_id
                 RETURNING d.message_id, d.event_id, d.person_id, d.attempts, d.claimed_until,
                           o.city_id, o.kind, o.payload
                    """,
                    self.batch,
                    self.lease,
                    self.relay_id,
                )
            )

    async def _deliver(self, row: Any) -> str:
        async with self.store.connection() as conn:
            person = await conn.fetchrow(
                "SELECT name, email, language, deactivated_at, erased_at FROM people WHERE id = $1",
                row["person_id"],
            )
            city = await conn.fetchval("SELECT name FROM city_status WHERE city_id = $1", row["city_id"])
        if person is None or person["erased_at"] is not None or person["deactivated_at"] is not None:
            return await self._settle(row, "skipped", error="the recipient was deactivated or erased")
        notice = await self._notice(row)
        if notice is None:
            return await self._settle(row, "skipped", error="the notification's event is not in the store")
        link = ""
        if notice.kind is NoticeKind.SIGN_IN_LINK:
            # A link already expired would only disappoint; without the key it cannot be written.
            if self.sign_in_key is None:
                return await self._settle(row, "skipped", error="this relay holds no sign-in key")
            if notice.due_at is None or notice.due_at <= datetime.now(UTC):
                return await self._settle(row, "skipped", error="the sign-in link expired before it went")
            secret = link_secret(self.sign_in_key, row["event_id"])
            link = f"{notice.portal_url or ''}{link_path(secret)}"
        message = compose(
            notice,
            link=link,
            city=city or row["city_id"],
            recipient_name=person["name"],
            recipient_email=person["email"],
            language=person["language"],
            message_id=row["message_id"],
            mail_from=self.mail_from,
            sent_at=datetime.now(UTC),
        )
        try:
            await self.smtp.send(message)
        except MailNotSent as e:
            if e.permanent or row["attempts"] > len(self.backoff):
                log.error(
                    "relay.failed", message_id=row["message_id"], error=e.reason, attempts=row["attempts"]
                )
                return await self._settle(row, "failed", error=e.reason)
            wait = self.backoff[row["attempts"] - 1]
            log.info(
                "relay.retrying", message_id=row["message_id"], error=e.reason, wait=wait.total_seconds()
            )
            return await self._settle(row, "pending", error=e.reason, wait=wait)
        log.info("relay.sent", message_id=row["message_id"], kind=row["kind"], city_id=row["city_id"])
        return await self._settle(row, "sent")

    async def _settle(
        self, row: Any, status: str, *, error: str | None = None, wait: timedelta | None = None
    ) -> str:
        """Record a delivery's outcome, only while this relay's lease on it holds (a relay whose lease
        ran out must not overwrite what the one after it recorded)."""
        async with self.store.connection() as conn:
            await conn.execute(
                """
                UPDATE mail_deliveries
                   SET status = $2, last_error = $3, claimed_until = NULL, claimed_by = NULL,
                       sent_at = CASE WHEN $2 = 'sent' THEN now() END,
                       next_attempt_at = now() + coalesce($4::interval, interval '0')
                 WHERE message_id = $1 AND claimed_by = $5 AND claimed_until = $6
                """,
                row["message_id"],
                status,
                error,
                wait,
                self.relay_id,
                row["claimed_until"],
            )
        return "retrying" if status == "pending" else status


async def _recipients(conn: Any, city_id: str, notice: Notice) -> list[str]:
    """The ids of the active people `notice` is for."""
    match notice.audience:
        case Audience.CITY:
            rows = await conn.fetch(
                "SELECT id FROM people WHERE role = 'city' AND city_id = $1 AND deactivated_at IS NULL "
                "ORDER BY id",
                city_id,
            )
        case Audience.REVIEWER:
            # A reviewer the event names by a person's id (reviewers named by a token's name alone
            # have no address to write to yet).
            rows = await conn.fetch(
                "SELECT id FROM people WHERE role = 'reviewer' AND id = $1 AND deactivated_at IS NULL",
                notice.reviewer_id,
            )
        case Audience.COMMITTEE:
            rows = await conn.fetch(
                "SELECT id FROM people WHERE role = 'committee' AND deactivated_at IS NULL ORDER BY id"
            )
        case Audience.PERSON:
            rows = await conn.fetch(
                "SELECT id FROM people WHERE id = $1 AND deactivated_at IS NULL", notice.person_id
            )
    return [r["id"] for r in rows]


async def release_held(store: EventStore, event_id: uuid.UUID | None = None) -> int:
    """Release held deliveries (one notification's, or all): they go out on the relay's next round."""
    async with store.connection() as conn:
        result = await conn.execute(
            "UPDATE mail_deliveries SET status = 'pending', next_attempt_at = now() "
            "WHERE status = 'held' AND ($1::uuid IS NULL OR event_id = $1)",
            event_id,
        )
    return int(result.split()[-1])


async def failures(store: EventStore, limit: int = 100) -> list[Failure]:
    """Deliveries that failed for good, newest first: what operators must look at."""
    async with store.connection() as conn:
        rows = await conn.fetch(
            "SELECT d.message_id, o.city_id, o.kind, d.person_id, d.attempts, d.last_error, "
            "d.next_attempt_at "
            "FROM mail_deliveries d JOIN notification_outbox o USING (event_id) "
            "WHERE d.status = 'failed' ORDER BY d.next_attempt_at DESC LIMIT $1",
            limit,
        )
    return [
        Failure(
            r["message_id"],
            r["city_id"],
            r["kind"],
            r["person_id"],
            r["attempts"],
            r["last_error"] or "",
            r["next_attempt_at"],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One mail to one person, as the relay last left it."""

    message_id: str
    city_id: str
    kind: str
    person_id: str
    status: str  # held, pending, sent, failed or skipped
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outbox:
    """The mail's state for an operator: notifications not yet handed to the relay, the
    deliveries by status, and the latest deliveries."""

    unrelayed: int
    by_status: dict[str, int]
    latest: list[Delivery]


async def outbox(store: EventStore, limit: int = 50) -> Outbox:
    """What is queued, sent, failed (and why): the latest `limit` deliveries, newest first."""
    async with store.connection() as conn:
        unrelayed = await conn.fetchval("SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL")
        counts = await conn.fetch("SELECT status, count(*) AS n FROM mail_deliveries GROUP BY status")
        rows = await conn.fetch(
            "SELECT d.message_id, o.city_id, o.kind, d.person_id, d.status, d.attempts, d.last_error, "
            "d.created_at, d.sent_at "
            "FROM mail_deliveries d JOIN notification_outbox o USING (event_id) "
            "ORDER BY d.created_at DESC, d.message_id LIMIT $1",
            limit,
        )
    return Outbox(
        unrelayed=int(unrelayed),
        by_status={r["status"]: int(r["n"]) for r in counts},
        latest=[
            Delivery(
                r["message_id"],
                r["city_id"],
                r["kind"],
                r["person_id"],
                r["status"],
                r["attempts"],
                r["last_error"] or "",
                r["created_at"],
                r["sent_at"],
            )
            for r in rows
        ],
    )
