"""The read model's queries: given a few cities' stories appended, what each query answers."""

from __future__ import annotations

from datetime import timedelta

from domain import commands as c
from domain.levels import Level
from domain.state import CitySummary, ItemStatus, Phase
from readmodel import (
    city_summary,
    cohort_rows,
    expiring_certifications,
    list_cities,
    open_review_items,
    review_queue,
    reviewer_queue,
)
from tests.integration.eventstore.stories import CRITERIA, DAY, REVIEWER, SYSTEM, T0, CityRun, evidence


async def registered(store, city_id: str) -> CityRun:
    run = CityRun(store, city_id)
    await run.register()
    return run


async def imported(store, city_id: str, *, days_left: int) -> CityRun:
    """A city holding a Gold certification earned before citycert, ending in `days_left` days."""
    run = await registered(store, city_id)
    await run.do(
        c.ImportCertification(
            level=Level.GOLD,
            cohort="2024",
            standard_version="wwc-2018",
            valid_from=run.now - timedelta(days=900),
            valid_until=run.now + timedelta(days=days_left),
        ),
        actor=SYSTEM,
    )
    return run


async def test_cities_are_listed_by_id_and_filtered_by_level_phase_round_and_city(store):
    certified = await registered(store, "certified")
    await certified.certify(level=Level.SILVER)
    applied = await registered(store, "applied")
    await applied.apply(cohort="2026-fall")
    await registered(store, "newcomer")

    everyone = await list_cities(store)
    assert [row.city_id for row in everyone] == ["applied", "certified", "newcomer"]
    assert [row.city_id for row in await list_cities(store, level=Level.SILVER)] == ["certified"]
    assert [row.city_id for row in await list_cities(store, phase=Phase.EVIDENCE)] == ["applied"]
    assert [row.city_id for row in await list_cities(store, round_id="2026-fall")] == ["applied"]
    assert [row.city_id for row in await list_cities(store, only_city="newcomer")] == ["newcomer"]
    # Pages: the second city on, one at a time.
    assert [row.city_id for row in await list_cities(store, limit=1, offset=1)] == ["certified"]
    # Or by key: the page after the last id of the page before.
    assert [row.city_id for row in await list_cities(store, limit=2, after="applied")] == [
        "certified",
        "newcomer",
    ]
    assert await list_cities(store, after="newcomer") == []


async def test_a_citys_summary_is_the_domains_summary_stamped_with_its_last_append(store):
    run = await registered(store, "lakeside")
    await run.certify(level=Level.SILVER)

    row = await city_summary(store, "lakeside")

    assert row is not None
    assert CitySummary.model_validate(row.model_dump(exclude={"updated_at"})) == run.state.summary()
    (last, *_) = reversed(await store.read_stream("city-lakeside"))
    assert row.updated_at == last.recorded_at
    assert await city_summary(store, "atlantis") is None


async def test_a_reviewer_sees_their_items_and_unassigned_ones_but_never_their_home_citys(store):
    assigned = await registered(store, "assigned")
    await assigned.apply()
    await assigned.do(evidence(CRITERIA[:2]))
    await assigned.do(c.AssignReviewer(**REVIEWER, criterion_ids=CRITERIA[:2]))
    await assigned.review(approve=[], clarify=(CRITERIA[1],))  # the second now waits on the city
    unassigned = await registered(store, "unassigned")
    await unassigned.apply()
    await unassigned.do(evidence(CRITERIA[:1]))
    home = await registered(store, REVIEWER["reviewer_home_city"])
    await home.apply()
    await home.do(evidence(CRITERIA[:1]))

    mine = await reviewer_queue(store, "rev-ana", REVIEWER["reviewer_home_city"], limit=100)

    assert {(i.city_id, i.criterion_id, i.waiting_on) for i in mine} == {
        ("assigned", CRITERIA[0], "reviewer"),
        ("assigned", CRITERIA[1], "city"),
        ("unassigned", CRITERIA[0], "reviewer"),
    }
    due = [i.due_at for i in mine]
    assert None not in due and due == sorted(due), "soonest due first"


async def test_operators_see_every_open_item_filtered_by_reviewer_or_city(store):
    first = await registered(store, "first")
    await first.apply()
    await first.do(evidence(CRITERIA[:2]))
    await first.do(c.AssignReviewer(**REVIEWER, criterion_ids=CRITERIA[:1]))
    second = await registered(store, "second")
    await second.apply()
    await second.do(evidence(CRITERIA[:1]))

    assert len(await review_queue(store, limit=100)) == 3
    assert len(await review_queue(store, limit=2)) == 2
    (ana,) = await review_queue(store, reviewer_id="rev-ana", limit=100)
    assert (ana.city_id, ana.criterion_id, ana.status) == ("first", CRITERIA[0], ItemStatus.SUBMITTED)
    assert {i.city_id for i in await review_queue(store, city_id="second", limit=100)} == {"second"}


async def test_a_citys_open_items_are_listed_by_criterion(store):
    run = await registered(store, "lakeside")
    await run.apply()
    first, second = sorted(CRITERIA[:2])  # the order the list comes in
    await run.do(evidence([second, first]))
    await run.do(c.AssignReviewer(**REVIEWER, criterion_ids=[first]))

    items = await open_review_items(store, "lakeside")

    assert [(i.criterion_id, i.reviewer_id, i.escalated) for i in items] == [
        (first, "rev-ana", False),
        (second, None, False),
    ]
    assert await open_review_items(store, "atlantis") == []


