"""A certificate as a signed credential: issued from its facts, verified by anyone with only the
programme's public key, and refused, saying why, once anything in it has changed."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from app.credentials import (
    CONTEXT,
    CertificateFacts,
    CertificateStatus,
    CredentialError,
    CredentialSigner,
    Issuer,
    Refused,
    Verified,
    add_proof,
    check_proof,
    issue_credential,
    jwk_thumbprint,
    key_document,
    private_key_from_multibase,
    public_key_from_document,
    public_key_from_multibase,
    public_key_jwk,
    public_key_multibase,
    public_level,
    unsigned_credential,
    verify_credential,
)
from app.jcs import canonical_json
from domain.levels import Level
from domain.standard import StandardError, get_standard

# A fixed key and fixed facts: the known answer below pins the credential's bytes and signature.
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ISSUER = Issuer(public_url="https://certify.example.org/", name="What Works Cities Certification")
SIGNED_AT = datetime(2026, 11, 20, 15, 0, 0, 123456, tzinfo=UTC)
FACTS = CertificateFacts(
    number="CC-2026-LAKESIDE-2",
    city_id="lakeside",
    city_name="Lakeside",
    country="US",
    region="Ohio",
    level=Level.GOLD,
    standard_version="wwc-2022",
    round_id="2026-fall",
    valid_from=datetime(2026, 11, 20, 14, 30, tzinfo=UTC),
    valid_until=datetime(2029, 11, 20, 14, 30, tzinfo=UTC),
    status=CertificateStatus.VALID,
)


def issued(facts: CertificateFacts = FACTS, key: Ed25519PrivateKey = KEY) -> dict[str, Any]:
    return issue_credential(facts, key, issuer=ISSUER, created=SIGNED_AT)


def test_a_credential_verifies_with_the_programme_public_key_and_says_what_the_certificate_says() -> None:
    credential = issued()

    result = verify_credential(credential, KEY.public_key())

    assert isinstance(result, Verified), result
    assert (result.number, result.city_name, result.region, result.country) == (
        "CC-2026-LAKESIDE-2",
        "Lakeside",
        "Ohio",
        "US",
    )
    assert (result.level, result.round_id) == ("gold", "2026-fall")
    assert (result.valid_from, result.valid_until) == (FACTS.valid_from, FACTS.valid_until)
    assert result.issuer_id == "https://certify.example.org/public/credentials/key"
    assert result.credential_id == "https://certify.example.org/public/certificates/CC-2026-LAKESIDE-2"
    assert result.signed_at == SIGNED_AT.replace(microsecond=0)
    assert "Lakeside, Ohio, US: Gold" in result.describe()


def test_the_credential_is_an_open_badge_of_the_level_with_the_city_as_its_subject() -> None:
    credential = issued()

    assert credential["@context"] == CONTEXT
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert (credential["validFrom"], credential["validUntil"]) == (
        "2026-11-20T14:30:00Z",
        "2029-11-20T14:30:00Z",
    )
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"] == "https://certify.example.org/public/cities/lakeside"
    assert subject["licenseNumber"] == "CC-2026-LAKESIDE-2"
    assert subject["achievement"]["achievementType"] == "Certification"
    assert subject["achievement"]["id"].endswith("/public/standards/wwc-2022/levels/gold")
    proof = credential["proof"]
    assert (proof["type"], proof["cryptosuite"], proof["proofPurpose"]) == (
        "DataIntegrityProof",
        "eddsa-jcs-2022",
        "assertionMethod",
    )
    assert proof["verificationMethod"] == f"{ISSUER.id}#{public_key_multibase(KEY.public_key())}"
    assert proof["proofValue"].startswith("z")


def test_known_answer_the_format_and_signature_of_a_fixed_credential_do_not_drift() -> None:
    # Recorded once from this implementation (its interoperability is the W3C vector test's job):
    # any change to the credential's shape, its canonical form or its proof changes these.
    credential = issued()
    unsigned = {k: v for k, v in credential.items() if k != "proof"}

    assert public_key_multibase(KEY.public_key()) == "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"
    assert hashlib.sha256(canonical_json(unsigned)).hexdigest() == KNOWN_DOCUMENT_HASH
    assert credential["proof"]["proofValue"] == KNOWN_PROOF_VALUE


KNOWN_DOCUMENT_HASH = "2eb3034423f59444b88d155fe13ffaa8ed6d9d2ad40f6b9e0eea4f63f7ab23ab"
KNOWN_PROOF_VALUE = (
    "z2w9u8jsUg4Vo1Yu9jLUYk7UJt7Sgd3qR4macndVKLtiRGTNHsZP9M6ZeW6gcCfvqbYpew8joVPxYNDpxWpmR1oUz"
)


def test_the_w3c_eddsa_jcs_2022_test_vector_verifies_and_signing_it_again_gives_its_proof() -> None:
    # TestVectors/eddsa-jcs-2022 of W3C's Data Integrity EdDSA Cryptosuites v1.0: its key pair
    # (keyPair.json) and its signed credential (signedJCS.json). Ed25519 is deterministic, so
    # signing the same document with the same options must give the published proofValue.
    public = public_key_from_multibase("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
    private = private_key_from_multibase("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    contexts = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]
    vector_key = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    method = f"did:key:{vector_key}#{vector_key}"
    document = {
        "@context": contexts,
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "description": "A minimum viable example of an Alumni Credential.",
        "issuer": "https://vc.example/issuers/5678",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    published = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
    signed = {
        **document,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": method,
            "proofPurpose": "assertionMethod",
            "@context": contexts,
            "proofValue": published,
        },
    }

    check_proof(signed, public)  # raises ProofRefused if it does not verify
    again = add_proof(
        document, private, verification_method=method, created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    )
    assert again["proof"]["proofValue"] == published


def _changes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every single change to a JSON value: each leaf altered, each member removed, one added."""
    if isinstance(value, dict):
        yield f"{path} gains a member", ("add", path)
        for name, item in value.items():
            yield f"{(*path, name)} removed", ("remove", (*path, name))
            yield from _changes(item, (*path, name))
    elif isinstance(value, list):
        yield f"{path} gains an item", ("append", path)
        for i, item in enumerate(value):
            yield from _changes(item, (*path, i))
    else:
        yield f"{path} altered", ("alter", path)


