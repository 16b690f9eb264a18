"""The rules: `decide(state, command, now=..., policy=...)` returns the events a command causes, or
raises CommandRejected saying why and what is allowed now (InvalidCommand when the command names a
standard or criterion that does not exist, so nothing the city does could make it allowed).

Pure: the caller passes the time (the workflow's `workflow.now()`), so a replay decides the same.
Event ids and envelopes are the caller's: the domain speaks only of what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain.calendar import add_years
from domain.certificates import certificate_number
from domain.deadlines import (
    clarification_due,
    due_date_warnings,
    missed_deadlines,
    phase_windows,
    running_clocks,
)
from domain.eligibility import ineligibility_refusals
from domain.errors import (
    CommandRejected,
    IneligibleCity,
    InvalidCommand,
    Label,
    Refusal,
    TooFrequent,
    Value,
)
from domain.honor_roll import suggested_for_honor_roll
from domain.levels import Level, outcome, rank
from domain.policy import ProgrammePolicy
from domain.rules import LATEST, PROGRAMME_REVIEW, ROUNDS, SUSPENSIONS
from domain.standard import Standard, StandardError, get_standard, open_versions
from domain.state import (
    AWAITING_REVIEWER,
    Certification,
    CityState,
    Cycle,
    ImportProposal,
    ItemStatus,
    Phase,
    fold,
)
from domain.worksheet import shortfall_refusals, unknown_number_refusals

DEFAULT_POLICY = ProgrammePolicy()
_DAY = timedelta(days=1)

# The commands a person may give in each phase (timer commands are left out: nobody types them).
_ALLOWED: dict[Phase, list[type[cmd.Command]]] = {
    Phase.UNREGISTERED: [cmd.RegisterCity],
    Phase.REGISTERED: [
        cmd.TakeDataSnapshot,
        cmd.ApplyForCertification,
        cmd.ProposeImport,
        cmd.Withdraw,
    ],
    Phase.IMPORT_PROPOSED: [cmd.CountersignImport, cmd.RejectImport, cmd.Withdraw],
    Phase.EVIDENCE: [
        cmd.SubmitEvidence,
        cmd.AssignReviewer,
        cmd.ReviewEvidence,
        cmd.AnswerClarifications,
        cmd.CloseEvidenceSubmission,
        cmd.Withdraw,
        cmd.AssignPracticeArea,
        cmd.AssignLeadReviewer,
        cmd.DeclareNoConflict,
        cmd.DeclareConflict,
        cmd.ReopenReviewItem,
    ],
    Phase.REVIEW: [
        cmd.AssignReviewer,
        cmd.ReviewEvidence,
        cmd.AnswerClarifications,
        cmd.Withdraw,
        cmd.AssignPracticeArea,
        cmd.AssignLeadReviewer,
        cmd.DeclareNoConflict,
        cmd.DeclareConflict,
        cmd.ReopenReviewItem,
    ],
    Phase.SITE_VISIT: [
        cmd.ScheduleSiteVisit,
        cmd.CompleteSiteVisit,
        cmd.WaiveSiteVisit,
        cmd.Withdraw,
        cmd.AssignLeadReviewer,
        cmd.DeclareNoConflict,
        cmd.DeclareConflict,
    ],
    Phase.COMMITTEE: [
        cmd.DecideLevel,
        cmd.Withdraw,
        cmd.AssignLeadReviewer,
        cmd.DeclareNoConflict,
        cmd.DeclareConflict,
        cmd.SignOffReview,
    ],
    Phase.APPEAL_WINDOW: [cmd.FileAppeal, cmd.AcceptDecision, cmd.Withdraw],
    Phase.APPEAL: [cmd.DecideAppeal, cmd.Withdraw],
    Phase.CERTIFIED: [cmd.TakeDataSnapshot, cmd.ApplyForCertification, cmd.Withdraw],
    Phase.WITHDRAWN: [cmd.RejoinProgramme],
    Phase.APPEAL_REVIEW: [
        cmd.AssignReviewer,
        cmd.ReviewEvidence,
        cmd.AnswerClarifications,
        cmd.Withdraw,
        cmd.AssignLeadReviewer,
        cmd.DeclareNoConflict,
        cmd.DeclareConflict,
    ],
}
_ALLOWED[Phase.SITE_VISIT].append(cmd.RescheduleSiteVisit)
# A running deadline may be extended in every phase that has one.
for _phase in (Phase.EVIDENCE, Phase.REVIEW, Phase.SITE_VISIT, Phase.COMMITTEE):
    _ALLOWED[_phase].append(cmd.ExtendDeadline)


# Documents may be uploaded whenever the city takes part: registered, in any phase until it
# withdraws; so may an operator correct its profile or import its past certifications.
for _phase, _commands in _ALLOWED.items():
    if _phase not in (Phase.UNREGISTERED, Phase.WITHDRAWN):
        _commands += [cmd.UploadDocument, cmd.CorrectCityProfile, cmd.ImportPastCertification]

# The programme acts on a certification it issued in every phase a city may hold one.
for _phase in (
    Phase.CERTIFIED,
    Phase.EVIDENCE,
    Phase.REVIEW,
    Phase.SITE_VISIT,
    Phase.COMMITTEE,
    Phase.APPEAL_WINDOW,
    Phase.APPEAL,
    Phase.APPEAL_REVIEW,
):
    _ALLOWED[_phase] += [cmd.SuspendCertification, cmd.ReinstateCertification, cmd.RevokeCertification]

# Phases in which reviewers decide items: the review, and the fresh review an upheld appeal opens.
_REVIEWING = (Phase.EVIDENCE, Phase.REVIEW, Phase.APPEAL_REVIEW)
# Phases in which the cycle's reviewers are named, declare and sign off: until the committee decides.
_REVIEWERS_AT_WORK = (*_REVIEWING, Phase.SITE_VISIT, Phase.COMMITTEE)


def allowed_commands(state: CityState) -> list[str]:
    return [c.command_name() for c in _ALLOWED[state.phase]]


def _reject(state: CityState, reason: str, /, **params: Value) -> CommandRejected:
    """The city's phase does not allow it now: `reason` is the template of why, filled from
    `params` (domain/errors.py), said after the city and its phase, with what is allowed."""
    return CommandRejected(
        "{city_id} is {phase}: {reason}",
        allowed=allowed_commands(state),
        city_id=state.city_id,
        phase=state.phase,
        reason=Refusal(reason, **params),
    )


def _require_phase(state: CityState, command: cmd.Command, *phases: Phase) -> None:
    if state.phase not in phases:
        raise _reject(
            state,
            "{command} needs the city to be {phases:or}",
            command=Label("Command", command.command_name()),
            phases=list(phases),
        )


def _cycle(state: CityState) -> Cycle:
    assert state.cycle is not None, "phases past registration always carry a cycle"
    return state.cycle


def _standard(version: str, revision: int | None = None) -> Standard:
    try:
        return get_standard(version, revision)
    except StandardError as e:
        raise InvalidCommand(str(e)) from e  # the standard's own words: English only


def _cycle_standard(cycle: Cycle) -> Standard:
    """The standard a cycle is reviewed against: the revision it opened under."""
    return _standard(cycle.standard_version, cycle.standard_revision)


def _revision_for(rules: int) -> int | None:
    """The revision a new cycle or snapshot uses: the newest, or under the first rules the first."""
    return None if rules >= PROGRAMME_REVIEW else 1


def _known_criteria(standard: Standard, ids: list[str]) -> None:
    unknown = sorted(set(ids) - standard.criterion_ids)
    if unknown:
        raise InvalidCommand("not criteria of {version}: {ids}", version=standard.version, ids=unknown)


# --- registration and self-assessment -----------------------------------------------------------


def _register(
    state: CityState, c: cmd.RegisterCity, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.UNREGISTERED)
    if c.city_id != state.city_id:
        raise CommandRejected(
            "command names city {named!r} but was sent to {city_id!r}", named=c.city_id, city_id=state.city_id
        )
    reasons = ineligibility_refusals(c.country, c.population)
    if reasons:
        raise IneligibleCity("{name} is not eligible: {reasons:;}", name=c.name, reasons=reasons)
    _population_year_not_ahead(c.population_year, now)
    return [
        ev.CityRegistered(
            city_id=c.city_id,
            name=c.name,
            country=c.country,
            population=c.population,
            region=c.region,
            population_source=c.population_source,
            population_year=c.population_year,
        )
    ]


def _population_year_not_ahead(year: int | None, now: datetime) -> None:
    if year is not None and year > now.year:
        raise InvalidCommand(
            "a population figure's year cannot be in the future: {year} is after {this_year}",
            year=str(year),  # a year is a name, not a quantity: no language writes it 2.027
            this_year=str(now.year),
        )


def _correct_profile(
    state: CityState, c: cmd.CorrectCityProfile, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    if state.phase is Phase.UNREGISTERED:
        raise _reject(state, "only a registered city has a profile to correct")
    _population_year_not_ahead(c.population_year, now)
    # Only what differs is recorded: a field given as it already stands changes nothing.
    changes = {
        f: getattr(c, f)
        for f in cmd.PROFILE_FIELDS
        if getattr(c, f) is not None and getattr(c, f) != getattr(state, f)
    }
    if not changes:
        raise _reject(state, "the profile already says so: nothing to correct")
    return [ev.CityProfileCorrected(**changes, reason=c.reason, corrected_by=c.corrected_by)]


def _import_past(
    state: CityState, c: cmd.ImportPastCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """History, recorded on the operator's word alone. A current import needs a committee
    member's countersignature because it makes the city certified (a badge, a validity, reminders,
    an announcement); an expired one grants none of that: the city stays as it is, and the record
    only tells its next cycle what to compare its outcome with (re-certified, moved up, moved
    down), while the committee still decides that cycle's level from its evidence."""
    if state.phase is Phase.UNREGISTERED:
        raise _reject(state, "register the city before importing its past certifications")
    standard = _standard(c.standard_version)
    if c.valid_until > now:
        raise _reject(
            state,
            "the certification is valid until {valid_until}: not yet history; "
            "propose it as a current certification instead (ProposeImport)",
            valid_until=c.valid_until,
        )
    same = [
        past
        for past in state.past_certifications
        if (past.level, past.cohort, past.valid_from, past.valid_until)
        == (c.level, c.cohort, c.valid_from, c.valid_until)
    ]
    if same:
        raise _reject(
            state,
            "this {level} certification of {cohort} is already among its past ones",
            level=c.level,
            cohort=c.cohort,
        )
    return [
        ev.PastCertificationImported(
            level=c.level,
            cohort=c.cohort,
            standard_version=standard.version,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            imported_by=c.imported_by,
        )
    ]


