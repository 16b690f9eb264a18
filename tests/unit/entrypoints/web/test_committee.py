"""What the committee's pages show of a city, read from its log: the cycle of the round, its points
per practice area as the score counts them (prerequisites included), the site visit's findings and
the appeals filed; and the levels a decision may give."""

from __future__ import annotations

from datetime import datetime

from app.round_report import CityLog, LoggedEvent, build_round_report
from domain import ProgrammePolicy
from domain import events as ev
from domain.levels import Level
from domain.state import Phase
from entrypoints.web.committee import area_scores, card, chart, cycle_seen, levels_up_to, round_board
from entrypoints.web.i18n import Speaker
from tests.scenarios import SILVER_SCORE
from tests.unit.domain.story import CRITERIA, DAY, STANDARD, T0, applied, recommended, reviewed_on

SILVER = len(SILVER_SCORE)  # the first criteria in earning order that reach Silver


def logged(*events: ev.DomainEvent) -> list[tuple[datetime, ev.DomainEvent]]:
    return [(T0 + n * DAY, e) for n, e in enumerate(events)]


def test_the_points_per_practice_area_add_up_to_the_recommendation() -> None:
    seen = cycle_seen(logged(*recommended(SILVER)), {"2026-spring"})
    assert seen is not None
    areas = area_scores(seen.cycle)
    assert [a.area_id for a in areas] == [a.id for a in STANDARD.practice_areas]
    assert sum(a.earned for a in areas) == STANDARD.score(CRITERIA[:SILVER]).points
    assert sum(a.criteria for a in areas) == len(STANDARD.criteria)
    drawn = chart(areas, Speaker("en"))
    assert [b.label for b in drawn.bars] == [a.area_id for a in areas]
    assert all(0 <= b.width <= drawn.full for b in drawn.bars)


def test_a_criterion_whose_prerequisite_is_not_approved_earns_no_point_in_its_area() -> None:
    dependent = next(c for c in STANDARD.criteria if c.prerequisites)
    seen = cycle_seen(logged(*applied(), *reviewed_on([dependent.id])), None)
    assert seen is not None
    assert sum(a.earned for a in area_scores(seen.cycle)) == 0


def test_another_rounds_cycle_is_not_this_rounds() -> None:
    assert cycle_seen(logged(*recommended(SILVER)), {"2027-fall"}) is None


def test_the_visit_and_the_appeal_are_shown_as_recorded() -> None:
    # Given a visit that overturned one approval, a decision, and an appeal against it
    overturned = CRITERIA[0]
    events = [
        *recommended(SILVER)[:-2],  # up to the review's end: the visit is held instead of waived
        ev.SiteVisitCompleted(
            findings="The portal was offline",
            overturned=[overturned],
            criterion_findings=[
                ev.CriterionFinding(criterion_id=overturned, finding=ev.SiteFinding.OVERTURN)
            ],
        ),
        ev.LevelRecommended(
            points=SILVER - 1, possible=len(CRITERIA), score=0.5, level=None, honor_roll=True
        ),
        ev.CityNotCertified(honor_roll=True, rationale="not yet", appeal_deadline=T0 + 40 * DAY),
        ev.AppealFiled(grounds="The portal was back the next day", criteria=[overturned]),
    ]
    seen = cycle_seen(logged(*events), {"2026-spring"})
    assert seen is not None
    shown = card(
        seen,
        city_id="lakeside",
        name="Lakeside",
        region=None,
        country="US",
        phase=Phase.APPEAL,
        say=Speaker("en"),
    )
    assert shown.visit.status == "Visited" and shown.visit.findings == "The portal was offline"
    assert [f.criterion for f in shown.visit.criteria] == [
        f"{overturned} {STANDARD.criterion(overturned).title}"
    ]
    assert shown.recommended == "No level" and shown.decision == "Not certified"
    assert [a.grounds for a in shown.appeals] == ["The portal was back the next day"]
    assert shown.appeals[0].decision is None
    assert shown.awaits_appeal_decision and not shown.awaits_decision and shown.appeal_contests_criteria
    assert shown.place == "Lakeside, United States"


def test_a_decision_offers_no_level_above_the_recommendation() -> None:
    assert levels_up_to(Level.GOLD) == [Level.GOLD, Level.SILVER]
    assert levels_up_to(None) == []


def test_the_lead_reviewers_sign_off_is_shown_once_recorded() -> None:
    def shown(*events: ev.DomainEvent) -> bool:
        seen = cycle_seen(logged(*events), None)
        assert seen is not None
        say = Speaker("en")
        return card(
            seen,
            city_id="lakeside",
            name="Lakeside",
            region=None,
            country="US",
            phase=Phase.COMMITTEE,
            say=say,
        ).signed_off

    assert not shown(*recommended(SILVER))
    assert shown(*recommended(SILVER), ev.ReviewSignedOff(reviewer_id="rev-lead", note="holds up"))


def test_the_board_lists_a_cycle_recorded_under_a_cohort_name_the_round_adopted() -> None:
    # Given a city that applied under an earlier data's cohort name, which the round adopted
    events = [
        e.model_copy(update={"cohort": "Spring 2026"}) if isinstance(e, ev.ApplicationSubmitted) else e
        for e in recommended(SILVER)
    ]
    logs = [CityLog("lakeside", [LoggedEvent(at, e) for at, e in logged(*events)])]
    names = ("2026-spring", "Spring 2026")
    report = build_round_report(
        "2026-spring", logs, policy=ProgrammePolicy(), now=T0 + 90 * DAY, recorded_as=names
    )
    # Then the board shows it, awaiting the committee; under the round's id alone it is not there
    board = round_board(report, logs, Speaker("en"), names)
    assert [c.city_id for c in board.cards] == ["lakeside"] and board.awaiting == 1
    assert round_board(report, logs, Speaker("en")).cards == []
