"""The mail citycert sends: what the dev box's sink kept, what failed, what waits for release.

citycert mail list                  # the mails the local sink kept (citycert dev, no SMTP URL)
citycert mail show N|MESSAGE-ID     # one of them, as its recipient reads it
citycert mail failures              # deliveries that failed for good, for an operator to act on
citycert mail release [EVENT-ID]    # send decisions held by CITYCERT_MAIL_HOLD_DECISIONS
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from runtime.mail_sink import KeptMail

from entrypoints.cli.context import connected, load_settings, run
from entrypoints.cli.output import console, emit, fail, print_table

mail_app = typer.Typer(
    help="The mail citycert sends: kept by the dev sink, failed, held.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def register(app: typer.Typer) -> None:
    app.add_typer(mail_app, name="mail")


def _kept() -> list[KeptMail]:
    from runtime.mail_sink import MailFolder, sink_folder

    return MailFolder(sink_folder(load_settings())).messages()


@mail_app.command("list")
def mail_list(as_json: JsonOption = False) -> None:
    """The mails the local sink kept, oldest first (`citycert dev` without CITYCERT_SMTP_URL)."""
    kept = _kept()
    rows = [
        {
            "n": n,
            "date": m.header("Date"),
            "to": m.header("To"),
            "subject": m.header("Subject"),
            "message_id": m.message_id,
        }
        for n, m in enumerate(kept, 1)
    ]
    emit(
        rows,
        as_json,
        lambda: print_table(
            f"{len(rows)} mails kept",
            ("#", "date", "to", "subject"),
            [(r["n"], r["date"], r["to"], r["subject"]) for r in rows],
        ),
    )


@mail_app.command("show")
def mail_show(
    which: Annotated[str, typer.Argument(help="Its number in `mail list`, or its Message-ID")],
) -> None:
    """One kept mail as its recipient reads it: headers and the plain text."""
    kept = _kept()
    found = next(
        (m for n, m in enumerate(kept, 1) if which in (str(n), m.message_id, m.message_id.strip("<>"))), None
    )
    if found is None:
        raise fail(f"no kept mail {which!r}: `citycert mail list` shows {len(kept)}")
    # Plain echo, not the console: a mail's lines stay as they are, unwrapped and never markup.
    for header in ("Date", "From", "To", "Subject", "Message-ID", "Content-Language"):
        typer.echo(f"{header}: {found.header(header)}")
    body = found.message.get_body(("plain",))
    typer.echo("\n" + (body.get_content() if body is not None else ""))


@mail_app.command("failures")
def mail_failures(as_json: JsonOption = False) -> None:
    """Deliveries that failed for good (a mailbox refused, or still failing after every retry)."""
    from app.relay import failures

    async def work() -> list[dict[str, object]]:
        async with connected(load_settings()) as ctx:
            return [dataclasses.asdict(f) for f in await failures(ctx.store)]

    rows = run(work)
    emit(
        rows,
        as_json,
        lambda: print_table(
            f"{len(rows)} failed deliveries",
            ("when", "city", "kind", "person", "attempts", "why"),
            [
                (r["at"], r["city_id"], r["kind"], r["person_id"], r["attempts"], r["last_error"])
                for r in rows
            ],
        ),
    )


@mail_app.command("release")
def mail_release(
    event_id: Annotated[
        str | None, typer.Argument(help="The notification's event id; all held if left out")
    ] = None,
) -> None:
    """Send mails held for an operator's release (CITYCERT_MAIL_HOLD_DECISIONS): one notification's,
    or every one held."""
    from app.relay import release_held

    try:
        which = uuid.UUID(event_id) if event_id else None
    except ValueError:
        raise fail(f"{event_id!r} is not an event id (a UUID)") from None

    async def work() -> int:
        async with connected(load_settings()) as ctx:
            return await release_held(ctx.store, which)

    released = run(work)
    console.print(f"released {released} held mails: the relay sends them on its next round")