def _snapshot(
    state: CityState, c: cmd.TakeDataSnapshot, now: datetime, p: ProgrammePolicy, rules: int
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.REGISTERED, Phase.CERTIFIED)
    _within_daily_snapshots(state, now, p)
    standard = _standard(c.standard_version, _revision_for(rules))
    _known_criteria(standard, list(c.answers))
    # Only "met" counts towards the indicative level; "partly" goes on the roadmap with the rest.
    result = standard.score(cid for cid, a in c.answers.items() if a is ev.Answer.MET)
    roadmap = [crit.id for crit in standard.criteria if crit.id not in result.earned]
    # Why a roadmap criterion cannot earn its point yet; snapshots taken under the first rules
    # recorded none, and replay as they were.
    blocked_by = standard.blocked_by(result.earned) if rules >= PROGRAMME_REVIEW else {}
    return [
        ev.DataSnapshotTaken(
            standard_version=standard.version,
            answers=dict(c.answers),
            points=result.points,
            score=result.score,
            indicative_level=result.level,
            roadmap=roadmap,
            taken_at=now,
            standard_revision=standard.revision,
            blocked_by=blocked_by,
        )
    ]


def _within_daily_snapshots(state: CityState, now: datetime, p: ProgrammePolicy) -> None:
    """Refuse a snapshot beyond the policy's number in the last 24 hours, saying when the next is
    allowed: the oldest of those taken in the window leaves it a day after it was taken."""
    recent = [t for t in state.snapshots_taken_at if t > now - _DAY]
    if len(recent) >= p.snapshots_per_day:
        raise TooFrequent(
            "{city} has taken {count} data snapshots in the last 24 hours, the most the programme allows",
            retry_at=recent[-p.snapshots_per_day] + _DAY,
            city=state.name or state.city_id,
            count=len(recent),
        )


# --- a cycle: application, evidence, review ----------------------------------------------------


def _apply(
    state: CityState, c: cmd.ApplyForCertification, now: datetime, p: ProgrammePolicy, rules: int
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.REGISTERED, Phase.CERTIFIED)
    standard = _standard(c.standard_version, _revision_for(rules))
    # Under the first rules any shipped standard was accepted on any day (recorded histories
    # applied under wwc-2018 long after it closed, and replay so).
    if rules >= PROGRAMME_REVIEW and not standard.is_open(now):
        open_now = open_versions(now)
        raise _reject(
            state,
            "{version} is not open for applications on {day} ({window}); open now: {open_now}",
            version=standard.version,
            day=now.date(),
            window=standard.open_for_applications.in_words(),
            open_now=open_now or Refusal("none"),
        )
    if rules >= ROUNDS:
        _round_open(state, c, now)
        _waited_after_not_certified(state, now, p)
    number = state.cycles_started + 1
    opened = {
        "cycle": number,
        "cohort": c.cohort,
        "standard_version": standard.version,
        "standard_revision": standard.revision,
        "rules": rules,
    }
    if state.certification is not None:
        return [ev.RecertificationStarted(**opened, previous_level=state.certification.level)]
    past = state.latest_past_certification
    if past is not None and rules >= PROGRAMME_REVIEW:
        # A city whose certifications before citycert were imported as history re-certifies: its
        # outcome compares with the latest of them.
        return [ev.RecertificationStarted(**opened, previous_level=past.level)]
    return [ev.ApplicationSubmitted(**opened)]


def _round_open(state: CityState, c: cmd.ApplyForCertification, now: datetime) -> None:
    """An application names a round the programme opened, within its application window (UTC days)."""
    given = c.round
    if given is None:
        raise _reject(
            state,
            "the programme has no round {round!r}: apply to one of its open rounds (GET /v1/rounds)",
            round=c.cohort,
        )
    if given.round_id != c.cohort:
        raise InvalidCommand(
            "the round given ({given}) is not the one applied to ({cohort})",
            given=given.round_id,
            cohort=c.cohort,
        )
    today = now.date()
    if today < given.opens_on:
        raise _reject(
            state, "round {round} opens for applications on {day}", round=c.cohort, day=given.opens_on
        )
    if today > given.closes_on:
        raise _reject(
            state, "round {round} closed for applications on {day}", round=c.cohort, day=given.closes_on
        )


def _waited_after_not_certified(state: CityState, now: datetime, p: ProgrammePolicy) -> None:
    if state.not_certified_at is None or p.reapply_wait <= timedelta(0):
        return
    may_apply = state.not_certified_at + p.reapply_wait
    if now < may_apply:
        raise _reject(
            state,
            "a city found not certified waits {days} days before applying again: "
            "{city_id} may apply from {day}",
            days=p.reapply_wait.days,
            city_id=state.city_id,
            day=may_apply.date(),
        )


def _submit(
    state: CityState, c: cmd.SubmitEvidence, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.EVIDENCE)
    cycle = _cycle(state)
    standard = _cycle_standard(cycle)
    _known_criteria(standard, [i.criterion_id for i in c.items])
    _worksheet_numbers(
        standard,
        [(i.criterion_id, i.claims, [d.slot for d in i.documents if d.slot is not None]) for i in c.items],
    )
    settled = sorted(
        i.criterion_id
        for i in c.items
        if i.criterion_id in cycle.items and cycle.items[i.criterion_id].status is not ItemStatus.REJECTED
    )
    if settled:
        raise _reject(
            state,
            "evidence for {ids} is already submitted and not rejected; "
            "answer a clarification request instead of resubmitting",
            ids=settled,
        )
    if cycle.rules >= PROGRAMME_REVIEW:
        _within_resubmissions_after_expiry(state, cycle, [i.criterion_id for i in c.items], p)
    due = now + p.reviewer_sla
    submitted: list[ev.DomainEvent] = [
        ev.EvidenceSubmitted(
            criterion_id=item.criterion_id,
            documents=[_evidence_document(d) for d in item.documents],
            narrative=item.narrative,
            review_due_at=due,
            submission=cycle.items[item.criterion_id].submission + 1
            if item.criterion_id in cycle.items
            else 1,
            claims=list(item.claims),
        )
        for item in c.items
    ]
    if cycle.rules < PROGRAMME_REVIEW:
        return submitted
    # A criterion submitted in a practice area that has its reviewer goes to them.
    after = _cycle(fold(state, submitted))
    standard = _cycle_standard(cycle)
    assigned: list[ev.DomainEvent] = [
        ev.ReviewerAssigned(criterion_id=item.criterion_id, reviewer_id=reviewer, due_at=due)
        for item in c.items
        if (reviewer := cycle.area_reviewers.get(standard.criterion(item.criterion_id).practice_area))
        and after.items[item.criterion_id].reviewer_id != reviewer
    ]
    return submitted + assigned


def _worksheet_numbers(standard: Standard, given: list[tuple[str, list[int], list[int]]]) -> None:
    """Refuse checklist item or document slot numbers a criterion does not have (422: no state of
    the city makes them exist), naming each."""
    problems = [
        problem
        for cid, checklist, slots in given
        for problem in unknown_number_refusals(standard.criterion(cid), checklist=checklist, slots=slots)
    ]
    if problems:
        raise InvalidCommand("{problems:;}", problems=problems)


