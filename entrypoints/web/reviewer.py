"""What a reviewer's pages say: their queue by city, soonest due first (readmodel.reviewer_queue),
where they stand with each city (no conflict declared yet, declared, or a conflict), and a
criterion's worksheet in words (readmodel.city_worksheet). The words are the portal's; the rules
stay the domain's (a decision is given through the command service, which says why it refuses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.standard import get_standard
from domain.state import AWAITING_REVIEWER, CityState, ItemStatus
from domain.worksheet import CriterionWorksheet, cannot_earn_refusal, item_shortfalls
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.refusals import say_refusal
from readmodel import ReviewItem

STATUSES: dict[ItemStatus | None, str] = {
    None: N_("No evidence submitted"),
    ItemStatus.SUBMITTED: N_("Waiting for a reviewer's decision"),
    ItemStatus.CLARIFICATION_REQUESTED: N_("Waiting for the city's answer"),
    ItemStatus.CLARIFICATION_ANSWERED: N_("Answered: waiting for a reviewer's decision"),
    ItemStatus.APPROVED: N_("Approved"),
    ItemStatus.REJECTED: N_("Rejected"),
}

Standing = Literal["undeclared", "declared", "conflict"]


def standing_of(state: CityState | None, reviewer_id: str) -> Standing:
    """Where the reviewer stands with the city's open cycle (what the queue shows beside it)."""
    cycle = state.cycle if state is not None else None
    if cycle is not None and reviewer_id in cycle.conflicts_declared:
        return "conflict"
    if cycle is not None and reviewer_id in cycle.no_conflict_declared:
        return "declared"
    return "undeclared"


@dataclass(frozen=True, slots=True)
class QueueRow:
    criterion_id: str
    title: str  # the standard's, in English
    status: str
    due_at: datetime | None
    escalated: bool
    yours: bool  # assigned to this reviewer (else waiting for any reviewer)


@dataclass(frozen=True, slots=True)
class QueueCity:
    city_id: str
    name: str
    standing: Standing
    soonest: datetime | None
    rows: list[QueueRow] = field(default_factory=list)


def queue(
    items: list[ReviewItem], states: dict[str, CityState], reviewer_id: str, say: Speaker
) -> list[QueueCity]:
    """The reviewer's items by city, each city in the order of its soonest due item (the query's
    order: soonest due first), its items in that order too."""
    cities: dict[str, QueueCity] = {}
    for item in items:
        state = states.get(item.city_id)
        if item.city_id not in cities:
            cities[item.city_id] = QueueCity(
                city_id=item.city_id,
                name=state.name if state is not None else item.city_id,
                standing=standing_of(state, reviewer_id),
                soonest=item.due_at,
            )
        cycle = state.cycle if state is not None else None
        title = ""
        if cycle is not None:
            title = (
                get_standard(cycle.standard_version, cycle.standard_revision)
                .criterion(item.criterion_id)
                .title
            )
        cities[item.city_id].rows.append(
            QueueRow(
                criterion_id=item.criterion_id,
                title=title,
                status=say.gettext(STATUSES[item.status]),
                due_at=item.due_at,
                escalated=item.escalated,
                yours=item.reviewer_id == reviewer_id,
            )
        )
    return list(cities.values())


def status_words(criterion: CriterionWorksheet, say: Speaker) -> str:
    return say.gettext(STATUSES[criterion.status])


def decidable(criterion: CriterionWorksheet) -> bool:
    """Waiting for a reviewer's decision: what the worksheet offers a decision on (the domain says
    whether this reviewer may give it)."""
    return criterion.status in AWAITING_REVIEWER


# Words a page says with the language they are in when it is not the page's (refusals.py).
Said = tuple[str, str | None]


def shortfalls_said(say: Speaker, state: CityState, criterion: CriterionWorksheet) -> list[Said]:
    """What an approval of `criterion` would fall short on (the worksheet's `shortfalls`, the same
    rules' data: domain/worksheet.py item_shortfalls), each in `say`'s language."""
    cycle = state.cycle
    if cycle is None:
        return []
    standard = get_standard(cycle.standard_version, cycle.standard_revision)
    item = cycle.items.get(criterion.criterion_id)
    return [say_refusal(say, r) for r in item_shortfalls(standard.criterion(criterion.criterion_id), item)]


def cannot_earn_said(say: Speaker, criterion: CriterionWorksheet) -> Said | None:
    """Why the criterion cannot earn its point (the worksheet's `cannot_earn`), in `say`'s language."""
    why = cannot_earn_refusal(criterion.blocked_by)
    return say_refusal(say, why) if why else None
