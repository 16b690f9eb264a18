"""A certificate's status in the visitor's words: each status app/directory.py tells is worded on its
page in the visitor's language, its days in full, and the programme's own reason quoted as written."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.directory import PublicCertificate
from domain.levels import Level
from entrypoints.web.i18n import Speaker
from entrypoints.web.public import certificate_view, statement

ES, EN = Speaker("es"), Speaker("en")


def certificate(**told: Any) -> PublicCertificate:
    facts: dict[str, Any] = {
        "number": "CC-2026-LAKESIDE-1",
        "city_id": "lakeside",
        "city": "Lakeside",
        "region": "Ohio",
        "country": "US",
        "country_name": "United States",
        "level": Level.GOLD,
        "standard": "wwc-2022",
        "standard_name": None,
        "round": "2026-spring",
        "imported": False,
        "valid_from": date(2026, 6, 1),
        "valid_until": date(2029, 6, 1),
        "status": "valid",
        "end_reason": None,
        "ended_on": None,
        "superseded_by": None,
        "current": True,
        "statement": "(the English statement of app/directory.py)",
    }
    return PublicCertificate(**{**facts, **told})


@pytest.mark.parametrize(
    ("told", "spanish"),
    [
        (
            {},
            "Este certificado es válido: Lakeside está certificada en el nivel Oro "
            "hasta el 1 de junio de 2029.",
        ),
        (
            {"status": "suspended", "reason_given": "an audit is under way"},
            "El programa suspendió este certificado: an audit is under way. "
            "No es válido mientras esté suspendido.",
        ),
        ({"status": "expired", "end_reason": "lapsed"}, "Este certificado venció el 1 de junio de 2029."),
        (
            {
                "status": "revoked",
                "end_reason": "revoked",
                "ended_on": date(2027, 2, 3),
                "reason_given": "fraud",
            },
            "Este certificado fue revocado el 3 de febrero de 2027: fraud.",
        ),
        (
            {"status": "ended", "end_reason": "withdrawn", "ended_on": date(2027, 2, 3)},
            "Este certificado terminó el 3 de febrero de 2027: Lakeside dejó el programa.",
        ),
        (
            {
                "status": "ended",
                "end_reason": "superseded",
                "ended_on": date(2027, 2, 3),
                "superseded_by": "CC-2027-LAKESIDE-2",
            },
            "Este certificado fue reemplazado el 3 de febrero de 2027 por el certificado CC-2027-LAKESIDE-2, "
            "tras una nueva decisión del programa.",
        ),
        ({"status": "ended"}, "Este certificado ya no está vigente."),
    ],
)
def test_each_status_is_worded_in_the_visitors_language(told: dict[str, Any], spanish: str) -> None:
    assert statement(certificate(**told), ES) == spanish


def test_only_a_valid_certificate_offers_its_signed_credential() -> None:
    assert certificate_view(certificate(), EN).in_force
    for status in ("suspended", "expired", "ended", "revoked"):
        assert not certificate_view(certificate(status=status), EN).in_force, status


def test_a_superseded_certificate_links_the_one_that_replaced_it() -> None:
    view = certificate_view(certificate(status="ended", superseded_by="CC-2027-LAKESIDE-2"), EN)
    assert ("Superseded by", "/certificates/CC-2027-LAKESIDE-2") in [(f.term, f.href) for f in view.facts]
    assert view.status_words == "Ended"
