"""A certificate as a signed, verifiable credential that anyone can check offline.

A certified city shows its certificate to its council, its residents and the press for years; each
of them should be able to check it without asking the programme (or trusting a PDF). So the
certificate is also issued as a W3C Verifiable Credential (Data Model 2.0) that is an Open Badges
3.0 `OpenBadgeCredential`: its achievement is the level of the programme's standard (whose id,
ACHIEVEMENT_PATH, the public route describes from the standard's data: `public_level`), its subject
the city (with the certificate number as the subject's `licenseNumber` and the round as its
`term`), its `validFrom`/`validUntil` the certificate's validity, its `id` the certificate's public
URL. It is secured by a Data Integrity proof (`DataIntegrityProof`, cryptosuite `eddsa-jcs-2022`):

    hashData  = SHA-256(JCS(proof options, with the credential's @context))
              ‖ SHA-256(JCS(credential without its proof))
    proofValue = "z" + base58btc(Ed25519-sign(programme's key, hashData))

JCS is RFC 8785 (app/jcs.py: the whole scheme for JSON without fractional numbers, which is all
these credentials hold). The signing key is the programme's Ed25519 key (CITYCERT_CREDENTIAL_KEY_FILE,
runtime/credential_key.py); its public half is published at /public/credentials/key as a controller
document (W3C Controlled Identifiers) whose Multikey verification method the proof names, and as a
JWK. The issuer's id is that document's URL, so a verifier finds that the issuer controls the key.

`verify_credential` needs only that public key: it is pure (no clock unless given one, no network)
and refuses with a reason in words any change to any field, a proof made with another key, and a
malformed proof. Whether the programme has since ended or revoked the certificate is not something
a signature can say: the credential's `id` is the public page that does.
"""

from __future__ import annotations

import copy
import hashlib
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.jcs import NotCanonicalizable, canonical_json
from domain.ids import is_city_id
from domain.levels import Level
from domain.standard import StandardError, get_standard
from runtime.settings import Settings

CREDENTIALS_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTROLLER_CONTEXT = "https://www.w3.org/ns/cid/v1"
CONTEXT = [CREDENTIALS_CONTEXT, OPEN_BADGES_CONTEXT]
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"

# Where the public pages are, under the programme's public URL (CITYCERT_PUBLIC_URL): the key
# document this module's route serves, and the pages the credential's ids name.
KEY_DOCUMENT_PATH = "/public/credentials/key"
CERTIFICATE_PATH = "/public/certificates/{number}"
CITY_PATH = "/public/cities/{city_id}"
ACHIEVEMENT_PATH = "/public/standards/{version}/levels/{level}"

# Multicodec's prefix of an Ed25519 public key (the varint of 0xed), and of a private key (0x1300).
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"  # base58btc (Bitcoin's)
_BASE58_INDEX = {c: i for i, c in enumerate(_BASE58)}
NUMBER_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,99}$"  # it goes into a URL as it is


class CredentialError(ValueError):
    """A credential that cannot be issued, or a key that cannot be read; the message says why."""


