"""The settings every process loads: the programme's policy among them, field by field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from domain import ProgrammePolicy
from runtime.process import StartupError
from runtime.settings import Settings, load_settings


def test_every_field_of_the_programme_policy_is_a_setting_of_the_same_name_and_type() -> None:
    settings_fields = Settings.model_fields
    for name, field in ProgrammePolicy.model_fields.items():
        assert name in settings_fields, f"ProgrammePolicy.{name} has no CITYCERT_{name.upper()} setting"
        assert settings_fields[name].annotation == field.annotation, name
        assert settings_fields[name].default == field.default, name


def test_the_policy_takes_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYCERT_HONOR_ROLL_MARGIN", "0.1")
    monkeypatch.setenv("CITYCERT_APPEAL_WINDOW", "P14D")
    policy = load_settings().policy()
    assert policy.honor_roll_margin == 0.1
    assert policy.appeal_window == timedelta(days=14)


def test_a_margin_outside_zero_to_one_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYCERT_HONOR_ROLL_MARGIN", "1.5")
    with pytest.raises(StartupError, match="CITYCERT_HONOR_ROLL_MARGIN"):
        load_settings()


def test_an_owner_url_without_the_runtimes_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The owner migrates; the processes need the runtime role's URL beside it (else they would
    # start the embedded server and the owner URL would go unused).
    monkeypatch.delenv("CITYCERT_DATABASE_URL", raising=False)
    monkeypatch.setenv("CITYCERT_DATABASE_OWNER_URL", "postgresql://owner@db.example.org/citycert")
    with pytest.raises(StartupError, match="CITYCERT_DATABASE_OWNER_URL needs CITYCERT_DATABASE_URL"):
        load_settings()


def test_the_anchor_buckets_access_key_id_and_secret_go_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYCERT_ANCHOR_S3_BUCKET", "anchors")
    monkeypatch.setenv("CITYCERT_ANCHOR_S3_ACCESS_KEY_ID", "AKIA...")
    with pytest.raises(StartupError, match="CITYCERT_ANCHOR_S3_SECRET_ACCESS_KEY go together"):
        load_settings()
    monkeypatch.setenv("CITYCERT_ANCHOR_S3_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("CITYCERT_ANCHOR_S3_RETENTION_DAYS", "0")
    with pytest.raises(StartupError, match="CITYCERT_ANCHOR_S3_RETENTION_DAYS"):
        load_settings()


def test_documents_go_to_a_folder_under_the_data_dir_unless_a_bucket_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from runtime.documents import DocumentBucket, DocumentFolder, document_store

    monkeypatch.setenv("CITYCERT_DATA_DIR", str(tmp_path))
    folder = document_store(load_settings())
    assert isinstance(folder, DocumentFolder) and folder.root == tmp_path / "documents"
    assert load_settings().documents_max_bytes == 25_000_000

    monkeypatch.setenv("CITYCERT_DOCUMENTS_S3_BUCKET", "documents")
    monkeypatch.setenv("CITYCERT_DOCUMENTS_S3_ACCESS_KEY_ID", "AKIA...")
    with pytest.raises(StartupError, match="CITYCERT_DOCUMENTS_S3_SECRET_ACCESS_KEY go together"):
        load_settings()
    monkeypatch.setenv("CITYCERT_DOCUMENTS_S3_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("CITYCERT_DOCUMENTS_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    bucket = document_store(load_settings())
    assert isinstance(bucket, DocumentBucket) and bucket.location("ab" * 32).startswith(
        "s3://documents/documents/"
    )
    monkeypatch.setenv("CITYCERT_DOCUMENTS_MAX_BYTES", "0")
    with pytest.raises(StartupError, match="CITYCERT_DOCUMENTS_MAX_BYTES"):
        load_settings()


def test_tokens_live_90_days_and_operators_7_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    assert defaults.token_lifetime_of("reviewer") == timedelta(days=90)
    assert defaults.token_lifetime_of("operator") == timedelta(days=7)
    monkeypatch.setenv("CITYCERT_OPERATOR_TOKEN_LIFETIME", "PT8H")
    assert load_settings().token_lifetime_of("operator") == timedelta(hours=8)
    monkeypatch.setenv("CITYCERT_TOKEN_LIFETIME", "P0D")
    with pytest.raises(StartupError, match="CITYCERT_TOKEN_LIFETIME must be a positive duration"):
        load_settings()
