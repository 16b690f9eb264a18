"""How a command endpoint answers: the command service's outcome as the API's CommandOut."""

from __future__ import annotations

from app.commands import CommandOutcome, CommandService
from app.tokens import TokenInfo
from domain import Actor
from domain import commands as cmd
from entrypoints.http.models import CommandOut, EventOut


def actor_of(who: TokenInfo) -> Actor:
    """Who the events name: the token's role and its actor id."""
    return Actor(role=who.role, id=who.actor_id)


def command_out(outcome: CommandOutcome) -> CommandOut:
    """The fields every command response has: the events recorded and the city's status after."""
    return CommandOut(
        city_id=outcome.city_id,
        events=[
            EventOut(event_id=e.event_id, type=e.type, occurred_at=e.occurred_at, data=e.data)
            for e in outcome.events
        ],
        status=outcome.summary,
    )


async def send(
    commands: CommandService, city_id: str, command: cmd.HumanCommand, who: TokenInfo
) -> CommandOut:
    """Give a command as `who` and answer as every command endpoint does."""
    return command_out(await commands.give(city_id, command, actor_of(who)))
