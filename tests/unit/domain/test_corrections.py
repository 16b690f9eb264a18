"""Corrections and appeals, as events: a lead reviewer reopens a decided item, an operator corrects
a city's profile and imports its past certifications, and an appeal names the criteria it contests
and, upheld, sends them to a fresh reviewer. Given these events, when this command, then these
events (or this refusal, whose message says why).

Criteria are chosen by what they do to the level (`level_step`), never by id or by counting, so
these stories hold whatever the standard's ids and bands are."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest
from pydantic import ValidationError

from domain import CityState, CommandRejected, InvalidCommand, Phase, allowed_commands, decide, fold, rules
from domain import commands as c
from domain import events as ev
from domain.deadlines import deadlines
from domain.levels import Level, Outcome, rank
from domain.state import ItemStatus
from tests.unit.domain.story import (
    CITY,
    CRITERIA,
    DAY,
    DOCS,
    REVIEWER,
    STANDARD,
    T0,
    applied,
    apply_to,
    approved,
    declared_no_conflict,
    enough,
    given,
    recommended_on,
    registered,
    submitted,
    when,
)

OTHER_REVIEWER = {"reviewer_id": "rev-bo", "reviewer_home_city": "riverton"}
LEAD = "rev-lead"
PROFILE = {"name": "Lakeside", "population": 182_000, "region": None}


def level_of(ids: Iterable[str]) -> Level | None:
    return STANDARD.score(ids).level


def level_step() -> tuple[list[str], str]:
    """Approved criteria at a certified level, and one more criterion whose approval lifts it: from
    every criterion approved, drop criteria until the level first falls."""
    kept = list(CRITERIA)
    for cid in reversed(CRITERIA):
        fewer = [k for k in kept if k != cid]
        below = level_of(fewer)
        if rank(below) < rank(level_of(kept)) and below is not None:
            return fewer, cid
        kept = fewer
    raise AssertionError("no criterion lifts a certified level")


def rejected(ids: list[str]) -> list[ev.DomainEvent]:
    return [ev.EvidenceRejected(criterion_id=cid, reviewer_id="rev-ana", submission=1) for cid in ids]


def decided_now(
    ok: list[str], refused: list[str], level: Level | None, *, opened: list[ev.DomainEvent] | None = None
) -> list[ev.DomainEvent]:
    """A cycle reviewed (ok approved, refused rejected), its visit waived, `level` decided."""
    score = STANDARD.score(ok)
    return [
        *(opened if opened is not None else applied()),
        *recommended_on(ok, refused),
        # The lead signed the review off (so no level waits for it), and a second reviewer, the
        # fresh one an upheld appeal needs, declared no conflict.
        ev.LeadReviewerAssigned(reviewer_id=LEAD),
        ev.ReviewSignedOff(reviewer_id=LEAD, level=score.level),
        ev.NoConflictDeclared(reviewer_id=OTHER_REVIEWER["reviewer_id"]),
        ev.LevelDecided(level=level, rationale="r", appeal_deadline=T0 + 30 * DAY)
        if level
        else ev.CityNotCertified(honor_roll=False, rationale="r", appeal_deadline=T0 + 30 * DAY),
    ]


def with_lead(state: CityState, lead: str = LEAD) -> CityState:
    return fold(state, [ev.LeadReviewerAssigned(reviewer_id=lead)])


def reopen(cid: str, by: str = LEAD) -> c.ReopenReviewItem:
    return c.ReopenReviewItem(criterion_id=cid, reason="the inventory cited is the 2019 one", reopened_by=by)


def appeal(*criteria: str, evidence: Iterable[str] = ()) -> c.FileAppeal:
    return c.FileAppeal(
        grounds="the reviewer missed our portal",
        criteria=list(criteria),
        evidence=[c.EvidenceItem(criterion_id=cid, documents=DOCS) for cid in evidence],
    )


def review_as(reviewer: dict[str, str], verdict: c.Verdict, *ids: str) -> c.ReviewEvidence:
    """A decision on each; an approval finds the criterion's k checklist items met."""
    approving = verdict is c.Verdict.APPROVE
    return c.ReviewEvidence(
        **reviewer,
        items=[
            c.ReviewItem(criterion_id=cid, decision=verdict, checklist_met=enough(cid) if approving else [])
            for cid in ids
        ],
    )


def fresh_reviewer_assigned(state: CityState, *ids: str) -> CityState:
    return then_state(state, c.AssignReviewer(**OTHER_REVIEWER, criterion_ids=list(ids)))


