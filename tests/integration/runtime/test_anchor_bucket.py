"""Anchors in an S3-compatible bucket with Object Lock, against a real server (SeaweedFS, started by
the `s3` fixture): what is written, what the server refuses, and what `verify` then sees.

Each test has its own bucket. What these tests assert the server enforces, SeaweedFS 4.48's S3 API
does: a locked version cannot be deleted (not even by an admin asking to bypass governance) nor its
lock shortened; a put over the same name adds a version and leaves the locked one as it was. Its
filer's HTTP API, beside S3, enforces none of it (the last test): only the S3 port may be exposed.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from eventstore import AnchorError, EventStore
from runtime.anchor_bucket import AnchorBucket, AnchorBucketError
from runtime.anchors import anchor_destination, anchor_now
from runtime.process import StartupError
from runtime.settings import Settings
from tests.integration.eventstore.test_anchor import rechain
from tests.integration.eventstore.test_verify import behind_the_stores_back, certified_city
from tests.polling import bounded
from tests.seaweedfs import S3Server, s3

__all__ = ["s3"]  # the fixture, used by name

KEY = "k" * 32


def settings(s3: S3Server, bucket: str, tmp_path: Path, **extra: Any) -> Settings:
    env = s3.settings_env(bucket)
    return Settings(
        data_dir=tmp_path,
        anchor_key=SecretStr(KEY),
        anchor_s3_bucket=bucket,
        anchor_s3_endpoint_url=env["CITYCERT_ANCHOR_S3_ENDPOINT_URL"],
        anchor_s3_region="us-east-1",
        anchor_s3_access_key_id=env["CITYCERT_ANCHOR_S3_ACCESS_KEY_ID"],
        anchor_s3_secret_access_key=SecretStr(env["CITYCERT_ANCHOR_S3_SECRET_ACCESS_KEY"]),
        **extra,
    )


def refused(call: Any) -> str:
    """The error code of a request the server must refuse."""
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


async def latest(config: Settings) -> tuple[str, Any]:
    found = await asyncio.to_thread(lambda: anchor_destination(config).latest(KEY.encode()))
    assert found is not None
    return str(found[0]), found[1]


async def test_verify_against_the_buckets_newest_anchor_sees_streams_rewritten_cut_short_or_deleted(
    s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    config = settings(s3, s3.new_bucket(), tmp_path, anchor_s3_retention_days=7)
    lakeside = await certified_city(store)
    await certified_city(store, "hillcrest")
    await certified_city(store, "riverside")
    where, anchor = await anchor_now(store, config)
    last = lakeside.state.version
    async with behind_the_stores_back(store) as conn:
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{rationale}', '\"a better story\"')"
            " WHERE stream_id = 'city-lakeside' AND type = 'LevelDecided'"
        )
        await rechain(conn, "city-lakeside")
        await conn.execute("DELETE FROM events WHERE stream_id = 'city-hillcrest' AND version = $1", last)
        await conn.execute("DELETE FROM events WHERE stream_id = 'city-riverside'")
    await store.rebuild_projections()

    found_at, found = await latest(config)
    report = await store.verify(found)

    assert where == found_at and str(where).startswith(f"s3://{config.anchor_s3_bucket}/anchors/anchor-")
    assert found == anchor
    assert report.broken_chains == [] and report.version_gaps == [], "each chain left is whole"
    details = {p.stream_id: p.detail for p in report.anchor_problems}
    assert "history before the anchor was rewritten" in details["city-lakeside"]
    assert f"the stream ends at v{last - 1}" in details["city-hillcrest"]
    assert "the stream is gone" in details["city-riverside"]
    # Written locked: COMPLIANCE, until the anchor's moment plus the retention setting.
    key = str(where).split("/", 3)[3]
    head = s3.client().head_object(Bucket=config.anchor_s3_bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert abs(head["ObjectLockRetainUntilDate"] - (anchor.taken_at + timedelta(days=7))) < timedelta(
        seconds=1
    )


async def test_the_server_refuses_to_delete_or_unlock_an_anchor_and_a_put_over_it_is_not_trusted(
    s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    config = settings(s3, s3.new_bucket(), tmp_path)
    bucket = config.anchor_s3_bucket
    await certified_city(store)
    where, anchor = await anchor_now(store, config)
    key = str(where).split("/", 3)[3]
    client = s3.client()  # the server's admin identity: more than the anchoring job needs
    [version] = [v["VersionId"] for v in client.list_object_versions(Bucket=bucket)["Versions"]]

    assert refused(lambda: client.delete_object(Bucket=bucket, Key=key, VersionId=version)) == "AccessDenied"
    assert (
        refused(
            lambda: client.delete_object(
                Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
            )
        )
        == "AccessDenied"
    ), "COMPLIANCE: not even an admin asking to bypass governance"
    shorter = {"Mode": "COMPLIANCE", "RetainUntilDate": anchor.taken_at + timedelta(seconds=1)}
    assert refused(
        lambda: client.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention=shorter)
    ) in {"AccessDenied", "InvalidRequest"}
    with pytest.raises(FileExistsError):  # citycert itself never writes over an anchor
        await asyncio.to_thread(anchor_destination(config).write, anchor)

    # A delete without a version id only puts a delete marker on top: the anchor is still found.
    client.delete_object(Bucket=bucket, Key=key)
    assert (await latest(config))[1] == anchor
    # A put over the same name (a forger holding the bucket's keys) adds a version; the locked
    # original stays, and the name is refused rather than trusted either way.
    edited = json.loads(anchor.to_json())
    edited["heads"][0][1] -= 1
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(edited).encode())
    original = client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read().decode()
    assert original == anchor.to_json()
    with pytest.raises(AnchorError, match="written over after it was anchored"):
        await latest(config)


async def test_why_compliance_a_governance_lock_gives_way_to_an_admins_bypass(s3: S3Server) -> None:
    """Why anchors are locked in COMPLIANCE mode: a GOVERNANCE lock gives way to whoever holds
    s3:BypassGovernanceRetention (here the server's admin identity)."""
    bucket = s3.new_bucket()
    client = s3.client()
    put = client.put_object(
        Bucket=bucket,
        Key="anchors/anchor-x.json",
        Body=b"{}",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=1),
    )
    gone = {"Bucket": bucket, "Key": "anchors/anchor-x.json", "VersionId": put["VersionId"]}

    assert refused(lambda: client.delete_object(**gone)) == "AccessDenied"
    client.delete_object(**gone, BypassGovernanceRetention=True)
    assert refused(lambda: client.head_object(**gone)) in {"404", "NoSuchVersion", "NoSuchKey"}


