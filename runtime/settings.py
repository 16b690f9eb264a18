"""One settings model, read only at the edges (CLI, worker, API, tests).

Every name is CITYCERT_*; a bad value stops start-up with a message naming the setting.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from domain.levels import Level
from domain.policy import SNAPSHOTS_REMEMBERED, ProgrammePolicy
from domain.rounds import LateAwards
from runtime.process import StartupError
from runtime.smtp import SmtpServer, SmtpUrlError

ENV_PREFIX = "CITYCERT_"
TOKEN_LIFETIME = timedelta(days=90)
OPERATOR_TOKEN_LIFETIME = timedelta(days=7)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYCERT_", extra="ignore")

    data_dir: Path = Field(
        Path(".citycert"), description="Embedded PostgreSQL data and Temporal dev database"
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL the processes run with (the runtime role); unset: the embedded server",
    )
    # The role that owns the schema (migration 0008): migrations run with it, nothing else does.
    # Unset, migrations run with database_url, whose role then owns the events table and could
    # disable its append-only trigger.
    database_owner_url: str | None = Field(
        None, description="PostgreSQL URL of the schema's owner, for migrations only; needs database_url"
    )
    temporal_address: str | None = Field(
        None, description="host:port of Temporal; unset starts the dev server"
    )
    temporal_namespace: str = "default"
    temporal_tls: bool = Field(False, description="TLS with the system's CA certificates")
    # mTLS and API keys, for a cluster that asks who its clients are (any of these implies TLS).
    temporal_tls_ca: Path | None = Field(None, description="PEM file of the CA that signed the server")
    temporal_tls_cert: Path | None = Field(None, description="PEM file of this client's certificate (mTLS)")
    temporal_tls_key: Path | None = Field(None, description="PEM file of this client's private key (mTLS)")
    temporal_tls_server_name: str | None = Field(None, description="the name the server's certificate bears")
    temporal_api_key: SecretStr | None = Field(None, description="an API key (Temporal Cloud)")
    temporal_task_queue: str = "citycert"
    temporal_port: int = Field(7233, ge=1, le=65535)
    temporal_ui_port: int = Field(8233, ge=1, le=65535)
    # Anchors of the event log (eventstore/anchor.py): where they are written and the HMAC key,
    # both outside the database. Unset, a key file and a folder under data_dir serve (dev).
    anchor_key: SecretStr | None = Field(None, description="HMAC key of the anchors (32+ characters)")
    anchor_dir: Path | None = Field(None, description="where anchors are written; default data_dir/anchors")
    anchor_every: timedelta = Field(timedelta(hours=1), description="how often `citycert dev` anchors")
    # Anchors in an S3-compatible bucket with Object Lock (runtime/anchor_bucket.py): set the bucket
    # and every anchor goes there instead of anchor_dir. Unset keys: boto3's own chain (env, role).
    anchor_s3_bucket: str | None = Field(None, description="bucket (object lock enabled) for the anchors")
    anchor_s3_endpoint_url: str | None = Field(None, description="S3 endpoint URL; unset: AWS")
    anchor_s3_prefix: str = Field("anchors/", description="key prefix of the anchor objects")
    anchor_s3_region: str | None = Field(None, description="the bucket's region")
    anchor_s3_access_key_id: str | None = None
    anchor_s3_secret_access_key: SecretStr | None = None
    anchor_s3_retention_days: int = Field(365, ge=1, description="COMPLIANCE retention of each anchor")
    # Uploaded documents (runtime/documents.py), stored by their SHA-256: in a folder (default
    # data_dir/documents), or in an S3-compatible bucket when one is set (production).
    documents_dir: Path | None = Field(
        None, description="where documents are stored; default data_dir/documents"
    )
    documents_max_bytes: int = Field(25_000_000, ge=1, description="the largest document the API accepts")
    documents_s3_bucket: str | None = Field(
        None, description="bucket for the documents instead of the folder"
    )
    documents_s3_endpoint_url: str | None = Field(None, description="S3 endpoint URL; unset: AWS")
    documents_s3_prefix: str = Field("documents/", description="key prefix of the document objects")
    documents_s3_region: str | None = None
    documents_s3_access_key_id: str | None = None
    documents_s3_secret_access_key: SecretStr | None = None
    command_key: SecretStr | None = Field(
        None, description="the key the API and the workers sign and check every command with (32+ characters)"
    )
    # API tokens (app/tokens.py): how long a new or rotated token lives; an operator's, which may
    # do everything, less long.
    token_lifetime: timedelta = Field(
        TOKEN_LIFETIME, description="lifetime of a new city, reviewer or committee token"
    )
    operator_token_lifetime: timedelta = Field(
        OPERATOR_TOKEN_LIFETIME, description="lifetime of a new operator token"
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # The public pages and the certificates' verifiable credentials (app/credentials.py): the URL the
    # public reaches them at (behind a proxy, the proxy's), the programme's name on the credentials,
    # and the Ed25519 key they are signed with (runtime/credential_key.py).
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="base URL of the public pages, e.g. https://certify.example.org; "
        "unset: http://<api host>:<api port>",
    )
    programme_name: str = Field(
        "citycert", min_length=1, max_length=200, description="the programme's name on its credentials"
    )
    credential_key_file: Path | None = Field(
        None,
        description="PEM file of the Ed25519 private key the credentials are signed with; "
        "unset: `citycert dev` makes one in the data dir",
    )
    # Metrics (runtime/telemetry.py): Prometheus' text format at /metrics on a port of their own,
    # ours and the Temporal SDK's together. Unset, a worker or `citycert api` serves none;
    # `citycert dev` serves them on 9464.
    metrics_host: str = Field("127.0.0.1", description="the address /metrics listens on")
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="the port of /metrics; unset: no metrics (dev: 9464)"
    )
    workflow_check_every: timedelta = Field(
        timedelta(minutes=5), description="how often a worker counts the workflows not running (metrics)"
    )
    # Mail (app/relay.py): the SMTP server notifications go out through. Unset, `citycert dev` runs
    # a local sink that keeps them (`citycert mail list`) and a worker sends none.
    smtp_url: SecretStr | None = Field(
        None, description="smtp://host:port, smtps://user:password@host:465, or smtp://...?starttls=required"
    )
    mail_from: str = Field("citycert <citycert@localhost>", description="the From of every mail")
    mail_hold_decisions: bool = Field(False, description="hold decisions' mails for an operator's release")
    mail_relay_every: timedelta = Field(
        timedelta(seconds=5), description="how often the relay looks for mail"
    )

    # Programme timings and margins: the programme sets its own, so they are settings, not constants.
    clarification_window: timedelta = timedelta(days=25)
    reviewer_sla: timedelta = timedelta(days=10)
    appeal_window: timedelta = timedelta(days=30)
    validity_years: int = Field(3, ge=1, le=10, description="calendar years a certification is valid")
    reapply_wait: timedelta = Field(
        timedelta(0), description="how long a city found not certified waits before applying again"
    )
    reminder_days: tuple[int, ...] = (180, 90, 30)
    review_warning: timedelta = timedelta(days=2)
    clarification_warning: timedelta = timedelta(days=5)
    honor_roll_margin: float = Field(0.05, ge=0, le=1)
    snapshots_per_day: int = Field(10, ge=1, le=SNAPSHOTS_REMEMBERED)
    resubmissions_after_expiry: int = Field(1, ge=0, le=100)
    lead_signoff_levels: tuple[Level, ...] = Field(
        (Level.PLATINUM,),
        description="recommended levels the lead reviewer signs off before the committee decides",
    )
    reminder_sweep_every: timedelta = timedelta(days=1)
    submission_window: timedelta = timedelta(days=90)
    submission_warning: timedelta = timedelta(days=14)
    visit_scheduling_window: timedelta = timedelta(days=30)
    visit_scheduling_warning: timedelta = timedelta(days=7)
    committee_sla: timedelta = timedelta(days=30)
    committee_warning: timedelta = timedelta(days=7)
    clarification_business_days: int | None = Field(
        None, ge=1, le=365, description="clarification answers due in business days; unset: calendar days"
    )
    holidays: tuple[date, ...] = Field(
        (), description='days not counted as business days, e.g. ["2026-12-25"]'
    )
    # Where an award made after its round's announcement date is announced (domain.rounds.announced_in).
    late_awards: LateAwards = Field(
        "next_announcement",
        description="where a late award is announced: next_announcement (the next round's) or own_round",
    )
    rounds_may_overlap: bool = Field(
        False, description="whether rounds' application windows may overlap (rounds side by side)"
    )
    # The portal (entrypoints/web): sign-in links (mailed with CITYCERT_PUBLIC_URL's address),
    # sessions, and the limits on sign-in requests.
    sign_in_key: SecretStr | None = Field(
        None, description="the key the API and the relay derive sign-in links' secrets with (32+ characters)"
    )
    sign_in_link_lifetime: timedelta = Field(
        timedelta(minutes=15), description="how long a mailed sign-in link may be used"
    )
    session_idle: timedelta = Field(
        timedelta(minutes=30), description="a portal session ends after this long without a request"
    )
    session_lifetime: timedelta = Field(
        timedelta(hours=12), description="a portal session ends this long after sign-in, however used"
    )
    sign_in_window: timedelta = Field(
        timedelta(minutes=15), description="the window the sign-in request limits count over"
    )
    sign_in_per_address: int = Field(5, ge=1, description="sign-in requests per address in the window")
    sign_in_per_client: int = Field(30, ge=1, description="sign-in requests per client in the window")
    browser: str = Field(
        "chromium", description="the Chromium the browser tests drive (a path, or a name on PATH)"
    )

    # The public side (entrypoints/http/routes_public.py): the directory and the open data are read
    # again from the projections at most once per public_cache_for, and readers' caches keep them
    # public_max_age (so a revocation shows in the directory within the sum of the two).
    public_max_age: timedelta = Field(
        timedelta(seconds=60), description="Cache-Control max-age of the directory and the open data"
    )
    public_cache_for: timedelta = Field(
        timedelta(seconds=5), description="how long the API keeps the directory and open data in memory"
    )
    open_data_licence: str = Field(
        "https://creativecommons.org/licenses/by/4.0/",
        pattern=r"^https?://[^\s]+$",
        description="the URL of the licence the programme's open data is published under",
    )
    # Each cached run holds its own sandboxed copy of the workflow module and its state (about
    # 210 KiB, bench/lifecycle.py): the cache is most of a worker's memory. A command or a timer
    # for a city out of the cache replays its run's history first (one cycle at most).
    worker_cached_workflows: int = Field(
        1000, ge=1, description="city workflow runs a worker keeps in memory (the Temporal SDK's cache)"
    )
    # The portal keeps parts of its pages until an event commits (entrypoints/web/fragments.py): a
    # watcher in the API process asks the log twice in this time, so a page asks nothing and is never
    # further behind the log than this; 0, every page asks.
    web_events_poll_ms: int = Field(
        100,
        ge=0,
        le=60_000,
        description="how far behind the log the portal's kept parts may be (ms; 0: every page asks)",
    )

    @model_validator(mode="after")
    def _client_certificate_and_key_together(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "CITYCERT_TEMPORAL_TLS_CERT and CITYCERT_TEMPORAL_TLS_KEY go together: set both or neither"
            )
        if self.database_owner_url is not None and self.database_url is None:
            raise ValueError(
                "CITYCERT_DATABASE_OWNER_URL needs CITYCERT_DATABASE_URL (the runtime role's URL) beside it"
            )
        for field in ("anchor_key", "command_key", "sign_in_key"):
            key = getattr(self, field)
            if key is not None and len(key.get_secret_value()) < 32:
                raise ValueError(f"{env_name(field)} must be at least 32 characters")
        for field in ("token_lifetime", "operator_token_lifetime"):
            if getattr(self, field) <= timedelta(0):
                raise ValueError(f"{env_name(field)} must be a positive duration, e.g. P30D")
        for field in ("temporal_tls_ca", "temporal_tls_cert", "temporal_tls_key", "credential_key_file"):
            path = getattr(self, field)
            if path is not None and not path.is_file():
                raise ValueError(f"{env_name(field)}={str(path)!r}: no such file")
        return self

    @model_validator(mode="after")
    def _anchor_s3_keys_together(self) -> Settings:
        for of in ("anchor", "documents"):
            key_id, secret = f"{of}_s3_access_key_id", f"{of}_s3_secret_access_key"
            if (getattr(self, key_id) is None) != (getattr(self, secret) is None):
                raise ValueError(
                    f"{env_name(key_id)} and {env_name(secret)} go together: set both or neither"
                )
        return self

    @field_validator("smtp_url", mode="before")
    @classmethod
    def _empty_smtp_url_is_unset(cls, value: object) -> object:
        # SMTP_URL= in an env file (compose passes it as set but empty) means "no mail server".
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _smtp_url_names_a_server(self) -> Settings:
        if self.smtp_url is not None:
            try:
                SmtpServer.from_url(self.smtp_url.get_secret_value())
            except SmtpUrlError as e:
                raise ValueError(f"CITYCERT_SMTP_URL: {e}") from None
        return self

    @model_validator(mode="after")
    def _public_caching_is_not_negative(self) -> Settings:
        for field in ("public_max_age", "public_cache_for"):
            if getattr(self, field) < timedelta(0):
                raise ValueError(f"{env_name(field)} must not be negative, e.g. PT60S (0: no caching)")
        return self

    @property
    def smtp_server(self) -> SmtpServer | None:
        """The SMTP server of CITYCERT_SMTP_URL, if set."""
        return SmtpServer.from_url(self.smtp_url.get_secret_value()) if self.smtp_url else None

    @property
    def temporal_uses_tls(self) -> bool:
        return self.temporal_tls or any(
            value is not None
            for value in (self.temporal_tls_ca, self.temporal_tls_cert, self.temporal_api_key)
        )

    @property
    def public_base_url(self) -> str:
        """The base URL of the public pages: CITYCERT_PUBLIC_URL, else the API's own address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "") else self.api_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.api_port}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    def token_lifetime_of(self, role: str) -> timedelta:
        """How long a new token of this role lives."""
        return self.operator_token_lifetime if role == "operator" else self.token_lifetime

    def policy(self) -> ProgrammePolicy:
        """The programme's timings and margins as the domain takes them: every policy field is a
        setting of the same name (flat, so CITYCERT_APPEAL_WINDOW stays what operators set)."""
        return ProgrammePolicy(**{name: getattr(self, name) for name in ProgrammePolicy.model_fields})


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad value is a StartupError naming its variable."""
    try:
        return Settings(**overrides)
    except SettingsError as e:  # a value that is not even JSON where JSON is needed (a list)
        found = re.search(r'field "(\w+)"', str(e))
        named = env_name(found.group(1)) if found else "a CITYCERT_ setting"
        raise StartupError(f"bad setting {named}: {e}") from None
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{env_name(field)}={err.get('input')!r}: {err['msg']}")
        raise StartupError("bad setting: " + "; ".join(problems)) from None


def prepare_data_dir(settings: Settings) -> Settings:
    """The settings with data_dir made absolute, created private (0700: it holds the embedded
    server's data and socket, the keys and the operator token) and checked writable. Run as root,
    the embedded server's system user owns it (runtime/embedded_postgres.py says why)."""
    data_dir = settings.data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_dir.chmod(0o700)  # one made before this rule, or by a looser umask
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise StartupError(
            f"cannot use {data_dir} as the data directory ({e.strerror or e}); set {env_name('data_dir')}"
        ) from e
    return settings.model_copy(update={"data_dir": data_dir})
