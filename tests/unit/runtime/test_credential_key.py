"""The programme's credential key: read from CITYCERT_CREDENTIAL_KEY_FILE, refused in words when it is
not an unencrypted Ed25519 key, and made once in the data dir for a developer."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from runtime.credential_key import (
    DEV_KEY_FILENAME,
    credential_key,
    load_credential_key,
    with_dev_credential_key,
    write_new_credential_key,
)
from runtime.process import StartupError
from runtime.settings import Settings, load_settings


def _pem(key: object, encryption: object = None) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption or NoEncryption())  # type: ignore[attr-defined]


def test_a_new_key_is_written_for_its_owner_only_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    made = write_new_credential_key(path)

    assert path.stat().st_mode & 0o777 == 0o600
    assert load_credential_key(path).public_key() == made.public_key()
    with pytest.raises(FileExistsError):
        write_new_credential_key(path)  # never over a key credentials were already signed with


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "an RSA key, but credentials are",
        ),
        (_pem(ec.generate_private_key(ec.SECP256R1())), r"an elliptic-curve key \(secp256r1\)"),
        (_pem(Ed25519PrivateKey.generate(), BestAvailableEncryption(b"pw")), "encrypted with a password"),
        (b"not a key at all\n", "not a PEM private key; make one with `openssl genpkey"),
    ],
)
def test_a_key_file_citycert_cannot_sign_with_is_refused_in_words(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)

    with pytest.raises(StartupError, match=words) as refused:
        load_credential_key(path)
    assert "CITYCERT_CREDENTIAL_KEY_FILE=" in str(refused.value)


def test_a_key_file_setting_naming_no_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"CITYCERT_CREDENTIAL_KEY_FILE=.*no such file"):
        load_settings(credential_key_file=tmp_path / "missing.pem")


def test_the_dev_runtime_makes_one_key_in_the_data_dir_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    first = with_dev_credential_key(settings, create=True)
    again = with_dev_credential_key(settings, create=True)

    assert first.credential_key_file == again.credential_key_file == tmp_path / DEV_KEY_FILENAME
    key, same = credential_key(first), credential_key(again)
    assert key is not None and same is not None and key.public_key() == same.public_key()


def test_without_a_key_file_and_leave_to_make_one_no_key_is_used(tmp_path: Path) -> None:
    settings = with_dev_credential_key(Settings(data_dir=tmp_path), create=False)

    assert settings.credential_key_file is None and credential_key(settings) is None
    assert not (tmp_path / DEV_KEY_FILENAME).exists()


def test_a_key_file_that_is_set_is_used_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "programme.pem"
    write_new_credential_key(path)

    settings = with_dev_credential_key(Settings(data_dir=tmp_path, credential_key_file=path), create=True)

    assert settings.credential_key_file == path and not (tmp_path / DEV_KEY_FILENAME).exists()


def test_the_public_url_defaults_to_the_api_s_own_address() -> None:
    assert Settings().public_base_url == "http://127.0.0.1:8000"
    assert Settings(api_host="0.0.0.0", api_port=9000).public_base_url == "http://127.0.0.1:9000"
    assert (
        Settings(public_url="https://certify.example.org/").public_base_url == "https://certify.example.org"
    )


@pytest.mark.parametrize("url", ["certify.example.org", "ftp://certify.example.org", "https://x.org/?a=1"])
def test_a_public_url_that_is_not_a_plain_http_url_is_refused(url: str) -> None:
    with pytest.raises(StartupError, match="CITYCERT_PUBLIC_URL"):
        load_settings(public_url=url)
