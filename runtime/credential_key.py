"""The programme's credential key: the Ed25519 private key its certificates' credentials are signed with.

In production CITYCERT_CREDENTIAL_KEY_FILE names a PEM file (PKCS#8, unencrypted, readable by the
API's user only) that the operator keeps and backs up: every credential ever issued is checked
against its public half, published at /public/credentials/key, so losing it means the programme can
no longer issue credentials anyone's saved key accepts, and leaking it means anyone could. On a
developer's machine `citycert dev` makes one in the data directory when none is set (DEV_KEY_FILENAME,
mode 0600), and `citycert api` uses that one if it is there.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from runtime.process import StartupError
from runtime.settings import Settings, env_name

DEV_KEY_FILENAME = "credential-key.pem"
SETTING = env_name("credential_key_file")


def load_credential_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at `path`; StartupError saying what is wrong with it
    (missing, not PEM, encrypted, or a key of another type) otherwise."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise StartupError(f"{SETTING}={str(path)!r}: cannot read it ({e.strerror or e})") from None
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:  # the file is encrypted: the API starts unattended, with no one to ask
        raise StartupError(
            f"{SETTING}={str(path)!r}: the key is encrypted with a password; give an unencrypted PKCS#8 key "
            "(keep the file readable by the API's user only)"
        ) from None
    except ValueError:
        raise StartupError(
            f"{SETTING}={str(path)!r}: not a PEM private key; make one with "
            "`openssl genpkey -algorithm ed25519 -out credential-key.pem`"
        ) from None
    except Exception as e:  # cryptography raises UnsupportedAlgorithm for key types it does not know
        raise StartupError(f"{SETTING}={str(path)!r}: not a key citycert can use ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise StartupError(
            f"{SETTING}={str(path)!r}: {_kind(key)}, but credentials are signed with Ed25519 "
            "(eddsa-jcs-2022); make one with `openssl genpkey -algorithm ed25519 -out credential-key.pem`"
        )
    return key


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "an RSA key"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"an elliptic-curve key ({key.curve.name})"
    if isinstance(key, ed448.Ed448PrivateKey):
        return "an Ed448 key"
    return f"a key of another type ({type(key).__name__})"


def write_new_credential_key(path: Path) -> Ed25519PrivateKey:
    """A new key written to `path` (0600, never over an existing file or through a link)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def dev_key_path(settings: Settings) -> Path:
    return settings.data_dir / DEV_KEY_FILENAME


def with_dev_credential_key(settings: Settings, *, create: bool) -> Settings:
    """The settings with a credential key file: the one set, else the data directory's (made now
    when `create` and it is not there yet). Unchanged when none is set and none may be made."""
    if settings.credential_key_file is not None:
        return settings
    path = dev_key_path(settings)
    if not path.exists():
        if not create:
            return settings
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            write_new_credential_key(path)
    return settings.model_copy(update={"credential_key_file": path})


def credential_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The programme's key as the settings name it, None when no key file is set."""
    if settings.credential_key_file is None:
        return None
    return load_credential_key(settings.credential_key_file)
