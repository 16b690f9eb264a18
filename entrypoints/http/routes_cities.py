"""Cities: registration and imports (operators), and the reads every role may make."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

import readmodel
from app import rounds as app_rounds
from app.assignment import check_may_see_evidence
from app.errors import UnknownCity
from app.services import Services
from app.tokens import TokenInfo
from domain import CityState, Level, Phase
from domain import commands as cmd
from entrypoints.http.auth import (
    CityIdPath,
    CityReader,
    Principal,
    acting_on_city,
    giving,
    giving_anywhere,
    note,
)
from entrypoints.http.commands import actor_of, command_out, send
from entrypoints.http.models import (
    ActorOut,
    AsOf,
    CommandOut,
    EnvelopeOut,
    ImportCertificationBody,
    ImportOut,
    PastCertificationBody,
    ProfileCorrectionBody,
    RegisterCityBody,
    ReinstatementBody,
    RejoiningBody,
    ReviewerAssignmentBody,
    RevocationBody,
    SuspensionBody,
    WithdrawalBody,
    WorkflowRestartOut,
)
from entrypoints.http.services import Commands, Svc, Workflows
from eventstore import RecordedEvent
from readmodel import CityStatus

router = APIRouter(prefix="/v1", tags=["cities"])
_MAX_INT = 2**31 - 1


@router.post("/cities", status_code=201, response_model=CommandOut, summary="Register a city")
async def register(
    request: Request,
    body: RegisterCityBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving_anywhere(cmd.RegisterCity))],
) -> CommandOut:
    """Check eligibility, record CityRegistered and start the city's workflow. An ineligible city
    is refused with 422 and the reasons; nothing is recorded and no workflow is started."""
    note(request, city_id=body.id)
    return command_out(await commands.register(body.to_command(), actor_of(who)))


@router.post("/cities/{city_id}/imported-certification", response_model=ImportOut)
async def import_certification(
    city_id: CityIdPath,
    body: ImportCertificationBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ProposeImport))],
) -> ImportOut:
    """Propose a certification the city earned before citycert (CertificationImportProposed): the
    city holds it once a committee member who did not propose it countersigns it. While the
    store's migration mode is on it is recorded at once (CertificationImported, naming the mode).
    Its days are dates: held from 00:00 UTC on `valid_from` through the whole of `valid_until`
    (the events record those two moments). It may last at most the programme's validity from its
    award, which is not in the future (422)."""
    out = await send(commands, city_id, body.to_command(who.actor_id), who)
    return ImportOut(**dict(out), valid_from=body.valid_from, valid_until=body.valid_until)


@router.post("/cities/{city_id}/reviewer-assignments", response_model=CommandOut)
async def assign_reviewer(
    city_id: CityIdPath,
    body: ReviewerAssignmentBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.AssignReviewer))],
) -> CommandOut:
    """Assign a reviewer to criteria of the city's current cycle (never a reviewer from the city)."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/cities/{city_id}/withdrawal", response_model=CommandOut)
async def withdraw(
    city_id: CityIdPath,
    body: WithdrawalBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.Withdraw))],
) -> CommandOut:
    """Withdraw the city from the programme, with the reason; it accepts no command afterwards."""
    return await send(commands, city_id, body.to_command(), who)


@router.post("/cities/{city_id}/workflow/restart", response_model=WorkflowRestartOut)
async def restart_workflow(
    city_id: CityIdPath,
    workflows: Workflows,
    who: Annotated[TokenInfo, Depends(acting_on_city("operator"))],
) -> WorkflowRestartOut:
    """Start a new run of the city's workflow when none is running (terminated, failed, timed out,
    missing: `citycert verify` lists them), from the city's events folded; records nothing. 409
    (`workflow_running`) while a run is running, of two restarts at once for one of them, and for
    a withdrawn city (`command_rejected`), whose workflow ended for good."""
    outcome = await workflows.restart(city_id, actor_of(who))
    return WorkflowRestartOut(
        city_id=outcome.city_id,
        workflow_id=outcome.workflow_id,
        run_id=outcome.run_id,
        previous=outcome.previous,
        status=outcome.summary,
    )


@router.post("/cities/{city_id}/profile-corrections", response_model=CommandOut)
async def correct_profile(
    city_id: CityIdPath,
    body: ProfileCorrectionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.CorrectCityProfile))],
) -> CommandOut:
    """Correct the city's name, population (with the figure's source and year) or region, with the
    reason (CityProfileCorrected names what changed and who). 409 when nothing would change."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/cities/{city_id}/past-certifications", response_model=CommandOut)
async def import_past_certification(
    city_id: CityIdPath,
    body: PastCertificationBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ImportPastCertification))],
) -> CommandOut:
    """Record a certification the city held before citycert that has ended, as history
    (PastCertificationImported): the city is not certified by it, and needs no countersignature
    for it; its next cycle's outcome (re-certified, moved up, moved down) compares with the latest
    one. 409 for one still valid (propose it as an imported certification instead)."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.get("/cities", response_model=list[CityStatus])
async def list_cities(
    svc: Svc,
    who: Principal,
    level: Level | None = None,
    phase: Phase | None = None,
    round_id: Annotated[
        str | None,
        Query(alias="round", max_length=200, pattern=r"^[^\x00]*$", description="only cities of this round"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_INT)] = 0,
    after: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00]*$",
            description="only cities whose id sorts after this one: the last id of the page before, "
            "for a next page that costs the same however far it is",
        ),
    ] = None,
) -> list[CityStatus]:
    """Cities from the city_status projection, by id; a city token sees its own city only. A round
    matches the cities whose cycle recorded its id or a cohort of earlier data it adopted. Page
    with `after` (the last id of the page before) rather than `offset` through a long list."""
    only = who.city_id if who.role == "city" else None
    names = None if round_id is None else await app_rounds.recorded_as(svc.store, round_id)
    return await readmodel.list_cities(
        svc.store,
        level=level,
        phase=phase,
        round_id=names,
        only_city=only,
        limit=limit,
        offset=offset,
        after=after,
    )


