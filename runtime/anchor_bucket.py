"""Anchors in an S3-compatible bucket with Object Lock: what whoever controls the database, or the
app host, cannot quietly delete or replace.

The same three things as eventstore.AnchorFolder (write a new anchor, list them, read the newest,
its HMAC checked), over boto3 (synchronous: the callers run it in a thread):

- Each anchor is a new object, `<prefix>anchor-<moment>.json`, put only if no object of that name
  exists (`If-None-Match: *`), with an Object Lock retention in COMPLIANCE mode until the anchor's
  moment plus the retention days. COMPLIANCE, not GOVERNANCE: in GOVERNANCE mode anyone holding
  s3:BypassGovernanceRetention (an admin of the bucket's account, or the app's own keys if they
  were given too much) may delete a locked version or shorten its lock, which is exactly the
  person an anchor is kept from; in COMPLIANCE mode nobody can, the account's root included,
  until the date passes. The price: an anchor cannot be removed early, so keep the retention
  modest (the newest anchor is the one `verify` checks; each later one covers all before it).
- The newest anchor is found among the object *versions* (a versioned bucket, as Object Lock
  requires), so a delete marker put over it (a delete without a version id, which any writer may
  do) does not hide it and let an older one be checked; a name that holds more than one version
  was written over after the fact, and is refused rather than trusted either way.
- A bucket without Object Lock is refused (StartupError) before anything is written or read:
  whoever holds its keys could delete or replace an anchor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from eventstore import Anchor, AnchorError
from runtime.process import StartupError
from runtime.settings import Settings, env_name

MODE = "COMPLIANCE"
_NAME = re.compile(r"anchor-[^/]+\.json")


class AnchorBucketError(OSError):
    """The bucket did not do what was asked (unreachable, refused, no such bucket): the anchor is
    late or unread, the log itself is not at risk."""


@dataclass(frozen=True, slots=True)
class AnchorObject:
    key: str
    version_id: str


class AnchorBucket:
    """Anchors as objects in a bucket with Object Lock, one per moment, each locked in COMPLIANCE
    mode for `retention` and never overwritten."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "anchors/", retention: timedelta) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.retention = retention

    @classmethod
    def from_settings(cls, settings: Settings) -> AnchorBucket:
        assert settings.anchor_s3_bucket is not None
        secret = settings.anchor_s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.anchor_s3_endpoint_url,
            region_name=settings.anchor_s3_region,
            aws_access_key_id=settings.anchor_s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(
                connect_timeout=10,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                # S3-compatible servers (SeaweedFS, MinIO, Ceph) answer on the path; AWS on the host.
                s3={"addressing_style": "path" if settings.anchor_s3_endpoint_url else "auto"},
            ),
        )
        return cls(
            client,
            settings.anchor_s3_bucket,
            prefix=settings.anchor_s3_prefix,
            retention=timedelta(days=settings.anchor_s3_retention_days),
        )

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def check(self) -> None:
        """StartupError unless the bucket is there and has Object Lock enabled."""
        setting = env_name("anchor_s3_bucket")
        try:
            answer = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as e:
            code = _code(e)
            if code == "ObjectLockConfigurationNotFoundError":
                raise StartupError(self._no_lock()) from None
            if code == "NoSuchBucket":
                raise StartupError(f"{setting}={self.bucket!r}: no such bucket") from None
            raise StartupError(
                f"{setting}={self.bucket!r}: cannot read the bucket's Object Lock configuration ({code}: "
                f"{_message(e)}); the anchoring keys need s3:GetBucketObjectLockConfiguration"
            ) from None
        except BotoCoreError as e:
            raise StartupError(f"{setting}={self.bucket!r}: cannot reach the bucket ({e})") from None
        if answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise StartupError(self._no_lock())

    def _no_lock(self) -> str:
        return (
            f"{env_name('anchor_s3_bucket')}={self.bucket!r}: the bucket has no Object Lock, so whoever "
            "holds its keys could delete or replace an anchor; use a bucket created with Object Lock "
            "enabled (`aws s3api create-bucket --object-lock-enabled-for-bucket`), or unset the setting "
            f"to write anchors to {env_name('anchor_dir')}"
        )

    def write(self, anchor: Anchor) -> str:
        """Put the anchor as a new object, locked until its moment plus the retention; its s3:// URL."""
        key = f"{self.prefix}anchor-{anchor.taken_at.strftime('%Y%m%dT%H%M%S.%fZ')}.json"
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=anchor.to_json().encode(),
                ContentType="application/json",
                IfNoneMatch="*",  # a new object, never one written over
                ObjectLockMode=MODE,
                ObjectLockRetainUntilDate=anchor.taken_at + self.retention,
            )
        except ClientError as e:
            if _code(e) == "PreconditionFailed":
                raise FileExistsError(f"{self.location(key)} is already there") from None
            raise _failure(f"write {self.location(key)}", e) from None
        except BotoCoreError as e:
            raise _failure(f"write {self.location(key)}", e) from None
        return self.location(key)

    def versions(self) -> dict[str, list[str]]:
        """Every anchor object's versions (ids) by name, delete markers aside."""
        found: dict[str, list[str]] = {}
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}anchor-"
            )
            for page in pages:
                for version in page.get("Versions", []):
                    key = version["Key"]
                    if _NAME.fullmatch(key[len(self.prefix) :]):
                        found.setdefault(key, []).append(version["VersionId"])
        except (ClientError, BotoCoreError) as e:
            raise _failure(f"list {self.location(self.prefix)}", e) from None
        return found

    def files(self) -> list[str]:
        """The anchor objects' names, oldest first (they sort by the moment they were taken)."""
        return sorted(self.versions())

    def latest(self, key: bytes) -> tuple[str, Anchor] | None:
        """The newest anchor and its s3:// URL, or None when there is none yet; AnchorError (naming
        the object) when the newest one cannot be trusted: forged, or written over."""
        versions = self.versions()
        if not versions:
            return None
        newest = max(versions)
        where = self.location(newest)
        if len(versions[newest]) > 1:
            raise AnchorError(
                f"{where}: written over after it was anchored ({len(versions[newest])} versions: "
                f"{', '.join(versions[newest])}); someone with write access to the bucket tried to "
                "replace it, and the original (the oldest version, still locked) is the evidence"
            )
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=newest, VersionId=versions[newest][0])
            text = answer["Body"].read().decode()
        except (ClientError, BotoCoreError) as e:
            raise _failure(f"read {where}", e) from None
        except UnicodeDecodeError as e:
            raise AnchorError(f"{where}: unreadable anchor: {e}") from None
        try:
            return where, Anchor.from_json(text, key)
        except AnchorError as e:
            raise AnchorError(f"{where}: {e}") from None


def _failure(doing: str, e: Exception) -> AnchorBucketError:
    detail = f"{_code(e)}: {_message(e)}" if isinstance(e, ClientError) else str(e)
    return AnchorBucketError(f"could not {doing}: {detail}")


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", "?"))


def _message(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Message", ""))
