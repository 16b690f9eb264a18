"""What a city's pages beyond the dashboard show, shaped from the projection's state, the review
worksheet (readmodel.worksheet) and the open questions: the rounds open to apply to, the criteria
board by practice area, one criterion's evidence, the decision and the certificate. The words are
the portal's; the standard's titles and texts stay in the standard's English."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError

from domain import commands as cmd
from domain.events import Deadline
from domain.rounds import Round
from domain.standard import available_versions, get_standard
from domain.state import CityState, ItemStatus, Phase
from domain.worksheet import CriterionWorksheet, Worksheet, WorksheetDocument
from entrypoints.web.dashboard import LEVELS
from entrypoints.web.i18n import N_, Speaker
from readmodel.questions import OpenQuestion

STATUSES: dict[ItemStatus | None, str] = {
    None: N_("No evidence yet"),
    ItemStatus.SUBMITTED: N_("Submitted, with the reviewer"),
    ItemStatus.CLARIFICATION_REQUESTED: N_("Question from the reviewer"),
    ItemStatus.CLARIFICATION_ANSWERED: N_("Answered, with the reviewer"),
    ItemStatus.APPROVED: N_("Approved"),
    ItemStatus.REJECTED: N_("Rejected"),
}
# The phases in which the city may send evidence for a criterion.
TAKES_EVIDENCE = (Phase.EVIDENCE,)


def open_rounds(rounds: list[Round], today: date) -> list[Round]:
    """The rounds a city may apply to today, the one closing soonest first."""
    return sorted((r for r in rounds if r.is_open(today)), key=lambda r: (r.closes_on, r.round_id))


def open_standards(today: date) -> list[tuple[str, str]]:
    """The standards a city may apply under today: (version, name), the newest version first."""
    found = [(v, get_standard(v)) for v in available_versions()]
    return sorted(((v, s.name) for v, s in found if s.is_open(today)), reverse=True)


@dataclass(frozen=True, slots=True)
class CriterionRow:
    criterion_id: str
    title: str
    status: str
    asks_answer: bool
    question: str = ""
    due_at: datetime | None = None  # the city's answer's, else the reviewer's decision's


@dataclass(frozen=True, slots=True)
class Area:
    area_id: str
    name: str
    rows: list[CriterionRow] = field(default_factory=list)


def board(state: CityState, sheet: Worksheet, questions: list[OpenQuestion], say: Speaker) -> list[Area]:
    """Every criterion of the cycle's standard by practice area, with its status, the reviewer's
    open question and the date its next step is due."""
    _ = say.gettext
    standard = get_standard(sheet.standard_version, sheet.standard_revision)
    asked = {q.criterion_id: q for q in questions}
    items = state.cycle.items if state.cycle else {}
    areas = {a.id: Area(a.id, a.name) for a in standard.practice_areas}
    for c in sheet.criteria:
        item = items.get(c.criterion_id)
        question = asked.get(c.criterion_id)
        due = None
        if question is not None:
            due = question.due_at
        elif item is not None and item.is_open:
            due = item.review_due_at
        areas[c.practice_area].rows.append(
            CriterionRow(
                criterion_id=c.criterion_id,
                title=c.title,
                status=_(STATUSES[c.status]),
                asks_answer=question is not None,
                question=question.question if question else "",
                due_at=due,
            )
        )
    return [a for a in areas.values() if a.rows]


def submission_due(state: CityState) -> datetime | None:
    """When the evidence is due, while the city is gathering it."""
    cycle = state.cycle
    if cycle is None or state.phase not in TAKES_EVIDENCE:
        return None
    clock = cycle.clocks.get(Deadline.SUBMISSION.value)
    return clock.due_at if clock else None


def find_criterion(sheet: Worksheet, criterion_id: str) -> CriterionWorksheet | None:
    return next((c for c in sheet.criteria if c.criterion_id == criterion_id), None)


@dataclass(frozen=True, slots=True)
class DocumentInPlace:
    """A document the criterion's evidence holds now (its submission's or a clarification answer's),
    as a new submission may keep it: `key` names it in the form, `given` is how the command names it."""

    key: str
    slot: int | None  # none: supporting
    title: str
    document: WorksheetDocument
    given: cmd.DocumentLink | cmd.UploadedDocument


def _in_place(d: WorksheetDocument, slot: int | None) -> DocumentInPlace | None:
    try:
        if d.document_id and d.sha256:
            given: cmd.DocumentLink | cmd.UploadedDocument = cmd.UploadedDocument(
                document_id=d.document_id, sha256=d.sha256, title=d.title, slot=slot
            )
            key = f"{d.document_id}-{slot or 0}"
        else:
            given = cmd.DocumentLink(title=d.title, url=d.url, slot=slot)
            key = "link-" + hashlib.sha256(f"{slot}|{d.title}|{d.url}".encode()).hexdigest()[:16]
    except ValidationError:
        return None  # recorded before the commands' bounds (a plain http link): given again, not kept
    return DocumentInPlace(key=key, slot=slot, title=d.title, document=d, given=given)


def documents_in_place(found: CriterionWorksheet) -> list[DocumentInPlace]:
    """What a new submission of the criterion keeps unless the city removes or replaces it: every
    document of the evidence under review, in its slot (an upload by its id, a link as given)."""
    placed = [_in_place(d, s.number) for s in found.required_documents for d in s.documents]
    placed += [_in_place(d, None) for d in found.supporting_documents]
    seen: set[str] = set()
    kept = []
    for d in placed:
        if d is not None and d.key not in seen:
            seen.add(d.key)
            kept.append(d)
    return kept


def kept_documents(
    in_place: list[DocumentInPlace], removed: set[str], replaced: set[int]
) -> list[cmd.DocumentLink | cmd.UploadedDocument]:
    """The documents in place a submission keeps: those not removed, in no slot a new document
    replaces (a new supporting document is added beside the others, it replaces none)."""
    return [d.given for d in in_place if d.key not in removed and (d.slot is None or d.slot not in replaced)]


@dataclass(frozen=True, slots=True)
class Decision:
    level: str | None  # None: not certified
    appeal_deadline: datetime | None
    contestable: list[tuple[str, str]]  # (criterion id, title) an appeal may name
    # Each contestable criterion's required documents (number, title): the slots new evidence may fill.
    slots: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def decision(state: CityState, say: Speaker) -> Decision | None:
    """The committee's decision waiting on the city (accept or appeal); None when none is."""
    cycle = state.cycle
    if cycle is None or state.phase is not Phase.APPEAL_WINDOW:
        return None
    standard = get_standard(cycle.standard_version, cycle.standard_revision)

    # What an appeal may contest, as the rules read: any criterion not approved when the city was
    # not certified, else the rejected ones and those the site visit overturned.
    def contests(criterion_id: str) -> bool:
        item = cycle.items.get(criterion_id)
        if cycle.decided_level is None:
            return item is None or item.status is not ItemStatus.APPROVED
        return criterion_id in cycle.overturned or (item is not None and item.status is ItemStatus.REJECTED)

    contestable = [(c.id, c.title) for c in standard.criteria if contests(c.id)]
    level = cycle.decided_level
    return Decision(
        level=say.gettext(LEVELS[level.value]) if level else None,
        appeal_deadline=cycle.appeal_deadline,
        contestable=contestable,
        slots={
            cid: list(enumerate(standard.criterion(cid).required_documents, start=1))
            for cid, _ in contestable
        },
    )


@dataclass(frozen=True, slots=True)
class Certificate:
    number: str | None
    level: str
    standard: str
    valid_from: datetime
    valid_until: datetime
    status: str
    ended: list[tuple[str | None, str, datetime]] = field(default_factory=list)  # number, level, ended


def certificate(state: CityState, now: datetime, say: Speaker) -> Certificate | None:
    held = state.certification
    if held is None:
        return None
    _ = say.gettext
    if held.suspended:
        status = _("Suspended by the programme")
    elif held.valid_until < now:
        status = _("Expired")
    else:
        status = _("Valid")
    return Certificate(
        number=held.number,
        level=_(LEVELS[held.level.value]),
        standard=held.standard_version,
        valid_from=held.valid_from,
        valid_until=held.valid_until,
        status=status,
    )
