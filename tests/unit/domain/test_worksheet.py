"""The review worksheet, one story per rule: evidence claims checklist items and fills the
criterion's required-document slots; an approval names the items found met and, under the
programme's review rules, stands only on a complete worksheet or with an override reason.

Criteria are chosen by property (one with several required documents and a "k of n" checklist
with k < n, one with a prerequisite), never by id."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from domain import CommandRejected, InvalidCommand, ProgrammePolicy, decide, rules
from domain import commands as c
from domain import events as ev
from domain.state import ItemStatus
from domain.worksheet import documents_in_play, worksheet
from tests.unit.domain.story import (
    CITY,
    DAY,
    DOCS,
    REVIEWER,
    STANDARD,
    T0,
    applied,
    approved,
    enough,
    given,
    slotted,
    submitted,
    when,
)

# A criterion with two or more required documents and a checklist that leaves room (k < n).
ROOMY = next(
    crit
    for crit in STANDARD.criteria
    if len(crit.required_documents) >= 2 and crit.checklist.min_met < len(crit.checklist.items)
)
CID = ROOMY.id
K, N = ROOMY.checklist.min_met, len(ROOMY.checklist.items)
# A criterion with a prerequisite, and that prerequisite.
DEPENDENT = next(crit for crit in STANDARD.criteria if crit.prerequisites)
PREREQUISITE = DEPENDENT.prerequisites[0]


def latest(*events: ev.DomainEvent) -> list[ev.DomainEvent]:
    """Applied under the programme's review rules, the reviewer its lead (who may decide any item)
    having declared no conflict, then these events."""
    reviewer = REVIEWER["reviewer_id"]
    return [
        *applied(rules=rules.PROGRAMME_REVIEW),
        ev.LeadReviewerAssigned(reviewer_id=reviewer),
        ev.NoConflictDeclared(reviewer_id=reviewer),
        *events,
    ]


def first(*events: ev.DomainEvent) -> list[ev.DomainEvent]:
    """Applied under the first rules, then these events."""
    return [*applied(rules=rules.FIRST), *events]


def link(n: int | None, name: str = "doc") -> c.DocumentLink:
    return c.DocumentLink(title=f"{name} {n}", url=f"https://example.org/{name}-{n}.pdf", slot=n)


def approve(met: list[int], override: str = "", cid: str = CID) -> c.ReviewEvidence:
    item = c.ReviewItem(criterion_id=cid, decision=c.Verdict.APPROVE, checklist_met=met, override=override)
    return c.ReviewEvidence(**REVIEWER, items=[item])


def evidence_with(slots: list[int], claims: list[int]) -> list[ev.DomainEvent]:
    """The criterion submitted with documents in `slots` only, claiming `claims`."""
    return [
        ev.EvidenceSubmitted(
            criterion_id=CID,
            documents=[
                ev.Document(title=f"doc {n}", url=f"https://example.org/doc-{n}.pdf", slot=n) for n in slots
            ]
            or DOCS,
            narrative="",
            review_due_at=T0 + 10 * DAY,
            submission=1,
            claims=claims,
        )
    ]


ALL_SLOTS = list(range(1, len(ROOMY.required_documents) + 1))


class TestEvidenceFillsTheWorksheet:
    def test_documents_go_in_slots_and_claims_are_recorded(self) -> None:
        command = c.SubmitEvidence(
            items=[c.EvidenceItem(criterion_id=CID, documents=[link(1), link(None, "annex")], claims=[1, 2])]
        )
        [event] = when(given(*latest()), command)
        assert event == ev.EvidenceSubmitted(
            criterion_id=CID,
            documents=[
                ev.Document(title="doc 1", url="https://example.org/doc-1.pdf", slot=1),
                ev.Document(title="annex None", url="https://example.org/annex-None.pdf"),
            ],
            narrative="",
            review_due_at=T0 + 10 * DAY,
            submission=1,
            claims=[1, 2],
        )
        item = given(*latest(event)).cycle.items[CID]  # type: ignore[union-attr]
        assert (item.claims, item.filled_slots) == ((1, 2), (1,))

    def test_a_checklist_item_the_criterion_lacks_is_invalid_naming_it(self) -> None:
        command = c.SubmitEvidence(
            items=[c.EvidenceItem(criterion_id=CID, documents=[link(1)], claims=[1, N + 2])]
        )
        with pytest.raises(
            InvalidCommand, match=f"{CID} has {N} checklist items; item {N + 2} does not exist"
        ):
            when(given(*latest()), command)

    def test_a_document_slot_the_criterion_lacks_is_invalid_naming_it(self) -> None:
        slots = len(ROOMY.required_documents)
        command = c.SubmitEvidence(items=[c.EvidenceItem(criterion_id=CID, documents=[link(slots + 1)])])
        with pytest.raises(
            InvalidCommand,
            match=f"{CID} has {slots} required documents; required document {slots + 1} does not exist",
        ):
            when(given(*first()), command)  # whatever the rules: no state makes the slot exist

    def test_claiming_an_item_twice_is_malformed(self) -> None:
        with pytest.raises(ValidationError, match=r"claimed checklist items of .* named more than once: 1"):
            c.EvidenceItem(criterion_id=CID, documents=[link(1)], claims=[1, 1])


class TestApprovalStandsOnItsWorksheet:
    def test_an_approval_on_a_complete_worksheet_records_the_items_met(self) -> None:
        state = given(*latest(*evidence_with(ALL_SLOTS, list(range(1, K + 1)))))
        events = when(state, approve(list(range(1, K + 1))))
        assert events == [
            ev.EvidenceApproved(
                criterion_id=CID, reviewer_id="rev-ana", submission=1, checklist_met=list(range(1, K + 1))
            )
        ]
        after = given(*latest(*evidence_with(ALL_SLOTS, [])), *events).cycle.items[CID]  # type: ignore[union-attr]
        assert (after.status, after.checklist_met, after.override) == (
            ItemStatus.APPROVED,
            tuple(range(1, K + 1)),
            "",
        )

    def test_an_approval_below_the_checklist_is_refused_saying_how_many_were_met(self) -> None:
        state = given(*latest(*evidence_with(ALL_SLOTS, [1, 2])))
        met = [1, 3] if K > 2 else [1]
        shown = ", ".join(map(str, met))
        verb = "was" if len(met) == 1 else "were"
        with pytest.raises(
            CommandRejected,
            match=f"{CID} needs {K} of its {N} checklist items; {len(met)} {verb} found met \\({shown}\\)",
        ):
            when(state, approve(met))

    def test_an_approval_with_nothing_found_met_is_refused(self) -> None:
        with pytest.raises(CommandRejected, match="none were found met"):
            when(given(*latest(*evidence_with(ALL_SLOTS, []))), approve([]))

    def test_an_approval_with_a_required_document_missing_is_refused_naming_the_slot(self) -> None:
        state = given(*latest(*evidence_with([1], list(range(1, K + 1)))))
        title = ROOMY.required_documents[1]
        with pytest.raises(CommandRejected) as refused:
            when(state, approve(list(range(1, K + 1))))
        assert f"required document 2 of {CID}, {title!r}, has no document in it" in str(refused.value)
        assert "give an override reason" in str(refused.value)

    def test_an_override_reason_lets_the_approval_stand_and_is_recorded(self) -> None:
        state = given(*latest(*evidence_with([1], [1])))
        events = when(state, approve([1], override="Minutes seen on site; the portal was down"))
        assert events == [
            ev.EvidenceApproved(
                criterion_id=CID,
                reviewer_id="rev-ana",
                submission=1,
                checklist_met=[1],
                override="Minutes seen on site; the portal was down",
            )
        ]

    def test_a_blank_override_is_no_override(self) -> None:
        with pytest.raises(CommandRejected, match="checklist items"):
            when(given(*latest(*evidence_with(ALL_SLOTS, []))), approve([1], override="   "))

    def test_one_short_approval_refuses_the_whole_review(self) -> None:
        other = next(cr.id for cr in STANDARD.criteria if cr.id != CID)
        state = given(*latest(*evidence_with(ALL_SLOTS, []), *submitted([other])))
        review = c.ReviewEvidence(
            **REVIEWER,
            items=[
                c.ReviewItem(criterion_id=other, decision=c.Verdict.APPROVE, checklist_met=enough(other)),
                c.ReviewItem(criterion_id=CID, decision=c.Verdict.APPROVE, checklist_met=[1]),
            ],
        )
        with pytest.raises(CommandRejected, match=f"{CID} needs {K}"):
            when(state, review)

    def test_a_document_a_clarification_answer_added_fills_its_slot(self) -> None:
        asked = latest(
            *evidence_with(ALL_SLOTS[:-1], []),
            ev.ClarificationRequested(
                criterion_id=CID,
                reviewer_id="rev-ana",
                question="Where are the minutes?",
                due_at=T0 + 25 * DAY,
            ),
        )
        answer = c.AnswerClarifications(
            items=[
                c.ClarificationAnswer(criterion_id=CID, answer="Attached", documents=[link(ALL_SLOTS[-1])])
            ]
        )
        answered = when(given(*asked), answer, now=T0 + 2 * DAY)
        assert answered == [
            ev.ClarificationAnswered(
                criterion_id=CID,
                answer="Attached",
                review_due_at=T0 + 12 * DAY,
                documents=[
                    ev.Document(
                        title=f"doc {ALL_SLOTS[-1]}",
                        url=f"https://example.org/doc-{ALL_SLOTS[-1]}.pdf",
                        slot=ALL_SLOTS[-1],
                    )
                ],
            )
        ]
        events = when(given(*asked, *answered), approve(list(range(1, K + 1))), now=T0 + 3 * DAY)
        assert [type(e) for e in events] == [ev.EvidenceApproved]

    def test_a_resubmission_stands_alone_its_slots_are_its_own(self) -> None:
        history = latest(
            *evidence_with(ALL_SLOTS, []),
            ev.EvidenceRejected(criterion_id=CID, reviewer_id="rev-ana", submission=1),
        )
        again = c.SubmitEvidence(items=[c.EvidenceItem(criterion_id=CID, documents=[link(1)])])
        history += when(given(*history), again)
        with pytest.raises(CommandRejected, match=f"required document 2 of {CID}"):
            when(given(*history), approve(list(range(1, K + 1))))

    def test_items_found_met_that_the_criterion_lacks_are_invalid(self) -> None:
        with pytest.raises(
            InvalidCommand, match=f"{CID} has {N} checklist items; item {N + 1} does not exist"
        ):
            when(given(*latest(*evidence_with(ALL_SLOTS, []))), approve([N + 1]))

    def test_under_the_first_rules_an_approval_stands_as_it_always_did(self) -> None:
        state = given(*first(*evidence_with([], [])))
        review = c.ReviewEvidence(
            **REVIEWER, items=[c.ReviewItem(criterion_id=CID, decision=c.Verdict.APPROVE)]
        )
        assert when(state, review) == [
            ev.EvidenceApproved(criterion_id=CID, reviewer_id="rev-ana", submission=1)
        ]

    def test_only_an_approval_names_items_met_or_an_override(self) -> None:
        with pytest.raises(ValidationError, match="are an approval's"):
            c.ReviewItem(criterion_id=CID, decision=c.Verdict.REJECT, override="because")
        with pytest.raises(ValidationError, match="are an approval's"):
            c.ReviewItem(criterion_id=CID, decision=c.Verdict.REJECT, checklist_met=[1])


class TestAnswerDocuments:
    def test_an_answers_document_in_a_slot_the_criterion_lacks_is_invalid(self) -> None:
        asked = latest(
            *evidence_with(ALL_SLOTS, []),
            ev.ClarificationRequested(criterion_id=CID, reviewer_id="r", question="?", due_at=T0 + 25 * DAY),
        )
        bad = len(ROOMY.required_documents) + 1
        answer = c.AnswerClarifications(
            items=[c.ClarificationAnswer(criterion_id=CID, answer="here", documents=[link(bad)])]
        )
        with pytest.raises(InvalidCommand, match=f"required document {bad} does not exist"):
            when(given(*asked), answer)


class TestResubmissionsAfterAnExpiredClarification:
    def expired(self, rules_: int) -> list[ev.DomainEvent]:
        return [
            *applied(rules=rules_),
            *evidence_with(ALL_SLOTS, []),
            ev.ClarificationRequested(criterion_id=CID, reviewer_id="r", question="?", due_at=T0 + 25 * DAY),
            ev.ClarificationExpired(criterion_id=CID, was_due_at=T0 + 25 * DAY),
        ]

    def resubmit(self) -> c.SubmitEvidence:
        return c.SubmitEvidence(items=[c.EvidenceItem(criterion_id=CID, documents=[link(1)])])

    def again(self, history: list[ev.DomainEvent], policy: ProgrammePolicy) -> list[ev.DomainEvent]:
        return decide(given(*history), self.resubmit(), now=T0 + 30 * DAY, policy=policy)

    def test_the_programmes_number_of_resubmissions_is_allowed_and_one_more_refused(self) -> None:
        policy = ProgrammePolicy(resubmissions_after_expiry=1)
        history = self.expired(rules.PROGRAMME_REVIEW)
        history += self.again(history, policy)
        assert given(*history).cycle.items[CID].resubmitted_after_expiry == 1  # type: ignore[union-attr]
        history += [
            ev.ClarificationRequested(criterion_id=CID, reviewer_id="r", question="?", due_at=T0 + 55 * DAY),
            ev.ClarificationExpired(criterion_id=CID, was_due_at=T0 + 55 * DAY),
        ]
        with pytest.raises(
            CommandRejected,
            match=f"a clarification of {CID} expired unanswered, and the programme allows 1 resubmission",
        ):
            self.again(history, policy)

    def test_a_programme_allowing_none_refuses_the_first(self) -> None:
        with pytest.raises(CommandRejected, match="allows no resubmission"):
            self.again(self.expired(rules.PROGRAMME_REVIEW), ProgrammePolicy(resubmissions_after_expiry=0))

    def test_a_rejection_by_the_reviewer_is_not_counted(self) -> None:
        history = [
            *latest(*evidence_with(ALL_SLOTS, [])),
            ev.EvidenceRejected(criterion_id=CID, reviewer_id="r", submission=1),
        ]
        events = self.again(history, ProgrammePolicy(resubmissions_after_expiry=0))
        assert [type(e) for e in events] == [ev.EvidenceSubmitted]

    def test_under_the_first_rules_any_number_is_allowed(self) -> None:
        events = self.again(self.expired(rules.FIRST), ProgrammePolicy(resubmissions_after_expiry=0))
        assert [type(e) for e in events] == [ev.EvidenceSubmitted]


class TestTheReviewersView:
    def test_each_criterion_shows_its_checklist_claims_slots_and_status(self) -> None:
        history = latest(*evidence_with([1], [1, 2]))
        view = worksheet(given(*history), STANDARD, documents_in_play(history))
        assert view is not None and view.checked
        sheet = next(s for s in view.criteria if s.criterion_id == CID)
        assert sheet.status is ItemStatus.SUBMITTED
        assert [(i.number, i.claimed) for i in sheet.checklist.items][:3] == [
            (1, True),
            (2, True),
            (3, False),
        ]
        assert sheet.checklist.min_met == K
        assert [len(slot.documents) for slot in sheet.required_documents][:2] == [1, 0]
        assert sheet.required_documents[0].documents[0].url == "https://example.org/doc-1.pdf"
        assert f"required document 2 of {CID}" in "; ".join(sheet.shortfalls)
        untouched = next(s for s in view.criteria if s.criterion_id not in (CID,) and s.status is None)
        assert untouched.submission is None and not untouched.required_documents[0].filled

    def test_a_criterion_whose_prerequisite_is_not_approved_cannot_earn_its_point(self) -> None:
        history = latest(*submitted([DEPENDENT.id]), *approved([DEPENDENT.id]))
        view = worksheet(given(*history), STANDARD, documents_in_play(history))
        assert view is not None
        sheet = next(s for s in view.criteria if s.criterion_id == DEPENDENT.id)
        assert PREREQUISITE in sheet.blocked_by
        assert sheet.cannot_earn is not None
        assert sheet.cannot_earn.startswith("cannot earn its point: prerequisite")
        assert PREREQUISITE in sheet.cannot_earn

    def test_once_every_prerequisite_is_approved_nothing_blocks_it(self) -> None:
        chain = [p.id for p in STANDARD.criteria if p.id in _all_prerequisites(DEPENDENT.id)]
        ids = [*chain, DEPENDENT.id]
        history = latest(*submitted(ids), *approved(ids))
        view = worksheet(given(*history), STANDARD, documents_in_play(history))
        assert view is not None
        sheet = next(s for s in view.criteria if s.criterion_id == DEPENDENT.id)
        assert (sheet.blocked_by, sheet.cannot_earn) == ([], None)
        assert sheet.checklist_met == enough(DEPENDENT.id)

    def test_an_answers_documents_join_the_submission_and_a_new_cycle_starts_afresh(self) -> None:
        answered = ev.ClarificationAnswered(
            criterion_id=CID,
            answer="a",
            review_due_at=T0,
            documents=[ev.Document(title="minutes", url="https://example.org/m.pdf", slot=2)],
        )
        found = documents_in_play([*latest(*evidence_with([1], [])), answered])
        assert [(d.slot, by) for d, by in found[CID]] == [(1, "submission"), (2, "clarification")]
        assert documents_in_play([*latest(*evidence_with([1], [])), *applied()]) == {}

    def test_texts_the_standard_marks_illustrative_are_shown_as_such(self) -> None:
        from domain.worksheet import criterion_worksheet

        marked = SimpleNamespace(
            id=CID,
            title=ROOMY.title,
            practice_area=ROOMY.practice_area,
            prerequisites=(),
            required_documents=ROOMY.required_documents,
            checklist=SimpleNamespace(items=ROOMY.checklist.items, min_met=K, provenance="illustrative"),
        )
        sheet = criterion_worksheet(STANDARD, marked, None, [], [])  # type: ignore[arg-type]
        assert sheet.checklist.illustrative and sheet.checklist.provenance == "illustrative"

    def test_no_open_cycle_has_no_worksheet(self) -> None:
        assert worksheet(given(), STANDARD, {}) is None
        assert CITY  # the story's city


def _all_prerequisites(cid: str) -> set[str]:
    found: set[str] = set()
    todo = list(STANDARD.criterion(cid).prerequisites)
    while todo:
        p = todo.pop()
        if p not in found:
            found.add(p)
            todo.extend(STANDARD.criterion(p).prerequisites)
    return found


def test_the_helpers_give_complete_worksheets() -> None:
    """story.py's submitted() and approved() fill every slot and meet k items: an approval through
    them stands under the programme's review rules."""
    state = given(*latest(*submitted([CID])))
    assert set(state.cycle.items[CID].filled_slots) == set(ALL_SLOTS)  # type: ignore[union-attr]
    assert [type(e) for e in when(state, approve(enough(CID)))] == [ev.EvidenceApproved]
    assert slotted(CID)[-1] in DOCS
