"""Backup copies in S3-compatible object storage, against a real S3 API on loopback
(moto's standalone server, started per module): upload confirmed by size, the local copy
dropped when the plan says so, a restore test that downloads and checks the object,
retention that removes it, and an unreachable store that leaves a good local backup with
the reason."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from erpcare.backups.models import BackupKind, BackupPlan, PointStatus, RestoreStatus
from erpcare.backups.services import health
from erpcare.backups.services.backup import run_backup, store_for
from erpcare.backups.services.verify import verify_point
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.models import DataSource

boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (pip install 'erpcare[s3]')")
pytest.importorskip("moto.server", reason="moto[server] is not installed (the test extra has it)")

pytestmark = pytest.mark.django_db
BUCKET = "erp-backups"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("moto's S3 server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[Any]:
    client = _client(s3_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _objects(client: Any) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.fixture
def plan(
    cast: Cast, tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> BackupPlan:
    monkeypatch.delenv("ERPCARE_BACKUP_KEY", raising=False)
    erp = tmp_path / "erp.sqlite3"
    with sqlite3.connect(erp) as db:
        db.execute("CREATE TABLE account_move (id INTEGER PRIMARY KEY, amount NUMERIC)")
        db.executemany("INSERT INTO account_move (amount) VALUES (?)", [(n,) for n in range(500)])
    source = DataSource.objects.create(
        erp_instance=cast.acme_erp, name="erp file", kind="sqlite", database=str(erp),
        created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    return BackupPlan.objects.create(
        erp_instance=cast.acme_erp, name="off-site", kind=BackupKind.SQLITE,
        data_source=source, directory=str(tmp_path / "backups"), encrypt=False,
        key_tables=["account_move"], s3_bucket=BUCKET, s3_prefix="acme/prd",
        s3_endpoint_url=s3_endpoint, s3_region="us-east-1", s3_access_key="ak",
        s3_secret_key="sk", keep_local=False, created_at=clock.now(),
    )  # fmt: skip


def test_a_backup_lives_in_s3_only_and_is_restore_tested_from_there(
    plan: BackupPlan, bucket: Any
) -> None:
    point = run_backup(plan)
    assert point.status == PointStatus.OK, point.error
    assert point.remote_key == f"acme/prd/{point.artifact}"
    assert point.local is False
    assert not store_for(plan).exists(point.artifact)
    head = bucket.head_object(Bucket=BUCKET, Key=point.remote_key)
    assert head["ContentLength"] == point.size
    assert head["Metadata"]["sha256"] == point.sha256
    test = verify_point(point)
    assert test.status == RestoreStatus.OK, (test.message, test.checks)
    assert not list((Path(plan.directory) / "downloads").glob("*"))  # the download is gone
    assert health.plan_health(plan).backup.rating == health.GREEN


def test_a_changed_object_fails_the_restore_test(plan: BackupPlan, bucket: Any) -> None:
    point = run_backup(plan)
    bucket.put_object(Bucket=BUCKET, Key=point.remote_key, Body=b"not the backup")
    test = verify_point(point)
    assert test.status == RestoreStatus.FAILED
    assert "bytes long" in test.message


def test_retention_removes_the_s3_copy(plan: BackupPlan, bucket: Any) -> None:
    from datetime import timedelta

    first = run_backup(plan)
    first.started_at -= timedelta(days=3)
    first.save(update_fields=["started_at"])
    plan.keep_daily, plan.keep_weekly, plan.keep_monthly = 1, 0, 0
    plan.save()
    second = run_backup(plan)  # prunes after the backup
    first.refresh_from_db()
    assert first.status == PointStatus.PRUNED
    assert _objects(bucket) == [second.remote_key]


def test_an_unreachable_store_keeps_the_local_backup_and_says_why(
    plan: BackupPlan, bucket: Any
) -> None:
    plan.s3_endpoint_url = f"http://127.0.0.1:{_free_port()}"
    plan.save(update_fields=["s3_endpoint_url"])
    point = run_backup(plan)
    assert point.status == PointStatus.OK
    assert point.local is True
    assert point.remote_key == ""
    assert store_for(plan).exists(point.artifact)
    assert "Uploading to s3://erp-backups/acme/prd failed" in point.error
    state = health.plan_health(plan)
    assert state.backup.rating == health.YELLOW
    assert "no S3 copy" in state.backup.message
    assert verify_point(point).status == RestoreStatus.OK  # from the local copy
