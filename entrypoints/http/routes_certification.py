"""The city's side of a cycle: snapshot, application, evidence, clarification answers, appeal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.tokens import TokenInfo
from domain import commands as cmd
from entrypoints.http.auth import CityIdPath, giving
from entrypoints.http.commands import actor_of, command_out, send
from entrypoints.http.models import (
    AppealBody,
    ApplicationBody,
    ClarificationsBody,
    CommandOut,
    EvidenceBody,
    Problem,
    SnapshotBody,
    SnapshotOut,
)
from entrypoints.http.services import Commands

router = APIRouter(prefix="/v1/cities/{city_id}", tags=["certification"])


@router.post(
    "/snapshot",
    response_model=SnapshotOut,
    responses={
        429: {
            "model": Problem,
            "description": "More snapshots in 24 hours than the programme allows (`too_frequent`): "
            "the detail says when the next is allowed, Retry-After in how many seconds",
        }
    },
)
async def take_snapshot(
    city_id: CityIdPath,
    body: SnapshotBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.TakeDataSnapshot))],
) -> SnapshotOut:
    """A self-assessment: the indicative level and the roadmap of criteria not yet met."""
    outcome = await commands.give(city_id, body.to_command(), actor_of(who))
    taken = outcome.events[0].data
    return SnapshotOut(
        **command_out(outcome).model_dump(),
        standard_version=taken["standard_version"],
        points=taken["points"],
        score=taken["score"],
        indicative_level=taken["indicative_level"],
        roadmap=taken["roadmap"],
        blocked_by=taken.get("blocked_by") or {},
    )


@router.post("/application", response_model=CommandOut)
async def apply(
    city_id: CityIdPath,
    body: ApplicationBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ApplyForCertification))],
) -> CommandOut:
    """Apply to a cohort (a re-certification when the city holds a certification)."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/evidence", response_model=CommandOut)
async def submit_evidence(
    city_id: CityIdPath,
    body: EvidenceBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.SubmitEvidence))],
) -> CommandOut:
    """Evidence for one or more criteria: documents and a narrative each."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/evidence/close", response_model=CommandOut)
async def close_evidence(
    city_id: CityIdPath,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.CloseEvidenceSubmission))],
) -> CommandOut:
    """Close the submission; the review completes once no item is open."""
    return await send(commands, city_id, cmd.CloseEvidenceSubmission(), who)


@router.post("/clarifications", response_model=CommandOut)
async def answer_clarifications(
    city_id: CityIdPath,
    body: ClarificationsBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.AnswerClarifications))],
) -> CommandOut:
    """Answers to reviewers' clarification requests, before their deadline."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/decision/accept", response_model=CommandOut)
async def accept_decision(
    city_id: CityIdPath,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.AcceptDecision))],
) -> CommandOut:
    """Accept the committee's decision, giving up the appeal: a certification is awarded at once
    (a "not certified" decision closes the cycle at once), without waiting out the appeal window."""
    return await send(commands, city_id, cmd.AcceptDecision(), who)


@router.post("/appeal", response_model=CommandOut)
async def file_appeal(
    city_id: CityIdPath,
    body: AppealBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.FileAppeal))],
) -> CommandOut:
    """Appeal the committee's decision within the appeal window, naming the criteria contested
    (rejected, overturned by the site visit, or any when not certified) and, if need be, new
    evidence for them; or none, against a decision below the recommendation. An appeal that could
    change nothing is refused (409) saying why: a contested criterion approved already, or the
    score even all of them approved would reach."""
    return await send(commands, city_id, body.to_command(), who)
