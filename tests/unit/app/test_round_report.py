"""The internal round report as a story: given the logs of a round's cities (walked through the
decider at a clock of their own), then the rows the programme's staff read."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from app.round_report import (
    MEDIAN_ROW,
    CityLog,
    LoggedEvent,
    ReportTable,
    RoundReport,
    build_round_report,
    render_csv,
)
from domain import CityState, Level, Phase, ProgrammePolicy, decide, fold
from domain import commands as cmd
from domain import events as ev
from domain.standard import get_standard
from tests.scenarios import (
    CRITERIA,
    DAY,
    GOLD_SCORE,
    OPERATOR,
    REVIEWER,
    SILVER_SCORE,
    STANDARD,
    Step,
    accept_decision,
    appeal_window_closes,
    apply,
    assigned_and_declared,
    close,
    deadlines_missed,
    evidence,
    reapply,
    register,
    review,
    to_committee,
    waive_visit,
)
from tests.scenarios import (
    decide as decide_level,
)
from workflows.contracts import TIMER

ROUND = "2027-spring"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POLICY = ProgrammePolicy()
THE_STANDARD = get_standard(STANDARD)


def walk(city_id: str, *steps: Step | timedelta | list[Step], start: datetime = T0) -> CityLog:
    """The city's log: each step's command decided at the walk's clock (a timedelta lets that much
    time pass first), its events recorded at that moment."""
    state, now = CityState.initial(city_id), start
    logged: list[LoggedEvent] = []
    flat: list[Step | timedelta] = []
    for step in steps:
        flat.extend(step if isinstance(step, list) else [step])
    for step in flat:
        if isinstance(step, timedelta):
            now += step
            continue
        now += step.after
        events = decide(state, step.command_at(now), now=now, policy=POLICY)
        logged += [LoggedEvent(now, e) for e in events]
        state = fold(state, events)
    return CityLog(city_id, logged)


def recommended(approved: Sequence[str]) -> Level | None:
    return THE_STANDARD.score(approved).level


def n_for_share(share: float) -> int:
    """The fewest criteria (taken in earning order) whose share reaches `share`."""
    return math.ceil(share * len(THE_STANDARD.criteria) - 1e-9)


SILVER_BAR = THE_STANDARD.silver_threshold
# Just below the Silver bar, but within the Honor Roll margin of it; and far below it.
NEAR = CRITERIA[: n_for_share(SILVER_BAR - POLICY.honor_roll_margin)]
FAR = CRITERIA[:3]
# The criterion one city rejects while the others approve it.
SPLIT = CRITERIA[3]


def escalate_reviews(after: timedelta) -> Step:
    return Step(cmd.EscalateOverdueReviews(), TIMER, [ev.ReviewEscalated], after=after)


def round_logs() -> list[CityLog]:
    """Five cities of the round and one of another round:
    - alpha is awarded the level its Gold-scoring evidence reaches, after 10 days of evidence, a
      visit waived after 4 days, the committee's decision after 2, the decision accepted a day later;
    - bravo is recommended Silver, and the committee does not certify it;
    - charlie is just under the Silver bar, within the Honor Roll margin, and is not certified;
    - delta is far from the bar, rejected on SPLIT, and not certified (its appeal window runs);
    - echo is still submitting evidence: its reviewer missed the deadline, then the submission did;
    - foxtrot is in another round."""
    assert recommended(NEAR) is None and recommended(FAR) is None
    alpha = walk(
        "alpha",
        register("alpha"),
        apply(ROUND),
        evidence(GOLD_SCORE),
        assigned_and_declared(GOLD_SCORE),
        review(approve=GOLD_SCORE),
        10 * DAY,
        close(),
        4 * DAY,
        waive_visit(),
        2 * DAY,
        decide_level(recommended(GOLD_SCORE)),
        accept_decision(after=DAY),
    )
    bravo = walk(
        "bravo",
        register("bravo"),
        to_committee(apply(ROUND), SILVER_SCORE),
        decide_level(None, "the equity evidence is thin on site"),
        appeal_window_closes(),
    )
    charlie = walk(
        "charlie",
        register("charlie"),
        to_committee(apply(ROUND), NEAR),
        decide_level(None),
        appeal_window_closes(),
    )
    delta = walk(
        "delta",
        register("delta"),
        apply(ROUND),
        evidence([*FAR, SPLIT]),
        assigned_and_declared([*FAR, SPLIT]),
        review(approve=FAR, reject=[SPLIT]),
        close(),
        waive_visit(),
        decide_level(None),
    )
    echo = walk(
        "echo",
        register("echo"),
        apply(ROUND),
        evidence(CRITERIA[:2]),
        assigned_and_declared(CRITERIA[:2]),
        escalate_reviews(after=11 * DAY),
        deadlines_missed(80 * DAY, ev.SubmissionOverdue),
    )
    foxtrot = walk("foxtrot", register("foxtrot"), to_committee(apply("2027-fall"), SILVER_SCORE))
    return [echo, foxtrot, delta, charlie, bravo, alpha]


def the_round(now: datetime) -> RoundReport:
    return build_round_report(ROUND, round_logs(), policy=POLICY, now=now)


NOW = T0 + 120 * DAY


def test_every_city_of_the_round_is_listed_with_its_outcome_the_not_certified_included() -> None:
    report = the_round(NOW)
    rows = {row.city_id: row for row in report.cities}
    assert list(rows) == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert rows["alpha"].outcome == "new" and rows["alpha"].level == recommended(GOLD_SCORE)
    assert [rows[c].outcome for c in ("bravo", "charlie")] == ["not_certified"] * 2
    assert rows["bravo"].recommended_level is Level.SILVER and rows["bravo"].level is None
    assert rows["echo"].outcome == "in_progress" and rows["echo"].phase is Phase.EVIDENCE
    # delta's appeal window runs: not certified by the committee, its cycle not yet ended.
    assert (rows["delta"].outcome, rows["delta"].phase) == ("in_progress", Phase.APPEAL_WINDOW)
    assert rows["delta"].committee_decision == "not_certified" and rows["delta"].ended_at is None
    assert report.outcomes["not_certified"] == 2 and report.outcomes["in_progress"] == 2
    assert rows["alpha"].name == "Alpha" and rows["alpha"].country == "US"


def test_the_honor_roll_suggestion_is_the_same_rule_for_every_city_not_certified() -> None:
    report = the_round(NOW)
    rows = {row.city_id: row for row in report.cities}
    # Cycles under the ROUNDS rules record the same rule in the decider's flag: bravo (a Silver
    # recommendation refused) and charlie (nothing recommended, near the bar) are both on; the
    # report judges every city by its share, whatever rules recorded the flag.
    flags = {
        log.city_id: [e.event.honor_roll for e in log.events if isinstance(e.event, ev.CityNotCertified)]
        for log in round_logs()
    }
    assert (flags["bravo"], flags["charlie"]) == ([True], [True])
    assert rows["bravo"].share is not None and rows["bravo"].share >= SILVER_BAR
    assert rows["charlie"].share is not None and rows["charlie"].share < SILVER_BAR
    suggested = [row.city_id for row in report.cities if row.honor_roll_suggested]
    assert suggested == ["bravo", "charlie"]
    # A certified city is never suggested, however it scored; a city far from the bar neither.
    assert not rows["alpha"].honor_roll_suggested and not rows["delta"].honor_roll_suggested
    assert report.honor_roll_margin == POLICY.honor_roll_margin


def test_a_narrower_margin_leaves_the_city_below_the_bar_off() -> None:
    narrow = POLICY.model_copy(update={"honor_roll_margin": 0.0})
    logs = [
        walk("charlie", register("charlie"), to_committee(apply(ROUND), NEAR), decide_level(None)),
        walk("bravo", register("bravo"), to_committee(apply(ROUND), SILVER_SCORE), decide_level(None)),
    ]
    report = build_round_report(ROUND, logs, policy=narrow, now=NOW)
    assert [(r.city_id, r.honor_roll_suggested) for r in report.cities] == [
        ("bravo", True),
        ("charlie", False),
    ]


def test_time_in_each_phase_per_city_and_the_median_per_phase() -> None:
    report = the_round(NOW)
    phases = {row.city_id: row for row in report.phases}
    assert phases["alpha"].days == {
        Phase.EVIDENCE: 10.0,
        Phase.SITE_VISIT: 4.0,
        Phase.COMMITTEE: 2.0,
        Phase.APPEAL_WINDOW: 1.0,
    }
    assert phases["alpha"].ongoing is None
    assert phases["bravo"].days == {Phase.APPEAL_WINDOW: 31.0}  # everything else the same moment
    # echo has been submitting evidence since T0: its time runs on to the report's moment.
    assert phases["echo"].days == {Phase.EVIDENCE: 120.0} and phases["echo"].ongoing is Phase.EVIDENCE
    medians = {m.phase: m for m in report.phase_medians}
    # Only finished stays count: alpha's 10 days, not echo's running 120.
    assert (medians[Phase.EVIDENCE].median_days, medians[Phase.EVIDENCE].cities) == (10.0, 1)
    # alpha 1, bravo and charlie 31 days; delta's window still runs.
    assert (medians[Phase.APPEAL_WINDOW].median_days, medians[Phase.APPEAL_WINDOW].cities) == (31.0, 3)
    assert medians[Phase.APPEAL].median_days is None and medians[Phase.APPEAL].cities == 0
    assert {row.city_id: row.days_in_round for row in report.cities}["alpha"] == 17.0


def test_sla_breaches_per_city_and_in_total() -> None:
    report = the_round(NOW)
    echo = next(row for row in report.cities if row.city_id == "echo")
    assert (echo.reviews_escalated, echo.submission_overdue, echo.sla_breaches) == (2, 1, 3)
    assert all(row.sla_breaches == 0 for row in report.cities if row.city_id != "echo")
    assert report.sla.total == 3 and report.sla.reviews_escalated == 2
    assert report.sla.cities_with_breaches == 1


def test_pass_rate_per_criterion_in_the_standard_s_order() -> None:
    report = the_round(NOW)
    assert [row.criterion_id for row in report.criteria] == [c.id for c in THE_STANDARD.criteria]
    rows = {row.criterion_id: row for row in report.criteria}
    split = rows[SPLIT]
    # alpha, bravo and charlie approved it, delta's reviewer rejected it, echo did not submit it.
    assert (split.approved, split.rejected, split.open, split.submitted) == (3, 1, 0, 4)
    first = rows[CRITERIA[0]]  # echo's reviewer has not decided it yet
    assert (first.approved, first.open, first.pass_rate) == (4, 1, 1.0)
    assert split.pass_rate == 0.75 and split.title == THE_STANDARD.criterion(SPLIT).title
    never = rows[CRITERIA[-1]]  # the last in earning order: no city of the round submitted it
    assert (never.submitted, never.pass_rate, never.cycles) == (0, None, 5)


def test_reviewer_workload() -> None:
    report = the_round(NOW)
    (ana,) = report.reviewers
    decided = len(GOLD_SCORE) + len(SILVER_SCORE) + len(NEAR) + len(FAR) + 1
    assert ana.reviewer_id == REVIEWER.id
    assert (ana.decisions, ana.rejected, ana.open_items, ana.escalations) == (decided, 1, 2, 2)


def test_a_city_with_no_cycle_in_the_round_adds_nothing() -> None:
    other = walk("foxtrot", register("foxtrot"), apply("2027-fall"))
    report = build_round_report(ROUND, [other], policy=POLICY, now=NOW)
    assert report.cities == [] and report.criteria == [] and report.reviewers == []
    assert report.sla.total == 0


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_each_table_exports_as_csv() -> None:
    report = the_round(NOW)
    cities = _csv(render_csv(report, ReportTable.CITIES))
    assert [(r["city_id"], r["outcome"], r["honor_roll_suggested"]) for r in cities][1:3] == [
        ("bravo", "not_certified", "true"),
        ("charlie", "not_certified", "true"),
    ]
    assert cities[4]["phase"] == "evidence" and cities[4]["level"] == ""
    phases = _csv(render_csv(report, ReportTable.PHASES))
    assert phases[0]["city_id"] == "alpha" and phases[0]["evidence_days"] == "10.0"
    assert phases[-1]["city_id"] == MEDIAN_ROW and phases[-1]["appeal_window_days"] == "31.0"
    criteria = _csv(render_csv(report, ReportTable.CRITERIA))
    assert next(r for r in criteria if r["criterion_id"] == SPLIT)["pass_rate"] == "0.75"
    reviewers = _csv(render_csv(report, ReportTable.REVIEWERS))
    assert reviewers[0]["reviewer_id"] == REVIEWER.id and reviewers[0]["open_items"] == "2"
    assert render_csv(report, ReportTable.REVIEWERS).endswith("\r\n")


def withdraw(after: timedelta = timedelta(0)) -> Step:
    return Step(cmd.Withdraw(reason="the data team was disbanded"), OPERATOR, [ev.CityWithdrawn], after=after)


def test_a_city_that_withdrew_during_the_round_is_listed_as_withdrawn() -> None:
    log = walk("golf", register("golf"), apply(ROUND), evidence(FAR), withdraw(after=5 * DAY))
    (row,) = build_round_report(ROUND, [log], policy=POLICY, now=NOW).cities
    assert (row.outcome, row.phase, row.ended_at, row.days_in_round) == ("withdrawn", None, T0 + 5 * DAY, 5.0)


def test_a_re_certification_is_placed_by_its_outcome_against_the_level_held() -> None:
    # Certified Silver in an earlier round, then re-certified in this one at the level Gold evidence reaches.
    earlier = [*to_committee(apply("2024-fall"), SILVER_SCORE), decide_level(Level.SILVER), accept_decision()]
    again = [
        *to_committee(reapply(ROUND, after=400 * DAY), GOLD_SCORE),
        decide_level(recommended(GOLD_SCORE)),
    ]
    log = walk("hotel", register("hotel"), *earlier, *again, accept_decision())
    (row,) = build_round_report(ROUND, [log], policy=POLICY, now=T0 + 500 * DAY).cities
    assert (row.kind, row.previous_level, row.level) == (
        "recertification",
        Level.SILVER,
        recommended(GOLD_SCORE),
    )
    assert row.outcome == "elevated" and row.cycle == 2


def test_a_city_that_applied_twice_in_the_round_is_listed_once_by_its_latest_cycle() -> None:
    first = [*to_committee(apply(ROUND), FAR), decide_level(None), appeal_window_closes()]
    second = [
        *to_committee(apply(ROUND), SILVER_SCORE),
        3 * DAY,
        decide_level(Level.SILVER),
        accept_decision(),
    ]
    report = build_round_report(
        ROUND, [walk("india", register("india"), *first, *second)], policy=POLICY, now=NOW
    )
    (row,) = report.cities
    assert (row.cycle, row.outcome, row.level) == (2, "new", Level.SILVER)
    # Both cycles' time counts: 31 days of the first appeal window and a day of the second; both
    # cycles' decisions count for the criteria.
    assert report.phases[0].days[Phase.APPEAL_WINDOW] == 32.0
    assert report.phases[0].days[Phase.COMMITTEE] == 3.0
    assert next(r for r in report.criteria if r.criterion_id == FAR[0]).approved == 2


def test_a_re_certification_not_certified_is_listed_with_the_level_it_held() -> None:
    earlier = [*to_committee(apply("2024-fall"), SILVER_SCORE), decide_level(Level.SILVER), accept_decision()]
    again = [*to_committee(reapply(ROUND, after=400 * DAY), FAR), decide_level(None), accept_decision()]
    log = walk("juliet", register("juliet"), *earlier, *again)
    (row,) = build_round_report(ROUND, [log], policy=POLICY, now=T0 + 500 * DAY).cities
    assert (row.kind, row.previous_level, row.outcome, row.level) == (
        "recertification",
        Level.SILVER,
        "not_certified",
        None,
    )
    assert not row.honor_roll_suggested  # far from the bar, whatever it held before


def test_a_city_named_like_a_formula_is_kept_as_text_in_the_csv() -> None:
    report = the_round(NOW)
    first = report.cities[0].model_copy(update={"name": "=HYPERLINK(1)"})
    renamed = report.model_copy(update={"cities": [first, *report.cities[1:]]})

    assert _csv(render_csv(renamed, ReportTable.CITIES))[0]["name"] == "'=HYPERLINK(1)"


def test_a_report_from_kept_folds_is_the_report_and_refolds_the_city_whose_log_grew() -> None:
    # Given the round's report built once with its cities' folds kept
    folds: dict[object, object] = {}
    logs = round_logs()
    first = build_round_report(ROUND, logs, policy=POLICY, now=NOW, folds=folds)
    kept = len(folds)
    # Then it is the report built without them, and again from what was kept
    assert first == the_round(NOW)
    assert build_round_report(ROUND, logs, policy=POLICY, now=NOW, folds=folds) == first
    assert len(folds) == kept
    # When one city's log grows by an event (echo's evidence: its phase moves on)
    echo = next(log for log in logs if log.city_id == "echo")
    at = echo.events[-1].occurred_at + DAY
    closed = decide(
        fold(CityState.initial("echo"), [e.event for e in echo.events]),
        close().command_at(at),
        now=at,
        policy=POLICY,
    )
    grown = CityLog("echo", [*echo.events, *(LoggedEvent(at, e) for e in closed)])
    later = build_round_report(
        ROUND, [grown if log.city_id == "echo" else log for log in logs], policy=POLICY, now=NOW, folds=folds
    )
    # Then that city alone is folded again, and the report shows it
    assert len(folds) == kept + 1
    rows = {row.city_id: row for row in later.cities}
    assert rows["echo"].phase is Phase.REVIEW
    assert {c: r for c, r in rows.items() if c != "echo"} == {
        r.city_id: r for r in first.cities if r.city_id != "echo"
    }
