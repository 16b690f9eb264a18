"""One settings model, read only at the edges (CLI, worker, API, tests).

Every name is CITYCERT_*; a bad value stops start-up with a message naming the setting.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import ProgrammePolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYCERT_", extra="ignore")

    data_dir: Path = Field(
        Path(".citycert"), description="Embedded PostgreSQL data and Temporal dev database"
    )
    database_url: str | None = Field(None, description="PostgreSQL URL; unset starts the embedded server")
    temporal_address: str | None = Field(
        None, description="host:port of Temporal; unset starts the dev server"
    )
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_task_queue: str = "citycert"
    temporal_port: int = Field(7233, ge=1, le=65535)
    temporal_ui_port: int = Field(8233, ge=1, le=65535)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)

    # Programme timings (PROGRAMME.md, "our choices"): settings, not constants.
    clarification_window: timedelta = timedelta(days=25)
    reviewer_sla: timedelta = timedelta(days=10)
    appeal_window: timedelta = timedelta(days=30)
    validity: timedelta = timedelta(days=3 * 365)
    reminder_days: tuple[int, ...] = (180, 90, 30)
    reminder_sweep_every: timedelta = timedelta(days=1)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    def policy(self) -> ProgrammePolicy:
        """The programme's timings as the domain takes them."""
        return ProgrammePolicy(
            clarification_window=self.clarification_window,
            reviewer_sla=self.reviewer_sla,
            appeal_window=self.appeal_window,
            validity=self.validity,
            reminder_days=self.reminder_days,
        )