# --- base58btc, multibase and multikey ------------------------------------------------------------


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_BASE58[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))  # each leading zero byte is a leading "1"
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58_INDEX.get(char)
        if digit is None:
            raise CredentialError(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_decode(text: str) -> bytes:
    """A multibase base58btc value ("z..."), decoded; others are refused in words."""
    if not text.startswith("z"):
        raise CredentialError(
            f"a multibase value must be base58btc, starting with 'z'; this one starts with {text[:1]!r}"
        )
    return base58btc_decode(text[1:])


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """The key as a Multikey's publicKeyMultibase: z6Mk..."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + base58btc_encode(ED25519_PUB_PREFIX + raw)


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    raw = multibase_decode(text)
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise CredentialError(f"{text[:12]}... is not an Ed25519 public key (a Multikey starting z6Mk)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key in Multikey form (z3u2...), as published test vectors give it."""
    raw = multibase_decode(text)
    if not raw.startswith(ED25519_PRIV_PREFIX) or len(raw) != 34:
        raise CredentialError("not an Ed25519 private key in multikey form")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def _b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_key_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JSON Web Key (RFC 8037: kty OKP, crv Ed25519, x the raw key in base64url)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)),
    }


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638's thumbprint: SHA-256 of the required members in canonical order (for OKP: crv,
    kty, x; our canonical form writes exactly that), base64url."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    return _b64url(hashlib.sha256(canonical_json(required)).digest())


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise CredentialError("the JWK is not an Ed25519 key (it needs kty OKP, crv Ed25519 and x)")
    if "d" in jwk:
        raise CredentialError("the JWK holds a private key (d): publish and give only the public key")
    try:
        raw = urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    except ValueError:
        raise CredentialError("the JWK's x is not base64url") from None
    if len(raw) != 32:
        raise CredentialError(f"the JWK's x holds {len(raw)} bytes; an Ed25519 key has 32")
    return Ed25519PublicKey.from_public_bytes(raw)


# --- the facts and the issuer ---------------------------------------------------------------------


class CertificateStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    ENDED = "ended"  # superseded, lapsed or ended by a withdrawal
    SUSPENDED = "suspended"
    REVOKED = "revoked"


# A credential says "certified, valid until": one for a certificate no longer in force would mislead.
NOT_ISSUED_FOR = frozenset({CertificateStatus.ENDED, CertificateStatus.SUSPENDED, CertificateStatus.REVOKED})


class CertificateFacts(BaseModel):
    """What a certificate says, as the projections know it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(pattern=NUMBER_PATTERN, description="e.g. CC-2026-LAKESIDE-2")
    city_id: str
    city_name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    region: str | None = Field(None, min_length=1, max_length=200)
    level: Level
    standard_version: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9.-]*$")
    round_id: str | None = Field(None, min_length=1, max_length=100, description="None: imported")
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    status: CertificateStatus

    @field_validator("city_id")
    @classmethod
    def _a_city_id(cls, value: str) -> str:
        if not is_city_id(value):
            raise ValueError("a city id is 2 to 63 lowercase letters, digits or hyphens")
        return value

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> CertificateFacts:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Issuer(BaseModel):
    """The programme as the credentials name it: its public URL (CITYCERT_PUBLIC_URL) and name."""

    model_config = ConfigDict(frozen=True)

    public_url: str = Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    name: str = Field(min_length=1, max_length=200)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def id(self) -> str:
        """The issuer's id: the URL of its key document, which lists the keys it controls."""
        return self.public_url + KEY_DOCUMENT_PATH

    def key_id(self, public_key: Ed25519PublicKey) -> str:
        """The id of the Multikey verification method a proof names."""
        return f"{self.id}#{public_key_multibase(public_key)}"

    def certificate_url(self, number: str) -> str:
        return self.public_url + CERTIFICATE_PATH.format(number=quote(number, safe=""))

    def city_url(self, city_id: str) -> str:
        return self.public_url + CITY_PATH.format(city_id=quote(city_id, safe=""))

    def achievement_url(self, version: str, level: Level) -> str:
        return self.public_url + ACHIEVEMENT_PATH.format(version=quote(version, safe=""), level=level.value)


def issuer_of(settings: Settings) -> Issuer:
    """The programme as its settings name it (CITYCERT_PUBLIC_URL, CITYCERT_PROGRAMME_NAME)."""
    return Issuer(public_url=settings.public_base_url, name=settings.programme_name)


# --- the key document ---------------------------------------------------------------------------


