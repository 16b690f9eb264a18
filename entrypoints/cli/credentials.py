"""Checking a certificate's verifiable credential offline, as anyone may: a journalist, a council.

citycert credential verify FILE --key KEY     # exit 0: genuine and in force now; 1: refused, with why

KEY is the programme's key as published at /public/credentials/key and saved to a file (the
controller document, or its Multikey or JWK alone), a PEM public key, or a publicKeyMultibase
(z6Mk...) given as it is. Nothing is fetched: no network, no database, no token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from app.credentials import (
    CredentialError,
    Verified,
    public_key_from_document,
    public_key_from_multibase,
    verify_credential,
)
from entrypoints.cli.output import console, fail, print_json

credential_app = typer.Typer(
    help="Check a certificate's verifiable credential offline against the programme's key.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(credential_app, name="credential")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two members of one name are read differently by different readers: a signature over one
    # reading proves nothing about the other, so such a file is refused outright.
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"the member {name!r} appears twice in one object")
        found[name] = value
    return found


def read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise fail(f"cannot read the {what} {str(path)!r}: {getattr(e, 'strerror', None) or e}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as e:
        raise fail(f"the {what} {str(path)!r} is not JSON: {e}") from None


def read_key(given: str) -> Ed25519PublicKey:
    """The public key from a saved key document, a PEM file or a z6Mk... value."""
    if given.startswith(("http://", "https://")):
        raise fail(
            f"{given} is a URL: this check runs offline; save the document first "
            f"(e.g. curl -o programme-key.json {given}) and pass that file"
        )
    path = Path(given)
    try:
        if not path.is_file() and given.startswith("z6Mk"):
            return public_key_from_multibase(given)
        if not path.is_file():
            raise fail(f"no such key file: {given!r}")
        data = path.read_bytes()
        if data.lstrip().startswith(b"-----BEGIN"):
            return _pem_key(data, given)
        return public_key_from_document(read_json(path, "key document"))
    except CredentialError as e:
        raise fail(f"the key {given!r}: {e}") from None


def _pem_key(data: bytes, given: str) -> Ed25519PublicKey:
    try:
        if b"PRIVATE KEY" in data:
            private = load_pem_private_key(data, password=None)
            if isinstance(private, Ed25519PrivateKey):
                return private.public_key()
            raise fail(f"the key {given!r} is not an Ed25519 key")
        public = load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise fail(f"the key {given!r} is not a PEM key citycert can read ({e})") from None
    if not isinstance(public, Ed25519PublicKey):
        raise fail(f"the key {given!r} is not an Ed25519 key")
    return public


def _facts(verified: Verified) -> dict[str, Any]:
    return {
        "verified": True,
        "credential": verified.credential_id,
        "certificate_number": verified.number,
        "city": verified.city_name,
        "region": verified.region,
        "country": verified.country,
        "level": verified.level,
        "achievement": verified.achievement,
        "round": verified.round_id,
        "valid_from": verified.valid_from.isoformat(),
        "valid_until": verified.valid_until.isoformat(),
        "issuer": verified.issuer_id,
        "issuer_name": verified.issuer_name,
        "signed_at": verified.signed_at.isoformat() if verified.signed_at else None,
        "key": verified.key,
    }


@credential_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The credential (JSON) to check")],
    key: Annotated[
        str,
        typer.Option(
            "--key",
            help="The programme's key: the document saved from /public/credentials/key, a PEM "
            "public key, or its publicKeyMultibase (z6Mk...)",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Check that a certificate's credential was signed by the programme's key, is unchanged since,
    and is within its validity now. Exit 1, saying why, when it is not."""
    public_key = read_key(key)
    credential = read_json(file, "credential")
    result = verify_credential(credential, public_key, at=datetime.now(UTC))
    if isinstance(result, Verified):
        if as_json:
            print_json(_facts(result))
        else:
            console.print(f"verified: {result.describe()}", markup=False, highlight=False, soft_wrap=True)
            console.print(
                f"Whether the programme has since ended or revoked it: {result.credential_id}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return
    if as_json:
        print_json({"verified": False, "reason": result.reason})
    else:
        console.print(f"refused: {result.reason}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)
