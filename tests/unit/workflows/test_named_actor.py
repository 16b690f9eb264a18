"""Commands that name who gives them must name the actor: a waiver's approver and an extension's
author are the application layer's to fill, and the workflow refuses one that names someone else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from temporalio.exceptions import ApplicationError

from domain import Actor
from domain import commands as c
from workflows.contracts import check_named_actor

CHAIR = Actor(role="committee", id="chair")
OPERATOR = Actor(role="operator", id="op-1")


def test_a_waiver_approved_in_another_name_is_refused() -> None:
    check_named_actor(CHAIR, c.WaiveSiteVisit(reason="virtual", approved_by="chair"))
    with pytest.raises(ApplicationError, match="names 'chair-2' as approved_by but is given by 'chair'") as e:
        check_named_actor(CHAIR, c.WaiveSiteVisit(reason="virtual", approved_by="chair-2"))
    assert e.value.type == "NotAuthorized"


def test_an_extension_in_another_name_is_refused() -> None:
    extension = c.ExtendDeadline(
        deadline="submission", due_at=datetime(2027, 1, 1, tzinfo=UTC), reason="r", extended_by="op-2"
    )
    with pytest.raises(ApplicationError, match="as extended_by but is given by 'op-1'"):
        check_named_actor(OPERATOR, extension)
    check_named_actor(OPERATOR, extension.model_copy(update={"extended_by": "op-1"}))


def test_a_waiver_that_names_nobody_is_left_to_the_decider() -> None:
    check_named_actor(CHAIR, c.WaiveSiteVisit(reason="virtual"))  # as waivers were given before
