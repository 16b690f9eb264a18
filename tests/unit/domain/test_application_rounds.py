"""An application names a round the programme opened (ROUNDS rules): the application layer puts
the round as recorded into the command, and the decider refuses one that is unknown, not yet open
or closed, in words."""

from __future__ import annotations

from datetime import date

import pytest

from domain import CommandRejected, InvalidCommand, decide
from domain import commands as c
from domain import events as ev
from domain.rules import PROGRAMME_REVIEW
from tests.unit.domain.story import STANDARD, T0, given, registered

SPRING = c.ApplicationRound(round_id="2026-spring", opens_on=date(2026, 2, 1), closes_on=date(2026, 3, 31))


def application(round_: c.ApplicationRound | None, round_id: str = "2026-spring") -> c.ApplyForCertification:
    return c.ApplyForCertification(cohort=round_id, standard_version=STANDARD.version, round=round_)


def test_an_application_within_the_rounds_window_opens_a_cycle_in_it() -> None:
    events = decide(given(*registered()), application(SPRING), now=T0)  # T0: 2 March 2026
    [opened] = [e for e in events if isinstance(e, ev.ApplicationSubmitted)]
    assert opened.cohort == "2026-spring"


def test_a_round_the_programme_never_opened_is_refused_saying_where_to_look() -> None:
    with pytest.raises(
        CommandRejected, match="the programme has no round '2019-fall': apply to one of its open"
    ):
        decide(given(*registered()), application(None, "2019-fall"), now=T0)


def test_before_and_after_its_window_the_round_is_refused_with_its_dates() -> None:
    later = SPRING.model_copy(update={"opens_on": date(2026, 4, 1), "closes_on": date(2026, 5, 31)})
    with pytest.raises(CommandRejected, match="round 2026-spring opens for applications on 2026-04-01"):
        decide(given(*registered()), application(later), now=T0)
    earlier = SPRING.model_copy(update={"opens_on": date(2026, 1, 1), "closes_on": date(2026, 3, 1)})
    with pytest.raises(CommandRejected, match="round 2026-spring closed for applications on 2026-03-01"):
        decide(given(*registered()), application(earlier), now=T0)


def test_a_round_given_for_another_id_is_an_invalid_command() -> None:
    with pytest.raises(InvalidCommand, match="the round given \\(2026-spring\\) is not the one applied to"):
        decide(given(*registered()), application(SPRING, "2026-fall"), now=T0)


def test_histories_before_the_rounds_rules_applied_to_any_cohort() -> None:
    events = decide(given(*registered()), application(None, "free text"), now=T0, rules=PROGRAMME_REVIEW)
    assert any(isinstance(e, ev.ApplicationSubmitted) for e in events)