def _within_resubmissions_after_expiry(
    state: CityState, cycle: Cycle, ids: list[str], p: ProgrammePolicy
) -> None:
    """A criterion whose clarification expired unanswered may come back only so many times."""
    over = sorted(
        cid
        for cid in ids
        if cid in cycle.items
        and cycle.items[cid].clarification_expired
        and cycle.items[cid].resubmitted_after_expiry >= p.resubmissions_after_expiry
    )
    if over:
        allowed = p.resubmissions_after_expiry
        times = (
            Refusal("no resubmission")
            if allowed == 0
            else Refusal("{count} resubmission", count=allowed)
            if allowed == 1
            else Refusal("{count} resubmissions", count=allowed)
        )
        raise _reject(
            state,
            "a clarification of {ids} expired unanswered, and the programme allows {times} "
            "of a criterion after that in a cycle; it stays rejected in this cycle",
            ids=over,
            times=times,
        )


def _evidence_document(given: cmd.DocumentLink | cmd.UploadedDocument) -> ev.Document:
    if isinstance(given, cmd.DocumentLink):
        return ev.Document(title=given.title, url=given.url, slot=given.slot)
    if given.sha256 is None or given.title is None:
        # The application layer fills these in from the city's upload before it signs the command.
        raise InvalidCommand(
            "document {document_id} is not one the city uploaded", document_id=given.document_id
        )
    return ev.Document(title=given.title, document_id=given.document_id, sha256=given.sha256, slot=given.slot)


def _close_submission(
    state: CityState, c: cmd.CloseEvidenceSubmission, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.EVIDENCE)
    cycle = _cycle(state)
    if not cycle.items:
        raise _reject(state, "no evidence has been submitted yet; submit at least one criterion first")
    closed = ev.EvidenceSubmissionClosed(submitted=sorted(cycle.items))
    return [closed, *_complete_review_if_done(state, [closed], p)]


def _assign(
    state: CityState, c: cmd.AssignReviewer, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWING)
    _no_conflict_of_interest(state, c.reviewer_id, c.reviewer_home_city)
    cycle = _cycle(state)
    _not_conflicted(state, cycle, c.reviewer_id, c.reviewer_conflicts)
    _known_criteria(_cycle_standard(cycle), c.criterion_ids)
    _items_in(state, cycle, c.criterion_ids, AWAITING_REVIEWER, Refusal("awaiting a reviewer"))
    _fresh_reviewer(state, cycle, c.reviewer_id, c.criterion_ids)
    due = now + p.reviewer_sla
    return [
        ev.ReviewerAssigned(criterion_id=cid, reviewer_id=c.reviewer_id, due_at=due)
        for cid in c.criterion_ids
    ]


def _no_conflict_of_interest(state: CityState, reviewer_id: str, home_city: str) -> None:
    if home_city == state.city_id:
        raise CommandRejected(
            "conflict of interest: reviewer {reviewer_id} is from {home_city} and may not review that city",
            reviewer_id=reviewer_id,
            home_city=home_city,
        )


def _not_conflicted(state: CityState, cycle: Cycle, reviewer_id: str, conflicts: list[str]) -> None:
    """A reviewer who declared a conflict with the city (on their record, or in this cycle) is
    never assigned to it."""
    if state.city_id in conflicts:
        raise CommandRejected(
            "conflict of interest: reviewer {reviewer_id} declared a conflict with {city_id} "
            "on their record and may not review it",
            reviewer_id=reviewer_id,
            city_id=state.city_id,
        )
    reason = cycle.conflicts_declared.get(reviewer_id)
    if reason is not None:
        raise CommandRejected(
            "conflict of interest: reviewer {reviewer_id} declared a conflict with {city_id} "
            "({conflict}) and may not review it",
            reviewer_id=reviewer_id,
            city_id=state.city_id,
            conflict=reason,
        )


def _fresh_reviewer(state: CityState, cycle: Cycle, reviewer_id: str, ids: list[str]) -> None:
    """An item an upheld appeal sent back is reviewed afresh: never by whoever decided it before."""
    seen = sorted(cid for cid in ids if reviewer_id in cycle.items[cid].earlier_reviewers)
    if seen:
        if len(seen) == 1:
            raise _reject(
                state,
                "{reviewer_id} decided {ids} before the appeal; a fresh reviewer must review it",
                reviewer_id=reviewer_id,
                ids=seen,
            )
        raise _reject(
            state,
            "{reviewer_id} decided {ids} before the appeal; a fresh reviewer must review them",
            reviewer_id=reviewer_id,
            ids=seen,
        )


def _items_in(
    state: CityState, cycle: Cycle, ids: list[str], statuses: frozenset[ItemStatus], what: Refusal
) -> None:
    missing = sorted(cid for cid in ids if cid not in cycle.items)
    if missing:
        raise _reject(state, "no evidence submitted for {ids}", ids=missing)
    wrong = [
        Refusal("{criterion_id} ({status})", criterion_id=cid, status=cycle.items[cid].status)
        for cid in sorted(cid for cid in ids if cycle.items[cid].status not in statuses)
    ]
    if wrong:
        raise _reject(state, "not {what}: {items}", what=what, items=wrong)


def _review(
    state: CityState, c: cmd.ReviewEvidence, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWING)
    _no_conflict_of_interest(state, c.reviewer_id, c.reviewer_home_city)
    cycle = _cycle(state)
    standard = _cycle_standard(cycle)
    ids = [i.criterion_id for i in c.items]
    _known_criteria(standard, ids)
    _worksheet_numbers(standard, [(i.criterion_id, i.checklist_met, []) for i in c.items])
    _items_in(state, cycle, ids, AWAITING_REVIEWER, Refusal("awaiting a reviewer's decision"))
    _fresh_reviewer(state, cycle, c.reviewer_id, ids)
    if cycle.rules >= PROGRAMME_REVIEW:
        # Who decides first, then what they found: a reviewer not assigned, or who has not
        # declared no conflict, hears that before anything about the evidence.
        _assigned_to(state, cycle, c.reviewer_id, ids)
        _declared_no_conflict(state, cycle, c.reviewer_id)
        _approvals_stand_on_their_worksheets(state, cycle, standard, c.items)
    out: list[ev.DomainEvent] = []
    for item in c.items:
        # Each decision names the submission it was made on: a resubmission is another one.
        seen = cycle.items[item.criterion_id].submission
        decided = {"criterion_id": item.criterion_id, "reviewer_id": c.reviewer_id, "submission": seen}
        if item.decision is cmd.Verdict.APPROVE:
            out.append(
                ev.EvidenceApproved(
                    **decided,
                    note=item.note,
                    checklist_met=sorted(item.checklist_met),
                    override=item.override.strip(),
                )
            )
        elif item.decision is cmd.Verdict.REJECT:
            out.append(ev.EvidenceRejected(**decided, note=item.note))
        else:
            out.append(
                ev.ClarificationRequested(
                    **decided, question=item.note, due_at=clarification_due(now, p, cycle.rules)
                )
            )
    return out + _complete_review_if_done(state, out, p)


def _reopen(
    state: CityState, c: cmd.ReopenReviewItem, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.EVIDENCE, Phase.REVIEW)
    cycle = _cycle(state)
    lead = cycle.lead_reviewer_id
    if lead is None:
        raise _reject(
            state, "no lead reviewer is assigned to this cycle, and only the lead may reopen an item"
        )
    if c.reopened_by != lead:
        raise _reject(
            state,
            "only the cycle's lead reviewer ({lead}) may reopen a decided item, not {reviewer_id}",
            lead=lead,
            reviewer_id=c.reopened_by,
        )
    _known_criteria(_cycle_standard(cycle), [c.criterion_id])
    decided = frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED})
    _items_in(state, cycle, [c.criterion_id], decided, Refusal("decided (approved or rejected)"))
    was = cycle.items[c.criterion_id].status
    return [
        ev.ReviewItemReopened(
            criterion_id=c.criterion_id,
            reopened_by=c.reopened_by,
            reason=c.reason,
            was=was.value,
            review_due_at=now + p.reviewer_sla,
        )
    ]


def _approvals_stand_on_their_worksheets(
    state: CityState, cycle: Cycle, standard: Standard, items: list[cmd.ReviewItem]
) -> None:
    """An approval needs the checklist's k of n found met and a document in every required slot of
    the submission decided on (its clarification answers' included), unless the reviewer says why
    it stands anyway (the override, recorded with it)."""
    problems = [
        problem
        for item in items
        if item.decision is cmd.Verdict.APPROVE and not item.override.strip()
        for problem in shortfall_refusals(
            standard.criterion(item.criterion_id),
            item.checklist_met,
            cycle.items[item.criterion_id].filled_slots,
        )
    ]
    if problems:
        raise _reject(
            state,
            "an approval needs its worksheet complete: {problems:;} (give an override reason to approve all "
            "the same)",
            problems=problems,
        )


