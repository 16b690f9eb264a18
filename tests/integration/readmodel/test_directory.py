"""The public certificates as the projections give them: given cities' stories appended through
the store, what the loader answers, with rounds under embargo left out."""

from __future__ import annotations

from datetime import timedelta

from app.directory import load_certificate, load_public_certificates, outside
from domain import commands as c
from domain.levels import Level
from tests import scenarios
from tests.integration.eventstore.stories import CityRun

EVERY = outside(frozenset())


async def certified(store, city_id: str, round_id: str, level: Level = Level.SILVER) -> CityRun:
    run = CityRun(store, city_id)
    await run.register()
    approved = scenarios.SILVER_SCORE if level is Level.SILVER else scenarios.GOLD_SCORE
    await run.walk(scenarios.certify(scenarios.apply(round_id), approved, level))
    return run


async def test_every_certificate_is_loaded_with_its_city_and_an_embargoed_round_is_not(store) -> None:
    announced = await certified(store, "lakeside", "2026-spring")
    embargoed = await certified(store, "goldbay", "2026-fall", Level.GOLD)
    now = max(announced.now, embargoed.now) + timedelta(days=1)

    everything = await load_public_certificates(store, now=now, visible=EVERY)
    public = await load_public_certificates(store, now=now, visible=outside(frozenset({"2026-fall"})))

    assert [(x.city_id, x.level, x.round, x.status) for x in everything] == [
        ("goldbay", "gold", "2026-fall", "valid"),
        ("lakeside", "silver", "2026-spring", "valid"),
    ]
    assert [x.city_id for x in public] == ["lakeside"]
    held = announced.state.certification
    assert held is not None and public[0].number == held.number
    assert public[0].valid_until == held.valid_until.date()


async def test_a_certificate_is_found_by_its_number_in_any_case_and_shows_its_revocation(store) -> None:
    run = await certified(store, "lakeside", "2026-spring")
    held = run.state.certification
    assert held is not None and held.number is not None
    await run.do(c.RevokeCertification(reason="the portal was never public", revoked_by="chair"))

    found = await load_certificate(store, held.number.lower(), now=run.now, visible=EVERY)
    hidden = await load_certificate(
        store, held.number, now=run.now, visible=outside(frozenset({"2026-spring"}))
    )

    assert found is not None and (found.number, found.status) == (held.number, "revoked")
    assert found.statement.endswith(": the portal was never public.")
    assert hidden is None
    assert await load_certificate(store, "CC-2026-ATLANTIS-1", now=run.now, visible=EVERY) is None
    assert await load_certificate(store, "no such thing", now=run.now, visible=EVERY) is None