async def _known_city(svc: Services, city_id: str) -> CityStatus:
    status = await readmodel.city_summary(svc.store, city_id)
    if status is None:
        raise UnknownCity(city_id)
    return status


@router.get("/cities/{city_id}", response_model=CityStatus)
async def city_status(city_id: CityIdPath, svc: Svc, who: CityReader) -> CityStatus:
    """Where the city stands: phase, level, validity, score, recommended level."""
    return await _known_city(svc, city_id)


def _envelope(e: RecordedEvent) -> EnvelopeOut:
    return EnvelopeOut(
        event_id=e.event_id,
        version=e.version,
        type=e.type,
        schema_version=e.schema_version,
        occurred_at=e.occurred_at,
        recorded_at=e.recorded_at,
        actor=ActorOut(role=e.actor.role, id=e.actor.id),
        workflow_id=e.correlation.workflow_id if e.correlation else None,
        run_id=e.correlation.run_id if e.correlation else None,
        data=e.data,
    )


EVENTS_PAGE = 100  # events per page of /events unless the client asks for fewer or more
MAX_EVENTS_PAGE = 1000  # the most one page holds
_NEXT_PAGE = {
    "Link": {
        "description": 'When more events follow: `<...?after=N&limit=L>; rel="next"`, the next page',
        "schema": {"type": "string"},
    }
}


@router.get(
    "/cities/{city_id}/events",
    response_model=list[EnvelopeOut],
    responses={200: {"headers": _NEXT_PAGE}},
)
async def city_events(
    city_id: CityIdPath,
    request: Request,
    response: Response,
    svc: Svc,
    who: CityReader,
    after: Annotated[
        int,
        Query(ge=0, le=_MAX_INT, description="The cursor: the events after this version (0: from the first)"),
    ] = 0,
    from_version: Annotated[
        int,
        Query(
            ge=1,
            le=_MAX_INT,
            deprecated=True,
            description="The events from this version on (`after` minus 1)",
        ),
    ] = 1,
    limit: Annotated[
        int, Query(ge=1, le=MAX_EVENTS_PAGE, description=f"Events per page, at most {MAX_EVENTS_PAGE}")
    ] = EVENTS_PAGE,
) -> list[EnvelopeOut]:
    """One page of the city's events in order, as recorded (upcast to today's schema versions).
    When more follow, the `Link` header names the next page (`rel="next"`, with `after` the last
    version of this one); the last page has none. The database reads the page alone."""
    if "after" in request.query_params and "from_version" in request.query_params:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "from_version"),
                    "msg": "give after or from_version, not both",
                    "type": "value_error",
                }
            ]
        )
    start = after if "after" in request.query_params else from_version - 1
    await _known_city(svc, city_id)
    await check_may_see_evidence(svc.store, city_id, who.role, who.actor_id)
    page = await svc.store.read_stream_page(readmodel.city_stream(city_id), after=start, limit=limit)
    if page.next_after is not None:
        response.headers["Link"] = f'<{request.url.path}?after={page.next_after}&limit={limit}>; rel="next"'
    return [_envelope(e) for e in page.events]


@router.get("/cities/{city_id}/state", response_model=CityState)
async def city_state(
    city_id: CityIdPath,
    svc: Svc,
    who: CityReader,
    as_of: Annotated[
        AsOf | None,
        Query(description="A moment with its time zone: the state folded from the events recorded by then"),
    ] = None,
) -> CityState:
    """The city's state now, as the projection holds it (no fold), or as the store held it at
    `as_of`, folded from the events recorded by then. A reviewer reads a city whose cycle runs
    under the latest rules once they declared no conflict with it (403 before, saying so)."""
    await check_may_see_evidence(svc.store, city_id, who.role, who.actor_id)
    if as_of is None:
        state = await readmodel.city_state(svc.store, city_id)
        if state is None:
            raise UnknownCity(city_id)
        return state
    await _known_city(svc, city_id)
    return await readmodel.load_city_state(svc.store, city_id, as_of=as_of)


@router.post("/cities/{city_id}/certification/suspension", response_model=CommandOut)
async def suspend_certification(
    city_id: CityIdPath,
    body: SuspensionBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.SuspendCertification))],
) -> CommandOut:
    """Suspend the certification the city holds, with the reason: its certificate shows as
    suspended until it is reinstated. 409 when it holds none or it is already suspended."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/cities/{city_id}/certification/reinstatement", response_model=CommandOut)
async def reinstate_certification(
    city_id: CityIdPath,
    body: ReinstatementBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.ReinstateCertification))],
) -> CommandOut:
    """Reinstate a suspended certification, with the reason. 409 when it is not suspended."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/cities/{city_id}/certification/revocation", response_model=CommandOut)
async def revoke_certification(
    city_id: CityIdPath,
    body: RevocationBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.RevokeCertification))],
) -> CommandOut:
    """Revoke the certification the city holds, with the reason: it ends for good
    (CertificationEnded, reason revoked), and its certificate shows as revoked."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)


@router.post("/cities/{city_id}/rejoining", response_model=CommandOut)
async def rejoin_programme(
    city_id: CityIdPath,
    body: RejoiningBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving(cmd.RejoinProgramme))],
) -> CommandOut:
    """Bring a withdrawn city back into the programme, with the reason: registered again under
    its id, its history kept (its workflow starts again). 409 when the city has not withdrawn."""
    return await send(commands, city_id, body.to_command(who.actor_id), who)
