"""A notice as the mail each recipient reads: their language, their locale's dates, what to do by
when; plain text and HTML alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.messages import LANGUAGES, compose, local_date
from domain.notices import Audience, Notice, NoticeKind

DUE = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)
SENT = datetime(2027, 2, 25, 9, 0, tzinfo=UTC)
QUESTION = Notice(
    kind=NoticeKind.CLARIFICATION_REQUESTED,
    audience=Audience.CITY,
    criterion_id="DM2",
    due_at=DUE,
    text="Which year is the inventory from? <b>2025</b>?",
)


def mail(notice: Notice, language: str) -> tuple[str, str, str]:
    message = compose(
        notice,
        city="São Vicente",
        recipient_name="Ana",
        recipient_email="ana@example.org",
        language=language,
        message_id="<n1.per_1@citycert>",
        mail_from="citycert <noreply@example.org>",
        sent_at=SENT,
    )
    text = message.get_body(("plain",))
    markup = message.get_body(("html",))
    assert text is not None and markup is not None
    return str(message["Subject"]), text.get_content(), markup.get_content()


@pytest.mark.parametrize(
    ("language", "subject", "by_when"),
    [
        ("en", "São Vicente: a reviewer asks about DM2", "Please answer by 27 March 2027"),
        ("es", "São Vicente: un revisor pregunta sobre DM2", "antes del 27 de marzo de 2027"),
        ("pt", "São Vicente: um revisor pergunta sobre DM2", "até 27 de março de 2027"),
    ],
)
def test_a_question_reaches_the_city_in_its_language_with_the_date_to_answer_by(
    language: str, subject: str, by_when: str
) -> None:
    got_subject, text, markup = mail(QUESTION, language)
    assert got_subject == subject
    assert by_when in text and by_when in markup
    assert "Which year is the inventory from? <b>2025</b>?" in text  # quoted as asked
    assert "&lt;b&gt;2025&lt;/b&gt;" in markup  # and never as markup


# A sign-in link is about no city (test_a_sign_in_link_... below).
@pytest.mark.parametrize("kind", [k for k in NoticeKind if k is not NoticeKind.SIGN_IN_LINK])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_notice_has_a_mail_in_every_language(kind: NoticeKind, language: str) -> None:
    notice = Notice(
        kind=kind, audience=Audience.CITY, criterion_id="DM1", level="gold", due_at=DUE, valid_until=DUE
    )
    subject, text, _ = mail(notice, language)
    assert "São Vicente" in subject + text and "{" not in subject + text


def test_a_decision_names_the_level_in_the_recipients_language_and_the_appeal_deadline() -> None:
    decided = Notice(
        kind=NoticeKind.LEVEL_DECIDED, audience=Audience.CITY, level="gold", due_at=DUE, text="Clear"
    )
    assert mail(decided, "es")[0] == "São Vicente obtiene la certificación Oro"
    assert "puede apelar hasta el 27 de marzo de 2027" in mail(decided, "es")[1]
    assert mail(decided, "pt")[0] == "São Vicente recebe a certificação Ouro"


def test_a_language_without_messages_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no messages in 'fr'; languages: en, es, pt"):
        mail(QUESTION, "fr")


def test_dates_are_written_as_each_locale_writes_them() -> None:
    assert [local_date(DUE, lang) for lang in LANGUAGES] == [
        "27 March 2027",
        "27 de marzo de 2027",
        "27 de março de 2027",
    ]


@pytest.mark.parametrize(
    ("language", "subject", "until"),
    [
        ("en", "Your sign-in link for citycert", "until 09:00 UTC on 27 March 2027"),
        ("es", "Su enlace para entrar en citycert", "hasta las 09:00 UTC del 27 de marzo de 2027"),
        ("pt", "O seu link para entrar no citycert", "até as 09:00 UTC de 27 de março de 2027"),
    ],
)
def test_a_sign_in_link_reaches_its_person_in_their_language_saying_until_when(
    language: str, subject: str, until: str
) -> None:
    notice = Notice(kind=NoticeKind.SIGN_IN_LINK, audience=Audience.PERSON, person_id="per_1", due_at=DUE)
    link = "https://portal.example/sign-in/link?token=abc&x=1"
    message = compose(
        notice,
        link=link,
        city="",
        recipient_name="Ana",
        recipient_email="ana@example.org",
        language=language,
        message_id="<n1.per_1@citycert>",
        mail_from="citycert <noreply@example.org>",
        sent_at=SENT,
    )
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and markup is not None
    assert message["Subject"] == subject
    assert link in text.get_content() and until in text.get_content()
    assert "token=abc&amp;x=1" in markup.get_content()