async def test_a_forged_anchor_object_is_refused_naming_it(
    s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    config = settings(s3, s3.new_bucket(), tmp_path)
    await certified_city(store)
    where, anchor = await anchor_now(store, config)
    bucket = AnchorBucket.from_settings(config)

    with pytest.raises(AnchorError, match="HMAC does not match"):
        await asyncio.to_thread(bucket.latest, b"another key" * 3)
    # A newer object, as if the stream had been one event shorter: a deletion hidden, unsigned.
    forged = json.loads(anchor.to_json())
    forged["heads"][0][1] -= 1
    forged["taken_at"] = (anchor.taken_at + timedelta(minutes=1)).isoformat()
    newer = "anchors/anchor-99990101T000000.000000Z.json"
    s3.client().put_object(Bucket=config.anchor_s3_bucket, Key=newer, Body=json.dumps(forged).encode())

    with pytest.raises(AnchorError, match=f"s3://{config.anchor_s3_bucket}/{newer}: its HMAC does not match"):
        await latest(config)
    assert await asyncio.to_thread(bucket.files) == [str(where).split("/", 3)[3], newer]


async def test_a_bucket_without_object_lock_is_refused_before_anything_is_written(
    s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    plain = settings(s3, s3.new_bucket(object_lock=False), tmp_path)
    missing = settings(s3, "no-such-bucket-here", tmp_path)

    with pytest.raises(
        StartupError, match=r"CITYCERT_ANCHOR_S3_BUCKET='anchors-\w+': the bucket has no Object Lock"
    ):
        await anchor_now(store, plain)
    with pytest.raises(StartupError, match="no such bucket"):
        await asyncio.to_thread(anchor_destination, missing)
    listed = s3.client().list_object_versions(Bucket=plain.anchor_s3_bucket)
    assert listed.get("Versions", []) == [], "nothing was written"


async def test_citycert_dev_refuses_to_start_with_a_bucket_without_object_lock(
    s3: S3Server, tmp_path: Path
) -> None:
    from entrypoints.dev.runtime import run_dev
    from tests.seaweedfs import free_ports

    api, temporal, ui = free_ports(3)
    config = settings(
        s3,
        s3.new_bucket(object_lock=False),
        tmp_path,
        api_port=api,
        temporal_port=temporal,
        temporal_ui_port=ui,
    )

    with pytest.raises(StartupError, match="the bucket has no Object Lock"):
        await run_dev(config, asyncio.Event())
    assert not (tmp_path / "pg").exists(), "refused before PostgreSQL was started"


async def test_the_lock_is_the_s3_apis_seaweedfss_own_filer_api_deletes_a_locked_bucket(
    s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    """Not a promise of citycert's: a fact about the test server that the README warns of."""
    config = settings(s3, s3.new_bucket(), tmp_path)
    await certified_city(store)
    await anchor_now(store, config)
    delete = urllib.request.Request(
        f"{s3.filer_url}/buckets/{config.anchor_s3_bucket}/?recursive=true", method="DELETE"
    )

    with urllib.request.urlopen(delete, timeout=10) as answer:
        assert answer.status == 204

    # The filer answers before its S3 gateway forgets the bucket (it did once in CI, under load):
    # the bucket is gone once the gateway says so, and stays gone.
    async def gone() -> bool:
        try:
            await asyncio.to_thread(AnchorBucket.from_settings(config).latest, KEY.encode())
        except AnchorBucketError as e:
            return "NoSuchBucket" in str(e)
        return False

    await bounded("the bucket deleted through the filer is gone from the S3 API", gone, bound=30.0)
    with pytest.raises(AnchorBucketError, match="NoSuchBucket"):
        await asyncio.to_thread(AnchorBucket.from_settings(config).latest, KEY.encode())
