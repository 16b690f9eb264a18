"""The last English on the pages, as data: an assignment plan's reasons, why a criterion cannot
earn its point, its shortfalls, a library's English words inside a refusal (pydantic's, zipfile's,
Temporal's) and a token the operators' page cannot create. For each: the English the API and the
CLI give is the words they always gave, and a page says them in Spanish and Portuguese."""

from __future__ import annotations

import ast
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from app import errors
from app import tokens as app_tokens
from app.media import Unrecognised, recognise
from app.programme import with_fields
from domain import commands as c
from domain.assignment import AreaToAssign, Candidate, plan_assignment
from domain.errors import REFUSAL_KEYWORDS, English, Quoted, Refusal
from domain.worksheet import (
    cannot_earn,
    cannot_earn_refusal,
    criterion_worksheet,
    item_shortfalls,
    shortfall_refusals,
)
from entrypoints.web.i18n import Speaker
from entrypoints.web.refusals import in_words, needs_words, say_refusal
from tests.unit.domain.story import CITY, CRITERIA, STANDARD, applied_under_latest_rules, given, submitted
from tests.unit.entrypoints.web.test_refusals import APP, DOMAIN, refusal_templates

ES, PT = Speaker("es"), Speaker("pt")
AREA = STANDARD.practice_areas[0].id
IN_AREA = tuple(c.id for c in STANDARD.criteria if c.practice_area == AREA)


def reviewer(name: str, **more: object) -> Candidate:
    return Candidate.model_validate(
        {"reviewer_id": name, "home_city": "riverton", "practice_areas": [AREA], "capacity": 20, **more}
    )


# --- words a library wrote in English ---------------------------------------------------------------


def test_a_librarys_words_are_said_as_they_are_in_english_and_by_their_gist_elsewhere() -> None:
    quoted = Quoted("File is not a zip file", Refusal("it is damaged or incomplete"))
    refusal = Refusal("the file starts as a ZIP archive but cannot be read as one ({why})", why=quoted)

    assert (
        refusal.english()
        == "the file starts as a ZIP archive but cannot be read as one (File is not a zip file)"
    )
    assert say_refusal(Speaker("en"), refusal) == (refusal.english(), None)
    assert say_refusal(ES, refusal) == (
        "el archivo empieza como un archivo ZIP pero no se puede leer como tal (está dañado o incompleto)",
        None,
    )


def test_quoted_words_cross_as_data_and_come_back_the_same() -> None:
    refusal = Refusal("Temporal refused the request: {why}", why=Quoted("bad id", Refusal("a gist")))

    back = Refusal.from_data(refusal.to_data())

    assert refusal.to_data()["params"]["why"] == {"quoted": ["bad id", {"template": "a gist", "params": {}}]}
    assert back == refusal and back.english() == refusal.english()
    why = back.params["why"]
    assert isinstance(why, Quoted) and why.gist == Refusal("a gist")


def test_words_in_english_only_without_a_gist_still_say_the_whole_refusal_in_english() -> None:
    refusal = Refusal("Temporal refused the request: {why}", why=English("bad id"))
    assert say_refusal(PT, refusal) == ("Temporal refused the request: bad id", "en")


def test_a_zip_that_cannot_be_read_is_refused_in_zipfiles_words_and_on_a_page_by_what_they_mean() -> None:
    with pytest.raises(Unrecognised) as broken:
        recognise(io.BytesIO(b"PK\x03\x04 and then nothing an archive holds"))

    assert (
        str(broken.value)
        == "the file starts as a ZIP archive but cannot be read as one (File is not a zip file)"
    )
    refused = errors.UnsupportedDocument(Refusal("not accepted: {why}", why=broken.value.refusal))
    assert in_words(PT, refused) == (
        "não aceito: o arquivo começa como um arquivo ZIP, mas não pode ser lido como tal "
        "(está danificado ou incompleto)",
        None,
    )


