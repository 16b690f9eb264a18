"""The scenarios through the HTTP API (the real ASGI app, worker and time-skipping server of the
`api` fixture): every person's step a request under a token of its actor's role and id, every
wait `env.sleep`, every timer step the workflow's own timer. The outcome is what the API reads
back: the city's events and its status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain import Actor
from domain import commands as cmd
from domain.state import CitySummary
from tests.integration.entrypoints.http.command_requests import request_for
from tests.integration.entrypoints.http.conftest import Api
from tests.polling import eventually
from tests.scenarios import HOME_CITY, Outcome, Recorded, Scenario, Step

REFUSALS = (403, 409, 422)  # a role or city the token may not act on, not allowed now, invalid


def token_binding(city_id: str, step: Step, command: cmd.Command) -> str | None:
    """The city a token for the step's actor is bound to: a city's own, or a reviewer's home."""
    if step.actor.role == "city":
        return city_id
    if isinstance(command, cmd.ReviewEvidence):
        assert command.reviewer_id == step.actor.id, "a review is the token holder's own"
        return command.reviewer_home_city
    if step.actor.role == "reviewer":
        return HOME_CITY  # a reviewer's declarations and sign-off: the scenarios' reviewers live there
    return None


@dataclass(frozen=True)
class HttpRunner:
    api: Api
    # A city identity is bound to one city: walking several cities, staff tokens need a name each.
    per_city_staff: bool = False

    def name(self, city_id: str, step: Step) -> str:
        """The identity of the step's token: the step's actor (its staff per city when asked)."""
        if self.per_city_staff and step.actor.role == "city":
            return f"{step.actor.id}-{city_id}"
        return step.actor.id

    async def __call__(self, scenario: Scenario) -> Outcome:
        refusals = await self.walk(scenario.city_id, scenario.steps)
        return Outcome(
            [Recorded(e["type"], Actor(**e["actor"])) for e in await self.events(scenario.city_id)],
            refusals,
            await self.summary(scenario.city_id),
        )

    async def walk(self, city_id: str, steps: Sequence[Step]) -> list[str]:
        """Give the steps in order, letting each one's time pass first; the refusals' details."""
        env = self.api.env
        assert env is not None, "the scenarios' waits need the time-skipping server"
        refusals: list[str] = []
        for step in steps:
            if step.is_timer:
                before = len(await self.events(city_id))
                await env.sleep(step.after)
                await self.recorded_past(city_id, before)
                continue
            if step.after:
                await env.sleep(step.after)
            refusal = await self.send(city_id, step)
            if refusal is not None:
                refusals.append(refusal)
        return refusals

    async def send(self, city_id: str, step: Step) -> str | None:
        """Send the step's request; the refusal's detail if the API refuses it."""
        assert self.api.env is not None
        command = step.command_at(await self.api.env.get_current_time())
        path, body = request_for(city_id, command)
        if isinstance(command, cmd.ApplyForCertification):
            await self.api.open_round(command.cohort)  # the programme opened the round it names
        headers = await self.api.as_(
            step.actor.role, token_binding(city_id, step, command), self.name(city_id, step)
        )
        response = await self.api.http.post(path, headers=headers, json=body)
        if response.status_code in REFUSALS:
            return str(response.json()["detail"])
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return None

    async def recorded_past(self, city_id: str, version: int) -> None:
        """Wait for the city's events to go past `version` (a timer's events come by an activity)."""
        await eventually(lambda: self.events(city_id), lambda events: len(events) > version)

    async def events(self, city_id: str) -> list[dict[str, Any]]:
        """Every event of the city: the pages, following each one's next link."""
        events: list[dict[str, Any]] = []
        url: str | None = f"/v1/cities/{city_id}/events"
        while url is not None:
            response = await self.api.http.get(url, headers=await self.api.operator())
            if response.status_code == 404:
                return []
            assert response.status_code == 200, response.text
            events += response.json()
            url = response.links.get("next", {}).get("url")
        return events

    async def summary(self, city_id: str) -> CitySummary | None:
        response = await self.api.http.get(f"/v1/cities/{city_id}", headers=await self.api.operator())
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return CitySummary.model_validate({k: v for k, v in response.json().items() if k != "updated_at"})
