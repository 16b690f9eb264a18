"""The secret keys citycert holds outside its database: the setting when it is set (production),
else a key file made once under the data directory, readable by its owner only (a developer's
machine, where every process of `citycert dev` reads the same file).

- the anchor key signs the event log's anchors (eventstore/anchor.py);
- the command key signs every command the application layer gives a city's workflow, so a client
  that reaches Temporal without the application layer cannot give commands (workflows/contracts.py).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from runtime.settings import Settings


def anchor_key(settings: Settings) -> bytes:
    return _setting_or_file(settings.anchor_key, settings.data_dir / "anchor-key")


def command_key(settings: Settings) -> bytes:
    return _setting_or_file(settings.command_key, settings.data_dir / "command-key")


def sign_in_key(settings: Settings) -> bytes:
    return _setting_or_file(settings.sign_in_key, settings.data_dir / "sign-in-key")


def _setting_or_file(setting: SecretStr | None, path: Path) -> bytes:
    if setting is not None:
        return setting.get_secret_value().encode()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key
