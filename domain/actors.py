"""Who gives a command: the one actor type of workflows, activities and the events' envelopes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Actor(BaseModel):
    """A role (city, reviewer, committee, operator, scheduler, timer) and an id within it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    id: str
