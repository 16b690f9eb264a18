"""A city's dashboard in words: given the city's history, what is asked of its staff and by when
(soonest first), and what it waits on from others, in the reader's language."""

from __future__ import annotations

from domain import events as ev
from domain.levels import Level
from entrypoints.web.dashboard import dashboard
from entrypoints.web.i18n import Speaker
from readmodel.questions import OpenQuestion
from tests.unit.domain.story import (
    CRITERIA,
    DAY,
    T0,
    applied,
    assigned,
    certified,
    decided,
    declared_no_conflict,
    given,
    registered,
    submitted,
)

ASKED, REVIEWING = CRITERIA[0], CRITERIA[1]


def test_a_registered_city_is_asked_to_apply_and_waits_on_nobody() -> None:
    board = dashboard(given(*registered()), [], Speaker("en"))
    assert board.phase == "Registered"
    assert [a.what for a in board.asked] == [
        "Apply for certification in an open round when the city is ready."
    ]
    assert board.waiting == []


def test_gathering_evidence_the_city_sees_its_questions_and_its_submission_deadline_soonest_first() -> None:
    # Given Lakeside applied (its submission due in 90 days), two criteria submitted and assigned,
    # and the reviewer asking about one of them, to be answered in 25 days
    state = given(
        *applied(),
        ev.DeadlineSet(deadline=ev.Deadline.SUBMISSION, due_at=T0 + 90 * DAY),
        *submitted([ASKED, REVIEWING]),
        *assigned([ASKED, REVIEWING]),
        *declared_no_conflict(),
        ev.ClarificationRequested(
            criterion_id=ASKED, reviewer_id="rev-ana", question="Which year?", due_at=T0 + 25 * DAY
        ),
    )
    question = OpenQuestion(ASKED, "Which year?", T0 + 25 * DAY)
    # When a Portuguese reader opens the dashboard
    board = dashboard(state, [question], Speaker("pt"))
    # Then the question comes first, quoted, then the submission; the other criterion is with the reviewer
    assert board.phase == "Reunindo evidências"
    assert [(a.what, a.due_at) for a in board.asked] == [
        ("Responda à pergunta do revisor.", T0 + 25 * DAY),
        ("Envie as evidências de cada critério que declara atender e depois encerre o envio.", T0 + 90 * DAY),
    ]
    assert board.asked[0].quote == "Which year?" and board.asked[0].criterion.startswith(ASKED + " ")
    assert [a.what for a in board.waiting] == ["Os revisores estão decidindo sobre 1 critério."]
    assert board.waiting[0].due_at == T0 + 10 * DAY


def test_once_decided_the_city_may_accept_or_appeal_until_the_deadline() -> None:
    board = dashboard(given(*decided(Level.GOLD)), [], Speaker("es"))
    assert board.phase == "Decidida"
    assert [(a.what, a.due_at) for a in board.asked] == [
        ("Acepte la decisión del comité o apélela.", T0 + 30 * DAY)
    ]


def test_a_certified_city_is_asked_to_recertify_before_its_certification_ends() -> None:
    state = given(*certified(Level.SILVER))
    board = dashboard(state, [], Speaker("en"))
    assert (board.phase, board.level) == ("Certified", "Silver")
    assert state.certification is not None
    assert [(a.what, a.due_at) for a in board.asked] == [
        ("Apply for re-certification before the certification ends.", state.certification.valid_until)
    ]
