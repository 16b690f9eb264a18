"""The domain's refusals in the portal's languages: every template a raise site in domain/ writes
has a Spanish and a Portuguese translation naming the same values; a page says a refusal whole in
its language (days, numbers, lists and labels as the language writes them), else whole in English,
marked as English."""

from __future__ import annotations

import ast
import io
import re
import string
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pydantic import BaseModel, Field, ValidationError, model_validator

from app import errors
from app.commands import BUSY_REFUSALS
from app.media import Unrecognised, recognise
from domain import CommandRejected, InvalidCommand, Phase
from domain import commands as c
from domain.errors import REFUSAL_KEYWORDS, English, Label, Refusal
from domain.levels import Level
from domain.worksheet import shortfall_refusals, shortfalls
from entrypoints.web.i18n import LANGUAGES, Speaker
from entrypoints.web.refusals import form_problems, form_words, in_words, needs_words, say_refusal
from tests.unit.domain.story import CITY, CRITERIA, STANDARD, given, registered, when

ROOT = Path(__file__).resolve().parents[4]
DOMAIN = ROOT / "domain"
APP = ROOT / "app"  # the application's own refusals (app/errors.py AppError given a Refusal)
FOLDER = resources.files("entrypoints.web")
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def refusal_templates(*folders: Path) -> set[str]:
    """Every refusal template written at a raise site in `folders` (the domain's and the
    application's) that has words to translate."""
    return {
        message
        for folder in folders or (DOMAIN, APP)
        for _, _, message, _, _ in extract_from_dir(
            str(folder), method_map=[("**.py", "python")], keywords=REFUSAL_KEYWORDS
        )
        if isinstance(message, str) and needs_words(message)
    }


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
        "fase Reuniendo evidencia (posible ahora: tomar una instantánea de datos, postularse a la "
        "certificación"
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
        "la convocatoria 2027-spring se abre a postulaciones el 1 de marzo de 2027",
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


# --- the application's own refusals -------------------------------------------------------------


def test_the_extraction_finds_the_applications_refusals_too() -> None:
    templates = refusal_templates()
    assert "no city {city_id!r} is registered" in templates  # app/errors.py UnknownCity
    assert (
        "reviewer {reviewer_id} is deactivated and cannot be assigned" in templates
    )  # app/reviewer_records.py
    assert "the file is empty" in templates  # app/media.py
    assert set(BUSY_REFUSALS) <= templates  # app/commands.py, the workflow's CityBusy words


def test_an_application_refusal_is_said_in_the_pages_language() -> None:
    unknown = errors.UnknownCity("riverside")
    assert str(unknown) == "no city 'riverside' is registered"  # the API's words are unchanged
    assert in_words(Speaker("es"), unknown) == ("no hay ninguna ciudad 'riverside' registrada", None)
    with pytest.raises(Unrecognised) as empty:
        recognise(io.BytesIO(b""))
    refused = errors.UnsupportedDocument(Refusal("not accepted: {why}", why=empty.value.refusal))
    assert str(refused) == "not accepted: the file is empty"
    assert in_words(Speaker("pt"), refused) == ("não aceito: o arquivo está vazio", None)


def test_words_the_application_took_from_english_only_are_said_in_english() -> None:
    refused = errors.Refused(Refusal("{problems:;}", problems=[English("words written in English only")]))
    assert in_words(Speaker("es"), refused) == (refused.message, "en")


def test_the_city_busy_words_are_the_workflows() -> None:
    # The service finds a CityBusy answer's refusal by its words: the two lists must stay the same.
    source = (ROOT / "workflows" / "city.py").read_text()
    busy = set(re.findall(r'ApplicationError\(\s*"([^"]+)",\s*type="CityBusy"', source))
    assert busy and busy == set(BUSY_REFUSALS)


# The application's errors a page never says in its own words: the unavailable ones (a page says
# "try again soon"), and sign-in's, which its page words itself (entrypoints/web/routes.py).
SAID_BY_THEIR_PAGES = {"LinkRefused", "ConfirmFirst", "TooManySignInRequests"}


def page_errors() -> set[str]:

    found, todo = set(), [errors.AppError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if not issubclass(sub, errors.Unavailable):
                found.add(sub.__name__)
                todo.append(sub)
    return found - SAID_BY_THEIR_PAGES


def worded_alone(folder: Path, names: set[str]) -> list[str]:
    """The raise sites in `folder` that give one of `names` its words as a string (an f-string or a
    literal) instead of a Refusal: a page could only say them in English."""
    wrong = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "credentials.py":  # its Refused is a credential's verdict, not an AppError
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in names and isinstance(node.args[0], ast.JoinedStr | ast.Constant):
                wrong.append(f"{path.name}:{node.lineno} {name}")
    return wrong


def test_every_application_error_a_page_shows_is_given_a_refusal() -> None:
    assert "UnknownRound" in page_errors() and "PersonErased" in page_errors()
    assert worded_alone(APP, page_errors()) == []


def test_a_raise_site_with_words_alone_is_found(tmp_path: Path) -> None:
    (tmp_path / "new.py").write_text('raise errors.Refused(f"{city_id} is busy today")\n')
    assert worded_alone(tmp_path, {"Refused"}) == ["new.py:1 Refused"]


# --- a form's validation in words ----------------------------------------------------------------


class Form(BaseModel):
    title: str = Field(max_length=5)
    count: int = Field(ge=1)

    @model_validator(mode="after")
    def _short_title_few(self) -> Form:
        if self.count > 3 and len(self.title) < 2:
            raise ValueError("a rule across the fields, in English")
        return self


LABELS = {"title": "Title", "count": "Checklist items met"}


def test_each_complaint_names_the_pages_label_in_the_pages_language() -> None:
    with pytest.raises(ValidationError) as invalid:
        Form(title="much too long", count=0)
    es = Speaker("es")
    assert form_problems(es, invalid.value, LABELS) == [
        ("title", f"Título: como máximo {es.number(5)} caracteres."),
        ("count", f"Puntos de la lista cumplidos: {es.number(1)} o más."),
    ]
    assert "String should" not in form_words(Speaker("pt"), invalid.value, LABELS)


def test_a_models_own_rule_is_said_by_the_page_and_otherwise_as_the_whole_form() -> None:
    with pytest.raises(ValidationError) as invalid:
        Form(title="x", count=4)
    assert form_words(Speaker("es"), invalid.value, LABELS, {"Form": "Escriba un título más largo."}) == (
        "Escriba un título más largo."
    )
    assert form_words(Speaker("es"), invalid.value, LABELS) == (
        "El formulario no se puede registrar tal como está: revise cada campo."
    )


def test_a_review_asking_without_a_note_is_refused_in_spanish_words() -> None:
    with pytest.raises(ValidationError) as invalid:
        c.ReviewItem(criterion_id=CRITERIA[0], decision=c.Verdict.REQUEST_CLARIFICATION)
    words = form_words(Speaker("es"), invalid.value, because={"ReviewItem": "Escriba una nota."})
    assert words == "Escriba una nota."
    with pytest.raises(ValidationError) as pattern:
        c.ReviewItem(criterion_id="DM\n1", decision=c.Verdict.REJECT)
    assert form_words(Speaker("es"), pattern.value) == "Criterio: no tiene la forma esperada."
