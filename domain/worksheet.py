"""A criterion's review worksheet: its "k of n" checklist and its required-document slots, what the
city claims and gave, what the reviewer found met, and whether the criterion can earn its point.

Checklist items and document slots are named by their 1-based position in the criterion, fixed
within a standard revision (a correction is a new revision, domain/standard.py), so a number
recorded in an event keeps meaning the same item. The decider checks the numbers and, under the
programme's review rules (domain/rules.py), refuses an approval below the checklist or with a
required document missing unless the reviewer gives an override reason; `worksheet` builds the
reviewer's view from the state and the documents in the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from domain import events as ev
from domain.errors import Refusal, Value
from domain.rules import PROGRAMME_REVIEW
from domain.standard import Criterion, Standard
from domain.state import CityState, ItemStatus, ReviewItemState

# --- the rules' checks --------------------------------------------------------------------------


def unknown_numbers(
    criterion: Criterion, *, checklist: Iterable[int] = (), slots: Iterable[int] = ()
) -> list[str]:
    """Why these checklist item and document slot numbers are not the criterion's, in words
    ("DM2 has 3 checklist items; item 5 does not exist"); empty when they all are."""
    return [r.english() for r in unknown_number_refusals(criterion, checklist=checklist, slots=slots)]


def unknown_number_refusals(
    criterion: Criterion, *, checklist: Iterable[int] = (), slots: Iterable[int] = ()
) -> list[Refusal]:
    """`unknown_numbers` as refusals (domain/errors.py), to be said in a person's language."""
    problems: list[Refusal] = []
    items = len(criterion.checklist.items)
    for n in sorted(set(checklist)):
        if n > items:
            problems.append(
                Refusal(
                    "{criterion_id} has {count} checklist item; item {n} does not exist",
                    criterion_id=criterion.id,
                    count=items,
                    n=n,
                )
                if items == 1
                else Refusal(
                    "{criterion_id} has {count} checklist items; item {n} does not exist",
                    criterion_id=criterion.id,
                    count=items,
                    n=n,
                )
            )
    documents = len(criterion.required_documents)
    for n in sorted(set(slots)):
        if n > documents:
            if not documents:
                problems.append(
                    Refusal(
                        "{criterion_id} has no required documents; required document {n} does not exist",
                        criterion_id=criterion.id,
                        n=n,
                    )
                )
            elif documents == 1:
                problems.append(
                    Refusal(
                        "{criterion_id} has {count} required document; required document {n} does not exist",
                        criterion_id=criterion.id,
                        count=documents,
                        n=n,
                    )
                )
            else:
                problems.append(
                    Refusal(
                        "{criterion_id} has {count} required documents; required document {n} does not exist",
                        criterion_id=criterion.id,
                        count=documents,
                        n=n,
                    )
                )
    return problems


def shortfalls(criterion: Criterion, met: Iterable[int], filled_slots: Iterable[int]) -> list[str]:
    """What keeps an approval of the criterion from standing on its worksheet: fewer checklist items
    met than it needs, and each required-document slot with no document in it. Empty: complete."""
    return [r.english() for r in shortfall_refusals(criterion, met, filled_slots)]


def shortfall_refusals(
    criterion: Criterion, met: Iterable[int], filled_slots: Iterable[int]
) -> list[Refusal]:
    """`shortfalls` as refusals (domain/errors.py), to be said in a person's language."""
    found = sorted(set(met))
    checklist = criterion.checklist
    problems: list[Refusal] = []
    if len(found) < checklist.min_met:
        needs: dict[str, Value] = {
            "criterion_id": criterion.id,
            "min_met": checklist.min_met,
            "items": len(checklist.items),
        }
        if not found:
            problems.append(
                Refusal(
                    "{criterion_id} needs {min_met} of its {items} checklist items; none were found met",
                    **needs,
                )
            )
        elif len(found) == 1:
            problems.append(
                Refusal(
                    "{criterion_id} needs {min_met} of its {items} checklist items; {count} was found met "
                    "({found})",
                    **needs,
                    count=1,
                    found=found,
                )
            )
        else:
            problems.append(
                Refusal(
                    "{criterion_id} needs {min_met} of its {items} checklist items; {count} were found met "
                    "({found})",
                    **needs,
                    count=len(found),
                    found=found,
                )
            )
    filled = set(filled_slots)
    for n, title in enumerate(criterion.required_documents, start=1):
        if n not in filled:
            problems.append(
                Refusal(
                    "required document {n} of {criterion_id}, {title!r}, has no document in it",
                    n=n,
                    criterion_id=criterion.id,
                    title=title,
                )
            )
    return problems