def _declared_no_conflict(state: CityState, cycle: Cycle, reviewer_id: str) -> None:
    if reviewer_id not in cycle.no_conflict_declared:
        raise _reject(
            state,
            "reviewer {reviewer_id} has not declared that they have no conflict of interest with "
            "{city_id}; they declare it (DeclareNoConflict) before seeing its evidence",
            reviewer_id=reviewer_id,
            city_id=state.city_id,
        )


def _assigned_to(state: CityState, cycle: Cycle, reviewer_id: str, ids: list[str]) -> None:
    """Only an item's assigned reviewer, or the cycle's lead reviewer, decides it."""
    if reviewer_id == cycle.lead_reviewer_id:
        return
    unassigned = sorted(cid for cid in ids if cycle.items[cid].reviewer_id is None)
    # Sorted as the English words were (a criterion's id leads them).
    assigned = sorted(
        (cid, who) for cid in ids if (who := cycle.items[cid].reviewer_id) is not None and who != reviewer_id
    )
    others = [
        Refusal("{criterion_id} is assigned to {reviewer_id}", criterion_id=cid, reviewer_id=who)
        for cid, who in assigned
    ]
    problems: list[Refusal] = list(others)
    if unassigned:
        problems.append(Refusal("{ids} wait for a reviewer to be assigned", ids=unassigned))
    if problems:
        if cycle.lead_reviewer_id:
            raise _reject(
                state,
                "only an item's assigned reviewer or the cycle's lead reviewer (lead reviewer: {lead}) "
                "decides it, not {reviewer_id}: {problems:;}",
                lead=cycle.lead_reviewer_id,
                reviewer_id=reviewer_id,
                problems=problems,
            )
        raise _reject(
            state,
            "only an item's assigned reviewer or the cycle's lead reviewer decides it, not {reviewer_id}: "
            "{problems:;}",
            reviewer_id=reviewer_id,
            problems=problems,
        )


def _answer(
    state: CityState, c: cmd.AnswerClarifications, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWING)
    cycle = _cycle(state)
    ids = [i.criterion_id for i in c.items]
    standard = _cycle_standard(cycle)
    _known_criteria(standard, ids)
    _worksheet_numbers(
        standard, [(i.criterion_id, [], [d.slot for d in i.documents if d.slot is not None]) for i in c.items]
    )
    _items_in(
        state,
        cycle,
        ids,
        frozenset({ItemStatus.CLARIFICATION_REQUESTED}),
        Refusal("waiting for a clarification"),
    )
    late = sorted(
        cid for cid in ids if (due := cycle.items[cid].clarification_due_at) is not None and now >= due
    )
    if late:
        raise _reject(state, "the clarification deadline has passed for {ids}", ids=late)
    return [
        ev.ClarificationAnswered(
            criterion_id=i.criterion_id,
            answer=i.answer,
            review_due_at=now + p.reviewer_sla,
            documents=[_evidence_document(d) for d in i.documents],
        )
        for i in c.items
    ]


def _expire(
    state: CityState, c: cmd.ExpireClarifications, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWING)
    out: list[ev.DomainEvent] = [
        ev.ClarificationExpired(criterion_id=item.criterion_id, was_due_at=item.clarification_due_at)
        for item in _cycle(state).items.values()
        if item.status is ItemStatus.CLARIFICATION_REQUESTED
        and item.clarification_due_at is not None
        and now >= item.clarification_due_at
    ]
    if not out:
        raise _reject(state, "no clarification is overdue")
    return out + _complete_review_if_done(state, out, p)


def _warn(state: CityState, c: cmd.WarnOfDueDates, now: datetime, p: ProgrammePolicy) -> list[ev.DomainEvent]:
    # Any phase: a phase clock's end is told near too (due_date_warnings says which are due).
    out = [event for at, event in due_date_warnings(state, p) if at <= now]
    if not out:
        raise _reject(state, "no due date is near")
    return out


def _escalate(
    state: CityState, c: cmd.EscalateOverdueReviews, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWING)
    cycle = _cycle(state)
    # Under the programme's review rules an undecided item is escalated again each time the
    # reviewer SLA passes again; under the first rules once ever.
    again = now + p.reviewer_sla if cycle.rules >= PROGRAMME_REVIEW else None
    out: list[ev.DomainEvent] = [
        ev.ReviewEscalated(
            criterion_id=item.criterion_id,
            reviewer_id=item.reviewer_id or None,
            was_due_at=item.review_due_at,
            next_due_at=again,
        )
        for item in cycle.items.values()
        if item.status in AWAITING_REVIEWER
        and not item.escalated
        and item.review_due_at is not None
        and now >= item.review_due_at
    ]
    if not out:
        raise _reject(state, "no review is overdue")
    return out


def _escalate_missed(
    state: CityState, c: cmd.EscalateMissedDeadlines, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    out = [event for at, event in missed_deadlines(state) if at <= now]
    if not out:
        raise _reject(state, "no phase deadline has passed")
    return out


def _extend_deadline(
    state: CityState, c: cmd.ExtendDeadline, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.EVIDENCE, Phase.REVIEW, Phase.SITE_VISIT, Phase.COMMITTEE)
    if c.extended_by is None:
        # The application layer fills it in from the actor before it signs the command.
        raise InvalidCommand("ExtendDeadline names who extends it (extended_by)")
    cycle = _cycle(state)
    reviewer_id: str | None = None
    if c.criterion_id is not None:
        _known_criteria(_cycle_standard(cycle), [c.criterion_id])
        item = cycle.items.get(c.criterion_id)
        if c.deadline is ev.Deadline.REVIEW:
            current = item.review_due_at if item and item.status in AWAITING_REVIEWER else None
            reviewer_id = item.reviewer_id if item else None
        else:
            waiting = item and item.status is ItemStatus.CLARIFICATION_REQUESTED
            current = item.clarification_due_at if waiting and item else None
        what = Refusal(
            "the {deadline} deadline of {criterion_id}", deadline=c.deadline, criterion_id=c.criterion_id
        )
    else:
        clock = running_clocks(state).get(c.deadline)
        current = clock.due_at if clock else None
        what = Refusal("the {deadline} deadline", deadline=c.deadline)
    if current is None:
        raise _reject(state, "{what} is not running, so there is nothing to extend", what=what)
    if c.due_at <= now:
        raise _reject(state, "the new date {due_at} is in the past; give a later one", due_at=c.due_at)
    if c.due_at <= current:
        raise _reject(
            state,
            "an extension moves {what} later: it is due at {current}, and {due_at} is not after that",
            what=what,
            current=current,
            due_at=c.due_at,
        )
    return [
        ev.DeadlineExtended(
            deadline=c.deadline,
            criterion_id=c.criterion_id,
            was_due_at=current,
            due_at=c.due_at,
            reason=c.reason,
            extended_by=c.extended_by,
            reviewer_id=reviewer_id,
        )
    ]


def _complete_review_if_done(
    state: CityState, new: list[ev.DomainEvent], p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """Once submission is closed and no item is open, the review completes by itself. A fresh
    review after an upheld appeal completes the same way, into a new recommendation: the score
    recomputed with its decisions, the level it reaches the cap of the committee's next decision."""
    after = fold(state, new)
    cycle = _cycle(after)
    if after.phase is Phase.APPEAL_REVIEW:
        return [] if cycle.open_items else [_recommend(after, p)]
    if not cycle.submission_closed or cycle.open_items:
        return []
    result = _cycle_standard(cycle).score(cycle.approved)
    return [
        ev.EvidenceReviewCompleted(approved=sorted(cycle.approved), points=result.points, score=result.score)
    ]


# --- site visit, recommendation, committee, appeal ----------------------------------------------


def _schedule_visit(
    state: CityState, c: cmd.ScheduleSiteVisit, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.SITE_VISIT)
    if c.visit_date < now.date():
        raise _reject(state, "visit date {day} is in the past", day=c.visit_date)
    cycle = _cycle(state)
    if cycle.rules >= PROGRAMME_REVIEW and cycle.site_visit == "scheduled":
        raise _reject(
            state,
            "a visit is already scheduled for {day}; reschedule it, saying why",
            day=cycle.visit_date,
        )
    return [ev.SiteVisitScheduled(visit_date=c.visit_date)]


def _reschedule_visit(
    state: CityState, c: cmd.RescheduleSiteVisit, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.SITE_VISIT)
    cycle = _cycle(state)
    if cycle.site_visit != "scheduled" or cycle.visit_date is None:
        raise _reject(state, "no site visit is scheduled; schedule one first")
    if c.visit_date < now.date():
        raise _reject(state, "visit date {day} is in the past", day=c.visit_date)
    if c.visit_date == cycle.visit_date:
        raise _reject(state, "the visit is already scheduled for {day}", day=c.visit_date)
    return [ev.SiteVisitRescheduled(previous_date=cycle.visit_date, visit_date=c.visit_date, reason=c.reason)]


def _complete_visit(
    state: CityState, c: cmd.CompleteSiteVisit, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.SITE_VISIT)
    cycle = _cycle(state)
    if cycle.rules < PROGRAMME_REVIEW:
        return _complete_visit_first_rules(state, c, now, p)
    held_on = _visit_held_on(state, cycle, c, now)
    findings = [
        *(ev.CriterionFinding(criterion_id=cid, finding=ev.SiteFinding.OVERTURN) for cid in c.overturned),
        *(
            ev.CriterionFinding(criterion_id=f.criterion_id, finding=f.finding, note=f.note)
            for f in c.criterion_findings
        ),
    ]
    _known_criteria(_cycle_standard(cycle), [f.criterion_id for f in findings])
    _findings_fit_decisions(state, cycle, findings)
    completed = ev.SiteVisitCompleted(
        findings=c.findings,
        overturned=[f.criterion_id for f in findings if f.finding is ev.SiteFinding.OVERTURN],
        visit_date=held_on,
        criterion_findings=findings,
    )
    return [completed, _recommend(fold(state, [completed]), p)]


def _visit_held_on(state: CityState, cycle: Cycle, c: cmd.CompleteSiteVisit, now: datetime) -> date:
    """The day the visit took place: the one given (a visit held without being scheduled here
    first, never in the future), else the day it was scheduled for, once it has come."""
    if c.visit_date is not None:
        if c.visit_date > now.date():
            raise _reject(
                state, "visit date {day} is in the future; schedule the visit instead", day=c.visit_date
            )
        return c.visit_date
    if cycle.site_visit != "scheduled" or cycle.visit_date is None:
        raise _reject(
            state, "no site visit is scheduled; give the date it took place, schedule one or waive it"
        )
    if now.date() < cycle.visit_date:
        raise _reject(
            state,
            "the site visit is scheduled for {day}; it cannot be completed before",
            day=cycle.visit_date,
        )
    return cycle.visit_date


# What each finding may be said of: the decision the review recorded.
_FINDING_FITS = {
    ev.SiteFinding.CONFIRM: (frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED}), Refusal("decided")),
    ev.SiteFinding.OVERTURN: (frozenset({ItemStatus.APPROVED}), Refusal("approved")),
    ev.SiteFinding.CLEAR: (frozenset({ItemStatus.REJECTED}), Refusal("rejected")),
}


