"""CITYCERT_SMTP_URL: what each form means, and a clear refusal of one that names no server."""

from __future__ import annotations

import pytest

from runtime.smtp import SmtpServer, SmtpUrlError


def test_the_forms_of_an_smtp_url() -> None:
    assert SmtpServer.from_url("smtp://mail.example.org") == SmtpServer("mail.example.org", 25)
    tls = SmtpServer.from_url("smtps://relay%40example.org:p%40ss@mail.example.org")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (
        465,
        True,
        "relay@example.org",
        "p@ss",
    )
    starttls = SmtpServer.from_url("smtp://u:p@mail.example.org:587?starttls=required")
    assert (starttls.port, starttls.starttls_required, starttls.implicit_tls) == (587, True, False)


def test_the_password_never_shows_where_the_server_is_named() -> None:
    assert str(SmtpServer.from_url("smtps://u:secret@mail.example.org")) == "smtps://u@mail.example.org:465"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example.org", "starts with smtp:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.org:99999", "port that is not a number"),
        ("smtps://mail.example.org?starttls=required", "smtps:// is TLS already"),
        ("smtp://mail.example.org?starttls=maybe", "starttls may only be 'required'"),
    ],
)
def test_a_url_that_names_no_server_is_refused_saying_why(url: str, reason: str) -> None:
    with pytest.raises(SmtpUrlError, match=reason):
        SmtpServer.from_url(url)