def then_state(state: CityState, command: c.Command, now: datetime = T0) -> CityState:
    return fold(state, decide(state, command, now=now))


# --- a lead reviewer reopens a decided item -------------------------------------------------------


class TestReopenReviewItem:
    def test_the_lead_reopens_an_approved_item_and_it_awaits_a_reviewer_again(self) -> None:
        first, second = CRITERIA[:2]
        state = with_lead(
            given(*applied(), *submitted([first, second]), *approved([first]), *declared_no_conflict())
        )
        events = when(state, reopen(first), now=T0 + 3 * DAY)
        assert events == [
            ev.ReviewItemReopened(
                criterion_id=first,
                reopened_by=LEAD,
                reason="the inventory cited is the 2019 one",
                was="approved",
                review_due_at=T0 + 13 * DAY,
            )
        ]
        after = fold(state, events)
        assert after.cycle is not None and after.cycle.items[first].status is ItemStatus.SUBMITTED
        # and a reviewer decides it again: the corrected decision stands
        [corrected] = when(after, review_as(REVIEWER, c.Verdict.REJECT, first))
        assert isinstance(corrected, ev.EvidenceRejected) and corrected.criterion_id == first

    def test_a_rejected_item_is_reopened_after_submission_closed(self) -> None:
        first, second = CRITERIA[:2]
        state = with_lead(
            given(
                *applied(),
                *submitted([first, second]),
                *rejected([first]),
                ev.EvidenceSubmissionClosed(submitted=[first, second]),
            )
        )
        [reopened] = when(state, reopen(first))
        assert isinstance(reopened, ev.ReviewItemReopened) and reopened.was == "rejected"

    def test_only_the_cycles_lead_reviewer_may_reopen(self) -> None:
        first = CRITERIA[0]
        history = [*applied(), *submitted([first]), *approved([first])]
        with pytest.raises(
            CommandRejected, match=rf"only the cycle's lead reviewer \({LEAD}\) .* not rev-ana"
        ):
            when(with_lead(given(*history)), reopen(first, by="rev-ana"))
        with pytest.raises(CommandRejected, match="no lead reviewer is assigned to this cycle"):
            when(given(*history), reopen(first))

    def test_an_item_not_yet_decided_cannot_be_reopened(self) -> None:
        first = CRITERIA[0]
        state = with_lead(given(*applied(), *submitted([first])))
        with pytest.raises(
            CommandRejected, match=rf"not decided \(approved or rejected\): {first} \(submitted\)"
        ):
            when(state, reopen(first))

    def test_a_criterion_the_standard_lacks_is_invalid(self) -> None:
        first = CRITERIA[0]
        state = with_lead(given(*applied(), *submitted([first]), *approved([first])))
        with pytest.raises(InvalidCommand, match="not criteria of"):
            when(state, reopen("ZZ9"))

    def test_nothing_is_reopened_once_the_review_completed(self) -> None:
        ok, lifter = level_step()
        history = decided_now(ok, [lifter], level_of(ok))
        completed = next(i for i, e in enumerate(history) if isinstance(e, ev.EvidenceReviewCompleted))
        state = with_lead(given(*history[: completed + 1]))
        assert state.phase is Phase.SITE_VISIT
        with pytest.raises(CommandRejected, match="ReopenReviewItem needs the city to be evidence or review"):
            when(state, reopen(lifter))


# --- an operator corrects a city's profile --------------------------------------------------------


