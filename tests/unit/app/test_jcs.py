"""The canonical form (RFC 8785) that a credential's signature is computed over: the same bytes for the
same value, whatever order or spacing a copy of it has."""

from __future__ import annotations

import json

import pytest

from app.jcs import MAX_SAFE_INTEGER, NotCanonicalizable, canonical_json


def test_members_are_sorted_at_every_depth_and_arrays_keep_their_order() -> None:
    value = {"b": {"y": 1, "x": [3, {"d": 0, "c": 0}, 1]}, "a": None}
    assert canonical_json(value) == b'{"a":null,"b":{"x":[3,{"c":0,"d":0},1],"y":1}}'


def test_the_same_value_written_two_ways_has_one_canonical_form() -> None:
    spaced = json.loads('{ "z" : [ true , false ],\n  "a" : "x" }')
    compact = json.loads('{"a":"x","z":[true,false]}')
    assert canonical_json(spaced) == canonical_json(compact) == b'{"a":"x","z":[true,false]}'


def test_member_names_are_ordered_by_utf16_code_units_not_by_code_points() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+FB01 there, though
    # after it by code point; ASCII capitals before lowercase, then Latin-1.
    value = {"\ufb01": 1, "\U0001f600": 2, "é": 3, "z": 4, "A": 5}
    assert canonical_json(value).decode() == '{"A":5,"z":4,"é":3,"\U0001f600":2,"\ufb01":1}'


def test_unicode_is_written_as_itself_in_utf8_and_only_controls_quote_and_backslash_are_escaped() -> None:
    text = 'Bogotá · “€” 😀 \u007f quote" backslash\\ tab\t nl\n cr\r bs\b ff\f unit\u001f nul\u0000'
    expected = (
        '"Bogotá · “€” 😀 \u007f quote\\" backslash\\\\ '
        'tab\\t nl\\n cr\\r bs\\b ff\\f unit\\u001f nul\\u0000"'
    )
    assert canonical_json(text) == expected.encode("utf-8")


def test_integers_are_plain_digits_and_booleans_and_null_are_not_numbers() -> None:
    assert canonical_json([0, -7, 1000000, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[0,-7,1000000,9007199254740991,-9007199254740991]"
    )
    assert canonical_json([True, False, None]) == b"[true,false,null]"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (2**53, "beyond"),
        ({"n": -(2**53)}, r"\$\.n: the integer"),
        (1.0, "has a fraction"),
        ({"a": [0.5]}, r"\$\.a\[0\]: the number 0\.5"),
        ("\ud800", "lone surrogate"),
        ({1: "x"}, "not a string"),
        (b"bytes", "not a JSON value"),
    ],
)
def test_what_the_canonical_form_does_not_cover_is_refused_in_words(value: object, words: str) -> None:
    with pytest.raises(NotCanonicalizable, match=words):
        canonical_json(value)


def test_the_w3c_test_vector_document_has_the_published_canonical_form() -> None:
    # The unsigned credential of the eddsa-jcs-2022 test vector (W3C, Data Integrity EdDSA
    # Cryptosuites v1.0, TestVectors/eddsa-jcs-2022), and its canonical form as published there.
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    assert canonical_json(document) == (
        b'{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
        b'"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},'
        b'"description":"A minimum viable example of an Alumni Credential.",'
        b'"id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678",'
        b'"name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],'
        b'"validFrom":"2023-01-01T00:00:00Z"}'
    )
