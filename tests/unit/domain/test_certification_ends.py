"""How a certification ends, under the ROUNDS rules: every end is a CertificationEnded with its
reason, a re-certification's decision takes effect at its award whatever it is, validity runs in
calendar years from the award moment, and a withdrawn city may come back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain import CommandRejected, Level, Phase, ProgrammePolicy, decide
from domain import commands as c
from domain import events as ev
from domain.calendar import add_years
from domain.levels import Outcome
from domain.rules import LATEST, PROGRAMME_REVIEW, ROUNDS
from tests.unit.domain.story import (
    CRITERIA,
    DAY,
    STANDARD,
    T0,
    apply_to,
    certified,
    decided,
    given,
    recommended_on,
    when,
)

RECERT_AT = T0 + 900 * DAY  # the re-certification's decision, before the Silver of T0 expires
LEVEL_CRITERIA = {Level.SILVER: 23, Level.GOLD: 30, Level.PLATINUM: 43}


def recertification_decided(
    held: Level, decision: Level | None, *, rules: int = LATEST, at: datetime = RECERT_AT
) -> list[ev.DomainEvent]:
    """Certified at `held` (at T0), re-certifying under `rules`, the committee's `decision` made at
    `at` with its appeal window open."""
    approved = CRITERIA[: LEVEL_CRITERIA[decision] if decision else 10]
    verdict: ev.DomainEvent = (
        ev.LevelDecided(level=decision, rationale="r", appeal_deadline=at + 30 * DAY)
        if decision
        else ev.CityNotCertified(honor_roll=False, rationale="r", appeal_deadline=at + 30 * DAY)
    )
    return [
        *certified(held),
        ev.RecertificationStarted(
            cycle=2,
            cohort="2028-fall",
            standard_version=STANDARD.version,
            standard_revision=STANDARD.revision if rules >= PROGRAMME_REVIEW else 1,
            previous_level=held,
            rules=rules,
        ),
        *recommended_on(approved),
        verdict,
    ]


class TestAReCertificationTakesEffectAtItsAward:
    def test_a_lower_level_supersedes_the_held_one_with_a_fresh_validity(self) -> None:
        history = recertification_decided(Level.GOLD, Level.SILVER)
        closed = RECERT_AT + 30 * DAY
        events = when(given(*history), c.CloseAppealWindow(), now=closed)
        assert events == [
            ev.CertificationEnded(
                certificate_number="CC-2026-LAKESIDE-1",
                level=Level.GOLD,
                reason=ev.EndReason.SUPERSEDED,
                ended_at=closed,
                detail="superseded by the decision of cycle 2",
            ),
            ev.CertificationAwarded(
                cycle=2,
                level=Level.SILVER,
                cohort="2028-fall",
                standard_version=STANDARD.version,
                valid_from=closed,
                valid_until=add_years(closed, 3),
                previous_level=Level.GOLD,
                outcome=Outcome.DOWNGRADED,
                certificate_number="CC-2028-LAKESIDE-2",
            ),
        ]
        state = given(*history, *events)
        assert state.level is Level.SILVER and state.certification is not None
        assert state.certification.number == "CC-2028-LAKESIDE-2"
        [gold] = state.ended_certifications
        assert (gold.level, gold.reason, gold.ended_at) == (Level.GOLD, ev.EndReason.SUPERSEDED, closed)

    def test_not_certified_ends_the_held_certification_too(self) -> None:
        # The same rule as every other outcome: before it, the old Gold stayed for two more years.
        history = recertification_decided(Level.GOLD, None)
        closed = RECERT_AT + 30 * DAY
        events = when(given(*history), c.CloseAppealWindow(), now=closed)
        assert [type(e) for e in events] == [ev.CertificationEnded, ev.CertificationCycleClosed]
        assert events[0].reason is ev.EndReason.SUPERSEDED  # type: ignore[attr-defined]
        state = given(*history, *events)
        assert state.phase is Phase.REGISTERED and state.certification is None
        assert [e.level for e in state.ended_certifications] == [Level.GOLD]

    def test_under_the_earlier_rules_not_certified_kept_the_held_certification(self) -> None:
        # Recorded cycles replay as they were decided.
        history = recertification_decided(Level.GOLD, None, rules=PROGRAMME_REVIEW)
        events = when(given(*history), c.CloseAppealWindow(), now=RECERT_AT + 30 * DAY)
        assert [type(e) for e in events] == [ev.CertificationCycleClosed]
        assert given(*history, *events).level is Level.GOLD

    def test_a_lapse_during_the_re_certification_is_not_reported_as_sustained(self) -> None:
        # Gold from T0 expires three years on; the re-certification is decided after that.
        late = add_years(T0, 3) + 10 * DAY
        history = recertification_decided(Level.GOLD, Level.GOLD, at=late)
        lapsed = when(given(*history), c.LapseCertification(), now=late)
        assert [(type(e), e.reason) for e in lapsed] == [(ev.CertificationEnded, ev.EndReason.LAPSED)]  # type: ignore[attr-defined]
        events = when(given(*history, *lapsed), c.CloseAppealWindow(), now=late + 30 * DAY)
        [award] = events
        assert isinstance(award, ev.CertificationAwarded)
        assert (award.previous_level, award.outcome) == (None, Outcome.NEW)


class TestValidityFromTheAwardMoment:
    def test_the_award_is_at_the_appeal_deadline_even_when_the_timer_runs_late(self) -> None:
        deadline = T0 + 30 * DAY
        events = when(given(*decided(Level.GOLD)), c.CloseAppealWindow(), now=deadline + 2 * DAY)
        [award] = events
        assert isinstance(award, ev.CertificationAwarded)
        assert (award.valid_from, award.valid_until) == (deadline, add_years(deadline, 3))

    def test_an_acceptance_is_the_award_moment(self) -> None:
        accepted_at = T0 + 3 * DAY
        events = when(given(*decided(Level.GOLD)), c.AcceptDecision(), now=accepted_at)
        award = events[-1]
        assert isinstance(award, ev.CertificationAwarded) and award.valid_from == accepted_at

    def test_three_years_from_29_february_end_on_28_february(self) -> None:
        leap_day = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
        assert add_years(leap_day, 3) == datetime(2031, 2, 28, 12, 0, tzinfo=UTC)
        history = decided(Level.SILVER, 23, at=leap_day - 30 * DAY)
        [award] = when(given(*history), c.CloseAppealWindow(), now=leap_day)
        assert isinstance(award, ev.CertificationAwarded)
        assert award.valid_until == datetime(2031, 2, 28, 12, 0, tzinfo=UTC)

    def test_across_a_29_february_three_years_are_1096_days_not_1095(self) -> None:
        start = datetime(2027, 6, 1, tzinfo=UTC)
        assert (add_years(start, 3) - start).days == 1096


class TestSuspendReinstateRevoke:
    def test_a_suspension_shows_until_the_certification_is_reinstated(self) -> None:
        state = given(*certified())
        suspended = when(state, c.SuspendCertification(reason="portal offline", suspended_by="cmt-ben"))
        assert suspended == [
            ev.CertificationSuspended(
                certificate_number="CC-2026-LAKESIDE-1",
                reason="portal offline",
                suspended_by="cmt-ben",
                suspended_at=T0,
            )
        ]
        state = given(*certified(), *suspended)
        assert state.certification is not None and state.certification.status == "suspended"
        assert state.summary().certificate_status == "suspended"
        with pytest.raises(CommandRejected, match="already suspended: portal offline"):
            when(state, c.SuspendCertification(reason="again", suspended_by="cmt-ben"))
        reinstated = when(state, c.ReinstateCertification(reason="back online", reinstated_by="cmt-ben"))
        after = given(*certified(), *suspended, *reinstated)
        assert after.certification is not None and after.certification.status == "valid"

    def test_nothing_to_reinstate_or_suspend_is_refused_in_words(self) -> None:
        with pytest.raises(CommandRejected, match="is not suspended: there is nothing to reinstate"):
            when(given(*certified()), c.ReinstateCertification(reason="r", reinstated_by="cmt-ben"))
        with pytest.raises(CommandRejected, match="needs a certification held, and lakeside holds none"):
            when(given(*decided(Level.GOLD)), c.SuspendCertification(reason="r", suspended_by="cmt-ben"))

    def test_a_revocation_ends_the_certification_for_good_with_the_reason(self) -> None:
        events = when(
            given(*certified()), c.RevokeCertification(reason="evidence was falsified", revoked_by="cmt-ben")
        )
        assert events == [
            ev.CertificationEnded(
                certificate_number="CC-2026-LAKESIDE-1",
                level=Level.SILVER,
                reason=ev.EndReason.REVOKED,
                ended_at=T0,
                detail="evidence was falsified",
                ended_by="cmt-ben",
            )
        ]
        state = given(*certified(), *events)
        assert state.phase is Phase.REGISTERED and state.certification is None


def suspended_certification(rules: int = LATEST) -> list[ev.DomainEvent]:
    """Certified Silver at T0 in a cycle opened under `rules`, then suspended by the committee."""
    history = [
        e.model_copy(update={"rules": rules}) if isinstance(e, ev.ApplicationSubmitted) else e
        for e in certified()
    ]
    suspension = ev.CertificationSuspended(
        certificate_number="CC-2026-LAKESIDE-1",
        reason="portal offline",
        suspended_by="cmt-ben",
        suspended_at=T0,
    )
    return [*history, suspension]


VALID_UNTIL = T0 + 3 * 365 * DAY  # certified()'s end date
NINETY_DAYS_BEFORE = VALID_UNTIL - 90 * DAY


class TestASuspendedCertificate:
    def test_is_sent_no_reminder_while_suspended(self) -> None:
        with pytest.raises(
            CommandRejected, match=r"suspended \(portal offline\): no re-certification reminder"
        ):
            when(given(*suspended_certification()), c.SendReminder(threshold_days=90), now=NINETY_DAYS_BEFORE)

    def test_reinstated_gets_the_reminder_still_due(self) -> None:
        reinstated = ev.CertificationReinstated(
            certificate_number="CC-2026-LAKESIDE-1",
            reason="back online",
            reinstated_by="cmt-ben",
            reinstated_at=NINETY_DAYS_BEFORE + 5 * DAY,
        )
        state = given(*suspended_certification(), reinstated)
        events = when(state, c.SendReminder(threshold_days=90), now=NINETY_DAYS_BEFORE + 5 * DAY)
        assert events == [ev.ReminderSent(threshold_days=90, valid_until=VALID_UNTIL)]

    def test_awarded_under_the_rounds_rules_is_reminded_as_it_was(self) -> None:
        # Recorded histories replay unchanged: the rule is the SUSPENSIONS era's.
        state = given(*suspended_certification(rules=ROUNDS))
        events = when(state, c.SendReminder(threshold_days=90), now=NINETY_DAYS_BEFORE)
        assert events == [ev.ReminderSent(threshold_days=90, valid_until=VALID_UNTIL)]

    def test_lapses_at_its_end_date_as_a_suspension_never_lengthens_it(self) -> None:
        events = when(given(*suspended_certification()), c.LapseCertification(), now=VALID_UNTIL)
        assert events == [
            ev.CertificationEnded(
                certificate_number="CC-2026-LAKESIDE-1",
                level=Level.SILVER,
                reason=ev.EndReason.LAPSED,
                ended_at=VALID_UNTIL,
            )
        ]


class TestWithdrawAndRejoin:
    def test_withdrawing_a_certified_city_records_that_its_certification_ended(self) -> None:
        events = when(given(*certified()), c.Withdraw(reason="council decision"))
        assert [type(e) for e in events] == [ev.CertificationEnded, ev.CityWithdrawn]
        assert events[0].reason is ev.EndReason.WITHDRAWN  # type: ignore[attr-defined]

    def test_a_withdrawn_city_rejoins_registered_with_its_history(self) -> None:
        history = [*certified(), *when(given(*certified()), c.Withdraw(reason="council decision"))]
        state = given(*history)
        rejoined = when(state, c.RejoinProgramme(reason="new council", rejoined_by="ops-ana"))
        assert rejoined == [ev.CityRejoined(reason="new council", rejoined_by="ops-ana")]
        back = given(*history, *rejoined)
        assert back.phase is Phase.REGISTERED and back.withdrawn_reason is None
        assert [e.reason for e in back.ended_certifications] == [ev.EndReason.WITHDRAWN]
        [applied] = [
            e
            for e in when(back, apply_to("2029-spring"), now=T0 + 400 * DAY)
            if isinstance(e, ev.ApplicationSubmitted)
        ]
        assert applied.cycle == 2, "its cycles go on being numbered"

    def test_only_a_withdrawn_city_rejoins(self) -> None:
        with pytest.raises(CommandRejected, match="RejoinProgramme needs the city to be withdrawn"):
            when(given(*certified()), c.RejoinProgramme(reason="r", rejoined_by="ops-ana"))


class TestWaitingAfterNotCertified:
    def test_a_city_found_not_certified_waits_the_programmes_period(self) -> None:
        closed_at = T0 + 30 * DAY
        history = [*decided(None, 10), *when(given(*decided(None, 10)), c.CloseAppealWindow(), now=closed_at)]
        policy = ProgrammePolicy(reapply_wait=180 * DAY)
        state = given(*history)
        with pytest.raises(CommandRejected, match="waits 180 days before applying again"):
            decide(state, apply_to("2026-fall"), now=closed_at + 179 * DAY, policy=policy)
        assert decide(state, apply_to("2026-fall"), now=closed_at + 180 * DAY, policy=policy)

    def test_by_default_it_may_apply_again_at_once(self) -> None:
        closed_at = T0 + 30 * DAY
        history = [*decided(None, 10), *when(given(*decided(None, 10)), c.CloseAppealWindow(), now=closed_at)]
        assert when(given(*history), apply_to("2026-fall"), now=closed_at)