def test_temporals_refusal_keeps_its_words_for_the_api_and_is_said_in_spanish_on_a_page() -> None:
    said = errors.translate(RPCError("workflow id is too long", RPCStatusCode.INVALID_ARGUMENT, b""))

    assert isinstance(said, errors.Invalid)
    assert said.message == "Temporal refused the request: workflow id is too long"
    assert in_words(ES, said) == (
        "Temporal rechazó la solicitud: contiene un valor que Temporal no acepta",
        None,
    )


def test_a_command_the_programme_cannot_fill_in_keeps_pydantics_words_for_the_api() -> None:
    command = c.ReopenReviewItem(criterion_id=CRITERIA[0], reason="asked again", reopened_by="lead")
    with pytest.raises(ValidationError) as pydantic_said:
        c.ReopenReviewItem.model_validate({**command.model_dump(), "reopened_by": "x" * 1000})

    with pytest.raises(errors.Invalid) as refused:
        with_fields(command, reopened_by="x" * 1000)

    assert refused.value.message == f"cannot give ReopenReviewItem as this actor: {pydantic_said.value}"
    assert in_words(ES, refused.value) == (
        "no se puede reabrir un criterio revisado como este actor: un valor que el programa completa "
        "no es válido",
        None,
    )


# --- an assignment plan's reasons ---------------------------------------------------------------------


def test_an_area_nobody_can_take_is_said_in_the_operators_language() -> None:
    candidates = [reviewer("rev-a", home_city=CITY), reviewer("rev-b", load=19)]
    plan = plan_assignment(CITY, [AreaToAssign(practice_area=AREA, criterion_ids=IN_AREA[:2])], candidates)
    refused = errors.Refused(Refusal("{problems:;}", problems=list(plan.reasons)))

    assert refused.message == "; ".join(plan.refusals)  # the API's words, as before
    assert in_words(ES, refused) == (
        f"nadie puede encargarse de {AREA} de {CITY}: rev-a es de {CITY}; rev-b tiene 19 criterios "
        "abiertos con una capacidad de 20: no le caben 2 más",
        None,
    )


def test_an_area_no_reviewer_reviews_is_said_in_portuguese() -> None:
    plan = plan_assignment(CITY, [AreaToAssign(practice_area=AREA, criterion_ids=IN_AREA[:1])], [])
    (reason,) = plan.reasons
    assert reason.english() == f"nobody can take {AREA} of {CITY}: no reviewer reviews {AREA}"
    assert say_refusal(PT, reason) == (
        f"ninguém pode assumir {AREA} de {CITY}: nenhum revisor revisa {AREA}",
        None,
    )


# --- the worksheet ----------------------------------------------------------------------------------


def test_why_a_criterion_cannot_earn_its_point_is_the_same_english_and_said_in_spanish() -> None:
    one, two = CRITERIA[0], CRITERIA[1]

    assert cannot_earn([]) is None and cannot_earn_refusal([]) is None
    assert cannot_earn([one]) == f"cannot earn its point: prerequisite {one} is not approved"
    assert cannot_earn([one, two]) == f"cannot earn its point: prerequisites {one}, {two} are not approved"
    many = cannot_earn_refusal([one, two])
    assert many is not None
    assert say_refusal(ES, many) == (
        f"no puede obtener su punto: los requisitos previos {one} y {two} no están aprobados",
        None,
    )


def test_the_pages_shortfalls_are_the_worksheets_own_in_the_reviewers_language() -> None:
    criterion_id = CRITERIA[0]
    criterion = STANDARD.criterion(criterion_id)
    state = given(*applied_under_latest_rules(), *submitted([criterion_id]))
    assert state.cycle is not None
    item = state.cycle.items[criterion_id]
    # Claimed nothing, gave no document: short on everything the criterion asks for.
    item = item.model_copy(update={"claims": (), "filled_slots": ()})

    found = item_shortfalls(criterion, item)
    sheet = criterion_worksheet(STANDARD, criterion, item, [], [])

    assert [r.english() for r in found] == sheet.shortfalls  # the API's words
    assert found == shortfall_refusals(criterion, [], [])
    words, lang = say_refusal(PT, found[0])
    assert lang is None and words.startswith(f"{criterion_id} precisa de {criterion.checklist.min_met} dos")
    assert item_shortfalls(criterion, None) == []


