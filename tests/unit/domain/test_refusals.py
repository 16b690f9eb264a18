"""A refusal is words and data: its English template and the values it names. The words a
caller reads (`str(e)`, what the API and the CLI say) are the ones the domain always said; the data
crosses to the portal, which says it in the person's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain import CommandRejected, InvalidCommand, Phase, TooFrequent, allowed_commands, fold
from domain import commands as c
from domain.errors import Label, Refusal
from domain.levels import Level
from tests.unit.domain.story import CITY, CRITERIA, DAY, STANDARD, T0, given, registered, when

DOCS_GIVEN = [c.DocumentLink(title="Data inventory 2026", url="https://example.org/inventory.pdf")]


def refused(state_events: list, command: c.Command, now: datetime = T0) -> CommandRejected | InvalidCommand:
    with pytest.raises((CommandRejected, InvalidCommand)) as refusal:
        when(given(*state_events), command, now=now)
    return refusal.value


def test_a_phase_refusal_says_the_old_words_and_carries_the_city_its_phase_and_the_reason() -> None:
    state = given(*registered())
    command = c.SubmitEvidence(
        items=[c.EvidenceItem(criterion_id=CRITERIA[0], narrative="x", documents=DOCS_GIVEN)]
    )

    e = refused(registered(), command)

    assert isinstance(e, CommandRejected)
    allowed = ", ".join(allowed_commands(state))
    assert str(e) == (
        f"{CITY} is registered: SubmitEvidence needs the city to be evidence (allowed now: {allowed})"
    )
    assert e.reason == f"{CITY} is registered: SubmitEvidence needs the city to be evidence"
    assert e.refusal.template == "{reason} (allowed now: {allowed})"
    reason = e.refusal.params["reason"]
    assert isinstance(reason, Refusal)
    assert reason.template == "{city_id} is {phase}: {reason}"
    assert reason.params["phase"] == Label("Phase", Phase.REGISTERED.value)
    inner = reason.params["reason"]
    assert isinstance(inner, Refusal)
    assert inner.params == {
        "command": Label("Command", "SubmitEvidence"),
        "phases": (Label("Phase", Phase.EVIDENCE.value),),
    }


def test_a_day_is_named_as_a_day_and_said_in_iso_8601_in_english() -> None:
    command = c.ApplyForCertification(
        cohort="2027-spring",
        standard_version=STANDARD.version,
        round=c.ApplicationRound(
            round_id="2027-spring", opens_on=date(2027, 3, 1), closes_on=date(2027, 4, 1)
        ),
    )

    e = refused(registered(), command)

    assert e.refusal.english().startswith(
        f"{CITY} is registered: round 2027-spring opens for applications on 2027-03-01 (allowed now: "
    )
    assert e.refusal.params["reason"].params["reason"].params["day"] == date(2027, 3, 1)  # type: ignore[union-attr]


def test_too_many_snapshots_say_when_to_try_again_in_the_old_words() -> None:
    snapshot = c.TakeDataSnapshot(standard_version=STANDARD.version, answers={CRITERIA[0]: "met"})
    state = given(*registered())
    taken: list[datetime] = []
    moment = T0
    with pytest.raises(TooFrequent) as refusal:
        for _ in range(1000):  # the policy's daily number is far below this
            state = fold(state, when(state, snapshot, now=moment))
            taken.append(moment)
            moment += timedelta(minutes=1)

    e = refusal.value
    assert str(e) == (
        f"Lakeside has taken {len(taken)} data snapshots in the last 24 hours, the most the "
        f"programme allows; try again after {taken[0] + DAY:%Y-%m-%d %H:%M} UTC"
    )
    assert e.retry_at == taken[0] + DAY
    assert e.refusal.params["retry_at"] == taken[0] + DAY


def test_a_refusal_crosses_as_data_and_comes_back_the_same() -> None:
    refusal = Refusal(
        "{who} is {phase}: {reason}",
        who="lakeside",
        phase=Phase.COMMITTEE,
        reason=Refusal(
            "{level} by {day}, {moment}, {count} of {share:.0%} ({price}); {ids:or}",
            level=Level.GOLD,
            day=date(2026, 3, 1),
            moment=datetime(2026, 3, 1, 9, 30, tzinfo=T0.tzinfo),
            count=3,
            share=0.675,
            price=Decimal("1.50"),
            ids=CRITERIA[:2],
        ),
    )

    back = Refusal.from_data(refusal.to_data())

    assert back == refusal
    assert back.english() == (
        f"lakeside is committee: gold by 2026-03-01, 2026-03-01T09:30:00+00:00, 3 of 68% (1.50); "
        f"{CRITERIA[0]} or {CRITERIA[1]}"
    )


def test_a_refusal_without_values_is_said_as_written() -> None:
    assert str(CommandRejected("migration mode is already off")) == "migration mode is already off"
    assert str(InvalidCommand("{not a template}")) == "{not a template}"
