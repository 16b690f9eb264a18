"""What the site-visit page shows of a city, read from its log: where its visit stands, the
criteria the review decided, and which actions its phase takes (and, under the first rules, the
findings those rules record: approvals overturned, by id)."""

from __future__ import annotations

from datetime import datetime

from domain import events as ev
from entrypoints.web.committee import cycle_seen
from entrypoints.web.i18n import Speaker
from entrypoints.web.site_visit import (
    COMPLETE,
    HELD,
    NO_FINDING,
    NOT_DUE,
    RESCHEDULE,
    SCHEDULE,
    SCHEDULED,
    TO_SCHEDULE,
    WAIVE,
    VisitPage,
    visit_page,
)
from tests.unit.domain.story import CRITERIA, DAY, T0, applied, given, registered, reviewed_on

APPROVED, REJECTED = CRITERIA[:3], CRITERIA[3]


def page_of(*events: ev.DomainEvent, language: str = "en") -> VisitPage:
    logged: list[tuple[datetime, ev.DomainEvent]] = [(T0 + n * DAY, e) for n, e in enumerate(events)]
    return visit_page(
        given(*events), cycle_seen(logged, None), Speaker(language), city_id="lakeside", round_id=None
    )


def test_a_city_that_never_applied_has_no_visit_and_no_action() -> None:
    page = page_of(*registered())
    assert (page.state, page.applied, page.actions) == (NOT_DUE, False, [])


def test_a_visit_is_not_due_while_the_evidence_is_gathered() -> None:
    page = page_of(*applied())
    assert (page.state, page.applied, page.actions, page.decided) == (NOT_DUE, True, [], [])


def test_once_the_review_is_complete_the_visit_is_to_schedule_record_or_waive() -> None:
    page = page_of(*applied(), *reviewed_on(APPROVED, [REJECTED]))
    assert page.state == TO_SCHEDULE
    assert page.actions == [SCHEDULE, COMPLETE, WAIVE]
    assert [(c.criterion_id, c.approved) for c in page.decided] == [
        *((cid, True) for cid in APPROVED),
        (REJECTED, False),
    ]
    assert [value for value, _ in page.choices] == [NO_FINDING, "confirm", "overturn", "clear"]
    # And in Spanish, the decisions in its words
    assert {
        c.decision for c in page_of(*applied(), *reviewed_on(APPROVED, [REJECTED]), language="es").decided
    } == {
        "Aprobado",
        "Rechazado",
    }


def test_a_scheduled_visit_is_moved_recorded_or_waived_and_names_its_day() -> None:
    day = (T0 + 10 * DAY).date()
    page = page_of(*applied(), *reviewed_on(APPROVED), ev.SiteVisitScheduled(visit_date=day))
    assert (page.state, page.visit_date, page.actions) == (SCHEDULED, day, [RESCHEDULE, COMPLETE, WAIVE])


def test_under_the_first_rules_a_visit_is_completed_once_scheduled_overturning_approvals_only() -> None:
    page = page_of(*applied(rules=None), *reviewed_on(APPROVED))
    assert page.per_criterion is False
    assert page.actions == [SCHEDULE, WAIVE]
    assert [value for value, _ in page.choices] == [NO_FINDING, "overturn"]


def test_a_visit_held_shows_its_findings_and_offers_nothing_more() -> None:
    # Given a visit recorded before findings per criterion were: the approvals it overturned
    held_on = (T0 + 5 * DAY).date()
    visit = ev.SiteVisitCompleted(
        findings="The portal was offline", overturned=[APPROVED[0]], visit_date=held_on
    )
    page = page_of(*applied(), *reviewed_on(APPROVED), visit)
    assert (page.state, page.visit_date, page.findings, page.actions) == (
        HELD,
        held_on,
        "The portal was offline",
        [],
    )
    assert [(f.criterion.split()[0], f.finding) for f in page.found] == [
        (APPROVED[0], "Overturned: the approval was not supported on site")
    ]
