"""`citycert mail list|show`: the mails the dev box's sink kept, as a newcomer reads them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.messages import compose
from domain.notices import Audience, Notice, NoticeKind
from entrypoints.cli.main import app
from runtime.mail_sink import MailFolder

runner = CliRunner()
DUE = datetime(2027, 3, 27, tzinfo=UTC)


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MailFolder:
    """The sink's folder under a data dir of the test's, holding one reminder in Spanish."""
    monkeypatch.setenv("CITYCERT_DATA_DIR", str(tmp_path))
    folder = MailFolder(tmp_path / "mail")
    reminder = Notice(kind=NoticeKind.EXPIRY_REMINDER, audience=Audience.CITY, valid_until=DUE, due_at=DUE)
    message = compose(
        reminder,
        city="Lakeside",
        recipient_name="Ana",
        recipient_email="ana@lakeside.example",
        language="es",
        message_id="<e1.per_1@citycert>",
        mail_from="citycert <noreply@example.org>",
        sent_at=DUE,
    )
    folder.keep(bytes(message))
    return folder


def test_the_kept_mails_are_listed_with_their_recipients_and_subjects(kept: MailFolder) -> None:
    result = runner.invoke(app, ["mail", "list", "--json"])
    assert result.exit_code == 0, result.output
    [mail] = json.loads(result.stdout)
    assert (mail["n"], mail["to"], mail["message_id"]) == (1, "ana@lakeside.example", "<e1.per_1@citycert>")
    assert mail["subject"] == "Lakeside: la certificación vence el 27 de marzo de 2027"


def test_a_kept_mail_is_shown_as_its_recipient_reads_it(kept: MailFolder) -> None:
    for which in ("1", "<e1.per_1@citycert>", "e1.per_1@citycert"):
        result = runner.invoke(app, ["mail", "show", which])
        assert result.exit_code == 0, result.output
        assert "To: ana@lakeside.example" in result.stdout
        assert "Estimado/a Ana:" in result.stdout and "vence el 27 de marzo de 2027" in result.stdout


def test_a_mail_not_kept_is_named_in_the_refusal(kept: MailFolder) -> None:
    result = runner.invoke(app, ["mail", "show", "7"])
    assert result.exit_code == 2
    assert "no kept mail '7': `citycert mail list` shows 1" in result.stderr
