"""`citycert anchor` and `citycert verify` with CITYCERT_ANCHOR_S3_BUCKET set: the anchors go to an
Object Lock bucket on a real S3-compatible server (SeaweedFS, the `s3` fixture) instead of the
folder, and a bucket without Object Lock is refused with a message saying why."""

from __future__ import annotations

import json
from pathlib import Path

from eventstore import EventStore
from tests.integration.entrypoints.cli.test_cli_cities import (  # the shared CLI harness, and its fixtures
    Cli,
    cli,
    restore_logging,
    said,
    seed_lakeside,
)
from tests.seaweedfs import S3Server, s3

__all__ = ["cli", "restore_logging", "s3"]  # fixtures used by name


async def test_anchor_writes_to_the_bucket_and_verify_checks_the_newest_there(
    cli: Cli, s3: S3Server, store: EventStore, tmp_path: Path
) -> None:
    bucket = s3.new_bucket()
    on_bucket = Cli({**cli.env, **s3.settings_env(bucket)})
    await seed_lakeside(store)
    anchored = await on_bucket.json("anchor")
    async with store.connection() as conn:  # the last event goes, leaving a chain that is whole
        await conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        await conn.execute(
            "DELETE FROM events WHERE stream_id = 'city-lakeside'"
            " AND version = (SELECT max(version) FROM events WHERE stream_id = 'city-lakeside')"
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER ALL")

    result = await on_bucket("verify", "--skip-workflows", "--json")
    table = await on_bucket("verify", "--skip-workflows")
    on_folder = await cli("verify", "--skip-workflows")

    assert anchored["streams"] == 1 and anchored["file"].startswith(f"s3://{bucket}/anchors/anchor-")
    assert not (tmp_path / "anchors").exists(), "nothing in the folder"
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["store"]["anchor"]["problems"]
    assert problem["stream_id"] == "city-lakeside" and "were removed" in problem["detail"]
    assert f"anchor: checked against {anchored['file']}" in table.stdout
    assert "anchor: none yet" in on_folder.stdout, "the folder is not read when a bucket is set, nor back"


async def test_a_bucket_without_object_lock_or_with_a_forged_anchor_is_refused(
    cli: Cli, s3: S3Server, store: EventStore
) -> None:
    await seed_lakeside(store)
    plain = Cli({**cli.env, **s3.settings_env(s3.new_bucket(object_lock=False))})
    locked = s3.new_bucket()
    forged_key = Cli({**cli.env, **s3.settings_env(locked), "CITYCERT_ANCHOR_KEY": "f" * 32})

    anchor = await plain("anchor")
    verify = await plain("verify", "--skip-workflows")
    assert (await forged_key("anchor")).exit_code == 0  # signed with a key the checker does not hold
    untrusted = await Cli({**cli.env, **s3.settings_env(locked)})("verify", "--skip-workflows")

    for refused in (anchor, verify):
        assert refused.exit_code == 1
        assert "the bucket has no Object Lock" in said(refused)
        assert "could delete or replace an anchor" in said(refused)
    assert untrusted.exit_code == 1
    assert "the newest anchor cannot be trusted" in said(untrusted) and "HMAC does not match" in said(
        untrusted
    )