async def test_a_cohorts_rows_are_its_decisions_without_imported_certifications(store):
    climber = await registered(store, "climber")
    await climber.certify(approved=23, level=Level.SILVER)
    await climber.certify(approved=30, level=Level.GOLD)
    await imported(store, "veteran", days_left=400)
    elsewhere = await registered(store, "elsewhere")
    await elsewhere.apply(cohort="2026-fall")

    rows = await cohort_rows(store, "2026-spring")

    assert [(r.city_id, r.outcome, r.previous_level, r.level) for r in rows] == [
        ("climber", "new", None, Level.SILVER),
        ("climber", "elevated", Level.SILVER, Level.GOLD),
    ]
    assert rows[0].version < rows[1].version
    assert await cohort_rows(store, "2024") == []  # the veteran's import was announced elsewhere


async def test_expiring_certifications_carry_the_reminders_already_sent(store):
    soon = await imported(store, "soon", days_left=100)
    await soon.do(c.SendReminder(threshold_days=180), actor=SYSTEM, wait=timedelta(0))
    await imported(store, "later", days_left=400)
    gone = await imported(store, "gone", days_left=50)
    await gone.do(c.Withdraw(reason="left the programme"), wait=timedelta(0))
    await registered(store, "uncertified")

    expiring = await expiring_certifications(store, soon.now, within_days=180)

    assert [(e.city_id, e.reminders_sent) for e in expiring] == [("soon", (180,))]
    assert expiring[0].valid_until == soon.state.certification.valid_until
    # A year ahead the later one is expiring too, with no reminder sent yet.
    ahead = await expiring_certifications(store, soon.now, within_days=400)
    assert [(e.city_id, e.reminders_sent) for e in ahead] == [("later", ()), ("soon", (180,))]
    # Past its end, a certification is no longer expiring.
    assert await expiring_certifications(store, soon.now + 101 * DAY, within_days=180) == []


async def test_a_citys_region_is_listed_as_registered_and_as_corrected(store):
    # Given a city registered without a region, and one registered in Ohio
    lakeside = await registered(store, "lakeside")
    riverside = CityRun(store, "riverside")
    await riverside.do(
        c.RegisterCity(city_id="riverside", name="Riverside", country="US", population=90_000, region="Ohio"),
        actor=SYSTEM,
    )
    assert [(row.city_id, row.region) for row in await list_cities(store)] == [
        ("lakeside", None),
        ("riverside", "Ohio"),
    ]
    # When an operator corrects the first city's region, then its list row and its status say so
    correction = c.CorrectCityProfile(region="Michigan", reason="registered without one", corrected_by="op-1")
    await lakeside.do(correction, actor=SYSTEM)
    summary = await city_summary(store, "lakeside")
    assert summary is not None and summary.region == "Michigan"
    assert [row.region for row in await list_cities(store, only_city="lakeside")] == ["Michigan"]


async def queue_of_five(store) -> dict[str, CityRun]:
    """Five cities with one item each, due a day apart in the order of their names: q0 and q3
    assigned to rev-ana, q2 to another reviewer, q1 and q4 waiting on any reviewer."""
    other = {"reviewer_id": "rev-bo", "reviewer_home_city": "elmira"}
    assigned = {0: REVIEWER, 2: other, 3: REVIEWER}
    runs = {}
    for n in range(5):
        run = CityRun(store, f"q{n}", start=T0 + n * DAY)
        await run.register()
        await run.apply()
        await run.do(evidence(CRITERIA[:1]))
        if n in assigned:
            await run.do(c.AssignReviewer(**assigned[n], criterion_ids=CRITERIA[:1]))
        runs[run.city_id] = run
    return runs


async def test_a_reviewers_queue_merges_their_items_and_the_unassigned_ones_soonest_due_first(store):
    await queue_of_five(store)

    def cities(items) -> list[str]:
        return [i.city_id for i in items]

    # Their own (q0, q3) and the unassigned (q1, q4), in one order; never another reviewer's (q2)
    assert cities(await reviewer_queue(store, "rev-ana", "riverton", limit=100)) == ["q0", "q1", "q3", "q4"]
    # A page is the soonest of both together, however its length cuts them
    assert cities(await reviewer_queue(store, "rev-ana", "riverton", limit=3)) == ["q0", "q1", "q3"]
    assert cities(await reviewer_queue(store, "rev-ana", "riverton", limit=1)) == ["q0"]
    # and never their home city's, assigned or not
    assert cities(await reviewer_queue(store, "rev-ana", "q1", limit=100)) == ["q0", "q3", "q4"]
    assert cities(await reviewer_queue(store, "rev-ana", "q3", limit=100)) == ["q0", "q1", "q4"]


async def test_the_operators_queue_is_soonest_due_first_with_any_filters_given(store):
    await queue_of_five(store)

    def cities(items) -> list[str]:
        return [i.city_id for i in items]

    assert cities(await review_queue(store, limit=100)) == ["q0", "q1", "q2", "q3", "q4"]
    assert cities(await review_queue(store, limit=2)) == ["q0", "q1"]
    assert cities(await review_queue(store, reviewer_id="rev-ana", limit=100)) == ["q0", "q3"]
    assert cities(await review_queue(store, reviewer_id="rev-ana", limit=1)) == ["q0"]
    assert cities(await review_queue(store, city_id="q2", limit=100)) == ["q2"]
    assert cities(await review_queue(store, reviewer_id="rev-ana", city_id="q3", limit=100)) == ["q3"]
    assert await review_queue(store, reviewer_id="rev-ana", city_id="q2", limit=100) == []