def _apply(document: dict[str, Any], change: tuple[str, tuple[Any, ...]]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    kind, path = change
    *parents, last = path if path else (None,)
    target: Any = changed
    for step in parents if path else ():
        target = target[step]
    if kind == "add":
        (target[last] if path else changed)["extra"] = "added"
    elif kind == "append":
        target[last].append("added")
    elif kind == "remove":
        del target[last]
    else:
        old = target[last]
        target[last] = (
            old + "x" if isinstance(old, str) else (not old if isinstance(old, bool) else (old or 0) + 1)
        )
    return changed


def received() -> dict[str, Any]:
    """The credential as a verifier receives it: JSON text, read back (no object shared inside)."""
    result: dict[str, Any] = json.loads(json.dumps(issued()))
    return result


@pytest.mark.parametrize(("what", "change"), list(_changes(received())), ids=lambda v: str(v))
def test_any_change_to_any_field_is_refused(what: str, change: tuple[str, tuple[Any, ...]]) -> None:
    tampered = _apply(received(), change)

    result = verify_credential(tampered, KEY.public_key())

    assert isinstance(result, Refused), what
    assert result.reason.startswith("not verified:") or "not a citycert certificate" in result.reason


def test_a_changed_level_is_refused_because_the_signature_no_longer_matches() -> None:
    credential = issued()
    credential["credentialSubject"]["achievement"]["name"] = "Platinum: What Works Cities"

    result = verify_credential(credential, KEY.public_key())

    assert result == Refused(
        "not verified: the signature does not match: the credential was changed after it was signed, "
        "or it was signed with another key"
    )


def test_another_key_is_refused_saying_which_key_signed_it() -> None:
    result = verify_credential(issued(), OTHER_KEY.public_key())

    assert isinstance(result, Refused)
    signer, given = public_key_multibase(KEY.public_key()), public_key_multibase(OTHER_KEY.public_key())
    assert (
        result.reason
        == f"not verified: it was signed with the key {signer}, not with the key given ({given})"
    )


def test_a_credential_signed_by_another_key_in_the_programme_s_name_is_refused() -> None:
    # A forger's own key, with the verification method rewritten to name the programme's key.
    forged = issued(key=OTHER_KEY)
    forged["proof"]["verificationMethod"] = ISSUER.key_id(KEY.public_key())

    result = verify_credential(forged, KEY.public_key())

    assert isinstance(result, Refused) and "the signature does not match" in result.reason


def _with_proof(**changes: Any) -> dict[str, Any]:
    credential = issued()
    credential["proof"].update(changes)
    return credential


@pytest.mark.parametrize(
    ("credential", "words"),
    [
        ({k: v for k, v in issued().items() if k != "proof"}, "it holds no proof: it was never signed"),
        ({**issued(), "proof": [issued()["proof"]] * 2}, "it holds 2 proofs"),
        ({**issued(), "proof": "z123"}, "its proof is not a JSON object"),
        (_with_proof(type="Ed25519Signature2020"), "its proof is of type 'Ed25519Signature2020'"),
        (_with_proof(cryptosuite="eddsa-rdfc-2022"), "the cryptosuite 'eddsa-rdfc-2022', not eddsa-jcs-2022"),
        (_with_proof(proofPurpose="authentication"), "for 'authentication', not for assertionMethod"),
        (_with_proof(created="yesterday"), "created ('yesterday') is not a date and time"),
        (_with_proof(proofValue="u" + "A" * 86), "must be base58btc, starting with 'z'"),
        (_with_proof(proofValue="z0OIl"), "'0' is not a base58btc character"),
        (_with_proof(proofValue="z" + "2" * 40), "an Ed25519 signature has 64"),
        (_with_proof(proofValue=None), "its proof has no proofValue"),
        (_with_proof(verificationMethod=None), "names no verificationMethod"),
        (
            {**issued(), "@context": ["https://example.org/other"]},
            "its @context was changed after it was signed",
        ),
        ({**issued(), "credentialSubject": {"score": 0.75}}, "holds JSON a citycert credential never does"),
        ([issued()], "it is not a JSON object"),
    ],
)
def test_a_malformed_proof_is_refused_in_words(credential: Any, words: str) -> None:
    result = verify_credential(credential, KEY.public_key())

    assert isinstance(result, Refused)
    assert words in result.reason, result.reason


def test_a_credential_whose_issuer_does_not_control_the_signing_key_is_refused() -> None:
    unsigned = unsigned_credential(FACTS, ISSUER)
    unsigned["issuer"]["id"] = "https://impostor.example.org/public/credentials/key"
    signed = add_proof(unsigned, KEY, verification_method=ISSUER.key_id(KEY.public_key()), created=SIGNED_AT)

    result = verify_credential(signed, KEY.public_key())

    assert isinstance(result, Refused)
    assert (
        "its issuer https://impostor.example.org/public/credentials/key is not the controller"
        in result.reason
    )


def test_given_a_moment_a_credential_outside_its_validity_is_refused_though_genuine() -> None:
    credential = issued()
    key = KEY.public_key()

    assert isinstance(verify_credential(credential, key, at=FACTS.valid_from + timedelta(days=400)), Verified)
    expired = verify_credential(credential, key, at=FACTS.valid_until + timedelta(seconds=1))
    early = verify_credential(credential, key, at=FACTS.valid_from - timedelta(days=1))

    assert expired == Refused(
        "genuine, but it expired at 2029-11-20T14:30:00Z (checked at 2029-11-20T14:30:01Z)"
    )
    assert isinstance(early, Refused) and early.reason.startswith("genuine, but not valid before 2026-11-20")


@pytest.mark.parametrize(
    "status", [CertificateStatus.ENDED, CertificateStatus.SUSPENDED, CertificateStatus.REVOKED]
)
def test_no_credential_is_issued_for_a_certificate_not_in_force(status: CertificateStatus) -> None:
    with pytest.raises(
        CredentialError, match=f"CC-2026-LAKESIDE-2 is {status.value}: the programme issues no"
    ):
        issued(FACTS.model_copy(update={"status": status}))


def test_an_expired_certificate_still_gets_its_credential_which_says_until_when() -> None:
    credential = issued(FACTS.model_copy(update={"status": CertificateStatus.EXPIRED}))

    assert credential["validUntil"] == "2029-11-20T14:30:00Z"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"valid_from": datetime(2026, 11, 20, 14, 30)}, "timezone"),
        ({"valid_until": FACTS.valid_from}, "valid_until must be after valid_from"),
        ({"city_id": "Lake Side"}, "a city id is 2 to 63 lowercase letters"),
        ({"country": "USA"}, "should match pattern"),
        ({"number": "CC 2026/1"}, "should match pattern"),
    ],
)
def test_facts_that_could_not_be_a_certificate_are_refused(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        CertificateFacts(**{**FACTS.model_dump(), **changes})


def test_the_key_document_gives_the_key_as_a_multikey_and_as_a_jwk_and_either_reads_back() -> None:
    public = KEY.public_key()
    document = key_document(public, ISSUER)

    multikey, jwk_method = document["verificationMethod"]
    assert document["id"] == ISSUER.id
    assert multikey["type"] == "Multikey" and multikey["publicKeyMultibase"].startswith("z6Mk")
    assert jwk_method["publicKeyJwk"]["kty"] == "OKP" and jwk_method["publicKeyJwk"]["crv"] == "Ed25519"
    assert jwk_method["id"] == f"{ISSUER.id}#{jwk_thumbprint(public_key_jwk(public))}"
    assert document["assertionMethod"] == [multikey["id"], jwk_method["id"]]
    for form in (document, multikey, jwk_method["publicKeyJwk"]):
        assert public_key_multibase(public_key_from_document(form)) == public_key_multibase(public)


def test_the_jwk_thumbprint_is_rfc_7638_s() -> None:
    # RFC 8037's example Ed25519 key (appendix A.2) and its thumbprint (A.3).
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"kty": "RSA", "n": "x", "e": "AQAB"}, "not an Ed25519 key"),
        ({**public_key_jwk(KEY.public_key()), "d": "secret"}, "holds a private key"),
        (
            {"publicKeyMultibase": "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"},
            "not an Ed25519 public key",
        ),
        ({"verificationMethod": []}, "holds no Ed25519 key"),
        (
            {
                "verificationMethod": [
                    {"publicKeyMultibase": public_key_multibase(KEY.public_key())},
                    {"publicKeyMultibase": public_key_multibase(OTHER_KEY.public_key())},
                ]
            },
            "lists several keys",
        ),
    ],
)
def test_a_key_document_without_one_ed25519_public_key_is_refused(
    document: dict[str, Any], words: str
) -> None:
    with pytest.raises(CredentialError, match=words):
        public_key_from_document(document)


