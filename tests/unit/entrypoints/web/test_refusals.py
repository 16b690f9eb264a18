"""The domain's refusals in the portal's languages: every template a raise site in domain/ writes
has a Spanish and a Portuguese translation naming the same values; a page says a refusal whole in
its language (days, numbers, lists and labels as the language writes them), else whole in English,
marked as English."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import errors
from domain import CommandRejected, InvalidCommand, Phase
from domain import commands as c
from domain.errors import REFUSAL_KEYWORDS, English, Label, Refusal
from domain.levels import Level
from domain.worksheet import shortfall_refusals, shortfalls
from entrypoints.web.i18n import LANGUAGES, Speaker
from entrypoints.web.refusals import in_words, needs_words, say_refusal
from tests.unit.domain.story import CITY, CRITERIA, STANDARD, given, registered, when

DOMAIN = Path(__file__).resolve().parents[4] / "domain"
FOLDER = resources.files("entrypoints.web")
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def refusal_templates(folder: Path = DOMAIN) -> set[str]:
    """Every refusal template written at a raise site in `folder` that has words to translate."""
    found = extract_from_dir(str(folder), method_map=[("**.py", "python")], keywords=REFUSAL_KEYWORDS)
    return {message for _, _, message, _, _ in found if isinstance(message, str) and needs_words(message)}


def fields(template: str) -> list[tuple[str, str | None, str]]:
    return sorted(
        (n, conv, spec or "") for _, n, spec, conv in string.Formatter().parse(template) if n is not None
    )


def catalog(language: str):  # type: ignore[no-untyped-def]
    with (FOLDER / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def missing(templates: set[str], language: str) -> list[str]:
    """The templates `language`'s catalog does not translate, or translates naming other values."""
    words = catalog(language)
    wrong = []
    for template in sorted(templates):
        entry = words.get(template)
        if entry is None or not entry.string or fields(str(entry.string)) != fields(template):
            wrong.append(template)
    return wrong


def test_the_extraction_finds_the_refusals_of_the_decider_the_rounds_and_the_programme() -> None:
    templates = refusal_templates()
    assert len(templates) > 100
    assert "{city_id} is {phase}: {reason}" in templates  # the decider's own wrapper
    assert "round {round} already is as asked: nothing changes" in templates  # domain/rounds.py
    assert "migration mode is already off" in templates  # domain/programme.py
    assert "{reason} (allowed now: {allowed})" in templates  # domain/errors.py


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_refusal_template_is_translated_naming_the_same_values(language: str) -> None:
    assert missing(refusal_templates(), language) == []


def test_a_refusal_without_a_translation_is_found_missing(tmp_path: Path) -> None:
    # The check above can fail: a raise site with a template no catalog knows is named.
    (tmp_path / "new_rule.py").write_text(
        'raise CommandRejected("a rule written today, {city_id}, not yet translated", city_id=x)\n'
    )
    assert missing(refusal_templates(tmp_path), "es") == [
        "a rule written today, {city_id}, not yet translated"
    ]


def test_a_phase_refusal_is_said_whole_in_spanish_with_the_portals_names_for_phases_and_commands() -> None:
    command = c.SubmitEvidence(
        items=[
            c.EvidenceItem(
                criterion_id=CRITERIA[0],
                narrative="x",
                documents=[c.DocumentLink(title="Inventory", url="https://example.org/inventory.pdf")],
            )
        ]
    )
    with pytest.raises(CommandRejected) as refused:
        when(given(*registered()), command)

    words, lang = in_words(Speaker("es"), refused.value)

    assert lang is None
    assert words.startswith(
        f"{CITY} está en la fase «Registrada»: «presentar evidencia» solo es posible con la ciudad en la "
        "fase Reuniendo evidencia (posible ahora: tomar una instantánea de datos, solicitar la certificación"
    )
    assert in_words(Speaker("en"), refused.value) == (str(refused.value), None)


def test_days_numbers_lists_and_levels_are_written_as_the_language_writes_them() -> None:
    refusal = Refusal(
        "{city_id} is {phase}: {reason}",
        city_id=CITY,
        phase=Phase.APPEAL_WINDOW,
        reason=Refusal(
            "even with every contested criterion approved the city would score {points} of {possible} "
            "({score:.0%}), {level}: not above the level decided ({decided}), so the appeal could change "
            "nothing",
            points=1200,
            possible=1500,
            score=0.8,
            level=Level.GOLD,
            decided=Label("Level", "not certified"),
        ),
    )
    assert say_refusal(Speaker("pt"), refusal) == (
        f"{CITY} está na fase «Decidida»: mesmo com todos os critérios contestados aprovados, a cidade "
        "obteria 1.200 de 1.500 (80 %), Ouro: não supera o nível decidido (Não certificada), então o "
        "recurso não poderia mudar nada",
        None,
    )
    day = Refusal("round {round} opens for applications on {day}", round="2027-spring", day=date(2027, 3, 1))
    assert say_refusal(Speaker("es"), day) == (
        "la convocatoria 2027-spring se abre a solicitudes el 1 de marzo de 2027",
        None,
    )
    ids = Refusal("no evidence submitted for {ids}", ids=CRITERIA[:3])
    assert say_refusal(Speaker("es"), ids)[0] == (
        f"no se presentó evidencia para {CRITERIA[0]}, {CRITERIA[1]} y {CRITERIA[2]}"
    )
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    closed = Refusal("the appeal window closed at {deadline}", deadline=moment)
    assert say_refusal(Speaker("es"), closed) == (
        "el plazo de apelación se cerró el 2 mar 2026, 9:00:00",
        None,
    )


def test_a_refusal_with_a_part_not_translated_or_naming_english_words_is_said_in_english() -> None:
    untranslated = Refusal(
        "{city_id} is {phase}: {reason}", city_id=CITY, phase=Phase.REVIEW, reason=Refusal("a rule of today")
    )
    english_inside = InvalidCommand(
        "{problems:;}", problems=[English("DM1 has 3 checklist items; item 7 does not exist")]
    )

    assert say_refusal(Speaker("es"), untranslated) == (untranslated.english(), "en")
    assert in_words(Speaker("pt"), english_inside) == (str(english_inside), "en")


def test_the_applications_own_words_are_english() -> None:
    said = errors.Invalid("document doc_1 (for DM1) is not one of lakeside's uploads: upload it first")
    assert in_words(Speaker("es"), said) == (said.message, "en")
    refused = errors.Refused("x", refusal=Refusal("migration mode is already off"))
    assert in_words(Speaker("es"), refused) == ("el modo de migración ya está desactivado", None)


def test_an_incomplete_worksheet_is_said_in_the_reviewers_language() -> None:
    # A criterion approved with none of its checklist found met: the shortfall is the domain's
    # refusal inside the approval's refusal, translated with it.
    criterion = STANDARD.criterion(CRITERIA[0])
    problems = shortfall_refusals(criterion, met=[], filled_slots=[])
    refusal = Refusal(
        "an approval needs its worksheet complete: {problems:;} (give an override reason to approve all "
        "the same)",
        problems=problems,
    )

    words, lang = say_refusal(Speaker("es"), refusal)

    assert lang is None
    assert words.startswith(
        f"una aprobación necesita su hoja de trabajo completa: {CRITERIA[0]} necesita "
        f"{criterion.checklist.min_met} de los {len(criterion.checklist.items)} elementos de su lista de "
        "verificación; no se encontró cumplido ninguno"
    )
    assert refusal.english().startswith(
        f"an approval needs its worksheet complete: {shortfalls(criterion, [], [])[0]}"
    )
