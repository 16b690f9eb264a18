"""A city's pages in words: given the city's history, the rounds it may apply to today, its criteria
by practice area with their status, question and due date, what an appeal may contest, and its
certificate's status, in the reader's language."""

from __future__ import annotations

from datetime import date

from domain import events as ev
from domain.levels import Level
from domain.rounds import Round
from domain.worksheet import worksheet
from entrypoints.web.city_pages import board, certificate, decision, open_rounds
from entrypoints.web.i18n import Speaker
from readmodel.questions import OpenQuestion
from tests.unit.domain.story import (
    CRITERIA,
    DAY,
    STANDARD,
    T0,
    applied,
    assigned,
    certified,
    decided,
    declared_no_conflict,
    given,
    recommended_on,
    submitted,
)

ASKED, REVIEWING = CRITERIA[0], CRITERIA[1]


def a_round(round_id: str, opens: date, closes: date) -> Round:
    return Round(
        round_id=round_id,
        name=round_id,
        opens_on=opens,
        closes_on=closes,
        submission_deadline=date(closes.year + 1, 1, 1),
        announcement_on=date(closes.year + 1, 2, 1),
        review_capacity=10,
        created_by="op-1",
        created_at=T0,
    )


def test_only_the_rounds_open_today_are_offered_the_soonest_closing_first() -> None:
    rounds = [
        a_round("2026-fall", date(2026, 3, 1), date(2026, 9, 30)),
        a_round("2025-fall", date(2025, 3, 1), date(2025, 9, 30)),  # closed
        a_round("2026-spring", date(2026, 1, 1), date(2026, 4, 30)),
        a_round("2027-spring", date(2027, 1, 1), date(2027, 4, 30)),  # not open yet
    ]
    assert [r.round_id for r in open_rounds(rounds, date(2026, 3, 27))] == ["2026-spring", "2026-fall"]


def test_the_board_shows_each_criterion_by_area_with_its_status_question_and_due_date() -> None:
    # Given Lakeside applied, two criteria submitted, and the reviewer asking about one of them
    state = given(
        *applied(),
        *submitted([ASKED, REVIEWING]),
        *assigned([ASKED, REVIEWING]),
        *declared_no_conflict(),
        ev.ClarificationRequested(
            criterion_id=ASKED, reviewer_id="rev-ana", question="Which year?", due_at=T0 + 25 * DAY
        ),
    )
    sheet = worksheet(state, STANDARD, {})
    assert sheet is not None
    # When a Spanish reader opens the board
    areas = board(state, sheet, [OpenQuestion(ASKED, "Which year?", T0 + 25 * DAY)], Speaker("es"))
    # Then every criterion is there once, under its practice area, in the standard's areas' order
    assert [a.area_id for a in areas] == [a.id for a in STANDARD.practice_areas]
    rows = {r.criterion_id: r for a in areas for r in a.rows}
    assert sorted(rows) == sorted(CRITERIA)
    # And the asked criterion shows the question and its answer's due date; the other the reviewer's
    assert (rows[ASKED].status, rows[ASKED].question, rows[ASKED].due_at) == (
        "Pregunta del revisor",
        "Which year?",
        T0 + 25 * DAY,
    )
    assert rows[REVIEWING].status == "Presentada, con el revisor" and rows[REVIEWING].due_at is not None
    untouched = next(c for c in CRITERIA if c not in (ASKED, REVIEWING))
    assert (rows[untouched].status, rows[untouched].due_at) == ("Sin evidencia todavía", None)


def test_not_certified_an_appeal_may_contest_any_criterion_not_approved() -> None:
    state = given(*decided(None, n_approved=10))
    found = decision(state, Speaker("en"))
    assert found is not None and found.level is None
    assert [cid for cid, _ in found.contestable] == [
        c.id for c in STANDARD.criteria if c.id not in CRITERIA[:10]
    ]


def test_certified_at_a_level_an_appeal_may_contest_the_rejected_criteria_only() -> None:
    approved, rejected = CRITERIA[:23], CRITERIA[23:25]
    state = given(
        *applied(),
        *recommended_on(approved, rejected),
        ev.LevelDecided(level=Level.SILVER, rationale="r", appeal_deadline=T0 + 30 * DAY),
    )
    found = decision(state, Speaker("pt"))
    assert found is not None and (found.level, found.appeal_deadline) == ("Prata", T0 + 30 * DAY)
    assert sorted(cid for cid, _ in found.contestable) == sorted(rejected)


def test_no_decision_waits_before_the_committee_decides_or_once_certified() -> None:
    assert decision(given(*applied()), Speaker("en")) is None
    assert decision(given(*certified()), Speaker("en")) is None


def test_a_certificate_is_valid_then_expired_and_suspended_while_the_programme_suspends_it() -> None:
    state = given(*certified(Level.GOLD))
    assert state.certification is not None
    held = certificate(state, T0 + DAY, Speaker("en"))
    assert held is not None
    assert (held.level, held.status, held.standard) == ("Gold", "Valid", STANDARD.version)
    assert held.valid_until == state.certification.valid_until
    expired = certificate(state, state.certification.valid_until + DAY, Speaker("es"))
    assert expired is not None and expired.status == "Vencido"
    suspended = given(
        *certified(Level.GOLD),
        ev.CertificationSuspended(
            certificate_number=state.certification.number,
            reason="under investigation",
            suspended_by="op-1",
            suspended_at=T0 + DAY,
        ),
    )
    shown = certificate(suspended, T0 + 2 * DAY, Speaker("en"))
    assert shown is not None and shown.status == "Suspended by the programme"
    assert certificate(given(*applied()), T0, Speaker("en")) is None