def _findings_fit_decisions(state: CityState, cycle: Cycle, findings: list[ev.CriterionFinding]) -> None:
    for finding, (statuses, what) in _FINDING_FITS.items():
        wrong = sorted(
            f.criterion_id
            for f in findings
            if f.finding is finding
            and (f.criterion_id not in cycle.items or cycle.items[f.criterion_id].status not in statuses)
        )
        if wrong:
            raise _reject(
                state,
                "a visit can only {finding} {what} criteria; not {what}: {ids}",
                finding=finding,
                what=what,
                ids=wrong,
            )


def _complete_visit_first_rules(
    state: CityState, c: cmd.CompleteSiteVisit, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """A visit as the first rules recorded it: once scheduled, with the approvals it overturned."""
    cycle = _cycle(state)
    if c.visit_date is not None or c.criterion_findings:
        raise _reject(
            state,
            "this cycle runs under the first rules: a visit is completed once scheduled, naming "
            "the approvals it overturned (no date, no findings per criterion)",
        )
    if cycle.site_visit != "scheduled":
        raise _reject(state, "no site visit is scheduled; schedule one or waive it")
    if cycle.visit_date is not None and now.date() < cycle.visit_date:
        raise _reject(
            state,
            "the site visit is scheduled for {day}; it cannot be completed before",
            day=cycle.visit_date,
        )
    _known_criteria(_cycle_standard(cycle), c.overturned)
    not_approved = sorted(cid for cid in c.overturned if cid not in cycle.approved)
    if not_approved:
        raise _reject(
            state, "a visit can only overturn approved criteria; not approved: {ids}", ids=not_approved
        )
    completed = ev.SiteVisitCompleted(findings=c.findings, overturned=list(c.overturned))
    return [completed, _recommend(fold(state, [completed]), p)]


def _waive_visit(
    state: CityState, c: cmd.WaiveSiteVisit, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.SITE_VISIT)
    waived = ev.SiteVisitWaived(reason=c.reason, approved_by=c.approved_by)
    return [waived, _recommend(fold(state, [waived]), p)]


def _recommend(state: CityState, p: ProgrammePolicy) -> ev.LevelRecommended:
    cycle = _cycle(state)
    standard = _cycle_standard(cycle)
    result = standard.score(cycle.approved)
    if cycle.rules >= ROUNDS:
        # Whether the city is suggested for the Honor Roll should it not be certified, by the one
        # rule the committee's views use (domain/honor_roll.py), whatever level is recommended.
        honor_roll = suggested_for_honor_roll(standard, result.points, p.honor_roll_margin)
    else:
        honor_roll = result.level is None and result.score >= standard.silver_threshold - p.honor_roll_margin
    return ev.LevelRecommended(
        points=result.points,
        possible=result.possible,
        score=result.score,
        level=result.level,
        honor_roll=honor_roll,
    )


def _decide_level(
    state: CityState, c: cmd.DecideLevel, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.COMMITTEE)
    cycle = _cycle(state)
    rec = cycle.recommendation
    assert rec is not None
    if cycle.rules >= PROGRAMME_REVIEW:
        _signed_off_if_needed(state, cycle, rec.level, p)
    # After an upheld appeal's fresh review, this decision on the new recommendation is final: no
    # second appeal window (the appeal was the city's say), so it takes effect at once (our choice).
    final = cycle.appeal_reviewed
    deadline = now if final else now + p.appeal_window
    decision: ev.DomainEvent
    if c.level is None:
        decision = ev.CityNotCertified(
            honor_roll=rec.honor_roll, rationale=c.rationale, appeal_deadline=deadline, final=final
        )
    else:
        _not_above_recommendation(state, c.level, rec.level)
        decision = ev.LevelDecided(
            level=c.level, rationale=c.rationale, appeal_deadline=deadline, final=final
        )
    if final:
        return [decision, *_end_cycle(fold(state, [decision]), now, p)]
    return [decision]


def _signed_off_if_needed(state: CityState, cycle: Cycle, level: Level | None, p: ProgrammePolicy) -> None:
    if level is None or level not in p.lead_signoff_levels or cycle.signed_off_by is not None:
        return
    if cycle.lead_reviewer_id is None:
        todo = Refusal(
            "assign the cycle a lead reviewer (AssignLeadReviewer), who signs it off (SignOffReview)"
        )
    else:
        todo = Refusal(
            "the lead reviewer {reviewer_id} signs it off first (SignOffReview)",
            reviewer_id=cycle.lead_reviewer_id,
        )
    raise _reject(
        state,
        "a {level} recommendation needs the lead reviewer's sign-off before the committee decides: {todo}",
        level=level,
        todo=todo,
    )


def _not_above_recommendation(state: CityState, level: Level, recommended: Level | None) -> None:
    if rank(level) > rank(recommended):
        raise _reject(
            state,
            "{level} is above the recommended level ({recommended})",
            level=level,
            recommended=_shown(recommended),
        )


def _file_appeal(
    state: CityState, c: cmd.FileAppeal, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.APPEAL_WINDOW)
    cycle = _cycle(state)
    deadline = cycle.appeal_deadline
    assert deadline is not None
    if now >= deadline:
        raise _reject(state, "the appeal window closed at {deadline}", deadline=deadline)
    if cycle.rules < PROGRAMME_REVIEW:
        if c.criteria or c.evidence:
            raise _reject(
                state,
                "this cycle runs under the first rules, where an appeal contests the committee's "
                "decision, not criteria: give the grounds alone",
            )
        return [ev.AppealFiled(grounds=c.grounds)]
    rec = cycle.recommendation
    assert rec is not None
    if not c.criteria:
        if rank(cycle.decided_level) >= rank(rec.level):
            raise _reject(
                state,
                "the committee decided {level}, the recommended level: an appeal "
                "against the decision alone could change nothing; name the criteria you contest",
                level=_shown(cycle.decided_level),
            )
        return [ev.AppealFiled(grounds=c.grounds)]
    _contestable(state, cycle, c)
    return [
        ev.AppealFiled(
            grounds=c.grounds,
            criteria=list(c.criteria),
            evidence=[
                ev.AppealEvidence(
                    criterion_id=item.criterion_id,
                    documents=[_evidence_document(d) for d in item.documents],
                    narrative=item.narrative,
                )
                for item in c.evidence
            ],
        )
    ]


def _shown(level: Level | None) -> Label:
    """A level as a refusal names it; no level is "not certified" (a level's label of its own)."""
    return Label.of(level) if level else Label("Level", "not certified")


def _contestable(state: CityState, cycle: Cycle, c: cmd.FileAppeal) -> None:
    """Refuse an appeal whose criteria could change nothing, saying why: one approved already, one
    never submitted (unless the city was not certified and the appeal brings its evidence), or a
    set that, all approved, would still not lift the level above the one decided."""
    standard = _cycle_standard(cycle)
    _known_criteria(standard, c.criteria)
    approved = [cid for cid in c.criteria if cid in cycle.approved]
    if approved:
        if len(approved) == 1:
            raise _reject(
                state,
                "{ids} is approved already: an appeal contests criteria that were rejected or overturned",
                ids=approved,
            )
        raise _reject(
            state,
            "{ids} are approved already: an appeal contests criteria that were rejected or overturned",
            ids=approved,
        )
    never = [cid for cid in c.criteria if cid not in cycle.items]
    if never and cycle.decided_level is not None:
        raise _reject(
            state,
            "no evidence for {ids} was submitted in this cycle: an appeal against a level "
            "contests rejected criteria or ones the site visit overturned",
            ids=never,
        )
    brought = {item.criterion_id for item in c.evidence}
    bare = [cid for cid in never if cid not in brought]
    if bare:
        raise _reject(state, "no evidence for {ids} was ever submitted: add it to the appeal", ids=bare)
    best = standard.score([*cycle.approved, *c.criteria])
    if rank(best.level) <= rank(cycle.decided_level):
        raise _reject(
            state,
            "even with every contested criterion approved the city would score {points} of "
            "{possible} ({score:.0%}), {level}: not above the level decided "
            "({decided}), so the appeal could change nothing",
            points=best.points,
            possible=best.possible,
            score=best.score,
            level=_shown(best.level),
            decided=_shown(cycle.decided_level),
        )


def _decide_appeal(
    state: CityState, c: cmd.DecideAppeal, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.APPEAL)
    cycle = _cycle(state)
    rec = cycle.recommendation
    assert rec is not None
    if c.upheld and cycle.appeal_criteria:  # only ever under the programme's review rules
        return _send_to_fresh_review(state, cycle, c, now, p)
    if c.upheld:
        if c.level is None or rank(c.level) <= rank(cycle.decided_level):
            raise _reject(
                state, "an upheld appeal grants a level above the committee's decision; give that level"
            )
        _not_above_recommendation(state, c.level, rec.level)
        final: Level | None = c.level
    else:
        if c.level is not None:
            raise _reject(state, "a dismissed appeal keeps the committee's decision; give no level")
        final = cycle.decided_level
    decided = ev.AppealDecided(upheld=c.upheld, level=final, rationale=c.rationale)
    return [decided, *_end_cycle(fold(state, [decided]), now, p)]


def _send_to_fresh_review(
    state: CityState, cycle: Cycle, c: cmd.DecideAppeal, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """An upheld appeal against criteria: they await a fresh reviewer (never the one who decided
    them), with the appeal's evidence as their next submission; once they are decided the score is
    recomputed into a new recommendation, on which the committee decides once more, finally."""
    if c.level is not None:
        raise _reject(
            state,
            "an upheld appeal against criteria sends them to a fresh reviewer, and the committee "
            "decides again on the new recommendation: give no level",
        )
    due = now + p.reviewer_sla
    decided = ev.AppealDecided(
        upheld=True,
        level=None,
        rationale=c.rationale,
        review_again=list(cycle.appeal_criteria),
        review_due_at=due,
    )
    resubmitted = [
        ev.EvidenceSubmitted(
            criterion_id=e.criterion_id,
            documents=e.documents,
            narrative=e.narrative,
            review_due_at=due,
            submission=cycle.items[e.criterion_id].submission + 1 if e.criterion_id in cycle.items else 1,
        )
        for e in cycle.appeal_evidence
    ]
    return [decided, *resubmitted]


def _close_appeal_window(
    state: CityState, c: cmd.CloseAppealWindow, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.APPEAL_WINDOW)
    deadline = _cycle(state).appeal_deadline
    assert deadline is not None
    if now < deadline:
        raise _reject(state, "the appeal window is open until {deadline}", deadline=deadline)
    # The decision takes effect when the window closed, not when the timer happened to run.
    at = deadline if _cycle(state).rules >= ROUNDS else now
    return _end_cycle(state, at, p)


def _accept_decision(
    state: CityState, c: cmd.AcceptDecision, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """Accepting gives up the appeal: the decision takes effect now, as when the window closes."""
    _require_phase(state, c, Phase.APPEAL_WINDOW)
    deadline = _cycle(state).appeal_deadline
    assert deadline is not None
    return [ev.DecisionAccepted(appeal_deadline=deadline), *_end_cycle(state, now, p)]


def _end_cycle(state: CityState, at: datetime, p: ProgrammePolicy) -> list[ev.DomainEvent]:
    """The cycle's decision taking effect at `at` (the award moment: the appeal window's close, the
    acceptance, or the final decision)."""
    cycle = _cycle(state)
    if cycle.rules < ROUNDS:
        return [_end_cycle_before_rounds(state, cycle, at, p)]
    # One rule for every outcome: the decision takes effect at its award, and a certification
    # still held (a re-certification's) ends there, superseded, whatever the decision is.
    held = state.certification
    ended: list[ev.DomainEvent] = []
    if held is not None:
        ended.append(
            ev.CertificationEnded(
                certificate_number=held.number,
                level=held.level,
                reason=ev.EndReason.SUPERSEDED,
                ended_at=at,
                detail=f"superseded by the decision of cycle {cycle.number}",
            )
        )
    if cycle.decided_level is None:
        honor_roll = cycle.recommendation.honor_roll if cycle.recommendation else False
        return [*ended, ev.CertificationCycleClosed(cycle=cycle.number, honor_roll=honor_roll, closed_at=at)]
    # Moved up, sustained or down against what the city held at the award: a certification that
    # lapsed or was revoked during the re-certification is not there to be sustained.
    previous = (
        held.level if held is not None else (None if cycle.certification_ended else cycle.previous_level)
    )
    return [
        *ended,
        ev.CertificationAwarded(
            cycle=cycle.number,
            level=cycle.decided_level,
            cohort=cycle.cohort,
            standard_version=cycle.standard_version,
            valid_from=at,
            valid_until=add_years(at, p.validity_years),
            previous_level=previous,
            outcome=outcome(previous, cycle.decided_level),
            certificate_number=certificate_number(state.city_id, at, cycle.number),
        ),
    ]


def _end_cycle_before_rounds(
    state: CityState, cycle: Cycle, now: datetime, p: ProgrammePolicy
) -> ev.DomainEvent:
    """As cycles before the ROUNDS rules ended, and their recorded histories replay."""
    if cycle.decided_level is None:
        honor_roll = cycle.recommendation.honor_roll if cycle.recommendation else False
        return ev.CertificationCycleClosed(cycle=cycle.number, honor_roll=honor_roll)
    return ev.CertificationAwarded(
        cycle=cycle.number,
        level=cycle.decided_level,
        cohort=cycle.cohort,
        standard_version=cycle.standard_version,
        valid_from=now,
        valid_until=now + p.validity_in_days,
        previous_level=cycle.previous_level,
        outcome=outcome(cycle.previous_level, cycle.decided_level),
    )


# --- certification's life -----------------------------------------------------------------------


def _send_reminder(
    state: CityState, c: cmd.SendReminder, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    cert = state.certification
    if cert is None or state.phase is Phase.WITHDRAWN:
        raise _reject(state, "holds no certification to remind about")
    if c.threshold_days not in p.reminder_days:
        raise CommandRejected(
            "{days} days is not a reminder threshold (thresholds: {thresholds})",
            days=c.threshold_days,
            thresholds=list(p.reminder_days),
        )
    if cert.suspended and cert.rules >= SUSPENSIONS:
        raise _reject(
            state,
            "the certification is suspended ({because}): no re-certification reminder is sent "
            "while it is; reinstated, it gets the reminders still due",
            because=cert.suspended_because,
        )
    if c.threshold_days in cert.reminders_sent:
        raise _reject(
            state, "the {days}-day reminder was already sent for this certification", days=c.threshold_days
        )
    if not cert.valid_until - timedelta(days=c.threshold_days) <= now < cert.valid_until:
        raise _reject(
            state,
            "the {days}-day reminder is not due (certification valid until {valid_until})",
            days=c.threshold_days,
            valid_until=cert.valid_until,
        )
    return [ev.ReminderSent(threshold_days=c.threshold_days, valid_until=cert.valid_until)]


def _lapse(
    state: CityState, c: cmd.LapseCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    cert = state.certification
    if cert is None or state.phase is Phase.WITHDRAWN:
        raise _reject(state, "holds no certification that could lapse")
    if now < cert.valid_until:
        raise _reject(state, "the certification is valid until {valid_until}", valid_until=cert.valid_until)
    # A suspended certificate lapses at its end date too: a suspension holds it, never lengthens it.
    if cert.rules >= ROUNDS:
        return [_ended(state, ev.EndReason.LAPSED, cert.valid_until)]
    return [ev.CertificationLapsed(level=cert.level, valid_until=cert.valid_until)]


def _ended(
    state: CityState, reason: ev.EndReason, at: datetime, detail: str = "", by: str | None = None
) -> ev.CertificationEnded:
    cert = state.certification
    assert cert is not None
    return ev.CertificationEnded(
        certificate_number=cert.number,
        level=cert.level,
        reason=reason,
        ended_at=at,
        detail=detail,
        ended_by=by,
    )


def _held(state: CityState, c: cmd.Command) -> Certification:
    """The certification the city holds, for a command that acts on it; refused when there is none."""
    if state.certification is None:
        raise _reject(
            state,
            "{command} needs a certification held, and {city_id} holds none",
            command=Label("Command", c.command_name()),
            city_id=state.city_id,
        )
    return state.certification


def _suspend(
    state: CityState, c: cmd.SuspendCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    cert = _held(state, c)
    if cert.suspended:
        raise _reject(
            state, "the certification is already suspended: {because}", because=cert.suspended_because
        )
    return [
        ev.CertificationSuspended(
            certificate_number=cert.number, reason=c.reason, suspended_by=c.suspended_by, suspended_at=now
        )
    ]


def _reinstate(
    state: CityState, c: cmd.ReinstateCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    cert = _held(state, c)
    if not cert.suspended:
        raise _reject(state, "the certification is not suspended: there is nothing to reinstate")
    return [
        ev.CertificationReinstated(
            certificate_number=cert.number, reason=c.reason, reinstated_by=c.reinstated_by, reinstated_at=now
        )
    ]


def _revoke(
    state: CityState, c: cmd.RevokeCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _held(state, c)
    return [_ended(state, ev.EndReason.REVOKED, now, detail=c.reason, by=c.revoked_by)]


def _rejoin(
    state: CityState, c: cmd.RejoinProgramme, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.WITHDRAWN)
    return [ev.CityRejoined(reason=c.reason, rejoined_by=c.rejoined_by)]


def _withdraw(state: CityState, c: cmd.Withdraw, now: datetime, p: ProgrammePolicy) -> list[ev.DomainEvent]:
    if state.phase in (Phase.UNREGISTERED, Phase.WITHDRAWN):
        raise _reject(state, "only a registered city can withdraw")
    cert = state.certification
    if cert is not None and cert.rules >= ROUNDS:
        return [
            _ended(state, ev.EndReason.WITHDRAWN, now, detail=c.reason),
            ev.CityWithdrawn(reason=c.reason),
        ]
    return [ev.CityWithdrawn(reason=c.reason)]


def _import(
    state: CityState, c: cmd.ImportCertification, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    # The retired command, as it decided when it was given: nobody may give it now
    # (domain/authority.py), and recorded histories replay through this unchanged.
    _require_phase(state, c, Phase.REGISTERED)
    standard = _standard(c.standard_version)
    if c.valid_until <= now:
        raise CommandRejected("the certification to import expired at {moment}", moment=c.valid_until)
    return [
        ev.CertificationImported(
            level=c.level,
            cohort=c.cohort,
            standard_version=standard.version,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
        )
    ]


def _start_words(moment: datetime) -> date | datetime:
    """A period's start as people gave it: a day when it is a day's start in UTC (the API takes
    an import's days as dates), else the moment."""
    utc = moment.astimezone(UTC)
    return utc.date() if utc.time() == time(0) else moment


def _end_words(moment: datetime) -> Refusal | datetime:
    """A period's (exclusive) end as people gave it: the end of its last day when it falls at
    midnight UTC, so a last day sent as 2027-05-31 reads back as that day, not the next."""
    utc = moment.astimezone(UTC)
    if utc.time() == time(0):
        return Refusal("the end of {day} (UTC)", day=(utc - timedelta(days=1)).date())
    return moment


def _importable_period(
    valid_from: datetime, valid_until: datetime, now: datetime, p: ProgrammePolicy
) -> None:
    """An imported certification is one the programme could have awarded: it started by now, lasts
    at most the programme's validity from its award, and has not expired."""
    if valid_from > now:
        raise InvalidCommand(
            "an imported certification starts when it was awarded, not in the future: "
            "valid_from {valid_from} is after now ({now})",
            valid_from=_start_words(valid_from),
            now=now,
        )
    latest = add_years(valid_from, p.validity_years)
    if valid_until > latest:
        raise InvalidCommand(
            "an imported certification is valid at most the programme's validity ({years} years) "
            "from its award: awarded {valid_from}, so valid_until at the latest "
            "{latest}, not {valid_until}",
            years=p.validity_years,
            valid_from=_start_words(valid_from),
            latest=_end_words(latest),
            valid_until=_end_words(valid_until),
        )
    if valid_until <= now:
        raise CommandRejected(
            "the certification to import expired at {moment}", moment=_end_words(valid_until)
        )


def _propose_import(
    state: CityState, c: cmd.ProposeImport, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.REGISTERED)
    standard = _standard(c.standard_version)
    _importable_period(c.valid_from, c.valid_until, now, p)
    if c.migration_mode is not None:
        # The store's migration mode is on (the application layer read it and signed the command):
        # the operator's import is recorded at once, saying so.
        return [
            ev.CertificationImported(
                level=c.level,
                cohort=c.cohort,
                standard_version=standard.version,
                valid_from=c.valid_from,
                valid_until=c.valid_until,
                proposed_by=c.proposed_by,
                migration_mode=c.migration_mode,
            )
        ]
    return [
        ev.CertificationImportProposed(
            level=c.level,
            cohort=c.cohort,
            standard_version=standard.version,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            proposed_by=c.proposed_by,
        )
    ]


def _proposal(state: CityState) -> ImportProposal:
    assert state.import_proposal is not None, "import_proposed always carries its proposal"
    return state.import_proposal


def _countersign_import(
    state: CityState, c: cmd.CountersignImport, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.IMPORT_PROPOSED)
    proposal = _proposal(state)
    if c.countersigned_by == proposal.proposed_by:
        raise _reject(
            state,
            "{member} proposed this import and cannot countersign it: "
            "a committee member who did not propose it must",
            member=c.countersigned_by,
        )
    _importable_period(proposal.valid_from, proposal.valid_until, now, p)
    return [
        ev.CertificationImported(
            level=proposal.level,
            cohort=proposal.cohort,
            standard_version=proposal.standard_version,
            valid_from=proposal.valid_from,
            valid_until=proposal.valid_until,
            proposed_by=proposal.proposed_by,
            countersigned_by=c.countersigned_by,
            note=c.note,
        )
    ]


def _reject_import(
    state: CityState, c: cmd.RejectImport, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.IMPORT_PROPOSED)
    proposal = _proposal(state)
    return [
        ev.CertificationImportRejected(
            proposed_by=proposal.proposed_by, rejected_by=c.rejected_by, reason=c.reason
        )
    ]


def _upload_document(
    state: CityState, c: cmd.UploadDocument, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    if state.phase is Phase.UNREGISTERED:
        raise _reject(state, "only a registered city can upload documents")
    return [
        ev.DocumentUploaded(
            document_id=c.document_id, sha256=c.sha256, size=c.size, media_type=c.media_type, title=c.title
        )
    ]


# --- reviewers: practice areas, the lead, conflicts, sign-off ---------------------------------------


def _assign_area(
    state: CityState, c: cmd.AssignPracticeArea, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.EVIDENCE, Phase.REVIEW)
    _no_conflict_of_interest(state, c.reviewer_id, c.reviewer_home_city)
    cycle = _cycle(state)
    _not_conflicted(state, cycle, c.reviewer_id, c.reviewer_conflicts)
    standard = _cycle_standard(cycle)
    areas = [a.id for a in standard.practice_areas]
    if c.practice_area not in areas:
        raise InvalidCommand(
            "{area!r} is not a practice area of {version}; its areas: {areas}",
            area=c.practice_area,
            version=standard.version,
            areas=list(areas),
        )
    if cycle.area_reviewers.get(c.practice_area) == c.reviewer_id:
        raise _reject(
            state,
            "reviewer {reviewer_id} already takes {area}",
            reviewer_id=c.reviewer_id,
            area=c.practice_area,
        )
    due = now + p.reviewer_sla
    return [
        ev.PracticeAreaAssigned(practice_area=c.practice_area, reviewer_id=c.reviewer_id),
        *[
            ev.ReviewerAssigned(criterion_id=item.criterion_id, reviewer_id=c.reviewer_id, due_at=due)
            for item in cycle.items.values()
            if item.status in AWAITING_REVIEWER
            and item.reviewer_id != c.reviewer_id
            and standard.criterion(item.criterion_id).practice_area == c.practice_area
        ],
    ]


def _assign_lead(
    state: CityState, c: cmd.AssignLeadReviewer, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWERS_AT_WORK)
    _no_conflict_of_interest(state, c.reviewer_id, c.reviewer_home_city)
    cycle = _cycle(state)
    _not_conflicted(state, cycle, c.reviewer_id, c.reviewer_conflicts)
    if cycle.lead_reviewer_id == c.reviewer_id:
        raise _reject(state, "{reviewer_id} is already the cycle's lead reviewer", reviewer_id=c.reviewer_id)
    if cycle.signed_off_by is not None:
        raise _reject(
            state,
            "the lead reviewer {reviewer_id} has already signed off the review",
            reviewer_id=cycle.signed_off_by,
        )
    return [ev.LeadReviewerAssigned(reviewer_id=c.reviewer_id)]


def _declare_no_conflict(
    state: CityState, c: cmd.DeclareNoConflict, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWERS_AT_WORK)
    cycle = _cycle(state)
    reason = cycle.conflicts_declared.get(c.reviewer_id)
    if reason is not None:
        raise _reject(
            state,
            "reviewer {reviewer_id} declared a conflict with {city_id}: {conflict}",
            reviewer_id=c.reviewer_id,
            city_id=state.city_id,
            conflict=reason,
        )
    if c.reviewer_id in cycle.no_conflict_declared:
        raise _reject(
            state,
            "reviewer {reviewer_id} has already declared no conflict for this cycle",
            reviewer_id=c.reviewer_id,
        )
    return [ev.NoConflictDeclared(reviewer_id=c.reviewer_id)]


def _declare_conflict(
    state: CityState, c: cmd.DeclareConflict, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, *_REVIEWERS_AT_WORK)
    cycle = _cycle(state)
    if c.reviewer_id in cycle.conflicts_declared:
        raise _reject(
            state,
            "reviewer {reviewer_id} has already declared a conflict for this cycle",
            reviewer_id=c.reviewer_id,
        )
    if cycle.signed_off_by == c.reviewer_id:
        raise _reject(
            state,
            "reviewer {reviewer_id} signed off the review; the committee must hear of the conflict",
            reviewer_id=c.reviewer_id,
        )
    return [ev.ConflictDeclared(reviewer_id=c.reviewer_id, reason=c.reason)]


def _sign_off(
    state: CityState, c: cmd.SignOffReview, now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    _require_phase(state, c, Phase.COMMITTEE)
    cycle = _cycle(state)
    if cycle.lead_reviewer_id is None:
        raise _reject(state, "the cycle has no lead reviewer; an operator assigns one (AssignLeadReviewer)")
    if c.reviewer_id != cycle.lead_reviewer_id:
        raise _reject(
            state,
            "only the cycle's lead reviewer ({lead}) signs off the review, not {reviewer_id}",
            lead=cycle.lead_reviewer_id,
            reviewer_id=c.reviewer_id,
        )
    _declared_no_conflict(state, cycle, c.reviewer_id)
    if cycle.signed_off_by is not None:
        raise _reject(
            state, "the review was already signed off by {reviewer_id}", reviewer_id=cycle.signed_off_by
        )
    rec = cycle.recommendation
    assert rec is not None, "a city before the committee has its recommendation"
    return [ev.ReviewSignedOff(reviewer_id=c.reviewer_id, level=rec.level, note=c.note)]


_Handler = Callable[[CityState, Any, datetime, ProgrammePolicy], list[ev.DomainEvent]]

# The commands decided outside a cycle whose outcome depends on the rules in force (the rest of a
# cycle's commands read the rules it opened under from its state).
_RULED_HANDLERS: dict[type[cmd.Command], Callable[..., list[ev.DomainEvent]]] = {
    cmd.TakeDataSnapshot: _snapshot,
    cmd.ApplyForCertification: _apply,
}

_HANDLERS: dict[type[cmd.Command], _Handler] = {
    cmd.RegisterCity: _register,
    cmd.SubmitEvidence: _submit,
    cmd.CloseEvidenceSubmission: _close_submission,
    cmd.AssignReviewer: _assign,
    cmd.ReviewEvidence: _review,
    cmd.AnswerClarifications: _answer,
    cmd.ExpireClarifications: _expire,
    cmd.EscalateOverdueReviews: _escalate,
    cmd.WarnOfDueDates: _warn,
    cmd.ScheduleSiteVisit: _schedule_visit,
    cmd.CompleteSiteVisit: _complete_visit,
    cmd.WaiveSiteVisit: _waive_visit,
    cmd.DecideLevel: _decide_level,
    cmd.FileAppeal: _file_appeal,
    cmd.AcceptDecision: _accept_decision,
    cmd.DecideAppeal: _decide_appeal,
    cmd.CloseAppealWindow: _close_appeal_window,
    cmd.SendReminder: _send_reminder,
    cmd.LapseCertification: _lapse,
    cmd.Withdraw: _withdraw,
    cmd.ImportCertification: _import,
    cmd.ProposeImport: _propose_import,
    cmd.CountersignImport: _countersign_import,
    cmd.RejectImport: _reject_import,
    cmd.UploadDocument: _upload_document,
    cmd.RescheduleSiteVisit: _reschedule_visit,
    cmd.ExtendDeadline: _extend_deadline,
    cmd.EscalateMissedDeadlines: _escalate_missed,
    cmd.AssignPracticeArea: _assign_area,
    cmd.AssignLeadReviewer: _assign_lead,
    cmd.DeclareNoConflict: _declare_no_conflict,
    cmd.DeclareConflict: _declare_conflict,
    cmd.SignOffReview: _sign_off,
    cmd.ReopenReviewItem: _reopen,
    cmd.CorrectCityProfile: _correct_profile,
    cmd.ImportPastCertification: _import_past,
    cmd.SuspendCertification: _suspend,
    cmd.ReinstateCertification: _reinstate,
    cmd.RevokeCertification: _revoke,
    cmd.RejoinProgramme: _rejoin,
}


def decide(
    state: CityState,
    command: cmd.Command,
    *,
    now: datetime,
    policy: ProgrammePolicy = DEFAULT_POLICY,
    rules: int = LATEST,
) -> list[ev.DomainEvent]:
    """The events `command` causes in `state` at `now`; raises CommandRejected when not allowed now,
    InvalidCommand when it names a standard version or criterion that does not exist.

    `rules` (domain/rules.py) are the rules a new cycle opens under and a snapshot is taken by:
    the latest, unless the caller replays what was decided before them (the workflow does, for
    histories recorded earlier). A command within a cycle follows the rules the cycle opened under."""
    if now.tzinfo is None:
        raise ValueError("decide needs an aware datetime for now")
    if state.phase is Phase.WITHDRAWN and not isinstance(command, cmd.RejoinProgramme):
        raise _reject(
            state,
            "{city_id} withdrew from the programme; nothing more can be recorded until it rejoins",
            city_id=state.city_id,
        )
    ruled = _RULED_HANDLERS.get(type(command))
    if ruled is not None:
        events = ruled(state, command, now, policy, rules)
    else:
        events = _HANDLERS[type(command)](state, command, now, policy)
    return events + _clocks_started(state, events, now, policy)


# The events that start a phase's clock (cycles under the programme's review rules).
_CLOCK_STARTS: dict[type[ev.DomainEvent], ev.Deadline] = {
    ev.ApplicationSubmitted: ev.Deadline.SUBMISSION,
    ev.RecertificationStarted: ev.Deadline.SUBMISSION,
    ev.EvidenceReviewCompleted: ev.Deadline.VISIT_SCHEDULING,
    ev.LevelRecommended: ev.Deadline.COMMITTEE,
}


def _clocks_started(
    state: CityState, events: list[ev.DomainEvent], now: datetime, p: ProgrammePolicy
) -> list[ev.DomainEvent]:
    """The phase clocks `events` start: the submission's on an application, the visit's
    scheduling on the review's completion, the committee's on a recommendation. Decided here,
    once for every command, so no handler has to remember them; cycles under the first rules have
    none (their recorded histories keep the timers they ran with)."""
    starts = [_CLOCK_STARTS[type(e)] for e in events if type(e) in _CLOCK_STARTS]
    if not starts:
        return []
    cycle = fold(state, events).cycle
    if cycle is None or cycle.rules < PROGRAMME_REVIEW:
        return []
    windows = phase_windows(p)
    return [ev.DeadlineSet(deadline=d, due_at=now + windows[d][0]) for d in starts]
