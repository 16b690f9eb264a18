"""Evidence and approvals as a careful city and reviewer give them: every required-document slot
filled, the checklist's k items claimed and found met. The review's rules (domain/worksheet.py)
refuse less, and a benchmark measures the path people take, not refusals."""

from __future__ import annotations

from typing import Any

from domain.standard import get_standard
from domain.worksheet import enough_items

STANDARD = "wwc-2022"


def earning_order(count: int) -> list[str]:
    """The first `count` criteria of the standard in earning order: every prefix earns all its
    points, the level requirements first, so `count` criteria reach the level they allow."""
    return list(get_standard(STANDARD).in_earning_order())[:count]


def complete_evidence(criterion_id: str) -> dict[str, Any]:
    criterion = get_standard(STANDARD).criterion(criterion_id)
    slug = criterion_id.lower()
    documents = [
        {"title": title, "url": f"https://example.org/{slug}/{n}.pdf", "slot": n}
        for n, title in enumerate(criterion.required_documents, start=1)
    ]
    documents.append({"title": "Evidence pack", "url": f"https://example.org/{slug}/pack.pdf"})
    return {
        "criterion_id": criterion_id,
        "documents": documents,
        "narrative": "see pack",
        "claims": enough_items(criterion),
    }


def complete_approval(criterion_id: str) -> dict[str, Any]:
    criterion = get_standard(STANDARD).criterion(criterion_id)
    return {"criterion_id": criterion_id, "decision": "approve", "checklist_met": enough_items(criterion)}


def open_round(round_id: str) -> dict[str, str]:
    """An application's round as the command service puts it in from the programme's records:
    open for the whole benchmark (the benchmarks give commands to the decider and the workflow
    directly, past the command service)."""
    return {"round_id": round_id, "opens_on": "2000-01-01", "closes_on": "2099-12-31"}
