"""Commands carry their kind, so one JSON shape (`AnyCommand`) brings back the right class."""

from __future__ import annotations

import re

import pytest
from pydantic import TypeAdapter, ValidationError

from domain import commands as c
from domain.ids import HTTPS_URL_MESSAGE
from domain.programme import PROGRAMME_COMMANDS

ANY_COMMAND: TypeAdapter[c.Command] = TypeAdapter(c.AnyCommand)
EVERY_COMMAND = [*c.HUMAN_COMMANDS, *c.TIMER_COMMANDS]


def test_every_command_class_is_in_any_command_once() -> None:
    # The programme's own commands are not a city's: no city workflow is given them.
    every_subclass = set(c.Command.__subclasses__()) - set(PROGRAMME_COMMANDS)
    assert set(EVERY_COMMAND) == every_subclass
    assert len(EVERY_COMMAND) == len(every_subclass)


@pytest.mark.parametrize("kind", EVERY_COMMAND, ids=lambda k: k.__name__)
def test_a_command_names_its_own_kind(kind: type[c.Command]) -> None:
    assert kind.model_fields["kind"].default == kind.command_name() == kind.__name__


def test_a_command_comes_back_from_json_as_its_own_class() -> None:
    given = c.ReviewEvidence(
        reviewer_id="rev-ana",
        reviewer_home_city="riverton",
        items=[c.ReviewItem(criterion_id="DM1", decision=c.Verdict.APPROVE)],
    )
    sent = given.model_dump(mode="json")
    assert sent["kind"] == "ReviewEvidence"
    assert ANY_COMMAND.validate_python(sent) == given


def test_a_timer_command_has_a_kind_too() -> None:
    assert ANY_COMMAND.validate_python({"kind": "SendReminder", "threshold_days": 90}) == c.SendReminder(
        threshold_days=90
    )


def test_an_unknown_kind_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="'Celebrate' found using 'kind' does not match") as info:
        ANY_COMMAND.validate_python({"kind": "Celebrate"})
    assert "'RegisterCity'" in str(info.value)


def test_a_kind_that_contradicts_the_class_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        c.Withdraw.model_validate({"kind": "FileAppeal", "reason": "r"})


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "http://example.org/pack.pdf", "data:text/html,hi", "https://", "https:///path"],
)
def test_a_document_link_must_be_https_to_a_host(url: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(HTTPS_URL_MESSAGE)):
        c.EvidenceItem(criterion_id="DM1", documents=[{"title": "Pack", "url": url}])


def test_a_document_is_bounded_in_its_title_link_and_number() -> None:
    pack = {"title": "Pack", "url": "https://example.org/pack.pdf"}
    assert c.EvidenceItem(criterion_id="DM1", documents=[pack]).documents[0].url == pack["url"]
    for documents in (
        [{**pack, "title": "t" * 201}],
        [{**pack, "url": "https://example.org/" + "a" * 2_000}],
        [pack] * (c.MAX_DOCUMENTS + 1),
        [{**pack, "title": "line\nbreak"}],
    ):
        with pytest.raises(ValidationError):
            c.EvidenceItem(criterion_id="DM1", documents=documents)
