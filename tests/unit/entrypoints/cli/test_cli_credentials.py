"""`citycert credential verify`: anyone checks a certificate's credential offline against the key
document they saved from /public/credentials/key; exit 1, saying why, when it does not verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from app.credentials import (
    CertificateFacts,
    CertificateStatus,
    Issuer,
    issue_credential,
    key_document,
    public_key_multibase,
)
from domain.levels import Level
from entrypoints.cli.main import app

runner = CliRunner()
KEY = Ed25519PrivateKey.generate()
ISSUER = Issuer(public_url="https://certify.example.org", name="What Works Cities Certification")
NOW = datetime.now(UTC)


def _facts(valid_from: datetime, valid_until: datetime) -> CertificateFacts:
    return CertificateFacts(
        number="CC-2026-RIVERTON-1",
        city_id="riverton",
        city_name="Riverton",
        country="CA",
        region=None,
        level=Level.SILVER,
        standard_version="wwc-2022",
        round_id=None,
        valid_from=valid_from,
        valid_until=valid_until,
        status=CertificateStatus.VALID,
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    credential = issue_credential(
        _facts(NOW - timedelta(days=10), NOW + timedelta(days=1000)), KEY, issuer=ISSUER
    )
    paths = {name: tmp_path / f"{name}.json" for name in ("credential", "key")}
    paths["credential"].write_text(json.dumps(credential, indent=2))
    paths["key"].write_text(json.dumps(key_document(KEY.public_key(), ISSUER)))
    return paths


def test_a_genuine_credential_in_force_is_verified_against_the_saved_key_document(
    files: dict[str, Path],
) -> None:
    result = runner.invoke(
        app, ["credential", "verify", str(files["credential"]), "--key", str(files["key"])]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "verified: Riverton, CA: Silver: What Works Cities Certification Standard"
    )
    assert "certificate CC-2026-RIVERTON-1" in result.stdout
    assert "https://certify.example.org/public/certificates/CC-2026-RIVERTON-1" in result.stdout


def test_the_key_may_also_be_a_pem_public_key_or_its_multibase(
    files: dict[str, Path], tmp_path: Path
) -> None:
    pem = tmp_path / "key.pub.pem"
    pem.write_bytes(KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))

    for key in (str(pem), public_key_multibase(KEY.public_key())):
        result = runner.invoke(
            app, ["credential", "verify", str(files["credential"]), "--key", key, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["certificate_number"] == "CC-2026-RIVERTON-1"


def test_a_changed_credential_is_refused_with_exit_1_and_the_reason(files: dict[str, Path]) -> None:
    credential = json.loads(files["credential"].read_text())
    credential["credentialSubject"]["achievement"]["name"] = "Platinum"
    files["credential"].write_text(json.dumps(credential))

    result = runner.invoke(
        app, ["credential", "verify", str(files["credential"]), "--key", str(files["key"])]
    )

    assert result.exit_code == 1
    assert result.stdout.startswith("refused: not verified: the signature does not match")


def test_an_expired_credential_is_refused_though_genuine(tmp_path: Path, files: dict[str, Path]) -> None:
    old = issue_credential(_facts(NOW - timedelta(days=2000), NOW - timedelta(days=5)), KEY, issuer=ISSUER)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))

    result = runner.invoke(app, ["credential", "verify", str(path), "--key", str(files["key"]), "--json"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"].startswith("genuine, but it expired at")


def test_a_credential_with_a_member_given_twice_is_not_read_at_all(files: dict[str, Path]) -> None:
    text = files["credential"].read_text()
    files["credential"].write_text(
        text.replace('"name": "Riverton"', '"name": "Riverton", "name": "Elsewhere"', 1)
    )

    result = runner.invoke(
        app, ["credential", "verify", str(files["credential"]), "--key", str(files["key"])]
    )

    assert result.exit_code == 2
    assert "the member 'name' appears twice in one object" in result.output


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (
            "https://certify.example.org/public/credentials/key",
            "this check runs offline; save the document first",
        ),
        ("no-such-file.json", "no such key file"),
    ],
)
def test_a_key_that_cannot_be_read_offline_is_refused_with_exit_2(
    files: dict[str, Path], key: str, words: str
) -> None:
    result = runner.invoke(app, ["credential", "verify", str(files["credential"]), "--key", key])

    assert result.exit_code == 2
    assert words in result.output
