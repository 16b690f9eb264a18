"""The programme's store-wide settings that are facts in its log: migration mode (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.programme import ProgrammeStatus
from app.tokens import TokenInfo
from domain.programme import SwitchMigrationMode
from entrypoints.http.auth import giving_anywhere, role_in
from entrypoints.http.commands import actor_of
from entrypoints.http.models import MigrationModeBody, MigrationModeOut, MigrationModeSwitchOut
from entrypoints.http.services import Commands, Svc

router = APIRouter(prefix="/v1/programme", tags=["programme"])


def _out(status: ProgrammeStatus) -> MigrationModeOut:
    mode = status.migration_mode
    return MigrationModeOut(
        on=mode is not None,
        since=mode.since if mode else None,
        switched_on_by=mode.switched_on_by if mode else None,
        reason=mode.reason if mode else None,
        switches=[
            MigrationModeSwitchOut(
                on=e.type == "MigrationModeSwitchedOn",
                switched_by=e.data["switched_by"],
                switched_at=e.data["switched_at"],
                reason=e.data["reason"],
            )
            for e in status.events
        ],
    )


@router.get("/migration-mode", response_model=MigrationModeOut)
async def migration_mode(
    svc: Svc,
    who: Annotated[TokenInfo, Depends(role_in("operator", "committee"))],
) -> MigrationModeOut:
    """Whether migration mode is on for the whole store, and every switch of it (who, when, why)."""
    return _out(await svc.commands.migration_mode())


@router.put("/migration-mode", response_model=MigrationModeOut)
async def switch_migration_mode(
    body: MigrationModeBody,
    commands: Commands,
    who: Annotated[TokenInfo, Depends(giving_anywhere(SwitchMigrationMode))],
) -> MigrationModeOut:
    """Switch migration mode on or off for the whole store, with the reason; recorded in the
    programme stream. While it is on, an operator's import is recorded without a committee
    countersignature (the event says so). Switching it to what it already is: 409."""
    return _out(await commands.switch_migration_mode(body.to_command(), actor_of(who)))
