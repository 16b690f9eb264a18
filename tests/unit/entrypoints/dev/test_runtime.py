"""The pieces of `citycert dev` that need no servers: settings, ports, the box, signals, the demo.

The whole runtime, started as a developer starts it, is tested end to end in tests/e2e.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from rich.console import Console
from typer.testing import CliRunner

from domain.eligibility import ineligibility_reasons
from domain.levels import Level
from domain.policy import ProgrammePolicy
from domain.standard import get_standard
from entrypoints.cli.main import app as cli_app
from entrypoints.dev import demo_cohort as demo
from entrypoints.dev.runtime import (
    DevInfo,
    OperatorToken,
    _check_dev_server_ports,
    read_secret,
    render_box,
    running_api,
    write_secret,
)
from runtime.process import StartupError, Stopped, ensure_port_free, run_until_signalled, unless_stopped
from runtime.settings import Settings, load_settings, prepare_data_dir
from runtime.temporal import TemporalInfo


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- settings and ports -----------------------------------------------------------------------------


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYCERT_API_PORT", "99999")
    with pytest.raises(StartupError, match=r"CITYCERT_API_PORT='99999': Input should be less than"):
        load_settings()
    monkeypatch.delenv("CITYCERT_API_PORT")
    monkeypatch.setenv("CITYCERT_APPEAL_WINDOW", "soon")
    with pytest.raises(StartupError, match="CITYCERT_APPEAL_WINDOW"):
        load_settings()
    monkeypatch.delenv("CITYCERT_APPEAL_WINDOW")
    monkeypatch.setenv("CITYCERT_REMINDER_DAYS", "180,90")  # a list must be JSON
    with pytest.raises(StartupError, match="CITYCERT_REMINDER_DAYS"):
        load_settings()


def test_short_windows_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYCERT_APPEAL_WINDOW", "PT4S")
    assert load_settings().policy().appeal_window.total_seconds() == 4


def test_a_port_in_use_names_the_setting_to_change(listening: int) -> None:
    with pytest.raises(
        StartupError, match=f"port {listening} on 127.0.0.1 is already in use.*CITYCERT_API_PORT"
    ):
        ensure_port_free("127.0.0.1", listening, setting="CITYCERT_API_PORT", what="the HTTP API")
    ensure_port_free("127.0.0.1", free_port(), setting="CITYCERT_API_PORT", what="the HTTP API")


def test_an_unknown_host_names_the_host_setting() -> None:
    with pytest.raises(StartupError, match="CITYCERT_API_HOST"):
        ensure_port_free(
            "no-such-host.invalid",
            8000,
            setting="CITYCERT_API_PORT",
            what="the HTTP API",
            host_setting="CITYCERT_API_HOST",
        )


def test_dev_does_not_borrow_a_temporal_port_that_is_taken(listening: int) -> None:
    settings = Settings(temporal_port=listening, temporal_ui_port=free_port())
    with pytest.raises(StartupError) as refused:
        _check_dev_server_ports(settings)
    assert "CITYCERT_TEMPORAL_PORT" in str(refused.value)
    assert f"CITYCERT_TEMPORAL_ADDRESS=127.0.0.1:{listening}" in str(refused.value)

    ui_taken = Settings(temporal_port=free_port(), temporal_ui_port=listening)
    with pytest.raises(StartupError, match=r"the Temporal web UI.*CITYCERT_TEMPORAL_UI_PORT"):
        _check_dev_server_ports(ui_taken)
    same = free_port()
    with pytest.raises(StartupError, match="both"):
        _check_dev_server_ports(Settings(temporal_port=same, temporal_ui_port=same))


def test_an_unusable_data_dir_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StartupError, match="CITYCERT_DATA_DIR"):
        prepare_data_dir(Settings(data_dir=blocker / "data"))
    prepared = prepare_data_dir(Settings(data_dir=tmp_path / "new" / "data"))
    assert prepared.data_dir.is_absolute() and prepared.data_dir.is_dir()


# --- the operator token -----------------------------------------------------------------------------


def test_the_token_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "operator-token"
    old_umask = os.umask(0o000)  # even a permissive umask gives 0600
    try:
        write_secret(path, "cct_secret")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_secret(path) == "cct_secret"

    path.chmod(0o644)
    assert read_secret(path) == "cct_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "tightened on read"
    assert read_secret(tmp_path / "missing") is None


def test_the_token_is_never_written_through_a_link_planted_in_the_data_dir(tmp_path: Path) -> None:
    path = tmp_path / "operator-token"
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / f".operator-token.{os.getpid()}.tmp").symlink_to(elsewhere)
    with pytest.raises(FileExistsError):
        write_secret(path, "cct_secret")
    assert not elsewhere.exists() and not path.exists()


# --- the box ----------------------------------------------------------------------------------------


def _info(tmp_path: Path, ui_url: str | None = "http://127.0.0.1:8233", *, created: bool = True) -> DevInfo:
    return DevInfo(
        api_url="http://127.0.0.1:8000",
        temporal=TemporalInfo("127.0.0.1:7233", "default", ui_url, started_here=True),
        token=OperatorToken("cct_" + "A" * 43, created, datetime(2026, 12, 8, 10, 0, tzinfo=UTC)),
        token_file=tmp_path / "operator-token",
        data_dir=tmp_path,
        database=f"embedded, in {tmp_path / 'pg'}",
        postgres_stops_with_us=True,
        demo="12 fictional cities seeded now",
    )


def _rendered(info: DevInfo, width: int = 80) -> str:
    console = Console(record=True, width=width, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render_box(info))
    return console.export_text()


def test_the_box_has_the_addresses_and_the_whole_token_on_one_line(tmp_path: Path) -> None:
    text = _rendered(_info(tmp_path))
    assert text.count("╭") == 1 and "citycert dev" in text
    assert "http://127.0.0.1:8000  (docs: http://127.0.0.1:8000/docs)" in text
    assert "Temporal UI     http://127.0.0.1:8233" in text
    assert "Portal          http://127.0.0.1:8000/  (sign-in links arrive by mail)" in text
    assert "cct_" + "A" * 43 in text
    assert "12 fictional cities seeded now" in text
    assert "Ctrl-C stops the API, the worker, the Temporal dev server and the embedded" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_box_shows_the_token_only_on_the_start_that_made_it() -> None:
    made = _rendered(_info(Path("/d"), created=True))
    kept = _rendered(_info(Path("/d"), created=False), width=100)
    assert "cct_" + "A" * 43 in made and "created now, expires 2026-12-08 10:00 UTC" in made
    assert "cct_" not in kept, "a later start points at the file instead"
    assert "Operator token  in /d/operator-token (mode 0600), expires 2026-12-08 10:00 UTC" in kept


def test_the_box_says_whom_to_sign_in_as_and_where_the_link_arrives(tmp_path: Path) -> None:
    people = tuple((p.role, p.email, p.what) for p in demo.demo_people())
    sink = f"kept by a local sink in {tmp_path / 'mail'} (`citycert mail list`)"
    text = _rendered(replace(_info(tmp_path), people=people, mail=sink), width=120)
    assert {"city", "reviewer", "committee", "operator"} <= {role for role, _, _ in people}
    for _, email, _ in people:
        assert email in text
    assert "citycert mail list" in text and "citycert mail show" in text
    relayed = _rendered(replace(_info(tmp_path), people=people, mail="sent through smtp.example:25"))
    assert "is mailed to that address" in relayed
    assert "Sign in as" not in _rendered(_info(tmp_path)), "no demo, nobody to sign in as"


def test_the_box_for_a_configured_temporal_names_its_address(tmp_path: Path) -> None:
    text = _rendered(_info(tmp_path, ui_url=None))
    assert "Temporal UI" not in text and "127.0.0.1:7233, namespace default" in text


# --- running and stopping ---------------------------------------------------------------------------


async def test_the_api_serves_for_the_block_and_frees_its_port() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    settings = Settings(api_port=free_port())
    async with running_api(app, settings, asyncio.Event()) as task:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{settings.api_port}/ping")
        assert response.json() == {"pong": "yes"} and not task.done()
    assert task.done()
    ensure_port_free("127.0.0.1", settings.api_port, setting="CITYCERT_API_PORT", what="the HTTP API")


async def test_an_api_that_cannot_bind_is_a_startup_error(listening: int) -> None:
    with pytest.raises(StartupError, match="CITYCERT_API_PORT"):
        async with running_api(FastAPI(), Settings(api_port=listening), asyncio.Event()):
            pass


async def test_unless_stopped_returns_stops_or_reports_the_watched_task() -> None:
    stop = asyncio.Event()
    assert await unless_stopped(asyncio.sleep(0, "done"), stop) == "done"

    asyncio.get_running_loop().call_later(0.05, stop.set)
    with pytest.raises(Stopped):
        await unless_stopped(asyncio.sleep(30), stop)

    async def fails() -> None:
        raise RuntimeError("worker fell over")

    watched = asyncio.create_task(fails(), name="worker")
    with pytest.raises(RuntimeError, match="worker fell over"):
        await unless_stopped(asyncio.sleep(30), asyncio.Event(), watched)


def test_ctrl_c_asks_for_a_clean_stop() -> None:
    seen: list[str] = []

    async def main(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().call_later(0.1, os.kill, os.getpid(), signal.SIGINT)
        await asyncio.wait_for(stop.wait(), 10)
        seen.append("stopped cleanly")

    assert run_until_signalled(main) == 0
    assert seen == ["stopped cleanly"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_startup_error_exits_1_with_its_message(capsys: pytest.CaptureFixture[str]) -> None:
    async def main(stop: asyncio.Event) -> None:
        raise StartupError("port 8000 is already in use; set CITYCERT_API_PORT")

    assert run_until_signalled(main) == 1
    assert "error: port 8000 is already in use; set CITYCERT_API_PORT" in capsys.readouterr().err


def test_the_commands_are_registered() -> None:
    result = CliRunner().invoke(cli_app, ["--help"])
    assert result.exit_code == 0
    for command in ("dev", "api", "seed-demo", "demo"):
        assert f" {command} " in result.stdout


# --- the demo cohort ----------------------------------------------------------------------------------


def test_the_demo_cities_are_eligible_and_each_has_a_story() -> None:
    ids = [c.id for c in demo.CITIES]
    assert len(ids) == len(set(ids)) == 12
    assert set(ids) == set(demo._STORIES)
    for city in demo.CITIES:
        assert ineligibility_reasons(city.country, city.population) == [], city
    assert set(ids) >= demo._SHORT_APPEAL | demo._OPEN_APPEAL


def test_the_demo_scores_reach_the_levels_the_stories_decide() -> None:
    standard = get_standard(demo.STANDARD)
    ids = demo._criteria()
    expected = {
        24: Level.SILVER,
        25: Level.SILVER,
        29: Level.SILVER,
        30: Level.GOLD,  # dunmere: 29 approved, the 30th upheld on appeal
        32: Level.GOLD,
        33: Level.GOLD,
        40: Level.PLATINUM,
    }
    for n, level in expected.items():
        assert standard.score(ids[:n]).level is level, n
    near = standard.score(ids[:21])  # glenmoor: not certified, on the Honor Roll
    assert near.level is None
    assert near.score >= standard.silver_threshold - ProgrammePolicy().honor_roll_margin


def test_only_the_cities_that_need_it_get_a_short_appeal_window() -> None:
    base = Settings(appeal_window="PT4S").policy()
    assert demo.policy_for("ashbury", base).appeal_window == demo.SHORT_APPEAL_WINDOW
    assert demo.policy_for("santa-brisa", base).appeal_window.days == 30, "its appeal must be filed in time"
    assert demo.policy_for("valle-claro", base) == base
    assert demo.policy_for("ashbury", base).clarification_window == base.clarification_window


def test_the_seed_marker(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert not demo.already_seeded(settings)
    demo.mark_seeded(settings, demo.SeedReport(seeded=["ashbury"], skipped=["dunmere"]))
    assert demo.already_seeded(settings)
