"""Temporal's answers as the application's errors: what was not found keeps Temporal's own words
for the API and the CLI, and is a refusal of ours that a page says in the person's language."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

from app import errors
from domain.errors import Quoted
from entrypoints.web.i18n import Speaker
from entrypoints.web.refusals import in_words


def test_temporals_not_found_keeps_its_words_for_the_api_and_is_said_in_spanish_on_a_page() -> None:
    # Given Temporal answering that it has no workflow of the id asked for
    answer = RPCError("workflow not found for ID: city-lakeside", RPCStatusCode.NOT_FOUND, b"")

    # When the application translates it
    said = errors.translate(answer)

    # Then it is not found, says what was not found with Temporal's words, and carries a refusal
    assert isinstance(said, errors.NotFound) and said.code == "not_found"
    assert said.message == ("Temporal has no such workflow or run: workflow not found for ID: city-lakeside")
    assert said.refusal is not None and isinstance(said.refusal.params["why"], Quoted)
    assert said.refusal.to_data()["template"] == "Temporal has no such workflow or run: {why}"
    # And a page in Spanish or Portuguese says what Temporal's words mean, in its own language
    assert in_words(Speaker("es"), said) == (
        "Temporal no tiene ese flujo de trabajo ni esa ejecución: nunca se inició, "
        "o terminó hace tanto que Temporal ya no lo guarda",
        None,
    )
    spoken, language = in_words(Speaker("pt"), said)
    assert language is None and spoken.startswith("O Temporal não tem esse fluxo de trabalho")