def enough_items(criterion: Criterion) -> list[int]:
    """The checklist's first k items (its "k of n"): the least a complete worksheet claims, for
    demos and tests that walk a city through an approval."""
    return list(range(1, criterion.checklist.min_met + 1))


def not_approved_prerequisites(standard: Standard, criterion_id: str, approved: Iterable[str]) -> list[str]:
    """The criterion's prerequisites, direct or through another, that are not approved, in the
    standard's order: while any is, the criterion earns nothing however its own review goes."""
    by_id = {c.id: c for c in standard.criteria}
    done = set(approved)
    needed: set[str] = set()
    todo = list(by_id[criterion_id].prerequisites)
    while todo:
        p = todo.pop()
        if p in needed or p not in by_id:
            continue
        needed.add(p)
        todo.extend(by_id[p].prerequisites)
    return [c.id for c in standard.criteria if c.id in needed and c.id not in done]


def cannot_earn(blocked_by: Sequence[str]) -> str | None:
    """Why a criterion cannot earn its point whatever its review, in words; None when it can."""
    why = cannot_earn_refusal(blocked_by)
    return why.english() if why else None


def cannot_earn_refusal(blocked_by: Sequence[str]) -> Refusal | None:
    """`cannot_earn` as a refusal (domain/errors.py), to be said in a person's language."""
    if not blocked_by:
        return None
    if len(blocked_by) == 1:
        return Refusal(
            "cannot earn its point: prerequisite {criterion_id} is not approved", criterion_id=blocked_by[0]
        )
    return Refusal(
        "cannot earn its point: prerequisites {criterion_ids} are not approved",
        criterion_ids=list(blocked_by),
    )


def item_shortfalls(criterion: Criterion, item: ReviewItemState | None) -> list[Refusal]:
    """What an approval of the item's criterion on its worksheet would fall short on now (the items
    found met, else those claimed; its filled slots); none before a submission, which starts them."""
    if item is None:
        return []
    met = sorted(item.checklist_met) if item.status is ItemStatus.APPROVED else []
    return shortfall_refusals(criterion, met or sorted(item.claims), item.filled_slots)


# --- the reviewer's view ------------------------------------------------------------------------


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class WorksheetDocument(_View):
    title: str
    url: str = Field(description="a link's address; empty for an uploaded document")
    document_id: str | None = Field(description="an uploaded document's id (GET .../documents/{id})")
    sha256: str | None
    added_by: str = Field(description="`submission`, or `clarification` for a clarification answer's")


class DocumentSlot(_View):
    number: int = Field(description="the required document's position in the criterion, from 1")
    title: str = Field(description="what the standard asks for")
    documents: list[WorksheetDocument]
    filled: bool


class ChecklistItem(_View):
    number: int = Field(description="the item's position in the criterion's checklist, from 1")
    text: str
    claimed: bool = Field(description="the city claims its evidence meets it")
    found_met: bool = Field(description="the approving reviewer found it met")


class Checklist(_View):
    min_met: int = Field(description="how many items must be met: the k of 'k of n'")
    items: list[ChecklistItem]
    provenance: str | None = Field(description="where the texts come from, as the standard says")
    illustrative: bool = Field(
        description="the texts are the programme's own stand-ins, not the published standard's"
    )


class CriterionWorksheet(_View):
    criterion_id: str
    title: str
    practice_area: str
    status: ItemStatus | None = Field(description="the evidence's status; null: none submitted")
    submission: int | None = Field(description="the submission under review, from 1")
    reviewer_id: str | None
    checklist: Checklist
    claimed: list[int] = Field(description="the checklist items the city claims, by number")
    checklist_met: list[int] = Field(description="an approval's items found met, by number")
    override: str = Field(description="an approval's reason for standing below its worksheet")
    required_documents: list[DocumentSlot]
    supporting_documents: list[WorksheetDocument] = Field(description="documents given in no slot")
    shortfalls: list[str] = Field(
        description="what an approval on the claimed items would be refused for now (an override aside)"
    )
    prerequisites: list[str]
    blocked_by: list[str] = Field(description="prerequisites (direct or not) not approved")
    cannot_earn: str | None = Field(
        description="why the criterion cannot earn its point whatever its review: a prerequisite"
    )