class TestCityProfile:
    def test_a_registration_may_name_the_region_and_where_the_population_comes_from(self) -> None:
        command = c.RegisterCity(
            city_id=CITY,
            name="Lakeside",
            country="US",
            population=182_000,
            region="Ohio",
            population_source="US Census",
            population_year=2020,
        )
        events = when(given(), command)
        assert events == [
            ev.CityRegistered(
                city_id=CITY,
                name="Lakeside",
                country="US",
                population=182_000,
                region="Ohio",
                population_source="US Census",
                population_year=2020,
            )
        ]
        state = given(*events)
        assert (state.region, state.population_source, state.population_year) == ("Ohio", "US Census", 2020)
        assert state.summary().region == "Ohio"

    def test_a_population_figure_from_the_future_is_invalid(self) -> None:
        command = c.RegisterCity(
            city_id=CITY, name="L", country="US", population=50_000, population_year=2031
        )
        with pytest.raises(InvalidCommand, match="cannot be in the future: 2031 is after 2026"):
            when(given(), command)

    def test_the_operator_corrects_the_name_population_and_region(self) -> None:
        command = c.CorrectCityProfile(
            name="Lakeside",  # as it stands: not recorded as a change
            population=190_500,
            population_source="2025 state estimate",
            population_year=2025,
            region="Ohio",
            reason="the registration used the 2010 census",
            corrected_by="op-1",
        )
        events = when(given(*registered()), command)
        assert events == [
            ev.CityProfileCorrected(
                population=190_500,
                population_source="2025 state estimate",
                population_year=2025,
                region="Ohio",
                reason="the registration used the 2010 census",
                corrected_by="op-1",
            )
        ]
        state = given(*registered(), *events)
        assert (state.name, state.population, state.region) == ("Lakeside", 190_500, "Ohio")
        assert "CorrectCityProfile" in allowed_commands(state)

    def test_a_correction_that_changes_nothing_is_refused(self) -> None:
        same = c.CorrectCityProfile(name="Lakeside", reason="checking", corrected_by="op-1")
        with pytest.raises(CommandRejected, match="the profile already says so: nothing to correct"):
            when(given(*registered()), same)
        with pytest.raises(ValidationError, match="a correction changes at least one of"):
            c.CorrectCityProfile(reason="nothing", corrected_by="op-1")

    def test_an_unregistered_city_has_no_profile_to_correct(self) -> None:
        command = c.CorrectCityProfile(region="Ohio", reason="r", corrected_by="op-1")
        with pytest.raises(CommandRejected, match="only a registered city has a profile to correct"):
            when(given(), command)


# --- past certifications as history ---------------------------------------------------------------


def past(level: Level = Level.SILVER, *, years_ago: int = 5) -> c.ImportPastCertification:
    start = T0 - years_ago * 365 * DAY
    return c.ImportPastCertification(
        level=level,
        cohort=f"{2026 - years_ago}-spring",
        standard_version="wwc-2018",
        valid_from=start,
        valid_until=start + 3 * 365 * DAY,
        imported_by="op-1",
    )


class TestPastCertifications:
    def test_an_expired_certification_is_kept_as_history_and_certifies_nothing(self) -> None:
        command = past(Level.SILVER)
        events = when(given(*registered()), command)
        assert events == [
            ev.PastCertificationImported(
                level=Level.SILVER,
                cohort=command.cohort,
                standard_version="wwc-2018",
                valid_from=command.valid_from,
                valid_until=command.valid_until,
                imported_by="op-1",
            )
        ]
        state = given(*registered(), *events)
        assert (state.phase, state.level, state.certification) == (Phase.REGISTERED, None, None)
        assert [p.level for p in state.past_certifications] == [Level.SILVER]

    def test_a_certification_still_valid_is_not_history(self) -> None:
        with pytest.raises(CommandRejected, match="not yet history; propose it as a current certification"):
            when(given(*registered()), past(years_ago=1))

    def test_the_same_certification_is_not_imported_twice(self) -> None:
        state = given(*registered(), *when(given(*registered()), past()))
        with pytest.raises(CommandRejected, match="is already among its past ones"):
            when(state, past())

    def test_an_unknown_standard_is_invalid(self) -> None:
        command = past().model_copy(update={"standard_version": "wwc-1999"})
        with pytest.raises(InvalidCommand, match="unknown standard version 'wwc-1999'"):
            when(given(*registered()), command)

    def test_the_first_recertification_compares_with_the_latest_past_certification(self) -> None:
        # Given Silver eight years ago and Gold five years ago, both expired
        state = given(*registered())
        for command in (past(Level.SILVER, years_ago=8), past(Level.GOLD, years_ago=5)):
            state = then_state(state, command)
        # When the city applies, then it re-certifies from Gold
        apply = apply_to("2026-spring", STANDARD.version)
        started, clock = when(state, apply)
        assert isinstance(started, ev.RecertificationStarted) and started.previous_level is Level.GOLD
        assert isinstance(clock, ev.DeadlineSet)  # the submission clock starts
        # and a cycle decided at the top level, every criterion approved, moved up
        top = level_of(CRITERIA)
        assert top is Level.PLATINUM
        cycle_done = fold(fold(state, [started]), decided_now(CRITERIA, [], top, opened=[]))
        [award] = when(cycle_done, c.CloseAppealWindow(), now=T0 + 30 * DAY)
        assert isinstance(award, ev.CertificationAwarded)
        assert (award.previous_level, award.outcome) == (Level.GOLD, Outcome.ELEVATED)

    def test_under_the_first_rules_an_application_is_a_new_one_as_before(self) -> None:
        state = then_state(given(*registered()), past(Level.GOLD))
        apply = apply_to("2026-spring", STANDARD.version)
        [started] = decide(state, apply, now=T0, rules=rules.FIRST)
        assert isinstance(started, ev.ApplicationSubmitted)


