"""Whatever people do, in whatever order, the rules hold: random command sequences against the decider."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import CityState, CommandRejected, Phase, allowed_commands, decide, evolve, fold
from domain import commands as c
from domain import events as ev
from domain.levels import Level, rank
from domain.rules import PROGRAMME_REVIEW
from domain.standard import Standard, available_versions, get_standard, revisions
from domain.state import ItemStatus
from domain.worksheet import shortfalls
from tests.unit.domain.story import (
    CITY,
    CRITERIA,
    DAY,
    DOCS,
    STANDARD,
    T0,
    applied,
    enough,
    recommended_on,
    slotted,
)

POOL = CRITERIA[:32]  # enough to reach Gold, small enough to hit the same items often
LEVELS = st.sampled_from([None, *Level])
CYCLE_PHASES = {
    Phase.EVIDENCE,
    Phase.REVIEW,
    Phase.SITE_VISIT,
    Phase.COMMITTEE,
    Phase.APPEAL_WINDOW,
    Phase.APPEAL,
    Phase.APPEAL_REVIEW,
}


KINDS = [
    "RegisterCity",
    "TakeDataSnapshot",
    "ApplyForCertification",
    "SubmitEvidence",
    "CloseEvidenceSubmission",
    "AssignReviewer",
    "ReviewEvidence",
    "AnswerClarifications",
    "ExpireClarifications",
    "EscalateOverdueReviews",
    "ScheduleSiteVisit",
    "CompleteSiteVisit",
    "WaiveSiteVisit",
    "DecideLevel",
    "FileAppeal",
    "DecideAppeal",
    "CloseAppealWindow",
    "SendReminder",
    "LapseCertification",
    "ImportCertification",
    "ProposeImport",
    "CountersignImport",
    "RejectImport",
    "ReopenReviewItem",
    "CorrectCityProfile",
    "ImportPastCertification",
]
TIMERS = [
    "ExpireClarifications",
    "EscalateOverdueReviews",
    "CloseAppealWindow",
    "SendReminder",
    "LapseCertification",
]


def draw_command(data: st.DataObject, state: CityState, now: datetime) -> c.Command:
    """Draw one command, shaped to the current state often enough to walk the whole path."""
    open_ids = sorted(state.cycle.items) if state.cycle and state.cycle.items else POOL[:3]

    def some_open() -> list[str]:
        return data.draw(st.lists(st.sampled_from(open_ids), min_size=1, max_size=len(open_ids), unique=True))

    home = data.draw(st.sampled_from([CITY, "riverton"]))
    # Two reviewers, so that items an upheld appeal sends to a fresh reviewer find one.
    reviewer = data.draw(st.sampled_from(["rev", "rev-2"]))
    # Mostly what the phase allows (plus the timers), sometimes anything: both paths get exercised.
    fitting = [KINDS.index(name) for name in [*allowed_commands(state), *TIMERS] if name in KINDS]
    kinds = fitting if data.draw(st.integers(0, 9)) < 8 else list(range(len(KINDS)))
    if state.version > 150 and data.draw(st.integers(0, 49)) == 0:
        return c.Withdraw(reason="w")  # rare and late: it ends the story
    match data.draw(st.sampled_from(kinds)):
        case 0:
            return c.RegisterCity(city_id=CITY, name="Lakeside", country="US", population=90_000)
        case 1:
            answers = data.draw(
                st.dictionaries(st.sampled_from(POOL), st.sampled_from(list(ev.Answer)), min_size=1)
            )
            return c.TakeDataSnapshot(standard_version="wwc-2022", answers=answers)
        case 2:
            return c.ApplyForCertification(
                cohort=data.draw(st.sampled_from(["2026", "2027"])), standard_version="wwc-2022"
            )
        case 3:
            fresh = [cid for cid in POOL if not (state.cycle and cid in state.cycle.items)] or POOL
            ids = (
                fresh
                if data.draw(st.booleans())
                else data.draw(st.lists(st.sampled_from(POOL), min_size=1, unique=True))
            )
            # Mostly complete worksheets (every slot, k claimed), sometimes bare: both get reviewed.
            complete = data.draw(st.integers(0, 3)) > 0
            return c.SubmitEvidence(
                items=[
                    c.EvidenceItem(criterion_id=i, documents=slotted(i), claims=enough(i))
                    if complete
                    else c.EvidenceItem(criterion_id=i, documents=DOCS)
                    for i in ids
                ]
            )
        case 4:
            return c.CloseEvidenceSubmission()
        case 5:
            return c.AssignReviewer(reviewer_id=reviewer, reviewer_home_city=home, criterion_ids=some_open())
        case 6:
            verdict = st.sampled_from([c.Verdict.APPROVE] * 4 + list(c.Verdict))  # reviewers mostly approve
            ids = [i.criterion_id for i in state.cycle.open_items] if state.cycle else []
            ids = ids if ids and data.draw(st.booleans()) else some_open()
            items = [review_item(data, i, data.draw(verdict)) for i in ids]
            return c.ReviewEvidence(reviewer_id=reviewer, reviewer_home_city=home, items=items)
        case 7:
            asked = (
                [i.criterion_id for i in state.cycle.open_items if i.clarification_due_at]
                if state.cycle
                else []
            )
            ids = asked if asked and data.draw(st.booleans()) else some_open()
            return c.AnswerClarifications(
                items=[
                    c.ClarificationAnswer(
                        criterion_id=i, answer="a", documents=slotted(i) if data.draw(st.booleans()) else []
                    )
                    for i in ids
                ]
            )
        case 8:
            return c.ExpireClarifications()
        case 9:
            return c.EscalateOverdueReviews()
        case 10:
            return c.ScheduleSiteVisit(visit_date=now.date())
        case 11:
            return c.CompleteSiteVisit(findings="f", overturned=some_open()[:2])
        case 12:
            return c.WaiveSiteVisit(reason="r")
        case 13:
            recommended = state.recommended_level
            return c.DecideLevel(
                level=data.draw(st.sampled_from([recommended, recommended]) | LEVELS), rationale="r"
            )
        case 14:
            if not state.cycle or data.draw(st.booleans()):
                return c.FileAppeal(grounds="g")
            # Criteria contested: ones not approved (rejected, overturned), and when the city was
            # not certified also ones never submitted, mostly with evidence for those.
            cycle = state.cycle
            never = (
                [cid for cid in POOL[-2:] if cid not in cycle.items] if cycle.decided_level is None else []
            )
            contestable = [cid for cid, item in cycle.items.items() if item.status is not ItemStatus.APPROVED]
            contestable += never
            if not contestable:
                return c.FileAppeal(grounds="g")
            ids = (
                contestable
                if data.draw(st.booleans())  # every one: the appeal that could lift the level most
                else data.draw(st.lists(st.sampled_from(contestable), min_size=1, max_size=6, unique=True))
            )
            brought = [cid for cid in ids if cid in never and data.draw(st.integers(0, 3)) > 0]
            return c.FileAppeal(
                grounds="g",
                criteria=ids,
                evidence=[c.EvidenceItem(criterion_id=cid, documents=DOCS) for cid in brought],
            )
        case 15:
            # An appeal against criteria is upheld without a level: draw that often.
            level = (
                None
                if state.cycle and state.cycle.appeal_criteria and data.draw(st.booleans())
                else data.draw(LEVELS)
            )
            return c.DecideAppeal(upheld=data.draw(st.booleans()), level=level, rationale="r")
        case 16:
            return c.CloseAppealWindow()
        case 17:
            return c.SendReminder(threshold_days=data.draw(st.sampled_from([180, 90, 30])))
        case 18:
            return c.LapseCertification()
        case 19:
            return c.ImportCertification(
                level=Level.GOLD,
                cohort="old",
                standard_version="wwc-2018",
                valid_from=T0 - 100 * DAY,
                valid_until=T0 + 400 * DAY,
            )
        case 20:
            return c.ProposeImport(
                level=Level.SILVER,
                cohort="old",
                standard_version="wwc-2018",
                valid_from=now - 100 * DAY,
                valid_until=now + 400 * DAY,
                proposed_by=data.draw(st.sampled_from(["ops-ana", "cmt-ben"])),
            )
        case 21:
            return c.CountersignImport(countersigned_by=data.draw(st.sampled_from(["ops-ana", "cmt-ben"])))
        case 22:
            return c.RejectImport(rejected_by="cmt-ben", reason="r")
        case 23:
            return c.ReopenReviewItem(criterion_id=some_open()[0], reason="r", reopened_by="rev")
        case 24:
            return c.CorrectCityProfile(
                population=data.draw(st.sampled_from([60_000, 90_000])), reason="r", corrected_by="op"
            )
        case 25:
            return c.ImportPastCertification(
                level=data.draw(st.sampled_from(list(Level))),
                cohort="history",
                standard_version="wwc-2018",
                valid_from=now - 2000 * DAY,
                valid_until=now - 1000 * DAY,
                imported_by="op",
            )
    raise AssertionError("unreachable")


def review_item(data: st.DataObject, criterion_id: str, verdict: c.Verdict) -> c.ReviewItem:
    """A decision; an approval finds enough items met, or too few, or none, with an override now
    and then."""
    if verdict is not c.Verdict.APPROVE:
        return c.ReviewItem(criterion_id=criterion_id, decision=verdict, note="n")
    k = len(enough(criterion_id))
    met = data.draw(st.sampled_from([enough(criterion_id)] * 3 + [list(range(1, k)), []]))
    override = data.draw(st.sampled_from(["", "", "", "seen on site"]))
    return c.ReviewItem(criterion_id=criterion_id, decision=verdict, checklist_met=met, override=override)


def check_invariants(state: CityState, history: list[ev.DomainEvent]) -> None:
    assert state.version == len(history), "versions are contiguous: one per event folded"
    if state.score is not None:
        assert 0.0 <= state.score <= 1.0
    cycle = state.cycle
    assert (cycle is not None) == (state.phase in CYCLE_PHASES) or (
        cycle is not None and state.phase is Phase.EVIDENCE
    ), "exactly one cycle while in a cycle phase, none otherwise"
    if cycle and cycle.decided and cycle.recommendation:
        assert rank(cycle.decided_level) <= rank(cycle.recommendation.level), (
            "decided never above recommendation"
        )
    if cycle and cycle.rules >= PROGRAMME_REVIEW:
        for item in cycle.items.values():
            if item.status is ItemStatus.APPROVED:
                short = shortfalls(
                    STANDARD.criterion(item.criterion_id), item.checklist_met, item.filled_slots
                )
                assert item.override or not short, (
                    "an approval never stands below its checklist without an override",
                    item.criterion_id,
                    short,
                )
    if state.certification:
        assert state.certification.valid_until > state.certification.valid_from
        assert len(set(state.certification.reminders_sent)) == len(state.certification.reminders_sent)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_command_sequences_never_break_the_rules(data: st.DataObject) -> None:
    state = CityState.initial(CITY)
    history: list[ev.DomainEvent] = []
    now = T0
    for _ in range(80):
        now += timedelta(days=data.draw(st.sampled_from([0, 1, 11, 26, 31, 60, 150, 400, 960, 1000])))
        command = draw_command(data, state, now)
        try:
            new = decide(state, command, now=now)
        except CommandRejected:
            continue  # a refusal changes nothing
        assert new, "an accepted command records at least one event"
        for event in new:
            # A decision never stands above the recommendation: not when the committee decides,
            # nor after an appeal (upheld against the decision, or against criteria reviewed afresh).
            if isinstance(event, ev.CertificationAwarded) and state.cycle and state.cycle.recommendation:
                assert rank(event.level) <= rank(state.cycle.recommendation.level), (
                    "award above recommendation"
                )
            state = evolve(state, event)
            if isinstance(event, ev.AppealDecided) and state.cycle and state.cycle.recommendation:
                assert rank(event.level) <= rank(state.cycle.recommendation.level), (
                    "appeal above recommendation"
                )
        history += new
        check_invariants(state, history)
    # Folding the same events again gives the same state: the fold is a pure function of the log.
    assert fold(CityState.initial(CITY), history) == state
    assert fold(CityState.initial(CITY), history) == fold(CityState.initial(CITY), list(history))
    # The state survives a JSON round trip, as it does through projections and continue-as-new.
    assert CityState.model_validate_json(state.model_dump_json()) == state


SHIPPED = [get_standard(v, r) for v in available_versions() for r in revisions(v)]


@st.composite
def approvals(draw: st.DrawFn) -> tuple[Standard, set[str]]:
    """A standard and a set of approved criteria: a prefix of its earning order (so levels are often
    reached) with some taken out and some others added (so requirements are often missed)."""
    std = draw(st.sampled_from(SHIPPED))
    order = std.in_earning_order()
    approved = set(order[: draw(st.integers(0, len(order)))])
    approved -= draw(st.sets(st.sampled_from(order), max_size=4))
    approved |= draw(st.sets(st.sampled_from(order), max_size=4))
    return std, approved


@settings(max_examples=300, deadline=None)
@given(approvals(), st.sets(st.integers(0, 44), max_size=6))
def test_level_requirements_are_cumulative_whatever_is_approved(
    drawn: tuple[Standard, set[str]], more: set[int]
) -> None:
    std, approved = drawn
    result = std.score(approved)
    reached = rank(result.level)
    for rule in std.ordered_levels:
        meets = not rule.unmet(result.earned, std) and result.compared_share >= rule.min_score - 1e-9
        if rule.name.rank <= reached:
            # The level reached satisfies every lower level's requirements, and its own
            assert meets, (rule.name, rule.unmet(result.earned, std))
        elif rule.name.rank == reached + 1:
            assert not meets  # the next level up is not met: the level is the highest reached
    # Approving more never lowers the level
    ids = std.in_earning_order()
    extra = {ids[i % len(ids)] for i in more}
    assert rank(std.score(approved | extra).level) >= reached


def _decided_cycle(approved_ids: list[str], rejected_ids: list[str], level: Level | None) -> CityState:
    """A cycle under the programme's review rules, reviewed and decided at `level`."""
    score = STANDARD.score(approved_ids)
    return fold(
        CityState.initial(CITY),
        [
            *applied("2026"),
            *recommended_on(approved_ids, rejected_ids, reviewer="rev"),
            # Signed off by the lead, so no level waits for the sign-off (a rule of its own).
            ev.LeadReviewerAssigned(reviewer_id="rev-lead"),
            ev.ReviewSignedOff(reviewer_id="rev-lead", level=score.level),
            ev.LevelDecided(level=level, rationale="r", appeal_deadline=T0 + 30 * DAY)
            if level
            else ev.CityNotCertified(honor_roll=False, rationale="r", appeal_deadline=T0 + 30 * DAY),
        ],
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_after_an_appeal_against_criteria_the_decision_never_stands_above_the_recommendation(
    data: st.DataObject,
) -> None:
    """Whatever the city contests and however the fresh reviewer and the committee decide: an appeal
    is filed exactly when approving every contested criterion would lift the level, and the final
    decision is never above the recommendation the fresh review leads to."""
    rejected_ids = data.draw(st.lists(st.sampled_from(CRITERIA), min_size=1, max_size=12, unique=True))
    approved_ids = [cid for cid in CRITERIA if cid not in rejected_ids]
    recommended = STANDARD.score(approved_ids).level
    decided_level = data.draw(
        st.sampled_from([lvl for lvl in [None, *Level] if rank(lvl) <= rank(recommended)])
    )
    state = _decided_cycle(approved_ids, rejected_ids, decided_level)
    contested = data.draw(st.lists(st.sampled_from(rejected_ids), min_size=1, unique=True))
    could_lift = rank(STANDARD.score([*approved_ids, *contested]).level) > rank(decided_level)
    now = T0 + DAY
    try:
        state = fold(state, decide(state, c.FileAppeal(grounds="g", criteria=contested), now=now))
    except CommandRejected as refused:
        assert not could_lift, refused
        assert "could change nothing" in str(refused)
        return
    assert could_lift
    state = fold(state, decide(state, c.DecideAppeal(upheld=True, rationale="r"), now=now))
    assert state.phase is Phase.APPEAL_REVIEW
    verdicts = [c.Verdict.APPROVE, c.Verdict.REJECT]
    state = fold(
        state,
        [
            *[
                ev.ReviewerAssigned(criterion_id=cid, reviewer_id="rev-2", due_at=now + 10 * DAY)
                for cid in contested
            ],
            ev.NoConflictDeclared(reviewer_id="rev-2"),
        ],
    )
    drawn = [(cid, data.draw(st.sampled_from(verdicts))) for cid in contested]
    items = [
        c.ReviewItem(
            criterion_id=cid, decision=v, checklist_met=enough(cid) if v is c.Verdict.APPROVE else []
        )
        for cid, v in drawn
    ]
    review = c.ReviewEvidence(reviewer_id="rev-2", reviewer_home_city="riverton", items=items)
    state = fold(state, decide(state, review, now=now))
    assert state.phase is Phase.COMMITTEE and state.cycle is not None and state.cycle.recommendation
    new_cap = state.cycle.recommendation.level
    assert new_cap == STANDARD.score(state.cycle.approved).level, "the recomputed score's level"
    level = data.draw(LEVELS)
    try:
        events = decide(state, c.DecideLevel(level=level, rationale="r"), now=now)
    except CommandRejected:
        assert rank(level) > rank(new_cap)
        return
    assert rank(level) <= rank(new_cap)
    final = fold(state, events)
    assert final.phase in (Phase.CERTIFIED, Phase.REGISTERED), "decided once more, and finally"
    assert rank(final.level) <= rank(new_cap)