def test_the_signer_a_process_holds_issues_and_publishes_with_the_programme_key() -> None:
    signer = CredentialSigner(KEY, ISSUER)

    assert signer.issue(FACTS, created=SIGNED_AT) == issued()
    assert signer.key_document() == key_document(KEY.public_key(), ISSUER)


def test_the_achievement_a_credential_names_describes_its_level_from_the_standards_data() -> None:
    standard = get_standard("wwc-2022")
    rule = standard.level_rule(Level.PLATINUM)

    described = public_level("wwc-2022", Level.PLATINUM, public_url="https://certify.example.org/")

    assert described.id == "https://certify.example.org/public/standards/wwc-2022/levels/platinum"
    assert described.id == Issuer(public_url="https://certify.example.org", name="P").achievement_url(
        "wwc-2022", Level.PLATINUM
    )
    assert (described.name, described.min_share) == (f"Platinum: {standard.name}", rule.min_score)
    assert [c.id for c in described.required_criteria] == [
        c.id for c in standard.criteria if c.id in rule.required_criteria
    ]
    assert all(c.title == standard.criterion(c.id).title for c in described.required_criteria)
    assert described.required_tags == [t.describe() for t in rule.required_tags]
    with pytest.raises(StandardError):
        public_level("wwc-1999", Level.GOLD, public_url="https://certify.example.org")