def key_document(public_key: Ed25519PublicKey, issuer: Issuer) -> dict[str, Any]:
    """The controller document published at the issuer's id: the key as a Multikey (which proofs
    name) and the same key as a JsonWebKey, both for assertions (issuing credentials)."""
    jwk = public_key_jwk(public_key)
    multikey_id = issuer.key_id(public_key)
    jwk_id = f"{issuer.id}#{jwk_thumbprint(jwk)}"
    return {
        "@context": CONTROLLER_CONTEXT,
        "id": issuer.id,
        "name": issuer.name,
        "verificationMethod": [
            {
                "id": multikey_id,
                "type": "Multikey",
                "controller": issuer.id,
                "publicKeyMultibase": public_key_multibase(public_key),
            },
            {
                "id": jwk_id,
                "type": "JsonWebKey",
                "controller": issuer.id,
                "publicKeyJwk": {**jwk, "kid": jwk_thumbprint(jwk), "alg": "EdDSA", "use": "sig"},
            },
        ],
        "assertionMethod": [multikey_id, jwk_id],
    }


def public_key_from_document(document: Mapping[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 key of a published key document: a controller document (its Multikey
    verification method), a single Multikey, or a JWK; refused in words otherwise."""
    if not isinstance(document, Mapping):
        raise CredentialError("the key document is not a JSON object")
    if "publicKeyMultibase" in document:
        return _multikey(document["publicKeyMultibase"])
    if "kty" in document:
        return public_key_from_jwk(document)
    methods = document.get("verificationMethod")
    if isinstance(methods, list):
        keys = {public_key_multibase(_vm_key(m)): _vm_key(m) for m in methods if isinstance(m, Mapping)}
        if len(keys) == 1:
            return next(iter(keys.values()))
        if len(keys) > 1:
            raise CredentialError("the key document lists several keys; give the one to check against")
    raise CredentialError(
        "the key document holds no Ed25519 key (a verificationMethod with publicKeyMultibase or "
        "publicKeyJwk, a Multikey, or a JWK)"
    )


def _vm_key(method: Mapping[str, Any]) -> Ed25519PublicKey:
    if "publicKeyMultibase" in method:
        return _multikey(method["publicKeyMultibase"])
    if isinstance(method.get("publicKeyJwk"), Mapping):
        return public_key_from_jwk(method["publicKeyJwk"])
    raise CredentialError(f"the verification method {method.get('id')!r} holds no key")


def _multikey(value: object) -> Ed25519PublicKey:
    if not isinstance(value, str):
        raise CredentialError("publicKeyMultibase is not a string")
    return public_key_from_multibase(value)


# --- the achievement a credential names ---------------------------------------------------------


class RequiredCriterion(BaseModel):
    """A criterion every city certified at the level must have earned."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The criterion's id in the standard, e.g. DM8")
    title: str = Field(description="Its title, as the programme publishes it")
    practice_area: str = Field(description="The practice area it belongs to")


class PublicLevel(BaseModel):
    """A level of a standard, as a credential's achievement names it (its `id` is this page)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="This page's URL: the achievement id the level's credentials carry")
    name: str = Field(description="The level and the standard, as the credentials name them")
    level: Level
    standard: str = Field(description="The standard's version, e.g. wwc-2022")
    standard_name: str
    revision: int = Field(description="The standard's revision described (its newest)")
    min_share: float = Field(
        description="The bar: the least share of the standard's criteria, by points earned, the "
        "level needs (0 to 1)"
    )
    share_rounding: Literal["exact", "whole_percent"] = Field(
        description="How a city's share is compared with the bar: exact, or rounded half up to a "
        "whole percent first"
    )
    criteria: int = Field(description="How many criteria the standard has (a point each)")
    required_criteria: list[RequiredCriterion] = Field(
        description="The criteria the level requires whatever the share, in the standard's order"
    )
    required_tags: list[str] = Field(description="Other requirements of the level, in words")


def public_level(version: str, level: Level, *, public_url: str) -> PublicLevel:
    """The level of the standard's newest revision that the credentials' achievement id names
    (StandardError for a version not shipped; LookupError for a level it does not have)."""
    standard = get_standard(version)
    rule = next((r for r in standard.levels if r.name == level), None)
    if rule is None:
        raise LookupError(f"the standard {version} has no {level.value} level")
    areas = {a.id: a.name for a in standard.practice_areas}
    required = set(rule.required_criteria)
    path = ACHIEVEMENT_PATH.format(version=quote(version, safe=""), level=level.value)
    return PublicLevel(
        id=public_url.rstrip("/") + path,
        name=f"{level.value.title()}: {standard.name}",
        level=level,
        standard=standard.version,
        standard_name=standard.name,
        revision=standard.revision,
        min_share=rule.min_score,
        share_rounding=standard.share_rounding,
        criteria=len(standard.criteria),
        required_criteria=[
            RequiredCriterion(
                id=c.id, title=c.title, practice_area=areas.get(c.practice_area, c.practice_area)
            )
            for c in standard.criteria
            if c.id in required
        ],
        required_tags=[req.describe() for req in rule.required_tags],
    )


# --- the Data Integrity proof (eddsa-jcs-2022) ----------------------------------------------------


def _stamp(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC to the second, e.g. 2026-05-01T12:00:00Z."""
    if moment.tzinfo is None:
        raise CredentialError("a moment without a time zone cannot go into a credential")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_data(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    return (
        hashlib.sha256(canonical_json(proof_options)).digest()
        + hashlib.sha256(canonical_json(document)).digest()
    )


def add_proof(
    document: Mapping[str, Any], key: Ed25519PrivateKey, *, verification_method: str, created: datetime
) -> dict[str, Any]:
    """`document` secured with an eddsa-jcs-2022 Data Integrity proof (for the purpose of assertion)."""
    if "proof" in document:
        raise CredentialError("the document already holds a proof")
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _stamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    if "@context" in document:
        # The suite binds the proof to the document's contexts (so it survives in a proof set);
        # a copy, so that the credential's and its proof's are never one object.
        options["@context"] = copy.deepcopy(document["@context"])
    signature = key.sign(_hash_data(document, options))
    return {**document, "proof": {**options, "proofValue": "z" + base58btc_encode(signature)}}


class ProofRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_proof(
    secured: Mapping[str, Any], public_key: Ed25519PublicKey
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document without its proof, and the proof, when its eddsa-jcs-2022 proof is a signature
    of the document by `public_key`; ProofRefused with the reason otherwise."""
    if not isinstance(secured, Mapping):
        raise ProofRefused("it is not a JSON object")
    proof = secured.get("proof")
    if proof is None:
        raise ProofRefused("it holds no proof: it was never signed")
    if isinstance(proof, list):
        raise ProofRefused(f"it holds {len(proof)} proofs; a citycert credential carries exactly one")
    if not isinstance(proof, Mapping):
        raise ProofRefused("its proof is not a JSON object")
    if proof.get("type") != PROOF_TYPE:
        raise ProofRefused(f"its proof is of type {proof.get('type')!r}, not {PROOF_TYPE}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofRefused(f"its proof uses the cryptosuite {proof.get('cryptosuite')!r}, not {CRYPTOSUITE}")
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofRefused(f"its proof is for {proof.get('proofPurpose')!r}, not for {PROOF_PURPOSE}")
    created = proof.get("created")
    if created is not None and _moment(created) is None:
        raise ProofRefused(f"its proof's created ({created!r}) is not a date and time with a time zone")
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise ProofRefused("its proof has no proofValue")
    try:
        signature = multibase_decode(value)
    except CredentialError as e:
        raise ProofRefused(f"its proofValue is malformed: {e}") from None
    if len(signature) != 64:
        raise ProofRefused(f"its proofValue holds {len(signature)} bytes; an Ed25519 signature has 64")
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        raise ProofRefused("its proof names no verificationMethod")
    given = public_key_multibase(public_key)
    named = method.rpartition("#")[2]
    if named.startswith("z6Mk") and named != given:
        raise ProofRefused(f"it was signed with the key {named}, not with the key given ({given})")

    document = {name: v for name, v in secured.items() if name != "proof"}
    options = {name: v for name, v in proof.items() if name != "proofValue"}
    # The suite lets a document's @context grow past the one its proof binds (for proof sets);
    # a citycert credential carries one proof, so any difference is a change after signing.
    if "@context" in options and secured.get("@context") != options["@context"]:
        raise ProofRefused("its @context was changed after it was signed")
    try:
        hash_data = _hash_data(document, options)
    except NotCanonicalizable as e:
        raise ProofRefused(f"it holds JSON a citycert credential never does ({e})") from None
    try:
        public_key.verify(signature, hash_data)
    except InvalidSignature:
        raise ProofRefused(
            "the signature does not match: the credential was changed after it was signed, "
            "or it was signed with another key"
        ) from None
    return document, dict(proof)


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- the credential -------------------------------------------------------------------------------


def _standard_name(version: str) -> str:
    try:
        return get_standard(version).name
    except StandardError:
        return version


def unsigned_credential(facts: CertificateFacts, issuer: Issuer) -> dict[str, Any]:
    """The credential a certificate's facts make, before it is signed."""
    level = facts.level.value.title()
    standard = _standard_name(facts.standard_version)
    address: dict[str, Any] = {"type": ["Address"], "addressCountryCode": facts.country}
    if facts.region is not None:
        address["addressRegion"] = facts.region
    subject: dict[str, Any] = {
        "id": issuer.city_url(facts.city_id),
        "type": ["AchievementSubject"],
        "name": facts.city_name,
        "address": address,
        "licenseNumber": facts.number,
        "achievement": {
            "id": issuer.achievement_url(facts.standard_version, facts.level),
            "type": ["Achievement"],
            "achievementType": "Certification",
            "name": f"{level}: {standard}",
            "description": (
                f"The {level} level of {facts.standard_version}, the {standard}: awarded by "
                f"{issuer.name} to a city whose data practices meet its criteria."
            ),
            "criteria": {
                "narrative": (
                    f"The city's evidence met the criteria the {level} level of {facts.standard_version} "
                    "requires, as reviewed criterion by criterion by the programme's reviewers and "
                    "decided by its committee."
                )
            },
            "creator": {"id": issuer.id, "type": ["Profile"], "name": issuer.name},
        },
    }
    if facts.round_id is not None:
        subject["term"] = facts.round_id
    return {
        "@context": list(CONTEXT),
        "id": issuer.certificate_url(facts.number),
        "type": list(CREDENTIAL_TYPE),
        "name": f"{facts.city_name}: {level} certification, {facts.number}",
        "issuer": {"id": issuer.id, "type": ["Profile"], "name": issuer.name, "url": issuer.public_url},
        "validFrom": _stamp(facts.valid_from),
        "validUntil": _stamp(facts.valid_until),
        "credentialSubject": subject,
    }


def issue_credential(
    facts: CertificateFacts, key: Ed25519PrivateKey, *, issuer: Issuer, created: datetime | None = None
) -> dict[str, Any]:
    """The certificate as an OpenBadgeCredential signed with the programme's key (created: the
    proof's moment, now unless given). Refused (CredentialError) for a certificate not in force."""
    if facts.status in NOT_ISSUED_FOR:
        raise CredentialError(
            f"certificate {facts.number} is {facts.status.value}: the programme issues no credential "
            "for a certificate that is not in force"
        )
    return add_proof(
        unsigned_credential(facts, issuer),
        key,
        verification_method=issuer.key_id(key.public_key()),
        created=created or datetime.now(UTC),
    )


@dataclass(frozen=True, slots=True)
class CredentialSigner:
    """The programme's key and its name as a process holds them (built once at start-up): what an
    endpoint that hands a city its credential, or publishes the key, needs."""

    key: Ed25519PrivateKey
    issuer: Issuer

    def issue(self, facts: CertificateFacts, *, created: datetime | None = None) -> dict[str, Any]:
        return issue_credential(facts, self.key, issuer=self.issuer, created=created)

    def key_document(self) -> dict[str, Any]:
        return key_document(self.key.public_key(), self.issuer)


@dataclass(frozen=True, slots=True)
class Verified:
    """A credential whose signature is the programme's, and what it says."""

    credential_id: str
    number: str
    city_name: str
    country: str
    region: str | None
    level: str
    achievement: str
    round_id: str | None
    valid_from: datetime
    valid_until: datetime
    issuer_id: str
    issuer_name: str
    signed_at: datetime | None
    key: str  # the publicKeyMultibase that verified it

    ok = True

    def describe(self) -> str:
        where = ", ".join(p for p in (self.city_name, self.region, self.country) if p)
        return (
            f"{where}: {self.achievement}; certificate {self.number}, valid from "
            f"{self.valid_from:%Y-%m-%d} until {self.valid_until:%Y-%m-%d}; issued by {self.issuer_name} "
            f"({self.issuer_id}), signed with {self.key}"
        )


@dataclass(frozen=True, slots=True)
class Refused:
    """A credential that does not verify, and why, in words."""

    reason: str

    ok = False


def verify_credential(
    credential: Mapping[str, Any], public_key: Ed25519PublicKey, *, at: datetime | None = None
) -> Verified | Refused:
    """Whether `credential` is a citycert certificate signed with `public_key`, unchanged since;
    with `at`, also whether it is within its validity then. Pure: no clock, no network."""
    if at is not None and at.tzinfo is None:
        raise CredentialError("the moment to check a credential at needs a time zone")
    try:
        document, proof = check_proof(credential, public_key)
    except ProofRefused as e:
        return Refused(f"not verified: {e.reason}")
    try:
        verified = _read(document, proof, public_key)
    except ProofRefused as e:
        return Refused(f"signed with the key given, but not a citycert certificate credential: {e.reason}")
    if at is not None:
        if at < verified.valid_from:
            return Refused(
                f"genuine, but not valid before {_stamp(verified.valid_from)} (checked at {_stamp(at)})"
            )
        if at > verified.valid_until:
            return Refused(
                f"genuine, but it expired at {_stamp(verified.valid_until)} (checked at {_stamp(at)})"
            )
    return verified


def _read(document: Mapping[str, Any], proof: Mapping[str, Any], public_key: Ed25519PublicKey) -> Verified:
    if document.get("@context") != CONTEXT:
        raise ProofRefused(f"its @context is not {CONTEXT}")
    types = document.get("type")
    if not isinstance(types, list) or not set(CREDENTIAL_TYPE) <= set(types):
        raise ProofRefused(f"its type is {types!r}, not an OpenBadgeCredential")
    issuer = _object(document, "issuer")
    issuer_id = _text(issuer, "id", "the issuer")
    method = str(proof["verificationMethod"])
    if method.partition("#")[0] != issuer_id:
        raise ProofRefused(
            f"its issuer {issuer_id} is not the controller of the key that signed it ({method})"
        )
    subject = _object(document, "credentialSubject")
    achievement = _object(subject, "achievement")
    found = subject.get("address")
    address: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    valid_from, valid_until = _moment(document.get("validFrom")), _moment(document.get("validUntil"))
    if valid_from is None or valid_until is None:
        raise ProofRefused("its validFrom and validUntil are not both dates and times with a time zone")
    level = str(achievement.get("id", "")).rstrip("/").rpartition("/")[2]
    round_id = subject.get("term")
    return Verified(
        credential_id=_text(document, "id", "the credential"),
        number=_text(subject, "licenseNumber", "the subject"),
        city_name=_text(subject, "name", "the subject"),
        country=str(address.get("addressCountryCode", "")),
        region=address.get("addressRegion") if isinstance(address.get("addressRegion"), str) else None,
        level=level,
        achievement=_text(achievement, "name", "the achievement"),
        round_id=round_id if isinstance(round_id, str) else None,
        valid_from=valid_from,
        valid_until=valid_until,
        issuer_id=issuer_id,
        issuer_name=_text(issuer, "name", "the issuer"),
        signed_at=_moment(proof.get("created")),
        key=public_key_multibase(public_key),
    )


def _object(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise ProofRefused(f"its {name} is not an object")
    return value


def _text(parent: Mapping[str, Any], name: str, of: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value:
        raise ProofRefused(f"{of} has no {name}")
    return value