# --- appeals that name criteria -------------------------------------------------------------------


class TestAppealAgainstCriteria:
    def test_an_appeal_names_rejected_criteria_and_brings_evidence(self) -> None:
        ok, lifter = level_step()
        state = given(*decided_now(ok, [lifter], level_of(ok)))
        [filed] = when(state, appeal(lifter, evidence=[lifter]), now=T0 + 5 * DAY)
        assert filed == ev.AppealFiled(
            grounds="the reviewer missed our portal",
            criteria=[lifter],
            evidence=[ev.AppealEvidence(criterion_id=lifter, documents=DOCS)],
        )

    def test_an_upheld_appeal_sends_the_criteria_to_a_fresh_reviewer_and_the_committee_decides_again(
        self,
    ) -> None:
        ok, lifter = level_step()
        before = level_of(ok)
        state = given(*decided_now(ok, [lifter], before), ev.AppealFiled(grounds="g", criteria=[lifter]))
        # When the committee upholds it, then the criterion awaits a reviewer again, due in 10 days
        events = when(state, c.DecideAppeal(upheld=True, rationale="worth a second look"), now=T0 + 40 * DAY)
        assert events == [
            ev.AppealDecided(
                upheld=True,
                level=None,
                rationale="worth a second look",
                review_again=[lifter],
                review_due_at=T0 + 50 * DAY,
            )
        ]
        state = fold(state, events)
        assert state.phase is Phase.APPEAL_REVIEW and state.cycle is not None
        item = state.cycle.items[lifter]
        assert (item.status, item.reviewer_id, item.earlier_reviewers) == (
            ItemStatus.SUBMITTED,
            None,
            ("rev-ana",),
        )
        # The reviewer who rejected it may neither be assigned nor decide it
        with pytest.raises(
            CommandRejected, match=f"rev-ana decided {lifter} before the appeal; a fresh reviewer"
        ):
            when(state, c.AssignReviewer(**REVIEWER, criterion_ids=[lifter]))
        with pytest.raises(CommandRejected, match="a fresh reviewer must review it"):
            when(state, review_as(REVIEWER, c.Verdict.APPROVE, lifter))
        # A fresh one is assigned and approves it: the score is recomputed, the new cap recommended
        state = then_state(state, c.AssignReviewer(**OTHER_REVIEWER, criterion_ids=[lifter]))
        approval, recommended, clock = when(state, review_as(OTHER_REVIEWER, c.Verdict.APPROVE, lifter))
        assert isinstance(approval, ev.EvidenceApproved)
        assert isinstance(clock, ev.DeadlineSet) and clock.deadline is ev.Deadline.COMMITTEE
        score = STANDARD.score([*ok, lifter])
        assert recommended == ev.LevelRecommended(
            points=score.points,
            possible=score.possible,
            score=score.score,
            level=score.level,
            honor_roll=True,  # it would be suggested, were it not certified (domain/honor_roll.py)
        )
        state = fold(state, [approval, recommended, clock])
        assert state.phase is Phase.COMMITTEE and rank(state.recommended_level) > rank(before)
        # The committee's decision on it is final: awarded at once, no second appeal window
        assert score.level is not None
        decision, award = when(
            state, c.DecideLevel(level=score.level, rationale="as recommended"), now=T0 + 45 * DAY
        )
        assert decision == ev.LevelDecided(
            level=score.level, rationale="as recommended", appeal_deadline=T0 + 45 * DAY, final=True
        )
        assert isinstance(award, ev.CertificationAwarded) and award.level is score.level
        assert fold(state, [decision, award]).phase is Phase.CERTIFIED

    def test_the_decision_after_the_fresh_review_is_never_above_the_new_recommendation(self) -> None:
        ok, lifter = level_step()
        state = given(
            *decided_now(ok, [lifter], level_of(ok)), ev.AppealFiled(grounds="g", criteria=[lifter])
        )
        state = fresh_reviewer_assigned(then_state(state, c.DecideAppeal(upheld=True, rationale="r")), lifter)
        # the fresh reviewer rejects it again: the recommendation stays where it was
        state = then_state(state, review_as(OTHER_REVIEWER, c.Verdict.REJECT, lifter))
        assert state.phase is Phase.COMMITTEE and state.recommended_level is level_of(ok)
        with pytest.raises(CommandRejected, match="is above the recommended level"):
            when(state, c.DecideLevel(level=level_of([*ok, lifter]), rationale="r"))

    def test_the_appeals_evidence_is_the_criterions_next_submission(self) -> None:
        ok, lifter = level_step()
        filed = ev.AppealFiled(
            grounds="g", criteria=[lifter], evidence=[ev.AppealEvidence(criterion_id=lifter, documents=DOCS)]
        )
        state = given(*decided_now(ok, [lifter], level_of(ok)), filed)
        decided, resubmitted = when(state, c.DecideAppeal(upheld=True, rationale="r"))
        assert resubmitted == ev.EvidenceSubmitted(
            criterion_id=lifter, documents=DOCS, narrative="", review_due_at=T0 + 10 * DAY, submission=2
        )
        after = fold(state, [decided, resubmitted])
        assert after.cycle is not None and after.cycle.items[lifter].earlier_reviewers == ("rev-ana",)

    def test_a_question_the_fresh_reviewer_asks_that_goes_unanswered_ends_the_fresh_review(self) -> None:
        ok, lifter = level_step()
        state = given(
            *decided_now(ok, [lifter], level_of(ok)), ev.AppealFiled(grounds="g", criteria=[lifter])
        )
        state = fresh_reviewer_assigned(then_state(state, c.DecideAppeal(upheld=True, rationale="r")), lifter)
        ask = c.ReviewEvidence(
            **OTHER_REVIEWER,
            items=[
                c.ReviewItem(
                    criterion_id=lifter, decision=c.Verdict.REQUEST_CLARIFICATION, note="Which year?"
                )
            ],
        )
        state = then_state(state, ask)
        assert state.phase is Phase.APPEAL_REVIEW
        # The city does not answer in time: the criterion stays rejected, the recommendation as before
        expired, recommended, _committee_clock = when(state, c.ExpireClarifications(), now=T0 + 30 * DAY)
        assert isinstance(expired, ev.ClarificationExpired)
        assert isinstance(recommended, ev.LevelRecommended) and recommended.level is level_of(ok)

    def test_the_fresh_review_has_the_reviewer_deadline_and_is_escalated_when_it_passes(self) -> None:
        ok, lifter = level_step()
        state = given(
            *decided_now(ok, [lifter], level_of(ok)), ev.AppealFiled(grounds="g", criteria=[lifter])
        )
        state = then_state(state, c.DecideAppeal(upheld=True, rationale="r"))
        assert deadlines(state)["EscalateOverdueReviews"] == T0 + 10 * DAY
        [escalated] = when(state, c.EscalateOverdueReviews(), now=T0 + 10 * DAY)
        # and escalated again each time the reviewer SLA passes once more
        assert escalated == ev.ReviewEscalated(
            criterion_id=lifter, reviewer_id=None, was_due_at=T0 + 10 * DAY, next_due_at=T0 + 20 * DAY
        )

    def test_an_upheld_appeal_against_criteria_grants_no_level_itself(self) -> None:
        ok, lifter = level_step()
        state = given(
            *decided_now(ok, [lifter], level_of(ok)), ev.AppealFiled(grounds="g", criteria=[lifter])
        )
        with pytest.raises(CommandRejected, match=r"sends them to a fresh reviewer.*give no level"):
            when(state, c.DecideAppeal(upheld=True, level=level_of([*ok, lifter]), rationale="r"))

    def test_a_dismissed_appeal_against_criteria_keeps_the_decision(self) -> None:
        ok, lifter = level_step()
        state = given(
            *decided_now(ok, [lifter], level_of(ok)), ev.AppealFiled(grounds="g", criteria=[lifter])
        )
        dismissed, award = when(state, c.DecideAppeal(upheld=False, rationale="no"))
        assert dismissed == ev.AppealDecided(upheld=False, level=level_of(ok), rationale="no")
        assert isinstance(award, ev.CertificationAwarded)

    def test_a_city_not_certified_may_contest_any_criterion_bringing_evidence_for_new_ones(self) -> None:
        few = CRITERIA[:1]
        rest = CRITERIA[1:]
        state = given(*decided_now(few, [], None))
        with pytest.raises(CommandRejected, match="was ever submitted: add it to the appeal"):
            when(state, appeal(*rest))
        [filed] = when(state, appeal(*rest, evidence=rest))
        assert isinstance(filed, ev.AppealFiled) and filed.criteria == rest
        # upheld: the new evidence awaits a reviewer (nobody decided it before)
        state = fold(state, [filed])
        events = when(state, c.DecideAppeal(upheld=True, rationale="r"))
        assert [type(e) for e in events] == [ev.AppealDecided] + [ev.EvidenceSubmitted] * len(rest)
        after = fold(state, events)
        assert after.cycle is not None and all(
            after.cycle.items[cid].status is ItemStatus.SUBMITTED for cid in rest
        )

    def test_a_site_visit_overturn_may_be_contested(self) -> None:
        ok, lifter = level_step()
        all_ok = [*ok, lifter]
        history = decided_now(all_ok, [], level_of(all_ok))
        # the visit overturned `lifter`: recommended and decided at the level below
        score = STANDARD.score(ok)
        history[-3:] = [
            ev.SiteVisitCompleted(findings="not in use", overturned=[lifter]),
            ev.LevelRecommended(
                points=score.points,
                possible=score.possible,
                score=score.score,
                level=score.level,
                honor_roll=False,
            ),
            ev.LevelDecided(level=score.level, rationale="r", appeal_deadline=T0 + 30 * DAY),
        ]
        [filed] = when(given(*history), appeal(lifter))
        assert isinstance(filed, ev.AppealFiled) and filed.criteria == [lifter]


