"""Who may give which command: every person's command has its roles; the timers' have none."""

from __future__ import annotations

from domain import commands as cmd
from domain.authority import MAY_GIVE, roles_that_may_give
from domain.programme import PROGRAMME_COMMANDS


def test_every_command_a_person_gives_names_the_roles_that_may_give_it() -> None:
    live = set(cmd.HUMAN_COMMANDS) - set(cmd.RETIRED_COMMANDS) | set(PROGRAMME_COMMANDS)
    assert set(MAY_GIVE) == live
    assert all(MAY_GIVE[c] for c in live), "a command nobody may give is dead"


def test_a_retired_command_is_nobodys_to_give() -> None:
    for command in cmd.RETIRED_COMMANDS:
        assert roles_that_may_give(command) == frozenset(), command.__name__


def test_an_operator_proposes_an_import_and_the_committee_alone_countersigns_it() -> None:
    assert roles_that_may_give(cmd.ProposeImport) == {"operator"}
    assert roles_that_may_give(cmd.CountersignImport) == {"committee"}
    assert roles_that_may_give(cmd.RejectImport) == {"committee"}


def test_the_timers_commands_are_nobodys_to_give() -> None:
    for command in cmd.TIMER_COMMANDS:
        assert roles_that_may_give(command) == frozenset(), command.__name__


def test_the_committee_decides_and_a_city_appeals_never_the_other_way_round() -> None:
    assert roles_that_may_give(cmd.DecideLevel) == {"committee"}
    assert roles_that_may_give(cmd.FileAppeal) == {"city"}
    assert "reviewer" not in roles_that_may_give(cmd.DecideAppeal)
