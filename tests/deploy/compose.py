"""Reading docker-compose.yml and the Dockerfile the way the tests of tests/deploy need them.

No Docker engine runs here, so the files are checked as data: parsed with PyYAML (merge keys and
anchors resolved), `${NAME}` / `${NAME:-default}` interpolated as docker compose does from a given
environment (an empty one: the defaults the file ships with).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
NAMESPACE_JOB = REPO / "deploy" / "temporal" / "setup-namespace.sh"
SCHEMA_JOB = REPO / "deploy" / "temporal" / "setup-schema.sh"
ROLES_SCRIPT = REPO / "deploy" / "postgres" / "initdb" / "10-roles.sh"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


# What every deployment's .env must set: docker-compose.yml has no default for a secret.
SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "TEMPORAL_DB_PASSWORD": "temporal-secret",
    "EVENTSTORE_DB_PASSWORD": "store-secret",
    "EVENTSTORE_APP_DB_PASSWORD": "app-secret",
    "COMMAND_KEY": "a-command-key-of-at-least-thirty-two-characters",
    "ANCHOR_KEY": "an-anchor-key-of-at-least-thirty-two-characters",
}


class InterpolationError(ValueError):
    """A ${NAME:?message} whose variable is unset, as docker compose would refuse it."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with every ${...} replaced from `env`, recursively through lists and mappings."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: _substitute(m, env), value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str]) -> str:
    if match.group(0) == "$$":
        return "$"
    name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
    found = env.get(name)
    unset = found is None or (found == "" and op is not None and op.startswith(":"))
    if op in (":-", "-"):
        return arg if unset else str(found)
    if op in (":?", "?"):
        if unset:
            raise InterpolationError(f"{name}: {arg}")
        return str(found)
    return "" if found is None else found


@dataclass(frozen=True)
class Compose:
    """The compose file as docker compose would see it with `env` as the shell environment."""

    raw: dict[str, Any]
    data: dict[str, Any]

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Compose:
        raw = yaml.safe_load(COMPOSE_FILE.read_text())
        assert isinstance(raw, dict), "docker-compose.yml is not a mapping"
        return cls(raw, interpolate(raw, env or {}))

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services = self.data["services"]
        assert isinstance(services, dict)
        return services

    def service(self, name: str) -> dict[str, Any]:
        return self.services[name]

    def environment(self, name: str) -> dict[str, str]:
        """A service's environment as a mapping (compose also allows a list of NAME=value)."""
        env = self.service(name).get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {str(k): "" if v is None else str(v) for k, v in env.items()}

    def built_services(self) -> list[str]:
        """Services built from our Dockerfile: the citycert processes."""
        return [name for name, service in self.services.items() if "build" in service]

    def images(self) -> dict[str, str]:
        return {name: service["image"] for name, service in self.services.items() if "image" in service}

    def depends_on(self, name: str) -> dict[str, str]:
        """A service's dependencies and their conditions (the short list form means service_started)."""
        deps = self.service(name).get("depends_on") or {}
        if isinstance(deps, list):
            return {dep: "service_started" for dep in deps}
        return {dep: (spec or {}).get("condition", "service_started") for dep, spec in deps.items()}

    def bind_mounts(self, name: str) -> list[tuple[Path, str]]:
        """(host path, container path) of the service's bind mounts; named volumes are left out."""
        mounts = []
        for volume in self.service(name).get("volumes") or []:
            if isinstance(volume, dict):
                source, target = volume["source"], volume["target"]
            else:
                source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                mounts.append(((REPO / source).resolve(), target))
        return mounts


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    out = []
    for line in lines:
        instruction, _, arguments = line.partition(" ")
        out.append((instruction.upper(), arguments.strip()))
    return out


def namespace_job_attributes() -> dict[str, str]:
    """NAME -> TYPE of the search attributes the namespace job registers."""
    found = re.search(r'^SEARCH_ATTRIBUTES="([^"]*)"', NAMESPACE_JOB.read_text(), re.MULTILINE)
    assert found, f"no SEARCH_ATTRIBUTES= line in {NAMESPACE_JOB}"
    return dict(pair.split(":", 1) for pair in found.group(1).split())