class TestAppealsThatCouldChangeNothing:
    def test_contesting_an_approved_criterion_is_refused(self) -> None:
        ok, lifter = level_step()
        state = given(*decided_now(ok, [lifter], level_of(ok)))
        with pytest.raises(CommandRejected, match=f"{ok[0]} is approved already"):
            when(state, appeal(ok[0], lifter))

    def test_criteria_that_would_not_lift_the_level_are_refused_saying_the_score_they_would_reach(
        self,
    ) -> None:
        ok, lifter = level_step()
        # one more approval that the level does not need, rejected instead
        spare = next(cid for cid in ok if level_of([k for k in ok if k != cid]) == level_of(ok))
        kept = [k for k in ok if k != spare]
        state = given(*decided_now(kept, [spare, lifter], level_of(ok)))
        best = STANDARD.score(ok)
        with pytest.raises(
            CommandRejected,
            match=rf"would score {best.points} of {best.possible} \({best.score:.0%}\), "
            rf"{level_of(ok).value}: not above the level decided",  # type: ignore[union-attr]
        ):
            when(state, appeal(spare))

    def test_a_level_appeal_cannot_contest_a_criterion_never_submitted(self) -> None:
        ok, lifter = level_step()
        state = given(*decided_now(ok, [], level_of(ok)))
        with pytest.raises(CommandRejected, match=f"no evidence for {lifter} was submitted in this cycle"):
            when(state, appeal(lifter, evidence=[lifter]))

    def test_an_appeal_against_a_decision_at_the_recommendation_must_name_criteria(self) -> None:
        ok, lifter = level_step()
        state = given(*decided_now(ok, [lifter], level_of(ok)))
        with pytest.raises(CommandRejected, match="against the decision alone could change nothing"):
            when(state, c.FileAppeal(grounds="we deserve more"))

    def test_a_decision_below_the_recommendation_may_still_be_appealed_alone(self) -> None:
        ok, lifter = level_step()
        state = given(*decided_now([*ok, lifter], [], level_of(ok)))
        assert when(state, c.FileAppeal(grounds="the committee misread")) == [
            ev.AppealFiled(grounds="the committee misread")
        ]

    def test_under_the_first_rules_an_appeal_names_no_criteria(self) -> None:
        ok, lifter = level_step()
        opened = [*registered(), ev.ApplicationSubmitted(cycle=1, cohort="c", standard_version="wwc-2022")]
        state = given(*decided_now(ok, [lifter], level_of(ok), opened=opened))
        with pytest.raises(CommandRejected, match="runs under the first rules"):
            when(state, appeal(lifter))
        assert when(state, c.FileAppeal(grounds="g")) == [ev.AppealFiled(grounds="g")]

    def test_evidence_for_a_criterion_not_contested_is_malformed(self) -> None:
        first, second = CRITERIA[:2]
        with pytest.raises(
            ValidationError, match=f"evidence for criteria the appeal does not contest: {second}"
        ):
            appeal(first, evidence=[second])