# --- a token the operators' page cannot create ----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "city", "name", "english", "spanish"),
    [
        (
            "mayor",
            None,
            None,
            "unknown role 'mayor'; roles: city, reviewer, committee, operator",
            "rol desconocido 'mayor'; roles: city, reviewer, committee y operator",
        ),
        (
            "committee",
            "riverton",
            None,
            "a committee token is not bound to a city; leave out --city",
            "un token para miembro del comité no está vinculado a una ciudad: deje vacío el campo Ciudad",
        ),
        (
            "city",
            "River Town",
            None,
            "'River Town' is not a city id (lower-case letters, digits and '-')",
            "'River Town' no es un identificador de ciudad (letras minúsculas, dígitos y '-')",
        ),
        (
            "operator",
            None,
            "two words",
            "a token name must be 1-200 characters: letters, digits, '.', '_', '@' and '-', starting with a "
            "letter or digit",
            "el nombre de un token debe tener de 1 a 200 caracteres: letras, dígitos, '.', '_', '@' y '-', y "
            "empezar por una letra o un dígito",
        ),
        (
            "operator",
            None,
            "tok_mine",
            "a token name may not start with 'tok_' (token ids do)",
            "el nombre de un token no puede empezar por 'tok_' (así empiezan los identificadores de los "
            "tokens)",
        ),
    ],
)
def test_a_token_refused_keeps_the_clis_words_and_is_said_on_the_page_in_spanish(
    role: str, city: str | None, name: str | None, english: str, spanish: str
) -> None:
    with pytest.raises(app_tokens.TokenError) as refused:
        app_tokens._check(role, city, name)

    assert str(refused.value) == english
    assert say_refusal(ES, refused.value.refusal) == (spanish, None)


def test_an_unknown_token_and_a_revoked_one_are_data_too() -> None:
    unknown = app_tokens.UnknownToken("tok_0123456789ab")
    assert str(unknown) == "no token 'tok_0123456789ab'"
    assert say_refusal(PT, unknown.refusal) == ("não há nenhum token 'tok_0123456789ab'", None)
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    revoked = app_tokens.TokenError(
        Refusal(
            "the token {token_id} was revoked at {revoked_at}; a revoked token is not rotated "
            "(create a new one)",
            token_id="tok_0123456789ab",
            revoked_at=at,
        )
    )
    assert str(revoked) == (
        f"the token tok_0123456789ab was revoked at {at.isoformat()}; a revoked token is not rotated "
        "(create a new one)"
    )


# --- the catalogs' extraction --------------------------------------------------------------------------


def literal_templates(*folders: Path) -> set[str]:
    """Every template written as a literal in a refusal's call in `folders`, however deep inside
    another call (the extraction skips a call inside a call that is not a refusal's)."""
    found = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                position = REFUSAL_KEYWORDS.get(name, (0,))[0] - 1
                if 0 <= position < len(node.args):
                    arg = node.args[position]
                    if (
                        isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and needs_words(arg.value)
                    ):
                        found.add(arg.value)
    return found


def test_every_refusal_written_in_the_code_is_found_by_the_extraction() -> None:
    assert literal_templates(DOMAIN, APP) - refusal_templates() == set()


def test_a_refusal_the_extraction_would_miss_is_found(tmp_path: Path) -> None:
    (tmp_path / "hidden.py").write_text(
        'x = Refusal("a", why=Quoted(w, Refusal("a gist nobody extracts")))\n'
    )
    assert literal_templates(tmp_path) - refusal_templates(tmp_path) == {"a gist nobody extracts"}
