"""The committee's steps: the site visit (with operators), the level decision, the appeal decision,
the countersignature (or rejection) of an imported certification; and the lead reviewer's
correction of a review decision, the standard committee's hand in the review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.tokens import TokenInfo
from domain import commands as cmd
from entrypoints.http.auth import CityIdPath, giving
from entrypoints.http.commands import send
from entrypoints.http.models import (
    AppealDecisionBody,
    CommandOut,
    CountersignatureBody,
    DeadlineExtensionBody,
    DecisionBody,
    ImportRejectionBody,
    ReopeningBody,
    SiteVisitBody,
)
from entrypoints.http.services import Commands

router = APIRouter(prefix="/v1/cities/{city_id}", tags=["committee"])


@router.post("/site-visit", response_model=CommandOut)
async def site_visit(
    city_id: CityIdPath,
    body: SiteVisitBody,
    commands: Commands,
    who: Annotated[
        TokenInfo,
        Depends(
            giving(cmd.ScheduleSiteVisit, cmd.CompleteSiteVisit, cmd.WaiveSiteVisit, cmd.RescheduleSiteVisit)
        ),
    ],
) -> CommandOut:
    """Schedule a visit (`date`), reschedule it (`date`, `reason`), complete it (`findings`, the
    `date` it took place when it was not scheduled here, `criterion_findings`: confirm, overturn or
    clear), or waive it (`reason`; the token's identity approves it). Completing or waiving it
    records the level recommended from the score."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/decision", response_model=CommandOut)
async def decide_level(
    city_id: CityIdPath,
    body: DecisionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.DecideLevel))],
) -> CommandOut:
    """Decide a level (at most the recommended one), or null: not certified. The appeal window opens."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/appeal/decision", response_model=CommandOut)
async def decide_appeal(
    city_id: CityIdPath,
    body: AppealDecisionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.DecideAppeal))],
) -> CommandOut:
    """Uphold an appeal or dismiss it. Dismissed, the decision stands and the cycle ends. Upheld
    against the decision alone, it grants a higher level (at most the recommended one) and the
    cycle ends; upheld against criteria, they go to a fresh reviewer (never the one who decided
    them), the score is recomputed once they are decided, and the committee decides the new
    recommendation: that decision is final, awarded at once."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/imported-certification/countersignature", response_model=CommandOut)
async def countersign_import(
    city_id: CityIdPath,
    body: CountersignatureBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.CountersignImport))],
) -> CommandOut:
    """Countersign the proposed import: the city holds the certification (CertificationImported,
    naming proposer and countersigner). Its proposer may never countersign it (409)."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/imported-certification/rejection", response_model=CommandOut)
async def reject_import(
    city_id: CityIdPath,
    body: ImportRejectionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.RejectImport))],
) -> CommandOut:
    """Reject the proposed import, with the reason: the city stays registered, uncertified."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/reviews/reopening", response_model=CommandOut, tags=["review"])
async def reopen_review_item(
    city_id: CityIdPath,
    body: ReopeningBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ReopenReviewItem))],
) -> CommandOut:
    """Reopen a decided item (approved or rejected), with the reason, until the review completes:
    it awaits a reviewer's decision again. Only the cycle's lead reviewer may (409 for another)."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/deadline-extensions", response_model=CommandOut)
async def extend_deadline(
    city_id: CityIdPath,
    body: DeadlineExtensionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ExtendDeadline))],
) -> CommandOut:
    """Extend a running deadline to `due_at`, saying why (DeadlineExtended, naming the token's
    identity): its people are told near the new date and it is escalated only after it. A date in
    the past, one before the current deadline, or a deadline that is not running: 409."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)
