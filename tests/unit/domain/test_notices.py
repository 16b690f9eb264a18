"""Which events people hear about, who hears, and what the notice says: from the event alone."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import events as ev
from domain.levels import Level
from domain.notices import Audience, Notice, NoticeKind, notice_for

DUE = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)


def test_a_reviewer_hears_of_an_assignment_with_its_due_date() -> None:
    notice = notice_for(ev.ReviewerAssigned(criterion_id="DM1", reviewer_id="rev-ana", due_at=DUE))
    assert notice == Notice(
        kind=NoticeKind.REVIEWER_ASSIGNED,
        audience=Audience.REVIEWER,
        reviewer_id="rev-ana",
        criterion_id="DM1",
        due_at=DUE,
    )


def test_the_city_hears_of_a_question_with_the_question_and_when_to_answer() -> None:
    notice = notice_for(
        ev.ClarificationRequested(
            criterion_id="DM2", reviewer_id="rev-ana", question="Which year?", due_at=DUE
        )
    )
    assert notice is not None
    assert (notice.kind, notice.audience, notice.text, notice.due_at) == (
        NoticeKind.CLARIFICATION_REQUESTED,
        Audience.CITY,
        "Which year?",
        DUE,
    )


def test_a_decision_tells_the_city_until_when_it_may_appeal() -> None:
    notice = notice_for(ev.LevelDecided(level=Level.GOLD, rationale="Clear Gold", appeal_deadline=DUE))
    assert notice is not None
    assert (notice.kind, notice.level, notice.due_at) == (NoticeKind.LEVEL_DECIDED, "gold", DUE)


def test_a_final_decision_after_an_appeals_fresh_review_offers_no_appeal() -> None:
    decided = ev.LevelDecided(
        level=Level.GOLD, rationale="Gold after review", appeal_deadline=DUE, final=True
    )
    not_certified = ev.CityNotCertified(
        honor_roll=False, rationale="Still short", appeal_deadline=DUE, final=True
    )
    for event, level in ((decided, "gold"), (not_certified, None)):
        notice = notice_for(event)
        assert notice is not None
        assert (notice.kind, notice.level, notice.due_at, notice.audience) == (
            NoticeKind.APPEAL_DECIDED,
            level,
            None,
            Audience.CITY,
        )


def test_the_committee_hears_of_escalations_appeals_and_imports_to_countersign() -> None:
    escalated = notice_for(ev.ReviewEscalated(criterion_id="DM1", reviewer_id=None, was_due_at=DUE))
    appealed = notice_for(ev.AppealFiled(grounds="DM2 was answered by mail"))
    assert escalated is not None and appealed is not None
    assert {escalated.audience, appealed.audience} == {Audience.COMMITTEE}


def test_reminders_awards_and_lapses_go_to_the_city_with_the_validity() -> None:
    reminder = notice_for(ev.ReminderSent(threshold_days=90, valid_until=DUE))
    lapsed = notice_for(ev.CertificationLapsed(level=Level.SILVER, valid_until=DUE))
    assert reminder is not None and lapsed is not None
    assert (reminder.kind.value, reminder.valid_until) == ("certification_expiry_reminder", DUE)
    assert (lapsed.kind, lapsed.audience, lapsed.level) == (
        NoticeKind.CERTIFICATION_LAPSED,
        Audience.CITY,
        "silver",
    )


def test_events_nobody_needs_to_hear_of_give_no_notice() -> None:
    assert notice_for(ev.EvidenceApproved(criterion_id="DM1", reviewer_id="rev-ana")) is None
    assert (
        notice_for(ev.CityRegistered(city_id="lakeside", name="Lakeside", country="US", population=1)) is None
    )