class Worksheet(_View):
    """Every criterion of the cycle's standard as a reviewer works through it."""

    city_id: str
    cycle: int
    standard_version: str
    standard_revision: int
    rules: int = Field(description="the decision rules of the cycle (domain/rules.py)")
    checked: bool = Field(
        description="approvals are held to the worksheet (the programme's review rules): refused below "
        "the checklist or with a required document missing, unless an override reason is given"
    )
    criteria: list[CriterionWorksheet]


# The documents each criterion's submission under review holds: the submission's own, then those
# its clarification answers added, with which of the two brought each.
DocumentsInPlay = dict[str, list[tuple[ev.Document, str]]]


def documents_in_play(events: Iterable[ev.DomainEvent]) -> DocumentsInPlay:
    """Fold a city's evidence events (its stream's, in order; others are skipped) to the documents
    of each criterion's latest submission in the latest cycle, clarification answers' included."""
    found: DocumentsInPlay = {}
    for event in events:
        match event:
            case ev.ApplicationSubmitted() | ev.RecertificationStarted():
                found = {}
            case ev.EvidenceSubmitted():
                found[event.criterion_id] = [(d, "submission") for d in event.documents]
            case ev.ClarificationAnswered():
                found.setdefault(event.criterion_id, []).extend((d, "clarification") for d in event.documents)
    return found


def _provenance(standard: Standard, criterion: Criterion) -> str | None:
    # Read defensively: the standards gain a `provenance` (on the criterion, its checklist or the
    # standard) in another change; until then nothing says where the texts come from.
    for holder in (criterion.checklist, criterion, standard):
        value = getattr(holder, "provenance", None)
        if isinstance(value, str) and value:
            return value
    return None


def _document(given: ev.Document, added_by: str) -> WorksheetDocument:
    return WorksheetDocument(
        title=given.title,
        url=given.url,
        document_id=given.document_id,
        sha256=given.sha256,
        added_by=added_by,
    )


def criterion_worksheet(
    standard: Standard,
    criterion: Criterion,
    item: ReviewItemState | None,
    documents: Sequence[tuple[ev.Document, str]],
    approved: Iterable[str],
) -> CriterionWorksheet:
    claimed = sorted(item.claims) if item else []
    met = sorted(item.checklist_met) if item and item.status is ItemStatus.APPROVED else []
    provenance = _provenance(standard, criterion)
    slots = [
        DocumentSlot(
            number=n,
            title=title,
            documents=[_document(d, by) for d, by in documents if d.slot == n],
            filled=any(d.slot == n for d, _ in documents),
        )
        for n, title in enumerate(criterion.required_documents, start=1)
    ]
    in_slots = {s.number for s in slots}
    blocked = not_approved_prerequisites(standard, criterion.id, approved)
    return CriterionWorksheet(
        criterion_id=criterion.id,
        title=criterion.title,
        practice_area=criterion.practice_area,
        status=item.status if item else None,
        submission=item.submission if item else None,
        reviewer_id=item.reviewer_id if item else None,
        checklist=Checklist(
            min_met=criterion.checklist.min_met,
            items=[
                ChecklistItem(number=n, text=text, claimed=n in claimed, found_met=n in met)
                for n, text in enumerate(criterion.checklist.items, start=1)
            ],
            provenance=provenance,
            illustrative=provenance == "illustrative",
        ),
        claimed=claimed,
        checklist_met=met,
        override=item.override if item and item.status is ItemStatus.APPROVED else "",
        required_documents=slots,
        supporting_documents=[_document(d, by) for d, by in documents if d.slot not in in_slots],
        shortfalls=[r.english() for r in item_shortfalls(criterion, item)],
        prerequisites=list(criterion.prerequisites),
        blocked_by=blocked,
        cannot_earn=cannot_earn(blocked),
    )


def worksheet(state: CityState, standard: Standard, documents: DocumentsInPlay) -> Worksheet | None:
    """The worksheet of the city's open cycle against its standard (the cycle's revision); None
    when no cycle is open."""
    cycle = state.cycle
    if cycle is None:
        return None
    approved = cycle.approved
    return Worksheet(
        city_id=state.city_id,
        cycle=cycle.number,
        standard_version=standard.version,
        standard_revision=standard.revision,
        rules=cycle.rules,
        checked=cycle.rules >= PROGRAMME_REVIEW,
        criteria=[
            criterion_worksheet(standard, c, cycle.items.get(c.id), documents.get(c.id, []), approved)
            for c in standard.criteria
        ],
    )
